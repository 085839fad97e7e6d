"""The edit commands (zone, conduit, asset incl. move, risk, assessment, change, patch window /
blackout / vendor-patch): fields as options, --set, --from-file with problems at their line,
references refused with what to do, all audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli


@pytest.fixture()
def db(tmp_path: Path, mini_site_file: Path) -> str:
    url = f"sqlite:///{tmp_path / 'zw.db'}"
    assert run("import", str(mini_site_file), "--db", url)[0] == 0
    return url


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def export(db: str, tmp_path: Path) -> dict[str, list[dict[str, object]]]:
    from zonewarden.io.sitefile import load_site

    out = tmp_path / "out"
    assert run("export", "-o", str(out), "--db", db)[0] == 0
    doc = load_site(next(p for p in out.iterdir() if p.is_dir()))
    return {k: [r.model_dump(mode="json", exclude_defaults=True) for r in getattr(doc, k)]
            for k in ("zones", "conduits", "assets", "patches", "maintenance_windows")}


def test_zone_add_edit_remove_with_options(db: str, tmp_path: Path) -> None:
    code, _, err = run("zone", "add", "lab", "--name", "QC lab", "--kind", "control", "--purdue-level", "2",
                       "--set", "sl_target=2", "--db", db, "--reason", "new lab")
    assert code == 0, err
    assert "zone lab added; audit event" in err
    code, _, err = run("zone", "edit", "lab", "--name", "QC laboratory", "--unset", "sl_target", "--db", db)
    assert code == 0 and "(name, sl_target)" in err
    lab = next(z for z in export(db, tmp_path)["zones"] if z["id"] == "lab")
    assert lab["name"] == "QC laboratory" and "sl_target" not in lab
    code, _, err = run("zone", "remove", "lab", "--db", db)
    assert code == 0, err
    code, out, _ = run("audit", "log", "--db", db, "--format", "json")
    actions = [e["action"] for e in json.loads(out)]
    assert {"zone.add", "zone.edit", "zone.remove"} <= set(actions)


def test_a_bad_option_is_named_and_nothing_is_written(db: str) -> None:
    code, _, err = run("zone", "add", "lab", "--name", "Lab", "--kind", "kitchen", "--purdue-level", "2", "--db", db)
    assert code == 2 and "--kind" in err and "kitchen" not in err.split("--kind")[0]
    code, _, err = run("zone", "edit", "nope", "--name", "x", "--db", db)
    assert code == 2 or code == 3 or "no zone 'nope'" in err
    assert "no zone 'nope'" in err and "corp" in err


def test_from_file_problems_are_reported_at_their_line(db: str, tmp_path: Path) -> None:
    rec = tmp_path / "asset.yaml"
    rec.write_text("id: plc-2\nname: Second PLC\ntype: plc\nzone: cell\ncriticality: extreme\n", encoding="utf-8")
    code, _, err = run("asset", "add", "--from-file", str(rec), "--db", db)
    assert code == 2 and f"{rec}:5:14: criticality" in err
    rec.write_text("id: plc-2\nname: Second PLC\ntype: plc\nzone: cell\n", encoding="utf-8")
    code, _, err = run("asset", "add", "--from-file", str(rec), "--db", db)
    assert code == 0, err


def test_removing_a_zone_with_assets_says_what_to_do_and_move_does_it(db: str, tmp_path: Path) -> None:
    code, _, err = run("zone", "remove", "cell", "--db", db)
    assert code == 2 and "assets plc-1" in err and "conduits dmz-cell" in err and "zonewarden asset move" in err
    code, _, err = run("asset", "move", "plc-1", "dmz", "--db", db, "--reason", "relocated")
    assert code == 0 and "moved from zone cell to dmz" in err
    assert next(a for a in export(db, tmp_path)["assets"] if a["id"] == "plc-1")["zone"] == "dmz"


def test_patch_vendor_patch_and_window(db: str, tmp_path: Path) -> None:
    code, _, err = run("patch", "vendor-patch", "add", "KB1", "--title", "Cumulative update", "--assets", "plc-1",
                       "--assets", "hist-1", "--priority", "scheduled", "--requested", "2026-11-02",
                       "--cves", "CVE-2026-0001", "--cves", "CVE-2026-0002", "--db", db)
    assert code == 0, err
    patch = export(db, tmp_path)["patches"][0]
    assert patch["cves"] == ["CVE-2026-0001", "CVE-2026-0002"] and patch["assets"] == ["plc-1", "hist-1"]
    code, _, err = run("asset", "remove", "hist-1", "--db", db)
    assert code == 2 and "patches KB1" in err
    code, _, err = run("patch", "window", "add", "mw-1", "--name", "Weekly", "--rule", "every Tuesday 18:00-22:00",
                       "--set", "scope={zones: [cell]}", "--db", db)
    assert code == 0, err
    assert export(db, tmp_path)["maintenance_windows"][0]["scope"] == {"zones": ["cell"]}
    assert run("patch", "window", "remove", "mw-1", "--db", db)[0] == 0
    assert run("patch", "vendor-patch", "remove", "KB1", "--db", db)[0] == 0
    assert run("asset", "remove", "hist-1", "--db", db)[0] == 0


def test_every_section_has_its_commands() -> None:
    for path in (["zone"], ["conduit"], ["asset"], ["risk"], ["change"], ["patch", "window"], ["patch", "blackout"],
                 ["patch", "vendor-patch"]):
        code, out, _ = run(*path, "--help")
        assert code == 0 and all(v in out for v in ("add", "edit", "remove")), path
    code, out, _ = run("assessment", "--help")
    assert code == 0 and "record" in out
