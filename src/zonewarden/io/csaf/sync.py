"""Finding and downloading the documents of a CSAF 2.0 provider (CSAF 2.0 section 7).

Three layouts are understood, and the URL of any of them is accepted:

* ``provider-metadata.json`` (7.1.7 / 7.1.20): its ``distributions`` point at ROLIE feeds
  (``rolie.feeds[].url``) and/or directories (``directory_url``);
* a ROLIE feed (7.1.21): ``feed.entry[]`` with ``link`` rel ``self`` (the document), ``hash``
  (``.sha256`` / ``.sha512``) and ``signature`` (``.asc``), and an ``updated`` time per entry;
* a directory (7.1.14 - 7.1.18): ``changes.csv`` (rows ``"path","timestamp"``) and/or
  ``index.txt`` (one path per line), documents beside their ``.sha512`` / ``.sha256`` / ``.asc``.

This module does network I/O but keeps no state: the caller (``services.csaf_sync``) says what
it already holds and decides what to store. Nothing here trusts the remote side: every
request goes only to allowed origins, through bounded retries with a per-file size cap, and
every failure is returned as data naming the URL and what went wrong.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import orjson

from zonewarden.errors import InputError, SourceUnavailable

# CSAF 2.0 Appendix C: a document larger than 15 MiB need not be processed.
MAX_DOCUMENT_BYTES = 15 * 1024 * 1024
# Index files grow with the provider's history (CISA's full ROLIE feed is a few MiB).
MAX_INDEX_BYTES = 64 * 1024 * 1024
# A hash file is one line; a detached armoured signature a few KiB.
MAX_SIDECAR_BYTES = 64 * 1024

WELL_KNOWN = "/.well-known/csaf/provider-metadata.json"
_YEAR_FOLDER = re.compile(r"^\d{4}/")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """How politely and how defensively to talk to the provider."""

    timeout: float = 30.0
    """Seconds for connecting and for each read (httpx timeout)."""
    retries: int = 3
    """Further attempts after a failed one (connection errors, dropped bodies, 5xx, 429)."""
    backoff: float = 1.0
    """Seconds before the first retry; doubled for each further retry, capped at 30 s."""
    max_document_bytes: int = MAX_DOCUMENT_BYTES
    max_index_bytes: int = MAX_INDEX_BYTES
    workers: int = 4
    """Parallel downloads. Ingest and state writes stay sequential in the caller."""
    user_agent: str = "zonewarden-csaf-sync"
    proxy: str | None = None
    """An HTTP(S) proxy URL. Proxy environment variables are ignored on purpose: the user
    names the one host to talk to, and a stray variable must not reroute that."""


DEFAULT_OPTIONS = SyncOptions()


class FetchError(SourceUnavailable):
    """One URL could not be fetched; ``reason`` is for the report."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, transient: bool = False) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        self.transient = transient
        """Network trouble or a server error that outlasted the retries: try again later."""
        super().__init__(f"{url}: {reason}")


class ProviderUnavailable(SourceUnavailable):
    """The provider's listing could not be fetched for now (network, 5xx): nothing was synced.

    Not the user's mistake, so not an ``InputError``; ``advisories sync`` exits with 1, like
    any other failed download, and the next run starts over.
    """


# --- origins and URL mapping ------------------------------------------------------------------

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _dirname(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rsplit("/", 1)[0] + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True, slots=True)
class Rebase:
    """Read links under ``published`` from ``served`` instead.

    A feed names its own published location (ROLIE ``link rel=self``, provider metadata
    ``canonical_url``) and writes absolute links under it. When the same files are served from
    elsewhere (a mirror, an offline copy, the test server on 127.0.0.1 serving CISA's feed whose
    links point to raw.githubusercontent.com), links under the published folder are mapped to
    the folder the index was actually fetched from. This only ever narrows where requests go.
    """

    published: str
    served: str

    def apply(self, url: str) -> str:
        if url.startswith(self.published):
            return self.served + url[len(self.published) :]
        return url


def make_rebase(published_url: str | None, fetched_url: str) -> Rebase | None:
    if not published_url or not isinstance(published_url, str):
        return None
    published, served = _dirname(published_url), _dirname(fetched_url)
    if published == served or not urlsplit(published).scheme:
        return None
    return Rebase(published, served)


