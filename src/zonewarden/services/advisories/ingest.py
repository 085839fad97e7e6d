"""Ingest CSAF documents: one transaction per chunk of documents, revisions kept by digest and
version, every site matched; reading files; demoting unverified advisories.

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, select, update
from sqlalchemy.exc import DataError, IntegrityError

from zonewarden.domain.advisories import (
    FlatAdvisory,
)
from zonewarden.engines.products import advisory_title, flatten_advisory, flattens_leniently
from zonewarden.errors import InputError, ZonewardenError
from zonewarden.io.csaf import read_csaf
from zonewarden.io.csaf.shape import shape_problem
from zonewarden.runtime import batched, collect_young, gc_paused
from zonewarden.services import audit, identity, vex
from zonewarden.services.advisories.match_state import (
    _DOCUMENT_OF,
    _apply_findings,
    _Counts,
    _kev_set,
    _set_match_state,
    _site_matchers,
    _SiteMatcher,
    ensure_current,
)
from zonewarden.services.advisories.model import (
    IngestReport,
    IngestResult,
    Outcome,
    _clean,
    _clip,
    version_key,
)
from zonewarden.services.principal import Principal
from zonewarden.store.advisory_tables import (
    advisories,
    findings,
)
from zonewarden.store.db import Store

# --- ingest ---------------------------------------------------------------------------------


def _deviation_json(devs: Iterable[Any]) -> list[dict[str, str | None]]:
    return [{"test_id": d.test_id, "pointer": _clean(d.pointer), "message": _clean(d.message)} for d in devs]


def _rejected(source: str, error: str, tracking_id: str | None = None, version: str | None = None, deviations: int = 0) -> IngestResult:
    return IngestResult(source, "rejected", tracking_id, version, error, deviations)


def _release_date(doc: dict[str, Any]) -> dt.datetime | None:
    try:
        text = doc["document"]["tracking"]["current_release_date"]
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None


def _doc_status(doc: dict[str, Any]) -> str | None:
    try:
        value = doc["document"]["tracking"]["status"]
    except (KeyError, TypeError):
        return None
    return _clip(value, 32) if isinstance(value, str) else None


CHUNK = 200
"""Documents stored per transaction. A commit per document cost more than everything else
ingest does on SQLite; a killed run loses at most the chunk in flight (re-running is safe)."""


def ingest_bytes(
    store: Store,
    items: Iterable[tuple[str, bytes]],
    *,
    strict: bool = False,
    principal: Principal,
    reason: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Validate, store and match CSAF documents given as ``(source, bytes)`` pairs.

    ``strict`` rejects any document with a deviation (for advisories one authors); the default
    lenient mode stores real-world documents with their deviations. Problems are reported per
    document (``IngestResult.error`` names the source and JSON pointer) and the batch goes on.

    Documents are validated and flattened first, then stored :data:`CHUNK` at a time, each
    chunk one transaction. When the database refuses something in a chunk (a value it cannot
    hold, a concurrent writer), the chunk is rolled back and stored again one document per
    transaction, so a bad document never takes others with it and nothing is half-stored.
    ``progress`` is called with the number of documents finished (an increment, e.g.
    ``lambda n: bar.advance(task, n)``).
    """
    identity.authorize(store, principal, "advisory.ingest")
    ensure_current(store)
    now = dt.datetime.now(dt.UTC)
    results: list[IngestResult | None] = []
    batch = _Batch(store, strict=strict, principal=principal, reason=reason, now=now)
    chunk: list[tuple[int, _Prepared]] = []
    twins: list[tuple[int, _Twin]] = []  # copies of documents in the chunk in flight

    def store_chunk() -> None:
        by_digest = {}
        for (i, p), (j, result) in zip(chunk, batch.write_chunk(chunk), strict=True):
            assert i == j
            results[i] = by_digest[p.digest] = result
        for i, twin in twins:
            results[i] = twin.result(by_digest[twin.first.digest])
        if progress is not None:
            progress(len(chunk) + len(twins))
        chunk.clear()
        twins.clear()

    # A quarter of ingest went to the cyclic collector walking the parsed documents: it is
    # paused, and the chunk's leftovers are collected after each chunk.
    with gc_paused():
        for source, data in items:
            source = str(source)
            try:
                prepared = batch.prepare(source, bytes(data))
            except ZonewardenError as exc:
                if not isinstance(exc, InputError):
                    raise  # the database, not the document: stop
                prepared = _rejected(source, f"{source}: {exc}")
            if isinstance(prepared, IngestResult):
                results.append(prepared)
                if progress is not None:
                    progress(1)
            elif isinstance(prepared, _Twin):
                results.append(None)
                twins.append((len(results) - 1, prepared))
            else:
                results.append(None)
                chunk.append((len(results) - 1, prepared))
                if len(chunk) >= CHUNK:
                    store_chunk()
            if len(results) % CHUNK == 0:
                collect_young()  # what this stretch left (rejections' tracebacks hold cycles)
        if chunk:
            store_chunk()
    done = [r for r in results if r is not None]
    assert len(done) == len(results)
    t = batch.totals
    statements = sum(r.vex_statements for r in done)
    changed = sorted({r.tracking_id for r in done if r.outcome in ("new", "revision") and r.tracking_id})
    # Recorded VEX closes what it covers: new statements any finding, else only the findings
    # this batch made or changed can be newly covered (a rematch applies VEX itself).
    closed = vex.apply(store) if statements else vex.apply(store, tracking_ids=changed) if t.created or t.updated else 0
    return IngestReport(done, t.created, t.updated, t.reopened, vex_statements=statements, vex_closed=closed)


