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

What a finding says about why it matched (message, CVEs, entry matches, product status) is the
same for every asset of one device kind, and is stored once in ``finding_explanations``
(:class:`Explanations`); a finding row holds its id.

Nothing here decides what a finding says: :mod:`zonewarden.services.advisories` does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from zonewarden.store.advisory_tables import finding_explanations, findings
from zonewarden.store.db import _json_dumps

INSERT_COLUMNS = (
    "site_id", "tracking_id", "advisory_row", "asset_id", "zone_id", "active", "status", "reason", "explanation_id",
    "ssvc", "overrides", "priority", "priority_rank", "triage_status", "triage_owner", "triage_expires",
    "created_at", "updated_at",
)
"""Column order of the tuples :func:`insert_findings` takes (every column but ``id``)."""

_JSON_COLUMNS = frozenset({"ssvc", "overrides"})
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


_EXPLANATION_BY_DIGEST = select(finding_explanations.c.id).where(finding_explanations.c.digest == bindparam("digest"))


class Explanations:
    """Ids of explanation rows inside one transaction: looked up by digest, inserted when new.

    Concurrent writers may store the same explanation: the insert does nothing on a digest that
    is there (``ON CONFLICT DO NOTHING``, SQLite and PostgreSQL), and the id is read back."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._ids: dict[str, int] = {}
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        self._insert = insert(finding_explanations).on_conflict_do_nothing(index_elements=["digest"])

    def id_of(self, message: str, cves: Sequence[str], matches: Any, product_status: Any) -> int:
        """The id of the row holding these four values (stored now if no row does)."""
        digest = explanation_digest(message, cves, matches, product_status)
        found = self._ids.get(digest)
        if found is not None:
            return found
        row = self.conn.execute(_EXPLANATION_BY_DIGEST, {"digest": digest}).first()
        if row is None:
            self.conn.execute(self._insert, {"digest": digest, "message": message, "cves": list(cves),
                                             "matches": matches, "product_status": product_status})
            row = self.conn.execute(_EXPLANATION_BY_DIGEST, {"digest": digest}).first()
            assert row is not None
        self._ids[digest] = int(row[0])
        return int(row[0])


def explanation_digest(message: str, cves: Sequence[str], matches: Any, product_status: Any) -> str:
    """The digest :class:`Explanations` keys a row on (migration 0008 computes the same)."""
    return hashlib.sha256(_json_dumps([message, list(cves), matches, product_status]).encode()).hexdigest()
