"""Connecting to the database and bringing its schema up to date.

SQLite (the default, ``./zonewarden.db``) runs with WAL and foreign keys on; PostgreSQL is used
when ``ZONEWARDEN_DB`` (or ``--db``) is a ``postgresql+psycopg://`` URL. The schema is managed
by Alembic from the first table on; :func:`open_store` upgrades a database to the newest
revision before use, inside one transaction on PostgreSQL.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from zonewarden.errors import StoreError

DEFAULT_URL = "sqlite:///zonewarden.db"


def database_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get("ZONEWARDEN_DB") or DEFAULT_URL
    if "://" not in url:  # a bare path is a SQLite file
        url = f"sqlite:///{Path(url)}"
    return url


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _create_sqlite_file(path: Path) -> None:
    """Create a missing SQLite database file readable by the owner only (0600, or 0640 with
    ``ZONEWARDEN_SHARE_FILES=group``) before SQLite opens it: SQLite would create it under the
    umask (often world-readable), and gives its -wal/-shm/-journal files the mode of the main
    file. A missing parent folder is created 0700 (0750). An existing file is left as it is."""
    from zonewarden.io.atomic import file_mode, make_dir

    if path.exists():
        return
    mode = file_mode()
    make_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    except FileExistsError:  # created meanwhile by another process: theirs to keep
        return
    try:
        os.fchmod(fd, mode)  # the umask never widens, but may narrow: set exactly
    finally:
        os.close(fd)


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
    # Transactions are begun by us (see _sqlite_begin), not by the driver on its first write:
    # the driver's implicit BEGIN comes after a service's reads, so two writers could both read
    # the old site and the second would overwrite the first's change (a lost update).
    dbapi_conn.isolation_level = None


_WRITE = "zonewarden.write"


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE for a write transaction: it takes SQLite's write lock before the first
    read, so a read-modify-write is atomic and a second writer waits (busy_timeout) instead of
    working on a stale copy. Reads begin a deferred transaction (a consistent snapshot)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.pop(_WRITE, False) else "BEGIN")


@dataclass
class Store:
    """A database the service layer reads and writes. Create with :func:`open_store`."""

    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: everything in it lands, or nothing does."""
        try:
            with self.engine.connect() as conn:
                conn.info[_WRITE] = True  # SQLite: BEGIN IMMEDIATE (see _sqlite_begin)
                try:
                    with conn.begin():
                        yield conn
                finally:
                    conn.info.pop(_WRITE, None)
        except OperationalError as exc:
            raise StoreError(f"database error: {exc.orig}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreError(f"database error: {exc.orig}") from exc

    def close(self) -> None:
        self.engine.dispose()


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zonewarden.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REV = re.compile(r"^(down_revision|revision)\s*=\s*(None|[\"'][^\"']+[\"'])", re.MULTILINE)


@functools.cache
def expected_heads() -> frozenset[str]:
    """Head revisions of the migration scripts, read from the files without importing Alembic
    (which costs most of a second on every command otherwise)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    folder = resources.files("zonewarden.store") / "migrations" / "versions"
    for entry in folder.iterdir():
        if not entry.name.endswith(".py"):
            continue
        found = dict((k, v.strip("\"'")) for k, v in _REV.findall(entry.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
        if found.get("down_revision") not in (None, "None"):
            parents.add(found["down_revision"])
    return frozenset(revisions - parents)


def _is_current(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except SQLAlchemyError:
        return False
    return {r[0] for r in rows} == expected_heads()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (every head: features add branches)."""
    if _is_current(engine):
        return
    from alembic import command

    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default migrate) the database at ``url`` / ``ZONEWARDEN_DB`` / ./zonewarden.db."""
    resolved = database_url(url)
    try:
        # orjson for the JSON columns: a 100k-asset site is 100k JSON documents to decode.
        json_args = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
        if resolved.startswith("sqlite"):
            db_file = _sqlite_path(resolved)
            if db_file is not None:
                try:
                    _create_sqlite_file(db_file)
                except OSError as exc:
                    raise StoreError(f"cannot create database file {db_file}: {exc.strerror or exc}") from exc
            engine = create_engine(resolved, connect_args={"timeout": 30}, **json_args)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(resolved, pool_pre_ping=True, **json_args)
        if migrate:
            upgrade(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {engine_safe(resolved)}: {exc}") from exc
    return Store(engine)


def engine_safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"
