"""The assessment calendar: which assessment of which zone is due or overdue, and why.

Three sources of due dates (IEC 62443-2-1 asks for periodic and event-driven reassessment):

* the calendar: a full assessment every N months and a health check every M months, by the
  zone's criticality class;
* change records: a change of a triggering type needs a scoped reassessment of the zones it
  touches (its zones plus the zones of its assets) within the class's reaction time;
* the data itself: an asset past its end of support, and (via :mod:`zonewarden.engines.sitediff`)
  a new critical asset or a new conduit to an external or remote-access zone.

Pure: ``today`` is passed in; dates are calendar dates of the site. :func:`site_date` turns a
user's ``--as-of`` (a date, or a date-time with an offset) into the site's date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from zonewarden.domain.governance import (
    Assessment,
    AssessmentKind,
    ChangeType,
    CriticalityClass,
    effective_classes,
)
from zonewarden.domain.site import SiteDocument, Zone, ZoneKind
from zonewarden.errors import InputError

# --------------------------------------------------------------------------------------------
# Dates


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the end of a shorter month.

    29 Feb 2024 + 12 months is 28 Feb 2025 (the interval must not slip into March), and
    + 48 months is 29 Feb 2028 again.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def site_date(value: str, timezone: str | None) -> dt.date:
    """The site's calendar date for a user-given instant.

    ``2026-03-01`` is taken as is. A date-time with an offset (``2026-02-28T23:30:00-05:00``,
    ``...Z``) is converted to the site's time zone (UTC when the site sets none) and its date
    taken, so the same instant gives the same answer wherever the command runs. A date-time
    without an offset is already site-local.
    """
    text = value.strip()
    try:
        if "T" in text or " " in text:
            stamp = dt.datetime.fromisoformat(text)
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(zoneinfo.ZoneInfo(timezone or "UTC"))
            return stamp.date()
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{value!r} is not a date; write YYYY-MM-DD or an ISO date-time with offset "
            "(2026-03-01T08:00:00+01:00)"
        ) from None


_WITHIN = re.compile(r"^\s*(\d{1,5})\s*([dw]?)\s*$", re.IGNORECASE)


def parse_days(text: str) -> int:
    """``90d``, ``12w`` or ``30`` as a number of days (months are not fixed-length, so no ``m``)."""
    m = _WITHIN.match(text)
    if m is None:
        raise InputError(f"{text!r} is not a period; write days as '90d' or weeks as '12w'")
    n = int(m[1])
    return n * 7 if m[2].lower() == "w" else n


# --------------------------------------------------------------------------------------------
# Triggers


class TriggerSource(StrEnum):
    CHANGE = "change"
    END_OF_SUPPORT = "end-of-support"
    SITE_DIFF = "site-diff"
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class Trigger:
    """An event that makes a scoped reassessment of some zones due."""

    source: TriggerSource
    ref: str
    """Change id, asset id, or the diff item that caused it."""
    kind: str
    """A change type value (new-external-connectivity, ...) or end-of-support."""
    date: dt.date
    """When the clock starts."""
    zones: tuple[str, ...]
    reason: str
    incident: bool = False
    """Security incidents use the class's shorter reaction time."""


def change_triggers(doc: SiteDocument) -> list[Trigger]:
    """Triggers from change records of a triggering type that have taken effect."""
    asset_zone = {a.id: a.zone for a in doc.assets}
    out = []
    for c in doc.changes:
        date = c.effective_date
        if date is None or not c.type.triggers_reassessment:
            continue
        zones = set(c.zones) | {z for a in c.assets if (z := asset_zone.get(a)) is not None}
        out.append(
            Trigger(
                source=TriggerSource.CHANGE,
                ref=c.id,
                kind=c.type.value,
                date=date,
                zones=tuple(sorted(zones)),
                reason=f"change {c.id} ({c.type.value}, {c.status.value}, in effect since {date}): {c.title}",
                incident=c.type is ChangeType.SECURITY_INCIDENT,
            )
        )
    return out


