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


@pytest.mark.parametrize("delay", [3.5, 6.0])
def test_sigkill_during_ingest_keeps_a_consistent_database(tmp_path: Path, shared_data: Path, delay: float) -> None:
    feed = shared_data / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    env = {**os.environ, "ZONEWARDEN_DB": db}
    cli = [sys.executable, "-m", "zonewarden.cli.main"]
    subprocess.run([*cli, "import", str(ROOT / "examples" / "pharma-plant")], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*cli, "advisories", "ingest", str(feed), "--no-progress"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ingests, rows, current, orphans = _state(db)
    # Every stored advisory has its audit event and no finding points at a missing advisory.
    assert ingests == rows == current and orphans == 0
    # Running the same command again stores the rest; what was stored is "unchanged".
    again = subprocess.run([*cli, "advisories", "ingest", str(feed), "--no-progress", "--format", "json"],
                           env=env, capture_output=True, text=True)
    assert again.returncode in (0, 1), again.stderr
    ingests2, rows2, current2, orphans2 = _state(db)
    assert ingests2 == rows2 == current2 == 2035 and orphans2 == 0
