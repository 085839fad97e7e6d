"""``advisories sync``: keep the database in step with a CSAF provider.

One run: read the provider's listings (``io.csaf.sync.discover``), decide per document whether
it changed since the last successful run, download and verify what did (hashes, and the
OpenPGP signature when the user gave the publisher's key), hand each verified document to the
ingest service, and only then record it as synced, in its own transaction. Anything that fails
(404, wrong hash, bad signature, dropped connection, rejected by ingest) is reported and is not
recorded, so the next run tries it again; everything that succeeded is not fetched again.

If the process dies between ingest and the state write, the next run downloads that document
again and ingest reports it ``unchanged``: ingest is idempotent, so no state is lost or doubled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlalchemy import func, select

from zonewarden.errors import StoreError
from zonewarden.io.csaf.sync import (
    DEFAULT_OPTIONS,
    Discovery,
    Downloaded,
    Failure,
    Fetcher,
    Known,
    RemoteDocument,
    SignatureVerifier,
    SyncOptions,
    discover,
    download,
    origin_of,
)
from zonewarden.services import audit
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.sync_tables import csaf_sync_files, csaf_sync_sources

ACTION = "advisories.sync"
OUTCOMES = ("new", "revision", "unchanged", "older", "rejected")
# Verified documents handed to ingest per call; bounded in count and bytes.
INGEST_BATCH = 32
INGEST_BATCH_BYTES = 16 * 1024 * 1024


class IngestFn(Protocol):
    """The ingest service's entry point (``services.advisories.ingest_bytes``)."""

    def __call__(
        self,
        store: Store,
        items: Iterable[tuple[str, bytes]],
        *,
        strict: bool = False,
        principal: Principal,
        reason: str | None = None,
        progress: Any = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one listed document in this run."""

    url: str
    action: str
    """``unchanged`` (not downloaded, or the server/hash said so), ``ingested``, or ``failed``."""
    outcome: str | None = None
    """The ingest outcome for ``ingested`` (and ``rejected`` failures)."""
    tracking_id: str | None = None
    version: str | None = None
    stage: str | None = None
    """For failures: ``listing``, ``download``, ``hash``, ``signature``, ``ingest``."""
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SyncReport:
    """The result of one sync run. ``failed`` non-empty means exit code 1."""

    url: str
    kind: str
    discovered: int
    """Documents the listings name."""
    unchanged: int
    """Documents not fetched again, or fetched and found identical (HTTP 304 / same SHA-512)."""
    downloaded: int
    """Documents fetched in this run that matched their published hashes and, with a key, their
    signature (ingest comes after, and may still reject them)."""
    ingested: dict[str, int]
    """Ingest outcomes of downloaded documents: new, revision, unchanged, older (rejected are failures)."""
    failed: tuple[FileResult, ...]
    """Everything that went wrong, by URL; retried on the next run."""
    files: tuple[FileResult, ...] = field(repr=False)
    """Every listed document, sorted by URL."""
    signatures_checked: bool = False
    vex_statements: int = 0
    """VEX statements recorded from the CSAF VEX documents ingested (services.vex.record)."""
    vex_closed: int = 0
    """Findings that recorded VEX closed as not affected after those ingests."""

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "unchanged": self.unchanged,
            "downloaded": self.downloaded,
            "ingested": {k: self.ingested.get(k, 0) for k in OUTCOMES if k != "rejected"},
            "failed": len(self.failed),
            "signatures_checked": self.signatures_checked,
            "vex_statements": self.vex_statements,
            "vex_closed": self.vex_closed,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            **self.counts(),
            "failures": [
                {"url": f.url, "stage": f.stage, "reason": f.reason} for f in self.failed
            ],
        }


@dataclass(frozen=True, slots=True)
class SourceState:
    url: str
    kind: str
    last_sync_at: dt.datetime
    last_report: dict[str, Any]
    files: int


def _default_ingest() -> IngestFn:
    from zonewarden.services.advisories import ingest_bytes

    return ingest_bytes  # type: ignore[return-value]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def known_files(store: Store, url: str) -> dict[str, tuple[Known, dict[str, Any]]]:
    """The stored state of every document synced from ``url``: {document url: (Known, row)}."""
    with store.read() as conn:
        sid = conn.execute(select(csaf_sync_sources.c.id).where(csaf_sync_sources.c.url == url)).scalar()
        if sid is None:
            return {}
        rows = conn.execute(select(csaf_sync_files).where(csaf_sync_files.c.source_id == sid)).mappings().all()
    return {
        r["url"]: (Known(r["updated"], r["etag"], r["last_modified"], r["sha512"], r["sha256"]), dict(r))
        for r in rows
    }


def sources(store: Store) -> list[SourceState]:
    """Every URL synced so far, with the counts of its last run, sorted by URL."""

    with store.read() as conn:
        counts: dict[int, int] = {
            sid: n for sid, n in conn.execute(
                select(csaf_sync_files.c.source_id, func.count()).group_by(csaf_sync_files.c.source_id)
            ).all()
        }
        rows = conn.execute(select(csaf_sync_sources).order_by(csaf_sync_sources.c.url)).mappings().all()
    return [
        SourceState(r["url"], r["kind"], r["last_sync_at"], r["last_report"], counts.get(r["id"], 0))
        for r in rows
    ]


def _source_id(store: Store, url: str, kind: str) -> int:
    with store.transaction() as conn:
        sid = conn.execute(select(csaf_sync_sources.c.id).where(csaf_sync_sources.c.url == url)).scalar()
        if sid is None:
            key = conn.execute(
                csaf_sync_sources.insert().values(url=url, kind=kind, last_sync_at=_now(), last_report={})
            ).inserted_primary_key
            assert key is not None  # an INSERT always has one
            sid = key[0]
    return int(sid)


def _needs_fetch(doc: RemoteDocument, state: tuple[Known, dict[str, Any]] | None, strict: bool) -> bool:
    if state is None:
        return True
    known, row = state
    if row["status"] == "rejected" and row["strict"] and not strict:
        return True  # rejected by strict mode earlier; lenient mode may accept it now
    # With a provider time that equals the stored one the document has not changed (7.1.18:
    # changes.csv / ROLIE `updated` move whenever a document does). Without a time, ask the
    # server (conditional GET) and compare hashes.
    return doc.updated is None or doc.updated != known.updated


def _touch_state(store: Store, source_id: int, d: Downloaded) -> None:
    """A document found unchanged: remember the provider's newer time and the new validators."""
    where = (csaf_sync_files.c.source_id == source_id) & (csaf_sync_files.c.url == d.doc.url)
    with store.transaction() as conn:
        conn.execute(
            csaf_sync_files.update().where(where).values(
                updated=d.doc.updated, etag=d.etag, last_modified=d.last_modified, synced_at=_now()
            )
        )


def sync(
    store: Store,
    url: str,
    *,
    ingest: IngestFn | None = None,
    key: bytes | None = None,
    strict: bool = False,
    full: bool = False,
    options: SyncOptions = DEFAULT_OPTIONS,
    principal: Principal,
    reason: str | None = None,
    client: httpx.Client | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SyncReport:
    """Sync the CSAF provider at ``url`` into ``store``; see the module docstring.

    ``ingest`` defaults to ``services.advisories.ingest_bytes``. ``key`` is the publisher's
    OpenPGP public key; without it signatures are not checked (the report says so).
    ``full`` ignores what earlier runs recorded and fetches and verifies every listed document
    again (for instance after adding ``key``); ingest leaves unchanged documents as they are.
    ``reason`` is recorded with each ingested revision (default: "advisories sync from URL").
    ``progress(stage, done, total)`` is called as documents are processed.
    Raises ``InputError`` when ``url`` is not a provider listing (exit code 2).
    """
    from zonewarden.services import identity

    identity.authorize(store, principal, "advisory.ingest")
    ingest = ingest or _default_ingest()
    verifier = SignatureVerifier(key) if key is not None else None
    try:
        with Fetcher({origin_of(url)}, options, client=client) as fetcher:
            found = discover(url, fetcher, options)
            return _run(store, url, found, fetcher, ingest, verifier, strict, full, options, principal,
                        reason or f"advisories sync from {url}", progress)
    finally:
        if verifier is not None:
            verifier.close()


def _run(
    store: Store,
    url: str,
    found: Discovery,
    fetcher: Fetcher,
    ingest: IngestFn,
    verifier: SignatureVerifier | None,
    strict: bool,
    full: bool,
    options: SyncOptions,
    principal: Principal,
    reason: str,
    progress: Callable[[str, int, int], None] | None,
) -> SyncReport:
    source_id = _source_id(store, url, found.kind)
    stored = known_files(store, url)
    state = {} if full else stored
    results: dict[str, FileResult] = {}
    to_fetch: list[RemoteDocument] = []
    for doc in found.documents:
        if _needs_fetch(doc, state.get(doc.url), strict):
            to_fetch.append(doc)
        else:
            results[doc.url] = FileResult(doc.url, "unchanged")
    listing_failures = [FileResult(u, "failed", stage="listing", reason=r) for u, r in found.problems]

    downloaded = 0
    ingested: Counter[str] = Counter()
    vex: Counter[str] = Counter()  # statements recorded, findings closed (reported by ingest)
    batch: list[Downloaded] = []
    batch_bytes = 0
    total = len(to_fetch)
    for i, got in enumerate(_fetch_all(fetcher, to_fetch, state, verifier, options)):
        if progress:
            progress("download", i + 1, total)
        if isinstance(got, Failure):
            results[got.url] = FileResult(got.url, "failed", stage=got.stage, reason=got.reason)
            continue
        if got.not_modified:
            _touch_state(store, source_id, got)
            results[got.doc.url] = FileResult(got.doc.url, "unchanged")
            continue
        downloaded += 1
        batch.append(got)
        batch_bytes += len(got.content)
        if len(batch) >= INGEST_BATCH or batch_bytes >= INGEST_BATCH_BYTES:
            results.update(_ingest_batch(store, source_id, batch, ingest, strict, principal, reason, ingested, vex))
            batch, batch_bytes = [], 0
    results.update(_ingest_batch(store, source_id, batch, ingest, strict, principal, reason, ingested, vex))
    if verifier is not None:
        # Stored before signatures were checked, now failing the check: no longer current (18.4).
        from zonewarden.services.advisories import demote_unverified

        bad = [u for u, r in results.items() if r.action == "failed" and r.stage == "signature"]
        for u in demote_unverified(store, bad, why="its OpenPGP signature failed the check with --key",
                                   principal=principal, reason=reason):
            if u in results:
                r = results[u]
                results[u] = dataclasses.replace(
                    r, reason=f"{r.reason}; the revision stored earlier from it is no longer current")

    files = tuple(sorted(results.values(), key=lambda r: r.url))
    failed = tuple(sorted([r for r in files if r.action == "failed"] + listing_failures, key=lambda r: r.url))
    report = SyncReport(
        url=url,
        kind=found.kind,
        discovered=len(found.documents),
        unchanged=sum(1 for r in files if r.action == "unchanged"),
        downloaded=downloaded,
        ingested={k: ingested.get(k, 0) for k in OUTCOMES if k != "rejected"},
        failed=failed,
        files=files,
        signatures_checked=verifier is not None,
        vex_statements=vex["statements"],
        vex_closed=vex["closed"],
    )
    with store.transaction() as conn:
        # A failed document keeps no state, so the next run fetches it whatever the listing
        # says (this matters after --full, which re-checks documents stored earlier). Rejected
        # documents keep theirs on purpose, see _ingest_batch.
        retry = [r.url for r in files if r.action == "failed" and r.outcome != "rejected" and r.url in stored]
        for chunk in range(0, len(retry), 500):
            conn.execute(csaf_sync_files.delete().where(
                (csaf_sync_files.c.source_id == source_id) & csaf_sync_files.c.url.in_(retry[chunk:chunk + 500])))
        conn.execute(
            csaf_sync_sources.update().where(csaf_sync_sources.c.id == source_id).values(
                kind=found.kind, last_sync_at=_now(), last_report=report.as_json()
            )
        )
        # One audit event per run; each advisory's own revision is audited by ingest.
        audit.append(conn, action=ACTION, **principal.audit_fields, object_type="csaf-source",
                     object_id=url[:200],
                     after=report.counts())
    return report


def _ingest_batch(
    store: Store,
    source_id: int,
    batch: list[Downloaded],
    ingest: IngestFn,
    strict: bool,
    principal: Principal,
    reason: str,
    ingested: Counter[str],
    vex: Counter[str],
) -> dict[str, FileResult]:
    """Ingest verified documents, then record each one's state.

    Several documents per ingest call (ingest commits each document on its own) spare its
    per-call set-up; the batch's state rows are then written in one transaction. A crash in
    between only means those documents are fetched again next time and ingest finds them
    ``unchanged``.
    """
    if not batch:
        return {}
    try:
        rep = ingest(store, [(d.doc.url, d.content) for d in batch], strict=strict, principal=principal, reason=reason)
        results = list(getattr(rep, "results", []) or [])
        if [str(r.source) for r in results] != [d.doc.url for d in batch]:
            raise RuntimeError(f"ingest returned {len(results)} results for {len(batch)} documents")
    except StoreError:
        raise  # the database, not the document: every further file would fail the same way
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the run; reported per file
        if len(batch) > 1:
            # Find the document that breaks ingest: the others go through one by one.
            out: dict[str, FileResult] = {}
            for d in batch:
                out.update(_ingest_batch(store, source_id, [d], ingest, strict, principal, reason, ingested, vex))
            return out
        url = batch[0].doc.url
        return {url: FileResult(url, "failed", stage="ingest", reason=f"{type(exc).__name__}: {exc}")}
    vex["statements"] += int(getattr(rep, "vex_statements", 0) or 0)
    vex["closed"] += int(getattr(rep, "vex_closed", 0) or 0)

    out = {}
    rows = []
    for d, res in zip(batch, results, strict=True):
        outcome = str(res.outcome)
        url = d.doc.url
        if outcome == "rejected":
            # Remembered so that an unchanged rejected document is not fetched on every run; it
            # is fetched again when the provider changes it, or when strict mode rejected it and
            # a later run is lenient.
            out[url] = FileResult(url, "failed", outcome=outcome, tracking_id=res.tracking_id, version=res.version,
                                  stage="ingest", reason=res.error or "rejected")
            status = "rejected"
        else:
            ingested[outcome] += 1
            out[url] = FileResult(url, "ingested", outcome=outcome, tracking_id=res.tracking_id, version=res.version)
            status = "ingested"
        rows.append((d, {
            "updated": d.doc.updated,
            "etag": d.etag,
            "last_modified": d.last_modified,
            "sha512": d.sha512,
            "sha256": d.sha256 or None,
            "status": status,
            "strict": strict,
            "outcome": outcome,
            "tracking_id": res.tracking_id,
            "version": res.version,
            "error": res.error[:4000] if status == "rejected" and res.error else None,
            "synced_at": _now(),
        }))
    with store.transaction() as conn:
        for d, values in rows:
            where = (csaf_sync_files.c.source_id == source_id) & (csaf_sync_files.c.url == d.doc.url)
            if conn.execute(select(csaf_sync_files.c.url).where(where)).first() is None:
                conn.execute(csaf_sync_files.insert().values(source_id=source_id, url=d.doc.url, **values))
            else:
                conn.execute(csaf_sync_files.update().where(where).values(**values))
    return out


def _fetch_all(
    fetcher: Fetcher,
    docs: list[RemoteDocument],
    state: dict[str, tuple[Known, dict[str, Any]]],
    verifier: SignatureVerifier | None,
    options: SyncOptions,
) -> Iterator[Downloaded | Failure]:
    """Download and verify in parallel, yield in listing order (ingest and state writes stay
    sequential). Signature checks run here too: one gpg process per document is the slowest
    step of a first sync with ``--key``."""

    def one(doc: RemoteDocument) -> Downloaded | Failure:
        got = fetch(doc)
        if verifier is not None and isinstance(got, Downloaded) and not got.not_modified:
            problem = verifier.verify(got.content, got.signature or b"")
            if problem is not None:
                return Failure(doc.url, "signature", problem)
        return got

    def fetch(doc: RemoteDocument) -> Downloaded | Failure:
        st = state.get(doc.url)
        known = st[0] if st and st[1]["status"] == "ingested" else None
        if known is not None and doc.updated is not None:
            # The listing already says this document changed: ask unconditionally. A 304 here
            # would only mean the server's one-second Last-Modified missed a quick second edit;
            # identical bytes are still recognised by their SHA-512 and not ingested again.
            known = Known(known.updated, None, None, known.sha512, known.sha256)
        return download(fetcher, doc, known, want_signature=verifier is not None, options=options)

    if options.workers <= 1 or len(docs) <= 1:
        yield from map(one, docs)
        return
    # A bounded window of submitted downloads: at most a few documents wait in memory for
    # the (slower, sequential) ingest, however long the feed.
    window = options.workers * 2
    with ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="csaf-sync") as pool:
        pending: deque[Future[Downloaded | Failure]] = deque()
        todo = iter(docs)
        for doc in todo:
            pending.append(pool.submit(one, doc))
            if len(pending) >= window:
                break
        while pending:
            yield pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(one, nxt))
