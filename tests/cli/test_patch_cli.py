"""The patch commands: plan and status on the example plant (table, JSON, iCalendar, CSV), and
the audited write workflow (deferrals, patch change records) on a database, including refusals
that write nothing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
AS_OF = "2026-12-01"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_plan_table_lists_the_plan_the_unplanned_and_the_candidates() -> None:
    code, out, err = run("patch", "plan", "--file", str(EXAMPLE), "--as-of", AS_OF)
    assert code == 0, err
    assert "Patch plan: Rheinfeld Oral Solids (2026-12-01 to 2027-06-01)" in out
    assert "LATE: blackout" in out and "LATE: waiting-for-pilot" in out
    assert "vendor-not-qualified" in out and "Deferral candidates" in out and "DEF-2026-011" in out
    assert "mip OPTIMAL" in err and "gap 0.00%" in err


def test_plan_json_is_reproducible() -> None:
    args = ("patch", "plan", "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "json", "--horizon", "12w")
    code, out, _ = run(*args)
    assert code == 0
    data = json.loads(out)
    assert data["horizon_end"] == "2027-02-23" and data["status"] == "OPTIMAL" and data["gap"] == 0.0
    assert data["settings"]["solver"] == "mip" and data["settings"]["seed"] == 0
    _, again, _ = run(*args)
    second = json.loads(again)
    for d in (data, second):
        d.pop("seconds")
    assert data == second
    assert {u["reason"] for u in data["unplanned"]} == {"vendor-not-qualified"}


def test_plan_greedy_and_ics() -> None:
    result = CliRunner().invoke(cli, ["patch", "plan", "--file", str(EXAMPLE), "--as-of", AS_OF, "--solver", "greedy",
                                      "--format", "ics"], catch_exceptions=False)
    assert result.exit_code == 0 and "greedy GREEDY" in result.stderr
    raw = result.stdout_bytes  # .stdout would turn RFC 5545's CRLF into LF
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.count(b"BEGIN:VEVENT") >= 5
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_bad_options_exit_2() -> None:
    code, _, err = run("patch", "plan", "--file", str(EXAMPLE), "--horizon", "6 months")
    assert code == 2 and "not a period" in err
    code, _, err = run("patch", "plan", "--file", str(EXAMPLE), "--as-of", "yesterday")
    assert code == 2 and "not a date" in err


def test_status_exits_1_on_overdue_and_reports_risk() -> None:
    code, out, err = run("patch", "status", "--file", str(EXAMPLE), "--as-of", AS_OF)
    assert code == 1
    assert "Patch compliance by tier" in out and "Where risk is carried" in out
    assert "DEF-2026-011 (coat-hmi-1, WINCC-FLEX-2008-HF): control-not-valid" in err
    assert "24 items, 83% within policy; 2 overdue, 2 deferred, 1 need a risk acceptance" in err
    code, out, _ = run("patch", "status", "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["summary"]["overdue"] == 2
    assert [z["zone"] for z in data["where_risk_is_carried"]][0] == "comp"
    code, out, _ = run("patch", "status", "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "csv", "--all")
    assert out.splitlines()[0] == "asset,patch,zone,tier,priority,state,deadline,days_overdue,deferral,controls,cves,flags"
    assert len(out.splitlines()) == 25


# --- writes on a database ----------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZONEWARDEN_DB", f"sqlite:///{tmp_path / 'zw.db'}")
    monkeypatch.setenv("ZONEWARDEN_ACTOR", "tester")
    code, _, err = run("import", str(EXAMPLE))
    assert code == 0, err
    return tmp_path


def _audit_count() -> int:
    code, out, _ = run("audit", "log", "--format", "json")
    assert code == 0
    return len(json.loads(out))


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_deferral_workflow(db: Path) -> None:
    before = _audit_count()
    own = _write(db / "own.yaml", """\
        id: DEF-NEW
        asset: pack-serial-line
        patch: MS-2026-11-ESU-2012R2
        reason: Serialisation vendor has not released the agent for the update yet.
        compensating_controls: [CC-PACK-SERIAL]
        requested_by: p-hkessler
        requested: 2026-12-01
        approver: p-hkessler
        approved: 2026-12-02
        expires: 2027-03-01
    """)
    code, _, err = run("patch", "defer", "record", str(own))
    assert code == 2 and "cannot approve it" in err and "own.yaml:" in err
    too_long = _write(db / "long.yaml", own.read_text().replace("approver: p-hkessler", "approver: p-sozturk")
                      .replace("expires: 2027-03-01", "expires: 2028-12-01"))
    code, _, err = run("patch", "defer", "record", str(too_long))
    assert code == 2 and "beyond the tier-4 maximum deferral" in err and "p-sozturk (it-security) may not approve" in err
    assert _audit_count() == before  # nothing written

    pending = _write(db / "pending.yaml", "\n".join(
        line for line in own.read_text().splitlines() if not line.startswith(("approver", "approved"))) + "\n")
    code, _, err = run("patch", "defer", "record", str(pending), "--reason", "OT board")
    assert code == 0 and "recorded (pending approval)" in err
    code, _, err = run("patch", "defer", "approve", "DEF-NEW", "--approver", "p-hkessler")
    assert code == 2 and "someone else has to approve it" in err
    code, _, err = run("patch", "defer", "approve", "DEF-NEW", "--approver", "p-mbrandt")
    assert code == 2 and "may not approve a tier-4 deferral; the policy allows: management" in err
    code, _, err = run("patch", "defer", "approve", "DEF-NOPE", "--approver", "p-mbrandt")
    assert code == 2 and "no deferral 'DEF-NOPE'" in err
    assert _audit_count() == before + 1
    # p-rmeier has no management role either; add the approval by the plant manager's deputy.
    code, out, _ = run("patch", "plan", "--as-of", AS_OF, "--format", "json")
    assert any(u["asset"] == "pack-serial-line" for u in json.loads(out)["assignments"])  # pending: still planned


def test_patch_change_workflow(db: Path) -> None:
    rec = _write(db / "pc.yaml", """\
        patch_changes:
          - id: PC-2026-050
            title: S7-1500 V3.1.5 on the granulation PLCs
            patch: S7-1500-FW-3.1.5
            assets: [gran-plc-hsg, gran-plc-fbd]
            zones: [gran]
            status: proposed
            raised: 2026-12-01
            owner: p-lfischer
            impact_assessment: Firmware only; the PLC programs are unchanged (checksums compared).
            rollback_criteria: Any CPU stop or checksum difference after restart.
            rollback_decider: p-lfischer
    """)
    code, _, err = run("patch", "change", "record", str(rec))
    assert code == 0, err
    code, _, err = run("patch", "change", "record", str(rec))
    assert code == 2 and "exists already" in err
    # No skipping approval.
    code, _, err = run("patch", "change", "advance", "PC-2026-050", "implemented", "--set", "implemented=2027-01-03")
    assert code == 2 and "cannot go from proposed to implemented" in err
    code, _, err = run("patch", "change", "approve", "PC-2026-050", "--by", "p-sozturk", "--date", "2026-12-02")
    assert code == 2 and "may not approve a tier-3 patch" in err
    # Separation of duties: the owner who carries out the change does not approve it.
    code, _, err = run("patch", "change", "approve", "PC-2026-050", "--by", "p-lfischer", "--role", "ot-engineering",
                       "--date", "2026-12-02")
    assert code != 0 and "p-lfischer owns patch change PC-2026-050" in err
    code, _, err = run("patch", "change", "approve", "PC-2026-050", "--by", "p-mbrandt", "--role", "ot-engineering",
                       "--date", "2026-12-02")
    assert code == 0 and "approved" in err
    count = _audit_count()
    code, _, err = run("patch", "change", "advance", "PC-2026-050", "implemented", "--set", "implemented=2027-01-03",
                       "--set", "outcome=success")
    assert code == 2 and "'backup_taken' and 'restore_tested'" in err and _audit_count() == count
    code, _, err = run("patch", "change", "advance", "PC-2026-050", "implemented", "--set", "implemented=2027-01-03",
                       "--set", "outcome=success", "--set", "backup_taken=2027-01-02", "--set", "restore_tested=2026-12-15",
                       "--set", "revalidation={required: true, reference: VAL-2027-002}")
    assert code == 0, err
    code, _, err = run("patch", "change", "advance", "PC-2026-050", "closed", "--set", "closed=2027-01-20")
    assert code == 2 and "no closed without review" in err
    code, _, err = run("patch", "change", "advance", "PC-2026-050", "closed", "--set", "closed=2027-01-20",
                       "--set", "post_implementation_review=Checksums equal; no CPU stop in 14 days",
                       "--set", "revalidation={required: true, reference: VAL-2027-002, completed: 2027-01-15}")
    assert code == 0, err
    code, _, err = run("patch", "change", "advance", "PC-2026-050", "cancelled")
    assert code == 2 and "allowed: none (final)" in err
    # The installed patch leaves the plan and counts as patched (late: the PQ blackout) in the status.
    code, out, _ = run("patch", "status", "--as-of", "2027-01-21", "--format", "json", "--all")
    items = {(i["asset"], i["patch"]): i for i in json.loads(out)["items"]}
    assert items[("gran-plc-hsg", "S7-1500-FW-3.1.5")]["state"] == "patched-late"
    code, out, _ = run("audit", "log", "--format", "json")
    actions = [e["action"] for e in json.loads(out)]
    assert actions[-4:] == ["patch.change.record", "patch.change.approve", "patch.change.implemented",
                            "patch.change.closed"]
    code, _, _ = run("audit", "verify")
    assert code == 0


def test_findings_marked_remediation_planned_are_planned(db: Path) -> None:
    """From the database, advisory findings that triage marked 'remediation planned' join the plan
    (patch reference = advisory id); a tier-2 switch needs the vendor's qualification first."""
    examples = EXAMPLE.parent / "advisories"
    code, _, err = run("advisories", "ingest", str(examples))
    assert code == 0, err
    code, out, _ = run("findings", "list", "--format", "json")
    ids = {r["asset"]: str(r["id"]) for r in json.loads(out) if r["status"] == "affected"}
    for asset in ("pack-ewon", "dmz-sw-1"):
        for status in ("under-assessment", "remediation-planned"):
            code, _, err = run("findings", "decide", ids[asset], "--status", status, "--why", "vendor fix is out",
                               "--owner", "p-sozturk")
            assert code == 0, err
    code, out, err = run("patch", "plan", "--format", "json", "--solver", "greedy")
    assert code == 0, err
    plan = json.loads(out)
    ewon = [a for a in plan["assignments"] if a["asset"] == "pack-ewon"]
    assert [(a["patch"], a["source"], a["priority"], a["tier"]) for a in ewon] == [
        ("ZW-EXAMPLE-2026-006", "finding", "immediate", 1)
    ]
    switch = [u for u in plan["unplanned"] if u["asset"] == "dmz-sw-1"]
    assert [(u["patch"], u["reason"]) for u in switch] == [("ZW-EXAMPLE-2026-001", "vendor-not-qualified")]
    code, out, _ = run("patch", "status", "--format", "json", "--all")
    states = {(i["asset"], i["source"]) for i in json.loads(out)["items"]}
    assert ("pack-ewon", "finding") in states and ("dmz-sw-1", "finding") in states


def test_patching_sections_round_trip_through_the_database(db: Path) -> None:
    from zonewarden.io.sitefile import load_site

    code, _, err = run("export", "-o", str(db / "out"))
    assert code == 0, err
    original, exported = load_site(EXAMPLE), load_site(db / "out" / "rheinfeld-os")
    for section in ("patch_policy", "maintenance_windows", "blackouts", "patches", "deferrals", "patch_changes"):
        assert getattr(exported, section) == getattr(original, section), section
    assert (db / "out" / "rheinfeld-os" / "maintenance_windows.yaml").exists()
