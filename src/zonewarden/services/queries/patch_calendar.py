"""The patching calendar of a site: maintenance-window occurrences, blackout days, patch
deadlines, deferral expiries, the plan's waves (pilot, then production, in the window
occurrences the greedy planner chooses: fast and deterministic, the baseline of
`zonewarden patch plan`) and the recorded patch changes on their planned dates, per day, for a
month view. Dates are the site's local dates."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.site import SiteDocument
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.wording import count


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    day: dt.date
    kind: str
    """``window``, ``blackout``, ``deadline``, ``deferral-expires``, ``pilot`` / ``production``
    (a wave of the plan: one patch in one window occurrence, its assets counted) or ``change``
    (a recorded patch change, on its planned or implemented date)."""
    label: str


@dataclass(frozen=True, slots=True)
class PatchCalendar:
    site_id: str
    as_of: dt.date
    first: dt.date
    last: dt.date
    entries: tuple[CalendarEntry, ...]

    def on(self, day: dt.date) -> list[CalendarEntry]:
        return [e for e in self.entries if e.day == day]


def patch_calendar(store: Store, principal: Principal, site_id: str, first: dt.date, last: dt.date,
                   *, as_of: dt.date | None = None) -> PatchCalendar:
    """Everything on the patching calendar between ``first`` and ``last`` (inclusive)."""
    from zonewarden.services.patching import finding_items
    from zonewarden.services.queries import site_of
    from zonewarden.services.queries.patching import patch_status_of
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id)
    doc = load_document(store, ident)
    findings = finding_items(store, ident)
    status = patch_status_of(doc, as_of=as_of, findings=findings)
    out: list[CalendarEntry] = []
    for w in doc.maintenance_windows:
        for o in w.occurrences(first, last):
            out.append(CalendarEntry(o.start.date(), "window",
                                     f"{w.name} {o.start.strftime('%H:%M')}-{o.end.strftime('%H:%M')}"))
    for b in doc.blackouts:
        day = max(b.start, first)
        while day <= min(b.end, last):
            out.append(CalendarEntry(day, "blackout", b.name))
            day += dt.timedelta(days=1)
    for item in status.status.as_dict().get("items", []):
        deadline = item.get("deadline")
        if deadline and item.get("state") not in ("patched", "patched-late"):
            day = dt.date.fromisoformat(deadline)
            if first <= day <= last:
                out.append(CalendarEntry(day, "deadline", f"{item['patch']} on {item['asset']}"))
    for d in doc.deferrals:
        if first <= d.expires <= last:
            out.append(CalendarEntry(d.expires, "deferral-expires", f"deferral {d.id} ({d.asset})"))
    out += _waves(doc, findings, status.as_of, first, last)
    for c in doc.patch_changes:
        when = c.implemented or c.planned
        if when is not None and first <= when <= last:
            out.append(CalendarEntry(when, "change", f"{c.id} {c.wave.value}: {c.patch} ({c.status.value})"))
    out.sort(key=lambda e: (e.day, e.kind, e.label))
    return PatchCalendar(ident, status.as_of, first, last, tuple(out))


def _waves(doc: SiteDocument, findings: list[Any], today: dt.date, first: dt.date, last: dt.date) -> list[CalendarEntry]:
    """The greedy plan from ``today`` to ``last``, one entry per (occurrence, patch, wave)."""
    from zonewarden.services.queries.patching import patch_plan_of

    if last < today:
        return []
    plan = patch_plan_of(doc, as_of=today, findings=findings, horizon=(last - today).days + 1, solver="greedy").plan
    groups: Counter[tuple[dt.date, str, str, str, str]] = Counter()
    for a in plan.assignments:
        day = a.start.date()
        if first <= day <= last:
            groups[(day, a.wave.value, a.item.patch_ref, a.window, a.start.strftime("%H:%M"))] += 1
    names = {w.id: w.name for w in doc.maintenance_windows}
    return [CalendarEntry(day, wave, f"{wave} wave, {patch}: {count(n, 'asset')} in {names.get(window, window)} {at}")
            for (day, wave, patch, window, at), n in groups.items()]


__all__ = ["CalendarEntry", "PatchCalendar", "patch_calendar"]
