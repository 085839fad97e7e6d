"""Traceability matrix: risk -> zone -> SL-T -> SR/RE -> status -> evidence.

Two kinds of row per risk scenario:

* a ``target`` row follows the chain the SL-T rule creates: for each FR on which the scenario
  set the zone's proposed level, the SR/REs the zone's SL-T requires on that FR, how many of
  them count as met on the as-of date, and which do not (``frs``; the row text names the first
  few, the zone's section lists them all);
* ``link`` rows follow what the scenario names as reducing it: a requirement status, or a
  compensating control expanded to each requirement it covers for the scenario's zone, with the
  status, whether it counts, and the evidence.

A scenario with neither gets one row saying so, because an untraced risk is exactly what an
auditor looks for.
"""

from __future__ import annotations

from typing import Any, TypedDict

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.sections._common import level_text
from zonewarden.evidence.text import u


class _FRTrace(TypedDict):
    """One FR of a ``target`` row: the SR/REs the zone's SL-T requires on it, and which are not met."""

    fr: str
    level: int
    required: int
    met: int
    not_met: list[str]


def _evidence(refs: Any) -> list[dict[str, Any]]:
    return [
        {"label": u(e.label), "sha256": e.sha256, "date": u(e.date), "description": u(e.description)}
        for e in refs
    ]


class TraceabilitySection:
    id = "traceability"
    title = "Traceability: risk to zone, target, requirement, status and evidence"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        statuses = {(st.target, st.requirement): st for st in doc.requirements}
        controls = {c.id: c for c in doc.compensating_controls}
        gap_states: dict[tuple[str, str], Any] = {}
        if ctx.gap is not None:
            for t in ctx.gap.targets:
                for s in t.states:
                    gap_states[(t.target, s.requirement)] = s
        drives: dict[str, set[str]] = {}
        for p in ctx.proposals or []:
            for fr in p.per_fr:
                for c in fr.decisive:
                    if fr.from_risk >= fr.floor:
                        drives.setdefault(c.scenario, set()).add(fr.fr.value)

        def counted(target: str, requirement: str) -> tuple[bool, str]:
            st = statuses.get((target, requirement))
            state = gap_states.get((target, requirement))
            if state is not None:
                return state.met, state.reason
            if st is not None:
                return True, "implemented"
            return False, "no status recorded"

        catalog = ctx.catalog
        required: dict[tuple[str, int], list[str]] = {}
        if catalog is not None:
            for req in catalog:
                for level in range(req.min_sl, 5):
                    required.setdefault((req.fr.value, level), []).append(req.id)
        targets = {t.target: t for t in ctx.gap.targets} if ctx.gap is not None else {}

        rows: list[dict[str, Any]] = []
        for r in sorted(doc.risks, key=lambda r: (r.zone, r.id)):
            zone = ctx.zones.get(r.zone)
            drives_frs = sorted(drives.get(r.id, ()))
            base = {
                "risk": u(r.id),
                "title": u(r.title),
                "zone": u(r.zone),
                "sl_target": level_text(zone.sl_target if zone else None),
                "drives_frs": drives_frs,
            }
            tg = targets.get(r.zone)
            per_fr: list[_FRTrace] = []
            for fr in drives_frs:
                fr_level = zone.sl_target[fr] if zone is not None and zone.sl_target is not None else None
                if tg is None or not fr_level:
                    continue
                ids = required.get((fr, fr_level), [])
                missing = [s.requirement for s in tg.fr(fr).missing_for_target]
                per_fr.append({"fr": fr, "level": fr_level, "required": len(ids), "met": len(ids) - len(missing),
                               "not_met": missing})
            traced = bool(per_fr)
            if per_fr:
                # One row per risk for the target chain; the full lists per FR stay in the data
                # (and under the zone's security levels), the row names the first few.
                missing_all = [m for f in per_fr for m in f["not_met"]]
                shown = ", ".join(missing_all[:6]) + (f" (+{len(missing_all) - 6} more)" if len(missing_all) > 6 else "")
                rows.append({
                    **base,
                    "kind": "target",
                    "link": "SL-T " + " ".join(f"{f['fr']}={f['level']}" for f in per_fr),
                    "requirement": f"{sum(f['required'] for f in per_fr)} SR/RE required on the FRs this risk sets",
                    "status": ", ".join(f"{f['fr']} {f['met']}/{f['required']}" for f in per_fr) + " met",
                    "counts": not missing_all,
                    "reason": "all met" if not missing_all else f"not met: {shown}",
                    "frs": per_fr,
                    "evidence": [],
                })
            if not r.controls and not traced:
                rows.append({**base, "kind": "none", "link": None, "requirement": None, "status": None,
                             "counts": False, "reason": "no control linked and no target level traced",
                             "evidence": []})
                continue
            for link in r.controls:
                if link.requirement is not None:
                    target = link.target or r.zone
                    st = statuses.get((target, link.requirement))
                    met, reason = counted(target, link.requirement)
                    rows.append({
                        **base,
                        "kind": "link",
                        "link": u(f"{target}: {link.requirement}"),
                        "requirement": u(link.requirement),
                        "status": u(st.status.value) if st else None,
                        "counts": met,
                        "reason": u(reason),
                        "evidence": _evidence(st.evidence) if st else [],
                    })
                    continue
                cc = controls.get(link.compensating_control or "")
                if cc is None:
                    rows.append({**base, "kind": "link", "link": u(link.compensating_control), "requirement": None, "status": None,
                                 "counts": False, "reason": "unknown compensating control", "evidence": []})
                    continue
                for req in cc.covers:
                    st = statuses.get((r.zone, req))
                    met, reason = counted(r.zone, req)
                    rows.append({
                        **base,
                        "kind": "link",
                        "link": u(cc.id),
                        "requirement": u(req),
                        "status": u(st.status.value) if st else None,
                        "counts": met,
                        "reason": u(reason),
                        "evidence": _evidence((st.evidence if st else ()) + cc.evidence),
                    })
        return SectionData(
            self.id,
            self.title,
            {
                "rows": rows,
                "risks": len(doc.risks),
                "risks_without_link": sum(1 for r in doc.risks if not r.controls),
                "risks_untraced": sum(1 for row in rows if row["kind"] == "none"),
                "links_not_counting": sum(1 for row in rows if row["kind"] == "link" and not row["counts"]),
                "targets_not_met": sum(1 for row in rows if row["kind"] == "target" and not row["counts"]),
            },
        )


SECTION = TraceabilitySection()
