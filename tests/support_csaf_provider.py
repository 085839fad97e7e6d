"""Test support for ``advisories sync``: a CSAF provider on 127.0.0.1 with injectable faults.

Not a test module (no ``test_`` prefix); the sync tests load it by path. Everything it builds
lives in the test's tmp_path: symlinks to a few of the shared CISA files plus generated
index.txt / changes.csv / ROLIE feed, or small CSAF documents written here and signed with a
key generated for the test. Nothing from ../shared/data is copied into the repository.
"""

from __future__ import annotations

import hashlib
import http.server
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CISA_PREFIX = "csaf_files/OT/white"
CISA_PUBLIC = "https://raw.githubusercontent.com/cisagov/CSAF/develop/" + CISA_PREFIX
FEED_NAME = "cisa-csaf-ot-feed-tlp-white.json"


# --- server ------------------------------------------------------------------------------------


@dataclass
class Faults:
    """Per-path faults the handler injects; change them between syncs."""

    drop: set[str] = field(default_factory=set)
    """Send headers and half the body, then close the socket."""
    missing: set[str] = field(default_factory=set)
    """Answer 404 although the file exists."""
    flaky: dict[str, int] = field(default_factory=dict)
    """Answer 503 this many times, then serve normally."""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def gets(self, suffix: str = ".json") -> list[str]:
        return [p for p, _ in self.requests if p.endswith(suffix)]


def _handler(root: Path, faults: Faults) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            faults.requests.append((path, dict(self.headers)))
            if path in faults.missing:
                self.send_error(404)
                return
            if faults.flaky.get(path, 0) > 0:
                faults.flaky[path] -= 1
                self.send_error(503)
                return
            if path in faults.drop:
                body = (root / path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                # Close the socket for real: a half body, then the peer goes away.
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            super().do_GET()

    return Handler


@contextmanager
def serve(root: Path, faults: Faults | None = None) -> Iterator[tuple[str, Faults]]:
    """Serve ``root`` on 127.0.0.1 at a free port; yields (base URL, faults)."""
    faults = faults or Faults()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, faults))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", faults
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- a small CISA mirror -----------------------------------------------------------------------


@dataclass
class Mirror:
    root: Path
    folder: Path
    """root / csaf_files/OT/white"""
    files: list[str]
    """Paths relative to ``folder`` (``2023/icsa-23-...json``), sorted."""
    times: dict[str, str]

    def write_indexes(self) -> None:
        """index.txt, changes.csv and the ROLIE feed in CISA's own form: paths from the
        repository root, unquoted CSV, feed links to the public host."""
        rel = [f"{CISA_PREFIX}/{f}" for f in self.files]
        (self.folder / "index.txt").write_text("".join(r + "\n" for r in rel))
        (self.folder / "changes.csv").write_text("".join(f"{r},{self.times[f]}\n" for r, f in zip(rel, self.files, strict=True)))
        entries = []
        for f in self.files:
            url = f"{CISA_PUBLIC}/{f}"
            entries.append({
                "id": Path(f).stem.upper(),
                "title": Path(f).stem,
                "link": [{"href": url, "rel": "self"}, {"href": url + ".asc", "rel": "signature"},
                         {"href": url + ".sha512", "rel": "hash"}],
                "published": self.times[f],
                "updated": self.times[f],
                "content": {"src": url, "type": "application/json"},
                "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
                           "version": "2.0"},
            })
        feed = {"feed": {"id": "cisa-csaf-ot-feed-tlp-white", "title": "test mirror",
                         "link": [{"rel": "self", "href": f"{CISA_PUBLIC}/{FEED_NAME}"}],
                         "updated": max(self.times.values()), "entry": entries}}
        (self.folder / FEED_NAME).write_text(json.dumps(feed, indent=1))

    def materialise(self, name: str) -> Path:
        """Replace the symlink for ``name`` (and its .sha512) by real files that may be edited."""
        for suffix in ("", ".sha512"):
            p = self.folder / (name + suffix)
            data = p.read_bytes()
            p.unlink()
            p.write_bytes(data)
        return self.folder / name

    def rewrite(self, name: str, data: bytes, *, time: str, fix_hash: bool = True) -> None:
        path = self.materialise(name)
        path.write_bytes(data)
        _bump_mtime(path)
        if fix_hash:
            (self.folder / (name + ".sha512")).write_text(
                f"{hashlib.sha512(data).hexdigest()}  {Path(name).name}")
        self.times[name] = time
        self.write_indexes()


def cisa_mirror(shared_data: Path, dest: Path, n: int = 30, year: str = "2023") -> Mirror:
    """Symlink ``n`` CISA advisories of ``year`` (with .sha512 and .asc) into ``dest``."""
    src_year = shared_data / "csaf" / "cisa-ics" / CISA_PREFIX / year
    folder = dest / CISA_PREFIX
    (folder / year).mkdir(parents=True)
    real_times = {}
    for line in (shared_data / "csaf" / "cisa-ics" / CISA_PREFIX / "changes.csv").read_text().splitlines():
        path, _, stamp = line.partition(",")
        real_times[path.removeprefix(CISA_PREFIX + "/")] = stamp
    names = sorted(p.name for p in src_year.glob("*.json"))[:n]
    files = []
    for name in names:
        for suffix in ("", ".sha512", ".asc"):
            if (src_year / (name + suffix)).exists():
                (folder / year / (name + suffix)).symlink_to(src_year / (name + suffix))
        files.append(f"{year}/{name}")
    m = Mirror(dest, folder, files, {f: real_times.get(f, "2023-01-01T00:00:00.000000Z") for f in files})
    m.write_indexes()
    return m


