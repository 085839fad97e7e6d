"""``zonewarden db status|upgrade``: a shared database is upgraded at deploy time, never on open."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from zonewarden.cli.main import cli
from zonewarden.errors import StoreError
from zonewarden.store import db as store_db


def run(*args: str, db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ZONEWARDEN_DB": db}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _migrate_to(url: str, revision: str) -> None:
    """A database as an older zonewarden left it: the migrations up to ``revision`` only."""
    from alembic import command

    engine = create_engine(url)
    cfg = store_db._alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def _stored(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    engine.dispose()
    return rows


def test_status_and_upgrade_of_a_new_database_then_nothing_to_do(db_url: str) -> None:
    code, out, _ = run("db", "status", "--json", db=db_url)
    assert code == 1 and json.loads(out) == {"stored": [], "expected": sorted(store_db.expected_heads()),
                                             "current": False}
    code, _, err = run("db", "upgrade", db=db_url)
    assert code == 0 and "upgraded the schema from no schema to" in err, err
    code, out, _ = run("db", "status", db=db_url)
    assert code == 0 and "(current)" in out
    code, _, err = run("db", "upgrade", db=db_url)
    assert code == 0 and "nothing to do" in err
    code, out, _ = run("audit", "log", "--format", "json", db=db_url)
    assert code == 0, out
    [event] = [e for e in json.loads(out) if e["action"] == "db.upgrade"]
    assert event["before"] == [] and event["after"] == sorted(store_db.expected_heads())
    assert run("audit", "verify", db=db_url)[0] == 0


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_older_postgresql_schema_is_refused_on_open_until_db_upgrade(db_url: str) -> None:
    _migrate_to(db_url, "0006")
    with pytest.raises(StoreError, match=r"database schema at 0006; this version needs .*run `zonewarden db upgrade"):
        store_db.open_store(db_url)
    assert _stored(db_url) == {"0006"}  # opening changed nothing
    code, _, err = run("sites", db=db_url)
    assert code == 3 and "zonewarden db upgrade" in err
    from zonewarden.api.app import create_app

    with pytest.raises(StoreError, match="before serving"):
        create_app(db_url)
    code, _, err = run("db", "upgrade", db=db_url)
    assert code == 0 and "from 0006 to" in err, err
    assert _stored(db_url) == set(store_db.expected_heads())
    store_db.open_store(db_url).close()


def test_an_older_sqlite_file_is_upgraded_on_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _migrate_to(url, "0006")
    store_db.open_store(url).close()  # the single-user default: no deploy step
    assert _stored(url) == set(store_db.expected_heads())


def test_a_schema_from_a_newer_version_is_named_not_migrated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'new.db'}"
    run("db", "upgrade", db=url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999')"))
    engine.dispose()
    code, _, err = run("db", "upgrade", db=url)
    assert code == 3 and "upgraded by a newer zonewarden (unknown revision 9999)" in err, err


def test_the_server_refuses_a_database_without_its_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.api.app import create_app

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(StoreError, match=r"none \(no schema yet\).*zonewarden db upgrade"):
        create_app(url)
    code, _, err = run("serve", "--port", "1", db=url)
    assert code == 3 and "zonewarden db upgrade" in err
