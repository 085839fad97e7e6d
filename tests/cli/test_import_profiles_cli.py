"""`import --from csv --profile NAME --map-values FILE`: a tool's export lands in the site with
the unused columns listed; bad profiles, map files and rows exit 2 and store nothing."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli

DATA = Path(__file__).resolve().parents[1] / "io" / "data" / "ot_exports"
MAPS = "zone:\n  Brew House: cell\n  Packaging Line 2: cell\n  Operations DMZ: dmz\nvendor:\n  Siemens AG: Siemens\n"


def run(*args: str, db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ZONEWARDEN_DB": db}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def stored_assets(tmp_path: Path, db: str) -> dict[str, dict]:
    out = tmp_path / f"export-{len(list(tmp_path.iterdir()))}"
    code, _, err = run("export", "-o", str(out), db=db)
    assert code == 0, err
    from zonewarden.io import yamlio

    [site_dir] = [p for p in out.iterdir() if p.is_dir()]
    data = yamlio.load_file(site_dir / "assets.yaml")
    return {a["id"]: a for a in data["assets"]}


def setup(tmp_path: Path, mini_site_file: Path) -> tuple[str, Path]:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    code, _, err = run("import", str(mini_site_file), db=db)
    assert code == 0, err
    maps = tmp_path / "maps.yaml"
    maps.write_text(MAPS)
    return db, maps


def test_a_claroty_export_is_imported_and_the_unused_columns_are_listed(tmp_path: Path, mini_site_file: Path) -> None:
    db, maps = setup(tmp_path, mini_site_file)
    code, _, err = run("import", "--from", "csv", "--profile", "claroty", "--map-values", str(maps),
                       str(DATA / "claroty.csv"), db=db)
    assert code == 0, err
    assert "3 column(s) not used" in err
    assert "'MAC' (zonewarden keeps no MAC addresses)" in err and "'Last Seen'" in err
    assets = stored_assets(tmp_path, db)
    assert {"bh-plc-01", "pk2-sw-01", "ops-hist-01", "plc-1"} <= set(assets)
    assert assets["bh-plc-01"]["vendor"] == "Siemens" and assets["bh-plc-01"]["zone"] == "cell"


def test_profile_list_names_every_profile(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    code, out, _ = run("import", "--profile", "list", "--format", "json", db=db)
    assert code == 0
    rows = json.loads(out)
    assert [r["profile"] for r in rows] == ["armis", "claroty", "dragos", "nozomi", "tenable-ot"]
    assert all(r["source"] and r["product_model"] for r in rows)
    code, out, _ = run("import", "--profile", "list", db=db)
    assert code == 0 and "tenable-ot" in out and "Nozomi" in out


def test_an_unknown_profile_exits_2_naming_the_known_ones(tmp_path: Path, mini_site_file: Path) -> None:
    db, _ = setup(tmp_path, mini_site_file)
    code, _, err = run("import", "--from", "csv", "--profile", "purdue-magic", str(DATA / "armis.csv"), db=db)
    assert code == 2 and "unknown CSV profile 'purdue-magic'" in err and "armis, claroty" in err


def test_a_bad_map_file_or_row_exits_2_and_stores_nothing(tmp_path: Path, mini_site_file: Path) -> None:
    db, maps = setup(tmp_path, mini_site_file)
    before = stored_assets(tmp_path, db)
    bad = tmp_path / "bad.yaml"
    bad.write_text("type:\n  controller: plc-ish\n")
    code, _, err = run("import", "--from", "csv", "--profile", "nozomi", "--map-values", str(bad),
                       str(DATA / "nozomi.csv"), db=db)
    assert code == 2 and "bad.yaml:2:15" in err and "'plc-ish' is not an asset type" in err, err
    # Without a zone map the tool's zone names are no zone ids: every row is named, nothing stored.
    code, _, err = run("import", "--from", "csv", "--profile", "nozomi", str(DATA / "nozomi.csv"), db=db)
    assert code == 2 and "nozomi.csv:2:12: unknown zone 'Brew House'" in err, err
    assert stored_assets(tmp_path, db) == before


def test_profile_implies_csv_but_not_with_another_format(tmp_path: Path, mini_site_file: Path) -> None:
    db, maps = setup(tmp_path, mini_site_file)
    code, _, err = run("import", "--profile", "nozomi", "--map-values", str(maps), str(DATA / "nozomi.csv"), db=db)
    assert code == 0, err
    assert "a3f1c2d0-0005" in stored_assets(tmp_path, db)
    code, _, err = run("import", "--from", "induform", "--profile", "nozomi", str(DATA / "nozomi.csv"), db=db)
    assert code == 2 and "not --from induform" in err
