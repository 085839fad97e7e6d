"""The portfolio dashboard: every site the user may see and where it stands."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from zonewarden.services.queries import portfolio
from zonewarden.web import charts
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, store_of

router = APIRouter()


@router.get("/")
def dashboard(request: Request, session: Viewer) -> Response:
    sites = portfolio.portfolio(store_of(request), session.principal)
    cards = [
        {
            "health": h,
            "check_chart": charts.bars(f"Open check findings by severity, {h.name}", list(h.check.items()), css_prefix="bar"),
            "advisory_chart": charts.bars(f"Affected advisory findings by SSVC priority, {h.name}",
                                          list(h.advisory_findings.items())),
            "patch_chart": charts.gauge(f"Patch compliance, {h.name}", h.patch_compliance),
        }
        for h in sites
    ]
    return page(request, "dashboard.html", session, title="Dashboard", cards=cards,
                expiry_days=portfolio.EXPIRY_DAYS)
