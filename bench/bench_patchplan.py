"""Benchmark: the patch planner on two generated instances against the greedy baseline measured
in the same run.

    .venv/bin/python bench/bench_patchplan.py [--instance standard|tight|both] [--solver mip]
        [--solver cpsat] [--time-limit 25] [--workers 2] [--seed 11]

* ``standard``: a 10k-asset plant, 500 open remediations, one weekly window in each of 6 areas
  over 52 weeks (capacity 3 assets and 6 hours), a pilot asset per area, a year-end freeze and
  a qualification run in one area, patches of all tiers and priorities, some not qualified.
* ``tight`` (see :func:`tight`): where taking the earliest slot with room goes wrong - short
  night windows without restart, monthly line stops, staggered qualification runs, late vendor
  qualifications, 14 days of soak, long restart patches.

Printed per instance (each in its own process, so the peak RSS is its own): problem size; for
greedy and each solver the wall and CPU time, status, objective, its own proven bound and gap,
the objective against the best bound of the run and against greedy, late and unplanned items;
how many parts were re-solved with pilots fixed; whether the target (gap <= 1 % within 30 s and
under 1 GB) is met. Every plan is checked against every constraint (``check_plan``) first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zonewarden.domain.patching import PatchPriority, RemediationItem  # noqa: E402
from zonewarden.domain.site import SiteDocument  # noqa: E402
from zonewarden.engines.patchplan import build_problem, check_plan, plan_patches  # noqa: E402

TODAY = dt.date(2026, 1, 5)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def synthetic(assets: int, items: int, areas: int, seed: int) -> tuple[SiteDocument, list[RemediationItem]]:
    rng = random.Random(seed)
    zones = [
        {"id": f"area{i}", "name": f"Area {i}", "kind": "control", "purdue_level": 1,
         "criticality": rng.choice(["medium", "high", "critical"])}
        for i in range(areas)
    ]
    types = [("plc", None), ("hmi", None), ("engineering-workstation", None), ("scada-server", None),
             ("firewall", None), ("hmi", 4)]
    asset_rows = []
    for i in range(assets):
        t, tier = rng.choice(types)
        row: dict[str, Any] = {"id": f"a{i:05d}", "name": f"Asset {i}", "type": t, "zone": f"area{i % areas}",
                               "criticality": rng.choice(["low", "medium", "high", "critical"])}
        if tier:
            row["patch_tier"] = tier
        asset_rows.append(row)
    windows = [
        {"id": f"mw-area{i}", "name": f"Area {i} weekly", "rule": f"every {WEEKDAYS[i % 7]} 06:00-14:00",
         "scope": {"zones": [f"area{i}"]}, "capacity_assets": 3, "capacity_hours": 6}
        for i in range(areas)
    ]
    blackouts = [
        {"id": "bo-freeze", "name": "Year-end freeze", "kind": "change-freeze", "start": "2026-12-14", "end": "2027-01-03"},
        {"id": "bo-pq", "name": "Qualification run", "kind": "qualification-run", "start": "2026-02-01",
         "end": "2026-03-15", "scope": {"zones": ["area0"]}},
    ]
    pilots = [f"a{i:05d}" for i in range(areas)]  # the first asset of each area
    doc = SiteDocument.model_validate(
        {"site": {"id": "bench", "name": "Bench"}, "zones": zones, "assets": asset_rows,
         "maintenance_windows": windows, "blackouts": blackouts,
         "patch_policy": {"waves": {"pilot_assets": pilots, "soak_days": 7}}}
    )
    out: list[RemediationItem] = []
    p = 0
    priorities = [PatchPriority.DEFER, PatchPriority.SCHEDULED, PatchPriority.SCHEDULED, PatchPriority.OUT_OF_CYCLE,
                  PatchPriority.IMMEDIATE]
    while len(out) < items:
        n = min(items - len(out), rng.randint(3, 14))
        targets = rng.sample(range(areas, assets), n)
        if rng.random() < 0.6:  # most patches have a pilot in the first target's area
            targets[0] = int(asset_rows[targets[0]]["zone"][4:])
        requested = TODAY - dt.timedelta(days=rng.randint(0, 45))
        qualified = None if rng.random() < 0.08 else requested + dt.timedelta(days=rng.randint(0, 10))
        priority = rng.choice(priorities)
        for t in targets:
            out.append(RemediationItem(
                asset_id=f"a{t:05d}", patch_ref=f"P{p:03d}", priority=priority, requested=requested,
                duration_minutes=rng.choice([30, 60, 90, 120]), restart_needed=rng.random() < 0.5, source="manual",
                qualified=qualified,
            ))
        p += 1
    return doc, out


def tight(assets: int, items: int, areas: int, seed: int) -> tuple[SiteDocument, list[RemediationItem]]:
    """The second instance, built so that taking the earliest slot with room goes wrong: per area
    a short weekly night window without restart (3 h, 2 assets) and a long monthly line stop
    with restart (10 h, 4 assets); qualification runs that close an area for 3-6 weeks at
    staggered times and a site-wide freeze; vendor qualifications arriving up to 8 weeks after
    the request; a pilot per area with 14 days of soak; long restart patches that fit only the
    monthly stop, and SSVC priorities that disagree with the assets' criticality."""
    rng = random.Random(seed)
    zones = [
        {"id": f"area{i}", "name": f"Area {i}", "kind": "control", "purdue_level": 1,
         "criticality": rng.choice(["medium", "high", "critical"])}
        for i in range(areas)
    ]
    types = [("plc", None), ("hmi", None), ("engineering-workstation", None), ("scada-server", None), ("hmi", 4)]
    asset_rows = []
    for i in range(assets):
        t, tier = rng.choice(types)
        row: dict[str, Any] = {"id": f"a{i:05d}", "name": f"Asset {i}", "type": t, "zone": f"area{i % areas}",
                               "criticality": rng.choice(["low", "low", "medium", "high", "critical"])}
        if tier:
            row["patch_tier"] = tier
        asset_rows.append(row)
    nth = ["1st", "2nd", "3rd", "4th"]
    windows = []
    for i in range(areas):
        windows.append({"id": f"mw-night{i}", "name": f"Area {i} night", "rule": f"every {WEEKDAYS[i % 5]} 22:00-01:00",
                        "scope": {"zones": [f"area{i}"]}, "capacity_assets": 2, "capacity_hours": 2.5,
                        "allows_restart": False})
        windows.append({"id": f"mw-stop{i}", "name": f"Area {i} line stop",
                        "rule": f"{nth[i % 4]} Saturday of the month 06:00-16:00",
                        "scope": {"zones": [f"area{i}"]}, "capacity_assets": 4, "capacity_hours": 8})
    blackouts: list[dict[str, Any]] = [
        {"id": "bo-freeze", "name": "Year-end freeze", "kind": "change-freeze", "start": "2026-12-10", "end": "2027-01-06"},
    ]
    for i in range(areas):
        for k in range(2):
            start = TODAY + dt.timedelta(days=rng.randint(0, 300))
            blackouts.append({"id": f"bo-pq{i}-{k}", "name": f"Qualification run {i}.{k}", "kind": "qualification-run",
                              "start": start.isoformat(), "end": (start + dt.timedelta(days=rng.randint(21, 42))).isoformat(),
                              "scope": {"zones": [f"area{i}"]}})
    pilots = [f"a{i:05d}" for i in range(areas)]
    doc = SiteDocument.model_validate(
        {"site": {"id": "bench-tight", "name": "Bench (tight)"}, "zones": zones, "assets": asset_rows,
         "maintenance_windows": windows, "blackouts": blackouts,
         "patch_policy": {"waves": {"pilot_assets": pilots, "soak_days": 14}}}
    )
    out: list[RemediationItem] = []
    p = 0
    priorities = [PatchPriority.SCHEDULED, PatchPriority.SCHEDULED, PatchPriority.OUT_OF_CYCLE, PatchPriority.IMMEDIATE]
    while len(out) < items:
        n = min(items - len(out), rng.randint(2, 10))
        targets = rng.sample(range(areas, assets), n)
        if rng.random() < 0.8:
            targets[0] = int(asset_rows[targets[0]]["zone"][4:])
        requested = TODAY - dt.timedelta(days=rng.randint(0, 60))
        qualified = None if rng.random() < 0.05 else requested + dt.timedelta(days=rng.randint(0, 56))
        priority = rng.choice(priorities)
        long_restart = rng.random() < 0.4
        for t in targets:
            out.append(RemediationItem(
                asset_id=f"a{t:05d}", patch_ref=f"T{p:03d}", priority=priority, requested=requested,
                duration_minutes=rng.choice([150, 180, 240]) if long_restart else rng.choice([30, 45, 60, 90]),
                restart_needed=long_restart, source="manual", qualified=qualified,
            ))
        p += 1
    return doc, out


