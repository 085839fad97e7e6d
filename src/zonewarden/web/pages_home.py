"""The portfolio dashboard: every site the user may see and where it stands."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from zonewarden.services.queries import portfolio, trends
from zonewarden.web import charts
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, store_of

router = APIRouter()


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
                expiry_days=portfolio.EXPIRY_DAYS, portfolio_trend=trend.total,
                portfolio_charts=trend_charts(trend.total))