# --- HTTP --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int
    """200, or 304 for a conditional request whose file did not change."""
    content: bytes
    etag: str | None
    last_modified: str | None


class Fetcher:
    """GET with an origin allow-list, bounded retries with backoff, and a size cap.

    Redirects are followed by hand (at most 5) so that each hop is checked against the
    allow-list: an allowed host must not be able to send us to any other host.
    """

    def __init__(
        self,
        allowed: Iterable[Origin],
        options: SyncOptions = DEFAULT_OPTIONS,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.allowed: set[Origin] = set(allowed)
        self.options = options
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=False,
            headers={"User-Agent": options.user_agent},
            trust_env=False,  # no proxy or netrc surprises: the user named the host to talk to
            proxy=options.proxy,
        )
        self._sleep = sleep

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_origin(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(url, f"scheme {parts.scheme or '(none)'!r} is not fetched; only http(s)")
        if origin_of(url) not in self.allowed:
            allowed = ", ".join(sorted(f"{s}://{h}:{p}" for s, h, p in self.allowed))
            raise FetchError(
                url,
                f"host not allowed (allowed: {allowed}); zonewarden only follows links to the "
                "host you gave and hosts named in the provider metadata",
            )

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                return self._get_following(url, headers, max_bytes)
            except _Retryable as exc:
                if attempt >= self.options.retries:
                    raise FetchError(url, f"{exc.reason} (gave up after {attempt + 1} attempts)",
                                     status=exc.status, transient=True) from None
                delay = exc.retry_after if exc.retry_after is not None else self.options.backoff * (2**attempt)
                self._sleep(min(delay, 30.0))
                attempt += 1

    def _get_following(self, url: str, headers: dict[str, str], max_bytes: int) -> Fetched:
        current = url
        for _hop in range(6):
            self.check_origin(current)
            try:
                with self.client.stream("GET", current, headers=headers) as resp:
                    if resp.status_code in (301, 302, 303, 307, 308):
                        location = resp.headers.get("Location")
                        if not location:
                            raise FetchError(current, f"HTTP {resp.status_code} without a Location")
                        current = urljoin(current, location)
                        continue
                    if resp.status_code == 304:
                        return Fetched(current, 304, b"", resp.headers.get("ETag"),
                                       resp.headers.get("Last-Modified"))
                    if resp.status_code in RETRY_STATUSES:
                        raise _Retryable(f"HTTP {resp.status_code}", resp.status_code,
                                         _retry_after(resp.headers.get("Retry-After")))
                    if resp.status_code != 200:
                        reason = "not found (HTTP 404)" if resp.status_code == 404 else f"HTTP {resp.status_code}"
                        raise FetchError(current, reason, status=resp.status_code)
                    declared = resp.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError(current, f"{int(declared):,} bytes exceeds the limit of {max_bytes:,}")
                    buf = bytearray()
                    for chunk in resp.iter_bytes():
                        buf += chunk
                        if len(buf) > max_bytes:
                            raise FetchError(current, f"more than {max_bytes:,} bytes; exceeds the limit")
                    return Fetched(current, 200, bytes(buf), resp.headers.get("ETag"),
                                   resp.headers.get("Last-Modified"))
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})") from exc
            except (httpx.TransportError, httpx.DecodingError) as exc:
                # Includes a connection dropped mid-body (RemoteProtocolError: "peer closed
                # connection without sending complete message body").
                raise _Retryable(f"connection failed: {exc or type(exc).__name__}") from exc
        raise FetchError(url, "more than 5 redirects")


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None) -> None:
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(reason)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        stamp = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, stamp.timestamp() - time.time())


# --- discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteDocument:
    """One CSAF document a provider lists."""

    url: str
    """Where it is downloaded from (after any :class:`Rebase`)."""
    updated: str | None
    """When the provider says it last changed (ROLIE ``updated``, changes.csv timestamp), as
    written; ``None`` when the listing gives no time (index.txt only)."""
    hash_urls: tuple[str, ...]
    """``.sha512`` / ``.sha256`` files to check it against."""
    signature_url: str | None
    """The detached OpenPGP signature (``.asc``)."""


@dataclass(frozen=True, slots=True)
class Discovery:
    """What a provider lists, and the problems met while reading its listings."""

    url: str
    kind: str
    """``provider-metadata``, ``rolie`` or ``directory``."""
    documents: tuple[RemoteDocument, ...]
    """Sorted by URL, each URL once."""
    problems: tuple[tuple[str, str], ...]
    """(url, reason) for listings or entries that could not be used; they count as failures."""
    allowed: frozenset[Origin]


