"""OT patch management: policy per patch tier, maintenance calendar, waves, vendor patches,
deferrals and patch change records (issue 7).

These are sections of the site file (``patch_policy``, ``maintenance_windows``, ``blackouts``,
``patches``, ``deferrals``, ``patch_changes``). Each record validates its own shape on creation;
what needs the whole document (an asset's tier for the deferral maximum, an approver's roles,
overlapping windows of the same scope) is checked by :func:`patching_reference_problems`, which
:func:`zonewarden.domain.site.reference_problems` calls, so a bad file is rejected as a whole.

The planner's input is :class:`RemediationItem`: one patch for one asset, from a vendor patch
entered by hand (:func:`items_from_patches`) or from an advisory finding that triage marked
"remediation planned" (:func:`items_from_findings`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from zonewarden.domain.common import (
    AssetRef,
    Id,
    Model,
    PersonRef,
    ShortText,
    Text,
    ZoneRef,
    duplicate_id_problems,
)
from zonewarden.domain.governance import ChangeRecord, ChangeStatus, ChangeType, Decision
from zonewarden.domain.priority import Priority
from zonewarden.errors import Problem

if TYPE_CHECKING:  # pragma: no cover - site imports this module
    from zonewarden.domain.site import Asset, SiteDocument


# --- priorities and policy ----------------------------------------------------------------


PatchPriority = Priority
"""The SSVC priority a remediation carries (:class:`zonewarden.domain.priority.Priority`)."""


class Revalidation(StrEnum):
    """When a patch needs computer-system revalidation (GxP) before it counts as done."""

    IF_VALIDATED = "if-validated"
    ALWAYS = "always"
    NEVER = "never"


Role = Literal[
    "asset-owner", "integrator", "supplier", "it-security", "ot-engineering", "operations",
    "quality", "management", "auditor",
]
"""Person roles as strings (the ``site.Role`` values; ``site`` imports this module)."""

Days = Annotated[int, Field(ge=0, le=3650)]


class TierPolicy(Model):
    """What the plant has agreed for one patch tier."""

    tier: Literal[1, 2, 3, 4]
    immediate_days: Days = Field(description="Days from request to patched for SSVC 'immediate'.")
    out_of_cycle_days: Days
    scheduled_days: Days
    defer_days: Days = Field(description="For 'defer': the next planned cycle at the latest.")
    max_deferral_days: Days = Field(
        description="Longest a deferral may run past the deadline without a risk acceptance."
    )
    vendor_qualification: bool = Field(
        description="Patches must be qualified by the system vendor before they are installed."
    )
    revalidation: Revalidation = Revalidation.IF_VALIDATED
    approve_roles: tuple[Role, ...] = Field(min_length=1)
    defer_roles: tuple[Role, ...] = Field(min_length=1)
    reject_roles: tuple[Role, ...] = Field(min_length=1)
    default_duration_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60

    def target_days(self, priority: PatchPriority) -> int:
        return {
            PatchPriority.IMMEDIATE: self.immediate_days,
            PatchPriority.OUT_OF_CYCLE: self.out_of_cycle_days,
            PatchPriority.SCHEDULED: self.scheduled_days,
            PatchPriority.DEFER: self.defer_days,
        }[priority]

    @model_validator(mode="after")
    def _ordered(self) -> TierPolicy:
        days = [self.immediate_days, self.out_of_cycle_days, self.scheduled_days, self.defer_days]
        if days != sorted(days):
            raise ValueError(
                "target days must not shrink as urgency falls: immediate <= out-of-cycle <= scheduled <= defer"
            )
        return self

    def needs_revalidation(self, asset: Asset) -> bool:
        if self.revalidation is Revalidation.ALWAYS:
            return True
        return self.revalidation is Revalidation.IF_VALIDATED and asset.validated


# Defaults, chosen after the usual OT practice: exposed security infrastructure is patched
# like IT (days, not months) because it faces the attacker first and rarely stops production;
# OT servers follow the vendor's qualified-patch list within the monthly/quarterly cycle;
# line-level devices wait for a line stop and the vendor's qualification; legacy systems are
# patched only when a fix exists at all, and otherwise carried with compensating controls.
_IT_SEC: tuple[Role, ...] = ("it-security",)
DEFAULT_TIER_POLICIES: dict[int, TierPolicy] = {
    1: TierPolicy(
        tier=1, immediate_days=3, out_of_cycle_days=7, scheduled_days=30, defer_days=90,
        max_deferral_days=30, vendor_qualification=False, revalidation=Revalidation.NEVER,
        approve_roles=("it-security", "ot-engineering"), defer_roles=("it-security", "management"),
        reject_roles=_IT_SEC, default_duration_minutes=30,
    ),
    2: TierPolicy(
        tier=2, immediate_days=7, out_of_cycle_days=30, scheduled_days=90, defer_days=180,
        max_deferral_days=90, vendor_qualification=True,
        approve_roles=("ot-engineering", "it-security"), defer_roles=("ot-engineering", "management"),
        reject_roles=("ot-engineering",), default_duration_minutes=90,
    ),
    3: TierPolicy(
        tier=3, immediate_days=14, out_of_cycle_days=60, scheduled_days=180, defer_days=365,
        max_deferral_days=180, vendor_qualification=True,
        approve_roles=("ot-engineering", "operations"), defer_roles=("ot-engineering", "management"),
        reject_roles=("ot-engineering", "operations"), default_duration_minutes=60,
    ),
    4: TierPolicy(
        tier=4, immediate_days=30, out_of_cycle_days=90, scheduled_days=365, defer_days=730,
        max_deferral_days=365, vendor_qualification=True,
        approve_roles=("ot-engineering", "management"), defer_roles=("management",),
        reject_roles=("ot-engineering",), default_duration_minutes=120,
    ),
}


class WaveConfig(Model):
    """Pilot first: test or pilot systems take a patch, production follows after a soak."""

    pilot_assets: Annotated[tuple[AssetRef, ...], AfterValidator(lambda v: _unique(v))] = Field(
        default=(), description="Lab, pilot-line and test systems that take a patch first."
    )
    soak_days: Annotated[int, Field(ge=0, le=365)] = Field(
        default=7, description="Days a pilot must run without trouble before production follows."
    )


class AssetPatchProfile(Model):
    """How one asset can be patched: duration, restart, and whether at all."""

    asset: AssetRef
    duration_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] | None = Field(
        default=None, description="Time to patch, test and hand back; the tier default when unset."
    )
    restart_required: bool = Field(
        default=False, description="Every patch of this asset needs a restart (a line or server stop)."
    )
    patchable: bool = Field(default=True, description="False for a system that can never be patched.")
    reason: Text | None = Field(default=None, description="Why not patchable, in words.")
    remediation_date: dt.date | None = Field(
        default=None, description="When an unpatchable system is replaced or upgraded."
    )

    @model_validator(mode="after")
    def _unpatchable(self) -> AssetPatchProfile:
        if not self.patchable and (self.reason is None or self.remediation_date is None):
            raise ValueError("an unpatchable asset needs a 'reason' and a 'remediation_date' (replacement plan)")
        return self


class PatchPolicy(Model):
    """The site's OT patch policy: per-tier overrides of the defaults, waves, asset profiles."""

    tiers: tuple[TierPolicy, ...] = Field(default=(), description="Replaces the default of each tier listed.")
    waves: WaveConfig = WaveConfig()
    assets: tuple[AssetPatchProfile, ...] = ()

    def tier(self, tier: int) -> TierPolicy:
        for t in self.tiers:
            if t.tier == tier:
                return t
        return DEFAULT_TIER_POLICIES[tier]

    def profile(self, asset_id: str) -> AssetPatchProfile | None:
        return self._profiles().get(asset_id)

    def _profiles(self) -> dict[str, AssetPatchProfile]:
        return {p.asset: p for p in self.assets}


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    dup = sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]
    if dup:
        raise ValueError(f"listed more than once: {', '.join(dup)}")
    return values


