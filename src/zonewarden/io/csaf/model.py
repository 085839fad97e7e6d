"""Result types of CSAF reading: deviations, the read result and the safety limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def pointer(*parts: str | int) -> str:
    """Build an RFC 6901 JSON pointer from path parts (``~`` and ``/`` escaped)."""
    out = []
    for part in parts:
        text = str(part)
        if "~" in text or "/" in text:
            text = text.replace("~", "~0").replace("/", "~1")
        out.append(text)
    return "/" + "/".join(out) if out else ""


def join(base: str, *parts: str | int) -> str:
    """Append parts to an existing JSON pointer."""
    return base + pointer(*parts)


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way a CSAF document departs from the CSAF 2.0 specification."""

    test_id: str
    """``"schema"`` for JSON schema errors, otherwise the clause of the mandatory test
    (``"6.1.7"``, ``"6.1.27.9"``), or ``"limits"`` / ``"catalog"`` for reader-level notes."""
    pointer: str
    """RFC 6901 JSON pointer to the offending value (``""`` is the whole document)."""
    message: str
    """What is wrong, in words a document author can act on."""

    def __str__(self) -> str:
        return f"[{self.test_id}] {self.pointer or '/'}: {self.message}"


def _test_sort_key(test_id: str) -> tuple[int, tuple[int, ...], str]:
    # "schema" first, then mandatory tests in clause order (6.1.2 before 6.1.10), then the rest.
    if test_id == "schema":
        return (0, (), test_id)
    parts = test_id.split(".")
    if all(p.isdigit() for p in parts):
        return (1, tuple(int(p) for p in parts), test_id)
    return (2, (), test_id)


def sort_deviations(deviations: list[Deviation]) -> tuple[Deviation, ...]:
    """Deterministic order: by test clause, then pointer, then message; duplicates removed."""
    unique = set(deviations)
    return tuple(sorted(unique, key=lambda d: (_test_sort_key(d.test_id), d.pointer, d.message)))


@dataclass(frozen=True, slots=True)
class Limits:
    """Safety limits applied before a document is interpreted.

    The defaults follow CSAF 2.0 Appendix C (a conforming document is at most 15 MiB) and leave
    generous room for real advisories; anything beyond them is treated as hostile input.
    """

    max_bytes: int = 15 * 1024 * 1024
    """Largest accepted file, in bytes."""
    max_depth: int = 64
    """Deepest accepted nesting, counted in levels of values with the top-level object as
    level 1 (``{"a": [1]}`` has 3). Real CISA advisories reach 12."""
    max_string: int = 1_000_000
    """Longest accepted single JSON string (keys included), in characters."""


@dataclass(frozen=True, slots=True)
class CsafReadResult:
    """What :func:`zonewarden.io.csaf.read_csaf` found in one document."""

    source: str
    """Where the bytes came from (a file path or URL), used in every message."""
    document: dict[str, Any] | None
    """The parsed document, or ``None`` when it is not well-formed JSON or not an object."""
    deviations: tuple[Deviation, ...]
    """Every deviation found, sorted by test clause and pointer."""
    accepted: bool
    """Whether the document may be used: lenient mode accepts an interpretable document
    whatever its deviations; strict mode also requires that there are none."""
    error: str | None
    """Why the document was not accepted (names the source and JSON pointer), else ``None``."""
    strict: bool
    """Whether strict mode was requested."""
    tracking_id: str | None = None
    """``/document/tracking/id`` when it is a string."""
    tracking_version: str | None = None
    """``/document/tracking/version`` when it is a string."""
    publisher: str | None = None
    """``/document/publisher/name`` when it is a string."""

    @property
    def test_ids(self) -> frozenset[str]:
        """The distinct test ids among the deviations."""
        return frozenset(d.test_id for d in self.deviations)