def _sidecars(url: str) -> tuple[tuple[str, ...], str]:
    return (url + ".sha512", url + ".sha256"), url + ".asc"


class _Discoverer:
    def __init__(self, fetcher: Fetcher, options: SyncOptions) -> None:
        self.fetcher = fetcher
        self.options = options
        self.docs: dict[str, RemoteDocument] = {}
        self.problems: list[tuple[str, str]] = []

    def add(self, doc: RemoteDocument) -> None:
        known = self.docs.get(doc.url)
        if known is None or (known.updated is None and doc.updated is not None):
            self.docs[doc.url] = doc

    def fetch_json(self, url: str) -> Any:
        got = self.fetcher.get(url, max_bytes=self.options.max_index_bytes)
        try:
            return orjson.loads(got.content)
        except orjson.JSONDecodeError as exc:
            raise FetchError(url, f"not well-formed JSON: {exc}") from None

    # ROLIE feed (7.1.21)
    def rolie(self, url: str, data: Any | None = None, rebase: Rebase | None = None) -> None:
        if data is None:
            data = self.fetch_json(url)
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, dict) or not isinstance(feed.get("entry", []), list):
            raise FetchError(url, "not a ROLIE feed: expected an object with /feed and an array /feed/entry")
        self_href = next(
            (ln.get("href") for ln in feed.get("link") or [] if isinstance(ln, dict) and ln.get("rel") == "self"),
            None,
        )
        own = make_rebase(self_href, url) or rebase
        for i, entry in enumerate(feed.get("entry") or []):
            try:
                self.add(self._rolie_entry(url, i, entry, own))
            except FetchError as exc:
                self.problems.append((exc.url, exc.reason))

    def _rolie_entry(self, feed_url: str, i: int, entry: Any, rebase: Rebase | None) -> RemoteDocument:
        where = f"{feed_url}#/feed/entry/{i}"
        if not isinstance(entry, dict):
            raise FetchError(where, "entry is not an object")

        def resolve(href: Any) -> str:
            if not isinstance(href, str) or not href:
                raise FetchError(where, "link without an href")
            absolute = urljoin(feed_url, href)
            return rebase.apply(absolute) if rebase else absolute

        doc_url = None
        hashes: list[str] = []
        signature = None
        for link in entry.get("link") or []:
            if not isinstance(link, dict):
                continue
            rel = link.get("rel")
            if rel == "self":
                doc_url = resolve(link.get("href"))
            elif rel == "hash":
                hashes.append(resolve(link.get("href")))
            elif rel == "signature":
                signature = resolve(link.get("href"))
        content = entry.get("content")
        if doc_url is None and isinstance(content, dict) and content.get("src"):
            doc_url = resolve(content["src"])
        if doc_url is None:
            raise FetchError(where, "entry has no link rel=self and no content/src: no document to fetch")
        updated = entry.get("updated")
        if not hashes:
            # 7.1.21 wants hash links; a feed without them still has the files beside the
            # document in the directory layout, so look there (a missing file is reported).
            hashes = [doc_url + ".sha512"]
        return RemoteDocument(
            url=doc_url,
            updated=updated if isinstance(updated, str) else None,
            hash_urls=tuple(sorted(hashes, key=_hash_rank)),
            signature_url=signature or doc_url + ".asc",
        )

    # Directory (7.1.14 - 7.1.18)
    def directory(self, base: str) -> None:
        if not base.endswith("/"):
            base += "/"
        listed = 0
        missing: list[str] = []
        for name in ("changes.csv", "index.txt"):
            url = urljoin(base, name)
            try:
                got = self.fetcher.get(url, max_bytes=self.options.max_index_bytes)
            except FetchError as exc:
                if exc.status == 404:
                    missing.append(name)
                    continue
                raise
            text = got.content.decode("utf-8", errors="replace")
            rows = _changes_rows(text) if name == "changes.csv" else _index_rows(text)
            for path, updated in rows:
                doc_url = resolve_listed_path(base, path)
                if doc_url is None:
                    self.problems.append((url, f"listed path {path!r} is not a .json file below the folder"))
                    continue
                hashes, sig = _sidecars(doc_url)
                self.add(RemoteDocument(doc_url, updated, hashes, sig))
                listed += 1
        if len(missing) == 2:
            raise FetchError(base, "neither changes.csv nor index.txt found: not a CSAF directory (section 7.1.17/7.1.18)",
                             status=404)

    # provider-metadata.json (7.1.20)
    def provider_metadata(self, url: str, data: Any) -> None:
        dists = data.get("distributions")
        if not isinstance(dists, list) or not dists:
            raise FetchError(url, "provider metadata has no /distributions: nothing to follow")
        rebase = make_rebase(data.get("canonical_url"), url)
        targets: list[tuple[str, str]] = []
        for i, dist in enumerate(dists):
            if not isinstance(dist, dict):
                self.problems.append((f"{url}#/distributions/{i}", "not an object"))
                continue
            feeds = (dist.get("rolie") or {}).get("feeds") if isinstance(dist.get("rolie"), dict) else None
            if isinstance(feeds, list) and feeds:
                # A distribution with a ROLIE feed lists the same documents as its directory;
                # the feed carries per-entry times and hash links, so it is preferred.
                for j, feed in enumerate(feeds):
                    furl = feed.get("url") if isinstance(feed, dict) else None
                    if isinstance(furl, str):
                        targets.append(("rolie", urljoin(url, furl)))
                    else:
                        self.problems.append((f"{url}#/distributions/{i}/rolie/feeds/{j}", "feed without url"))
            elif isinstance(dist.get("directory_url"), str):
                targets.append(("directory", urljoin(url, dist["directory_url"])))
            else:
                self.problems.append((f"{url}#/distributions/{i}", "neither rolie.feeds nor directory_url"))
        for _kind, target in targets:
            target = rebase.apply(target) if rebase else target
            # Hosts the provider itself names are trusted for its documents (the brief's rule:
            # only the given host, plus hosts in the provider metadata).
            self.fetcher.allowed.add(origin_of(target))
        for kind, target in targets:
            target = rebase.apply(target) if rebase else target
            try:
                if kind == "rolie":
                    self.rolie(target, rebase=rebase)
                else:
                    self.directory(target)
            except FetchError as exc:
                self.problems.append((exc.url, exc.reason))


