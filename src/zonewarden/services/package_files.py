"""The files of evidence packages built in the background: recorded with their SHA-256, listed
beside the issued versions, and read back (checked against the recorded hash) for download.

A build writes its files into a folder inside the packages folder (``ZONEWARDEN_PACKAGES_DIR``,
see ``services.jobs_tasks.packages_dir``); an issued version's files are recorded in
``package_files`` (migration 0013) so the web page can list every issued package with its
hashes and serve each file while it is still on disk. Paths are confined: a name is one of the
recorded names, a folder a relative path inside the packages folder without ``..``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import delete, select

from zonewarden.errors import ConflictError, InputError, NotFoundError
from zonewarden.services import identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.package_tables import package_files


@dataclass(frozen=True, slots=True)
class PackageFile:
    name: str
    sha256: str
    size: int
    folder: str


def confined(root: Path, folder: str, name: str) -> Path:
    """``root/folder/name``, refused unless it stays inside ``root`` (no absolute path, no
    ``..``, ``name`` a plain file name)."""
    rel = PurePosixPath(folder)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in folder:
        raise InputError(f"package folder {folder!r} is not a relative folder inside the packages folder")
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise InputError(f"package file {name!r} is not a plain file name")
    base = root.resolve()
    path = (base / rel / name).resolve()
    if not path.is_relative_to(base):
        raise InputError(f"package file {folder}/{name} is outside the packages folder")
    return path


def folder_label(folder: Path, root: Path) -> str:
    """How ``folder`` is recorded: relative to the packages folder ``root`` when inside it (the web
    page can then serve its files), else its absolute path (the hashes are listed; the files are
    not served from outside the packages folder)."""
    where = folder.resolve()
    base = root.resolve()
    return where.relative_to(base).as_posix() if where.is_relative_to(base) and where != base else str(where)


def record(store: Store, *, principal: Principal, site_id: str, audience: str, version: int, folder: str,
           files: Mapping[str, bytes], at: dt.datetime | None = None) -> list[PackageFile]:
    """Record the files written for issued ``version`` (needs ``report.issue``, as issuing does)."""
    identity.authorize(store, principal, "report.issue", site_id)
    at = at or dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = [{"site_id": site_id, "audience": audience, "version": version, "name": name,
             "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "folder": folder, "written_at": at}
            for name, data in sorted(files.items())]
    t = package_files.c
    with store.transaction() as conn:
        conn.execute(delete(package_files).where(t.site_id == site_id, t.audience == audience, t.version == version))
        if rows:
            conn.execute(package_files.insert(), rows)
    return [PackageFile(r["name"], r["sha256"], r["size"], folder) for r in rows]


def files_of(store: Store, *, principal: Principal, site_id: str, audience: str) -> dict[int, list[PackageFile]]:
    """The recorded files of every issued ``audience`` version of the site, by version."""
    identity.authorize(store, principal, f"report.{audience}", site_id)
    t = package_files.c
    out: dict[int, list[PackageFile]] = {}
    with store.read() as conn:
        for r in conn.execute(select(package_files).where(t.site_id == site_id, t.audience == audience)
                              .order_by(t.version, t.name)):
            out.setdefault(int(r.version), []).append(PackageFile(r.name, r.sha256, int(r.size), r.folder))
    return out


def read_checked(root: Path, folder: str, name: str, sha256: str) -> bytes:
    """The bytes of a package file, refused when it is gone or no longer what was recorded."""
    path = confined(root, folder, name)
    if not path.is_file():
        raise NotFoundError(f"{folder}/{name} is no longer in the packages folder ({root}); build the package again")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ConflictError(f"{folder}/{name} was changed after it was written: its SHA-256 is not the recorded "
                            f"{sha256}; build the package again")
    return data


__all__ = ["PackageFile", "confined", "files_of", "read_checked", "record"]
