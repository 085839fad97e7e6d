"""Advisories keep the document as received and nothing derived from it: the flattened form
(``flat``) is computed from the document whenever matching needs it, so a release that reads
product trees or ranges better applies to advisories stored before it, and ingest writes a
third less.

Revision ID: 0006
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE on both databases (SQLite >= 3.35): a batch-mode copy of the table
    # would drop and re-create it under the findings' foreign keys.
    op.drop_column("advisories", "flat")


def downgrade() -> None:
    # The releases before this one need the column filled: flatten every stored document.
    import orjson

    from zonewarden.engines.products import flatten_advisory

    # NOT NULL needs a default to be added to stored rows; every row is filled just below.
    op.add_column("advisories", sa.Column("flat", sa.Text, nullable=False, server_default=""))
    conn = op.get_bind()
    table = sa.table("advisories", sa.column("id"), sa.column("source"), sa.column("document"), sa.column("flat"))
    rows = conn.execute(sa.select(table.c.id, table.c.source, table.c.document)).all()
    for row in rows:
        flat = flatten_advisory(orjson.loads(row.document), source=row.source)
        conn.execute(table.update().where(table.c.id == row.id).values(flat=flat.model_dump_json()))
