"""Findings follow the inventory: each site's inventory indexed once per batch, findings written
from a match, the recorded content hash per site, rematching stale sites.

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, select, update

from zonewarden.domain.advisories import (
    Finding,
    FindingStatus,
    FlatAdvisory,
    Override,
    Priority,
    SsvcDecision,
    SsvcInput,
)
from zonewarden.domain.site import Asset, SiteDocument
from zonewarden.engines import ssvc as ssvc_engine
from zonewarden.engines.matching import InventoryIndex, match_advisory
from zonewarden.engines.products import flatten_advisory
from zonewarden.engines.sbom_match import SbomComponent, component_assets, fold_findings
from zonewarden.errors import InputError, NotFoundError
from zonewarden.services import audit, findings_store
from zonewarden.services.advisories.model import _OPEN_TRIAGE, _clean
from zonewarden.services.principal import SYSTEM, Principal
from zonewarden.store.advisory_tables import (
    EXPLANATION_COLUMNS,
    advisories,
    findings,
    findings_explained,
    kev_entries,
    match_state,
    triage_decisions,
)
from zonewarden.store.db import Store
from zonewarden.store.tables import sites

# Statements built once (shared with ingest).
_DOCUMENT_OF = select(advisories.c.source, advisories.c.document).where(advisories.c.id == bindparam("row_id"))
_FINDINGS_OF = select(findings, *EXPLANATION_COLUMNS).select_from(findings_explained).where(
    and_(findings.c.site_id == bindparam("site"), findings.c.tracking_id == bindparam("tid"))
)


# --- per-batch context ---------------------------------------------------------------------


class _SiteMatcher:
    """One site's inventory, indexed once per batch, with exposures and assets by id."""

    def __init__(self, site_id: str, doc: SiteDocument, content_hash: str,
                 components: Mapping[str, Sequence[SbomComponent]] | None = None) -> None:
        from zonewarden.services.exposure import asset_exposures

        self.site_id = site_id
        self.doc = doc
        self.content_hash = content_hash
        # SBOM components match as identifier-only assets, folded into their asset (engines.sbom_match).
        extra, self.sbom_parents = component_assets(doc.assets, components or {})
        self.index = InventoryIndex([*doc.assets, *extra])
        self.assets: dict[str, Asset] = {a.id: a for a in doc.assets}
        self.exposure: dict[str, SsvcInput] = asset_exposures(doc)
        self._inputs: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {}
        self._exposure_json: dict[int, dict[str, Any]] = {}

    def input_json(self, asset: Asset) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The asset's safety impact, mission impact and exposure as stored in a decision
        (kept for the batch: every advisory of the asset's vendor needs them again)."""
        out = self._inputs.get(asset.id)
        if out is None:
            safety, mission = ssvc_engine.impacts_from(asset)
            exposure = self.exposure[asset.id]
            shown = self._exposure_json.get(id(exposure))  # one SsvcInput per zone
            if shown is None:
                shown = self._exposure_json[id(exposure)] = exposure.model_dump(mode="json")
            out = self._inputs[asset.id] = (safety.model_dump(mode="json"), mission.model_dump(mode="json"), shown)
        return out


def _site_matchers(conn: Connection, site_ids: Iterable[str] | None = None) -> list[_SiteMatcher]:
    from zonewarden.services.sbom import components_of
    from zonewarden.services.sites import _stored_data

    stmt = select(sites.c.id, sites.c.content_hash).order_by(sites.c.id)
    if site_ids is not None:
        stmt = stmt.where(sites.c.id.in_(list(site_ids)))
    out = []
    for row in conn.execute(stmt).all():
        data = _stored_data(conn, row.id)
        if data is None:
            continue
        out.append(_SiteMatcher(row.id, SiteDocument.model_validate(data), row.content_hash, components_of(conn, row.id)))
    return out


def _kev_set(conn: Connection) -> frozenset[str] | None:
    """CVE ids of the imported KEV catalog; None when none was imported (SSVC says so)."""
    cves = frozenset(r.cve for r in conn.execute(select(kev_entries.c.cve)))
    return cves or None


def _ssvc_for(
    flat: FlatAdvisory,
    finding: Finding | None,
    status: str,
    matches: Sequence[dict[str, Any]],
    cves: Sequence[str],
    asset: Asset,
    exposure: SsvcInput,
    kev: frozenset[str] | None,
    overrides: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The highest SSVC priority over the finding's vulnerabilities, with its inputs.

    Only affected and needs-review findings get one: for needs-review it says how urgent the
    review is if the asset turns out to be affected.
    """
    if status not in (FindingStatus.AFFECTED.value, FindingStatus.NEEDS_REVIEW.value):
        return None
    product_ids = [m["product_id"] for m in matches if m["status"] == status]
    wanted = set(cves)
    vulns = [v for v in flat.vulnerabilities if (v.cve or v.title) in wanted] or list(flat.vulnerabilities)
    ov = {k: Override.model_validate(v) for k, v in overrides.items()}
    best: tuple[SsvcDecision, str | None] | None = None
    for v in sorted(vulns, key=lambda v: v.cve or v.title or ""):
        score = next((s for s in (v.cvss_v3_for(p) for p in product_ids) if s is not None), None)
        decision = ssvc_engine.decide(
            asset=asset,
            exposure=exposure,
            cve=v.cve,
            kev=kev,
            evidence=v.exploitation or flat.exploitation,
            cvss_vector=score.vector if score else None,
            overrides=ov,
        )
        if best is None or decision.priority.rank > best[0].priority.rank:
            best = (decision, v.cve or v.title)
    if best is None:  # an advisory without vulnerabilities: judge the asset alone
        best = (ssvc_engine.decide(asset=asset, exposure=exposure, kev=kev, evidence=flat.exploitation, overrides=ov), None)
    out = best[0].model_dump(mode="json")
    out["vulnerability"] = best[1]
    return out


def _shared_decision(decision: dict[str, Any] | None, asset: Asset, sm: _SiteMatcher) -> dict[str, Any] | None:
    """A decision computed for an asset with the same exposure value, criticality and impacts,
    with the inputs whose sources name the asset or its zone (safety and mission impact,
    exposure) taken from this asset: without overrides :func:`ssvc.decide` passes them through
    unchanged, and the priority depends on their values only."""
    if decision is None:
        return None
    out = dict(decision)
    out["safety_impact"], out["mission_impact"], out["exposure"] = sm.input_json(asset)
    return out


def _match_json(finding: Finding) -> tuple[list[dict[str, Any]], dict[str, str], str]:
    matches = [
        {
            "product_id": m.product_id,
            "product_name": _clean(m.product_name),
            "matched_on": m.matched_on.value,
            "matched_value": _clean(m.matched_value),
            "group": m.group.value,
            "range": _clean(m.range_text),
            "range_understood_as": _clean(m.range_description),
            "asset_version": m.asset_version,
            "in_range": m.in_range,
            "version_reason": m.version_reason.value if m.version_reason else None,
            "conditions": [_clean(c) for c in m.conditions],
            "status": m.status.value,
            "reason": m.reason.value if m.reason else None,
            "cves": list(m.cves),
            "message": _clean(m.message),
        }
        for m in finding.matches
    ]
    product_status = {m.product_id: f"{m.group.value}:{m.status.value}" for m in finding.matches}
    return matches, product_status, _clean(finding.message) or ""


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    reopened: int = 0
    deactivated: int = 0
    reopened_ids: list[int] = field(default_factory=list)


def _apply_findings(
    conn: Connection,
    sm: _SiteMatcher,
    flat: FlatAdvisory,
    advisory_row: int,
    version: str,
    kev: frozenset[str] | None,
    now: dt.datetime,
    counts: _Counts,
    log: audit.Buffer,
    *,
    first_of_its_id: bool = False,
) -> None:
    """Upsert the findings of one advisory on one site; reopen triage where the product status
    changed. Reopen events go to ``log``. ``first_of_its_id`` says no advisory of this tracking
    id was stored before, so there are no findings to read back."""
    found = fold_findings(match_advisory(flat, sm.index), sm.sbom_parents)
    existing = (
        {} if first_of_its_id
        else {r.asset_id: r for r in conn.execute(_FINDINGS_OF, {"site": sm.site_id, "tid": flat.id})}
    )
    new_rows: list[tuple[Any, ...]] = []
    codec = findings_store.RowCodec(conn)
    stamp, yes, no_json, empty_json = codec.when(now), codec.flag(True), codec.json(None), codec.json({})
    seen = set()
    # Assets that look the same to matching share one (immutable) matches tuple, and assets
    # with the same exposure and impacts share the SSVC decision: a fleet of 500 identical
    # drives costs one explanation and one decision, not 500 (see _shared_decision). The
    # shared values are encoded for the store once too.
    explained: dict[int, tuple[list[dict[str, Any]], dict[str, str], str]] = {}
    explanations = findings_store.Explanations(conn)
    explanation_ids: dict[tuple[int, tuple[str, ...]], int] = {}
    decided: dict[tuple[Any, ...], dict[str, Any] | None] = {}
    for f in found:
        seen.add(f.asset_id)
        asset = sm.assets[f.asset_id]
        key = id(f.matches)
        if key not in explained:
            explained[key] = _match_json(f)
        matches, product_status, message = explained[key]
        old = existing.get(f.asset_id)
        overrides = dict(old.overrides) if old is not None else {}
        exposure = sm.exposure[asset.id]
        if overrides:
            decision = _ssvc_for(flat, f, f.status.value, matches, f.cves, asset, exposure, kev, overrides)
        else:
            dkey = (key, exposure.value, asset.criticality, asset.safety_impact, asset.mission_impact)
            if dkey not in decided:
                decided[dkey] = _ssvc_for(flat, f, f.status.value, matches, f.cves, asset, exposure, kev, overrides)
            decision = _shared_decision(decided[dkey], asset, sm)
        priority = decision["priority"] if decision else None
        eid = explanation_ids.get((key, f.cves))
        if eid is None:
            eid = explanation_ids[(key, f.cves)] = explanations.id_of(message, f.cves, matches, product_status)
        if old is None:
            new_rows.append((
                sm.site_id, flat.id, advisory_row, f.asset_id, asset.zone, yes, f.status.value,
                f.reason.value if f.reason else None, eid,
                codec.json(decision) if decision is not None else no_json, empty_json, priority,
                Priority(priority).rank if priority else None, "new", None, None, stamp, stamp,
            ))
            continue
        values = {
            "advisory_row": advisory_row,
            "zone_id": asset.zone,
            "active": True,
            "status": f.status.value,
            "reason": f.reason.value if f.reason else None,
            "explanation_id": eid,
            "ssvc": decision,
            "priority": priority,
            "priority_rank": Priority(priority).rank if priority else None,
        }
        # A decision is reopened when a new revision changes the advisory's statement about the
        # asset, or when the finding gets worse for any reason (an asset downgraded to an
        # affected firmware). An improvement through the inventory leaves the decision alone.
        revised = old.advisory_row != advisory_row and (
            old.status != f.status.value or dict(old.product_status) != product_status
        )
        worse = f.status.severity > FindingStatus(old.status).severity
        changed_status = revised or worse
        same = all(getattr(old, k) == v for k, v in values.items())
        if same:
            continue
        values["updated_at"] = now
        if changed_status and old.triage_status not in _OPEN_TRIAGE:
            if revised:
                why = (
                    f"revision {version} of {flat.id} changed the product status for {f.asset_id}: "
                    f"{old.status} -> {f.status.value}"
                    + ("" if old.status != f.status.value else " (the product entries or their groups changed)")
                )
            else:
                why = f"the inventory changed: {f.asset_id} is now {f.status.value} for {flat.id} (was {old.status})"
            values.update(triage_status="under-assessment", triage_owner=None, triage_expires=None)
            conn.execute(
                triage_decisions.insert().values(
                    finding_id=old.id, at=now, actor=SYSTEM.user_id, from_status=old.triage_status,
                    to_status="under-assessment", why=why, owner=None, expires=None, controls=[], automatic=True,
                )
            )
            log.add(
                action="finding.reopen", **SYSTEM.audit_fields, site_id=sm.site_id,
                object_type="finding",
                object_id=str(old.id), reason=why, before={"triage": old.triage_status, "status": old.status},
                after={"triage": "under-assessment", "status": f.status.value}, at=now,
            )
            counts.reopened += 1
            counts.reopened_ids.append(old.id)
        conn.execute(update(findings).where(findings.c.id == old.id).values(**values))
        counts.updated += 1
    counts.created += findings_store.insert_findings(conn, new_rows)
    gone = [r.id for a, r in existing.items() if a not in seen and r.active]
    if gone:
        conn.execute(update(findings).where(findings.c.id.in_(gone)).values(active=False, updated_at=now))
        counts.deactivated += len(gone)


def _set_match_state(conn: Connection, site_id: str, content_hash: str, now: dt.datetime) -> None:
    row = conn.execute(select(match_state.c.site_id).where(match_state.c.site_id == site_id)).first()
    if row is None:
        conn.execute(match_state.insert().values(site_id=site_id, content_hash=content_hash, matched_at=now))
    else:
        conn.execute(
            update(match_state).where(match_state.c.site_id == site_id).values(content_hash=content_hash, matched_at=now)
        )


def carry_match_state(conn: Connection, site_id: str, old_hash: str | None, new_hash: str) -> None:
    """A write that changed none of what matching reads (assets, zones, conduits: e.g. a
    requirement status or a deferral) keeps the site's findings current: move the match state
    to the new content hash instead of leaving the site stale for a reader to rematch."""
    if old_hash is None:
        return
    conn.execute(
        update(match_state)
        .where(match_state.c.site_id == site_id, match_state.c.content_hash == old_hash)
        .values(content_hash=new_hash)
    )


def _current_flats(conn: Connection) -> list[tuple[int, str, FlatAdvisory]]:
    rows = conn.execute(
        select(advisories.c.id, advisories.c.version, advisories.c.source, advisories.c.document)
        .where(advisories.c.current.is_(True))
        .order_by(advisories.c.tracking_id)
    )
    return [(r.id, r.version, _reflatten(r)) for r in rows]


def _flat_of(conn: Connection, row_id: int) -> FlatAdvisory:
    row = conn.execute(_DOCUMENT_OF, {"row_id": row_id}).one()
    return _reflatten(row)


def _reflatten(row: Any) -> FlatAdvisory:
    """The stored document flattened again (``row`` has ``source`` and ``document``).

    The document as received is the only stored form of an advisory: what matching needs is
    derived from it each time, so a new release's reading of product trees and ranges applies
    to advisories stored before it, and never sits beside a stale copy. It was accepted once;
    should a later release find it unreadable, the error names it.
    """
    try:
        return flatten_advisory(orjson.loads(row.document), source=row.source)
    except InputError as exc:
        raise InputError(f"stored advisory {row.source} can no longer be read ({exc}); ingest it again or a newer revision") from exc


def _rematch(conn: Connection, sm: _SiteMatcher, kev: frozenset[str] | None, now: dt.datetime) -> _Counts:
    counts = _Counts()
    current = _current_flats(conn)
    log = audit.Buffer()
    for row_id, version, flat in current:
        _apply_findings(conn, sm, flat, row_id, version, kev, now, counts, log)
    log.flush(conn)
    # Findings of advisories that are no longer current cannot exist (tracking ids are kept),
    # but findings of assets that left the inventory are handled by _apply_findings above.
    _set_match_state(conn, sm.site_id, sm.content_hash, now)
    return counts


def _stale_sites(conn: Connection) -> list[str]:
    state = {r.site_id: r.content_hash for r in conn.execute(select(match_state))}
    return [
        r.id
        for r in conn.execute(select(sites.c.id, sites.c.content_hash).order_by(sites.c.id))
        if state.get(r.id) != r.content_hash
    ]


def rematch_site(store: Store, site_id: str, *, principal: Principal = SYSTEM, reason: str | None = None) -> _Counts:
    """Match every current advisory against the site's stored inventory (after a re-import).

    One transaction; findings of assets no longer in the inventory become inactive (their
    triage history stays). Returns what changed.
    """
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        matchers = _site_matchers(conn, [site_id])
        if not matchers:
            raise NotFoundError(f"no site {site_id!r} in the database")
        counts = _rematch(conn, matchers[0], _kev_set(conn), now)
        if counts.created or counts.updated or counts.deactivated:
            audit.append(
                conn, action="findings.rematch", **principal.audit_fields, site_id=site_id,
                object_type="site", object_id=site_id,
                reason=reason or "the site's inventory changed",
                after={"created": counts.created, "updated": counts.updated, "deactivated": counts.deactivated,
                       "reopened": counts.reopened_ids},
                at=now,
            )
    if counts.created or counts.updated:
        from zonewarden.services import vex

        vex.apply(store, site_ids=[site_id])  # recorded VEX covers what the new inventory made
    return counts


def ensure_current(store: Store) -> list[str]:
    """Rematch every site whose stored content changed since its findings were computed.

    This is the system's own write (actor ``zonewarden``), never the caller's: whoever happens to
    read findings first must not appear in the audit trail as having changed them."""
    with store.read() as conn:
        stale = _stale_sites(conn)
        any_advisory = conn.execute(select(advisories.c.id).limit(1)).first() is not None
        gone = sorted(
            {r.site_id for r in conn.execute(select(match_state.c.site_id))}
            - {r.id for r in conn.execute(select(sites.c.id))}
        )
    if gone:
        # A deleted site's findings stay as history, inactive.
        now = dt.datetime.now(dt.UTC)
        with store.transaction() as conn:
            conn.execute(update(findings).where(findings.c.site_id.in_(gone)).values(active=False, updated_at=now))
            conn.execute(match_state.delete().where(match_state.c.site_id.in_(gone)))
            audit.append(conn, action="findings.deactivate", **SYSTEM.audit_fields,
                         object_type="sites", object_id=",".join(gone)[:200],
                         reason="the sites were deleted: their findings stay as inactive history",
                         after={"sites": gone}, at=now)
    if not any_advisory:
        return []
    for site_id in stale:
        rematch_site(store, site_id, reason="the site's inventory changed since findings were computed")
    return stale
