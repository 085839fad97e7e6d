"""Advisory use cases: ingest CSAF documents, keep revisions, match them against every site,
prioritise findings with SSVC, record triage decisions, import the KEV catalog.

Write rules (DESIGN.md): every write is one transaction with an audit event. Ingest runs one
transaction *per document* so a bad file never stops a batch and nothing is half-stored: the
advisory row, its findings on every site and the audit event land together or not at all.

Revisions: one row per distinct document (by SHA-256 of its bytes) per tracking id; the row
with the highest ``/document/tracking/version`` is *current* and is the one matched. A newer
version supersedes (outcome ``revision``), an older one is kept as history only (``older``),
the same bytes again change nothing (``unchanged``). The same version with different bytes is
refused as a conflicting revision (``rejected``; issue 18.4): the stored one stays current and an
``advisory.conflict`` audit event records both digests.

Findings follow the inventory lazily: each site's content hash is recorded when its findings
are computed, and every entry point here first rematches sites whose stored content changed
since (a re-import through any interface). :func:`rematch_site` does it explicitly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, and_, bindparam, select, update
from sqlalchemy.exc import DataError, IntegrityError

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
from zonewarden.errors import ConflictError, InputError, NotFoundError, Problem, ZonewardenError
from zonewarden.io.csaf import read_csaf
from zonewarden.io.csaf.shape import shape_problem
from zonewarden.runtime import batched, collect_young, gc_paused
from zonewarden.services import access, audit, findings_store, identity, signatures
from zonewarden.services.principal import SYSTEM, Principal
from zonewarden.services.signatures import Signing
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

Outcome = Literal["new", "revision", "unchanged", "older", "rejected"]
SYSTEM_ACTOR = SYSTEM.user_id


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingest did with one document."""

    source: str
    """The file path or URL the bytes came from."""
    outcome: Outcome
    """``new`` (first revision of its tracking id), ``revision`` (supersedes the current one),
    ``unchanged`` (these bytes are stored already), ``older`` (kept as history, not current),
    ``rejected`` (not stored; see ``error``)."""
    tracking_id: str | None
    """``/document/tracking/id`` when it could be read."""
    version: str | None
    """``/document/tracking/version`` when it could be read."""
    error: str | None
    """Why the document was rejected: names the source and the JSON pointer."""
    deviations: int
    """How many deviations from CSAF 2.0 the validator recorded (lenient mode stores them)."""


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The results of one batch, in input order, and the findings it changed."""

    results: list[IngestResult]
    findings_created: int = 0
    """Findings created on any site by the new and revised advisories."""
    findings_updated: int = 0
    """Existing findings whose status, explanation or priority changed."""
    reopened: int = 0
    """Triage decisions reopened because a revision changed the product status."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def rejected(self) -> list[IngestResult]:
        return [r for r in self.results if r.outcome == "rejected"]


@dataclass(frozen=True, slots=True)
class AdvisoryRow:
    """One stored advisory revision."""

    row_id: int
    tracking_id: str
    version: str
    publisher: str | None
    title: str
    release_date: dt.datetime | None
    status: str | None
    sha256: str
    source: str
    current: bool
    deviations: tuple[dict[str, str], ...]
    ingested_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        """The row as JSON values, every field (the API's list of advisories)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
        out["deviations"] = [dict(d) for d in self.deviations]
        return out


@dataclass(frozen=True, slots=True)
class TriageDecision:
    """One recorded triage decision (append-only)."""

    at: dt.datetime
    actor: str
    from_status: str
    to_status: str
    why: str
    owner: str | None
    expires: dt.date | None
    controls: tuple[str, ...]
    automatic: bool


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A stored finding: one advisory x one asset on one site."""

    id: int
    site_id: str
    tracking_id: str
    advisory_version: str
    advisory_title: str
    asset_id: str
    zone_id: str | None
    active: bool
    status: str
    """Matcher status: affected, not-affected, fixed, needs-review."""
    reason: str | None
    """Review reason code (needs-review)."""
    message: str
    cves: tuple[str, ...]
    matches: tuple[dict[str, Any], ...]
    """Why it matched: one entry per product entry of the advisory that tied to the asset."""
    ssvc: dict[str, Any] | None
    """The SSVC decision (inputs with source and override, priority, deciding CVE)."""
    priority: str | None
    triage_status: str
    triage_owner: str | None
    triage_expires: dt.date | None
    decisions: tuple[TriageDecision, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site_id,
            "advisory": self.tracking_id,
            "advisory_version": self.advisory_version,
            "advisory_title": self.advisory_title,
            "asset": self.asset_id,
            "zone": self.zone_id,
            "active": self.active,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "cves": list(self.cves),
            "priority": self.priority,
            "triage": self.triage_status,
            "triage_owner": self.triage_owner,
            "triage_expires": self.triage_expires.isoformat() if self.triage_expires else None,
            "matches": list(self.matches),
            "ssvc": self.ssvc,
            "decisions": [
                {
                    "at": d.at.isoformat(),
                    "actor": d.actor,
                    "from": d.from_status,
                    "to": d.to_status,
                    "why": d.why,
                    "owner": d.owner,
                    "expires": d.expires.isoformat() if d.expires else None,
                    "controls": list(d.controls),
                    "automatic": d.automatic,
                }
                for d in self.decisions
            ],
        }


# --- versions --------------------------------------------------------------------------------

_SEMVER = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*)\.(0|[1-9]\d*))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def version_key(version: str) -> tuple[Any, ...]:
    """Order of ``/document/tracking/version`` values (CSAF 2.0 section 3.1.11).

    Integer versioning (``"3"``) and semantic versioning (``"1.2.0"``, ``"1.0.0-rc.1"``) both
    work; a pre-release sorts before its release, build metadata is ignored. Anything else
    sorts before every valid version (it can never supersede a valid one).
    """
    m = _SEMVER.match(version.strip())
    if not m:
        return (-1, version)
    major, minor, patch, pre = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), m.group(4)
    if pre is None:
        return (0, major, minor, patch, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (0, major, minor, patch, 0, parts)


# --- triage workflow -------------------------------------------------------------------------

TRIAGE_STATUSES = (
    "new",
    "under-assessment",
    "not-affected",
    "mitigated",
    "remediation-planned",
    "risk-accepted",
    "resolved",
)
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"under-assessment"}),
    "under-assessment": frozenset({"not-affected", "mitigated", "remediation-planned", "risk-accepted", "resolved"}),
    "not-affected": frozenset({"under-assessment"}),
    "mitigated": frozenset({"under-assessment", "remediation-planned", "resolved"}),
    "remediation-planned": frozenset({"under-assessment", "mitigated", "risk-accepted", "resolved"}),
    "risk-accepted": frozenset({"under-assessment", "remediation-planned", "mitigated", "resolved"}),
    "resolved": frozenset({"under-assessment"}),
}
"""Allowed triage transitions. Every decided state can go back to under-assessment (new facts);
nothing goes back to ``new``, which only zonewarden sets."""

