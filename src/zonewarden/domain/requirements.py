"""What a plant has done about IEC 62443-3-3: requirement statuses, compensating controls,
exceptions, the site's SL scale and declared component capabilities.

These are sections of the site file (see ``SiteDocument``). Each record validates its own
shape on creation; whether its references resolve (zones, conduits, assets, people, controls,
requirement ids known to the catalog) and whether a status carries what it needs (a
justification for ``not-applicable``, a covering control for ``compensated``) is checked for a
whole document by :func:`requirement_reference_problems`, so a user sees every problem at once
and the gap engine can still report on a document that was loaded with references deferred.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from zonewarden.domain.common import (
    AssetRef,
    ConduitRef,
    Id,
    Model,
    PersonRef,
    ShortText,
    Text,
    ZoneRef,
    sensitive,
)
from zonewarden.domain.levels import SLCapability
from zonewarden.errors import Problem

if TYPE_CHECKING:  # pragma: no cover - import only for type checkers (site imports this module)
    from zonewarden.domain.site import SiteDocument

# --- requirement ids -----------------------------------------------------------------------

_REQ_RE = re.compile(
    r"""^\s*(?:SR)?[\s_\-]*(?P<fr>\d+)\s*\.\s*(?P<sr>\d+)  # SR 1.1, SR-1.1, 1.1
        \s*(?:
            RE\s*[\-_]?\s*\(?\s*(?P<re>\d+)\s*\)?          # RE 1, RE(1), RE1, RE-1
          | \(\s*(?P<re2>\d+)\s*\)                       # (1), the standard's own short form
        )?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def canonical_requirement_id(text: str) -> str:
    """Spell an IEC 62443-3-3 requirement id the one way zonewarden stores it.

    ``"sr1.1(1)"``, ``"SR 1.1 RE1"`` and ``"SR 1.1 RE 1"`` all become ``"SR 1.1 RE 1"``. This
    only fixes spelling; whether the requirement exists is the catalog's question.
    """
    m = _REQ_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(
            f"{text!r} is not an IEC 62443-3-3 requirement id; write it like 'SR 1.1' or 'SR 1.1 RE 1'"
        )
    base = f"SR {int(m['fr'])}.{int(m['sr'])}"
    re_ = m["re"] or m["re2"]
    return f"{base} RE {int(re_)}" if re_ else base


def _canonical(v: object) -> object:
    return canonical_requirement_id(v) if isinstance(v, str) else v


RequirementRef = Annotated[str, BeforeValidator(_canonical)]
"""A requirement id in canonical spelling (``SR 1.1 RE 1``)."""

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$"), BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    dup = sorted(k for k, n in Counter(values).items() if n > 1)
    if dup:
        raise ValueError(f"listed more than once: {', '.join(dup)}")
    return values


# --- evidence ------------------------------------------------------------------------------


