"""Tables of the advisories feature: advisory revisions, findings, triage decisions, KEV.

They share :data:`zonewarden.store.tables.metadata`; the schema is created by the Alembic
revision ``0002`` (``migrations/versions/0002_advisories.py``) and changed by later revisions
(0006: no flattened copy of advisories; 0008: finding explanations stored once).

Why findings do not reference ``sites`` with a foreign key: a site import replaces the site row
(delete + insert, see services/sites.py), and a cascading key would wipe every finding and its
triage history on each re-import. Findings outlive the inventory rows they were computed from;
:func:`zonewarden.services.advisories.rematch_site` marks those whose asset is gone inactive.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from zonewarden.store.tables import metadata

BigId = BigInteger().with_variant(Integer, "sqlite")

advisories = Table(
    "advisories",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tracking_id", String(200), nullable=False, doc="/document/tracking/id"),
    Column("version", String(100), nullable=False, doc="/document/tracking/version"),
    Column("publisher", String(500)),
    Column("title", Text, nullable=False),
    Column("release_date", DateTime(timezone=True), doc="/document/tracking/current_release_date"),
    Column("status", String(32), doc="/document/tracking/status: draft, interim, final"),
    Column("sha256", String(64), nullable=False, doc="SHA-256 of the bytes as received"),
    Column("source", Text, nullable=False, doc="file path or URL it was read from"),
    Column("strict", Boolean, nullable=False, doc="ingested in strict mode"),
    Column("deviations", JSON, nullable=False, doc="[{test_id, pointer, message}] found by the validator"),
    Column("document", Text, nullable=False, doc="the document as received (UTF-8 JSON text)"),
    Column("current", Boolean, nullable=False, doc="the newest revision of its tracking id"),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tracking_id", "sha256"),
)
Index("ix_advisories_tracking_current", advisories.c.tracking_id, advisories.c.current)
Index("ix_advisories_sha256", advisories.c.sha256)

findings = Table(
    "findings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("site_id", String(128), nullable=False),
    Column("tracking_id", String(200), nullable=False),
    Column("advisory_row", BigId, nullable=False, doc="the advisory revision last matched"),
    Column("asset_id", String(128), nullable=False),
    Column("zone_id", String(128)),
    Column("active", Boolean, nullable=False, doc="false once the asset is gone or no longer matched"),
    Column("status", String(32), nullable=False, doc="matcher: affected, not-affected, fixed, needs-review"),
    Column("reason", String(64), doc="review reason code when needs-review"),
    Column("explanation_id", BigId, doc="finding_explanations.id: message, CVEs, entry matches (never NULL once written)"),
    Column("ssvc", JSON, doc="SSVC decision: inputs with source and override, priority (None when not affected/fixed)"),
    Column("overrides", JSON, nullable=False, doc="{input: {value, justification, by}} set by people"),
    Column("priority", String(32)),
    Column("priority_rank", Integer, doc="0 defer .. 3 immediate, for sorting"),
    Column("triage_status", String(32), nullable=False),
    Column("triage_owner", String(200)),
    Column("triage_expires", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("site_id", "tracking_id", "asset_id"),
    ForeignKeyConstraint(["advisory_row"], ["advisories.id"]),
)
Index("ix_findings_site_status", findings.c.site_id, findings.c.active, findings.c.status)

finding_explanations = Table(
    "finding_explanations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, doc="SHA-256 of the JSON of [message, cves, matches, product_status]"),
    Column("message", Text, nullable=False, doc="why, in one sentence"),
    Column("cves", JSON, nullable=False),
    Column("matches", JSON, nullable=False, doc="every entry match: product, matched on, range, verdict"),
    Column("product_status", JSON, nullable=False, doc="{product_id: group} of the matches; a change reopens triage"),
    UniqueConstraint("digest"),
)
"""What a finding says about why it matched, stored once for every finding that says the same
(issue 17, speed 2): the assets of one device kind get the same entry matches from an
advisory, so a fleet of 500 drives shares one row instead of repeating ~5 KB of JSON 500
times. Rows are never deleted or changed (a changed explanation is a new row); no foreign key
from findings, like findings -> sites, because SQLite cannot add one to stored rows without a
copy of the table (see migration 0008)."""

findings_explained = findings.join(finding_explanations, finding_explanations.c.id == findings.c.explanation_id)
EXPLANATION_COLUMNS = (
    finding_explanations.c.message, finding_explanations.c.cves, finding_explanations.c.matches,
    finding_explanations.c.product_status,
)
"""Select ``findings`` with these from :data:`findings_explained` to read a whole finding."""

triage_decisions = Table(
    "triage_decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("finding_id", BigId, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("from_status", String(32), nullable=False),
    Column("to_status", String(32), nullable=False),
    Column("why", Text, nullable=False),
    Column("owner", String(200)),
    Column("expires", Date),
    Column("controls", JSON, nullable=False, doc="compensating control ids (mitigated)"),
    Column("automatic", Boolean, nullable=False, doc="made by zonewarden (reopened by a new revision)"),
    ForeignKeyConstraint(["finding_id"], ["findings.id"]),
)
Index("ix_triage_finding", triage_decisions.c.finding_id, triage_decisions.c.id)

kev_entries = Table(
    "kev_entries",
    metadata,
    Column("cve", String(32), primary_key=True),
    Column("vendor", Text, nullable=False),
    Column("product", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("date_added", Date, nullable=False),
    Column("due_date", Date),
    Column("ransomware", String(16), nullable=False),
    Column("catalog_version", String(64), nullable=False),
)

match_state = Table(
    "advisory_match_state",
    metadata,
    Column("site_id", String(128), primary_key=True),
    Column("content_hash", String(64), nullable=False, doc="the site content every current advisory was matched against"),
    Column("matched_at", DateTime(timezone=True), nullable=False),
)

ADVISORY_TABLES = (advisories, findings, finding_explanations, triage_decisions, kev_entries, match_state)