@dataclass(frozen=True)
class _Twin:
    """The same bytes as a document earlier in the batch that is not stored yet: unchanged
    once that copy is stored, rejected with it if the database refuses it."""

    source: str
    first: _Prepared

    def result(self, first: IngestResult) -> IngestResult:
        p = self.first
        if first.outcome == "rejected":
            return _rejected(self.source, f"{self.source}: the same bytes as {p.source}, which was not stored: {first.error}",
                             p.tracking_id, p.version, len(p.deviations))
        return IngestResult(self.source, "unchanged", p.tracking_id, p.version, None, len(p.deviations))


@dataclass
class _Prepared:
    """A document that passed validation and flattening, ready to store."""

    source: str
    digest: str
    deviations: tuple[Any, ...]  # the reader's Deviation records
    publisher: str | None
    tracking_id: str
    version: str
    flat: FlatAdvisory | None
    """``None`` when no site was stored to match it against: flattened at the first match."""
    title: str
    text: str
    release_date: dt.datetime | None
    status: str | None
    vex: Any = None
    """A ``csaf_vex`` document's statements (io.vex.VexDocument), recorded with the document."""


class _Batch:
    """State shared by the documents of one batch: the digests already stored (so unchanged
    documents cost one set lookup), the current version of each tracking id as stored so far,
    and every site's inventory indexed once, on first need (a batch of unchanged documents
    never builds it), with the KEV catalog."""

    def __init__(self, store: Store, *, strict: bool, principal: Principal, reason: str | None,
                 now: dt.datetime) -> None:
        self.store = store
        self.strict, self.principal, self.reason, self.now = strict, principal, reason, now
        self._loaded: tuple[list[_SiteMatcher], frozenset[str] | None] | None = None
        with store.read() as conn:
            self.digests: set[str] = {r.sha256 for r in conn.execute(select(advisories.c.sha256))}
        self.pending: dict[str, _Prepared] = {}
        """Digests validated in this batch but not stored yet: the same bytes twice in one
        batch are stored once."""
        self.state_written: set[str] = set()
        """Sites whose match state this batch has recorded (once per site is enough)."""
        self.totals = _Counts()

    def load(self) -> tuple[list[_SiteMatcher], frozenset[str] | None]:
        if self._loaded is None:
            with self.store.read() as conn:
                self._loaded = (_site_matchers(conn), _kev_set(conn))
        return self._loaded

    def prepare(self, source: str, data: bytes) -> IngestResult | _Prepared | _Twin:
        """Everything that needs no write: the unchanged check, validation, flattening."""
        strict = self.strict
        digest = hashlib.sha256(data).hexdigest()
        # The same bytes again: nothing to parse, nothing to change (the cheap path of a re-sync).
        known = None
        if digest in self.digests:
            with self.store.read() as conn:
                known = conn.execute(_BY_DIGEST, {"digest": digest}).first()
        if known is not None:
            devs = list(known.deviations or [])
            if strict and devs:
                first = devs[0]
                return _rejected(
                    source,
                    f"{source}: {first['pointer'] or '/'}: strict mode rejects the document with {len(devs)} "
                    f"deviation(s) (stored earlier in lenient mode); first: [{first['test_id']}] {first['message']}",
                    known.tracking_id, known.version, len(devs),
                )
            return IngestResult(source, "unchanged", known.tracking_id, known.version, None, len(devs))
        first = self.pending.get(digest)
        if first is not None:
            return _Twin(source, first)  # decided when the first copy's chunk is stored

        read = read_csaf(data, source=source, strict=strict)
        if not read.accepted or read.document is None:
            return _rejected(source, read.error or f"{source}: not accepted", read.tracking_id, read.tracking_version,
                             len(read.deviations))
        tracking_id, version = read.tracking_id, read.tracking_version
        assert tracking_id is not None and version is not None  # accepted documents have both
        if len(tracking_id) > 200 or len(version) > 100:
            return _rejected(
                source, f"{source}: /document/tracking/id: tracking id or version is implausibly long "
                f"({len(tracking_id)} / {len(version)} characters; limits 200 / 100)", None, None, len(read.deviations),
            )
        # Wrong types the lenient reader lets through are refused here, by JSON pointer, before
        # flattening can trip over them (issue 18.3): one bad document never stops a batch.
        shape = shape_problem(read.document)
        if shape is not None:
            return _rejected(source, f"{source}: {shape[0]}: {shape[1]}", tracking_id, version, len(read.deviations))
        # With no site to match (and in lenient mode), flattening only decides whether the
        # document is refused, which a short search of the product tree settles; the product
        # entries are built when a site is matched (issue 17, speed 1).
        flat: FlatAdvisory | None = None
        try:
            if strict or self.load()[0] or not flattens_leniently(read.document):
                flat = flatten_advisory(read.document, source=source, strict=strict)
            statements = vex.csaf_part(read.document, flat, source)  # JSON pointer of an incomplete one
        except InputError as exc:
            return _rejected(source, str(exc), tracking_id, version, len(read.deviations))
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
            # A shape the check above does not know yet: still this document's fault, not the batch's.
            return _rejected(source, f"{source}: /: the advisory's products cannot be read "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                             tracking_id, version, len(read.deviations))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:  # orjson accepted it, so this cannot happen; be explicit anyway
            return _rejected(source, f"{source}: not UTF-8: {exc}", tracking_id, version)
        title = flat.title if flat is not None else advisory_title(read.document)
        assert title is not None  # an accepted document has a tracking id
        # The parsed document is not kept until its chunk is stored: 200 parsed documents
        # alive at once made every later allocation slower (issue 17). What storing needs is
        # taken out here; the rare conflict check re-parses the text.
        prepared = _Prepared(source, digest, read.deviations, read.publisher, tracking_id, version, flat, title, text,
                             _release_date(read.document), _doc_status(read.document), statements)
        self.pending[digest] = prepared
        return prepared

    def write_chunk(self, chunk: Sequence[tuple[int, _Prepared]]) -> list[tuple[int, IngestResult]]:
        """Store a chunk in one transaction; on a database refusal, one document at a time."""
        docs = [p for _, p in chunk]
        try:
            with self.store.transaction() as conn:
                done = self._write(conn, docs)
        except (IntegrityError, DataError):
            done = None
        if done is not None:
            self._landed(docs, done)
            return [(i, r) for (i, _), (r, _) in zip(chunk, done, strict=True)]
        out = []
        for i, p in chunk:
            try:
                with self.store.transaction() as conn:
                    one = self._write(conn, [p])
            except IntegrityError:
                # Another process stored the same bytes between our check and insert.
                self.pending.pop(p.digest, None)
                out.append((i, IngestResult(p.source, "unchanged", p.tracking_id, p.version, None,
                                            len(p.deviations))))
                continue
            except DataError as exc:
                self.pending.pop(p.digest, None)
                out.append((i, _rejected(p.source, f"{p.source}: the database refused a value: {exc.orig}",
                                         p.tracking_id, p.version, len(p.deviations))))
                continue
            self._landed([p], one)
            out.append((i, one[0][0]))
        return out

    def _landed(self, docs: Sequence[_Prepared], done: Sequence[tuple[IngestResult, _Counts]]) -> None:
        """Book a committed write into the batch's state."""
        for p, (result, counts) in zip(docs, done, strict=True):
            self.totals.created += counts.created
            self.totals.updated += counts.updated
            self.totals.reopened += counts.reopened
            self.pending.pop(p.digest, None)
            if result.outcome != "rejected":  # a conflicting revision is not stored: never "unchanged"
                self.digests.add(p.digest)
        if any(result.outcome != "older" for result, _ in done):
            # _write recorded every site's match state in the committed transaction.
            self.state_written.update(sm.site_id for sm in self.load()[0])

    @staticmethod
    def _same_content(conn: Connection, cur: tuple[str, int, str, str], docs: Sequence[_Prepared], p: _Prepared) -> bool:
        """Whether ``p`` parses to the same JSON as the current revision ``cur`` (other bytes only:
        whitespace, key order): then it is no conflicting revision."""
        if cur[0] == "chunk":
            return bool(orjson.loads(docs[cur[1]].text) == orjson.loads(p.text))
        row = conn.execute(_DOCUMENT_OF, {"row_id": cur[1]}).first()
        try:
            return row is not None and bool(orjson.loads(row.document) == orjson.loads(p.text))
        except orjson.JSONDecodeError:
            return False

    def _write(self, conn: Connection, docs: Sequence[_Prepared]) -> list[tuple[IngestResult, _Counts]]:
        """Insert ``docs`` in order inside ``conn``'s transaction (nothing is committed here).

        Outcomes are decided in memory first, in input order, from the current revisions
        stored before the chunk and those earlier in the chunk; then every advisory row goes in
        with one multi-row insert, and findings are applied document by document.
        """
        matchers, kev = self.load()
        now, strict = self.now, self.strict
        # The current revision per tracking id: ("db", row id, version) stored before this
        # chunk, or ("chunk", position, version) for a document earlier in this chunk.
        current: dict[str, tuple[str, int, str, str]] = {}
        for tids in batched(sorted({p.tracking_id for p in docs}), 500):
            for row in conn.execute(_CURRENT_OF, {"tids": tids}):
                current[row.tracking_id] = ("db", row.id, row.version, row.sha256)
        outcomes: list[tuple[Outcome, str | None]] = []
        is_current: list[bool] = []
        superseded: list[int] = []
        log = audit.Buffer()
        conflicts: dict[int, IngestResult] = {}
        all_docs, docs = docs, []
        for k, p in enumerate(all_docs):
            cur = current.get(p.tracking_id)
            if cur is not None and version_key(p.version) == version_key(cur[2]) \
                    and not self._same_content(conn, cur, docs, p):
                # The same tracking id and version with other bytes (issue 18.4): a publisher must
                # bump the version, so this is a forgery or a botched file. Keep the current one,
                # refuse this one and record both digests.
                conflicts[k] = _rejected(
                    p.source,
                    f"{p.source}: /document/tracking/version: conflicting revision: {p.tracking_id} version "
                    f"{p.version} is stored already with other content (stored sha256 {cur[3]}, this file "
                    f"sha256 {p.digest}); the stored one stays current. A corrected advisory needs a new version.",
                    p.tracking_id, p.version, len(p.deviations))
                log.add(action="advisory.conflict", **self.principal.audit_fields, object_type="advisory",
                        object_id=p.tracking_id, reason=self.reason or f"ingest from {p.source}",
                        before={"version": cur[2], "sha256": cur[3]},
                        after={"version": p.version, "sha256": p.digest, "source": _clean(p.source),
                               "outcome": "conflict"}, at=now)
                continue
            i = len(docs)
            docs.append(p)
            if cur is None:
                outcome: Outcome = "new"
            elif version_key(p.version) >= version_key(cur[2]):
                outcome = "revision"
                if cur[0] == "db":
                    superseded.append(cur[1])
                else:
                    is_current[cur[1]] = False
            else:
                outcome = "older"
            outcomes.append((outcome, cur[2] if cur is not None else None))
            is_current.append(outcome != "older")
            if outcome != "older":
                current[p.tracking_id] = ("chunk", i, p.version, p.digest)
        if superseded:
            conn.execute(_SUPERSEDE, [{"row_id": r} for r in superseded])
        rows = [
            dict(
                tracking_id=_clean(p.tracking_id),
                version=_clean(p.version),
                publisher=_clip(p.publisher, 500),
                title=_clean(p.title),
                release_date=p.release_date,
                status=p.status,
                sha256=p.digest,
                source=_clean(p.source),
                strict=strict,
                deviations=_deviation_json(p.deviations),
                document=p.text,
                current=is_current[i],
                ingested_at=now,
            )
            for i, p in enumerate(docs)
        ]
        row_ids: list[int]
        if not docs:
            row_ids = []
        elif matchers:
            row_ids = [r[0] for r in conn.execute(_INSERT_ADVISORIES, rows)]
        else:
            # No site to record findings for: the row ids are not needed, and a plain
            # executemany costs a fifth less than RETURNING them in parameter order.
            conn.execute(_INSERT_ADVISORIES_PLAIN, rows)
            row_ids = [-1] * len(docs)
        state_written = set(self.state_written)
        out = []
        for p, row_id, (outcome, before) in zip(docs, row_ids, outcomes, strict=True):
            counts = _Counts()
            if outcome != "older":
                for sm in matchers:
                    assert p.flat is not None  # prepare() flattens whenever a site is stored
                    _apply_findings(conn, sm, p.flat, row_id, p.version, kev, now, counts, log,
                                    first_of_its_id=outcome == "new")
                    if sm.site_id not in state_written:
                        _set_match_state(conn, sm.site_id, sm.content_hash, now)
                        state_written.add(sm.site_id)
            log.add(
                action="advisory.ingest",
                **self.principal.audit_fields,
                object_type="advisory",
                object_id=p.tracking_id,
                reason=self.reason or f"ingest from {p.source}",
                before={"version": before} if before is not None else None,
                after={
                    "version": p.version,
                    "outcome": outcome,
                    "sha256": p.digest,
                    "strict": strict,
                    "deviations": len(p.deviations),
                    "findings": {"created": counts.created, "updated": counts.updated, "reopened": counts.reopened_ids},
                },
                at=now,
            )
            recorded = vex.NOTHING if p.vex is None or outcome == "older" else vex.record(
                conn, p.vex, p.digest, principal=self.principal, source=p.source, reason=self.reason, now=now, log=log)
            out.append((IngestResult(p.source, outcome, p.tracking_id, p.version, None, len(p.deviations),
                                     0 if recorded.unchanged else recorded.statements), counts))
        log.flush(conn)
        stored = iter(out)
        return [(conflicts[k], _Counts()) if k in conflicts else next(stored) for k in range(len(all_docs))]


