"""An advisory ingest killed half-way (SIGKILL) keeps what it committed, consistently, and
running it again stores the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from zonewarden.services import audit
from zonewarden.store.advisory_tables import advisories, findings
from zonewarden.store.db import open_store

ROOT = Path(__file__).resolve().parents[2]


def _state(db: str) -> tuple[int, int, int, int]:
    store = open_store(db)
    try:
        with store.read() as conn:
            result = audit.verify(conn)
            assert result.ok, result.problems
            ingests = sum(1 for e in audit.events(conn) if e.action == "advisory.ingest")
            rows = conn.execute(select(func.count()).select_from(advisories)).scalar_one()
            current = conn.execute(
                select(func.count()).select_from(advisories).where(advisories.c.current.is_(True))
            ).scalar_one()
            orphans = conn.execute(
                select(func.count()).select_from(findings).where(
                    findings.c.advisory_row.not_in(select(advisories.c.id))
                )
            ).scalar_one()
    finally:
        store.close()
    return ingests, rows, current, orphans


def _committed(db_file: Path) -> int:
    """Advisories committed so far, read by a separate connection (sees only commits)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM advisories").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("after", [200, 1000])
def test_sigkill_during_ingest_keeps_a_consistent_database(tmp_path: Path, shared_data: Path, after: int) -> None:
    feed = shared_data / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    env = {**os.environ, "ZONEWARDEN_DB": db}
    cli = [sys.executable, "-m", "zonewarden.cli.main"]
    subprocess.run([*cli, "import", str(ROOT / "examples" / "pharma-plant")], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*cli, "advisories", "ingest", str(feed), "--no-progress"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill once `after` advisories are committed (issue 17.11: a fixed sleep could land before
    # the first commit or after the last, and the test passed either way).
    deadline = time.monotonic() + 300
    while _committed(tmp_path / "zw.db") < after:
        assert proc.poll() is None, "the ingest ended before the kill"
        assert time.monotonic() < deadline, f"fewer than {after} advisories committed in 300 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    ingests, rows, current, orphans = _state(db)
    assert after <= rows < 2035  # the kill landed mid-ingest: some stored, not all
    # Every stored advisory has its audit event and no finding points at a missing advisory.
    assert ingests == rows == current and orphans == 0
    # Running the same command again stores the rest; what was stored is "unchanged".
    again = subprocess.run([*cli, "advisories", "ingest", str(feed), "--no-progress", "--format", "json"],
                           env=env, capture_output=True, text=True)
    assert again.returncode in (0, 1), again.stderr
    ingests2, rows2, current2, orphans2 = _state(db)
    assert ingests2 == rows2 == current2 == 2035 and orphans2 == 0
