"""Patch planning: which asset gets which patch in which maintenance window and wave.

Pure: a site document, the open remediation items and ``today`` in, a :class:`PatchPlan` out.
No clock, no I/O. Three solvers share one model of the problem:

* ``mip`` (default) and ``cpsat`` - OR-Tools (optional extra ``zonewarden[solver]``), one model
  per part of the plant that shares no window occurrence with the others
  (:mod:`zonewarden.engines.patchplan_parts`: a relaxation for a valid bound, then the pilots
  other parts wait for fixed first): ``mip`` with the LP relaxation, a local search and SCIP,
  ``cpsat`` with CP-SAT. The status and the optimality gap (objective vs. a proven lower bound of
  the whole problem) are part of the result; both start from the best greedy plan, so they never
  do worse.
* ``greedy`` - most urgent first, earliest window that still has room. Its gap is reported
  against a bound computed by relaxing capacity and waves (each item's cheapest slot).

The model. One boolean per (item, window occurrence) the item may use. Hard constraints: the
window's scope covers the asset; the occurrence is on or after the request (and the vendor's
qualification where the tier policy needs one); no blackout covering the asset touches it; the
patch fits in the window (and the window allows a restart if one is needed); per occurrence at
most ``capacity_assets`` assets and ``capacity_hours`` of work, and one asset's patches fit in
the occurrence one after the other; production assets only after every pilot of the same patch
plus the soak time (and only if all pilots are planned). Deadlines from the tier policy are
soft: being late costs ``LATE_FACTOR`` times more per day than waiting within the target, so
the solver meets every deadline it can, and each late or unplanned item is reported with the
reason and becomes a deferral candidate. Objective: the sum over items of risk weight x days
from request to patch (risk-weighted time-to-patch); an unplanned item costs more than any
slot in the horizon.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from zonewarden.domain.patching import (
    Occurrence,
    Outcome,
    RemediationItem,
    Wave,
    timezone_note,
)
from zonewarden.wording import count

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.domain.site import Asset, SiteDocument

LATE_FACTOR = 10
"""A day past the policy deadline weighs as much as this many days within it."""

CRITICALITY_FACTOR = {"low": 1, "medium": 2, "high": 3, "critical": 4}

Solver = Literal["mip", "cpsat", "greedy"]


class Reason(StrEnum):
    """Why an item is not planned within policy (stable codes for filters and reports)."""

    UNKNOWN_ASSET = "unknown-asset"
    NOT_PATCHABLE = "not-patchable"
    VENDOR_NOT_QUALIFIED = "vendor-not-qualified"
    PILOT_FAILED = "pilot-failed"
    WAITING_FOR_PILOT = "waiting-for-pilot"
    NO_WINDOW = "no-window"
    NO_WINDOW_BEFORE_DEADLINE = "no-window-before-deadline"
    BLACKOUT = "blackout"
    WINDOW_TOO_SHORT = "window-too-short"
    NO_RESTART_WINDOW = "no-restart-window"
    CAPACITY = "capacity"
    DEADLINE_PASSED = "deadline-passed"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One item placed in one window occurrence."""

    item: RemediationItem
    window: str
    start: dt.datetime
    """Site-local start of the occurrence."""
    end: dt.datetime
    wave: Wave
    tier: int
    deadline: dt.date
    late: bool
    """Patched after the policy deadline (reported with ``reason``)."""
    reason: Reason | None = None
    """For late items: why no earlier slot was used."""
    detail: str = ""
    revalidation: bool = False
    """The tier policy asks for revalidation of this (validated) asset after the patch."""

    @property
    def days_to_patch(self) -> int:
        return (self.start.date() - self.item.requested).days

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset": self.item.asset_id,
            "patch": self.item.patch_ref,
            "title": self.item.title,
            "priority": self.item.priority.value,
            "source": self.item.source,
            "tier": self.tier,
            "window": self.window,
            "start": self.start.isoformat(timespec="minutes"),
            "end": self.end.isoformat(timespec="minutes"),
            "wave": self.wave.value,
            "deadline": self.deadline.isoformat(),
            "late": self.late,
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "revalidation": self.revalidation,
            "days_to_patch": self.days_to_patch,
        }