def _hash_rank(url: str) -> tuple[int, str]:
    return (0 if url.endswith(".sha512") else 1 if url.endswith(".sha256") else 2, url)


def _changes_rows(text: str) -> list[tuple[str, str | None]]:
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip():
            continue
        rows.append((row[0].strip(), row[1].strip() if len(row) > 1 and row[1].strip() else None))
    return rows


def _index_rows(text: str) -> list[tuple[str, str | None]]:
    return [(line.strip(), None) for line in text.splitlines() if line.strip()]


def resolve_listed_path(base: str, path: str) -> str | None:
    """The URL of a path listed in a directory's index.txt / changes.csv.

    CSAF 7.1.17/7.1.18 list paths relative to the folder holding the index (``2023/x.json``).
    CISA's feed writes them from its repository root instead
    (``csaf_files/OT/white/2023/x.json`` in ``.../csaf_files/OT/white/index.txt``). When a path
    does not start with a year folder but its leading segments repeat the folder's trailing
    segments and what remains does start with one, the repeated part is dropped. Paths that
    climb out of the folder, absolute URLs and non-JSON files are refused (``None``).
    """
    if "://" in path or path.startswith("/") or not path.endswith(".json"):
        return None
    segments = path.split("/")
    if ".." in segments or "." in segments:
        return None
    if not _YEAR_FOLDER.match(path):
        base_segments = [s for s in urlsplit(base).path.split("/") if s]
        for n in range(min(len(base_segments), len(segments) - 1), 0, -1):
            if base_segments[-n:] == segments[:n] and _YEAR_FOLDER.match("/".join(segments[n:])):
                path = "/".join(segments[n:])
                break
    return urljoin(base, path)


