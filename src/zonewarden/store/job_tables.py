"""Tables of background jobs (``services.jobs``) and alerts (``services.alerts``).

``jobs`` is the record every front door reads (state, attempts, last error), on SQLite and on
PostgreSQL alike; on PostgreSQL procrastinate's own tables (``procrastinate_jobs``, created by
migration 0010) carry the queue itself and ``jobs.queue_id`` points at its row. ``job_schedules``
holds the intervals of the scheduled jobs that differ from the built-in defaults (a CSAF
provider synced every 6 hours, a KEV URL). ``alert_subscriptions`` are per user;
``alert_deliveries`` has one row per (subscription, event): the unique key is what keeps an
event from being sent twice. Migration: ``migrations/versions/0010_jobs_alerts.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from zonewarden.store.tables import metadata

BigId = BigInteger().with_variant(Integer, "sqlite")

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, doc="the job function, e.g. csaf.sync"),
    Column("args", JSON, nullable=False),
    Column("state", String(16), nullable=False, doc="queued, running, retrying, succeeded, failed"),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", DateTime(timezone=True), nullable=False, doc="not before (the backoff of a retry)"),
    Column("enqueued_by", String(128), nullable=False, doc="user id the job runs as (zonewarden: the system)"),
    Column("schedule_key", String(500), doc="the schedule that enqueued it, if any"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("last_error", String(4000)),
    Column("result", JSON),
    Column("progress", JSON, doc="{stage, done, total, at} while running (the UI's progress bar)"),
    Column("queue_id", BigInteger, doc="procrastinate_jobs.id on PostgreSQL"),
)
Index("ix_jobs_state_run_after", jobs.c.state, jobs.c.run_after)
Index("ix_jobs_schedule", jobs.c.schedule_key, jobs.c.created_at)

job_schedules = Table(
    "job_schedules",
    metadata,
    Column("key", String(500), primary_key=True, doc="name, or name + space + URL for a provider"),
    Column("name", String(64), nullable=False),
    Column("args", JSON, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

alert_subscriptions = Table(
    "alert_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(128), nullable=False, doc="whose subscription (principal user id)"),
    Column("channel", String(16), nullable=False, doc="email or webhook"),
    Column("target", String(2000), nullable=False, doc="e-mail address or webhook URL"),
    Column("secret", String(200), doc="webhook HMAC key (never sent, never shown again)"),
    Column("events", JSON, nullable=False, doc="event kinds subscribed to"),
    Column("site_id", String(128), doc="only this site (NULL: every site the user may read)"),
    Column("zone_id", String(128), doc="only this zone"),
    Column("min_priority", String(32), doc="new findings at or above this SSVC priority"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_alert_subscriptions_user", alert_subscriptions.c.user_name)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, nullable=False),
    Column("event_key", String(500), nullable=False, doc="identifies the event: one delivery per subscription"),
    Column("kind", String(32), nullable=False),
    Column("site_id", String(128)),
    Column("payload", JSON, nullable=False, doc="the body sent (no secrets, nothing beyond the user's roles)"),
    Column("state", String(16), nullable=False, doc="pending, sent, failed (retries used up)"),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(2000)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("subscription_id", "event_key"),
    ForeignKeyConstraint(["subscription_id"], ["alert_subscriptions.id"], ondelete="CASCADE"),
)
Index("ix_alert_deliveries_due", alert_deliveries.c.state, alert_deliveries.c.next_attempt_at)
