"""CSAF provider sync state: sources and the documents fetched from each.

Revision ID: 0003
Revises: 0001

A branch of its own (the advisories tables are another branch); ``upgrade heads`` runs both.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csaf_sync_sources",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_report", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_csaf_sync_sources"),
        sa.UniqueConstraint("url", name="uq_csaf_sync_sources_url"),
    )
    op.create_table(
        "csaf_sync_files",
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("updated", sa.String(64)),
        sa.Column("etag", sa.String(500)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("sha512", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("strict", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("tracking_id", sa.String(500)),
        sa.Column("version", sa.String(100)),
        sa.Column("error", sa.String(4000)),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "url", name="pk_csaf_sync_files"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["csaf_sync_sources.id"], ondelete="CASCADE",
            name="fk_csaf_sync_files_source_id_csaf_sync_sources",
        ),
    )


def downgrade() -> None:
    op.drop_table("csaf_sync_files")
    op.drop_table("csaf_sync_sources")
