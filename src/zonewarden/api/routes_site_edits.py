"""Site edits over HTTP: one route factory over the sections of
:data:`zonewarden.services.site_edits.SECTIONS` (zones, conduits, assets, risks, assessments,
changes, maintenance-windows, blackouts, vendor-patches).

``POST /sites/{site}/{section}/{id}`` adds a record, ``PUT`` replaces it, ``PATCH`` changes some
fields (JSON merge patch: ``null`` clears a field), ``DELETE`` removes it, and
``POST /sites/{site}/assets/{id}/move`` moves an asset to another zone. Every write sends the
site's revision in ``If-Match`` (428 without, 412 when stale, the new revision in ``ETag``); a
site the caller has no role on is 404, a missing role 403 naming the roles, an invalid field 422
with its path. The rules are the services' (the same as the CLI's)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from zonewarden.api.deps import Caller, IfMatch, StoreDep, expected_revision, set_etag
from zonewarden.services.site_edits import SECTIONS, Section

router = APIRouter(tags=["site edits"])


class MoveBody(BaseModel):
    zone: str = Field(min_length=1, max_length=128, description="The zone to move the asset to.")
    reason: str | None = Field(default=None, max_length=1000)


def _prepare(store: Any, principal: Any, site_id: str, operation: str, if_match: str | None) -> tuple[str, str]:
    """The visible site (404 otherwise), the caller authorized (403 naming the roles, audited),
    and the revision edited (428 without If-Match), in that order."""
    from zonewarden.services import identity, sites

    ident = sites.resolve_site_id(store, site_id, principal)
    identity.authorize(store, principal, operation, ident)
    return ident, expected_revision(if_match)


def _answer(response: Response, store: Any, principal: Any, outcome: Any) -> dict[str, Any]:
    set_etag(response, store, principal, outcome.site_id)
    return {"record": outcome.after or None, "before": outcome.before, "audit_seq": outcome.audit_seq}


def _routes(sec: Section) -> None:
    path = f"/sites/{{site_id}}/{sec.name}/{{ident}}"

    def add(site_id: str, ident: str, body: dict[str, Any], principal: Caller, store: StoreDep, response: Response,
            if_match: IfMatch = None, reason: str | None = None) -> dict[str, Any]:
        from zonewarden.errors import InputError, Problem
        from zonewarden.services import site_edits

        site, expected = _prepare(store, principal, site_id, sec.operation, if_match)
        if body.get("id", ident) != ident:
            raise InputError(f"the {sec.what}'s id differs from the path", [Problem(f"must be {ident!r}", ("id",))])
        outcome = site_edits.add_record(store, site, sec.name, {**body, "id": ident}, principal=principal,
                                        reason=reason, expected_revision=expected)
        return _answer(response, store, principal, outcome)

    def replace(site_id: str, ident: str, body: dict[str, Any], principal: Caller, store: StoreDep,
                response: Response, if_match: IfMatch = None, reason: str | None = None) -> dict[str, Any]:
        from zonewarden.services import site_edits

        site, expected = _prepare(store, principal, site_id, sec.operation, if_match)
        outcome = site_edits.replace_record(store, site, sec.name, ident, body, principal=principal, reason=reason,
                                            expected_revision=expected)
        return _answer(response, store, principal, outcome)

    def edit(site_id: str, ident: str, body: dict[str, Any], principal: Caller, store: StoreDep, response: Response,
             if_match: IfMatch = None, reason: str | None = None) -> dict[str, Any]:
        from zonewarden.services import site_edits

        site, expected = _prepare(store, principal, site_id, sec.operation, if_match)
        changes = {k: v for k, v in body.items() if v is not None}
        unset = [k for k, v in body.items() if v is None]
        outcome = site_edits.edit_record(store, site, sec.name, ident, changes, unset=unset, principal=principal,
                                         reason=reason, expected_revision=expected)
        return _answer(response, store, principal, outcome)

    def remove(site_id: str, ident: str, principal: Caller, store: StoreDep, response: Response,
               if_match: IfMatch = None, reason: str | None = None) -> dict[str, Any]:
        from zonewarden.services import site_edits

        site, expected = _prepare(store, principal, site_id, sec.operation, if_match)
        outcome = site_edits.remove_record(store, site, sec.name, ident, principal=principal, reason=reason,
                                           expected_revision=expected)
        return _answer(response, store, principal, outcome)

    slug = sec.name.replace("-", "_")
    router.add_api_route(path, add, methods=["POST"], status_code=201, name=f"add_{slug}",
                         summary=f"Add a {sec.what}")
    router.add_api_route(path, replace, methods=["PUT"], name=f"replace_{slug}", summary=f"Replace a {sec.what}")
    router.add_api_route(path, edit, methods=["PATCH"], name=f"edit_{slug}",
                         summary=f"Change fields of a {sec.what} (null clears a field)")
    router.add_api_route(path, remove, methods=["DELETE"], name=f"remove_{slug}",
                         summary=f"Remove a {sec.what} (refused while other records refer to it)")


for _section in SECTIONS.values():
    _routes(_section)


@router.post("/sites/{site_id}/assets/{ident}/move", summary="Move an asset to another zone")
def move_asset(site_id: str, ident: str, body: MoveBody, principal: Caller, store: StoreDep, response: Response,
               if_match: IfMatch = None) -> dict[str, Any]:
    from zonewarden.services import site_edits

    site, expected = _prepare(store, principal, site_id, SECTIONS["assets"].operation, if_match)
    outcome = site_edits.move_asset(store, site, ident, body.zone, principal=principal, reason=body.reason,
                                    expected_revision=expected)
    return _answer(response, store, principal, outcome)


@router.post("/sites/{site_id}/requirements/import", summary="Set many requirement statuses from a CSV body, all or none",
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def import_requirements(site_id: str, request: Request, principal: Caller, store: StoreDep, response: Response,
                              if_match: IfMatch = None, reason: str | None = None) -> dict[str, Any]:
    """The CSV of `zonewarden requirement import` as the request body (UTF-8); a bad cell is 422
    with its line and column."""
    from starlette.concurrency import run_in_threadpool

    raw = await request.body()  # the body limit of the app applies

    def work() -> dict[str, Any]:
        from zonewarden.io.requirements_csv import read_requirements_csv
        from zonewarden.services import requirement_import, sites

        site, expected = _prepare(store, principal, site_id, "requirement.set", if_match)
        doc = sites.load_document(store, site, without=("assets",))
        known = [z.id for z in doc.zones] + [c.id for c in doc.conduits]
        statuses = read_requirements_csv(raw, label="body", known_targets=known)
        outcome = requirement_import.set_requirement_statuses(store, site, statuses, principal=principal, source="body",
                                                              reason=reason, expected_revision=expected)
        set_etag(response, store, principal, site)
        return {"added": outcome.added, "replaced": outcome.replaced, "unchanged": outcome.unchanged,
                "audit_seq": outcome.audit_seq}

    return await run_in_threadpool(work)
