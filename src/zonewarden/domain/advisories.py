"""Advisories as the matching and SSVC engines see them, and what they produce.

A CSAF document is flattened (by :mod:`zonewarden.engines.products`) into a
:class:`FlatAdvisory`: one :class:`ProductEntry` per product id and one
:class:`VulnerabilityInfo` per vulnerability. Matching it against the inventory gives one
:class:`Finding` per advisory x asset, each with the :class:`EntryMatch` es that explain it.

The advisory-side models are frozen pydantic models (they are few and get stored). Findings
and entry matches are named tuples (immutable, a docstring per field): matching all of CISA's
feed against a large inventory makes hundreds of thousands of them, and creating pydantic
models or frozen dataclasses cost more than the matching itself.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import NamedTuple

from pydantic import Field

from zonewarden.domain.common import Model, ShortText, Text
from zonewarden.domain.priority import Priority
from zonewarden.domain.site import MissionImpact, SafetyImpact


class ProductStatus(StrEnum):
    """CSAF ``vulnerabilities[*].product_status`` groups (CSAF 2.0 section 3.2.3.9)."""

    FIRST_AFFECTED = "first_affected"
    KNOWN_AFFECTED = "known_affected"
    LAST_AFFECTED = "last_affected"
    FIRST_FIXED = "first_fixed"
    FIXED = "fixed"
    KNOWN_NOT_AFFECTED = "known_not_affected"
    RECOMMENDED = "recommended"
    UNDER_INVESTIGATION = "under_investigation"

    @property
    def affected(self) -> bool:
        return self in AFFECTED_GROUPS

    @property
    def fixed(self) -> bool:
        return self in FIXED_GROUPS


AFFECTED_GROUPS = frozenset(
    {ProductStatus.FIRST_AFFECTED, ProductStatus.KNOWN_AFFECTED, ProductStatus.LAST_AFFECTED}
)
FIXED_GROUPS = frozenset({ProductStatus.FIRST_FIXED, ProductStatus.FIXED, ProductStatus.RECOMMENDED})


class VersionKind(StrEnum):
    """Which CSAF branch category carried the version text."""

    VERSION = "product_version"
    RANGE = "product_version_range"


class ProductEntry(Model):
    """One product id of an advisory's product tree, flattened."""

    product_id: ShortText
    name: Text = Field(description="The full product name as the advisory writes it.")
    vendor: Text | None = None
    product: Text | None = Field(default=None, description="The product_name branch (family or product).")
    version_text: Text | None = Field(default=None, description="product_version or product_version_range text.")
    version_kind: VersionKind | None = None
    model_numbers: tuple[Text, ...] = ()
    skus: tuple[Text, ...] = ()
    cpe: Text | None = None
    purl: Text | None = None
    relates_to: tuple[ShortText, ...] = Field(
        default=(), description="For relationship products: the product ids it is installed on / part of."
    )
    relationship: ShortText | None = Field(default=None, description="CSAF relationship category, if any.")
    pointer: str = Field(description="JSON pointer of the entry in the document, for explanations.")
    deviations: tuple[Text, ...] = Field(
        default=(), description="Ways the entry departs from CSAF (e.g. a range inside product_version)."
    )


class CvssScore(Model):
    version: ShortText
    vector: Text
    base_score: float | None = None
    products: tuple[ShortText, ...] = ()


class Remediation(Model):
    category: ShortText
    details: Text = ""
    product_ids: tuple[ShortText, ...] = ()
    url: Text | None = None


class Exploitation(StrEnum):
    """SSVC Exploitation (decision point ``ssvc:E:1.1.0``)."""

    NONE = "none"
    PUBLIC_POC = "public-poc"
    ACTIVE = "active"


class ExploitEvidence(Model):
    """What the advisory itself says about exploitation, with the sentence that says it."""

    level: Exploitation
    quote: Text
    pointer: str


class VulnerabilityInfo(Model):
    cve: ShortText | None = None
    title: Text | None = None
    cwe: ShortText | None = None
    status: dict[ProductStatus, tuple[ShortText, ...]] = Field(default_factory=dict)
    scores: tuple[CvssScore, ...] = ()
    remediations: tuple[Remediation, ...] = ()
    exploitation: ExploitEvidence | None = None
    pointer: str

    def cvss_v3_for(self, product_id: str) -> CvssScore | None:
        """The CVSS v3 score that covers ``product_id`` (or the only v3 score)."""
        v3 = [s for s in self.scores if s.version.startswith("3")]
        for s in v3:
            if product_id in s.products:
                return s
        return v3[0] if len(v3) == 1 else None

    def fixes_for(self, product_id: str) -> tuple[Remediation, ...]:
        return tuple(r for r in self.remediations if product_id in r.product_ids)