@dataclass(frozen=True, slots=True)
class Unplanned:
    """An item the plan does not place within policy: the reason, and what would be possible."""

    item: RemediationItem
    tier: int
    deadline: dt.date | None
    reason: Reason
    detail: str
    earliest_possible: dt.datetime | None = None
    """First slot in the horizon ignoring capacity, if there is one."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset": self.item.asset_id,
            "patch": self.item.patch_ref,
            "title": self.item.title,
            "priority": self.item.priority.value,
            "source": self.item.source,
            "tier": self.tier,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "reason": self.reason.value,
            "detail": self.detail,
            "earliest_possible": self.earliest_possible.isoformat(timespec="minutes") if self.earliest_possible else None,
        }


@dataclass(frozen=True, slots=True)
class DeferralCandidate:
    """A late or unplanned item that needs a decision: a deferral, a risk acceptance or a change
    to the calendar."""

    asset: str
    patch: str
    reason: Reason
    detail: str
    deadline: dt.date | None
    max_expiry: dt.date | None
    """Latest expiry the policy allows for a deferral without a risk acceptance."""
    defer_roles: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "patch": self.patch,
            "reason": self.reason.value,
            "detail": self.detail,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "max_expiry": self.max_expiry.isoformat() if self.max_expiry else None,
            "defer_roles": list(self.defer_roles),
        }


@dataclass(frozen=True, slots=True)
class Deferred:
    """An item covered by an active deferral: not planned until the deferral ends."""

    item: RemediationItem
    deferral: str
    expires: dt.date


@dataclass(frozen=True)
class PatchPlan:
    """The plan and how it was found."""

    today: dt.date
    horizon_end: dt.date
    solver: str
    status: str
    """CP-SAT status name (OPTIMAL, FEASIBLE, ...) or GREEDY."""
    objective: int
    bound: int
    gap: float
    """(objective - bound) / objective; 0.0 is proven optimal."""
    seconds: float
    assignments: tuple[Assignment, ...]
    unplanned: tuple[Unplanned, ...]
    deferred: tuple[Deferred, ...]
    candidates: tuple[DeferralCandidate, ...]
    notes: tuple[str, ...] = ()
    risk_weighted_days: int = 0
    """Sum over planned items of risk weight x days from request to the window."""
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.today.isoformat(),
            "horizon_end": self.horizon_end.isoformat(),
            "solver": self.solver,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": round(self.gap, 6),
            "seconds": round(self.seconds, 3),
            "risk_weighted_days": self.risk_weighted_days,
            "settings": self.settings,
            "assignments": [a.as_dict() for a in self.assignments],
            "unplanned": [u.as_dict() for u in self.unplanned],
            "deferred": [
                {"asset": d.item.asset_id, "patch": d.item.patch_ref, "deferral": d.deferral, "expires": d.expires.isoformat()}
                for d in self.deferred
            ],
            "deferral_candidates": [c.as_dict() for c in self.candidates],
            "notes": list(self.notes),
        }


# --- problem construction -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Slot:
    occ: Occurrence
    day: int
    """Days from ``today`` to the occurrence's start date."""
    cap_assets: int | None
    cap_minutes: int | None
    allows_restart: bool


@dataclass(slots=True)
class _Job:
    item: RemediationItem
    asset: Asset
    tier: int
    weight: int
    deadline: dt.date
    duration: int
    restart: bool
    wave: Wave
    earliest: dt.date
    revalidation: bool = False
    slots: list[int] = field(default_factory=list)
    """Eligible slot indexes, in time order."""
    costs: dict[int, int] = field(default_factory=dict)
    unplanned_cost: int = 0
    pilots: list[int] = field(default_factory=list)
    """Indexes of the jobs that must go first (same patch, pilot assets)."""
    soak: int = 0
    diag: tuple[Reason, str] | None = None


