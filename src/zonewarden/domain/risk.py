"""The written risk method and the risk scenarios of a site (IEC 62443-3-2 ZCR 2 and ZCR 5).

The method is configuration, not code: scales with written criteria, the matrix, the tolerable
rating and the rule that turns risks into an SL-T proposal are all data in the site file, so an
assessment can be repeated by someone else and printed exactly as it was configured. Every
default below is written for this project (no standard text is reproduced).

Scores of a scenario cannot be checked against the method when the scenario is created (the
method lives elsewhere in the document), so :func:`risk_reference_problems` checks them for a
whole :class:`~zonewarden.domain.site.SiteDocument` together with every other cross reference.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

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
from zonewarden.domain.levels import FR
from zonewarden.domain.requirements import RequirementRef
from zonewarden.errors import Problem

if TYPE_CHECKING:  # pragma: no cover - typing only; site.py imports this module
    from zonewarden.domain.site import SiteDocument

Path = tuple[str | int, ...]

SL = Annotated[int, Field(ge=0, le=4)]
ColourHex = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class FRWeight(StrEnum):
    """How strongly a threat or an impact category bears on one foundational requirement."""

    PRIMARY = "primary"
    """The FR is what the attack defeats or what protects against the impact: full level."""
    SECONDARY = "secondary"
    """The FR helps: the proposed level is lowered by the rule's ``secondary_reduction``."""
    NONE = "none"
    """The FR does not bear on this threat or impact: no contribution."""


class ThreatActor(StrEnum):
    """Who acts. The SL-T rule caps the proposal by what an actor can muster (62443 SL 1-4)."""

    INSIDER_NEGLIGENT = "insider-negligent"
    INSIDER_MALICIOUS = "insider-malicious"
    OPPORTUNISTIC = "opportunistic"
    HACKTIVIST = "hacktivist"
    CRIMINAL = "criminal"
    THIRD_PARTY = "third-party"
    COMPETITOR = "competitor"
    NATION_STATE = "nation-state"


class Treatment(StrEnum):
    MITIGATE = "mitigate"
    ACCEPT = "accept"
    TRANSFER = "transfer"
    AVOID = "avoid"


class ScaleLevel(Model):
    """One step of a likelihood or impact scale, with the criteria an assessor applies."""

    level: int = Field(ge=1, le=10)
    name: ShortText
    criteria: Text = Field(min_length=1)


class ImpactCategory(Model):
    """A kind of consequence the organisation cares about, with criteria for every impact level."""

    id: Id
    name: ShortText
    criteria: dict[int, Annotated[str, Field(min_length=1, max_length=20_000)]] = Field(
        description="Written criteria per impact level (keys are the impact scale's levels)."
    )
    fr_weights: dict[FR, FRWeight] = Field(
        default_factory=dict,
        description="How this kind of consequence bears on each FR; FRs not listed are secondary.",
    )

    def weight(self, fr: FR) -> FRWeight:
        return self.fr_weights.get(fr, FRWeight.SECONDARY)


class RiskRating(Model):
    """A named band of the risk matrix, listed from lowest to highest."""

    id: Id
    name: ShortText
    min_score: int = Field(
        ge=1,
        description="Lowest likelihood x impact product in this band (used when no matrix is given).",
    )
    colour: ColourHex = "#cccccc"