class FlatAdvisory(Model):
    """The parts of a CSAF advisory that matching, SSVC and triage need."""

    id: ShortText
    title: Text
    revision: ShortText | None = None
    current_release_date: dt.datetime | None = None
    publisher: Text | None = None
    products: tuple[ProductEntry, ...] = ()
    vulnerabilities: tuple[VulnerabilityInfo, ...] = ()
    exploitation: ExploitEvidence | None = Field(
        default=None, description="Document-level exploitation statement (CISA's risk evaluation notes)."
    )

    def product(self, product_id: str) -> ProductEntry | None:
        for p in self.products:
            if p.product_id == product_id:
                return p
        return None


class FindingStatus(StrEnum):
    AFFECTED = "affected"
    NOT_AFFECTED = "not-affected"
    FIXED = "fixed"
    NEEDS_REVIEW = "needs-review"

    @property
    def severity(self) -> int:
        """Aggregation order: one affected entry makes the finding affected, and so on."""
        return _SEVERITY[self]


_SEVERITY = {
    FindingStatus.AFFECTED: 3,
    FindingStatus.NEEDS_REVIEW: 2,
    FindingStatus.FIXED: 1,
    FindingStatus.NOT_AFFECTED: 0,
}


class ReviewReason(StrEnum):
    """Why a human has to look; stable codes for filters and reports."""

    UNPARSEABLE_RANGE = "unparseable-range"
    NO_ASSET_VERSION = "no-asset-version"
    UNPARSEABLE_ASSET_VERSION = "unparseable-asset-version"
    VERSION_NOT_COMPARABLE = "version-not-comparable"
    PRODUCT_AMBIGUOUS = "product-ambiguous"
    RANGE_CONDITION = "range-condition"
    UNDER_INVESTIGATION = "under-investigation"
    NO_VERSION_IN_ADVISORY = "no-version-in-advisory"
    POSSIBLE_PRODUCT = "possible-product"
    """Same vendor, and the product name is close to the advisory's but not certainly it."""
    FIXED_VERSION_CONTRADICTS = "fixed-version-contradicts"
    """The range says not affected, but the remediation names a later fixed version."""
    BRANCH_UNDECIDED = "branch-undecided"
    """The advisory lists release lines of the product; the asset's line is not one of them."""


class MatchField(StrEnum):
    """What tied the asset to the advisory's product entry."""

    CPE = "cpe"
    PURL = "purl"
    MODEL_NUMBER = "model-number"
    PRODUCT_NAME = "product-name"
    """Same normalised product name."""
    PRODUCT_FAMILY = "product-family"
    """The advisory names a family whose every word is in the asset's product name."""
    PRODUCT_PARTIAL = "product-partial"
    """The asset's product name is a less specific part of the advisory's: ambiguous."""
    VENDOR_ONLY = "vendor-only"
    """Same vendor, but the asset has no product name to compare (no longer produced: such an
    asset is an inventory gap, see :mod:`zonewarden.engines.inventory_gaps`)."""
    POSSIBLE_PRODUCT = "possible-product"
    """Same vendor; the product name is close (a typo, an abbreviation) but not certainly equal."""
    MODEL_FAMILY = "model-family"
    """The asset's model number is a family pattern (``1756-L8*``) that includes the entry's."""


class EntryMatch(NamedTuple):
    """One product entry of the advisory that matched the asset, and what it concluded."""

    product_id: str
    """The CSAF product id."""
    product_name: str
    """Its full product name, for people."""
    matched_on: MatchField
    """Which field tied the asset to it."""
    matched_value: str
    """The value that matched (vendor key and product words, the model number, the CPE)."""
    group: ProductStatus
    """The product status group of the entry that gave this status."""
    range_text: str | None
    """The version or range text of the entry (None: the advisory gives no version)."""
    range_description: str
    """How the range was understood (``>= 2.0 and < 2.6``) or why it was not."""
    asset_version: str | None
    """The asset's version as written in the inventory."""
    in_range: bool | None
    """Whether the asset version is in the range; None when that cannot be told."""
    version_reason: ReviewReason | None
    """Why ``in_range`` is None."""
    conditions: tuple[str, ...]
    """Conditions of the range the version cannot decide (``only with OIS Extension Module``)."""
    status: FindingStatus
    """What this entry says about the asset."""
    reason: ReviewReason | None
    """Why a review is needed (only for needs-review)."""
    cves: tuple[str, ...]
    """The CVEs (or vulnerability titles) whose product status lists this entry in ``group``."""

    @property
    def message(self) -> str:
        """One sentence a person can read: why this entry gives this status.

        Built on demand: matching creates many more matches than anyone reads.
        """
        if self.matched_on is MatchField.VENDOR_ONLY:
            return f"the asset's vendor matches ({self.matched_value}) but it has no product name to compare"
        if self.group is ProductStatus.UNDER_INVESTIGATION:
            return "under_investigation: the vendor is still investigating whether this product is affected"
        rng, ver = self.range_text, self.asset_version
        if rng is None:
            clause = "the advisory names the product without a version (all versions)"
        elif self.in_range is not None:
            word = "in" if self.in_range else "not in"
            subject = f"version {ver!r}" if ver is not None else "every version"
            clause = f"{subject} is {word} {rng!r} ({self.range_description})"
        elif self.version_reason is ReviewReason.UNPARSEABLE_RANGE:
            clause = f"cannot read the advisory's range {rng!r}: {self.range_description}"
        elif self.version_reason is ReviewReason.NO_ASSET_VERSION:
            clause = f"the asset has no version to compare with {rng!r}"
        elif self.version_reason is ReviewReason.UNPARSEABLE_ASSET_VERSION:
            clause = f"the asset version {ver!r} is not a version we can compare"
        else:
            clause = f"version {ver!r} cannot be compared with {rng!r} ({self.range_description})"
        if self.reason is ReviewReason.RANGE_CONDITION:
            clause += f", but only {'; '.join(self.conditions)}"
        if self.reason is ReviewReason.FIXED_VERSION_CONTRADICTS:
            clause += f", but the remediation names {', '.join(self.conditions)} as the fixed version"
        elif self.reason is ReviewReason.BRANCH_UNDECIDED:
            clause = f"version {ver!r} cannot be placed: {'; '.join(self.conditions)}"
        if self.matched_on is MatchField.POSSIBLE_PRODUCT and self.status is FindingStatus.NEEDS_REVIEW:
            clause = (
                f"the asset's product is close to the advisory's {self.product_name!r} but not certainly "
                f"it ({self.matched_value}); if it is that product: {clause}"
            )
        elif self.matched_on is MatchField.MODEL_FAMILY and self.status is FindingStatus.NEEDS_REVIEW:
            clause = (
                f"the asset's model number is a family ({self.matched_value}) that includes the advisory's; "
                f"if it is that model: {clause}"
            )
        if self.matched_on is MatchField.PRODUCT_PARTIAL and self.status is FindingStatus.NEEDS_REVIEW:
            clause = (
                f"the asset's product ({self.matched_value}) is less specific than the advisory's "
                f"{self.product_name!r}; if it is that product: {clause}"
            )
        return f"{self.group.value}: {clause}"


