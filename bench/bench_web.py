"""Benchmark of the web pages (issue 13): each page's server time next to the in-process service
calls it rests on, in the same run.

Two data sets: ``--sites`` small synthetic sites (``--small`` assets each) for the portfolio
dashboard, and one large synthetic site (``--assets``) for the site, zone, triage and audit pages,
with ``--advisories`` of CISA's real advisories (from the shared data, sampled with a fixed seed)
ingested against every site, and a year of hand-made triage history on a part of the findings
(so the dashboard's trends have work to do). Pages are fetched in-process through the ASGI
application (FastAPI's TestClient, a logged-in session cookie: session lookup, CSRF/headers
middleware, routing, Jinja2 rendering); the service side calls the same services with the same
principal. Both sides take turns in each round (``timing``-style interleaving, wall clock), and
p95 and median are printed with the ratio page / services. The target: the dashboard of 20
sites under 3x the cost of its queries.

Building the data set (imports, ingest, history) takes minutes at 100k assets, so the SQLite
file is built once and kept in a cache directory (``--cache``, default
``~/.cache/zonewarden/bench_web``), keyed by the arguments that shape it and the migrations of
the schema; later runs copy it and start measuring at once. ``--fresh`` builds it again.

    python bench/bench_web.py                          # 20 dashboard sites, a 20k-asset site, 15 rounds
    python bench/bench_web.py --assets 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

PASSWORD = "benchmark password 1"
CISA = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data")) / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
FORMAT = 2
"""Bumped when what :func:`build` stores changes (the cache key holds it)."""


def _schema_key() -> str:
    versions = sorted(p.name for p in (ROOT / "src" / "zonewarden" / "store" / "migrations" / "versions").glob("*.py"))
    return hashlib.sha256("\n".join(versions).encode()).hexdigest()[:10]


def _advisory_items(n: int) -> list[tuple[str, bytes]]:
    if n <= 0 or not CISA.is_dir():
        return []
    paths = sorted(CISA.glob("*/*.json"))
    return [(str(p), p.read_bytes()) for p in random.Random(62443).sample(paths, min(n, len(paths)))]


def build(path: Path, args: argparse.Namespace) -> dict[str, str]:
    """The data set in a new SQLite file at ``path``; returns facts the cases need."""
    from sqlalchemy import select, update
    from synth import generate

    from zonewarden.domain.site import SiteDocument
    from zonewarden.services import advisories, identity, sites
    from zonewarden.services.principal import local_principal
    from zonewarden.store.advisory_tables import findings, triage_decisions
    from zonewarden.store.db import open_store

    store = open_store(f"sqlite:///{path}")
    local = local_principal(name="bench")
    t0 = time.perf_counter()
    docs = []
    for i in range(args.sites):
        data = generate(args.small, seed=i)
        data["site"]["id"], data["site"]["name"] = f"plant-{i:02d}", f"Plant {i:02d}"
        docs.append(SiteDocument.model_validate(data))  # no YAML round trip: the documents as the CLI gets them
    sites.import_documents(store, docs, principal=local)
    big = generate(args.assets, seed=99)
    big["site"]["id"], big["site"]["name"] = "big", "Big plant"
    sites.import_documents(store, [SiteDocument.model_validate(big)], principal=local)
    t1 = time.perf_counter()
    items = _advisory_items(args.advisories)
    report = advisories.ingest_bytes(store, items, principal=local) if items else None
    t2 = time.perf_counter()
    # A year of triage history on every third finding: first seen 1-300 days ago, a person's
    # first decision 0-30 days later, and every second of those closed 1-90 days after that.
    rng = random.Random(13)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        ids = [r.id for r in conn.execute(select(findings.c.id).where(findings.c.priority.is_not(None)))][::3]
        decisions, seen_at = [], []
        for fid in ids:
            seen = now - dt.timedelta(days=rng.uniform(1, 300))
            first = seen + dt.timedelta(days=rng.uniform(0, 30))
            seen_at.append({"fid": fid, "seen": seen})
            decisions.append({"finding_id": fid, "at": min(first, now), "actor": "bench", "from_status": "new",
                              "to_status": "under-assessment", "why": "benchmark history", "owner": None,
                              "expires": None, "controls": [], "automatic": False})
            if rng.random() < 0.5:
                decisions.append({**decisions[-1], "at": min(first + dt.timedelta(days=rng.uniform(1, 90)), now),
                                  "from_status": "under-assessment", "to_status": "resolved"})
        if seen_at:
            from sqlalchemy import bindparam

            conn.execute(update(findings).where(findings.c.id == bindparam("fid"))
                         .values(created_at=bindparam("seen"), updated_at=bindparam("seen")), seen_at)
            conn.execute(triage_decisions.insert(), decisions)
    t3 = time.perf_counter()
    identity.add_user(store, local, "admin", "Bench Admin", PASSWORD)
    admin = identity.authenticate_password(store, "admin", PASSWORD, record_login=False)
    identity.add_user(store, admin, "dash", "Dash Board", PASSWORD)
    for d in docs:
        identity.grant_role(store, admin, "dash", "auditor", d.site.id)
    identity.grant_role(store, admin, "admin", "auditor", "big")
    zone = next(z["id"] for z in big["zones"] if z["kind"] == "control")
    store.close()
    findings_n = report.findings_created if report else 0
    print(f"built in {time.perf_counter() - t0:.0f} s: imported {args.sites} x {args.small} + {args.assets:,} assets "
          f"in {t1 - t0:.1f} s; {len(items)} advisories -> {findings_n:,} findings in {t2 - t1:.1f} s; "
          f"history on {len(ids):,} findings in {t3 - t2:.1f} s")
    return {"zone": zone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--small", type=int, default=300, help="Assets per dashboard site.")
    parser.add_argument("--assets", type=int, default=20_000, help="Assets of the large site.")
    parser.add_argument("--advisories", type=int, default=40, help="CISA advisories ingested (0: none).")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "zonewarden" / "bench_web", help="Where the built data set is kept between runs.")
    parser.add_argument("--fresh", action="store_true", help="Build the data set again.")
    parser.add_argument("--only", action="append", default=[], help="Measure only the pages whose name starts so.")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from zonewarden.api.app import create_app
    from zonewarden.services import advisories, alerts, audit_queries, sessions, site_views, sites
    from zonewarden.services.findings_page import findings_page
    from zonewarden.services.queries import (
        advisory_detail,
        approvals,
        architecture,
        portfolio,
        risk,
        trends,
    )
    from zonewarden.services.queries.asset_findings import asset_findings
    from zonewarden.services.queries.patch_calendar import patch_calendar
    from zonewarden.services.queries.zone_detail import target_detail
    from zonewarden.services.signatures import list_signatures
    from zonewarden.store.db import open_store
    from zonewarden.web.security import COOKIE

    key = f"web-v{FORMAT}-{args.sites}x{args.small}-{args.assets}-adv{args.advisories}-{_schema_key()}"
    cached = args.cache / f"{key}.db"
    facts_file = args.cache / f"{key}.zone"
    if args.fresh or not cached.exists() or not facts_file.exists():
        args.cache.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".building")
        partial.unlink(missing_ok=True)
        facts = build(partial, args)
        partial.replace(cached)
        facts_file.write_text(facts["zone"])
    else:
        print(f"data set from the cache: {cached}")
    zone = facts_file.read_text().strip()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        shutil.copy(cached, path)  # the cache stays as built: sessions and logins write
        db = f"sqlite:///{path}"
        store = open_store(db)
        cookies = {user: sessions.login(store, user, PASSWORD)[0] for user in ("dash", "admin")}
        dash = sessions.resolve(store, cookies["dash"]).principal
        adm = sessions.resolve(store, cookies["admin"]).principal
        with store.read() as conn:
            from sqlalchemy import select

            from zonewarden.store.advisory_tables import findings
            some = conn.execute(select(findings.c.id).where(findings.c.site_id == "big",
                                                            findings.c.status == "affected")).scalar()
            hit = conn.execute(select(findings.c.asset_id, findings.c.tracking_id)
                               .where(findings.c.id == some)).first() if some is not None else None

        client = TestClient(create_app(db))

        def get(user: str, path: str) -> Callable[[], object]:
            def run() -> object:
                client.cookies.set(COOKIE, cookies[user])
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
                return r
            return run

        cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
            (f"dashboard ({args.sites} sites)", get("dash", "/"), lambda: (
                portfolio.portfolio(store, dash), trends.portfolio_trends(store, principal=dash),
                alerts.stale_feeds(store))),
            ("site", get("admin", "/sites/big"), lambda: (
                site_views.site_summary(store, adm, "big"), site_views.records(store, adm, "big", "zones", limit=1000),
                site_views.records(store, adm, "big", "conduits", limit=1000),
                architecture.overview(store, principal=adm, site_id="big"))),
            ("zone", get("admin", f"/sites/big/zones/{zone}"), lambda: (
                site_views.record(store, adm, "big", "zones", zone), site_views.revision(store, adm, "big"),
                site_views.records(store, adm, "big", "assets", zone=zone, limit=50),
                target_detail(store, adm, "big", zone))),
            ("triage queue", get("admin", "/findings"),
             lambda: findings_page(store, principal=adm, status="affected", limit=50)),
            ("audit log", get("admin", "/audit"), lambda: audit_queries.search(
                store, adm, audit_queries.EventFilter(), limit=100, newest_first=True)),
        ]
        cases.append(("advisories", get("admin", "/advisories"), lambda: advisory_detail.search(store, principal=adm)))
        cases.append(("risk register", get("admin", "/sites/big/risks"), lambda: (
            risk.risks(store, principal=adm, site_id="big"), risk.slt(store, principal=adm, site_id="big"),
            site_views.revision(store, adm, "big"))))
        today = sites.site_today(store, "big")
        last = (today.replace(day=1) + dt.timedelta(days=62)).replace(day=1) - dt.timedelta(days=1)
        cases.append(("patching calendar", get("admin", "/sites/big/patching?months=2"), lambda: (
            patch_calendar(store, adm, "big", today.replace(day=1), last, as_of=today))))
        cases.append(("due calendar", get("admin", "/sites/big/due?months=3"),
                      lambda: risk.due(store, principal=adm, site_id="big", within="93d", show_all=True)))
        cases.append(("approvals inbox", get("admin", "/approvals"), lambda: (
            approvals.pending(store, adm), [list_signatures(store, adm, i) for i, _ in sites.list_sites(store, adm)])))
        if some is not None:
            cases.append(("finding", get("admin", f"/findings/{some}"),
                          lambda: advisories.get_finding(store, some, principal=adm)))
        if hit is not None:
            cases.append(("advisory", get("admin", f"/advisories/{hit.tracking_id}"),
                          lambda: advisory_detail.detail(store, hit.tracking_id, principal=adm)))
            cases.append(("asset", get("admin", f"/sites/big/assets/{hit.asset_id}"),
                          lambda: asset_findings(store, "big", hit.asset_id, principal=adm)))
        if args.only:
            cases = [c for c in cases if any(c[0].startswith(o) for o in args.only)]
        print(f"{'page':<22} {'page p50':>9} {'p95':>8} | {'services p50':>12} {'p95':>8} | {'x p50':>6} {'x p95':>6}")
        for name, page_fn, service_fn in cases:
            page_fn(), service_fn()  # warm caches and templates
            pages, services = [], []
            for _ in range(args.rounds):
                for fn, bucket in ((page_fn, pages), (service_fn, services)):
                    start = time.perf_counter()
                    fn()
                    bucket.append((time.perf_counter() - start) * 1000)
            p = (statistics.median(pages), _p95(pages))
            s = (statistics.median(services), _p95(services))
            print(f"{name:<22} {p[0]:>7.1f}ms {p[1]:>6.1f}ms | {s[0]:>10.1f}ms {s[1]:>6.1f}ms | "
                  f"{p[0] / s[0]:>6.2f} {p[1] / s[1]:>6.2f}", flush=True)
        client.close()
        store.close()
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
