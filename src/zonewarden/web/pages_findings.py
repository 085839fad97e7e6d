"""The findings triage queue (filters, pages, a decision per finding, closure signed) and the
approvals inbox (everything waiting for the user's signature, signed with re-authentication)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from zonewarden.errors import InputError, ZonewardenError
from zonewarden.services import advisories, sites
from zonewarden.services.findings_page import findings_page
from zonewarden.services.queries import approvals
from zonewarden.services.queries.portfolio import PRIORITIES
from zonewarden.services.signatures import Signing, list_signatures
from zonewarden.web.errors import message_of, status_of
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, Writer, store_of

router = APIRouter()
PAGE = 50
Filter = Annotated[str | None, Query(max_length=128)]
FIELD = Annotated[str | None, Form(max_length=4000)]


@router.get("/findings")
def queue(request: Request, session: Viewer, site: Filter = None, priority: Filter = None, status: Filter = "affected",
          triage: Filter = None, zone: Filter = None, asset: Filter = None,
          offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    store = store_of(request)
    site_id = sites.resolve_site_id(store, site, session.principal) if site else None
    rows, total = findings_page(  # ordered, counted and paged in the database
        store, principal=session.principal, limit=PAGE, offset=offset, site_id=site_id, priority=priority or None,
        status=status or None, triage=triage or None, zone=zone or None, asset=asset or None)
    filters = {"site": site or "", "priority": priority or "", "status": status or "", "triage": triage or "",
               "zone": zone or "", "asset": asset or ""}
    query = urlencode({k: v for k, v in filters.items() if v})
    return page(request, "findings.html", session, title="Triage queue", rows=rows,
                total=total, offset=offset, page_size=PAGE, filters=filters, query=query,
                sites=sites.list_sites(store, session.principal), priorities=PRIORITIES,
                triage_statuses=advisories.TRIAGE_STATUSES,
                matcher_statuses=("affected", "needs-review", "fixed", "not-affected"))


def _finding(request: Request, session: Any, finding_id: int, *, status: int = 200, **extra: Any) -> Response:
    store = store_of(request)
    f = advisories.get_finding(store, finding_id, principal=session.principal)
    allowed = sorted(advisories.TRANSITIONS.get(f.triage_status, frozenset()))
    return page(request, "finding.html", session, status=status, title=f"Finding {f.id}", f=f, next_statuses=allowed,
                **{"message": None, "error": None, **extra})


@router.get("/findings/{finding_id}")
def finding_page(request: Request, finding_id: int, session: Viewer) -> Response:
    return _finding(request, session, finding_id)


@router.post("/findings/{finding_id}/decision")
def decide(request: Request, finding_id: int, session: Writer, status: Annotated[str, Form(max_length=64)],
           why: Annotated[str, Form(max_length=4000)], owner: FIELD = None, expires: FIELD = None,
           controls: FIELD = None, password: FIELD = None, totp: FIELD = None, meaning: FIELD = None) -> Response:
    try:
        until = None
        if expires:
            try:
                until = dt.date.fromisoformat(expires)
            except ValueError:
                raise InputError(f"expires: {expires!r} is not a date (YYYY-MM-DD)") from None
        signing = Signing(password, totp or None, meaning or None) if password else None
        advisories.decide(store_of(request), finding_id, status, why, owner=owner or None, expires=until,
                          controls=[c.strip() for c in (controls or "").split(",") if c.strip()],
                          principal=session.principal, signing=signing)
    except ZonewardenError as exc:
        return _finding(request, session, finding_id, status=status_of(exc)[0], error=message_of(exc))
    return _finding(request, session, finding_id, message=f"decision recorded: {status}")


def _inbox(request: Request, session: Any, *, status: int = 200, **extra: Any) -> Response:
    store = store_of(request)
    items = approvals.pending(store, session.principal)
    signed = []
    for ident, _ in sites.list_sites(store, session.principal):
        signed += [s for s in list_signatures(store, session.principal, ident)]
    signed.sort(key=lambda s: s.seq, reverse=True)
    return page(request, "approvals.html", session, status=status, title="Approvals", items=items,
                signed=signed[:20], **{"message": None, "error": None, **extra})


@router.get("/approvals")
def inbox(request: Request, session: Viewer) -> Response:
    return _inbox(request, session)


@router.post("/approvals/{site_id}/{kind}/{ident}")
def sign(request: Request, site_id: str, kind: str, ident: str, session: Writer,
         password: Annotated[str, Form(min_length=1, max_length=1024)], revision: Annotated[str, Form(max_length=128)],
         totp: FIELD = None, meaning: Annotated[str | None, Form(max_length=200)] = None) -> Response:
    from zonewarden.errors import NotFoundError
    from zonewarden.services import patching, requirements

    store = store_of(request)
    try:
        if kind not in approvals.KINDS:
            raise NotFoundError(f"nothing of kind {kind!r} is signed here (compensating-control, deferral)")
        site = sites.resolve_site_id(store, site_id, session.principal, approvals.KINDS[kind])
        signing = Signing(password, totp or None, meaning or None)
        approve = requirements.approve_compensating_control if kind == "compensating-control" else patching.approve_deferral
        approve(store, site, ident, approver=None, approved=sites.site_today(store, site), principal=session.principal,
                reason="signed in the approvals inbox", signing=signing, expected_revision=revision)
    except ZonewardenError as exc:
        return _inbox(request, session, status=status_of(exc)[0], error=f"{kind} {ident}: {message_of(exc)}")
    return _inbox(request, session, message=f"{kind} {ident} approved with your signature")
