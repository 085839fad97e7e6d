"""One asset's advisory findings rolled up by the fix that closes them: "6 advisories, 4 fixed
by firmware V3.2". For the per-asset web page and for a ``findings list --group-by asset``.

A finding's fix is the vendor fix (CSAF remediation category ``vendor_fix``) of the advisory's
product entries that matched the asset, named by the versions its text gives (``Update to V3.2
or later``: ``V3.2``), else by its text. Findings whose advisory names no vendor fix for the
matched entries are grouped under "no vendor fix" with the mitigations and workarounds offered.
Queries never write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zonewarden.domain.advisories import FlatAdvisory
from zonewarden.engines.matching import named_versions
from zonewarden.services import advisories as adv
from zonewarden.services import identity
from zonewarden.services.principal import Principal
from zonewarden.services.site_views import record
from zonewarden.store.advisory_tables import advisories
from zonewarden.store.db import Store

NO_FIX = "no vendor fix"

_OPEN = ("affected", "needs-review")
_FIRMWARE = frozenset({"plc", "safety-controller", "dcs-controller", "rtu", "io-module", "drive", "hmi", "switch",
                       "router", "firewall", "gateway", "sensor", "analyzer"})


@dataclass(frozen=True, slots=True)
class FixGroup:
    fix: str
    """``firmware V3.2`` / the remediation's text / ``no vendor fix``."""
    details: tuple[str, ...]
    """The remediation texts (vendor fixes; or mitigations and workarounds when there is none)."""
    findings: tuple[adv.FindingRow, ...]

    @property
    def advisories(self) -> tuple[str, ...]:
        return tuple(sorted({f.tracking_id for f in self.findings}))


@dataclass(frozen=True, slots=True)
class AssetFindings:
    site_id: str
    asset: dict[str, Any]
    """The asset record as stored (id, zone, vendor, product, model_number, version, criticality, patch_tier...)."""
    groups: tuple[FixGroup, ...]
    """Open findings (affected, needs review) by fix, largest group first; "no vendor fix" last."""
    closed: tuple[adv.FindingRow, ...] = field(default=())
    """Findings the matcher says are fixed or not affected."""

    @property
    def advisories(self) -> int:
        return len({f.tracking_id for g in self.groups for f in g.findings})

    def summary(self) -> str:
        """``6 advisories, 4 fixed by firmware V3.2`` in words."""
        n = self.advisories
        if not n:
            return "no open advisories"
        head = f"{n} advisor{'y' if n == 1 else 'ies'}"
        parts = [f"{len(g.advisories)} fixed by {g.fix}" for g in self.groups if g.fix != NO_FIX]
        nofix = [g for g in self.groups if g.fix == NO_FIX]
        if nofix:
            parts.append(f"{len(nofix[0].advisories)} without a vendor fix")
        return ", ".join([head, *parts])

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site_id, "asset": self.asset.get("id"), "summary": self.summary(),
            "groups": [{"fix": g.fix, "details": list(g.details), "advisories": list(g.advisories),
                        "findings": [f.id for f in g.findings]} for g in self.groups],
            "closed": [f.id for f in self.closed],
        }


def _fix_of(flat: FlatAdvisory, product_ids: set[str], asset_type: str | None) -> tuple[str, tuple[str, ...]]:
    fixes: list[str] = []
    others: list[str] = []
    for vuln in flat.vulnerabilities:
        for r in vuln.remediations:
            if not product_ids & set(r.product_ids):
                continue
            text = r.details.strip()
            (fixes if r.category == "vendor_fix" else others).append(f"{r.category}: {text}" if r.category != "vendor_fix" else text)
    if not fixes:
        return NO_FIX, tuple(dict.fromkeys(others))
    versions = [v.text for v in sorted({v for text in fixes for v in named_versions(text)})]
    word = "firmware" if asset_type in _FIRMWARE else "version"
    name = f"{word} {' / '.join(versions)}" if versions else fixes[0]
    return name, tuple(dict.fromkeys(fixes))


def asset_findings(store: Store, site_id: str, asset_id: str, *, principal: Principal) -> AssetFindings:
    """The asset of ``site_id`` and its active findings grouped by fix (404 for an unknown asset
    or a site the principal may not see)."""
    identity.authorize(store, principal, "site.read", site_id)
    asset = record(store, principal, site_id, "assets", asset_id)["item"]
    rows = adv.list_findings(store, principal=principal, site_id=site_id, asset=asset_id)
    flats: dict[str, FlatAdvisory] = {}
    with store.read() as conn:
        for tid in {f.tracking_id for f in rows}:
            row_id = conn.execute(
                advisories.select().with_only_columns(advisories.c.id)
                .where(advisories.c.tracking_id == tid, advisories.c.current.is_(True))
            ).scalar()
            if row_id is not None:
                flats[tid] = adv._flat_of(conn, row_id)
    grouped: dict[str, tuple[list[str], list[adv.FindingRow]]] = {}
    closed = []
    for f in rows:
        if f.status not in _OPEN:
            closed.append(f)
            continue
        flat = flats.get(f.tracking_id)
        pids = {str(m.get("product_id")) for m in f.matches}
        fix, details = _fix_of(flat, pids, asset.get("type")) if flat else (NO_FIX, ())
        entry = grouped.setdefault(fix, ([], []))
        entry[0].extend(d for d in details if d not in entry[0])
        entry[1].append(f)
    groups = sorted(
        (FixGroup(k, tuple(d), tuple(fs)) for k, (d, fs) in grouped.items()),
        key=lambda g: (g.fix == NO_FIX, -len(g.advisories), g.fix),
    )
    return AssetFindings(site_id, asset, tuple(groups), tuple(closed))


__all__ = ["NO_FIX", "AssetFindings", "FixGroup", "asset_findings"]
