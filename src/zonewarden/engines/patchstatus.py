"""Patch status: compliance with the patch policy by tier, open and overdue items, deferrals and
where the plant carries risk to protect uptime.

Pure: a site document, the remediation items and ``today`` in, a :class:`PatchStatus` out.
Every item ends in exactly one state:

========================  ================================================================
``patched``               a patch change with outcome success is implemented or closed
``patched-late``          as above, after the policy deadline
``open``                  not patched, deadline not reached
``overdue``               not patched, deadline passed, no active deferral
``deferred``              an approved deferral is in force
``deferral-expired``      the deferral ran out and the patch is still missing (counts as overdue)
``not-patchable``         the asset can never take patches (profile), no deferral recorded
========================  ================================================================

A requested but unapproved deferral changes nothing (the item is open or overdue by its
deadline); it is listed under ``deferral_issues`` so the approver sees it.

"Within policy" means patched on time, open before the deadline, or deferred by an approved,
unexpired deferral that stays inside the tier's maximum (or carries a risk acceptance).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from zonewarden.domain.patching import Deferral, RemediationItem
from zonewarden.domain.requirements import CompensatingControl, ControlValidity, control_validity
from zonewarden.engines.patchplan import CRITICALITY_FACTOR

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.domain.site import SiteDocument


class ItemState(StrEnum):
    PATCHED = "patched"
    PATCHED_LATE = "patched-late"
    OPEN = "open"
    OVERDUE = "overdue"
    DEFERRED = "deferred"
    DEFERRAL_EXPIRED = "deferral-expired"
    NOT_PATCHABLE = "not-patchable"

    @property
    def carries_risk(self) -> bool:
        """The vulnerability is still there and past or beside the normal cycle."""
        return self in (ItemState.OVERDUE, ItemState.DEFERRED, ItemState.DEFERRAL_EXPIRED, ItemState.NOT_PATCHABLE)


@dataclass(frozen=True, slots=True)
class ControlRef:
    """A compensating control a deferral relies on, and whether it counts today."""

    id: str
    validity: str
    expires: dt.date | None


@dataclass(frozen=True, slots=True)
class ItemStatus:
    """One patch x one asset on ``today``."""

    item: RemediationItem
    zone: str | None
    tier: int
    deadline: dt.date
    state: ItemState
    within_policy: bool
    days_overdue: int
    weight: int
    """Risk weight: SSVC priority weight x asset criticality factor."""
    deferral: str | None = None
    deferral_expires: dt.date | None = None
    controls: tuple[ControlRef, ...] = ()
    requirements: tuple[str, ...] = ()
    needs_risk_acceptance: bool = False
    """Deferred (or carried) beyond the tier's maximum deferral without a risk acceptance."""
    risk_acceptance: str | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset": self.item.asset_id,
            "patch": self.item.patch_ref,
            "title": self.item.title,
            "zone": self.zone,
            "tier": self.tier,
            "priority": self.item.priority.value,
            "source": self.item.source,
            "cves": list(self.item.cves),
            "deadline": self.deadline.isoformat(),
            "state": self.state.value,
            "within_policy": self.within_policy,
            "days_overdue": self.days_overdue,
            "weight": self.weight,
            "deferral": self.deferral,
            "deferral_expires": self.deferral_expires.isoformat() if self.deferral_expires else None,
            "controls": [
                {"id": c.id, "validity": c.validity, "expires": c.expires.isoformat() if c.expires else None}
                for c in self.controls
            ],
            "requirements": list(self.requirements),
            "needs_risk_acceptance": self.needs_risk_acceptance,
            "risk_acceptance": self.risk_acceptance,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class TierCompliance:
    tier: int
    total: int
    within_policy: int
    patched: int
    patched_late: int
    open: int
    overdue: int
    deferred: int
    not_patchable: int

    @property
    def compliance(self) -> float | None:
        return None if self.total == 0 else self.within_policy / self.total

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier, "total": self.total, "within_policy": self.within_policy,
            "compliance": None if self.compliance is None else round(self.compliance, 4),
            "patched": self.patched, "patched_late": self.patched_late, "open": self.open,
            "overdue": self.overdue, "deferred": self.deferred, "not_patchable": self.not_patchable,
        }


