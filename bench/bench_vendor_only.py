"""Benchmark: the whole CISA feed ingested into a 10k-asset plant whose assets often carry a vendor
but no product (as an InduForm or CSV import leaves them), against the same ingest with no site.

    .venv/bin/python bench/bench_vendor_only.py [--assets 10000] [--vendor-only 0.6] [--feed-subset K]

The plant is ``bench/synth.py generate(N)`` with a share of its assets (``--vendor-only``) stripped
to a vendor only (no product, model number, version, CPE or purl); their vendors are drawn from
the vendors CISA's advisories name, so most of them have advisories. Targets (issue 14): the
ingest with the plant at most **3x** the CPU time of the ingest with no site, and at most
**200 MB** database growth (the growth of the plant's database during the ingest, WAL
included). Both ingests run in the same run, each in a fresh child process (so neither gets the
other's warm caches) into a fresh SQLite database, alternating ``--repeat`` times (best of each);
times are CPU seconds of the child (``time.process_time``), wall time beside for reference.
Vendor-only assets are inventory gaps (``engines.inventory_gaps``): one gap item each, no
per-advisory findings; the gap count and unassessable exposure are printed too.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from synth import generate  # noqa: E402

from zonewarden.domain.site import SiteDocument  # noqa: E402
from zonewarden.services import advisories as svc  # noqa: E402
from zonewarden.services.principal import local_principal  # noqa: E402
from zonewarden.services.queries.inventory import unassessable  # noqa: E402
from zonewarden.services.sites import import_documents  # noqa: E402
from zonewarden.store.db import open_store  # noqa: E402

CISA = ROOT.parent / "shared" / "data" / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"


def feed_vendors(items: list[tuple[str, bytes]]) -> list[str]:
    """Vendor names as CISA's product trees write them (top-level vendor branches)."""
    names: dict[str, None] = {}
    for _, data in items:
        try:
            tree = orjson.loads(data).get("product_tree") or {}
        except orjson.JSONDecodeError:
            continue
        for b in tree.get("branches") or ():
            if isinstance(b, dict) and b.get("category") == "vendor" and isinstance(b.get("name"), str):
                names[b["name"]] = None
    return sorted(names)


def plant(n: int, share: float, vendors: list[str], seed: int = 62443) -> SiteDocument:
    data = generate(n, seed=seed)
    rng = random.Random(seed + 1)
    for asset in data["assets"]:
        if rng.random() < share:
            asset["vendor"] = rng.choice(vendors)
            for key in ("product", "model_number", "version", "cpe", "purl"):
                asset.pop(key, None)
    return SiteDocument.model_validate(data)


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def ingest(path: Path, items: list[tuple[str, bytes]], doc: SiteDocument | None) -> tuple[float, float, int, object]:
    store = open_store(f"sqlite:///{path}")
    if doc is not None:
        import_documents(store, [doc], principal=local_principal())
    store.close()  # the last connection closed checkpoints the WAL: the file holds everything
    before = _db_bytes(path)
    store = open_store(f"sqlite:///{path}")
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    report = svc.ingest_bytes(store, items, principal=local_principal())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    gaps = unassessable(store, principal=local_principal(), site_id=doc.site.id) if doc is not None else None
    store.close()
    return cpu, wall, _db_bytes(path) - before, (report, gaps)


def _child(args: tuple[str, int, float, int, bool]) -> tuple[float, float, int, int, str | None, int, int]:
    path, n, share, subset, with_plant = args
    items = _items(subset)
    doc = plant(n, share, feed_vendors(items)) if with_plant else None
    cpu, wall, growth, (report, gaps) = ingest(Path(path), items, doc)
    stripped = sum(1 for a in doc.assets if a.vendor and not (a.product or a.model_number)) if doc else 0
    return cpu, wall, growth, report.findings_created, str(gaps) if gaps else None, stripped, len(items)  # type: ignore[attr-defined]


def _items(subset: int) -> list[tuple[str, bytes]]:
    items = [(str(p), p.read_bytes()) for p in sorted(CISA.glob("*/*.json"))]
    return items[::subset] if subset > 1 else items


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--vendor-only", type=float, default=0.6, help="share of assets with a vendor only")
    ap.add_argument("--feed-subset", type=int, default=0, help="use every k-th advisory only (quick runs)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per side (the best is printed)")
    args = ap.parse_args()
    if not CISA.is_dir():
        sys.exit(f"shared CISA data not found at {CISA}")
    ctx = multiprocessing.get_context("spawn")
    base, run = [], []
    with tempfile.TemporaryDirectory() as tmpdir:
        for r in range(args.repeat):
            for with_plant, out in ((False, base), (True, run)):
                with ctx.Pool(1) as pool:
                    out.append(pool.apply(_child, ((f"{tmpdir}/{with_plant}-{r}.db", args.assets, args.vendor_only,
                                                    args.feed_subset, with_plant),)))
    b, p = min(base), min(run)
    print(f"{p[6]} CISA advisories; plant of {args.assets:,} assets, {p[5]:,} vendor only")
    print(f"  ingest, no site:   {b[0]:.2f} s CPU ({b[1]:.2f} s wall), database growth {b[2] / 1e6:.1f} MB")
    print(f"  ingest, the plant: {p[0]:.2f} s CPU ({p[1]:.2f} s wall), database growth {p[2] / 1e6:.1f} MB, "
          f"{p[3]:,} findings")
    print(f"  unassessable exposure: {p[4]}")
    ratio = p[0] / b[0] if b[0] else float("inf")
    print(f"  ratio plant / no site: {ratio:.2f}x CPU (target <= 3x: {'met' if ratio <= 3 else 'MISSED'}); "
          f"growth {p[2] / 1e6:.1f} MB (target <= 200 MB: {'met' if p[2] <= 200e6 else 'MISSED'})")

if __name__ == "__main__":
    main()