class EvidenceRef(Model):
    """Where the proof is: a controlled document, a link, or a file kept beside the site file.

    Exactly one of ``document``, ``link`` or ``file`` is given. A file carries its SHA-256 so
    that a changed or swapped file is noticed on import (see ``zonewarden.io.evidence_files``).
    """

    document: ShortText | None = Field(
        default=None, description="Id of a controlled document, e.g. 'SOP-IT-014 rev 3'."
    )
    link: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    file: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        default=None, description="Path relative to the site file's folder."
    )
    sha256: Sha256 | None = Field(default=None, description="SHA-256 of the file, 64 hex digits.")
    date: dt.date | None = Field(default=None, description="Date of the evidence (test, review, report).")
    description: Text | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> EvidenceRef:
        given = [k for k in ("document", "link", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "evidence names exactly one of 'document', 'link' or 'file'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.file is not None and self.sha256 is None:
            raise ValueError(f"evidence file {self.file!r} needs its 'sha256' so changes are noticed")
        if self.file is None and self.sha256 is not None:
            raise ValueError("'sha256' belongs to an evidence 'file'")
        return self

    @property
    def label(self) -> str:
        return self.document or self.link or self.file or ""


# --- requirement status --------------------------------------------------------------------


class Status(StrEnum):
    """How far a zone or conduit meets one SR/RE."""

    IMPLEMENTED = "implemented"
    PARTIAL = "partial"
    PLANNED = "planned"
    NOT_IMPLEMENTED = "not-implemented"
    NOT_APPLICABLE = "not-applicable"
    COMPENSATED = "compensated"


class RequirementStatus(Model):
    """One zone (or conduit) × one SR/RE: its status and the evidence behind it."""

    target: Id = Field(description="Zone or conduit id.")
    requirement: RequirementRef = Field(description="SR/RE id, e.g. 'SR 1.1 RE 1'.")
    status: Status
    target_date: dt.date | None = Field(default=None, description="For 'planned': when it will be in place.")
    justification: Text | None = Field(
        default=None, description="Why the requirement does not apply ('not-applicable'), or a note."
    )
    compensating_control: Id | None = Field(
        default=None, description="For 'compensated': id of the compensating control."
    )
    evidence: tuple[EvidenceRef, ...] = ()
    assessed: dt.date | None = Field(default=None, description="When this status was last confirmed.")
    notes: Text | None = sensitive(default=None, description="Internal notes (sensitive).")

    @model_validator(mode="after")
    def _fields_fit_status(self) -> RequirementStatus:
        # Fields that belong to another status are a sign of a typo or a stale edit; say so now
        # rather than keep a control id that the engine would silently ignore.
        if self.compensating_control is not None and self.status is not Status.COMPENSATED:
            raise ValueError(
                f"'compensating_control' is only used with status 'compensated' (status is {self.status.value!r})"
            )
        if self.target_date is not None and self.status is not Status.PLANNED:
            raise ValueError(
                f"'target_date' is only used with status 'planned' (status is {self.status.value!r})"
            )
        return self


# --- compensating controls and exceptions ------------------------------------------------


class RationaleKind(StrEnum):
    """Why a requirement cannot be met directly (the usual brownfield reasons)."""

    LEGACY_OS = "legacy-os"
    PROPRIETARY_PROTOCOL = "proprietary-protocol"
    FIXED_VENDOR_IMAGE = "fixed-vendor-image"
    VALIDATION_BURDEN = "validation-burden"
    OTHER = "other"


class OptionConsidered(Model):
    """An alternative that was weighed, and why it was not (or not only) chosen."""

    option: ShortText = Field(examples=["isolate the HMI on its own VLAN"])
    why_not: Text | None = Field(default=None, description="Empty when the option was adopted.")


class CompensatingControl(Model):
    """A measure that stands in for requirements a zone or asset cannot meet directly.

    It counts towards SL-A only while it is approved and not expired (``expires`` is the first
    day it no longer counts). ``review`` is when it must be looked at again; a missed review is
    reported but does not by itself stop the control counting.
    """

    id: Id
    title: ShortText
    description: Text = Field(min_length=10, description="What the control does, concretely.")
    covers: Annotated[tuple[RequirementRef, ...], AfterValidator(_unique)] = Field(
        min_length=1, description="SR/RE ids it stands in for."
    )
    zones: Annotated[tuple[ZoneRef, ...], AfterValidator(_unique)] = ()
    conduits: Annotated[tuple[ConduitRef, ...], AfterValidator(_unique)] = ()
    assets: Annotated[tuple[AssetRef, ...], AfterValidator(_unique)] = Field(
        default=(),
        description="The assets whose limitation it compensates. When given, a deferral may rely on "
        "the control only for these assets; otherwise for any asset of its zones.",
    )
    rationale: RationaleKind
    rationale_detail: Text | None = None
    options_considered: tuple[OptionConsidered, ...] = ()
    owner: PersonRef
    approver: PersonRef | None = None
    approved: dt.date | None = Field(default=None, description="Date of approval; unset means pending.")
    review: dt.date = Field(description="Next review date.")
    expires: dt.date = Field(description="First day on which the control no longer counts.")
    evidence: tuple[EvidenceRef, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> CompensatingControl:
        if not self.zones and not self.conduits:
            raise ValueError("a compensating control applies to at least one zone or conduit")
        if (self.approver is None) != (self.approved is None):
            raise ValueError("give both 'approver' and 'approved' (date), or neither while pending")
        if self.approved is not None and self.expires <= self.approved:
            raise ValueError(f"'expires' ({self.expires}) must be after 'approved' ({self.approved})")
        return self

    def applies_to(self, target: str) -> bool:
        return target in self.zones or target in self.conduits

    def asset_scope_gap(self, asset: str, zone: str | None, conduit_ends: Mapping[str, Iterable[str]]) -> str | None:
        """Why the control does not cover ``asset`` (in ``zone``), or None when it does.

        A control that names assets covers exactly those; one that names none covers every asset
        of its zones and of the zones at either end of its conduits.
        """
        if self.assets:
            if asset in self.assets:
                return None
            return f"it names the assets {', '.join(self.assets)}, not {asset!r}"
        reached: set[str] = set(self.zones)
        for c in self.conduits:
            reached.update(conduit_ends.get(c, ()))
        if zone is not None and zone in reached:
            return None
        where = f"in zone {zone!r}" if zone is not None else "in no zone"
        return f"it applies to {', '.join(sorted(reached))}, and {asset!r} is {where}"


class ControlValidity(StrEnum):
    """Whether a compensating control counts on a given day."""

    VALID = "valid"
    PENDING = "pending-approval"
    NOT_YET_APPROVED = "approved-in-future"
    EXPIRED = "expired"


def control_validity(control: CompensatingControl, today: dt.date) -> ControlValidity:
    """The state of ``control`` on ``today`` (an approval dated after today does not count yet)."""
    if control.approved is None:
        return ControlValidity.PENDING
    if control.approved > today:
        return ControlValidity.NOT_YET_APPROVED
    if today >= control.expires:
        return ControlValidity.EXPIRED
    return ControlValidity.VALID


class ResidualRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class RequirementException(Model):
    """A recorded, approved, time-limited departure from a requirement or a policy.

    Unlike a compensating control it does not make a requirement count as met: it documents
    that the gap is known and accepted, by whom, and until when.
    """

    id: Id
    title: ShortText
    requirements: Annotated[tuple[RequirementRef, ...], AfterValidator(_unique)] = Field(
        default=(), description="SR/RE ids departed from."
    )
    policy: ShortText | None = Field(default=None, description="Policy or standard clause departed from.")
    zones: Annotated[tuple[ZoneRef, ...], AfterValidator(_unique)] = ()
    conduits: Annotated[tuple[ConduitRef, ...], AfterValidator(_unique)] = ()
    assets: Annotated[tuple[AssetRef, ...], AfterValidator(_unique)] = ()
    justification: Text = Field(min_length=10)
    residual_risk: ResidualRisk
    residual_risk_detail: Text | None = None
    owner: PersonRef
    approver: PersonRef
    approved: dt.date
    expires: dt.date = Field(description="First day on which the exception no longer applies.")

    @model_validator(mode="after")
    def _consistent(self) -> RequirementException:
        if not self.requirements and self.policy is None:
            raise ValueError("an exception departs from at least one requirement or a 'policy'")
        if not (self.zones or self.conduits or self.assets):
            raise ValueError("an exception has a scope: at least one zone, conduit or asset")
        if self.expires <= self.approved:
            raise ValueError(f"'expires' ({self.expires}) must be after 'approved' ({self.approved})")
        return self

    def active(self, today: dt.date) -> bool:
        return self.approved <= today < self.expires


# --- SL scale -------------------------------------------------------------------------------


class SLDefinition(Model):
    """What one security level means at this site: the attacker it resists and what it asks."""

    level: Annotated[int, Field(ge=1, le=4)]
    summary: ShortText
    means: ShortText = Field(description="How the attacker works (accident, simple, sophisticated).")
    resources: ShortText
    skills: ShortText
    motivation: ShortText
    expectations: Text = Field(description="What controls are expected at this level, in short.")


def _default_levels() -> tuple[SLDefinition, ...]:
    # Follows the four levels of IEC 62443-3-3 clause 4.2, phrased for this project.
    return (
        SLDefinition(
            level=1,
            summary="Resists accidents and casual misuse",
            means="none on purpose: mistakes, curiosity, malware that happens to arrive",
            resources="none dedicated",
            skills="ordinary staff or contractor knowledge",
            motivation="none; no intent to harm",
            expectations=(
                "Named accounts with passwords, basic access rules, audit logging switched on, "
                "backups, the documented network boundaries actually enforced."
            ),
        ),
        SLDefinition(
            level=2,
            summary="Resists a deliberate attack with simple means",
            means="simple, well-known tools and techniques",
            resources="low: an individual or small group",
            skills="general IT skills, no specific knowledge of the control system",
            motivation="low: opportunistic, vandalism, a disgruntled insider",
            expectations=(
                "Unique identification of people and devices, least privilege, authenticated "
                "remote access, malware protection, integrity checks, central log collection, "
                "segmentation between zones with controlled conduits."
            ),
        ),
        SLDefinition(
            level=3,
            summary="Resists a sophisticated attack with moderate resources",
            means="sophisticated, chained techniques",
            resources="moderate: an organised criminal or hacktivist group",
            skills="knowledge specific to industrial control systems and this kind of plant",
            motivation="moderate: extortion, sabotage with a purpose",
            expectations=(
                "Multifactor authentication from untrusted networks, hardware-backed credentials, "
                "automated integrity and configuration checks, continuous monitoring with timely "
                "response, strict zone-to-zone flow control, tested recovery."
            ),
        ),
        SLDefinition(
            level=4,
            summary="Resists a sophisticated attack with extended resources",
            means="sophisticated, custom tools, long campaigns",
            resources="extended: a state-sponsored or similarly funded team",
            skills="deep control-system and process knowledge",
            motivation="high: strategic damage to the plant or its products",
            expectations=(
                "Multifactor authentication everywhere, hardware protection of all credentials, "
                "physical and logical isolation of critical functions, independent verification of "
                "integrity, and the ability to keep operating while under attack."
            ),
        ),
    )


class SLScale(Model):
    """The site's SL scale: levels 1-4, each with its attacker profile and expectations."""

    levels: tuple[SLDefinition, ...] = Field(default_factory=_default_levels)

    @model_validator(mode="after")
    def _all_four(self) -> SLScale:
        got = [d.level for d in self.levels]
        if got != [1, 2, 3, 4]:
            raise ValueError(f"the SL scale defines levels 1, 2, 3 and 4 in that order (got {got})")
        return self

    def __getitem__(self, level: int) -> SLDefinition:
        if not 1 <= level <= 4:
            raise KeyError(level)
        return self.levels[level - 1]


DEFAULT_SL_SCALE = SLScale()


# --- component capability ------------------------------------------------------------------


class CapabilitySource(StrEnum):
    """Where an asset's SL-C comes from, strongest first."""

    CERTIFIED = "certified"  # IEC 62443-4-2 certificate from a certification body
    ASSESSED = "assessed"  # our own or a third party's assessment of the installed component
    VENDOR_STATED = "vendor-stated"  # the supplier says so


class CapabilityDeclaration(Model):
    """The SL-C of one asset as installed, where it comes from, and the evidence.

    Overrides ``Asset.capability`` for the gap analysis when both are present, because it is
    the more specific statement (it names its source).
    """

    asset: AssetRef
    capability: SLCapability
    source: CapabilitySource
    component_requirements: tuple[ShortText, ...] = Field(
        default=(), description="IEC 62443-4-2 CR/RE ids the component supports, e.g. 'CR 1.1 RE 1'."
    )
    evidence: tuple[EvidenceRef, ...] = ()
    notes: Text | None = None


# --- document-level checks -----------------------------------------------------------------

RequirementCheck = Callable[[str], "str | None"]
"""Says what is wrong with a requirement id (a message), or None when the catalog knows it."""


def _catalog_check(loader_name: str) -> RequirementCheck | None:
    # The catalog is package data; when it is present every id is checked against it, and its
    # error names the closest real id. Imported lazily so the domain model stays importable on
    # its own (and the catalog may import the domain).
    try:
        from zonewarden.catalog import loader
    except ImportError:  # pragma: no cover - the catalog ships with the package
        return None
    catalog = getattr(loader, loader_name)()

    def check(ident: str) -> str | None:
        try:
            catalog.resolve(ident)
        except LookupError as exc:
            return str(exc)
        return None

    return check


@functools.lru_cache(maxsize=1)
def _default_check() -> RequirementCheck | None:
    """Checks IEC 62443-3-3 SR/RE ids (requirement statuses, controls, exceptions)."""
    return _catalog_check("load_62443_3_3")


@functools.lru_cache(maxsize=1)
def _default_component_check() -> RequirementCheck | None:
    """Checks IEC 62443-4-2 ids (capability declarations)."""
    return _catalog_check("load_62443_4_2")


def status_field_problems(st: RequirementStatus) -> list[Problem]:
    """What one status lacks on its own (paths relative to the status; a caller adds its hints,
    e.g. the CLI names ``--target-date`` for ``target_date``)."""
    problems: list[Problem] = []
    if st.status is Status.NOT_APPLICABLE and not (st.justification or "").strip():
        problems.append(Problem("status 'not-applicable' needs a 'justification' saying why", ("justification",)))
    if st.status is Status.PLANNED and st.target_date is None:
        problems.append(Problem("status 'planned' needs a 'target_date'", ("target_date",)))
    if st.status is Status.COMPENSATED and st.compensating_control is None:
        problems.append(
            Problem(
                "status 'compensated' needs a 'compensating_control' (an id from compensating_controls)",
                ("compensating_control",),
            )
        )
    return problems


def requirement_reference_problems(
    doc: SiteDocument,
    check_id: RequirementCheck | None = None,
    check_component_id: RequirementCheck | None = None,
) -> list[Problem]:
    """Every broken reference or incomplete status in the requirement sections of ``doc``.

    ``check_id`` vets requirement ids (default: the packaged IEC 62443-3-3 catalog),
    ``check_component_id`` the component requirement ids of capability declarations (default:
    the packaged IEC 62443-4-2 catalog).
    """
    if check_id is None:
        check_id = _default_check()
    if check_component_id is None and doc.capabilities:
        check_component_id = _default_component_check()
    problems: list[Problem] = []
    zones = {z.id for z in doc.zones}
    conduits = {c.id for c in doc.conduits}
    assets = {a.id for a in doc.assets}
    people = {p.id for p in doc.people}
    controls = {c.id: c for c in doc.compensating_controls}

    def requirement(path: tuple[str | int, ...], ref: str) -> None:
        message = check_id(ref) if check_id is not None else None
        if message is not None:
            problems.append(Problem(message, path))

    def person(path: tuple[str | int, ...], ref: str | None) -> None:
        if ref is not None and ref not in people:
            problems.append(Problem(f"unknown person {ref!r}: add them under 'people'", path))

    def refs(path: tuple[str | int, ...], values: Iterable[str], pool: set[str], what: str) -> None:
        for j, ref in enumerate(values):
            if ref not in pool:
                problems.append(Problem(f"unknown {what} {ref!r}", (*path, j)))

    for section, ids in (
        ("compensating_controls", [c.id for c in doc.compensating_controls]),
        ("exceptions", [e.id for e in doc.exceptions]),
    ):
        counts = Counter(ids)
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if counts[ident] > 1 and ident in seen:
                problems.append(Problem(f"duplicate id {ident!r} in {section}", (section, i, "id")))
            seen.add(ident)

    seen_pairs: dict[tuple[str, str], int] = {}
    for i, st in enumerate(doc.requirements):
        base = ("requirements", i)
        if st.target not in zones and st.target not in conduits:
            problems.append(Problem(f"unknown zone or conduit {st.target!r}", (*base, "target")))
        requirement((*base, "requirement"), st.requirement)
        key = (st.target, st.requirement)
        if key in seen_pairs:
            problems.append(
                Problem(
                    f"{st.requirement} for {st.target!r} is already given at requirements[{seen_pairs[key]}]",
                    (*base, "requirement"),
                )
            )
        else:
            seen_pairs[key] = i
        problems.extend(Problem(p.message, (*base, *p.path)) for p in status_field_problems(st))
        if st.status is Status.COMPENSATED:
            cc_id = st.compensating_control
            if cc_id is None:
                pass  # reported by status_field_problems
            elif cc_id not in controls:
                problems.append(Problem(f"unknown compensating control {cc_id!r}", (*base, "compensating_control")))
            else:
                cc = controls[cc_id]
                if st.requirement not in cc.covers:
                    problems.append(
                        Problem(
                            f"compensating control {cc_id!r} does not cover {st.requirement} "
                            f"(it covers {', '.join(cc.covers)})",
                            (*base, "compensating_control"),
                        )
                    )
                if not cc.applies_to(st.target):
                    problems.append(
                        Problem(
                            f"compensating control {cc_id!r} does not apply to {st.target!r}: "
                            "add it to the control's zones or conduits",
                            (*base, "compensating_control"),
                        )
                    )

    for i, cc in enumerate(doc.compensating_controls):
        base = ("compensating_controls", i)
        for j, r in enumerate(cc.covers):
            requirement((*base, "covers", j), r)
        refs((*base, "zones"), cc.zones, zones, "zone")
        refs((*base, "conduits"), cc.conduits, conduits, "conduit")
        refs((*base, "assets"), cc.assets, assets, "asset")
        person((*base, "owner"), cc.owner)
        person((*base, "approver"), cc.approver)
        if cc.approver is not None and cc.approver == cc.owner:
            problems.append(Problem(
                f"{cc.owner} owns compensating control {cc.id} and approves it: separation of "
                "duties needs another person's approval", (*base, "approver")))

    for i, ex in enumerate(doc.exceptions):
        base = ("exceptions", i)
        for j, r in enumerate(ex.requirements):
            requirement((*base, "requirements", j), r)
        refs((*base, "zones"), ex.zones, zones, "zone")
        refs((*base, "conduits"), ex.conduits, conduits, "conduit")
        refs((*base, "assets"), ex.assets, assets, "asset")
        person((*base, "owner"), ex.owner)
        person((*base, "approver"), ex.approver)
        if ex.approver == ex.owner:
            problems.append(Problem(
                f"{ex.owner} owns exception {ex.id} and approves it: separation of duties needs "
                "another person's approval", (*base, "approver")))

    declared: dict[str, int] = {}
    for i, cap in enumerate(doc.capabilities):
        if cap.asset not in assets:
            problems.append(Problem(f"unknown asset {cap.asset!r}", ("capabilities", i, "asset")))
        if cap.asset in declared:
            problems.append(
                Problem(
                    f"asset {cap.asset!r} already has a capability declaration at capabilities[{declared[cap.asset]}]",
                    ("capabilities", i, "asset"),
                )
            )
        else:
            declared[cap.asset] = i
        if check_component_id is not None:
            for j, cr in enumerate(cap.component_requirements):
                message = check_component_id(cr)
                if message is not None:
                    problems.append(Problem(message, ("capabilities", i, "component_requirements", j)))
    return problems


def evidence_locations(doc: SiteDocument) -> list[tuple[tuple[str | int, ...], EvidenceRef]]:
    """Every evidence reference in the requirement sections, with its field path."""
    out: list[tuple[tuple[str | int, ...], EvidenceRef]] = []
    for section in ("requirements", "compensating_controls", "capabilities"):
        for i, item in enumerate(getattr(doc, section)):
            for j, ev in enumerate(item.evidence):
                out.append(((section, i, "evidence", j), ev))
    return out


__all__ = [
    "DEFAULT_SL_SCALE",
    "CapabilityDeclaration",
    "CapabilitySource",
    "CompensatingControl",
    "ControlValidity",
    "EvidenceRef",
    "OptionConsidered",
    "RationaleKind",
    "RequirementException",
    "RequirementRef",
    "RequirementStatus",
    "ResidualRisk",
    "SLDefinition",
    "SLScale",
    "Status",
    "canonical_requirement_id",
    "control_validity",
    "evidence_locations",
    "requirement_reference_problems",
]