@dataclass
class Problem:
    """The planning problem as both solvers see it (exposed for tests and the benchmark)."""

    today: dt.date
    horizon_end: dt.date
    slots: list[_Slot]
    jobs: list[_Job]
    unplanned: list[Unplanned]
    deferred: list[Deferred]
    notes: list[str]

    def slot_cost(self, j: int, s: int) -> int:
        return self.jobs[j].costs[s]


def _installed(doc: SiteDocument) -> tuple[dict[tuple[str, str], dt.date], dict[tuple[str, str], str]]:
    """(asset, patch) -> date installed; (asset, patch) -> failed change id (pilot failures)."""
    done: dict[tuple[str, str], dt.date] = {}
    failed: dict[tuple[str, str], str] = {}
    for ch in doc.patch_changes:
        for a in ch.assets:
            if ch.installed and ch.implemented is not None:
                done[(a, ch.patch)] = ch.implemented
            elif ch.outcome in (Outcome.FAILED, Outcome.ROLLED_BACK):
                failed[(a, ch.patch)] = ch.id
    return done, failed


def build_problem(
    doc: SiteDocument, items: Iterable[RemediationItem], today: dt.date, horizon_days: int
) -> Problem:
    """Turn the site and its open items into slots, jobs and the items that cannot be planned."""
    horizon_end = today + dt.timedelta(days=horizon_days)
    policy = doc.patch_policy
    assets = doc.asset_index()
    pilots = set(policy.waves.pilot_assets)
    soak = policy.waves.soak_days
    done, failed = _installed(doc)
    unplanned: list[Unplanned] = []
    deferred: list[Deferred] = []
    notes: list[str] = []
    if (tz_note := timezone_note(doc)) is not None:
        notes.append(tz_note)

    # Windows -> occurrences in the horizon, in time order.
    slots: list[_Slot] = []
    by_window: dict[str, list[int]] = defaultdict(list)
    windows = sorted(doc.maintenance_windows, key=lambda w: w.id)
    occs = [(o, w) for w in windows for o in w.occurrences(today, horizon_end)]
    occs.sort(key=lambda ow: (ow[0].start, ow[0].window))
    for o, w in occs:
        by_window[w.id].append(len(slots))
        slots.append(
            _Slot(
                o, (o.start.date() - today).days, w.capacity_assets,
                int(w.capacity_hours * 60) if w.capacity_hours is not None else None, w.allows_restart,
            )
        )

    active_deferrals: dict[tuple[str, str], Any] = {(d.asset, d.patch): d for d in doc.deferrals if d.active(today)}
    items = sorted({i.key: i for i in items}.values(), key=lambda i: i.key)
    jobs: list[_Job] = []
    for it in items:
        if (it.asset_id, it.patch_ref) in done:
            continue
        asset = assets.get(it.asset_id)
        if asset is None:
            unplanned.append(Unplanned(it, 0, None, Reason.UNKNOWN_ASSET, f"asset {it.asset_id!r} is not in the inventory"))
            continue
        tier = asset.effective_patch_tier
        tp = policy.tier(tier)
        deadline = it.requested + dt.timedelta(days=tp.target_days(it.priority))
        d = active_deferrals.get((it.asset_id, it.patch_ref))
        if d is not None:
            deferred.append(Deferred(it, d.id, d.expires))
            continue
        profile = policy.profile(it.asset_id)
        if profile is not None and not profile.patchable:
            unplanned.append(
                Unplanned(it, tier, deadline, Reason.NOT_PATCHABLE,
                          f"{profile.reason} Remediation planned by {profile.remediation_date}.")
            )
            continue
        if tp.vendor_qualification and it.qualified is None:
            unplanned.append(
                Unplanned(it, tier, deadline, Reason.VENDOR_NOT_QUALIFIED,
                          f"tier {tier} needs the vendor's qualification of {it.patch_ref} before installation")
            )
            continue
        duration = it.duration_minutes or (profile.duration_minutes if profile and profile.duration_minutes else None) or tp.default_duration_minutes
        restart = it.restart_needed or bool(profile and profile.restart_required)
        earliest = max(today, it.requested, it.qualified or it.requested)
        pct = CRITICALITY_FACTOR[asset.criticality.value]
        jobs.append(
            _Job(it, asset, tier, it.priority.weight * pct, deadline, duration, restart,
                 Wave.PILOT if it.asset_id in pilots else Wave.PRODUCTION, earliest, tp.needs_revalidation(asset))
        )

    # Waves: production jobs of a patch wait for its pilot jobs, or for a pilot already installed.
    by_patch: dict[str, list[int]] = defaultdict(list)
    for j, job in enumerate(jobs):
        by_patch[job.item.patch_ref].append(j)
    pilot_done: dict[str, dt.date] = {}
    pilot_failed: dict[str, str] = {}
    for (a, p), when in done.items():
        if a in pilots:
            pilot_done[p] = max(when, pilot_done.get(p, when))
    for (a, p), cid in failed.items():
        if a in pilots:
            pilot_failed[p] = cid
    keep: list[_Job] = []
    for patch in sorted(by_patch):
        idx = by_patch[patch]
        pj = [j for j in idx if jobs[j].wave is Wave.PILOT]
        for j in idx:
            job = jobs[j]
            if job.wave is Wave.PILOT:
                continue
            if patch in pilot_failed:
                unplanned.append(Unplanned(job.item, job.tier, job.deadline, Reason.PILOT_FAILED,
                                           f"the pilot of {patch} failed ({pilot_failed[patch]}); production waits for a fixed patch"))
                job.diag = (Reason.PILOT_FAILED, "")
                continue
            if patch in pilot_done:
                job.earliest = max(job.earliest, pilot_done[patch] + dt.timedelta(days=soak))
            job.pilots = pj
            job.soak = soak
        if not pj and patch not in pilot_done and any(jobs[j].wave is Wave.PRODUCTION and jobs[j].tier >= 2 for j in idx):
            notes.append(f"{patch}: no pilot asset among its targets; production goes first-hand")
    # Renumber jobs (some production jobs dropped for failed pilots) keeping pilot links valid.
    old_to_new: dict[int, int] = {}
    for j, job in enumerate(jobs):
        if job.diag is not None and job.diag[0] is Reason.PILOT_FAILED:
            continue
        old_to_new[j] = len(keep)
        keep.append(job)
    for job in keep:
        job.pilots = [old_to_new[p] for p in job.pilots if p in old_to_new]
    jobs = keep

    # Eligible slots and costs.
    blackouts = sorted(doc.blackouts, key=lambda b: b.id)
    horizon_days_total = (horizon_end - today).days
    for job in jobs:
        covering = [w for w in windows if w.scope.covers(job.asset)]
        covering_ids = {w.id for w in covering}
        bos = [b for b in blackouts if b.scope.covers(job.asset)]
        for s in sorted(i for w in covering_ids for i in by_window[w]):
            slot = slots[s]
            if slot.occ.start.date() < job.earliest:
                continue
            if slot.occ.minutes < job.duration or (slot.cap_minutes is not None and slot.cap_minutes < job.duration):
                continue
            if job.restart and not slot.allows_restart:
                continue
            if any(b.blocks(slot.occ) for b in bos):
                continue
            job.slots.append(s)
        rw = job.weight
        req_offset = (today - job.item.requested).days
        dl = (job.deadline - today).days
        for s in job.slots:
            day = slots[s].day
            job.costs[s] = rw * (day + req_offset + LATE_FACTOR * max(0, day - dl))
        beyond = horizon_days_total + 30
        job.unplanned_cost = rw * (beyond + req_offset + LATE_FACTOR * max(0, beyond - dl))
        job.diag = _diagnose(job, covering, bos, slots, by_window, today, horizon_end)
    return Problem(today, horizon_end, slots, jobs, unplanned, deferred, notes)


