"""Segmentation check findings: open, waived (with the waiver), expired and unused waivers."""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us


def _signature(w: Any, ctx: BuildContext) -> str:
    """How the waiver's approval stands: its electronic signature, or why there is none."""
    signed = getattr(ctx, "waiver_signatures", None) or {}
    if w.id is not None and w.id in signed:
        return str(signed[w.id])
    return "pending: not approved yet" if w.approved_by is None else "not signed (approval typed in the site file)"


def _waiver(w: Any, ctx: BuildContext) -> dict[str, Any]:
    return {
        "id": w.id,
        "rule": w.rule,
        "objects": us(w.objects),
        "justification": u(w.justification),
        "approved_by": u(ctx.person(w.approved_by)) if w.approved_by else None,
        "expires": w.expires.isoformat(),
        "signature": u(_signature(w, ctx)),
    }


class SegmentationSection:
    id = "segmentation"
    title = "Segmentation check findings"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        report = ctx.check
        if report is None:
            return SectionData(self.id, self.title, {"findings": []}, [f"check: {ctx.why_missing('check')}"])

        def finding(f: Any) -> dict[str, Any]:
            return {
                "rule": f.rule,
                "severity": f.severity.value,
                "title": f.title,
                "message": u(f.message),
                "objects": us(f.objects),
                "fix": f.fix,
            }

        return SectionData(
            self.id,
            self.title,
            {
                "counts": {s.value: n for s, n in report.counts().items()},
                "findings": [finding(f) for f in report.findings],
                "waived": [{**finding(w.finding), "waiver": _waiver(w.waiver, ctx)} for w in report.waived],
                "expired_waivers": [_waiver(w, ctx) for w in report.expired_waivers],
                "unused_waivers": [_waiver(w, ctx) for w in report.unused_waivers],
                "pending_waivers": [_waiver(w, ctx) for w in report.pending_waivers],
                "disabled_rules": list(report.disabled_rules),
                "rules_run": list(report.rules_run),
            },
            [f"checks.{p.pointer}: {p.message}" for p in report.problems],
        )


SECTION = SegmentationSection()
