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
