"""IEC 62443-3-3 gap analysis: SL-A from requirement statuses, SL-C limits from assets, the gap
to SL-T, and the ISO/IEC 27001:2022 Annex A view of the same statuses.

Pure: a site document, the requirement catalog and ``today`` in, frozen sorted results out.

SL-A on one FR (IEC 62443-3-3 clause 4 / annex B) is the highest level L such that every SR
and RE of that FR required at L (``min_sl <= L``) is met. A requirement is *met* when it is
``implemented``; when it is ``compensated`` by a control that is approved and not expired on
``today`` and that covers this requirement and this zone or conduit; or when it is
``not-applicable`` with a justification. An RE without a status of its own carries its SR's
``not-applicable`` (a requirement that does not apply cannot have an enhancement that does);
a status recorded for the RE itself always wins. ``partial``, ``planned``, ``not-implemented`` and
requirements with no status at all are not met. Because levels are cumulative, SL-A is simply
one below the smallest ``min_sl`` among the unmet requirements of the FR (4 when none is unmet),
which is what makes this one pass over the statuses instead of a scan per level.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from zonewarden.domain.levels import FR, SLAchieved, SLCapability, SLTarget
from zonewarden.domain.requirements import (
    CompensatingControl,
    ControlValidity,
    RequirementStatus,
    Status,
    control_validity,
)
from zonewarden.domain.site import SiteDocument
from zonewarden.wording import count

# --- what the engine needs from the catalog --------------------------------------------------


class RequirementInfo(Protocol):
    """One SR or RE as the catalog describes it."""

    @property
    def id(self) -> str: ...  # canonical, e.g. "SR 1.1 RE 1"
    @property
    def fr(self) -> FR | str: ...
    @property
    def min_sl(self) -> int: ...
    @property
    def name(self) -> str: ...


class AnnexControlInfo(Protocol):
    """One ISO/IEC 27001:2022 Annex A control."""

    @property
    def id(self) -> str: ...  # e.g. "A.8.5"
    @property
    def title(self) -> str: ...
    @property
    def theme(self) -> str: ...


class MappingInfo(Protocol):
    """One SR/RE → Annex A pair with the kind of relation."""

    @property
    def requirement(self) -> str: ...
    @property
    def control(self) -> str: ...
    @property
    def relation(self) -> str: ...
    # ``rationale`` (one line, why the pair holds) is read when present: catalog links carry it.


# --- results ---------------------------------------------------------------------------------

TargetKind = Literal["zone", "conduit"]


@dataclass(frozen=True, slots=True)
class RequirementState:
    """How one SR/RE stands for one zone or conduit, when it is not simply implemented."""

    requirement: str
    """Canonical id, e.g. ``SR 1.1 RE 1``."""
    fr: FR
    min_sl: int
    """Lowest SL at which the requirement applies."""
    name: str
    status: Status | None
    """Recorded status; ``None`` when the site file says nothing about this requirement."""
    met: bool
    """Whether it counts towards SL-A on ``as_of``."""
    reason: str
    """Plain words: why it counts or not."""
    compensating_control: str | None = None
    target_date: dt.date | None = None
    exception: str | None = None
    """An active exception that accepts this requirement not being met (it still does not count)."""
    inherited_from: str | None = None
    """The SR whose ``not-applicable`` status this RE carries (it has no status of its own)."""

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.min_sl, _req_order(self.requirement))


@dataclass(frozen=True, slots=True)
class FRGap:
    """One zone or conduit on one FR."""

    fr: FR
    sl_target: int | None
    """SL-T on this FR, or ``None`` when the zone or conduit has no SL-T."""
    sl_achieved: int
    sl_capability: int | None
    """The SL-C limit from the zone's assets (weakest asset); ``None`` when no asset states one."""
    limiting_assets: tuple[str, ...]
    """Assets whose SL-C equals the limit, sorted."""
    gap: int | None
    """Levels missing to the target (0 when met); ``None`` without an SL-T."""
    missing_next: tuple[RequirementState, ...]
    """Unmet requirements of the next level (SL-A + 1): what blocks the next step."""
    missing_for_target: tuple[RequirementState, ...]
    """Every unmet requirement up to SL-T."""
    capability_blocks_target: bool
    """True when the assets' SL-C limit is below SL-T: statuses alone cannot close the gap."""