class SLTRule(Model):
    """How a zone's worst inherent risks become a proposed SL-T, per FR.

    For every scenario of the zone and every impact category it scores, per FR:
    1. the risk rating of (inherent likelihood, impact) gives a level (``sl_by_rating``);
    2. the level is capped by what the threat actor can muster (``actor_ceiling``);
    3. the FR weight (scenario override, else the impact category's) keeps the level (primary),
       lowers it by ``secondary_reduction`` (secondary) or drops the contribution (none).
    The zone's proposal per FR is the highest contribution, raised to the floor of its
    criticality class (``minimum_by_criticality``). Inherent, not residual, risk is used on
    purpose: the SL-T says which countermeasures are needed, so the countermeasures already in
    place must not lower it.
    """

    sl_by_rating: dict[str, SL] = Field(
        default_factory=lambda: {"low": 1, "medium": 2, "high": 3, "very-high": 4}
    )
    actor_ceiling: dict[ThreatActor, SL] = Field(
        default_factory=lambda: {
            ThreatActor.INSIDER_NEGLIGENT: 1,
            ThreatActor.OPPORTUNISTIC: 2,
            ThreatActor.HACKTIVIST: 2,
            ThreatActor.INSIDER_MALICIOUS: 3,
            ThreatActor.CRIMINAL: 3,
            ThreatActor.THIRD_PARTY: 3,
            ThreatActor.COMPETITOR: 3,
            ThreatActor.NATION_STATE: 4,
        },
        description="Highest SL a threat actor's capability justifies; actors not listed are not capped.",
    )
    secondary_reduction: int = Field(default=1, ge=0, le=4)
    minimum_by_criticality: dict[Criticality, SL] = Field(
        default_factory=lambda: {
            Criticality.LOW: 0,
            Criticality.MEDIUM: 1,
            Criticality.HIGH: 2,
            Criticality.CRITICAL: 2,
        }
    )

    def ceiling(self, actor: ThreatActor) -> int:
        return self.actor_ceiling.get(actor, 4)

    def floor(self, criticality: Criticality) -> int:
        return self.minimum_by_criticality.get(criticality, 0)


def _scale(rows: Iterable[tuple[int, str, str]]) -> tuple[ScaleLevel, ...]:
    return tuple(ScaleLevel(level=lv, name=n, criteria=c) for lv, n, c in rows)


DEFAULT_LIKELIHOOD = _scale(
    [
        (
            1,
            "rare",
            "Needs a skilled, determined attacker and several independent failures; no such event known in the sector within ten years.",
        ),
        (
            2,
            "unlikely",
            "Possible with specialist knowledge and access that few people have; known in the sector, not at this company.",
        ),
        (
            3,
            "possible",
            "Within reach of a motivated attacker using known tools; has happened at a peer plant or in a near miss here.",
        ),
        (
            4,
            "likely",
            "Exploitable with public tools or ordinary user access; expected within the next few years without further controls.",
        ),
        (
            5,
            "almost certain",
            "Commodity attacks or routine mistakes trigger it; has happened here or is expected within a year.",
        ),
    ]
)

DEFAULT_IMPACT_LEVELS = _scale(
    [
        (1, "negligible", "Hardly noticeable; handled within normal work."),
        (2, "minor", "Noticeable, contained locally, fixed within a shift."),
        (3, "moderate", "Needs management attention and a planned recovery."),
        (4, "major", "Harms people, product, licence or business beyond the site's own means."),
        (5, "severe", "Threatens lives, the licence to operate or the company's survival."),
    ]
)

_SAFE = {FR.FR3: FRWeight.PRIMARY, FR.FR7: FRWeight.PRIMARY, FR.FR4: FRWeight.NONE}
_CONF = {
    FR.FR1: FRWeight.PRIMARY,
    FR.FR4: FRWeight.PRIMARY,
    FR.FR3: FRWeight.NONE,
    FR.FR7: FRWeight.NONE,
}


def _category(
    ident: str, name: str, criteria: list[str], weights: Mapping[FR, FRWeight]
) -> ImpactCategory:
    return ImpactCategory(
        id=ident, name=name, criteria=dict(enumerate(criteria, start=1)), fr_weights=dict(weights)
    )