_OPEN_TRIAGE = frozenset({"new", "under-assessment"})


def _clean(text: str | None) -> str | None:
    # Advisory text is untrusted; PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "\ufffd") if isinstance(text, str) else text


def _clip(text: str | None, limit: int) -> str | None:
    text = _clean(text)
    return text if text is None or len(text) <= limit else text[: limit - 1] + "\u2026"


# --- per-batch context ---------------------------------------------------------------------


class _SiteMatcher:
    """One site's inventory, indexed once per batch, with exposures and assets by id."""

    def __init__(self, site_id: str, doc: SiteDocument, content_hash: str) -> None:
        from zonewarden.services.exposure import asset_exposures

        self.site_id = site_id
        self.doc = doc
        self.content_hash = content_hash
        self.index = InventoryIndex(doc.assets)
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
    from zonewarden.services.sites import _stored_data

    stmt = select(sites.c.id, sites.c.content_hash).order_by(sites.c.id)
    if site_ids is not None:
        stmt = stmt.where(sites.c.id.in_(list(site_ids)))
    out = []
    for row in conn.execute(stmt).all():
        data = _stored_data(conn, row.id)
        if data is None:
            continue
        out.append(_SiteMatcher(row.id, SiteDocument.model_validate(data), row.content_hash))
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
    found = match_advisory(flat, sm.index)
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


# --- ingest ---------------------------------------------------------------------------------


def _deviation_json(devs: Iterable[Any]) -> list[dict[str, str | None]]:
    return [{"test_id": d.test_id, "pointer": _clean(d.pointer), "message": _clean(d.message)} for d in devs]


def _rejected(source: str, error: str, tracking_id: str | None = None, version: str | None = None, deviations: int = 0) -> IngestResult:
    return IngestResult(source, "rejected", tracking_id, version, error, deviations)


def _release_date(doc: dict[str, Any]) -> dt.datetime | None:
    try:
        text = doc["document"]["tracking"]["current_release_date"]
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None


def _doc_status(doc: dict[str, Any]) -> str | None:
    try:
        value = doc["document"]["tracking"]["status"]
    except (KeyError, TypeError):
        return None
    return _clip(value, 32) if isinstance(value, str) else None


CHUNK = 200
"""Documents stored per transaction. A commit per document cost more than everything else
ingest does on SQLite; a killed run loses at most the chunk in flight (re-running is safe)."""