@dataclass(frozen=True, slots=True)
class TargetGap:
    """Gap analysis of one zone or conduit."""

    target: str
    kind: TargetKind
    name: str | None
    sl_target: SLTarget | None
    sl_achieved: SLAchieved
    sl_capability: SLCapability | None
    frs: tuple[FRGap, ...]
    """FR1..FR7 in order."""
    states: tuple[RequirementState, ...]
    """Every requirement that is not plainly implemented (unmet, compensated, not applicable),
    sorted by FR, level and id."""
    unknown_capability: tuple[str, ...] = ()
    """Assets of the zone with no stated SL-C (they do not limit, but the limit is less sure)."""
    exceptions: tuple[str, ...] = ()
    """Active exceptions scoped to this zone or conduit."""
    recorded: int = 0
    """Statuses recorded for it; 0 means it was not assessed (every requirement counts as unmet)."""

    @property
    def assessed(self) -> bool:
        """False when no status is recorded for it: SL-A is 0 on every FR, for want of an assessment."""
        return self.recorded > 0

    def fr(self, fr: FR | str) -> FRGap:
        return self.frs[list(FR).index(FR(fr))]


@dataclass(frozen=True, slots=True)
class ControlReport:
    """A compensating control on ``as_of``."""

    control: str
    title: str
    validity: ControlValidity
    review_overdue: bool
    expires: dt.date
    used_by: tuple[tuple[str, str], ...]
    """(target, requirement) pairs whose status is ``compensated`` by this control, sorted."""
    reason: str


@dataclass(frozen=True, slots=True)
class ExpiredCompensation:
    """A status that relies on a compensating control which no longer (or not yet) counts."""

    target: str
    requirement: str
    control: str
    validity: ControlValidity
    since: dt.date | None
    """When it stopped counting (the expiry date), when known."""


@dataclass(frozen=True, slots=True)
class ExceptionReport:
    exception: str
    title: str
    active: bool
    expires: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class Undecided:
    """Something the engine could not use, and why (results are data, never silently skipped)."""

    subject: str
    reason: str
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class GapReport:
    as_of: dt.date
    targets: tuple[TargetGap, ...]
    """Zones first, then conduits, each sorted by id."""
    controls: tuple[ControlReport, ...]
    expired_compensations: tuple[ExpiredCompensation, ...]
    exceptions: tuple[ExceptionReport, ...]
    undecided: tuple[Undecided, ...]
    _index: dict[str, TargetGap] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {t.target: t for t in self.targets})

    def target(self, ident: str) -> TargetGap:
        try:
            return self._index[ident]
        except KeyError:
            raise KeyError(f"no zone or conduit {ident!r} in the gap report") from None


# --- helpers ---------------------------------------------------------------------------------


def _req_order(ident: str) -> str:
    # "SR 1.10" sorts after "SR 1.9": compare numbers, not text.
    parts = ident.replace("SR ", "").replace(" RE ", ".").split(".")
    return ".".join(f"{int(p):03d}" for p in parts)


def _fmt_level(level: int | None) -> str:
    return "-" if level is None else str(level)


@dataclass(frozen=True, slots=True)
class _Req:
    id: str
    fr: FR
    min_sl: int
    name: str


def _prepare(catalog: Iterable[RequirementInfo]) -> tuple[dict[str, _Req], tuple[_Req, ...]]:
    reqs = sorted(
        (_Req(r.id, FR(r.fr), int(r.min_sl), r.name) for r in catalog),
        key=lambda r: (list(FR).index(r.fr), r.min_sl, _req_order(r.id)),
    )
    return {r.id: r for r in reqs}, tuple(reqs)