# --- recurrence --------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4,
             "last": -1}
_TIME = r"(?P<t0>\d{1,2}:\d{2})\s*-\s*(?P<t1>\d{1,2}:\d{2})"
_DAY = r"(?P<wd>mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_RULES = [
    ("daily", re.compile(rf"^(?:daily|every day)\s+{_TIME}$")),
    ("weekly", re.compile(rf"^every\s+{_DAY}\s+{_TIME}$")),
    ("weekly", re.compile(rf"^every\s+(?P<n>\d+|other)\s+weeks?\s+on\s+{_DAY}\s+{_TIME}$")),
    ("monthly", re.compile(rf"^(?:every\s+)?(?P<nth>1st|first|2nd|second|3rd|third|4th|fourth|last)\s+{_DAY}\s+of\s+(?:the|each|every)\s+month\s+{_TIME}$")),
    ("once", re.compile(rf"^once\s+(?P<date>\d{{4}}-\d{{2}}-\d{{2}})\s+{_TIME}$")),
]
_AMBIGUOUS = re.compile(rf"^every\s+(?:\d+(?:st|nd|rd|th)|second|third|fourth|other)\s+{_DAY}\b")

RULE_HELP = (
    "write one of: 'every Sunday 02:00-06:00', 'every 2 weeks on Saturday 22:00-04:00', "
    "'2nd Sunday of the month 02:00-06:00', 'last Friday of the month 18:00-23:00', "
    "'daily 01:00-02:00', 'once 2026-12-27 06:00-18:00' (times are site-local; an end before "
    "the start runs past midnight)"
)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A parsed window rule. Occurrence start dates come from :meth:`dates`."""

    kind: Literal["daily", "weekly", "monthly", "once"]
    start: dt.time
    minutes: int
    """Length of each occurrence; an end time before the start runs into the next day."""
    weekday: int | None = None
    interval: int = 1
    nth: int | None = None
    """Monthly: 1-4 for the n-th weekday of the month, -1 for the last."""
    date: dt.date | None = None

    def dates(self, first: dt.date, last: dt.date, anchor: dt.date | None) -> Iterator[dt.date]:
        """Start dates of occurrences in ``first..last`` (inclusive).

        ``anchor`` fixes the phase of 'every N weeks' rules: the first matching weekday on or
        after it is an occurrence. Without it a fortnightly rule has no defined phase.
        """
        if first > last:
            return
        if self.kind == "once":
            assert self.date is not None
            if first <= self.date <= last:
                yield self.date
            return
        if self.kind == "daily":
            d = first
            while d <= last:
                yield d
                d += dt.timedelta(days=1)
            return
        assert self.weekday is not None
        if self.kind == "weekly":
            base = anchor or first
            base += dt.timedelta(days=(self.weekday - base.weekday()) % 7)
            step = 7 * self.interval
            if base < first:
                base += dt.timedelta(days=-(-((first - base).days) // step) * step)
            d = base
            while d <= last:
                yield d
                d += dt.timedelta(days=step)
            return
        # monthly: the n-th (or last) given weekday of each month
        y, m = first.year, first.month
        while dt.date(y, m, 1) <= last:
            nth = _nth_weekday(y, m, self.weekday, self.nth or 1)
            if nth is not None and first <= nth <= last:
                yield nth
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date | None:
    if nth == -1:
        nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
        last = nxt - dt.timedelta(days=1)
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)
    d = dt.date(year, month, 1)
    d += dt.timedelta(days=(weekday - d.weekday()) % 7 + 7 * (nth - 1))
    return d if d.month == month else None


def _time(text: str) -> dt.time:
    h, m = (int(x) for x in text.split(":"))
    if h == 24 and m == 0:
        return dt.time(0, 0)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"{text!r} is not a time of day (HH:MM, 00:00-23:59)")
    return dt.time(h, m)


@functools.lru_cache(maxsize=4096)
def parse_rule(rule: str) -> Recurrence:
    """Parse a window rule such as ``'2nd Sunday of the month 02:00-06:00'``.

    Raises ValueError with the accepted forms when the text is not one of them. 'every 2nd
    Sunday' is refused on purpose: plants use it both for 'fortnightly' and for 'the second
    Sunday of each month', and a patch plan built on the wrong reading is worse than an error.
    """
    text = " ".join(rule.strip().lower().split())
    if _AMBIGUOUS.match(text):
        raise ValueError(
            f"{rule!r} is ambiguous (fortnightly, or the n-th weekday of each month?); "
            "write 'every 2 weeks on Sunday ...' or '2nd Sunday of the month ...'"
        )
    for kind, pattern in _RULES:
        m = pattern.match(text)
        if m is None:
            continue
        t0, t1 = _time(m["t0"]), _time(m["t1"])
        minutes = (t1.hour * 60 + t1.minute - t0.hour * 60 - t0.minute) % (24 * 60)
        if minutes == 0:
            raise ValueError(f"{rule!r}: the window starts and ends at the same time (no time to patch)")
        groups = m.groupdict()
        weekday = None
        if groups.get("wd"):
            weekday = next(i for i, name in enumerate(_WEEKDAYS) if name.startswith(groups["wd"]))
        interval = 1
        if groups.get("n"):
            interval = 2 if groups["n"] == "other" else int(groups["n"])
            if not 1 <= interval <= 52:
                raise ValueError(f"{rule!r}: the week interval must be 1-52")
        date = None
        if groups.get("date"):
            try:
                date = dt.date.fromisoformat(groups["date"])
            except ValueError:
                raise ValueError(f"{rule!r}: {groups['date']} is not a calendar date") from None
        nth = _ORDINALS[groups["nth"]] if groups.get("nth") else None
        return Recurrence(kind, t0, minutes, weekday, interval, nth, date)  # type: ignore[arg-type]
    raise ValueError(f"cannot read window rule {rule!r}: {RULE_HELP}")


# --- calendar ------------------------------------------------------------------------------


class Scope(Model):
    """Which assets something applies to: by zone, by asset tag (area, line) or by asset id."""

    zones: Annotated[tuple[ZoneRef, ...], AfterValidator(_unique)] = ()
    tags: Annotated[tuple[ShortText, ...], AfterValidator(_unique)] = Field(
        default=(), description="Asset tags such as 'line:compression' or 'area:building-2'."
    )
    assets: Annotated[tuple[AssetRef, ...], AfterValidator(_unique)] = ()

    @property
    def everything(self) -> bool:
        return not (self.zones or self.tags or self.assets)

    def covers(self, asset: Asset) -> bool:
        if self.everything:
            return True
        return (
            asset.id in self.assets
            or (asset.zone is not None and asset.zone in self.zones)
            or any(t in self.tags for t in asset.tags)
        )


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete maintenance window: site-local start and end."""

    window: str
    start: dt.datetime
    end: dt.datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class MaintenanceWindow(Model):
    """A recurring time when the assets in scope may be patched."""

    id: Id
    name: ShortText
    rule: ShortText = Field(description="Recurrence, e.g. '2nd Sunday of the month 02:00-06:00'.")
    scope: Scope
    starts: dt.date | None = Field(default=None, description="First day the rule applies (phase of 'every N weeks').")
    until: dt.date | None = Field(default=None, description="Last day the rule applies.")
    capacity_assets: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="Most assets patched in one occurrence (people, test capacity)."
    )
    capacity_hours: Annotated[float, Field(gt=0, le=10_000)] | None = Field(
        default=None, description="Most work-hours of patching in one occurrence."
    )
    allows_restart: bool = Field(default=True, description="Assets may be restarted (line or system stopped).")
    description: Text | None = None

    @field_validator("rule")
    @classmethod
    def _rule(cls, v: str) -> str:
        parse_rule(v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MaintenanceWindow:
        if self.scope.everything:
            raise ValueError("a maintenance window names the zones, tags or assets it is for (scope)")
        rec = self.recurrence
        if self.starts and self.until and self.until < self.starts:
            raise ValueError(f"'until' ({self.until}) is before 'starts' ({self.starts})")
        if rec.kind == "weekly" and rec.interval > 1 and self.starts is None:
            raise ValueError("an 'every N weeks' window needs 'starts' (the date that fixes which weeks)")
        if rec.kind == "once" and rec.date is not None:
            if (self.starts and rec.date < self.starts) or (self.until and rec.date > self.until):
                raise ValueError(f"the one-off date {rec.date} lies outside 'starts'..'until'")
        return self

    @property
    def recurrence(self) -> Recurrence:
        return parse_rule(self.rule)

    def occurrences(self, first: dt.date, last: dt.date) -> list[Occurrence]:
        """Occurrences that start on a day in ``first..last``, in time order."""
        rec = self.recurrence
        lo = max(first, self.starts) if self.starts else first
        hi = min(last, self.until) if self.until else last
        out = []
        for d in rec.dates(lo, hi, self.starts):
            start = dt.datetime.combine(d, rec.start)
            out.append(Occurrence(self.id, start, start + dt.timedelta(minutes=rec.minutes)))
        return out


class BlackoutKind(StrEnum):
    PEAK_PRODUCTION = "peak-production"
    QUALIFICATION_RUN = "qualification-run"
    VALIDATION = "validation"
    AUDIT = "audit"
    SHUTDOWN_FREEZE = "change-freeze"
    OTHER = "other"


class BlackoutPeriod(Model):
    """Days on which nothing in scope is patched (peak production, qualification runs)."""

    id: Id
    name: ShortText
    kind: BlackoutKind = BlackoutKind.OTHER
    start: dt.date
    end: dt.date = Field(description="Last day of the blackout (inclusive).")
    scope: Scope = Field(default=Scope(), description="Empty: the whole site.")
    reason: Text | None = None

    @model_validator(mode="after")
    def _dates(self) -> BlackoutPeriod:
        if self.end < self.start:
            raise ValueError(f"'end' ({self.end}) is before 'start' ({self.start})")
        return self

    def blocks(self, occ: Occurrence) -> bool:
        """Whether the occurrence touches a blackout day (a window running past midnight counts
        on both days)."""
        last = (occ.end - dt.timedelta(microseconds=1)).date()
        return occ.start.date() <= self.end and last >= self.start


# --- vendor patches and remediation items ----------------------------------------------


class VendorPatch(Model):
    """A vendor patch entered by hand (not from an advisory): what, for which assets, how urgent."""

    id: Id = Field(description="Patch reference, e.g. 'KB5034439' or 'SIEMENS-WINCC-V8.0-UPD4'.")
    title: ShortText
    vendor: ShortText | None = None
    assets: Annotated[tuple[AssetRef, ...], AfterValidator(_unique)] = Field(min_length=1)
    priority: PatchPriority
    released: dt.date | None = None
    requested: dt.date = Field(description="When the patch was requested; the policy clock starts here.")
    cves: tuple[ShortText, ...] = ()
    advisory: ShortText | None = Field(default=None, description="Advisory that recommends the patch, if any.")
    qualified: dt.date | None = Field(
        default=None, description="When the system vendor qualified the patch; unset: not (yet) qualified."
    )
    duration_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] | None = None
    restart_required: bool = True
    description: Text | None = None