# --- our own signed provider -------------------------------------------------------------------


def own_advisory(n: int, version: str = "1", *, title: str | None = None) -> bytes:
    """A small, valid CSAF 2.0 security advisory written for these tests."""
    history = [
        {"date": f"2024-0{i}-01T00:00:00.000Z", "number": str(i), "summary": f"revision {i}"}
        for i in range(1, int(version) + 1)
    ]
    doc = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": title or f"Test advisory {n}",
            "lang": "en",
            "publisher": {"category": "vendor", "name": "Test PSIRT", "namespace": "https://psirt.example.test"},
            "notes": [{"category": "summary", "text": "Written for zonewarden's sync tests."}],
            "tracking": {
                "id": f"ZW-TEST-{n:03d}",
                "status": "final",
                "version": version,
                "initial_release_date": "2024-01-01T00:00:00.000Z",
                "current_release_date": history[-1]["date"],
                "revision_history": history,
            },
        },
        "product_tree": {
            "branches": [{"category": "vendor", "name": "Test Vendor", "branches": [
                {"category": "product_name", "name": "Test PLC", "branches": [
                    {"category": "product_version", "name": "1.0",
                     "product": {"product_id": "P1", "name": "Test Vendor Test PLC 1.0"}}]}]}],
        },
        "vulnerabilities": [{"cve": f"CVE-2024-{1000 + n}", "product_status": {"known_affected": ["P1"]},
                             "remediations": [{"category": "vendor_fix", "details": "Update to 1.1.",
                                               "product_ids": ["P1"]}]}],
    }
    return json.dumps(doc, indent=2).encode()


class Gpg:
    """A throw-away keyring with one generated signing key (gpg in batch mode)."""

    def __init__(self, uid: str = "Test PSIRT <psirt@example.test>") -> None:
        # Short path under /tmp: gpg-agent's socket path must fit in 108 bytes.
        self.home = Path(tempfile.mkdtemp(prefix="zwt-"))
        self.home.chmod(0o700)
        self._run("--quick-gen-key", uid, "ed25519", "sign", "never")
        self.public_key = self._run("--armor", "--export", uid)

    def _run(self, *args: str, input: bytes | None = None) -> bytes:
        return subprocess.run(
            ["gpg", "--batch", "--homedir", str(self.home), "--pinentry-mode", "loopback",
             "--passphrase", "", *args],
            input=input, capture_output=True, check=True,
        ).stdout

    def sign(self, data: bytes) -> bytes:
        return self._run("--armor", "--detach-sign", "--output", "-", input=data)

    def close(self) -> None:
        # Stop the agent this keyring started (by its home dir, nothing else), then remove it.
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"],
                       capture_output=True, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


def write_signed(folder: Path, rel: str, data: bytes, gpg: Gpg | None, *, signature: bytes | None = None) -> None:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    (folder / (rel + ".sha512")).write_text(f"{hashlib.sha512(data).hexdigest()}  {path.name}\n")
    (folder / (rel + ".sha256")).write_text(f"{hashlib.sha256(data).hexdigest()}  {path.name}\n")
    if signature is not None or gpg is not None:
        (folder / (rel + ".asc")).write_bytes(signature if signature is not None else gpg.sign(data))  # type: ignore[union-attr]
    _bump_mtime(path)


_MTIMES = itertools.count(1)


def _bump_mtime(path: Path) -> None:
    """Each write gets a later mtime than any before, as on a real server: Last-Modified has
    one-second resolution, so two quick writes must not share a second."""
    stamp = int(time.time()) + 2 * next(_MTIMES)
    os.utime(path, (stamp, stamp))


@dataclass
class FakeIngest:
    """Stands in for ``services.advisories.ingest_bytes`` with the same call shape and result
    shape: read_csaf decides accept/reject, a dict remembers the newest version per id."""

    held: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)

    def __call__(self, store, items, *, strict=False, principal=None, reason=None, progress=None):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        from zonewarden.io.csaf import read_csaf

        results = []
        for source, data in items:
            self.calls.append(source)
            if source in self.fail_on:
                raise RuntimeError("ingest crashed on this document")
            r = read_csaf(data, source=source, strict=strict)
            if not r.accepted:
                outcome = "rejected"
            else:
                old = self.held.get(r.tracking_id)
                new_v = tuple(int(x) for x in r.tracking_version.split(".") if x.isdigit())
                old_v = tuple(int(x) for x in old.split(".") if x.isdigit()) if old else None
                if old_v is None:
                    outcome = "new"
                elif new_v > old_v:
                    outcome = "revision"
                elif new_v == old_v:
                    outcome = "unchanged"
                else:
                    outcome = "older"
                if outcome in ("new", "revision"):
                    self.held[r.tracking_id] = r.tracking_version
            results.append(SimpleNamespace(source=source, outcome=outcome, tracking_id=r.tracking_id,
                                           version=r.tracking_version, error=r.error, deviations=r.deviations))
        return SimpleNamespace(results=results)
