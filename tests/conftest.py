"""Shared test fixtures.

Real data lives in ``../shared/data`` beside the project (never copied into the repository).
Tests that need it use the ``shared_data`` fixture, which skips with a clear reason when the
folder is absent (a user's clone) and runs in full in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real reference data not found at {SHARED_DATA} (set ZONEWARDEN_SHARED_DATA)")
    return SHARED_DATA
