"""Errors as RFC 9457 problem details (``application/problem+json``), carrying the same field
paths as the CLI's messages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from zonewarden.errors import (
    AuthenticationError,
    ConflictError,
    ContentTooLarge,
    InputError,
    InstallationError,
    NotFoundError,
    OutputRefused,
    PermissionDenied,
    RateLimited,
    SourceUnavailable,
    StaleRevisionError,
    ZonewardenError,
)

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS: list[tuple[type[ZonewardenError], int, str]] = [
    (AuthenticationError, 401, "Unauthorized"),
    (PermissionDenied, 403, "Forbidden"),
    (NotFoundError, 404, "Not Found"),
    (StaleRevisionError, 412, "Precondition Failed"),  # before ConflictError, its family
    (RateLimited, 429, "Too Many Requests"),
    (ConflictError, 409, "Conflict"),
    (ContentTooLarge, 413, "Content Too Large"),  # before InputError, its family
    (InputError, 422, "Unprocessable Content"),
    (OutputRefused, 422, "Unprocessable Content"),  # e.g. a customer package that would leak
    (SourceUnavailable, 503, "Service Unavailable"),  # an advisory provider did not answer
    (InstallationError, 500, "Internal Server Error"),  # says what is missing on the server
]


async def zonewarden_error(request: Request, exc: Exception) -> JSONResponse:
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {}
            if isinstance(exc, InputError):
                extra["errors"] = [{"pointer": p.pointer, "detail": p.message,
                                    **({"line": p.line} if p.line is not None else {}),
                                    **({"column": p.column} if p.column is not None else {})}
                                   for p in exc.problems]
                detail = super(InputError, exc).__str__()
            else:
                detail = str(exc)
            if isinstance(exc, StaleRevisionError):
                extra["current_revision"] = exc.current
            return problem(status, title, detail, **extra)
    return problem(500, "Internal Server Error", "the server could not complete the request")


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        errors.append({"pointer": ".".join(loc), "detail": e.get("msg", "invalid")})
    return problem(422, "Unprocessable Content", "the request has invalid fields", errors=errors)


class Problem(BaseModel):
    """An RFC 9457 problem document, as every error of the API is sent."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str | int]] | None = Field(
        default=None, description="Invalid fields (422): each a `pointer` (the CLI's field path) and a `detail`; "
                                  "a problem in an uploaded file also its `line` and `column`.")
    current_revision: str | None = Field(default=None, description="The site's revision now (412).")


_WHEN = {
    401: "No, an expired or a revoked token",
    403: "The caller lacks the role (the detail names the roles that may)",
    404: "No such record, or a site the caller holds no role on",
    409: "A conflicting record",
    412: "The If-Match revision is stale",
    413: "The body is over 1 MiB",
    422: "Invalid fields, with their paths",
    428: "A write without If-Match",
    429: "Too many requests from this client (the unauthenticated report intake)",
    503: "An advisory provider did not answer",
}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": when, "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}}
    for status, when in _WHEN.items()
}
"""The error responses every operation may give, for the OpenAPI document."""
