"""Benchmark: match every shared CISA advisory against a synthetic 100k-asset inventory.

    .venv/bin/python bench/bench_matching.py [--assets 100000] [--naive-sample 6] [--seed 62443]

The inventory is generated with a fixed seed from the advisories themselves: real vendor
spellings (and alias variants), real product names (some made more or less specific, as
inventories are), versions taken from the range bounds and nudged around them, some assets
without a version and some of vendors no advisory names. The baseline is the naive matcher
(every product entry against every asset, same rules, no index) measured in the same run on
a sample of advisories and extrapolated per advisory; the benchmark prints the ratio.
Times are CPU seconds of this process (``time.process_time``): the machines this runs on are
shared, and wall time would measure the neighbours. Not collected by pytest (see
docs/advisory-matching.md).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zonewarden.domain.advisories import FlatAdvisory  # noqa: E402
from zonewarden.domain.site import Asset, AssetType  # noqa: E402
from zonewarden.engines.matching import (  # noqa: E402
    InventoryIndex,
    match_advisory,
    match_advisory_naive,
    match_all,
)
from zonewarden.engines.products import flatten_advisory  # noqa: E402
from zonewarden.engines.ranges import VersionRange, parse_range  # noqa: E402

CISA = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data")) / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
VENDOR_VARIANTS = {
    "Siemens": ["Siemens AG", "SIEMENS"],
    "Rockwell Automation": ["Rockwell", "Allen-Bradley"],
    "Schneider Electric": ["Schneider", "Schneider Electric SE"],
    "Mitsubishi Electric": ["Mitsubishi", "Mitsubishi Electric Corporation"],
}
TYPES = [AssetType.PLC, AssetType.HMI, AssetType.SCADA_SERVER, AssetType.ENGINEERING_WORKSTATION, AssetType.SWITCH]


def load_advisories() -> list[FlatAdvisory]:
    out = []
    for path in sorted(CISA.glob("*/*.json")):
        out.append(flatten_advisory(orjson.loads(path.read_bytes()), source=str(path)))
    return out


def _version_near(rng: random.Random, text: str | None) -> str | None:
    r = parse_range(text) if text else None
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.08:
        return "unknown build"
    if isinstance(r, VersionRange):
        bounds = [b for i in r.intervals for b in (i.lower, i.upper) if b is not None]
        if bounds:
            b = rng.choice(bounds).version
            release = list(b.release) or [1]
            choice = rng.random()
            if choice < 0.4:
                return b.text
            if choice < 0.7:
                release[-1] = max(0, release[-1] - rng.randint(1, 3))
            else:
                release[-1] += rng.randint(1, 3)
            return "V" + ".".join(map(str, release))
    return f"{rng.randint(1, 9)}.{rng.randint(0, 20)}"


def synthetic_inventory(advisories: list[FlatAdvisory], n: int, seed: int, kinds: int = 20_000) -> list[Asset]:
    """``n`` assets of ``kinds`` device kinds; fleet sizes are skewed as in plants.

    A plant has hundreds of the same I/O module or drive on one firmware and a handful of
    one-off servers; kinds are drawn with weights 1/rank so a few kinds make large fleets.
    ``kinds >= n`` gives a worst case where nearly every asset is different.
    """
    rng = random.Random(seed)
    entries = [(p.vendor, p.product or p.name, p.version_text, p.model_numbers) for a in advisories for p in a.products if p.vendor]
    catalogue = []
    for i in range(kinds):
        vendor, product, version_text, models = rng.choice(entries)
        roll = rng.random()
        if roll < 0.10:
            vendor, product = f"Acme Industrial {i % 97}", f"Widget {i % 13}"
        else:
            vendor = vendor.strip()
            if vendor in VENDOR_VARIANTS and rng.random() < 0.3:
                vendor = rng.choice(VENDOR_VARIANTS[vendor])
            if roll < 0.20:
                product = product + " " + rng.choice(["CPU 1516-3 PN/DP", "Runtime", "Advanced", "PRO"])
            elif roll < 0.25 and " " in product:
                product = product.rsplit(" ", 1)[0]
        model = rng.choice(models) if models and rng.random() < 0.5 else None
        catalogue.append((vendor, product, model, _version_near(rng, version_text)))
    weights = [1 / (rank + 1) for rank in range(kinds)] if kinds < n else None
    picks = rng.choices(catalogue, weights=weights, k=n) if weights else [catalogue[i % kinds] for i in range(n)]
    return [
        Asset(
            id=f"asset-{i:06d}",
            name=f"asset {i}",
            type=TYPES[i % len(TYPES)],
            vendor=vendor,
            product=product,
            model_number=model,
            version=version,
        )
        for i, (vendor, product, model, version) in enumerate(picks)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=int, default=100_000)
    ap.add_argument("--naive-sample", type=int, default=6, help="advisories timed with the naive baseline")
    ap.add_argument("--seed", type=int, default=62443)
    ap.add_argument("--kinds", type=int, default=20_000, help="distinct device kinds (>= --assets: all distinct)")
    args = ap.parse_args()
    if not CISA.is_dir():
        sys.exit(f"shared CISA data not found at {CISA}")

    t0 = time.process_time()
    advisories = load_advisories()
    t_load = time.process_time() - t0
    assets = synthetic_inventory(advisories, args.assets, args.seed, args.kinds)

    # A full collection first, as before the whole-feed run below: the flattened feed leaves
    # millions of objects the collector has not yet walked, and the full collection they are due
    # would otherwise land in whichever allocation comes next (measured: 0.12 s -> 0.25 s on
    # 20,000 assets), which is not the index's work.
    gc.collect()
    t0 = time.process_time()
    index = InventoryIndex(assets)
    t_index = time.process_time() - t0

    gc.collect()
    t0 = time.process_time()
    findings = match_all(advisories, index)
    t_all = time.process_time() - t0
    statuses = Counter(f.status.value for f in findings)
    reasons = Counter(f.reason.value for f in findings if f.reason)
    n_findings = len(findings)
    del findings
    # Second run: the relation and range caches are warm (a service matching new advisories).
    gc.collect()
    t0 = time.process_time()
    match_all(advisories, index)
    t_all_warm = time.process_time() - t0
    gc.collect()

    # One advisory, on a warm index (the triage case: a new advisory arrives).
    rng = random.Random(args.seed)
    sample = rng.sample(advisories, 200)
    one = []
    for adv in sample:
        t0 = time.process_time()
        match_advisory(adv, index)
        one.append(time.process_time() - t0)
    biggest = max(advisories, key=lambda a: len(a.products))
    t0 = time.process_time()
    match_advisory(biggest, index)
    t_big = time.process_time() - t0

    # Baseline: the naive loop on a sample, against the indexed matcher on the same sample.
    naive_sample = rng.sample(advisories, args.naive_sample)
    t0 = time.process_time()
    naive = [match_advisory_naive(a, assets) for a in naive_sample]
    t_naive = time.process_time() - t0
    t0 = time.process_time()
    fast = [match_advisory(a, index) for a in naive_sample]
    t_fast = time.process_time() - t0
    same = all(
        [(f.asset_id, f.status, f.reason) for f in x] == [(f.asset_id, f.status, f.reason) for f in y]
        for x, y in zip(naive, fast, strict=True)
    )
    naive_all_estimate = t_naive / len(naive_sample) * len(advisories)

    print(f"advisories: {len(advisories)} (flattened in {t_load:.2f} s, not counted)")
    print(f"assets: {len(assets)} of {args.kinds} kinds ({index.classes} distinct to matching); index built in {t_index:.2f} s")
    print(
        f"match all advisories (indexed): {t_all:.2f} s cold, {t_all_warm:.2f} s warm -> "
        f"{n_findings} findings {dict(statuses)}"
    )
    print(f"  needs-review reasons: {dict(reasons.most_common())}")
    print(
        f"one advisory (indexed, warm): median {statistics.median(one) * 1000:.2f} ms, "
        f"p95 {sorted(one)[int(len(one) * 0.95)] * 1000:.2f} ms, max {max(one) * 1000:.2f} ms; "
        f"largest ({biggest.id}, {len(biggest.products)} products) {t_big * 1000:.2f} ms"
    )
    print(
        f"naive baseline on {len(naive_sample)} advisories: {t_naive:.2f} s vs indexed {t_fast * 1000:.1f} ms "
        f"-> ratio naive/indexed = {t_naive / max(t_fast, 1e-9):.0f}x (same findings: {same})"
    )
    print(
        f"all advisories: naive extrapolated {naive_all_estimate:.0f} s vs indexed {t_all:.2f} s "
        f"-> ratio {naive_all_estimate / t_all:.0f}x"
    )
    print(f"targets: all < 5 s (cold): {'OK' if t_all < 5 else 'MISSED'}; one < 50 ms (p95): "
          f"{'OK' if sorted(one)[int(len(one) * 0.95)] < 0.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
