"""Benchmark: the pure per-document phases of advisory ingest, each as a ratio to parsing alone.

    .venv/bin/python bench/bench_csaf_phases.py [--repeat 3]

Every shared CISA advisory (``csaf_files/OT/white/*/*.json``) is read into memory first (not
timed). Then, in each round, in turn:

* ``orjson.loads`` of every file (the baseline);
* ``read_csaf`` lenient and ``read_csaf`` strict (parse + limits + JSON schema + mandatory tests);
* the parts of ``read_csaf`` on the already parsed documents: the limit check, the JSON schema,
  the mandatory tests;
* ``flatten_advisory`` of the parsed documents (product tree, vulnerabilities, exploitation
  evidence, remediations), and ``flattens_leniently``, the check that replaces it when
  lenient ingest has no site to match.

Storage and matching are not included: ``bench/bench_ingest.py`` measures the whole ingest.
Times are CPU seconds of this process (``time.process_time``), the best of ``--repeat`` rounds
in which the phases take turns, so that a busy moment on a shared machine hits all of them
alike; only the ratios compare across runs. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from timing import best_interleaved  # noqa: E402  (bench/, the script's own folder)

from zonewarden.engines.products import flatten_advisory, flattens_leniently  # noqa: E402
from zonewarden.io.csaf.mandatory import run_mandatory_tests  # noqa: E402
from zonewarden.io.csaf.reader import DEFAULT_LIMITS, _find_limit_violation, read_csaf  # noqa: E402
from zonewarden.io.csaf.schema import schema_deviations  # noqa: E402

SHARED = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
CISA = SHARED / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; the best is kept")
    args = parser.parse_args()

    files = sorted(CISA.glob("*/*.json"))
    if not files:
        print(f"skipped: no CISA advisories under {CISA} (the shared data lies beside the project "
              "as ../shared/data, or set ZONEWARDEN_SHARED_DATA)", file=sys.stderr)
        return 0
    blobs = [(str(f), f.read_bytes()) for f in files]
    docs = [(src, orjson.loads(blob), len(blob)) for src, blob in blobs]
    n = len(blobs)
    size_mb = sum(len(b) for _, b in blobs) / 1e6

    # Warm-up outside the timing: schema compilation, pydantic validators, regexes, caches.
    for src, blob in blobs[:50]:
        res = read_csaf(blob, source=src, strict=True)
        if res.document is not None:
            flatten_advisory(res.document, source=src)

    def parse() -> None:
        for _, blob in blobs:
            orjson.loads(blob)

    def lenient() -> None:
        for src, blob in blobs:
            read_csaf(blob, source=src)

    def strict() -> None:
        for src, blob in blobs:
            read_csaf(blob, source=src, strict=True)

    def limits() -> None:
        for _, doc, size in docs:
            _find_limit_violation(doc, size, DEFAULT_LIMITS)

    def schema() -> None:
        for _, doc, _ in docs:
            schema_deviations(doc)

    def mandatory() -> None:
        for _, doc, _ in docs:
            run_mandatory_tests(doc)

    def flatten() -> None:
        for src, doc, _ in docs:
            flatten_advisory(doc, source=src)

    def lenient_check() -> None:
        for _, doc, _ in docs:
            flattens_leniently(doc)

    phases: dict[str, Callable[[], object]] = {
        "orjson.loads (baseline)": parse,
        "read_csaf lenient": lenient,
        "read_csaf strict": strict,
        "  limits (parsed docs)": limits,
        "  JSON schema (parsed docs)": schema,
        "  mandatory tests (parsed docs)": mandatory,
        "flatten_advisory (parsed docs)": flatten,
        "flattens_leniently (parsed docs)": lenient_check,
    }
    best = best_interleaved(args.repeat, phases)
    base = best["orjson.loads (baseline)"]
    accepted = sum(read_csaf(b, source=s).accepted for s, b in blobs)
    print(f"CISA: {n} advisories, {size_mb:.1f} MB, {accepted} accepted in lenient mode; "
          f"CPU seconds, best of {args.repeat}")
    print(f"  {'phase':34} {'seconds':>8} {'ms/doc':>8} {'x orjson':>9}")
    for name, seconds in best.items():
        print(f"  {name:34} {seconds:8.3f} {1000 * seconds / n:8.3f} {seconds / base:9.2f}")
    print("  (read_csaf includes its own parse; the indented parts and flatten_advisory work on "
          "parsed documents)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
