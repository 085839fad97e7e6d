"""Import never loses recorded work silently (issue 12 §7).

``export`` stamps each site folder with the database revision it came from (the sequence number
of the site's newest audit event), the site's content hash and a digest of every record
(:func:`zonewarden.engines.importguard.make_stamp`). An import compares three versions of the
site (:mod:`zonewarden.engines.importguard`): what the database holds, what the file says, and
what the database held when the file was exported. Work recorded since (a status set by command,
an approved compensating control, another import) is not overwritten, removed or brought back
unless the caller says so: ``prune`` allows removing what the file lacks, ``force`` allows
everything. A file without a stamp may change records but removes nothing without ``prune``.

Every refused (or, with ``force``/``prune``, overridden) record is named with the newest audit
event that touched it: who, when, which action.

:func:`plan_import` is the dry run (reads only); :func:`check_site` is what the import's own
transaction calls before it writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from zonewarden.domain.site import SiteDocument
from zonewarden.engines.importguard import (
    Conflict,
    SectionPlan,
    conflicts,
    make_stamp,
    plan_sections,
)
from zonewarden.errors import ConflictError
from zonewarden.runtime import gc_paused
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.tables import audit_events, sites


@dataclass(frozen=True, slots=True)
class Touch:
    """The newest audit event that touched a record."""

    seq: int
    at: dt.datetime
    actor: str
    action: str


@dataclass(frozen=True, slots=True)
class NamedConflict:
    """A conflict with the audit event that explains it (None: no event names the record)."""

    conflict: Conflict
    touch: Touch | None
    allowed: bool
    """Whether the options given (prune, force) let the import go ahead anyway."""

    def describe(self, base_revision: int | None) -> str:
        c = self.conflict
        since = {
            "added": "added",
            "changed": "changed",
            "removed": "removed",
            "unknown": "recorded",
        }[c.since]
        when = f" since revision {base_revision}" if base_revision is not None else ""
        who = (
            f" by {self.touch.actor} on {self.touch.at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
            f" ({self.touch.action}, audit event {self.touch.seq})"
            if self.touch is not None
            else ""
        )
        effect = {
            "remove": "the file lacks it, so the import would remove it",
            "overwrite": "the import would overwrite it with the file's older version",
            "restore": "the file still has it, so the import would bring it back",
        }[c.effect]
        return f"{c.section} {c.key}: {since}{when}{who}; {effect}"

    def as_dict(self) -> dict[str, Any]:
        c = self.conflict
        return {
            "section": c.section,
            "id": c.key,
            "since": c.since,
            "effect": c.effect,
            "needs": c.needs,
            "allowed": self.allowed,
            "by": self.touch.actor if self.touch else None,
            "at": self.touch.at.astimezone(dt.UTC).isoformat() if self.touch else None,
            "action": self.touch.action if self.touch else None,
            "audit_seq": self.touch.seq if self.touch else None,
        }


@dataclass(frozen=True, slots=True)
class SitePlan:
    """What importing one document would do (nothing is written by computing it)."""

    site_id: str
    created: bool
    unchanged: bool
    sections: tuple[SectionPlan, ...]
    conflicts: tuple[NamedConflict, ...]
    stamped: bool
    base_revision: int | None
    """The database revision the file was exported from (None: no stamp)."""
    current_revision: int | None
    """The site's revision in the database now (None: the site is new)."""

    @property
    def refused(self) -> tuple[NamedConflict, ...]:
        return tuple(c for c in self.conflicts if not c.allowed)

    @property
    def stale(self) -> bool:
        return self.base_revision is not None and self.current_revision is not None and (
            self.base_revision < self.current_revision
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site_id,
            "created": self.created,
            "unchanged": self.unchanged,
            "stamped": self.stamped,
            "file_revision": self.base_revision,
            "database_revision": self.current_revision,
            "would_import": not self.refused,
            "sections": {
                s.section: {"added": list(s.added), "changed": list(s.changed), "removed": list(s.removed)}
                for s in self.sections
            },
            "conflicts": [c.as_dict() for c in self.conflicts],
        }


class ImportRefused(ConflictError):
    """An import would overwrite, remove or restore recorded work and was not allowed to."""

    def __init__(self, plans: Sequence[SitePlan]) -> None:
        self.plans = tuple(p for p in plans if p.refused)
        lines = []
        for p in self.plans:
            for c in p.refused:
                hint = "allowed when pruning" if c.conflict.needs == "prune" else "allowed only when forced"
                lines.append(f"  site {p.site_id}: {c.describe(p.base_revision)} ({hint})")
        n = sum(len(p.refused) for p in self.plans)
        super().__init__(
            f"import refused: it would lose {n} record(s) recorded in the database since the file was made; "
            "nothing was imported\n" + "\n".join(lines)
        )


def site_revision(conn: Connection, site_id: str) -> int:
    """The site's revision: the sequence number of its newest audit event (0 if none).
    Every write of a site appends an audit event, so a newer revision means newer recorded work."""
    value = conn.execute(select(func.max(audit_events.c.seq)).where(audit_events.c.site_id == site_id)).scalar()
    return int(value or 0)


