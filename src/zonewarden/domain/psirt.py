"""The supplier's PSIRT: vulnerability reports and the cases that follow them (issue 16).

Pure: frozen models, the case life cycle and its legal transitions, due dates from the
disclosure policy, and who may see an embargoed case. No I/O, no clock (times are passed in).

Life cycle::

    received -> triage -> validated -> remediation -> coordinated_release -> published -> closed
                       \\-> rejected (with a reason) -> closed

A rejected case may be reopened into triage (new information); a published case may be
published again (a revision of its advisory) before it is closed.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from zonewarden.domain.common import ID_PATTERN, Model, ShortText, Text, sensitive
from zonewarden.errors import ConflictError, InputError

MAX_ATTACHMENT_BYTES = 256 * 1024
"""Largest single attachment (decoded), in bytes."""
MAX_ATTACHMENTS = 10
MAX_REPORT_BYTES = 2 * 1024 * 1024
"""Largest report file accepted at intake (attachments included, base64 as sent)."""

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,255}$", max_length=320)]
CveId = Annotated[str, StringConstraints(pattern=r"^CVE-[0-9]{4}-[0-9]{4,}$")]
ProductRef = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


class CaseState(StrEnum):
    RECEIVED = "received"
    TRIAGE = "triage"
    VALIDATED = "validated"
    REJECTED = "rejected"
    REMEDIATION = "remediation"
    COORDINATED_RELEASE = "coordinated_release"
    PUBLISHED = "published"
    CLOSED = "closed"


TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.RECEIVED: frozenset({CaseState.TRIAGE, CaseState.REJECTED}),
    CaseState.TRIAGE: frozenset({CaseState.VALIDATED, CaseState.REJECTED}),
    CaseState.VALIDATED: frozenset({CaseState.REMEDIATION, CaseState.COORDINATED_RELEASE}),
    CaseState.REJECTED: frozenset({CaseState.TRIAGE, CaseState.CLOSED}),
    CaseState.REMEDIATION: frozenset({CaseState.COORDINATED_RELEASE}),
    CaseState.COORDINATED_RELEASE: frozenset({CaseState.PUBLISHED}),
    CaseState.PUBLISHED: frozenset({CaseState.PUBLISHED, CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}
"""state -> the states a case may move to from it."""


class CveState(StrEnum):
    REQUESTED = "requested"
    RESERVED = "reserved"
    PUBLISHED = "published"


class Attachment(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    media_type: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.+-]+/[a-z0-9.+-]+$")] = "text/plain"
    content: Annotated[str, StringConstraints(max_length=MAX_ATTACHMENT_BYTES * 4 // 3 + 4)] = Field(
        description="base64 of the file, or the text itself for text/plain; stored as received, never rendered")


class Reporter(Model):
    name: ShortText | None = sensitive(default=None)
    contact: Email = sensitive()
    organisation: ShortText | None = sensitive(default=None)
    encryption_key: Annotated[str, StringConstraints(max_length=64_000)] | None = sensitive(
        default=None, description="the reporter's OpenPGP public key (armoured), to answer encrypted")
    credit: bool = Field(default=False, description="whether the reporter wants to be named in the advisory")


class Report(Model):
    """What a reporter sends (a file at intake, or the intake endpoint)."""

    reporter: Reporter
    product: ShortText
    version: ShortText | None = None
    title: ShortText
    description: Text
    attachments: tuple[Attachment, ...] = Field(default=(), max_length=MAX_ATTACHMENTS)


class DisclosurePolicy(Model):
    """The supplier's recorded disclosure process: due dates and what the published pages say."""

    publisher_name: ShortText = "Example Supplier PSIRT"
    publisher_namespace: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] = "https://psirt.example.com"
    contact: Email = "psirt@example.com"
    policy_url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")] | None = None
    acknowledge_days: int = Field(default=2, ge=0, le=365)
    decide_days: int = Field(default=10, ge=0, le=365)
    remediate_days: int = Field(default=90, ge=1, le=730)
    languages: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")], ...] = ("en",)
    keep_reply_text: bool = Field(default=False, description=(
        "Whether the text of an answer to the reporter is kept in the case (inside the case's circle, "
        "like its other details). Off: only its hash, the ciphertext's hash and the key fingerprint are "
        "kept; the author keeps the message file."))
    process: tuple[Annotated[str, StringConstraints(min_length=1, max_length=2000)], ...] = (
        "We acknowledge every report within the acknowledgement period and give it a reference.",
        "We triage and validate the report and tell the reporter our decision.",
        "We fix validated vulnerabilities, coordinate the release with CERTs and affected customers under "
        "embargo, and publish a signed CSAF advisory.",
    )


