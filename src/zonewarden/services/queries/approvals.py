"""What waits for the principal's signature: pending compensating controls, patch deferrals,
check-finding waivers, proposed patch changes and proposed change records of every site where
the principal may approve them (the operations of :data:`KINDS`). Signing goes through
``services.requirements`` / ``services.patching`` / ``services.waivers`` /
``services.approvals_more`` with re-authentication (``services.signatures``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from zonewarden.domain.governance import ChangeStatus
from zonewarden.domain.site import SiteDocument
from zonewarden.services import access
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

KINDS = {"compensating-control": "compensation.approve", "deferral": "patch.defer.approve",
         "waiver": "waiver.approve", "patch-change": "patch.change.approve", "change": "change.approve"}


@dataclass(frozen=True, slots=True)
class Pending:
    site_id: str
    site_name: str
    kind: str
    """``compensating-control``, ``deferral``, ``waiver``, ``patch-change`` or ``change`` (a
    proposed change record)."""
    id: str
    title: str
    owner: str
    """Who asked for it (the control's owner, the deferral's requester): they cannot sign it;
    empty for a waiver, which names no requester."""
    detail: str
    expires: dt.date | None
    """When the approval would run out (None for change records: they do not expire)."""
    revision: str


def pending(store: Store, principal: Principal) -> list[Pending]:
    from zonewarden.services import sites
    from zonewarden.services.sites import load_document, revision_of

    out: list[Pending] = []
    for ident, name in sites.list_sites(store, principal):
        may = {k for k, op in KINDS.items() if access.allowed(principal, op, ident)}
        if may:
            out += pending_in(load_document(store, ident, without=("assets",)), ident, name,
                              revision_of(store, ident), may)
    return out


def pending_in(doc: SiteDocument, ident: str, name: str, revision: str, kinds: Collection[str]) -> list[Pending]:
    """What in one site's document waits for a signature, of ``kinds`` (keys of :data:`KINDS`):
    the approvals inbox and the signature alerts (``services.alerts``) read the same list."""
    out: list[Pending] = []
    if "compensating-control" in kinds:
        out += [Pending(ident, name, "compensating-control", c.id, c.title, c.owner, c.description, c.expires,
                        revision) for c in doc.compensating_controls if c.approved is None]
    if "deferral" in kinds:
        out += [Pending(ident, name, "deferral", d.id, f"{d.asset}: defer {d.patch}", d.requested_by, d.reason,
                        d.expires, revision) for d in doc.deferrals if d.approved is None]
    if "waiver" in kinds:
        out += [Pending(ident, name, "waiver", w.id, f"waive {w.rule}" + (f" for {', '.join(w.objects)}" if w.objects
                                                                       else " for every object"),
                        "", w.justification, w.expires, revision)
                for w in doc.checks.waivers if w.pending and w.id is not None]
    proposed = ChangeStatus.PROPOSED
    if "patch-change" in kinds:
        out += [Pending(ident, name, "patch-change", c.id, c.title, c.owner or "",
                        _planned(c.planned, c.impact_assessment), None, revision)
                for c in doc.patch_changes if c.status is proposed]
    if "change" in kinds:
        out += [Pending(ident, name, "change", c.id, c.title, c.owner or "",
                        _planned(c.planned, c.impact_assessment or c.description), None, revision)
                for c in doc.changes if c.status is proposed]
    return out


def _planned(planned: dt.date | None, text: str | None) -> str:
    return " · ".join(x for x in (f"planned {planned}" if planned else None, text) if x)


__all__ = ["KINDS", "Pending", "pending", "pending_in"]
