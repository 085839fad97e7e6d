"""Foundation: sites, zones, conduits, assets, people, generic site records, audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _child(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        *columns,
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("site_id", "id", name=f"pk_{name}"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE", name=f"fk_{name}_site_id_sites"),
    )


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
    )
    _child("zones", sa.Column("kind", sa.String(32), nullable=False), sa.Column("purdue_level", sa.Float, nullable=False))
    _child("conduits", sa.Column("zone_a", sa.String(128), nullable=False), sa.Column("zone_b", sa.String(128), nullable=False))
    _child(
        "assets",
        sa.Column("zone_id", sa.String(128)),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("vendor", sa.String(500)),
        sa.Column("product", sa.String(500)),
        sa.Column("version", sa.String(500)),
    )
    op.create_index("ix_assets_site_zone", "assets", ["site_id", "zone_id"])
    op.create_index("ix_assets_site_vendor", "assets", ["site_id", "vendor"])
    _child("people")
    op.create_table(
        "site_records",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("site_id", "section", "seq", name="pk_site_records"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE", name="fk_site_records_site_id_sites"),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", BigId, nullable=False, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("site_id", sa.String(128)),
        sa.Column("object_type", sa.String(64)),
        sa.Column("object_id", sa.String(200)),
        sa.Column("reason", sa.Text),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )
    op.create_index("ix_audit_site", "audit_events", ["site_id", "seq"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )


def downgrade() -> None:
    for name in ("audit_head", "audit_events", "site_records", "people", "assets", "conduits", "zones", "sites"):
        op.drop_table(name)
