"""Zone and conduit diagram as SVG, laid out by Purdue level (Graphviz ``dot``).

Zone level only, on purpose: asset names, addresses and host names are sensitive in the domain
model and a diagram is the thing most often pasted into slides, so none of them appear here
(a zone shows only how many assets it holds).

Every piece of text from the site is untrusted. All labels are Graphviz HTML-like labels built
from escaped text: a plain label is not safe, because the ``graphviz`` package treats any
string that starts with ``<`` and ends with ``>`` as HTML, and ``dot`` expands ``\\N``-style
escapes in plain labels. Graphviz then escapes the text again when it writes SVG.

Needs the ``dot`` program (Debian package ``graphviz``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import graphviz

from zonewarden.domain.levels import SLTarget
from zonewarden.domain.site import SiteDocument, ZoneKind
from zonewarden.engines.paths import require_conduit_zones
from zonewarden.engines.segmentation import CheckReport, ObjectKind
from zonewarden.errors import InstallationError
from zonewarden.wording import count

KIND_COLOURS: dict[ZoneKind, str] = {
    ZoneKind.EXTERNAL: "#d9d9d9",
    ZoneKind.ENTERPRISE: "#9ecae1",
    ZoneKind.REMOTE_ACCESS: "#fdd0a2",
    ZoneKind.DMZ: "#fdae6b",
    ZoneKind.OPERATIONS: "#c7e9c0",
    ZoneKind.SUPERVISORY: "#a1d99b",
    ZoneKind.CONTROL: "#74c476",
    ZoneKind.FIELD: "#bcbddc",
    ZoneKind.SAFETY: "#fee391",
}
"""Fill colour per zone kind (6-digit hex, as Graphviz and print both need)."""

FINDING_COLOUR = "#d62728"
EDGE_COLOUR = "#555555"
BORDER_COLOUR = "#333333"

LEVEL_NAMES = {
    5.0: "Internet / external",
    4.0: "Enterprise",
    3.5: "IT/OT DMZ",
    3.0: "Site operations",
    2.0: "Supervisory",
    1.0: "Basic control / safety",
    0.0: "Field / process",
}
MAX_PROTOCOLS = 3
"""Protocols shown on a conduit before '+N more': keeps 30-zone diagrams readable."""


class DiagramError(InstallationError):
    """The diagram could not be rendered (Graphviz missing or failing)."""


def esc(text: object) -> str:
    """Escape text for a Graphviz HTML-like label (and so for the SVG it becomes)."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
        # dot expands \N, \G, \E... even inside HTML-like labels; a site name must stay text.
        # (an entity does not help: it is decoded first); a doubled backslash is a literal one.
        .replace("\\", "\\\\")
    )


def _html(*lines: str) -> str:
    return "<" + "<BR/>".join(lines) + ">"


def _small(text: str, colour: str | None = None) -> str:
    extra = f' COLOR="{colour}"' if colour else ""
    return f'<FONT POINT-SIZE="9"{extra}>{text}</FONT>'


def _sl(sl: SLTarget | None) -> str:
    return "SL-T ?" if sl is None else str(sl)


def _protocols(protocols: Iterable[str]) -> str:
    unique = sorted(set(protocols))
    shown = ", ".join(unique[:MAX_PROTOCOLS])
    if len(unique) > MAX_PROTOCOLS:
        shown += f" +{len(unique) - MAX_PROTOCOLS} more"
    return shown or "no flows"


def _flagged(doc: SiteDocument, report: CheckReport | None,
             asset_zones: Mapping[str, str | None] | None = None) -> tuple[Counter[str], Counter[str]]:
    """Open findings per zone and per conduit, counted on each finding's primary object.

    Only the primary object is marked, so a bad conduit does not paint both of its (possibly
    fine) zones red; an asset's finding marks the asset's zone.
    """
    zones: Counter[str] = Counter()
    conduits: Counter[str] = Counter()
    if report is None:
        return zones, conduits
    if asset_zones is not None:
        asset_zone: Mapping[str, str | None] = asset_zones
    else:
        asset_zone = {a.id: a.zone for a in doc.assets} if any(
            f.refs and f.refs[0][0] is ObjectKind.ASSET for f in report.findings
        ) else {}
    for f in report.findings:
        if not f.refs:
            continue
        kind, ident = f.refs[0]
        if kind is ObjectKind.ZONE:
            zones[ident] += 1
        elif kind is ObjectKind.CONDUIT:
            conduits[ident] += 1
        elif kind is ObjectKind.ASSET and asset_zone.get(ident):
            zones[str(asset_zone[ident])] += 1
    return zones, conduits


