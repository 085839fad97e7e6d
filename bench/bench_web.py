"""Benchmark of the web pages (issue 13): each page's server time next to the in-process service
calls it rests on, in the same run.

Two data sets: ``--sites`` small synthetic sites (``--small`` assets each) for the portfolio
dashboard, and one large synthetic site (``--assets``) for the site, zone, triage and audit pages.
Pages are fetched in-process through the ASGI application (FastAPI's TestClient, a logged-in
session cookie: session lookup, CSRF/headers middleware, routing, Jinja2 rendering); the service
side calls the same services with the same principal. Both sides take turns in each round
(``timing``-style interleaving, wall clock), and p95 and median are printed with the ratio
page / services. The target: the dashboard of 20 sites under 3x the cost of its queries.

    python bench/bench_web.py                         # 20 dashboard sites, a 20k-asset site, 15 rounds
    python bench/bench_web.py --assets 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PASSWORD = "benchmark password 1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--small", type=int, default=300, help="Assets per dashboard site.")
    parser.add_argument("--assets", type=int, default=20_000, help="Assets of the large site.")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from synth import generate, write

    from zonewarden.api.app import create_app
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import advisories, audit_queries, identity, sessions, site_views, sites
    from zonewarden.services.principal import local_principal
    from zonewarden.services.queries import advisory_detail, architecture, portfolio, risk
    from zonewarden.services.queries.asset_findings import asset_findings
    from zonewarden.services.queries.zone_detail import target_detail
    from zonewarden.store.db import open_store
    from zonewarden.web.security import COOKIE

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = open_store(db)
        local = local_principal(name="bench")
        small_ids = []
        t0 = time.perf_counter()
        for i in range(args.sites):
            data = generate(args.small, seed=i)
            data["site"]["id"] = f"plant-{i:02d}"
            data["site"]["name"] = f"Plant {i:02d}"
            [out] = sites.import_documents(store, [load_site(write(data, Path(tmp) / f"s{i}"))], principal=local)
            small_ids.append(out.site_id)
        big = generate(args.assets, seed=99)
        big["site"]["id"], big["site"]["name"] = "big", "Big plant"
        [out] = sites.import_documents(store, [load_site(write(big, Path(tmp) / "big"))], principal=local)
        print(f"imported {args.sites} x {args.small} + {args.assets:,} assets in {time.perf_counter() - t0:.1f} s")
        zone = next(z["id"] for z in big["zones"] if z["kind"] == "control")
        asset = big["assets"][0]["id"]
        identity.add_user(store, local, "admin", "Bench Admin", PASSWORD)
        admin = identity.authenticate_password(store, "admin", PASSWORD, record_login=False)
        identity.add_user(store, admin, "dash", "Dash Board", PASSWORD)
        for s in small_ids:
            identity.grant_role(store, admin, "dash", "auditor", s)
        identity.grant_role(store, admin, "admin", "auditor", "big")
        cookies = {}
        for user in ("dash", "admin"):
            cookies[user], _ = sessions.login(store, user, PASSWORD)
        dash = sessions.resolve(store, cookies["dash"]).principal
        adm = sessions.resolve(store, cookies["admin"]).principal

        client = TestClient(create_app(db))

        def get(user: str, path: str) -> Callable[[], object]:
            def run() -> object:
                client.cookies.set(COOKIE, cookies[user])
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
                return r
            return run

        cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
            (f"dashboard ({args.sites} sites)", get("dash", "/"), lambda: portfolio.portfolio(store, dash)),
            ("site", get("admin", "/sites/big"), lambda: (
                site_views.site_summary(store, adm, "big"), site_views.records(store, adm, "big", "zones", limit=1000),
                site_views.records(store, adm, "big", "conduits", limit=1000),
                architecture.check(store, principal=adm, site_id="big"),
                architecture.diagram(store, principal=adm, site_id="big"))),
            ("zone", get("admin", f"/sites/big/zones/{zone}"), lambda: (
                site_views.record(store, adm, "big", "zones", zone), site_views.revision(store, adm, "big"),
                site_views.records(store, adm, "big", "assets", zone=zone, limit=50),
                target_detail(store, adm, "big", zone))),
            ("triage queue", get("admin", "/findings"),
             lambda: advisories.list_findings(store, principal=adm, status="affected")),
            ("audit log", get("admin", "/audit"), lambda: audit_queries.log(store, adm)),
            ("advisories", get("admin", "/advisories"), lambda: advisory_detail.search(store, principal=adm)),
            ("asset", get("admin", f"/sites/big/assets/{asset}"),
             lambda: asset_findings(store, "big", asset, principal=adm)),
            ("risk register", get("admin", "/sites/big/risks"), lambda: (
                risk.risks(store, principal=adm, site_id="big"), risk.slt(store, principal=adm, site_id="big"),
                site_views.revision(store, adm, "big"))),
        ]
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
                  f"{p[0] / s[0]:>6.2f} {p[1] / s[1]:>6.2f}")
        client.close()
        store.close()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
