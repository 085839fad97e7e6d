"""Reading the audit trail, for those allowed to: the log and its search (limited, in the
database, to the sites the caller may audit) and the chain check.

Security events without a site (logins, accounts, tokens) are shown to administrators only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from zonewarden.errors import NotFoundError
from zonewarden.services import access, audit, identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.tables import audit_events, sites


def _auditable(store: Store, principal: Principal) -> set[str]:
    with store.read() as conn:
        ids = [r.id for r in conn.execute(select(sites.c.id))]
    return {s for s in ids if access.allowed(principal, "audit.read", s)}


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What to search the trail for; every field is optional and they combine with AND."""

    site_id: str | None = None
    action: str | None = None
    """An action, or a prefix of one ending in a dot (``requirement.``)."""
    actor: str | None = None
    object_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[audit.AuditEvent]
    total: int
    limit: int
    offset: int


def _scope(store: Store, principal: Principal, site_id: str | None) -> list[Any]:
    """The WHERE clauses limiting the trail to what ``principal`` may read (raises when nothing)."""
    allowed = _auditable(store, principal)
    if site_id is not None:
        if site_id not in allowed and not (principal.local or access.visible_sites(principal, [site_id])):
            raise NotFoundError(f"no site {site_id!r} in the database")
        identity.authorize(store, principal, "audit.read", site_id)
        return [audit_events.c.site_id == site_id]
    admin = access.allowed(principal, "user.admin")
    if not allowed and not admin:
        identity.authorize(store, principal, "audit.read")  # raises, naming the roles needed
    visible = audit_events.c.site_id.in_(sorted(allowed))
    return [or_(visible, audit_events.c.site_id.is_(None)) if admin else visible]


def _where(store: Store, principal: Principal, f: EventFilter) -> list[Any]:
    where = _scope(store, principal, f.site_id)
    if f.action:
        where.append(audit_events.c.action.startswith(f.action, autoescape=True) if f.action.endswith(".")
                     else audit_events.c.action == f.action)
    if f.actor:
        where.append(audit_events.c.actor == f.actor)
    if f.object_id:
        where.append(audit_events.c.object_id == f.object_id)
    if f.since:
        where.append(audit_events.c.at >= f.since)
    if f.until:
        where.append(audit_events.c.at < f.until)
    return where


def log(store: Store, principal: Principal, site_id: str | None = None) -> list[audit.AuditEvent]:
    """Audit events, oldest first: of one site, or of every site the caller may audit (and the
    events without a site when the caller administers accounts)."""
    where = _where(store, principal, EventFilter(site_id=site_id))
    with store.read() as conn:
        return list(audit.events(conn, where=where))


def search(store: Store, principal: Principal, f: EventFilter, *, limit: int = 100, offset: int = 0,
           newest_first: bool = False) -> EventPage:
    """One page of the events ``principal`` may read that match ``f``, counted and paged in the
    database (a trail of millions of events is not read to show fifty)."""
    where = _where(store, principal, f)
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(audit_events).where(*where)).scalar_one()
        items = list(audit.events(conn, where=where, limit=limit, offset=offset, newest_first=newest_first))
    return EventPage(items, int(total), limit, offset)


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


__all__ = ["EventFilter", "EventPage", "log", "require_chain_reader", "search", "verify"]