def _touches(conn: Connection, site_id: str, after_seq: int, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Touch]:
    """For each (section, key) in ``wanted``, the newest audit event after ``after_seq`` that names it:
    an import's recorded changes, or a command's object id."""
    out: dict[tuple[str, str], Touch] = {}
    by_key: dict[str, list[str]] = {}
    for section, key in wanted:
        by_key.setdefault(key, []).append(section)
    t = audit_events.c
    stmt = (
        select(t.seq, t.at, t.actor, t.action, t.object_type, t.object_id, t.after)
        .where(t.site_id == site_id, t.seq > after_seq, t.object_type.is_distinct_from("finding"))
        .order_by(t.seq.desc())
    )
    for row in conn.execute(stmt):
        if len(out) == len(wanted):
            break
        touch = Touch(row.seq, _utc(row.at), row.actor, row.action)
        if row.action == "site.import":
            changes = (row.after or {}).get("changes") or {}
            for section, ids in changes.items():
                for key in {*ids.get("added", ()), *ids.get("changed", ()), *ids.get("removed", ())}:
                    if (section, key) in wanted:
                        out.setdefault((section, key), touch)
        elif row.object_id in by_key:
            for section in by_key[row.object_id]:
                out.setdefault((section, row.object_id), touch)
    return out


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def check_site(
    conn: Connection, site_id: str, current: Mapping[str, Any] | None, incoming: Mapping[str, Any],
    stamp: Mapping[str, Any] | None, *, prune: bool, force: bool, current_hash: str | None = None,
    incoming_hash: str | None = None,
) -> SitePlan:
    """The plan of importing ``incoming`` over ``current`` (None: a new site), with each
    conflict named and marked allowed or not under ``prune``/``force``."""
    if current_hash is not None and current_hash == incoming_hash:  # (``current`` need not be read)
        return SitePlan(site_id, False, True, (), (), stamp is not None, int(stamp["revision"]) if stamp else None,
                        site_revision(conn, site_id))
    if current is None:
        sections = plan_sections({}, incoming)
        return SitePlan(site_id, True, False, sections, (), stamp is not None,
                        int(stamp["revision"]) if stamp else None, None)
    revision = site_revision(conn, site_id)
    base_revision = int(stamp["revision"]) if stamp else None
    sections = plan_sections(current, incoming)
    if stamp is not None and current_hash is not None and stamp.get("content_hash") == current_hash:
        found: tuple[Conflict, ...] = ()  # nothing recorded since the export: every difference is the file's
    else:
        found = conflicts(current, incoming, stamp["records"] if stamp is not None else None)
    touches = _touches(conn, site_id, base_revision or 0, {(c.section, c.key) for c in found}) if found else {}
    named = tuple(
        NamedConflict(c, touches.get((c.section, c.key)), c.allowed(prune=prune, force=force)) for c in found
    )
    return SitePlan(site_id, False, not sections, sections, named, stamp is not None, base_revision, revision)


def plan_import(
    store: Store, docs: Sequence[SiteDocument], *, principal: Principal,
    stamps: Mapping[str, Mapping[str, Any]] | None = None, prune: bool = False, force: bool = False,
) -> list[SitePlan]:
    """The dry run of an import: what it would add, change and remove per section, and what it
    would refuse. Reads only; needs read access to each existing site."""
    from zonewarden.services import identity
    from zonewarden.services.sites import _stored_data

    with store.read() as conn:
        existing = {r.id for r in conn.execute(select(sites.c.id).where(sites.c.id.in_([d.site.id for d in docs])))}
    for ident in sorted(existing):
        identity.authorize(store, principal, "site.read", ident)
    plans = []
    with gc_paused(), store.read() as conn:
        for doc in docs:
            row = conn.execute(select(sites.c.content_hash).where(sites.c.id == doc.site.id)).first()
            data = doc.model_dump(mode="json", exclude_defaults=True)
            digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
            current = _stored_data(conn, doc.site.id) if row is not None else None
            plans.append(check_site(conn, doc.site.id, current, data, (stamps or {}).get(doc.site.id),
                                    prune=prune, force=force,
                                    current_hash=row.content_hash if row else None, incoming_hash=digest))
    return plans


@dataclass(frozen=True, slots=True)
class ExportBundle:
    """One site as ``export`` writes it: the document, its evidence files and its stamp."""

    doc: SiteDocument
    evidence: dict[str, bytes]
    stamp: dict[str, Any]


def export_site(store: Store, site_id: str, *, principal: Principal) -> ExportBundle:
    """The stored site with its evidence and export stamp, read together (the stamp describes
    exactly the content exported)."""
    from zonewarden.errors import NotFoundError
    from zonewarden.services import identity
    from zonewarden.services.sites import TRUSTED, _stored_evidence, _stored_json

    identity.authorize(store, principal, "site.export", site_id)
    with gc_paused():  # see io.sitefile.load_site
        with store.read() as conn:
            revision = site_revision(conn, site_id)  # read first: never newer than the content exported
            row = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id)).first()
            text = _stored_json(conn, site_id, set())
            if row is None or text is None:
                raise NotFoundError(f"no site {site_id!r} in the database")
            evidence = _stored_evidence(conn, site_id)
        data = orjson.loads(text)
        doc = SiteDocument.model_validate_json(text, context=TRUSTED)
    return ExportBundle(doc, evidence, make_stamp(site_id, revision, row.content_hash, data))


__all__ = [
    "ExportBundle", "ImportRefused", "NamedConflict", "SitePlan", "Touch", "check_site", "export_site",
    "plan_import", "site_revision",
]
