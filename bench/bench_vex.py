"""Benchmark: ``services.vex.apply`` on a 10k-asset plant with the CISA feed ingested (issue 14 item 5).

    .venv/bin/python bench/bench_vex.py [--assets 10000] [--feed-subset 1] [--statements 1000] \
        [--repeat 3] [--baseline-src /path/to/other/checkout/src]

Set-up (once, with this checkout's code): the synthetic plant of ``bench/synth.py generate(N)``
imported into a fresh SQLite database, the shared CISA feed (every ``--feed-subset``-th
advisory) ingested into it, then one supplier CSAF VEX recorded (``services.vex.record``, no
apply): ``known_not_affected`` statements for up to 50 (product, version, CVE) of the plant's
affected findings of its commonest vendor, plus statements about other CVEs up to
``--statements`` (a supplier's feed mostly speaks of things the plant does not run).

Measured: ``apply(store)`` twice on a fresh copy of that database (first: close what the
statements cover; again: nothing left to close, the cost every later ingest call pays),
each run in a fresh child process, with this checkout's code and with ``--baseline-src`` (e.g.
main built in a worktree: the filter in Python), alternating ``--repeat`` times; best CPU
seconds of the child (``time.process_time``), wall time beside, and the findings closed (both
sides must close the same number). ``apply`` runs after every ingest call, so a sync of a feed
pays it once per batch of 32 documents.

Needs ../shared/data. Not collected by pytest; figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from synth import generate  # noqa: E402

from zonewarden.domain.site import SiteDocument  # noqa: E402
from zonewarden.engines.products import flatten_advisory  # noqa: E402
from zonewarden.io.vex import csaf_statements  # noqa: E402
from zonewarden.services import advisories as svc  # noqa: E402
from zonewarden.services import vex  # noqa: E402
from zonewarden.services.principal import local_principal  # noqa: E402
from zonewarden.services.sites import import_documents  # noqa: E402
from zonewarden.store.db import open_store  # noqa: E402

SHARED = Path(os.environ.get("ZONEWARDEN_SHARED_DATA") or ROOT.parent / "shared" / "data")
CISA = SHARED / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from zonewarden.services.vex import apply
from zonewarden.store.db import open_store
store = open_store("sqlite:///" + sys.argv[1])
out = {}
for run in ("first", "again"):
    cpu, wall = time.process_time(), time.perf_counter()
    closed = apply(store)
    out[run] = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "closed": closed}
store.close()
print(json.dumps(out))
"""

SYNC_CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from sqlalchemy import func, select
from zonewarden.services import advisories as svc
from zonewarden.services.principal import local_principal
from zonewarden.store.advisory_tables import findings
from zonewarden.store.db import open_store
store = open_store("sqlite:///" + sys.argv[1])
items = [(str(p), p.read_bytes()) for p in sorted(Path(sys.argv[3]).glob("*/*.json"))][::int(sys.argv[4])]
cpu, wall = time.process_time(), time.perf_counter()
for i in range(0, len(items), 32):  # as advisories sync hands them to ingest
    svc.ingest_bytes(store, items[i:i + 32], principal=local_principal())
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
with store.read() as conn:
    closed = conn.execute(select(func.count()).select_from(findings).where(findings.c.triage_status == "not-affected")).scalar()
