"""Compensating controls over HTTP: an engineer records one, an approver signs it.

The approval is an electronic signature: the signer re-authenticates with their password (and
TOTP when enabled) in the request, signs as the person of the site their account is linked to,
and the signature is bound to the record's content hash (``GET .../signatures`` shows whether it
still matches). Both writes send the site's revision in ``If-Match``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field, ValidationError

from zonewarden.api.deps import Caller, StoreDep
from zonewarden.errors import InputError

router = APIRouter(tags=["approvals"])


class ApprovalBody(BaseModel):
    """A signature: your password (and TOTP code), what it means, and why."""

    password: str = Field(min_length=1, max_length=1024, description="Your password: the signature's re-authentication.")
    totp: str | None = Field(default=None, max_length=16)
    meaning: str | None = Field(default=None, max_length=200, description="e.g. 'approved as quality'")
    approved: dt.date | None = Field(default=None, description="The approval's date (default: the site's today).")
    reason: str | None = Field(default=None, max_length=1000)


def _revision(if_match: str | None) -> str:
    from zonewarden.api.app import _PreconditionRequired

    if if_match is None:
        raise _PreconditionRequired
    return if_match.strip().removeprefix("W/").strip('"')


def _etag(response: Response, store: Any, principal: Any, site_id: str) -> None:
    from zonewarden.services import site_views

    response.headers["ETag"] = f'"{site_views.revision(store, principal, site_id)}"'


@router.put("/sites/{site_id}/compensating-controls/{control_id}",
            summary="Record (add or replace) a compensating control, pending approval")
def record_control(site_id: str, control_id: str, body: dict[str, Any], principal: Caller, store: StoreDep,
                   response: Response, if_match: Annotated[str | None, Header()] = None,
                   reason: str | None = None) -> dict[str, Any]:
    from zonewarden.domain.requirements import CompensatingControl
    from zonewarden.io.sitefile import pydantic_problems
    from zonewarden.services import identity, requirements, sites

    ident = sites.resolve_site_id(store, site_id, principal)
    identity.authorize(store, principal, "compensation.record", ident)  # 403 before anything else
    expected = _revision(if_match)
    if body.get("id", control_id) != control_id:
        raise InputError("the control's id differs from the path", [])
    try:
        control = CompensatingControl.model_validate({**body, "id": control_id})
    except ValidationError as exc:
        raise InputError("invalid compensating control", pydantic_problems(exc)) from None
    outcome = requirements.record_compensating_control(store, ident, control, principal=principal, reason=reason,
                                                       expected_revision=expected)
    _etag(response, store, principal, ident)
    return {"record": outcome.after, "before": outcome.before, "created": outcome.created,
            "audit_seq": outcome.audit_seq}


@router.post("/sites/{site_id}/compensating-controls/{control_id}/approval", status_code=201,
             summary="Approve a compensating control with your electronic signature")
def approve_control(site_id: str, control_id: str, body: ApprovalBody, principal: Caller, store: StoreDep,
                    response: Response, if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    from zonewarden.services import identity, requirements, sites
    from zonewarden.services.signatures import Signing

    ident = sites.resolve_site_id(store, site_id, principal, "compensation.approve")
    identity.authorize(store, principal, "compensation.approve", ident)
    expected = _revision(if_match)
    outcome = requirements.approve_compensating_control(
        store, ident, control_id, approver=None, approved=body.approved or sites.site_today(store, ident),
        principal=principal, reason=body.reason, signing=Signing(body.password, body.totp, body.meaning),
        expected_revision=expected,
    )
    _etag(response, store, principal, ident)
    return {"record": outcome.after, "audit_seq": outcome.audit_seq}


@router.put("/sites/{site_id}/deferrals/{deferral_id}", summary="Record (add or replace) a patch deferral, pending approval")
def record_deferral(site_id: str, deferral_id: str, body: dict[str, Any], principal: Caller, store: StoreDep,
                    response: Response, if_match: Annotated[str | None, Header()] = None,
                    reason: str | None = None) -> dict[str, Any]:
    from zonewarden.domain.patching import Deferral
    from zonewarden.io.sitefile import pydantic_problems
    from zonewarden.services import identity, patching, sites

    ident = sites.resolve_site_id(store, site_id, principal)
    identity.authorize(store, principal, "patch.defer.record", ident)
    expected = _revision(if_match)
    if body.get("id", deferral_id) != deferral_id:
        raise InputError("the deferral's id differs from the path", [])
    try:
        deferral = Deferral.model_validate({**body, "id": deferral_id})
    except ValidationError as exc:
        raise InputError("invalid deferral", pydantic_problems(exc)) from None
    outcome = patching.record_deferral(store, ident, deferral, principal=principal, reason=reason,
                                       expected_revision=expected)
    _etag(response, store, principal, ident)
    return {"record": outcome.after, "before": outcome.before, "created": outcome.created,
            "audit_seq": outcome.audit_seq}


@router.post("/sites/{site_id}/deferrals/{deferral_id}/approval", status_code=201,
             summary="Approve a patch deferral with your electronic signature")
def approve_deferral(site_id: str, deferral_id: str, body: ApprovalBody, principal: Caller, store: StoreDep,
                     response: Response, if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    from zonewarden.services import identity, patching, sites
    from zonewarden.services.signatures import Signing

    ident = sites.resolve_site_id(store, site_id, principal, "patch.defer.approve")
    identity.authorize(store, principal, "patch.defer.approve", ident)
    expected = _revision(if_match)
    outcome = patching.approve_deferral(
        store, ident, deferral_id, approver=None, approved=body.approved or sites.site_today(store, ident),
        principal=principal, reason=body.reason, signing=Signing(body.password, body.totp, body.meaning),
        expected_revision=expected,
    )
    _etag(response, store, principal, ident)
    return {"record": outcome.after, "audit_seq": outcome.audit_seq}
