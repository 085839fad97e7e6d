"""An import killed half-way (SIGKILL, no chance to clean up) leaves the database as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zonewarden.services import audit, sites
from zonewarden.services.principal import local_principal
from zonewarden.store.db import open_store

ROOT = Path(__file__).resolve().parents[2]


def _kill_mid_write(proc: subprocess.Popen[bytes], wal: Path, threshold: int, timeout: float = 120.0) -> None:
    """SIGKILL ``proc`` once its write-ahead log has grown past ``threshold`` bytes: the import's
    transaction is then under way and not committed (issue 17.11: a fixed sleep could land
    before the write began or after it had finished, and the test passed either way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the import finished (exit {proc.returncode}) before its WAL reached {threshold} bytes")
        try:
            if wal.stat().st_size >= threshold:
                break
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    else:
        pytest.fail(f"the import's WAL never reached {threshold} bytes")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished on its own


@pytest.mark.parametrize("threshold", [64 * 1024, 1024 * 1024, 4 * 1024 * 1024])
def test_sigkill_during_import_leaves_a_consistent_database(tmp_path: Path, mini_site_file: Path,
                                                            threshold: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from synth import generate, write

    site_dir = write(generate(20_000, seed=threshold % 1000), tmp_path / "big")
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    env = {**os.environ, "ZONEWARDEN_DB": db}
    # A first, complete import of a small site: it must survive untouched.
    subprocess.run([sys.executable, "-m", "zonewarden.cli.main", "import", str(mini_site_file)], env=env, check=True)
    assert not (tmp_path / "zw.db-wal").exists()  # so the WAL watched below is the new import's
    proc = subprocess.Popen(
        [sys.executable, "-m", "zonewarden.cli.main", "import", str(site_dir)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _kill_mid_write(proc, tmp_path / "zw.db-wal", threshold)
    store = open_store(db)
    ids = [i for i, _ in sites.list_sites(store, principal=local_principal())]
    assert "mini" in ids
    assert "synth-20000" not in ids  # the kill landed inside the uncommitted import
    with store.read() as conn:
        result = audit.verify(conn)
        assert result.ok, result.problems
        assert result.events == len(ids)  # one import event per stored site, none dangling
    for ident in ids:
        sites.load_document(store, ident)  # every stored site is complete and valid
    # Re-running the import is safe and completes.
    subprocess.run([sys.executable, "-m", "zonewarden.cli.main", "import", str(site_dir)], env=env, check=True,
                   capture_output=True)
    assert len(sites.load_document(store, "synth-20000").assets) == 20_000
