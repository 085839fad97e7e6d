"""The advisories evidence section: auditor sees findings and decisions, customer counts and
practice only; advisory text is escaped."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.redaction import Audience, redact_document
from zonewarden.evidence.render import environment
from zonewarden.evidence.sections.advisories import SECTION
from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services.principal import local_principal
from zonewarden.services.sites import import_documents

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 25)


def _context(store, audience: Audience):  # type: ignore[no-untyped-def]
    doc = load_site(ROOT / "examples" / "pharma-plant")
    ctx = BuildContext(redact_document(doc, audience), audience, AS_OF)
    ctx.advisories = svc.evidence_data(store, doc.site.id)  # type: ignore[attr-defined]
    return ctx


def _render(data: dict) -> str:  # type: ignore[type-arg]
    return environment().get_template("sections/advisories.html.j2").render(d=data)


def test_auditor_and_customer_views(store) -> None:  # type: ignore[no-untyped-def]
    import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], principal=local_principal())
    svc.ingest_bytes(store, svc.read_items(svc.iter_paths([ROOT / "examples" / "advisories"])), principal=local_principal())
    (ewon,) = [f for f in svc.list_findings(store, principal=local_principal()) if f.asset_id == "pack-ewon"]
    svc.decide(store, ewon.id, "under-assessment", "asking the OEM <b>now</b>", principal=local_principal(name="ann"), today=AS_OF)

    auditor = SECTION.build(_context(store, Audience.AUDITOR))
    assert not auditor.undecided
    counts = auditor.data["counts"]
    assert counts["findings"] == 16 and counts["by_status"]["needs-review"] == 5
    assert counts["by_priority"]["immediate"] == 1 and counts["by_triage"]["under-assessment"] == 1
    assert {f["asset"] for f in auditor.data["findings"]} >= {"pack-ewon", "ops-power-mon"}
    (decision,) = auditor.data["decisions"]
    assert decision["actor"] == "ann" and decision["to"] == "under-assessment"
    html = _render(auditor.data)
    assert "pack-ewon" in html and "&lt;b&gt;now&lt;/b&gt;" in html and "<b>now" not in html

    customer = SECTION.build(_context(store, Audience.CUSTOMER))
    assert customer.data["counts"] == counts
    assert "findings" not in customer.data and "decisions" not in customer.data
    text = json.dumps(customer.data) + _render(customer.data)
    for internal in ("pack-ewon", "ops-power-mon", "ZW-EXAMPLE", "asking the OEM"):
        assert internal not in text


def test_without_data_the_section_says_so() -> None:
    doc = load_site(ROOT / "examples" / "pharma-plant")
    section = SECTION.build(BuildContext(doc, Audience.AUDITOR, AS_OF))
    assert section.undecided and not section.data["available"]
    assert "No advisory data" in _render(section.data)


def test_inventory_gaps_count_as_unassessable_exposure(store) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(ROOT / "examples" / "pharma-plant")
    (switch,) = [a for a in doc.assets if a.id == "dmz-sw-1"]
    assert switch.vendor
    gap = switch.model_copy(update={"product": None, "model_number": None, "version": None, "cpe": None, "purl": None})
    doc = doc.model_copy(update={"assets": tuple(gap if a.id == "dmz-sw-1" else a for a in doc.assets)})
    import_documents(store, [doc], principal=local_principal())
    svc.ingest_bytes(store, svc.read_items(svc.iter_paths([ROOT / "examples" / "advisories"])), principal=local_principal())
    summary = svc.summary(store, doc.site.id)
    assert summary["unassessable"]["assets"] >= 1 and summary["unassessable"]["exposed_assets"] >= 1
    assert summary["unassessable"]["pairs"] >= 1
    ctx = BuildContext(redact_document(doc, Audience.CUSTOMER), Audience.CUSTOMER, AS_OF)
    ctx.advisories = svc.evidence_data(store, doc.site.id)  # type: ignore[attr-defined]
    data = SECTION.build(ctx).data
    assert data["unassessable"] == summary["unassessable"]
    assert "Unassessable exposure" in _render(data)
