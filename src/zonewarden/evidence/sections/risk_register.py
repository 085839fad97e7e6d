"""The risk register: inherent and residual risk, treatment, acceptance and flags, and the risk
inputs from suppliers without a usable disclosure process (per zone, with the scenarios that
consider them; ``engines.risk.supplier_inputs``).

Above :data:`TABLE_LIMIT` scenarios (a 10k-asset site has about 200: 18 pages) the register is the
appendix file ``risk-register.csv`` (:mod:`zonewarden.evidence.appendix`); the PDF keeps the counts,
both heat maps and the scenarios that need attention: residual risk above tolerance or a flag
(missing owner, overdue review, expired acceptance...), up to :data:`TOP_ROWS`, above tolerance first.
"""

from __future__ import annotations

from typing import Any

from zonewarden.engines.risk import heat_map, supplier_inputs, treatment_counts
from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us

TABLE_LIMIT = 100
"""Above this many scenarios the register is an appendix file."""
TOP_ROWS = 40
"""How many scenarios needing attention the PDF lists above the limit."""
CSV_NAME = "risk-register.csv"
SUPPLIER_ROWS_SHOWN = 60
"""Supplier risk inputs (zone × supplier) the PDF lists; the rest, and every asset, are the
appendix file :data:`SUPPLIER_CSV` when there are more."""
SUPPLIER_ASSETS_SHOWN = 12
"""Assets named per supplier risk input in the PDF (the rest are counted)."""
SUPPLIER_CSV = "risk-supplier-inputs.csv"
COLUMNS = ("risk", "title", "zone", "actor", "vector", "description", "inherent_rating", "inherent_likelihood",
           "inherent_impact", "inherent_worst_category", "residual_rating", "residual_likelihood", "residual_impact",
           "residual_worst_category", "over_tolerance", "treatment", "controls", "owner", "review_date",
           "accepted_by", "accepted_on", "accepted_until", "acceptance_rationale", "flags", "internal_note")


