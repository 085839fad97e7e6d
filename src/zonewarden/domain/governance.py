"""Governance records: criticality classes, assessments and change records (IEC 62443-2-1).

The assessment calendar is data: a criticality class says how often its zones get a full
assessment and a health check; assessment records say what was looked at when; change records
say what changed and therefore which zones need a scoped reassessment. The engine that turns
these into due dates is :mod:`zonewarden.engines.cadence`.

``ChangeRecord`` carries the fields every change under change control has (type, scope, status,
dates, approvals, impact assessment, revalidation, rollback plan, post-implementation review).
Patch-specific detail (issue 7) belongs in an optional nested block added to the record, so a
record without it stays valid and the calendar logic here need not change.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from zonewarden.domain.common import (
    AssetRef,
    Criticality,
    Id,
    Model,
    PersonRef,
    ShortText,
    Text,
    ZoneRef,
    duplicate_id_problems,
    sensitive,
)
from zonewarden.errors import Problem

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.domain.site import SiteDocument


class CriticalityClass(Model):
    """How often zones of one criticality are assessed, and how fast after a change."""

    id: Criticality
    full_assessment_months: int = Field(default=36, ge=1, le=120)
    health_check_months: int = Field(default=12, ge=1, le=60)
    change_reassessment_days: int = Field(
        default=90,
        ge=0,
        le=730,
        description="A scoped reassessment is due this long after a triggering change.",
    )
    incident_reassessment_days: int = Field(
        default=30, ge=0, le=730, description="As change_reassessment_days, for security incidents."
    )
    description: Text | None = None


DEFAULT_CRITICALITY_CLASSES: dict[Criticality, CriticalityClass] = {
    Criticality.LOW: CriticalityClass(id=Criticality.LOW),
    Criticality.MEDIUM: CriticalityClass(id=Criticality.MEDIUM),
    # Zones whose compromise hurts people or the licence drift faster than the plant's average.
    Criticality.HIGH: CriticalityClass(id=Criticality.HIGH, full_assessment_months=24),
    Criticality.CRITICAL: CriticalityClass(id=Criticality.CRITICAL, full_assessment_months=24),
}


def effective_classes(
    configured: tuple[CriticalityClass, ...],
) -> dict[Criticality, CriticalityClass]:
    """The defaults, replaced class by class by what the site configures."""
    out = dict(DEFAULT_CRITICALITY_CLASSES)
    for c in configured:
        out[c.id] = c
    return out


class AssessmentKind(StrEnum):
    FULL = "full"
    HEALTH_CHECK = "health-check"
    SCOPED = "scoped"


class AssessmentOutcome(StrEnum):
    SATISFACTORY = "satisfactory"
    SATISFACTORY_WITH_FINDINGS = "satisfactory-with-findings"
    UNSATISFACTORY = "unsatisfactory"
    INCOMPLETE = "incomplete"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FindingStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AssessmentFinding(Model):
    """Something an assessment found, tracked until it is closed."""

    id: Id
    title: ShortText
    severity: Severity = Severity.MEDIUM
    status: FindingStatus = FindingStatus.OPEN
    zone: ZoneRef | None = None
    due: dt.date | None = None
    description: Text | None = sensitive(default=None)


class Assessment(Model):
    """A completed assessment: a full one, a health check or one scoped to some zones."""

    id: Id
    kind: AssessmentKind
    date: dt.date = Field(description="The day the assessment was completed.")
    zones: tuple[ZoneRef, ...] = Field(
        default=(),
        description="Zones covered; empty means the whole site (not allowed for 'scoped').",
    )
    scope: Text | None = Field(default=None, description="What was looked at, in words.")
    assessors: tuple[PersonRef, ...] = Field(min_length=1)
    outcome: AssessmentOutcome
    findings: tuple[AssessmentFinding, ...] = ()
    changes: tuple[Id, ...] = Field(
        default=(), description="Change records this assessment answers."
    )
    report: ShortText | None = Field(default=None, description="Document reference of the report.")

    @model_validator(mode="after")
    def _scoped(self) -> Assessment:
        if self.kind is AssessmentKind.SCOPED and not self.zones:
            raise ValueError("a scoped assessment must list the zones it covered")
        return self

    def covers(self, zone_id: str) -> bool:
        return not self.zones or zone_id in self.zones


class ChangeType(StrEnum):
    ARCHITECTURE_CHANGE = "architecture-change"
    NEW_CRITICAL_ASSET = "new-critical-asset"
    NEW_EXTERNAL_CONNECTIVITY = "new-external-connectivity"
    NEW_INTEGRATION = "new-integration"
    SECURITY_INCIDENT = "security-incident"
    MAJOR_PROCESS_CHANGE = "major-process-change"
    VENDOR_END_OF_SUPPORT = "vendor-end-of-support"
    PATCH = "patch"
    OTHER = "other"

    @property
    def triggers_reassessment(self) -> bool:
        """Whether a change of this type needs a scoped reassessment of its zones.

        Patches and other routine changes are controlled by their own approval and revalidation
        steps; they do not alter the zone's risk picture the way the listed types do.
        """
        return self not in (ChangeType.PATCH, ChangeType.OTHER)


class ChangeStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    IMPLEMENTED = "implemented"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class Approval(Model):
    """One sign-off on a change."""

    by: PersonRef
    on: dt.date
    decision: Decision = Decision.APPROVED
    role: ShortText | None = Field(default=None, examples=["quality", "ot-engineering"])
    comment: Text | None = None


class Revalidation(Model):
    """Computer-system revalidation a change of a validated system needs (GxP)."""

    required: bool = True
    reference: ShortText | None = None
    completed: dt.date | None = None


class ChangeRecord(Model):
    """A change under change control."""

    id: Id
    type: ChangeType
    title: ShortText
    description: Text | None = None
    zones: tuple[ZoneRef, ...] = ()
    assets: tuple[AssetRef, ...] = ()
    status: ChangeStatus
    raised: dt.date = Field(description="When the change (or the incident) was recorded.")
    planned: dt.date | None = None
    implemented: dt.date | None = None
    closed: dt.date | None = None
    owner: PersonRef | None = None
    impact_assessment: Text | None = None
    approvals: tuple[Approval, ...] = ()
    revalidation: Revalidation | None = None
    rollback_plan: Text | None = None
    post_implementation_review: Text | None = None

    @model_validator(mode="after")
    def _dates(self) -> ChangeRecord:
        if not self.zones and not self.assets:
            raise ValueError("a change record names the zones or assets it affects")
        if (
            self.status in (ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED)
            and self.implemented is None
        ):
            if self.type is not ChangeType.SECURITY_INCIDENT:
                raise ValueError(f"status {self.status.value!r} needs the 'implemented' date")
        if self.status is ChangeStatus.CLOSED and self.closed is None:
            raise ValueError("status 'closed' needs the 'closed' date")
        for name in ("implemented", "closed"):
            value = getattr(self, name)
            if value is not None and value < self.raised:
                raise ValueError(f"'{name}' ({value}) is before 'raised' ({self.raised})")
        if self.implemented and self.closed and self.closed < self.implemented:
            raise ValueError(
                f"'closed' ({self.closed}) is before 'implemented' ({self.implemented})"
            )
        return self

    @property
    def effective_date(self) -> dt.date | None:
        """When the change took effect and the clock for its reassessment starts; None while
        it has not (yet) happened. An incident takes effect when it is recorded."""
        if self.status in (ChangeStatus.REJECTED, ChangeStatus.CANCELLED):
            return None
        if self.type is ChangeType.SECURITY_INCIDENT:
            return self.raised
        if self.status in (ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED):
            return self.implemented
        return None


def governance_reference_problems(doc: SiteDocument) -> list[Problem]:
    """Broken references and duplicates in criticality classes, assessments and changes."""
    problems: list[Problem] = []
    seen_classes: set[str] = set()
    for i, c in enumerate(doc.criticality_classes):
        if c.id in seen_classes:
            problems.append(
                Problem(
                    f"criticality class {c.id.value!r} is configured twice",
                    ("criticality_classes", i, "id"),
                )
            )
        seen_classes.add(c.id)
    problems += duplicate_id_problems("assessments", [a.id for a in doc.assessments])
    problems += duplicate_id_problems("changes", [c.id for c in doc.changes])
    zones = {z.id for z in doc.zones}
    assets = {a.id for a in doc.assets}
    people = {p.id for p in doc.people}
    changes = {c.id for c in doc.changes}

    def check(kind: str, known: set[str], ref: str | None, path: tuple[str | int, ...]) -> None:
        if ref is not None and ref not in known:
            hint = ": add them under 'people'" if kind == "person" else ""
            problems.append(Problem(f"unknown {kind} {ref!r}{hint}", path))

    for i, a in enumerate(doc.assessments):
        for j, z in enumerate(a.zones):
            check("zone", zones, z, ("assessments", i, "zones", j))
        for j, p in enumerate(a.assessors):
            check("person", people, p, ("assessments", i, "assessors", j))
        for j, f in enumerate(a.findings):
            check("zone", zones, f.zone, ("assessments", i, "findings", j, "zone"))
        for j, ref in enumerate(a.changes):
            check("change record", changes, ref, ("assessments", i, "changes", j))
    for i, ch in enumerate(doc.changes):
        for j, z in enumerate(ch.zones):
            check("zone", zones, z, ("changes", i, "zones", j))
        for j, ast in enumerate(ch.assets):
            check("asset", assets, ast, ("changes", i, "assets", j))
        check("person", people, ch.owner, ("changes", i, "owner"))
        for j, ap in enumerate(ch.approvals):
            check("person", people, ap.by, ("changes", i, "approvals", j, "by"))
            if ch.owner is not None and ap.by == ch.owner:
                problems.append(Problem(
                    f"{ap.by} owns change {ch.id} and approves it: separation of duties needs "
                    "another person's approval (the owner raises and carries out the change)",
                    ("changes", i, "approvals", j, "by")))
    return problems


__all__ = [
    "Approval",
    "Assessment",
    "AssessmentFinding",
    "AssessmentKind",
    "AssessmentOutcome",
    "ChangeRecord",
    "ChangeStatus",
    "ChangeType",
    "CriticalityClass",
    "DEFAULT_CRITICALITY_CLASSES",
    "Decision",
    "FindingStatus",
    "Revalidation",
    "Severity",
    "effective_classes",
    "governance_reference_problems",
]
