"""Patch queries: the plan of open remediations into maintenance windows, and patch compliance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.site import SiteDocument
from zonewarden.services.principal import Principal
from zonewarden.services.queries import day, site_of
from zonewarden.store.db import Store


def _stored(store: Store, principal: Principal, site_id: str | None) -> tuple[SiteDocument, list[Any]]:
    """The stored site and its findings marked 'remediation planned'."""
    from zonewarden.services.patching import finding_items
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id)
    return load_document(store, ident), finding_items(store, ident)


@dataclass(frozen=True, slots=True)
class PatchStatusResult:
    """Patch compliance by tier, overdue items, deferrals and where risk is carried per zone."""

    site_id: str
    site_name: str
    as_of: dt.date
    status: Any

    @property
    def overdue(self) -> bool:
        from zonewarden.engines.patchstatus import has_overdue

        return has_overdue(self.status)

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site_id, **self.status.as_dict()}


def patch_status(store: Store, *, principal: Principal, site_id: str | None,
                 as_of: str | dt.date | None = None) -> PatchStatusResult:
    doc, findings = _stored(store, principal, site_id)
    return patch_status_of(doc, as_of=as_of, findings=findings)


def patch_status_of(doc: SiteDocument, *, as_of: str | dt.date | None = None,
                    findings: list[Any] | None = None) -> PatchStatusResult:
    """Vendor patches of the site plus ``findings`` (remediation items from advisories)."""
    from zonewarden.engines.patchstatus import patch_status as status_of
    from zonewarden.services.patching import open_items

    today = day(doc.site.timezone, as_of)
    return PatchStatusResult(doc.site.id, doc.site.name, today, status_of(doc, open_items(doc, findings or []), today))


@dataclass(frozen=True, slots=True)
class PatchPlanResult:
    """The plan of open remediations into maintenance windows and waves, for one site and day."""

    site_id: str
    site_name: str
    timezone: str | None
    as_of: dt.date
    plan: Any
    window_names: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site_id, **self.plan.as_dict()}

    @property
    def summary(self) -> str:
        plan = self.plan
        return (
            f"{plan.solver} {plan.status}: {len(plan.assignments)} planned "
            f"({sum(1 for a in plan.assignments if a.late)} past deadline), {len(plan.unplanned)} not planned, "
            f"{len(plan.deferred)} deferred; objective {plan.objective}, bound {plan.bound}, "
            f"gap {plan.gap:.2%}, {plan.seconds:.2f} s"
        )


def patch_plan(store: Store, *, principal: Principal, site_id: str | None, as_of: str | dt.date | None = None,
               horizon: str | int = "26w", solver: str = "cpsat", time_limit: float = 10.0, seed: int = 0,
               workers: int = 8) -> PatchPlanResult:
    doc, findings = _stored(store, principal, site_id)
    return patch_plan_of(doc, as_of=as_of, findings=findings, horizon=horizon, solver=solver,
                         time_limit=time_limit, seed=seed, workers=workers)


def patch_plan_of(doc: SiteDocument, *, as_of: str | dt.date | None = None, findings: list[Any] | None = None,
                  horizon: str | int = "26w", solver: str = "cpsat", time_limit: float = 10.0, seed: int = 0,
                  workers: int = 8) -> PatchPlanResult:
    """Vendor patches of the site plus ``findings`` planned from ``as_of`` (the site's today)
    over ``horizon`` (days, or a period as 26w / 180d)."""
    from zonewarden.engines.cadence import parse_days
    from zonewarden.engines.patchplan import plan_patches
    from zonewarden.services.patching import open_items

    today = day(doc.site.timezone, as_of)
    days = horizon if isinstance(horizon, int) else parse_days(horizon)
    plan = plan_patches(doc, open_items(doc, findings or []), today, horizon_days=days, solver=solver,  # type: ignore[arg-type]
                        time_limit=time_limit, seed=seed, workers=workers)
    return PatchPlanResult(doc.site.id, doc.site.name, doc.site.timezone, today, plan,
                           {w.id: w.name for w in doc.maintenance_windows})