DEFAULT_IMPACT_CATEGORIES = (
    _category(
        "safety",
        "Health and safety",
        [
            "No injury; a safety function demanded without consequence.",
            "First-aid injury, or a safety function unavailable briefly with manual cover.",
            "Lost-time injury, or a safety function defeated without a demand occurring.",
            "Serious or permanent injury to one person.",
            "One or more fatalities, or injuries outside the site fence.",
        ],
        _SAFE,
    ),
    _category(
        "regulatory",
        "Regulatory nonconformity",
        [
            "Internal deviation, closed within the quality system.",
            "Minor inspection observation; no data integrity concern.",
            "Major observation or data integrity doubt on released batches.",
            "Critical finding, warning letter or recall of affected batches.",
            "Licence suspended or import ban on the site's products.",
        ],
        {
            FR.FR1: FRWeight.PRIMARY,
            FR.FR2: FRWeight.PRIMARY,
            FR.FR3: FRWeight.PRIMARY,
            FR.FR6: FRWeight.PRIMARY,
        },
    ),
    _category(
        "product-quality",
        "Product quality",
        [
            "Out-of-trend value caught in process; no batch affected.",
            "One batch reworked or held for investigation.",
            "Several batches rejected; release delayed.",
            "Defective product reached the market; field action needed.",
            "Defective product harmed patients.",
        ],
        {FR.FR2: FRWeight.PRIMARY, FR.FR3: FRWeight.PRIMARY, FR.FR4: FRWeight.NONE},
    ),
    _category(
        "supply-disruption",
        "Supply disruption",
        [
            "Stop of less than one hour, made up within the shift.",
            "Line stopped up to one day; no order missed.",
            "Site output lost for several days; some orders late.",
            "Weeks of lost output; shortages reported to customers or authorities.",
            "Months of lost output; critical medicines unavailable to patients.",
        ],
        {FR.FR5: FRWeight.PRIMARY, FR.FR7: FRWeight.PRIMARY, FR.FR4: FRWeight.NONE},
    ),
    _category(
        "ip-loss",
        "Loss of intellectual property",
        [
            "Public or trivial information disclosed.",
            "Internal documents of little value disclosed.",
            "Process parameters or recipes of one product disclosed.",
            "Formulations or process know-how of a key product disclosed.",
            "Core platform know-how disclosed to a competitor or state actor.",
        ],
        _CONF,
    ),
    _category(
        "data-protection",
        "Personal data protection",
        [
            "No personal data involved.",
            "Contact data of a few employees exposed internally.",
            "Personal data of many employees exposed; notification to the authority.",
            "Special-category data (health, trial subjects) exposed.",
            "Large-scale exposure of special-category data with public notification.",
        ],
        {**_CONF, FR.FR2: FRWeight.PRIMARY},
    ),
    _category(
        "environmental",
        "Environment",
        [
            "Release contained within the building.",
            "Release contained on site, cleaned up within a day.",
            "Reportable release on site.",
            "Release off site with local, reversible damage.",
            "Lasting off-site damage to soil, water or air.",
        ],
        _SAFE,
    ),
)

DEFAULT_RATINGS = (
    RiskRating(id="low", name="Low", min_score=1, colour="#4caf50"),
    RiskRating(id="medium", name="Medium", min_score=5, colour="#ffc107"),
    RiskRating(id="high", name="High", min_score=10, colour="#ff7043"),
    RiskRating(id="very-high", name="Very high", min_score=20, colour="#c62828"),
)


def _consecutive(levels: tuple[ScaleLevel, ...], what: str) -> list[str]:
    got = [lv.level for lv in levels]
    want = list(range(1, len(levels) + 1))
    if got != want:
        return [f"{what} levels must be numbered 1..{len(levels)} in order, got {got}"]
    return []