def build_graph(doc: SiteDocument, report: CheckReport | None = None, *,
                asset_zones: Mapping[str, str | None] | None = None,
                zone_assets: Mapping[str, int] | None = None) -> graphviz.Graph:
    """The Graphviz graph behind :func:`render_diagram` (DOT source via ``.source``).

    ``asset_zones`` (the zone of each asset a finding names) and ``zone_assets`` (assets per
    zone) stand in for ``doc.assets`` when the caller read the document without its assets."""
    require_conduit_zones(doc)
    zone_findings, conduit_findings = _flagged(doc, report, asset_zones)
    g = graphviz.Graph(name="zones", engine="dot")
    g.attr(
        rankdir="TB",
        newrank="true",
        nodesep="0.5",
        ranksep="0.7",
        fontname="Helvetica",
        labelloc="t",
        label=_html(f"<B>{esc(doc.site.name)}</B>", _small("Zones and conduits by Purdue level")),
    )
    g.attr("node", fontname="Helvetica", fontsize="11")
    g.attr("edge", fontname="Helvetica", fontsize="9", color=EDGE_COLOUR)

    # Node names are positional, never site ids: ids may contain ':' (a port separator in DOT).
    node = {z.id: f"z{i}" for i, z in enumerate(sorted(doc.zones, key=lambda z: z.id))}
    assets = Counter(zone_assets) if zone_assets is not None else Counter(
        str(a.zone) for a in doc.assets if a.zone is not None)
    levels = sorted({z.purdue_level for z in doc.zones}, reverse=True)

    anchors = []
    for i, level in enumerate(levels):
        anchor = f"level{i}"
        anchors.append(anchor)
        with g.subgraph(name=f"rank{i}") as sub:
            sub.attr(rank="same")
            sub.node(
                anchor,
                label=_html(f"<B>Level {level:g}</B>", _small(esc(LEVEL_NAMES.get(level, "")))),
                shape="plaintext",
                id=f"level-{level:g}",
            )
            # A sub-zone is declared right after its parent (dot keeps declaration order where
            # crossings allow), so a safety zone sits beside the control zone it belongs to.
            for z in sorted(
                (z for z in doc.zones if z.purdue_level == level), key=lambda z: (z.parent or z.id, z.id)
            ):
                n = zone_findings.get(z.id, 0)
                lines = [
                    f"<B>{esc(z.name)}</B>",
                    # "dmz · dmz" says nothing twice: the id is shown beside the kind only where it differs.
                    _small(esc(z.kind.value) if z.id == z.kind.value else f"{esc(z.kind.value)} · {esc(z.id)}"),
                    _small(f"{esc(_sl(z.sl_target))} · {count(assets.get(z.id, 0), 'asset')}"),
                ]
                if n:
                    lines.append(_small(f"<B>{n} finding{'s' if n > 1 else ''}</B>", FINDING_COLOUR))
                sub.node(
                    node[z.id],
                    label=_html(*lines),
                    shape="box",
                    style="filled,rounded",
                    fillcolor=KIND_COLOURS[z.kind],
                    color=FINDING_COLOUR if n else BORDER_COLOUR,
                    penwidth="3" if n else "1",
                    id=f"zone-{z.id}",
                    tooltip=f"zone {z.id}",
                )
    # Invisible spine from level 5 down to 0 (then the legend) fixes the vertical order.
    spine = [*anchors, "legend"]
    for upper, lower in zip(spine, spine[1:], strict=False):
        g.edge(upper, lower, style="invis", weight="100")

    level_of = {z.id: z.purdue_level for z in doc.zones}
    for c in sorted(doc.conduits, key=lambda c: c.id):
        # Upper zone first: dot ranks an edge's tail above its head, so with this orientation
        # the conduits agree with the level spine and can steer the left-to-right order
        # (fewer crossings); conduits inside one level must not constrain ranks at all.
        a, b = sorted(c.zones, key=lambda z: (-level_of[z], z))
        n = conduit_findings.get(c.id, 0)
        lines = [
            _small(f"<B>{esc(c.id)}</B>"),
            _small(esc(_sl(c.sl_target))),
            _small(esc(_protocols(f.protocol for f in c.flows))),
        ]
        if n:
            lines.append(_small(f"<B>{n} finding{'s' if n > 1 else ''}</B>", FINDING_COLOUR))
        g.edge(
            node[a],
            node[b],
            label=_html(*lines),
            color=FINDING_COLOUR if n else EDGE_COLOUR,
            penwidth="2.5" if n else "1",
            constraint="true" if level_of[a] != level_of[b] else "false",
            id=f"conduit-{c.id}",
            tooltip=f"conduit {c.id}",
        )

    g.node("legend", label=_legend(doc, report), shape="plaintext", id="legend")
    return g


