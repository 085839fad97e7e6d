"""Evidence files on the requirement matrix: upload one for a recorded status (20 MiB at most,
413 above; the body limit of the server lets this path through up to that size) and download
the evidence files stored with the site (``services.evidence_uploads``)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from zonewarden.services import evidence_uploads, sites
from zonewarden.services.sessions import WebSession
from zonewarden.web.render import _url
from zonewarden.web.security import Viewer, Writer, store_of

router = APIRouter()

UPLOAD_PATH = re.compile(r"^/sites/[^/]+/(zones|conduits)/[^/]+/requirements/[^/]+/evidence$")
"""The upload's path, for the server's body limit (``api.app.BodyLimit``)."""
UPLOAD_LIMIT = evidence_uploads.MAX_BYTES + 256 * 1024
"""The whole request: the file plus the form's other fields and the multipart framing."""
FILE_CSP = "sandbox; default-src 'none'"


def _upload(request: Request, site_id: str, kind: str, target: str, requirement: str, session: WebSession,
            file: UploadFile, revision: str | None) -> Response:
    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal)
    data = file.file.read(evidence_uploads.MAX_BYTES + 1)
    evidence_uploads.attach(store, ident, target, requirement, data=data, filename=file.filename,
                            principal=session.principal, expected_revision=revision or None)
    return RedirectResponse(_url("sites", ident, kind, target) + f"#req-{quote(requirement, safe='')}",
                            status_code=303)


Upload = Annotated[UploadFile, File()]
Revision = Annotated[str | None, Form(max_length=128)]


@router.post("/sites/{site_id}/zones/{target}/requirements/{requirement}/evidence")
def upload_zone_evidence(request: Request, site_id: str, target: str, requirement: str, session: Writer,
                         file: Upload, revision: Revision = None) -> Response:
    return _upload(request, site_id, "zones", target, requirement, session, file, revision)


@router.post("/sites/{site_id}/conduits/{target}/requirements/{requirement}/evidence")
def upload_conduit_evidence(request: Request, site_id: str, target: str, requirement: str, session: Writer,
                            file: Upload, revision: Revision = None) -> Response:
    return _upload(request, site_id, "conduits", target, requirement, session, file, revision)


@router.get("/sites/{site_id}/evidence-file")
def evidence_file(request: Request, site_id: str, session: Viewer,
                  path: Annotated[str, Query(max_length=1000)]) -> Response:
    store = store_of(request)
    ident = sites.resolve_site_id(store, site_id, session.principal)
    data, name = evidence_uploads.read(store, ident, path, principal=session.principal)
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "evidence"
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}",
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
    })