def _diagnose(job: _Job, covering: Sequence[Any], bos: Sequence[Any], slots: list[_Slot],
              by_window: dict[str, list[int]], today: dt.date, horizon_end: dt.date) -> tuple[Reason, str] | None:
    """Why the job has no eligible slot on or before its deadline (None when it has one)."""
    if any(slots[s].occ.start.date() <= job.deadline for s in job.slots):
        return None
    if not covering:
        return Reason.NO_WINDOW, "no maintenance window covers this asset"
    if job.deadline < today:
        return Reason.DEADLINE_PASSED, f"the policy deadline {job.deadline} passed before the plan starts"
    cand = [
        slots[s] for w in covering for s in by_window[w.id]
        if job.earliest <= slots[s].occ.start.date() <= job.deadline
    ]
    if not cand:
        why = f"no occurrence of {', '.join(sorted(w.id for w in covering))} between {job.earliest} and the deadline {job.deadline}"
        return Reason.NO_WINDOW_BEFORE_DEADLINE, why
    blocked = sorted({b.id for s in cand for b in bos if b.blocks(s.occ)})
    if blocked and all(any(b.blocks(s.occ) for b in bos) for s in cand):
        return Reason.BLACKOUT, f"every window before the deadline {job.deadline} falls in blackout {', '.join(blocked)}"
    fits = [s for s in cand if not any(b.blocks(s.occ) for b in bos)]
    if all(s.occ.minutes < job.duration or (s.cap_minutes is not None and s.cap_minutes < job.duration) for s in fits):
        return Reason.WINDOW_TOO_SHORT, f"the patch takes {job.duration} min; the windows before the deadline are shorter"
    return Reason.NO_RESTART_WINDOW, "the patch needs a restart; the windows before the deadline allow none"


