"""The report command: formats, output directory, errors, and the README's main script."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli

from .conftest import ROOT


def test_report_writes_every_requested_format(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    result = CliRunner().invoke(
        cli,
        ["report", "--audience", "customer", "--format", "html", "--format", "json", "-o", str(out),
         "--file", str(ROOT / "examples" / "pharma-plant"), "--as-of", "2026-11-25"],
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["SHA256SUMS", "evidence-customer.html", "evidence-customer.json", "manifest.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["package"] == {
        "as_of": "2026-11-25", "audience": "customer", "formats": ["html", "json"],
        "schema": "zonewarden-evidence-package/1", "site": "rheinfeld-os",
    }


def test_report_from_the_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    runner = CliRunner()
    imported = runner.invoke(cli, ["import", str(ROOT / "examples" / "pharma-plant"), "--db", db])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "auditor"
    result = runner.invoke(cli, ["report", "--audience", "auditor", "-o", str(out), "--db", db, "--as-of", "2026-11-25"])
    assert result.exit_code == 0, result.output
    from zonewarden.evidence.redaction import Audience
    from zonewarden.evidence.sections import sections_for

    # One per registered auditor section (later capabilities add theirs).
    expected = len(sections_for(Audience.AUDITOR))
    assert (out / "evidence-auditor.html").read_text().count('<section class="section"') == expected


def test_bad_input_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_format = runner.invoke(cli, ["report", "--audience", "auditor", "--format", "docx", "-o", str(tmp_path)])
    assert bad_format.exit_code == 2
    bad_date = runner.invoke(
        cli, ["report", "--audience", "auditor", "-o", str(tmp_path), "--file",
              str(ROOT / "examples" / "pharma-plant"), "--as-of", "25.11.2026"],
    )
    assert bad_date.exit_code == 2 and "--as-of" in bad_date.output


def test_example_script_calls_report_for_both_audiences() -> None:
    script = (ROOT / "scripts" / "example.sh").read_text()
    assert "report --audience auditor --format html" in script
    assert "report --audience customer --format html" in script
