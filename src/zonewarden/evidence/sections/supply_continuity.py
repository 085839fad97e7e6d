"""Supply continuity for customers: how disruption of supply is assessed and what protects
availability (FR7), without naming systems."""

from __future__ import annotations

from collections import Counter

from zonewarden.evidence.claims import legacy_claim, plan_statement
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import CUSTOMER, SectionData
from zonewarden.evidence.sections._common import requirement_summary
from zonewarden.evidence.text import u

REQUIREMENTS = ("SR 7.1", "SR 7.2", "SR 7.3", "SR 7.4", "SR 7.6", "SR 7.8")
SUPPLY_CATEGORY = "supply-disruption"


class SupplyContinuitySection:
    id = "supply-continuity"
    title = "Supply continuity"
    audiences = CUSTOMER

    def build(self, ctx: BuildContext) -> SectionData:
        method = ctx.doc.risk_method
        category = method.category(SUPPLY_CATEGORY)
        residual: Counter[str] = Counter()
        scenarios = 0
        for e in ctx.register or []:
            cell = next((c for c in e.residual.cells if c.category == SUPPLY_CATEGORY), None)
            if cell is None:
                continue
            scenarios += 1
            residual[cell.rating] += 1
        ratings = [
            {"rating": u(r.name), "scenarios": residual.get(r.id, 0), "tolerable": method.is_tolerable(r.id)}
            for r in method.ratings
        ]
        legacy_with_constraints = sum(1 for a in ctx.doc.assets if a.legacy_constraints)
        return SectionData(
            self.id,
            self.title,
            {
                "category_defined": category is not None,
                "category_name": u(category.name) if category else None,
                "scenarios_scoring_supply": scenarios,
                "residual_by_rating": ratings,
                "legacy_assets_with_constraints": legacy_with_constraints,
                "compensating_controls": len(ctx.doc.compensating_controls),
                "legacy": legacy_claim(ctx).statement,
                "requirements": requirement_summary(ctx, REQUIREMENTS),
                "plan": plan_statement(ctx, self.id, REQUIREMENTS),
            },
        )


SECTION = SupplyContinuitySection()