@dataclass(frozen=True, slots=True)
class ZoneRisk:
    """Where risk is carried: residual exposure per zone from unpatched items past the normal cycle."""

    zone: str
    items: int
    assets: int
    cves: tuple[str, ...]
    weight: int
    """Sum of risk weights of the carried items."""
    exposure: int
    """Sum over carried items of weight x days past the deadline (today)."""
    overdue: int
    deferred: int
    not_patchable: int
    controls_valid: int
    controls_not_valid: int
    highest_priority: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone, "items": self.items, "assets": self.assets, "cves": list(self.cves),
            "weight": self.weight, "exposure": self.exposure, "overdue": self.overdue,
            "deferred": self.deferred, "not_patchable": self.not_patchable,
            "controls_valid": self.controls_valid, "controls_not_valid": self.controls_not_valid,
            "highest_priority": self.highest_priority,
        }


@dataclass(frozen=True, slots=True)
class DeferralIssue:
    """A deferral that needs attention: pending approval, expired, past its maximum."""

    deferral: str
    asset: str
    patch: str
    problem: str
    message: str


@dataclass(frozen=True)
class PatchStatus:
    today: dt.date
    items: tuple[ItemStatus, ...]
    tiers: tuple[TierCompliance, ...]
    zones: tuple[ZoneRisk, ...]
    deferral_issues: tuple[DeferralIssue, ...]

    @property
    def overdue(self) -> tuple[ItemStatus, ...]:
        return tuple(i for i in self.items if i.state in (ItemState.OVERDUE, ItemState.DEFERRAL_EXPIRED))

    def as_dict(self) -> dict[str, Any]:
        within = sum(1 for i in self.items if i.within_policy)
        return {
            "as_of": self.today.isoformat(),
            "summary": {
                "items": len(self.items),
                "within_policy": within,
                "compliance": round(within / len(self.items), 4) if self.items else None,
                "overdue": len(self.overdue),
                "deferred": sum(1 for i in self.items if i.state is ItemState.DEFERRED),
                "not_patchable": sum(1 for i in self.items if i.state is ItemState.NOT_PATCHABLE),
                "needs_risk_acceptance": sum(1 for i in self.items if i.needs_risk_acceptance),
            },
            "tiers": [t.as_dict() for t in self.tiers],
            "items": [i.as_dict() for i in self.items],
            "where_risk_is_carried": [z.as_dict() for z in self.zones],
            "deferral_issues": [
                {"deferral": d.deferral, "asset": d.asset, "patch": d.patch, "problem": d.problem, "message": d.message}
                for d in self.deferral_issues
            ],
        }


DOES_NOT_COVER = "does-not-cover"
"""The state of a control a deferral names but whose scope leaves the deferred asset out (a site
stored before references were checked this way)."""


def _control_state(control: CompensatingControl, asset: str, zone: str | None,
                   conduit_ends: Mapping[str, Iterable[str]], today: dt.date) -> str:
    """``does-not-cover`` when the control's scope leaves ``asset`` out, else its validity today."""
    if control.asset_scope_gap(asset, zone, conduit_ends) is not None:
        return DOES_NOT_COVER
    return control_validity(control, today).value


def _state_phrase(state: str) -> str:
    return "does not cover the asset" if state == DOES_NOT_COVER else f"is {state}"


