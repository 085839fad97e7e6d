"""The audit log (search, paged, with a verify button) and the admin page (users, roles, tokens,
sessions) for administrators."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from zonewarden.errors import ZonewardenError
from zonewarden.services import access, audit_queries, identity, jobs, sessions, sites
from zonewarden.web.errors import message_of, status_of
from zonewarden.web.render import page
from zonewarden.web.security import Viewer, Writer, store_of

router = APIRouter()
PAGE = 100
Filter = Annotated[str | None, Query(max_length=200)]


def _audit(request: Request, session: Any, filters: dict[str, str], offset: int,
           verified: Any = None, status: int = 200) -> Response:
    store = store_of(request)
    site_id = sites.resolve_site_id(store, filters["site"], session.principal) if filters.get("site") else None
    found = audit_queries.search(store, session.principal, audit_queries.EventFilter(
        site_id=site_id, action=filters.get("action") or None, actor=filters.get("actor") or None,
        object_id=filters.get("object") or None), limit=PAGE, offset=offset, newest_first=True)
    query = urlencode({k: v for k, v in filters.items() if v})
    return page(request, "audit.html", session, status=status, title="Audit log", events=found.items,
                total=found.total, offset=offset, page_size=PAGE, filters=filters, query=query,
                sites=sites.list_sites(store, session.principal), verified=verified)


@router.get("/audit")
def audit_log(request: Request, session: Viewer, site: Filter = None, action: Filter = None, actor: Filter = None,
              object: Filter = None, offset: Annotated[int, Query(ge=0)] = 0) -> Response:  # noqa: A002
    filters = {"site": site or "", "action": action or "", "actor": actor or "", "object": object or ""}
    return _audit(request, session, filters, offset)


@router.post("/audit/verify")
def verify(request: Request, session: Writer) -> Response:
    result = audit_queries.verify(store_of(request), session.principal)
    return _audit(request, session, {"site": "", "action": "", "actor": "", "object": ""}, 0, verified=result)


ADMIN_PAGE = 50
"""Users and tokens shown per page of the admin page."""
JOBS_SHOWN = 50
"""The newest background jobs on the admin page (all of them: `zonewarden jobs list`)."""


def _admin(request: Request, session: Any, *, status: int = 200, users_offset: int = 0, tokens_offset: int = 0,
           **extra: Any) -> Response:
    store = store_of(request)
    users = identity.list_users(store, session.principal)
    tokens = identity.list_tokens(store, session.principal)
    recent_jobs = jobs.list_jobs(store, session.principal, limit=JOBS_SHOWN)
    return page(request, "admin.html", session, status=status, title="Administration", jobs=recent_jobs,
                jobs_shown=JOBS_SHOWN,
                users=users[users_offset:users_offset + ADMIN_PAGE], user_names=[u.name for u in users],
                users_total=len(users), users_offset=users_offset,
                tokens=tokens[tokens_offset:tokens_offset + ADMIN_PAGE], tokens_total=len(tokens),
                tokens_offset=tokens_offset, page_size=ADMIN_PAGE,
                roles=sorted(access.ROLES), sites=sites.list_sites(store, session.principal),
                **{"message": None, "error": None, **extra})


@router.get("/admin")
def admin(request: Request, session: Viewer, users: Annotated[int, Query(ge=0)] = 0,
          tokens: Annotated[int, Query(ge=0)] = 0) -> Response:
    return _admin(request, session, users_offset=users, tokens_offset=tokens)


def _do(request: Request, session: Any, action: Any, done: str) -> Response:
    try:
        action()
    except ZonewardenError as exc:
        return _admin(request, session, status=status_of(exc)[0], error=message_of(exc))
    return _admin(request, session, message=done)


@router.post("/admin/users")
def add_user(request: Request, session: Writer, name: Annotated[str, Form(max_length=128)],
             full_name: Annotated[str, Form(max_length=300)], password: Annotated[str, Form(max_length=1024)]) -> Response:
    return _do(request, session, lambda: identity.add_user(store_of(request), session.principal, name, full_name, password),
               f"user {name} added")


@router.post("/admin/users/{name}/disable")
def disable(request: Request, name: str, session: Writer, enable: Annotated[bool, Form()] = False) -> Response:
    def act() -> None:
        identity.disable_user(store_of(request), session.principal, name, disabled=not enable)
        if not enable:
            sessions.revoke_all(store_of(request), session.principal, name)

    return _do(request, session, act, f"user {name} {'enabled' if enable else 'disabled; their sessions ended'}")


@router.post("/admin/users/{name}/sessions/revoke")
def revoke_sessions(request: Request, name: str, session: Writer) -> Response:
    return _do(request, session, lambda: sessions.revoke_all(store_of(request), session.principal, name),
               f"every session of {name} ended")


@router.post("/admin/roles")
def role(request: Request, session: Writer, name: Annotated[str, Form(max_length=128)],
         role: Annotated[str, Form(max_length=64)], site: Annotated[str, Form(max_length=128)],
         revoke: Annotated[bool, Form()] = False) -> Response:
    return _do(request, session,
               lambda: identity.grant_role(store_of(request), session.principal, name, role, site, grant=not revoke),
               f"role {role} on {site} {'revoked from' if revoke else 'granted to'} {name}")


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, session: Writer) -> Response:
    return _do(request, session, lambda: identity.revoke_token(store_of(request), session.principal, token_id),
               f"token {token_id} revoked")
