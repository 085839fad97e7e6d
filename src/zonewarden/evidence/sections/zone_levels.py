"""Per zone and conduit: SL-T and its rationale, the risk-based proposal, SL-A, the SL-C limit
and the gap per FR (IEC 62443-3-3 gap analysis).

Above :data:`TARGET_LIMIT` zones and conduits (a 10k-asset site has 100 of each: 900 table rows,
most of them long lists of requirements still to meet) the per-FR rows go to the appendix file
``zone-levels.csv`` (:mod:`zonewarden.evidence.appendix`: one row per zone or conduit and FR, with
every requirement still to meet and every asset that limits SL-C). The PDF then keeps one row per
zone and per conduit (SL-T, SL-A, SL-C, the gap per FR, how many requirements are still to meet,
which FRs SL-C limits, active exceptions) and the full block of :data:`DETAIL_ZONES` zones: those
with active exceptions first, then the largest total gaps. The JSON keeps every target in full.
"""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.sections._common import level_text, levels
from zonewarden.evidence.text import u, us

TARGET_LIMIT = 60
"""Above this many zones and conduits together the per-FR rows are an appendix file."""
DETAIL_ZONES = 5
"""How many zones keep their full per-FR block in the PDF above the limit."""
CSV_NAME = "zone-levels.csv"
COLUMNS = ("kind", "target", "name", "criticality", "fr", "sl_t", "sl_a", "sl_c", "gap", "sl_c_limits_target",
           "limiting_assets", "still_to_meet", "why_this_target", "active_exceptions")


def _vector(values: list[Any]) -> str:
    return " ".join("–" if v is None else str(v) for v in values)


def _summary(targets: list[dict[str, Any]], limiting: dict[str, list[list[Any]]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The appendix rows (every target x FR) and what the PDF keeps instead of them."""
    rows = []
    for t in targets:
        reasons = (t["proposal"] or {}).get("reasons") or []
        for i, f in enumerate(t["frs"]):
            rows.append([t["kind"], t["id"], t["name"], t["criticality"], f["fr"], f["sl_target"], f["sl_achieved"],
                         f["sl_capability"], f["gap"], f["capability_blocks_target"], limiting[t["id"]][i],
                         f["missing_for_target"], reasons[i]["reason"] if i < len(reasons) else None, t["exceptions"]])
    descriptor, files = csv_appendix(CSV_NAME, "security levels per zone and conduit and FR", COLUMNS, rows)
    for t in targets:
        t["gap_per_fr"] = _vector([f["gap"] for f in t["frs"]]) if t["sl_target"] is not None else "–"
        t["still_to_meet"] = sum(len(f["missing_for_target"]) for f in t["frs"])
        t["sl_c_limits"] = [f["fr"] for f in t["frs"] if f["capability_blocks_target"]]
    zones = [t for t in targets if t["kind"] == "zone"]
    ranked = sorted(zones, key=lambda t: (not t["exceptions"], -t["total_gap"], t["id"]))
    detail = [t["id"] for t in ranked if t["exceptions"] or t["total_gap"] > 0][:DETAIL_ZONES]
    return {"appendix": descriptor, "detail": detail, "rows_total": len(rows)}, files


class ZoneLevelsSection:
    id = "zone-levels"
    title = "Security levels per zone: target, achieved, capability and gap"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        gap = ctx.gap
        undecided: list[str] = []
        if gap is None:
            return SectionData(self.id, self.title, {"targets": []}, [f"gap analysis: {ctx.why_missing('catalog', 'gap')}"])
        proposals = {p.zone: p for p in (ctx.proposals or [])}
        if ctx.proposals is None:
            undecided.append(f"SL-T proposal: {ctx.why_missing('slt-proposal')}")
        zones = ctx.zones
        targets: list[dict[str, Any]] = []
        limiting: dict[str, list[list[Any]]] = {}
        for t in gap.targets:
            zone = zones.get(t.target) if t.kind == "zone" else None
            p = proposals.get(t.target)
            frs = [
                {
                    "fr": g.fr.value,
                    "sl_target": g.sl_target,
                    "sl_achieved": g.sl_achieved,
                    "sl_capability": g.sl_capability,
                    "gap": g.gap,
                    "capability_blocks_target": g.capability_blocks_target,
                    "limiting_assets": us(g.limiting_assets[:10]),
                    "limiting_assets_more": max(0, len(g.limiting_assets) - 10),
                    "missing_for_target": us(s.requirement for s in g.missing_for_target),
                }
                for g in t.frs
            ]
            total_gap = sum(g.gap or 0 for g in t.frs)
            limiting[t.target] = [us(g.limiting_assets) for g in t.frs]
            targets.append(
                {
                    "id": u(t.target),
                    "kind": t.kind,
                    "name": u(t.name),
                    "criticality": u(zone.criticality.value) if zone else None,
                    "sl_target": levels(t.sl_target),
                    "sl_target_text": level_text(t.sl_target),
                    "sl_achieved": levels(t.sl_achieved),
                    "sl_achieved_text": level_text(t.sl_achieved),
                    "sl_capability": levels(t.sl_capability),
                    "sl_capability_text": level_text(t.sl_capability) if t.sl_capability else "unknown",
                    "rationale": u(zone.sl_target_rationale) if zone else None,
                    "proposal": None
                    if p is None
                    else {
                        "status": p.status,
                        "levels": levels(p.proposal),
                        "text": level_text(p.proposal) if p.proposal else None,
                        "undecided_reason": p.undecided_reason,
                        "scenarios": us(p.scenarios),
                        "reasons": [{"fr": f.fr.value, "level": f.level, "reason": u(f.reason)} for f in p.per_fr],
                    },
                    "total_gap": total_gap,
                    "frs": frs,
                    "unknown_capability": len(t.unknown_capability),
                    "exceptions": us(t.exceptions),
                }
            )
        for item in gap.undecided:
            undecided.append(f"{item.subject}: {item.reason}")
        data: dict[str, Any] = {
            "targets": targets,
            "zones_with_gap": sum(1 for t in targets if t["kind"] == "zone" and t["total_gap"] > 0),
            "zones_without_target": sum(1 for t in targets if t["kind"] == "zone" and t["sl_target"] is None),
            "appendix": None,
        }
        files: dict[str, bytes] = {}
        if len(targets) > TARGET_LIMIT:
            summary, files = _summary(targets, limiting)
            data.update(summary)
        return SectionData(self.id, self.title, data, sorted(set(undecided)), files=files)


SECTION = ZoneLevelsSection()
