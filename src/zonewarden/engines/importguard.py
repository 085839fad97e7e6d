"""What an import would do to a stored site, and what it must not do without being told.

Pure functions over site data (the JSON dump of a :class:`~zonewarden.domain.site.SiteDocument`,
as the store keeps it). Three versions of a site meet in an import:

- **current**: the site as the database holds it now;
- **incoming**: the site the file describes;
- **base**: the site as it was when the file was exported, known from the export stamp's
  per-record digests (:func:`record_digests`). A file without a stamp has no base.

A record the database changed since the base (added, edited or removed by a command, another
import...) is *recorded work*: an import that would overwrite, remove or bring it back is a
:class:`Conflict`. Removing a record the file lacks needs ``prune``; overwriting or restoring
one needs ``force``. Without a base, nothing is known to be unchanged, so every removal needs
``prune`` (edits go through: the file is the user's statement of the site).

Records are matched by id; requirement statuses by ``target/requirement`` and capability
declarations by ``asset/capability`` (the keys their commands and audit events use). A section
that is not a list (``site``, ``checks``...) is one record named after the section.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

STAMP_FORMAT = 1
"""Version of the export stamp's layout (see :func:`make_stamp`)."""

_COMPOSITE_KEYS: dict[str, tuple[str, str]] = {
    "requirements": ("target", "requirement"),
    "capabilities": ("asset", "capability"),
}

Since = Literal["added", "changed", "removed", "unknown"]
Effect = Literal["overwrite", "remove", "restore"]
Needs = Literal["prune", "force"]


def record_key(section: str, item: Any, index: int) -> str:
    """The name of one record of a list section: its id, or the pair that identifies it."""
    if isinstance(item, Mapping):
        pair = _COMPOSITE_KEYS.get(section)
        if pair is not None and item.get(pair[0]) is not None and item.get(pair[1]) is not None:
            return f"{item[pair[0]]}/{item[pair[1]]}"
        ident = item.get("id")
        if ident is not None:
            return str(ident)
    return f"#{index}"


def records(section: str, value: Any) -> dict[str, Any]:
    """key -> record for one section's value (a non-list section is one record)."""
    if isinstance(value, list):
        return {record_key(section, item, i): item for i, item in enumerate(value)}
    return {section: value}


def record_digest(item: Any) -> str:
    """A short digest of one record's content (sorted-key JSON): equal content, equal digest."""
    return hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def record_digests(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """section -> key -> digest of every record of ``data``: the base an export stamp carries."""
    return {s: {k: record_digest(v) for k, v in records(s, value).items()} for s, value in data.items()}


def make_stamp(site_id: str, revision: int, content_hash: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The export stamp of one site: which database revision the files came from, the site's
    content hash at that revision and the digest of every record (the base of a later import)."""
    return {
        "format": STAMP_FORMAT,
        "site": site_id,
        "revision": revision,
        "content_hash": content_hash,
        "records": record_digests(data),
    }


@dataclass(frozen=True, slots=True)
class SectionPlan:
    """What an import would add, change and remove in one section (record keys)."""

    section: str
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class Conflict:
    """An import step that would overwrite, remove or restore recorded work."""

    section: str
    key: str
    since: Since
    """What the database did to the record since the file's revision (``unknown``: the file
    has no stamp, so nothing is known about it)."""
    effect: Effect
    """What the import would do to it."""

    @property
    def needs(self) -> Needs:
        """The permission that lets the import go ahead: ``prune`` for a removal, else ``force``."""
        return "prune" if self.effect == "remove" else "force"

    def allowed(self, *, prune: bool, force: bool) -> bool:
        return force or (prune and self.needs == "prune")


def _section_order(*datas: Mapping[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for d in datas:
        for s in d:
            seen.setdefault(s, None)
    return list(seen)


def plan_sections(current: Mapping[str, Any], incoming: Mapping[str, Any],
                  order: Iterable[str] | None = None) -> tuple[SectionPlan, ...]:
    """Per section, the keys the import would add, change and remove (empty sections left out)."""
    out = []
    for s in order if order is not None else _section_order(current, incoming):
        before = records(s, current[s]) if s in current else {}
        after = records(s, incoming[s]) if s in incoming else {}
        plan = SectionPlan(
            s,
            tuple(sorted(after.keys() - before.keys())),
            tuple(sorted(k for k in after.keys() & before.keys() if after[k] != before[k])),
            tuple(sorted(before.keys() - after.keys())),
        )
        if not plan.empty:
            out.append(plan)
    return tuple(out)


def conflicts(current: Mapping[str, Any], incoming: Mapping[str, Any],
              base: Mapping[str, Mapping[str, str]] | None) -> tuple[Conflict, ...]:
    """The import steps that would overwrite, remove or restore recorded work (module docstring).

    ``base``: the stamp's record digests, or None for a file without a stamp."""
    out: list[Conflict] = []
    for s in _section_order(current, incoming, base or {}):
        cur = {k: record_digest(v) for k, v in records(s, current[s]).items()} if s in current else {}
        new = {k: record_digest(v) for k, v in records(s, incoming[s]).items()} if s in incoming else {}
        if base is None:
            out.extend(Conflict(s, k, "unknown", "remove") for k in sorted(cur.keys() - new.keys()))
            continue
        was = base.get(s) or {}
        for k in sorted(cur.keys() | new.keys() | was.keys()):
            c, n, b = cur.get(k), new.get(k), was.get(k)
            if c == n or c == b:
                continue  # no effect, or the database kept the record as exported: the file's change is meant
            since: Since = "added" if b is None else "removed" if c is None else "changed"
            effect: Effect = "remove" if n is None else "restore" if c is None else "overwrite"
            out.append(Conflict(s, k, since, effect))
    return tuple(out)


__all__ = [
    "STAMP_FORMAT", "Conflict", "SectionPlan", "conflicts", "make_stamp", "plan_sections",
    "record_digest", "record_digests", "record_key", "records",
]