# --- solvers ----------------------------------------------------------------------------------


_ORDERS: dict[str, Any] = {
    # The baseline: what a planner does by hand - pilots first, then by SSVC priority and deadline.
    "urgency": lambda job: (job.wave is not Wave.PILOT, -job.item.priority.rank, job.deadline, -job.weight, job.item.key),
    # Alternatives used only as starting points for CP-SAT (the best one is its hint).
    "weight": lambda job: (job.wave is not Wave.PILOT, -job.weight, job.deadline, job.item.key),
    "weight-per-minute": lambda job: (job.wave is not Wave.PILOT, -job.weight / job.duration, job.deadline, job.item.key),
    "deadline": lambda job: (job.wave is not Wave.PILOT, job.deadline, -job.weight, job.item.key),
}


def _greedy(problem: Problem, order_name: str = "urgency") -> dict[int, int]:
    """Jobs in the given order (pilots before their production), each in the earliest slot with room.

    The default order is the baseline: most urgent first by SSVC priority, then deadline."""
    jobs, slots = problem.jobs, problem.slots
    used_assets: dict[int, set[str]] = defaultdict(set)
    used_minutes: dict[int, int] = defaultdict(int)
    asset_minutes: dict[tuple[int, str], int] = defaultdict(int)
    chosen: dict[int, int] = {}
    key = _ORDERS[order_name]
    order = sorted(range(len(jobs)), key=lambda j: key(jobs[j]))
    for j in order:
        job = jobs[j]
        if any(p not in chosen for p in job.pilots):
            continue
        min_day = max((slots[chosen[p]].day + job.soak for p in job.pilots), default=-1)
        for s in job.slots:
            slot = slots[s]
            if slot.day < min_day:
                continue
            aid = job.item.asset_id
            new_asset = aid not in used_assets[s]
            if slot.cap_assets is not None and new_asset and len(used_assets[s]) >= slot.cap_assets:
                continue
            if slot.cap_minutes is not None and used_minutes[s] + job.duration > slot.cap_minutes:
                continue
            if asset_minutes[(s, aid)] + job.duration > slot.occ.minutes:
                continue
            chosen[j] = s
            used_assets[s].add(aid)
            used_minutes[s] += job.duration
            asset_minutes[(s, aid)] += job.duration
            break
    return chosen