def _legend(doc: SiteDocument, report: CheckReport | None) -> str:
    used = [k for k in ZoneKind if any(z.kind is k for z in doc.zones)] or list(ZoneKind)
    rows = ['<TR><TD COLSPAN="2"><B>Legend</B></TD></TR>']
    for k in used:
        rows.append(
            f'<TR><TD BGCOLOR="{KIND_COLOURS[k]}" WIDTH="24"> </TD><TD ALIGN="LEFT">{esc(k.value)} zone</TD></TR>'
        )
    if report is not None:
        rows.append(
            f'<TR><TD BORDER="3" COLOR="{FINDING_COLOUR}" WIDTH="24"> </TD>'
            f'<TD ALIGN="LEFT">red border or line: open findings ({len(report.findings)} in total)</TD></TR>'
        )
    rows.append('<TR><TD COLSPAN="2" ALIGN="LEFT">edge label: conduit, SL-T, main protocols</TD></TR>')
    return '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3">' + "".join(rows) + "</TABLE>>"


def _range(values: Iterable[SLTarget | None]) -> str:
    """SL-T of a group of zones: the one value, or the lowest and highest FR level."""
    shown = sorted({str(v) for v in values if v is not None})
    missing = any(v is None for v in values)
    if not shown:
        return "SL-T ?"
    if len(shown) == 1:
        text = shown[0]
    else:
        levels = [n for v in values if v is not None for n in v.as_tuple()]
        text = f"SL-T {min(levels)}–{max(levels)}"
    return text + (" (some without)" if missing else "")