# Statements built once: constructing SQLAlchemy statements per document costs more than
# executing them on SQLite.
_BY_DIGEST = select(advisories.c.tracking_id, advisories.c.version, advisories.c.deviations).where(
    advisories.c.sha256 == bindparam("digest")
)
_CURRENT_OF = select(advisories.c.id, advisories.c.tracking_id, advisories.c.version, advisories.c.sha256).where(
    and_(advisories.c.tracking_id.in_(bindparam("tids", expanding=True)), advisories.c.current.is_(True))
)
_SUPERSEDE = update(advisories).where(advisories.c.id == bindparam("row_id")).values(current=False)
_INSERT_ADVISORIES = advisories.insert().returning(advisories.c.id, sort_by_parameter_order=True)
_INSERT_ADVISORIES_PLAIN = advisories.insert()


# --- files ----------------------------------------------------------------------------------

_SKIP_SUFFIXES = (".asc", ".sha256", ".sha512", ".sig")
_PROVIDER_FILES = frozenset({"provider-metadata.json", "service.json", "aggregator.json"})


def iter_paths(paths: Iterable[str | Path]) -> list[Path]:
    """CSAF candidate files: given files as they are; folders recursively, ``*.json`` only.

    A provider's directory layout (``<tlp>/<year>/*.json`` with ``.asc``/``.sha512`` beside,
    ROLIE feeds, ``provider-metadata.json``) is walked the same way; signature and hash files
    are not documents, and the provider's metadata and ROLIE feed files are skipped by name or
    by the ``-feed-`` naming CSAF providers use. Sorted for a deterministic order.
    """
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*.json")):
                if not f.is_file() or f.name in _PROVIDER_FILES or "-feed-" in f.name or f.name.endswith("-feed.json"):
                    continue
                out.append(f)
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return out


