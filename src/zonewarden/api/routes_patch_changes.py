"""Patch change records over HTTP, through the same services as ``zonewarden patch change``:
open one (``POST``, status ``proposed``), approve or reject it with an electronic signature
(``POST .../approval``: the signer's linked person, whose role the policy of every tier the
change touches must allow), and move it along (``POST .../advance``: implemented, closed, with the
fields each status needs). Each write sends the site's revision in ``If-Match`` (428 / 412); the
role is checked first (403), then ``If-Match``, then the body (422 with field paths)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from zonewarden.api.deps import Caller, IfMatch, StoreDep, expected_revision, parse, set_etag
from zonewarden.api.routes_approvals import SignatureBody
from zonewarden.domain.governance import Approval, ChangeStatus, Decision
from zonewarden.domain.patching import PatchChange
from zonewarden.errors import InputError, Problem
from zonewarden.services import patching

router = APIRouter(tags=["patch changes"])
PATH = "/sites/{site_id}/patch-changes/{change_id}"


class PatchApprovalBody(SignatureBody):
    """A signed approval (or rejection) of a proposed patch change, on the site's today."""

    decision: Decision = Decision.APPROVED
    role: str | None = Field(default=None, max_length=100, description="The role you sign in (one of your person's).")
    comment: str | None = Field(default=None, max_length=4000)


class AdvanceBody(BaseModel):
    """The next status and the fields it needs (e.g. ``implemented``, ``backup_taken``, ``outcome``)."""

    to: ChangeStatus
    fields: dict[str, Any] = Field(default_factory=dict, description="Fields of the change record to set.")
    reason: str | None = Field(default=None, max_length=1000)


def _site(store: Any, principal: Any, site_id: str, operation: str, if_match: str | None) -> tuple[str, str]:
    from zonewarden.services import identity, sites

    ident = sites.resolve_site_id(store, site_id, principal)
    identity.authorize(store, principal, operation, ident)  # 403 before anything else
    return ident, expected_revision(if_match)


@router.post(PATH, status_code=201, summary="Open a patch change record (status proposed)")
def record(site_id: str, change_id: str, body: dict[str, Any], principal: Caller, store: StoreDep,
           response: Response, if_match: IfMatch = None, reason: str | None = None) -> dict[str, Any]:
    ident, expected = _site(store, principal, site_id, "patch.change.record", if_match)
    if body.get("id", change_id) != change_id:
        raise InputError("the patch change's id differs from the path", [Problem(f"must be {change_id!r}", ("id",))])
    change = parse(PatchChange, {**body, "id": change_id}, "patch change")
    outcome = patching.record_patch_change(store, ident, change, principal=principal, reason=reason,
                                           expected_revision=expected)
    set_etag(response, store, principal, ident)
    return {"record": outcome.after, "audit_seq": outcome.audit_seq}


@router.post(f"{PATH}/approval", status_code=201, summary="Approve or reject a patch change with your signature")
def approve(site_id: str, change_id: str, body: PatchApprovalBody, principal: Caller, store: StoreDep,
            response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    from zonewarden.services import sites
    from zonewarden.services.mutation import approver_for
    from zonewarden.services.signatures import Signing

    ident, expected = _site(store, principal, site_id, "patch.change.approve", if_match)
    person = approver_for(store, principal, ident, None)
    approval = Approval(by=person, on=sites.site_today(store, ident), decision=body.decision, role=body.role,
                        comment=body.comment)
    outcome = patching.approve_patch_change(
        store, ident, change_id, approval, principal=principal, reason=body.reason,
        signing=Signing(body.password, body.totp, body.meaning), expected_revision=expected)
    set_etag(response, store, principal, ident)
    return {"record": outcome.after, "audit_seq": outcome.audit_seq}


@router.post(f"{PATH}/advance", summary="Move a patch change to its next status with the fields it needs")
def advance(site_id: str, change_id: str, body: AdvanceBody, principal: Caller, store: StoreDep,
            response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    ident, expected = _site(store, principal, site_id, "patch.change.record", if_match)
    outcome = patching.advance_patch_change(store, ident, change_id, body.to, fields=body.fields,
                                            principal=principal, reason=body.reason, expected_revision=expected)
    set_etag(response, store, principal, ident)
    return {"record": outcome.after, "audit_seq": outcome.audit_seq}


__all__ = ["router"]
