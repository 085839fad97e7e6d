"""iCalendar (RFC 5545) export of a patch plan: one event per maintenance-window occurrence that
has work planned, listing the assets and patches.

Deterministic on purpose, so a re-export that changes nothing changes no byte and calendar
clients update events in place: UIDs are derived from site, window and start; ``DTSTAMP`` is
the plan's as-of date (RFC 5545 3.8.7.2 only asks for a UTC date-time); events are sorted.
Times are converted from the site's time zone to UTC (``...Z``), which avoids shipping
VTIMEZONE definitions and is read correctly by every client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from zonewarden.engines.patchplan import Assignment, PatchPlan

PRODID = "-//zonewarden//patch plan//EN"


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1) without splitting a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        # Step back off UTF-8 continuation bytes (0b10xxxxxx).
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines begin with one space
    return "\r\n ".join(parts)


def _utc(local: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return local.replace(tzinfo=tz).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def uid(site_id: str, window: str, start: dt.datetime) -> str:
    digest = hashlib.sha256(f"{site_id}\n{window}\n{start.isoformat()}".encode()).hexdigest()[:32]
    return f"{digest}@zonewarden"


def plan_to_ical(
    plan: PatchPlan,
    *,
    site_id: str,
    site_name: str,
    timezone: str | None,
    window_names: dict[str, str] | None = None,
) -> str:
    """The plan as an iCalendar document (CRLF line ends, folded lines)."""
    tz = zoneinfo.ZoneInfo(timezone or "UTC")
    names = window_names or {}
    groups: dict[tuple[dt.datetime, str], list[Assignment]] = defaultdict(list)
    for a in plan.assignments:
        groups[(a.start, a.window)].append(a)
    stamp = dt.datetime.combine(plan.today, dt.time(0, 0), dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(f'Patch plan: {site_name}')}",
    ]
    for (start, window), items in sorted(groups.items()):
        items = sorted(items, key=lambda a: (a.item.asset_id, a.item.patch_ref))
        end = items[0].end
        assets = sorted({a.item.asset_id for a in items})
        late = [a for a in items if a.late]
        summary = f"Patching: {names.get(window, window)} ({len(assets)} asset{'s' if len(assets) != 1 else ''})"
        if late:
            summary += f", {len(late)} past deadline"
        desc = "\n".join(
            f"{a.item.asset_id}: {a.item.patch_ref} [{a.item.priority.value}, tier {a.tier}, {a.wave.value}"
            + (", revalidation]" if a.revalidation else "]")
            + (f" - past deadline {a.deadline} ({a.reason.value if a.reason else ''})" if a.late else f" - deadline {a.deadline}")
            for a in items
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid(site_id, window, start)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(start, tz)}",
            f"DTEND:{_utc(end, tz)}",
            f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(desc)}",
            f"LOCATION:{escape_text(window)}",
            f"CATEGORIES:{','.join(escape_text(c) for c in _categories(items))}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _categories(items: Iterable[Assignment]) -> list[str]:
    cats = {"patching"} | {a.wave.value for a in items}
    return sorted(cats)


__all__ = ["escape_text", "fold", "plan_to_ical", "uid"]
