"""The paths explorer: every conduit path between two zones (or the zones of two assets, or
zone kinds), per hop the protocols that open in the path's direction and the ones that continue
end to end (``queries.architecture.paths``), as a table and highlighted on the diagram."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from zonewarden.engines.paths import ZonePath
from zonewarden.errors import InputError, NotFoundError, ZonewardenError
from zonewarden.services import site_views, sites
from zonewarden.services.queries import architecture
from zonewarden.web.diagram import linked_diagram
from zonewarden.web.errors import message_of, status_of
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, store_of

router = APIRouter()
LIMIT = 200


def _zone_of(request: Request, session: Any, ident: str, zone: str, asset: str, which: str) -> str:
    """The zone selector: an asset's zone when an asset is named, else the zone (or kind)."""
    if asset.strip():
        try:
            item = site_views.record(store_of(request), session.principal, ident, "assets", asset.strip())["item"]
        except NotFoundError:
            raise InputError(f"{which} asset: no asset {asset.strip()!r} in site {ident}") from None
        if not item.get("zone"):
            raise InputError(f"{which} asset {asset.strip()!r} is in no zone")
        return str(item["zone"])
    if not zone.strip():
        raise InputError(f"{which}: choose a zone or name an asset")
    return zone.strip()


def _hops(p: Any) -> list[dict[str, Any]]:
    return [{"from": p.zones[i], "conduit": c, "to": p.zones[i + 1],
             "protocols": list(p.hop_protocols[i]) if i < len(p.hop_protocols) else [],
             "unbacked": c in p.unbacked_conduits} for i, c in enumerate(p.conduits)]


@router.get("/sites/{site_id}/paths")
def paths_page(request: Request, site_id: str, session: Viewer,
               source: Annotated[str, Query(max_length=128)] = "", target: Annotated[str, Query(max_length=128)] = "",
               source_asset: Annotated[str, Query(max_length=128)] = "",
               target_asset: Annotated[str, Query(max_length=128)] = "",
               max_hops: Annotated[int, Query(ge=1, le=12)] = 6,
               path: Annotated[int, Query(ge=1, le=LIMIT)] = 1) -> Response:
    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal)
    zones = site_views.records(store, session.principal, ident, "zones", limit=1000).items
    asked = bool(source or target or source_asset or target_asset)
    result, error, code = None, None, 200
    found: list[dict[str, Any]] = []
    if asked:
        try:
            src = _zone_of(request, session, ident, source, source_asset, "source")
            dst = _zone_of(request, session, ident, target, target_asset, "target")
            result = architecture.paths(store, principal=session.principal, site_id=ident, source=src, target=dst,
                                        max_hops=max_hops, limit=LIMIT)
            found = [{"n": i + 1, "path": p, "hops": _hops(p), "end_to_end": list(p.end_to_end_protocols)}
                     for i, p in enumerate(result.report.paths)]
        except ZonewardenError as exc:
            code, error = status_of(exc)[0], message_of(exc)
    chosen = found[path - 1] if found and path <= len(found) else (found[0] if found else None)
    diagram, diagram_error = None, None
    try:
        drawing = architecture.diagram(store, principal=session.principal, site_id=ident)
        on: ZonePath | None = chosen["path"] if chosen else None
        marks = [f"zone-{z}" for z in on.zones] + [f"conduit-{c}" for c in on.conduits] if on else []
        diagram = linked_diagram(drawing.svg, ident, [z["id"] for z in zones], highlight=marks)
    except ZonewardenError as exc:  # e.g. Graphviz missing on the server: the table stands alone
        diagram_error = str(exc)
    query = {"source": source, "target": target, "source_asset": source_asset, "target_asset": target_asset,
             "max_hops": max_hops}
    return page(request, "paths.html", session, status=code, title="Paths explorer", site_id=ident, zones=zones,
                query=query, asked=asked, error=error, result=result, found=found, chosen=chosen,
                diagram=diagram, diagram_error=diagram_error)
