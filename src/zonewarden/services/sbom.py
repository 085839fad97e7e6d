"""SBOM use cases: import an asset's CycloneDX SBOM, list its components, hand them to matching.

One SBOM per asset: a re-import replaces the asset's components in one transaction with an
``sbom.import`` audit event that says what changed (components added, removed, version
changed). A refused file (see :mod:`zonewarden.io.sbom`) stores nothing. After the import the
site is rematched, so findings through the components appear (or go) at once, and supplier VEX
statements already recorded are applied (:mod:`zonewarden.services.vex`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select

from zonewarden.engines.sbom_match import SbomComponent
from zonewarden.errors import InputError, NotFoundError, Problem
from zonewarden.io.sbom import MAX_SBOM_BYTES, Sbom, read_sbom
from zonewarden.services import audit, identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.sbom_tables import sbom_components, sboms
from zonewarden.store.tables import assets


@dataclass(frozen=True)
class SbomImportReport:
    site_id: str
    asset_id: str
    components: int
    replaced: bool
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    """``name: old -> new`` for components whose version changed."""
    findings: dict[str, int] = field(default_factory=dict)
    """What the rematch changed: created, updated, deactivated."""
    vex_closed: int = 0

    @property
    def summary(self) -> str:
        what = "replaced" if self.replaced else "imported"
        head = f"SBOM of {self.asset_id} {what}: {self.components} component(s)"
        if self.replaced:
            head += f"; {len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} version change(s)"
        return head


def _read_file(path: str | Path, limit: int) -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limit:
            raise InputError(f"{p}: the SBOM is {size:,} bytes, over the limit of {limit:,}",
                             [Problem(f"file too large ({size:,} bytes > {limit:,})", file=str(p))])
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read the SBOM ({exc.strerror or exc})",
                         [Problem("check the path and that the file is readable", file=str(p))]) from None


def _key(c: SbomComponent) -> str:
    return c.purl.split("@", 1)[0] if c.purl else f"{c.name} ({c.supplier})" if c.supplier else c.name


def _diff(old: list[SbomComponent], new: list[SbomComponent]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    before = {_key(c): c for c in old}
    after = {_key(c): c for c in new}
    added = tuple(sorted(after.keys() - before.keys()))
    removed = tuple(sorted(before.keys() - after.keys()))
    changed = tuple(sorted(f"{k}: {before[k].version} -> {after[k].version}"
                           for k in before.keys() & after.keys() if before[k].version != after[k].version))
    return added, removed, changed


def _as_components(sbom: Sbom) -> list[SbomComponent]:
    return [SbomComponent(seq=i, name=c.name, version=c.version, purl=c.purl, cpe=c.cpe, supplier=c.supplier,
                          pointer=c.pointer) for i, c in enumerate(sbom.components)]


def import_sbom(
    store: Store, site_id: str, asset_id: str, path: str | Path, *, principal: Principal, reason: str | None = None,
    data: bytes | None = None, limit: int = MAX_SBOM_BYTES,
) -> SbomImportReport:
    """Read ``path`` (or ``data``) as the CycloneDX SBOM of ``asset_id`` in ``site_id`` and store its
    components, replacing any earlier SBOM of the asset; rematch the site."""
    identity.authorize(store, principal, "sbom.import", site_id)
    source = str(path)
    raw = data if data is not None else _read_file(path, limit)
    sbom = read_sbom(raw, source, limit=limit)
    comps = _as_components(sbom)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        if conn.execute(select(assets.c.id).where(assets.c.site_id == site_id, assets.c.id == asset_id)).first() is None:
            raise NotFoundError(f"no asset {asset_id!r} in site {site_id!r} (see `zonewarden inventory` or the site file)")
        prior = conn.execute(select(sboms).where(sboms.c.site_id == site_id, sboms.c.asset_id == asset_id)).first()
        old = components_of(conn, site_id, [asset_id]).get(asset_id, [])
        added, removed, changed = _diff(old, comps)
        conn.execute(delete(sbom_components).where(sbom_components.c.site_id == site_id, sbom_components.c.asset_id == asset_id))
        conn.execute(delete(sboms).where(sboms.c.site_id == site_id, sboms.c.asset_id == asset_id))
        conn.execute(sboms.insert().values(
            site_id=site_id, asset_id=asset_id, spec_version=sbom.spec_version, serial_number=sbom.serial_number,
            bom_version=sbom.version, sha256=hashlib.sha256(raw).hexdigest(), source=source[:2000],
            components=len(comps), imported_by=principal.user_id, imported_at=now,
        ))
        if comps:
            conn.execute(sbom_components.insert(), [
                {"site_id": site_id, "asset_id": asset_id, "seq": c.seq, "bom_ref": sbom.components[c.seq].bom_ref,
                 "name": c.name[:500], "version": c.version, "purl": c.purl, "cpe": c.cpe,
                 "supplier": c.supplier and c.supplier[:500], "pointer": c.pointer}
                for c in comps
            ])
        audit.append(
            conn, action="sbom.import", **principal.audit_fields, site_id=site_id, object_type="asset",
            object_id=asset_id, reason=reason or f"CycloneDX {sbom.spec_version} SBOM {Path(source).name}",
            before=None if prior is None else {"sha256": prior.sha256, "components": prior.components},
            after={"sha256": hashlib.sha256(raw).hexdigest(), "components": len(comps), "added": list(added),
                   "removed": list(removed), "changed": list(changed)},
            at=now,
        )
    report = SbomImportReport(site_id, asset_id, len(comps), prior is not None, added, removed, changed)
    report = _after_change(store, report, principal)
    if sbom.analyses:
        # VEX inside the SBOM (vulnerabilities[].analysis): recorded like a separate CycloneDX VEX.
        from zonewarden.services import vex

        done = vex.import_vex(store, path, principal=principal, site_id=site_id, asset_id=asset_id, data=raw,
                              reason=f"VEX analyses inside the SBOM of {asset_id}")
        report = replace(report, vex_closed=report.vex_closed + done.closed)
    return report


def _after_change(store: Store, report: SbomImportReport, principal: Principal) -> SbomImportReport:
    from zonewarden.services import advisories, vex

    counts = advisories.rematch_site(store, report.site_id, principal=principal,
                                     reason=f"the SBOM of asset {report.asset_id} changed")
    closed = vex.apply(store, site_ids=[report.site_id])
    return SbomImportReport(
        report.site_id, report.asset_id, report.components, report.replaced, report.added, report.removed,
        report.changed, {"created": counts.created, "updated": counts.updated, "deactivated": counts.deactivated},
        closed,
    )


def components_of(conn: Connection, site_id: str, asset_ids: list[str] | None = None) -> dict[str, list[SbomComponent]]:
    """The stored components of a site's assets, by asset id, in SBOM order."""
    stmt = select(sbom_components).where(sbom_components.c.site_id == site_id)
    if asset_ids is not None:
        stmt = stmt.where(sbom_components.c.asset_id.in_(asset_ids))
    out: dict[str, list[SbomComponent]] = defaultdict(list)
    for r in conn.execute(stmt.order_by(sbom_components.c.asset_id, sbom_components.c.seq)):
        out[r.asset_id].append(SbomComponent(r.seq, r.name, r.version, r.purl, r.cpe, r.supplier, r.pointer))
    return dict(out)


def list_components(store: Store, site_id: str, asset_id: str | None = None, *, principal: Principal) -> list[dict[str, Any]]:
    """Components of the site's SBOMs (of one asset), as rows for display."""
    identity.authorize(store, principal, "site.read", site_id)
    with store.read() as conn:
        stmt = select(sbom_components).where(sbom_components.c.site_id == site_id)
        if asset_id is not None:
            stmt = stmt.where(sbom_components.c.asset_id == asset_id)
        rows = conn.execute(stmt.order_by(sbom_components.c.asset_id, sbom_components.c.seq)).all()
        if asset_id is not None and not rows and conn.execute(
                select(sboms.c.asset_id).where(sboms.c.site_id == site_id, sboms.c.asset_id == asset_id)).first() is None:
            raise NotFoundError(f"no SBOM for asset {asset_id!r} in site {site_id!r} (import one with `zonewarden sbom import`)")
    return [{"asset": r.asset_id, "name": r.name, "version": r.version, "purl": r.purl, "cpe": r.cpe,
             "supplier": r.supplier, "pointer": r.pointer} for r in rows]
