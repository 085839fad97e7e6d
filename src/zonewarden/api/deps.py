"""What every route depends on: the authenticated caller, the store, the paging parameters, the
revision a write edits (``If-Match``) and the parsing of request bodies into domain records."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request, Response
from pydantic import BaseModel

from zonewarden.errors import AuthenticationError
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

M = TypeVar("M", bound=BaseModel)


TOKEN_CACHE_SECONDS = float(os.environ.get("ZONEWARDEN_TOKEN_CACHE_SECONDS") or 0)
"""How long one API process reuses a token's checked principal (0, the default: every request
checks the token in the database). Above 0, a token revoked, a user disabled or a role changed
elsewhere (the CLI, another worker) still works in this process for up to that long: the trade-off
measured in docs/benchmarks.md ("REST API")."""
_TOKEN_CACHE_MAX = 10_000
_token_cache: dict[bytes, tuple[float, Principal]] = {}
_token_lock = threading.Lock()


def _cached_principal(store: Store, token: str) -> Principal:
    from zonewarden.services import identity

    if TOKEN_CACHE_SECONDS <= 0:
        return identity.authenticate_token(store, token, client="api")
    key = hashlib.sha256(token.encode()).digest()  # the cache never holds a token itself
    now = time.monotonic()
    with _token_lock:
        hit = _token_cache.get(key)
    if hit is not None and now - hit[0] < TOKEN_CACHE_SECONDS:
        return hit[1]
    principal = identity.authenticate_token(store, token, client="api")  # a failure is never cached
    with _token_lock:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[key] = (now, principal)
    return principal


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The authenticated principal of a request (401 without a valid bearer token)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send `Authorization: Bearer <token>` (zonewarden token create)")
    return _cached_principal(request.app.state.store, token.strip())


async def the_store(request: Request) -> Store:
    """The process's one store (engine), opened by ``create_app``. Async because it does no I/O: a
    sync dependency would cost a hop to the thread pool per request."""
    store: Store = request.app.state.store
    return store


Caller = Annotated[Principal, Depends(caller)]
StoreDep = Annotated[Store, Depends(the_store)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]
AsOf = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$",
                                   description="The day to evaluate (YYYY-MM-DD, in the site's time zone).")]
Period = Annotated[str, Query(pattern=r"^\d{1,5}[dwDW]?$", description="A period: days as 90d, weeks as 12w.")]


class PreconditionRequired(Exception):
    """A write came without ``If-Match`` (the app answers 428)."""


IfMatch = Annotated[str | None, Header(alias="If-Match", description="The site's revision (its ETag).")]
"""The ``If-Match`` header of a write; a route passes it to ``expected_revision`` *after* its role
check, so a caller without the role gets 403 whatever they send."""


def expected_revision(if_match: str | None) -> str:
    """The site revision a write edits, from ``If-Match`` (428 without one); the service compares
    it with the stored one under the site's write lock (412 when it moved on)."""
    if if_match is None:
        raise PreconditionRequired
    return if_match.strip().removeprefix("W/").strip('"')


def set_etag(response: Response, store: Store, principal: Principal, site_id: str) -> None:
    """Send the site's current revision as the response's ``ETag`` (what the next write sends back)."""
    from zonewarden.services import site_views

    response.headers["ETag"] = f'"{site_views.revision(store, principal, site_id)}"'


def parse(model: type[M], data: Mapping[str, Any], what: str) -> M:
    """``data`` as ``model``; invalid fields are an InputError (422) with the CLI's field paths."""
    from zonewarden.io.sitefile import parse_record  # the one conversion, shared with the CLI

    return parse_record(model, data, what)
