"""Evidence files uploaded for a requirement status (the zone page's matrix).

An upload extends the existing mechanism of evidence files (migration 0004, ``io.evidence_files``,
``requirements.set_requirement_status``): the bytes are kept with the site in the database
(``evidence_files``) under ``evidence/<sha256>.<ext>`` (the path is made from the content hash,
never from the uploaded name, so it cannot point anywhere else), the status gains an evidence
reference with that path, its SHA-256 and the date, and the original file name is kept as text
in the reference's description. The status change is a ``requirement.set-status`` event of the
audit trail like any other (``requirement.set`` authorizes it); an export writes the file back
beside the site file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from zonewarden.domain.requirements import EvidenceRef, RequirementStatus
from zonewarden.errors import ConflictError, ContentTooLarge, InputError, NotFoundError
from zonewarden.services import identity, requirements
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

MAX_BYTES = 20 * 1024 * 1024
"""Largest evidence file accepted (20 MiB)."""
FOLDER = "evidence"
UPLOADED = "uploaded as "


@dataclass(frozen=True, slots=True)
class Uploaded:
    path: str
    sha256: str
    size: int
    name: str
    already: bool
    """The status already named this very file (same content): nothing changed."""


def clean_name(name: str | None) -> str:
    """The uploaded file's name as text to keep: its last path part, printable, at most 200
    characters (it is shown and never used as a path)."""
    base = re.split(r"[\\/]", name or "")[-1]
    text = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C").strip()
    return text[:200] or "unnamed"


def stored_path(digest: str, name: str) -> str:
    """``evidence/<sha256>[.ext]``: from the content hash; the extension (letters and digits,
    up to 8) only so that the file opens with the right program after an export."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return f"{FOLDER}/{digest}" + (f".{ext}" if re.fullmatch(r"[a-z0-9]{1,8}", ext) else "")


def attach(store: Store, site_id: str, target: str, requirement: str, *, data: bytes, filename: str | None,
           principal: Principal, expected_revision: str | None = None) -> Uploaded:
    """Attach ``data`` as evidence to the recorded status of ``requirement`` on zone or conduit
    ``target``. The status must exist (record one first); over :data:`MAX_BYTES` is refused."""
    from zonewarden.clock import site_today
    from zonewarden.services.sites import load_document

    identity.authorize(store, principal, "requirement.set", site_id)
    if len(data) > MAX_BYTES:
        raise ContentTooLarge(f"evidence file: {len(data)} bytes is over the limit of {MAX_BYTES} bytes (20 MiB)")
    if not data:
        raise InputError("evidence file: the file is empty; choose the file to upload")
    name = clean_name(filename)
    digest = hashlib.sha256(data).hexdigest()
    path = stored_path(digest, name)
    doc = load_document(store, site_id)
    if not any(z.id == target for z in doc.zones) and not any(c.id == target for c in doc.conduits):
        raise NotFoundError(f"no zone or conduit {target!r} in site {site_id!r}")
    status = next((r for r in doc.requirements if r.target == target and r.requirement == requirement), None)
    if status is None:
        raise InputError(f"{target}/{requirement}: no status is recorded yet; record a status first, then attach "
                         "its evidence")
    if any(e.file == path and e.sha256 == digest for e in status.evidence):
        return Uploaded(path, digest, len(data), name, True)
    ref = EvidenceRef(file=path, sha256=digest, date=site_today(doc.site.timezone),
                      description=f"{UPLOADED}{name}")
    fields = status.model_dump(mode="json", exclude_defaults=True)
    fields["evidence"] = [*fields.get("evidence", []), ref.model_dump(mode="json", exclude_none=True)]
    updated = RequirementStatus.model_validate(fields)
    requirements.set_requirement_status(store, site_id, updated, principal=principal,
                                        reason=f"evidence file {name} attached ({digest})",
                                        evidence={path: data}, expected_revision=expected_revision)
    return Uploaded(path, digest, len(data), name, False)


def read(store: Store, site_id: str, path: str, *, principal: Principal) -> tuple[bytes, str]:
    """The bytes of a stored evidence file and the name to download it as (``site.read``).
    Only a path a stored file has is served; its hash is checked against the content."""
    from sqlalchemy import select

    from zonewarden.services.sites import load_document
    from zonewarden.store.tables import evidence_files

    identity.authorize(store, principal, "site.read", site_id)
    t = evidence_files.c
    with store.read() as conn:
        row = conn.execute(select(t.data, t.sha256).where(t.site_id == site_id, t.path == path)).first()
    if row is None:
        raise NotFoundError(f"no evidence file {path!r} stored with site {site_id!r}")
    data = bytes(row.data)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ConflictError(f"evidence file {path}: the stored bytes do not match its recorded SHA-256")
    name = path.rsplit("/", 1)[-1]
    for r in load_document(store, site_id, without=("assets",)).requirements:
        for e in r.evidence:
            if e.file == path and e.description and e.description.startswith(UPLOADED):
                name = e.description[len(UPLOADED):]
    return data, name


__all__ = ["MAX_BYTES", "Uploaded", "attach", "clean_name", "read", "stored_path"]
