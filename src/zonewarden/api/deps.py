"""What every route depends on: the authenticated caller, the store, the paging parameters, the
revision a write edits (``If-Match``) and the parsing of request bodies into domain records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request, Response
from pydantic import BaseModel, ValidationError

from zonewarden.errors import AuthenticationError, InputError
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

M = TypeVar("M", bound=BaseModel)


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The authenticated principal of a request (401 without a valid bearer token)."""
    from zonewarden.services import identity

    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send `Authorization: Bearer <token>` (zonewarden token create)")
    return identity.authenticate_token(request.app.state.store, token.strip(), client="api")


def the_store(request: Request) -> Store:
    """The process's one store (engine), opened by ``create_app``."""
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
    from zonewarden.io.sitefile import pydantic_problems

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"invalid {what}", pydantic_problems(exc)) from None
