"""The hash-chained audit log.

Each event's hash covers its content and the previous event's hash, so editing, inserting or
deleting an event breaks the chain from that point on; ``audit_head`` pins the last event, so
deleting the newest events is detected too. The chain is tamper-evident, not tamper-proof: an
attacker who can rewrite the whole table can rebuild it, which is why ``audit verify`` prints the
head hash for the operator to record elsewhere (a ticket, a signed report).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select, update

from zonewarden.store.tables import audit_events, audit_head

GENESIS = "0" * 64

SITE_DIGEST = "site_digest"
"""Key, in an event's ``context``, of the digest of the site state the event produced (the
content hash of the stored document). :func:`verify` compares the newest one of each site
with a digest recomputed from the stored rows, so the log covers the data, not only itself."""


def with_site_digest(fields: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """``fields`` (the ``actor``/``context`` keywords of :func:`append`, e.g. a principal's
    ``audit_fields``) with the digest of the site state the event produced added to the context."""
    out = dict(fields)
    out["context"] = {**(out.get("context") or {}), SITE_DIGEST: digest}
    return out


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One recorded write."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    site_id: str | None
    object_type: str | None
    object_id: str | None
    reason: str | None
    before: Any
    after: Any
    prev_hash: str
    hash: str
    context: Any = None
    """How the actor authenticated and through which client (``{"method", "client"}``); None
    for events written before accounts existed."""


def _canonical_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, seq: int, at: dt.datetime, actor: str, action: str, site_id: str | None,
               object_type: str | None, object_id: str | None, reason: str | None, before: Any, after: Any,
               context: Any = None) -> str:
    fields = [seq, _canonical_time(at), actor, action, site_id, object_type, object_id, reason, before, after]
    if context is not None:  # only when present: chains written before the column still verify
        fields.append(context)
    body = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


# Statements built once: building them per call cost most of an append (~2 ms), which adds up
# when every ingested advisory is its own audited transaction.
_HEAD = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_INSERT_EVENT = audit_events.insert()
_UPDATE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == bindparam("head_id"))
    .values(seq=bindparam("seq"), hash=bindparam("hash"))
)
_INSERT_HEAD = audit_head.insert().values(id=bindparam("head_id"), seq=bindparam("seq"), hash=bindparam("hash"))


def append(
    conn: Connection,
    *,
    action: str,
    actor: str,
    site_id: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    reason: str | None = None,
    before: Any = None,
    after: Any = None,
    at: dt.datetime | None = None,
    context: Mapping[str, str] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction. ``context`` is the principal's
    ``audit_context`` (how it authenticated, which client)."""
    [event] = append_many(
        conn,
        [dict(action=action, actor=actor, site_id=site_id, object_type=object_type, object_id=object_id,
              reason=reason, before=before, after=after, at=at, context=context)],
    )
    return event


def append_many(conn: Connection, items: Sequence[Mapping[str, Any]]) -> list[AuditEvent]:
    """Append events, in order, inside the caller's transaction: one read of the chain head,
    one multi-row insert and one head update however many there are. Each item takes the
    keyword arguments of :func:`append`."""
    if not items:
        return []
    stmt = _HEAD_FOR_UPDATE if conn.dialect.name == "postgresql" else _HEAD
    head = conn.execute(stmt).first()
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
    out: list[AuditEvent] = []
    for item in items:
        actor = item.get("actor")
        if not actor:  # who acted comes from the caller's principal, never a guess made here
            raise ValueError(f"audit event {item['action']!r} without an actor")
        at = item.get("at") or dt.datetime.now(dt.UTC)
        # Normalise values through JSON once so the hash is computed on exactly what is stored.
        before, after = item.get("before"), item.get("after")
        before = orjson.loads(orjson.dumps(before)) if before is not None else None
        after = orjson.loads(orjson.dumps(after)) if after is not None else None
        context = item.get("context")
        context = orjson.loads(orjson.dumps(dict(context))) if context is not None else None
        seq += 1
        site_id, object_type, object_id, reason = (
            item.get("site_id"), item.get("object_type"), item.get("object_id"), item.get("reason"),
        )
        digest = event_hash(prev_hash, seq, at, actor, item["action"], site_id, object_type, object_id, reason,
                            before, after, context)
        out.append(AuditEvent(seq, at, actor, item["action"], site_id, object_type, object_id, reason, before, after,
                              prev_hash, digest, context))
        prev_hash = digest
    conn.execute(
        _INSERT_EVENT,
        [
            {
                "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "site_id": e.site_id,
                "object_type": e.object_type, "object_id": e.object_id, "reason": e.reason,
                "before": e.before, "after": e.after, "prev_hash": e.prev_hash, "hash": e.hash,
                "context": e.context,
            }
            for e in out
        ],
    )
    conn.execute(_UPDATE_HEAD if head else _INSERT_HEAD, {"head_id": 1, "seq": seq, "hash": prev_hash})
    return out


