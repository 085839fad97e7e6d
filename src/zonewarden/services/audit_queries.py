"""Reading the audit trail, for those allowed to: the log (filtered to the sites the caller may
audit) and the chain check.

Security events without a site (logins, accounts, tokens) are shown to administrators only.
"""

from __future__ import annotations

from sqlalchemy import select

from zonewarden.errors import NotFoundError
from zonewarden.services import access, audit, identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.tables import sites


def _auditable(store: Store, principal: Principal) -> set[str]:
    with store.read() as conn:
        ids = [r.id for r in conn.execute(select(sites.c.id))]
    return {s for s in ids if access.allowed(principal, "audit.read", s)}


def log(store: Store, principal: Principal, site_id: str | None = None) -> list[audit.AuditEvent]:
    """Audit events, oldest first: of one site, or of every site the caller may audit (and the
    events without a site when the caller administers accounts)."""
    allowed = _auditable(store, principal)
    if site_id is not None:
        if site_id not in allowed and not (principal.local or access.visible_sites(principal, [site_id])):
            raise NotFoundError(f"no site {site_id!r} in the database")
        identity.authorize(store, principal, "audit.read", site_id)
    elif not allowed and not access.allowed(principal, "user.admin"):
        identity.authorize(store, principal, "audit.read")  # raises, naming the roles needed
    admin = access.allowed(principal, "user.admin")
    with store.read() as conn:
        return [
            e for e in audit.events(conn, site_id=site_id)
            if (e.site_id in allowed if e.site_id is not None else admin)
        ]


def require_chain_reader(store: Store, principal: Principal) -> None:
    """The whole hash chain spans every site: an administrator or anyone who may audit at least
    one site may verify it (a denial is audited)."""
    if not _auditable(store, principal) and not access.allowed(principal, "user.admin"):
        identity.authorize(store, principal, "audit.read")


def verify(store: Store, principal: Principal) -> audit.VerifyResult:
    """Check the whole hash chain (see :func:`require_chain_reader` for who may)."""
    require_chain_reader(store, principal)
    with store.read() as conn:
        return audit.verify(conn)


__all__ = ["log", "require_chain_reader", "verify"]
