"""SBOM components of assets and VEX statements (issue 14 item 5).

Revision ID: 0014
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "sboms",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("asset_id", sa.String(128), nullable=False),
        sa.Column("spec_version", sa.String(8), nullable=False),
        sa.Column("serial_number", sa.String(200)),
        sa.Column("bom_version", sa.Integer),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("components", sa.Integer, nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "asset_id", name="pk_sboms"),
    )
    op.create_table(
        "sbom_components",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("asset_id", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("bom_ref", sa.String(500)),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("version", sa.String(200)),
        sa.Column("purl", sa.String(1000)),
        sa.Column("cpe", sa.String(1000)),
        sa.Column("supplier", sa.String(500)),
        sa.Column("pointer", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "asset_id", "seq", name="pk_sbom_components"),
    )
    op.create_table(
        "vex_statements",
        sa.Column("id", _BIG, primary_key=True, autoincrement=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("document_id", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("publisher", sa.String(500), nullable=False),
        sa.Column("site_id", sa.String(128)),
        sa.Column("asset_id", sa.String(128)),
        sa.Column("vulnerability", sa.String(200), nullable=False),
        sa.Column("vendor", sa.String(500)),
        sa.Column("product", sa.String(1000)),
        sa.Column("purl", sa.String(1000)),
        sa.Column("cpe", sa.String(1000)),
        sa.Column("version", sa.String(200)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("justification", sa.Text),
        sa.Column("impact", sa.Text),
        sa.Column("pointer", sa.String(300), nullable=False),
        sa.Column("from_supplier", sa.Boolean, nullable=False),
        sa.Column("accepted_by", sa.String(200)),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("acceptance", sa.JSON),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vex_statements"),
    )
    op.create_index("ix_vex_statements_vulnerability", "vex_statements", ["vulnerability"])


def downgrade() -> None:
    op.drop_index("ix_vex_statements_vulnerability", table_name="vex_statements")
    op.drop_table("vex_statements")
    op.drop_table("sbom_components")
    op.drop_table("sboms")
