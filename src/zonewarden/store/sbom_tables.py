"""Tables of SBOM and VEX (issue 14 item 5): an asset's software components and supplier
VEX statements.

They share :data:`zonewarden.store.tables.metadata`; the schema is created by the Alembic
revision ``0014`` (``migrations/versions/0014_sbom_vex.py``).

No foreign key to ``sites`` or ``assets``, for the reason findings have none (see
:mod:`zonewarden.store.advisory_tables`): a site re-import replaces the site's rows, and a
cascading key would drop every imported SBOM with it. Components of an asset that left the
inventory are kept and simply not matched.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from zonewarden.store.advisory_tables import BigId
from zonewarden.store.tables import metadata

sboms = Table(
    "sboms",
    metadata,
    Column("site_id", String(128), nullable=False),
    Column("asset_id", String(128), nullable=False),
    Column("spec_version", String(8), nullable=False, doc="CycloneDX specVersion: 1.4, 1.5, 1.6"),
    Column("serial_number", String(200), doc="/serialNumber"),
    Column("bom_version", Integer, doc="/version"),
    Column("sha256", String(64), nullable=False, doc="SHA-256 of the file as imported"),
    Column("source", Text, nullable=False, doc="the file it was read from"),
    Column("components", Integer, nullable=False),
    Column("imported_by", String(200), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("site_id", "asset_id"),
)

sbom_components = Table(
    "sbom_components",
    metadata,
    Column("site_id", String(128), nullable=False),
    Column("asset_id", String(128), nullable=False),
    Column("seq", Integer, nullable=False, doc="position in the SBOM (depth first)"),
    Column("bom_ref", String(500), doc="the component's bom-ref"),
    Column("name", String(500), nullable=False),
    Column("version", String(200)),
    Column("purl", String(1000)),
    Column("cpe", String(1000)),
    Column("supplier", String(500), doc="supplier.name, else manufacturer.name, else publisher"),
    Column("pointer", String(200), nullable=False, doc="JSON pointer of the component in the SBOM"),
    PrimaryKeyConstraint("site_id", "asset_id", "seq"),
)

vex_statements = Table(
    "vex_statements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("format", String(16), nullable=False, doc="csaf or cyclonedx"),
    Column("document_id", String(200), nullable=False, doc="CSAF tracking id or CycloneDX serialNumber/file name"),
    Column("sha256", String(64), nullable=False, doc="SHA-256 of the VEX document as received"),
    Column("publisher", String(500), nullable=False, doc="who makes the statement"),
    Column("site_id", String(128), doc="CycloneDX VEX about one asset's SBOM; NULL: about a product anywhere"),
    Column("asset_id", String(128)),
    Column("vulnerability", String(200), nullable=False, doc="CVE id (or the VEX's vulnerability id)"),
    Column("vendor", String(500), doc="the product's vendor as the VEX names it"),
    Column("product", String(1000), doc="the product's full name"),
    Column("purl", String(1000)),
    Column("cpe", String(1000)),
    Column("version", String(200), doc="the product version or range the statement covers (text)"),
    Column("state", String(32), nullable=False, doc="not_affected, affected, fixed, under_investigation"),
    Column("justification", Text, doc="the VEX justification (flag label or CycloneDX justification)"),
    Column("impact", Text, doc="impact statement / analysis detail"),
    Column("pointer", String(300), nullable=False, doc="JSON pointer of the statement in its document"),
    Column("from_supplier", Boolean, nullable=False, doc="the publisher is the product's supplier (vendor registry)"),
    Column("accepted_by", String(200), doc="who accepted a statement from another source"),
    Column("accepted_at", DateTime(timezone=True)),
    Column("acceptance", JSON, doc="the acceptance's signature record"),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_vex_statements_vulnerability", vex_statements.c.vulnerability)

SBOM_TABLES = (sboms, sbom_components, vex_statements)
