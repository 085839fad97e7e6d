"""Records that need an approval, over HTTP: an engineer records one (PUT), an approver signs it
(POST ``.../approval``). Today: compensating controls and patch deferrals.

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

from zonewarden.api.deps import Caller, IfMatch, StoreDep, expected_revision, parse, set_etag
from zonewarden.domain.patching import Deferral
from zonewarden.domain.requirements import CompensatingControl
from zonewarden.errors import InputError
from zonewarden.services import patching, requirements

router = APIRouter(tags=["approvals"])


class ApprovalBody(BaseModel):
    """A signature: your password (and TOTP code), what it means, and why."""

    password: str = Field(min_length=1, max_length=1024, description="Your password: the signature's re-authentication.")
    totp: str | None = Field(default=None, max_length=16)
    meaning: str | None = Field(default=None, max_length=200, description="e.g. 'approved as quality'")
    approved: dt.date | None = Field(default=None, description="The approval's date (default: the site's today).")
    reason: str | None = Field(default=None, max_length=1000)


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