INSTANCES = {
    # name: (generator, assets, items, areas, weeks)
    "standard": (synthetic, 10_000, 500, 6, 52),
    "tight": (tight, 4_000, 400, 8, 52),
}


def run_instance(name: str, solvers: list[str], time_limit: float, workers: int, seed: int) -> None:
    gen, assets, n_items, areas, weeks = INSTANCES[name]
    t0 = time.perf_counter()
    doc, items = gen(assets, n_items, areas, seed)
    t_site = time.perf_counter() - t0
    horizon = weeks * 7
    problem = build_problem(doc, items, TODAY, horizon)
    pairs = sum(len(j.slots) for j in problem.jobs)
    print(f"== instance {name}: {len(doc.assets)} assets, {len(doc.zones)} areas, {len(doc.maintenance_windows)} windows, "
          f"{len(doc.blackouts)} blackouts, {len(items)} items ({len({i.patch_ref for i in items})} patches); "
          f"built in {t_site:.2f} s")
    print(f"problem: {len(problem.slots)} window occurrences, {len(problem.jobs)} plannable jobs, "
          f"{pairs} item x occurrence choices, {len(problem.unplanned)} not plannable before solving")
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; workers {workers}, time limit {time_limit:g} s")
    c0 = time.process_time()
    greedy = plan_patches(doc, items, TODAY, horizon_days=horizon, solver="greedy")
    plans = [(greedy, time.process_time() - c0)]
    for solver in solvers:
        c0 = time.process_time()
        plan = plan_patches(doc, items, TODAY, horizon_days=horizon, solver=solver,  # type: ignore[arg-type]
                            time_limit=time_limit, workers=workers, seed=seed)
        plans.append((plan, time.process_time() - c0))
    for plan, _cpu in plans:
        broken = check_plan(problem, plan, doc)
        if broken:
            raise SystemExit(f"{plan.solver} plan breaks constraints: {broken[:5]}")
    bound = max(p.bound for p, _ in plans)  # every bound is valid; the best one judges all plans
    for p, cpu in plans:
        late = sum(1 for a in p.assignments if a.late)
        print(f"{p.solver:6} {p.status:8} {p.seconds:6.2f} s (CPU {cpu:5.2f} s)  objective {p.objective:>9}  "
              f"own bound {p.bound:>9} gap {p.gap:6.2%}  objective/best bound {p.objective / bound:.4f}  "
              f"vs greedy {p.objective / greedy.objective:.3f}  planned {len(p.assignments)} (late {late}), "
              f"unplanned {len(p.unplanned)}")
    for p, _ in plans[1:]:
        parts = p.settings.get("parts", [])
        redo = sum(1 for r in parts if r["phase"] == 2)
        nbhd = [r for r in parts if r["phase"] == 3]
        third = (f", {len(nbhd)} part neighbourhoods re-solved in phase 3 "
                 f"({sum(1 for r in nbhd if r['status'] == 'OPTIMAL')} to the MIP gap)" if nbhd else "")
        print(f"{p.solver}: {sum(1 for r in parts if r['phase'] == 1)} parts, {redo} re-solved with pilots fixed{third}; "
              f"started from objective {p.settings['start_objective']} ({p.settings['start_objective'] / greedy.objective:.3f}"
              f" of greedy)")
    print(f"greedy against the best bound: {(greedy.objective - bound) / greedy.objective:.2%} above it")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for p, _ in plans[1:]:
        met = p.gap <= 0.01 and p.seconds <= 30 and rss < 1024
        print(f"target {p.solver}: gap <= 1 % within 30 s and under 1 GB -> {'met' if met else 'MISSED'} "
              f"(gap {p.gap:.2%}, {p.seconds:.1f} s, peak RSS {rss:.0f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", choices=[*INSTANCES, "both"], default="both")
    ap.add_argument("--solver", action="append", choices=["mip", "cpsat"],
                    help="solvers to compare with the greedy baseline (default: mip)")
    ap.add_argument("--time-limit", type=float, default=25.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    solvers = args.solver or ["mip"]
    if args.instance != "both":
        run_instance(args.instance, solvers, args.time_limit, args.workers, args.seed)
        return
    # One process per instance, so that each peak RSS is its own.
    for name in INSTANCES:
        cmd = [sys.executable, __file__, "--instance", name, "--time-limit", str(args.time_limit),
               "--workers", str(args.workers), "--seed", str(args.seed)]
        for s in solvers:
            cmd += ["--solver", s]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