def ingest_bytes(
    store: Store,
    items: Iterable[tuple[str, bytes]],
    *,
    strict: bool = False,
    principal: Principal,
    reason: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Validate, store and match CSAF documents given as ``(source, bytes)`` pairs.

    ``strict`` rejects any document with a deviation (for advisories one authors); the default
    lenient mode stores real-world documents with their deviations. Problems are reported per
    document (``IngestResult.error`` names the source and JSON pointer) and the batch goes on.

    Documents are validated and flattened first, then stored :data:`CHUNK` at a time, each
    chunk one transaction. When the database refuses something in a chunk (a value it cannot
    hold, a concurrent writer), the chunk is rolled back and stored again one document per
    transaction, so a bad document never takes others with it and nothing is half-stored.
    ``progress`` is called with the number of documents finished (an increment, e.g.
    ``lambda n: bar.advance(task, n)``).
    """
    identity.authorize(store, principal, "advisory.ingest")
    ensure_current(store)
    now = dt.datetime.now(dt.UTC)
    results: list[IngestResult | None] = []
    batch = _Batch(store, strict=strict, principal=principal, reason=reason, now=now)
    chunk: list[tuple[int, _Prepared]] = []
    twins: list[tuple[int, _Twin]] = []  # copies of documents in the chunk in flight

    def store_chunk() -> None:
        by_digest = {}
        for (i, p), (j, result) in zip(chunk, batch.write_chunk(chunk), strict=True):
            assert i == j
            results[i] = by_digest[p.digest] = result
        for i, twin in twins:
            results[i] = twin.result(by_digest[twin.first.digest])
        if progress is not None:
            progress(len(chunk) + len(twins))
        chunk.clear()
        twins.clear()

    # A quarter of ingest went to the cyclic collector walking the parsed documents: it is
    # paused, and the chunk's leftovers are collected after each chunk.
    with gc_paused():
        for source, data in items:
            source = str(source)
            try:
                prepared = batch.prepare(source, bytes(data))
            except ZonewardenError as exc:
                if not isinstance(exc, InputError):
                    raise  # the database, not the document: stop
                prepared = _rejected(source, f"{source}: {exc}")
            if isinstance(prepared, IngestResult):
                results.append(prepared)
                if progress is not None:
                    progress(1)
            elif isinstance(prepared, _Twin):
                results.append(None)
                twins.append((len(results) - 1, prepared))
            else:
                results.append(None)
                chunk.append((len(results) - 1, prepared))
                if len(chunk) >= CHUNK:
                    store_chunk()
            if len(results) % CHUNK == 0:
                collect_young()  # what this stretch left (rejections' tracebacks hold cycles)
        if chunk:
            store_chunk()
    done = [r for r in results if r is not None]
    assert len(done) == len(results)
    t = batch.totals
    return IngestReport(done, t.created, t.updated, t.reopened)


@dataclass(frozen=True)
class _Twin:
    """The same bytes as a document earlier in the batch that is not stored yet: unchanged
    once that copy is stored, rejected with it if the database refuses it."""

    source: str
    first: _Prepared

    def result(self, first: IngestResult) -> IngestResult:
        p = self.first
        if first.outcome == "rejected":
            return _rejected(self.source, f"{self.source}: the same bytes as {p.source}, which was not stored: {first.error}",
                             p.tracking_id, p.version, len(p.read.deviations))
        return IngestResult(self.source, "unchanged", p.tracking_id, p.version, None, len(p.read.deviations))


@dataclass
class _Prepared:
    """A document that passed validation and flattening, ready to store."""

    source: str
    digest: str
    read: Any  # CsafReadResult
    tracking_id: str
    version: str
    flat: FlatAdvisory
    text: str


class _Batch:
    """State shared by the documents of one batch: the digests already stored (so unchanged
    documents cost one set lookup), the current version of each tracking id as stored so far,
    and every site's inventory indexed once, on first need (a batch of unchanged documents
    never builds it), with the KEV catalog."""

    def __init__(self, store: Store, *, strict: bool, principal: Principal, reason: str | None,
                 now: dt.datetime) -> None:
        self.store = store
        self.strict, self.principal, self.reason, self.now = strict, principal, reason, now
        self._loaded: tuple[list[_SiteMatcher], frozenset[str] | None] | None = None
        with store.read() as conn:
            self.digests: set[str] = {r.sha256 for r in conn.execute(select(advisories.c.sha256))}
        self.pending: dict[str, _Prepared] = {}
        """Digests validated in this batch but not stored yet: the same bytes twice in one
        batch are stored once."""
        self.state_written: set[str] = set()
        """Sites whose match state this batch has recorded (once per site is enough)."""
        self.totals = _Counts()

    def load(self) -> tuple[list[_SiteMatcher], frozenset[str] | None]:
        if self._loaded is None:
            with self.store.read() as conn:
                self._loaded = (_site_matchers(conn), _kev_set(conn))
        return self._loaded

    def prepare(self, source: str, data: bytes) -> IngestResult | _Prepared | _Twin:
        """Everything that needs no write: the unchanged check, validation, flattening."""
        strict = self.strict
        digest = hashlib.sha256(data).hexdigest()
        # The same bytes again: nothing to parse, nothing to change (the cheap path of a re-sync).
        known = None
        if digest in self.digests:
            with self.store.read() as conn:
                known = conn.execute(_BY_DIGEST, {"digest": digest}).first()
        if known is not None:
            devs = list(known.deviations or [])
            if strict and devs:
                first = devs[0]
                return _rejected(
                    source,
                    f"{source}: {first['pointer'] or '/'}: strict mode rejects the document with {len(devs)} "
                    f"deviation(s) (stored earlier in lenient mode); first: [{first['test_id']}] {first['message']}",
                    known.tracking_id, known.version, len(devs),
                )
            return IngestResult(source, "unchanged", known.tracking_id, known.version, None, len(devs))
        first = self.pending.get(digest)
        if first is not None:
            return _Twin(source, first)  # decided when the first copy's chunk is stored

        read = read_csaf(data, source=source, strict=strict)
        if not read.accepted or read.document is None:
            return _rejected(source, read.error or f"{source}: not accepted", read.tracking_id, read.tracking_version,
                             len(read.deviations))
        tracking_id, version = read.tracking_id, read.tracking_version
        assert tracking_id is not None and version is not None  # accepted documents have both
        if len(tracking_id) > 200 or len(version) > 100:
            return _rejected(
                source, f"{source}: /document/tracking/id: tracking id or version is implausibly long "
                f"({len(tracking_id)} / {len(version)} characters; limits 200 / 100)", None, None, len(read.deviations),
            )
        # Wrong types the lenient reader lets through are refused here, by JSON pointer, before
        # flattening can trip over them (issue 18.3): one bad document never stops a batch.
        shape = shape_problem(read.document)
        if shape is not None:
            return _rejected(source, f"{source}: {shape[0]}: {shape[1]}", tracking_id, version, len(read.deviations))
        try:
            flat = flatten_advisory(read.document, source=source, strict=strict)
        except InputError as exc:
            return _rejected(source, str(exc), tracking_id, version, len(read.deviations))
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
            # A shape the check above does not know yet: still this document's fault, not the batch's.
            return _rejected(source, f"{source}: /: the advisory's products cannot be read "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                             tracking_id, version, len(read.deviations))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:  # orjson accepted it, so this cannot happen; be explicit anyway
            return _rejected(source, f"{source}: not UTF-8: {exc}", tracking_id, version)
        prepared = _Prepared(source, digest, read, tracking_id, version, flat, text)
        self.pending[digest] = prepared
        return prepared

    def write_chunk(self, chunk: Sequence[tuple[int, _Prepared]]) -> list[tuple[int, IngestResult]]:
        """Store a chunk in one transaction; on a database refusal, one document at a time."""
        docs = [p for _, p in chunk]
        try:
            with self.store.transaction() as conn:
                done = self._write(conn, docs)
        except (IntegrityError, DataError):
            done = None
        if done is not None:
            self._landed(docs, done)
            return [(i, r) for (i, _), (r, _) in zip(chunk, done, strict=True)]
        out = []
        for i, p in chunk:
            try:
                with self.store.transaction() as conn:
                    one = self._write(conn, [p])
            except IntegrityError:
                # Another process stored the same bytes between our check and insert.
                self.pending.pop(p.digest, None)
                out.append((i, IngestResult(p.source, "unchanged", p.tracking_id, p.version, None,
                                            len(p.read.deviations))))
                continue
            except DataError as exc:
                self.pending.pop(p.digest, None)
                out.append((i, _rejected(p.source, f"{p.source}: the database refused a value: {exc.orig}",
                                         p.tracking_id, p.version, len(p.read.deviations))))
                continue
            self._landed([p], one)
            out.append((i, one[0][0]))
        return out

    def _landed(self, docs: Sequence[_Prepared], done: Sequence[tuple[IngestResult, _Counts]]) -> None:
        """Book a committed write into the batch's state."""
        for p, (result, counts) in zip(docs, done, strict=True):
            self.totals.created += counts.created
            self.totals.updated += counts.updated
            self.totals.reopened += counts.reopened
            self.pending.pop(p.digest, None)
            if result.outcome != "rejected":  # a conflicting revision is not stored: never "unchanged"
                self.digests.add(p.digest)
        if any(result.outcome != "older" for result, _ in done):
            # _write recorded every site's match state in the committed transaction.
            self.state_written.update(sm.site_id for sm in self.load()[0])

    @staticmethod
    def _same_content(conn: Connection, cur: tuple[str, int, str, str], docs: Sequence[_Prepared], p: _Prepared) -> bool:
        """Whether ``p`` parses to the same JSON as the current revision ``cur`` (other bytes only:
        whitespace, key order): then it is no conflicting revision."""
        if cur[0] == "chunk":
            return bool(docs[cur[1]].read.document == p.read.document)
        row = conn.execute(_DOCUMENT_OF, {"row_id": cur[1]}).first()
        try:
            return row is not None and bool(orjson.loads(row.document) == p.read.document)
        except orjson.JSONDecodeError:
            return False

    def _write(self, conn: Connection, docs: Sequence[_Prepared]) -> list[tuple[IngestResult, _Counts]]:
        """Insert ``docs`` in order inside ``conn``'s transaction (nothing is committed here).

        Outcomes are decided in memory first, in input order, from the current revisions
        stored before the chunk and those earlier in the chunk; then every advisory row goes in
        with one multi-row insert, and findings are applied document by document.
        """
        matchers, kev = self.load()
        now, strict = self.now, self.strict
        # The current revision per tracking id: ("db", row id, version) stored before this
        # chunk, or ("chunk", position, version) for a document earlier in this chunk.
        current: dict[str, tuple[str, int, str, str]] = {}
        for tids in batched(sorted({p.tracking_id for p in docs}), 500):
            for row in conn.execute(_CURRENT_OF, {"tids": tids}):
                current[row.tracking_id] = ("db", row.id, row.version, row.sha256)
        outcomes: list[tuple[Outcome, str | None]] = []
        is_current: list[bool] = []
        superseded: list[int] = []
        log = audit.Buffer()
        conflicts: dict[int, IngestResult] = {}
        all_docs, docs = docs, []
        for k, p in enumerate(all_docs):
            cur = current.get(p.tracking_id)
            if cur is not None and version_key(p.version) == version_key(cur[2]) \
                    and not self._same_content(conn, cur, docs, p):
                # The same tracking id and version with other bytes (issue 18.4): a publisher must
                # bump the version, so this is a forgery or a botched file. Keep the current one,
                # refuse this one and record both digests.
                conflicts[k] = _rejected(
                    p.source,
                    f"{p.source}: /document/tracking/version: conflicting revision: {p.tracking_id} version "
                    f"{p.version} is stored already with other content (stored sha256 {cur[3]}, this file "
                    f"sha256 {p.digest}); the stored one stays current. A corrected advisory needs a new version.",
                    p.tracking_id, p.version, len(p.read.deviations))
                log.add(action="advisory.conflict", **self.principal.audit_fields, object_type="advisory",
                        object_id=p.tracking_id, reason=self.reason or f"ingest from {p.source}",
                        before={"version": cur[2], "sha256": cur[3]},
                        after={"version": p.version, "sha256": p.digest, "source": _clean(p.source),
                               "outcome": "conflict"}, at=now)
                continue
            i = len(docs)
            docs.append(p)
            if cur is None:
                outcome: Outcome = "new"
            elif version_key(p.version) >= version_key(cur[2]):
                outcome = "revision"
                if cur[0] == "db":
                    superseded.append(cur[1])
                else:
                    is_current[cur[1]] = False
            else:
                outcome = "older"
            outcomes.append((outcome, cur[2] if cur is not None else None))
            is_current.append(outcome != "older")
            if outcome != "older":
                current[p.tracking_id] = ("chunk", i, p.version, p.digest)
        if superseded:
            conn.execute(_SUPERSEDE, [{"row_id": r} for r in superseded])
        inserted: Any = [] if not docs else conn.execute(
            _INSERT_ADVISORIES,
            [
                dict(
                    tracking_id=_clean(p.tracking_id),
                    version=_clean(p.version),
                    publisher=_clip(p.read.publisher, 500),
                    title=_clean(p.flat.title),
                    release_date=_release_date(p.read.document),
                    status=_doc_status(p.read.document),
                    sha256=p.digest,
                    source=_clean(p.source),
                    strict=strict,
                    deviations=_deviation_json(p.read.deviations),
                    document=p.text,
                    current=is_current[i],
                    ingested_at=now,
                )
                for i, p in enumerate(docs)
            ],
        )
        row_ids = [r[0] for r in inserted]
        state_written = set(self.state_written)
        out = []
        for p, row_id, (outcome, before) in zip(docs, row_ids, outcomes, strict=True):
            counts = _Counts()
            if outcome != "older":
                for sm in matchers:
                    _apply_findings(conn, sm, p.flat, row_id, p.version, kev, now, counts, log,
                                    first_of_its_id=outcome == "new")
                    if sm.site_id not in state_written:
                        _set_match_state(conn, sm.site_id, sm.content_hash, now)
                        state_written.add(sm.site_id)
            log.add(
                action="advisory.ingest",
                **self.principal.audit_fields,
                object_type="advisory",
                object_id=p.tracking_id,
                reason=self.reason or f"ingest from {p.source}",
                before={"version": before} if before is not None else None,
                after={
                    "version": p.version,
                    "outcome": outcome,
                    "sha256": p.digest,
                    "strict": strict,
                    "deviations": len(p.read.deviations),
                    "findings": {"created": counts.created, "updated": counts.updated, "reopened": counts.reopened_ids},
                },
                at=now,
            )
            out.append((IngestResult(p.source, outcome, p.tracking_id, p.version, None, len(p.read.deviations)), counts))
        log.flush(conn)
        stored = iter(out)
        return [(conflicts[k], _Counts()) if k in conflicts else next(stored) for k in range(len(all_docs))]


