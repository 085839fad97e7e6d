"""SL-T history in the audit log: which changes are recorded, and reading them back."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.domain.levels import SLTarget
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, sites
from zonewarden.services.principal import local_principal
from zonewarden.services.slt import record_slt_changes, slt_changes, slt_history


def _data(zones: list[dict]) -> dict:  # type: ignore[type-arg]
    return {"zones": zones}


def test_slt_changes_only_report_target_or_rationale_changes() -> None:
    old = _data([
        {"id": "a", "sl_target": 2},
        {"id": "b", "sl_target": 1},
        {"id": "c"},
        {"id": "gone", "sl_target": 2},
        {"id": "gone-plain"},
    ])
    new = _data([
        {"id": "a", "sl_target": 2, "name": "renamed"},
        {"id": "b", "sl_target": {"FR1": 2, "FR2": 1, "FR3": 1, "FR4": 1, "FR5": 1, "FR6": 1, "FR7": 1},
         "sl_target_rationale": "MFA required by group policy"},
        {"id": "c"},
        {"id": "new", "sl_target": 3},
        {"id": "new-plain"},
    ])
    got = slt_changes(old, new)
    assert [z for z, _, _ in got] == ["b", "gone", "new"]
    b = got[0]
    assert b[1] == {"sl_target": 1, "rationale": None}
    assert b[2]["rationale"] == "MFA required by group policy"
    assert got[1][2] is None and got[2][1] is None


def test_recorded_changes_read_back_and_keep_the_chain(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    sites.import_documents(store, [doc], principal=local_principal(name="ann"))
    old = doc.model_dump(mode="json", exclude_defaults=True)
    cell = next(z for z in doc.zones if z.id == "cell")
    raised = cell.model_copy(
        update={"sl_target": SLTarget.uniform(3), "sl_target_rationale": "Risk R-7 (recipe tampering) needs SL 3."}
    )
    new_doc = doc.model_copy(update={"zones": tuple(raised if z.id == "cell" else z for z in doc.zones)})
    with store.transaction() as conn:
        events = record_slt_changes(conn, "mini", old, new_doc.model_dump(mode="json", exclude_defaults=True),
                                    principal=local_principal(name="bob"), reason="annual review")
    assert [e.object_id for e in events] == ["cell"]
    (change,) = slt_history(store, "mini")
    assert (change.zone, change.before, change.after, change.actor) == ("cell", 2, 3, "bob")
    assert change.rationale == "Risk R-7 (recipe tampering) needs SL 3." and change.reason == "annual review"
    assert slt_history(store, "mini", zone="dmz") == []
    with store.read() as conn:
        assert audit.verify(conn).ok

    url = str(store.engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(cli, ["slt", "--history", "--db", url, "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["history"]
    assert (row["zone"], row["before"], row["after"]) == ("cell", 2, 3)
    result = CliRunner().invoke(cli, ["slt", "--history", "--db", url])
    assert result.exit_code == 0 and "SL-T 2" in result.stdout and "SL-T 3" in result.stdout
