"""The manifest of an evidence package: SHA-256 of every file and of the input data snapshot.

``manifest.json`` lists each file of the package (sorted by name) with its size and SHA-256,
and the SHA-256 of the canonical input snapshot (the site document as sorted-key compact JSON,
defaults left out: :func:`zonewarden.services.sites.canonical_json`, the same bytes the
database stores as the site's content hash). ``SHA256SUMS`` repeats the file hashes in the
format ``sha256sum -c`` reads. Neither contains a clock time: only the as-of date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
MANIFEST_VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_manifest(
    files: Mapping[str, bytes],
    *,
    audience: str,
    site_id: str,
    as_of: str,
    input_sha256: str,
    generator_version: str,
    formats: list[str],
    notes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "generator": {"name": "zonewarden", "version": generator_version},
        "package": {
            "audience": audience,
            "site": site_id,
            "as_of": as_of,
            "formats": sorted(formats),
            "schema": "zonewarden-evidence-package/1",
        },
        "input": {
            "sha256": input_sha256,
            "canonicalisation": "site document as JSON: sorted keys, no whitespace, defaults omitted (UTF-8)",
        },
        "files": [
            {"path": name, "bytes": len(data), "sha256": sha256(data)} for name, data in sorted(files.items())
        ],
    }
    if notes:  # what an attached file proves, by file name (only when there is one: old manifests unchanged)
        manifest["notes"] = dict(sorted(notes.items()))
    return manifest


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def sums_bytes(files: Mapping[str, bytes]) -> bytes:
    return "".join(f"{sha256(data)}  {name}\n" for name, data in sorted(files.items())).encode()


def verify(directory_files: Mapping[str, bytes], manifest: dict[str, Any]) -> list[str]:
    """Problems found comparing files on disk with ``manifest`` (empty when all match)."""
    problems = []
    listed = {f["path"]: f for f in manifest.get("files", [])}
    for name, entry in sorted(listed.items()):
        data = directory_files.get(name)
        if data is None:
            problems.append(f"{name}: listed in the manifest but missing")
        elif sha256(data) != entry["sha256"]:
            problems.append(f"{name}: SHA-256 differs from the manifest")
    for name in sorted(set(directory_files) - set(listed) - {MANIFEST_NAME, SUMS_NAME}):
        problems.append(f"{name}: not listed in the manifest")
    return problems


__all__ = ["MANIFEST_NAME", "SUMS_NAME", "build_manifest", "manifest_bytes", "sha256", "sums_bytes", "verify"]
