"""``advisories ingest`` and ``advisories sync`` say how many VEX statements a CSAF VEX document
recorded and how many findings it closed (click's runner, SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.services.sbom_helpers import PLANT, advisory

import support_csaf_provider as S
from zonewarden.cli.main import cli

LOGIX = {"vendor": "Rockwell Automation", "product": "ControlLogix 5580 controllers"}
CVE = "CVE-2099-0001"


def run(*args: str, db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ZONEWARDEN_DB": db, "ZONEWARDEN_ACTOR": "tester"},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _vex(publisher: str = "Rockwell Automation", flags: bool = True) -> bytes:
    extra = {"flags": [{"label": "component_not_present", "product_ids": ["V1"]}]} if flags else {}
    return advisory("RA-VEX-2099-01", [{**LOGIX, "version": "32.011", "id": "V1"}], cve=CVE, publisher=publisher,
                    status="known_not_affected", category="csaf_vex", extra_vuln=extra)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'zw.db'}"
    assert run("import", str(PLANT), db=url)[0] == 0
    adv = tmp_path / "adv.json"
    adv.write_bytes(advisory("ZW-T-LOGIX", [{**LOGIX, "range": "vers:intdot/<35", "id": "P1"}], cve=CVE))
    assert run("advisories", "ingest", str(adv), db=url)[0] == 0
    return url


def _open(db: str, asset: str) -> list[str]:
    code, out, _ = run("findings", "list", "--format", "json", "--advisory", "ZW-T-LOGIX", db=db)
    assert code == 0
    return [f["triage"] for f in json.loads(out) if f["asset"] == asset]


def test_ingest_says_how_many_statements_and_closures(db: str, tmp_path: Path) -> None:
    vex = tmp_path / "ra-vex.json"
    vex.write_bytes(_vex())
    code, _, err = run("advisories", "ingest", str(vex), db=db)
    assert code == 0, err
    assert "VEX: 1 statement(s) recorded from CSAF VEX documents, 1 finding(s) closed as not affected" in err
    assert _open(db, "comp-plc-p1") == ["not-affected"]
    code, out, err = run("advisories", "ingest", str(vex), "--format", "json", db=db)
    assert code == 0, err
    report = json.loads(out)
    assert (report["vex_statements"], report["vex_closed"]) == (0, 0)
    assert report["results"][0]["outcome"] == "unchanged"


def test_ingest_of_a_bad_vex_names_the_pointer(db: str, tmp_path: Path) -> None:
    vex = tmp_path / "bad-vex.json"
    vex.write_bytes(_vex(flags=False))
    code, _, err = run("advisories", "ingest", str(vex), db=db)
    assert code == 2
    assert "bad-vex.json" in err and "/vulnerabilities/0/product_status/known_not_affected/0" in err
    assert "VEX:" not in err
    assert _open(db, "comp-plc-p1") == ["new"]


def test_sync_reports_statements_and_closures(db: str, tmp_path: Path) -> None:
    folder = tmp_path / "www" / "csaf"
    S.write_signed(folder, "2099/ra-vex-2099-01.json", _vex(), None)
    (folder / "index.txt").write_text("2099/ra-vex-2099-01.json\n")
    with S.serve(tmp_path / "www") as (base, _faults):
        code, out, err = run("advisories", "sync", base + "/csaf/", "--allow-insecure", db=db)
        assert code == 0, err
        assert "VEX statements recorded" in out and "findings closed by VEX" in out
        code, out, err = run("advisories", "sync", base + "/csaf/", "--allow-insecure", "--full", "--format", "json",
                             db=db)
    assert code == 0, err
    report = json.loads(out)
    assert (report["vex_statements"], report["vex_closed"]) == (0, 0)
    assert _open(db, "comp-plc-p1") == ["not-affected"]
