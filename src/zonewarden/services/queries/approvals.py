"""What waits for the principal's signature: pending compensating controls and patch
deferrals of every site where the principal may approve them (``compensation.approve``,
``patch.defer.approve``), oldest first. Signing goes through ``services.requirements`` /
``services.patching`` with re-authentication (``services.signatures``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zonewarden.services import access
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

KINDS = {"compensating-control": "compensation.approve", "deferral": "patch.defer.approve"}


@dataclass(frozen=True, slots=True)
class Pending:
    site_id: str
    site_name: str
    kind: str
    """``compensating-control`` or ``deferral``."""
    id: str
    title: str
    owner: str
    """Who asked for it (the control's owner, the deferral's requester): they cannot sign it."""
    detail: str
    expires: dt.date
    revision: str


def pending(store: Store, principal: Principal) -> list[Pending]:
    from zonewarden.services import sites
    from zonewarden.services.sites import load_document, revision_of

    out: list[Pending] = []
    for ident, name in sites.list_sites(store, principal):
        may = {k for k, op in KINDS.items() if access.allowed(principal, op, ident)}
        if not may:
            continue
        doc = load_document(store, ident, without=("assets",))
        revision = revision_of(store, ident)
        if "compensating-control" in may:
            out += [Pending(ident, name, "compensating-control", c.id, c.title, c.owner, c.description, c.expires,
                            revision) for c in doc.compensating_controls if c.approved is None]
        if "deferral" in may:
            out += [Pending(ident, name, "deferral", d.id, f"{d.asset}: defer {d.patch}", d.requested_by, d.reason,
                            d.expires, revision) for d in doc.deferrals if d.approved is None]
    return out


__all__ = ["KINDS", "Pending", "pending"]