def _objective(problem: Problem, chosen: dict[int, int]) -> int:
    return sum(
        job.costs[chosen[j]] if j in chosen else job.unplanned_cost for j, job in enumerate(problem.jobs)
    )


def relaxed_bound(problem: Problem) -> int:
    """A lower bound on the objective: each job in its cheapest slot, ignoring capacity.

    Waves stay in: a production job can use no slot before its pilots' earliest slots plus the
    soak (pilots have no pilots themselves, so one pass suffices). Costs grow with the day, so
    the cheapest slot is also the earliest allowed one.
    """
    jobs, slots = problem.jobs, problem.slots
    total = 0
    for job in jobs:
        min_day = -1
        if job.pilots:
            if any(not jobs[p].slots for p in job.pilots):
                total += job.unplanned_cost
                continue
            min_day = max(slots[jobs[p].slots[0]].day for p in job.pilots) + job.soak
        total += min((c for s, c in job.costs.items() if slots[s].day >= min_day), default=job.unplanned_cost)
    return total


def plan_patches(
    doc: SiteDocument,
    items: Iterable[RemediationItem],
    today: dt.date,
    *,
    horizon_days: int = 182,
    solver: Solver = "mip",
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int = 8,
) -> PatchPlan:
    """Plan the open remediation items over ``horizon_days`` from ``today``.

    Never raises for an unplannable situation: what cannot be planned within policy is in
    ``unplanned`` (no slot at all) or in ``assignments`` with ``late`` set, each with its reason,
    and both are listed as deferral candidates.
    """
    t0 = time.perf_counter()
    problem = build_problem(doc, items, today, horizon_days)
    notes = list(problem.notes)
    baseline = _greedy(problem)
    status, used = "GREEDY", "greedy"
    chosen, bound = baseline, relaxed_bound(problem)
    start_objective = _objective(problem, baseline)
    parts: list[dict[str, Any]] = []
    if solver in ("mip", "cpsat"):
        # Start CP-SAT from the best of a few greedy orders: cheap, and it leaves the solver's
        # time for improving a good plan rather than finding one.
        starts = {name: _greedy(problem, name) for name in _ORDERS}
        start_name = min(starts, key=lambda n: (_objective(problem, starts[n]), n))
        hint = starts[start_name]
        start_objective = _objective(problem, hint)
        from zonewarden.engines.patchplan_parts import solve_parts

        try:
            result = solve_parts(problem, hint, time_limit, seed, workers, solver)
            solved, status = result.chosen, result.status
            used = solver
            chosen, bound = solved, max(result.bound, bound)
            parts = [r.as_dict() for r in result.reports]
            if status not in ("OPTIMAL", "FEASIBLE") or _objective(problem, solved) > start_objective:
                notes.append(f"the {solver} solver ended with {status} within {time_limit:g} s; showing its start plan ({start_name})")
                chosen = hint
        except ImportError:
            notes.append("OR-Tools is not installed (pip install 'zonewarden[solver]'); showing the greedy plan")
            chosen = baseline
    objective = _objective(problem, chosen)
    gap = 0.0 if objective == 0 else max(0.0, (objective - bound) / objective)
    plan = _assemble(doc, problem, chosen, used, status, objective, bound, gap, notes)
    settings: dict[str, Any] = {"horizon_days": horizon_days, "solver": solver, "time_limit": time_limit, "seed": seed,
                "workers": workers, "late_factor": LATE_FACTOR, "start_objective": start_objective}
    if parts:
        settings["parts"] = parts
    return dataclasses.replace(plan, seconds=time.perf_counter() - t0, settings=settings)


