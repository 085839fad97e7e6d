"""Supplier CSAF VEX arriving through ``advisories ingest`` and ``advisories sync`` (issue 14
item 5): its statements are recorded by the same path as ``vex import`` and close covered
findings of the example plant; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tests.services.sbom_helpers import CVE, LOGIX, NOT_IN_PATH, PLANT, advisory

import support_csaf_provider as S
from zonewarden.domain.site import SiteDocument
from zonewarden.io.csaf.sync import SyncOptions
from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services import audit
from zonewarden.services.csaf_sync import sync
from zonewarden.services.principal import local_principal
from zonewarden.services.sites import import_documents
from zonewarden.services.vex import accept, import_vex, list_statements
from zonewarden.store.advisory_tables import advisories
from zonewarden.store.sbom_tables import vex_statements

ME = local_principal()
OASIS_VEX = ("csaf", "oasis", "csaf_2.0", "examples", "csaf", "csaf_vex")
#: An asset of the product the OASIS example VEX 2022-EVD-UC-01-NA-001 is about.
ABC = {"id": "qc-abc-1", "name": "QC lab logging server", "type": "server", "zone": "comp",
       "vendor": "Example Company", "product": "ABC", "version": "4.2", "criticality": "medium"}


def _site(store, extra: list[dict[str, Any]] | None = None) -> str:  # type: ignore[no-untyped-def]
    doc = load_site(PLANT)
    if extra:
        data = doc.model_dump(mode="json", exclude_none=True)
        data["assets"].extend(extra)
        doc = SiteDocument.model_validate(data)
    import_documents(store, [doc], reason="test", principal=ME)
    return doc.site.id


def _cisa(store) -> None:  # type: ignore[no-untyped-def]
    data = advisory("ZW-T-LOGIX", [{**LOGIX, "range": "vers:intdot/<35", "id": "P1"}], cve=CVE)
    assert svc.ingest_bytes(store, [("logix.json", data)], principal=ME).results[0].error is None


def _triage(store, asset: str, tid: str = "ZW-T-LOGIX") -> str:  # type: ignore[no-untyped-def]
    (f,) = [f for f in svc.list_findings(store, principal=ME) if f.asset_id == asset and f.tracking_id == tid]
    return f.triage_status


def _vex(publisher: str, *, version: str = "32.011", doc_version: str = "1", extra: dict[str, Any] | None = None,
         tracking_id: str = "RA-VEX-2099-01") -> bytes:
    data = json.loads(advisory(tracking_id, [{**LOGIX, "version": version, "id": "V1"}], cve=CVE, publisher=publisher,
                               status="known_not_affected", category="csaf_vex",
                               extra_vuln=NOT_IN_PATH if extra is None else extra))
    tracking = data["document"]["tracking"]
    tracking["version"] = doc_version
    tracking["revision_history"] = [{"date": tracking["current_release_date"], "number": str(n), "summary": "VEX"}
                                    for n in range(1, int(doc_version) + 1)]
    return json.dumps(data, indent=1).encode()


def _events(store, action: str) -> list[audit.AuditEvent]:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return [e for e in audit.events(conn) if e.action == action]


def _statements(store) -> list[Any]:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return list(conn.execute(select(vex_statements).order_by(vex_statements.c.id)))


def test_ingested_supplier_vex_closes_the_finding_and_is_idempotent(store) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    _cisa(store)
    assert _triage(store, "comp-plc-p1") == "new"
    report = svc.ingest_bytes(store, [("ra-vex.json", _vex("Rockwell Automation PSIRT"))], principal=ME)
    (r,) = report.results
    assert (r.outcome, r.error, r.vex_statements) == ("new", None, 1)
    assert (report.vex_statements, report.vex_closed) == (1, 1)
    assert _triage(store, "comp-plc-p1") == "not-affected"
    assert _triage(store, "comp-plc-p2") == "new"  # the statement is about 32.011; this one runs 34.011
    (close,) = _events(store, "finding.vex_close")
    assert close.after["advisory"] == "ZW-T-LOGIX" and "vulnerable_code_not_in_execute_path" in close.reason
    (imported,) = _events(store, "vex.import")
    assert imported.after["source"] == "ra-vex.json" and imported.after["from_supplier"] == 1
    # The statement is stored beside the document, both in one transaction.
    (row,) = _statements(store)
    with store.read() as conn:
        assert conn.execute(select(advisories.c.sha256).where(advisories.c.tracking_id == "RA-VEX-2099-01")).scalar() \
            == row.sha256
    # The same bytes again (ingest, or vex import of the same file): nothing recorded, nothing closed.
    again = svc.ingest_bytes(store, [("copy.json", _vex("Rockwell Automation PSIRT"))], principal=ME)
    assert (again.results[0].outcome, again.vex_statements, again.vex_closed) == ("unchanged", 0, 0)
    assert import_vex(store, "same.json", data=_vex("Rockwell Automation PSIRT"), principal=ME).unchanged
    assert [s.id for s in _statements(store)] == [row.id]
    assert len(_events(store, "vex.import")) == 1 and len(_events(store, "finding.vex_close")) == 1


def test_a_new_revision_replaces_the_statements_and_an_older_one_changes_nothing(store) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    _cisa(store)
    svc.ingest_bytes(store, [("v1.json", _vex("Rockwell Automation"))], principal=ME)
    # Revision 2 says the statement is about 34.011 (the other press): it replaces revision 1's.
    rev = svc.ingest_bytes(store, [("v2.json", _vex("Rockwell Automation", version="34.011", doc_version="2"))],
                           principal=ME)
    assert (rev.results[0].outcome, rev.vex_statements, rev.vex_closed) == ("revision", 1, 1)
    assert [s.version for s in _statements(store)] == ["34.011"]
    assert _triage(store, "comp-plc-p2") == "not-affected"
    assert _events(store, "vex.import")[-1].before == {"statements": 1}
    # Revision 1 arriving late is kept as history; the statements stay those of revision 2.
    old = svc.ingest_bytes(store, [("v1-copy.json", _vex("Rockwell Automation", doc_version="1") + b"\n")],
                           principal=ME)
    assert (old.results[0].outcome, old.vex_statements) == ("older", 0)
    assert [s.version for s in _statements(store)] == ["34.011"]


def test_ingested_vex_from_another_publisher_waits_for_acceptance(store) -> None:  # type: ignore[no-untyped-def]
    site = _site(store)
    _cisa(store)
    report = svc.ingest_bytes(store, [("int.json", _vex("Some Integrator GmbH"))], principal=ME)
    assert (report.vex_statements, report.vex_closed) == (1, 0)
    assert _triage(store, "comp-plc-p1") == "new"
    assert not _events(store, "finding.vex_close")
    (row,) = list_statements(store, principal=ME)
    assert row["closes"].startswith("no: not from the supplier")
    assert accept(store, row["id"], site, "checked the integrator's test report with the OEM", principal=ME) == 1
    assert _triage(store, "comp-plc-p1") == "not-affected"


def test_an_incomplete_vex_statement_is_rejected_with_its_pointer_and_nothing_stored(store) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    _cisa(store)
    report = svc.ingest_bytes(store, [("bad-vex.json", _vex("Rockwell Automation", extra={}))], principal=ME)
    (r,) = report.results
    assert r.outcome == "rejected"
    assert r.error is not None and "bad-vex.json" in r.error
    assert "/vulnerabilities/0/product_status/known_not_affected/0" in r.error and "flag" in r.error
    assert _statements(store) == []
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(advisories)
                            .where(advisories.c.tracking_id == "RA-VEX-2099-01")).scalar_one() == 0
    # In a batch, the good documents go on.
    ok = svc.ingest_bytes(store, [("bad-vex.json", _vex("Rockwell Automation", extra={})),
                                  ("ra-vex.json", _vex("Rockwell Automation"))], principal=ME)
    assert [x.outcome for x in ok.results] == ["rejected", "new"] and ok.vex_closed == 1


def test_a_security_advisory_known_not_affected_is_no_vex_statement(store) -> None:  # type: ignore[no-untyped-def]
    """The matcher applies an advisory's known_not_affected to that advisory's findings; the
    entry is not recorded as a VEX statement closing other advisories' findings (see
    docs/advisory-matching.md)."""
    _site(store)
    _cisa(store)
    data = advisory("RA-SA-2099-01", [{**LOGIX, "version": "32.011", "id": "V1"}], cve=CVE,
                    publisher="Rockwell Automation", status="known_not_affected", extra_vuln=NOT_IN_PATH)
    report = svc.ingest_bytes(store, [("ra-sa.json", data)], principal=ME)
    assert (report.results[0].outcome, report.vex_statements, report.vex_closed) == ("new", 0, 0)
    assert _statements(store) == []
    assert _triage(store, "comp-plc-p1") == "new"
    mine = [f for f in svc.list_findings(store, principal=ME) if f.tracking_id == "RA-SA-2099-01"]
    # The matcher gave that advisory's own finding its verdict; nothing closed it a second time.
    assert [(f.asset_id, f.status, f.triage_status) for f in mine] == [("comp-plc-p1", "not-affected", "new")]
    assert not _events(store, "finding.vex_close")


def test_real_oasis_vex_example_ingested_closes_the_finding(store, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    folder = shared_data.joinpath(*OASIS_VEX)
    _site(store, [ABC])
    log4shell = advisory("ZW-T-LOG4J", [{"vendor": "Example Company", "product": "ABC", "range": "vers:intdot/<5",
                                         "id": "P1"}], cve="CVE-2021-44228")
    svc.ingest_bytes(store, [("log4j.json", log4shell)], principal=ME)
    assert _triage(store, "qc-abc-1", "ZW-T-LOG4J") == "new"
    path = folder / "2022-evd-uc-01-na-001.json"
    report = svc.ingest_bytes(store, [(str(path), path.read_bytes())], principal=ME)
    assert report.results[0].error is None
    assert (report.vex_statements, report.vex_closed) == (1, 1)
    assert _triage(store, "qc-abc-1", "ZW-T-LOG4J") == "not-affected"
    (close,) = _events(store, "finding.vex_close")
    assert "Class with vulnerable code was removed before shipping." in close.reason
    assert "Example Company ProductCERT" in close.reason


def test_every_oasis_vex_example_is_ingested_or_refused_with_a_pointer(store, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    paths = sorted(shared_data.joinpath(*OASIS_VEX).glob("*.json"))
    report = svc.ingest_bytes(store, [(str(p), p.read_bytes()) for p in paths], principal=ME)
    stored = [r for r in report.results if r.outcome == "new"]
    assert len(stored) >= 5
    for r in report.results:
        assert r.outcome != "rejected" or (r.error and "/vulnerabilities/" in r.error), r.error
    assert report.vex_statements == len(_statements(store)) == sum(r.vex_statements for r in stored)
    assert report.vex_statements >= len(stored)


# --- sync ----------------------------------------------------------------------------------------




FAST = SyncOptions(timeout=5, retries=1, backoff=0, workers=2, allow_insecure=True)


def _provider(root: Path, docs: dict[str, bytes]) -> None:
    folder = root / "csaf"
    for rel, data in docs.items():
        S.write_signed(folder, rel, data, None)
    (folder / "index.txt").write_text("".join(r + "\n" for r in docs))


def test_synced_vex_closes_the_finding_once_and_a_bad_one_is_reported(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    _cisa(store)
    _provider(tmp_path, {"2099/ra-vex-2099-01.json": _vex("Rockwell Automation"),
                         "2099/ra-vex-2099-02.json": _vex("Rockwell Automation", extra={}, tracking_id="RA-VEX-2099-02")})
    with S.serve(tmp_path) as (base, _faults):
        url = base + "/csaf/"
        first = sync(store, url, options=FAST, principal=ME)
        assert (first.vex_statements, first.vex_closed) == (1, 1)
        assert first.counts()["vex_closed"] == 1
        (bad,) = first.failed
        assert bad.url.endswith("ra-vex-2099-02.json") and bad.stage == "ingest"
        assert "/vulnerabilities/0/product_status/known_not_affected/0" in (bad.reason or "")
        assert _triage(store, "comp-plc-p1") == "not-affected"
        (close,) = _events(store, "finding.vex_close")
        assert close.after["advisory"] == "ZW-T-LOGIX"
        # Again with everything fetched again: ingest finds the same bytes, nothing is recorded twice.
        again = sync(store, url, options=FAST, principal=ME, full=True)
        assert (again.vex_statements, again.vex_closed) == (0, 0)
    assert len(_statements(store)) == 1 and len(_events(store, "finding.vex_close")) == 1


def test_synced_vex_from_another_publisher_closes_nothing(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _site(store)
    _cisa(store)
    _provider(tmp_path, {"2099/int-vex.json": _vex("Some Integrator GmbH")})
    with S.serve(tmp_path) as (base, _faults):
        report = sync(store, base + "/csaf/", options=FAST, principal=ME)
    assert report.ok and (report.vex_statements, report.vex_closed) == (1, 0)
    assert _triage(store, "comp-plc-p1") == "new"
    assert [r.from_supplier for r in _statements(store)] == [False]


def test_apply_ignores_findings_of_other_cves(store) -> None:  # type: ignore[no-untyped-def]
    """The SQL filter by CVE: a statement about another CVE closes nothing."""
    _site(store)
    _cisa(store)
    other = json.loads(_vex("Rockwell Automation"))
    other["vulnerabilities"][0]["cve"] = "CVE-2099-9999"
    report = svc.ingest_bytes(store, [("other.json", json.dumps(other).encode())], principal=ME)
    assert (report.vex_statements, report.vex_closed) == (1, 0)
    assert _triage(store, "comp-plc-p1") == "new"


def test_a_reimported_inventory_that_a_statement_covers_is_closed_on_rematch(store) -> None:  # type: ignore[no-untyped-def]
    """The findings a rematch makes or changes get the recorded VEX too (ingest only looks at
    the findings of the advisories it stored)."""
    _site(store)
    _cisa(store)
    svc.ingest_bytes(store, [("ra-vex.json", _vex("Rockwell Automation"))], principal=ME)
    assert _triage(store, "comp-plc-p2") == "new"
    data = load_site(PLANT).model_dump(mode="json", exclude_none=True)
    (press,) = [a for a in data["assets"] if a["id"] == "comp-plc-p2"]
    press["version"] = "32.011"  # the second press now runs the firmware the statement is about
    import_documents(store, [SiteDocument.model_validate(data)], reason="firmware downgrade", principal=ME)
    assert _triage(store, "comp-plc-p2") == "not-affected"  # reading findings rematches the site
    assert len(_events(store, "finding.vex_close")) == 2
    # An unrelated advisory afterwards closes nothing more.
    other = advisory("ZW-T-OTHER", [{**LOGIX, "range": "vers:intdot/<35", "id": "P1"}], cve="CVE-2099-0002")
    assert svc.ingest_bytes(store, [("other.json", other)], principal=ME).vex_closed == 0


def test_csaf_part_flattens_an_unflattened_vex_and_ignores_advisories() -> None:
    """Ingest may defer flattening when no site is stored: the VEX part still reads the statements."""
    from zonewarden.engines.products import flatten_advisory
    from zonewarden.services.vex import csaf_part

    doc = json.loads(_vex("Rockwell Automation"))
    late = csaf_part(doc, None, "v.json")
    assert late is not None and late == csaf_part(doc, flatten_advisory(doc, source="v.json"), "v.json")
    assert [(s.vulnerability, s.state, s.version) for s in late.statements] == [(CVE, "not_affected", "32.011")]
    assert csaf_part(json.loads(advisory("X", [{**LOGIX, "version": "1", "id": "P1"}])), None, "a.json") is None