def read_items(paths: Sequence[Path]) -> Iterable[tuple[str, bytes]]:
    """``(source, bytes)`` pairs, reading one file at a time; unreadable files yield empty bytes
    (ingest then reports them as not JSON, naming the file)."""
    for path in paths:
        if path.name.endswith(_SKIP_SUFFIXES):
            continue
        try:
            yield str(path), path.read_bytes()
        except OSError:
            yield str(path), b""





def demote_unverified(store: Store, urls: Sequence[str], *, why: str, principal: Principal,
                      reason: str | None = None) -> list[str]:
    """Take the current advisories ingested from ``urls`` out of service (issue 18.4): a sync
    with the publisher's key found their signatures bad, so what was stored before signatures
    were checked must no longer be current nor drive findings. Their findings are deactivated;
    each demotion is one audit event naming the digest. Returns the sources demoted."""
    if not urls:
        return []
    demoted: list[str] = []
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        rows: list[Any] = []
        for chunk in batched(sorted(set(urls)), 500):
            rows += conn.execute(
                select(advisories.c.id, advisories.c.tracking_id, advisories.c.version, advisories.c.sha256,
                       advisories.c.source)
                .where(and_(advisories.c.source.in_(chunk), advisories.c.current.is_(True)))
            ).all()
        log = audit.Buffer()
        for row in rows:
            conn.execute(update(advisories).where(advisories.c.id == row.id).values(current=False))
            conn.execute(update(findings).where(findings.c.advisory_row == row.id).values(active=False))
            log.add(action="advisory.demote", **principal.audit_fields, object_type="advisory", object_id=row.tracking_id,
                    reason=reason or why, before={"version": row.version, "sha256": row.sha256, "current": True},
                    after={"current": False, "why": why, "source": row.source}, at=now)
            demoted.append(row.source)
        log.flush(conn)
    return demoted
