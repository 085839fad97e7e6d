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

Above :data:`TABLE_LIMIT` rows (a 10k-asset site: about 80 pages) the whole table goes to the
appendix file ``traceability.csv`` (:mod:`zonewarden.evidence.appendix`); the PDF keeps the
counts per zone and the rows that do not hold (untraced risks first, then targets and links
not met), up to :data:`TOP_ROWS`.
"""

from __future__ import annotations

from typing import Any, TypedDict

from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.sections._common import level_text
from zonewarden.evidence.text import u

TABLE_LIMIT = 600
"""Above this many rows the table is an appendix file, not a table of the PDF."""
TOP_ROWS = 60
"""How many rows that do not hold the summary lists."""
CSV_NAME = "traceability.csv"
COLUMNS = ("risk", "title", "zone", "sl_target", "drives_frs", "kind", "via", "requirement", "status",
           "counts", "reason", "evidence")


def _csv_row(r: dict[str, Any]) -> list[Any]:
    evidence = "; ".join(
        e["label"] + (f" ({e['date']})" if e["date"] else "") + (f" sha256 {e['sha256']}" if e["sha256"] else "")
        for e in r["evidence"]
    )
    return [r["risk"], r["title"], r["zone"], r["sl_target"], r["drives_frs"], r["kind"], r["link"],
            r["requirement"], r["status"], r["counts"], r["reason"], evidence]


def _summary(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Counts per zone, and the rows that do not hold (untraced first, then targets, then links)."""
    zones: dict[str, dict[str, Any]] = {}
    risks: dict[str, set[str]] = {}
    for r in rows:
        z = zones.setdefault(r["zone"], {"zone": r["zone"], "risks": 0, "rows": 0, "untraced": 0,
                                         "targets_not_met": 0, "links_not_counting": 0})
        risks.setdefault(r["zone"], set()).add(r["risk"])
        z["rows"] += 1
        z["untraced"] += r["kind"] == "none"
        z["targets_not_met"] += r["kind"] == "target" and not r["counts"]
        z["links_not_counting"] += r["kind"] == "link" and not r["counts"]
    for key, z in zones.items():
        z["risks"] = len(risks[key])
    order = {"none": 0, "target": 1, "link": 2}
    bad = sorted((r for r in rows if not r["counts"]), key=lambda r: (order[r["kind"]], r["zone"], r["risk"]))
    return [zones[k] for k in sorted(zones)], bad[:TOP_ROWS]


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
        counts = {
            "risks": len(doc.risks),
            "risks_without_link": sum(1 for r in doc.risks if not r.controls),
            "risks_untraced": sum(1 for row in rows if row["kind"] == "none"),
            "links_not_counting": sum(1 for row in rows if row["kind"] == "link" and not row["counts"]),
            "targets_not_met": sum(1 for row in rows if row["kind"] == "target" and not row["counts"]),
        }
        summary: dict[str, Any] = {"appendix": None}
        files: dict[str, bytes] = {}
        if len(rows) > TABLE_LIMIT:
            summary["appendix"], files = csv_appendix(CSV_NAME, "traceability", COLUMNS, [_csv_row(r) for r in rows])
            summary["by_zone"], summary["top"] = _summary(rows)
            summary["rows_total"] = len(rows)
            summary["rows_not_holding"] = sum(1 for r in rows if not r["counts"])
            rows = []
        return SectionData(self.id, self.title, {**counts, **summary, "rows": rows}, files=files)


SECTION = TraceabilitySection()