class RiskMethod(Model):
    """The organisation's written risk method, printed in reports exactly as configured."""

    name: ShortText = "zonewarden default method"
    version: ShortText = "1"
    likelihood: tuple[ScaleLevel, ...] = Field(default=DEFAULT_LIKELIHOOD, min_length=2)
    impact_levels: tuple[ScaleLevel, ...] = Field(default=DEFAULT_IMPACT_LEVELS, min_length=2)
    impact_categories: tuple[ImpactCategory, ...] = Field(
        default=DEFAULT_IMPACT_CATEGORIES, min_length=1
    )
    ratings: tuple[RiskRating, ...] = Field(default=DEFAULT_RATINGS, min_length=2)
    matrix: tuple[tuple[str, ...], ...] | None = Field(
        default=None,
        description=(
            "Rating id per cell: one row per likelihood level (row 1 = likelihood 1), one column per "
            "impact level. When absent, the cell's rating is the highest band whose min_score is at "
            "most likelihood x impact."
        ),
    )
    tolerable: str = Field(
        default="medium", description="Highest rating id that is tolerable as residual risk."
    )
    slt_rule: SLTRule = SLTRule()

    @model_validator(mode="after")
    def _consistent(self) -> RiskMethod:
        errors = _consecutive(self.likelihood, "likelihood") + _consecutive(
            self.impact_levels, "impact"
        )
        levels = {lv.level for lv in self.impact_levels}
        ids = [r.id for r in self.ratings]
        if len(set(ids)) != len(ids):
            errors.append(f"rating ids must be unique, got {ids}")
        scores = [r.min_score for r in self.ratings]
        if scores != sorted(set(scores)) or scores[0] != 1:
            errors.append(
                f"ratings go from lowest to highest: min_score must start at 1 and rise, got {scores}"
            )
        cat_ids = [c.id for c in self.impact_categories]
        if len(set(cat_ids)) != len(cat_ids):
            errors.append(f"impact category ids must be unique, got {cat_ids}")
        for c in self.impact_categories:
            if set(c.criteria) != levels:
                errors.append(
                    f"impact category {c.id!r} needs criteria for exactly the impact levels "
                    f"{sorted(levels)}, has {sorted(c.criteria)}"
                )
        if self.tolerable not in ids:
            errors.append(f"tolerable rating {self.tolerable!r} is not one of the ratings {ids}")
        if self.matrix is not None:
            if len(self.matrix) != len(self.likelihood):
                errors.append(
                    f"matrix needs one row per likelihood level ({len(self.likelihood)}), has {len(self.matrix)}"
                )
            for i, row in enumerate(self.matrix, start=1):
                if len(row) != len(self.impact_levels):
                    errors.append(
                        f"matrix row {i} needs {len(self.impact_levels)} cells, has {len(row)}"
                    )
                unknown = sorted(set(row) - set(ids))
                if unknown:
                    errors.append(f"matrix row {i} uses unknown ratings {unknown}")
        rule = set(self.slt_rule.sl_by_rating)
        if rule != set(ids):
            errors.append(
                f"slt_rule.sl_by_rating must give a level for every rating {ids}, has {sorted(rule)}"
            )
        if errors:
            raise ValueError("; ".join(errors))
        return self

    # -- lookups used by the engines ------------------------------------------------------
    def category(self, ident: str) -> ImpactCategory | None:
        for c in self.impact_categories:
            if c.id == ident:
                return c
        return None

    def rating(self, ident: str) -> RiskRating:
        for r in self.ratings:
            if r.id == ident:
                return r
        raise KeyError(ident)

    def rating_rank(self, ident: str) -> int:
        return [r.id for r in self.ratings].index(ident)

    @property
    def max_likelihood(self) -> int:
        return len(self.likelihood)

    @property
    def max_impact(self) -> int:
        return len(self.impact_levels)

    def cell(self, likelihood: int, impact: int) -> RiskRating:
        """The rating of one matrix cell; scores outside the scales raise ValueError."""
        if not (1 <= likelihood <= self.max_likelihood and 1 <= impact <= self.max_impact):
            raise ValueError(
                f"likelihood {likelihood} / impact {impact} is outside the method's scales "
                f"(1-{self.max_likelihood} / 1-{self.max_impact})"
            )
        if self.matrix is not None:
            return self.rating(self.matrix[likelihood - 1][impact - 1])
        score = likelihood * impact
        return [r for r in self.ratings if r.min_score <= score][-1]

    def matrix_rows(self) -> tuple[tuple[str, ...], ...]:
        """The full matrix (explicit or derived), row 1 = likelihood 1."""
        return tuple(
            tuple(self.cell(lk, im).id for im in range(1, self.max_impact + 1))
            for lk in range(1, self.max_likelihood + 1)
        )

    def is_tolerable(self, rating_id: str) -> bool:
        return self.rating_rank(rating_id) <= self.rating_rank(self.tolerable)


# ---------------------------------------------------------------------------------------------
# Risk scenarios


class Threat(Model):
    """Who attacks (or errs) and how they get in."""

    actor: ThreatActor
    vector: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9\-]*$")] = (
        Field(
            description="How the threat reaches the zone, e.g. it-network, remote-access, removable-media, "
            "supply-chain, physical, wireless, insider-access."
        )
    )
    description: Text | None = sensitive(
        default=None,
        description="How the attack would unfold (sensitive: a recipe for an attacker).",
    )