def _evaluate(
    req_id: str,
    st: RequirementStatus | None,
    target: str,
    controls: Mapping[str, CompensatingControl],
    validity: Mapping[str, ControlValidity],
) -> tuple[bool, str]:
    """Whether ``st`` makes ``req`` count for ``target``, and why, in plain words."""
    if st is None:
        return False, "no status recorded"
    s = st.status
    if s is Status.IMPLEMENTED:
        return True, "implemented"
    if s is Status.NOT_APPLICABLE:
        if (st.justification or "").strip():
            return True, f"not applicable: {st.justification}"
        return False, "marked not applicable without a justification, so it does not count"
    if s is Status.COMPENSATED:
        cc_id = st.compensating_control
        cc = controls.get(cc_id or "")
        if cc is None:
            return False, f"marked compensated, but compensating control {cc_id!r} does not exist"
        if req_id not in cc.covers or not cc.applies_to(target):
            return False, f"marked compensated, but {cc.id} does not cover {req_id} for {target}"
        v = validity[cc.id]
        if v is ControlValidity.VALID:
            return True, f"compensated by {cc.id} (approved {cc.approved}, counts until {cc.expires})"
        if v is ControlValidity.EXPIRED:
            return False, f"compensated by {cc.id}, which expired on {cc.expires}, so it no longer counts"
        if v is ControlValidity.PENDING:
            return False, f"compensated by {cc.id}, which is not approved yet"
        return False, f"compensated by {cc.id}, whose approval is dated {cc.approved}, after the analysis date"
    if s is Status.PLANNED:
        when = f" for {st.target_date}" if st.target_date else " (no date)"
        return False, f"planned{when}"
    if s is Status.PARTIAL:
        return False, "only partly implemented"
    return False, "not implemented"


# --- the analysis ----------------------------------------------------------------------------


