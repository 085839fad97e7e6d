"""Database tables. The site document is stored in typed tables for the objects that are queried
(zones, conduits, assets, people) and in ``site_records`` for every other list section, each row
keeping the object's full JSON so that a stored site exports back to the same files.

Changing a table means a new Alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sites = Table(
    "sites",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("data", JSON, nullable=False, doc="site info and the non-list sections"),
    Column("content_hash", String(64), nullable=False, doc="SHA-256 of the canonical document"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def _site_child(name: str, *columns: Column) -> Table:
    return Table(
        name,
        metadata,
        Column("site_id", String(128), nullable=False),
        Column("id", String(128), nullable=False),
        Column("seq", Integer, nullable=False, doc="position in the site file, for lossless export"),
        *columns,
        Column("data", JSON, nullable=False),
        PrimaryKeyConstraint("site_id", "id"),
        ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    )


zones = _site_child(
    "zones",
    Column("kind", String(32), nullable=False),
    Column("purdue_level", Float, nullable=False),
)
conduits = _site_child(
    "conduits",
    Column("zone_a", String(128), nullable=False),
    Column("zone_b", String(128), nullable=False),
)
assets = _site_child(
    "assets",
    Column("zone_id", String(128)),
    Column("type", String(64), nullable=False),
    Column("vendor", String(500)),
    Column("product", String(500)),
    Column("version", String(500)),
    Column("end_of_support", String(10), doc="ISO date, for check without reading the JSON"),
    Column("vendor_support", String(32)),
)
Index("ix_assets_site_zone", assets.c.site_id, assets.c.zone_id)
# Covers what `check` reads of every asset (services.sites.asset_facts), so a 100k-asset
# site's facts come from the index alone, in file order.
Index(
    "ix_assets_check_facts",
    assets.c.site_id,
    assets.c.seq,
    assets.c.id,
    assets.c.type,
    assets.c.zone_id,
    assets.c.end_of_support,
    assets.c.vendor_support,
)
Index("ix_assets_site_vendor", assets.c.site_id, assets.c.vendor)
people = _site_child("people")

site_records = Table(
    "site_records",
    metadata,
    Column("site_id", String(128), nullable=False),
    Column("section", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    PrimaryKeyConstraint("site_id", "section", "seq"),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

evidence_files = Table(
    "evidence_files",
    metadata,
    Column("site_id", String(128), nullable=False),
    Column("path", String(1000), nullable=False, doc="relative to the site folder, as in the site file"),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("site_id", "path"),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("site_id", String(128)),
    Column("object_type", String(64)),
    Column("object_id", String(200)),
    Column("reason", Text),
    Column("before", JSON),
    Column("after", JSON),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("context", JSON, doc="how the actor authenticated and the client: {method, client}; NULL before 0007"),
)
Index("ix_audit_site", audit_events.c.site_id, audit_events.c.seq)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, doc="always 1: one row that pins the chain's end"),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("hash", String(64), nullable=False),
)

SITE_CHILD_TABLES = {"zones": zones, "conduits": conduits, "assets": assets, "people": people}
