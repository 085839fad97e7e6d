"""Suppliers in the auditor package (issue 16, part 7): each vendor with its share of the assets,
how well the plant will be informed and the review date; suppliers without a usable
disclosure process stand out and reach the executive summary; never in the customer package."""

from __future__ import annotations

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package, render_package

from .conftest import AS_OF


def _with_suppliers(doc: SiteDocument) -> SiteDocument:
    data = doc.model_dump(mode="json", exclude_defaults=True)
    data["suppliers"] = [
        {"id": "sup-siemens", "vendor": "Siemens", "psirt_contact": "productcert@siemens.example",
         "csaf_provider": "https://cert.siemens.example/.well-known/csaf/provider-metadata.json",
         "signs_advisories": True, "review_date": "2027-03-01"},
        {"id": "sup-moxa", "vendor": "Moxa", "policy_url": "https://moxa.example/psirt",
         "signs_advisories": False, "review_date": "2026-01-31", "notes": "Internal: contract renegotiation 2027"},
    ]
    return SiteDocument.model_validate(data)


def test_suppliers_section_lists_every_vendor_with_its_assessment(example_doc: SiteDocument) -> None:
    doc = _with_suppliers(example_doc)
    package = build_package(doc, "auditor", AS_OF)
    section = next(s for s in package.sections if s.id == "suppliers")
    rows = {r["vendor"]: r for r in section.data["suppliers"]}
    assert rows["Siemens"]["informed"] == "well" and rows["Siemens"]["review_date"] == "2027-03-01"
    moxa = rows["Moxa"]
    assert moxa["informed"] == "partly" and moxa["review_overdue"]
    assert "no machine-readable (CSAF) advisories" in moxa["reasons"] and "advisories not signed" in moxa["reasons"]
    rockwell = rows["Rockwell Automation"]  # in the inventory, no record: no usable process
    assert rockwell["informed"] == "poorly" and rockwell["supplier"] is None
    assert rockwell["assets"] == sum(1 for a in doc.assets if a.vendor == "Rockwell Automation")
    assert abs(rockwell["share"] - rockwell["assets"] / len(doc.assets)) < 1e-3  # share of all assets
    # the poorly informed come first, and their share is what the summary reports
    assert section.data["suppliers"][0]["informed"] == "poorly"
    assert section.data["poorly_informed_share"] == round(
        sum(r["share"] for r in section.data["suppliers"] if r["informed"] == "poorly"), 4)
    summary = next(s for s in package.sections if s.id == "executive-summary")
    item = next(i for i in summary.data["items"] if i["section"] == "suppliers")
    assert item["state"] == "bad" and "without a usable disclosure process" in str(item["lines"][0])
    assert "1 supplier review(s) overdue" in [str(x) for x in item["lines"]]
    html = render_package(package, ["html"])["evidence-auditor.html"].decode()
    assert 'id="sec-suppliers"' in html and "Rockwell Automation" in html and "(overdue)" in html
    assert "contract renegotiation" not in html  # supplier notes stay out


def test_the_customer_package_has_no_supplier_assessment(example_doc: SiteDocument) -> None:
    doc = _with_suppliers(example_doc)
    package = build_package(doc, "customer", AS_OF)
    assert "suppliers" not in [s.id for s in package.sections]
    html = render_package(package, ["html"])["evidence-customer.html"].decode()
    assert "disclosure process" not in html and "sup-moxa" not in html