class Party(Model):
    """A coordination party and what it was told, when."""

    name: ShortText
    kind: Annotated[str, StringConstraints(pattern=r"^(cert|isac|integrator|customer|supplier|reporter|other)$")]
    told: Text
    at: dt.datetime
    by: ShortText


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Fingerprint = Annotated[str, StringConstraints(pattern=r"^[0-9A-F]{40}([0-9A-F]{24})?$")]


class ReporterKey(Model):
    """The reporter's OpenPGP public key as checked at intake (the key itself is in the report)."""

    fingerprint: Fingerprint | None = Field(description="None: not checked (gpg was not installed at intake).")
    expires: dt.datetime | None = None
    checked_at: dt.datetime


class Communication(Model):
    """An answer sent to the reporter: when, by whom, through which channel, and what proves it."""

    at: dt.datetime
    by: ShortText
    channel: Annotated[str, StringConstraints(pattern=r"^(openpgp|clear)$")] = Field(
        description="openpgp: encrypted to the reporter's key; clear: through the contact channel unencrypted.")
    fingerprint: Fingerprint | None = Field(default=None, description="The key it was encrypted to.")
    ciphertext_sha256: Sha256 | None = None
    message_sha256: Sha256
    message_bytes: int = Field(ge=0)
    text: Text | None = Field(default=None, description="The message, only when the policy keeps reply texts.")


class CveRecord(Model):
    cve: CveId
    state: CveState
    at: dt.datetime


class Embargo(Model):
    until: dt.datetime
    members: tuple[ShortText, ...] = Field(description="user ids inside the embargo (besides the owners)")
    parties: tuple[ShortText, ...] = ()


class Affected(Model):
    """Which versions of a registered product a case affects, and which version fixes them."""

    product: ProductRef
    versions: tuple[ShortText, ...] = Field(min_length=1)
    fixed: ShortText | None = None


class CoordinatorDecision(Model):
    table: ShortText
    inputs: dict[str, str]
    outcome: str
    outcome_name: str | None = None
    at: dt.datetime
    by: ShortText


class Assessment(Model):
    """The validated vulnerability: what the advisory will say."""

    summary: Text
    cwe: Annotated[str, StringConstraints(pattern=r"^CWE-[1-9][0-9]*$")] | None = None
    cwe_name: ShortText | None = None
    cvss_v3: Annotated[str, StringConstraints(pattern=r"^CVSS:3\.[01]/\S+$")] | None = None
    impact: Annotated[str, StringConstraints(pattern=r"^(safety|availability|integrity|confidentiality)(,(safety|availability|integrity|confidentiality))*$")] | None = None
    remediation: Text | None = None
    workaround: Text | None = None


class Case(Model):
    reference: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,40}$")]
    state: CaseState = CaseState.RECEIVED
    received_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    report: Report
    owners: tuple[ShortText, ...] = ()
    rejection_reason: Text | None = None
    embargo: Embargo | None = None
    parties: tuple[Party, ...] = ()
    cves: tuple[CveRecord, ...] = ()
    coordinator: CoordinatorDecision | None = None
    affected: tuple[Affected, ...] = ()
    assessment: Assessment | None = None
    tlp: Annotated[str, StringConstraints(pattern=r"^(WHITE|GREEN|AMBER|RED)$")] = "WHITE"
    category: Annotated[str, StringConstraints(pattern=r"^(csaf_security_advisory|csaf_vex)$")] = "csaf_security_advisory"
    reporter_key: ReporterKey | None = None
    communications: tuple[Communication, ...] = ()


