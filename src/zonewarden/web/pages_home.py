"""The portfolio dashboard: every site the user may see and where it stands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from zonewarden.services.queries import portfolio, trends
from zonewarden.store.db import Store
from zonewarden.web import charts
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, store_of

router = APIRouter()


def duration(td: dt.timedelta | None) -> str:
    """``3 days 4 h``, ``5 h 10 min``, ``12 min``: how long, in words a reader takes in."""
    if td is None:
        return "–"
    minutes = int(td.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def stale_rows(store: Store) -> list[dict[str, str]]:
    """The CSAF providers past their sync interval (``alerts.stale_feeds``), most overdue first."""
    from zonewarden.services import alerts

    return [
        {"url": f.url, "last_sync": f.last_sync_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
         "interval": duration(f.interval), "overdue": duration(f.overdue)}
        for f in alerts.stale_feeds(store)
    ]


def trend_charts(t: trends.Trends) -> dict[str, Markup]:
    """The three monthly charts of a site's (or the portfolio's) trend."""
    who = t.name
    return {
        "triage": charts.columns(f"Mean days to triage per month, {who}",
                                 [(m.month, m.mean_days_to_triage) for m in t.months], unit=" d"),
        "remediate": charts.columns(f"Mean days to remediate per month, {who}",
                                    [(m.month, m.mean_days_to_remediate) for m in t.months], unit=" d"),
        "policy": charts.columns(f"Findings within the patch policy per month, {who}",
                                 [(m.month, m.pct_within_policy) for m in t.months], unit=" %", peak=100.0),
    }


@router.get("/")
def dashboard(request: Request, session: Viewer) -> Response:
    store = store_of(request)
    sites = portfolio.portfolio(store, session.principal)
    trend = trends.portfolio_trends(store, principal=session.principal)
    by_site = {t.site_id: t for t in trend.sites}
    cards: list[dict[str, Any]] = [
        {
            "health": h,
            "check_chart": charts.bars(f"Open check findings by severity, {h.name}", list(h.check.items()), css_prefix="bar"),
            "advisory_chart": charts.bars(f"Affected advisory findings by SSVC priority, {h.name}",
                                          list(h.advisory_findings.items())),
            "patch_chart": charts.gauge(f"Patch compliance, {h.name}", h.patch_compliance),
            "trend": by_site.get(h.site_id),
            "trend_charts": trend_charts(by_site[h.site_id]) if h.site_id in by_site else None,
        }
        for h in sites
    ]
    return page(request, "dashboard.html", session, title="Dashboard", cards=cards,
                expiry_days=portfolio.EXPIRY_DAYS, stale_feeds=stale_rows(store) if cards else [], portfolio_trend=trend.total,
                portfolio_charts=trend_charts(trend.total))
