"""The files a background build wrote for an issued evidence package (name, SHA-256, size,
folder), so the web page lists every issued package with its hashes and serves its files.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "package_files",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("folder", sa.String(1000), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "audience", "version", "name", name="pk_package_files"),
        sa.ForeignKeyConstraint(["site_id", "audience", "version"],
                                ["package_issues.site_id", "package_issues.audience", "package_issues.version"],
                                ondelete="CASCADE", name="fk_package_files_package_issues"),
    )


def downgrade() -> None:
    op.drop_table("package_files")
