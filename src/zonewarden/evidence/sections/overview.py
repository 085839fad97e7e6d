"""Scope and summary: what the package covers, for whom, as of when."""

from __future__ import annotations

from collections import Counter
from typing import Any

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import BOTH, SectionData
from zonewarden.evidence.text import u


class Overview:
    id = "overview"
    title = "Scope and summary"
    audiences = BOTH

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        site: dict[str, Any] = {
            "id": u(doc.site.id),
            "name": u(doc.site.name),
            "organisation": u(doc.site.organisation),
            "industry": u(doc.site.industry),
            # The customer's document is redacted already (location is sensitive); the site
            # description is free text and stays with the auditor.
            "location": u(doc.site.location),
            "description": u(doc.site.description) if ctx.auditor else None,
        }
        kinds = Counter(z.kind.value for z in doc.zones)
        counts = {
            "zones": len(doc.zones),
            "conduits": len(doc.conduits),
            "assets": len(doc.assets),
            "risk_scenarios": len(doc.risks),
            "requirement_statuses": len(doc.requirements),
            "compensating_controls": len(doc.compensating_controls),
            "exceptions": len(doc.exceptions),
            "assessments": len(doc.assessments),
            "change_records": len(doc.changes),
        }
        if ctx.auditor:
            purpose = (
                "This package documents the plant's cybersecurity management system as recorded "
                "in zonewarden: how risks were assessed, how target security levels were chosen, "
                "what is implemented against them, where the plant departs from them and under "
                "which approvals, and what is scheduled next. Every figure is derived from the "
                "recorded data as of the date above; items the tool could not decide are listed "
                "as such rather than left out."
            )
        else:
            purpose = (
                "This package describes how the plant manages cybersecurity: its architecture at "
                "the level of zone types and their separation, its access, remote access and "
                "monitoring practice, how it responds to incidents and protects supply, and how "
                "its target security levels were chosen. It states capabilities, processes and "
                "boundaries as recorded on the date above; plant internals such as addresses, "
                "host names, device names and internal notes are left out on purpose."
            )
        return SectionData(
            self.id,
            self.title,
            {
                "site": site,
                "as_of": ctx.as_of.isoformat(),
                "audience": ctx.audience.value,
                "purpose": purpose,
                "counts": counts,
                "zone_kinds": {u(k): n for k, n in sorted(kinds.items())},
            },
        )


SECTION = Overview()
