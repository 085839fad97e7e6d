"""The patching section: the auditor sees what is carried and why; the customer sees practice
and counts, never an asset, zone, patch or vulnerability."""

from __future__ import annotations

import datetime as dt
import json

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package, render_package

AS_OF = dt.date(2026, 12, 1)


def _section(doc: SiteDocument, audience: str) -> dict:
    package = build_package(doc, audience, AS_OF)
    return next(s.data for s in package.sections if s.id == "patching")


def test_auditor_sees_items_controls_and_risk_per_zone(example_doc: SiteDocument) -> None:
    d = _section(example_doc, "auditor")
    assert d["available"] and d["summary"]["overdue"] == 2
    rows = {(i["asset"], i["patch"]): i for i in d["outside_cycle"]}
    assert rows[("dmz-fw-a", "SCALANCE-SC600-V3.0.1")]["needs_risk_acceptance"]
    assert rows[("coat-hmi-1", "WINCC-FLEX-2008-HF")]["controls"] == [{"id": "CC-COAT-XP", "validity": "expired"}]
    assert {z["zone"] for z in d["zones"]} == {"comp", "dmz", "ops", "coat"}
    assert {c["id"] for c in d["changes"]} == {c.id for c in example_doc.patch_changes}
    assert [p["tier"] for p in d["policy"]] == [1, 2, 3, 4] and d["policy"][0]["immediate_days"] == 2


def test_customer_sees_practice_and_counts_only(example_doc: SiteDocument) -> None:
    d = _section(example_doc, "customer")
    assert set(d) == {"practice", "available", "policy", "summary", "tiers", "windows", "blackouts", "deferrals",
                      "patch_changes"}
    package = build_package(example_doc, "customer", AS_OF)
    files = render_package(package, ["html", "json"])
    text = b"".join(v for k, v in files.items() if k.endswith((".html", ".json"))).decode()
    section = json.dumps(d)
    for secret in ("dmz-fw-a", "coat-hmi-1", "CVE-2026-22310", "SCALANCE-SC600", "DEF-2026-011", "mw-gran"):
        assert secret not in section and secret not in text
