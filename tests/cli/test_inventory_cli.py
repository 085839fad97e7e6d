"""``zonewarden inventory gaps`` end to end (click's runner, SQLite)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "examples" / "pharma-plant"
EXAMPLES = ROOT / "examples" / "advisories"

GAP_ASSET = """
  - id: pack-mystery-plc
    name: Packaging line PLC (type not recorded)
    type: plc
    zone: ops
    vendor: Allen-Bradley
    version: "20.011"
    criticality: medium
"""


def run(*args: str, db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ZONEWARDEN_DB": db, "ZONEWARDEN_ACTOR": "tester"},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_inventory_gaps_lists_one_item_per_vendor_only_asset(tmp_path: Path) -> None:
    plant = tmp_path / "plant"
    shutil.copytree(PLANT, plant)
    assets = plant / "assets.yaml"
    assets.write_text(assets.read_text("utf-8").rstrip("\n") + "\n" + GAP_ASSET, "utf-8")
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    code, _, err = run("import", str(plant), db=db)
    assert code == 0, err
    assert run("advisories", "ingest", str(EXAMPLES), db=db)[0] == 0

    code, out, err = run("inventory", "gaps", "--format", "json", db=db)
    assert code == 0, err
    doc = json.loads(out)
    mine = [g for g in doc["gaps"] if g["asset_id"] == "pack-mystery-plc"]
    assert len(mine) == 1 and mine[0]["vendor_keys"] == ["rockwell automation"]
    assert mine[0]["advisories"] == 1 and "add the product" in mine[0]["message"]
    assert doc["unassessable_exposure"]["assets"] == len(doc["gaps"]) >= 1
    # No advisory finding for it: the gap item replaces one finding per advisory of its vendor.
    code, out, _ = run("findings", "list", "--format", "json", db=db)
    assert "pack-mystery-plc" not in {r["asset"] for r in json.loads(out)}

    code, out, err = run("inventory", "gaps", db=db)
    assert code == 0 and "pack-mystery-plc" in out and "without product and model number" in err
