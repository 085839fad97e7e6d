"""bench_matching against a baseline commit, in the same run: is matching slower than before?

    .venv/bin/python bench/bench_matching_compare.py [--baseline main] [--assets 50000] [--rounds 1]

The baseline commit's tree is exported (``git archive``) into a temporary directory beside a link
to the shared data, and this tree's ``bench/bench_matching.py`` (the same harness on both sides,
so both are measured alike; ``--own-harness`` runs the baseline's own instead) runs there against
the baseline's code; then this tree's runs,
alternating (baseline, current, baseline, ...) so both see the same machine load. Prints the
CPU seconds of the index build and of matching the whole feed (cold caches) for each side and
the ratio current / baseline (below 1.0: faster). Note that the two sides may not produce the
same findings (that is the point of a change); their counts are printed too.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data")).parent
_ALL = re.compile(r"match all advisories \(indexed\): ([\d.]+) s cold.*-> (\d+) findings")
_INDEX = re.compile(r"index built in ([\d.]+) s")


def export(ref: str, into: Path, own_harness: bool = False) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src", "bench"], check=True, capture_output=True).stdout
    tree = into / "baseline"
    tree.mkdir()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(tree, filter="data")
    if not own_harness:
        shutil.copyfile(ROOT / "bench" / "bench_matching.py", tree / "bench" / "bench_matching.py")
    (into / "shared").symlink_to(SHARED)
    return tree


def run(tree: Path, assets: int) -> tuple[float, float, int]:
    out = subprocess.run(
        [sys.executable, str(tree / "bench" / "bench_matching.py"), "--assets", str(assets), "--kinds", str(assets // 5),
         "--naive-sample", "1"],
        check=True, capture_output=True, text=True, env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin",
                                        "ZONEWARDEN_SHARED_DATA": str(SHARED / "data")},
    ).stdout
    m, i = _ALL.search(out), _INDEX.search(out)
    if not m or not i:
        raise SystemExit(f"unexpected bench_matching output:\n{out}")
    return float(i.group(1)), float(m.group(1)), int(m.group(2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="main", help="git ref to compare with")
    ap.add_argument("--assets", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--own-harness", action="store_true", help="run the baseline's own bench_matching.py")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = export(args.baseline, Path(tmp), args.own_harness)
        base, cur = [], []
        for _ in range(args.rounds):
            base.append(run(base_tree, args.assets))
            cur.append(run(ROOT, args.assets))
    for name, rows in (("baseline " + args.baseline, base), ("current", cur)):
        print(f"{name:<20} index {statistics.median(r[0] for r in rows):6.2f} s, whole feed cold "
              f"{statistics.median(r[1] for r in rows):6.2f} s, {rows[0][2]} findings")
    ratio = statistics.median(r[1] for r in cur) / statistics.median(r[1] for r in base)
    ratio_i = statistics.median(r[0] for r in cur) / statistics.median(r[0] for r in base)
    print(f"ratio current / baseline: whole feed {ratio:.2f}x, index build {ratio_i:.2f}x")
    per_round = ", ".join(f"{c[1] / b[1]:.2f}" for b, c in zip(base, cur, strict=True))
    print(f"whole feed ratio per round: {per_round}")


if __name__ == "__main__":
    main()
