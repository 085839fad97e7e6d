"""ISO/IEC 27001:2022 Annex A view of the IEC 62443-3-3 statuses, through zonewarden's mapping."""

from __future__ import annotations

from collections import Counter

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData


class Iso27001Section:
    id = "iso27001"
    title = "ISO/IEC 27001:2022 Annex A view"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        cov = ctx.annex_coverage
        if cov is None:
            return SectionData(
                self.id, self.title, {"controls": [], "counts": {}},
                [f"Annex A view: {ctx.why_missing('catalog-annex-a', 'catalog-mapping', 'annex-a')}"],
            )
        rows = [
            {
                "control": c.control,
                "title": c.title,
                "theme": c.theme,
                "coverage": c.coverage.value,
                "requirements": [
                    {"requirement": k.requirement, "relation": k.relation, "rationale": k.rationale}
                    for k in c.links
                ],
                "supporting": list(c.supporting),
                "met": c.met,
                "recorded": c.recorded,
            }
            for c in cov
        ]
        counts = Counter(r["coverage"] for r in rows)
        return SectionData(
            self.id,
            self.title,
            {
                "controls": rows,
                "counts": {k: counts.get(k, 0) for k in ("full", "partial", "none", "unmapped")},
            },
        )


SECTION = Iso27001Section()