class Buffer:
    """Events collected during a batch and appended together by :meth:`flush`, in the order
    they were added (a batch of 200 ingested advisories costs one chain-head read, not 200)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, **item: Any) -> None:
        self.items.append(item)

    def flush(self, conn: Connection) -> list[AuditEvent]:
        events, self.items = append_many(conn, self.items), []
        return events


def _as_utc(at: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; everything is written in UTC.
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def events(conn: Connection, *, site_id: str | None = None, where: Sequence[Any] = (), limit: int | None = None,
           offset: int = 0, newest_first: bool = False) -> Iterator[AuditEvent]:
    """Events in chain order (or newest first), of one site or matching ``where`` clauses."""
    stmt = select(audit_events).order_by(audit_events.c.seq.desc() if newest_first else audit_events.c.seq)
    if site_id is not None:
        stmt = stmt.where(audit_events.c.site_id == site_id)
    if where:
        stmt = stmt.where(*where)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    for row in conn.execute(stmt):
        yield AuditEvent(
            row.seq, _as_utc(row.at), row.actor, row.action, row.site_id, row.object_type, row.object_id,
            row.reason, row.before, row.after, row.prev_hash, row.hash, row.context,
        )


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    """The event the problem is at; 0 when it is at no event (a site the log does not record)."""
    message: str
    site_id: str | None = None
    """The stored site the problem concerns, for a problem of the data against the log."""

    @property
    def where(self) -> str:
        """``event 12``, ``site mini, event 12`` or ``site mini``."""
        parts = [f"site {self.site_id}"] if self.site_id else []
        if self.seq or not self.site_id:
            parts.append(f"event {self.seq}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify`."""

    events: int
    head_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection) -> VerifyResult:
    """Recompute the whole chain; report every break (edited, inserted, deleted events)."""
    problems: list[ChainProblem] = []
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for ev in events(conn):
        count += 1
        if ev.seq != expected_seq:
            problems.append(ChainProblem(ev.seq, f"events {expected_seq}..{ev.seq - 1} are missing (deleted)"))
        if ev.prev_hash != prev_hash:
            problems.append(ChainProblem(ev.seq, "does not follow the previous event (an event before it was deleted or replaced)"))
        digest = event_hash(ev.prev_hash, ev.seq, ev.at, ev.actor, ev.action, ev.site_id, ev.object_type,
                            ev.object_id, ev.reason, ev.before, ev.after, ev.context)
        if digest != ev.hash:
            problems.append(ChainProblem(ev.seq, "content does not match its hash (the event was edited)"))
        prev_hash, expected_seq = ev.hash, ev.seq + 1
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    if head is None and count:
        problems.append(ChainProblem(0, "the chain head record is missing"))
    elif head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        problems.append(
            ChainProblem(head.seq, f"the newest events were deleted: the head records event {head.seq}, the log ends at {expected_seq - 1}")
        )
    problems.extend(_data_problems(conn))
    return VerifyResult(count, prev_hash, tuple(problems))


def _data_problems(conn: Connection) -> list[ChainProblem]:
    """The stored sites against the log: each site's digest, recomputed from its rows, must be
    the one its newest digest-carrying event recorded. Catches a direct edit of a data table,
    the newest events deleted with the head fixed up, and a log emptied under stored sites.
    Sites whose events all predate digests (old chains) are not compared."""
    from zonewarden.services import sites as site_service  # sites imports this module
    from zonewarden.store.tables import sites

    newest: dict[str, tuple[int, str | None]] = {}
    has_events: set[str] = set()
    stmt = select(audit_events.c.seq, audit_events.c.site_id, audit_events.c.context).where(
        audit_events.c.site_id.is_not(None)
    ).order_by(audit_events.c.seq)
    for seq, site_id, context in conn.execute(stmt):
        has_events.add(site_id)
        if context and SITE_DIGEST in context:
            newest[site_id] = (seq, context[SITE_DIGEST])
    out: list[ChainProblem] = []
    for site_id, stored_hash in conn.execute(select(sites.c.id, sites.c.content_hash).order_by(sites.c.id)):
        data = site_service._stored_data(conn, site_id) or {}
        actual = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
        if site_id not in has_events:
            out.append(ChainProblem(0, f"site {site_id!r} is stored but no event in the log records it "
                                       "(its events were deleted, or it was written around the log)", site_id))
            continue
        if actual != stored_hash:
            out.append(ChainProblem(newest.get(site_id, (0, None))[0],
                                    f"site {site_id!r}: its stored rows (digest {actual[:12]}) do not match its recorded "
                                    f"content hash {stored_hash[:12]}: a data table was edited directly", site_id))
        if site_id not in newest:
            continue  # an old chain: its events carry no digests
        seq, recorded = newest[site_id]
        if recorded != actual:
            out.append(ChainProblem(seq, f"site {site_id!r}: the stored data (digest {actual[:12]}) is not the state "
                                         f"event {seq} recorded ({str(recorded)[:12]}): the data was edited "
                                         "directly, or the events after it were deleted", site_id))
    return out
