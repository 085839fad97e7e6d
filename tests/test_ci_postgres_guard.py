"""CI must not pass with the PostgreSQL half of the database tests silently off (issue 17.9)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
def test_needs_a_database(db_url):
    assert db_url
"""


def _run(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {**os.environ, "CI": ci, "ZONEWARDEN_TEST_PG": ""}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
         "--confcutdir", str(ROOT / "tests"), "-c", str(ROOT / "pyproject.toml"),
         str(tmp_path / "test_probe.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_postgres_case_fails_under_ci_without_a_server(tmp_path: Path) -> None:
    # The probe lives outside tests/, so give it the project's conftest explicitly.
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    out = _run(tmp_path, "true")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "CI=true but ZONEWARDEN_TEST_PG is not set" in out.stdout
    assert "1 passed" in out.stdout  # the SQLite case still ran


def test_postgres_case_skips_locally_without_a_server(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    out = _run(tmp_path, "")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed, 1 skipped" in out.stdout

