"""Mandatory tests 6.1.14 - 6.1.22 and 6.1.30: versions and revision history.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from zonewarden.io.csaf.identifiers import (
    Version,
    parse_version,
)
from zonewarden.io.csaf.mandatory.context import Context, Dev, _dict, _list
from zonewarden.io.csaf.mandatory.registry import mandatory
from zonewarden.io.csaf.model import Deviation, pointer

# ---- 6.1.14 - 6.1.22, 6.1.30: versions and revision history ---------------------------------


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return _parse_date(value)


@lru_cache(maxsize=8192)
def _parse_date(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


class _Rev(NamedTuple):
    # A named tuple, not a frozen dataclass: one is made per revision of every document, and
    # a frozen dataclass costs several times as much to construct (issue 17, speed 1).
    at: int
    """Position in /document/tracking/revision_history."""
    date: datetime | None
    number: Version | None
    raw: Any


def _history(ctx: Context) -> list[_Rev]:
    found = ctx.memo.get("history")
    if found is None:
        found = ctx.memo["history"] = _read_history(ctx)
    return found


def _read_history(ctx: Context) -> list[_Rev]:
    return [
        _Rev(i, _date(_dict(item).get("date")), parse_version(_dict(item).get("number")),
             _dict(item).get("number"))
        for i, item in enumerate(_list(ctx.tracking.get("revision_history")))
    ]


def _rev_ptr(rev: _Rev) -> str:
    return pointer("document", "tracking", "revision_history", rev.at, "number")


def _one_scheme(revs: list[_Rev]) -> bool:
    schemes = {r.number.scheme for r in revs if r.number is not None}
    return len(schemes) == 1 and all(r.number is not None for r in revs)


def _by_date(revs: list[_Rev]) -> list[_Rev] | None:
    if any(r.date is None for r in revs):
        return None
    # Items with the same timestamp are ordered by their number (the OASIS examples 6.1.14-12
    # and 6.1.16-16 list two same-day revisions in descending order and are valid).
    return sorted(revs, key=lambda r: (r.date, r.number.key() if r.number else ()))


def _history_by_date(ctx: Context) -> list[_Rev] | None:
    """:func:`_by_date` of the document's revision history, sorted once per document."""
    if "history_by_date" not in ctx.memo:
        ctx.memo["history_by_date"] = _by_date(_history(ctx))
    return ctx.memo["history_by_date"]


@mandatory("6.1.14", "Sorted Revision History")
def sorted_revision_history(ctx: Context) -> Dev:
    revs = _history(ctx)
    ordered = _history_by_date(ctx)
    if ordered is None or not _one_scheme(revs):
        return
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        assert prev.number is not None and cur.number is not None
        if cur.number.key() < prev.number.key():
            yield Deviation("6.1.14", _rev_ptr(cur), f"revision {cur.raw} is dated after "
                            f"revision {prev.raw} but numbered lower")


@mandatory("6.1.15", "Translator")
def translator(ctx: Context) -> Dev:
    if _dict(ctx.document.get("publisher")).get("category") == "translator" and \
            "source_lang" not in ctx.document:
        yield Deviation("6.1.15", pointer("document", "source_lang"), "the publisher is a "
                        "translator, so the language translated from must be given")


def _version(ctx: Context) -> Version | None:
    return parse_version(ctx.tracking.get("version"))


@mandatory("6.1.16", "Latest Document Version")
def latest_document_version(ctx: Context) -> Dev:
    version = _version(ctx)
    ordered = _history_by_date(ctx)
    if version is None or not ordered or ordered[-1].number is None:
        return
    last = ordered[-1].number
    draft = ctx.tracking.get("status") == "draft"
    if draft:
        mine, theirs = version.without_pre_and_build(), last.without_pre_and_build()
    else:
        mine, theirs = version.without_build(), last.without_build()
    if mine != theirs:
        yield Deviation("6.1.16", pointer("document", "tracking", "version"), f"version "
                        f"{version.text} differs from the latest revision history entry "
                        f"{last.text}")


@mandatory("6.1.17", "Document Status Draft")
def document_status_draft(ctx: Context) -> Dev:
    version = _version(ctx)
    if version is None or ctx.tracking.get("status") == "draft":
        return
    if version.is_zero or version.pre is not None:
        yield Deviation("6.1.17", pointer("document", "tracking", "status"), f"version "
                        f"{version.text} is a pre-release, so the status must be draft, "
                        f"not {ctx.tracking.get('status')!r}")


@mandatory("6.1.18", "Released Revision History")
def released_revision_history(ctx: Context) -> Dev:
    if ctx.tracking.get("status") not in ("final", "interim"):
        return
    for rev in _history(ctx):
        if rev.number is not None and rev.number.is_zero:
            yield Deviation("6.1.18", _rev_ptr(rev), f"a {ctx.tracking.get('status')} document "
                            f"must not list pre-release revision {rev.raw} in its history")


@mandatory("6.1.19", "Revision History Entries for Pre-release Versions")
def prerelease_history(ctx: Context) -> Dev:
    for rev in _history(ctx):
        if rev.number is not None and rev.number.pre is not None:
            yield Deviation("6.1.19", _rev_ptr(rev), f"revision {rev.raw} has a pre-release "
                            "part; the history lists released revisions only")


@mandatory("6.1.20", "Non-draft Document Version")
def non_draft_version(ctx: Context) -> Dev:
    version = _version(ctx)
    status = ctx.tracking.get("status")
    if version is not None and status in ("final", "interim") and version.pre is not None:
        yield Deviation("6.1.20", pointer("document", "tracking", "version"), f"a {status} "
                        f"document must not have the pre-release version {version.text}")


@mandatory("6.1.21", "Missing Item in Revision History")
def missing_revision(ctx: Context) -> Dev:
    revs = _history(ctx)
    if not revs or not _one_scheme(revs):
        return
    ordered = sorted(revs, key=lambda r: r.number.key())  # type: ignore[union-attr]
    first = ordered[0]
    assert first.number is not None
    if first.number.major not in (0, 1):
        yield Deviation("6.1.21", _rev_ptr(first), f"the earliest revision is {first.raw}; it "
                        "must be 0 or 1 (major version 0 or 1 for semantic versioning)")
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        assert prev.number is not None and cur.number is not None
        if cur.number.major - prev.number.major > 1:
            yield Deviation("6.1.21", _rev_ptr(cur), f"revision history jumps from {prev.raw} "
                            f"to {cur.raw}: the versions between are missing")


@mandatory("6.1.22", "Multiple Definition in Revision History")
def duplicate_revision(ctx: Context) -> Dev:
    first: dict[str, int] = {}
    for rev in _history(ctx):
        if not isinstance(rev.raw, str):
            continue
        if rev.raw in first:
            yield Deviation("6.1.22", _rev_ptr(rev), f"revision {rev.raw} already appears at "
                            f"index {first[rev.raw]}")
        else:
            first[rev.raw] = rev.at


@mandatory("6.1.30", "Mixed Integer and Semantic Versioning")
def mixed_versioning(ctx: Context) -> Dev:
    version = _version(ctx)
    if version is None:
        return
    for rev in _history(ctx):
        if rev.number is not None and rev.number.scheme != version.scheme:
            yield Deviation("6.1.30", _rev_ptr(rev), f"revision {rev.raw} uses "
                            f"{rev.number.scheme} versioning but the document version "
                            f"{version.text} uses {version.scheme}")
