"""Evidence files named in a site file: confined to the site's folder, checked by SHA-256.

The domain model only records a path and a hash; reading the file is I/O, so it happens here,
called by the importer (and by ``zonewarden gap`` commands that record new evidence). A file
outside the site folder is refused even when it exists: a site file from someone else must not
make zonewarden read (and hash, and so confirm the content of) arbitrary files on this machine;
that holds for symbolic links (resolved) and for hard links (their link count is checked).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from zonewarden.domain.requirements import EvidenceRef, evidence_locations
from zonewarden.domain.site import SiteDocument
from zonewarden.errors import InputError, Problem

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks so large reports do not load into memory."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_evidence_path(base_dir: Path, relative: str) -> Path:
    """The file ``relative`` names inside ``base_dir``; :class:`InputError` if it points outside."""
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute() or PureWindowsPath(relative).drive:
        raise InputError(f"evidence file {relative!r} must be a path relative to the site folder")
    root = base_dir.resolve()
    target = (root / relative).resolve()  # follows symlinks, so a link out of the folder is caught
    if not target.is_relative_to(root):
        raise InputError(f"evidence file {relative!r} points outside the site folder {root}")
    _refuse_outside_hard_link(root, target, relative)
    return target


def _refuse_outside_hard_link(root: Path, target: Path, relative: str) -> None:
    """A hard link is a second name for a file that may live anywhere on the same file system
    (``ln /etc/shadow evidence/x``): resolving the path cannot see it, the link count can. A
    regular file with more than one link is accepted only when every one of its links lies in
    the site folder's tree (found there by device and inode); otherwise it is refused."""
    try:
        st = target.stat()
    except OSError:
        return  # missing: the caller reports it
    if not target.is_file() or st.st_nlink <= 1:
        return
    inside = 0
    for folder, dirs, files in os.walk(root):  # does not follow symbolic links
        for name in (*files, *dirs):
            try:
                other = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if other.st_ino == st.st_ino and other.st_dev == st.st_dev:
                inside += 1
        if inside >= st.st_nlink:
            return
    raise InputError(
        f"evidence file {relative!r} is a hard link with {st.st_nlink} names, "
        f"{st.st_nlink - inside} of them outside the site folder {root}: copy the file into the "
        "folder instead of linking it (a link could make zonewarden read any file on this machine)"
    )


def check_evidence_file(base_dir: Path, evidence: EvidenceRef) -> str | None:
    """What is wrong with one evidence file, or ``None`` when it is there and matches its hash."""
    if evidence.file is None:
        return None
    try:
        path = resolve_evidence_path(base_dir, evidence.file)
    except InputError as exc:
        return str(exc)
    if not path.is_file():
        return f"evidence file {evidence.file!r} not found in {base_dir} (add it, or fix the path)"
    try:
        actual = sha256_of(path)
    except OSError as exc:
        return f"evidence file {evidence.file!r} cannot be read: {exc.strerror}"
    if actual != evidence.sha256:
        return (
            f"evidence file {evidence.file!r} has SHA-256 {actual}, but the site file records "
            f"{evidence.sha256}: the file changed since it was recorded; check it and update 'sha256'"
        )
    return None


def evidence_problems(doc: SiteDocument, base_dir: Path) -> list[Problem]:
    """Every missing, misplaced or changed evidence file of ``doc``, located by field path."""
    problems = []
    for path, ev in evidence_locations(doc):
        message = check_evidence_file(base_dir, ev)
        if message is not None:
            problems.append(Problem(message, (*path, "file")))
    return problems


MAX_EVIDENCE_BYTES = 64 * 1024 * 1024


def read_evidence_files(doc: SiteDocument, base_dir: Path) -> dict[str, bytes]:
    """The bytes of every evidence file ``doc`` names (already checked by
    :func:`evidence_problems`), keyed by the path as written in the site file; the importer
    stores them so the database holds the evidence, not just its hash."""
    out: dict[str, bytes] = {}
    for path, ev in evidence_locations(doc):
        if ev.file is None or ev.file in out:
            continue
        target = resolve_evidence_path(base_dir, ev.file)
        if target.stat().st_size > MAX_EVIDENCE_BYTES:
            raise InputError(
                f"evidence file {ev.file!r} is larger than {MAX_EVIDENCE_BYTES // 2**20} MB: "
                "reference it by document id or link instead",
                [Problem("file too large to keep in the database", (*path, "file"))],
            )
        data = target.read_bytes()
        if hashlib.sha256(data).hexdigest() != ev.sha256:
            raise InputError(f"evidence file {ev.file!r} changed while it was being read; import again")
        out[ev.file] = data
    return out


__all__ = [
    "check_evidence_file",
    "evidence_problems",
    "read_evidence_files",
    "resolve_evidence_path",
    "sha256_of",
]
