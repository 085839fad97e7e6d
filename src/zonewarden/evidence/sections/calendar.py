"""Assessment calendar: cadence per criticality class, what is due, the triggers that made it
due, the assessments done and the change records (IEC 62443-2-1 periodic and event-driven
reassessment).

Above :data:`TRIGGER_LIMIT` triggers (end of support of each asset is one: a 10k-asset site has
~500) the trigger table is the appendix file ``reassessment-triggers.csv``
(:mod:`zonewarden.evidence.appendix`); the PDF keeps the counts by source and kind and the
:data:`TOP_ROWS` most recent triggers. Likewise above :data:`DUE_LIMIT` due and scheduled
assessments (a 10k-asset site of 100 zones has ~200) the list is ``assessments-due.csv``; the PDF
keeps the counts by kind and status and the :data:`TOP_ROWS` most pressing: overdue first, then
by due date."""

from __future__ import annotations

from collections import Counter
from typing import Any

from zonewarden.domain.governance import effective_classes
from zonewarden.engines.cadence import change_triggers, end_of_support_triggers
from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us

TRIGGER_LIMIT = 300
"""Above this many reassessment triggers the trigger table is an appendix file."""
TOP_ROWS = 40
CSV_NAME = "reassessment-triggers.csv"
COLUMNS = ("date", "source", "ref", "kind", "zones", "reason")
DUE_LIMIT = 100
"""Above this many due and scheduled assessments the list is an appendix file."""
DUE_CSV = "assessments-due.csv"
DUE_COLUMNS = ("zone", "kind", "due", "status", "days", "reason", "trigger")
_PRESSING = {"overdue": 0, "due": 1}


def _due_appendix(rows: list[dict[str, Any]]) -> dict[str, Any]:
    descriptor, files = csv_appendix(DUE_CSV, "due and scheduled assessments", DUE_COLUMNS,
                                     [[r[c] for c in DUE_COLUMNS] for r in rows])
    counts = Counter((r["kind"], r["status"]) for r in rows)
    pressing = sorted(rows, key=lambda r: (_PRESSING.get(r["status"], 2), r["due"] or "", r["zone"] or ""))
    return {"descriptor": descriptor, "files": files, "due_total": len(rows), "due_top": pressing[:TOP_ROWS],
            "due_counts": [{"kind": k[0], "status": k[1], "assessments": n} for k, n in sorted(counts.items())]}


def _trigger_appendix(triggers: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    descriptor, files = csv_appendix(CSV_NAME, "reassessment triggers", COLUMNS,
                                     [[t[c] for c in COLUMNS] for t in triggers])
    counts = Counter((t["source"], str(t["kind"])) for t in triggers)
    return {
        "appendix": descriptor,
        "trigger_counts": [{"source": k[0], "kind": k[1], "triggers": n} for k, n in sorted(counts.items())],
        "triggers_total": len(triggers),
        "recent_triggers": list(reversed(triggers[-TOP_ROWS:])),
    }, files


class CalendarSection:
    id = "calendar"
    title = "Assessment calendar, triggers and change records"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        undecided = []
        classes = [
            {
                "criticality": c.id.value,
                "full_assessment_months": c.full_assessment_months,
                "health_check_months": c.health_check_months,
                "change_reassessment_days": c.change_reassessment_days,
                "incident_reassessment_days": c.incident_reassessment_days,
                "zones": sum(1 for z in doc.zones if z.criticality is c.id),
            }
            for c in effective_classes(doc.criticality_classes).values()
        ]
        due = ctx.due
        if due is None:
            undecided.append(f"due dates: {ctx.why_missing('cadence')}")
        due_rows = [
            {
                "zone": u(i.zone),
                "kind": i.kind.value,
                "due": i.due.isoformat() if i.due else None,
                "status": i.status.value,
                "days": i.days,
                "reason": u(i.reason),
                "trigger": u(i.trigger),
            }
            for i in (due or [])
        ]
        triggers = [
            {
                "source": t.source.value,
                "ref": u(t.ref),
                "kind": u(t.kind),
                "date": t.date.isoformat(),
                "zones": us(t.zones),
                "reason": u(t.reason),
            }
            for t in sorted(
                change_triggers(doc) + end_of_support_triggers(doc, ctx.as_of),
                key=lambda t: (t.date, t.source.value, t.ref),
            )
        ]
        # Declared: mypy would infer the row's value type from its other entries, and "zones"
        # is either the user's zone ids or our own "whole site" (kept a plain str on purpose).
        assessments: list[dict[str, object]] = [
            {
                "id": u(a.id),
                "kind": a.kind.value,
                "date": a.date.isoformat(),
                "zones": us(a.zones) or ["whole site"],
                "assessors": [u(ctx.person(p)) for p in a.assessors],
                "outcome": a.outcome.value,
                "open_findings": sum(1 for f in a.findings if f.status.value == "open"),
                "findings": len(a.findings),
                "report": u(a.report),
            }
            for a in sorted(doc.assessments, key=lambda a: (a.date, a.id), reverse=True)
        ]
        changes = [
            {
                "id": u(c.id),
                "type": c.type.value,
                "title": u(c.title),
                "status": c.status.value,
                "raised": c.raised.isoformat(),
                "implemented": c.implemented.isoformat() if c.implemented else None,
                "zones": us(c.zones),
                "assets": len(c.assets),
                "owner": u(ctx.person(c.owner)),
                "approvals": [
                    {"by": u(ctx.person(a.by)), "on": a.on.isoformat(), "decision": a.decision.value, "role": u(a.role)}
                    for a in c.approvals
                ],
                "triggers_reassessment": c.type.triggers_reassessment,
                "revalidation": None
                if c.revalidation is None
                else {
                    "required": c.revalidation.required,
                    "reference": u(c.revalidation.reference),
                    "completed": u(c.revalidation.completed),
                },
                "impact_assessment": u(c.impact_assessment),
                "rollback_plan": u(c.rollback_plan),
                "post_implementation_review": u(c.post_implementation_review),
            }
            for c in sorted(doc.changes, key=lambda c: (c.raised, c.id), reverse=True)
        ]
        extra: dict[str, Any] = {"appendix": None, "triggers_total": len(triggers), "appendices": [],
                                 "due_total": len(due_rows)}
        files: dict[str, bytes] = {}
        if len(triggers) > TRIGGER_LIMIT:
            summary, files = _trigger_appendix(triggers)
            extra.update(summary)
            triggers = []
        overdue = sum(1 for r in due_rows if r["status"] == "overdue")
        if len(due_rows) > DUE_LIMIT:
            due_part = _due_appendix(due_rows)
            files = {**files, **due_part.pop("files")}
            extra["appendices"] = [due_part.pop("descriptor")]
            extra.update(due_part)
            due_rows = []
        return SectionData(
            self.id,
            self.title,
            {
                "classes": classes,
                "due": due_rows,
                "overdue": overdue,
                "triggers": triggers,
                "assessments": assessments,
                "changes": changes,
                **extra,
            },
            undecided,
            files=files,
        )


SECTION = CalendarSection()
