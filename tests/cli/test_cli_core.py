"""End-to-end CLI tests of the foundation commands (in-process with click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pharma-plant"


def run(*args: str, db: str | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    env = {"ZONEWARDEN_DB": db} if db else {}
    result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_import_export_reimport_is_lossless(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    code, _, err = run("import", str(EXAMPLE), "--reason", "test", db=db)
    assert code == 0, err
    assert "created" in err
    code, _, _ = run("export", "-o", str(tmp_path / "one"), db=db)
    assert code == 0
    db2 = f"sqlite:///{tmp_path / 'zw2.db'}"
    [site_dir] = list((tmp_path / "one").iterdir())
    assert run("import", str(tmp_path / "one"), db=db2)[0] == 0
    assert run("export", "-o", str(tmp_path / "two"), db=db2)[0] == 0
    first = sorted(p.relative_to(site_dir) for p in site_dir.rglob("*") if p.is_file())
    second_dir = tmp_path / "two" / site_dir.name
    assert first == sorted(p.relative_to(second_dir) for p in second_dir.rglob("*") if p.is_file())
    assert any(p.parts[0] == "evidence" for p in first)  # evidence files travel with the site
    for rel in first:
        assert (second_dir / rel).read_bytes() == (site_dir / rel).read_bytes(), rel
    # Re-importing the same files is a no-op, and the audit log stays intact.
    code, _, err = run("import", str(EXAMPLE), db=db)
    assert "unchanged" in err
    code, out, _ = run("audit", "verify", db=db)
    assert code == 0 and "intact: 1 events" in out


def test_changed_evidence_file_is_refused(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "plant"
    shutil.copytree(EXAMPLE, copy)
    victim = next((copy / "evidence").iterdir())
    victim.write_text(victim.read_text() + "tampered\n")
    code, _, err = run("import", str(copy), db=f"sqlite:///{tmp_path / 'zw.db'}")
    assert code == 2
    assert f"evidence file 'evidence/{victim.name}' has SHA-256" in err and "requirements.yaml:" in err


def test_bad_file_exits_2_and_writes_nothing(tmp_path: Path, mini_site_text: str) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    bad = tmp_path / "bad.yaml"
    bad.write_text(mini_site_text.replace("zone: cell, vendor", "zone: cel, vendor"))
    code, out, err = run("import", str(bad), db=db)
    assert code == 2 and out == ""
    assert f"{bad}:21:50: assets[0].zone" in err and "unknown zone 'cel'" in err
    code, out, _ = run("sites", "--format", "json", db=db)
    assert json.loads(out) == []


def test_check_file_exit_codes_and_formats(mini_site_file: Path) -> None:
    code, out, _ = run("check", "--file", str(mini_site_file), "--format", "json", "--as-of", "2026-11-25")
    data = json.loads(out)
    assert code == 0 and data["site"] == "mini"
    code, out, _ = run("check", "--file", str(EXAMPLE), "--fail-on", "critical", "--as-of", "2026-11-25")
    assert code == 1
    # The summary counts in words (issue 17.6: it said "1 expired waivers").
    _, _, err = run("check", "--file", str(EXAMPLE), "--fail-on", "never", "--as-of", "2026-11-25")
    assert "; 1 waived; 1 expired waiver\n" in err and "open findings (" in err
    code, out, _ = run("check", "--file", str(EXAMPLE), "--fail-on", "never", "--format", "sarif", "--as-of", "2026-11-25")
    sarif = json.loads(out)
    assert code == 0 and sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test_check_table_shows_the_fix(mini_site_file: Path) -> None:
    # Issue 17.6: the fix text was only in the JSON.
    code, out, _ = run("check", "--file", str(EXAMPLE), "--fail-on", "never", "--as-of", "2026-11-25")
    assert code == 0
    header = next(line for line in out.splitlines() if "severity" in line and "rule" in line)
    assert "fix" in header.split()
    assert "Route the traffic" in out  # ZW001's fix


def test_check_reads_induform_projects(tmp_path: Path) -> None:
    project = tmp_path / "induform.yaml"
    project.write_text(
        "version: '1.0'\nproject: {name: Plant A}\nzones:\n"
        "  - {id: ent, name: Enterprise, type: enterprise, security_level_target: 1}\n"
        "  - {id: cell, name: Cell, type: cell, security_level_target: 2,\n"
        "     assets: [{id: plc, name: PLC, type: plc, ip_address: 10.0.0.1, vendor: Siemens, model: S7-1500}]}\n"
        "conduits:\n  - {id: c1, from_zone: ent, to_zone: cell, flows: [{protocol: modbus_tcp, port: 502, direction: outbound}]}\n"
    )
    code, out, err = run("check", "--file", str(project), "--format", "json", "--fail-on", "critical")
    assert code == 1
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert "ZW001" in rules  # enterprise straight into a cell


def test_paths_from_kind_to_kind(mini_site_file: Path) -> None:
    code, out, _ = run("paths", "--file", str(mini_site_file), "--from", "enterprise", "--to", "control", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert [p["zones"] for p in data["paths"]] == [["corp", "dmz", "cell"]]
    code, _, err = run("paths", "--file", str(mini_site_file), "--from", "nowhere", "--to", "control")
    assert code == 2 and "unknown zone or zone kind 'nowhere'" in err


def test_diagram_is_svg(tmp_path: Path, mini_site_file: Path) -> None:
    out_file = tmp_path / "d.svg"
    code, _, err = run("diagram", "--file", str(mini_site_file), "-o", str(out_file))
    assert code == 0, err
    svg = out_file.read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
    assert "10.1.1.10" not in svg and "plc1.cell.local" not in svg


def test_csv_import_with_mapping(tmp_path: Path, mini_site_file: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    run("import", str(mini_site_file), db=db)
    csv_file = tmp_path / "assets.csv"
    csv_file.write_text("Asset ID;Device Name;Category;Segment;Vendor;FW\nhmi-9;Press HMI;panel;cell;Siemens;V17\n")
    code, _, err = run("import", "--from", "csv", "--map", "FW=version", str(csv_file), db=db)
    assert code == 0, err
    code, out, _ = run("check", "--format", "json", "--fail-on", "never", db=db)
    assert code == 0
    code, _, err = run("import", "--from", "csv", "--map", "FW=firmware", str(csv_file), db=db)
    assert code == 2 and "not an asset field" in err


def test_schema_marks_sensitive_fields() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    asset = schema["$defs"]["Asset"]["properties"]
    assert asset["addresses"]["x-sensitive"] is True and "x-sensitive" not in asset["vendor"]


def test_several_sites_need_site_option(tmp_path: Path, mini_site_file: Path, mini_site_text: str) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    other = tmp_path / "other.yaml"
    other.write_text(mini_site_text.replace("id: mini", "id: other"))
    assert run("import", str(mini_site_file), str(other), db=db)[0] == 0
    code, _, err = run("check", db=db)
    assert code == 2 and "--site" in err
    assert run("check", "--site", "other", "--fail-on", "never", db=db)[0] == 0


def _all_commands() -> list[str]:
    import click

    names = []
    for name, cmd in sorted(cli.commands.items()):
        if isinstance(cmd, click.Group):
            names += [f"{name} {sub}" for sub in sorted(cmd.commands)]
        else:
            names.append(name)
    return names


@pytest.mark.parametrize("command", _all_commands())
def test_every_command_is_documented_with_an_example(command: str) -> None:
    """sqlite-utils' rule: every command has an example in its help and a section in the docs."""
    code, out, _ = run(*command.split(), "--help")
    assert code == 0
    assert "Example" in out, f"`zonewarden {command} --help` has no example"
    docs = (ROOT / "docs" / "commands.md").read_text()
    assert f"## zonewarden {command}\n" in docs, f"docs/commands.md does not document `zonewarden {command}`"


