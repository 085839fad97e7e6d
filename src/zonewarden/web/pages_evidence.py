"""The evidence page: build the auditor or customer package as a background job (live progress,
the error of a failed attempt, the download links with their SHA-256 when done) and every issued
package of the site with its hashes, each file downloadable while it is on disk.

The build is the ``report.build`` job (``services.jobs_tasks``), queued with the user's
principal: on PostgreSQL a ``zonewarden worker`` runs it; on SQLite the server runs it
in-process right after answering. Files are served as attachments with ``nosniff`` and, like
``api/routes_feeds.py``, a sandboxing Content-Security-Policy (an HTML package runs nothing).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response

from zonewarden.errors import InputError, NotFoundError
from zonewarden.services import access, jobs, package_files, package_issues, sites
from zonewarden.services.jobs_tasks import packages_dir
from zonewarden.services.sessions import WebSession
from zonewarden.web.render import _url, is_htmx, page
from zonewarden.web.security import Viewer, Writer, store_of

router = APIRouter()

AUDIENCES = ("auditor", "customer")
FORMATS = ("html", "json", "pdf")
JOB = "report.build"
MEDIA = {"html": "text/html; charset=utf-8", "json": "application/json", "pdf": "application/pdf"}
FILE_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _site(request: Request, session: WebSession, site_id: str) -> str:
    # report.customer: every role reading the site has it, and a customer has nothing else.
    return sites.resolve_site_id(store_of(request), site_id, session.principal, "report.customer")


def _audiences(session: WebSession, ident: str) -> list[str]:
    return [a for a in AUDIENCES if access.allowed(session.principal, f"report.{a}", ident)]


def _job_of(request: Request, session: WebSession, ident: str, job_id: int) -> jobs.JobRecord:
    """The user's build job of this site (another site's job, or one of a package the user
    may not read, is answered like a missing one)."""
    record = jobs.get_job(store_of(request), job_id, principal=session.principal)
    audience = record.args.get("audience", "auditor")
    if (record.name != JOB or record.args.get("site_id") != ident or audience not in AUDIENCES
            or not access.allowed(session.principal, f"report.{audience}", ident)):
        raise NotFoundError(f"no package build {job_id} on site {ident}")
    return record


def _builds(request: Request, session: WebSession, ident: str, audiences: list[str]) -> list[jobs.JobRecord]:
    found = jobs.list_jobs(store_of(request), session.principal, name=JOB, limit=200)
    return [j for j in found if j.args.get("site_id") == ident
            and j.args.get("audience", "auditor") in audiences][:10]


def _issued(request: Request, session: WebSession, ident: str, audiences: list[str]) -> list[dict[str, Any]]:
    store = store_of(request)
    rows: list[tuple[package_issues.IssueRecord, list[dict[str, Any]]]] = []
    for audience in audiences:
        files = package_files.files_of(store, principal=session.principal, site_id=ident, audience=audience)
        for rec in package_issues.history(store, principal=session.principal, site_id=ident, audience=audience):
            listed = []
            for f in files.get(rec.version, []):
                try:
                    path = package_files.confined(packages_dir(), f.folder, f.name)
                    present = path.is_file()
                except InputError:
                    present = False
                listed.append({"name": f.name, "sha256": f.sha256, "size": f.size, "present": present})
            rows.append((rec, listed))
    rows.sort(key=lambda r: (r[0].issued_at, r[0].version), reverse=True)
    return [{"issue": rec, "files": listed} for rec, listed in rows]


@router.get("/sites/{site_id}/evidence")
def evidence(request: Request, site_id: str, session: Viewer) -> Response:
    ident = _site(request, session, site_id)
    audiences = _audiences(session, ident)
    return page(request, "evidence.html", session, title="Evidence package", site_id=ident, audiences=audiences,
                formats=FORMATS, can_issue=access.allowed(session.principal, "report.issue", ident),
                builds=_builds(request, session, ident, audiences), issued=_issued(request, session, ident, audiences))


@router.post("/sites/{site_id}/evidence")
def build_evidence(request: Request, site_id: str, session: Writer, background: BackgroundTasks,
                   audience: Annotated[str, Form(max_length=16)],
                   formats: Annotated[list[str], Form(max_length=3)],
                   issue: Annotated[str | None, Form(max_length=8)] = None,
                   recipient: Annotated[str | None, Form(max_length=300)] = None,
                   agreement: Annotated[str | None, Form(max_length=300)] = None) -> Response:
    """Queue the build (``report.build`` as the user) and go to its page."""
    import secrets

    if audience not in AUDIENCES:
        raise InputError(f"audience: {audience!r} is not one of {', '.join(AUDIENCES)}")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InputError(f"formats: choose from {', '.join(FORMATS)} (got {', '.join(formats) or 'none'})")
    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal, f"report.{audience}")
    args: dict[str, Any] = {"site_id": ident, "audience": audience, "formats": sorted(set(formats)),
                            "output": f"web/{ident}-{audience}-{secrets.token_hex(8)}"}
    if issue:
        from zonewarden.services import identity

        identity.authorize(store, session.principal, "report.issue", ident)
        if audience == "customer" and not (recipient and recipient.strip() and agreement and agreement.strip()):
            raise InputError("recipient, agreement: an issued customer package names who receives it and under "
                             "which agreement; fill in both")
        args["issue"] = True
        if recipient and recipient.strip():
            args["recipient"] = recipient.strip()
        if agreement and agreement.strip():
            args["agreement"] = agreement.strip()
    job_id = jobs.enqueue(store, JOB, args, principal=session.principal)
    if store.dialect != "postgresql":
        # SQLite has no queue worker of its own: run the attempt in-process once answered (a
        # retry after a failure waits for `zonewarden worker`, whose record the page shows).
        background.add_task(jobs.run_job, store, job_id)
    return RedirectResponse(_url("sites", ident, "evidence", "jobs", job_id), status_code=303)


def _job_context(request: Request, session: WebSession, ident: str, job_id: int) -> dict[str, Any]:
    record = _job_of(request, session, ident, job_id)
    files = sorted((record.result or {}).get("files", {}).items()) if record.state == jobs.SUCCEEDED else []
    return {"job": record, "files": files, "site_id": ident,
            "finished": record.state in (jobs.SUCCEEDED, jobs.FAILED)}


@router.get("/sites/{site_id}/evidence/jobs/{job_id}")
def job_page(request: Request, site_id: str, job_id: int, session: Viewer) -> Response:
    ident = _site(request, session, site_id)
    context = _job_context(request, session, ident, job_id)
    template = "_evidence_job.html" if is_htmx(request) else "evidence_job.html"
    return page(request, template, session, title=f"Package build {job_id}", **context)


def _attachment(name: str, data: bytes) -> Response:
    kind = name.rsplit(".", 1)[-1]
    return Response(data, media_type=MEDIA.get(kind, "application/octet-stream"), headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/sites/{site_id}/evidence/jobs/{job_id}/files/{name}")
def job_file(request: Request, site_id: str, job_id: int, name: str, session: Viewer) -> Response:
    ident = _site(request, session, site_id)
    record = _job_of(request, session, ident, job_id)
    result = record.result or {}
    recorded = result.get("files", {})
    if record.state != jobs.SUCCEEDED or name not in recorded or not isinstance(result.get("output"), str):
        raise NotFoundError(f"package build {job_id} has no file {name!r}")
    return _attachment(name, package_files.read_checked(packages_dir(), result["output"], name, recorded[name]))


@router.get("/sites/{site_id}/evidence/issued/{audience}/{version}/files/{name}")
def issued_file(request: Request, site_id: str, audience: str, version: int, name: str,
                session: Viewer) -> Response:
    ident = _site(request, session, site_id)
    if audience not in _audiences(session, ident):
        raise NotFoundError(f"no issued {audience} package version {version} on site {ident}")
    files = package_files.files_of(store_of(request), principal=session.principal, site_id=ident, audience=audience)
    found = next((f for f in files.get(version, []) if f.name == name), None)
    if found is None:
        raise NotFoundError(f"issued {audience} package version {version} has no recorded file {name!r}")
    return _attachment(name, package_files.read_checked(packages_dir(), found.folder, name, found.sha256))
