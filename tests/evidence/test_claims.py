"""Every customer statement of practice rests on data: built from sites that lack or contradict a
practice, the customer package words it differently (or says it is not in place), and the
auditor's "claims and their evidence" table lists the statement with the records behind it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package, render_package

AS_OF = dt.date(2026, 11, 25)


def _claims(doc: SiteDocument) -> dict[str, dict[str, Any]]:
    package = build_package(doc, "auditor", AS_OF)
    section = next(s for s in package.sections if s.id == "claims")
    return {c["id"]: c for c in section.data["claims"]}


def _customer_html(doc: SiteDocument) -> str:
    files = render_package(build_package(doc, "customer", AS_OF), ["html"])
    return " ".join(files["evidence-customer.html"].decode().split())


def _variant(doc: SiteDocument, change: Callable[[dict[str, Any]], None]) -> SiteDocument:
    data = doc.model_dump(mode="json", exclude_defaults=True)
    change(data)
    return SiteDocument.model_validate(data)


def _no_pilot(d: dict[str, Any]) -> None:
    d["patch_policy"].setdefault("waves", {})["pilot_assets"] = []


def _no_installations(d: dict[str, Any]) -> None:
    d["patch_changes"] = [c for c in d.get("patch_changes", []) if c["status"] not in ("implemented", "closed")]


def _no_backups(d: dict[str, Any]) -> None:
    d["requirements"] = [r for r in d["requirements"] if r["requirement"] not in ("SR 7.3", "SR 7.4")]


def _no_windows(d: dict[str, Any]) -> None:
    d["maintenance_windows"] = []
    d["blackouts"] = []
    from zonewarden.domain.patching import PatchPolicy

    current = PatchPolicy.model_validate(d["patch_policy"])
    d["patch_policy"]["tiers"] = [
        {**current.tier(t).model_dump(mode="json"), "vendor_qualification": False} for t in (1, 2, 3, 4)
    ]
    for c in d.get("patch_changes", []):
        c.pop("window", None)


def _no_plans(d: dict[str, Any]) -> None:
    for r in d["requirements"]:
        if r["status"] == "planned":
            r["status"] = "not-implemented"
            r.pop("target_date", None)


def _no_incidents(d: dict[str, Any]) -> None:
    gone = {c["id"] for c in d.get("changes", []) if c["type"] == "security-incident"}
    d["changes"] = [c for c in d.get("changes", []) if c["id"] not in gone]
    for a in d.get("assessments", []):
        if "changes" in a:
            a["changes"] = [c for c in a["changes"] if c not in gone]


def _no_roles(d: dict[str, Any]) -> None:
    for person in d.get("people", []):
        person.pop("roles", None)
    # without roles nobody may approve deferrals or patch installations (the site file says so)
    d["deferrals"] = []
    d["patch_changes"] = []


def _all_changes_approved(d: dict[str, Any]) -> None:
    for c in d.get("changes", []):
        if c["type"] != "security-incident" and not c.get("approvals"):
            c["approvals"] = [{"by": d["people"][0]["id"], "on": c["raised"]}]


def _pending_control(d: dict[str, Any]) -> None:
    control = d["compensating_controls"][0]
    control.pop("approver", None)
    control.pop("approved", None)


def _no_legacy_controls(d: dict[str, Any]) -> None:
    legacy_zones = {a.get("zone") for a in d["assets"] if a.get("legacy_constraints")}
    legacy_ids = {a["id"] for a in d["assets"] if a.get("legacy_constraints")}
    d["compensating_controls"] = [
        c for c in d["compensating_controls"]
        if not (set(c.get("assets", ())) & legacy_ids or (not c.get("assets") and set(c.get("zones", ())) & legacy_zones))
    ]
    kept = {c["id"] for c in d["compensating_controls"]}
    for r in d["requirements"]:
        if r.get("compensating_control") and r["compensating_control"] not in kept:
            r.pop("compensating_control")
            r["status"] = "not-implemented"
    for x in d.get("deferrals", []):
        x["compensating_controls"] = [c for c in x.get("compensating_controls", []) if c in kept]
    d["deferrals"] = [x for x in d.get("deferrals", [])
                      if x["compensating_controls"] or x.get("requirements") or x.get("risk_acceptance")]
    for risk in d.get("risks", []):
        if "controls" in risk:
            risk["controls"] = [c for c in risk["controls"]
                                if "compensating_control" not in c or c["compensating_control"] in kept]


def _targets_justified(d: dict[str, Any]) -> None:
    for z in d["zones"]:
        if z.get("sl_target") and not z.get("sl_target_rationale"):
            z["sl_target_rationale"] = "Chosen by the plant's review board after the 2026 assessment."


CASES = [
    # (variant, claim id, phrase in the example plant, phrase once the practice is missing, state then)
    (_no_pilot, "patch-pilot", "goes first to the 5 recorded pilot or test systems",
     "No pilot or test systems are recorded", "not in place"),
    (_no_installations, "patch-change-records", "1 patch installation is on record as a change record",
     "No patch installation is on record as a change record.", "not in place"),
    (_no_backups, "incident-backup", "are in place in every zone whose target level asks for them",
     "are not yet in place in any zone whose target level asks for them", "not in place"),
    (_no_windows, "patch-windows", "inside 8 agreed maintenance windows",
     "No vendor qualification rule and no maintenance window are recorded", "not in place"),
    (_no_plans, "monitoring-plan", "have a planned completion date",
     "No completion date is recorded for the", "not in place"),
    (_no_incidents, "incident-reassessment", "1 incident record on record.",
     "No security incident is on record.", "in place"),
    (_no_roles, "access-roles", "Security responsibilities are assigned to named roles",
     "No security role is recorded for any named person.", "not in place"),
    (_all_changes_approved, "access-change-approval", "3 have an approval on record and 1 has none",
     "each of the 4 changes carried out has an approval on record", "in place"),
    (_pending_control, "access-departures", "each with an owner, a review date or expiry, and an approver.",
     "1 of the controls is still awaiting approval", "partly in place"),
    (_no_legacy_controls, "supply-legacy", "3 of them addressed by",
     "no compensating control is recorded for them", "not in place"),
    (_targets_justified, "target-differences", "10 of them without a recorded reason",
     "the reason is recorded", "in place"),
]


@pytest.mark.parametrize(("change", "claim", "before", "after", "state"), CASES, ids=[c[1] for c in CASES])
def test_statement_follows_the_data(
    example_doc: SiteDocument, change: Callable[[dict[str, Any]], None], claim: str, before: str, after: str,
    state: str,
) -> None:
    original = _claims(example_doc)[claim]
    assert before in original["statement"] and original["evidence"]
    assert before in _customer_html(example_doc)

    variant = _variant(example_doc, change)
    changed = _claims(variant)[claim]
    assert after in changed["statement"] and before not in changed["statement"]
    assert changed["state"] == state
    html = _customer_html(variant)
    assert after in html and before not in html


def test_customer_never_promises_what_the_data_lacks(example_doc: SiteDocument) -> None:
    # The sentences of the review, as the old templates wrote them unconditionally.
    variant = _variant(example_doc, lambda d: (_no_pilot(d), _no_installations(d), _no_backups(d), _no_plans(d)))
    html = _customer_html(variant)
    for promise in ("goes to pilot or test systems first", "Each installation is a change record",
                    "support restoring production", "improvement plan"):
        assert promise not in html


def test_auditor_table_lists_every_customer_statement_with_evidence(example_doc: SiteDocument) -> None:
    claims = _claims(example_doc)
    html = " ".join(render_package(build_package(example_doc, "auditor", AS_OF), ["html"])[
        "evidence-auditor.html"].decode().split())
    customer = _customer_html(example_doc)
    for c in claims.values():
        assert c["evidence"] and c["state"] in ("in place", "partly in place", "not in place")
        statement = c["statement"].replace("'", "&#39;")
        assert statement in customer, c["id"]
        assert statement in html, c["id"]