RemediationSource = Literal["finding", "manual"]


@dataclass(frozen=True, slots=True)
class RemediationItem:
    """One patch for one asset: the planner's unit of work."""

    asset_id: str
    patch_ref: str
    """Vendor patch id or advisory id; assets sharing it form one wave (pilot, production)."""
    priority: PatchPriority
    requested: dt.date
    """The policy's time-to-patch clock starts here."""
    duration_minutes: int | None
    """Estimated hands-on time; None: the asset profile or the tier default."""
    restart_needed: bool
    source: RemediationSource
    title: str = ""
    cves: tuple[str, ...] = ()
    qualified: dt.date | None = None
    """When the vendor qualified the patch; None: not qualified (or not known)."""

    @property
    def key(self) -> str:
        return f"{self.patch_ref}@{self.asset_id}"


def items_from_patches(patches: Iterable[VendorPatch]) -> list[RemediationItem]:
    """Remediation items for the vendor patches entered by hand, sorted by key."""
    out = [
        RemediationItem(
            asset_id=a, patch_ref=p.id, priority=p.priority, requested=p.requested,
            duration_minutes=p.duration_minutes, restart_needed=p.restart_required, source="manual",
            title=p.title, cves=tuple(p.cves), qualified=p.qualified,
        )
        for p in patches
        for a in p.assets
    ]
    return sorted(out, key=lambda i: i.key)


