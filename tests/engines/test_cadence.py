"""Assessment calendar on hand-worked dates: leap days, time zones, change and data triggers."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zonewarden.domain.governance import AssessmentKind
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.cadence import (
    DueStatus,
    Trigger,
    TriggerSource,
    add_months,
    due_items,
    has_overdue,
    parse_days,
    site_date,
)
from zonewarden.errors import InputError

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 24, D(2026, 2, 28)),
        (D(2024, 2, 29), 36, D(2027, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        ("2026-03-01", "Pacific/Auckland", D(2026, 3, 1)),  # a date stays a date
        ("2026-02-28T23:30:00-05:00", "Europe/Zurich", D(2026, 3, 1)),  # 05:30 in Zurich
        ("2026-02-28T23:30:00-05:00", "America/New_York", D(2026, 2, 28)),
        ("2026-02-28T23:30:00-05:00", None, D(2026, 3, 1)),  # UTC when the site sets none
        ("2026-03-01T00:30:00+01:00", None, D(2026, 2, 28)),  # 23:30 UTC the day before
        ("2026-03-01T00:30:00Z", "America/Los_Angeles", D(2026, 2, 28)),
        ("2026-03-01T00:30:00", "America/Los_Angeles", D(2026, 3, 1)),  # naive: already site-local
        ("2024-02-29T12:00:00+14:00", "Pacific/Pago_Pago", D(2024, 2, 28)),  # 25 hours apart
    ],
)
def test_site_date_converts_instants_to_the_sites_date(value: str, tz: str | None, expected: dt.date) -> None:
    assert site_date(value, tz) == expected


def test_site_date_rejects_garbage() -> None:
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        site_date("next tuesday", None)
    with pytest.raises(InputError):
        site_date("2026-02-30", None)


def test_parse_days() -> None:
    assert parse_days("90d") == 90
    assert parse_days("12w") == 84
    assert parse_days("30") == 30
    with pytest.raises(InputError, match="90d"):
        parse_days("3m")


def doc(**overrides: Any) -> SiteDocument:
    data: dict[str, Any] = {
        "site": {"id": "plant", "name": "Plant", "timezone": "Europe/Zurich"},
        "people": [{"id": "alice", "name": "Alice"}],
        "zones": [
            {"id": "ctl", "name": "Control", "kind": "control", "purdue_level": 1, "criticality": "high"},
            {"id": "ops", "name": "Operations", "kind": "operations", "purdue_level": 3, "criticality": "low"},
            {"id": "new", "name": "New line", "kind": "control", "purdue_level": 1},
        ],
        "assets": [
            {"id": "plc1", "name": "PLC", "type": "plc", "zone": "ctl"},
            {"id": "ews1", "name": "EWS", "type": "engineering-workstation", "zone": "ctl",
             "end_of_support": "2026-06-30"},
            {"id": "hist", "name": "Historian", "type": "historian", "zone": "ops",
             "end_of_support": "2027-01-10"},
        ],
        "assessments": [
            {"id": "A1", "kind": "full", "date": "2024-02-29", "assessors": ["alice"], "outcome": "satisfactory",
             "zones": ["ctl", "ops"]},
            {"id": "A2", "kind": "health-check", "date": "2026-01-15", "assessors": ["alice"],
             "outcome": "satisfactory-with-findings", "zones": ["ops"]},
        ],
    }
    data.update(overrides)
    return SiteDocument.model_validate(data)


def items_of(items: list[Any], zone: str, kind: AssessmentKind) -> list[Any]:
    return [i for i in items if i.zone == zone and i.kind is kind]


def test_full_assessment_from_a_leap_day_for_a_high_zone() -> None:
    # high: 24 months from 29 Feb 2024 -> 28 Feb 2026
    (item,) = items_of(due_items(doc(), D(2026, 2, 28)), "ctl", AssessmentKind.FULL)
    assert item.due == D(2026, 2, 28) and item.status is DueStatus.DUE and item.days == 0
    assert "A1 on 2024-02-29 + 24 months (criticality high)" in item.reason
    (item,) = items_of(due_items(doc(), D(2026, 3, 1)), "ctl", AssessmentKind.FULL)
    assert item.status is DueStatus.OVERDUE and item.days == -1


def test_health_check_counts_from_the_latest_check_or_full_assessment() -> None:
    items = due_items(doc(), D(2026, 11, 25))
    # low: full every 36 months -> 2027-02-28; health check 12 months after A2 -> 2027-01-15
    (full,) = items_of(items, "ops", AssessmentKind.FULL)
    assert full.due == D(2027, 2, 28) and full.status is DueStatus.SCHEDULED
    (check,) = items_of(items, "ops", AssessmentKind.HEALTH_CHECK)
    assert check.due == D(2027, 1, 15) and check.status is DueStatus.DUE and check.last == "A2"
    # ctl: the health check (2025-02-28) is before the full one (2026-02-28) and is overdue too
    (check,) = items_of(items, "ctl", AssessmentKind.HEALTH_CHECK)
    assert check.due == D(2025, 2, 28) and check.status is DueStatus.OVERDUE


def test_zone_never_assessed_is_overdue_and_sorted_first() -> None:
    items = due_items(doc(), D(2026, 11, 25))
    (full,) = items_of(items, "new", AssessmentKind.FULL)
    assert full.due is None and full.status is DueStatus.OVERDUE
    assert "no full assessment" in full.reason
    assert items[0] is full  # overdue without a date sorts before dated overdue items
    assert items_of(items, "new", AssessmentKind.HEALTH_CHECK) == []
    assert has_overdue(items)


def test_assessments_after_today_do_not_count() -> None:
    items = due_items(doc(), D(2024, 2, 28))
    (full,) = items_of(items, "ctl", AssessmentKind.FULL)
    assert full.due is None


def test_end_of_support_triggers_a_scoped_reassessment() -> None:
    items = due_items(doc(), D(2026, 11, 25))
    (eos,) = items_of(items, "ctl", AssessmentKind.SCOPED)
    # 2026-06-30 + 90 days = 2026-09-28
    assert eos.due == D(2026, 9, 28) and eos.status is DueStatus.OVERDUE
    assert eos.trigger == "end-of-support:ews1" and "passed its end of support" in eos.reason
    # hist reaches end of support on 2027-01-10, inside the 90-day window -> due 2027-04-10,
    # which is outside the window: listed as scheduled
    (hist,) = items_of(items, "ops", AssessmentKind.SCOPED)
    assert hist.due == D(2027, 4, 10) and hist.status is DueStatus.SCHEDULED
    assert "reaches its end of support" in hist.reason
    # a narrower window does not look that far ahead
    assert items_of(due_items(doc(), D(2026, 11, 25), within_days=30), "ops", AssessmentKind.SCOPED) == []


def test_change_records_trigger_and_are_answered_by_a_later_assessment() -> None:
    changes = [
        {"id": "CR-1", "type": "new-external-connectivity", "title": "Vendor VPN", "assets": ["plc1"],
         "status": "implemented", "raised": "2026-08-01", "implemented": "2026-10-01"},
        {"id": "CR-2", "type": "security-incident", "title": "Malware on HMI", "zones": ["ops"],
         "status": "proposed", "raised": "2026-09-01"},
        {"id": "CR-3", "type": "architecture-change", "title": "Rejected", "zones": ["ops"],
         "status": "rejected", "raised": "2026-09-01"},
        {"id": "CR-4", "type": "patch", "title": "Monthly patches", "zones": ["ctl"],
         "status": "closed", "raised": "2026-09-01", "implemented": "2026-09-02", "closed": "2026-09-03"},
        {"id": "CR-5", "type": "vendor-end-of-support", "title": "EWS out of support", "assets": ["ews1"],
         "status": "implemented", "raised": "2026-06-01", "implemented": "2026-07-01"},
        {"id": "CR-6", "type": "new-integration", "title": "MES link", "zones": ["ctl"],
         "status": "approved", "raised": "2026-11-01", "planned": "2027-01-01"},
    ]
    items = due_items(doc(changes=changes), D(2026, 11, 25))
    scoped = {i.trigger: i for i in items if i.kind is AssessmentKind.SCOPED}
    # high class: 90 days after 2026-10-01 -> 2026-12-30, 35 days away
    assert scoped["change:CR-1"].zone == "ctl" and scoped["change:CR-1"].due == D(2026, 12, 30)
    assert scoped["change:CR-1"].status is DueStatus.DUE and scoped["change:CR-1"].days == 35
    # incident: 30 days from when it was recorded -> 2026-10-01, overdue
    assert scoped["change:CR-2"].due == D(2026, 10, 1) and scoped["change:CR-2"].status is DueStatus.OVERDUE
    assert "incident reaction time" in scoped["change:CR-2"].reason
    # rejected, patch and not-yet-implemented changes do not trigger; the EOS change record
    # replaces the data-derived end-of-support trigger for ews1
    assert "change:CR-3" not in scoped and "change:CR-4" not in scoped and "change:CR-6" not in scoped
    assert "end-of-support:ews1" not in scoped and scoped["change:CR-5"].due == D(2026, 9, 29)

    answered = doc(
        changes=changes,
        assessments=[
            *doc().model_dump()["assessments"],
            {"id": "A3", "kind": "scoped", "date": "2026-10-20", "zones": ["ctl"], "assessors": ["alice"],
             "outcome": "satisfactory"},
            {"id": "A4", "kind": "health-check", "date": "2026-09-15", "zones": ["ops"], "assessors": ["alice"],
             "outcome": "satisfactory", "changes": ["CR-2"]},
        ],
    )
    scoped = {i.trigger for i in due_items(answered, D(2026, 11, 25)) if i.kind is AssessmentKind.SCOPED}
    assert scoped == {"end-of-support:hist"}


def test_extra_triggers_from_a_site_diff() -> None:
    t = Trigger(TriggerSource.SITE_DIFF, "conduit:c9", "new-external-connectivity", D(2026, 11, 1), ("ops",),
                "site diff: new conduit c9")
    items = due_items(doc(), D(2026, 11, 25), extra_triggers=[t])
    (item,) = [i for i in items if i.trigger == "site-diff:conduit:c9"]
    assert item.zone == "ops" and item.due == D(2027, 1, 30) and item.status is DueStatus.DUE


def test_configured_classes_replace_defaults() -> None:
    classes = [{"id": "high", "full_assessment_months": 12, "health_check_months": 6}]
    (full,) = items_of(due_items(doc(criticality_classes=classes), D(2025, 3, 1)), "ctl", AssessmentKind.FULL)
    assert full.due == D(2025, 2, 28) and full.status is DueStatus.OVERDUE
    assert full.as_dict()["due"] == "2025-02-28"


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)), st.integers(0, 240))
def test_add_months_properties(day: dt.date, months: int) -> None:
    out = add_months(day, months)
    assert (out.year * 12 + out.month) - (day.year * 12 + day.month) == months
    assert out.day == min(day.day, calendar.monthrange(out.year, out.month)[1])
    assert out >= day