def patch_status(doc: SiteDocument, items: Iterable[RemediationItem], today: dt.date) -> PatchStatus:
    """The status of every item on ``today``, compliance per tier and risk carried per zone."""
    assets = doc.asset_index()
    policy = doc.patch_policy
    controls = {c.id: c for c in doc.compensating_controls}
    conduit_ends = {c.id: c.zones for c in doc.conduits}
    installed: dict[tuple[str, str], dt.date] = {}
    for ch in doc.patch_changes:
        if ch.installed and ch.implemented is not None:
            for a in ch.assets:
                installed[(a, ch.patch)] = min(ch.implemented, installed.get((a, ch.patch), ch.implemented))
    deferrals: dict[tuple[str, str], list[Deferral]] = defaultdict(list)
    for d in doc.deferrals:
        deferrals[(d.asset, d.patch)].append(d)

    out: list[ItemStatus] = []
    for it in sorted({i.key: i for i in items}.values(), key=lambda i: i.key):
        asset = assets.get(it.asset_id)
        if asset is None:
            continue  # the planner reports unknown assets; status is about the inventory
        tier = asset.effective_patch_tier
        tp = policy.tier(tier)
        deadline = it.requested + dt.timedelta(days=tp.target_days(it.priority))
        weight = it.priority.weight * CRITICALITY_FACTOR[asset.criticality.value]
        max_carry = deadline + dt.timedelta(days=tp.max_deferral_days)
        base: dict[str, Any] = {"item": it, "zone": asset.zone, "tier": tier, "deadline": deadline, "weight": weight}
        done = installed.get((it.asset_id, it.patch_ref))
        if done is not None:
            late = done > deadline
            out.append(ItemStatus(**base, state=ItemState.PATCHED_LATE if late else ItemState.PATCHED,
                                  within_policy=not late, days_overdue=0,
                                  note=f"installed {done}"))
            continue
        days_over = max(0, (today - deadline).days)
        approved = [d for d in deferrals.get((it.asset_id, it.patch_ref), []) if d.approved is not None and d.approved <= today]
        current = max(approved, key=lambda d: (d.expires, d.id), default=None)
        profile = policy.profile(it.asset_id)
        if current is not None:
            refs = tuple(
                ControlRef(c, _control_state(controls[c], asset.id, asset.zone, conduit_ends, today), controls[c].expires)
                for c in current.compensating_controls if c in controls
            )
            active = current.active(today)
            # Carried past the tier's maximum: the deferral (chain) reaches beyond deadline + max.
            beyond = (current.expires if active else today) > max_carry
            needs_acceptance = beyond and current.risk_acceptance is None
            controls_ok = all(r.validity == ControlValidity.VALID.value for r in refs)
            note = ""
            if refs and not controls_ok:
                note = "a compensating control it relies on does not count today: " + ", ".join(
                    f"{r.id} ({r.validity})" for r in refs if r.validity != ControlValidity.VALID.value
                )
            out.append(
                ItemStatus(
                    **base,
                    state=ItemState.DEFERRED if active else ItemState.DEFERRAL_EXPIRED,
                    # A deferral whose compensating control no longer counts has lost its cover.
                    within_policy=active and not needs_acceptance and controls_ok,
                    days_overdue=0 if active else max(days_over, (today - current.expires).days),
                    deferral=current.id, deferral_expires=current.expires, controls=refs,
                    requirements=tuple(current.requirements), needs_risk_acceptance=needs_acceptance,
                    risk_acceptance=current.risk_acceptance, note=note,
                )
            )
            continue
        if profile is not None and not profile.patchable:
            out.append(ItemStatus(**base, state=ItemState.NOT_PATCHABLE, within_policy=False, days_overdue=days_over,
                                  needs_risk_acceptance=today > max_carry,
                                  note=f"no deferral recorded; replacement planned by {profile.remediation_date}"))
            continue
        if today > deadline:
            out.append(ItemStatus(**base, state=ItemState.OVERDUE, within_policy=False, days_overdue=days_over,
                                  needs_risk_acceptance=today > max_carry))
        else:
            out.append(ItemStatus(**base, state=ItemState.OPEN, within_policy=True, days_overdue=0))

    tiers = []
    for t in (1, 2, 3, 4):
        mine = [i for i in out if i.tier == t]
        count = {s: sum(1 for i in mine if i.state is s) for s in ItemState}
        tiers.append(
            TierCompliance(
                t, len(mine), sum(1 for i in mine if i.within_policy), count[ItemState.PATCHED],
                count[ItemState.PATCHED_LATE], count[ItemState.OPEN],
                count[ItemState.OVERDUE] + count[ItemState.DEFERRAL_EXPIRED], count[ItemState.DEFERRED],
                count[ItemState.NOT_PATCHABLE],
            )
        )

    zones: dict[str, list[ItemStatus]] = defaultdict(list)
    for i in out:
        if i.state.carries_risk:
            zones[i.zone or "(no zone)"].append(i)
    zone_rows = []
    for z, rows in zones.items():
        ctrl = {c.id: c.validity for r in rows for c in r.controls}
        zone_rows.append(
            ZoneRisk(
                z, len(rows), len({r.item.asset_id for r in rows}),
                tuple(sorted({c for r in rows for c in r.item.cves})),
                sum(r.weight for r in rows),
                sum(r.weight * max(0, (today - r.deadline).days) for r in rows),
                sum(1 for r in rows if r.state in (ItemState.OVERDUE, ItemState.DEFERRAL_EXPIRED)),
                sum(1 for r in rows if r.state is ItemState.DEFERRED),
                sum(1 for r in rows if r.state is ItemState.NOT_PATCHABLE),
                sum(1 for v in ctrl.values() if v == ControlValidity.VALID.value),
                sum(1 for v in ctrl.values() if v != ControlValidity.VALID.value),
                max((r.item.priority for r in rows), key=lambda p: p.rank).value,
            )
        )
    zone_rows.sort(key=lambda z: (-z.exposure, -z.weight, z.zone))

    issues: list[DeferralIssue] = []
    for d in sorted(doc.deferrals, key=lambda d: d.id):
        if d.approved is None:
            issues.append(DeferralIssue(d.id, d.asset, d.patch, "pending-approval", "requested, not yet approved"))
        elif (d.asset, d.patch) in installed:
            continue
        elif today >= d.expires and not any(
            o.id != d.id and o.approved is not None and o.expires > d.expires for o in deferrals[(d.asset, d.patch)]
        ):
            issues.append(DeferralIssue(d.id, d.asset, d.patch, "expired",
                                        f"expired {d.expires}; the patch is overdue unless renewed"))
        for c in d.compensating_controls:
            if c not in controls or today >= d.expires:
                continue
            zone = assets[d.asset].zone if d.asset in assets else None
            state = _control_state(controls[c], d.asset, zone, conduit_ends, today)
            if state != ControlValidity.VALID.value:
                issues.append(DeferralIssue(d.id, d.asset, d.patch, "control-not-valid",
                                            f"relies on {c}, which {_state_phrase(state)}"))
    for i in out:
        if i.needs_risk_acceptance:
            max_days = policy.tier(i.tier).max_deferral_days
            what = "deferred" if i.deferral else "overdue, with no deferral,"
            issues.append(DeferralIssue(i.deferral or "-", i.item.asset_id, i.item.patch_ref, "needs-risk-acceptance",
                                        f"{what} more than the tier-{i.tier} maximum of {max_days} days past the "
                                        f"deadline {i.deadline}; record a risk acceptance or patch"))
    issues.sort(key=lambda x: (x.deferral, x.asset, x.patch, x.problem))
    return PatchStatus(today, tuple(out), tuple(tiers), tuple(zone_rows), tuple(issues))


def has_overdue(status: PatchStatus) -> bool:
    return bool(status.overdue)


__all__ = [
    "ControlRef",
    "DeferralIssue",
    "ItemState",
    "ItemStatus",
    "PatchStatus",
    "TierCompliance",
    "ZoneRisk",
    "has_overdue",
    "patch_status",
]