# Statements built once: constructing SQLAlchemy statements per document costs more than
# executing them on SQLite.
_BY_DIGEST = select(advisories.c.tracking_id, advisories.c.version, advisories.c.deviations).where(
    advisories.c.sha256 == bindparam("digest")
)
_CURRENT_OF = select(advisories.c.id, advisories.c.tracking_id, advisories.c.version, advisories.c.sha256).where(
    and_(advisories.c.tracking_id.in_(bindparam("tids", expanding=True)), advisories.c.current.is_(True))
)
_DOCUMENT_OF = select(advisories.c.source, advisories.c.document).where(advisories.c.id == bindparam("row_id"))
_SUPERSEDE = update(advisories).where(advisories.c.id == bindparam("row_id")).values(current=False)
_INSERT_ADVISORIES = advisories.insert().returning(advisories.c.id, sort_by_parameter_order=True)
_FINDINGS_OF = select(findings, *EXPLANATION_COLUMNS).select_from(findings_explained).where(
    and_(findings.c.site_id == bindparam("site"), findings.c.tracking_id == bindparam("tid"))
)


# --- files ----------------------------------------------------------------------------------

_SKIP_SUFFIXES = (".asc", ".sha256", ".sha512", ".sig")
_PROVIDER_FILES = frozenset({"provider-metadata.json", "service.json", "aggregator.json"})


def iter_paths(paths: Iterable[str | Path]) -> list[Path]:
    """CSAF candidate files: given files as they are; folders recursively, ``*.json`` only.

    A provider's directory layout (``<tlp>/<year>/*.json`` with ``.asc``/``.sha512`` beside,
    ROLIE feeds, ``provider-metadata.json``) is walked the same way; signature and hash files
    are not documents, and the provider's metadata and ROLIE feed files are skipped by name or
    by the ``-feed-`` naming CSAF providers use. Sorted for a deterministic order.
    """
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*.json")):
                if not f.is_file() or f.name in _PROVIDER_FILES or "-feed-" in f.name or f.name.endswith("-feed.json"):
                    continue
                out.append(f)
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return out


