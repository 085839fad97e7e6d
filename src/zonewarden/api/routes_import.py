"""Site import over HTTP, through the same services as ``zonewarden import``.

``POST /sites/import`` takes one site as its body: a site file (``application/yaml``) or a zip of a
site folder as ``zonewarden export`` writes it (``application/zip``: the section files, the
evidence files and the export stamp). ``?dry_run=true`` answers the plan (what each section
would add, change and remove, and each conflict with work recorded since the file's export);
otherwise the site is imported under the revision rules of import safety
(:mod:`zonewarden.services.import_safety`): work recorded since the stamp is neither overwritten
nor removed unless ``prune`` / ``force`` allow it (409 naming every such record, with the plan).
Importing over an existing site sends its revision in ``If-Match`` (428 without, 412 when stale);
a new site needs none. The zip is unpacked with limits (size, number of files, no paths leaving
the folder); every problem is a 422 naming the file inside the upload, the line and the field."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from zonewarden.api.deps import Caller, IfMatch, StoreDep, expected_revision, set_etag
from zonewarden.errors import InputError, Problem

router = APIRouter(tags=["import"])

MAX_UPLOAD = 16 * 1024 * 1024
"""Largest upload (the request body), also the largest the zip may unpack to."""
MAX_FILES = 2000
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")


def _unpack(data: bytes, into: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError("the upload is not a zip file (send a site file as application/yaml)") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES:
            raise InputError(f"the zip holds {len(members)} files; at most {MAX_FILES} are taken")
        if sum(m.file_size for m in members) > MAX_UPLOAD:
            raise InputError(f"the zip unpacks to more than {MAX_UPLOAD} bytes")
        for m in members:
            name = PurePosixPath(m.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or not name.parts:
                raise InputError(f"zip member {m.filename!r}: a path outside the site folder is not taken")
            target = into.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(m) as src:
                chunk = src.read(MAX_UPLOAD + 1)
            if len(chunk) > m.file_size:  # the directory lied about the size
                raise InputError(f"zip member {m.filename!r} is larger than its entry says")
            target.write_bytes(chunk)


def _relative(exc: InputError, root: Path) -> InputError:
    """The error with the temporary folder taken out of its file names (``upload/zones.yaml``)."""
    def rel(text: str | None) -> str | None:
        return None if text is None else text.replace(str(root), "upload")

    problems = [Problem(rel(p.message) or "", p.path, rel(p.file), p.line, p.column) for p in exc.problems]
    message = rel(super(InputError, exc).__str__()) or ""
    return type(exc)(message, problems)


def _read(data: bytes, content_type: str, root: Path) -> tuple[Any, dict[str, bytes], dict[str, Any] | None]:
    from zonewarden.io.evidence_files import read_evidence_files
    from zonewarden.io.sitefile import load_sites, read_stamp

    if content_type in ("application/zip", "application/x-zip-compressed"):
        _unpack(data, root)
    elif content_type in YAML_TYPES:
        (root / "site.yaml").write_bytes(data)
    else:
        raise InputError(f"send the site as application/zip (an exported site folder) or application/yaml, "
                         f"not {content_type or 'no Content-Type'}")
    try:
        found = load_sites(root)
    except InputError as exc:
        raise _relative(exc, root) from None
    if len(found) != 1:
        raise InputError(f"the upload holds {len(found)} sites; send one site per request")
    site_path, doc = found[0]
    base = site_path if site_path.is_dir() else site_path.parent
    try:
        evidence = read_evidence_files(doc, base)
    except InputError as exc:
        raise _relative(exc, root) from None
    return doc, evidence, read_stamp(site_path, doc.site.id)


@router.post("/sites/import", summary="Import one site (a site file or a zip of a site folder); dry run or apply",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/zip": {"schema": {"type": "string", "format": "binary"}},
                 "application/yaml": {"schema": {"type": "string"}}}}},
             responses={409: {"description": "The import would overwrite or remove recorded work"}})
async def import_site(request: Request, principal: Caller, store: StoreDep, response: Response,
                      dry_run: Annotated[bool, Query()] = False, prune: Annotated[bool, Query()] = False,
                      force: Annotated[bool, Query()] = False, reason: Annotated[str | None, Query(max_length=1000)] = None,
                      if_match: IfMatch = None) -> Any:
    from starlette.concurrency import run_in_threadpool

    data = await request.body()
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    return await run_in_threadpool(_import, store, principal, response, data, content_type, dry_run, prune, force,
                                   reason, if_match)


def _import(store: Any, principal: Any, response: Response, data: bytes, content_type: str, dry_run: bool,
            prune: bool, force: bool, reason: str | None, if_match: str | None) -> Any:
    from zonewarden.api.problems import problem
    from zonewarden.services import identity, import_safety
    from zonewarden.services import sites as site_service

    if len(data) > MAX_UPLOAD:
        raise InputError(f"the upload is over {MAX_UPLOAD} bytes")
    with tempfile.TemporaryDirectory(prefix="zw-upload-") as tmp:
        doc, evidence, stamp = _read(data, content_type, Path(tmp))
    ident = doc.site.id
    stamps = {ident: stamp} if stamp is not None else {}
    exists = ident in {s for s, _ in site_service.list_sites(store, principal)}
    if dry_run:
        plans = import_safety.plan_import(store, [doc], principal=principal, stamps=stamps, prune=prune, force=force)
        return {"dry_run": True, "plans": [p.as_dict() for p in plans]}
    identity.authorize(store, principal, "site.import" if exists else "site.create", ident if exists else None)
    expected = {ident: expected_revision(if_match)} if exists else None
    try:
        (outcome,) = site_service.import_documents(
            store, [doc], principal=principal, reason=reason, source="api upload", evidence={ident: evidence},
            stamps=stamps, prune=prune, force=force, expected_revisions=expected)
    except import_safety.ImportRefused as exc:
        return problem(409, "Conflict", str(exc), plans=[p.as_dict() for p in exc.plans])
    set_etag(response, store, principal, ident)
    return {"dry_run": False, "site": outcome.site_id, "created": outcome.created, "unchanged": outcome.unchanged,
            "counts": outcome.counts,
            "sections": {c.section: {"added": list(c.added), "changed": list(c.changed), "removed": list(c.removed)}
                         for c in outcome.changes},
            "overridden": [c.as_dict() for c in outcome.overridden]}


__all__ = ["router"]
