"""Incident response expectations for customers: how the plant reacts to a security incident and
what it reassesses afterwards (IEC 62443-2-1 event-driven reassessment, FR6/FR7)."""

from __future__ import annotations

from zonewarden.domain.governance import effective_classes
from zonewarden.evidence.claims import incident_claims, plan_statement
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import CUSTOMER, SectionData
from zonewarden.evidence.sections._common import requirement_summary

REQUIREMENTS = ("SR 6.1", "SR 6.2", "SR 7.3", "SR 7.4", "SR 3.3")


class IncidentResponseSection:
    id = "incident-response"
    title = "Incident response"
    audiences = CUSTOMER

    def build(self, ctx: BuildContext) -> SectionData:
        classes = effective_classes(ctx.doc.criticality_classes)
        used = {z.criticality for z in ctx.doc.zones}
        reaction = [
            {
                "criticality": c.id.value,
                "incident_reassessment_days": c.incident_reassessment_days,
                "change_reassessment_days": c.change_reassessment_days,
            }
            for c in classes.values()
            if c.id in used
        ]
        return SectionData(
            self.id,
            self.title,
            {
                "reaction": reaction,
                "practice": [c.statement for c in incident_claims(ctx)],
                "requirements": requirement_summary(ctx, REQUIREMENTS),
                "plan": plan_statement(ctx, self.id, REQUIREMENTS),
            },
        )


SECTION = IncidentResponseSection()
