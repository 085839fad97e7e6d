"""Commands that record several records from one file (`patch defer record`, `compensation
record`, `patch change record`) are all or nothing: one transaction for the whole file, one
audit event per record, nothing written when any record fails, the error naming the record."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.errors import InputError, NotFoundError
from zonewarden.services import audit, mutation, patching, requirements, sites
from zonewarden.services.database import open_store
from zonewarden.services.principal import local_principal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
SITE = "rheinfeld-os"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZONEWARDEN_DB", f"sqlite:///{tmp_path / 'zw.db'}")
    monkeypatch.setenv("ZONEWARDEN_ACTOR", "tester")
    code, _, err = run("import", str(EXAMPLE))
    assert code == 0, err
    return tmp_path


def _events() -> list[audit.AuditEvent]:
    with open_store(None).read() as conn:  # ZONEWARDEN_DB, as the commands use it
        return list(audit.events(conn))


def _revision(db: Path) -> str:
    return sites.revision_of(open_store(f"sqlite:///{db / 'zw.db'}"), SITE)


def _deferral(ident: str, asset: str = "pack-serial-line") -> str:
    return textwrap.dedent(f"""\
        - id: {ident}
          asset: {asset}
          patch: MS-2026-11-ESU-2012R2
          reason: Serialisation vendor has not released the agent for the update yet.
          compensating_controls: [CC-PACK-SERIAL]
          requested_by: p-hkessler
          requested: 2026-12-01
          expires: 2027-03-01
        """)


def _control(ident: str, zone: str = "coat") -> str:
    return textwrap.dedent(f"""\
        - id: {ident}
          title: Renewed isolation of the coating HMI
          description: Same isolation measures, renewed until the panel is replaced in 2027.
          covers: [SR 1.1 RE 1, SR 2.5]
          zones: [{zone}]
          rationale: legacy-os
          owner: p-jweber
          review: 2027-03-01
          expires: 2027-09-01
        """)


def _change(ident: str, asset: str = "gran-plc-hsg") -> str:
    return textwrap.dedent(f"""\
        - id: {ident}
          title: S7-1500 V3.1.5 on a granulation PLC
          patch: S7-1500-FW-3.1.5
          assets: [{asset}]
          zones: [gran]
          status: proposed
          raised: 2026-12-01
          owner: p-mbrandt
          impact_assessment: Firmware only; the PLC programs are unchanged (checksums compared).
          rollback_criteria: Any CPU stop or checksum difference after restart.
          rollback_decider: p-lfischer
        """)


COMMANDS = {
    "deferrals": (("patch", "defer", "record"), _deferral, "no-such-asset", "deferral"),
    "controls": (("compensation", "record"), _control, "no-such-zone", "compensating-control"),
    "changes": (("patch", "change", "record"), _change, "no-such-asset", "patch-change"),
}


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_a_bad_third_record_writes_nothing_and_is_named(db: Path, kind: str) -> None:
    command, record, unknown, _ = COMMANDS[kind]
    path = db / f"{kind}.yaml"
    path.write_text(record("X-1") + record("X-2") + record("X-3", unknown))
    revision, count = _revision(db), len(_events())
    code, _, err = run(*command, str(path))
    assert code == 2, err
    third_line = 1 + 2 * len(record("X-1").splitlines())
    assert f"{path}:{third_line}" in err and unknown in err
    assert _revision(db) == revision and len(_events()) == count  # nothing written, not even X-1


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_three_records_are_one_transaction_with_three_events(db: Path, kind: str) -> None:
    command, record, _, object_type = COMMANDS[kind]
    path = db / f"{kind}.yaml"
    path.write_text(record("X-1") + record("X-2") + record("X-3"))
    revision, count = _revision(db), len(_events())
    code, _, err = run(*command, str(path), "--reason", "batch")
    assert code == 0, err
    new = _events()[count:]
    assert [(e.object_type, e.object_id, e.reason) for e in new] == [(object_type, f"X-{i}", "batch") for i in (1, 2, 3)]
    after = _revision(db)
    assert after != revision
    # One write: the three events record the same moment and the same resulting site state.
    assert len({e.at for e in new}) == 1
    assert {e.context[audit.SITE_DIGEST] for e in new} == {after}
    code, _, err = run("audit", "verify")
    assert code == 0, err


def test_a_write_killed_after_the_first_record_leaves_nothing(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(f"sqlite:///{db / 'zw.db'}")
    path = db / "d.yaml"
    path.write_text(_deferral("X-1") + _deferral("X-2") + _deferral("X-3"))
    revision, count = _revision(db), len(_events())
    real = audit.append
    calls = []

    def dies_on_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("object_id"))
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(mutation.audit, "append", dies_on_second)
    from zonewarden.cli.common import read_records
    from zonewarden.domain.patching import Deferral

    records = read_records(path, "deferrals", Deferral)
    with pytest.raises(RuntimeError, match="killed"):
        patching.record_deferrals(store, SITE, records, principal=local_principal(name="tester"))
    monkeypatch.setattr(mutation.audit, "append", real)
    assert calls == ["X-1", "X-2"]  # the first record's event and the site write happened, then died
    assert _revision(db) == revision and len(_events()) == count


def test_services_name_records_by_index_and_keep_expected_revision(db: Path) -> None:
    store = open_store(f"sqlite:///{db / 'zw.db'}")
    from zonewarden.domain.patching import Deferral, PatchChange
    from zonewarden.domain.requirements import CompensatingControl
    from zonewarden.io import yamlio

    def models(model, text: str) -> list:  # type: ignore[no-untyped-def,type-arg]
        path = db / "r.yaml"
        path.write_text(text)
        return [model.model_validate(x) for x in yamlio.load_file(path)]

    revision, count = _revision(db), len(_events())
    controls = models(CompensatingControl, _control("X-1") + _control("X-2", "no-such-zone"))
    with pytest.raises(InputError, match=r"^records\[1\]: "):
        requirements.record_compensating_controls(store, SITE, controls, principal=local_principal(name="t"))
    # A conflict raised by the record's own check (an id recorded twice in one file) is named too.
    changes = models(PatchChange, _change("X-1") + _change("X-2") + _change("X-1"))
    with pytest.raises(Exception, match=r"^records\[2\]: patch change 'X-1' exists already"):
        patching.record_patch_changes(store, SITE, changes, principal=local_principal(name="t"))
    assert _revision(db) == revision and len(_events()) == count

    # The revision the caller edits is checked once for the whole batch.
    ok = models(CompensatingControl, _control("X-1") + _control("X-2"))
    out = requirements.record_compensating_controls(store, SITE, ok, principal=local_principal(name="t"),
                                                    expected_revision=revision)
    assert [o.object_id for o in out] == ["X-1", "X-2"] and all(o.created for o in out)
    with pytest.raises(Exception, match="changed since revision"):
        requirements.record_compensating_controls(store, SITE, ok, principal=local_principal(name="t"),
                                                  expected_revision=revision)
    # The single-record functions still work (the API uses them), without a record label.
    one = requirements.record_compensating_control(store, SITE, ok[0], principal=local_principal(name="t"))
    assert not one.created
    with pytest.raises(NotFoundError, match="^no site"):
        patching.record_deferral(store, "nope", models(Deferral, _deferral("X-9"))[0], principal=local_principal())
