"""Benchmark: SBOM import and advisory ingest with SBOM components (issue 14 item 5).

    .venv/bin/python bench/bench_sbom.py [--assets 10] [--components 1000] [--feed-subset 1]

Part 1, reading: a synthetic CycloneDX 1.5 SBOM of ``--components`` components (purls) through
``io.sbom.read_sbom`` (schema check + purl/CPE check + components), against the baseline of
plain ``orjson.loads`` of the same bytes, and against cyclonedx-python-lib's own pure-Python
validator alone (what the schema check cost before it moved to jsonschema-rs).

Part 2, matching: the shared CISA feed (every ``--feed-subset``-th advisory) ingested into the
example plant with no SBOM (the baseline, in the same run), and again with ``--assets`` of its
assets each carrying the SBOM. CISA's feed has no purl/CPE, so no component matches: this is
the cost of carrying components through matching, which must stay small.

CPU seconds of this process (``time.process_time``); wall time is noise on a shared machine.
Needs ../shared/data. Not collected by pytest; figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zonewarden.io.sbom import read_sbom  # noqa: E402
from zonewarden.io.sitefile import load_site  # noqa: E402
from zonewarden.services import advisories as svc  # noqa: E402
from zonewarden.services.principal import local_principal  # noqa: E402
from zonewarden.services.sbom import import_sbom  # noqa: E402
from zonewarden.services.sites import import_documents  # noqa: E402
from zonewarden.store.db import open_store  # noqa: E402

FEED = ROOT.parent / "shared" / "data" / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"


def _sbom(n: int, salt: str = "") -> bytes:
    # A salt per repetition: purl parsing is cached, and a real import sees new purls.
    comps = [{"type": "library", "name": f"lib{i}", "version": f"1.{i % 50}.0",
              "purl": f"pkg:generic/vendor{i % 97}/lib{salt}{i}@1.{i % 50}.0"} for i in range(n)]
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps}).encode()


def _cpu(func) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    func()
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=10)
    ap.add_argument("--components", type=int, default=1000)
    ap.add_argument("--feed-subset", type=int, default=1)
    args = ap.parse_args()
    raw = _sbom(args.components)
    read_sbom(raw, "warm-up")
    base = min(_cpu(lambda: orjson.loads(raw)) for _ in range(3))
    fresh = [_sbom(args.components, f"r{k}-") for k in range(3)]
    ours = min(_cpu(lambda data=data: read_sbom(data, "x")) for data in fresh)  # type: ignore[misc]
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    lib = JsonStrictValidator(SchemaVersion.V1_5)
    text = raw.decode()
    lib.validate_str(text)
    library = min(_cpu(lambda: lib.validate_str(text)) for _ in range(2))
    print(f"read_sbom, {args.components} components: {ours:.3f} s (x{ours / base:.0f} plain JSON parse {base:.4f} s); "
          f"the library's validator alone {library:.3f} s (x{library / ours:.1f} read_sbom)")

    if not FEED.is_dir():
        print(f"no shared data at {FEED}: matching part skipped")
        return
    items = [(str(p), p.read_bytes()) for p in sorted(FEED.rglob("*.json"))[:: args.feed_subset]]
    me = local_principal()
    plant = load_site(ROOT / "examples" / "pharma-plant")

    def ingest(with_sbom: bool) -> float:
        d = tempfile.mkdtemp()
        store = open_store(f"sqlite:///{d}/zw.db")
        import_documents(store, [plant], reason="bench", principal=me)
        if with_sbom:
            for a in plant.assets[: args.assets]:
                import_sbom(store, plant.site.id, a.id, "bench.json", data=raw, principal=me)
        spent = _cpu(lambda: svc.ingest_bytes(store, items, strict=False, principal=me))
        store.close()
        return spent

    plain = min(ingest(False), ingest(False))
    carried = min(ingest(True), ingest(True))
    print(f"ingest of {len(items)} advisories into the example plant: {plain:.2f} s without SBOMs, "
          f"{carried:.2f} s with {args.assets} x {args.components} components (x{carried / plain:.2f})")


if __name__ == "__main__":
    main()
