"""Each error family answers with its own HTTP status as problem+json (the mapping in api/problems)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from zonewarden.api.problems import zonewarden_error
from zonewarden.errors import (
    ConflictError,
    ContentTooLarge,
    InputError,
    NotFoundError,
    PermissionDenied,
    StaleRevisionError,
    ZonewardenError,
)


@pytest.mark.parametrize(("exc", "status"), [
    (ContentTooLarge("evidence file: 30 MiB is over the limit of 20 MiB"), 413),
    (InputError("bad field"), 422),
    (PermissionDenied("needs the role engineer"), 403),
    (NotFoundError("no such site"), 404),
    (StaleRevisionError("plant", "r1", "r2"), 412),
    (ConflictError("exists"), 409),
])
def test_error_family_maps_to_its_status(exc: ZonewardenError, status: int) -> None:
    response = asyncio.run(zonewarden_error(None, exc))  # type: ignore[arg-type]
    body = orjson.loads(bytes(response.body))
    assert response.status_code == status and body["status"] == status
    assert response.media_type == "application/problem+json"
    assert str(exc).split(":")[0] in body["detail"]
