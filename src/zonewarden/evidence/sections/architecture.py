"""Zone and conduit architecture with SL-T: the diagram and the tables behind it.

Above :data:`DIAGRAM_ZONE_LIMIT` zones the diagram of every zone and conduit is too dense to read
on a page and slow to lay out (a 100-zone site: a 237 kB SVG); the PDF then shows the simplified
diagram (:func:`zonewarden.evidence.diagram.render_overview`: zones grouped by Purdue level and
kind, conduit counts between the groups) and the full diagram is the appendix file
``architecture-diagram.svg`` of the package (:mod:`zonewarden.evidence.appendix`), sanitised like
the inline one.
"""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.appendix import file_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.sections._common import level_text, levels
from zonewarden.evidence.svg import UnsafeSVG, sanitise_svg
from zonewarden.evidence.text import u, us

DIAGRAM_ZONE_LIMIT = 40
"""Above this many zones the PDF shows the simplified diagram and the full one is an appendix file."""
SVG_NAME = "architecture-diagram.svg"


def _safe(svg: str | None, undecided: list[str]) -> str | None:
    if svg is None:
        return None
    try:
        return sanitise_svg(svg)
    except UnsafeSVG as exc:
        undecided.append(f"diagram: {exc}")
        return None


class ArchitectureSection:
    id = "architecture"
    title = "Zones, conduits and target security levels"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        undecided: list[str] = []
        svg = ctx.diagram
        if svg is None:
            undecided.append(f"diagram: {ctx.why_missing('diagram')}")
        svg = _safe(svg, undecided)
        extra: dict[str, Any] = {"diagram_simplified": False, "appendices": []}
        files: dict[str, bytes] = {}
        if len(doc.zones) > DIAGRAM_ZONE_LIMIT:
            overview = ctx.diagram_overview
            if overview is None:
                undecided.append(f"simplified diagram: {ctx.why_missing('diagram-overview')}")
            overview = _safe(overview, undecided)
            if svg is not None:
                descriptor, files = file_appendix(SVG_NAME, "architecture diagram of every zone and conduit",
                                                  svg.encode("utf-8"), "svg")
                extra["appendices"] = [descriptor]
            svg = overview
            extra["diagram_simplified"] = True
        asset_count: dict[str, int] = {}
        for a in doc.assets:
            if a.zone is not None:
                asset_count[a.zone] = asset_count.get(a.zone, 0) + 1
        zones = [
            {
                "id": u(z.id),
                "name": u(z.name),
                "kind": u(z.kind.value),
                "purdue_level": z.purdue_level,
                "criticality": u(z.criticality.value),
                "sl_target": levels(z.sl_target),
                "sl_target_text": level_text(z.sl_target),
                "parent": u(z.parent),
                "owner": u(ctx.person(z.owner)),
                "assets": asset_count.get(z.id, 0),
                "description": u(z.description),
            }
            for z in sorted(doc.zones, key=lambda z: (-z.purdue_level, z.id))
        ]
        conduits = [
            {
                "id": u(c.id),
                "name": u(c.name),
                "zones": us(c.zones),
                "sl_target": levels(c.sl_target),
                "sl_target_text": level_text(c.sl_target),
                "protections": us(sorted(p.value for p in c.protections)),
                "flows": [
                    {
                        "source": u(f.source),
                        "destination": u(f.destination),
                        "protocol": u(f.protocol),
                        "ports": us(f.ports),
                        "initiator": u(f.initiator.value),
                        "remote_access": f.remote_access,
                        "purpose": u(f.purpose),
                    }
                    for f in c.flows
                ],
            }
            for c in sorted(doc.conduits, key=lambda c: c.id)
        ]
        return SectionData(
            self.id, self.title, {"diagram_svg": u(svg), "zones": zones, "conduits": conduits, **extra}, undecided,
            files=files,
        )


SECTION = ArchitectureSection()
