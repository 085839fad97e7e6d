"""Advisories: advisory revisions, findings per site x advisory x asset, triage decisions, KEV.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("tracking_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("publisher", sa.String(500)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("release_date", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(32)),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("strict", sa.Boolean, nullable=False),
        sa.Column("deviations", sa.JSON, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("flat", sa.Text, nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_advisories"),
        sa.UniqueConstraint("tracking_id", "sha256", name="uq_advisories_tracking_id_sha256"),
    )
    op.create_index("ix_advisories_tracking_current", "advisories", ["tracking_id", "current"])
    op.create_index("ix_advisories_sha256", "advisories", ["sha256"])
    op.create_table(
        "findings",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("tracking_id", sa.String(200), nullable=False),
        sa.Column("advisory_row", BigId, nullable=False),
        sa.Column("asset_id", sa.String(128), nullable=False),
        sa.Column("zone_id", sa.String(128)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("cves", sa.JSON, nullable=False),
        sa.Column("matches", sa.JSON, nullable=False),
        sa.Column("product_status", sa.JSON, nullable=False),
        sa.Column("ssvc", sa.JSON),
        sa.Column("overrides", sa.JSON, nullable=False),
        sa.Column("priority", sa.String(32)),
        sa.Column("priority_rank", sa.Integer),
        sa.Column("triage_status", sa.String(32), nullable=False),
        sa.Column("triage_owner", sa.String(200)),
        sa.Column("triage_expires", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
        sa.UniqueConstraint("site_id", "tracking_id", "asset_id", name="uq_findings_site_id_tracking_id_asset_id"),
        sa.ForeignKeyConstraint(["advisory_row"], ["advisories.id"], name="fk_findings_advisory_row_advisories"),
    )
    op.create_index("ix_findings_site_status", "findings", ["site_id", "active", "status"])
    op.create_table(
        "triage_decisions",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("finding_id", BigId, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=False),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("expires", sa.Date),
        sa.Column("controls", sa.JSON, nullable=False),
        sa.Column("automatic", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_triage_decisions"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name="fk_triage_decisions_finding_id_findings"),
    )
    op.create_index("ix_triage_finding", "triage_decisions", ["finding_id", "id"])
    op.create_table(
        "kev_entries",
        sa.Column("cve", sa.String(32), nullable=False),
        sa.Column("vendor", sa.Text, nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("date_added", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("ransomware", sa.String(16), nullable=False),
        sa.Column("catalog_version", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("cve", name="pk_kev_entries"),
    )
    op.create_table(
        "advisory_match_state",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name="pk_advisory_match_state"),
    )


def downgrade() -> None:
    for name in ("advisory_match_state", "kev_entries", "triage_decisions", "findings", "advisories"):
        op.drop_table(name)
