"""Trends over time for the dashboard: how fast findings are triaged and remediated, and how
many meet the site's patch policy, per calendar month (UTC) for the last 12 months.

Read from what the store already keeps, nothing new is recorded and a read never writes:

* **first seen**: ``findings.created_at`` (when matching first found the advisory on the asset);
* **first decision**: the earliest triage decision made by a person
  (``triage_decisions.automatic`` false; an automatic reopen is not a decision);
* **remediated**: the finding's current state is closed: its triage status is one of the
  closing states (``resolved``, ``not-affected``, ``mitigated``: those signed as
  ``finding.close``) and the latest decision into one of them dates it; or the matcher now says
  ``fixed`` (and did not when it first found it: a fixed firmware from the start was never
  affected) or the asset is gone (the finding is inactive), dated by the row's ``updated_at``
  (the write that fixed it). A finding reopened since is not remediated.
* **policy deadline**: first seen + the asset's patch-tier target days for the finding's SSVC
  priority (``patch_policy`` of the site, else the defaults; the same table ``patch status``
  uses). A finding counts in the month its outcome became known: the month it was remediated
  when that was on time, else the month its deadline passed. Findings still open before their
  deadline are not counted yet.

Remediation counts the findings the matcher found affected (they carry an SSVC priority) or now
fixed; the policy share counts those with a priority (a fixed finding no longer carries one, so
it counts for the time to remediate only); time to triage counts every finding a person decided. Means are in days. The
portfolio figures pool the findings of every site (a mean of all findings, not of site means).
The pure part, :func:`monthly`, works on :class:`FindingHistory` records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

MONTHS = 12
CLOSING_TRIAGE = ("mitigated", "not-affected", "resolved")
"""Triage states that close a finding (``advisories.TRIAGE_OPERATION``: ``finding.close``)."""


@dataclass(frozen=True, slots=True)
class FindingHistory:
    """What the trends read of one finding (timestamps in UTC)."""

    site_id: str
    first_seen: dt.datetime
    first_decision: dt.datetime | None = None
    remediated: dt.datetime | None = None
    """None: open, or never affected (nothing to remediate)."""
    deadline: dt.datetime | None = None
    """None: no policy applies (no SSVC priority)."""


@dataclass(frozen=True, slots=True)
class MonthTrend:
    month: str
    """``YYYY-MM``."""
    triaged: int
    mean_days_to_triage: float | None
    remediated: int
    mean_days_to_remediate: float | None
    policy_counted: int
    """Findings whose outcome against the policy became known this month."""
    within_policy: int

    @property
    def pct_within_policy(self) -> float | None:
        return None if not self.policy_counted else round(100.0 * self.within_policy / self.policy_counted, 1)

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "triaged": self.triaged, "mean_days_to_triage": self.mean_days_to_triage,
                "remediated": self.remediated, "mean_days_to_remediate": self.mean_days_to_remediate,
                "policy_counted": self.policy_counted, "within_policy": self.within_policy,
                "pct_within_policy": self.pct_within_policy}


@dataclass(frozen=True, slots=True)
class Trends:
    """The monthly trend of one site, or of the portfolio (``site_id`` None)."""

    site_id: str | None
    name: str
    months: tuple[MonthTrend, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site_id, "name": self.name, "months": [m.as_dict() for m in self.months]}


@dataclass(frozen=True, slots=True)
class PortfolioTrends:
    sites: tuple[Trends, ...]
    total: Trends

    def as_dict(self) -> dict[str, Any]:
        return {"portfolio": self.total.as_dict(), "sites": [s.as_dict() for s in self.sites]}


def month_keys(now: dt.datetime, months: int = MONTHS) -> list[str]:
    """The ``months`` calendar months ending with ``now``'s, oldest first."""
    y, m = now.year, now.month
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _key(t: dt.datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}"


