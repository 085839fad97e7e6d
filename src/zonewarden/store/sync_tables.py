"""Tables that remember what ``advisories sync`` fetched from each CSAF provider.

Kept apart from ``tables.py`` (they belong to one feature) but on the same ``metadata``, so
Alembic sees one schema. Migration: ``migrations/versions/0003_csaf_sync.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from zonewarden.store.tables import metadata

csaf_sync_sources = Table(
    "csaf_sync_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False, doc="the URL exactly as the user gave it"),
    Column("kind", String(32), nullable=False, doc="provider-metadata, rolie or directory"),
    Column("last_sync_at", DateTime(timezone=True), nullable=False),
    Column("last_report", JSON, nullable=False, doc="counts of the last run, for `sync --status`"),
    UniqueConstraint("url"),
)

csaf_sync_files = Table(
    "csaf_sync_files",
    metadata,
    Column("source_id", Integer, nullable=False),
    Column("url", String(2000), nullable=False, doc="where the document was downloaded from"),
    Column("updated", String(64), doc="the provider's last-change time as written (ROLIE updated, changes.csv)"),
    Column("etag", String(500)),
    Column("last_modified", String(100), doc="HTTP Last-Modified, sent back as If-Modified-Since"),
    Column("sha512", String(128), nullable=False),
    Column("sha256", String(64)),
    Column("status", String(16), nullable=False, doc="ingested, or rejected by the CSAF reader"),
    Column("strict", Boolean, nullable=False, doc="whether ingest ran in strict mode"),
    Column("outcome", String(16), nullable=False, doc="the ingest outcome (new, revision, unchanged, older, rejected)"),
    Column("tracking_id", String(500)),
    Column("version", String(100)),
    Column("error", String(4000)),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("source_id", "url"),
    ForeignKeyConstraint(["source_id"], ["csaf_sync_sources.id"], ondelete="CASCADE"),
)
