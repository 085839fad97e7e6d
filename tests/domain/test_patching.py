"""Patching domain: window rules, calendar validation, deferrals, patch change status rules,
remediation items, and the patching sections of a site file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from zonewarden.domain.advisories import Priority
from zonewarden.domain.governance import ChangeStatus
from zonewarden.domain.patching import (
    DEFAULT_TIER_POLICIES,
    MaintenanceWindow,
    PatchChange,
    PatchPriority,
    TierPolicy,
    items_from_findings,
    items_from_patches,
    parse_rule,
)
from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.errors import SiteFileError
from zonewarden.io.sitefile import load_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"


# --- rules ------------------------------------------------------------------------------------


def test_rule_forms() -> None:
    r = parse_rule("2nd Sunday of the month 02:00-06:00")
    assert (r.kind, r.weekday, r.nth, r.minutes) == ("monthly", 6, 2, 240)
    assert list(r.dates(dt.date(2026, 11, 1), dt.date(2027, 1, 31), None)) == [
        dt.date(2026, 11, 8), dt.date(2026, 12, 13), dt.date(2027, 1, 10)
    ]
    last = parse_rule("last Friday of each month 18:00-23:00")
    assert list(last.dates(dt.date(2026, 2, 1), dt.date(2026, 3, 31), None)) == [dt.date(2026, 2, 27), dt.date(2026, 3, 27)]
    night = parse_rule("every 2 weeks on Saturday 22:00-04:00")
    assert night.minutes == 360 and night.interval == 2
    assert list(night.dates(dt.date(2026, 11, 10), dt.date(2026, 12, 10), dt.date(2026, 11, 3))) == [
        dt.date(2026, 11, 21), dt.date(2026, 12, 5)
    ]
    assert parse_rule("every other week on Mon 01:00-02:00").interval == 2
    assert parse_rule("Every   TUESDAY 18:00-22:00").weekday == 1
    once = parse_rule("once 2026-12-27 06:00-18:00")
    assert list(once.dates(dt.date(2026, 12, 1), dt.date(2026, 12, 31), None)) == [dt.date(2026, 12, 27)]
    assert list(parse_rule("daily 01:00-02:00").dates(dt.date(2026, 1, 30), dt.date(2026, 2, 1), None)) == [
        dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1)
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("every 2nd Sunday 02:00-06:00", "ambiguous"),
        ("every second Sunday 02:00-06:00", "ambiguous"),
        ("every Sunday 02:00-02:00", "same time"),
        ("every Sunday 25:00-02:00", "not a time of day"),
        ("5th Sunday of the month 02:00-06:00", "cannot read window rule"),
        ("whenever convenient", "cannot read window rule"),
        ("once 2026-02-30 01:00-02:00", "not a calendar date"),
        ("every 60 weeks on Monday 01:00-02:00", "1-52"),
    ],
)
def test_bad_rules_say_what_to_write(rule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rule(rule)


@given(
    nth=st.sampled_from(["1st", "2nd", "3rd", "4th", "last"]),
    weekday=st.integers(0, 6),
    start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    months=st.integers(1, 30),
)
def test_monthly_rule_gives_the_nth_weekday_once_a_month(nth: str, weekday: int, start: dt.date, months: int) -> None:
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    rule = parse_rule(f"{nth} {names[weekday]} of the month 01:00-03:00")
    end = start + dt.timedelta(days=31 * months)
    dates = list(rule.dates(start, end, None))
    assert all(d.weekday() == weekday and start <= d <= end for d in dates)
    assert len({(d.year, d.month) for d in dates}) == len(dates)  # at most one per month
    for d in dates:
        if nth == "last":
            assert (d + dt.timedelta(days=7)).month != d.month
        else:
            assert (d.day - 1) // 7 + 1 == int(nth[0])


@given(
    interval=st.integers(1, 8),
    anchor=st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)),
    offset=st.integers(0, 400),
)
def test_weekly_rule_keeps_its_phase(interval: int, anchor: dt.date, offset: int) -> None:
    rule = parse_rule(f"every {interval} weeks on Wednesday 22:00-02:00")
    first = anchor + dt.timedelta(days=offset)
    dates = list(rule.dates(first, first + dt.timedelta(days=120), anchor))
    base = anchor + dt.timedelta(days=(2 - anchor.weekday()) % 7)
    assert dates and all(d.weekday() == 2 and (d - base).days % (7 * interval) == 0 for d in dates)
    assert all((b - a).days == 7 * interval for a, b in zip(dates, dates[1:], strict=False))
    assert dates[0] - first < dt.timedelta(days=7 * interval)


def test_window_shape_errors() -> None:
    base: dict[str, Any] = {"id": "w", "name": "W", "rule": "every Sunday 01:00-02:00", "scope": {"zones": ["z"]}}
    MaintenanceWindow.model_validate(base)
    with pytest.raises(ValidationError, match="names the zones, tags or assets"):
        MaintenanceWindow.model_validate({**base, "scope": {}})
    with pytest.raises(ValidationError, match="needs 'starts'"):
        MaintenanceWindow.model_validate({**base, "rule": "every 2 weeks on Sunday 01:00-02:00"})
    with pytest.raises(ValidationError, match="before 'starts'"):
        MaintenanceWindow.model_validate({**base, "starts": "2026-05-01", "until": "2026-04-01"})
    with pytest.raises(ValidationError, match="capacity_assets"):
        MaintenanceWindow.model_validate({**base, "capacity_assets": 0})
    w = MaintenanceWindow.model_validate({**base, "rule": "every Saturday 22:00-04:00"})
    occ = w.occurrences(dt.date(2026, 12, 1), dt.date(2026, 12, 7))
    assert [(o.start, o.end, o.minutes) for o in occ] == [
        (dt.datetime(2026, 12, 5, 22), dt.datetime(2026, 12, 6, 4), 360)
    ]


def test_tier_policy_defaults_and_order() -> None:
    assert [DEFAULT_TIER_POLICIES[t].target_days(PatchPriority.IMMEDIATE) for t in (1, 2, 3, 4)] == sorted(
        DEFAULT_TIER_POLICIES[t].target_days(PatchPriority.IMMEDIATE) for t in (1, 2, 3, 4)
    )
    assert not DEFAULT_TIER_POLICIES[1].vendor_qualification and DEFAULT_TIER_POLICIES[3].vendor_qualification
    with pytest.raises(ValidationError, match="must not shrink"):
        TierPolicy(tier=2, immediate_days=30, out_of_cycle_days=7, scheduled_days=90, defer_days=180,
                   max_deferral_days=30, vendor_qualification=True, approve_roles=("ot-engineering",),
                   defer_roles=("management",), reject_roles=("ot-engineering",))


# --- whole documents ----------------------------------------------------------------------


def _doc(**sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site": {"id": "s", "name": "S"},
        "people": [
            {"id": "p-eng", "name": "Eng", "roles": ["ot-engineering"]},
            {"id": "p-boss", "name": "Boss", "roles": ["management"]},
            {"id": "p-ops", "name": "Ops", "roles": ["operations"]},
        ],
        "zones": [{"id": "z1", "name": "Z1", "kind": "control", "purdue_level": 1},
                  {"id": "z2", "name": "Z2", "kind": "control", "purdue_level": 1}],
        "assets": [{"id": "plc1", "name": "PLC 1", "type": "plc", "zone": "z1"},
                   {"id": "hmi1", "name": "HMI 1", "type": "hmi", "zone": "z1", "patch_tier": 4}],
        "compensating_controls": [{
            "id": "CC-1", "title": "Isolation", "description": "Cell firewall denies everything inbound.",
            "covers": ["SR 3.2"], "zones": ["z1"], "rationale": "legacy-os", "owner": "p-eng",
            "approver": "p-boss", "approved": "2026-01-01", "review": "2026-12-01", "expires": "2027-06-01",
        }],
        "patches": [{"id": "P1", "title": "Fix", "assets": ["plc1", "hmi1"], "priority": "scheduled",
                     "requested": "2026-10-01", "qualified": "2026-10-05"}],
    }
    data.update(sections)
    return data


def _problems(data: dict[str, Any]) -> list[str]:
    doc = SiteDocument.model_validate(data, context={"defer_references": True})
    return [f"{p.pointer}: {p.message}" for p in reference_problems(doc)]


def test_overlapping_windows_of_the_same_assets_are_refused() -> None:
    w1 = {"id": "w1", "name": "A", "rule": "1st Sunday of the month 02:00-06:00", "scope": {"zones": ["z1"]}}
    w2 = {"id": "w2", "name": "B", "rule": "every Sunday 05:00-07:00", "scope": {"assets": ["plc1"]}}
    problems = _problems(_doc(maintenance_windows=[w1, w2]))
    assert len(problems) == 1 and problems[0].startswith("maintenance_windows[0].rule: overlaps window 'w2'")
    # Another zone, or times that only touch, are fine.
    assert _problems(_doc(maintenance_windows=[w1, {**w2, "scope": {"zones": ["z2"]}}])) == []
    assert _problems(_doc(maintenance_windows=[w1, {**w2, "rule": "every Sunday 06:00-07:00"}])) == []
    # A window running past midnight overlaps the next morning's.
    night = {"id": "w3", "name": "N", "rule": "every Saturday 22:00-03:00", "scope": {"zones": ["z1"]}}
    assert any("overlaps" in p for p in _problems(_doc(maintenance_windows=[night, w1])))


def _deferral(**kw: Any) -> dict[str, Any]:
    base = {"id": "D1", "asset": "hmi1", "patch": "P1", "reason": "OEM image cannot take it yet",
            "compensating_controls": ["CC-1"], "requested_by": "p-eng", "requested": "2026-11-01",
            "approver": "p-boss", "approved": "2026-11-02", "expires": "2027-03-01"}
    base.update(kw)
    return base


def test_deferral_rules() -> None:
    assert _problems(_doc(deferrals=[_deferral()])) == []
    # Tier 4 deadline for 'scheduled' is 365 days after 2026-10-01; the maximum adds 365 more.
    problems = _problems(_doc(deferrals=[_deferral(expires="2028-12-01")]))
    assert problems == [
        "deferrals[0].expires: expires 2028-12-01, beyond the tier-4 maximum deferral of 365 days after the patch "
        "deadline 2027-10-01 (latest 2028-09-30); shorten it or name a 'risk_acceptance'"
    ]
    assert _problems(_doc(deferrals=[_deferral(expires="2028-12-01", risk_acceptance="R-1")])) == [
        "deferrals[0].risk_acceptance: unknown risk acceptance 'R-1': name a risk scenario or exception id"
    ]
    # Tier 3: 'scheduled' is due 180 days after the request, and may be deferred 180 days more.
    plc = _problems(_doc(deferrals=[_deferral(asset="plc1", expires="2027-10-01")]))
    assert len(plc) == 1 and "beyond the tier-3 maximum deferral of 180 days" in plc[0] and "latest 2027-09-26" in plc[0]
    wrong_role = _problems(_doc(deferrals=[_deferral(approver="p-ops")]))
    assert wrong_role == [
        "deferrals[0].approver: p-ops (operations) may not approve a tier-4 deferral; the policy allows: management"
    ]
    unknown = _problems(_doc(deferrals=[_deferral(asset="ghost", compensating_controls=["CC-9"])]))
    assert "deferrals[0].asset: unknown asset 'ghost'" in unknown
    assert "deferrals[0].compensating_controls[0]: unknown compensating control 'CC-9'" in unknown
    with pytest.raises(ValidationError, match="cannot approve it"):
        SiteDocument.model_validate(_doc(deferrals=[_deferral(approver="p-eng")]))
    with pytest.raises(ValidationError, match="names what covers the exposure"):
        SiteDocument.model_validate(_doc(deferrals=[_deferral(compensating_controls=[])]))


def test_a_deferral_may_only_rely_on_a_control_that_covers_its_asset() -> None:
    # Issue 17.1: a control of another zone (or naming other assets) was accepted and shown valid.
    other_zone = {"id": "ops-hmi", "name": "Ops HMI", "type": "hmi", "zone": "z2", "patch_tier": 4}
    data = _doc(deferrals=[_deferral(asset="ops-hmi")])
    data["assets"] = [*data["assets"], other_zone]
    data["patches"][0]["assets"] = ["plc1", "hmi1", "ops-hmi"]
    assert _problems(data) == [
        "deferrals[0].compensating_controls[0]: compensating control 'CC-1' does not cover asset 'ops-hmi': "
        "it applies to z1, and 'ops-hmi' is in zone 'z2'; add the asset (or its zone) to the control, "
        "or name a control that covers it"
    ]
    # A control that names its assets covers exactly those, even inside its own zone.
    named = _doc(deferrals=[_deferral()])
    named["compensating_controls"][0]["assets"] = ["plc1"]
    [problem] = _problems(named)
    assert "it names the assets plc1, not 'hmi1'" in problem
    named["compensating_controls"][0]["assets"] = ["plc1", "hmi1"]
    assert _problems(named) == []
    # A control on a conduit covers the assets of the zones at its ends.
    via_conduit = _doc(deferrals=[_deferral(asset="ops-hmi")])
    via_conduit["assets"] = [*via_conduit["assets"], other_zone]
    via_conduit["patches"][0]["assets"] = ["plc1", "hmi1", "ops-hmi"]
    via_conduit["conduits"] = [{"id": "c12", "name": "Z1-Z2", "zones": ["z1", "z2"]}]
    via_conduit["compensating_controls"][0].update(zones=[], conduits=["c12"])
    assert _problems(via_conduit) == []


def test_patch_for_an_unknown_asset() -> None:
    data = _doc(patches=[{"id": "P1", "title": "Fix", "assets": ["plc1", "nope"], "priority": "scheduled",
                          "requested": "2026-10-01"}])
    assert _problems(data) == ["patches[0].assets[1]: unknown asset 'nope'"]


def _change(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "PC-1", "title": "Fix on PLC 1", "patch": "P1", "assets": ["plc1"], "status": "proposed",
        "raised": "2026-11-01",
    }
    base.update(kw)
    return base


APPROVED = {
    "status": "approved", "impact_assessment": "Runtime only; line stopped.",
    "approvals": [{"by": "p-eng", "on": "2026-11-02"}], "rollback_criteria": "Any alarm lost",
    "rollback_decider": "p-ops",
}
IMPLEMENTED = {**APPROVED, "status": "implemented", "implemented": "2026-11-10", "backup_taken": "2026-11-09",
               "restore_tested": "2026-11-01", "no_impact_determination": "Not GxP relevant.", "outcome": "success"}


def test_patch_change_status_needs_its_evidence() -> None:
    PatchChange.model_validate(_change())
    PatchChange.model_validate(_change(**APPROVED))
    done = PatchChange.model_validate(_change(**IMPLEMENTED))
    assert done.installed and done.type.value == "patch"
    with pytest.raises(ValidationError, match="no 'implemented' without approval"):
        PatchChange.model_validate(_change(**{**IMPLEMENTED, "approvals": []}))
    with pytest.raises(ValidationError, match="'backup_taken' and 'restore_tested'"):
        PatchChange.model_validate(_change(**{**IMPLEMENTED, "restore_tested": None}))
    with pytest.raises(ValidationError, match="'revalidation' or a documented 'no_impact_determination'"):
        PatchChange.model_validate(_change(**{**IMPLEMENTED, "no_impact_determination": None}))
    with pytest.raises(ValidationError, match="no closed without review"):
        PatchChange.model_validate(_change(**{**IMPLEMENTED, "status": "closed", "closed": "2026-11-20"}))
    with pytest.raises(ValidationError, match="revalidation completed"):
        PatchChange.model_validate(_change(**{**IMPLEMENTED, "status": "closed", "closed": "2026-11-20",
                                              "post_implementation_review": "fine",
                                              "revalidation": {"required": True, "reference": "VAL-1"}}))
    closed = PatchChange.model_validate(_change(**{**IMPLEMENTED, "status": "closed", "closed": "2026-11-20",
                                                   "post_implementation_review": "VAL-TS passed"}))
    assert closed.status is ChangeStatus.CLOSED
    with pytest.raises(ValidationError, match="a patch change record has type 'patch'"):
        PatchChange.model_validate(_change(type="architecture-change"))
    with pytest.raises(ValidationError, match="'outcome' belongs to an implemented change"):
        PatchChange.model_validate(_change(outcome="success"))


def test_patch_change_approver_role_is_checked_against_the_policy() -> None:
    ok = _change(**APPROVED)
    assert _problems(_doc(patch_changes=[ok])) == []
    boss = _change(**{**APPROVED, "approvals": [{"by": "p-boss", "on": "2026-11-02"}]})
    assert _problems(_doc(patch_changes=[boss])) == [
        "patch_changes[0].approvals[0].by: p-boss (management) may not approve a tier-3 patch; "
        "the policy allows: ot-engineering, operations"
    ]


# --- remediation items ----------------------------------------------------------------------


def test_items_from_findings_takes_planned_findings_only() -> None:
    class F:
        def __init__(self, asset: str, advisory: str, status: str, priority: Any, when: Any) -> None:
            self.asset_id, self.advisory_id, self.triage_status, self.priority = asset, advisory, status, priority
            self.triaged, self.cves = when, ("CVE-2026-1",)

    findings = [
        F("plc1", "ICSA-26-001", "remediation-planned", Priority.SCHEDULED, dt.datetime(2026, 11, 3, 9, 0)),
        F("plc1", "ICSA-26-001", "remediation-planned", Priority.IMMEDIATE, dt.date(2026, 11, 4)),
        F("hmi1", "ICSA-26-001", "accepted", Priority.IMMEDIATE, dt.date(2026, 11, 4)),
        {"asset_id": "hmi1", "advisory_id": "ICSA-26-002", "status": "remediation-planned", "requested": "2026-11-05"},
    ]
    items = items_from_findings(findings)
    assert [(i.key, i.priority, i.requested, i.source) for i in items] == [
        ("ICSA-26-001@plc1", PatchPriority.IMMEDIATE, dt.date(2026, 11, 4), "finding"),
        ("ICSA-26-002@hmi1", PatchPriority.SCHEDULED, dt.date(2026, 11, 5), "finding"),
    ]
    with pytest.raises(ValueError, match="no triage date"):
        items_from_findings([{"asset_id": "a", "advisory_id": "x", "status": "remediation-planned"}])
    assert items_from_findings(
        [{"asset_id": "a", "advisory_id": "x", "status": "remediation-planned"}], default_requested=dt.date(2026, 1, 1)
    )[0].requested == dt.date(2026, 1, 1)


def test_vendor_patches_become_one_item_per_asset() -> None:
    doc = load_site(EXAMPLE)
    items = items_from_patches(doc.patches)
    assert len(items) == sum(len(p.assets) for p in doc.patches)
    assert [i.key for i in items] == sorted(i.key for i in items)
    assert all(i.source == "manual" for i in items)


# --- the example and located errors ---------------------------------------------------------


def test_example_plant_has_the_patching_sections() -> None:
    doc = load_site(EXAMPLE)
    assert len(doc.maintenance_windows) == 8 and {b.kind.value for b in doc.blackouts} == {
        "qualification-run", "peak-production", "other"
    }
    hmi = doc.patch_policy.profile("coat-hmi-1")
    assert hmi is not None and not hmi.patchable and hmi.remediation_date == dt.date(2027, 7, 31)
    assert doc.patch_policy.tier(1).immediate_days == 2 and doc.patch_policy.tier(2) == DEFAULT_TIER_POLICIES[2]


def test_bad_patching_file_is_reported_with_file_and_line(tmp_path: Path) -> None:
    copy = tmp_path / "plant"
    shutil.copytree(EXAMPLE, copy)
    text = (copy / "patching.yaml").read_text()
    text = text.replace("    approver: p-hkessler\n    approved: 2026-11-09\n",
                        "    approver: p-mbrandt\n    approved: 2026-11-09\n", 1)
    text = text.replace("rule: every Tuesday 18:00-22:00", "rule: every 2nd Tuesday 18:00-22:00")
    (copy / "patching.yaml").write_text(text)
    with pytest.raises(SiteFileError) as info:
        load_site(copy)
    messages = [str(p) for p in info.value.problems]
    assert any("patching.yaml:" in m and "maintenance_windows[0].rule" in m and "ambiguous" in m for m in messages)
    assert any("patching.yaml:" in m and "deferrals[0]" in m and "cannot approve it" in m for m in messages)


def test_items_from_stored_finding_rows() -> None:
    """The advisories service's FindingRow: tracking id, triage history, priority as text."""
    from zonewarden.services.advisories import FindingRow, TriageDecision

    def decision(day: int, to: str) -> TriageDecision:
        return TriageDecision(dt.datetime(2026, 11, day, 10, 0, tzinfo=dt.UTC), "p-mbrandt", "new", to, "why", None,
                              None, (), False)

    row = FindingRow(
        id=1, site_id="s", tracking_id="ICSA-26-100-01", advisory_version="1", advisory_title="S7-1500 DoS",
        asset_id="gran-plc-hsg", zone_id="gran", active=True, status="affected", reason=None, message="",
        cves=("CVE-2026-40112",), matches=(), ssvc=None, priority="out-of-cycle", triage_status="remediation-planned",
        triage_owner="p-mbrandt", triage_expires=None,
        decisions=(decision(3, "under-assessment"), decision(5, "remediation-planned"), decision(9, "remediation-planned")),
    )
    [item] = items_from_findings([row])
    assert (item.patch_ref, item.asset_id, item.priority, item.requested, item.title, item.cves) == (
        "ICSA-26-100-01", "gran-plc-hsg", PatchPriority.OUT_OF_CYCLE, dt.date(2026, 11, 9), "S7-1500 DoS",
        ("CVE-2026-40112",),
    )
