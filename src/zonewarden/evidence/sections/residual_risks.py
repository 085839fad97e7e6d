"""Residual risks: what is left after controls, who owns it and when it is looked at again."""

from __future__ import annotations

from zonewarden.domain.governance import effective_classes
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u


class ResidualRisksSection:
    id = "residual-risks"
    title = "Residual risks, owners and review cadence"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        entries = ctx.register
        if entries is None:
            return SectionData(self.id, self.title, {"rows": []}, [f"risk register: {ctx.why_missing('risk-register')}"])
        classes = effective_classes(ctx.doc.criticality_classes)
        method = ctx.doc.risk_method
        rows = []
        for e in sorted(entries, key=lambda e: (-e.residual.worst.rank, -e.residual.worst.score, e.id)):
            s = e.scenario
            zone = ctx.zones.get(s.zone)
            cls = classes[zone.criticality] if zone else None
            acc = s.acceptance
            rows.append(
                {
                    "id": u(s.id),
                    "title": u(s.title),
                    "zone": u(s.zone),
                    "residual_rating": u(e.residual.worst.rating),
                    "residual_score": e.residual.worst.score,
                    "inherent_rating": u(e.inherent.worst.rating),
                    "tolerable": method.is_tolerable(e.residual.worst.rating),
                    "treatment": u(s.treatment.value),
                    "owner": u(ctx.person(s.owner)),
                    "review_date": u(s.review_date),
                    "review_overdue": e.review_overdue,
                    "zone_criticality": u(zone.criticality.value) if zone else None,
                    "health_check_months": cls.health_check_months if cls else None,
                    "full_assessment_months": cls.full_assessment_months if cls else None,
                    "accepted_by": u(ctx.person(acc.by)) if acc else None,
                    "accepted_until": u(acc.expires) if acc else None,
                    "flags": [f.code for f in e.flags],
                }
            )
        return SectionData(
            self.id,
            self.title,
            {
                "rows": rows,
                "tolerable": u(method.tolerable),
                "over_tolerance": sum(1 for r in rows if not r["tolerable"]),
                "review_overdue": sum(1 for r in rows if r["review_overdue"]),
            },
        )


SECTION = ResidualRisksSection()
