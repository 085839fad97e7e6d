"""Records that need an approval, over HTTP: an engineer records one (PUT), an approver signs it
(POST ``.../approval``). Today: compensating controls, patch deferrals and check-finding waivers
(``GET .../waivers`` shows each waiver's approval: pending, not signed, or its signature); and, signed on a
record edited elsewhere (``routes_site_edits``), risk acceptances (POST ``.../risks/{id}/acceptance``)
and change-record approvals (POST ``.../changes/{id}/approval``): the ``SIGNED_ACTIONS`` table.

The approval is an electronic signature: the signer re-authenticates with their password (and
TOTP when enabled) in the request, signs as the person of the site their account is linked to,
and the signature is bound to the record's content hash (``GET .../signatures`` shows whether it
still matches). Both writes send the site's revision in ``If-Match``.

Each kind is one ``Approvable`` row handed to one route factory, so the two stay the same shape:
the role is checked first (403 whatever else is wrong), then ``If-Match`` (428), then the body
(422 with field paths), then the service checks the revision under the site's lock (412)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from zonewarden.api.deps import (
    Caller,
    IfMatch,
    Limit,
    Offset,
    StoreDep,
    expected_revision,
    parse,
    set_etag,
)
from zonewarden.domain.patching import Deferral
from zonewarden.domain.requirements import CompensatingControl
from zonewarden.domain.site import Waiver
from zonewarden.errors import InputError
from zonewarden.services import approvals_more, patching, requirements, waivers

router = APIRouter(tags=["approvals"])


class SignatureBody(BaseModel):
    """A signature: your password (and TOTP code), what it means, and why."""

    password: str = Field(min_length=1, max_length=1024, description="Your password: the signature's re-authentication.")
    totp: str | None = Field(default=None, max_length=16)
    meaning: str | None = Field(default=None, max_length=200, description="e.g. 'approved as quality'")
    reason: str | None = Field(default=None, max_length=1000)


class ApprovalBody(SignatureBody):
    """A signature on a recorded approvable record, with the approval's date."""

    approved: dt.date | None = Field(default=None, description="The approval's date (default: the site's today).")


class RiskAcceptanceBody(SignatureBody):
    """A signed risk acceptance: why, and until when (given on the site's today)."""

    rationale: str = Field(min_length=10, max_length=4000, description="Why the risk is acceptable.")
    expires: dt.date = Field(description="Until when; after the site's today.")


class ChangeApprovalBody(SignatureBody):
    """A signed approval of a change record (on the site's today)."""

    role: str | None = Field(default=None, max_length=100,
                             description="The role you approve in (one of your person's roles; default: the first).")
    comment: str | None = Field(default=None, max_length=4000)


@dataclass(frozen=True)
class Approvable:
    """One kind of record that is recorded pending approval and then signed."""

    path: str
    """The URL segment: ``/sites/{site}/<path>/{id}``."""
    noun: str
    """What the record is called in messages and summaries."""
    record_operation: str
    approve_operation: str
    model: type[BaseModel]
    """The domain model of the record."""
    record: Callable[..., Any]
    """``record(store, site_id, record, *, principal, reason, expected_revision)``."""
    approve: Callable[..., Any]
    """``approve(store, site_id, record_id, *, approver, approved, principal, reason, signing,
    expected_revision)``."""


APPROVABLE = (
    Approvable("compensating-controls", "compensating control", "compensation.record", "compensation.approve",
               CompensatingControl, requirements.record_compensating_control,
               requirements.approve_compensating_control),
    Approvable("deferrals", "patch deferral", "patch.defer.record", "patch.defer.approve",
               Deferral, patching.record_deferral, patching.approve_deferral),
    Approvable("waivers", "check-finding waiver", "waiver.record", "waiver.approve",
               Waiver, waivers.record_waiver, waivers.approve_waiver),
)