def read_items(paths: Sequence[Path]) -> Iterable[tuple[str, bytes]]:
    """``(source, bytes)`` pairs, reading one file at a time; unreadable files yield empty bytes
    (ingest then reports them as not JSON, naming the file)."""
    for path in paths:
        if path.name.endswith(_SKIP_SUFFIXES):
            continue
        try:
            yield str(path), path.read_bytes()
        except OSError:
            yield str(path), b""


# --- queries --------------------------------------------------------------------------------


def list_advisories(store: Store, *, include_history: bool = False) -> list[AdvisoryRow]:
    """Stored advisories, current revisions only unless ``include_history``; sorted by tracking id, version."""
    stmt = select(*(advisories.c[c] for c in _ADV_COLS))
    if not include_history:
        stmt = stmt.where(advisories.c.current.is_(True))
    with store.read() as conn:
        rows = [_advisory_row(r) for r in conn.execute(stmt)]
    return sorted(rows, key=lambda a: (a.tracking_id, version_key(a.version), a.row_id))


_ADV_COLS = (
    "id", "tracking_id", "version", "publisher", "title", "release_date", "status", "sha256", "source", "current",
    "deviations", "ingested_at",
)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _advisory_row(r: Any) -> AdvisoryRow:
    return AdvisoryRow(
        r.id, r.tracking_id, r.version, r.publisher, r.title, _utc(r.release_date), r.status, r.sha256, r.source,
        bool(r.current), tuple(r.deviations or ()), _utc(r.ingested_at) or dt.datetime.min.replace(tzinfo=dt.UTC),
    )


def advisory_history(store: Store, tracking_id: str) -> list[AdvisoryRow]:
    """Every stored revision of one advisory, oldest version first."""
    with store.read() as conn:
        rows = [
            _advisory_row(r)
            for r in conn.execute(select(*(advisories.c[c] for c in _ADV_COLS)).where(advisories.c.tracking_id == tracking_id))
        ]
    if not rows:
        raise NotFoundError(f"no advisory {tracking_id!r} stored (see `zonewarden advisories list`)")
    return sorted(rows, key=lambda a: (version_key(a.version), a.row_id))


def advisory_document(store: Store, row_id: int) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(select(advisories.c.document).where(advisories.c.id == row_id)).first()
    if row is None:
        raise NotFoundError(f"no advisory row {row_id}")
    doc: dict[str, Any] = orjson.loads(row.document)
    return doc


def _finding_query():  # type: ignore[no-untyped-def]
    return select(
        findings,
        *EXPLANATION_COLUMNS,
        advisories.c.version.label("advisory_version"),
        advisories.c.title.label("advisory_title"),
    ).select_from(findings_explained.join(advisories, advisories.c.id == findings.c.advisory_row))


def _finding_row(r: Any, decisions: tuple[TriageDecision, ...] = ()) -> FindingRow:
    return FindingRow(
        id=r.id,
        site_id=r.site_id,
        tracking_id=r.tracking_id,
        advisory_version=r.advisory_version,
        advisory_title=r.advisory_title,
        asset_id=r.asset_id,
        zone_id=r.zone_id,
        active=bool(r.active),
        status=r.status,
        reason=r.reason,
        message=r.message,
        cves=tuple(r.cves or ()),
        matches=tuple(r.matches or ()),
        ssvc=r.ssvc,
        priority=r.priority,
        triage_status=r.triage_status,
        triage_owner=r.triage_owner,
        triage_expires=r.triage_expires,
        decisions=decisions,
    )


_STATUS_ORDER = {"affected": 0, "needs-review": 1, "fixed": 2, "not-affected": 3}


def list_findings(
    store: Store,
    *,
    principal: Principal,
    site_id: str | None = None,
    priority: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    triage: str | Sequence[str] | None = None,
    zone: str | None = None,
    advisory: str | None = None,
    include_inactive: bool = False,
    asset: str | None = None,
) -> list[FindingRow]:
    """Stored findings, most urgent first (priority, then status, advisory, asset).

    Filters take one value or several; ``status`` is the matcher status (affected,
    not-affected, fixed, needs-review), ``triage`` the workflow status. Only findings of sites
    the principal may see are listed. A read never writes: findings are brought up to date by
    the writes that change an inventory (import, ingest), as the system.
    """

    def many(v: str | Sequence[str] | None) -> list[str] | None:
        return None if v is None else ([v] if isinstance(v, str) else list(v))

    stmt = _finding_query()
    if not include_inactive:
        stmt = stmt.where(findings.c.active.is_(True))
    if site_id is not None:
        stmt = stmt.where(findings.c.site_id == site_id)
    if (p := many(priority)) is not None:
        stmt = stmt.where(findings.c.priority.in_(p))
    if (s := many(status)) is not None:
        stmt = stmt.where(findings.c.status.in_(s))
    if (t := many(triage)) is not None:
        stmt = stmt.where(findings.c.triage_status.in_(t))
    if zone is not None:
        stmt = stmt.where(findings.c.zone_id == zone)
    if advisory is not None:
        stmt = stmt.where(findings.c.tracking_id == advisory)
    if asset is not None:
        stmt = stmt.where(findings.c.asset_id == asset)
    with store.read() as conn:
        seen: dict[str, bool] = {}  # site id -> may read (findings of a deleted site stay readable by
        rows = [                     # those with a role on every site)
            f for f in (_finding_row(r) for r in conn.execute(stmt))
            if seen.setdefault(f.site_id, access.allowed(principal, "site.read", f.site_id))
        ]
    return sorted(
        rows,
        key=lambda f: (
            -(Priority(f.priority).rank if f.priority else -1),
            _STATUS_ORDER.get(f.status, 9),
            f.site_id,
            f.tracking_id,
            f.asset_id,
        ),
    )


def _decisions(conn: Connection, finding_id: int) -> tuple[TriageDecision, ...]:
    rows = conn.execute(
        select(triage_decisions).where(triage_decisions.c.finding_id == finding_id).order_by(triage_decisions.c.id)
    )
    return tuple(
        TriageDecision(
            _utc(r.at) or dt.datetime.min.replace(tzinfo=dt.UTC), r.actor, r.from_status, r.to_status, r.why, r.owner,
            r.expires, tuple(r.controls or ()), bool(r.automatic),
        )
        for r in rows
    )