def _assemble(doc: SiteDocument, problem: Problem, chosen: dict[int, int], used: str, status: str,
              objective: int, bound: int, gap: float, notes: list[str]) -> PatchPlan:
    jobs, slots = problem.jobs, problem.slots
    policy = doc.patch_policy
    assignments: list[Assignment] = []
    unplanned = list(problem.unplanned)
    rwd = 0
    for j, job in enumerate(jobs):
        earliest = slots[job.slots[0]].occ.start if job.slots else None
        if j in chosen:
            slot = slots[chosen[j]]
            late = slot.occ.start.date() > job.deadline
            reason, detail = (None, "")
            if late:
                reason, detail = _late_reason(job, problem, chosen)
            assignments.append(
                Assignment(job.item, slot.occ.window, slot.occ.start, slot.occ.end, job.wave, job.tier, job.deadline,
                           late, reason, detail, job.revalidation)
            )
            rwd += job.weight * (slot.occ.start.date() - job.item.requested).days
            continue
        if job.pilots and any(p not in chosen for p in job.pilots):
            reason, detail = Reason.WAITING_FOR_PILOT, "its pilot is not planned in the horizon"
        elif job.slots:
            reason, detail = Reason.CAPACITY, "every possible window is full with more urgent work"
        elif job.diag is not None:
            reason, detail = job.diag
        else:
            reason, detail = Reason.NO_WINDOW_BEFORE_DEADLINE, "no usable window in the horizon"
        unplanned.append(Unplanned(job.item, job.tier, job.deadline, reason, detail, earliest))
    candidates = []
    for a in assignments:
        if a.late and a.reason is not None:
            candidates.append(_candidate(policy, a.item, a.tier, a.deadline, a.reason, a.detail))
    for u in unplanned:
        if u.reason is not Reason.UNKNOWN_ASSET:
            candidates.append(_candidate(policy, u.item, u.tier, u.deadline, u.reason, u.detail))
    assignments.sort(key=lambda a: (a.start, a.window, a.item.asset_id, a.item.patch_ref))
    unplanned.sort(key=lambda u: (u.item.asset_id, u.item.patch_ref))
    candidates.sort(key=lambda c: (c.asset, c.patch))
    deferred = sorted(problem.deferred, key=lambda d: (d.item.asset_id, d.item.patch_ref))
    return PatchPlan(problem.today, problem.horizon_end, used, status, objective, bound, gap, 0.0,
                     tuple(assignments), tuple(unplanned), tuple(deferred), tuple(candidates), tuple(notes), rwd)


def _late_reason(job: _Job, problem: Problem, chosen: dict[int, int]) -> tuple[Reason, str]:
    if job.diag is not None:
        return job.diag
    slots = problem.slots
    if job.pilots:
        ready = max(slots[chosen[p]].day for p in job.pilots if p in chosen) + job.soak
        if all(slots[s].day < ready for s in job.slots if slots[s].occ.start.date() <= job.deadline):
            return Reason.WAITING_FOR_PILOT, f"the pilot plus {job.soak} days of soak ends after the deadline {job.deadline}"
    return Reason.CAPACITY, f"the windows before the deadline {job.deadline} are full with more urgent work"


def _candidate(policy: Any, item: RemediationItem, tier: int, deadline: dt.date | None, reason: Reason,
               detail: str) -> DeferralCandidate:
    tp = policy.tier(tier) if tier else None
    max_expiry = deadline + dt.timedelta(days=tp.max_deferral_days) if (tp and deadline) else None
    return DeferralCandidate(item.asset_id, item.patch_ref, reason, detail, deadline, max_expiry,
                             tuple(tp.defer_roles) if tp else ())


def open_items(doc: SiteDocument, extra: Iterable[RemediationItem] = ()) -> list[RemediationItem]:
    """The site's vendor patches as items, plus ``extra`` (e.g. from advisory findings), one per
    patch and asset, sorted.

    A vendor patch that names an advisory (``advisory:``) stands for that advisory's findings on
    its assets: the finding item is dropped, so the patch's vendor qualification, duration and
    pilot wave apply (a finding alone never carries a qualification).
    """
    from zonewarden.domain.patching import items_from_patches

    out = {i.key: i for i in items_from_patches(doc.patches)}
    covered = {(p.advisory, a) for p in doc.patches if p.advisory for a in p.assets}
    for i in extra:
        if (i.patch_ref, i.asset_id) in covered:
            continue
        out.setdefault(i.key, i)
    return [out[k] for k in sorted(out)]