def analyse(
    doc: SiteDocument,
    catalog: Iterable[RequirementInfo],
    today: dt.date,
    *,
    zones: Sequence[str] | None = None,
) -> GapReport:
    """Gap analysis of every zone and conduit of ``doc`` (or only ``zones``) on ``today``.

    ``catalog`` is the list of IEC 62443-3-3 SRs and REs (``load_62443_3_3()`` iterates as one).
    """
    by_id, reqs = _prepare(catalog)
    all_ids = frozenset(by_id)
    position = {r.id: i for i, r in enumerate(reqs)}  # FR, level, id order
    controls = {c.id: c for c in doc.compensating_controls}
    validity = {c.id: control_validity(c, today) for c in doc.compensating_controls}
    undecided: list[Undecided] = []

    targets: dict[str, tuple[TargetKind, str | None, SLTarget | None]] = {}
    for z in doc.zones:
        targets[z.id] = ("zone", z.name, z.sl_target)
    for c in doc.conduits:
        targets.setdefault(c.id, ("conduit", c.name, c.sl_target))
    wanted = set(zones) if zones is not None else None
    if wanted is not None:
        for ident in sorted(wanted - targets.keys()):
            undecided.append(Undecided(ident, "no such zone or conduit in the site"))

    # One pass over the statuses: group them by target, keep what cannot be used as data.
    # Implemented pairs (the vast majority) only go into a set per target, so the per-target
    # work below is a set difference plus a loop over the few requirements that are not.
    implemented: dict[str, set[str]] = {}
    statuses: dict[str, dict[str, RequirementStatus]] = {}
    expired: list[ExpiredCompensation] = []
    used_by: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for i, st in enumerate(doc.requirements):
        t, r = st.target, st.requirement
        done = implemented.get(t)
        if done is None:
            if t not in targets:
                undecided.append(Undecided(t, "status for an unknown zone or conduit", ("requirements", i)))
                continue
            done = implemented[t] = set()
            statuses[t] = {}
        other = statuses[t]
        if r in done or r in other:
            undecided.append(Undecided(t, f"second status for {r} ignored (the first one counts)", ("requirements", i)))
            continue
        if r not in by_id:
            undecided.append(Undecided(t, f"unknown requirement {r}", ("requirements", i, "requirement")))
            continue
        if st.status is Status.IMPLEMENTED:
            done.add(r)
            continue
        other[r] = st
        cc_id = st.compensating_control
        if st.status is Status.COMPENSATED and cc_id in controls:
            used_by[cc_id].append((t, r))
            v = validity[cc_id]
            if v is not ControlValidity.VALID:
                since = controls[cc_id].expires if v is ControlValidity.EXPIRED else None
                expired.append(ExpiredCompensation(t, r, cc_id, v, since))

    # Exceptions: which (target, requirement) pairs an active one accepts.
    zone_of_asset = {a.id: a.zone for a in doc.assets} if any(e.assets for e in doc.exceptions) else {}
    accepted: dict[tuple[str, str], str] = {}
    target_exceptions: dict[str, list[str]] = defaultdict(list)
    ex_reports: list[ExceptionReport] = []
    for ex in sorted(doc.exceptions, key=lambda e: e.id):
        active = ex.active(today)
        if active:
            reason = f"active until {ex.expires}"
        elif today < ex.approved:
            reason = f"approved with effect from {ex.approved}"
        else:
            reason = f"expired on {ex.expires}: the departure is no longer accepted"
        ex_reports.append(ExceptionReport(ex.id, ex.title, active, ex.expires, reason))
        if not active:
            continue
        scope: set[str] = set(ex.zones) | set(ex.conduits)
        scope |= {home for aid in ex.assets if (home := zone_of_asset.get(aid))}
        for scoped in sorted(scope):
            target_exceptions[scoped].append(ex.id)
            for r in ex.requirements:
                accepted.setdefault((scoped, r), ex.id)

    # One pass over the assets: per zone, the stated SL-C of each asset as a plain tuple
    # (indexing the pydantic vector per asset and FR costs seconds on a 100k-asset site).
    declared: dict[str, SLCapability] = {d.asset: d.capability for d in doc.capabilities}
    zone_caps: dict[str, list[tuple[str, tuple[int, ...]]]] = defaultdict(list)
    zone_unknown: dict[str, list[str]] = defaultdict(list)
    for asset in doc.assets:
        home = asset.zone
        if home is None:
            continue
        cap = declared.get(asset.id) if declared else None
        if cap is None:
            cap = asset.capability
        if cap is None:
            zone_unknown[home].append(asset.id)
        else:
            zone_caps[home].append((asset.id, cap.as_tuple()))

    results: list[TargetGap] = []
    order = sorted(targets, key=lambda t: (targets[t][0] != "zone", t))
    for ident in order:
        if wanted is not None and ident not in wanted:
            continue
        kind, name, sl_t = targets[ident]
        if sl_t is None:
            undecided.append(Undecided(ident, f"{kind} has no SL-T, so its gap cannot be computed"))
        own = statuses.get(ident, {})
        done = implemented.get(ident, set())
        states: list[RequirementState] = []
        lowest_unmet = dict.fromkeys(FR, 5)
        for rid in sorted(all_ids - done, key=position.__getitem__):
            req = by_id[rid]
            found = own.get(rid)
            inherited = None
            if found is None and " RE " in rid:
                # A not-applicable SR carries to its REs unless an RE has a status of its own.
                parent = own.get(rid.split(" RE ", 1)[0])
                if parent is not None and parent.status is Status.NOT_APPLICABLE:
                    found, inherited = parent, parent.requirement
            met, reason = _evaluate(rid, found, ident, controls, validity)
            if inherited is not None:
                reason = f"{reason} (from {inherited}, which has no status of its own for this RE)"
            states.append(
                RequirementState(
                    requirement=rid,
                    fr=req.fr,
                    min_sl=req.min_sl,
                    name=req.name,
                    status=found.status if found else None,
                    met=met,
                    reason=reason,
                    compensating_control=found.compensating_control if found else None,
                    target_date=found.target_date if found else None,
                    exception=None if met else accepted.get((ident, rid)),
                    inherited_from=inherited,
                )
            )
            if not met and req.min_sl < lowest_unmet[req.fr]:
                lowest_unmet[req.fr] = req.min_sl
        achieved = {fr: (lvl - 1 if lvl <= 4 else 4) for fr, lvl in lowest_unmet.items()}
        unmet_by_fr: dict[FR, list[RequirementState]] = {fr: [] for fr in FR}
        for state in states:
            if not state.met:
                unmet_by_fr[state.fr].append(state)

        # SL-C limit: element-wise minimum over the zone's assets that state one.
        cap_vec: SLCapability | None = None
        limiting: dict[FR, tuple[str, ...]] = {fr: () for fr in FR}
        unknown: list[str] = []
        if kind == "zone":
            known = sorted(zone_caps.get(ident, ()))
            unknown = sorted(zone_unknown.get(ident, ()))
            if known:
                mins = tuple(map(min, zip(*(c for _, c in known), strict=True)))
                cap_vec = SLCapability.model_validate(list(mins))
                limiting = {
                    fr: tuple(a for a, c in known if c[i] == mins[i]) for i, fr in enumerate(FR)
                }

        sl_a = SLAchieved.from_mapping(achieved)
        t_levels = sl_t.as_tuple() if sl_t is not None else None
        c_levels = cap_vec.as_tuple() if cap_vec is not None else None
        frs: list[FRGap] = []
        for i, fr in enumerate(FR):
            lvl_a = achieved[fr]
            lvl_t = t_levels[i] if t_levels is not None else None
            lvl_c = c_levels[i] if c_levels is not None else None
            unmet = unmet_by_fr[fr]
            frs.append(
                FRGap(
                    fr=fr,
                    sl_target=lvl_t,
                    sl_achieved=lvl_a,
                    sl_capability=lvl_c,
                    limiting_assets=limiting[fr] if lvl_c is not None else (),
                    gap=max(0, lvl_t - lvl_a) if lvl_t is not None else None,
                    missing_next=tuple(s for s in unmet if s.min_sl == lvl_a + 1),
                    missing_for_target=tuple(s for s in unmet if lvl_t is not None and s.min_sl <= lvl_t),
                    capability_blocks_target=lvl_t is not None and lvl_c is not None and lvl_c < lvl_t,
                )
            )
        results.append(
            TargetGap(
                target=ident,
                kind=kind,
                name=name,
                sl_target=sl_t,
                sl_achieved=sl_a,
                sl_capability=cap_vec,
                frs=tuple(frs),
                states=tuple(states),
                unknown_capability=tuple(unknown),
                exceptions=tuple(target_exceptions.get(ident, ())),
                recorded=len(own),
            )
        )

    ctl_reports = []
    for cc in sorted(doc.compensating_controls, key=lambda c: c.id):
        v = validity[cc.id]
        overdue = cc.review <= today and v is not ControlValidity.EXPIRED
        reason = {
            ControlValidity.VALID: f"counts until {cc.expires}",
            ControlValidity.EXPIRED: f"expired on {cc.expires}; the statuses relying on it no longer count",
            ControlValidity.PENDING: "waiting for approval; does not count yet",
            ControlValidity.NOT_YET_APPROVED: f"approval dated {cc.approved}, after {today}",
        }[v]
        if overdue:
            reason += f"; review was due on {cc.review}"
        ctl_reports.append(
            ControlReport(cc.id, cc.title, v, overdue, cc.expires, tuple(sorted(used_by.get(cc.id, ()))), reason)
        )

    return GapReport(
        as_of=today,
        targets=tuple(results),
        controls=tuple(ctl_reports),
        expired_compensations=tuple(
            sorted(expired, key=lambda e: (e.target, _req_order(e.requirement)))
        ),
        exceptions=tuple(ex_reports),
        undecided=tuple(sorted(undecided, key=lambda u: (u.subject, u.reason, str(u.path)))),
    )


