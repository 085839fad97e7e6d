"""The patching calendar of a site: maintenance-window occurrences, blackout days, patch
deadlines and deferral expiries per day, for a month view. Dates are the site's local dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zonewarden.services.principal import Principal
from zonewarden.store.db import Store


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    day: dt.date
    kind: str
    """``window``, ``blackout``, ``deadline`` or ``deferral-expires``."""
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
    status = patch_status_of(doc, as_of=as_of, findings=finding_items(store, ident))
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
    out.sort(key=lambda e: (e.day, e.kind, e.label))
    return PatchCalendar(ident, status.as_of, first, last, tuple(out))


__all__ = ["CalendarEntry", "PatchCalendar", "patch_calendar"]
