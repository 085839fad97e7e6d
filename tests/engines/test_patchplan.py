"""Patch planner: the example plant's trade-offs, each reason for not planning, and property tests
on generated instances (no patch in a blackout, capacity never exceeded, pilot before
production with soak, deadlines met or reported) for both solvers."""

from __future__ import annotations

import builtins
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonewarden.domain.patching import PatchPriority, RemediationItem
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.patchplan import (
    Reason,
    build_problem,
    check_plan,
    open_items,
    plan_patches,
    relaxed_bound,
)
from zonewarden.io.sitefile import load_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
AS_OF = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def example() -> SiteDocument:
    return load_site(EXAMPLE)


@pytest.mark.parametrize("solver", ["greedy", "cpsat", "mip"])
def test_example_plan_shows_the_trade_offs(example: SiteDocument, solver: str) -> None:
    items = open_items(example)
    plan = plan_patches(example, items, AS_OF, solver=solver, time_limit=20)  # type: ignore[arg-type]
    assert check_plan(build_problem(example, items, AS_OF, 182), plan, example) == []
    placed = {a.item.key: a for a in plan.assignments}
    # The PQ runs block granulation until 20 December: the immediate PLC firmware is late.
    gran = placed["S7-1500-FW-3.1.5@gran-plc-hsg"]
    assert gran.late and gran.reason is Reason.BLACKOUT and gran.start == dt.datetime(2027, 1, 3, 6, 0)
    assert "bo-pq-press3" in gran.detail
    # WinCC servers wait for the pilot client plus seven days of soak.
    pilot = placed["WINCC-V8-UPD4@sup-wincc-cl-2"]
    server = placed["WINCC-V8-UPD4@sup-wincc-1"]
    assert pilot.wave.value == "pilot" and server.wave.value == "production"
    assert (server.start.date() - pilot.start.date()).days >= 7
    assert server.late and server.reason is Reason.WAITING_FOR_PILOT
    # The production firewall's pilot (unit B) is installed: unit A goes into the next DMZ window.
    fw = placed["SCALANCE-SC600-V3.0.1@dmz-fw-a"]
    assert fw.start == dt.datetime(2026, 12, 1, 18, 0) and fw.reason is Reason.DEADLINE_PASSED
    assert "SCALANCE-SC600-V3.0.1@dmz-fw-b" not in placed
    unplanned = {u.item.key: u.reason for u in plan.unplanned}
    assert unplanned == {
        "S7-1500-FW-3.1.5-COMP@comp-plc-p1": Reason.VENDOR_NOT_QUALIFIED,
        "S7-1500-FW-3.1.5-COMP@comp-plc-p2": Reason.VENDOR_NOT_QUALIFIED,
    }
    assert {d.item.key: d.deferral for d in plan.deferred} == {
        "WINCC-FLEX-2008-HF@coat-hmi-1": "DEF-2026-011", "MS-2025-10-W7@comp-hmi-p1": "DEF-2026-009",
    }
    cand = {(c.asset, c.patch) for c in plan.candidates}
    assert ("gran-plc-hsg", "S7-1500-FW-3.1.5") in cand and ("comp-plc-p1", "S7-1500-FW-3.1.5-COMP") in cand
    assert all(a.late == ((a.item.asset_id, a.item.patch_ref) in cand) for a in plan.assignments)
    assert plan.bound <= plan.objective and 0.0 <= plan.gap <= 1.0


def test_cpsat_is_optimal_and_deterministic_on_the_example(example: SiteDocument) -> None:
    items = open_items(example)
    a = plan_patches(example, items, AS_OF, solver="cpsat", seed=7, time_limit=20)
    b = plan_patches(example, items, AS_OF, solver="cpsat", seed=7, time_limit=20)
    greedy = plan_patches(example, items, AS_OF, solver="greedy")
    assert a.status == "OPTIMAL" and a.gap == 0.0
    assert a.assignments == b.assignments and a.objective == b.objective
    assert a.objective <= greedy.objective