def check_plan(problem: Problem, plan: PatchPlan, doc: SiteDocument) -> list[str]:
    """Every constraint the plan breaks (empty for a valid plan); used by tests and the bench."""
    out: list[str] = []
    windows = {w.id: w for w in doc.maintenance_windows}
    assets = doc.asset_index()
    by_occ: dict[tuple[str, dt.datetime], list[Assignment]] = defaultdict(list)
    for a in plan.assignments:
        by_occ[(a.window, a.start)].append(a)
        asset = assets[a.item.asset_id]
        occ = Occurrence(a.window, a.start, a.end)
        if not windows[a.window].scope.covers(asset):
            out.append(f"{a.item.key}: window {a.window} does not cover the asset")
        for b in doc.blackouts:
            if b.scope.covers(asset) and b.blocks(occ):
                out.append(f"{a.item.key}: in blackout {b.id}")
        if a.start.date() < max(plan.today, a.item.requested):
            out.append(f"{a.item.key}: before its request or today")
    jobs = {j.item.key: j for j in problem.jobs}
    for (wid, _start), group in by_occ.items():
        w = windows[wid]
        assets_used = {a.item.asset_id for a in group}
        if w.capacity_assets is not None and len(assets_used) > w.capacity_assets:
            out.append(f"{wid} {_start}: {count(len(assets_used), 'asset')} > capacity {w.capacity_assets}")
        minutes = sum(jobs[a.item.key].duration for a in group)
        if w.capacity_hours is not None and minutes > w.capacity_hours * 60:
            out.append(f"{wid} {_start}: {minutes} min > capacity {w.capacity_hours} h")
        per_asset: dict[str, int] = defaultdict(int)
        for a in group:
            per_asset[a.item.asset_id] += jobs[a.item.key].duration
        for aid, mins in per_asset.items():
            if mins > (group[0].end - group[0].start).total_seconds() / 60:
                out.append(f"{wid} {_start}: {aid}'s patches take {mins} min, longer than the window")
    placed = {a.item.key: a for a in plan.assignments}
    for job in problem.jobs:
        found = placed.get(job.item.key)
        if found is None:
            continue
        a = found
        w = windows[a.window]
        if a.start.date() < job.earliest:
            out.append(f"{job.item.key}: before {job.earliest} (request, qualification or pilot soak)")
        if job.restart and not w.allows_restart:
            out.append(f"{job.item.key}: needs a restart, window {a.window} allows none")
        if (a.end - a.start).total_seconds() / 60 < job.duration:
            out.append(f"{job.item.key}: {job.duration} min do not fit in the window")
        for p in job.pilots:
            pk = problem.jobs[p].item.key
            if pk not in placed:
                out.append(f"{job.item.key}: production without its pilot {pk}")
            elif (a.start.date() - placed[pk].start.date()).days < job.soak:
                out.append(f"{job.item.key}: less than {job.soak} days after pilot {pk}")
        if a.start.date() > job.deadline and a.reason is None:
            out.append(f"{job.item.key}: late without a reason")
    reported = {u.item.key for u in plan.unplanned} | {k for k in placed} | {d.item.key for d in plan.deferred}
    for job in problem.jobs:
        if job.item.key not in reported:
            out.append(f"{job.item.key}: neither planned nor reported")
    return out


__all__ = [
    "Assignment",
    "DeferralCandidate",
    "Deferred",
    "LATE_FACTOR",
    "PatchPlan",
    "Problem",
    "Reason",
    "Unplanned",
    "build_problem",
    "check_plan",
    "open_items",
    "plan_patches",
    "relaxed_bound",
]
