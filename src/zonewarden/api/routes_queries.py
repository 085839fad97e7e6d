"""Read routes over the query services the CLI commands use (``check``, ``paths``, ``gap``,
``slt``, ``risks``, ``risk-method``, ``due``, ``patch status``): the same data, the same "today" (the
site's time zone), the same roles, so a script reading the API and one reading
``zonewarden <command> --format json`` see one answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from zonewarden.api.deps import AsOf, Caller, Period, StoreDep
from zonewarden.domain.levels import FR

router = APIRouter(tags=["queries"])

Ident = Annotated[str, Query(max_length=128)]


@router.get("/sites/{site_id}/paths", summary="Paths between two zones, hop by hop")
def paths(site_id: str, source: Ident, target: Ident, principal: Caller, store: StoreDep,
          max_hops: Annotated[int, Query(ge=1, le=20)] = 6,
          limit: Annotated[int, Query(ge=1, le=10000)] = 1000) -> dict[str, Any]:
    from zonewarden.services.queries import architecture

    return architecture.paths(store, principal=principal, site_id=site_id, source=source, target=target,
                              max_hops=max_hops, limit=limit).as_dict()


@router.get("/sites/{site_id}/gap", summary="SL-T against SL-A per zone and FR, with the explanation")
def gap(site_id: str, principal: Caller, store: StoreDep, as_of: AsOf = None,
        zone: Annotated[list[str] | None, Query(max_length=100)] = None, fr: FR | None = None,
        only_gaps: bool = False) -> dict[str, Any]:
    from zonewarden.services.queries import gap as queries

    return queries.gap(store, principal=principal, site_id=site_id, as_of=as_of, zones=tuple(zone or ()),
                       fr=fr, only_gaps=only_gaps).as_dict()


@router.get("/sites/{site_id}/gap/iso27001", summary="ISO/IEC 27001:2022 Annex A coverage from the 62443 statuses")
def annex_a(site_id: str, principal: Caller, store: StoreDep, as_of: AsOf = None,
            only_gaps: bool = False) -> dict[str, Any]:
    from zonewarden.services.queries import gap as queries

    result = queries.annex_a(store, principal=principal, site_id=site_id, as_of=as_of, only_gaps=only_gaps)
    return {"site": result.site_id, "as_of": result.as_of.isoformat(), "counts": result.counts(),
            "controls": result.rows()}


@router.get("/sites/{site_id}/slt", summary="SL-T per zone and FR with the rule behind each")
def slt(site_id: str, principal: Caller, store: StoreDep, zone: Ident | None = None) -> dict[str, Any]:
    from zonewarden.services.queries import risk

    return risk.slt(store, principal=principal, site_id=site_id, zone=zone).as_dict()


@router.get("/sites/{site_id}/slt/history", summary="Recorded SL-T changes")
def slt_history(site_id: str, principal: Caller, store: StoreDep, zone: Ident | None = None) -> dict[str, Any]:
    from zonewarden.services.queries import risk

    return risk.slt_history(store, principal=principal, site_id=site_id, zone=zone).as_dict()


@router.get("/sites/{site_id}/risks", summary="The risk register, scored, with acceptances")
def risks(site_id: str, principal: Caller, store: StoreDep, as_of: AsOf = None, zone: Ident | None = None,
          over_tolerance: bool = False, expiring_within: Period = "90d") -> dict[str, Any]:
    from zonewarden.services.queries import risk

    return risk.risks(store, principal=principal, site_id=site_id, as_of=as_of, zone=zone,
                      over_tolerance=over_tolerance, expiring_within=expiring_within).as_dict()


@router.get("/sites/{site_id}/risk-method", summary="The site's documented risk method")
def risk_method(site_id: str, principal: Caller, store: StoreDep) -> dict[str, Any]:
    from zonewarden.services.queries import risk

    return risk.risk_method(store, principal=principal, site_id=site_id)


@router.get("/sites/{site_id}/due", summary="Assessments due: cadence and event triggers")
def due(site_id: str, principal: Caller, store: StoreDep, as_of: AsOf = None, within: Period = "90d",
        show_all: Annotated[bool, Query(alias="all")] = False) -> dict[str, Any]:
    from zonewarden.services.queries import risk

    return risk.due(store, principal=principal, site_id=site_id, as_of=as_of, within=within,
                    show_all=show_all).as_dict()


@router.get("/sites/{site_id}/patch/status", summary="Patch compliance by tier, overdue items and deferrals")
def patch_status(site_id: str, principal: Caller, store: StoreDep, as_of: AsOf = None) -> dict[str, Any]:
    from zonewarden.services.queries import patching

    return patching.patch_status(store, principal=principal, site_id=site_id, as_of=as_of).as_dict()


@router.get("/sites/{site_id}/patch/plan", summary="Plan open remediations into maintenance windows and waves")
def patch_plan(site_id: str, principal: Caller, store: StoreDep, as_of: AsOf = None, horizon: Period = "26w",
               solver: Literal["cpsat", "greedy"] = "greedy",
               time_limit: Annotated[float, Query(gt=0, le=30, description="CP-SAT seconds (at most 30 here).")] = 10.0,
               seed: int = 0) -> dict[str, Any]:
    """As `patch plan --format json`. The greedy planner is the default here (fast); CP-SAT is
    bounded to 30 s and 2 search workers per request, so one caller cannot take the server."""
    from zonewarden.services.queries import patching

    return patching.patch_plan(store, principal=principal, site_id=site_id, as_of=as_of, horizon=horizon,
                               solver=solver, time_limit=time_limit, seed=seed, workers=2).as_dict()
