"""Residual risks: what is left after controls, who owns it and when it is looked at again.

Above :data:`TABLE_LIMIT` scenarios the table is the appendix file ``residual-risks.csv``
(:mod:`zonewarden.evidence.appendix`); the PDF keeps the counts per zone and the scenarios above
tolerance or with an overdue review, worst first, up to :data:`TOP_ROWS`.
"""

from __future__ import annotations

from typing import Any

from zonewarden.domain.governance import effective_classes
from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u

TABLE_LIMIT = 100
"""Above this many scenarios the table is an appendix file."""
TOP_ROWS = 40
CSV_NAME = "residual-risks.csv"
COLUMNS = ("risk", "title", "zone", "residual_rating", "residual_score", "tolerable", "inherent_rating", "treatment",
           "owner", "review_date", "review_overdue", "zone_criticality", "health_check_months",
           "full_assessment_months", "accepted_by", "accepted_until", "flags")


def _appendix(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    descriptor, files = csv_appendix(CSV_NAME, "residual risks", COLUMNS,
                                     [[r["id"], *(r[c] for c in COLUMNS[1:])] for r in rows])
    zones: dict[str, dict[str, Any]] = {}
    for r in rows:
        z = zones.setdefault(r["zone"] or "", {"zone": r["zone"], "risks": 0, "over_tolerance": 0, "review_overdue": 0})
        z["risks"] += 1
        z["over_tolerance"] += not r["tolerable"]
        z["review_overdue"] += bool(r["review_overdue"])
    attention = [r for r in rows if not r["tolerable"] or r["review_overdue"]]
    return {"appendix": descriptor, "by_zone": [zones[k] for k in sorted(zones)], "top": attention[:TOP_ROWS],
            "attention": len(attention)}, files


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
        data: dict[str, Any] = {
            "rows": rows,
            "tolerable": u(method.tolerable),
            "over_tolerance": sum(1 for r in rows if not r["tolerable"]),
            "review_overdue": sum(1 for r in rows if r["review_overdue"]),
            "rows_total": len(rows),
            "appendix": None,
        }
        files: dict[str, bytes] = {}
        if len(rows) > TABLE_LIMIT:
            summary, files = _appendix(rows)
            data.update(summary, rows=[])
        return SectionData(self.id, self.title, data, files=files)


SECTION = ResidualRisksSection()
