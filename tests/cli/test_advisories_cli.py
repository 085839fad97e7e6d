"""The advisories, kev and findings commands end to end (click's runner, SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "examples" / "pharma-plant"
EXAMPLES = ROOT / "examples" / "advisories"


def run(*args: str, db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ZONEWARDEN_DB": db, "ZONEWARDEN_ACTOR": "tester"},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'zw.db'}"
    assert run("import", str(PLANT), db=url)[0] == 0
    return url


def _findings(db: str, *args: str) -> list[dict]:  # type: ignore[type-arg]
    code, out, _ = run("findings", "list", "--format", "json", *args, db=db)
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def test_ingest_examples_and_list_findings(db: str) -> None:
    code, out, err = run("advisories", "ingest", str(EXAMPLES), "--strict", db=db)
    assert code == 0, err
    assert out == ""  # messages go to stderr
    assert "6 document(s): 6 new" in err and "16 new" in err
    code, out, err = run("findings", "list", db=db)
    assert code == 0
    for text in ("pack-ewon", "immediate", "needs-review (unparseable-range)", "not-affected", "fixed"):
        assert text in out
    assert "16 finding(s): 6 affected, 3 not-affected, 2 fixed, 5 needs-review" in err
    # Most urgent first.
    rows = _findings(db)
    assert rows[0]["asset"] == "pack-ewon" and rows[0]["priority"] == "immediate"
    assert {r["status"] for r in _findings(db, "--status", "needs-review")} == {"needs-review"}
    assert {r["zone"] for r in _findings(db, "--zone", "ops")} == {"ops"}
    assert {r["priority"] for r in _findings(db, "--priority", "immediate")} == {"immediate"}
    code, out, _ = run("findings", "list", "--format", "csv", db=db)
    assert code == 0 and out.splitlines()[0] == "id,priority,status,advisory,asset,zone,triage,why,site"
    code, out, err = run("advisories", "ingest", str(EXAMPLES), db=db)
    assert "6 unchanged" in err and "findings: 0 new, 0 updated" in err


def test_show_explains_the_match_and_ssvc(db: str) -> None:
    run("advisories", "ingest", str(EXAMPLES), db=db)
    (row,) = [r for r in _findings(db) if r["asset"] == "ops-power-mon"]
    code, out, _ = run("findings", "show", str(row["id"]), db=db)
    assert code == 0
    assert "needs-review (unparseable-range)" in out
    assert "'2022 without the example hotfix HF-EX-17'" in out and "asset version '2022'" in out
    for name in ("exploitation", "exposure", "automatable", "safety_impact", "mission_impact", "human_impact"):
        assert name in out
    assert "c-dmz-ops" in out  # the exposure's source names the conduit
    code, out, _ = run("advisories", "show", "ZW-EXAMPLE-2026-003", db=db)
    assert code == 0 and "revision 1 (current)" in out and "ops-power-mon" in out
    code, out, _ = run("advisories", "list", "--format", "json", db=db)
    assert [a["id"] for a in json.loads(out)] == [f"ZW-EXAMPLE-2026-00{i}" for i in range(1, 7)]
    code, _, err = run("findings", "show", "424242", db=db)
    assert code == 2 and "no finding 424242" in err


def test_decide_and_override(db: str) -> None:
    run("advisories", "ingest", str(EXAMPLES), db=db)
    (row,) = [r for r in _findings(db) if r["asset"] == "comp-plc-p1"]
    fid = str(row["id"])
    code, _, err = run("findings", "decide", fid, "--status", "resolved", "--why", "already done, trust me", db=db)
    assert code == 2 and "it can go to under-assessment" in err
    code, _, err = run("findings", "decide", fid, "--status", "under-assessment", "--why", "checking the firmware", db=db)
    assert code == 0 and "new -> under-assessment" in err
    code, _, err = run("findings", "decide", fid, "--status", "risk-accepted", "--why", "line stops in March",
                       "--owner", "p-mweber", "--expires", "31.03.2027", db=db)
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = run("findings", "decide", fid, "--status", "risk-accepted", "--why", "line stops in March",
                       "--owner", "p-mweber", "--expires", "2099-03-31", db=db)
    assert code == 0
    code, out, _ = run("findings", "show", fid, db=db)
    assert "tester: under-assessment -> risk-accepted: line stops in March; owner p-mweber; expires 2099-03-31" in out
    code, _, err = run("findings", "override", fid, "--exposure", "open", "--why", "OEM modem found in the cabinet", db=db)
    assert code == 0 and "priority" in err
    code, out, _ = run("findings", "show", fid, "--format", "json", db=db)
    data = json.loads(out)
    assert data["ssvc"]["exposure"]["value"] == "open" and data["ssvc"]["exposure"]["computed"] == "small"
    assert data["ssvc"]["exposure"]["override"]["by"] == "tester"
    code, out, _ = run("audit", "log", "--format", "json", db=db)
    actions = [e["action"] for e in json.loads(out)]
    assert actions.count("finding.decide") == 2 and "finding.override" in actions
    assert run("audit", "verify", db=db)[0] == 0


def test_strict_rejection_exits_2_and_the_batch_goes_on(db: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.json").write_bytes((EXAMPLES / "zw-example-2026-001.json").read_bytes())
    (folder / "broken.json").write_text('{"document": {"tracking": ')
    code, out, err = run("advisories", "ingest", str(folder), "--strict", "--format", "json", db=db)
    assert code == 2
    results = {Path(r["source"]).name: r for r in json.loads(out)["results"]}
    assert results["good.json"]["outcome"] == "new"
    assert results["broken.json"]["outcome"] == "rejected" and "broken.json" in results["broken.json"]["error"]
    code, _, err = run("advisories", "ingest", str(folder), db=db)
    assert code == 0 and "rejected: " in err and "broken.json" in err


def test_advisory_text_is_printed_literally(db: str, tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "zw-example-2026-005.json").read_text())
    doc["document"]["title"] = "EXAMPLE [bold red]markup[/bold red] \x1b[31mescape"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))
    assert run("advisories", "ingest", str(path), db=db)[0] == 0
    code, out, _ = run("advisories", "show", "ZW-EXAMPLE-2026-005", db=db)
    assert code == 0
    assert "[bold red]markup[/bold red]" in out  # shown as written, not interpreted
    assert "\x1b" not in out


def test_kev_import(db: str, tmp_path: Path) -> None:
    kev = tmp_path / "kev.json"
    kev.write_text(json.dumps({
        "title": "test", "catalogVersion": "2026.11.01", "dateReleased": "2026-11-01T00:00:00.000Z", "count": 1,
        "vulnerabilities": [{
            "cveID": "CVE-2023-20198", "vendorProject": "Cisco", "product": "IOS XE", "vulnerabilityName": "x",
            "dateAdded": "2023-10-16", "shortDescription": "", "requiredAction": "patch", "dueDate": "2023-10-20",
            "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": [],
        }],
    }))
    code, _, err = run("kev", "import", str(kev), db=db)
    assert code == 0 and "KEV catalog 2026.11.01: 1 entries (1 added, 0 removed)" in err
    kev.write_text('{"catalogVersion": 1}')
    code, _, err = run("kev", "import", str(kev), db=db)
    assert code == 2 and "dateReleased" in err


def test_findings_by_asset_and_what_to_act_on(db: str) -> None:
    assert run("advisories", "ingest", str(EXAMPLES), db=db)[0] == 0
    code, out, err = run("findings", "list", "--group-by", "asset", "--format", "json", db=db)
    assert code == 0, err
    groups = {g["asset"]: g for g in json.loads(out)}
    # Open findings only (affected, needs-review), one row per asset with the version that closes them.
    assert groups["dmz-sw-1"]["fixed_by"] == "4.5"
    assert groups["dmz-sw-1"]["summary"] == "1 advisory, fixed by version 4.5"
    assert groups["pw-plc-gen"]["fixed_by"] is None and "no fixed version named" in groups["pw-plc-gen"]["summary"]
    assert all(f["status"] in ("affected", "needs-review") for g in groups.values() for f in g["fixes"])
    fix = groups["dmz-sw-1"]["fixes"][0]
    assert fix["vulnerabilities"][0]["cvss"]["base_score"] == 7.5 and fix["vulnerabilities"][0]["cwe"] == "CWE-20"
    assert [r["category"] for r in fix["remediations"]] == ["vendor_fix", "mitigation"]
    code, out, _ = run("findings", "list", "--group-by", "asset", db=db)
    assert code == 0 and "dmz-sw-1" in out and "4.5" in out
    # findings show carries the same facts.
    finding = fix["finding"]
    code, out, _ = run("findings", "show", str(finding), "--format", "json", db=db)
    assert code == 0 and json.loads(out)["act_on"]["fixed_by"] == "4.5"
    code, out, _ = run("findings", "show", str(finding), db=db)
    assert code == 0 and "update to version 4.5 closes it" in out and "CVSS 3.1 7.5" in out
    code, _, err = run("findings", "list", "--group-by", "asset", "--triage", "new", db=db)
    assert code != 0 and "--group-by asset takes" in err
