"""The HTTP API: ``create_app(db_url)`` gives the FastAPI application served by ``zonewarden serve``.

Every route authenticates the caller from ``Authorization: Bearer <token>`` (tokens from
``zonewarden token create`` or ``zonewarden login``) and calls the same services as the CLI, so
the roles are checked in one place. Lists are paged (``limit``/``offset``) and filtered; a site's
revision is its ``ETag`` and a write must send it back in ``If-Match`` (a stale one gets 412, a
missing one 428). Errors are RFC 9457 problem documents with the field paths of the CLI's
messages. The application keeps no state in process memory beyond the database engine, so
several workers can serve one database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from zonewarden import __version__
from zonewarden.api.deps import (  # noqa: F401  (caller: tests and routes)
    Caller,
    IfMatch,
    Limit,
    Offset,
    PreconditionRequired,
    caller,
    expected_revision,
    parse,
    set_etag,
)
from zonewarden.api.problems import PROBLEM_RESPONSES, problem, validation_error, zonewarden_error
from zonewarden.errors import ZonewardenError
from zonewarden.services.principal import Principal

MAX_BODY = 1024 * 1024
"""Largest request body accepted (413 above), except the uploads of :data:`UPLOAD_LIMITS`."""

PREFIX = "/api/v1"

UPLOAD_LIMITS = {f"{PREFIX}/kev": 16 * 1024 * 1024, f"{PREFIX}/advisories": 16 * 1024 * 1024,
                 f"{PREFIX}/psirt/reports": 3 * 1024 * 1024, f"{PREFIX}/sites/import": 16 * 1024 * 1024}
"""Paths whose body is a whole file (CISA's KEV catalog is over 1 MiB; a vulnerability report with
its attachments up to 2 MiB, refused by the reader with a message above that) and their limit."""


def _pattern_limit(path: str) -> int | None:
    """The limit of an upload path with variables in it (the web page's evidence upload)."""
    from zonewarden.web.pages_uploads import UPLOAD_LIMIT, UPLOAD_PATH

    return UPLOAD_LIMIT if UPLOAD_PATH.match(path) else None


class BodyLimit:
    """Refuses a request body over ``limit`` bytes (or the path's own limit in ``per_path``)
    with 413, whether or not it declares its length (a chunked body is counted as it arrives)."""

    def __init__(self, app: Any, limit: int = MAX_BODY, per_path: dict[str, int] | None = None) -> None:
        self.app, self.default, self.per_path = app, limit, per_path or {}

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.per_path.get(path) or _pattern_limit(path) or self.default  # per request: requests overlap
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(limit, scope, receive, send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._too_large(limit, scope, receive, send)

    async def _too_large(self, limit: int, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = problem(413, "Content Too Large", f"the request body is over {limit} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


# --- request bodies ---------------------------------------------------------------------------


class StatusBody(BaseModel):
    """A requirement status, as the site file's ``requirements:`` entries hold it."""

    status: Literal["implemented", "partial", "planned", "not-implemented", "not-applicable", "compensated"]
    justification: str | None = Field(default=None, max_length=4000)
    target_date: dt.date | None = None
    compensating_control: str | None = Field(default=None, max_length=128,
                                             description="For 'compensated': the compensating control's id.")
    assessed: dt.date | None = None
    notes: str | None = Field(default=None, max_length=4000, description="Internal notes (sensitive).")
    reason: str | None = Field(default=None, max_length=1000, description="Why (recorded in the audit trail).")


class DecisionBody(BaseModel):
    """A triage decision; closing a finding or accepting its risk is signed: give your password."""

    status: str = Field(max_length=64)
    why: str = Field(max_length=4000)
    owner: str | None = Field(default=None, max_length=128)
    expires: dt.date | None = None
    controls: list[str] = Field(default_factory=list, max_length=100)
    password: str | None = Field(default=None, max_length=1024, description="Your password, to sign a closure.")
    totp: str | None = Field(default=None, max_length=16)
    meaning: str | None = Field(default=None, max_length=200)


# --- the application ----------------------------------------------------------------------------


def create_app(db_url: str | None = None) -> FastAPI:
    from zonewarden.runtime import allow_gc_pause
    from zonewarden.services.database import open_for_serving

    allow_gc_pause(False)  # requests overlap: a pause per request would keep the collector off for all
    store = open_for_serving(db_url)  # one engine per process, shared by the worker's threads; never migrates
    app = FastAPI(
        title="zonewarden", version=__version__, openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs", redoc_url=None,
        description="IEC 62443 cybersecurity management: the same services and rules as the CLI.",
        responses=PROBLEM_RESPONSES,
    )
    app.add_exception_handler(ZonewardenError, zonewarden_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.state.store = store

    @app.exception_handler(PreconditionRequired)
    async def _precondition(request: Request, exc: Exception) -> Response:
        return problem(428, "Precondition Required",
                       "send the site's revision in If-Match (the ETag of GET /api/v1/sites/{site})")

    @app.get(f"{PREFIX}/whoami")
    def whoami(principal: Caller) -> dict[str, Any]:
        return {"user": principal.user_id, "full_name": principal.full_name, "method": principal.method,
                "read_only": principal.read_only,
                "roles": {site: sorted(roles) for site, roles in principal.roles.items()}}

    @app.get(f"{PREFIX}/sites")
    def list_sites(principal: Caller, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        from zonewarden.services import sites

        rows = [{"id": i, "name": n} for i, n in sites.list_sites(store, principal)]
        return {"items": rows[offset:offset + limit], "total": len(rows), "limit": limit, "offset": offset}

    @app.get(f"{PREFIX}/sites/{{site_id}}")
    def get_site(site_id: str, principal: Caller, response: Response) -> dict[str, Any]:
        from zonewarden.services import site_views

        data = site_views.site_summary(store, principal, _visible(principal, site_id))
        response.headers["ETag"] = f'"{data["revision"]}"'
        return data

    def _visible(principal: Principal, site_id: str) -> str:
        from zonewarden.services import sites

        return sites.resolve_site_id(store, site_id, principal)

    def _section_routes(section: Literal["zones", "conduits", "assets"]) -> None:
        def list_section(
            site_id: str, principal: Caller, response: Response, limit: Limit = 100, offset: Offset = 0,
            zone: str | None = None, kind: str | None = None, q: Annotated[str | None, Query(max_length=128)] = None,
        ) -> dict[str, Any]:
            from zonewarden.services import site_views

            page = site_views.records(store, principal, _visible(principal, site_id), section, limit=limit,
                                      offset=offset, zone=zone, kind=kind, q=q)
            response.headers["ETag"] = f'"{page.revision}"'
            return page.as_dict()

        def get_record(site_id: str, ident: str, principal: Caller, response: Response) -> dict[str, Any]:
            from zonewarden.services import site_views

            data = site_views.record(store, principal, _visible(principal, site_id), section, ident)
            response.headers["ETag"] = f'"{data["revision"]}"'
            return data

        app.add_api_route(f"{PREFIX}/sites/{{site_id}}/{section}", list_section, methods=["GET"],
                          name=f"list_{section}", summary=f"One page of the site's {section}")
        app.add_api_route(f"{PREFIX}/sites/{{site_id}}/{section}/{{ident}}", get_record, methods=["GET"],
                          name=f"get_{section[:-1]}", summary=f"One of the site's {section}")

    for _section in ("zones", "conduits", "assets"):
        _section_routes(_section)  # type: ignore[arg-type]

    @app.get(f"{PREFIX}/sites/{{site_id}}/check")
    def check(site_id: str, principal: Caller, as_of: dt.date | None = None) -> dict[str, Any]:
        from zonewarden.services.queries import architecture

        # The CLI's query: the same report, and "today" in the site's time zone, as `check`.
        return architecture.check(store, principal=principal, site_id=site_id, as_of=as_of).as_dict()

    @app.get(f"{PREFIX}/sites/{{site_id}}/requirements")
    def list_requirements(site_id: str, principal: Caller, response: Response, limit: Limit = 100,
                          offset: Offset = 0, target: str | None = None) -> dict[str, Any]:
        from zonewarden.services import site_views, sites

        ident = _visible(principal, site_id)
        doc = sites.load_document(store, ident, without=("assets",))
        rows = [r.model_dump(mode="json", exclude_defaults=True) for r in doc.requirements
                if target is None or r.target == target]
        response.headers["ETag"] = f'"{site_views.revision(store, principal, ident)}"'
        return {"items": rows[offset:offset + limit], "total": len(rows), "limit": limit, "offset": offset}

    @app.put(f"{PREFIX}/sites/{{site_id}}/requirements/{{target}}/{{requirement}}")
    def set_requirement(site_id: str, target: str, requirement: str, body: StatusBody, principal: Caller,
                        response: Response, if_match: IfMatch = None) -> dict[str, Any]:
        from zonewarden.domain.requirements import RequirementStatus, status_field_problems
        from zonewarden.errors import InputError
        from zonewarden.services import identity, requirements

        ident = _visible(principal, site_id)
        identity.authorize(store, principal, "requirement.set", ident)  # 403 before anything else
        expected = expected_revision(if_match)
        fields = {"target": target, "requirement": requirement,
                  **body.model_dump(mode="json", exclude={"reason"}, exclude_none=True)}
        status = parse(RequirementStatus, fields, "requirement status")
        missing = status_field_problems(status)
        if missing:
            raise InputError("invalid requirement status", missing)
        outcome = requirements.set_requirement_status(store, ident, status, principal=principal, reason=body.reason,
                                                      expected_revision=expected)
        set_etag(response, store, principal, ident)
        return {"record": outcome.after, "before": outcome.before, "audit_seq": outcome.audit_seq}

    @app.get(f"{PREFIX}/sites/{{site_id}}/signatures")
    def signatures(site_id: str, principal: Caller, object_id: str | None = None) -> dict[str, Any]:
        from zonewarden.services.signatures import list_signatures

        ident = _visible(principal, site_id)
        return {"site": ident, "signatures": [s.as_dict() for s in list_signatures(store, principal, ident, object_id)]}

    @app.get(f"{PREFIX}/findings")
    def findings(
        principal: Caller, limit: Limit = 100, offset: Offset = 0, site: str | None = None,
        priority: Annotated[list[str] | None, Query()] = None, status: Annotated[list[str] | None, Query()] = None,
        triage: Annotated[list[str] | None, Query()] = None, zone: str | None = None, advisory: str | None = None,
    ) -> dict[str, Any]:
        from zonewarden.services.findings_page import findings_page

        rows, total = findings_page(store, principal=principal, limit=limit, offset=offset, site_id=site,
                                    priority=priority, status=status, triage=triage, zone=zone, advisory=advisory)
        return {"items": [f.as_json() for f in rows], "total": total, "limit": limit, "offset": offset}

    @app.get(f"{PREFIX}/findings/{{finding_id}}")
    def finding(finding_id: int, principal: Caller) -> dict[str, Any]:
        from zonewarden.services import advisories

        found = advisories.get_finding(store, finding_id, principal=principal)
        act = advisories.finding_actions(store, finding_id, principal=principal)
        return {**found.as_json(), "act_on": act.as_json()}  # as `findings show --format json`

    @app.post(f"{PREFIX}/findings/{{finding_id}}/decisions", status_code=201)
    def decide(finding_id: int, body: DecisionBody, principal: Caller) -> dict[str, Any]:
        from zonewarden.services import advisories
        from zonewarden.services.signatures import Signing

        signing = Signing(body.password, body.totp, body.meaning) if body.password is not None else None
        f = advisories.decide(store, finding_id, body.status, body.why, owner=body.owner, expires=body.expires,
                              controls=body.controls, principal=principal, signing=signing)
        return f.as_json()

    @app.get(f"{PREFIX}/audit")
    def audit_log(principal: Caller, limit: Limit = 100, offset: Offset = 0, site: str | None = None,
                  action: Annotated[str | None, Query(max_length=100, description="An action, or a prefix ending in '.'")] = None,
                  actor: Annotated[str | None, Query(max_length=128)] = None,
                  object_id: Annotated[str | None, Query(max_length=256)] = None,
                  since: dt.datetime | None = None, until: dt.datetime | None = None,
                  newest_first: bool = False) -> dict[str, Any]:
        from zonewarden.services import audit_queries

        page = audit_queries.search(store, principal, audit_queries.EventFilter(
            site_id=site, action=action, actor=actor, object_id=object_id, since=since, until=until,
        ), limit=limit, offset=offset, newest_first=newest_first)
        return {
            "items": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "context": e.context,
                       "action": e.action, "site": e.site_id, "object_type": e.object_type,
                       "object_id": e.object_id, "reason": e.reason, "before": e.before, "after": e.after,
                       "hash": e.hash} for e in page.items],
            "total": page.total, "limit": limit, "offset": offset,
        }

    @app.get(f"{PREFIX}/advisories")
    def list_advisories(principal: Caller, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        from zonewarden.services import advisories

        rows = advisories.list_advisories(store)
        return {"items": [r.as_json() for r in rows[offset:offset + limit]],
                "total": len(rows), "limit": limit, "offset": offset}

    from zonewarden.api import (
        routes_approvals,
        routes_feeds,
        routes_import,
        routes_patch_changes,
        routes_psirt,
        routes_queries,
        routes_site_edits,
    )

    app.include_router(routes_queries.router, prefix=PREFIX)
    app.include_router(routes_feeds.router, prefix=PREFIX)
    app.include_router(routes_approvals.router, prefix=PREFIX)
    app.include_router(routes_site_edits.router, prefix=PREFIX)
    app.include_router(routes_psirt.router, prefix=PREFIX)
    app.include_router(routes_patch_changes.router, prefix=PREFIX)
    app.include_router(routes_import.router, prefix=PREFIX)
    app.add_middleware(BodyLimit, limit=MAX_BODY, per_path=UPLOAD_LIMITS)  # type: ignore[arg-type]
    from zonewarden import web

    web.mount(app)  # the web pages (zonewarden.web)
    return app

