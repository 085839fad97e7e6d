"""The written risk method, printed exactly as configured (IEC 62443-3-2 ZCR 2/5)."""

from __future__ import annotations

from zonewarden.domain.levels import FR
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u


class RiskMethodSection:
    id = "risk-method"
    title = "Risk assessment method"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        m = ctx.doc.risk_method
        ratings = {r.id: r for r in m.ratings}
        rule = m.slt_rule
        matrix = [
            {
                "likelihood": lk.level,
                "name": u(lk.name),
                "cells": [
                    {"rating": u(rid), "name": u(ratings[rid].name), "colour": ratings[rid].colour}
                    for rid in row
                ],
            }
            for lk, row in zip(m.likelihood, m.matrix_rows(), strict=True)
        ]
        return SectionData(
            self.id,
            self.title,
            {
                "name": u(m.name),
                "version": u(m.version),
                "likelihood": [{"level": s.level, "name": u(s.name), "criteria": u(s.criteria)} for s in m.likelihood],
                "impact_levels": [{"level": s.level, "name": u(s.name), "criteria": u(s.criteria)} for s in m.impact_levels],
                "impact_categories": [
                    {
                        "id": u(c.id),
                        "name": u(c.name),
                        "criteria": [{"level": lv, "criteria": u(t)} for lv, t in sorted(c.criteria.items())],
                        "fr_weights": {fr.value: u(c.weight(fr).value) for fr in FR},
                    }
                    for c in m.impact_categories
                ],
                "ratings": [
                    {"id": u(r.id), "name": u(r.name), "min_score": r.min_score, "colour": r.colour} for r in m.ratings
                ],
                "matrix_explicit": m.matrix is not None,
                "matrix": matrix,
                "impact_names": [u(s.name) for s in m.impact_levels],
                "tolerable": u(m.tolerable),
                "slt_rule": {
                    "sl_by_rating": {u(k): v for k, v in rule.sl_by_rating.items()},
                    "actor_ceiling": {u(k.value): v for k, v in sorted(rule.actor_ceiling.items())},
                    "secondary_reduction": rule.secondary_reduction,
                    "minimum_by_criticality": {u(k.value): v for k, v in rule.minimum_by_criticality.items()},
                },
            },
        )


SECTION = RiskMethodSection()
