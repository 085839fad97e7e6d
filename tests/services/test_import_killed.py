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


@pytest.mark.parametrize("delay", [0.8, 1.6, 2.4])
def test_sigkill_during_import_leaves_a_consistent_database(tmp_path: Path, mini_site_file: Path, delay: float) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from synth import generate, write

    site_dir = write(generate(20_000, seed=delay.__hash__() % 1000), tmp_path / "big")
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    env = {**os.environ, "ZONEWARDEN_DB": db}
    # A first, complete import of a small site: it must survive untouched.
    subprocess.run([sys.executable, "-m", "zonewarden.cli.main", "import", str(mini_site_file)], env=env, check=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "zonewarden.cli.main", "import", str(site_dir)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = open_store(db)
    ids = [i for i, _ in sites.list_sites(store, principal=local_principal())]
    assert "mini" in ids
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