# --- life cycle -----------------------------------------------------------------------------------


def move(case: Case, to: CaseState, *, at: dt.datetime, reason: str | None = None) -> Case:
    """``case`` in state ``to``, or :class:`ConflictError` naming the states it may move to."""
    allowed = TRANSITIONS[case.state]
    if to not in allowed:
        options = ", ".join(sorted(allowed)) or "none (the case is closed)"
        raise ConflictError(f"case {case.reference} is {case.state}; it cannot move to {to} (from {case.state}: {options})")
    update: dict[str, object] = {"state": to}
    if to is CaseState.REJECTED:
        if not reason or not reason.strip():
            raise InputError(f"case {case.reference}: a rejection needs a reason (--reason)")
        update["rejection_reason"] = reason.strip()
    if to is CaseState.TRIAGE and case.acknowledged_at is None:
        update["acknowledged_at"] = at
    if to in (CaseState.VALIDATED, CaseState.REJECTED) and case.decided_at is None:
        update["decided_at"] = at
    if to is CaseState.TRIAGE and case.state is CaseState.REJECTED:
        update["rejection_reason"] = None
        update["decided_at"] = None
    if to is CaseState.COORDINATED_RELEASE and not case.affected:
        raise ConflictError(f"case {case.reference}: record the affected versions (psirt affects) before the release")
    if to is CaseState.COORDINATED_RELEASE and case.assessment is None:
        raise ConflictError(f"case {case.reference}: record the assessment (psirt assess) before the release")
    return case.model_copy(update=update)


def due_dates(case: Case, policy: DisclosurePolicy) -> dict[str, dt.datetime]:
    """When the next steps are due under ``policy``: acknowledge, decide, remediate."""
    out = {
        "acknowledge": case.received_at + dt.timedelta(days=policy.acknowledge_days),
        "decide": case.received_at + dt.timedelta(days=policy.decide_days),
    }
    if case.decided_at is not None and case.state is not CaseState.REJECTED:
        out["remediate"] = case.decided_at + dt.timedelta(days=policy.remediate_days)
    return out


def overdue(case: Case, policy: DisclosurePolicy, now: dt.datetime) -> list[str]:
    """The steps of ``case`` past their due date at ``now`` (not yet done)."""
    due = due_dates(case, policy)
    late = []
    if case.acknowledged_at is None and now > due["acknowledge"]:
        late.append("acknowledge")
    if case.decided_at is None and now > due["decide"]:
        late.append("decide")
    if "remediate" in due and case.state in (CaseState.VALIDATED, CaseState.REMEDIATION) and now > due["remediate"]:
        late.append("remediate")
    return late


# --- embargo --------------------------------------------------------------------------------------


def under_embargo(case: Case, now: dt.datetime) -> bool:
    """Whether the case's details are embargoed at ``now`` (an embargo that has not ended, on a
    case not yet published)."""
    if case.embargo is None or case.state in (CaseState.PUBLISHED, CaseState.CLOSED):
        return False
    return now < case.embargo.until


def inside(case: Case, user_id: str) -> bool:
    """Whether ``user_id`` is inside the case's circle (an owner or an embargo member)."""
    members = case.embargo.members if case.embargo is not None else ()
    return user_id in case.owners or user_id in members


def outline(case: Case) -> dict[str, object]:
    """What anyone allowed to read cases may see of an embargoed case: no reporter, no details."""
    return {
        "reference": case.reference,
        "state": str(case.state),
        "received_at": case.received_at.isoformat(),
        "embargoed": True,
        "embargo_until": case.embargo.until.isoformat() if case.embargo else None,
    }


# --- product register -----------------------------------------------------------------------------


class Product(Model):
    """A product of the supplier's register with its released versions (oldest first)."""

    id: ProductRef
    vendor: ShortText
    name: ShortText
    versions: tuple[ShortText, ...] = Field(min_length=1)
    cpe: Annotated[str, StringConstraints(pattern=r"^cpe:2\.3:[aho\*\-](:\S+){10}$")] | None = None
