"""Write a file atomically and safely: through ``mkstemp`` in the target's own folder, renamed
into place. A target that is a symlink is refused (a planted link would redirect the write), and
the file is created readable by the owner only (0600) unless a mode is asked for.

``ZONEWARDEN_SHARE_FILES=group`` asks for group-readable output instead (files 0640, folders
0750), for a team that shares a group; any other non-empty value is an error (a typo must not
silently fall back to either mode). The umask never widens these modes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from zonewarden.errors import InputError

OWNER_ONLY = 0o600
OWNER_ONLY_DIR = 0o700
GROUP_READ = 0o640
GROUP_READ_DIR = 0o750
SHARE_ENV = "ZONEWARDEN_SHARE_FILES"


def _share_group() -> bool:
    value = os.environ.get(SHARE_ENV, "").strip().lower()
    if value in ("", "owner"):
        return False
    if value == "group":
        return True
    raise InputError(f"{SHARE_ENV}={value!r}: use 'group' (files 0640, folders 0750) or leave it unset (owner only: 0600/0700)")


def file_mode() -> int:
    """The mode for a file zonewarden creates: 0600, or 0640 with ``ZONEWARDEN_SHARE_FILES=group``."""
    return GROUP_READ if _share_group() else OWNER_ONLY


def dir_mode() -> int:
    """The mode for a folder zonewarden creates: 0700, or 0750 with ``ZONEWARDEN_SHARE_FILES=group``."""
    return GROUP_READ_DIR if _share_group() else OWNER_ONLY_DIR


def make_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with :func:`dir_mode`, whatever the umask. Folders that
    already exist keep their mode (they are the user's)."""
    mode = dir_mode()
    missing = []
    cur = path
    while not cur.exists():
        missing.append(cur)
        if cur.parent == cur:
            break
        cur = cur.parent
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, mode)
    return path


class UnsafeTargetError(InputError, OSError):
    """The target path is a symlink: writing would follow it to somewhere else (exit code 2,
    with the message; still an OSError for callers that catch those)."""


def write_atomic(target: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``target`` via a fresh temporary file (O_EXCL, never a planted name) and
    ``os.replace``. Refuses a symlinked target; the final file gets ``mode`` (default
    :func:`file_mode`)."""
    if mode is None:
        mode = file_mode()
    if target.is_symlink():
        raise UnsafeTargetError(f"{target}: is a symlink; refusing to write through it (remove it or choose another path)")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


__all__ = [
    "GROUP_READ", "GROUP_READ_DIR", "OWNER_ONLY", "OWNER_ONLY_DIR", "SHARE_ENV", "UnsafeTargetError",
    "dir_mode", "file_mode", "make_dir", "write_atomic",
]
