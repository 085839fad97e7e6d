"""The supplier's PSIRT: cases, product register, published advisories, settings.

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "psirt_cases",
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embargo_until", sa.DateTime(timezone=True)),
        sa.Column("status_secret", sa.String(64)),
        sa.Column("client_key", sa.String(64)),
        sa.Column("document", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("reference", name="pk_psirt_cases"),
    )
    op.create_index("ix_psirt_cases_status_secret", "psirt_cases", ["status_secret"])
    op.create_table(
        "psirt_products",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_psirt_products"),
    )
    op.create_table(
        "psirt_advisories",
        sa.Column("tracking_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("case_reference", sa.String(40), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", "version", name="pk_psirt_advisories"),
    )
    op.create_table(
        "psirt_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_psirt_settings"),
    )


def downgrade() -> None:
    op.drop_table("psirt_settings")
    op.drop_table("psirt_advisories")
    op.drop_table("psirt_products")
    op.drop_index("ix_psirt_cases_status_secret", table_name="psirt_cases")
    op.drop_table("psirt_cases")
