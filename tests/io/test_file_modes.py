"""Issue 18 item 7: what zonewarden creates is owner-only whatever the umask, unless
ZONEWARDEN_SHARE_FILES=group asks for group-readable (0640/0750)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from zonewarden.errors import InputError
from zonewarden.evidence.builder import write_package
from zonewarden.io.atomic import SHARE_ENV, make_dir, write_atomic
from zonewarden.store.db import open_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(SHARE_ENV, raising=False)
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_write_atomic_and_make_dir_owner_only(tmp_path: Path) -> None:
    folder = make_dir(tmp_path / "out" / "deep")
    assert _mode(tmp_path / "out") == 0o700 and _mode(folder) == 0o700
    assert _mode(write_atomic(folder / "a.yaml", b"x")) == 0o600


def test_group_share_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARE_ENV, "group")
    folder = make_dir(tmp_path / "pkg")
    assert _mode(folder) == 0o750
    assert _mode(write_atomic(folder / "a", b"x")) == 0o640
    written = write_package({"m.json": b"{}"}, tmp_path / "pkg2")
    assert _mode(tmp_path / "pkg2") == 0o750 and _mode(written[0]) == 0o640


def test_bad_share_value_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARE_ENV, "world")
    with pytest.raises(InputError, match="ZONEWARDEN_SHARE_FILES"):
        write_atomic(tmp_path / "a", b"x")


def test_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir(mode=0o755)
    make_dir(tmp_path / "mine" / "new")
    assert _mode(tmp_path / "mine") == 0o755 and _mode(tmp_path / "mine" / "new") == 0o700


def test_sqlite_database_and_wal_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "newdir" / "zw.db"
    store = open_store(f"sqlite:///{db}")
    try:
        with store.transaction() as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS perm_probe (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO perm_probe VALUES (1)")
        assert _mode(db) == 0o600
        assert _mode(db.parent) == 0o700
        side = [p for p in tmp_path.joinpath("newdir").iterdir() if p.name != "zw.db"]
        assert side, "expected a -wal/-shm file while the database is open"
        for p in side:
            assert _mode(p) == 0o600, p.name
    finally:
        store.close()


def test_sqlite_group_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARE_ENV, "group")
    db = tmp_path / "zw.db"
    open_store(str(db)).close()
    assert _mode(db) == 0o640


def test_existing_database_mode_untouched(tmp_path: Path) -> None:
    db = tmp_path / "zw.db"
    open_store(str(db)).close()
    os.chmod(db, 0o644)
    open_store(str(db)).close()
    assert _mode(db) == 0o644


def test_cli_import_and_export_owner_only(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zonewarden.cli.main import cli

    example = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
    db = tmp_path / "state" / "zw.db"
    env = {"ZONEWARDEN_DB": f"sqlite:///{db}"}
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(example), "--reason", "test"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert _mode(db) == 0o600 and _mode(db.parent) == 0o700
    out = tmp_path / "exports" / "one"
    result = runner.invoke(cli, ["export", "-o", str(out)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert _mode(tmp_path / "exports") == 0o700 and _mode(out) == 0o700
    written = [p for p in out.rglob("*")]
    assert any(p.is_file() for p in written)
    for p in written:
        assert _mode(p) == (0o700 if p.is_dir() else 0o600), p