def test_command_reference_is_up_to_date() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_command_docs.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_evidence_recorded_by_a_command_is_exported(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    assert run("import", str(EXAMPLE), db=db)[0] == 0
    site_dir = tmp_path / "site"
    (site_dir / "evidence").mkdir(parents=True)
    (site_dir / "evidence" / "panel-test.txt").write_text("panel hardening test passed\n")
    code, _, err = run("requirement", "set", "coat", "SR 1.7", "implemented", "--evidence-file",
                       "evidence/panel-test.txt", "--site-dir", str(site_dir), db=db)
    assert code == 0, err
    assert run("export", "-o", str(tmp_path / "out"), db=db)[0] == 0
    [exported] = list((tmp_path / "out").iterdir())
    assert (exported / "evidence" / "panel-test.txt").read_text() == "panel hardening test passed\n"
    # ... and the export imports again (evidence checked by hash).
    assert run("import", str(exported), db=f"sqlite:///{tmp_path / 'zw2.db'}")[0] == 0


def test_report_from_the_database_includes_advisory_triage(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    assert run("import", str(EXAMPLE), db=db)[0] == 0
    assert run("advisories", "ingest", str(ROOT / "examples" / "advisories"), db=db)[0] == 0
    code, _, err = run("report", "--audience", "auditor", "--format", "json", "-o", str(tmp_path / "a"),
                       "--as-of", "2026-11-25", db=db)
    assert code == 0, err
    package = json.loads((tmp_path / "a" / "evidence-auditor.json").read_text())
    text = json.dumps(package)
    assert "ZW-EXAMPLE-2026-006" in text and "pack-ewon" in text
    code, _, err = run("report", "--audience", "customer", "--format", "json", "-o", str(tmp_path / "c"),
                       "--as-of", "2026-11-25", db=db)
    assert code == 0, err
    customer = (tmp_path / "c" / "evidence-customer.json").read_text()
    assert "pack-ewon" not in customer and "ZW-EXAMPLE-2026-006" not in customer


def test_large_tables_print_as_plain_aligned_text_with_control_characters_escaped(capsys) -> None:  # type: ignore[no-untyped-def]
    # Thousands of findings: rich's layout would take seconds, so the table is plain text;
    # untrusted text still cannot drive the terminal (escape sequences print as escapes).
    from zonewarden.cli.common import RICH_TABLE_ROWS, emit_rows

    rows = [{"rule": f"ZW{i % 13:03d}", "objects": ["c1", f"z{i}"], "message": f"finding {i}"} for i in range(RICH_TABLE_ROWS + 1)]
    rows[7]["message"] = "evil \x1b[2J\x1b]0;owned\x07 text\nsecond line"
    emit_rows(rows, ["rule", "objects", "message"], "table", title="Segmentation check")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Segmentation check" and lines[2].split() == ["rule", "objects", "message"]
    assert len(lines) == 4 + len(rows)
    assert "\x1b" not in out and "\x07" not in out
    assert "evil \ufffd[2J\ufffd]0;owned\ufffd text second line" in out
    # Columns line up: every row's message starts where the header's does.
    start = lines[2].index("message")
    assert all(line[start:].startswith("finding") for line in lines[4:] if "evil" not in line)
    # The rich layout of small tables escapes them too.
    emit_rows(rows[5:9], ["rule", "objects", "message"], "table")
    small = capsys.readouterr().out
    assert "\x1b" not in small and "\x07" not in small and "\ufffd[2J" in small
