"""Issued evidence packages (document control: version, status, issuer, approver, recipient).

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "package_issues",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("site_data", sa.JSON, nullable=False),
        sa.Column("recipient", sa.String(300)),
        sa.Column("agreement", sa.String(300)),
        sa.Column("issued_by", sa.String(128), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(128)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("site_id", "audience", "version", name="pk_package_issues"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE", name="fk_package_issues_site_id_sites"),
    )


def downgrade() -> None:
    op.drop_table("package_issues")
