"""Issued evidence packages: the document control of ``report --issue`` (``services.package_issues``).

One row per issue of a package for a site and audience: its version (1, 2, ... per site and
audience), status (draft until approved), who issued and who approved it, the recipient and
agreement of a customer package, and the site data it was built from, so the next issue's
revision history is the site diff since this one. Migration: ``migrations/versions/0012_package_issues.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from zonewarden.store.tables import metadata

package_issues = Table(
    "package_issues",
    metadata,
    Column("site_id", String(128), nullable=False),
    Column("audience", String(16), nullable=False, doc="auditor or customer"),
    Column("version", Integer, nullable=False, doc="1, 2, ... per site and audience"),
    Column("document_id", String(200), nullable=False),
    Column("status", String(16), nullable=False, doc="draft or approved"),
    Column("as_of", Date, nullable=False),
    Column("input_sha256", String(64), nullable=False, doc="content hash of the site data it was built from"),
    Column("site_data", JSON, nullable=False, doc="the site data at issue (the next revision history diffs it)"),
    Column("recipient", String(300)),
    Column("agreement", String(300)),
    Column("issued_by", String(128), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(128)),
    Column("approved_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("site_id", "audience", "version"),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

__all__ = ["package_issues"]
