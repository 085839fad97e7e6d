"""Access control practice for customers: identification, authentication and use control
(IEC 62443-3-3 FR1 and FR2), as counts of zones where each requirement counts as met."""

from __future__ import annotations

from collections import Counter

from zonewarden.evidence.claims import governance_claims, plan_statement
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import CUSTOMER, SectionData
from zonewarden.evidence.sections._common import requirement_summary

REQUIREMENTS = ("SR 1.1", "SR 1.1 RE 1", "SR 1.2", "SR 1.3", "SR 1.5", "SR 1.7", "SR 2.1", "SR 2.1 RE 3", "SR 2.8")


class AccessControlSection:
    id = "access-control"
    title = "Access control practice"
    audiences = CUSTOMER

    def build(self, ctx: BuildContext) -> SectionData:
        roles = Counter(r.value for p in ctx.doc.people for r in p.roles)
        approvals = sum(len(c.approvals) for c in ctx.doc.changes)
        return SectionData(
            self.id,
            self.title,
            {
                "requirements": requirement_summary(ctx, REQUIREMENTS),
                "plan": plan_statement(ctx, self.id, REQUIREMENTS),
                "roles": dict(sorted(roles.items())),
                "change_approvals_recorded": approvals,
                "compensations_need_approval": True,
                "practice": [c.statement for c in governance_claims(ctx)],
            },
            [] if ctx.gap else [f"requirement summary: {ctx.why_missing('catalog', 'gap')}"],
        )


SECTION = AccessControlSection()
