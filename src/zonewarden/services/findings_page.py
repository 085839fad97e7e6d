"""One page of stored findings, filtered, ordered and paged in the database (the API's findings
list): the work is O(page), not O(all findings), and the order is the one of
:func:`zonewarden.services.advisories.list_findings` (priority, then matcher status, site,
advisory, asset; the finding id breaks ties).

Visibility is part of the query: a principal who may read every site (single-user mode, a role on
every site) sees all findings, including those of deleted sites; anyone else only those of the
sites where a role allows ``site.read``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select

from zonewarden.domain.priority import Priority
from zonewarden.services import access
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

_NO_SITE = "\x00no-such-site"
"""A site id no site has: whoever may read it may read every site."""


def _many(v: str | Sequence[str] | None) -> list[str] | None:
    return None if v is None else ([v] if isinstance(v, str) else list(v))


def readable_sites(principal: Principal) -> list[str] | None:
    """The site ids ``principal`` may read, or None for every site."""
    if access.allowed(principal, "site.read", _NO_SITE):
        return None
    return sorted(s for s in principal.roles if access.allowed(principal, "site.read", s))


def _filters(principal: Principal, *, site_id: str | None, priority: str | Sequence[str] | None,
             status: str | Sequence[str] | None, triage: str | Sequence[str] | None, zone: str | None,
             advisory: str | None, include_inactive: bool, asset: str | None = None) -> list[Any] | None:
    from zonewarden.store.advisory_tables import findings

    out: list[Any] = []
    readable = readable_sites(principal)
    if readable is not None:
        if not readable:
            return None  # nothing to see
        out.append(findings.c.site_id.in_(readable))
    if not include_inactive:
        out.append(findings.c.active.is_(True))
    if site_id is not None:
        out.append(findings.c.site_id == site_id)
    for column, value in ((findings.c.priority, priority), (findings.c.status, status),
                          (findings.c.triage_status, triage)):
        if (values := _many(value)) is not None:
            out.append(column.in_(values))
    if zone is not None:
        out.append(findings.c.zone_id == zone)
    if advisory is not None:
        out.append(findings.c.tracking_id == advisory)
    if asset is not None:
        out.append(findings.c.asset_id == asset)
    return out


def findings_page(
    store: Store, *, principal: Principal, limit: int = 100, offset: int = 0, site_id: str | None = None,
    priority: str | Sequence[str] | None = None, status: str | Sequence[str] | None = None,
    triage: str | Sequence[str] | None = None, zone: str | None = None, advisory: str | None = None,
    include_inactive: bool = False, asset: str | None = None,
) -> tuple[list[Any], int]:
    """(the findings of one page, how many match in all), most urgent first."""
    from zonewarden.services.advisories import _STATUS_ORDER, _finding_query, _finding_row
    from zonewarden.store.advisory_tables import findings

    where = _filters(principal, site_id=site_id, priority=priority, status=status, triage=triage, zone=zone,
                     advisory=advisory, include_inactive=include_inactive, asset=asset)
    if where is None:
        return [], 0
    rank = case({p.value: p.rank for p in Priority}, value=findings.c.priority, else_=-1)
    state = case(_STATUS_ORDER, value=findings.c.status, else_=9)
    binary = "C" if store.dialect == "postgresql" else "BINARY"  # code-point order, as Python sorts
    stmt = (_finding_query().where(*where)
            .order_by(rank.desc(), state, findings.c.site_id.collate(binary), findings.c.tracking_id.collate(binary),
                      findings.c.asset_id.collate(binary), findings.c.id)
            .limit(limit).offset(offset))
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(findings).where(*where)).scalar_one()
        rows = [_finding_row(r) for r in conn.execute(stmt)]
    return rows, int(total)


__all__ = ["findings_page", "readable_sites"]
