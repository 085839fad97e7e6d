"""Advisory pages: the list of stored advisories (searched and paged in the database), one
advisory in detail, and the per-asset view of an asset's findings grouped by the fix that
closes them. Read-only; the data comes from ``services.queries.advisory_detail`` and
``services.queries.asset_findings``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from zonewarden.services import sites
from zonewarden.services.queries import advisory_detail
from zonewarden.services.queries.asset_findings import asset_findings
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, store_of

router = APIRouter()
PAGE = 50


@router.get("/advisories")
def advisory_list(request: Request, session: Viewer, q: Annotated[str | None, Query(max_length=200)] = None,
                  offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    found = advisory_detail.search(store_of(request), principal=session.principal, q=q, offset=offset, limit=PAGE)
    return page(request, "advisories.html", session, title="Advisories", rows=found.rows, total=found.total,
                offset=offset, page_size=PAGE, q=q or "", query=urlencode({"q": q}) if q else "")


@router.get("/advisories/{tracking_id:path}")
def advisory_page(request: Request, tracking_id: str, session: Viewer) -> Response:
    d = advisory_detail.detail(store_of(request), tracking_id, principal=session.principal)
    return page(request, "advisory.html", session, title=d.row.tracking_id, d=d)


@router.get("/sites/{site_id}/assets/{asset_id}")
def asset_page(request: Request, site_id: str, asset_id: str, session: Viewer) -> Response:
    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal)
    view = asset_findings(store, ident, asset_id, principal=session.principal)
    return page(request, "asset.html", session, title=f"Asset {asset_id}", v=view, site_id=ident)
