"""Findings store what they say about why they matched (message, CVEs, entry matches, product
status) once per distinct explanation, in ``finding_explanations``; a finding row keeps its id.
The assets of one device kind get the same explanation from an advisory, and it was ~5 KB of
JSON repeated on every row (issue 17, speed 2).

Stored findings move: one explanation row per distinct four values (the digest the service
computes, :func:`zonewarden.services.findings_store.explanation_digest`), each finding pointed
at it, then the four columns dropped. Downgrade copies them back.

Revision ID: 0008
Revises: 0006 (the newest revision of the advisory tables), 0007 (the newest on main)
"""

import hashlib
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0008"
# Both parents: the findings table must exist (0002 -> 0006) whatever order Alembic picks for
# the branches, and 0007 was the newest revision when this one was written.
down_revision = ("0006", "0007")
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_MOVED = ("message", "cves", "matches", "product_status")


def _digest(message: str, cves: Any, matches: Any, product_status: Any) -> str:
    # The same text as findings_store.explanation_digest (orjson of the four values in a list),
    # written out here so that the migration keeps working whatever the service becomes.
    return hashlib.sha256(orjson.dumps([message, list(cves or []), matches, product_status])).hexdigest()


def _json(value: Any) -> Any:
    # SQLite hands JSON columns back as text; PostgreSQL's json as parsed values.
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def upgrade() -> None:
    op.create_table(
        "finding_explanations",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("cves", sa.JSON, nullable=False),
        sa.Column("matches", sa.JSON, nullable=False),
        sa.Column("product_status", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_finding_explanations"),
        sa.UniqueConstraint("digest", name="uq_finding_explanations_digest"),
    )
    # A plain ADD / DROP COLUMN on both databases (SQLite >= 3.35): a batch-mode copy of the
    # table would drop and re-create it under the triage decisions' foreign key.
    op.add_column("findings", sa.Column("explanation_id", BigId, nullable=True))
    conn = op.get_bind()
    old = sa.table("findings", sa.column("id"), sa.column("explanation_id"), *(sa.column(c) for c in _MOVED))
    new = sa.table("finding_explanations", sa.column("id"), sa.column("digest"), sa.column("message"),
                   *(sa.column(c, sa.JSON) for c in _MOVED[1:]))
    ids: dict[str, int] = {}
    moves: list[dict[str, int]] = []
    for row in conn.execute(sa.select(old.c.id, *(old.c[c] for c in _MOVED)).order_by(old.c.id)):
        values = (row.message, _json(row.cves), _json(row.matches), _json(row.product_status))
        digest = _digest(*values)
        if digest not in ids:
            ids[digest] = conn.execute(
                new.insert().values(digest=digest, message=values[0], cves=list(values[1] or []), matches=values[2],
                                    product_status=values[3]).returning(new.c.id)
            ).scalar_one()
        moves.append({"fid": row.id, "eid": ids[digest]})
    if moves:
        conn.execute(old.update().where(old.c.id == sa.bindparam("fid")).values(explanation_id=sa.bindparam("eid")), moves)
    for column in _MOVED:
        op.drop_column("findings", column)


def downgrade() -> None:
    # NOT NULL needs a default to be added to stored rows; every row is filled just below.
    op.add_column("findings", sa.Column("message", sa.Text, nullable=False, server_default=""))
    for column in _MOVED[1:]:
        op.add_column("findings", sa.Column(column, sa.JSON, nullable=False, server_default="[]"))
    conn = op.get_bind()
    old = sa.table("findings", sa.column("id"), sa.column("explanation_id"), sa.column("message"),
                   *(sa.column(c, sa.JSON) for c in _MOVED[1:]))
    new = sa.table("finding_explanations", sa.column("id"), *(sa.column(c) for c in _MOVED))
    explained = {r.id: r for r in conn.execute(sa.select(new.c.id, *(new.c[c] for c in _MOVED)))}
    rows = []
    for fid, eid in conn.execute(sa.select(old.c.id, old.c.explanation_id)):
        e = explained[eid]
        rows.append({"fid": fid, "m": e.message, "c": _json(e.cves), "x": _json(e.matches), "p": _json(e.product_status)})
    if rows:
        conn.execute(old.update().where(old.c.id == sa.bindparam("fid")).values(
            message=sa.bindparam("m"), cves=sa.bindparam("c"), matches=sa.bindparam("x"), product_status=sa.bindparam("p")),
            rows)
    op.drop_column("findings", "explanation_id")
    op.drop_table("finding_explanations")
