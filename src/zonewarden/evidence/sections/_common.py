"""Helpers shared by sections: level vectors as plain data, requirement summaries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zonewarden.domain.levels import FR

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.evidence.context import BuildContext

FRS = [fr.value for fr in FR]


def levels(vector: Any) -> list[int] | None:
    """A SL-T/SL-A/SL-C vector as seven numbers FR1..FR7 (``None`` stays ``None``)."""
    return None if vector is None else list(vector.as_tuple())


def level_text(vector: Any) -> str:
    if vector is None:
        return "not set"
    values = vector.as_tuple()
    if len(set(values)) == 1:
        return str(values[0])
    return " ".join(str(v) for v in values)


def requirement_summary(ctx: BuildContext, ids: Iterable[str]) -> list[dict[str, Any]]:
    """Per requirement: in how many zones the zone's SL-T asks for it, and in how many of those
    it counts as met on the as-of date (same rule as SL-A: implemented, validly compensated, or
    justified as not applicable). Zones without SL-T are counted apart."""
    gap = ctx.gap
    catalog = ctx.catalog
    if gap is None or catalog is None:
        return []
    out = []
    zone_targets = [t for t in gap.targets if t.kind == "zone"]
    for rid in ids:
        try:
            req = catalog.get(rid)
        except (KeyError, LookupError, ValueError):
            continue
        required = met = compensated = 0
        for t in zone_targets:
            if t.sl_target is None or t.sl_target[req.fr] < req.min_sl:
                continue
            required += 1
            state = next((s for s in t.states if s.requirement == req.id), None)
            if state is None or state.met:
                met += 1
                if state is not None and state.compensating_control:
                    compensated += 1
        out.append(
            {
                "requirement": req.id,
                "name": req.name,
                "fr": req.fr.value,
                "min_sl": req.min_sl,
                "zones_requiring": required,
                "zones_met": met,
                "zones_met_by_compensation": compensated,
            }
        )
    return out


def status_counts(ctx: BuildContext) -> dict[str, int]:
    """Recorded requirement statuses by status value (every status listed)."""
    from zonewarden.domain.requirements import Status

    out = {s.value: 0 for s in Status}
    for st in ctx.doc.requirements:
        out[st.status.value] += 1
    return out
