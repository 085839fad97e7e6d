"""Issued evidence packages: the document control of ``report --issue`` (``services.package_issues``).

One row per issue of a package for a site and audience: its version (1, 2, ... per site and
audience), status (draft until approved), who issued and who approved it, the recipient and
agreement of a customer package, and the site data it was built from, so the next issue's
revision history is the site diff since this one. Migration: ``migrations/versions/0012_package_issues.py``;
the files a build wrote for an issue (``package_files``): ``0013_package_files.py``.
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

package_files = Table(
    "package_files",
    metadata,
    Column("site_id", String(128), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False, doc="file name inside the package folder"),
    Column("sha256", String(64), nullable=False, doc="SHA-256 of the file as written"),
    Column("size", Integer, nullable=False),
    Column("folder", String(1000), nullable=False, doc="the package folder, relative to the packages folder"),
    Column("written_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("site_id", "audience", "version", "name"),
    ForeignKeyConstraint(["site_id", "audience", "version"],
                         ["package_issues.site_id", "package_issues.audience", "package_issues.version"],
                         ondelete="CASCADE"),
)
"""The files a background build wrote for an issued version (``services.package_files``), so
the evidence page lists and serves them with their hashes. Migration 0013."""

__all__ = ["package_files", "package_issues"]
