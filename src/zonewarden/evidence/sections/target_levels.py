"""How target security levels were chosen, for customers: the method and its outcome by zone kind."""

from __future__ import annotations

from collections import Counter, defaultdict

from zonewarden.evidence.claims import target_claim
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import CUSTOMER, SectionData
from zonewarden.evidence.text import u


class TargetLevelsSection:
    id = "target-levels"
    title = "How target security levels were chosen"
    audiences = CUSTOMER

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        method = doc.risk_method
        rule = method.slt_rule
        by_kind: dict[str, list[int]] = defaultdict(list)
        for z in doc.zones:
            if z.sl_target is not None:
                by_kind[z.kind.value].extend(z.sl_target.as_tuple())
        distribution = [
            {"kind": k, "lowest": min(v), "highest": max(v)} for k, v in sorted(by_kind.items())
        ]
        statuses = Counter(p.status for p in (ctx.proposals or []))
        differences = target_claim(ctx)
        return SectionData(
            self.id,
            self.title,
            {
                "method": u(method.name),
                "method_version": u(method.version),
                "categories": [u(c.name) for c in method.impact_categories],
                "sl_by_rating": [
                    {"rating": u(r.name), "level": rule.sl_by_rating.get(r.id)} for r in method.ratings
                ],
                "floors": {k.value: v for k, v in rule.minimum_by_criticality.items()},
                "distribution": distribution,
                "proposal_status": {k: statuses.get(k, 0) for k in
                                    ("matches", "differs-justified", "differs-unjustified", "not-set", "undecided")},
                "scale": [{"level": d.level, "summary": u(d.summary)} for d in doc.sl_scale.levels],
                "zones_with_target": sum(1 for z in doc.zones if z.sl_target is not None),
                "zones": len(doc.zones),
                "differences": differences.statement if differences else None,
            },
        )


SECTION = TargetLevelsSection()