class ControlLink(Model):
    """A link from a scenario to what already reduces it.

    Either a compensating control (by id) or a requirement status, which has no id of its own
    and is named by its requirement and its target (a zone or conduit; the scenario's zone when
    not given). In a site file a bare string is shorthand: ``"SR 5.1"`` links the requirement
    status of the scenario's zone, any other string a compensating control id.
    """

    compensating_control: Id | None = None
    requirement: RequirementRef | None = None
    target: Id | None = Field(
        default=None, description="Zone or conduit of the requirement status."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.upper().startswith("SR"):
                return {"requirement": text}
            return {"compensating_control": text}
        return value

    @model_validator(mode="after")
    def _one(self) -> ControlLink:
        if (self.compensating_control is None) == (self.requirement is None):
            raise ValueError(
                "a control link names exactly one of 'compensating_control' or 'requirement'"
            )
        if self.target is not None and self.requirement is None:
            raise ValueError("'target' belongs to a 'requirement' link")
        return self

    def label(self, zone: str) -> str:
        if self.compensating_control is not None:
            return self.compensating_control
        return f"{self.target or zone}: {self.requirement}"


class RiskEstimate(Model):
    """Likelihood and impact per category, as assessed under the method's scales."""

    likelihood: int = Field(ge=1)
    impacts: dict[str, Annotated[int, Field(ge=1)]] = Field(
        min_length=1, description="Impact level per impact category id of the method."
    )


class ResidualEstimate(Model):
    """The estimate after existing controls; impact categories not listed keep their inherent
    level (controls often lower the likelihood only)."""

    likelihood: int = Field(ge=1)
    impacts: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)


class Acceptance(Model):
    """A recorded decision to live with a (residual) risk until a date."""

    by: PersonRef
    on: dt.date
    rationale: Text = Field(
        min_length=10, description="Why the risk is acceptable; at least a sentence."
    )
    expires: dt.date

    @model_validator(mode="after")
    def _after(self) -> Acceptance:
        if self.expires <= self.on:
            raise ValueError(
                f"an acceptance must expire after it is given ({self.on} -> {self.expires})"
            )
        return self


class RiskScenario(Model):
    """One threat against one zone (and some of its assets), assessed before and after controls."""

    id: Id
    title: ShortText
    description: Text | None = sensitive(
        default=None, description="The scenario in words (sensitive)."
    )
    threat: Threat
    zone: ZoneRef
    assets: tuple[AssetRef, ...] = ()
    inherent: RiskEstimate
    controls: tuple[ControlLink, ...] = Field(
        default=(),
        description="Existing controls that reduce the risk: requirement statuses or compensating controls.",
    )
    residual: ResidualEstimate | None = Field(
        default=None,
        description="After existing controls; categories not listed keep their inherent impact. "
        "Absent means no reduction yet.",
    )
    treatment: Treatment
    owner: PersonRef
    review_date: dt.date
    acceptance: Acceptance | None = None
    fr_weights: dict[FR, FRWeight] = Field(
        default_factory=dict,
        description="How this threat bears on each FR; overrides the impact categories' weights.",
    )
    notes: Text | None = sensitive(default=None)

    @model_validator(mode="after")
    def _residual(self) -> RiskScenario:
        if self.residual is None:
            return self
        extra = sorted(set(self.residual.impacts) - set(self.inherent.impacts))
        if extra:
            raise ValueError(
                f"residual impacts name categories {extra} that the inherent estimate does not score"
            )
        if self.residual.likelihood > self.inherent.likelihood:
            raise ValueError(
                f"residual likelihood {self.residual.likelihood} is above inherent "
                f"{self.inherent.likelihood}: controls cannot make a threat more likely"
            )
        for cat, lvl in self.residual.impacts.items():
            if lvl > self.inherent.impacts[cat]:
                raise ValueError(
                    f"residual impact on {cat!r} ({lvl}) is above inherent ({self.inherent.impacts[cat]})"
                )
        return self

    def effective_residual(self) -> RiskEstimate:
        """Residual estimate with unlisted categories filled in from the inherent one."""
        if self.residual is None:
            return self.inherent
        return RiskEstimate(
            likelihood=self.residual.likelihood,
            impacts={**self.inherent.impacts, **self.residual.impacts},
        )


# ---------------------------------------------------------------------------------------------
# Cross-reference checks for a whole site document


