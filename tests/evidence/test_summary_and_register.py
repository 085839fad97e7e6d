"""Executive summary first (issue 15.2) and the asset register appendix (15.3)."""

from __future__ import annotations

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package, render_package
from zonewarden.evidence.sections import asset_register

from .conftest import AS_OF, generated_site


def test_summary_comes_first_and_links_to_its_sections(example_doc: SiteDocument) -> None:
    package = build_package(example_doc, "auditor", AS_OF)
    ids = [s.id for s in package.sections]
    assert ids[:3] == ["document-control", "executive-summary", "overview"]
    items = {i["title"]: i for i in package.sections[1].data["items"]}
    assert {"Security levels", "Risks", "Assessments", "Patch compliance", "Compensating controls"} <= set(items)
    assert all(i["section"] in ids for i in items.values())  # each item points at a section of the package
    # the summary agrees with the data: the XP HMI control expired, 13 of 15 zones are below SL-T
    assert "CC-COAT-XP (expired)" in str(items["Compensating controls"]["lines"])
    assert str(items["Security levels"]["lines"][0]).startswith("13 of 15 zones are below their SL-T")
    html = render_package(package, ["html"])["evidence-auditor.html"].decode()
    assert '<a href="#sec-zone-levels">' in html and 'id="sec-zone-levels"' in html
    assert "executive-summary" not in [s.id for s in build_package(example_doc, "customer", AS_OF).sections]


def test_asset_register_lists_every_asset_and_goes_to_a_hashed_csv_when_large(example_doc: SiteDocument) -> None:
    import hashlib
    import json

    small = {s.id: s for s in build_package(example_doc, "auditor", AS_OF).sections}["asset-register"]
    assert {r["asset"] for r in small.data["rows"]} == {a.id for a in example_doc.assets}
    assert small.data["csv"] is None and not small.files
    doc = generated_site(asset_register.TABLE_LIMIT + 10)
    package = build_package(doc, "auditor", AS_OF)
    big = {s.id: s for s in package.sections}["asset-register"]
    assert big.data["rows"] == [] and big.data["csv"]["file"] == "asset-register.csv"
    files = render_package(package, ["json"])
    csv_bytes = files["asset-register.csv"]
    assert csv_bytes.decode().count("\n") == len(doc.assets) + 1
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert listed["asset-register.csv"]["sha256"] == hashlib.sha256(csv_bytes).hexdigest() == big.data["csv"]["sha256"]
