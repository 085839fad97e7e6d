"""What to act on (issue 14): per finding, the CVEs with CVSS and CWE, the advisory's remediations
with fixed versions, the vendor's and CISA's pages; per asset, its findings rolled up with the
fixes that close them ("6 advisories, all fixed by 4.5").

Computed on read from the stored advisory (:mod:`zonewarden.engines.advisory_actions`): nothing
is added to the finding rows. Reads only; visibility as :func:`.reads.list_findings`.

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from zonewarden.engines.advisory_actions import ActOn, act_on
from zonewarden.engines.versions import OTVersion
from zonewarden.runtime import batched
from zonewarden.services.advisories.match_state import _reflatten
from zonewarden.services.advisories.model import FindingRow
from zonewarden.services.advisories.reads import get_finding, list_findings
from zonewarden.services.principal import Principal
from zonewarden.store.advisory_tables import advisories, findings
from zonewarden.store.db import Store


class _Advisories:
    """Flattened advisories and their references by stored row, read once per call."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._cache: dict[int, tuple[Any, list[Any]]] = {}

    def rows_of(self, finding_ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for chunk in batched(sorted(set(finding_ids)), 500):
            rows = self.conn.execute(select(findings.c.id, findings.c.advisory_row).where(findings.c.id.in_(chunk)))
            out.update((int(r.id), int(r.advisory_row)) for r in rows)
        return out

    def act_on(self, row_id: int, product_ids: Iterable[str]) -> ActOn:
        hit = self._cache.get(row_id)
        if hit is None:
            row = self.conn.execute(
                select(advisories.c.source, advisories.c.document).where(advisories.c.id == row_id)
            ).one()
            doc = orjson.loads(row.document)
            refs = (doc.get("document") or {}).get("references") or [] if isinstance(doc, dict) else []
            hit = self._cache[row_id] = (_reflatten(row), refs if isinstance(refs, list) else [])
        return act_on(hit[0], hit[1], product_ids)


def _pids(f: FindingRow) -> list[str]:
    return [m["product_id"] for m in f.matches if isinstance(m, dict) and "product_id" in m]


def finding_actions(store: Store, finding_id: int, *, principal: Principal) -> ActOn:
    """What to act on for one finding (raises NotFoundError when the principal may not see it)."""
    f = get_finding(store, finding_id, principal=principal)
    with store.read() as conn:
        adv = _Advisories(conn)
        row = adv.rows_of([f.id])[f.id]
        return adv.act_on(row, _pids(f))


@dataclass(frozen=True, slots=True)
class AssetFindings:
    """One asset's open findings with what closes them."""

    site_id: str
    asset_id: str
    zone_id: str | None
    findings: tuple[FindingRow, ...]
    actions: tuple[ActOn, ...]
    """Per finding, in the same order."""

    @property
    def advisories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.tracking_id for f in self.findings))

    @property
    def fixed_by(self) -> OTVersion | None:
        """The version that closes every finding of the asset, when each advisory names one."""
        best: OTVersion | None = None
        for a in self.actions:
            v = a.fixed_by
            if v is None or (best is not None and v.scheme != best.scheme):
                return None
            best = v if best is None or v > best else best
        return best

    @property
    def with_fix(self) -> int:
        """How many findings have a vendor fix with a fixed version that closes them."""
        return sum(1 for a in self.actions if a.fixed_by is not None)

    @property
    def summary(self) -> str:
        n = len(self.advisories)
        what = f"{n} advisor{'y' if n == 1 else 'ies'}"
        fixed = self.fixed_by
        if fixed is not None:
            return f"{what}, all fixed by version {fixed}" if n > 1 else f"{what}, fixed by version {fixed}"
        k = self.with_fix
        if k:
            return f"{what}; {k} of {len(self.findings)} finding(s) have a vendor fix naming a version"
        mitigations = sum(1 for a in self.actions if any(r.category in ("mitigation", "workaround") for r in a.remediations))
        return f"{what}; no fixed version named" + (f", {mitigations} with mitigations or workarounds" if mitigations else "")

    def as_json(self) -> dict[str, Any]:
        fixed = self.fixed_by
        return {
            "site": self.site_id, "asset": self.asset_id, "zone": self.zone_id,
            "advisories": list(self.advisories), "findings": [f.id for f in self.findings],
            "fixed_by": str(fixed) if fixed is not None else None, "summary": self.summary,
            "fixes": [
                {"finding": f.id, "advisory": f.tracking_id, "status": f.status, "priority": f.priority, **a.as_json()}
                for f, a in zip(self.findings, self.actions, strict=True)
            ],
        }


def findings_by_asset(
    store: Store,
    *,
    principal: Principal,
    site_id: str | None = None,
    status: str | Sequence[str] | None = ("affected", "needs-review"),
    priority: str | Sequence[str] | None = None,
    zone: str | None = None,
) -> list[AssetFindings]:
    """Open findings (by default affected and needs-review) rolled up per asset, most urgent
    asset first (its most urgent finding), each with the fixes that close them."""
    rows = list_findings(store, principal=principal, site_id=site_id, status=status, priority=priority, zone=zone)
    per: dict[tuple[str, str], list[FindingRow]] = {}
    for f in rows:  # already most urgent first: the first finding of an asset is its most urgent
        per.setdefault((f.site_id, f.asset_id), []).append(f)
    out: list[AssetFindings] = []
    with store.read() as conn:
        adv = _Advisories(conn)
        row_of = adv.rows_of([f.id for f in rows])
        for (site, asset), fs in per.items():
            out.append(AssetFindings(site, asset, fs[0].zone_id, tuple(fs),
                                     tuple(adv.act_on(row_of[f.id], _pids(f)) for f in fs)))
    return out


__all__ = ["AssetFindings", "finding_actions", "findings_by_asset"]
