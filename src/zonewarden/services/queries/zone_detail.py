"""One zone or conduit in detail, for its page: SL-T / SL-A / SL-C per FR, the gap in plain
words (``zonewarden gap --explain``), and the requirement matrix: every SR/RE required up to its
SL-T with the recorded status and whether it counts, as the gap engine judges it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from zonewarden.services.principal import Principal
from zonewarden.store.db import Store


@dataclass(frozen=True, slots=True)
class MatrixRow:
    requirement: str
    name: str
    fr: str
    min_sl: int
    status: str | None
    """Recorded status (None: nothing recorded)."""
    met: bool
    reason: str
    justification: str | None
    target_date: str | None
    compensating_control: str | None
    evidence: tuple[dict[str, Any], ...] = ()
    """The recorded status's evidence references (``file``/``document``/``link``, ``sha256``...)."""


@dataclass(frozen=True, slots=True)
class FRRow:
    fr: str
    sl_t: int | None
    sl_a: int
    sl_c: int | None
    gap: int | None
    limited_by: tuple[str, ...]
    explanation: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TargetDetail:
    site_id: str
    target: str
    kind: str
    as_of: dt.date
    assessed: bool
    frs: tuple[FRRow, ...]
    matrix: tuple[MatrixRow, ...]
    controls: tuple[str, ...]
    """Compensating control ids of the site (for a 'compensated' status)."""


def _scoped_document(store: Store, site_id: str, target: str) -> Any:
    """The stored site with only the assets the gap of ``target`` reads: those in the zone
    (their SL-C limits it) and those an exception names (it applies to the asset's zone). On a
    100k-asset site this validates a hundred assets instead of every one (seconds)."""
    from sqlalchemy import Text, cast, or_, select

    from zonewarden.domain.site import Asset
    from zonewarden.services.sites import TRUSTED, load_document
    from zonewarden.store.tables import assets

    doc = load_document(store, site_id, without=("assets",))
    named = sorted({a for e in doc.exceptions for a in e.assets})
    a = assets.c
    stmt = (select(cast(a.data, Text)).where(a.site_id == site_id)
            .where(or_(a.zone_id == target, a.id.in_(named)) if named else a.zone_id == target).order_by(a.seq))
    with store.read() as conn:
        rows = [Asset.model_validate_json(r[0], context=TRUSTED) for r in conn.execute(stmt)]
    return doc.model_copy(update={"assets": tuple(rows)})


def target_detail(store: Store, principal: Principal, site_id: str, target: str,
                  *, as_of: dt.date | None = None) -> TargetDetail:
    """The detail of zone or conduit ``target`` (``site.read`` authorized; unknown target: 404)."""
    from zonewarden.catalog.loader import load_62443_3_3
    from zonewarden.errors import NotFoundError
    from zonewarden.services.queries import site_of
    from zonewarden.services.queries.gap import gap_of

    ident = site_of(store, principal, site_id)
    doc = _scoped_document(store, ident, target)
    if not any(z.id == target for z in doc.zones) and not any(c.id == target for c in doc.conduits):
        raise NotFoundError(f"no zone or conduit {target!r} in site {ident!r}")
    result = gap_of(doc, as_of=as_of, zones=(target,))
    (t,) = [x for x in result.report.targets if x.target == target]
    frs = []
    for g in t.frs:
        words: tuple[str, ...] = ()
        if g.gap:
            words = tuple(result.explain(target, g.fr))
        frs.append(FRRow(g.fr.value, g.sl_target, g.sl_achieved, g.sl_capability, g.gap,
                         tuple(g.limiting_assets) if g.capability_blocks_target else (), words))
    states = {s.requirement: s for s in t.states}
    for g in t.frs:
        for s in g.missing_for_target:
            states.setdefault(s.requirement, s)
    recorded: dict[str, Any] = {r.requirement: r for r in doc.requirements if r.target == target}
    levels = {g.fr: g.sl_target or 0 for g in t.frs}
    rows = []
    for req in load_62443_3_3().requirements:
        level = levels.get(req.fr, 0)
        rec = recorded.get(req.id)
        if not req.required_at(level) and rec is None:
            continue
        state = states.get(req.id)
        status = rec.status.value if rec is not None else None
        met = state.met if state is not None else rec is not None
        reason = state.reason if state is not None else ("implemented" if rec is not None else "no status")
        rows.append(MatrixRow(
            req.id, req.name, req.fr.value, req.min_sl, status, met, reason,
            rec.justification if rec is not None else None,
            rec.target_date.isoformat() if rec is not None and rec.target_date else None,
            rec.compensating_control if rec is not None else None,
            tuple(e.model_dump(mode="json", exclude_none=True) for e in rec.evidence) if rec is not None else (),
        ))
    return TargetDetail(ident, target, str(t.kind), result.as_of,
                        t.assessed, tuple(frs), tuple(rows), tuple(c.id for c in doc.compensating_controls))


__all__ = ["FRRow", "MatrixRow", "TargetDetail", "target_detail"]
