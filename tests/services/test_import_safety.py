"""Import never loses recorded work silently (issue 12 §7), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.domain.requirements import CompensatingControl, RequirementStatus
from zonewarden.engines.importguard import conflicts, record_digests
from zonewarden.io.sitefile import STAMP_FILE_NAME, load_site, read_stamp, write_site
from zonewarden.services import audit, import_safety, requirements, sites
from zonewarden.services.principal import local_principal

ME = local_principal(name="tester")
CONTROL = {
    "id": "CC-1", "title": "Jump host only", "description": "Access to the cell only through the jump host.",
    "covers": ["SR 1.1"], "zones": ["cell"], "rationale": "legacy-os", "owner": "ann",
    "review": "2027-03-01", "expires": "2027-09-01",
}


def _export(store, tmp_path: Path, name: str = "out") -> Path:  # type: ignore[no-untyped-def]
    bundle = import_safety.export_site(store, "mini", principal=ME)
    folder = tmp_path / name / "mini"
    write_site(bundle.doc, folder, bundle.evidence, bundle.stamp)
    return folder


def _import(store, folder: Path, **kw):  # type: ignore[no-untyped-def]
    doc = load_site(folder)
    stamp = read_stamp(folder, doc.site.id)
    return sites.import_documents(store, [doc], principal=ME, stamps={"mini": stamp} if stamp else None, **kw)


def _record_work(store) -> None:  # type: ignore[no-untyped-def]
    """A status set and a control recorded and approved by command, by two people."""
    requirements.set_requirement_status(
        store, "mini", RequirementStatus.model_validate(
            {"target": "cell", "requirement": "SR 1.1", "status": "implemented", "assessed": "2026-11-02"}),
        principal=local_principal(name="carla"),
    )
    requirements.record_compensating_control(store, "mini", CompensatingControl.model_validate(CONTROL),
                                             principal=local_principal(name="dan"))
    requirements.approve_compensating_control(store, "mini", "CC-1", approver="bo", approved=dt.date(2026, 11, 24),
                                              principal=local_principal(name="erin"))


@pytest.fixture
def exported(store, mini_site_text: str, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    site = tmp_path / "site.yaml"  # the mini plant with a second person, to approve a control
    site.write_text(mini_site_text.replace("people:\n", "people:\n  - {id: bo, name: Bo Quality, roles: [quality]}\n"))
    sites.import_documents(store, [load_site(site)], principal=ME)
    return _export(store, tmp_path)


def test_stamp_round_trip_and_unchanged_reimport_is_a_no_op(store, exported: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stamp = read_stamp(exported, "mini")
    assert stamp is not None and stamp["site"] == "mini" and stamp["revision"] == 1
    assert stamp["records"]["assets"].keys() == {"plc-1", "hist-1"}
    [outcome] = _import(store, exported)
    assert outcome.unchanged
    with store.read() as conn:
        assert len(list(audit.events(conn))) == 1
    again = _export(store, tmp_path, "again")
    for f in sorted(exported.iterdir()):
        assert (again / f.name).read_bytes() == f.read_bytes(), f.name


def test_old_export_is_refused_naming_both_records_then_force_overwrites_and_audits(store, exported: Path) -> None:  # type: ignore[no-untyped-def]
    _record_work(store)
    with pytest.raises(import_safety.ImportRefused) as info:
        _import(store, exported)
    text = str(info.value)
    assert "requirements cell/SR 1.1: added since revision 1 by carla" in text
    assert "compensating_controls CC-1: added since revision 1 by erin" in text
    assert "compensating-control.approve" in text
    assert sites.load_document(store, "mini").compensating_controls  # nothing was imported

    [outcome] = _import(store, exported, force=True)
    assert {(c.conflict.section, c.conflict.key) for c in outcome.overridden} == {
        ("requirements", "cell/SR 1.1"), ("compensating_controls", "CC-1")}
    doc = sites.load_document(store, "mini")
    assert not doc.compensating_controls and not doc.requirements
    with store.read() as conn:
        last = list(audit.events(conn))[-1]
    assert last.action == "site.import" and last.after["allowed_by"] == "force"
    assert {(o["section"], o["id"], o["by"]) for o in last.after["overridden"]} == {
        ("requirements", "cell/SR 1.1", "carla"), ("compensating_controls", "CC-1", "erin")}


def test_prune_removes_what_the_file_lacks_but_does_not_overwrite(store, exported: Path) -> None:  # type: ignore[no-untyped-def]
    _record_work(store)
    [outcome] = _import(store, exported, prune=True)
    assert not outcome.unchanged and len(outcome.overridden) == 2
    assert not sites.load_document(store, "mini").compensating_controls
    # A record edited since the export: the old file would overwrite it; prune does not allow that.
    sites.import_documents(store, [load_site(exported)], principal=ME)  # (back to the export's content)
    requirements.record_compensating_control(store, "mini", CompensatingControl.model_validate(CONTROL), principal=ME)
    newer = _export(store, exported.parent.parent, "newer")
    requirements.record_compensating_control(
        store, "mini", CompensatingControl.model_validate({**CONTROL, "title": "Jump host and MFA"}),
        principal=local_principal(name="fay"))
    with pytest.raises(import_safety.ImportRefused, match="CC-1: changed since revision .* by fay.*overwrite"):
        _import(store, newer, prune=True)
    [outcome] = _import(store, newer, force=True)
    assert sites.load_document(store, "mini").compensating_controls[0].title == "Jump host only"


def test_changes_to_other_records_go_through(store, exported: Path) -> None:  # type: ignore[no-untyped-def]
    _record_work(store)
    text = (exported / "assets.yaml").read_text()
    (exported / "assets.yaml").write_text(text.replace("name: Line PLC", "name: Line PLC 1"))
    # The user's own edit of a record nobody touched since: fine; the controls recorded since
    # would still be removed, so this needs prune.
    plan = import_safety.plan_import(store, [load_site(exported)], principal=ME, stamps={"mini": read_stamp(exported, "mini")})
    [p] = plan
    assert {s.section: s.changed for s in p.sections}["assets"] == ("plc-1",)
    assert {(c.conflict.section, c.conflict.key) for c in p.refused} == {
        ("requirements", "cell/SR 1.1"), ("compensating_controls", "CC-1")}
    assert p.stale and p.as_dict()["would_import"] is False


def test_unstamped_file_removes_nothing_without_prune(store, mini_site_file: Path, mini_site_text: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=ME)
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(mini_site_text.replace("version: 2.10", "version: 2.11").replace(
        "  - {id: hist-1, name: Historian mirror, type: historian, zone: dmz, vendor: AVEVA, product: PI Server}\n", ""))
    with pytest.raises(import_safety.ImportRefused, match="assets hist-1: recorded by tester.*would remove it"):
        sites.import_documents(store, [load_site(smaller)], principal=ME)
    [outcome] = sites.import_documents(store, [load_site(smaller)], principal=ME, prune=True)
    assert {c.section: c.removed for c in outcome.changes}["assets"] == ("hist-1",)
    # An edit alone needs nothing.
    edited = tmp_path / "edited.yaml"
    edited.write_text(smaller.read_text().replace("version: 2.11", "version: 2.12"))
    [outcome] = sites.import_documents(store, [load_site(edited)], principal=ME)
    assert {c.section: c.changed for c in outcome.changes}["assets"] == ("plc-1",)


def test_dry_run_changes_nothing(store, exported: Path) -> None:  # type: ignore[no-untyped-def]
    _record_work(store)
    with store.read() as conn:
        before = len(list(audit.events(conn)))
    [p] = import_safety.plan_import(store, [load_site(exported)], principal=ME, stamps={"mini": read_stamp(exported, "mini")},
                                    prune=True)
    assert p.as_dict()["sections"]["compensating_controls"] == {"added": [], "changed": [], "removed": ["CC-1"]}
    assert p.as_dict()["would_import"] is True  # prune allows both removals
    with store.read() as conn:
        assert len(list(audit.events(conn))) == before
    assert sites.load_document(store, "mini").compensating_controls


def test_a_stamp_of_another_site_or_broken_is_an_error(exported: Path) -> None:
    from zonewarden.errors import SiteFileError

    with pytest.raises(SiteFileError) as info:
        read_stamp(exported, "other")
    assert "the stamp is of site 'mini'" in str(info.value) and "site:" in str(info.value)
    (exported / STAMP_FILE_NAME).write_text("{not json")
    with pytest.raises(SiteFileError, match="not JSON"):
        read_stamp(exported, "mini")


def test_engine_three_way_rules() -> None:
    base = {"risks": [{"id": "r1", "t": 1}, {"id": "r2", "t": 1}, {"id": "r3", "t": 1}]}
    current = {"risks": [{"id": "r1", "t": 2}, {"id": "r3", "t": 1}, {"id": "r4", "t": 1}]}  # r1 edited, r2 removed, r4 added
    incoming = {"risks": [{"id": "r1", "t": 1}, {"id": "r2", "t": 1}]}  # the old file, r3 deleted by the user
    found = {(c.key, c.since, c.effect, c.needs) for c in conflicts(current, incoming, record_digests(base))}
    assert found == {("r1", "changed", "overwrite", "force"), ("r2", "removed", "restore", "force"),
                     ("r4", "added", "remove", "prune")}
