"""Site, zone and conduit pages; a requirement status is recorded from the zone page (htmx
replaces the gap section with the new figures)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from zonewarden.errors import InputError, ZonewardenError
from zonewarden.services import requirements, site_views, sites
from zonewarden.services.queries import architecture
from zonewarden.services.queries.zone_detail import target_detail
from zonewarden.web.diagram import linked_diagram
from zonewarden.web.errors import message_of, status_of
from zonewarden.web.render import _url, is_htmx, page
from zonewarden.web.security import Viewer, Writer, store_of

router = APIRouter()
PAGE = 50
FINDINGS_PAGE = 100
"""Check findings per page of the site page (a 100k-asset site has thousands)."""
STATUSES = ("implemented", "partial", "planned", "not-implemented", "not-applicable", "compensated")


def _visible(request: Request, session: Any, site_id: str) -> str:
    return sites.resolve_site_id(store_of(request), site_id, session.principal)


@router.get("/sites/{site_id}")
def site_page(request: Request, site_id: str, session: Viewer, zones_at: Annotated[int, Query(alias="zones", ge=0)] = 0,
              conduits_at: Annotated[int, Query(alias="conduits", ge=0)] = 0,
              findings_at: Annotated[int, Query(alias="findings", ge=0)] = 0) -> Response:
    store = store_of(request)
    ident = _visible(request, session, site_id)
    summary = site_views.site_summary(store, session.principal, ident)
    zones = site_views.records(store, session.principal, ident, "zones", limit=PAGE, offset=zones_at)
    conduits = site_views.records(store, session.principal, ident, "conduits", limit=PAGE, offset=conduits_at)
    try:  # the check and the diagram on one read of the document (without its 100k assets)
        check, drawing = architecture.overview(store, principal=session.principal, site_id=ident)
        diagram = linked_diagram(drawing.svg, ident, list(drawing.zone_ids))
        diagram_error = None
    except ZonewardenError as exc:  # e.g. Graphviz missing on the server: say so, show the rest
        check = architecture.check(store, principal=session.principal, site_id=ident)
        diagram, diagram_error = None, str(exc)
    rows = check.rows()
    at = {"zones": zones_at, "conduits": conduits_at, "findings": findings_at}
    return page(request, "site.html", session, title=summary["site"].get("name") or ident, site=summary,
                site_id=ident, zones=zones, conduits=conduits, findings=rows[findings_at:findings_at + FINDINGS_PAGE],
                findings_total=len(rows), at=at, page_size=PAGE, findings_page=FINDINGS_PAGE, diagram=diagram,
                diagram_error=diagram_error)


def _zone_context(request: Request, session: Any, ident: str, zone_id: str) -> dict[str, Any]:
    store = store_of(request)
    detail = target_detail(store, session.principal, ident, zone_id)
    from zonewarden.services import access

    return {"detail": detail, "revision": site_views.revision(store, session.principal, ident),
            "can_edit": access.allowed(session.principal, "requirement.set", ident), "statuses": STATUSES,
            "site_id": ident}


@router.get("/sites/{site_id}/zones/{zone_id}")
def zone_page(request: Request, site_id: str, zone_id: str, session: Viewer,
              offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    store = store_of(request)
    ident = _visible(request, session, site_id)
    zone = site_views.record(store, session.principal, ident, "zones", zone_id)["item"]
    assets = site_views.records(store, session.principal, ident, "assets", zone=zone_id, limit=PAGE, offset=offset)
    return page(request, "zone.html", session, title=f"Zone {zone.get('name') or zone_id}", zone=zone,
                assets=assets, page_size=PAGE, message=None, error=None,
                **_zone_context(request, session, ident, zone_id))


@router.post("/sites/{site_id}/zones/{zone_id}/requirements")
def set_status(
    request: Request, site_id: str, zone_id: str, session: Writer,
    requirement: Annotated[str, Form(max_length=64)], status: Annotated[str, Form(max_length=32)],
    revision: Annotated[str, Form(max_length=128)],
    justification: Annotated[str | None, Form(max_length=4000)] = None,
    target_date: Annotated[str | None, Form(max_length=10)] = None,
    compensating_control: Annotated[str | None, Form(max_length=128)] = None,
) -> Response:
    from zonewarden.domain.requirements import RequirementStatus, status_field_problems
    from zonewarden.io.sitefile import pydantic_problems
    from zonewarden.services import identity

    store = store_of(request)
    ident = _visible(request, session, site_id)
    identity.authorize(store, session.principal, "requirement.set", ident)  # 403 before anything else
    message, error, code = None, None, 200
    fields: dict[str, Any] = {"target": zone_id, "requirement": requirement, "status": status}
    if justification and justification.strip():
        fields["justification"] = justification.strip()
    if target_date:
        fields["target_date"] = target_date
    if compensating_control:
        fields["compensating_control"] = compensating_control
    try:
        try:
            record = RequirementStatus.model_validate(fields)
        except ValidationError as exc:
            raise InputError("invalid requirement status", pydantic_problems(exc)) from None
        missing = status_field_problems(record)
        if missing:
            raise InputError("invalid requirement status", missing)
        requirements.set_requirement_status(store, ident, record, principal=session.principal,
                                            reason="recorded on the zone page", expected_revision=revision)
        message = f"{requirement}: {status} recorded"
    except ZonewardenError as exc:
        code = status_of(exc)[0]
        error = message_of(exc)
        if isinstance(exc, InputError) and exc.problems:
            error += ": " + "; ".join(f"{p.pointer}: {p.message}" for p in exc.problems)
    if not is_htmx(request):
        if error:
            return page(request, "error.html", session, status=code, title="Not recorded", message=error)
        return RedirectResponse(_url("sites", ident, "zones", zone_id), status_code=303)
    return page(request, "_zone_gap.html", session, status=code, message=message, error=error,
                **_zone_context(request, session, ident, zone_id))


@router.get("/sites/{site_id}/conduits/{conduit_id}")
def conduit_page(request: Request, site_id: str, conduit_id: str, session: Viewer) -> Response:
    store = store_of(request)
    ident = _visible(request, session, site_id)
    conduit = site_views.record(store, session.principal, ident, "conduits", conduit_id)["item"]
    check = architecture.check(store, principal=session.principal, site_id=ident)
    findings = [r for r in check.rows() if conduit_id in [o.strip() for o in r["objects"].split(",")]]
    return page(request, "conduit.html", session, title=f"Conduit {conduit_id}", conduit=conduit,
                findings=findings, message=None, error=None, **_zone_context(request, session, ident, conduit_id))




router.add_api_route("/sites/{site_id}/conduits/{zone_id}/requirements", set_status, methods=["POST"])
