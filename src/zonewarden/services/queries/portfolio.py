"""The portfolio: where each site the principal may see stands, for the dashboard.

One stored-site load per site, then the existing queries' ``*_of`` twins on that document
(check, gap, risks, due, patch status) and the stored advisory findings, so the dashboard says
exactly what ``zonewarden check``, ``gap``, ``risks``, ``due`` and ``patch status`` say.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

SEVERITIES = ("critical", "high", "medium", "low", "info")
PRIORITIES = ("immediate", "out-of-cycle", "scheduled", "defer")
EXPIRY_DAYS = 30
OPEN_TRIAGE = ("new", "under-assessment")


@dataclass(frozen=True, slots=True)
class Expiring:
    kind: str
    """``compensating control`` or ``deferral``."""
    id: str
    expires: dt.date
    days: int


@dataclass(frozen=True, slots=True)
class SiteHealth:
    site_id: str
    name: str
    as_of: dt.date
    check: dict[str, int]
    """Open segmentation-check findings per severity (every severity, highest first)."""
    zones: int
    zones_below_target: tuple[str, ...]
    risks_over_tolerance: int
    assessments_overdue: int
    assessments_due: int
    advisory_findings: dict[str, int]
    """Affected advisory findings per SSVC priority (every priority), untriaged or decided."""
    untriaged: int
    patch_compliance: float | None
    patch_overdue: int
    expiring: tuple[Expiring, ...] = field(default_factory=tuple)
    unassessable: int = 0
    """Inventory-gap assets: matching cannot assess them (``zonewarden inventory gaps``)."""
    unassessable_exposed: int = 0
    """Of them, those whose vendor has at least one stored advisory."""


def site_health(store: Store, principal: Principal, site_id: str, *, as_of: dt.date | None = None,
                advisory_vendors: Mapping[str, Iterable[str]] | None = None) -> SiteHealth:
    """The dashboard figures of one site (``site.read`` authorized first). ``advisory_vendors``
    (:func:`.inventory.stored_advisory_vendors`) is read once for many sites; else here."""
    from zonewarden.engines.cadence import DueStatus
    from zonewarden.services import advisories
    from zonewarden.services.calendar import import_triggers
    from zonewarden.services.patching import finding_items
    from zonewarden.services.queries import site_of
    from zonewarden.services.queries.architecture import check_of
    from zonewarden.services.queries.gap import gap_of
    from zonewarden.services.queries.inventory import inventory_gaps_of, stored_advisory_vendors
    from zonewarden.services.queries.patching import patch_status_of
    from zonewarden.services.queries.risk import due_of, risks_of
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id)
    doc = load_document(store, ident)
    check = check_of(doc, as_of=as_of)
    today = check.as_of
    gap = gap_of(doc, as_of=today)
    zone_ids = {z.id for z in doc.zones}
    below = tuple(t.target for t in gap.report.targets
                  if t.target in zone_ids and any((g.gap or 0) > 0 for g in t.frs))
    risks = risks_of(doc, as_of=today)
    due = due_of(doc, as_of=today, within="30d", extra_triggers=import_triggers(store, doc))
    patch = patch_status_of(doc, as_of=today, findings=finding_items(store, ident))
    summary: dict[str, Any] = patch.status.as_dict().get("summary", {})
    rows = advisories.list_findings(store, principal=principal, site_id=ident, status="affected")
    by_priority = Counter(f.priority or "defer" for f in rows)
    severities = Counter(f.severity.value for f in check.report.findings)
    gaps = inventory_gaps_of(doc, stored_advisory_vendors(store) if advisory_vendors is None else advisory_vendors)

    horizon = today + dt.timedelta(days=EXPIRY_DAYS)
    expiring: dict[tuple[str, str], Expiring] = {}
    for c in gap.report.controls:
        if today <= c.expires <= horizon:
            expiring[("compensating control", c.control)] = Expiring("compensating control", c.control, c.expires,
                                                                     (c.expires - today).days)
    for d in doc.deferrals:
        if today <= d.expires <= horizon:
            expiring[("deferral", d.id)] = Expiring("deferral", d.id, d.expires, (d.expires - today).days)
    return SiteHealth(
        site_id=ident, name=doc.site.name, as_of=today,
        check={s: severities.get(s, 0) for s in SEVERITIES},
        zones=len(doc.zones), zones_below_target=below,
        risks_over_tolerance=risks.over_tolerance,
        assessments_overdue=sum(1 for i in due.items if i.status is DueStatus.OVERDUE),
        assessments_due=sum(1 for i in due.items if i.status is DueStatus.DUE),
        advisory_findings={p: by_priority.get(p, 0) for p in PRIORITIES},
        untriaged=sum(1 for f in rows if f.triage_status in OPEN_TRIAGE),
        patch_compliance=summary.get("compliance"),
        patch_overdue=int(summary.get("overdue") or 0),
        expiring=tuple(sorted(expiring.values(), key=lambda e: (e.expires, e.kind, e.id))),
        unassessable=gaps.exposure.assets,
        unassessable_exposed=gaps.exposure.exposed_assets,
    )


def portfolio(store: Store, principal: Principal, *, as_of: dt.date | None = None) -> list[SiteHealth]:
    """Every site the principal may see, in the order ``sites.list_sites`` gives."""
    from zonewarden.services import sites
    from zonewarden.services.queries.inventory import stored_advisory_vendors

    visible = sites.list_sites(store, principal)
    vendors = stored_advisory_vendors(store) if visible else {}
    return [site_health(store, principal, ident, as_of=as_of, advisory_vendors=vendors) for ident, _ in visible]


__all__ = ["EXPIRY_DAYS", "PRIORITIES", "SEVERITIES", "Expiring", "SiteHealth", "portfolio", "site_health"]