def end_of_support_triggers(
    doc: SiteDocument, today: dt.date, horizon_days: int = 0
) -> list[Trigger]:
    """Assets whose end of support is reached by ``today + horizon_days``.

    Skipped when a vendor-end-of-support change record that has taken effect names the asset:
    that record is the trigger and carries the better date. A record that is only proposed does
    not silence the data.
    """
    covered = {
        a
        for c in doc.changes
        if c.type is ChangeType.VENDOR_END_OF_SUPPORT and c.effective_date is not None
        for a in c.assets
    }
    limit = today + dt.timedelta(days=horizon_days)
    out = []
    for a in doc.assets:
        if a.end_of_support is None or a.zone is None or a.id in covered:
            continue
        if a.end_of_support <= limit:
            verb = "passed" if a.end_of_support <= today else "reaches"
            out.append(
                Trigger(
                    source=TriggerSource.END_OF_SUPPORT,
                    ref=a.id,
                    kind="end-of-support",
                    date=a.end_of_support,
                    zones=(a.zone,),
                    reason=f"asset {a.id} {verb} its end of support on {a.end_of_support}",
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# Due items


class DueStatus(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    SCHEDULED = "scheduled"


_STATUS_ORDER = {DueStatus.OVERDUE: 0, DueStatus.DUE: 1, DueStatus.SCHEDULED: 2}


@dataclass(frozen=True, slots=True)
class DueItem:
    """One assessment a zone needs."""

    zone: str
    criticality: str
    kind: AssessmentKind
    due: dt.date | None
    """None when it was never done: due since the zone exists."""
    status: DueStatus
    reason: str
    """Why it is needed and how the date was computed."""
    trigger: str
    """'calendar', or '<source>:<ref>' of the trigger."""
    last: str | None
    """Id of the assessment the date counts from (calendar items)."""
    days: int | None
    """due - today in days (negative when overdue)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "criticality": self.criticality,
            "kind": self.kind.value,
            "due": None if self.due is None else self.due.isoformat(),
            "status": self.status.value,
            "days": self.days,
            "reason": self.reason,
            "trigger": self.trigger,
            "last": self.last,
        }


def _status(due: dt.date | None, today: dt.date, within_days: int) -> DueStatus:
    if due is None or due < today:
        return DueStatus.OVERDUE
    if (due - today).days <= within_days:
        return DueStatus.DUE
    return DueStatus.SCHEDULED


def _latest(assessments: Iterable[Assessment]) -> Assessment | None:
    return max(assessments, key=lambda a: (a.date, a.id), default=None)


def _calendar_items(
    zone: Zone, cls: CriticalityClass, history: list[Assessment], today: dt.date, within_days: int
) -> list[DueItem]:
    mine = [a for a in history if a.covers(zone.id) and a.date <= today]
    full = _latest(a for a in mine if a.kind is AssessmentKind.FULL)
    crit = zone.criticality.value
    items = []
    if full is None:
        items.append(
            DueItem(
                zone.id,
                crit,
                AssessmentKind.FULL,
                None,
                DueStatus.OVERDUE,
                "no full assessment on record for this zone",
                "calendar",
                None,
                None,
            )
        )
        full_due = None
    else:
        full_due = add_months(full.date, cls.full_assessment_months)
        items.append(
            DueItem(
                zone.id,
                crit,
                AssessmentKind.FULL,
                full_due,
                _status(full_due, today, within_days),
                f"last full assessment {full.id} on {full.date} + {cls.full_assessment_months} months "
                f"(criticality {crit})",
                "calendar",
                full.id,
                (full_due - today).days,
            )
        )
    check = _latest(a for a in mine if a.kind in (AssessmentKind.FULL, AssessmentKind.HEALTH_CHECK))
    if check is not None:
        check_due = add_months(check.date, cls.health_check_months)
        # A full assessment due no later than the health check replaces it.
        if full_due is None or check_due < full_due:
            items.append(
                DueItem(
                    zone.id,
                    crit,
                    AssessmentKind.HEALTH_CHECK,
                    check_due,
                    _status(check_due, today, within_days),
                    f"last {check.kind.value} {check.id} on {check.date} + {cls.health_check_months} "
                    f"months (criticality {crit})",
                    "calendar",
                    check.id,
                    (check_due - today).days,
                )
            )
    return items


def _answered(trigger: Trigger, zone: str, history: list[Assessment]) -> Assessment | None:
    """A full or scoped assessment of ``zone`` on or after the trigger date, or one that names
    the change record explicitly."""
    for a in sorted(history, key=lambda a: (a.date, a.id)):
        if not a.covers(zone):
            continue
        if trigger.source is TriggerSource.CHANGE and trigger.ref in a.changes:
            return a
        if a.kind in (AssessmentKind.FULL, AssessmentKind.SCOPED) and a.date >= trigger.date:
            return a
    return None


def due_items(
    doc: SiteDocument,
    today: dt.date,
    *,
    within_days: int = 90,
    extra_triggers: Iterable[Trigger] = (),
) -> list[DueItem]:
    """Every assessment the site's zones need, overdue first, then by due date and zone.

    ``extra_triggers`` adds triggers found elsewhere (a site diff against the last import).
    Assessments dated after ``today`` are ignored (they have not happened yet as of that day).
    """
    classes = effective_classes(doc.criticality_classes)
    history = [a for a in doc.assessments if a.date <= today]
    zones = doc.zone_index()
    items: list[DueItem] = []
    for zone in zones.values():
        if zone.kind is ZoneKind.EXTERNAL:
            continue  # outside the plant's control: nothing of ours to assess there
        items += _calendar_items(zone, classes[zone.criticality], history, today, within_days)
    triggers = (
        change_triggers(doc)
        + end_of_support_triggers(doc, today, within_days)
        + list(extra_triggers)
    )
    for t in triggers:
        if t.date > today + dt.timedelta(days=within_days):
            continue
        for zid in t.zones:
            target = zones.get(zid)
            if target is None:
                continue
            if _answered(t, zid, history) is not None:
                continue
            cls = classes[target.criticality]
            days = cls.incident_reassessment_days if t.incident else cls.change_reassessment_days
            due = t.date + dt.timedelta(days=days)
            label = "incident" if t.incident else "change"
            items.append(
                DueItem(
                    zid,
                    target.criticality.value,
                    AssessmentKind.SCOPED,
                    due,
                    _status(due, today, within_days),
                    f"{t.reason}; scoped reassessment within {days} days ({label} reaction time, "
                    f"criticality {target.criticality.value})",
                    f"{t.source.value}:{t.ref}",
                    None,
                    (due - today).days,
                )
            )
    return sorted(
        items,
        key=lambda i: (
            _STATUS_ORDER[i.status],
            i.due or dt.date.min,
            i.zone,
            i.kind.value,
            i.trigger,
        ),
    )


def has_overdue(items: Iterable[DueItem]) -> bool:
    return any(i.status is DueStatus.OVERDUE for i in items)


__all__ = [
    "DueItem",
    "DueStatus",
    "Trigger",
    "TriggerSource",
    "add_months",
    "change_triggers",
    "due_items",
    "end_of_support_triggers",
    "has_overdue",
    "parse_days",
    "site_date",
]
