"""Inventory queries: the inventory gaps of a site (assets matching cannot assess) and the
unassessable exposure the dashboard and the report count.

An asset with a vendor but no product name and no model number gets no advisory findings (it
cannot be told apart from any product of its vendor); it is one gap item here instead, with the
number of current advisories of its vendor (and corporate lineage) it cannot be assessed against.
Nothing is stored: the list is derived from the site and the stored advisories on each call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from zonewarden.domain.site import SiteDocument
from zonewarden.engines.inventory_gaps import (
    InventoryGap,
    UnassessableExposure,
    advisories_by_vendor,
    document_vendor_keys,
    inventory_gaps,
    unassessable_exposure,
)
from zonewarden.services.principal import Principal
from zonewarden.services.queries import site_of
from zonewarden.store.db import Store

GAP_COLUMNS = ["asset", "name", "zone", "vendor", "version", "advisories", "what_to_do"]


@dataclass(frozen=True, slots=True)
class InventoryGapsResult:
    """The gap items of one site and what they add up to."""

    site_id: str
    site_name: str
    gaps: tuple[InventoryGap, ...]
    exposure: UnassessableExposure

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"asset": g.asset_id, "name": g.asset_name, "zone": g.zone_id or "", "vendor": g.vendor,
             "version": g.version or "", "advisories": len(g.advisories), "what_to_do": g.message}
            for g in self.gaps
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site_id,
            "site_name": self.site_name,
            "unassessable_exposure": self.exposure.as_dict(),
            "gaps": [g.as_dict() for g in self.gaps],
        }


def stored_advisory_vendors(store: Store) -> dict[str, frozenset[str]]:
    """``{tracking id: vendor keys}`` of the current stored advisories."""
    from zonewarden.store.advisory_tables import advisories

    out: dict[str, frozenset[str]] = {}
    with store.read() as conn:
        rows = conn.execute(select(advisories.c.tracking_id, advisories.c.document).where(advisories.c.current.is_(True)))
        for row in rows:
            try:
                doc = orjson.loads(row.document)
            except orjson.JSONDecodeError:
                continue  # stored as received and validated at ingest; nothing to count
            out[row.tracking_id] = document_vendor_keys(doc) if isinstance(doc, dict) else frozenset()
    return out


def inventory_gaps_of(doc: SiteDocument, advisory_vendors: Mapping[str, Iterable[str]]) -> InventoryGapsResult:
    """The gaps of a site document against ``{advisory id: vendor keys}``."""
    gaps = inventory_gaps(doc.assets, advisories_by_vendor(advisory_vendors))
    return InventoryGapsResult(doc.site.id, doc.site.name, gaps, unassessable_exposure(gaps))


def site_inventory_gaps(store: Store, *, principal: Principal, site_id: str | None) -> InventoryGapsResult:
    """``inventory gaps``: the stored site's gap items against the stored advisories."""
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id)
    return inventory_gaps_of(load_document(store, ident), stored_advisory_vendors(store))


def unassessable(store: Store, *, principal: Principal, site_id: str | None) -> UnassessableExposure:
    """What the dashboard and the report count as unassessable exposure of a site."""
    return site_inventory_gaps(store, principal=principal, site_id=site_id).exposure


__all__ = [
    "GAP_COLUMNS",
    "InventoryGapsResult",
    "inventory_gaps_of",
    "site_inventory_gaps",
    "stored_advisory_vendors",
    "unassessable",
]
