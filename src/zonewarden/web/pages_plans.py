"""The risk register with its heat maps; the assessments due and the patching plan's windows,
blackouts, deadlines and deferral expiries as month calendars (the evidence page is
``pages_evidence``)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from zonewarden.services import sites
from zonewarden.services.queries import risk
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, store_of

router = APIRouter()


@router.get("/sites/{site_id}/risks")
def risks(request: Request, site_id: str, session: Viewer) -> Response:
    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal)
    result = risk.risks(store, principal=session.principal, site_id=ident)
    data = result.as_dict()
    heat = data["heat_map"]
    maps = []
    for which in ("inherent", "residual"):
        # Likelihood from high (top) to low, impact from low (left) to high, as risk matrices are drawn.
        rows = [(lk + 1, [(heat["ratings"][lk][im], heat[which][lk][im]) for im in range(len(heat["ratings"][lk]))])
                for lk in reversed(range(len(heat["ratings"])))]
        maps.append({"which": which, "rows": rows, "impacts": list(range(1, len(heat["ratings"][0]) + 1))})
    return page(request, "risks.html", session, title="Risk register", site_id=ident, method=data["method"],
                maps=maps, rows=result.rows(), over=result.over_tolerance, as_of=result.as_of)


def _months(start: dt.date, count: int) -> list[tuple[int, int]]:
    out, y, m = [], start.year, start.month
    for _ in range(count):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@router.get("/sites/{site_id}/due")
def due(request: Request, site_id: str, session: Viewer,
        months: Annotated[int, Query(ge=1, le=12)] = 3) -> Response:
    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal)
    result = risk.due(store, principal=session.principal, site_id=ident, within=f"{months * 31}d", show_all=True)
    rows = result.rows()
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for r in rows:
        if r["due"] and r["due"] != "never done":
            by_day.setdefault(dt.date.fromisoformat(r["due"]), []).append(r)
    overdue = [r for r in rows if r["status"] == "overdue"]
    cal = calendar.Calendar(firstweekday=0)
    grids = []
    for y, m in _months(result.as_of, months):
        weeks = [[(d, by_day.get(d, []), d.month == m) for d in week] for week in cal.monthdatescalendar(y, m)]
        grids.append({"title": dt.date(y, m, 1).strftime("%B %Y"), "weeks": weeks})
    return page(request, "due.html", session, title="Assessments due", site_id=ident, as_of=result.as_of,
                overdue=overdue, grids=grids, counts=result.counts(), weekdays=list(calendar.day_abbr))


@router.get("/sites/{site_id}/patching")
def patching(request: Request, site_id: str, session: Viewer,
             months: Annotated[int, Query(ge=1, le=12)] = 2) -> Response:
    from zonewarden.services.queries.patch_calendar import patch_calendar

    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal)
    today = sites.site_today(store, ident)
    spans = _months(today, months)
    first = dt.date(spans[0][0], spans[0][1], 1)
    y, m = spans[-1]
    last = dt.date(y, m, calendar.monthrange(y, m)[1])
    cal = patch_calendar(store, session.principal, ident, first, last, as_of=today)
    by_day: dict[dt.date, list[Any]] = {}
    for e in cal.entries:
        by_day.setdefault(e.day, []).append(e)
    grid = calendar.Calendar(firstweekday=0)
    grids = [{"title": dt.date(y, m, 1).strftime("%B %Y"),
              "weeks": [[(d, by_day.get(d, []), d.month == m) for d in week] for week in grid.monthdatescalendar(y, m)]}
             for y, m in spans]
    return page(request, "patching.html", session, title="Patching calendar", site_id=ident, as_of=cal.as_of,
                grids=grids, weekdays=list(calendar.day_abbr), total=len(cal.entries))
