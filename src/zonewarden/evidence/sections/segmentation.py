"""Segmentation check findings: open, waived (with the waiver), expired and unused waivers.

Above :data:`FINDING_LIMIT` open and waived findings (a 10k-asset site has over 600, most of them
one medium rule repeated per asset) every finding goes to the appendix file
``segmentation-findings.csv`` (:mod:`zonewarden.evidence.appendix`). The PDF then keeps the open
findings per rule and severity (with the rule's fix), the open critical and high findings, most
severe first, up to :data:`TOP_ROWS`, and, in full as always, the waived findings and the waivers
needing attention.
"""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us

FINDING_LIMIT = 150
"""Above this many open and waived findings together the findings are an appendix file."""
TOP_ROWS = 60
"""How many open critical and high findings the PDF lists above the limit."""
CSV_NAME = "segmentation-findings.csv"
COLUMNS = ("state", "severity", "rule", "title", "message", "objects", "fix", "waiver", "waiver_approved_by",
           "waiver_expires", "waiver_justification", "waiver_signature")
_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def _summary(findings: list[dict[str, Any]], waived: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The appendix (every open and waived finding) and what the PDF keeps instead."""
    rows = [["open", f["severity"], f["rule"], f["title"], f["message"], f["objects"], f["fix"],
             None, None, None, None, None] for f in findings]
    rows += [["waived", f["severity"], f["rule"], f["title"], f["message"], f["objects"], f["fix"],
              f["waiver"]["id"], f["waiver"]["approved_by"], f["waiver"]["expires"], f["waiver"]["justification"],
              f["waiver"]["signature"]] for f in waived]
    descriptor, files = csv_appendix(CSV_NAME, "segmentation findings", COLUMNS, rows)
    rules: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        r = rules.setdefault((f["rule"], f["severity"]), {"rule": f["rule"], "severity": f["severity"],
                                                          "title": f["title"], "fix": f["fix"], "findings": 0})
        r["findings"] += 1
    by_rule = sorted(rules.values(), key=lambda r: (_SEVERITY.get(r["severity"], 9), -r["findings"], r["rule"]))
    severe = [f for f in findings if f["severity"] in ("critical", "high")]
    top = sorted(severe, key=lambda f: _SEVERITY[f["severity"]])[:TOP_ROWS]  # stable: the check's order within
    return {"appendix": descriptor, "by_rule": by_rule, "severe_total": len(severe), "top": top,
            "findings_total": len(findings)}, files


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

        data: dict[str, Any] = {
            "counts": {s.value: n for s, n in report.counts().items()},
            "findings": [finding(f) for f in report.findings],
            "waived": [{**finding(w.finding), "waiver": _waiver(w.waiver, ctx)} for w in report.waived],
            "expired_waivers": [_waiver(w, ctx) for w in report.expired_waivers],
            "unused_waivers": [_waiver(w, ctx) for w in report.unused_waivers],
            "pending_waivers": [_waiver(w, ctx) for w in report.pending_waivers],
            "disabled_rules": list(report.disabled_rules),
            "rules_run": list(report.rules_run),
            "appendix": None,
        }
        files: dict[str, bytes] = {}
        if len(data["findings"]) + len(data["waived"]) > FINDING_LIMIT:
            summary, files = _summary(data["findings"], data["waived"])
            data.update(summary, findings=[])
        return SectionData(self.id, self.title, data, [f"checks.{p.pointer}: {p.message}" for p in report.problems],
                           files=files)


SECTION = SegmentationSection()
