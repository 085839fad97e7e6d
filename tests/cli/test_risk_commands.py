"""The slt, risks, risk-method, due and diff commands, on the example plant and small files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
AS_OF = "2026-11-25"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_slt_json_carries_the_reasoning_chain() -> None:
    code, out, _ = run("slt", "--file", str(EXAMPLE), "--format", "json")
    assert code == 0
    data = json.loads(out)
    zones = {z["zone"]: z for z in data["zones"]}
    sis = zones["gran-sis"]
    fr1 = sis["per_fr"][0]
    assert fr1["fr"] == "FR1" and fr1["level"] == 3
    assert fr1["decisive"][0]["scenario"] == "R-05" and fr1["decisive"][0]["weight_source"] == "scenario"
    assert "R-05 safety L2 x I5 = high -> SL 3" in fr1["reason"]
    assert sis["status"] == "differs-unjustified"
    assert zones["ent"]["status"] == "differs-justified"
    assert zones["sup"]["status"] == "matches"
    assert zones["ext"]["proposal"] is None and "no risk scenarios" in zones["ext"]["undecided_reason"]
    assert data["method"] == {"name": "Rheinfeld OT risk method", "version": "2024-1"}


def test_slt_table_strict_and_unknown_zone() -> None:
    code, out, err = run("slt", "--file", str(EXAMPLE), "--zone", "water")
    assert code == 0 and "R-11 product-quality L2 x I4 = medium -> SL 2" in out
    assert "water: proposed SL-T 2, set SL-T 2 -> matches" in err
    code, _, err = run("slt", "--file", str(EXAMPLE), "--strict")
    assert code == 1 and "without sl_target_rationale: bms, coat" in err
    code, _, err = run("slt", "--file", str(EXAMPLE), "--zone", "nope")
    assert code == 2 and "unknown zone 'nope'" in err


def test_risks_json_and_csv() -> None:
    code, out, _ = run("risks", "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert len(data["entries"]) == 21
    r07 = next(e for e in data["entries"] if e["id"] == "R-07")
    assert {f["code"] for f in r07["flags"]} == {"acceptance-expiring", "accepted-over-tolerance"}
    assert sum(map(sum, data["heat_map"]["residual"])) == 21
    assert data["treatments"] == {"mitigate": 17, "accept": 2, "transfer": 1, "avoid": 1}
    code, out, _ = run("risks", "--file", str(EXAMPLE), "--as-of", AS_OF, "--over-tolerance", "--format", "csv")
    lines = out.splitlines()
    assert lines[0].startswith("id,zone,title,threat,inherent,residual")
    assert [line.split(",")[0] for line in lines[1:]] == ["R-14", "R-02", "R-07", "R-06"]


def test_risk_method_prints_the_method_as_applied() -> None:
    code, out, _ = run("risk-method", "--file", str(EXAMPLE), "--format", "json")
    assert code == 0
    method = json.loads(out)["risk_method"]
    assert method["name"] == "Rheinfeld OT risk method"
    assert method["matrix"][4] == ["medium", "high", "high", "very-high", "very-high"]
    assert method["impact_categories"][0]["criteria"]["5"].startswith("One or more fatalities")
    code, out, _ = run("risk-method", "--file", str(EXAMPLE))
    assert code == 0 and "tolerable: medium" in out


def test_due_on_the_example_exits_1_with_reasons() -> None:
    code, out, _ = run("due", "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "json")
    assert code == 1
    items = json.loads(out)["items"]
    pack = [i for i in items if i["zone"] == "pack" and i["kind"] == "scoped"]
    assert pack[0]["trigger"] == "change:CR-2025-07" and pack[0]["status"] == "overdue"
    assert not any(i["zone"] == "ext" for i in items)
    assert not any(i["trigger"] == "change:CR-2026-02" for i in items)  # answered by A-2026-QCLAB


SMALL = """\
zonewarden: 1
site: {{id: p, name: P, timezone: Europe/Zurich}}
people: [{{id: alice, name: Alice}}]
zones:
  - {{id: ctl, name: Control, kind: control, purdue_level: 1, criticality: high}}
  - {{id: ext, name: Internet, kind: external, purdue_level: 5}}
{conduits}
assessments:
  - {{id: A1, kind: full, date: 2024-02-29, assessors: [alice], outcome: satisfactory}}
  - {{id: A2, kind: health-check, date: 2025-09-01, assessors: [alice], outcome: satisfactory}}
