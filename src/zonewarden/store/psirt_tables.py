"""Tables of the supplier's PSIRT: cases, the product register, published advisories and
settings (the disclosure policy). Migration: ``migrations/versions/0011_psirt.py``.

A case is kept as its whole document (``domain.psirt.Case`` as JSON) beside the columns lists
and access need; every change rewrites the document in one transaction with its audit event.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, PrimaryKeyConstraint, String, Table

from zonewarden.store.tables import metadata

psirt_cases = Table(
    "psirt_cases",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("embargo_until", DateTime(timezone=True)),
    Column("status_secret", String(64), doc="sha256 of the reporter's status link secret"),
    Column("client_key", String(64), doc="sha256 of the submitting client (rate limit of the intake endpoint)"),
    Column("document", JSON, nullable=False),
)
Index("ix_psirt_cases_status_secret", psirt_cases.c.status_secret)

psirt_products = Table(
    "psirt_products",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("document", JSON, nullable=False),
)

psirt_advisories = Table(
    "psirt_advisories",
    metadata,
    Column("tracking_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("case_reference", String(40), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("document", JSON, nullable=False),
    PrimaryKeyConstraint("tracking_id", "version"),
)

psirt_settings = Table(
    "psirt_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("document", JSON, nullable=False),
)
