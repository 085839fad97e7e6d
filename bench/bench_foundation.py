"""Benchmark of issue 2: import, check and paths on synthetic sites of 1k, 10k and 100k assets.

Every figure is printed as a ratio against a baseline measured in the same run on the same
files: plain YAML parsing of the site directory (yaml-rs, no validation). Absolute seconds are
printed too, for the targets, but on a shared machine only the ratios compare across runs.
Each step runs in its own process so its peak memory (max RSS) is its own. `check-db` and
`paths-db` run the commands themselves (imports, database, default table output to /dev/null);
only the interpreter's own start-up (~30 ms) is outside the figure. `edit-db` is one
`requirement set` on the stored site (read, re-validate the whole site, write what changed).

    .venv/bin/python bench/bench_foundation.py                 # 1k, 10k, 100k
    .venv/bin/python bench/bench_foundation.py --sizes 1000    # quick
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STEP = r'''
import json, sys, time, datetime as dt
from pathlib import Path
from zonewarden.services.principal import local_principal
site, db, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
today = dt.date(2026, 11, 25)
t0 = time.perf_counter()
if step == "yaml":
    import yaml_rs
    for f in sorted(site.glob("*.yaml")):
        yaml_rs.loads(f.read_text())
elif step == "import":
    from zonewarden.io.sitefile import load_site
    from zonewarden.services.sites import import_documents
    from zonewarden.store.db import open_store
    import_documents(open_store(db), [load_site(site)], principal=local_principal(name="bench"))
elif step in ("check-db", "paths-db"):
    # The commands themselves, as a user runs them (default table output, to /dev/null).
    import contextlib, os
    from zonewarden.cli.main import cli
    args = (["check", "--as-of", str(today), "--fail-on", "never"] if step == "check-db"
            else ["paths", "--from", "enterprise", "--to", "safety", "--max-hops", "6", "--limit", "1000"])
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        cli.main(args + ["--db", db], standalone_mode=False)
elif step == "edit-db":
    # One requirement status set through the command: read, validate the whole site, write.
    import contextlib, os
    from zonewarden.cli.main import cli
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        rc = cli.main(["requirement", "set", sys.argv[4], "SR 1.1", "implemented", "--reason", "bench", "--db", db],
                      standalone_mode=False)
    if rc:
        sys.exit(f"requirement set failed with exit code {rc}")
elif step == "check-file":
    from zonewarden.io.sitefile import load_site
    from zonewarden.engines.segmentation import run_check
    run_check(load_site(site), today=today)
elapsed = time.perf_counter() - t0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent (which holds the
# generated site), VmHWM belongs to this process's own memory map.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": elapsed, "peak_mb": hwm / 1024}))
'''

TARGETS = {100_000: {"import": 30.0, "check-db": 2.0, "paths-db": 2.0, "check-file": 10.0}}


def run_step(site: Path, db: str, step: str, *extra: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", STEP, str(site), db, step, *extra], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    args = parser.parse_args()
    from synth import generate, write

    print(f"{'assets':>8} {'step':<11} {'seconds':>8} {'× yaml':>7} {'peak MB':>8}  target")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = generate(n)
            zone = next((z["id"] for z in data["zones"] if z.get("kind") == "control"), data["zones"][0]["id"])
            site = write(data, Path(tmp) / "site")
            db = f"sqlite:///{Path(tmp) / 'bench.db'}"
            base = run_step(site, db, "yaml")
            print(f"{n:>8} {'yaml parse':<11} {base['seconds']:>8.2f} {1.0:>7.2f} {base['peak_mb']:>8.0f}  (baseline)")
            for step in ("import", "check-db", "paths-db", "edit-db", "check-file"):
                r = run_step(site, db, step, zone)
                target = TARGETS.get(n, {}).get(step)
                verdict = "" if target is None else f"< {target:g} s: {'met' if r['seconds'] < target else 'MISSED'}"
                print(f"{n:>8} {step:<11} {r['seconds']:>8.2f} {r['seconds'] / base['seconds']:>7.2f} {r['peak_mb']:>8.0f}  {verdict}")


if __name__ == "__main__":
    main()
