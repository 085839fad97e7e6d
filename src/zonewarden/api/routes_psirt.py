"""The supplier's PSIRT over HTTP: the reporters' intake (no account needed) and the cases.

``POST /psirt/reports`` is the one route anyone may call: it takes a report (JSON or YAML, at
most 2 MiB, validated with JSON pointers, script payloads stored inert), is limited per client
address and hour (429 beyond), and answers only the case reference, the status secret (shown
once) and when the acknowledgement is due. ``GET /psirt/reports/status/{secret}`` shows that
report's state and dates, nothing else; an unknown secret is one generic 404. The cases
themselves are for the PSIRT roles, and an embargoed case is an outline to anyone outside it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from zonewarden.api.deps import Caller, StoreDep
from zonewarden.services import psirt

router = APIRouter(tags=["psirt"])


def _client(request: Request) -> str:
    """The reporter's address as the server sees it (behind a proxy, uvicorn's
    ``--forwarded-allow-ips`` decides whether X-Forwarded-For counts)."""
    return request.client.host if request.client else "unknown"


@router.post("/psirt/reports", status_code=201, summary="Report a vulnerability (no account needed)",
             openapi_extra={"security": [], "requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object", "description": "A vulnerability report"}},
                 "application/yaml": {"schema": {"type": "string"}}}}})
async def submit_report(request: Request, store: StoreDep, response: Response) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    data = await request.body()
    intake = await run_in_threadpool(psirt.submit_report, store, data, client=_client(request))
    response.headers["Cache-Control"] = "no-store"  # the answer carries the status secret
    return intake.as_dict()


@router.get("/psirt/reports/status/{secret}", summary="The state of your report (the secret link)",
            openapi_extra={"security": []})
def report_status(secret: str, store: StoreDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the secret must not travel in a Referer
    return psirt.report_status(store, secret)


@router.get("/psirt/cases", summary="The PSIRT's cases (embargoed ones outside your circle as outlines)")
def cases(principal: Caller, store: StoreDep) -> dict[str, Any]:
    rows = psirt.list_cases(store, principal=principal)
    return {"items": rows, "total": len(rows)}


@router.get("/psirt/cases/{reference}", summary="One case as the caller may see it")
def case(reference: str, principal: Caller, store: StoreDep) -> dict[str, Any]:
    return psirt.show_case(store, reference, principal=principal)