# --- explanation -----------------------------------------------------------------------------


def _state_words(s: RequirementState) -> str:
    return f"{s.requirement} ({s.name}, required from SL {s.min_sl}): {s.reason}"


def explain(report: GapReport, target: str, fr: FR | str) -> list[str]:
    """Plain-language reasoning for one zone or conduit on one FR, one sentence per line."""
    tg = report.target(target)
    fr = FR(fr)
    g = tg.fr(fr)
    label = f"{tg.kind} {tg.target}" + (f" ({tg.name})" if tg.name else "")
    lines = [
        f"{label}, {fr.value} {fr.full_name}, as of {report.as_of}: "
        f"SL-T {_fmt_level(g.sl_target)}, SL-A {g.sl_achieved}, SL-C limit {_fmt_level(g.sl_capability)}."
    ]
    if g.sl_achieved == 4:
        lines.append(f"SL-A on {fr.value} is 4: every {fr.value} requirement up to SL 4 is met.")
    else:
        nxt = g.sl_achieved + 1
        blockers = g.missing_next
        names = ", ".join(f"{s.requirement} (required from SL {s.min_sl}) is {_short(s)}" for s in blockers)
        lines.append(f"SL-A on {fr.value} is {g.sl_achieved} because {names}.")
        if nxt > 1:
            lines.append(f"Every {fr.value} requirement up to SL {g.sl_achieved} is met.")
        for s in blockers:
            lines.append(f"- {_state_words(s)}" + (f" (accepted by exception {s.exception})" if s.exception else ""))
    counted = [s for s in tg.states if s.fr is fr and s.met and s.min_sl <= max(g.sl_achieved, 1)]
    for s in counted:
        lines.append(f"{s.requirement} counts as met: {s.reason.rstrip('.')}.")
    for e in report.expired_compensations:
        if e.target == tg.target and _fr_of(e.requirement) is fr:
            lines.append(
                f"{e.requirement} relies on compensating control {e.control}, which "
                + (f"expired on {e.since}" if e.since else e.validity.value.replace("-", " "))
                + ", so it does not count."
            )
    if g.sl_target is None:
        lines.append(f"The {tg.kind} has no SL-T, so there is no gap to compute; set sl_target.")
    elif g.gap == 0:
        lines.append(f"The target SL {g.sl_target} is met on {fr.value}.")
    else:
        lines.append(
            f"Gap to the target: {g.gap} level{'s' if g.gap != 1 else ''}; "
            f"{len(g.missing_for_target)} requirement{'s' if len(g.missing_for_target) != 1 else ''} "
            f"up to SL {g.sl_target} still to meet: "
            + ", ".join(s.requirement for s in g.missing_for_target)
            + "."
        )
    if tg.kind == "zone":
        if g.sl_capability is None:
            lines.append("No asset in the zone states an SL-C, so its capability limit is unknown.")
        else:
            weakest = ", ".join(g.limiting_assets)
            if g.capability_blocks_target:
                lines.append(
                    f"The zone cannot reach SL {g.sl_target} on {fr.value} while "
                    f"{'asset' if len(g.limiting_assets) == 1 else 'assets'} {weakest} "
                    f"(SL-C {g.sl_capability}) {'is' if len(g.limiting_assets) == 1 else 'are'} in it."
                )
            elif g.sl_capability < 4:
                lines.append(
                    f"The zone's assets allow up to SL {g.sl_capability} on {fr.value}; "
                    f"the weakest: {weakest}."
                )
            else:
                lines.append(f"The zone's assets allow SL 4 on {fr.value}.")
        if tg.unknown_capability:
            n = len(tg.unknown_capability)
            shown = ", ".join(tg.unknown_capability[:5])
            more = n - 5
            # "The others" only when some asset does state an SL-C; otherwise there is no limit
            # to rest on (the line above already says it is unknown).
            lines.append(
                f"{count(n, 'asset')} {'states' if n == 1 else 'state'} no SL-C ({shown}"
                + (f" and {more} more" if more > 0 else "")
                + ("); the limit rests on the others." if g.sl_capability is not None else ").")
            )
    return lines