REMEDIATION_PLANNED = "remediation-planned"


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def items_from_findings(
    findings: Iterable[Any], *, default_requested: dt.date | None = None
) -> list[RemediationItem]:
    """Remediation items for advisory findings whose triage status is 'remediation planned'.

    Duck-typed on purpose, so the advisories workflow (issue 6) can hand over its stored
    finding records (``services.advisories.FindingRow``) or plain dicts without this module
    importing it. Read per finding: ``asset_id``, ``advisory_id`` (or ``tracking_id``),
    ``triage_status`` (or ``status``), ``priority`` (an SSVC priority or its value; missing
    means 'scheduled'), ``requested`` (or ``triaged``/``updated``, or else the time of the
    latest decision to 'remediation-planned' in ``decisions``), and optionally ``cves``,
    ``title`` (or ``advisory_title``), ``duration_minutes``, ``restart_needed``, ``qualified``. Findings with another status are
    skipped; a planned finding without a date and without ``default_requested`` is an error.
    """
    out: dict[str, RemediationItem] = {}
    for f in findings:
        status = _get(f, "triage_status", None) or _get(f, "status", None)
        if str(getattr(status, "value", status)) != REMEDIATION_PLANNED:
            continue
        raw_priority = _get(f, "priority", None)
        if isinstance(raw_priority, dict):
            raw_priority = raw_priority.get("priority")
        raw_priority = getattr(raw_priority, "priority", raw_priority)  # an SsvcDecision
        priority = PatchPriority(str(getattr(raw_priority, "value", raw_priority) or "scheduled"))
        requested: Any = _get(f, "requested", None) or _get(f, "triaged", None) or _get(f, "updated", None)
        if requested is None:
            # The advisories service's FindingRow keeps its triage history: the remediation was
            # decided by the latest decision that moved the finding to 'remediation planned'.
            moves = [d for d in _get(f, "decisions", ()) or () if _get(d, "to_status") == REMEDIATION_PLANNED]
            requested = max((_get(d, "at") for d in moves), default=None) or default_requested
        if isinstance(requested, dt.datetime):
            requested = requested.date()
        elif isinstance(requested, str):
            requested = dt.date.fromisoformat(requested[:10])
        asset = str(_get(f, "asset_id"))
        advisory = str(_get(f, "advisory_id", None) or _get(f, "tracking_id"))
        if requested is None:
            raise ValueError(f"finding {advisory} x {asset} has no triage date; pass default_requested")
        item = RemediationItem(
            asset_id=asset, patch_ref=advisory, priority=priority, requested=requested,
            duration_minutes=_get(f, "duration_minutes", None),
            restart_needed=bool(_get(f, "restart_needed", True)), source="finding",
            title=str(_get(f, "title", None) or _get(f, "advisory_title", None) or advisory),
            cves=tuple(_get(f, "cves", ()) or ()),
            qualified=_get(f, "qualified", None),
        )
        # One item per advisory and asset; a re-triaged finding keeps its most urgent priority.
        old = out.get(item.key)
        if old is None or item.priority.rank > old.priority.rank:
            out[item.key] = item
    return [out[k] for k in sorted(out)]