def get_finding(store: Store, finding_id: int, *, principal: Principal) -> FindingRow:
    """One finding with its whole triage history (a finding of a site the principal may not
    see is reported as unknown)."""
    _finding_site(store, principal, finding_id)
    with store.read() as conn:
        row = conn.execute(_finding_query().where(findings.c.id == finding_id)).first()
        if row is None:
            raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
        return _finding_row(row, _decisions(conn, finding_id))


# --- triage ---------------------------------------------------------------------------------


TRIAGE_OPERATION = {
    "not-affected": "finding.close", "mitigated": "finding.close", "resolved": "finding.close",
    "risk-accepted": "risk.accept",
}
"""Triage moves that close a finding (or accept its risk) are approvals, signed when an
authenticated person makes them; the others are an engineer's triage."""


def decision_record(status: str, owner: str | None, expires: dt.date | None, controls: Sequence[str],
                    advisory: str, asset: str) -> dict[str, Any]:
    """A triage decision as the audit trail records it (and a signature is bound to)."""
    return {"triage": status, "owner": owner, "expires": expires.isoformat() if expires else None,
            "controls": list(controls), "advisory": advisory, "asset": asset}


def _finding_site(store: Store, principal: Principal, finding_id: int) -> str:
    """The site of a finding the principal may see; an invisible one is reported as unknown."""
    with store.read() as conn:
        site_of = conn.execute(select(findings.c.site_id).where(findings.c.id == finding_id)).scalar()
    if site_of is None or not access.visible_sites(principal, [site_of]):
        raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
    return str(site_of)


def _check_decision(label: str, status: str, why: str, owner: str | None, expires: dt.date | None,
                    controls: Sequence[str], today: dt.date) -> tuple[str, tuple[str, ...]]:
    """The decision's own facts, checked before anything is read: (why, controls) cleaned."""
    if status not in TRIAGE_STATUSES:
        raise InputError(f"unknown triage status {status!r}; use one of {', '.join(TRIAGE_STATUSES)}")
    why = (why or "").strip()
    if len(why) < 10:
        raise InputError("--why must say why in at least 10 characters (it becomes audit evidence)")
    cleaned = tuple(sorted({c.strip() for c in controls if c and c.strip()}))
    problems: list[Problem] = []
    if status == "risk-accepted":
        if not owner:
            problems.append(Problem("risk-accepted needs --owner: the person who accepts the risk", ("owner",)))
        if expires is None:
            problems.append(Problem("risk-accepted needs --expires DATE: acceptance is time-limited", ("expires",)))
        elif expires <= today:
            problems.append(Problem(f"--expires {expires} is not in the future (today is {today})", ("expires",)))
    if status == "mitigated" and not cleaned:
        problems.append(Problem("mitigated needs --control ID: the compensating control(s) that mitigate it", ("controls",)))
    if problems:
        raise InputError(f"{label}: cannot record {status}", problems)
    return why, cleaned


def _record_decision(conn: Connection, finding_id: int, status: str, why: str, owner: str | None,
                     expires: dt.date | None, controls: tuple[str, ...], principal: Principal, operation: str,
                     signer: Principal, signing: Signing | None, now: dt.datetime) -> None:
    """One decision inside the caller's transaction: the transition checked, the decision
    appended, the finding moved, the audit event and (when signed) the signature written."""
    row = conn.execute(select(findings).where(findings.c.id == finding_id)).first()
    if row is None:
        raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
    allowed = TRANSITIONS[row.triage_status]
    if status not in allowed:
        raise ConflictError(
            f"finding {finding_id} is {row.triage_status}; it can go to "
            f"{', '.join(sorted(allowed))}, not {status}"
        )
    if controls:
        from zonewarden.services.sites import _stored_data

        data = _stored_data(conn, row.site_id) or {}
        known = {c.get("id") for c in data.get("compensating_controls") or []}
        unknown = [c for c in controls if c not in known]
        if unknown:
            raise InputError(
                f"finding {finding_id}: unknown compensating control(s) {', '.join(unknown)} in site {row.site_id}",
                [Problem("declare it under compensating_controls in the site file first", ("controls",))],
            )
    keep = status == "risk-accepted"
    conn.execute(
        triage_decisions.insert().values(
            finding_id=finding_id, at=now, actor=principal.user_id, from_status=row.triage_status,
            to_status=status, why=why, owner=owner, expires=expires, controls=list(controls), automatic=False,
        )
    )
    conn.execute(
        update(findings)
        .where(findings.c.id == finding_id)
        .values(triage_status=status, triage_owner=owner if keep or owner else None,
                triage_expires=expires if keep else None, updated_at=now)
    )
    decided = decision_record(status, owner, expires, controls, row.tracking_id, row.asset_id)
    audit.append(
        conn, action="finding.decide", **principal.audit_fields, site_id=row.site_id,
        object_type="finding", object_id=str(finding_id), reason=why, before={"triage": row.triage_status},
        after=decided, at=now,
    )
    if signing is not None and signatures.needs_signature(signer, operation):
        head = conn.execute(select(sites.c.data).where(sites.c.id == row.site_id)).scalar() or {}
        timezone = ((head.get("site") or {}) if isinstance(head, dict) else {}).get("timezone")
        audit.append(conn, **signatures.signature_event(  # type: ignore[arg-type]
            signer, operation, row.site_id, timezone, signing, "finding", str(finding_id), decided, now))


def decide(
    store: Store,
    finding_id: int,
    status: str,
    why: str,
    owner: str | None = None,
    expires: dt.date | None = None,
    *,
    principal: Principal,
    controls: Sequence[str] = (),
    today: dt.date | None = None,
    signing: Signing | None = None,
) -> FindingRow:
    """Record a triage decision (append-only) and move the finding to ``status``.

    Workflow: new -> under-assessment -> not-affected (justification) / mitigated (compensating
    control ids, which must exist in the site) / remediation-planned / risk-accepted (owner and
    a future expiry date) / resolved; every decided state can return to under-assessment.
    Anything else raises :class:`ConflictError`; missing facts raise :class:`InputError`.
    """
    today = today or dt.date.today()
    why, cleaned = _check_decision(f"finding {finding_id}", status, why, owner, expires, controls, today)
    ensure_current(store)
    operation = TRIAGE_OPERATION.get(status, "finding.triage")
    site_of = _finding_site(store, principal, finding_id)
    identity.authorize(store, principal, operation, site_of)
    signer = signatures.confirm(store, principal, operation, signing)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        _record_decision(conn, finding_id, status, why, owner, expires, cleaned, principal, operation, signer,
                         signing, now)
    return get_finding(store, finding_id, principal=principal)


