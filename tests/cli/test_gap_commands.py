"""The gap, requirement and compensation commands, on the example plant and a database."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
AS_OF = "2026-11-25"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_example_gap_json_tells_the_coating_story() -> None:
    code, out, err = run("gap", "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    targets = {t["target"]: t for t in data["targets"]}
    coat = targets["coat"]
    fr1 = coat["frs"][0]
    # The XP HMI's compensating control expired on 2026-07-01: FR1 falls to 0.
    assert (fr1["sl_t"], fr1["sl_a"], fr1["sl_c"], fr1["gap"]) == (2, 0, 1, 2)
    assert fr1["limiting_assets"] == ["coat-hmi-1", "coat-plc-1"] and fr1["capability_blocks_target"]
    assert fr1["missing_for_next_level"][0]["requirement"] == "SR 1.7"
    assert "expired on 2026-07-01" in fr1["missing_for_next_level"][0]["reason"]
    expired = {(e["target"], e["requirement"]) for e in data["expired_compensations"]}
    assert expired == {("coat", "SR 1.1 RE 1"), ("coat", "SR 1.7"), ("coat", "SR 2.5"), ("coat", "SR 3.2")}
    # The press HMI's control is valid: FR1 of the compression cell reaches 1, blocked by SR 1.2.
    comp_fr1 = targets["comp"]["frs"][0]
    assert comp_fr1["sl_a"] == 1 and comp_fr1["missing_for_next_level"][0]["requirement"] == "SR 1.2"
    controls = {c["id"]: c for c in data["compensating_controls"]}
    assert controls["CC-COMP-HMI"]["validity"] == "valid" and controls["CC-COMP-HMI"]["review_overdue"]
    assert targets["pack"]["exceptions"] == ["EX-PACK-VPN"]
    assert [lvl["level"] for lvl in data["sl_scale"]] == [1, 2, 3, 4]
    # Not assessed: kept at SL-A 0 (issue 17.3), marked, and named on stderr.
    assert targets["c-ops-sup"]["assessed"] is False and coat["assessed"] is True
    assert {g["sl_a"] for g in targets["c-ops-sup"]["frs"]} == {0}
    assert "not assessed" in err and "c-ops-sup" in err


def test_a_site_with_no_statuses_shows_every_target_not_assessed(mini_site_file: Path) -> None:
    # Issue 17.3: this printed an empty table and exited 0 even with --fail-on-gap.
    code, out, err = run("gap", "--file", str(mini_site_file), "--as-of", AS_OF, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["target"] for r in rows} == {"corp", "dmz", "cell", "corp-dmz", "dmz-cell"}
    assert len(rows) == 5 * 7
    assert all(r["sl_a"] == "0" and r["missing_for_next_level"] == "not assessed (no requirement statuses)"
               for r in rows)
    cell_fr1 = next(r for r in rows if r["target"] == "cell" and r["fr"] == "FR1")
    assert (cell_fr1["sl_t"], cell_fr1["gap"]) == ("2", "2")
    assert "not assessed" in err and "cell, corp, dmz, corp-dmz, dmz-cell" in err
    code, _, _ = run("gap", "--file", str(mini_site_file), "--as-of", AS_OF, "--fail-on-gap")
    assert code == 1
    code, out, _ = run("gap", "--file", str(mini_site_file), "--as-of", AS_OF, "--only-gaps", "--format", "json")
    assert code == 0 and {t["assessed"] for t in json.loads(out)["targets"]} == {False}


def test_before_the_expiry_the_coating_cell_is_better() -> None:
    code, out, _ = run("gap", "--file", str(EXAMPLE), "--as-of", "2026-06-30", "--zone", "coat",
                       "--fr", "FR1", "--format", "json")
    assert code == 0
    fr1 = json.loads(out)["targets"][0]["frs"]
    assert [(g["fr"], g["sl_a"]) for g in fr1] == [("FR1", 1)]


def test_table_csv_and_fail_on_gap() -> None:
    code, out, err = run("gap", "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "csv", "--only-gaps",
                         "--fail-on-gap")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(int(r["gap"]) > 0 for r in rows)
    assert {"target": "coat", "fr": "FR4", "sl_c": "0"}.items() <= next(
        r for r in rows if r["target"] == "coat" and r["fr"] == "FR4"
    ).items()
    assert "warning: coat SR 1.7: compensating control CC-COAT-XP is expired since 2026-07-01" in err
    code, out, _ = run("gap", "--file", str(EXAMPLE), "--as-of", AS_OF, "--zone", "ent", "--fail-on-gap")
    assert code == 0 and "ent" in out


def test_explain() -> None:
    code, out, _ = run("gap", "--file", str(EXAMPLE), "--as-of", AS_OF, "--explain", "comp", "fr1")
    assert code == 0
    assert "SL-A on FR1 is 1 because SR 1.2 (required from SL 2) is not implemented." in out
    assert "The zone cannot reach SL 2 on FR1 while asset comp-hmi-p1 (SL-C 1) is in it." in out
    assert "SR 1.7 counts as met: compensated by CC-COMP-HMI" in out
    code, _, err = run("gap", "--file", str(EXAMPLE), "--explain", "nowhere", "FR1")
    assert code == 2 and "no zone or conduit 'nowhere'" in err
    code, _, err = run("gap", "--file", str(EXAMPLE), "--fr", "FR9")
    assert code == 2 and "FR1 ... FR7" in err


def test_iso27001_view() -> None:
    code, out, err = run("gap", "--file", str(EXAMPLE), "--as-of", AS_OF, "--framework", "iso27001",
                         "--format", "json")
    assert code == 0
    rows = {r["control"]: r for r in json.loads(out)}
    assert len(rows) == 93
    assert {r["coverage"] for r in rows.values()} <= {"full", "partial", "none", "not-assessed", "unmapped"}
    assert rows["A.5.1"]["coverage"] == "unmapped"
    assert any(r["coverage"] == "partial" for r in rows.values())
    assert "93 Annex A controls" in err
    # every mapped pair says how it relates and why (issue 15)
    change = rows["A.8.32"]
    assert change["links"] and all(k["relation"] in {"equal", "subset", "superset", "intersects"}
                                   and k["rationale"].endswith(".") for k in change["links"])
    assert change["mapping"].startswith(f"{change['links'][0]['requirement']} ({change['links'][0]['relation']}): ")
    assert rows["A.5.1"]["links"] == [] and rows["A.5.1"]["mapping"] == ""
    code, out, _ = run("gap", "--file", str(EXAMPLE), "--as-of", AS_OF, "--framework", "iso27001", "--format", "csv")
    assert code == 0 and out.splitlines()[0].endswith(",mapping")


def test_changed_evidence_is_an_error_in_file_mode(tmp_path: Path) -> None:
    copy = tmp_path / "plant"
    shutil.copytree(EXAMPLE, copy)
    (copy / "evidence" / "comp-hmi-access-review-2026-03.txt").write_text("edited afterwards\n")
    code, _, err = run("gap", "--file", str(copy), "--as-of", AS_OF, "--zone", "comp")
    assert code == 2
    assert "changed since it was recorded" in err and "compensating_controls[1].evidence[0].file" in err


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZONEWARDEN_DB", f"sqlite:///{tmp_path / 'zw.db'}")
    monkeypatch.setenv("ZONEWARDEN_ACTOR", "tester")
    code, _, err = run("import", str(EXAMPLE))
    assert code == 0, err
    return tmp_path


def test_requirement_set_and_compensation_commands(db: Path) -> None:
    site_dir = db / "site"
    (site_dir / "evidence").mkdir(parents=True)
    (site_dir / "evidence" / "panel.txt").write_text("new panel installed\n")
    code, _, err = run("requirement", "set", "coat", "sr1.7", "implemented", "--evidence-file", "evidence/panel.txt",
                       "--site-dir", str(site_dir), "--evidence-date", "2026-11-20", "--reason", "new panel")
    assert code == 0, err
    assert "coat SR 1.7: implemented (was compensated)" in err
    code, out, _ = run("export", "-o", str(db / "out"))
    exported = (db / "out" / "rheinfeld-os" / "requirements.yaml").read_text()
    digest = hashlib.sha256(b"new panel installed\n").hexdigest()
    assert digest in exported and "evidence/panel.txt" in exported

    # Setting a status records when it was assessed: today (in the site's time zone) unless given.
    status_block = exported.split("target: coat\n", 1)
    assert any("assessed: 20" in part for part in status_block)
    code, _, err = run("requirement", "set", "coat", "SR 2.5", "implemented", "--assessed", "2026-11-02")
    assert code == 0, err
    run("export", "-o", str(db / "out2"))
    assert "assessed: 2026-11-02" in (db / "out2" / "rheinfeld-os" / "requirements.yaml").read_text()
    # A missing field is named as the option that gives it, not as a site-file path (issue 17.6).
    code, _, err = run("requirement", "set", "gran", "SR 3.4", "planned")
    assert code == 2 and "status 'planned' needs --target-date DATE" in err and "requirements[" not in err
    code, _, err = run("requirement", "set", "gran", "SR 3.4", "not-applicable")
    assert code == 2 and "needs --justification TEXT" in err

    code, _, err = run("requirement", "set", "coat", "SR 9.1", "implemented")
    assert code == 2 and "not a requirement of IEC 62443-3-3" in err
    code, _, err = run("requirement", "set", "coat", "SR 1.7", "compensated", "--control", "CC-NOPE")
    assert code == 2 and "unknown compensating control 'CC-NOPE'" in err
    code, _, err = run("requirement", "set", "coat", "SR 1.7", "implemented", "--evidence-file", "../x",
                       "--site-dir", str(site_dir))
    assert code == 2 and "outside the site folder" in err

    cc = db / "cc.yaml"
    cc.write_text(
        "id: CC-COAT-XP2\n"
        "title: Renewed isolation of the coating HMI\n"
        "description: Same isolation measures, renewed until the panel is replaced in 2027.\n"
        "covers: [SR 1.1 RE 1, SR 2.5, SR 3.2]\n"
        "zones: [coat]\n"
        "rationale: legacy-os\n"
        "owner: p-jweber\n"
        "review: 2027-03-01\n"
        "expires: 2027-09-01\n"
    )
    code, _, err = run("compensation", "record", str(cc), "--reason", "CAB 2026-31")
    assert code == 0 and "CC-COAT-XP2 recorded (pending approval)" in err
    code, _, err = run("compensation", "approve", "CC-COAT-XP2", "--approver", "p-jweber")
    assert code == 2 and "someone else has to approve it" in err
    code, _, err = run("compensation", "approve", "CC-COAT-XP2", "--approver", "p-hkessler", "--date", "2026-11-24")
    assert code == 0, err
    code, _, err = run("requirement", "set", "coat", "SR 1.1 RE 1", "compensated", "--control", "CC-COAT-XP2")
    assert code == 0, err
    code, out, _ = run("gap", "--zone", "coat", "--fr", "FR1", "--as-of", AS_OF, "--format", "json")
    fr1 = json.loads(out)["targets"][0]["frs"][0]
    # SR 1.7 implemented and SR 1.1 RE 1 compensated again: FR1 climbs to 1, blocked by SR 1.2.
    assert fr1["sl_a"] == 1 and fr1["missing_for_next_level"][0]["requirement"] == "SR 1.2"
    code, out, _ = run("audit", "verify")
    assert code == 0

    bad = db / "bad.yaml"
    bad.write_text("id: CC-X\ntitle: t\ndescription: short\ncovers: []\nzones: [coat]\nrationale: because\n")
    code, _, err = run("compensation", "record", str(bad))
    assert code == 2 and "bad.yaml:" in err and "nothing was recorded" in err
