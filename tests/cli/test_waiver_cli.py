"""`zonewarden waiver record|approve|list` in single-user mode: recorded pending, approved by the
person named, listed with its approval state (a typed approval reads as not signed)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def test_record_approve_and_list(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    run = CliRunner().invoke
    assert run(cli, ["import", str(ROOT / "examples" / "pharma-plant"), "--db", db]).exit_code == 0
    (tmp_path / "w.yaml").write_text(
        "id: W-RTU\nrule: ZW007\nobjects: [c-ops-elec]\nexpires: 2099-01-01\n"
        "justification: RTU firmware upgrade scheduled with the grid operator\n")
    r = run(cli, ["waiver", "record", str(tmp_path / "w.yaml"), "--db", db])
    assert r.exit_code == 0 and "pending approval" in r.output, r.output
    listed = json.loads(run(cli, ["waiver", "list", "--format", "json", "--db", db]).output)
    assert {w.get("id"): w["approval"]["status"] for w in listed["waivers"]}["W-RTU"] == "pending"
    r = run(cli, ["waiver", "approve", "W-RTU", "--db", db])
    assert r.exit_code != 0 and "name the approving person" in r.output
    r = run(cli, ["waiver", "approve", "W-RTU", "--approver", "p-hkessler", "--db", db])
    assert r.exit_code == 0 and "approved by p-hkessler" in r.output, r.output
    listed = json.loads(run(cli, ["waiver", "list", "--format", "json", "--db", db]).output)
    assert {w["approval"]["status"] for w in listed["waivers"]} == {"not signed"}