store.close()
print(json.dumps({"cpu": cpu, "wall": wall, "closed": closed, "documents": len(items)}))
"""


def _vex_document(covered: list[tuple[str, str, str, str]], vendor: str, total: int) -> dict:  # type: ignore[type-arg]
    """A CSAF VEX by ``vendor``: one product per covered (vendor, product, version, cve), each
    known_not_affected for its CVE, and filler statements about CVEs the plant has no finding of."""
    branches, vulns = [], []
    for i, (v, product, version, cve) in enumerate(covered):
        pid = f"P{i}"
        branches.append({"category": "vendor", "name": v, "branches": [{"category": "product_name", "name": product,
                         "branches": [{"category": "product_version", "name": version,
                                       "product": {"name": f"{v} {product} {version}", "product_id": pid}}]}]})
        vulns.append({"cve": cve, "product_status": {"known_not_affected": [pid]},
                      "flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": [pid]}]})
    filler = "F0"
    branches.append({"category": "vendor", "name": vendor, "branches": [{"category": "product_name", "name": "Other",
                     "branches": [{"category": "product_version", "name": "1.0",
                                   "product": {"name": f"{vendor} Other 1.0", "product_id": filler}}]}]})
    for n in range(max(0, total - len(covered))):
        vulns.append({"cve": f"CVE-2098-{n:05d}", "product_status": {"known_not_affected": [filler]},
                      "flags": [{"label": "component_not_present", "product_ids": [filler]}]})
    return {
        "document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "bench VEX", "lang": "en",
                     "distribution": {"tlp": {"label": "WHITE"}},
                     "publisher": {"category": "vendor", "name": vendor, "namespace": "https://example.com"},
                     "tracking": {"id": "BENCH-VEX-1", "version": "1", "status": "final",
                                  "initial_release_date": "2026-12-04T00:00:00Z",
                                  "current_release_date": "2026-12-04T00:00:00Z",
                                  "revision_history": [{"date": "2026-12-04T00:00:00Z", "number": "1", "summary": "x"}]}},
        "product_tree": {"branches": branches},
        "vulnerabilities": vulns,
    }


def setup(path: Path, n: int, subset: int, statements: int) -> tuple[int, int, int]:
    me = local_principal()
    store = open_store(f"sqlite:///{path}")
    doc = SiteDocument.model_validate(generate(n))
    import_documents(store, [doc], principal=me)
    items = [(str(p), p.read_bytes()) for p in sorted(CISA.glob("*/*.json"))]
    items = items[::subset] if subset > 1 else items
    report = svc.ingest_bytes(store, items, principal=me)
    assets = {a.id: a for a in doc.assets}
    found = svc.list_findings(store, principal=me, status="affected")
    vendor = Counter(assets[f.asset_id].vendor for f in found if f.asset_id in assets).most_common(1)[0][0] or "x"
    covered: dict[tuple[str, str, str, str], None] = {}
    for f in found:
        a = assets.get(f.asset_id)
        if a is None or a.vendor != vendor or not a.product or not a.version or len(f.cves) != 1:
            continue
        covered[(a.vendor, a.product, a.version, f.cves[0])] = None
        if len(covered) >= 50:
            break
    data = _vex_document(list(covered), vendor, statements)
    done = _record(store, data)
    store.close()
    # For the sync case: the plant with the VEX recorded first, no advisory yet.
    store = open_store(f"sqlite:///{path.with_suffix('.sync.db')}")
    import_documents(store, [doc], principal=me)
    _record(store, data)
    store.close()
    return report.findings_created, done.statements, len(found)


def _record(store, data: dict) -> vex.Recorded:  # type: ignore[no-untyped-def, type-arg]
    v = csaf_statements(data, flatten_advisory(data, source="bench-vex.json"), "bench-vex.json")
    with store.transaction() as conn:
        return vex.record(conn, v, "0" * 64, principal=local_principal(), source="bench-vex.json")


def child(db: Path, src: str, code: str = CHILD, *extra: str) -> dict:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code, str(db), src, *extra], capture_output=True, text=True, env=env,
                         check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--feed-subset", type=int, default=1)
    ap.add_argument("--statements", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sync", action="store_true",
                    help="also: the feed ingested 32 documents per call (as sync does) with the VEX recorded first")
    ap.add_argument("--baseline-src", default=None, help="src/ of the checkout to compare with (e.g. main)")
    args = ap.parse_args()
    if not CISA.is_dir():
        sys.exit(f"shared CISA data not found at {CISA}")
    sides = {"this checkout": str(ROOT / "src")}
    if args.baseline_src:
        sides = {"baseline": args.baseline_src, **sides}
    with tempfile.TemporaryDirectory() as tmpdir:
        base = Path(tmpdir) / "plant.db"
        t = time.process_time()
        created, recorded, affected = setup(base, args.assets, args.feed_subset, args.statements)
        print(f"set-up {time.process_time() - t:.1f} s CPU: {args.assets:,} assets, {created:,} findings "
              f"({affected:,} affected), {recorded:,} VEX statements recorded")
        best: dict[tuple[str, str], dict] = {}  # type: ignore[type-arg]
        for r in range(args.repeat):
            for name, src in sides.items():
                db = Path(tmpdir) / f"run-{r}-{name.replace(' ', '-')}.db"
                shutil.copy(base, db)
                got = child(db, src)
                for run, g in got.items():
                    print(f"  run {r + 1} {name}, apply {run}: {g['cpu']:.3f} s CPU ({g['wall']:.3f} s wall), "
                          f"{g['closed']} closed")
                    if (name, run) not in best or g["cpu"] < best[name, run]["cpu"]:
                        best[name, run] = g
                db.unlink()
        for run, what in (("first", "closing what the statements cover"), ("again", "nothing left to close")):
            mine = best["this checkout", run]
            print(f"best, apply {run} ({what}): this checkout {mine['cpu']:.3f} s CPU ({mine['wall']:.3f} s wall), "
                  f"{mine['closed']} closed")
            if ("baseline", run) in best:
                b = best["baseline", run]
                print(f"    baseline {b['cpu']:.3f} s CPU ({b['wall']:.3f} s wall), {b['closed']} closed; ratio "
                      f"this / baseline {mine['cpu'] / b['cpu']:.3f}x CPU, {mine['wall'] / b['wall']:.3f}x wall"
                      + ("" if mine["closed"] == b["closed"] else "  (CLOSED COUNTS DIFFER)"))
        if args.sync:
            sync_best: dict[str, dict] = {}  # type: ignore[type-arg]
            for r in range(args.repeat):
                for name, src in sides.items():
                    db = Path(tmpdir) / f"sync-{r}-{name.replace(' ', '-')}.db"
                    shutil.copy(base.with_suffix(".sync.db"), db)
                    got = child(db, src, SYNC_CHILD, str(CISA), str(max(1, args.feed_subset)))
                    print(f"  run {r + 1} {name}, feed ingested 32 at a time with the VEX recorded first: "
                          f"{got['cpu']:.2f} s CPU ({got['wall']:.2f} s wall), {got['closed']} closed, "
                          f"{got['documents']} documents")
                    if name not in sync_best or got["cpu"] < sync_best[name]["cpu"]:
                        sync_best[name] = got
                    db.unlink()
            mine = sync_best["this checkout"]
            line = f"best, sync-like ingest: this checkout {mine['cpu']:.2f} s CPU, {mine['closed']} closed"
            if "baseline" in sync_best:
                b = sync_best["baseline"]
                line += (f"; baseline {b['cpu']:.2f} s CPU, {b['closed']} closed; ratio {mine['cpu'] / b['cpu']:.3f}x CPU"
                         + ("" if mine["closed"] == b["closed"] else "  (CLOSED COUNTS DIFFER)"))
            print(line)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
