"""Supplier VEX (CSAF VEX and CycloneDX VEX) closing findings, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.services.sbom_helpers import CVE, LOGIX, NOT_IN_PATH, PLANT, advisory, lib, sbom

from zonewarden.engines.vex import is_supplier
from zonewarden.errors import InputError
from zonewarden.io.sitefile import load_site
from zonewarden.io.vex import read_vex
from zonewarden.services import advisories as svc
from zonewarden.services import audit
from zonewarden.services.principal import local_principal
from zonewarden.services.sbom import import_sbom
from zonewarden.services.sites import import_documents
from zonewarden.services.vex import accept, import_vex, list_statements
from zonewarden.store.sbom_tables import vex_statements

ME = local_principal()


def _site(store) -> str:  # type: ignore[no-untyped-def]
    doc = load_site(PLANT)
    import_documents(store, [doc], reason="test", principal=ME)
    return doc.site.id


def _cisa_advisory(store) -> None:  # type: ignore[no-untyped-def]
    data = advisory("ZW-T-LOGIX", [{**LOGIX, "range": "vers:intdot/<35", "id": "P1"}], cve=CVE)
    report = svc.ingest_bytes(store, [("logix.json", data)], strict=False, principal=ME)
    assert report.results[0].error is None


def _finding(store, asset: str, tid: str = "ZW-T-LOGIX") -> svc.FindingRow:  # type: ignore[no-untyped-def]
    (f,) = [f for f in svc.list_findings(store, principal=ME) if f.asset_id == asset and f.tracking_id == tid]
    return svc.get_finding(store, f.id, principal=ME)  # with its triage decisions


def _vex(tmp_path: Path, publisher: str, *, version: str = "32.011", extra: dict[str, Any] | None = None,
         name: str = "vex.json") -> Path:
    data = advisory("RA-VEX-2099-01", [{**LOGIX, "version": version, "id": "V1"}], cve=CVE, publisher=publisher,
                    status="known_not_affected", category="csaf_vex", extra_vuln=NOT_IN_PATH if extra is None else extra)
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _events(store, action: str) -> list[audit.AuditEvent]:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return [e for e in audit.events(conn) if e.action == action]


def test_supplier_csaf_vex_closes_the_finding_with_its_justification(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    _cisa_advisory(store)
    assert _finding(store, "comp-plc-p1").status == "affected"
    assert _finding(store, "comp-plc-p2").status == "affected"
    report = import_vex(store, _vex(tmp_path, "Rockwell Automation PSIRT"), principal=ME)
    assert (report.statements, report.from_supplier, report.closed) == (1, 1, 1)
    f = _finding(store, "comp-plc-p1")
    assert f.status == "affected" and f.triage_status == "not-affected"
    (d,) = f.decisions
    assert d.automatic and "vulnerable_code_not_in_execute_path" in d.why and "not compiled" in d.why
    assert "Rockwell Automation PSIRT" in d.why
    # The statement is about 32.011 only: the other controller (34.011) stays open.
    assert _finding(store, "comp-plc-p2").triage_status == "new"
    (event,) = _events(store, "finding.vex_close")
    assert event.object_id == str(f.id) and event.after["triage"] == "not-affected"
    assert _events(store, "vex.import")[0].after["from_supplier"] == 1
    # The same bytes again: nothing changes.
    assert import_vex(store, _vex(tmp_path, "Rockwell Automation PSIRT"), principal=ME).unchanged


def test_vex_recorded_first_closes_findings_of_a_later_advisory(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    assert import_vex(store, _vex(tmp_path, "Rockwell Automation"), principal=ME).closed == 0
    _cisa_advisory(store)
    assert _finding(store, "comp-plc-p1").triage_status == "not-affected"


def test_a_statement_not_from_the_supplier_needs_a_person_to_accept_it(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = _site(store)
    _cisa_advisory(store)
    report = import_vex(store, _vex(tmp_path, "Some Integrator GmbH"), principal=ME)
    assert (report.statements, report.from_supplier, report.closed) == (1, 0, 0)
    assert _finding(store, "comp-plc-p1").triage_status == "new"
    (row,) = list_statements(store, principal=ME)
    assert row["closes"].startswith("no: not from the supplier")
    with pytest.raises(InputError, match="at least 10"):
        accept(store, row["id"], site, "ok", principal=ME)
    assert accept(store, row["id"], site, "reviewed the integrator's test report with the OEM", principal=ME) == 1
    f = _finding(store, "comp-plc-p1")
    assert f.triage_status == "not-affected"
    assert "accepted by" in f.decisions[-1].why
    (event,) = _events(store, "vex.accept")
    assert event.site_id == site and event.reason.startswith("reviewed")
    assert list_statements(store, principal=ME)[0]["closes"] == f"accepted on {site}"


def _count(store) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(vex_statements)).scalar_one())


def test_unreadable_vex_is_refused_with_the_pointer_and_stores_nothing(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    with pytest.raises(InputError) as err:
        import_vex(store, _vex(tmp_path, "Rockwell Automation", extra={}), principal=ME)
    assert "/vulnerabilities/0/product_status/known_not_affected/0" in str(err.value)
    assert "flag" in str(err.value)
    adv = tmp_path / "adv.json"
    adv.write_bytes(advisory("X", [{**LOGIX, "version": "1", "id": "P1"}]))
    with pytest.raises(InputError, match="advisories ingest") as err:
        import_vex(store, adv, principal=ME)
    assert "/document/category" in str(err.value)
    bad = tmp_path / "bad.json"
    bad.write_text('{"document": ', encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        import_vex(store, bad, principal=ME)
    cdx = tmp_path / "cdx.json"
    cdx.write_text(json.dumps(sbom([], vulnerabilities=[{"id": CVE, "analysis": {"state": "not_affected"}}])), encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_vex(store, cdx, principal=ME, site_id="pharma", asset_id="comp-plc-p1")
    assert "/vulnerabilities/0" in str(err.value) and "affects" in str(err.value)
    assert _count(store) == 0


def test_cyclonedx_vex_closes_a_finding_made_through_an_sbom_component(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = _site(store)
    data = advisory("ZW-T-SSL", [{"vendor": "OpenSSL", "product": "OpenSSL", "range": "vers:generic/<1.1.1t", "id": "P1",
                                  "helper": {"purl": "pkg:generic/openssl"}}], cve="CVE-2023-0286")
    assert svc.ingest_bytes(store, [("ssl.json", data)], strict=False, principal=ME).results[0].error is None
    fw = tmp_path / "fw.json"
    fw.write_text(json.dumps(sbom([lib("openssl", "1.1.1k", purl="pkg:generic/openssl@1.1.1k", ref="ossl")],
                                  manufacturer="Rockwell Automation")), encoding="utf-8")
    import_sbom(store, site, "comp-plc-p1", fw, principal=ME)
    assert _finding(store, "comp-plc-p1", "ZW-T-SSL").status == "affected"
    vex = tmp_path / "fw.vex.json"
    vex.write_text(json.dumps(sbom([], manufacturer="Rockwell Automation", vulnerabilities=[{
        "id": "CVE-2023-0286", "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#ossl"}],
        "analysis": {"state": "not_affected", "justification": "code_not_reachable", "detail": "X.400 parsing unused"}}])),
        encoding="utf-8")
    report = import_vex(store, vex, principal=ME, site_id=site, asset_id="comp-plc-p1")
    assert (report.from_supplier, report.closed) == (1, 1)
    f = _finding(store, "comp-plc-p1", "ZW-T-SSL")
    assert f.triage_status == "not-affected" and "code_not_reachable" in f.decisions[-1].why
    with pytest.raises(InputError, match="give --site and --asset"):
        import_vex(store, vex, principal=ME)


def test_real_oasis_csaf_vex_examples_read(shared_data: Path) -> None:
    folder = shared_data / "csaf" / "oasis" / "csaf_2.0" / "examples" / "csaf" / "csaf_vex"
    doc = read_vex((folder / "2022-evd-uc-01-na-001.json").read_bytes(), "uc-01-na")
    (s,) = doc.statements
    assert (s.vulnerability, s.state, s.vendor, s.version) == ("CVE-2021-44228", "not_affected", "Example Company", "4.2")
    assert s.impact == "Class with vulnerable code was removed before shipping."
    assert is_supplier(doc.publisher, s.vendor)  # "Example Company ProductCERT" is Example Company's team
    assert not is_supplier("CISA", s.vendor)
    read = 0
    for path in sorted(folder.glob("*.json")):
        try:
            read_vex(path.read_bytes(), path.name)
            read += 1
        except InputError as exc:  # an example may lack a justification: refused with a pointer
            assert "/vulnerabilities/" in str(exc), str(exc)
    assert read >= 5
