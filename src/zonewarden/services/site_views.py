"""Paged, filtered reads of one site's zones, conduits and assets, straight from their rows
(no whole-document load: a page of a 100k-asset site reads one page), for the API and the web.

Every read is authorized (``site.read``) for the caller; rows are returned as the site file
holds them (JSON-ready dicts) with the site's revision, which a writer sends back in
``If-Match``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Text, cast, func, or_, select

from zonewarden.errors import NotFoundError
from zonewarden.services import identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.tables import SITE_CHILD_TABLES, sites

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    revision: str

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "limit": self.limit, "offset": self.offset,
                "revision": self.revision}


def revision(store: Store, principal: Principal, site_id: str) -> str:
    """The site's current revision (the SHA-256 of its canonical content)."""
    identity.authorize(store, principal, "site.read", site_id)
    with store.read() as conn:
        value = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id)).scalar()
    if value is None:
        raise NotFoundError(f"no site {site_id!r} in the database")
    return str(value)


def site_summary(store: Store, principal: Principal, site_id: str) -> dict[str, Any]:
    """The site's own fields and the size of each list section."""
    rev = revision(store, principal, site_id)
    with store.read() as conn:
        head = orjson.loads(conn.execute(select(cast(sites.c.data, Text)).where(sites.c.id == site_id)).scalar_one())
        counts = {
            section: conn.execute(select(func.count()).select_from(table).where(table.c.site_id == site_id)).scalar_one()
            for section, table in SITE_CHILD_TABLES.items()
        }
    return {"id": site_id, "site": head.get("site") or {}, "counts": counts, "revision": rev}


def records(
    store: Store, principal: Principal, site_id: str, section: str, *, limit: int = 100, offset: int = 0,
    zone: str | None = None, kind: str | None = None, q: str | None = None,
) -> Page:
    """One page of ``zones``, ``conduits`` or ``assets`` in file order; ``zone`` filters assets
    (and conduits touching it), ``kind`` an asset type or zone kind, ``q`` an id prefix."""
    if section not in ("zones", "conduits", "assets"):
        raise NotFoundError(f"no section {section!r} (zones, conduits, assets)")
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    rev = revision(store, principal, site_id)
    table = SITE_CHILD_TABLES[section]
    where = [table.c.site_id == site_id]
    if zone is not None:
        if section == "assets":
            where.append(table.c.zone_id == zone)
        elif section == "conduits":
            where.append(or_(table.c.zone_a == zone, table.c.zone_b == zone))
        else:
            where.append(table.c.id == zone)
    if kind is not None and section != "conduits":
        where.append((table.c.type if section == "assets" else table.c.kind) == kind)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(table.c.id.like(escaped + "%", escape="\\"))
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        rows = conn.execute(
            select(cast(table.c.data, Text)).where(*where).order_by(table.c.seq).limit(limit).offset(offset)
        ).scalars()
        items = [orjson.loads(r) for r in rows]
    return Page(items, int(total), limit, offset, rev)


def record(store: Store, principal: Principal, site_id: str, section: str, ident: str) -> dict[str, Any]:
    """One zone, conduit or asset by id."""
    if section not in ("zones", "conduits", "assets"):
        raise NotFoundError(f"no section {section!r} (zones, conduits, assets)")
    identity.authorize(store, principal, "site.read", site_id)
    table = SITE_CHILD_TABLES[section]
    with store.read() as conn:  # the revision and the record from one snapshot
        rev = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id)).scalar()
        text = conn.execute(select(cast(table.c.data, Text)).where(table.c.site_id == site_id, table.c.id == ident)).scalar()
    if rev is None:
        raise NotFoundError(f"no site {site_id!r} in the database")
    if text is None:
        raise NotFoundError(f"no {section[:-1]} {ident!r} in site {site_id!r}")
    return {"item": orjson.loads(text), "revision": rev}


__all__ = ["MAX_PAGE", "Page", "record", "records", "revision", "site_summary"]
