"""Patch planner by parts (engines/patchplan_parts.py): the parts are the plant's independent
areas, the bound is valid (never above the exact optimum of the whole problem), every
constraint holds on both benchmark instances (scaled down), the gap is reported, and the plan
is the same in two separate processes."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zonewarden.domain.patching import PatchPriority, RemediationItem
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.patchplan import (
    _ORDERS,
    _greedy,
    _objective,
    build_problem,
    check_plan,
    plan_patches,
)
from zonewarden.engines.patchplan_parts import _mp_model, parts_of

pytest.importorskip("ortools")

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("_zw_bench_patchplan", ROOT / "bench" / "bench_patchplan.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
# Both benchmark instances, scaled down so that the solvers finish well within their limits.
SMALL = {"standard": (BENCH.synthetic, 900, 90, 3, 26), "tight": (BENCH.tight, 900, 90, 3, 26)}


@pytest.fixture(scope="module", params=sorted(SMALL))
def instance(request: pytest.FixtureRequest) -> tuple[str, SiteDocument, list[RemediationItem], int]:
    gen, assets, items, areas, weeks = SMALL[request.param]
    doc, its = gen(assets, items, areas, 11)
    return request.param, doc, its, weeks * 7


def test_parts_are_the_areas_and_a_shared_window_joins_them() -> None:
    doc, items = BENCH.synthetic(300, 40, 3, 5)
    problem = build_problem(doc, items, BENCH.TODAY, 91)
    zones = [{problem.jobs[j].asset.zone for j in part} for part in parts_of(problem) if problem.jobs[part[0]].slots]
    assert sorted(len(z) for z in zones) == [1, 1, 1] and set().union(*zones) == {"area0", "area1", "area2"}
    data = doc.model_dump(mode="json", exclude_none=True)
    data["maintenance_windows"].append({"id": "mw-all", "name": "Site stop", "rule": "1st Sunday of the month 06:00-18:00",
                                        "scope": {"zones": ["area0", "area1"]}, "capacity_assets": 2})
    joined = build_problem(SiteDocument.model_validate(data), items, BENCH.TODAY, 91)
    zones = [{joined.jobs[j].asset.zone for j in part} for part in parts_of(joined) if joined.jobs[part[0]].slots]
    assert sorted(len(z) for z in zones) == [1, 2]


def test_every_constraint_holds_and_the_gap_is_reported(
    instance: tuple[str, SiteDocument, list[RemediationItem], int],
) -> None:
    name, doc, items, horizon = instance
    problem = build_problem(doc, items, BENCH.TODAY, horizon)
    assert any(p for job in problem.jobs for p in job.pilots), "the instance must have waves"
    greedy = plan_patches(doc, items, BENCH.TODAY, horizon_days=horizon, solver="greedy")
    for solver in ("mip", "cpsat"):
        plan = plan_patches(doc, items, BENCH.TODAY, horizon_days=horizon, solver=solver,  # type: ignore[arg-type]
                            time_limit=20, workers=1, seed=3)
        assert check_plan(problem, plan, doc) == [], (name, solver)
        assert plan.solver == solver and plan.status in ("OPTIMAL", "FEASIBLE")
        assert plan.bound <= plan.objective <= greedy.objective
        assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)
        parts = plan.settings["parts"]
        assert len([r for r in parts if r["phase"] == 1]) == 3
        assert all(r["bound"] <= r["objective"] for r in parts)
        # Every production job planned after its pilot (in whichever area) plus the soak.
        placed = {a.item.key: a for a in plan.assignments}
        for job in problem.jobs:
            if job.item.key in placed:
                for p in job.pilots:
                    pilot = placed[problem.jobs[p].item.key]
                    assert (placed[job.item.key].start.date() - pilot.start.date()).days >= job.soak
    assert plan_patches(doc, items, BENCH.TODAY, horizon_days=horizon, time_limit=20, workers=1).objective < greedy.objective


def _exact(problem: Any) -> int:
    """The whole problem as one MIP (SCIP, no time limit): its optimum, for small instances."""
    from ortools.linear_solver import pywraplp

    every = list(range(len(problem.jobs)))
    mp, _x, _const = _mp_model(problem, every, {j: problem.jobs[j].slots for j in every}, "SCIP")
    assert mp.Solve() == pywraplp.Solver.OPTIMAL
    return round(mp.Objective().Value())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bound_never_exceeds_the_exact_optimum(seed: int) -> None:
    # Waves across areas: the bound of the parts must stay valid for the coupled problem.
    doc, items = BENCH.tight(300, 36, 3, seed)
    problem = build_problem(doc, items, BENCH.TODAY, 120)
    assert any(problem.jobs[p].asset.zone != job.asset.zone for job in problem.jobs for p in job.pilots)
    optimum = _exact(problem)
    plan = plan_patches(doc, items, BENCH.TODAY, horizon_days=120, time_limit=20, workers=1)
    assert plan.bound <= optimum <= plan.objective
    best_greedy = min(_objective(problem, _greedy(problem, order)) for order in _ORDERS)
    assert optimum <= best_greedy


def test_a_pilot_in_another_area_is_planned_first() -> None:
    site = {
        "site": {"id": "two", "name": "Two areas"},
        "zones": [{"id": f"z{i}", "name": f"Z{i}", "kind": "control", "purdue_level": 1} for i in range(2)],
        "assets": [{"id": "pilot", "name": "Pilot", "type": "plc", "zone": "z0"}]
        + [{"id": f"a{i}", "name": f"A{i}", "type": "plc", "zone": "z1", "criticality": "critical"} for i in range(3)],
        "maintenance_windows": [
            {"id": "w0", "name": "W0", "rule": "every Monday 06:00-10:00", "scope": {"zones": ["z0"]}, "capacity_assets": 1},
            {"id": "w1", "name": "W1", "rule": "every Tuesday 06:00-10:00", "scope": {"zones": ["z1"]}, "capacity_assets": 1},
        ],
        "patch_policy": {"waves": {"pilot_assets": ["pilot"], "soak_days": 7}},
    }
    doc = SiteDocument.model_validate(site)
    today = dt.date(2026, 3, 2)
    items = [RemediationItem(asset_id=a, patch_ref="FW", priority=PatchPriority.IMMEDIATE, requested=today,
                             duration_minutes=60, restart_needed=False, source="manual", qualified=today)
             for a in ("pilot", "a0", "a1", "a2")]
    plan = plan_patches(doc, items, today, horizon_days=60, workers=1)
    starts = {a.item.asset_id: a.start.date() for a in plan.assignments}
    assert starts["pilot"] == today
    assert sorted(starts[a] for a in ("a0", "a1", "a2")) == [dt.date(2026, 3, 10), dt.date(2026, 3, 17),
                                                             dt.date(2026, 3, 24)]
    assert plan.status == "OPTIMAL" and plan.gap == 0.0


_RUN = """
import json, sys
sys.path.insert(0, {bench!r})
from bench_patchplan import tight, TODAY
from zonewarden.engines.patchplan import plan_patches
doc, items = tight(600, 60, 3, 4)
plan = plan_patches(doc, items, TODAY, horizon_days=150, time_limit=30, workers=1, seed=5).as_dict()
plan.pop("seconds")
print(json.dumps(plan, sort_keys=True))
"""


def test_same_plan_in_two_processes() -> None:
    code = _RUN.format(bench=str(ROOT / "bench"))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    first = json.loads(runs[0])
    assert first["assignments"] and runs[0] == runs[1]


def test_pilots_that_queue_go_by_what_their_production_loses() -> None:
    # Two patches queue on one pilot asset (one hour of work per occurrence). A holds more production
    # weight, so "most waiting weight first" pilots A first; but A's production can only go in
    # a line stop five weeks out, while B's four critical assets could go the week after their
    # pilot. B's pilot first costs A's pilot one week (8 x 7) and saves B's production a week
    # each (4 x 8 x 7): no single move or swap gets there (the swap alone costs 42), pricing the
    # production's delay does.
    site = {
        "site": {"id": "queue", "name": "Queue"},
        "zones": [{"id": f"z{i}", "name": f"Z{i}", "kind": "control", "purdue_level": 1} for i in range(3)],
        "assets": [{"id": "pilot", "name": "Pilot", "type": "plc", "zone": "z0", "criticality": "low"}]
        + [{"id": f"b{i}", "name": f"B{i}", "type": "plc", "zone": "z1", "criticality": "critical"} for i in range(4)]
        + [{"id": f"a{i}", "name": f"A{i}", "type": "plc", "zone": "z2", "criticality": "critical"} for i in range(3)],
        "maintenance_windows": [
            {"id": "w0", "name": "W0", "rule": "every Monday 06:00-10:00", "scope": {"zones": ["z0"]}, "capacity_hours": 1},
            {"id": "w1", "name": "W1", "rule": "every Tuesday 06:00-14:00", "scope": {"zones": ["z1"]}, "capacity_assets": 4},
            {"id": "w2", "name": "W2", "rule": "once 2026-04-07 06:00-14:00", "scope": {"zones": ["z2"]}, "capacity_assets": 3},
        ],
        "patch_policy": {"waves": {"pilot_assets": ["pilot"], "soak_days": 7}},
    }
    doc = SiteDocument.model_validate(site)
    today = dt.date(2026, 3, 2)

    def item(asset: str, patch: str, priority: PatchPriority) -> RemediationItem:
        return RemediationItem(asset_id=asset, patch_ref=patch, priority=priority, requested=today, duration_minutes=60,
                               restart_needed=False, source="manual", qualified=today)

    items = [item(a, "A", PatchPriority.IMMEDIATE) for a in ("pilot", "a0", "a1", "a2")]
    items += [item(a, "B", PatchPriority.SCHEDULED) for a in ("pilot", "b0", "b1", "b2", "b3")]
    problem = build_problem(doc, items, today, 60)
    plan = plan_patches(doc, items, today, horizon_days=60, workers=1)
    assert check_plan(problem, plan, doc) == []
    starts = {(a.item.asset_id, a.item.patch_ref): a.start.date() for a in plan.assignments}
    assert starts[("pilot", "B")] == today and starts[("pilot", "A")] == dt.date(2026, 3, 9)
    assert {starts[(f"b{i}", "B")] for i in range(4)} == {dt.date(2026, 3, 10)}
    assert {starts[(f"a{i}", "A")] for i in range(3)} == {dt.date(2026, 4, 7)}
    assert plan.objective < plan_patches(doc, items, today, horizon_days=60, solver="greedy").objective
