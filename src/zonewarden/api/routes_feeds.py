"""Advisories, the KEV catalog and evidence packages over HTTP.

Uploads are the request body itself (a CSAF document, a KEV catalog: ``application/json``),
read by the same readers as the files the CLI takes, so a bad document gets the same JSON
pointers. Ingest and report builds run synchronously here (the job queue runs them in the
background once it exists); the body limit of the app applies (1 MiB)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from zonewarden.api.deps import AsOf, Caller, StoreDep
from zonewarden.errors import InputError
from zonewarden.services import advisories

router = APIRouter(tags=["advisories and evidence"])

MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}


async def _body(request: Request, what: str) -> bytes:
    data = await request.body()
    if not data.strip():
        raise InputError(f"send the {what} as the request body (application/json)", [])
    return data


@router.post("/advisories", status_code=200, summary="Ingest one CSAF 2.0 document (the request body)",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"type": "object", "description": "A CSAF 2.0 document"}}}}})
async def ingest_advisory(request: Request, principal: Caller, store: StoreDep,
                          strict: bool = False, name: Annotated[str, Query(max_length=200)] = "upload.json",
                          reason: Annotated[str | None, Query(max_length=1000)] = None) -> dict[str, Any]:
    """Lenient by default (deviations are stored with the document); ``strict`` rejects any
    deviation. A rejected document is 422 with the validator's JSON pointers."""
    from starlette.concurrency import run_in_threadpool

    data = await _body(request, "CSAF document")
    report = await run_in_threadpool(advisories.ingest_bytes, store, [(name, data)], strict=strict,
                                     principal=principal, reason=reason)
    [result] = report.results
    if result.outcome == "rejected":
        raise InputError(result.error or "the document was rejected", [])
    return {"outcome": result.outcome, "tracking_id": result.tracking_id, "version": result.version,
            "deviations": result.deviations, "findings_created": report.findings_created,
            "findings_updated": report.findings_updated, "reopened": report.reopened,
            "vex_statements": report.vex_statements, "vex_closed": report.vex_closed}


@router.get("/advisories/{tracking_id}", summary="Every stored revision of one advisory")
def advisory(tracking_id: str, principal: Caller, store: StoreDep) -> dict[str, Any]:
    rows = advisories.advisory_history(store, tracking_id)
    return {"tracking_id": tracking_id, "revisions": [r.as_json() for r in rows]}


@router.get("/kev", summary="The stored KEV catalog: how many entries, which version")
def kev(principal: Caller, store: StoreDep) -> dict[str, Any]:
    entries, version = advisories.kev_count(store)
    return {"entries": entries, "catalog_version": version}


@router.put("/kev", summary="Replace the KEV catalog with the request body and re-prioritise findings",
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "description": "CISA's known_exploited_vulnerabilities.json"}}}}})
async def import_kev(request: Request, principal: Caller, store: StoreDep,
                     reason: Annotated[str | None, Query(max_length=1000)] = None) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    data = await _body(request, "KEV catalog")
    r = await run_in_threadpool(advisories.import_kev, store, "upload.json", principal=principal, reason=reason,
                                content=data)
    return {"catalog_version": r.version, "entries": r.entries, "added": r.added, "removed": r.removed,
            "reprioritised": r.reprioritised}


@router.get("/sites/{site_id}/report", summary="Build the site's evidence package and return one of its files",
            responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def report(site_id: str, principal: Caller, store: StoreDep,
           audience: Literal["auditor", "customer"] = "auditor",
           format: Literal["json", "html", "pdf"] = "json", as_of: AsOf = None) -> Response:  # noqa: A002
    """Authorized as ``report.<audience>``: a customer gets only the customer package, which
    carries nothing marked internal. The file's SHA-256 is in ``Repr-Digest`` (RFC 9530) for
    the record. An HTML package is served sandboxed: it runs nothing and loads nothing."""
    import base64
    import hashlib

    from zonewarden.services.queries import report as report_query

    result = report_query.report(store, principal=principal, site_id=site_id, audience=audience,
                                 formats=[format], as_of=as_of)
    name = next(n for n in result.files if n.endswith(f".{format}"))
    body = result.files[name]
    return Response(body, media_type=MEDIA[format], headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Repr-Digest": f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff",
    })
