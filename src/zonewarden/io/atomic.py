"""Write a file atomically and safely: through ``mkstemp`` in the target's own folder, renamed
into place. A target that is a symlink is refused (a planted link would redirect the write), and
the file is created readable by the owner only (0600) unless a mode is asked for."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from zonewarden.errors import InputError

OWNER_ONLY = 0o600


class UnsafeTargetError(InputError, OSError):
    """The target path is a symlink: writing would follow it to somewhere else (exit code 2,
    with the message; still an OSError for callers that catch those)."""


def write_atomic(target: Path, data: bytes, *, mode: int = OWNER_ONLY) -> Path:
    """Write ``data`` to ``target`` via a fresh temporary file (O_EXCL, never a planted name) and
    ``os.replace``. Refuses a symlinked target; the final file gets ``mode``."""
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


__all__ = ["OWNER_ONLY", "UnsafeTargetError", "write_atomic"]
