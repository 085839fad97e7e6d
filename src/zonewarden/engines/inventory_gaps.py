"""Inventory gaps: assets the matcher cannot assess, each reported once.

An asset with a vendor but no product name, no model number, no CPE and no purl (what an
InduForm or CSV import often leaves) cannot be told apart from any product of its vendor. It
used to get a needs-review finding for *every* advisory of that vendor: 2.8 million findings
for a 10k-asset plant against the CISA feed, none of which told the engineer anything new. Now
such an asset gets no findings; it is **one inventory-gap item** that says what to fill in, and
how many advisories of its vendor (with corporate lineage, see :mod:`.vendors`) it cannot be
assessed against: its *unassessable exposure*.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from zonewarden.domain.advisories import FlatAdvisory
from zonewarden.domain.site import Asset
from zonewarden.engines.vendors import asset_vendor_keys, brand_words, vendor_keys, vendor_words


def is_gap(asset: Asset) -> bool:
    """Whether matching cannot identify the asset's product at all (vendor only).

    A product that only repeats the vendor's name (``ETIC Telecom`` by ETIC Telecom) is no
    product name.
    """
    if not (asset.vendor and asset.vendor.strip()) or asset.cpe or asset.purl:
        return False
    if asset.model_number and asset.model_number.strip():
        return False
    if not (asset.product and asset.product.strip()):
        return True
    return _only_vendor_name(asset.vendor, asset.product)


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def _vendor_name_words(vendor: str) -> frozenset[str]:
    names = set(vendor_words(vendor).split())
    for key in vendor_keys(vendor):
        names.update(key.split())
        names.update(brand_words(key))
    return frozenset(names)


@lru_cache(maxsize=16384)  # one call per asset kind while an index is built; names repeat
def _only_vendor_name(vendor: str, product: str) -> bool:
    if len(product) > 60:
        return False  # a vendor name is short; spare the comparison
    words = set(_NON_ALNUM.sub(" ", product.lower()).split())
    return bool(words) and words <= _vendor_name_words(vendor)


@dataclass(frozen=True, slots=True)
class InventoryGap:
    """One asset the matcher cannot assess, and the advisories it therefore cannot be matched to."""

    asset_id: str
    asset_name: str
    zone_id: str | None
    vendor: str
    vendor_keys: tuple[str, ...]
    version: str | None
    advisories: tuple[str, ...]
    """Advisory ids that name a product of the asset's vendor (or of its lineage)."""

    @property
    def message(self) -> str:
        n = len(self.advisories)
        return (
            f"vendor {self.vendor!r} but no product name and no model number: add the product (and "
            f"model number) to assess it against {n} advisor{'y' if n == 1 else 'ies'} of this vendor"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "asset_id": self.asset_id,
            "asset_name": self.asset_name,
            "zone_id": self.zone_id,
            "vendor": self.vendor,
            "vendor_keys": list(self.vendor_keys),
            "version": self.version,
            "advisories": len(self.advisories),
            "advisory_ids": list(self.advisories),
            "message": self.message,
        }


def advisory_vendor_keys(advisory: FlatAdvisory) -> frozenset[str]:
    """Vendor keys of the products an advisory gives a status."""
    listed = {pid for v in advisory.vulnerabilities for ids in v.status.values() for pid in ids}
    return frozenset(k for e in advisory.products if e.product_id in listed for k in vendor_keys(e.vendor))


def document_vendor_keys(doc: Mapping[str, Any]) -> frozenset[str]:
    """Vendor keys of a parsed CSAF document's products that some vulnerability gives a status,
    without flattening it (the stored feed is read this way for the gap list)."""
    listed: set[str] = set()
    for v in doc.get("vulnerabilities") or ():
        if isinstance(v, Mapping):
            for ids in (v.get("product_status") or {}).values():
                if isinstance(ids, list):
                    listed.update(i for i in ids if isinstance(i, str))
    out: set[str] = set()

    def walk(branches: Any, vendor: str | None) -> bool:
        found = False
        for b in branches if isinstance(branches, list) else ():
            if not isinstance(b, Mapping):
                continue
            name = b.get("name") if b.get("category") == "vendor" else None
            here = name if isinstance(name, str) else vendor
            product = b.get("product")
            hit = isinstance(product, Mapping) and product.get("product_id") in listed
            hit = walk(b.get("branches"), here) or hit
            if hit and here and here is not vendor:
                out.update(vendor_keys(here))
            found = found or hit
        return found

    tree = doc.get("product_tree")
    if isinstance(tree, Mapping):
        walk(tree.get("branches"), None)
    return frozenset(out)


def advisories_by_vendor(vendors_of: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """``{advisory id: vendor keys}`` -> ``{vendor key: sorted advisory ids}``."""
    out: dict[str, set[str]] = {}
    for adv_id, keys in vendors_of.items():
        for key in keys:
            out.setdefault(key, set()).add(adv_id)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def inventory_gaps(assets: Iterable[Asset], by_vendor: Mapping[str, Iterable[str]]) -> tuple[InventoryGap, ...]:
    """One gap item per vendor-only asset, sorted by asset id; ``by_vendor``: vendor key -> advisory ids."""
    out = []
    for asset in assets:
        if not is_gap(asset):
            continue
        keys = asset_vendor_keys(asset.vendor)
        advisories = sorted({a for k in keys for a in by_vendor.get(k, ())})
        out.append(InventoryGap(
            asset.id, asset.name, asset.zone, str(asset.vendor), keys, asset.version, tuple(advisories)
        ))
    out.sort(key=lambda g: g.asset_id)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class UnassessableExposure:
    """What the dashboard and the report count: assets the matcher cannot assess."""

    assets: int
    """Inventory-gap assets."""
    exposed_assets: int
    """Of them, those whose vendor has at least one advisory."""
    advisories: int
    """Distinct advisories that name a vendor of a gap asset."""
    pairs: int
    """Asset x advisory pairs left unassessed (what used to be one finding each)."""

    def as_dict(self) -> dict[str, int]:
        return {"assets": self.assets, "exposed_assets": self.exposed_assets, "advisories": self.advisories, "pairs": self.pairs}


def unassessable_exposure(gaps: Iterable[InventoryGap]) -> UnassessableExposure:
    items = list(gaps)
    return UnassessableExposure(
        assets=len(items),
        exposed_assets=sum(1 for g in items if g.advisories),
        advisories=len({a for g in items for a in g.advisories}),
        pairs=sum(len(g.advisories) for g in items),
    )


__all__ = [
    "InventoryGap",
    "UnassessableExposure",
    "advisories_by_vendor",
    "advisory_vendor_keys",
    "document_vendor_keys",
    "inventory_gaps",
    "is_gap",
    "unassessable_exposure",
]
