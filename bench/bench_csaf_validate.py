"""Benchmark: strict CSAF 2.0 validation of CISA's 2023 advisories.

Prints documents per second and ratios against two baselines measured in the same run:

* plain ``orjson.loads`` of the same bytes (the floor: parsing alone), and
* BSI's reference validator ``@secvisogram/csaf-validator-lib`` (schema + mandatory tests, the
  same scope as our strict mode) run under Node, when ``npm``/``node`` are available. It is
  installed into a temporary folder outside the repository (``/tmp/csafval`` by default,
  ``CSAFVAL_DIR`` to change) and never committed; without npm that comparison is skipped.

Also reports lenient mode over the same files, and how many documents each validator accepts.

Run: ``.venv/bin/python bench/bench_csaf_validate.py [--repeat 5] [--year 2023]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson
from timing import best_interleaved  # bench/, the script's own folder

from zonewarden.io.csaf import read_csaf

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
NODE_DIR = Path(os.environ.get("CSAFVAL_DIR", "/tmp/csafval"))
NODE_LIB = "@secvisogram/csaf-validator-lib@2.0.10"

# Node side: parse + validate each file with the library's "basic" set (csaf_2_0_strict schema
# test and every mandatory test), the equivalent of our strict mode. Prints JSON timings.
NODE_SCRIPT = r"""
import { readFileSync } from 'node:fs'
import * as basic from '@secvisogram/csaf-validator-lib/basic.js'
import validate from '@secvisogram/csaf-validator-lib/validate.js'

const files = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const repeat = Number(process.argv[3])
const tests = Object.values(basic)
const texts = files.map((f) => readFileSync(f, 'utf8'))
async function once() {
  let valid = 0
  const t0 = process.hrtime.bigint()
  for (const text of texts) {
    const res = await validate(tests, JSON.parse(text))
    if (res.isValid) valid++
  }
  return [Number(process.hrtime.bigint() - t0) / 1e9, valid]
}
function parseOnly() {
  const t0 = process.hrtime.bigint()
  for (const text of texts) JSON.parse(text)
  return Number(process.hrtime.bigint() - t0) / 1e9
}
await once() // warm-up: JIT and the library's lazy schema compilation
let best = Infinity, valid = 0, parse = Infinity
for (let i = 0; i < repeat; i++) {
  parse = Math.min(parse, parseOnly())
  const [s, v] = await once()
  if (s < best) { best = s; valid = v }
}
console.log(JSON.stringify({ seconds: best, parse_seconds: parse, valid, count: texts.length }))
"""


def ensure_node_validator() -> str | None:
    """Install the reference validator if needed; return why not, or None when ready."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not available"
    marker = NODE_DIR / "node_modules" / "@secvisogram" / "csaf-validator-lib" / "basic.js"
    if not marker.exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        print(f"installing {NODE_LIB} into {NODE_DIR} ...", file=sys.stderr)
        proc = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR), NODE_LIB],
            capture_output=True, text=True, timeout=600, check=False,
        )
        if proc.returncode != 0 or not marker.exists():
            return f"npm install failed: {proc.stderr.strip()[-300:]}"
    (NODE_DIR / "bench.mjs").write_text(NODE_SCRIPT, encoding="utf-8")
    return None


def run_node(files: list[Path], repeat: int) -> dict | None:
    why = ensure_node_validator()
    if why is not None:
        print(f"reference validator comparison skipped: {why}", file=sys.stderr)
        return None
    listing = NODE_DIR / "files.json"
    listing.write_text(json.dumps([str(f) for f in files]), encoding="utf-8")
    proc = subprocess.run(
        ["node", str(NODE_DIR / "bench.mjs"), str(listing), str(repeat)],
        capture_output=True, text=True, cwd=NODE_DIR, timeout=1800, check=False,
    )
    if proc.returncode != 0:
        print(f"reference validator failed: {proc.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best is kept")
    parser.add_argument("--year", default="2023", help="CISA feed year folder, or 'all'")
    parser.add_argument("--no-node", action="store_true", help="skip the reference validator")
    args = parser.parse_args()

    root = SHARED / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
    folder = root if args.year == "all" else root / args.year
    files = sorted(folder.glob("*/*.json" if args.year == "all" else "*.json"))
    if not files:
        print(f"no advisories under {folder} (set ZONEWARDEN_SHARED_DATA)", file=sys.stderr)
        return 2
    blobs = [f.read_bytes() for f in files]
    n = len(blobs)
    size_mb = sum(map(len, blobs)) / 1e6

    read_csaf(blobs[0], source="warm-up", strict=True)  # compile the schema outside the timing

    # Each document is dropped after use, as an ingest loop does once it has stored it.
    def parse_only() -> None:
        for blob in blobs:
            orjson.loads(blob)

    def strict() -> None:
        for blob in blobs:
            read_csaf(blob, source="b", strict=True)

    def lenient() -> None:
        for blob in blobs:
            read_csaf(blob, source="b")

    best = best_interleaved(
        args.repeat, {"orjson": parse_only, "strict": strict, "lenient": lenient}, clock=time.perf_counter
    )
    t_orjson, t_strict, t_lenient = best["orjson"], best["strict"], best["lenient"]
    strict_ok = sum(read_csaf(b, source="b", strict=True).accepted for b in blobs)
    lenient_ok = sum(read_csaf(b, source="b").accepted for b in blobs)

    print(f"CISA {args.year}: {n} advisories, {size_mb:.1f} MB, best of {args.repeat}")
    print(f"  orjson.loads only      {n / t_orjson:9.0f} docs/s   {1000 * t_orjson / n:6.3f} ms/doc   1.00x")
    print(f"  zonewarden strict      {n / t_strict:9.0f} docs/s   {1000 * t_strict / n:6.3f} ms/doc   "
          f"{t_strict / t_orjson:.2f}x orjson   accepted {strict_ok}/{n}")
    print(f"  zonewarden lenient     {n / t_lenient:9.0f} docs/s   {1000 * t_lenient / n:6.3f} ms/doc   "
          f"{t_lenient / t_orjson:.2f}x orjson   accepted {lenient_ok}/{n}")
    if not args.no_node:
        node = run_node(files, args.repeat)
        if node is not None:
            t_node = node["seconds"]
            print(f"  csaf-validator-lib     {n / t_node:9.0f} docs/s   {1000 * t_node / n:6.3f} ms/doc   "
                  f"{t_node / t_orjson:.2f}x orjson   valid {node['valid']}/{n}")
            print(f"  (Node's JSON.parse alone: {1000 * node['parse_seconds'] / n:.3f} ms/doc; the "
                  f"reference validator costs {t_node / node['parse_seconds']:.2f}x its own parse)")
            print(f"  zonewarden strict is {t_node / t_strict:.2f}x as fast as the reference validator")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