def test_without_ortools_the_greedy_plan_is_returned_with_a_note(
    example: SiteDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = builtins.__import__

    def fake(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("ortools"):
            raise ImportError("no ortools")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    plan = plan_patches(example, open_items(example), AS_OF, solver="cpsat")
    assert plan.solver == "greedy" and any("OR-Tools is not installed" in n for n in plan.notes)


# --- small hand-made sites: one reason each ---------------------------------------------------


def _site(**extra: Any) -> SiteDocument:
    data: dict[str, Any] = {
        "site": {"id": "s", "name": "S"},
        "people": [{"id": "p1", "name": "P1", "roles": ["ot-engineering"]},
                   {"id": "p2", "name": "P2", "roles": ["management"]}],
        "zones": [{"id": "line", "name": "Line", "kind": "control", "purdue_level": 1},
                  {"id": "lab", "name": "Lab", "kind": "control", "purdue_level": 1}],
        "assets": [
            {"id": f"plc{i}", "name": f"PLC {i}", "type": "plc", "zone": "line", "criticality": "high"} for i in range(4)
        ] + [{"id": "test-plc", "name": "Test PLC", "type": "plc", "zone": "lab"}],
        "maintenance_windows": [
            {"id": "w-line", "name": "Line stop", "rule": "every Sunday 06:00-10:00", "scope": {"zones": ["line"]},
             "capacity_assets": 1},
            {"id": "w-lab", "name": "Lab", "rule": "every Wednesday 08:00-12:00", "scope": {"zones": ["lab"]}},
        ],
    }
    data.update(extra)
    return SiteDocument.model_validate(data)


TODAY = dt.date(2026, 3, 2)  # a Monday


def _item(asset: str, patch: str = "FW", priority: str = "scheduled", **kw: Any) -> RemediationItem:
    base = {"asset_id": asset, "patch_ref": patch, "priority": PatchPriority(priority), "requested": TODAY,
            "duration_minutes": 60, "restart_needed": True, "source": "manual", "qualified": TODAY}
    base.update(kw)
    return RemediationItem(**base)


def test_capacity_spreads_work_and_reports_what_does_not_fit() -> None:
    doc = _site()
    items = [_item(f"plc{i}", priority="immediate") for i in range(4)]
    plan = plan_patches(doc, items, TODAY, horizon_days=21, solver="cpsat")
    assert check_plan(build_problem(doc, items, TODAY, 21), plan, doc) == []
    placed = sorted(plan.assignments, key=lambda a: a.start)
    # One asset per Sunday: two within the 14-day deadline, a third late, the fourth not at all.
    assert [a.start.date() for a in placed] == [dt.date(2026, 3, 8), dt.date(2026, 3, 15), dt.date(2026, 3, 22)]
    assert [a.late for a in placed] == [False, False, True] and placed[2].reason is Reason.CAPACITY
    assert [u.reason for u in plan.unplanned] == [Reason.CAPACITY]
    assert len(plan.candidates) == 2


def test_more_urgent_work_goes_first_under_capacity() -> None:
    doc = _site()
    items = [_item("plc0", "A", "scheduled"), _item("plc1", "B", "immediate")]
    plan = plan_patches(doc, items, TODAY, horizon_days=30, solver="cpsat")
    first = min(plan.assignments, key=lambda a: a.start)
    assert first.item.patch_ref == "B"


def test_pilot_then_production_after_soak() -> None:
    doc = _site(patch_policy={"waves": {"pilot_assets": ["test-plc"], "soak_days": 10}})
    items = [_item("test-plc"), _item("plc0")]
    plan = plan_patches(doc, items, TODAY, horizon_days=60, solver="cpsat")
    placed = {a.item.asset_id: a for a in plan.assignments}
    assert placed["test-plc"].start.date() == dt.date(2026, 3, 4)
    assert placed["plc0"].start.date() == dt.date(2026, 3, 15)  # first Sunday >= 4 March + 10 days


@pytest.mark.parametrize(
    ("extra", "item", "reason"),
    [
        ({"patch_policy": {"assets": [{"asset": "plc0", "patchable": False, "reason": "fixed OEM image",
                                       "remediation_date": "2027-01-01"}]}}, {}, Reason.NOT_PATCHABLE),
        ({}, {"qualified": None}, Reason.VENDOR_NOT_QUALIFIED),
        ({"maintenance_windows": [{"id": "w", "name": "W", "rule": "every Sunday 06:00-10:00",
                                   "scope": {"zones": ["lab"]}}]}, {}, Reason.NO_WINDOW),
        ({"maintenance_windows": [{"id": "w", "name": "W", "rule": "every Sunday 06:00-06:30",
                                   "scope": {"zones": ["line"]}}]}, {}, Reason.WINDOW_TOO_SHORT),
        ({"maintenance_windows": [{"id": "w", "name": "W", "rule": "every Sunday 06:00-10:00", "allows_restart": False,
                                   "scope": {"zones": ["line"]}}]}, {}, Reason.NO_RESTART_WINDOW),
        ({"blackouts": [{"id": "b", "name": "Peak", "start": "2026-03-01", "end": "2026-12-31"}]}, {}, Reason.BLACKOUT),
        ({}, {"asset_id": "ghost"}, Reason.UNKNOWN_ASSET),
    ],
)
def test_each_reason(extra: dict[str, Any], item: dict[str, Any], reason: Reason) -> None:
    doc = _site(**extra)
    plan = plan_patches(doc, [_item("plc0", priority="immediate", **({"asset_id": "plc0"} | item))], TODAY,
                        horizon_days=60, solver="greedy")
    assert not plan.assignments
    assert [u.reason for u in plan.unplanned] == [reason]
    assert plan.unplanned[0].detail
    assert len(plan.candidates) == (0 if reason is Reason.UNKNOWN_ASSET else 1)


def test_failed_pilot_stops_production() -> None:
    change = {
        "id": "PC-1", "title": "Pilot", "patch": "FW", "wave": "pilot", "assets": ["test-plc"], "status": "implemented",
        "raised": "2026-02-20", "implemented": "2026-02-25", "impact_assessment": "Test system only.",
        "approvals": [{"by": "p1", "on": "2026-02-21"}], "rollback_criteria": "Any fault", "rollback_decider": "p1",
        "backup_taken": "2026-02-24", "restore_tested": "2026-02-01", "no_impact_determination": "Test PLC.",
        "outcome": "failed",
    }
    doc = _site(patch_policy={"waves": {"pilot_assets": ["test-plc"]}}, patch_changes=[change])
    plan = plan_patches(doc, [_item("test-plc"), _item("plc0")], TODAY, solver="greedy")
    reasons = {u.item.asset_id: u.reason for u in plan.unplanned}
    assert reasons == {"plc0": Reason.PILOT_FAILED}
    assert [a.item.asset_id for a in plan.assignments] == ["test-plc"]  # the pilot is retried


# --- property tests on generated instances ---------------------------------------------------

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@st.composite
def instances(draw: st.DrawFn) -> tuple[SiteDocument, list[RemediationItem], dt.date, int]:
    today = dt.date(2026, 1, 5)
    n_zones = draw(st.integers(1, 3))
    zones = [{"id": f"z{i}", "name": f"Z{i}", "kind": "control", "purdue_level": 1} for i in range(n_zones)]
    n_assets = draw(st.integers(2, 10))
    assets = [
        {"id": f"a{i}", "name": f"A{i}", "type": "plc", "zone": f"z{draw(st.integers(0, n_zones - 1))}",
         "patch_tier": draw(st.integers(1, 4)),
         "criticality": draw(st.sampled_from(["low", "medium", "high", "critical"]))}
        for i in range(n_assets)
    ]
    windows = []
    for z in range(n_zones):
        for k in range(draw(st.integers(0, 2))):
            hour = draw(st.integers(0, 20))
            length = draw(st.integers(1, 6))
            if draw(st.booleans()):
                rule = f"every {WEEKDAYS[draw(st.integers(0, 6))]} {hour:02d}:00-{(hour + length) % 24:02d}:00"
            else:
                nth = draw(st.sampled_from(["1st", "2nd", "3rd", "4th", "last"]))
                rule = f"{nth} {WEEKDAYS[draw(st.integers(0, 6))]} of the month {hour:02d}:00-{(hour + length) % 24:02d}:00"
            windows.append({
                "id": f"w{z}{k}", "name": "W", "rule": rule, "scope": {"zones": [f"z{z}"]},
                "capacity_assets": draw(st.none() | st.integers(1, 3)),
                "capacity_hours": draw(st.none() | st.integers(1, 6)),
                "allows_restart": draw(st.booleans()),
            })
    blackouts = []
    for b in range(draw(st.integers(0, 3))):
        start = today + dt.timedelta(days=draw(st.integers(0, 80)))
        scope = draw(st.none() | st.integers(0, n_zones - 1))
        blackouts.append({
            "id": f"b{b}", "name": "B", "start": start.isoformat(),
            "end": (start + dt.timedelta(days=draw(st.integers(0, 20)))).isoformat(),
            **({"scope": {"zones": [f"z{scope}"]}} if scope is not None else {}),
        })
    pilots = sorted({f"a{i}" for i in draw(st.lists(st.integers(0, n_assets - 1), max_size=3))})
    doc = SiteDocument.model_validate(
        {
            "site": {"id": "gen", "name": "Generated"}, "zones": zones, "assets": assets,
            "maintenance_windows": windows, "blackouts": blackouts,
            "patch_policy": {"waves": {"pilot_assets": pilots, "soak_days": draw(st.integers(0, 14))}},
        },
        context={"defer_references": True},  # generated windows may overlap; the planner must cope anyway
    )
    items = []
    for p in range(draw(st.integers(1, 5))):
        targets = draw(st.lists(st.integers(0, n_assets - 1), min_size=1, max_size=n_assets, unique=True))
        priority = draw(st.sampled_from(list(PatchPriority)))
        requested = today + dt.timedelta(days=draw(st.integers(-60, 30)))
        qualified = draw(st.none() | st.just(requested + dt.timedelta(days=draw(st.integers(0, 20)))))
        for t in targets:
            items.append(RemediationItem(
                asset_id=f"a{t}", patch_ref=f"P{p}", priority=priority, requested=requested,
                duration_minutes=draw(st.integers(15, 300)), restart_needed=draw(st.booleans()), source="manual",
                qualified=qualified,
            ))
    return doc, items, today, draw(st.integers(30, 120))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_plans_respect_every_constraint(instance: tuple[SiteDocument, list[RemediationItem], dt.date, int]) -> None:
    doc, items, today, horizon = instance
    problem = build_problem(doc, items, today, horizon)
    greedy = plan_patches(doc, items, today, horizon_days=horizon, solver="greedy")
    cpsat = plan_patches(doc, items, today, horizon_days=horizon, solver="cpsat", time_limit=5, workers=2)
    for plan in (greedy, cpsat):
        # No blackout, capacity, scope or soak violation; every item planned, deferred or reported.
        assert check_plan(problem, plan, doc) == []
        assert plan.bound <= plan.objective
        keys = [a.item.key for a in plan.assignments] + [u.item.key for u in plan.unplanned]
        assert len(keys) == len(set(keys))
        # Deadlines met or reported: every late or unplanned item is a deferral candidate.
        cand = {(c.asset, c.patch) for c in plan.candidates}
        for a in plan.assignments:
            if a.start.date() > a.deadline:
                assert a.late and a.reason is not None and (a.item.asset_id, a.item.patch_ref) in cand
    assert relaxed_bound(problem) <= cpsat.objective <= greedy.objective


def test_a_vendor_patch_naming_an_advisory_stands_for_its_findings() -> None:
    doc = _site(patches=[{"id": "FW-2.1", "title": "Firmware 2.1", "assets": ["plc0"], "priority": "scheduled",
                          "requested": "2026-03-02", "advisory": "ICSA-26-001", "qualified": "2026-03-03"}])
    finding = _item("plc0", "ICSA-26-001", "immediate", source="finding", qualified=None)
    other = _item("plc1", "ICSA-26-001", "immediate", source="finding", qualified=None)
    items = open_items(doc, [finding, other])
    assert [(i.key, i.source) for i in items] == [("FW-2.1@plc0", "manual"), ("ICSA-26-001@plc1", "finding")]