class Finding(NamedTuple):
    """One advisory x one asset: the status and every entry match behind it."""

    advisory_id: str
    asset_id: str
    status: FindingStatus
    """The most severe status of the matches: affected > needs-review > fixed > not-affected."""
    reason: ReviewReason | None
    """The review reason of the deciding match, when the status is needs-review."""
    cves: tuple[str, ...]
    """The CVEs of the matches that gave the status (for affected: what the asset is exposed to)."""
    matches: tuple[EntryMatch, ...]
    """All entry matches, sorted by product id."""

    @property
    def deciding(self) -> EntryMatch:
        """The first match (by product id) with the finding's status."""
        return next(m for m in self.matches if m.status is self.status)

    @property
    def message(self) -> str:
        """Why, in one sentence, from the deciding match."""
        m = self.deciding
        return f"{m.product_name}: {m.message}"


# SSVC ---------------------------------------------------------------------------------


class Exposure(StrEnum):
    """SSVC System Exposure (``ssvc:EXP:1.0.1``)."""

    SMALL = "small"
    CONTROLLED = "controlled"
    OPEN = "open"


class Automatable(StrEnum):
    """SSVC Automatable (``ssvc:A:2.0.0``)."""

    NO = "no"
    YES = "yes"


class HumanImpact(StrEnum):
    """SSVC Human Impact (``ssvc:HI:2.0.2``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very-high"


class Override(Model):
    """A person's decision to replace a computed SSVC input, with their reason."""

    value: str = Field(description="The replacing value (one of the decision point's values).")
    justification: Text = Field(min_length=10, description="Why: recorded with the decision.")
    by: ShortText | None = Field(default=None, description="Who decided (person id or name).")


class SsvcInput(Model):
    """One decision point value, where it came from, and any override that replaced it."""

    name: ShortText
    value: str
    source: Text = Field(description="Where the value came from, for people.")
    computed: str = Field(description="The value before any override.")
    override: Override | None = None


class SsvcDecision(Model):
    """The deployer patch application priority with every input shown."""

    exploitation: SsvcInput
    exposure: SsvcInput
    automatable: SsvcInput
    safety_impact: SsvcInput
    mission_impact: SsvcInput
    human_impact: SsvcInput
    priority: Priority
    table: ShortText = "ssvc:DT_DP:1.0.0"

    @property
    def overridden(self) -> tuple[str, ...]:
        return tuple(
            i.name
            for i in (self.exploitation, self.exposure, self.automatable, self.safety_impact, self.mission_impact, self.human_impact)
            if i.override is not None
        )


__all__ = [
    "Automatable",
    "CvssScore",
    "EntryMatch",
    "ExploitEvidence",
    "Exploitation",
    "Exposure",
    "Finding",
    "FindingStatus",
    "FlatAdvisory",
    "HumanImpact",
    "MatchField",
    "MissionImpact",
    "Override",
    "Priority",
    "ProductEntry",
    "ProductStatus",
    "Remediation",
    "ReviewReason",
    "SafetyImpact",
    "SsvcDecision",
    "SsvcInput",
    "VersionKind",
    "VulnerabilityInfo",
]