def build_overview_graph(doc: SiteDocument, report: CheckReport | None = None, *,
                         zone_assets: Mapping[str, int] | None = None) -> graphviz.Graph:
    """A simplified diagram for a large site: one box per Purdue level and zone kind (how many
    zones, their SL-T range, assets, open findings; the zone itself where it is the only one),
    one line per pair of groups with the number of conduits between them and their findings.
    Labels are escaped as in :func:`build_graph`."""
    require_conduit_zones(doc)
    zone_findings, conduit_findings = _flagged(doc, report)
    assets = Counter(zone_assets) if zone_assets is not None else Counter(
        str(a.zone) for a in doc.assets if a.zone is not None)
    groups: dict[tuple[float, ZoneKind], list] = {}
    for z in sorted(doc.zones, key=lambda z: z.id):
        groups.setdefault((z.purdue_level, z.kind), []).append(z)
    kinds = list(ZoneKind)
    keys = sorted(groups, key=lambda k: (-k[0], kinds.index(k[1])))
    node = {k: f"g{i}" for i, k in enumerate(keys)}
    group_of = {z.id: k for k, zs in groups.items() for z in zs}
    g = graphviz.Graph(name="zones", engine="dot")
    # size: at most 10.5 x 4.3 inches (dot scales a larger drawing down), so that the diagram fits on
    # an A4 landscape page below the section's opening paragraph instead of leaving that page empty.
    g.attr(rankdir="TB", newrank="true", nodesep="0.3", ranksep="0.35", size="10.5,4.3", fontname="Helvetica",
           labelloc="t",
           label=_html(f"<B>{esc(doc.site.name)}</B>",
                       _small(f"Simplified: {count(len(doc.zones), 'zone')} grouped by Purdue level and kind, "
                              f"{count(len(doc.conduits), 'conduit')}; red border or line: open findings")))
    g.attr("node", fontname="Helvetica", fontsize="11")
    g.attr("edge", fontname="Helvetica", fontsize="9", color=EDGE_COLOUR)
    inside: Counter[tuple[float, ZoneKind]] = Counter()
    inside_findings: Counter[tuple[float, ZoneKind]] = Counter()
    between: dict[tuple[tuple[float, ZoneKind], tuple[float, ZoneKind]], list[int]] = {}
    for c in doc.conduits:
        a, b = sorted((group_of[c.zones[0]], group_of[c.zones[-1]]), key=keys.index)
        n = conduit_findings.get(c.id, 0)
        if a == b:
            inside[a] += 1
            inside_findings[a] += n
        else:
            entry = between.setdefault((a, b), [0, 0])
            entry[0] += 1
            entry[1] += n
    levels = sorted({k[0] for k in keys}, reverse=True)
    for i, level in enumerate(levels):
        with g.subgraph(name=f"rank{i}") as sub:
            sub.attr(rank="same")
            for k in (k for k in keys if k[0] == level):
                zs = groups[k]
                n = sum(zone_findings.get(z.id, 0) for z in zs)
                title = f"<B>{esc(zs[0].name)}</B>" if len(zs) == 1 else f"<B>{count(len(zs), esc(k[1].value) + ' zone')}</B>"
                where = f"Level {level:g}" if len(zs) > 1 else f"Level {level:g} · {esc(zs[0].id)}"
                lines = [
                    title,
                    _small(f"{where} · {esc(_range([z.sl_target for z in zs]))} · "
                           f"{count(sum(assets.get(z.id, 0) for z in zs), 'asset')}"),
                ]
                if inside[k]:
                    lines.append(_small(count(inside[k], "conduit") + " within"))
                n += inside_findings[k]
                if n:
                    lines.append(_small(f"<B>{count(n, 'finding')}</B>", FINDING_COLOUR))
                sub.node(node[k], label=_html(*lines), shape="box", style="filled,rounded",
                         fillcolor=KIND_COLOURS[k[1]], color=FINDING_COLOUR if n else BORDER_COLOUR,
                         penwidth="3" if n else "1", id=f"group-{level:g}-{k[1].value}")
    for (a, b), (conduits, findings) in sorted(between.items(), key=lambda kv: (keys.index(kv[0][0]), keys.index(kv[0][1]))):
        lines = [_small(f"<B>{count(conduits, 'conduit')}</B>")]
        if findings:
            lines.append(_small(f"<B>{count(findings, 'finding')}</B>", FINDING_COLOUR))
        g.edge(node[a], node[b], label=_html(*lines), color=FINDING_COLOUR if findings else EDGE_COLOUR,
               penwidth="2.5" if findings else "1", constraint="true" if a[0] != b[0] else "false")
    return g


def _pipe(g: graphviz.Graph) -> str:
    try:
        return g.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as exc:
        raise DiagramError(
            "Graphviz 'dot' was not found: install it (Debian/Ubuntu: apt-get install graphviz)"
        ) from exc
    except graphviz.CalledProcessError as exc:
        raise DiagramError(f"Graphviz failed to render the diagram: {exc.stderr!r}") from exc


def render_overview(doc: SiteDocument, report: CheckReport | None = None, *,
                    zone_assets: Mapping[str, int] | None = None) -> str:
    """SVG text of :func:`build_overview_graph`."""
    return _pipe(build_overview_graph(doc, report, zone_assets=zone_assets))


def render_diagram(doc: SiteDocument, report: CheckReport | None = None, *,
                   asset_zones: Mapping[str, str | None] | None = None,
                   zone_assets: Mapping[str, int] | None = None) -> str:
    """SVG text of the site's zones and conduits; findings of ``report`` are highlighted
    (``asset_zones``, ``zone_assets``: see :func:`build_graph`)."""
    return _pipe(build_graph(doc, report, asset_zones=asset_zones, zone_assets=zone_assets))


__all__ = ["KIND_COLOURS", "DiagramError", "build_graph", "build_overview_graph", "esc", "render_diagram",
           "render_overview"]
