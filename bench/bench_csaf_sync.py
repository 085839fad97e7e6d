"""Benchmark: `advisories sync` of the shared CISA feed from a server on 127.0.0.1.

    .venv/bin/python bench/bench_csaf_sync.py [--limit N]

Serves ../shared/data/csaf/cisa-ics on 127.0.0.1 and measures, in the same run:

* baseline A: plain sequential httpx GETs of every document (no hashes, no ingest);
* baseline B: ``ingest_bytes`` of the same files read from disk, into a fresh SQLite database;
* the first sync (listing, download, .sha512 check, ingest, state) into another fresh database;
* the second sync (nothing changed: listings only).

Prints the sync time as a ratio to A + B: what the sync adds on top of downloading and
ingesting is the listing, the hash files and the per-file state writes.
"""

from __future__ import annotations

import argparse
import http.server
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from zonewarden.services.principal import local_principal

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "csaf" / "cisa-ics"
WHITE = "/csaf_files/OT/white/"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="only the first N documents of the feed (0: all)")
    args = ap.parse_args()
    if not SHARED.is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2

    from zonewarden.io.csaf.sync import Fetcher, SyncOptions, discover, origin_of
    from zonewarden.services.advisories import ingest_bytes
    from zonewarden.services.csaf_sync import sync
    from zonewarden.store.db import open_store

    tmp = Path(tempfile.mkdtemp(prefix="zw-bench-sync-"))
    served = SHARED
    if args.limit:
        # A smaller feed for a quick run: the first N entries, the files linked, not copied.
        import orjson

        white = WHITE.strip("/")
        feed = orjson.loads((SHARED / white / "cisa-csaf-ot-feed-tlp-white.json").read_bytes())
        feed["feed"]["entry"] = feed["feed"]["entry"][: args.limit]
        served = tmp / "mirror"
        (served / white).mkdir(parents=True)
        for year in (SHARED / white).iterdir():
            if year.is_dir():
                (served / white / year.name).symlink_to(year)
        (served / white / "cisa-csaf-ot-feed-tlp-white.json").write_bytes(orjson.dumps(feed))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(served), **kw)

        def log_message(self, *a) -> None:  # type: ignore[no-untyped-def]
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    url = base + WHITE + "cisa-csaf-ot-feed-tlp-white.json"
    options = SyncOptions(retries=0)
    try:
        with Fetcher({origin_of(base)}, options) as f:
            docs = discover(url, f, options).documents
        n = len(docs)

        t0 = time.perf_counter()
        with httpx.Client(timeout=30, trust_env=False) as client:
            bodies = [(d.url, client.get(d.url).content) for d in docs]
        t_get = time.perf_counter() - t0

        store_b = open_store(f"sqlite:///{tmp / 'ingest.db'}")
        t0 = time.perf_counter()
        rep = ingest_bytes(store_b, bodies, principal=local_principal())
        t_ingest = time.perf_counter() - t0
        store_b.close()
        assert len(rep.results) == n

        store = open_store(f"sqlite:///{tmp / 'sync.db'}")
        t0 = time.perf_counter()
        first = sync(store, url, options=options, principal=local_principal())
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = sync(store, url, options=options, principal=local_principal())
        t_second = time.perf_counter() - t0
        store.close()
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"documents: {n}")
    print(f"baseline A, plain GETs:            {t_get:7.2f} s  ({n / t_get:7.1f} docs/s)")
    print(f"baseline B, ingest_bytes alone:    {t_ingest:7.2f} s  ({n / t_ingest:7.1f} docs/s)")
    print(f"first sync:                        {t_first:7.2f} s  ({n / t_first:7.1f} docs/s)  "
          f"ratio to A+B: {t_first / (t_get + t_ingest):.2f}")
    print(f"second sync (nothing changed):     {t_second:7.2f} s  ratio to A: {t_second / t_get:.3f}")
    print(f"first: {first.counts()}")
    print(f"second: {second.counts()}")
    print(f"failures: {[(f.url, f.reason) for f in first.failed][:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
