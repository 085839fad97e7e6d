"""Per zone and conduit: SL-T and its rationale, the risk-based proposal, SL-A, the SL-C limit
and the gap per FR (IEC 62443-3-3 gap analysis)."""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.sections._common import level_text, levels
from zonewarden.evidence.text import u, us


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
        return SectionData(
            self.id,
            self.title,
            {
                "targets": targets,
                "zones_with_gap": sum(1 for t in targets if t["kind"] == "zone" and t["total_gap"] > 0),
                "zones_without_target": sum(1 for t in targets if t["kind"] == "zone" and t["sl_target"] is None),
            },
            sorted(set(undecided)),
        )


SECTION = ZoneLevelsSection()
