"""Zone-to-zone paths over conduits: which ways lead from one set of zones to another.

The zone graph is an undirected multigraph: zones are nodes, every conduit is an edge (two
conduits between the same pair of zones are two different paths, because each has its own
protections and SL-T). A *path* here is simple (no zone twice), has at least one hop, starts in
a source zone and ends in a target zone; it may pass through other sources or targets on the
way. Paths are reported shortest first, then by the sequence of ``(zone, conduit)`` steps, so
the output is stable and a ``limit`` always keeps the same, most relevant, prefix.

Blow-up guard: the number of simple paths grows exponentially with the hop limit on a meshed
site. The search runs by increasing hop count (iterative deepening), prunes any branch that
cannot reach a target within the hops left, and stops as soon as ``limit`` paths are found;
:attr:`PathReport.truncated` then says that more exist. Callers facing untrusted or large sites
should always pass a limit (the CLI uses :data:`DEFAULT_PATH_LIMIT`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from zonewarden.domain.levels import SLTarget
from zonewarden.domain.site import Conduit, Flow, Initiator, SiteDocument, ZoneKind
from zonewarden.errors import InputError, Problem

DEFAULT_PATH_LIMIT = 1000
"""What interfaces should pass as ``limit`` unless the user asks for more."""

Adjacency = Mapping[str, tuple[tuple[str, str], ...]]
"""zone id -> sorted ``(neighbour zone id, conduit id)`` pairs."""


def zone_adjacency(doc: SiteDocument) -> dict[str, tuple[tuple[str, str], ...]]:
    """The conduit graph as sorted adjacency lists; every zone has an entry, even if isolated."""
    adj: dict[str, list[tuple[str, str]]] = {z.id: [] for z in doc.zones}
    for c in doc.conduits:
        a, b = c.zones
        adj.setdefault(a, []).append((b, c.id))
        adj.setdefault(b, []).append((a, c.id))
    return {z: tuple(sorted(n)) for z, n in adj.items()}


def require_conduit_zones(doc: SiteDocument) -> None:
    """Raise :class:`InputError` when a conduit names a zone the site does not have.

    A validated :class:`SiteDocument` never does; one built with deferred reference checks
    (an importer collecting problems) might, and the graph engines cannot work around it.
    """
    known = {z.id for z in doc.zones}
    problems = [
        Problem(f"unknown zone {ref!r}", ("conduits", i, "zones", j))
        for i, c in enumerate(doc.conduits)
        for j, ref in enumerate(c.zones)
        if ref not in known
    ]
    if problems:
        raise InputError("conduits refer to zones that are not in the site", problems)


def opens_from(flow: Flow, zone: str) -> bool:
    """True when ``zone`` is a side of ``flow`` that may open the connection."""
    if flow.initiator is Initiator.BOTH:
        return zone in (flow.source, flow.destination)
    if flow.initiator is Initiator.SOURCE:
        return zone == flow.source
    return zone == flow.destination


@dataclass(frozen=True, slots=True)
class ZonePath:
    """One simple path through the zone graph."""

    zones: tuple[str, ...]
    """Zone ids from the source to the target (``hops + 1`` entries)."""
    conduits: tuple[str, ...]
    """Conduit ids of each hop, in order."""
    protocols: tuple[str, ...]
    """Sorted union over the hops of the protocols of flows that can be opened in the path's
    direction (see :attr:`hop_protocols` for which hop carries which)."""
    weakest_sl_target: SLTarget | None
    """Per-FR minimum of the conduits' SL-T; ``None`` when any conduit on the path has no SL-T."""
    via_dmz: bool
    """Whether any zone on the path (ends included) is a DMZ."""
    unbacked_conduits: tuple[str, ...] = ()
    """Conduits on the path with no flow that opens in the path's direction: the link exists,
    but nothing is allowed through it that way. The path is reported because the conduit is a
    physical route; whether it is usable depends on enforcement."""
    hop_protocols: tuple[tuple[str, ...], ...] = ()
    """Per hop, the sorted protocols of the flows that open in the path's direction. A protocol
    of one hop alone (https into the DMZ) does not reach the target: the next hop carries
    something else."""

    @property
    def end_to_end_protocols(self) -> tuple[str, ...]:
        """Protocols allowed on every hop: the ones that can go all the way to the target zone
        (a proxy or relay aside); empty when no protocol continues across the whole path."""
        # A hop that allows "any" protocol (a flat VLAN) lets every protocol through.
        limited = [set(h) for h in self.hop_protocols if "any" not in h]
        if not limited:
            return ("any",) if self.hop_protocols else ()
        return tuple(sorted(limited[0].intersection(*limited[1:])))

    @property
    def hop_protocols_text(self) -> str:
        """``https | s7comm-plus | -``: the protocols of each hop in order (``-`` for none)."""
        return " | ".join(", ".join(h) or "-" for h in self.hop_protocols)

    @property
    def hops(self) -> int:
        return len(self.conduits)

    @property
    def weakest_sl_target_text(self) -> str:
        return "unknown" if self.weakest_sl_target is None else str(self.weakest_sl_target)

    def to_dict(self) -> dict[str, object]:
        return {
            "hops": self.hops,
            "zones": list(self.zones),
            "conduits": list(self.conduits),
            "protocols": list(self.protocols),
            "weakest_sl_target": (
                "unknown" if self.weakest_sl_target is None else self.weakest_sl_target.model_dump()
            ),
            "via_dmz": self.via_dmz,
            "unbacked_conduits": list(self.unbacked_conduits),
            "hop_protocols": [list(h) for h in self.hop_protocols],
            "end_to_end_protocols": list(self.end_to_end_protocols),
        }


