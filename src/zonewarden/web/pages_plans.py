"""The risk register with its heat maps, edits (through ``site_edits`` with the form's revision),
signed acceptance and the SL-T proposals with their rules; the assessments due and the patching
plan's windows, blackouts, deadlines and deferral expiries as month calendars (the evidence page
is ``pages_evidence``)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from zonewarden.domain.risk import Treatment
from zonewarden.errors import (
    InputError,
    NotFoundError,
    Problem,
    StaleRevisionError,
    ZonewardenError,
)
from zonewarden.io import yamlio
from zonewarden.services import access, approvals_more, site_edits, site_views, sites
from zonewarden.services.queries import risk
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store
from zonewarden.web.errors import message_of, status_of
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, Writer, store_of

router = APIRouter()


def _risks(request: Request, session: Any, site_id: str, *, status: int = 200, **extra: Any) -> Response:
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
    slt = risk.slt(store, principal=session.principal, site_id=ident)
    return page(request, "risks.html", session, status=status, title="Risk register", site_id=ident,
                method=data["method"], maps=maps, rows=result.rows(), over=result.over_tolerance, as_of=result.as_of,
                scenarios={e.id: e.scenario for e in result.entries}, treatments=[t.value for t in Treatment],
                revision=site_views.revision(store, session.principal, ident),
                can_edit=access.allowed(session.principal, "risk.edit", ident),
                can_accept=access.allowed(session.principal, "risk.accept", ident),
                slt=slt.proposals, slt_rows=slt.rows(), **{"message": None, "error": None, **extra})


@router.get("/sites/{site_id}/risks")
def risks(request: Request, site_id: str, session: Viewer) -> Response:
    return _risks(request, session, site_id)


def _levels(text: str | None, what: str) -> dict[str, int]:
    """``supply-disruption=4, regulatory=3`` as {category: level}."""
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, level = part.partition("=")
        if not sep or not name.strip() or not level.strip().isdigit():
            raise InputError(f"{what}: {part.strip()!r} is not CATEGORY=LEVEL (e.g. supply-disruption=4)",
                             [Problem("write the impacts as category=level separated by commas", (what,))])
        out[name.strip()] = int(level)
    return out


def _risk_write(request: Request, session: Any, site_id: str, done: str, write: Callable[[Store, str], Any]) -> Response:
    store = store_of(request)
    try:
        ident = sites.resolve_site_id(store, site_id, session.principal)
        write(store, ident)
    except ZonewardenError as exc:
        message = message_of(exc)
        if isinstance(exc, StaleRevisionError):
            message += " Nothing was overwritten: the register below shows the current state; make your change again."
        return _risks(request, session, site_id, status=status_of(exc)[0], error=message)
    return _risks(request, session, site_id, message=done)


REVISION = Annotated[str, Form(min_length=1, max_length=128)]
SHORT = Annotated[str | None, Form(max_length=4000)]


@router.post("/sites/{site_id}/risks/{risk_id}/edit")
def edit_risk(request: Request, site_id: str, risk_id: str, session: Writer, revision: REVISION,
              title: SHORT = None, likelihood: Annotated[int | None, Form(ge=1, le=10)] = None, impacts: SHORT = None,
              residual_likelihood: Annotated[int | None, Form(ge=1, le=10)] = None, residual_impacts: SHORT = None,
              treatment: SHORT = None, owner: SHORT = None, review_date: SHORT = None, reason: SHORT = None) -> Response:
    """Change a risk's fields through ``site_edits.edit_record`` with the revision the form was
    made from: a stale form is refused and nothing is overwritten."""
    def write(store: Store, ident: str) -> None:
        changes: dict[str, Any] = {}
        if title:
            changes["title"] = title
        if likelihood is not None or impacts:
            current = _scenario(store, session, ident, risk_id)
            changes["inherent"] = {"likelihood": likelihood or current["inherent"]["likelihood"],
                                   "impacts": _levels(impacts, "impacts") or current["inherent"]["impacts"]}
        if residual_likelihood is not None:
            changes["residual"] = {"likelihood": residual_likelihood,
                                   "impacts": _levels(residual_impacts, "residual_impacts")}
        for key, value in (("treatment", treatment), ("owner", owner), ("review_date", review_date)):
            if value:
                changes[key] = value
        site_edits.edit_record(store, ident, "risks", risk_id, changes, principal=session.principal,
                               reason=reason or "edited in the risk register page", expected_revision=revision)
    return _risk_write(request, session, site_id, f"risk {risk_id} saved", write)


def _scenario(store: Store, session: Any, site_id: str, risk_id: str) -> dict[str, Any]:
    for e in risk.risks(store, principal=session.principal, site_id=site_id).entries:
        if e.id == risk_id:
            return dict(e.scenario.model_dump(mode="json"))
    raise NotFoundError(f"no risk {risk_id!r} in site {site_id!r}")


@router.post("/sites/{site_id}/risks/add")
def add_risk(request: Request, site_id: str, session: Writer, revision: REVISION,
             record: Annotated[str, Form(min_length=1, max_length=20000)]) -> Response:
    """A new risk scenario written as in the site file's ``risks`` section (YAML, read safely)."""
    def write(store: Store, ident: str) -> None:
        data = yamlio.loads(record, source="the new risk")
        if not isinstance(data, dict):
            raise InputError("the new risk: write one scenario as a mapping (id:, title:, threat:, zone:, ...)")
        site_edits.add_record(store, ident, "risks", data, principal=session.principal,
                              reason="added in the risk register page", expected_revision=revision)
    return _risk_write(request, session, site_id, "risk added", write)


@router.post("/sites/{site_id}/risks/{risk_id}/remove")
def remove_risk(request: Request, site_id: str, risk_id: str, session: Writer, revision: REVISION,
                reason: SHORT = None) -> Response:
    def write(store: Store, ident: str) -> None:
        site_edits.remove_record(store, ident, "risks", risk_id, principal=session.principal,
                                 reason=reason or "removed in the risk register page", expected_revision=revision)
    return _risk_write(request, session, site_id, f"risk {risk_id} removed", write)


@router.post("/sites/{site_id}/risks/{risk_id}/accept")
def accept(request: Request, site_id: str, risk_id: str, session: Writer, revision: REVISION,
           rationale: Annotated[str, Form(min_length=10, max_length=4000)], expires: Annotated[str, Form(max_length=32)],
           password: Annotated[str, Form(min_length=1, max_length=1024)], totp: SHORT = None,
           meaning: Annotated[str | None, Form(max_length=200)] = None) -> Response:
    """Accept the risk until ``expires``, signed: ``approvals_more.accept_risk`` re-authenticates."""
    def write(store: Store, ident: str) -> None:
        try:
            until = dt.date.fromisoformat(expires)
        except ValueError:
            raise InputError(f"expires: {expires!r} is not a date (YYYY-MM-DD)") from None
        approvals_more.accept_risk(store, ident, risk_id, rationale=rationale, expires=until,
                                   principal=session.principal, signing=Signing(password, totp or None, meaning or None),
                                   reason="accepted in the risk register page", expected_revision=revision)
    return _risk_write(request, session, site_id, f"risk {risk_id} accepted with your signature", write)


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
