"""The site's security level scale and what each level expects (IEC 62443-3-3 clause 4)."""

from __future__ import annotations

from zonewarden.domain.levels import FR
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u


class SLScaleSection:
    id = "sl-scale"
    title = "Security level scale"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        levels = []
        catalog = ctx.catalog
        for d in ctx.doc.sl_scale.levels:
            new = [] if catalog is None else [r for r in catalog if r.min_sl == d.level]
            levels.append(
                {
                    "level": d.level,
                    "summary": u(d.summary),
                    "means": u(d.means),
                    "resources": u(d.resources),
                    "skills": u(d.skills),
                    "motivation": u(d.motivation),
                    "expectations": u(d.expectations),
                    "requirements_added": len(new),
                    "requirements_added_per_fr": {
                        fr.value: sum(1 for r in new if r.fr is fr) for fr in FR
                    },
                }
            )
        return SectionData(
            self.id,
            self.title,
            {
                "levels": levels,
                "foundational_requirements": [{"id": fr.value, "title": fr.full_name} for fr in FR],
            },
            [] if catalog is not None else [f"catalog: {ctx.why_missing('catalog')}"],
        )


SECTION = SLScaleSection()