@dataclass(frozen=True, slots=True)
class PathReport:
    """Result of :func:`find_paths`."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    max_hops: int
    limit: int | None
    paths: tuple[ZonePath, ...] = field(default=())
    truncated: bool = False
    """True when ``limit`` stopped the search and more paths exist beyond those reported."""

    def to_dict(self) -> dict[str, object]:
        return {
            "sources": list(self.sources),
            "targets": list(self.targets),
            "max_hops": self.max_hops,
            "limit": self.limit,
            "truncated": self.truncated,
            "count": len(self.paths),
            "paths": [p.to_dict() for p in self.paths],
        }


def resolve_zone_selector(doc: SiteDocument, selector: str) -> tuple[str, ...]:
    """Zone ids named by ``selector``: a zone id, or a zone kind (all zones of that kind).

    A zone id wins over a kind of the same spelling, because it is the more specific name.
    """
    sel = selector.strip()
    ids = sorted(z.id for z in doc.zones)
    if sel in ids:
        return (sel,)
    kinds = [k.value for k in ZoneKind]
    if sel.lower() in kinds:
        found = tuple(sorted(z.id for z in doc.zones if z.kind.value == sel.lower()))
        if not found:
            raise InputError(
                f"the site has no zone of kind {sel.lower()!r}; kinds present: "
                + (", ".join(sorted({z.kind.value for z in doc.zones})) or "none")
            )
        return found
    shown = ", ".join(ids[:30]) + (f" (and {len(ids) - 30} more)" if len(ids) > 30 else "")
    raise InputError(
        f"unknown zone or zone kind {selector!r}: give a zone id ({shown or 'the site has no zones'}) "
        f"or a kind ({', '.join(kinds)})"
    )


def _distances_to(adj: Adjacency, targets: Iterable[str]) -> dict[str, int]:
    """Hop distance from every zone to the nearest target (unreachable zones are absent)."""
    dist = {t: 0 for t in targets}
    queue = deque(dist)
    while queue:
        z = queue.popleft()
        d = dist[z] + 1
        for n, _ in adj.get(z, ()):
            if n not in dist:
                dist[n] = d
                queue.append(n)
    return dist


def _walk(
    adj: Adjacency,
    sources: tuple[str, ...],
    targets: frozenset[str],
    dist: Mapping[str, int],
    hops: int,
) -> Iterator[tuple[list[str], list[str]]]:
    """Simple paths of exactly ``hops`` hops from ``sources`` to ``targets``, in step order."""
    for s in sources:
        if dist.get(s, hops + 1) > hops:
            continue
        zones = [s]
        conduits: list[str] = []
        on_path = {s}
        # Explicit stack of neighbour iterators: no recursion limit on deep hop counts.
        stack = [iter(adj.get(s, ()))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                if conduits:
                    on_path.discard(zones.pop())
                    conduits.pop()
                continue
            n, c = step
            left = hops - len(conduits) - 1
            if n in on_path or dist.get(n, left + 1) > left:
                continue
            if left == 0:
                # n is a target here: dist[n] <= 0 was just checked.
                yield [*zones, n], [*conduits, c]
                continue
            zones.append(n)
            conduits.append(c)
            on_path.add(n)
            stack.append(iter(adj.get(n, ())))


def _describe(
    zones: list[str],
    conduits: list[str],
    by_id: Mapping[str, Conduit],
    dmz: frozenset[str],
    opened_cache: dict[tuple[str, str], frozenset[str]],
    sl_cache: dict[tuple[int, ...], SLTarget],
) -> ZonePath:
    protocols: set[str] = set()
    per_hop: list[tuple[str, ...]] = []
    unbacked = []
    weakest: tuple[int, ...] | None = None
    unknown = False
    for i, cid in enumerate(conduits):
        conduit = by_id[cid]
        here = zones[i]
        opened = opened_cache.get((cid, here))
        if opened is None:
            opened = frozenset(f.protocol for f in conduit.flows if opens_from(f, here))
            opened_cache[cid, here] = opened
        if not opened:
            unbacked.append(cid)
        protocols |= opened
        per_hop.append(tuple(sorted(opened)))
        if conduit.sl_target is None:
            unknown = True
        elif not unknown:
            # Plain tuples here: building a validated SLTarget per hop dominates big searches.
            levels = conduit.sl_target.as_tuple()
            weakest = levels if weakest is None else tuple(map(min, weakest, levels))
    return ZonePath(
        zones=tuple(zones),
        conduits=tuple(conduits),
        protocols=tuple(sorted(protocols)),
        weakest_sl_target=None if unknown or weakest is None else _sl(weakest, sl_cache),
        via_dmz=any(z in dmz for z in zones),
        unbacked_conduits=tuple(unbacked),
        hop_protocols=tuple(per_hop),
    )


def _sl(levels: tuple[int, ...], cache: dict[tuple[int, ...], SLTarget]) -> SLTarget:
    if levels not in cache:
        cache[levels] = SLTarget.model_validate(list(levels))
    return cache[levels]


def find_paths(
    doc: SiteDocument,
    sources: Iterable[str],
    targets: Iterable[str],
    *,
    max_hops: int = 6,
    limit: int | None = None,
) -> PathReport:
    """Every simple zone path of 1..``max_hops`` hops from a source zone to a target zone.

    ``sources`` and ``targets`` are zone ids (use :func:`resolve_zone_selector` for kinds).
    With ``limit`` the first ``limit`` paths in report order are returned and ``truncated``
    tells whether more exist. Raises :class:`InputError` for unknown zones or bad limits.
    """
    src = tuple(sorted(set(sources)))
    dst = tuple(sorted(set(targets)))
    known = {z.id for z in doc.zones}
    problems = [
        Problem(f"unknown zone {z!r}", (role,))
        for role, group in (("sources", src), ("targets", dst))
        for z in group
        if z not in known
    ]
    if problems:
        raise InputError("paths need existing zone ids", problems)
    if max_hops < 1:
        raise InputError(f"max_hops must be at least 1 (got {max_hops})")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1 when given (got {limit})")

    require_conduit_zones(doc)
    adj = zone_adjacency(doc)
    by_id = {c.id: c for c in doc.conduits}
    dmz = frozenset(z.id for z in doc.zones if z.kind is ZoneKind.DMZ)
    target_set = frozenset(dst)
    dist = _distances_to(adj, dst)

    opened_cache: dict[tuple[str, str], frozenset[str]] = {}
    sl_cache: dict[tuple[int, ...], SLTarget] = {}
    found: list[ZonePath] = []
    truncated = False
    for hops in range(1, max_hops + 1):
        for zones, conduits in _walk(adj, src, target_set, dist, hops):
            if limit is not None and len(found) == limit:
                truncated = True
                break
            found.append(_describe(zones, conduits, by_id, dmz, opened_cache, sl_cache))
        if truncated:
            break
    return PathReport(
        sources=src,
        targets=dst,
        max_hops=max_hops,
        limit=limit,
        paths=tuple(found),
        truncated=truncated,
    )


__all__ = [
    "DEFAULT_PATH_LIMIT",
    "PathReport",
    "ZonePath",
    "find_paths",
    "opens_from",
    "require_conduit_zones",
    "resolve_zone_selector",
    "zone_adjacency",
]