MAX_BULK = 500
"""Findings one bulk decision may cover."""


def decide_many(
    store: Store,
    finding_ids: Sequence[int],
    status: str,
    why: str,
    owner: str | None = None,
    expires: dt.date | None = None,
    *,
    principal: Principal,
    controls: Sequence[str] = (),
    today: dt.date | None = None,
    signing: Signing | None = None,
) -> list[FindingRow]:
    """One decision for several findings, all or nothing (the triage queue's bulk decision).

    Each finding goes through the same checks as :func:`decide` (visibility, the operation on
    its site, the allowed transition); one failure records nothing and names the finding. A
    signed decision re-authenticates once for the batch and writes one signature per finding,
    each bound to that finding's decision."""
    ids = list(dict.fromkeys(int(i) for i in finding_ids))
    if not ids:
        raise InputError("select at least one finding for a bulk decision")
    if len(ids) > MAX_BULK:
        raise InputError(f"{len(ids)} findings selected; one bulk decision covers at most {MAX_BULK}")
    today = today or dt.date.today()
    why, cleaned = _check_decision(f"{len(ids)} findings", status, why, owner, expires, controls, today)
    ensure_current(store)
    operation = TRIAGE_OPERATION.get(status, "finding.triage")
    for site_of in dict.fromkeys(_finding_site(store, principal, i) for i in ids):
        identity.authorize(store, principal, operation, site_of)
    signer = signatures.confirm(store, principal, operation, signing)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        for i in ids:
            _record_decision(conn, i, status, why, owner, expires, cleaned, principal, operation, signer, signing, now)
    return [get_finding(store, i, principal=principal) for i in ids]


