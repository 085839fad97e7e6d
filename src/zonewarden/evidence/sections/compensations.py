"""Compensating controls and exceptions: owners, approvals, review and expiry dates, and
whether each one counts on the as-of date."""

from __future__ import annotations

from typing import Any

from zonewarden.domain.requirements import control_validity
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.sections.traceability import _evidence
from zonewarden.evidence.text import u, us


class CompensationsSection:
    id = "compensations"
    title = "Compensating controls and exceptions"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        reports = {c.control: c for c in (ctx.gap.controls if ctx.gap else ())}
        exreports = {e.exception: e for e in (ctx.gap.exceptions if ctx.gap else ())}
        controls: list[dict[str, Any]] = []
        for c in sorted(doc.compensating_controls, key=lambda c: c.id):
            rep = reports.get(c.id)
            controls.append(
                {
                    "id": u(c.id),
                    "title": u(c.title),
                    "description": u(c.description),
                    "covers": us(c.covers),
                    "scope": us(list(c.zones) + list(c.conduits)),
                    "assets": us(c.assets),
                    "rationale": u(c.rationale.value),
                    "rationale_detail": u(c.rationale_detail),
                    "owner": u(ctx.person(c.owner)),
                    "approver": u(ctx.person(c.approver)),
                    "approved": u(c.approved),
                    "review": u(c.review),
                    "expires": u(c.expires),
                    "validity": control_validity(c, ctx.as_of).value,
                    "review_overdue": bool(rep and rep.review_overdue),
                    "status": u(rep.reason) if rep else None,
                    "used_by": [{"target": u(t), "requirement": u(r)} for t, r in (rep.used_by if rep else ())],
                    "evidence": _evidence(c.evidence),
                }
            )
        exceptions: list[dict[str, Any]] = []
        for e in sorted(doc.exceptions, key=lambda e: e.id):
            rep = exreports.get(e.id)
            exceptions.append(
                {
                    "id": u(e.id),
                    "title": u(e.title),
                    "requirements": us(e.requirements),
                    "policy": u(e.policy),
                    "scope": us(list(e.zones) + list(e.conduits) + list(e.assets)),
                    "justification": u(e.justification),
                    "residual_risk": u(e.residual_risk.value),
                    "residual_risk_detail": u(e.residual_risk_detail),
                    "owner": u(ctx.person(e.owner)),
                    "approver": u(ctx.person(e.approver)),
                    "approved": u(e.approved),
                    "expires": u(e.expires),
                    "active": e.active(ctx.as_of),
                    "status": u(rep.reason) if rep else None,
                }
            )
        expired = [
            {
                "target": u(x.target),
                "requirement": u(x.requirement),
                "control": u(x.control),
                "validity": x.validity.value,
                "since": u(x.since),
            }
            for x in (ctx.gap.expired_compensations if ctx.gap else ())
        ]
        return SectionData(
            self.id,
            self.title,
            {
                "controls": controls,
                "exceptions": exceptions,
                "not_counting": expired,
                "controls_valid": sum(1 for c in controls if c["validity"] == "valid"),
            },
            [] if ctx.gap else [f"control validity per status: {ctx.why_missing('catalog', 'gap')}"],
        )


SECTION = CompensationsSection()
