"""Architecture queries: the segmentation check, the conduit paths between zones, the diagram."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.site import SiteDocument
from zonewarden.engines.paths import PathReport
from zonewarden.engines.segmentation import CheckReport
from zonewarden.services.principal import Principal
from zonewarden.services.queries import day, site_of
from zonewarden.store.db import Store

# --- check -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The segmentation check of one site on one day."""

    site_id: str
    site_name: str
    as_of: dt.date
    report: CheckReport
    waiver_signatures: dict[str, Any] | None = None
    """Waiver id -> its signature view, for a stored site (``services.waivers``); None for a file."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"site": self.site_id, "as_of": self.as_of.isoformat(), **self.report.to_dict()}
        if self.waiver_signatures is not None:  # how each waiver's approval stands, where it is shown
            from zonewarden.services.waivers import signature_state

            views = self.waiver_signatures
            for w in out["waived"]:
                w["waiver"]["approval"] = signature_state(w["waiver"], views)
            for key in ("expired_waivers", "unused_waivers", "pending_waivers"):
                for w in out[key]:
                    w["approval"] = signature_state(w, views)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One row per open finding. The fix text is in the JSON and SARIF; the rows carry it
        too, so the reader of a finding sees what to do about it (issue 17.6)."""
        return [
            {"severity": f.severity.value, "rule": f.rule, "objects": ", ".join(f.objects), "message": f.message,
             "fix": f.fix or ""}
            for f in self.report.findings
        ]


CHECK_COLUMNS = ["severity", "rule", "objects", "message", "fix"]


def check(store: Store, *, principal: Principal, site_id: str | None, as_of: str | dt.date | None = None) -> CheckResult:
    """Check the stored site. Only the assets the rules look at are read, as a projection (no
    100k model validations)."""
    from zonewarden.engines.segmentation import run_check
    from zonewarden.services.sites import load_for_check

    stored = load_for_check(store, site_of(store, principal, site_id))
    today = day(stored.doc.site.timezone, as_of)
    report = run_check(stored.doc, today=today, assets=stored.assets, asset_ids=stored.asset_ids)
    views = None
    if any(w.id is not None for w in stored.doc.checks.waivers):
        from zonewarden.services.waivers import waiver_signatures

        views = waiver_signatures(store, stored.doc.site.id)
    return CheckResult(stored.doc.site.id, stored.doc.site.name, today, report, views)


def check_of(doc: SiteDocument, *, as_of: str | dt.date | None = None) -> CheckResult:
    """Check a document in hand (a site file)."""
    from zonewarden.engines.segmentation import run_check

    today = day(doc.site.timezone, as_of)
    return CheckResult(doc.site.id, doc.site.name, today, run_check(doc, today=today))


# --- paths -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathsResult:
    """Every simple conduit path between two zone selections, shortest first."""

    site_id: str
    source: str
    target: str
    report: PathReport

    def as_dict(self) -> dict[str, Any]:
        return self.report.to_dict()

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "hops": p.hops,
                "path": " → ".join(p.zones),
                "conduits": ", ".join(p.conduits),
                # Per hop, not the union: a protocol that stops in the DMZ is not "on the path".
                "protocols_per_hop": p.hop_protocols_text,
                "end_to_end": ", ".join(p.end_to_end_protocols) or "none",
                "weakest_sl_t": p.weakest_sl_target_text,
                "via_dmz": "yes" if p.via_dmz else "NO",
            }
            for p in self.report.paths
        ]


PATH_COLUMNS = ["hops", "path", "conduits", "protocols_per_hop", "end_to_end", "weakest_sl_t", "via_dmz"]


def paths(store: Store, *, principal: Principal, site_id: str | None, source: str, target: str,
          max_hops: int = 6, limit: int = 1000) -> PathsResult:
    """Paths of the stored site (read without its assets: paths run between zones)."""
    from zonewarden.services.sites import load_document

    doc = load_document(store, site_of(store, principal, site_id), without=("assets",))
    return paths_of(doc, source=source, target=target, max_hops=max_hops, limit=limit)


def paths_of(doc: SiteDocument, *, source: str, target: str, max_hops: int = 6, limit: int = 1000) -> PathsResult:
    """``source`` and ``target`` are zone ids or zone kinds (every zone of that kind)."""
    from zonewarden.engines.paths import find_paths, resolve_zone_selector

    report = find_paths(
        doc, resolve_zone_selector(doc, source), resolve_zone_selector(doc, target), max_hops=max_hops, limit=limit
    )
    return PathsResult(doc.site.id, source, target, report)


