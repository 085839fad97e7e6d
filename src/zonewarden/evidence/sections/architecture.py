"""Zone and conduit architecture with SL-T: the diagram and the tables behind it.

Above :data:`DIAGRAM_ZONE_LIMIT` zones the diagram of every zone and conduit is too dense to read
on a page and slow to lay out (a 100-zone site: a 237 kB SVG); the PDF then shows the simplified
diagram (:func:`zonewarden.evidence.diagram.render_overview`: zones grouped by Purdue level and
kind, conduit counts between the groups) and the full diagram is the appendix file
``architecture-diagram.svg`` of the package (:mod:`zonewarden.evidence.appendix`), sanitised like
the inline one.

Above :data:`CONDUIT_LIMIT` conduits the conduit table (one row per allowed flow) is the appendix
file ``conduits.csv``; the PDF keeps the conduits per pair of zone kinds and the conduits that
matter: open segmentation findings, no protection, or remote access, up to :data:`TOP_CONDUITS`.
"""

from __future__ import annotations

from typing import Any

from zonewarden.engines.segmentation import ObjectKind
from zonewarden.evidence.appendix import csv_appendix, file_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.sections._common import level_text, levels
from zonewarden.evidence.svg import UnsafeSVG, sanitise_svg
from zonewarden.evidence.text import u, us

DIAGRAM_ZONE_LIMIT = 40
"""Above this many zones the PDF shows the simplified diagram and the full one is an appendix file."""
SVG_NAME = "architecture-diagram.svg"
CONDUIT_LIMIT = 60
"""Above this many conduits the conduit table is an appendix file."""
TOP_CONDUITS = 30
CSV_NAME = "conduits.csv"
COLUMNS = ("conduit", "name", "zones", "sl_t", "protections", "open_findings", "source", "destination", "protocol",
           "ports", "initiator", "remote_access", "purpose")


def _conduit_summary(ctx: BuildContext, conduits: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    findings: dict[str, int] = {}
    for f in getattr(ctx.check, "findings", None) or ():
        if f.refs and f.refs[0][0] is ObjectKind.CONDUIT:
            findings[f.refs[0][1]] = findings.get(f.refs[0][1], 0) + 1
    rows = []
    for c in conduits:
        c["open_findings"] = findings.get(c["id"], 0)
        c["remote_access"] = any(f["remote_access"] for f in c["flows"])
        head = [c["id"], c["name"], " ".join(c["zones"]), c["sl_target_text"], c["protections"], c["open_findings"]]
        rows += [[*head, f["source"], f["destination"], f["protocol"], f["ports"], f["initiator"], f["remote_access"],
                  f["purpose"]] for f in c["flows"]] or [[*head, None, None, None, None, None, None, None]]
    descriptor, files = csv_appendix(CSV_NAME, "conduits and their allowed flows", COLUMNS, rows)
    kind = {z.id: z.kind.value for z in ctx.doc.zones}
    level = {z.id: z.purdue_level for z in ctx.doc.zones}
    pairs: dict[tuple[str, ...], dict[str, Any]] = {}
    for c in conduits:
        ends = tuple(kind.get(z, "?") for z in sorted(c["zones"], key=lambda z: (-level.get(z, 0), z)))
        p = pairs.setdefault(ends, {"kinds": list(ends), "conduits": 0, "unprotected": 0, "remote_access": 0,
                                    "with_findings": 0})
        p["conduits"] += 1
        p["unprotected"] += not c["protections"]
        p["remote_access"] += c["remote_access"]
        p["with_findings"] += bool(c["open_findings"])
    matter = [c for c in conduits if c["open_findings"] or not c["protections"] or c["remote_access"]]
    matter.sort(key=lambda c: (-c["open_findings"], bool(c["protections"]), c["id"]))
    return {"conduit_summary": True, "conduit_pairs": list(pairs.values()), "conduits_that_matter": len(matter),
            "top_conduits": matter[:TOP_CONDUITS], "appendix_csv": descriptor}, files


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
        extra: dict[str, Any] = {"diagram_simplified": False, "appendices": [], "conduit_summary": False,
                                 "conduits_total": len(doc.conduits)}
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
        if len(conduits) > CONDUIT_LIMIT:
            summary, table = _conduit_summary(ctx, conduits)
            extra["appendices"] = [*extra["appendices"], summary.pop("appendix_csv")]
            extra.update(summary)
            files = {**files, **table}
            conduits = []
        return SectionData(
            self.id, self.title, {"diagram_svg": u(svg), "zones": zones, "conduits": conduits, **extra}, undecided,
            files=files,
        )


SECTION = ArchitectureSection()