def _days(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 86400.0


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def monthly(histories: Iterable[FindingHistory], *, now: dt.datetime, months: int = MONTHS) -> tuple[MonthTrend, ...]:
    """The monthly figures of ``histories`` for the ``months`` months ending with ``now``'s.

    Events after ``now`` are ignored (``now`` is the reading's clock)."""
    keys = month_keys(now, months)
    triage: dict[str, list[float]] = {k: [] for k in keys}
    remedy: dict[str, list[float]] = {k: [] for k in keys}
    counted = dict.fromkeys(keys, 0)
    within = dict.fromkeys(keys, 0)
    for h in histories:
        if h.first_decision is not None and h.first_decision <= now and _key(h.first_decision) in triage:
            triage[_key(h.first_decision)].append(_days(h.first_seen, h.first_decision))
        done = h.remediated if h.remediated is not None and h.remediated <= now else None
        if done is not None and _key(done) in remedy:
            remedy[_key(done)].append(_days(h.first_seen, done))
        if h.deadline is None:
            continue
        if done is not None and done <= h.deadline:
            if _key(done) in counted:
                counted[_key(done)] += 1
                within[_key(done)] += 1
        elif h.deadline <= now and _key(h.deadline) in counted:
            counted[_key(h.deadline)] += 1
    return tuple(
        MonthTrend(k, len(triage[k]), _mean(triage[k]), len(remedy[k]), _mean(remedy[k]), counted[k], within[k])
        for k in keys
    )


# --- reading the store ----------------------------------------------------------------------


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def histories(store: Store, site_ids: Sequence[str]) -> list[FindingHistory]:
    """The finding histories of ``site_ids`` (the caller authorized them), in two queries:
    the findings with their first decision and latest closing decision, and the sites' patch
    policies."""
    from zonewarden.domain.patching import PatchPolicy
    from zonewarden.domain.priority import Priority
    from zonewarden.domain.site import DEFAULT_PATCH_TIER, AssetType
    from zonewarden.store.advisory_tables import findings, triage_decisions
    from zonewarden.store.tables import assets, sites

    if not site_ids:
        return []
    d, f, a = triage_decisions.c, findings.c, assets.c
    first = (select(d.finding_id, func.min(d.at).label("at")).where(d.automatic.is_(False))
             .group_by(d.finding_id).subquery("first_decision"))
    closed = (select(d.finding_id, func.max(d.at).label("at")).where(d.to_status.in_(CLOSING_TRIAGE))
              .group_by(d.finding_id).subquery("closed"))
    stmt = (
        select(f.site_id, f.status, f.active, f.priority, f.triage_status, f.created_at, f.updated_at,
               first.c.at.label("first_at"), closed.c.at.label("closed_at"), a.type,
               a.data["patch_tier"].as_integer().label("tier"))
        .select_from(
            findings.outerjoin(first, first.c.finding_id == f.id)
            .outerjoin(closed, closed.c.finding_id == f.id)
            .outerjoin(assets, and_(a.site_id == f.site_id, a.id == f.asset_id))
        )
        .where(f.site_id.in_(list(site_ids)))
        .where(f.priority.is_not(None) | (f.status == "fixed") | first.c.at.is_not(None))
    )
    with store.read() as conn:
        policies = {
            r.id: PatchPolicy.model_validate((r.data or {}).get("patch_policy") or {})
            for r in conn.execute(select(sites.c.id, sites.c.data).where(sites.c.id.in_(list(site_ids))))
        }
        rows = conn.execute(stmt).all()
    out = []
    default_policy = PatchPolicy()
    for r in rows:
        seen = _utc(r.created_at)
        assert seen is not None
        remediated: dt.datetime | None = None
        # A finding the matcher says is fixed since it was first seen (a fixed firmware from the
        # start was never affected) was fixed by the write that last changed it.
        fixed_later = r.status == "fixed" and _utc(r.updated_at) != seen
        affected = r.priority is not None or fixed_later
        if not affected:
            pass  # the matcher never found it affected: nothing to remediate
        elif r.triage_status in CLOSING_TRIAGE:
            remediated = _utc(r.closed_at)
        elif fixed_later or not r.active:
            remediated = _utc(r.updated_at)
        deadline = None
        if r.priority is not None:
            try:
                tier = int(r.tier) if r.tier else DEFAULT_PATCH_TIER.get(AssetType(r.type), 3)
            except ValueError:  # an asset type this version does not know: the default tier
                tier = 3
            days = policies.get(r.site_id, default_policy).tier(tier).target_days(Priority(r.priority))
            deadline = seen + dt.timedelta(days=days)
        out.append(FindingHistory(r.site_id, seen, _utc(r.first_at), remediated, deadline))
    return out


def site_trends(store: Store, *, principal: Principal, site_id: str | None, now: dt.datetime | None = None,
                months: int = MONTHS) -> Trends:
    """The monthly trend of one site (``site.read`` authorized first)."""
    from zonewarden.services.queries import site_of
    from zonewarden.services.sites import list_sites

    ident = site_of(store, principal, site_id)
    name = dict(list_sites(store, principal)).get(ident, ident)
    now = now or dt.datetime.now(dt.UTC)
    return Trends(ident, name, monthly(histories(store, [ident]), now=now, months=months))


def portfolio_trends(store: Store, *, principal: Principal, now: dt.datetime | None = None,
                     months: int = MONTHS) -> PortfolioTrends:
    """Every site the principal may see, and the portfolio (all their findings pooled)."""
    from zonewarden.services.sites import list_sites

    now = now or dt.datetime.now(dt.UTC)
    visible = list_sites(store, principal)
    rows = histories(store, [i for i, _ in visible])
    by_site: dict[str, list[FindingHistory]] = {i: [] for i, _ in visible}
    for h in rows:
        by_site[h.site_id].append(h)
    per_site = tuple(Trends(i, n, monthly(by_site[i], now=now, months=months)) for i, n in visible)
    return PortfolioTrends(per_site, Trends(None, "Portfolio", monthly(rows, now=now, months=months)))


__all__ = [
    "CLOSING_TRIAGE",
    "MONTHS",
    "FindingHistory",
    "MonthTrend",
    "PortfolioTrends",
    "Trends",
    "histories",
    "month_keys",
    "monthly",
    "portfolio_trends",
    "site_trends",
]