"""


def write_small(path: Path, conduits: str = "") -> Path:
    path.write_text(SMALL.format(conduits=conduits), encoding="utf-8")
    return path


def test_due_as_of_with_offset_uses_the_sites_time_zone(tmp_path: Path) -> None:
    site = write_small(tmp_path / "site.yaml")
    # full assessment due 2026-02-28 (24 months from a leap day). 23:30 UTC is already 1 March in Zurich.
    code, out, _ = run("due", "--file", str(site), "--as-of", "2026-02-28T23:30:00Z", "--format", "json")
    assert code == 1 and json.loads(out)["as_of"] == "2026-03-01"
    code, out, _ = run("due", "--file", str(site), "--as-of", "2026-02-28T22:30:00Z", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["as_of"] == "2026-02-28"
    assert [(i["kind"], i["status"], i["due"]) for i in data["items"]] == [("full", "due", "2026-02-28")]
    code, _, err = run("due", "--file", str(site), "--as-of", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in err


def test_diff_and_due_with_baseline(tmp_path: Path) -> None:
    old = write_small(tmp_path / "old.yaml")
    new = write_small(
        tmp_path / "new.yaml",
        "conduits:\n  - {id: c-ext-ctl, zones: [ext, ctl], flows: [{source: ext, destination: ctl, protocol: rdp, "
        "ports: [3389], remote_access: true}]}",
    )
    code, out, _ = run("diff", str(old), str(new), "--as-of", "2026-01-10", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [(c["section"], c["kind"]) for c in data["changes"]] == [("conduits", "added"), ("flows", "added")]
    assert data["triggers"] == [
        {"kind": "new-external-connectivity", "ref": "conduit:c-ext-ctl", "zones": ["ctl"], "date": "2026-01-10",
         "reason": "site diff: new conduit c-ext-ctl to an external or remote-access zone (ext - ctl)"}
    ]
    code, out, err = run("diff", str(old), str(new))
    assert code == 0 and "new-external-connectivity" in out and "2 changes; 1 reassessment triggers" in err
    code, out, _ = run("due", "--file", str(new), "--baseline", str(old), "--as-of", "2026-01-10", "--format", "json")
    scoped = [i for i in json.loads(out)["items"] if i["kind"] == "scoped"]
    assert [(i["zone"], i["due"], i["trigger"]) for i in scoped] == [("ctl", "2026-04-10", "site-diff:conduit:c-ext-ctl")]
    code, out, err = run("diff", str(EXAMPLE), str(EXAMPLE))
    assert code == 0 and "0 changes; 0 reassessment triggers" in err


def test_bad_risk_file_is_reported_with_location(tmp_path: Path) -> None:
    site = write_small(tmp_path / "site.yaml")
    (tmp_path / "risk.yaml").write_text(
        textwrap.dedent(
            """\
            risks:
              - id: R1
                title: Ransomware
                threat: {actor: criminal, vector: it-network}
                zone: nowhere
                inherent: {likelihood: 3, impacts: {reputation: 2}}
                treatment: accept
                owner: alice
                review_date: 2027-01-01
            """
        ),
        encoding="utf-8",
    )
    code, _, err = run("slt", "--file", str(tmp_path))
    assert code == 2
    assert "risk.yaml:5" in err and "unknown zone 'nowhere'" in err
    assert "impact category 'reputation' is not defined by the risk method" in err
    assert "no acceptance record" in err
    assert site.exists()


def test_diff_accepts_an_export_root_with_one_site(tmp_path: Path) -> None:
    (tmp_path / "export" / "p").mkdir(parents=True)
    write_small(tmp_path / "export" / "p" / "site.yaml")
    new = write_small(tmp_path / "new.yaml")
    code, _, err = run("diff", str(tmp_path / "export"), str(new))
    assert code == 0 and "0 changes" in err
    (tmp_path / "export" / "q").mkdir()
    write_small(tmp_path / "export" / "q" / "site.yaml")
    code, _, err = run("diff", str(tmp_path / "export"), str(new))
    assert code == 2 and "holds several sites (p, q)" in err
