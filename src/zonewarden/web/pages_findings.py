"""The findings triage queue (filters, pages, a decision per finding or one for the checked
findings, closure signed) and the
approvals inbox (everything waiting for the user's signature, signed with re-authentication)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from zonewarden.errors import InputError, ZonewardenError
from zonewarden.services import access, advisories, sites
from zonewarden.services.findings_page import findings_page
from zonewarden.services.principal import Principal
from zonewarden.services.queries import approvals
from zonewarden.services.queries.portfolio import PRIORITIES
from zonewarden.services.signatures import Signing, list_signatures
from zonewarden.store.db import Store
from zonewarden.web.errors import message_of, status_of
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, Writer, store_of

router = APIRouter()
PAGE = 50
Filter = Annotated[str | None, Query(max_length=128)]
FIELD = Annotated[str | None, Form(max_length=4000)]


def _queue(request: Request, session: Any, filters: dict[str, str], offset: int = 0, *, status: int = 200,
           **extra: Any) -> Response:
    store = store_of(request)
    site = filters.get("site") or None
    site_id = sites.resolve_site_id(store, site, session.principal) if site else None
    rows, total = findings_page(  # ordered, counted and paged in the database
        store, principal=session.principal, limit=PAGE, offset=offset, site_id=site_id,
        priority=filters.get("priority") or None, status=filters.get("status") or None,
        triage=filters.get("triage") or None, zone=filters.get("zone") or None, asset=filters.get("asset") or None)
    query = urlencode({k: v for k, v in filters.items() if v})
    visible = [i for i, _ in sites.list_sites(store, session.principal)]
    can_triage = any(access.allowed(session.principal, op, i) for i in visible
                     for op in ("finding.triage", *advisories.TRIAGE_OPERATION.values()))
    return page(request, "findings.html", session, status=status, title="Triage queue",
                rows=rows, total=total, offset=offset, page_size=PAGE, filters=filters,
                query=query, sites=sites.list_sites(store, session.principal), priorities=PRIORITIES,
                triage_statuses=advisories.TRIAGE_STATUSES, can_triage=can_triage,
                matcher_statuses=("affected", "needs-review", "fixed", "not-affected"),
                **{"message": None, "error": None, **extra})


@router.get("/findings")
def queue(request: Request, session: Viewer, site: Filter = None, priority: Filter = None, status: Filter = "affected",
          triage: Filter = None, zone: Filter = None, asset: Filter = None,
          offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    filters = {"site": site or "", "priority": priority or "", "status": status or "", "triage": triage or "",
               "zone": zone or "", "asset": asset or ""}
    return _queue(request, session, filters, offset)


def _date(expires: str | None) -> dt.date | None:
    if not expires:
        return None
    try:
        return dt.date.fromisoformat(expires)
    except ValueError:
        raise InputError(f"expires: {expires!r} is not a date (YYYY-MM-DD)") from None


def _controls(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


@router.post("/findings/bulk")
def decide_bulk(request: Request, session: Writer, status: Annotated[str, Form(max_length=64)],
                why: Annotated[str, Form(max_length=4000)],
                ids: Annotated[list[int] | None, Form()] = None,
                owner: FIELD = None, expires: FIELD = None, controls: FIELD = None, password: FIELD = None,
                totp: FIELD = None, meaning: FIELD = None, f_site: Filter = None, f_priority: Filter = None,
                f_status: Filter = None, f_triage: Filter = None, f_zone: Filter = None,
                f_asset: Filter = None) -> Response:
    """One decision for the checked findings, all or nothing, through ``advisories.decide_many``
    (a signed decision asks for the password once and signs each finding)."""
    filters = {"site": f_site or "", "priority": f_priority or "", "status": f_status or "",
               "triage": f_triage or "", "zone": f_zone or "", "asset": f_asset or ""}
    try:
        signing = Signing(password, totp or None, meaning or None) if password else None
        done = advisories.decide_many(store_of(request), ids or [], status, why, owner=owner or None,
                                      expires=_date(expires), controls=_controls(controls),
                                      principal=session.principal, signing=signing)
    except ZonewardenError as exc:
        return _queue(request, session, filters, status=status_of(exc)[0],
                      error=f"nothing recorded: {message_of(exc)}")
    return _queue(request, session, filters,
                  message=f"decision recorded for {len(done)} finding{'' if len(done) == 1 else 's'}: {status}")


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
        signing = Signing(password, totp or None, meaning or None) if password else None
        advisories.decide(store_of(request), finding_id, status, why, owner=owner or None, expires=_date(expires),
                          controls=_controls(controls), principal=session.principal, signing=signing)
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
    from zonewarden.services import patching, requirements, waivers

    signers: dict[str, Callable[..., object]] = {
               "compensating-control": requirements.approve_compensating_control,
               "deferral": patching.approve_deferral, "waiver": waivers.approve_waiver,
               "patch-change": _approve_patch_change, "change": _approve_change}
    store = store_of(request)
    try:
        if kind not in approvals.KINDS:
            raise NotFoundError(f"nothing of kind {kind!r} is signed here ({', '.join(approvals.KINDS)})")
        site = sites.resolve_site_id(store, site_id, session.principal, approvals.KINDS[kind])
        signing = Signing(password, totp or None, meaning or None)
        approve = signers[kind]
        approve(store, site, ident, approver=None, approved=sites.site_today(store, site), principal=session.principal,
                reason="signed in the approvals inbox", signing=signing, expected_revision=revision)
    except ZonewardenError as exc:
        return _inbox(request, session, status=status_of(exc)[0], error=f"{kind} {ident}: {message_of(exc)}")
    return _inbox(request, session, message=f"{kind} {ident} approved with your signature")


def _approve_patch_change(store: Store, site: str, ident: str, *, approver: None, approved: dt.date,
                          principal: Principal, reason: str, signing: Signing, expected_revision: str) -> object:
    """Approve a proposed patch change as the signer's linked person, in the role the policy
    checks (the service names the roles allowed when theirs is not)."""
    from zonewarden.domain.governance import Approval, Decision
    from zonewarden.services import patching
    from zonewarden.services.mutation import approver_for

    person = approver_for(store, principal, site, approver)
    approval = Approval(by=person, on=approved, decision=Decision.APPROVED)
    return patching.approve_patch_change(store, site, ident, approval, principal=principal, reason=reason,
                                         signing=signing, expected_revision=expected_revision)


def _approve_change(store: Store, site: str, ident: str, *, approver: None, approved: dt.date,
                    principal: Principal, reason: str, signing: Signing, expected_revision: str) -> object:
    """Approve a proposed change record in the signer's first role (the service refuses its owner)."""
    from zonewarden.services import approvals_more

    return approvals_more.approve_change(store, site, ident, principal=principal, signing=signing, reason=reason,
                                         expected_revision=expected_revision)