def discover(url: str, fetcher: Fetcher, options: SyncOptions = DEFAULT_OPTIONS) -> Discovery:
    """Read the listings at ``url`` and return every document they name.

    Raises :class:`InputError` when ``url`` is not something a provider publishes (exit 2),
    :class:`ProviderUnavailable` when it cannot be reached for now (exit 1); problems with
    individual feeds or entries are returned in ``Discovery.problems``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r} is not an http(s) URL; give the URL of provider-metadata.json, "
                         "a ROLIE feed, or a folder with index.txt / changes.csv")
    d = _Discoverer(fetcher, options)
    path = parts.path
    kind = "directory"
    try:
        if path in ("", "/"):
            # CSAF 7.1.8: a provider's metadata is at /.well-known/csaf/provider-metadata.json.
            wk = urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN, "", ""))
            try:
                data = d.fetch_json(wk)
            except FetchError as exc:
                if exc.status != 404:
                    raise
                d.directory(urlunsplit((parts.scheme, parts.netloc, "/", "", "")))
            else:
                kind = "provider-metadata"
                _json_listing(d, wk, data)
        elif path.endswith(".json"):
            data = d.fetch_json(url)
            kind = _json_listing(d, url, data)
        elif path.endswith("/index.txt") or path.endswith("/changes.csv"):
            d.directory(_dirname(url))
        else:
            d.directory(url)
    except FetchError as exc:
        if exc.transient:
            raise ProviderUnavailable(f"cannot read {exc.url}: {exc.reason}") from None
        raise InputError(f"cannot read {exc.url}: {exc.reason}") from None
    docs = tuple(sorted(d.docs.values(), key=lambda doc: doc.url))
    return Discovery(url, kind, docs, tuple(sorted(set(d.problems))), frozenset(fetcher.allowed))


def _json_listing(d: _Discoverer, url: str, data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("feed"), dict):
        d.rolie(url, data)
        return "rolie"
    if isinstance(data, dict) and ("distributions" in data or "metadata_version" in data):
        d.provider_metadata(url, data)
        return "provider-metadata"
    if isinstance(data, dict) and isinstance(data.get("document"), dict):
        raise FetchError(url, "this is a CSAF document, not a listing; use `zonewarden advisories ingest` "
                              "for single files")
    raise FetchError(url, "neither provider metadata (/distributions) nor a ROLIE feed (/feed)")


# --- downloading one document ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Known:
    """What the last successful sync stored about a document."""

    updated: str | None
    etag: str | None
    last_modified: str | None
    sha512: str | None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Downloaded:
    doc: RemoteDocument
    content: bytes
    """Empty when ``not_modified``."""
    not_modified: bool
    """The server answered 304, or the bytes equal the last verified ones."""
    etag: str | None
    last_modified: str | None
    sha512: str
    sha256: str
    hash_checked: tuple[str, ...] = ()
    """Which published hashes were compared (``sha512``, ``sha256``)."""
    signature: bytes | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    url: str
    """The document URL the failure is about."""
    stage: str
    """``listing``, ``download``, ``hash``, ``signature`` or ``ingest``."""
    reason: str


_BSD_DIGEST = re.compile(r"^SHA(?:2-)?(256|512) ?\(.*\) ?= ?([0-9A-Fa-f]+)\s*$")


def published_digest(text: bytes, algo: str, url: str) -> str:
    """The hex digest in a ``.sha256`` / ``.sha512`` file.

    CSAF 2.0 (7.1.7) shows ``sha512sum`` output, ``<hex>  <filename>`` (``*<filename>`` in
    binary mode); the bare hex digest and the BSD form ``SHA512 (<filename>) = <hex>`` are
    accepted too, since providers produce them with the tools at hand.
    """
    want = {"sha256": 64, "sha512": 128}[algo]
    line = text.decode("ascii", errors="replace").strip()
    bsd = _BSD_DIGEST.match(line.splitlines()[0]) if line else None
    digest = bsd.group(2) if bsd and bsd.group(1) == algo[3:] else (line.split() or [""])[0]
    if len(digest) != want or not _HEX.match(digest):
        raise FetchError(url, f"not a {algo} file: expected {want} hex digits first")
    return digest.lower()


def download(
    fetcher: Fetcher,
    doc: RemoteDocument,
    known: Known | None,
    *,
    want_signature: bool,
    options: SyncOptions = DEFAULT_OPTIONS,
) -> Downloaded | Failure:
    """Fetch one document and check it against its published hashes.

    With ``known`` (the last verified state) the request is conditional (ETag /
    If-Modified-Since); a 304, or bytes whose SHA-512 equals the stored one, come back as
    ``not_modified``. A document with no published hash at all fails: without one a corrupted
    or truncated copy could not be told from the real one.
    """
    try:
        got = fetcher.get(
            doc.url,
            max_bytes=options.max_document_bytes,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
    except FetchError as exc:
        return Failure(doc.url, "download", exc.reason)
    if got.status == 304 and known and known.sha512:
        return Downloaded(doc, b"", True, got.etag or known.etag, got.last_modified or known.last_modified,
                          known.sha512, known.sha256 or "")
    if got.status == 304:
        return Failure(doc.url, "download", "HTTP 304 for a document we hold no copy of")
    sha512 = hashlib.sha512(got.content).hexdigest()
    sha256 = hashlib.sha256(got.content).hexdigest()
    checked: list[str] = []
    missing: list[str] = []
    for hurl in doc.hash_urls:
        algo = "sha512" if hurl.endswith(".sha512") else "sha256" if hurl.endswith(".sha256") else None
        if algo is None:
            continue
        try:
            side = fetcher.get(hurl, max_bytes=MAX_SIDECAR_BYTES)
            published = published_digest(side.content, algo, hurl)
        except FetchError as exc:
            if exc.status == 404:
                missing.append(f"{hurl}: not found")
                continue
            return Failure(doc.url, "hash", f"{exc.url}: {exc.reason}")
        actual = sha512 if algo == "sha512" else sha256
        if published != actual:
            return Failure(doc.url, "hash", f"{algo} mismatch: published {published[:16]}..., "
                                            f"downloaded file has {actual[:16]}... (corrupt or tampered copy)")
        checked.append(algo)
    if not checked:
        return Failure(doc.url, "hash", "no published hash to check against (" + "; ".join(missing) + ")")
    if known and known.sha512 == sha512:
        return Downloaded(doc, b"", True, got.etag, got.last_modified, sha512, sha256, tuple(checked))
    signature = None
    if want_signature:
        if not doc.signature_url:
            return Failure(doc.url, "signature", "no signature link for this document")
        try:
            signature = fetcher.get(doc.signature_url, max_bytes=MAX_SIDECAR_BYTES).content
        except FetchError as exc:
            return Failure(doc.url, "signature", f"{exc.url}: {exc.reason}")
    return Downloaded(doc, got.content, False, got.etag, got.last_modified, sha512, sha256,
                      tuple(checked), signature)


# --- OpenPGP -----------------------------------------------------------------------------------


class SignatureVerifier:
    """Checks detached ``.asc`` signatures against one publisher key, in a throw-away keyring.

    The keyring lives in a temporary GNUPGHOME holding only the key the user supplied, so a
    "good signature" can only come from that key; the user's own keyring is never touched.
    Use as a context manager. ``verify`` may be called from several threads: each thread gets
    its own ``gnupg.GPG`` handle and each call its own signature file (gpg only reads the
    keyring, which needs no lock).
    """

    def __init__(self, key_data: bytes, *, source: str = "--key") -> None:

        if shutil.which("gpg") is None:
            raise InputError("signature checking needs the gpg program (Debian package gnupg)")
        # Short path: gpg's sockets must fit in 108 bytes.
        self._home = tempfile.mkdtemp(prefix="zwgpg-")
        self._local = threading.local()
        result = self._handle().import_keys(key_data)
        self.fingerprints = frozenset(f.upper() for f in (result.fingerprints or []) if f)
        if not self.fingerprints:
            self.close()
            raise InputError(f"{source}: no OpenPGP public key found in the file "
                             "(expected an armoured or binary public key export)")

    def _handle(self):  # type: ignore[no-untyped-def]
        import gnupg

        gpg = getattr(self._local, "gpg", None)
        if gpg is None:
            gpg = self._local.gpg = gnupg.GPG(gnupghome=self._home)
        return gpg

    def verify(self, data: bytes, signature: bytes) -> str | None:
        """``None`` when the signature is good and made by the supplied key, else why not."""
        fd, name = tempfile.mkstemp(dir=self._home, suffix=".asc")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(signature)
            result = self._handle().verify_data(name, data)
        finally:
            os.unlink(name)
        if not result.valid:
            status = result.status or "no valid signature"
            return f"signature does not verify: {status}"
        signer = (result.pubkey_fingerprint or result.fingerprint or "").upper()
        if signer not in self.fingerprints:
            return f"signed by {signer or 'an unknown key'}, not by the supplied key"
        return None

    def close(self) -> None:
        shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> SignatureVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