def _estimate_problems(
    method: RiskMethod, est: RiskEstimate | ResidualEstimate, path: Path
) -> list[Problem]:
    out = []
    if est.likelihood > method.max_likelihood:
        out.append(
            Problem(
                f"likelihood {est.likelihood} is outside the method's scale 1-{method.max_likelihood}",
                (*path, "likelihood"),
            )
        )
    known = [c.id for c in method.impact_categories]
    for cat, lvl in est.impacts.items():
        if cat not in known:
            out.append(
                Problem(
                    f"impact category {cat!r} is not defined by the risk method (defined: {', '.join(known)})",
                    (*path, "impacts", cat),
                )
            )
        elif lvl > method.max_impact:
            out.append(
                Problem(
                    f"impact {lvl} is outside the method's scale 1-{method.max_impact}",
                    (*path, "impacts", cat),
                )
            )
    return out


def risk_reference_problems(doc: SiteDocument) -> list[Problem]:
    """Every problem of the risk and governance sections that needs the whole document."""
    from zonewarden.domain.governance import governance_reference_problems

    method: RiskMethod = doc.risk_method
    problems: list[Problem] = duplicate_id_problems("risks", [r.id for r in doc.risks])
    zones = {z.id for z in doc.zones}
    assets = {a.id: a for a in doc.assets}
    people = {p.id for p in doc.people}
    comp = {c.id for c in doc.compensating_controls}
    statuses = {(st.target, st.requirement) for st in doc.requirements}

    for i, r in enumerate(doc.risks):
        base: Path = ("risks", i)
        if r.zone not in zones:
            problems.append(Problem(f"unknown zone {r.zone!r}", (*base, "zone")))
        for j, a in enumerate(r.assets):
            asset = assets.get(a)
            if asset is None:
                problems.append(Problem(f"unknown asset {a!r}", (*base, "assets", j)))
            elif asset.zone is not None and asset.zone != r.zone:
                problems.append(
                    Problem(
                        f"asset {a!r} is in zone {asset.zone!r}, not in the scenario's zone {r.zone!r}: "
                        "record one scenario per affected zone",
                        (*base, "assets", j),
                    )
                )
        for field, ref in (
            ("owner", r.owner),
            ("acceptance.by", r.acceptance.by if r.acceptance else None),
        ):
            if ref is not None and ref not in people:
                problems.append(
                    Problem(
                        f"unknown person {ref!r}: add them under 'people'",
                        (*base, *field.split(".")),
                    )
                )
        problems += _estimate_problems(method, r.inherent, (*base, "inherent"))
        if r.residual is not None:
            problems += _estimate_problems(method, r.residual, (*base, "residual"))
        if r.acceptance is not None and r.acceptance.by == r.owner:
            problems.append(
                Problem(
                    f"{r.owner} owns risk {r.id} and accepts it: separation of duties needs "
                    "another person to accept a risk",
                    (*base, "acceptance", "by"),
                )
            )
        if r.treatment is Treatment.ACCEPT and r.acceptance is None:
            problems.append(
                Problem(
                    "treatment is 'accept' but there is no acceptance record (by, on, rationale, expires)",
                    (*base, "acceptance"),
                )
            )
        for j, link in enumerate(r.controls):
            if link.compensating_control is not None and link.compensating_control not in comp:
                problems.append(
                    Problem(
                        f"unknown compensating control {link.compensating_control!r}: add it under "
                        "'compensating_controls'",
                        (*base, "controls", j),
                    )
                )
            if (
                link.requirement is not None
                and (link.target or r.zone, link.requirement) not in statuses
            ):
                problems.append(
                    Problem(
                        f"no requirement status for {link.requirement} on {link.target or r.zone!r}: "
                        "record it under 'requirements' before linking it",
                        (*base, "controls", j),
                    )
                )
    tz = doc.site.timezone
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(
                Problem(
                    f"unknown time zone {tz!r}: use an IANA name such as 'Europe/Zurich'",
                    ("site", "timezone"),
                )
            )
    problems += governance_reference_problems(doc)
    return problems


__all__ = [
    "Acceptance",
    "DEFAULT_IMPACT_CATEGORIES",
    "DEFAULT_IMPACT_LEVELS",
    "DEFAULT_LIKELIHOOD",
    "DEFAULT_RATINGS",
    "ControlLink",
    "FRWeight",
    "ImpactCategory",
    "ResidualEstimate",
    "RiskEstimate",
    "RiskMethod",
    "RiskRating",
    "RiskScenario",
    "SLTRule",
    "ScaleLevel",
    "Threat",
    "ThreatActor",
    "Treatment",
    "risk_reference_problems",
]
