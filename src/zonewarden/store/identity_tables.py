"""Tables of user accounts and their credentials (``services.identity``).

A user is named by ``users.name`` (the id the audit trail records as actor). Roles are granted
per site (``user_roles.site_id`` is a site id, or ``*`` for every site); a person of a site's
``people:`` section is linked to a user by ``person_users`` (a table rather than a field of the
person, so importing a site file never changes who may sign as whom).

Only hashes of secrets are stored: argon2id for passwords, SHA-256 for API tokens (random
256-bit values, for which a fast hash is enough).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from zonewarden.store.tables import metadata

users = Table(
    "users",
    metadata,
    Column("name", String(128), nullable=False),
    Column("full_name", String(300), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("password_hash", String(200), nullable=False, doc="argon2id, PHC string"),
    Column("totp_secret", String(64), doc="base32 TOTP secret; NULL when the second factor is off"),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("name"),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("user_name", String(128), nullable=False),
    Column("site_id", String(128), nullable=False, doc="a site id, or * for every site"),
    Column("role", String(64), nullable=False),
    PrimaryKeyConstraint("user_name", "site_id", "role"),
    ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), nullable=False, doc="public part of the token, shown in lists"),
    Column("user_name", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False, doc="SHA-256 of the whole token"),
    Column("read_only", Boolean, nullable=False, default=False),
    Column("label", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE"),
)
Index("ix_api_tokens_user", api_tokens.c.user_name)

person_users = Table(
    "person_users",
    metadata,
    Column("site_id", String(128), nullable=False),
    Column("person_id", String(128), nullable=False),
    Column("user_name", String(128), nullable=False),
    PrimaryKeyConstraint("site_id", "person_id"),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE"),
)
Index("ix_person_users_user", person_users.c.user_name, person_users.c.site_id)
