"""Connecting to the database and bringing its schema up to date.

SQLite (the default, ``./zonewarden.db``) runs with WAL and foreign keys on; PostgreSQL is used
when ``ZONEWARDEN_DB`` (or ``--db``) is a ``postgresql+psycopg://`` URL. The schema is managed
by Alembic from the first table on; :func:`open_store` gives a new database its schema and
upgrades an older SQLite file; an older PostgreSQL database is upgraded by ``zonewarden db
upgrade`` at deploy time (one transaction, under an advisory lock), never by opening it.
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
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError

from zonewarden.errors import ConflictError, InputError, StoreError

DEFAULT_URL = "sqlite:///zonewarden.db"

SUPPORTED_SCHEMES = ("sqlite", "postgresql")
"""Database backends zonewarden runs on (``postgresql`` with its ``+psycopg`` driver)."""

_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword"})
_MASK = "***"


def database_url(explicit: str | None = None) -> str:
    """The URL to open: ``explicit`` (``--db``), else ``ZONEWARDEN_DB``, else ./zonewarden.db.
    A scheme other than :data:`SUPPORTED_SCHEMES` is an :class:`InputError` (exit 2) naming the
    supported ones; the message shows the URL without its password."""
    url = explicit or os.environ.get("ZONEWARDEN_DB") or DEFAULT_URL
    if "://" not in url:  # a bare path is a SQLite file
        url = f"sqlite:///{Path(url)}"
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError) as exc:
        raise InputError(
            f"database URL {display_url(url)} (--db or ZONEWARDEN_DB) cannot be read: use "
            "sqlite:///path/to/file.db, a plain file path, or postgresql+psycopg://user@host/dbname"
        ) from exc
    if backend not in SUPPORTED_SCHEMES:
        raise InputError(
            f"database URL {display_url(url)} (--db or ZONEWARDEN_DB) uses {backend!r}, which "
            f"zonewarden does not support: use one of {', '.join(SUPPORTED_SCHEMES)} "
            "(sqlite:///path/to/file.db or postgresql+psycopg://user@host/dbname)"
        )
    return url


def _secrets_of(url: str | URL) -> list[str]:
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except Exception:
        return []
    found = [parsed.password] if parsed.password else []
    for key, value in parsed.query.items():
        if key.lower() in _SECRET_QUERY_KEYS:
            found.extend([value] if isinstance(value, str) else list(value))
    return [str(v) for v in found if v]


def display_url(url: str | URL) -> str:
    """The URL for a message, log line or stored record: the password (``user:secret@`` and a
    ``?password=`` query parameter) replaced by ``***``. The one place a database URL is made
    printable; an unreadable URL is shown as ``<database URL>``."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
        masked = {k: _MASK for k in parsed.query if k.lower() in _SECRET_QUERY_KEYS}
        if masked:
            parsed = parsed.update_query_dict(masked)
        text = parsed.render_as_string(hide_password=True)
        return re.sub(r"=%2A%2A%2A(?=&|$)", "=" + _MASK, text)
    except Exception:
        return "<database URL>"