def _appendix(rows: list[dict[str, Any]], names: dict[Any, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    def line(e: dict[str, Any]) -> list[Any]:
        acc = e["acceptance"] or {}
        return [e["id"], e["title"], e["zone"], e["actor"], e["vector"], e["description"],
                names.get(e["inherent"]["rating"], e["inherent"]["rating"]), e["inherent"]["likelihood"],
                e["inherent"]["impact"], e["inherent"]["worst_category"],
                names.get(e["residual"]["rating"], e["residual"]["rating"]), e["residual"]["likelihood"],
                e["residual"]["impact"], e["residual"]["worst_category"], e["over_tolerance"], e["treatment"],
                "; ".join(e["controls"]), e["owner"], e["review_date"], acc.get("by"), acc.get("on"),
                acc.get("expires"), acc.get("rationale"), "; ".join(f"{f['code']}: {f['message']}" for f in e["flags"]),
                e["notes"]]

    descriptor, files = csv_appendix(CSV_NAME, "risk register", COLUMNS, [line(e) for e in rows])
    attention = [e for e in rows if e["over_tolerance"] or e["flags"]]
    top = sorted(attention, key=lambda e: not e["over_tolerance"])[:TOP_ROWS]  # stable: register order within
    return {"appendix": descriptor, "top": top, "attention": len(attention), "entries_total": len(rows)}, files


def _supplier_appendix(inputs: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
    """Every supplier risk input with all its assets as a CSV file, when the PDF shows only part
    of them (more rows than :data:`SUPPLIER_ROWS_SHOWN` or more assets than
    :data:`SUPPLIER_ASSETS_SHOWN` in one row); one CSV row per asset."""
    if len(inputs) <= SUPPLIER_ROWS_SHOWN and all(len(i["assets"]) <= SUPPLIER_ASSETS_SHOWN for i in inputs):
        return None, {}
    rows = [[i["zone"], i["vendor"], i["supplier"], a, "; ".join(i["reasons"]), "; ".join(i["scenarios"])]
            for i in inputs for a in i["assets"]]
    return csv_appendix(SUPPLIER_CSV, "risk inputs: suppliers without a usable disclosure process",
                        ("zone", "vendor", "supplier", "asset", "reasons", "scenarios"), rows)


def _shorten_supplier_flags(rows: list[dict[str, Any]], inputs: list[dict[str, Any]]) -> None:
    """A register row's ``supplier-poorly-informed`` flag gets a ``short`` text for the table: the
    suppliers by name and a pointer to the risk inputs below (which list the assets and reasons);
    the flag's whole message stays in the JSON and the appendix file. On a large site a whole-zone
    scenario weighs a dozen suppliers, and the whole message made each row a page long."""
    by_scenario: dict[str, list[str]] = {}
    for i in inputs:
        for scenario in i["scenarios"]:
            by_scenario.setdefault(scenario, []).append(i["vendor"])
    for row in rows:
        for flag in row["flags"]:
            if flag["code"] == "supplier-poorly-informed":
                vendors = by_scenario.get(row["id"], [])
                named = ", ".join(vendors[:3]) + (f" and {len(vendors) - 3} more" if len(vendors) > 3 else "")
                flag["short"] = (f"assets from {len(vendors)} supplier(s) without a usable disclosure process"
                                 f"{f' ({named})' if named else ''}: see the risk inputs below")


def _score(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "likelihood": s["likelihood"],
        "impact": s["impact"],
        "worst_category": u(s["worst_category"]),
        "rating": u(s["rating"]),
        "score": s["score"],
    }


class RiskRegisterSection:
    id = "risk-register"
    title = "Risk register"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        entries = ctx.register
        if entries is None:
            return SectionData(self.id, self.title, {"entries": []}, [f"risk register: {ctx.why_missing('risk-register')}"])
        method = ctx.doc.risk_method
        colours = {r.id: r.colour for r in method.ratings}
        names = {r.id: r.name for r in method.ratings}
        rows = []
        for e in entries:
            d = e.as_dict()
            acc = d["acceptance"]
            rows.append(
                {
                    "id": u(d["id"]),
                    "title": u(d["title"]),
                    "zone": u(d["zone"]),
                    "actor": u(d["actor"]),
                    "vector": u(d["vector"]),
                    "description": u(e.scenario.description),
                    "inherent": _score(d["inherent"]),
                    "residual": _score(d["residual"]),
                    "treatment": u(d["treatment"]),
                    "owner": u(ctx.person(d["owner"])),
                    "review_date": u(d["review_date"]),
                    "controls": us(d["controls"]),
                    "acceptance": None
                    if acc is None
                    else {
                        "by": u(ctx.person(acc["by"])),
                        "on": u(acc["on"]),
                        "expires": u(acc["expires"]),
                        "rationale": u(acc["rationale"]),
                    },
                    "over_tolerance": d["over_tolerance"],
                    "flags": [{"code": f["code"], "message": u(f["message"])} for f in d["flags"]],
                    "notes": u(e.scenario.notes),
                }
            )

        def grid(which: str) -> list[list[dict[str, Any]]]:
            hm = heat_map(method, entries, which)
            return [
                [
                    {"count": n, "rating": u(rid), "colour": colours[rid]}
                    for n, rid in zip(counts, ratings, strict=True)
                ]
                for counts, ratings in zip(hm.counts, hm.ratings, strict=True)
            ]

        inputs = [{"zone": u(i.zone), "vendor": u(i.vendor), "supplier": u(i.supplier), "assets": us(i.assets),
                   "reasons": us(i.reasons), "scenarios": us(i.scenarios)}
                  for i in supplier_inputs(ctx.doc, ctx.as_of)]
        supplier_appendix, supplier_files = _supplier_appendix(inputs)
        _shorten_supplier_flags(rows, inputs)
        summary: dict[str, Any] = {"appendix": None, "entries_total": len(rows)}
        files: dict[str, bytes] = {}
        if len(rows) > TABLE_LIMIT:
            summary, files = _appendix(rows, {u(k): u(v) for k, v in names.items()})
            rows = []
        return SectionData(
            self.id,
            self.title,
            {
                **summary,
                "entries": rows,
                "rating_names": {u(k): u(v) for k, v in names.items()},
                "tolerable": u(method.tolerable),
                "treatments": treatment_counts(entries),
                "heat_map_inherent": grid("inherent"),
                "heat_map_residual": grid("residual"),
                "likelihood_names": [u(s.name) for s in method.likelihood],
                "impact_names": [u(s.name) for s in method.impact_levels],
                "over_tolerance": sum(1 for e in entries if e.over_tolerance),
                "supplier_inputs": inputs,
                "supplier_rows_shown": SUPPLIER_ROWS_SHOWN,
                "supplier_assets_shown": SUPPLIER_ASSETS_SHOWN,
                "appendices": [supplier_appendix] if supplier_appendix else [],
            },
            files={**files, **supplier_files},
        )


SECTION = RiskRegisterSection()
