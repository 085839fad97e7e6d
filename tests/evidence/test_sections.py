"""What the packages contain, checked against the example plant's data."""

from __future__ import annotations

import json

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package
from zonewarden.evidence.redaction import Audience
from zonewarden.evidence.sections import all_sections

from .conftest import AS_OF, rendered


def _sections(doc: SiteDocument, audience: str) -> dict[str, dict]:
    return {s.id: s.data for s in build_package(doc, audience, AS_OF).sections}


def test_auditor_package_covers_the_issue(example_doc: SiteDocument) -> None:
    s = _sections(example_doc, "auditor")
    issue = [
        "overview", "risk-method", "sl-scale", "architecture", "zone-levels", "traceability", "risk-register",
        "residual-risks", "compensations", "legacy", "calendar", "iso27001", "segmentation",
    ]
    assert [i for i in s if i in issue] == issue  # later capabilities add their own sections
    doc = example_doc
    # per zone and conduit: SL-T, SL-A, SL-C and the gap per FR
    targets = {t["id"]: t for t in s["zone-levels"]["targets"]}
    assert set(targets) == {z.id for z in doc.zones} | {c.id for c in doc.conduits}
    assert all(len(t["frs"]) == 7 for t in targets.values())
    rationale_zones = [z for z in doc.zones if z.sl_target_rationale]
    for z in rationale_zones:
        assert targets[z.id]["rationale"] == z.sl_target_rationale
    # traceability: every risk appears, with its zone's SL-T
    assert {r["risk"] for r in s["traceability"]["rows"]} == {r.id for r in doc.risks}
    # register and residual risks: every scenario, with owner and review date
    assert len(s["risk-register"]["entries"]) == len(doc.risks) == len(s["residual-risks"]["rows"])
    assert all(r["owner"] and r["review_date"] for r in s["residual-risks"]["rows"])
    # compensating controls and exceptions with owners, approvals and review dates
    controls = {c["id"]: c for c in s["compensations"]["controls"]}
    assert set(controls) == {c.id for c in doc.compensating_controls}
    for c in doc.compensating_controls:
        assert controls[c.id]["review"] == c.review.isoformat() and controls[c.id]["owner"]
    assert {e["id"] for e in s["compensations"]["exceptions"]} == {e.id for e in doc.exceptions}
    # legacy constraints, with the options considered
    legacy_ids = {a["id"] for a in s["legacy"]["assets"]}
    assert {a.id for a in doc.assets if a.legacy_constraints} <= legacy_ids
    options = [o for d in s["legacy"]["decisions"] for o in d["options"]]
    assert len(options) == sum(len(c.options_considered) for c in doc.compensating_controls)
    # calendar, change records, Annex A, findings
    assert {c["id"] for c in s["calendar"]["changes"]} == {c.id for c in doc.changes}
    assert len(s["iso27001"]["controls"]) == 93
    assert s["segmentation"]["findings"] or s["segmentation"]["waived"]
    assert s["architecture"]["diagram_svg"].startswith("<svg")


def test_customer_package_is_about_practice_not_internals(example_doc: SiteDocument) -> None:
    s = _sections(example_doc, "customer")
    issue = [
        "overview", "customer-architecture", "access-control", "remote-access", "monitoring",
        "incident-response", "supply-continuity", "target-levels",
    ]
    assert [i for i in s if i in issue] == issue
    kinds = {k["kind"] for k in s["customer-architecture"]["zone_kinds"]}
    assert kinds == {z.kind.value for z in example_doc.zones}
    assert all(r["zones_met"] <= r["zones_requiring"] for r in s["access-control"]["requirements"])
    assert s["access-control"]["requirements"]
    text = json.dumps(s)
    for z in example_doc.zones:
        assert f'"{z.name}"' not in text  # zone kinds, never individual zones


def test_sections_belong_to_audiences() -> None:
    for section in all_sections():
        assert section.audiences and section.audiences <= set(Audience)
    customer = {s.id for s in all_sections() if Audience.CUSTOMER in s.audiences}
    assert not customer & {"risk-register", "traceability", "legacy", "segmentation", "architecture"}


def test_undecided_is_reported_not_dropped(example_doc: SiteDocument) -> None:
    broken = example_doc.model_copy(update={"zones": tuple(z.model_copy(update={"sl_target": None}) for z in example_doc.zones)})
    pkg = build_package(broken, "auditor", AS_OF)
    levels = next(s for s in pkg.sections if s.id == "zone-levels")
    assert any("has no SL-T" in u for u in levels.undecided)
    html = rendered(broken, "auditor", ("html",), "no-slt")["evidence-auditor.html"].decode()
    assert "Could not be decided from the data" in html


def test_annex_a_pairs_carry_relation_and_rationale(example_doc: SiteDocument) -> None:
    from zonewarden.catalog import load_mapping

    s = _sections(example_doc, "auditor")
    change = {c["control"]: c for c in s["iso27001"]["controls"]}["A.8.32"]
    expected = {(m.requirement, str(m.relation), m.rationale) for m in load_mapping().requirements_for("A.8.32")}
    assert {(r["requirement"], r["relation"], r["rationale"]) for r in change["requirements"]} == expected
    html = rendered(example_doc, "auditor", ("html",), "example")["evidence-auditor.html"].decode()
    some = sorted(expected)[0]
    assert f"{some[0]}</span> ({some[1]}): {some[2]}" in html.replace("&#39;", "'")
