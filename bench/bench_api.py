"""Benchmark of issue 12: the REST API under concurrent clients against the same service calls
made in-process, in the same run, on the 100k-asset synthetic site.

Both sides run the same request mix (pages of assets, of a zone's assets and of zones; one
asset, one zone; the site summary; a page of the audit log) with the same number of concurrent
callers for the same time:

- **in-process**: ``--clients`` threads call the services (``site_views``, ``audit_queries``)
  directly, with a principal already authenticated;
- **API**: ``zonewarden serve`` in its own process; ``--clients`` concurrent HTTP/1.1
  connections (httpx, asyncio, keep-alive) send the requests with a bearer token, so the API's
  figure includes authenticating every request, routing, validation and JSON encoding.

It prints p50/p95 latency and throughput per request kind and overall, the API's ratio to
in-process, and the number of errors (any status other than 200). The target: the API at most
2x the in-process p50/p95 for list and detail reads, with 0 errors.

    .venv/bin/python bench/bench_api.py                          # 100k assets, 20 clients, 60 s each
    .venv/bin/python bench/bench_api.py --assets 10000 --duration 10
    .venv/bin/python bench/bench_api.py --db postgresql+psycopg://postgres@127.0.0.1:54329/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SEED = 62443
PASSWORD = "benchmark password 1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mix:
    """The request kinds, each as an HTTP path and the equivalent service call."""

    def __init__(self, site: str, zones: list[str], assets: list[str], total_assets: int) -> None:
        self.site, self.zones, self.assets, self.total = site, zones, assets, total_assets

    def draw(self, rng: random.Random) -> tuple[str, str, Callable[[Any, Any], object]]:
        from zonewarden.services import audit_queries, site_views

        s = self.site
        kind = rng.choice(("assets page", "zone's assets", "zones page", "asset", "zone", "site", "audit page"))
        if kind == "assets page":
            offset = rng.randrange(0, max(1, self.total - 100))
            return kind, f"/sites/{s}/assets?limit=100&offset={offset}", \
                lambda st, p: site_views.records(st, p, s, "assets", limit=100, offset=offset).as_dict()
        if kind == "zone's assets":
            zone = rng.choice(self.zones)
            return kind, f"/sites/{s}/assets?zone={zone}&limit=100", \
                lambda st, p: site_views.records(st, p, s, "assets", limit=100, zone=zone).as_dict()
        if kind == "zones page":
            return kind, f"/sites/{s}/zones?limit=100", \
                lambda st, p: site_views.records(st, p, s, "zones", limit=100).as_dict()
        if kind == "asset":
            ident = rng.choice(self.assets)
            return kind, f"/sites/{s}/assets/{ident}", lambda st, p: site_views.record(st, p, s, "assets", ident)
        if kind == "zone":
            ident = rng.choice(self.zones)
            return kind, f"/sites/{s}/zones/{ident}", lambda st, p: site_views.record(st, p, s, "zones", ident)
        if kind == "site":
            return kind, f"/sites/{s}", lambda st, p: site_views.site_summary(st, p, s)
        offset = rng.randrange(0, 5)
        return kind, f"/audit?limit=50&offset={offset}", \
            lambda st, p: [e.seq for e in audit_queries.log(st, p, s)[offset:offset + 50]]


def _summary(latencies: dict[str, list[float]], seconds: float) -> dict[str, dict[str, float]]:
    out = {}
    everything = [x for xs in latencies.values() for x in xs]
    for kind, xs in sorted(latencies.items()) + [("all", everything)]:
        xs = sorted(xs)
        out[kind] = {"n": len(xs), "p50": statistics.median(xs) * 1000,
                     "p95": xs[min(len(xs) - 1, int(len(xs) * 0.95))] * 1000, "rps": len(xs) / seconds}
    return out


def in_process(store: Any, principal: Any, mix: Mix, clients: int, duration: float) -> dict[str, dict[str, float]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    stop = time.perf_counter() + duration

    def caller(n: int) -> None:
        rng = random.Random(SEED + n)
        mine: dict[str, list[float]] = defaultdict(list)
        while time.perf_counter() < stop:
            kind, _, call = mix.draw(rng)
            t0 = time.perf_counter()
            call(store, principal)
            mine[kind].append(time.perf_counter() - t0)
        with lock:
            for k, xs in mine.items():
                latencies[k].extend(xs)

    start = time.perf_counter()
    threads = [threading.Thread(target=caller, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _summary(latencies, time.perf_counter() - start)


async def _over_http(base: str, token: str, mix: Mix, clients: int, duration: float) -> tuple[dict[str, list[float]], list[str], float]:
    import httpx

    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    stop = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=60) as client:
        async def caller(n: int) -> None:
            rng = random.Random(SEED + n)
            while time.perf_counter() < stop:
                kind, path, _ = mix.draw(rng)
                t0 = time.perf_counter()
                try:
                    r = await client.get(path)
                    await r.aread()
                except httpx.TransportError as exc:  # an error of the run, not the end of it
                    errors.append(f"{type(exc).__name__} {path}: {exc}")
                    continue
                latencies[kind].append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {path}: {r.text[:200]}")

        start = time.perf_counter()
        await asyncio.gather(*(caller(n) for n in range(clients)))
    return latencies, errors, time.perf_counter() - start


def over_http(db: str, token: str, mix: Mix, clients: int, duration: float, workers: int) -> tuple[dict[str, dict[str, float]], list[str]]:
    import httpx

    port = _free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="zonewarden-bench-api-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("zonewarden")), "serve", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "ZONEWARDEN_DB": db}, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the API server did not start")
            time.sleep(0.3)
        latencies, errors, seconds = asyncio.run(_over_http(base, token, mix, clients, duration))
    finally:
        server.terminate()
        server.wait(30)
    log.seek(0)
    problems = [line.rstrip() for line in log if "200 OK" not in line and not line.startswith("INFO:")]
    if errors or problems:
        print(f"server log {log.name} (lines other than INFO and 200 OK, last 30):", *problems[-30:], sep="\n  ")
    else:
        os.unlink(log.name)
    return _summary(latencies, seconds), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds per side (bounded run).")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes.")
    parser.add_argument("--db", help="Database URL (default: a SQLite file in a temporary directory).")
    args = parser.parse_args()

    from synth import generate, write

    from zonewarden.io.sitefile import load_site
    from zonewarden.services import identity, sites
    from zonewarden.services.principal import local_principal
    from zonewarden.store.db import open_store

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        data = generate(args.assets)
        site_dir = write(data, Path(tmp) / "site")
        store = open_store(db)
        t0 = time.perf_counter()
        [outcome] = sites.import_documents(store, [load_site(site_dir)], principal=local_principal(name="bench"))
        print(f"imported {args.assets:,} assets in {time.perf_counter() - t0:.1f} s")
        site_id = outcome.site_id
        identity.add_user(store, local_principal(name="bench"), "bench", "Bench Admin", PASSWORD)
        admin = identity.authenticate_password(store, "bench", PASSWORD)
        identity.add_user(store, admin, "reader", "Rea Reader", PASSWORD)
        identity.grant_role(store, admin, "reader", "auditor", site_id)
        token = identity.create_token(store, admin, "reader", read_only=True)[1]
        principal = identity.authenticate_token(store, token, client="bench")
        mix = Mix(site_id, [z["id"] for z in data["zones"]], [a["id"] for a in data["assets"]], len(data["assets"]))

        print(f"{args.clients} concurrent callers, {args.duration:g} s per side, {args.workers} API worker(s), "
              f"{'SQLite' if db.startswith('sqlite') else 'PostgreSQL'}")
        local = in_process(store, principal, mix, args.clients, args.duration)
        store.close()
        remote, errors = over_http(db, token, mix, args.clients, args.duration, args.workers)

    print(f"\n{'request':<15} {'in-proc p50':>11} {'p95':>8} {'rps':>7} | {'API p50':>8} {'p95':>8} {'rps':>7} | "
          f"{'× p50':>6} {'× p95':>6} {'× rps':>6}")
    for kind, a in local.items():
        b = remote.get(kind)
        if b is None:
            continue
        print(f"{kind:<15} {a['p50']:>9.1f}ms {a['p95']:>6.1f}ms {a['rps']:>7.1f} | {b['p50']:>6.1f}ms {b['p95']:>6.1f}ms "
              f"{b['rps']:>7.1f} | {b['p50'] / a['p50']:>6.2f} {b['p95'] / a['p95']:>6.2f} {a['rps'] / b['rps']:>6.2f}")
    overall = remote["all"]["p50"] / local["all"]["p50"], remote["all"]["p95"] / local["all"]["p95"]
    verdict = "met" if max(overall) <= 2.0 and not errors else "MISSED"
    print(f"\nerrors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"API / in-process, all requests: p50 ×{overall[0]:.2f}, p95 ×{overall[1]:.2f} "
          f"(target ≤ 2x with 0 errors: {verdict})")


if __name__ == "__main__":
    main()
