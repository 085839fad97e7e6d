"""Patch status: states, compliance by tier, deferrals past the maximum, where risk is carried."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from zonewarden.domain.patching import items_from_patches
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.patchstatus import ItemState, patch_status
from zonewarden.io.sitefile import load_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"


def test_example_status() -> None:
    doc = load_site(EXAMPLE)
    status = patch_status(doc, items_from_patches(doc.patches), dt.date(2026, 12, 1))
    by = {i.item.key: i for i in status.items}
    assert by["SCALANCE-SC600-V3.0.1@dmz-fw-b"].state is ItemState.PATCHED_LATE
    fw = by["SCALANCE-SC600-V3.0.1@dmz-fw-a"]
    assert fw.state is ItemState.OVERDUE and fw.days_overdue == 42 and fw.needs_risk_acceptance
    step7 = by["MS-2026-08-W7@ops-ews-step7"]
    assert step7.state is ItemState.DEFERRAL_EXPIRED and not step7.within_policy and step7.deferral == "DEF-2026-007"
    # The XP HMI's deferral relies on an expired compensating control: deferred but not within policy.
    xp = by["WINCC-FLEX-2008-HF@coat-hmi-1"]
    assert xp.state is ItemState.DEFERRED and not xp.within_policy
    assert [(c.id, c.validity) for c in xp.controls] == [("CC-COAT-XP", "expired")]
    # The renewal carries the press HMI past the maximum, with a named risk acceptance.
    hmi = by["MS-2025-10-W7@comp-hmi-p1"]
    assert hmi.deferral == "DEF-2026-009" and hmi.risk_acceptance == "R-17" and not hmi.needs_risk_acceptance
    assert hmi.within_policy and hmi.item.cves == ("CVE-2025-33053",)
    tiers = {t.tier: t for t in status.tiers}
    assert (tiers[1].total, tiers[1].within_policy, tiers[1].overdue) == (2, 0, 1)
    assert sum(t.total for t in status.tiers) == len(status.items) == 24
    zones = [z.zone for z in status.zones]
    assert zones[0] == "comp" and set(zones) == {"comp", "dmz", "ops", "coat"}
    problems = {(d.deferral, d.problem) for d in status.deferral_issues}
    assert problems == {
        ("DEF-2026-007", "expired"), ("DEF-2026-011", "control-not-valid"), ("-", "needs-risk-acceptance"),
    }
    assert len(status.overdue) == 2


def _doc(**extra: Any) -> SiteDocument:
    data: dict[str, Any] = {
        "site": {"id": "s", "name": "S"},
        "people": [{"id": "p1", "name": "P1", "roles": ["ot-engineering"]},
                   {"id": "p2", "name": "P2", "roles": ["management"]}],
        "zones": [{"id": "z", "name": "Z", "kind": "control", "purdue_level": 1}],
        "assets": [{"id": "hmi", "name": "HMI", "type": "hmi", "zone": "z", "patch_tier": 4, "criticality": "high"}],
        "patches": [{"id": "P", "title": "Fix", "assets": ["hmi"], "priority": "immediate",
                     "requested": "2026-01-01", "cves": ["CVE-1"]}],
    }
    data.update(extra)
    return SiteDocument.model_validate(data)


def test_a_control_that_does_not_cover_the_asset_is_not_shown_valid() -> None:
    # A site stored before the reference check (issue 17.1) still says so in patch status.
    control = {"id": "CC-X", "title": "Other cell", "description": "Firewall of another cell entirely.",
               "covers": ["SR 3.2"], "zones": ["z"], "assets": ["other"], "rationale": "legacy-os",
               "owner": "p1", "approver": "p2", "approved": "2026-01-01", "review": "2026-12-01",
               "expires": "2027-06-01"}
    deferral = {"id": "D", "asset": "hmi", "patch": "P", "reason": "OEM image cannot take it yet",
                "compensating_controls": ["CC-X"], "requested_by": "p1", "requested": "2026-02-01",
                "approver": "p2", "approved": "2026-02-02", "expires": "2026-12-31"}
    data = _doc().model_dump(mode="json", exclude_defaults=True)
    data.update(compensating_controls=[control], deferrals=[deferral])
    data["assets"].append({"id": "other", "name": "Other", "type": "hmi", "zone": "z"})
    doc = SiteDocument.model_validate(data, context={"defer_references": True})
    status = patch_status(doc, items_from_patches(doc.patches), dt.date(2026, 6, 1))
    [item] = status.items
    assert item.state is ItemState.DEFERRED and not item.within_policy
    assert [(c.id, c.validity) for c in item.controls] == [("CC-X", "does-not-cover")]
    assert [(d.problem, d.message) for d in status.deferral_issues] == [
        ("control-not-valid", "relies on CC-X, which does not cover the asset")
    ]


def test_states_move_with_time() -> None:
    doc = _doc()
    items = items_from_patches(doc.patches)
    # Tier 4 immediate: 30 days; maximum deferral 365 days.
    assert patch_status(doc, items, dt.date(2026, 1, 31)).items[0].state is ItemState.OPEN
    late = patch_status(doc, items, dt.date(2026, 2, 1)).items[0]
    assert late.state is ItemState.OVERDUE and late.days_overdue == 1 and not late.needs_risk_acceptance
    assert patch_status(doc, items, dt.date(2027, 2, 1)).items[0].needs_risk_acceptance


def test_unpatchable_asset_without_deferral_carries_risk() -> None:
    doc = _doc(patch_policy={"assets": [{"asset": "hmi", "patchable": False, "reason": "OEM image",
                                         "remediation_date": "2027-01-01"}]})
    status = patch_status(doc, items_from_patches(doc.patches), dt.date(2026, 3, 1))
    item = status.items[0]
    assert item.state is ItemState.NOT_PATCHABLE and not item.within_policy and "2027-01-01" in item.note
    assert status.zones[0].not_patchable == 1 and status.zones[0].cves == ("CVE-1",)
    assert status.zones[0].exposure == item.weight * (dt.date(2026, 3, 1) - item.deadline).days


def test_pending_deferral_changes_nothing_but_is_listed() -> None:
    doc = _doc(
        requirements=[{"target": "z", "requirement": "SR 5.1", "status": "implemented"}],
        deferrals=[{"id": "D", "asset": "hmi", "patch": "P", "reason": "waiting for the OEM",
                    "requirements": ["z/SR 5.1"], "requested_by": "p1", "requested": "2026-01-20",
                    "expires": "2026-06-01"}],
    )
    status = patch_status(doc, items_from_patches(doc.patches), dt.date(2026, 2, 15))
    assert status.items[0].state is ItemState.OVERDUE
    assert [(d.deferral, d.problem) for d in status.deferral_issues] == [("D", "pending-approval")]