# --- diagram ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Diagram:
    """The zone/conduit diagram as SVG text (zone level only: no asset names or addresses)."""

    site_id: str
    svg: str
    zones: int
    conduits: int
    zone_ids: tuple[str, ...] = ()
    """The zones drawn (the page makes each a link)."""


def diagram(store: Store, *, principal: Principal, site_id: str | None, as_of: str | dt.date | None = None) -> Diagram:
    from zonewarden.services.sites import load_document

    return diagram_of(load_document(store, site_of(store, principal, site_id)), as_of=as_of)


_OVERVIEWS: OrderedDict[tuple[int, str], tuple[str, str | None, dt.date, tuple[CheckResult, Diagram]]] = OrderedDict()
"""(store, site) -> (revision, time zone, day, result) of the newest :func:`overview`s in this
process: the site page of a 100k-asset site spends seconds on Graphviz and the check, and both
are the same until the site's content (its revision, a hash of the content) or the day changes."""
_OVERVIEWS_MAX = 8
_overviews_lock = threading.Lock()


def overview(store: Store, *, principal: Principal, site_id: str | None,
             as_of: str | dt.date | None = None) -> tuple[CheckResult, Diagram]:
    """The check and the diagram of the stored site together, for the site page: the document is
    read once without its assets (the check's projection, see :func:`check`), the diagram counts
    the assets per zone in the database, and the check runs once. The same result as
    :func:`check` and :func:`diagram` (the diagram's findings are this check's).

    The result is kept per site for its revision and day (:data:`_OVERVIEWS`), so viewing the
    site page again costs one indexed read until the site changes. The revision is read before
    the document: a write in between leaves an entry under the older revision, which the next
    read of the newer one does not match."""
    from zonewarden.services.sites import revision_of

    ident = site_of(store, principal, site_id)
    key = (id(store), ident)
    revision = revision_of(store, ident)
    with _overviews_lock:
        hit = _OVERVIEWS.get(key)
        if hit is not None:
            _OVERVIEWS.move_to_end(key)
    if hit is not None and hit[0] == revision and day(hit[1], as_of) == hit[2]:
        return hit[3]
    result, timezone = _overview(store, ident, as_of)
    with _overviews_lock:
        _OVERVIEWS[key] = (revision, timezone, result[0].as_of, result)
        while len(_OVERVIEWS) > _OVERVIEWS_MAX:
            _OVERVIEWS.popitem(last=False)
    return result


def _overview(store: Store, ident: str, as_of: str | dt.date | None,
              ) -> tuple[tuple[CheckResult, Diagram], str | None]:
    from sqlalchemy import func, select

    from zonewarden.engines.segmentation import ObjectKind, run_check
    from zonewarden.evidence.diagram import render_diagram
    from zonewarden.services.sites import load_for_check
    from zonewarden.store.tables import assets

    stored = load_for_check(store, ident)
    doc = stored.doc
    today = day(doc.site.timezone, as_of)
    report = run_check(doc, today=today, assets=stored.assets, asset_ids=stored.asset_ids)
    named = sorted({f.refs[0][1] for f in report.findings if f.refs and f.refs[0][0] is ObjectKind.ASSET})
    a = assets.c
    with store.read() as conn:
        counts = {z: n for z, n in conn.execute(
            select(a.zone_id, func.count()).where(a.site_id == ident, a.zone_id.is_not(None)).group_by(a.zone_id))}
        homes: dict[str, str | None] = {}
        for i in range(0, len(named), 500):
            stmt = select(a.id, a.zone_id).where(a.site_id == ident, a.id.in_(named[i:i + 500]))
            homes.update((r.id, r.zone_id) for r in conn.execute(stmt))
    svg = render_diagram(doc, report, asset_zones=homes, zone_assets=counts)
    return (CheckResult(doc.site.id, doc.site.name, today, report),
            Diagram(doc.site.id, svg, len(doc.zones), len(doc.conduits), tuple(z.id for z in doc.zones))), \
        doc.site.timezone


def diagram_of(doc: SiteDocument, *, as_of: str | dt.date | None = None) -> Diagram:
    """Zones by Purdue level with conduits, SL-T and the check's findings highlighted."""
    from zonewarden.engines.segmentation import run_check
    from zonewarden.evidence.diagram import render_diagram

    svg = render_diagram(doc, run_check(doc, today=day(doc.site.timezone, as_of)))
    return Diagram(doc.site.id, svg, len(doc.zones), len(doc.conduits), tuple(z.id for z in doc.zones))
