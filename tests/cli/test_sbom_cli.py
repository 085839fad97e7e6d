"""sbom import/list and vex import/list/accept end to end (click's runner, SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.services.sbom_helpers import PLANT, advisory, lib, sbom

from zonewarden.cli.main import cli


def run(*args: str, db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ZONEWARDEN_DB": db, "ZONEWARDEN_ACTOR": "tester"},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'zw.db'}"
    assert run("import", str(PLANT), db=url)[0] == 0
    return url


def test_sbom_import_list_and_bad_file(db: str, tmp_path: Path) -> None:
    adv = tmp_path / "adv.json"
    adv.write_bytes(advisory("ZW-T-PURL", [{"vendor": "OpenSSL", "product": "OpenSSL", "range": "vers:generic/<1.1.1t",
                                            "id": "P1", "helper": {"purl": "pkg:generic/openssl"}}]))
    assert run("advisories", "ingest", str(adv), db=db)[0] == 0
    fw = tmp_path / "fw.json"
    fw.write_text(json.dumps(sbom([lib("openssl", "1.1.1k", purl="pkg:generic/openssl@1.1.1k")])), encoding="utf-8")
    code, out, err = run("sbom", "import", str(fw), "--asset", "comp-plc-p1", db=db)
    assert code == 0, err
    assert "SBOM of comp-plc-p1 imported: 1 component(s)" in err and "1 created" in err
    code, out, _ = run("sbom", "list", "--asset", "comp-plc-p1", "--format", "json", db=db)
    assert code == 0 and json.loads(out)[0]["purl"] == "pkg:generic/openssl@1.1.1k"
    code, out, _ = run("findings", "list", "--format", "json", "--advisory", "ZW-T-PURL", db=db)
    assert [f["asset"] for f in json.loads(out)] == ["comp-plc-p1"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(sbom([lib("x", "1", purl="not a purl")])), encoding="utf-8")
    code, _, err = run("sbom", "import", str(bad), "--asset", "comp-plc-p1", db=db)
    assert code == 2 and "/components/0/purl" in err
    assert len(json.loads(run("sbom", "list", "--format", "json", db=db)[1])) == 1  # the earlier SBOM stays


def test_vex_import_list_accept(db: str, tmp_path: Path) -> None:
    logix = {"vendor": "Rockwell Automation", "product": "ControlLogix 5580 controllers"}
    adv = tmp_path / "adv.json"
    adv.write_bytes(advisory("ZW-T-LOGIX", [{**logix, "range": "vers:intdot/<35", "id": "P1"}], cve="CVE-2099-0001"))
    assert run("advisories", "ingest", str(adv), db=db)[0] == 0
    vex = tmp_path / "vex.json"
    vex.write_bytes(advisory("INT-VEX-1", [{**logix, "version": "32.011", "id": "V1"}], cve="CVE-2099-0001",
                             publisher="Some Integrator", status="known_not_affected", category="csaf_vex",
                             extra_vuln={"flags": [{"label": "component_not_present", "product_ids": ["V1"]}]}))
    code, _, err = run("vex", "import", str(vex), db=db)
    assert code == 0, err
    assert "not from the product's supplier" in err and "0 finding(s) closed" in err
    code, out, _ = run("vex", "list", "--format", "json", db=db)
    (row,) = json.loads(out)
    code, _, err = run("vex", "accept", str(row["id"]), "--why", "integrator test report reviewed", db=db)
    assert code == 0, err
    assert "1 finding(s) closed" in err