def _short(s: RequirementState) -> str:
    if s.status is None:
        return "without a recorded status"
    if s.status is Status.COMPENSATED:
        return "compensated by a control that does not count"
    if s.status is Status.NOT_APPLICABLE:
        return "marked not applicable without a justification"
    if s.status is Status.PLANNED:
        return f"only planned{f' for {s.target_date}' if s.target_date else ''}"
    if s.status is Status.PARTIAL:
        return "only partly implemented"
    return "not implemented"


def _fr_of(requirement: str) -> FR:
    return FR(f"FR{requirement.split()[1].split('.')[0]}")


# --- ISO/IEC 27001:2022 Annex A view ---------------------------------------------------------


class Coverage(StrEnum):
    FULL = "full"
    """Every recorded zone/conduit status of every mapped requirement counts as met."""
    PARTIAL = "partial"
    """Some do."""
    NONE = "none"
    """Mapped requirements have statuses, but no implemented (or validly compensated) one supports it."""
    NOT_ASSESSED = "not-assessed"
    """Mapped requirements exist, but no zone or conduit records a status for any of them."""
    UNMAPPED = "unmapped"
    """No IEC 62443-3-3 requirement maps to the control (often organisational controls)."""


@dataclass(frozen=True, slots=True)
class AnnexLink:
    """One mapped requirement of a control: how it relates and why (the mapping's own words)."""

    requirement: str
    relation: str
    rationale: str


