"""Bulk writes of finding rows: plain tuples, one ``executemany``; ``COPY`` on PostgreSQL.

Storing findings was most of a large plant's first ingest (issue 17, speed 2): SQLAlchemy
built the parameters of every row from a dict, encoded five JSON columns per row with the
JSON type's processor and converted the same timestamp once per row. Here a row is a plain
tuple in :data:`INSERT_COLUMNS` order whose JSON columns are already text (the caller encodes
a value shared by many rows once, see :meth:`RowCodec.json`), and whose timestamps went through
the column type's bind processor once per batch. The tuples go to the driver directly, inside
the caller's transaction:

* SQLite: ``cursor.executemany`` of one prepared ``INSERT``;
* PostgreSQL: ``COPY findings (...) FROM STDIN`` through psycopg 3 (``cursor.copy``), which
  sends the rows in one stream instead of one round trip per page of rows.

Nothing here decides what a finding says: :mod:`zonewarden.services.advisories` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from zonewarden.store.advisory_tables import findings
from zonewarden.store.db import _json_dumps

INSERT_COLUMNS = (
    "site_id", "tracking_id", "advisory_row", "asset_id", "zone_id", "active", "status", "reason", "message",
    "cves", "matches", "product_status", "ssvc", "overrides", "priority", "priority_rank", "triage_status",
    "triage_owner", "triage_expires", "created_at", "updated_at",
)
"""Column order of the tuples :func:`insert_findings` takes (every column but ``id``)."""

_JSON_COLUMNS = frozenset({"cves", "matches", "product_status", "ssvc", "overrides"})
assert _JSON_COLUMNS <= set(INSERT_COLUMNS)
assert set(INSERT_COLUMNS) | {"id"} == set(findings.c.keys()), "INSERT_COLUMNS must name every column of findings"


class RowCodec:
    """Converts values to what the connection's driver stores, as SQLAlchemy's column types
    would: JSON as text (``None`` as JSON ``null``, as the JSON type stores it), timestamps
    and dates through the types' bind processors (text on SQLite, unchanged on PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        dialect = conn.dialect

        def processor(column: str) -> Any:  # the dialect's implementation of the type (SQLite: text)
            return findings.c[column].type.dialect_impl(dialect).bind_processor(dialect)

        self._datetime = processor("created_at")
        self._date = processor("triage_expires")
        self._bool = processor("active")

    @staticmethod
    def json(value: Any) -> str:
        """JSON text of ``value`` (the store's serializer: orjson)."""
        return _json_dumps(value)

    def when(self, value: Any) -> Any:
        """A timestamp (``created_at``, ``updated_at``) as the driver takes it."""
        return value if value is None or self._datetime is None else self._datetime(value)

    def day(self, value: Any) -> Any:
        """A date (``triage_expires``) as the driver takes it."""
        return value if value is None or self._date is None else self._date(value)

    def flag(self, value: bool) -> Any:
        return value if self._bool is None else self._bool(value)


def _quoted(conn: Connection, names: Sequence[str]) -> str:
    prep = conn.dialect.identifier_preparer
    return ", ".join(prep.quote(n) for n in names)


def insert_findings(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (tuples in :data:`INSERT_COLUMNS` order, values from :class:`RowCodec`)
    into ``findings`` inside ``conn``'s transaction; returns how many."""
    if not rows:
        return 0
    table = conn.dialect.identifier_preparer.format_table(findings)
    columns = _quoted(conn, INSERT_COLUMNS)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        cursor = conn.connection.cursor()
        try:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return len(rows)
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"  # SQLite; psycopg off PostgreSQL's COPY path
    # Only the table's own identifiers are formatted in; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([marker] * len(INSERT_COLUMNS))})"  # noqa: S608
    conn.exec_driver_sql(sql, list(rows))
    return len(rows)
