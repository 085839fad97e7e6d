"""Server-side sessions of the web pages (``services.sessions``).

The browser holds only a random session id in an HttpOnly cookie; the row is keyed by its
SHA-256, so a copy of the database does not hand out live sessions. A session is revocable
(``revoked_at``), expires when idle and absolutely, and remembers a fingerprint of the
password hash it was opened with: changing the password ends every session opened before.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
)

from zonewarden.store.tables import metadata

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), nullable=False, doc="SHA-256 of the cookie's session id"),
    Column("user_name", String(128), nullable=False),
    Column("csrf", String(64), nullable=False, doc="the CSRF token every form and htmx request sends"),
    Column("method", String(16), nullable=False, doc="password or totp"),
    Column("credential", String(64), nullable=False, doc="SHA-256 of the password hash at login"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("user_agent", String(200)),
    PrimaryKeyConstraint("id_hash"),
    ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE"),
)
Index("ix_web_sessions_user", web_sessions.c.user_name)
