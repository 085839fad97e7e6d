"""What every route depends on: the authenticated caller, the store, and the paging parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from zonewarden.errors import AuthenticationError
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store


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