def override(
    store: Store,
    finding_id: int,
    values: Mapping[str, str | None],
    why: str,
    *,
    principal: Principal,
) -> FindingRow:
    """Replace (or with ``None`` remove) computed SSVC inputs of a finding, with a justification.

    ``values`` maps input names (exploitation, exposure, automatable, safety_impact,
    mission_impact, human_impact) to a value of that decision point. The priority is recomputed
    in the same transaction; the override and the old and new priority go to the audit log.
    """
    why = (why or "").strip()
    if len(why) < 10:
        raise InputError("--why must justify the override in at least 10 characters")
    unknown = sorted(set(values) - set(ssvc_engine.INPUTS))
    if unknown:
        raise InputError(f"unknown SSVC input(s) {', '.join(unknown)}; known: {', '.join(ssvc_engine.INPUTS)}")
    if not values:
        raise InputError("name at least one input to override, e.g. --exposure open")
    ensure_current(store)
    identity.authorize(store, principal, "finding.triage", _finding_site(store, principal, finding_id))
    now = dt.datetime.now(dt.UTC)
    who = principal.user_id
    with store.transaction() as conn:
        row = conn.execute(
            select(findings, *EXPLANATION_COLUMNS).select_from(findings_explained).where(findings.c.id == finding_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
        if row.ssvc is None:
            raise ConflictError(
                f"finding {finding_id} is {row.status}: only affected and needs-review findings have an SSVC priority"
            )
        overrides = dict(row.overrides or {})
        for name, value in values.items():
            if value is None:
                overrides.pop(name, None)
            else:
                overrides[name] = Override(value=value, justification=why, by=who).model_dump(mode="json")
        decision = _recompute(conn, row, overrides)
        conn.execute(
            update(findings)
            .where(findings.c.id == finding_id)
            .values(overrides=overrides, ssvc=decision, priority=decision["priority"],
                    priority_rank=Priority(decision["priority"]).rank, updated_at=now)
        )
        audit.append(
            conn, action="finding.override", **principal.audit_fields, site_id=row.site_id,
            object_type="finding",
            object_id=str(finding_id), reason=why,
            before={"priority": row.priority, "overrides": row.overrides},
            after={"priority": decision["priority"], "overrides": overrides}, at=now,
        )
    return get_finding(store, finding_id, principal=principal)


def _recompute(conn: Connection, row: Any, overrides: Mapping[str, Any], kev: frozenset[str] | None = None,
               matcher: _SiteMatcher | None = None, flat: FlatAdvisory | None = None) -> dict[str, Any]:
    if flat is None:
        flat = _flat_of(conn, row.advisory_row)
    if matcher is None:
        matchers = _site_matchers(conn, [row.site_id])
        if not matchers:
            raise NotFoundError(f"site {row.site_id!r} of finding {row.id} is no longer in the database")
        matcher = matchers[0]
    asset = matcher.assets.get(row.asset_id)
    if asset is None:
        raise ConflictError(f"asset {row.asset_id!r} of finding {row.id} is no longer in site {row.site_id}")
    decision = _ssvc_for(
        flat, None, row.status, row.matches, row.cves, asset, matcher.exposure[asset.id],
        kev if kev is not None else _kev_set(conn), overrides,
    )
    assert decision is not None
    return decision


# --- KEV ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KevImportReport:
    version: str
    entries: int
    added: int
    removed: int
    reprioritised: int
    """Findings whose SSVC priority changed because of the new catalog."""


def import_kev(store: Store, path: str | Path, *, principal: Principal, reason: str | None = None,
               content: bytes | None = None) -> KevImportReport:
    """Replace the stored KEV catalog with the file's and re-prioritise open findings.

    ``content``: the catalog's bytes when they did not come from disk (an upload; ``path`` is then
    its name in messages). The whole catalog is validated first (every problem with its JSON
    pointer); nothing is stored from a damaged file.
    """
    from zonewarden.io.kev import load_kev, parse_kev

    identity.authorize(store, principal, "kev.import")  # before reading: a stranger's upload is not parsed
    catalog = load_kev(path) if content is None else parse_kev(content, source=str(path))
    ensure_current(store)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        before = {r.cve for r in conn.execute(select(kev_entries.c.cve))}
        conn.execute(kev_entries.delete())
        rows = [
            {
                "cve": e.cve, "vendor": _clean(e.vendor), "product": _clean(e.product), "name": _clean(e.name),
                "date_added": e.date_added, "due_date": e.due_date, "ransomware": e.ransomware.value,
                "catalog_version": catalog.version,
            }
            for e in catalog.entries
        ]
        for start in range(0, len(rows), 5000):
            conn.execute(kev_entries.insert(), rows[start : start + 5000])
        after = {e.cve for e in catalog.entries}
        changed = _reprioritise(conn, frozenset(after) or None, now)
        audit.append(
            conn, action="kev.import", **principal.audit_fields, object_type="kev",
            object_id=catalog.version,
            reason=reason or f"import from {path}",
            before={"entries": len(before)},
            after={"entries": len(after), "added": len(after - before), "removed": len(before - after),
                   "reprioritised": changed},
            at=now,
        )
    return KevImportReport(catalog.version, len(after), len(after - before), len(before - after), len(changed))


def _reprioritise(conn: Connection, kev: frozenset[str] | None, now: dt.datetime) -> list[int]:
    # ssvc holds JSON null (not SQL NULL) for findings without a priority: filter on status.
    rows = conn.execute(
        select(findings, *EXPLANATION_COLUMNS).select_from(findings_explained).where(
            and_(findings.c.active.is_(True), findings.c.status.in_(["affected", "needs-review"]))
        )
    ).all()
    if not rows:
        return []
    matchers = {m.site_id: m for m in _site_matchers(conn, sorted({r.site_id for r in rows}))}
    flats: dict[int, FlatAdvisory] = {}
    changed = []
    for r in rows:
        sm = matchers.get(r.site_id)
        if sm is None or r.asset_id not in sm.assets:
            continue
        if r.advisory_row not in flats:
            flats[r.advisory_row] = _flat_of(conn, r.advisory_row)
        decision = _recompute(conn, r, r.overrides or {}, kev=kev or frozenset(), matcher=sm, flat=flats[r.advisory_row])
        if decision != r.ssvc:
            # Sources change too ("not in KEV" instead of "no KEV catalog"); only a changed
            # priority is reported as re-prioritised.
            conn.execute(
                update(findings).where(findings.c.id == r.id).values(
                    ssvc=decision, priority=decision["priority"], priority_rank=Priority(decision["priority"]).rank,
                    updated_at=now,
                )
            )
            if decision["priority"] != r.priority:
                changed.append(r.id)
    return changed


def kev_count(store: Store) -> tuple[int, str | None]:
    """How many KEV entries are stored, and the catalog version."""
    with store.read() as conn:
        rows = conn.execute(select(kev_entries.c.catalog_version)).all()
    return len(rows), (rows[0].catalog_version if rows else None)


# --- summaries (evidence) -------------------------------------------------------------------


def summary(store: Store, site_id: str) -> dict[str, Any]:
    """Counts per status, priority and triage state of a site's active findings, and the
    advisories and KEV catalog they come from: the data of the evidence section."""
    rows = list_findings(store, principal=SYSTEM, site_id=site_id)  # the caller authorized the site
    by_status: dict[str, int] = {s.value: 0 for s in FindingStatus}
    by_priority: dict[str, int] = {p.value: 0 for p in Priority}
    by_triage: dict[str, int] = dict.fromkeys(TRIAGE_STATUSES, 0)
    for f in rows:
        by_status[f.status] = by_status.get(f.status, 0) + 1
        if f.priority:
            by_priority[f.priority] += 1
        by_triage[f.triage_status] = by_triage.get(f.triage_status, 0) + 1
    kev_entries_count, kev_version = kev_count(store)
    return {
        "findings": len(rows),
        "by_status": by_status,
        "by_priority": by_priority,
        "by_triage": by_triage,
        "advisories": len({f.tracking_id for f in rows}),
        "advisories_stored": len(list_advisories(store)),
        "kev_entries": kev_entries_count,
        "kev_version": kev_version,
    }


def evidence_data(store: Store, site_id: str) -> dict[str, Any]:
    """What the evidence section ``advisories`` needs (plain data): the summary, every active
    finding without its match details, and every triage decision of the site, oldest first."""
    rows = list_findings(store, principal=SYSTEM, site_id=site_id)  # the caller authorized the site
    decisions = []
    with store.read() as conn:
        for f in sorted(rows, key=lambda f: f.id):
            for d in _decisions(conn, f.id):
                decisions.append({
                    "finding": f.id, "at": d.at.isoformat(timespec="seconds"), "actor": d.actor, "from": d.from_status,
                    "to": d.to_status, "why": d.why, "owner": d.owner,
                    "expires": d.expires.isoformat() if d.expires else None, "controls": list(d.controls),
                    "automatic": d.automatic,
                })
    findings_json = []
    for f in rows:
        item = f.as_json()
        item.pop("matches")
        item.pop("decisions")
        findings_json.append(item)
    return {"summary": summary(store, site_id), "findings": findings_json,
            "decisions": sorted(decisions, key=lambda d: (d["at"], d["finding"]))}


__all__ = [
    "TRANSITIONS",
    "TRIAGE_STATUSES",
    "AdvisoryRow",
    "FindingRow",
    "IngestReport",
    "IngestResult",
    "KevImportReport",
    "TriageDecision",
    "advisory_document",
    "advisory_history",
    "decide",
    "ensure_current",
    "evidence_data",
    "get_finding",
    "import_kev",
    "ingest_bytes",
    "iter_paths",
    "kev_count",
    "list_advisories",
    "list_findings",
    "override",
    "read_items",
    "rematch_site",
    "summary",
    "version_key",
]


def demote_unverified(store: Store, urls: Sequence[str], *, why: str, principal: Principal,
                      reason: str | None = None) -> list[str]:
    """Take the current advisories ingested from ``urls`` out of service (issue 18.4): a sync
    with the publisher's key found their signatures bad, so what was stored before signatures
    were checked must no longer be current nor drive findings. Their findings are deactivated;
    each demotion is one audit event naming the digest. Returns the sources demoted."""
    if not urls:
        return []
    demoted: list[str] = []
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        rows: list[Any] = []
        for chunk in batched(sorted(set(urls)), 500):
            rows += conn.execute(
                select(advisories.c.id, advisories.c.tracking_id, advisories.c.version, advisories.c.sha256,
                       advisories.c.source)
                .where(and_(advisories.c.source.in_(chunk), advisories.c.current.is_(True)))
            ).all()
        log = audit.Buffer()
        for row in rows:
            conn.execute(update(advisories).where(advisories.c.id == row.id).values(current=False))
            conn.execute(update(findings).where(findings.c.advisory_row == row.id).values(active=False))
            log.add(action="advisory.demote", **principal.audit_fields, object_type="advisory", object_id=row.tracking_id,
                    reason=reason or why, before={"version": row.version, "sha256": row.sha256, "current": True},
                    after={"current": False, "why": why, "source": row.source}, at=now)
            demoted.append(row.source)
        log.flush(conn)
    return demoted
