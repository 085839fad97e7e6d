"""Result records and the triage workflow of the advisory services: what ingest, the finding
reads and triage hand back, the order of advisory versions, the allowed triage moves.

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

from zonewarden.services.principal import SYSTEM

Outcome = Literal["new", "revision", "unchanged", "older", "rejected"]
SYSTEM_ACTOR = SYSTEM.user_id


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingest did with one document."""

    source: str
    """The file path or URL the bytes came from."""
    outcome: Outcome
    """``new`` (first revision of its tracking id), ``revision`` (supersedes the current one),
    ``unchanged`` (these bytes are stored already), ``older`` (kept as history, not current),
    ``rejected`` (not stored; see ``error``)."""
    tracking_id: str | None
    """``/document/tracking/id`` when it could be read."""
    version: str | None
    """``/document/tracking/version`` when it could be read."""
    error: str | None
    """Why the document was rejected: names the source and the JSON pointer."""
    deviations: int
    """How many deviations from CSAF 2.0 the validator recorded (lenient mode stores them)."""
    vex_statements: int = 0
    """VEX statements recorded from this document (a ``csaf_vex`` document stored now)."""


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The results of one batch, in input order, and the findings it changed."""

    results: list[IngestResult]
    findings_created: int = 0
    """Findings created on any site by the new and revised advisories."""
    findings_updated: int = 0
    """Existing findings whose status, explanation or priority changed."""
    reopened: int = 0
    """Triage decisions reopened because a revision changed the product status."""
    vex_statements: int = 0
    """VEX statements recorded from the ``csaf_vex`` documents of the batch (services.vex.record)."""
    vex_closed: int = 0
    """Findings closed as not affected by recorded VEX after the batch (services.vex.apply)."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def rejected(self) -> list[IngestResult]:
        return [r for r in self.results if r.outcome == "rejected"]


@dataclass(frozen=True, slots=True)
class AdvisoryRow:
    """One stored advisory revision."""

    row_id: int
    tracking_id: str
    version: str
    publisher: str | None
    title: str
    release_date: dt.datetime | None
    status: str | None
    sha256: str
    source: str
    current: bool
    deviations: tuple[dict[str, str], ...]
    ingested_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        """The row as JSON values, every field (the API's list of advisories)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
        out["deviations"] = [dict(d) for d in self.deviations]
        return out


@dataclass(frozen=True, slots=True)
class TriageDecision:
    """One recorded triage decision (append-only)."""

    at: dt.datetime
    actor: str
    from_status: str
    to_status: str
    why: str
    owner: str | None
    expires: dt.date | None
    controls: tuple[str, ...]
    automatic: bool


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A stored finding: one advisory x one asset on one site."""

    id: int
    site_id: str
    tracking_id: str
    advisory_version: str
    advisory_title: str
    asset_id: str
    zone_id: str | None
    active: bool
    status: str
    """Matcher status: affected, not-affected, fixed, needs-review."""
    reason: str | None
    """Review reason code (needs-review)."""
    message: str
    cves: tuple[str, ...]
    matches: tuple[dict[str, Any], ...]
    """Why it matched: one entry per product entry of the advisory that tied to the asset."""
    ssvc: dict[str, Any] | None
    """The SSVC decision (inputs with source and override, priority, deciding CVE)."""
    priority: str | None
    triage_status: str
    triage_owner: str | None
    triage_expires: dt.date | None
    decisions: tuple[TriageDecision, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site_id,
            "advisory": self.tracking_id,
            "advisory_version": self.advisory_version,
            "advisory_title": self.advisory_title,
            "asset": self.asset_id,
            "zone": self.zone_id,
            "active": self.active,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "cves": list(self.cves),
            "priority": self.priority,
            "triage": self.triage_status,
            "triage_owner": self.triage_owner,
            "triage_expires": self.triage_expires.isoformat() if self.triage_expires else None,
            "matches": list(self.matches),
            "ssvc": self.ssvc,
            "decisions": [
                {
                    "at": d.at.isoformat(),
                    "actor": d.actor,
                    "from": d.from_status,
                    "to": d.to_status,
                    "why": d.why,
                    "owner": d.owner,
                    "expires": d.expires.isoformat() if d.expires else None,
                    "controls": list(d.controls),
                    "automatic": d.automatic,
                }
                for d in self.decisions
            ],
        }


# --- versions --------------------------------------------------------------------------------

_SEMVER = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*)\.(0|[1-9]\d*))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def version_key(version: str) -> tuple[Any, ...]:
    """Order of ``/document/tracking/version`` values (CSAF 2.0 section 3.1.11).

    Integer versioning (``"3"``) and semantic versioning (``"1.2.0"``, ``"1.0.0-rc.1"``) both
    work; a pre-release sorts before its release, build metadata is ignored. Anything else
    sorts before every valid version (it can never supersede a valid one).
    """
    m = _SEMVER.match(version.strip())
    if not m:
        return (-1, version)
    major, minor, patch, pre = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), m.group(4)
    if pre is None:
        return (0, major, minor, patch, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (0, major, minor, patch, 0, parts)


# --- triage workflow -------------------------------------------------------------------------

TRIAGE_STATUSES = (
    "new",
    "under-assessment",
    "not-affected",
    "mitigated",
    "remediation-planned",
    "risk-accepted",
    "resolved",
)
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"under-assessment"}),
    "under-assessment": frozenset({"not-affected", "mitigated", "remediation-planned", "risk-accepted", "resolved"}),
    "not-affected": frozenset({"under-assessment"}),
    "mitigated": frozenset({"under-assessment", "remediation-planned", "resolved"}),
    "remediation-planned": frozenset({"under-assessment", "mitigated", "risk-accepted", "resolved"}),
    "risk-accepted": frozenset({"under-assessment", "remediation-planned", "mitigated", "resolved"}),
    "resolved": frozenset({"under-assessment"}),
}
"""Allowed triage transitions. Every decided state can go back to under-assessment (new facts);
nothing goes back to ``new``, which only zonewarden sets."""

_OPEN_TRIAGE = frozenset({"new", "under-assessment"})


def _clean(text: str | None) -> str | None:
    # Advisory text is untrusted; PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "\ufffd") if isinstance(text, str) else text


def _clip(text: str | None, limit: int) -> str | None:
    text = _clean(text)
    return text if text is None or len(text) <= limit else text[: limit - 1] + "\u2026"
