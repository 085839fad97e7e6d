"""Background jobs (their visible record and schedules) and alerts (subscriptions, deliveries).

Revision ID: 0010
Revises: 0007

procrastinate's own tables (PostgreSQL only) are not created here: ``services.jobs`` applies
procrastinate's packaged schema the first time a job is queued or a worker starts, so the
schema always matches the installed procrastinate version.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enqueued_by", sa.String(128), nullable=False),
        sa.Column("schedule_key", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(4000)),
        sa.Column("result", sa.JSON),
        sa.Column("progress", sa.JSON),
        sa.Column("queue_id", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after"])
    op.create_index("ix_jobs_schedule", "jobs", ["schedule_key", "created_at"])
    op.create_table(
        "job_schedules",
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("interval_seconds", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_job_schedules"),
    )
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200)),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("site_id", sa.String(128)),
        sa.Column("zone_id", sa.String(128)),
        sa.Column("min_priority", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_subscriptions"),
    )
    op.create_index("ix_alert_subscriptions_user", "alert_subscriptions", ["user_name"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("subscription_id", sa.Integer, nullable=False),
        sa.Column("event_key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(128)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(2000)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
        sa.UniqueConstraint("subscription_id", "event_key", name="uq_alert_deliveries_subscription_id_event_key"),
        sa.ForeignKeyConstraint(["subscription_id"], ["alert_subscriptions.id"], ondelete="CASCADE",
                                name="fk_alert_deliveries_subscription_id_alert_subscriptions"),
    )
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_due", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alert_subscriptions_user", table_name="alert_subscriptions")
    op.drop_table("alert_subscriptions")
    op.drop_table("job_schedules")
    op.drop_index("ix_jobs_schedule", table_name="jobs")
    op.drop_index("ix_jobs_state_run_after", table_name="jobs")
    op.drop_table("jobs")