# --- deferrals --------------------------------------------------------------------------


class Deferral(Model):
    """An explicit, approved, time-limited decision not to patch an asset (yet)."""

    id: Id
    asset: AssetRef
    patch: ShortText = Field(description="Patch reference or advisory id being deferred.")
    reason: Text = Field(min_length=10)
    compensating_controls: Annotated[tuple[Id, ...], AfterValidator(_unique)] = Field(
        default=(), description="Ids of compensating controls that cover the exposure meanwhile."
    )
    requirements: tuple[ShortText, ...] = Field(
        default=(), description="Requirement statuses relied on, as 'zone/SR x.y' (e.g. 'comp/SR 5.1')."
    )
    requested_by: PersonRef
    requested: dt.date
    approver: PersonRef | None = None
    approved: dt.date | None = None
    expires: dt.date = Field(description="First day the deferral no longer applies.")
    risk_acceptance: Id | None = Field(
        default=None, description="Risk scenario or exception id that accepts a deferral beyond the policy maximum."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Deferral:
        if (self.approver is None) != (self.approved is None):
            raise ValueError("give both 'approver' and 'approved' (date), or neither while pending")
        if self.approver is not None and self.approver == self.requested_by:
            raise ValueError(
                f"{self.approver} requested this deferral and cannot approve it: someone else signs it off"
            )
        if self.expires <= self.requested:
            raise ValueError(f"'expires' ({self.expires}) must be after 'requested' ({self.requested})")
        if self.approved is not None and self.approved < self.requested:
            raise ValueError(f"'approved' ({self.approved}) is before 'requested' ({self.requested})")
        if not self.compensating_controls and not self.requirements and self.risk_acceptance is None:
            raise ValueError(
                "a deferral names what covers the exposure meanwhile: 'compensating_controls', "
                "'requirements' or a 'risk_acceptance'"
            )
        return self

    def active(self, today: dt.date) -> bool:
        return self.approved is not None and self.approved <= today < self.expires


# --- patch change records ---------------------------------------------------------------


class Wave(StrEnum):
    PILOT = "pilot"
    PRODUCTION = "production"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"


class PatchChange(ChangeRecord):
    """A change record for installing one patch on some assets (a :class:`ChangeRecord` with
    ``type: patch`` and the patch-specific evidence).

    The status a record may carry is enforced here (what each status needs); the order of
    statuses (proposed -> approved -> implemented -> closed) is enforced by the service that
    moves a record along (:func:`zonewarden.services.patching.advance_patch_change`).
    """

    type: ChangeType = ChangeType.PATCH
    patch: ShortText = Field(description="Patch reference or advisory id.")
    wave: Wave = Wave.PRODUCTION
    window: Id | None = Field(default=None, description="Maintenance window used.")
    no_impact_determination: Text | None = Field(
        default=None, description="Why no revalidation is needed (instead of 'revalidation')."
    )
    backup_taken: dt.date | None = None
    restore_tested: dt.date | None = None
    rollback_criteria: Text | None = None
    rollback_decider: PersonRef | None = Field(default=None, description="Who may decide a rollback.")
    outcome: Outcome | None = None

    @model_validator(mode="after")
    def _patch_rules(self) -> PatchChange:
        if self.type is not ChangeType.PATCH:
            raise ValueError("a patch change record has type 'patch'")
        if not self.assets:
            raise ValueError("a patch change record names the assets it patches")
        s = self.status
        if s in (ChangeStatus.APPROVED, ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED):
            if not self.impact_assessment:
                raise ValueError(f"status {s.value!r} needs an 'impact_assessment'")
            if not any(a.decision is Decision.APPROVED for a in self.approvals):
                raise ValueError(f"status {s.value!r} needs an approval (no 'implemented' without approval)")
            if any(a.decision is Decision.REJECTED for a in self.approvals):
                raise ValueError(f"status {s.value!r} contradicts a recorded rejection")
            if not self.rollback_criteria or self.rollback_decider is None:
                raise ValueError(f"status {s.value!r} needs 'rollback_criteria' and 'rollback_decider'")
        if s in (ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED):
            if self.backup_taken is None or self.restore_tested is None:
                raise ValueError(f"status {s.value!r} needs 'backup_taken' and 'restore_tested' dates")
            if self.revalidation is None and not self.no_impact_determination:
                raise ValueError(
                    f"status {s.value!r} needs 'revalidation' or a documented 'no_impact_determination'"
                )
            if self.outcome is None:
                raise ValueError(f"status {s.value!r} needs the 'outcome' (success, failed, rolled-back)")
        if s is ChangeStatus.CLOSED:
            if not self.post_implementation_review:
                raise ValueError("status 'closed' needs a 'post_implementation_review' (no closed without review)")
            if self.revalidation is not None and self.revalidation.required and self.revalidation.completed is None:
                raise ValueError("status 'closed' needs the revalidation completed ('revalidation.completed')")
        if s is ChangeStatus.REJECTED and not any(a.decision is Decision.REJECTED for a in self.approvals):
            raise ValueError("status 'rejected' needs a recorded rejection in 'approvals'")
        if self.outcome is not None and s not in (ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED):
            raise ValueError(f"an 'outcome' belongs to an implemented change (status is {s.value!r})")
        return self

    @property
    def installed(self) -> bool:
        """The patch is on the assets (implemented or closed, and not failed or rolled back)."""
        return self.status in (ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED) and self.outcome is Outcome.SUCCESS


TRANSITIONS: dict[ChangeStatus, frozenset[ChangeStatus]] = {
    ChangeStatus.PROPOSED: frozenset({ChangeStatus.APPROVED, ChangeStatus.REJECTED, ChangeStatus.CANCELLED}),
    ChangeStatus.APPROVED: frozenset({ChangeStatus.IMPLEMENTED, ChangeStatus.CANCELLED}),
    ChangeStatus.IMPLEMENTED: frozenset({ChangeStatus.CLOSED}),
    ChangeStatus.CLOSED: frozenset(),
    ChangeStatus.REJECTED: frozenset(),
    ChangeStatus.CANCELLED: frozenset(),
}
"""Allowed status moves of a patch change record: no skipping approval, no reopening."""


# --- whole-document checks -----------------------------------------------------------------


def _windows_overlap(a: MaintenanceWindow, b: MaintenanceWindow) -> Occurrence | None:
    """The first occurrence of ``a`` that overlaps one of ``b`` (two years from their start)."""
    starts = [s for s in (a.starts, b.starts) if s is not None]
    first = max(starts) if starts else dt.date(2025, 1, 1)
    # Rules repeat within a year (monthly) or 52 weeks; two years also catches 'every N weeks'
    # phases and windows running past midnight into the other's day.
    last = first + dt.timedelta(days=730)
    occ_b = b.occurrences(first - dt.timedelta(days=1), last)
    for oa in a.occurrences(first, last):
        for ob in occ_b:
            if ob.start >= oa.end:
                break
            if oa.start < ob.end and ob.start < oa.end:
                return oa
    return None


def _scopes_intersect(a: Scope, b: Scope, doc: SiteDocument) -> bool:
    return any(a.covers(x) and b.covers(x) for x in doc.assets)


def timezone_note(doc: SiteDocument) -> str | None:
    """A warning when the site has maintenance windows but no ``site.timezone``: the windows'
    wall-clock times are then read as UTC, and calendar exports put them at the wrong hour for
    a plant in another zone (issue 17.5)."""
    if doc.maintenance_windows and not doc.site.timezone:
        return (
            f"site {doc.site.id} has {len(doc.maintenance_windows)} maintenance window(s) but no "
            "site.timezone: their times are read as UTC; set site.timezone to the plant's IANA "
            "zone (e.g. Europe/Berlin) so plans and calendar exports show plant time"
        )
    return None


def patching_reference_problems(doc: SiteDocument) -> list[Problem]:
    """Broken references and policy violations in the patching sections of ``doc``."""
    problems: list[Problem] = []
    assets = doc.asset_index()
    zones = {z.id for z in doc.zones}
    people = {p.id: p for p in doc.people}
    controls = {c.id: c for c in doc.compensating_controls}
    conduit_ends = {c.id: c.zones for c in doc.conduits}
    acceptances = {r.id for r in doc.risks} | {e.id for e in doc.exceptions}
    windows = {w.id for w in doc.maintenance_windows}
    policy = doc.patch_policy

    def asset(path: tuple[str | int, ...], ref: str) -> None:
        if ref not in assets:
            problems.append(Problem(f"unknown asset {ref!r}", path))

    def person(path: tuple[str | int, ...], ref: str | None) -> None:
        if ref is not None and ref not in people:
            problems.append(Problem(f"unknown person {ref!r}: add them under 'people'", path))

    def scope(path: tuple[str | int, ...], s: Scope) -> None:
        for j, z in enumerate(s.zones):
            if z not in zones:
                problems.append(Problem(f"unknown zone {z!r}", (*path, "zones", j)))
        for j, a in enumerate(s.assets):
            asset((*path, "assets", j), a)

    def dupes(section: str, ids: list[str]) -> None:
        problems.extend(duplicate_id_problems(section, ids))

    seen_tiers: set[int] = set()
    for i, t in enumerate(policy.tiers):
        if t.tier in seen_tiers:
            problems.append(Problem(f"tier {t.tier} is configured twice", ("patch_policy", "tiers", i, "tier")))
        seen_tiers.add(t.tier)
    for j, pilot in enumerate(policy.waves.pilot_assets):
        asset(("patch_policy", "waves", "pilot_assets", j), pilot)
    seen_profiles: set[str] = set()
    for i, prof in enumerate(policy.assets):
        asset(("patch_policy", "assets", i, "asset"), prof.asset)
        if prof.asset in seen_profiles:
            problems.append(Problem(f"asset {prof.asset!r} has two patch profiles", ("patch_policy", "assets", i, "asset")))
        seen_profiles.add(prof.asset)

    dupes("maintenance_windows", [w.id for w in doc.maintenance_windows])
    for i, w in enumerate(doc.maintenance_windows):
        scope(("maintenance_windows", i, "scope"), w.scope)
    ws = doc.maintenance_windows
    for i, wa in enumerate(ws):
        for wb in ws[i + 1 :]:
            if _scopes_intersect(wa.scope, wb.scope, doc):
                hit = _windows_overlap(wa, wb)
                if hit is not None:
                    problems.append(
                        Problem(
                            f"overlaps window {wb.id!r} for the same assets (first on {hit.start:%Y-%m-%d %H:%M}); "
                            "merge them or separate their times or scopes",
                            ("maintenance_windows", i, "rule"),
                        )
                    )
    dupes("blackouts", [b.id for b in doc.blackouts])
    for i, bo in enumerate(doc.blackouts):
        scope(("blackouts", i, "scope"), bo.scope)

    dupes("patches", [p.id for p in doc.patches])
    for i, vp in enumerate(doc.patches):
        for j, target in enumerate(vp.assets):
            asset(("patches", i, "assets", j), target)

    dupes("deferrals", [d.id for d in doc.deferrals])
    patch_refs = {p.id for p in doc.patches}
    for i, d in enumerate(doc.deferrals):
        base = ("deferrals", i)
        asset((*base, "asset"), d.asset)
        person((*base, "requested_by"), d.requested_by)
        person((*base, "approver"), d.approver)
        for j, ctl in enumerate(d.compensating_controls):
            if ctl not in controls:
                problems.append(Problem(f"unknown compensating control {ctl!r}", (*base, "compensating_controls", j)))
            elif d.asset in assets:
                gap = controls[ctl].asset_scope_gap(d.asset, assets[d.asset].zone, conduit_ends)
                if gap is not None:
                    problems.append(
                        Problem(
                            f"compensating control {ctl!r} does not cover asset {d.asset!r}: {gap}; "
                            "add the asset (or its zone) to the control, or name a control that covers it",
                            (*base, "compensating_controls", j),
                        )
                    )
        for j, r in enumerate(d.requirements):
            zone, _, req = r.partition("/")
            if not req or not any(s.target == zone and s.requirement == _canon(req) for s in doc.requirements):
                problems.append(
                    Problem(f"no requirement status {r!r}: write 'zone/SR x.y' for a status in 'requirements'", (*base, "requirements", j))
                )
        if d.risk_acceptance is not None and d.risk_acceptance not in acceptances:
            problems.append(
                Problem(f"unknown risk acceptance {d.risk_acceptance!r}: name a risk scenario or exception id", (*base, "risk_acceptance"))
            )
        target_asset = assets.get(d.asset)
        if target_asset is None:
            continue
        tier = policy.tier(target_asset.effective_patch_tier)
        # The maximum counts from the patch's policy deadline when the patch is known here (a
        # vendor patch of this file); for an advisory finding, from the deferral's request.
        start, since = d.requested, "its request"
        if d.patch in patch_refs:
            known = next(x for x in doc.patches if x.id == d.patch)
            if d.asset not in known.assets:
                problems.append(Problem(f"patch {d.patch!r} is not for asset {d.asset!r}", (*base, "patch")))
            start = known.requested + dt.timedelta(days=tier.target_days(known.priority))
            since = f"the patch deadline {start}"
        limit = start + dt.timedelta(days=tier.max_deferral_days)
        if d.expires > limit and d.risk_acceptance is None:
            problems.append(
                Problem(
                    f"expires {d.expires}, beyond the tier-{tier.tier} maximum deferral of {tier.max_deferral_days} days "
                    f"after {since} (latest {limit}); shorten it or name a 'risk_acceptance'",
                    (*base, "expires"),
                )
            )
        if d.approver is not None and d.approver in people:
            roles = {str(r) for r in people[d.approver].roles}
            if not roles & set(tier.defer_roles):
                problems.append(
                    Problem(
                        f"{d.approver} ({', '.join(sorted(roles)) or 'no role'}) may not approve a tier-{tier.tier} "
                        f"deferral; the policy allows: {', '.join(tier.defer_roles)}",
                        (*base, "approver"),
                    )
                )

    change_ids = {c.id for c in doc.changes}
    dupes("patch_changes", [pc.id for pc in doc.patch_changes])
    for i, ch in enumerate(doc.patch_changes):
        base = ("patch_changes", i)
        if ch.id in change_ids:
            problems.append(Problem(f"id {ch.id!r} is also used in 'changes'; change ids are unique site-wide", (*base, "id")))
        tiers: set[int] = set()
        for j, a_id in enumerate(ch.assets):
            asset((*base, "assets", j), a_id)
            if a_id in assets:
                tiers.add(assets[a_id].effective_patch_tier)
        for j, z in enumerate(ch.zones):
            if z not in zones:
                problems.append(Problem(f"unknown zone {z!r}", (*base, "zones", j)))
        person((*base, "owner"), ch.owner)
        person((*base, "rollback_decider"), ch.rollback_decider)
        if ch.window is not None and ch.window not in windows:
            problems.append(Problem(f"unknown maintenance window {ch.window!r}", (*base, "window")))
        for j, ap in enumerate(ch.approvals):
            person((*base, "approvals", j, "by"), ap.by)
            if ch.owner is not None and ap.by == ch.owner and ap.decision is Decision.APPROVED:
                problems.append(Problem(
                    f"{ap.by} owns patch change {ch.id} and approves it: separation of duties needs "
                    "another person's approval", (*base, "approvals", j, "by")))
            if ap.by not in people:
                continue
            roles = {str(r) for r in people[ap.by].roles}
            for tier_no in sorted(tiers):
                tp = policy.tier(tier_no)
                allowed = tp.approve_roles if ap.decision is Decision.APPROVED else tp.reject_roles
                if not roles & set(allowed):
                    verb = "approve" if ap.decision is Decision.APPROVED else "reject"
                    problems.append(
                        Problem(
                            f"{ap.by} ({', '.join(sorted(roles)) or 'no role'}) may not {verb} a tier-{tier_no} patch; "
                            f"the policy allows: {', '.join(allowed)}",
                            (*base, "approvals", j, "by"),
                        )
                    )
    return problems


def _canon(req: str) -> str:
    from zonewarden.domain.requirements import canonical_requirement_id

    try:
        return canonical_requirement_id(req)
    except ValueError:
        return req


__all__ = [
    "DEFAULT_TIER_POLICIES",
    "TRANSITIONS",
    "AssetPatchProfile",
    "BlackoutKind",
    "BlackoutPeriod",
    "Deferral",
    "MaintenanceWindow",
    "Occurrence",
    "Outcome",
    "PatchChange",
    "PatchPolicy",
    "PatchPriority",
    "Recurrence",
    "RemediationItem",
    "Revalidation",
    "Scope",
    "TierPolicy",
    "VendorPatch",
    "Wave",
    "WaveConfig",
    "items_from_findings",
    "items_from_patches",
    "parse_rule",
    "patching_reference_problems",
]