def scrub(text: str, url: str | URL) -> str:
    """``text`` (a driver's error message) with every password of ``url`` replaced by ``***``."""
    for secret in sorted(_secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


def _integrity_message(exc: IntegrityError) -> str:
    """A constraint violation named by its table and constraint, never by the values in it
    (the driver's text quotes the duplicate key, e.g. a user name or a token digest)."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)  # psycopg
    table = getattr(diag, "table_name", None)
    constraint = getattr(diag, "constraint_name", None)
    if table is None and constraint is None:
        # SQLite: "UNIQUE constraint failed: users.name" names columns, not values
        m = re.match(r"(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(?:: ([\w.]+))?", str(orig))
        if m:
            kind, where = m.group(1), m.group(2)
            return f"the change violates a {kind} constraint" + (f" on {where.split(',')[0]}" if where else "")
        return "the change violates a database constraint"
    return (f"the change violates constraint {constraint or '?'}"
            + (f" of table {table}" if table else ""))


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
        except IntegrityError as exc:
            raise ConflictError(f"{_integrity_message(exc)} (a concurrent change or a duplicate; "
                                "read the current state and try again)") from exc
        except OperationalError as exc:
            raise StoreError(f"database error: {scrub(str(exc.orig), self.engine.url)}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreError(f"database error: {scrub(str(exc.orig), self.engine.url)}") from exc

    def close(self) -> None:
        self.engine.dispose()


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zonewarden.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REV = re.compile(r"^(down_revision|revision)\s*=\s*(None|[\"'][^\"']+[\"']|\([^)]*\))", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


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
        down = found.get("down_revision")
        if down is not None and down != "None":  # one revision, or a tuple of them (a merge)
            parents.update(_QUOTED.findall(down) if down.startswith("(") else [down])
    return frozenset(revisions - parents)


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this version's migrations."""

    stored: frozenset[str]
    """The Alembic revisions the database records (empty: no schema yet)."""
    expected: frozenset[str]

    @property
    def current(self) -> bool:
        return self.stored == self.expected

    @property
    def empty(self) -> bool:
        return not self.stored

    @property
    def unknown(self) -> frozenset[str]:
        """Revisions this version does not know: the database was upgraded by a newer one."""
        return self.stored - _known_revisions()

    def describe(self) -> str:
        stored = ", ".join(sorted(self.stored)) or "none (no schema yet)"
        return f"database schema at {stored}; this version needs {', '.join(sorted(self.expected))}"


@functools.cache
def _known_revisions() -> frozenset[str]:
    folder = resources.files("zonewarden.store") / "migrations" / "versions"
    found: set[str] = set()
    for entry in folder.iterdir():
        if entry.name.endswith(".py"):
            found.update(v.strip("\"'") for k, v in _REV.findall(entry.read_text(encoding="utf-8")) if k == "revision")
    return frozenset(found)


def schema_state(engine: Engine) -> SchemaState:
    """The stored schema revisions (an empty set for a database without zonewarden's tables)."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except OperationalError as exc:
        if "no such table" in str(exc.orig) or "does not exist" in str(exc.orig):
            return SchemaState(frozenset(), expected_heads())
        raise
    except SQLAlchemyError as exc:  # PostgreSQL: UndefinedTable is a ProgrammingError
        if "does not exist" in str(getattr(exc, "orig", exc)):
            return SchemaState(frozenset(), expected_heads())
        raise
    return SchemaState(frozenset(r[0] for r in rows), expected_heads())


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Bring the schema to the newest revision (every head: features add branches), in one
    transaction (on PostgreSQL under an advisory lock, so two workers starting at once do not
    both migrate). Returns the state before and after."""
    before = schema_state(engine)
    if before.current:
        return before, before
    if before.unknown:
        raise StoreError(f"{before.describe()}: the database was upgraded by a newer zonewarden "
                         f"(unknown revision {', '.join(sorted(before.unknown))}); use that version")
    from alembic import command

    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(62443)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    return before, schema_state(engine)


def _bring_up_to_date(engine: Engine, url: str) -> None:
    """What opening a database does about its schema: a database without one gets it (nothing
    to lose); an older SQLite file (the single-user default) is upgraded; an older PostgreSQL
    database (shared, upgraded at deploy time) is refused with the command that upgrades it."""
    state = schema_state(engine)
    if state.current:
        return
    if state.empty or engine.dialect.name == "sqlite":
        upgrade(engine)
        return
    raise StoreError(f"{state.describe()}: run `zonewarden db upgrade --db {display_url(url)}` once "
                     f"(back the database up first); a shared database is not upgraded on open")


def require_current(store: Store) -> None:
    """Refuse a database whose schema is not this version's (the API server never migrates)."""
    state = schema_state(store.engine)
    if not state.current:
        raise StoreError(f"{state.describe()}: run `zonewarden db upgrade` before serving")


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the database at ``url`` / ``ZONEWARDEN_DB`` / ./zonewarden.db; with ``migrate``, give
    a new database its schema and upgrade an older SQLite file (see :func:`_bring_up_to_date`)."""
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
            _bring_up_to_date(engine, resolved)
    except SQLAlchemyError as exc:
        # exc.orig: the driver's message without SQLAlchemy's statement and parameters
        reason = scrub(str(getattr(exc, "orig", None) or exc), resolved)
        raise StoreError(f"cannot open database {display_url(resolved)}: {reason}") from exc
    except ImportError as exc:  # a supported backend whose driver is not installed
        raise StoreError(f"cannot open database {display_url(resolved)}: its driver is not "
                         f"installed ({exc.name or exc})") from exc
    return Store(engine)

