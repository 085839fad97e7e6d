"""Errors on pages: the same families as the API's problem documents, as an HTML page (or, for
an htmx request, a fragment), saying what to do. An invisible site is 404 like a missing one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from zonewarden.errors import (
    AuthenticationError,
    ConflictError,
    ContentTooLarge,
    InputError,
    NotFoundError,
    PermissionDenied,
    StaleRevisionError,
    ZonewardenError,
)
from zonewarden.web.render import is_htmx, page
from zonewarden.web.security import LoginRequired

_STATUS: list[tuple[type[ZonewardenError], int, str]] = [
    (AuthenticationError, 401, "Authentication failed"),
    (PermissionDenied, 403, "Not allowed"),
    (NotFoundError, 404, "Not found"),
    (StaleRevisionError, 412, "Changed meanwhile"),
    (ConflictError, 409, "Conflict"),
    (ContentTooLarge, 413, "Too large"),
    (InputError, 422, "Invalid input"),
]


def status_of(exc: Exception) -> tuple[int, str]:
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            return status, title
    return 500, "Server error"


def message_of(exc: Exception) -> str:
    if isinstance(exc, StaleRevisionError):
        return "someone changed this site since you opened the page: reload it and make the change again"
    return str(exc)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login?next=" + quote(target, safe="")
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_page(request: Request, exc: Exception) -> Response:
    status, title = status_of(exc)
    template = "_error.html" if is_htmx(request) else "error.html"
    return page(request, template, None, status=status, title=title, message=message_of(exc))


def install(app: FastAPI, api_handler: Any) -> None:
    """Pages get HTML errors; ``/api/`` keeps its problem documents."""
    api_validation: Any = app.exception_handlers.get(RequestValidationError)

    async def on_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/") and api_handler is not None:
            response: Response = await api_handler(request, exc)
            return response
        return error_page(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/") and api_validation is not None:
            response: Response = await api_validation(request, exc)
            return response
        assert isinstance(exc, RequestValidationError)
        fields = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors())
        return page(request, "error.html", None, status=422, title="Invalid input", message=fields)

    async def on_login_required(request: Request, exc: Exception) -> Response:
        return login_redirect(request)

    app.add_exception_handler(ZonewardenError, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(LoginRequired, on_login_required)
