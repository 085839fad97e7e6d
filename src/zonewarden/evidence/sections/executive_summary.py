"""Executive summary (auditor, first after document control): the conclusions on one page, each
item linked to the section that holds the detail.

It is built after every other section (``after_others``): it reads their data (patch
compliance, advisory findings) and the cached engine results (gap, risk register, calendar),
so nothing is computed twice and the summary cannot disagree with the sections it points to.
"""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u
from zonewarden.wording import count

EXPIRING_DAYS = 90


def _item(section: str, title: str, lines: list[Any], state: str) -> dict[str, Any]:
    return {"section": section, "title": title, "lines": lines, "state": state}


class ExecutiveSummarySection:
    id = "executive-summary"
    title = "Executive summary"
    audiences = AUDITOR
    after_others = True

    def build(self, ctx: BuildContext) -> SectionData:
        sections = list(getattr(ctx, "built_sections", []))
        built: dict[str, Any] = {s.id: s.data for s in sections}
        titles = {s.id: s.title for s in sections}
        items = [self._levels(ctx), self._risks(ctx), self._calendar(ctx), self._advisories(built),
                 self._patching(built), self._suppliers(built), self._compensations(ctx)]
        kept = [{**i, "section_title": titles.get(i["section"], i["section"])} for i in items if i is not None]
        return SectionData(self.id, self.title, {"items": kept})

    def _levels(self, ctx: BuildContext) -> dict[str, Any] | None:
        gap = ctx.gap
        if gap is None:
            return _item("zone-levels", "Security levels", ["the gap analysis is not available"], "bad")
        below = []
        for t in gap.targets:
            if t.kind != "zone" or t.sl_target is None:
                continue
            gaps = [(f.fr.value if hasattr(f.fr, "value") else str(f.fr), f.gap) for f in t.frs if f.gap]
            if gaps:
                below.append((max(g for _, g in gaps), t.target, gaps))
        zones = sum(1 for t in gap.targets if t.kind == "zone")
        if not below:
            return _item("zone-levels", "Security levels", [f"every zone with a target reaches it ({zones} zones)"], "ok")
        below.sort(key=lambda b: (-b[0], b[1]))
        lines: list[Any] = [f"{len(below)} of {zones} zones are below their SL-T; the largest gaps:"]
        for worst, zone, gaps in below[:5]:
            lines.append(u(f"{zone}: " + ", ".join(f"{fr} by {g}" for fr, g in gaps if g == worst)
                           + (f" (and {count(len(gaps) - sum(1 for _, g in gaps if g == worst), 'more FR', 'more FRs')})"
                              if len(gaps) > sum(1 for _, g in gaps if g == worst) else "")))
        return _item("zone-levels", "Security levels", lines, "bad")

    def _risks(self, ctx: BuildContext) -> dict[str, Any]:
        entries = ctx.register or []
        over = [e for e in entries if e.over_tolerance]
        if not over:
            return _item("risk-register", "Risks", [f"no residual risk above tolerance ({len(entries)} scenarios)"], "ok")
        accepted = [e for e in over if e.scenario.acceptance is not None]
        lines: list[Any] = [f"{len(over)} residual risks above tolerance, {len(accepted)} of them with a recorded "
                            "acceptance:"]
        for e in over[:5]:
            a = e.scenario.acceptance
            lines.append(u(f"{e.scenario.id} ({e.scenario.zone}): "
                           + (f"accepted until {a.expires.isoformat()}" if a else "not accepted")))
        return _item("risk-register", "Risks", lines, "bad" if len(accepted) < len(over) else "warn")

    def _calendar(self, ctx: BuildContext) -> dict[str, Any]:
        items = ctx.due or []
        overdue = [i for i in items if str(getattr(i.status, "value", i.status)) == "overdue"]
        if not overdue:
            return _item("calendar", "Assessments", ["no assessment is overdue"], "ok")
        lines: list[Any] = [f"{len(overdue)} assessments overdue:"]
        lines += [u(f"{i.zone}: {i.kind.value} {'due since ' + i.due.isoformat() if i.due else 'never done'}")
                  for i in overdue[:5]]
        return _item("calendar", "Assessments", lines, "bad")

    def _advisories(self, built: dict[str, Any]) -> dict[str, Any] | None:
        data = built.get("advisories")
        if not data:
            return None
        if not data.get("available"):
            return _item("advisories", "Advisory findings", ["not available: build the package from the database"],
                         "warn")
        counts = data["counts"]
        by_priority = {k: v for k, v in (counts.get("by_priority") or {}).items() if v}
        open_states = {k: v for k, v in (counts.get("by_triage") or {}).items() if v and k != "resolved"}
        lines: list[Any] = [f"{counts['findings']} findings from {counts['advisories_with_findings']} advisories"]
        if by_priority:
            lines.append("by priority: " + ", ".join(f"{k} {v}" for k, v in by_priority.items()))
        if open_states:
            lines.append("by triage state: " + ", ".join(f"{k} {v}" for k, v in open_states.items()))
        urgent = sum(v for k, v in by_priority.items() if k in ("immediate", "out-of-cycle"))
        gaps = data.get("unassessable") or {}
        if gaps.get("assets"):
            lines.append(f"unassessable exposure: {gaps['assets']} asset(s) without a product name "
                         f"({gaps['pairs']} asset-advisory pairs not assessed)")
        return _item("advisories", "Advisory findings", lines, "bad" if urgent else ("warn" if gaps.get("exposed_assets") else "ok"))

    def _suppliers(self, built: dict[str, Any]) -> dict[str, Any] | None:
        data = built.get("suppliers")
        if not data or not data["suppliers"]:
            return None
        poorly = [s for s in data["suppliers"] if s["informed"] == "poorly"]
        lines: list[Any] = [
            f"{len(poorly)} of {len(data['suppliers'])} suppliers without a usable disclosure process, covering "
            f"{data['poorly_informed_share'] * 100:.1f} % of the assets"
            + (": " + ", ".join(s["vendor"] for s in poorly[:5]) + (f" and {len(poorly) - 5} more" if len(poorly) > 5 else "")
               if poorly else "")
        ]
        if data["partly_informed"]:
            lines.append(f"{data['partly_informed']} with gaps (no CSAF, unsigned, no contact or review due)")
        if data["reviews_overdue"]:
            lines.append(f"{data['reviews_overdue']} supplier review(s) overdue")
        state = "bad" if poorly or data["reviews_overdue"] else ("warn" if data["partly_informed"] else "ok")
        return _item("suppliers", "Supplier disclosure", lines, state)

    def _patching(self, built: dict[str, Any]) -> dict[str, Any] | None:
        data = built.get("patching")
        if not data or not data.get("available"):
            return None
        s = data["summary"]
        share = "–" if s.get("compliance") is None else f"{round(s['compliance'] * 100)} %"
        lines: list[Any] = [f"{s['within_policy']} of {s['items']} patch items within policy ({share}), "
                            f"{s['overdue']} overdue, {s['deferred']} deferred"]
        return _item("patching", "Patch compliance", lines, "bad" if s["overdue"] else "ok")

    def _compensations(self, ctx: BuildContext) -> dict[str, Any]:
        import datetime as dt

        from zonewarden.domain.requirements import control_validity

        soon = ctx.as_of + dt.timedelta(days=EXPIRING_DAYS)
        expired = [c for c in ctx.doc.compensating_controls if control_validity(c, ctx.as_of).value != "valid"]
        expiring = [c for c in ctx.doc.compensating_controls if c not in expired and c.expires <= soon]
        if not expired and not expiring:
            return _item("compensations", "Compensating controls",
                         [f"none expired or expiring within {EXPIRING_DAYS} days"], "ok")
        lines: list[Any] = []
        if expired:
            lines.append(u(count(len(expired), "control no longer counts", "controls no longer count") + ": " + ", ".join(
                f"{c.id} ({control_validity(c, ctx.as_of).value})" for c in expired[:6])))
        if expiring:
            lines.append(u(count(len(expiring), "expires", "expire") + f" within {EXPIRING_DAYS} days: " + ", ".join(
                f"{c.id} on {c.expires.isoformat()}" for c in expiring[:6])))
        return _item("compensations", "Compensating controls", lines, "bad" if expired else "warn")


SECTION = ExecutiveSummarySection()
