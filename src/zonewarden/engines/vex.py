"""VEX statements against findings (issue 14 item 5): who is the product's supplier, and which
statement covers which entry match of a finding. Pure functions; the service applies them.

A statement *covers* an entry match of a finding when it is about the same vulnerability and
the same product as the match identified, and (when it names one) the same version:

* a statement about one asset's SBOM component (CycloneDX VEX imported for the asset) covers
  matches made through that component (same asset, same purl / CPE / name);
* a statement with a purl covers a component or asset with the same type, namespace and name
  (version equal when the statement gives one); with a CPE: same vendor and product;
* otherwise by name: the statement's vendor is the asset's vendor through the vendor registry
  (aliases, lineage), and its product is the entry's product name (same words, as matching
  compares them) or the asset's; a version or range in the statement must contain the asset's
  version, an unparseable one covers nothing (never a guess toward "not affected").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zonewarden.domain.site import Asset
from zonewarden.engines.matching import product_words
from zonewarden.engines.ranges import parse_range
from zonewarden.engines.sbom_match import SbomComponent, cpe_parts, purl_parts
from zonewarden.engines.vendors import asset_vendor_keys, fold, vendor_keys
from zonewarden.engines.versions import try_version

#: Words that name a vendor's security team, not the vendor ("Siemens ProductCERT").
_TEAM = re.compile(r"\b(?:product\s*cert|psirt|cert|csirt|security(?:\s+(?:team|response|advisories))?|"
                   r"vulnerability\s+(?:team|management)|incident\s+response|team)\b", re.I)


@dataclass(frozen=True)
class Statement:
    """A stored VEX statement (``vex_statements`` row), as matching reads it."""

    id: int
    document_id: str
    publisher: str
    vulnerability: str
    state: str
    vendor: str | None = None
    product: str | None = None
    purl: str | None = None
    cpe: str | None = None
    version: str | None = None
    justification: str | None = None
    impact: str | None = None
    site_id: str | None = None
    asset_id: str | None = None
    from_supplier: bool = False
    accepted: tuple[tuple[str, str], ...] = ()
    """(site id, who accepted it there): a statement from another source closes findings only
    on the sites where a person accepted it."""

    def effective_on(self, site_id: str) -> bool:
        """Closes findings on the site: from the product's supplier, or accepted there."""
        return self.state == "not_affected" and (self.from_supplier or any(s == site_id for s, _ in self.accepted))

    def why(self, site_id: str) -> str:
        by = next((who for s, who in self.accepted if s == site_id), None)
        who = "the product's supplier" if self.from_supplier else f"not the supplier; accepted by {by}"
        parts = [f"VEX {self.document_id} by {self.publisher} ({who}): {self.vulnerability} not affected"]
        if self.justification:
            parts.append(f"justification: {self.justification}")
        if self.impact:
            parts.append(f"impact: {self.impact}")
        return "; ".join(parts)


def publisher_keys(publisher: str | None) -> tuple[str, ...]:
    """Vendor keys of a publisher's name, with its security team's words removed."""
    if not publisher:
        return ()
    name = _TEAM.sub(" ", publisher).strip(" ,-")
    return vendor_keys(name) or vendor_keys(publisher)


def is_supplier(publisher: str | None, vendor: str | None) -> bool:
    """Whether ``publisher`` is ``vendor`` (or a brand of it) through the vendor registry."""
    if not publisher or not vendor:
        return False
    mine = set(publisher_keys(publisher))
    return bool(mine and mine.intersection((*vendor_keys(vendor), *asset_vendor_keys(vendor))))


def _version_ok(stmt_version: str | None, version: str | None) -> bool:
    if not stmt_version or stmt_version.strip().lower() in ("*", "all", "vers:all/*"):
        return True
    if not version:
        return False
    a, b = try_version(stmt_version), try_version(version)
    if a is not None and b is not None:
        return a == b
    try:
        inside = parse_range(stmt_version).contains(version)
    except Exception:  # an unreadable range covers nothing
        return False
    return inside is True


def _purl_same(a: str, b: str | None, version: str | None, stmt_version: str | None) -> bool:
    pa, pb = purl_parts(a), purl_parts(b) if b else None
    if pa is None or pb is None or pa[0] != pb[0]:
        return False
    return _version_ok(pa[1] or stmt_version, pb[1] or version)


def _cpe_same(a: str, b: str | None, version: str | None, stmt_version: str | None) -> bool:
    ca, cb = cpe_parts(a), cpe_parts(b) if b else None
    if ca is None or cb is None or ca[1:3] != cb[1:3]:
        return False
    return _version_ok(ca[3] or stmt_version, cb[3] or version)


def covers(stmt: Statement, cve: str, asset: Asset, product_name: str, component: SbomComponent | None) -> bool:
    """Whether ``stmt`` says the match (``product_name``: the advisory entry; ``component``: the
    SBOM component the match was made through, if any) is not affected by ``cve``."""
    if fold(stmt.vulnerability) != fold(cve):
        return False
    if stmt.asset_id is not None:
        if stmt.asset_id != asset.id or component is None:
            return False
        if stmt.purl:
            return _purl_same(stmt.purl, component.purl, component.version, stmt.version)
        if stmt.cpe:
            return _cpe_same(stmt.cpe, component.cpe, component.version, stmt.version)
        return fold(stmt.product or "") == fold(component.name) and _version_ok(stmt.version, component.version)
    target_purl = component.purl if component else asset.purl
    target_cpe = component.cpe if component else asset.cpe
    version = component.version if component else asset.version
    if stmt.purl:
        return _purl_same(stmt.purl, target_purl, version, stmt.version)
    if stmt.cpe:
        return _cpe_same(stmt.cpe, target_cpe, version, stmt.version)
    if component is not None or not stmt.product:
        return False
    if not set(vendor_keys(stmt.vendor)).intersection(asset_vendor_keys(asset.vendor)):
        return False
    words = product_words(stmt.product).core
    if not words or words not in (product_words(product_name).core, product_words(asset.product).core):
        return False
    return _version_ok(stmt.version, version)