def _routes(kind: Approvable) -> None:
    def record(site_id: str, record_id: str, body: dict[str, Any], principal: Caller, store: StoreDep,
               response: Response, if_match: IfMatch = None, reason: str | None = None) -> dict[str, Any]:
        from zonewarden.services import identity, sites

        ident = sites.resolve_site_id(store, site_id, principal)
        identity.authorize(store, principal, kind.record_operation, ident)  # 403 before anything else
        expected = expected_revision(if_match)
        if body.get("id", record_id) != record_id:
            raise InputError(f"the {kind.noun}'s id differs from the path", [])
        item = parse(kind.model, {**body, "id": record_id}, kind.noun)
        outcome = kind.record(store, ident, item, principal=principal, reason=reason, expected_revision=expected)
        set_etag(response, store, principal, ident)
        return {"record": outcome.after, "before": outcome.before, "created": outcome.created,
                "audit_seq": outcome.audit_seq}

    def approve(site_id: str, record_id: str, body: ApprovalBody, principal: Caller, store: StoreDep,
                response: Response, if_match: IfMatch = None) -> dict[str, Any]:
        from zonewarden.services import identity, sites
        from zonewarden.services.signatures import Signing

        ident = sites.resolve_site_id(store, site_id, principal, kind.approve_operation)
        identity.authorize(store, principal, kind.approve_operation, ident)
        expected = expected_revision(if_match)
        outcome = kind.approve(
            store, ident, record_id, approver=None, approved=body.approved or sites.site_today(store, ident),
            principal=principal, reason=body.reason, signing=Signing(body.password, body.totp, body.meaning),
            expected_revision=expected,
        )
        set_etag(response, store, principal, ident)
        return {"record": outcome.after, "audit_seq": outcome.audit_seq}

    name = kind.path.replace("-", "_")
    router.add_api_route(f"/sites/{{site_id}}/{kind.path}/{{record_id}}", record, methods=["PUT"],
                         name=f"record_{name}", summary=f"Record (add or replace) a {kind.noun}, pending approval")
    router.add_api_route(f"/sites/{{site_id}}/{kind.path}/{{record_id}}/approval", approve, methods=["POST"],
                         status_code=201, name=f"approve_{name}",
                         summary=f"Approve a {kind.noun} with your electronic signature")


for _kind in APPROVABLE:
    _routes(_kind)


@dataclass(frozen=True)
class SignedAction:
    """A signed action on a record kept in a site section edited elsewhere: no PUT here, only the
    signature (its body carries the action's own fields)."""

    path: str
    """``/sites/{site}/<path>/{id}/<segment>``."""
    segment: str
    noun: str
    operation: str
    body: type[SignatureBody]
    act: Callable[..., Any]
    """``act(store, site_id, record_id, *, principal, signing, reason, expected_revision, **fields)``."""


SIGNED_ACTIONS = (
    SignedAction("risks", "acceptance", "risk acceptance", "risk.accept", RiskAcceptanceBody,
                 approvals_more.accept_risk),
    SignedAction("changes", "approval", "change-record approval", "change.approve", ChangeApprovalBody,
                 approvals_more.approve_change),
)


def _signed_route(kind: SignedAction) -> None:
    def sign(site_id: str, record_id: str, body: Any, principal: Caller, store: StoreDep,
             response: Response, if_match: IfMatch = None) -> dict[str, Any]:
        from zonewarden.services import identity, sites
        from zonewarden.services.signatures import Signing

        ident = sites.resolve_site_id(store, site_id, principal, kind.operation)
        identity.authorize(store, principal, kind.operation, ident)  # 403 before anything else
        expected = expected_revision(if_match)
        fields = body.model_dump(exclude={"password", "totp", "meaning", "reason"})
        outcome = kind.act(store, ident, record_id, principal=principal, reason=body.reason,
                           signing=Signing(body.password, body.totp, body.meaning), expected_revision=expected,
                           **fields)
        set_etag(response, store, principal, ident)
        return {"record": outcome.after, "audit_seq": outcome.audit_seq}

    sign.__annotations__["body"] = kind.body  # the body model FastAPI validates (422 with field paths)
    name = f"{kind.segment}_{kind.path}"
    router.add_api_route(f"/sites/{{site_id}}/{kind.path}/{{record_id}}/{kind.segment}", sign, methods=["POST"],
                         status_code=201, name=f"sign_{name}",
                         summary=f"Sign a {kind.noun} with your electronic signature")


for _action in SIGNED_ACTIONS:
    _signed_route(_action)


@router.get("/sites/{site_id}/waivers", name="list_waivers", summary="The check-finding waivers and their approvals")
def list_waivers(site_id: str, principal: Caller, store: StoreDep, response: Response, limit: Limit = 100,
                 offset: Offset = 0, status: str | None = None) -> dict[str, Any]:
    """``status``: only the waivers whose approval is ``pending``, ``not signed``, ``valid`` or
    ``no longer matches``."""
    from zonewarden.services import sites

    ident = sites.resolve_site_id(store, site_id, principal)
    rows = waivers.list_waivers(store, ident, principal=principal)
    if status is not None:
        rows = [r for r in rows if r["approval"]["status"] == status]
    set_etag(response, store, principal, ident)
    return {"items": rows[offset:offset + limit], "total": len(rows), "limit": limit, "offset": offset}
