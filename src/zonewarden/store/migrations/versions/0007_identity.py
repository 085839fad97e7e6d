"""Identity: user accounts, role grants per site, API tokens, site people linked to users, and
the audit events' ``context`` (how and through which client the actor authenticated).

Revision ID: 0007
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_users"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("user_name", "site_id", "role", name="pk_user_roles"),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE",
                                name="fk_user_roles_user_name_users"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE",
                                name="fk_api_tokens_user_name_users"),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_name"])
    op.create_table(
        "person_users",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("person_id", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "person_id", name="pk_person_users"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE", name="fk_person_users_site_id_sites"),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE",
                                name="fk_person_users_user_name_users"),
    )
    op.create_index("ix_person_users_user", "person_users", ["user_name", "site_id"])
    # Plain ALTER TABLE ADD COLUMN on both databases (nullable: events before it have none).
    op.add_column("audit_events", sa.Column("context", sa.JSON))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column with a plain ALTER TABLE (the table has no index on it).
    op.drop_column("audit_events", "context")
    op.drop_index("ix_person_users_user", table_name="person_users")
    op.drop_table("person_users")
    op.drop_index("ix_api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("user_roles")
    op.drop_table("users")