@dataclass(frozen=True, slots=True)
class AnnexCoverage:
    control: str
    title: str
    theme: str
    coverage: Coverage
    requirements: tuple[tuple[str, str], ...]
    """Mapped (requirement, relation) pairs, sorted."""
    supporting: tuple[str, ...]
    """Mapped requirements met in at least one zone or conduit."""
    met: int
    """(zone or conduit, requirement) pairs that count as met."""
    recorded: int
    """(zone or conduit, requirement) pairs with a status (not-applicable ones excluded)."""
    links: tuple[AnnexLink, ...] = ()
    """The pairs of ``requirements`` with their rationale, in the same order."""


def _annex_order(ident: str) -> tuple[int, ...]:
    return tuple(int(p) for p in ident.removeprefix("A.").split(".") if p.isdigit())


def annex_a_coverage(
    doc: SiteDocument,
    controls: Iterable[AnnexControlInfo],
    mapping: Iterable[MappingInfo],
    today: dt.date,
) -> tuple[AnnexCoverage, ...]:
    """ISO/IEC 27001:2022 Annex A coverage derived from the 62443 statuses through ``mapping``.

    A pair (zone or conduit, requirement) *supports* the controls its requirement maps to when
    it counts as met (same rule as SL-A). ``not-applicable`` pairs are left out of the counts.
    """
    cc_by_id = {c.id: c for c in doc.compensating_controls}
    validity = {c.id: control_validity(c, today) for c in doc.compensating_controls}
    met: dict[str, int] = defaultdict(int)
    recorded: dict[str, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    for st in doc.requirements:
        key = (st.target, st.requirement)
        if key in seen or st.status is Status.NOT_APPLICABLE:
            continue
        seen.add(key)
        recorded[st.requirement] += 1
        if st.status is Status.IMPLEMENTED or _evaluate(st.requirement, st, st.target, cc_by_id, validity)[0]:
            met[st.requirement] += 1
    by_control: dict[str, list[tuple[str, str]]] = defaultdict(list)
    why: dict[tuple[str, str, str], str] = {}
    for m in mapping:
        by_control[m.control].append((m.requirement, str(m.relation)))
        why[(m.control, m.requirement, str(m.relation))] = str(getattr(m, "rationale", "") or "")
    out = []
    for c in sorted(controls, key=lambda c: _annex_order(c.id)):
        pairs = tuple(sorted(set(by_control.get(c.id, ())), key=lambda p: (_req_order(p[0]), p[1])))
        reqs = sorted({r for r, _ in pairs}, key=_req_order)
        n_met = sum(met[r] for r in reqs)
        n_rec = sum(recorded[r] for r in reqs)
        if not pairs:
            cov = Coverage.UNMAPPED
        elif n_rec == 0:
            cov = Coverage.NOT_ASSESSED
        elif n_met == 0:
            cov = Coverage.NONE
        elif n_met == n_rec:
            cov = Coverage.FULL
        else:
            cov = Coverage.PARTIAL
        out.append(
            AnnexCoverage(
                control=c.id,
                title=c.title,
                theme=str(c.theme),
                coverage=cov,
                requirements=pairs,
                supporting=tuple(r for r in reqs if met[r] > 0),
                met=n_met,
                recorded=n_rec,
                links=tuple(AnnexLink(r, rel, why.get((c.id, r, rel), "")) for r, rel in pairs),
            )
        )
    return tuple(out)


__all__ = [
    "AnnexCoverage",
    "AnnexLink",
    "ControlReport",
    "Coverage",
    "ExceptionReport",
    "ExpiredCompensation",
    "FRGap",
    "GapReport",
    "RequirementState",
    "TargetGap",
    "Undecided",
    "analyse",
    "annex_a_coverage",
    "explain",
]
