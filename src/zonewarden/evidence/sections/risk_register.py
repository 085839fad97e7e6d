"""The risk register: inherent and residual risk, treatment, acceptance and flags, and the risk
inputs from suppliers without a usable disclosure process (per zone, with the scenarios that
consider them; ``engines.risk.supplier_inputs``)."""

from __future__ import annotations

from typing import Any

from zonewarden.engines.risk import heat_map, supplier_inputs, treatment_counts
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us


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

        return SectionData(
            self.id,
            self.title,
            {
                "entries": rows,
                "rating_names": {u(k): u(v) for k, v in names.items()},
                "tolerable": u(method.tolerable),
                "treatments": treatment_counts(entries),
                "heat_map_inherent": grid("inherent"),
                "heat_map_residual": grid("residual"),
                "likelihood_names": [u(s.name) for s in method.likelihood],
                "impact_names": [u(s.name) for s in method.impact_levels],
                "over_tolerance": sum(1 for e in entries if e.over_tolerance),
                "supplier_inputs": [
                    {"zone": u(i.zone), "vendor": u(i.vendor), "supplier": u(i.supplier), "assets": us(i.assets),
                     "reasons": us(i.reasons), "scenarios": us(i.scenarios)}
                    for i in supplier_inputs(ctx.doc, ctx.as_of)
                ],
            },
        )


SECTION = RiskRegisterSection()
