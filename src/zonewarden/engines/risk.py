"""Risk scores, the risk register and the risk-based SL-T proposal (IEC 62443-3-2 ZCR 5).

Pure functions of a :class:`SiteDocument` and ``today``. Every number that leaves this module
carries how it was reached: a register entry names the matrix cell of its worst category, and
an SL-T proposal names, per FR, the scenarios, impact categories and rule steps that set it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from zonewarden.domain.levels import FR, SLTarget
from zonewarden.domain.psirt_suppliers import Informed
from zonewarden.domain.psirt_suppliers import assess as assess_supplier
from zonewarden.domain.risk import (
    FRWeight,
    RiskEstimate,
    RiskMethod,
    RiskScenario,
    Treatment,
)
from zonewarden.domain.site import SiteDocument, Zone
from zonewarden.errors import NotFoundError

# --------------------------------------------------------------------------------------------
# Scores


@dataclass(frozen=True, slots=True)
class RiskCell:
    """One impact category of one estimate, placed in the risk matrix."""

    category: str
    """Impact category id."""
    likelihood: int
    impact: int
    score: int
    """likelihood x impact; orders cells of the same rating."""
    rating: str
    """Rating id of the matrix cell."""
    rank: int
    """Position of the rating in the method (0 = lowest)."""


@dataclass(frozen=True, slots=True)
class RiskScore:
    """An estimate scored under the method: every category and the worst one."""

    cells: tuple[RiskCell, ...]
    """One cell per scored category, in the method's category order."""
    worst: RiskCell
    """Highest rating, then highest score, then first category in the method's order."""


def score_estimate(method: RiskMethod, estimate: RiskEstimate) -> RiskScore:
    """Score ``estimate``; raises ValueError for a score outside the method's scales or an
    impact category the method does not define (the site check reports those first)."""
    order = {c.id: i for i, c in enumerate(method.impact_categories)}
    cells = []
    for category, impact in sorted(
        estimate.impacts.items(), key=lambda kv: order.get(kv[0], len(order))
    ):
        if category not in order:
            raise ValueError(f"impact category {category!r} is not defined by the risk method")
        rating = method.cell(estimate.likelihood, impact)
        cells.append(
            RiskCell(
                category=category,
                likelihood=estimate.likelihood,
                impact=impact,
                score=estimate.likelihood * impact,
                rating=rating.id,
                rank=method.rating_rank(rating.id),
            )
        )
    worst = max(cells, key=lambda c: (c.rank, c.score, -order[c.category]))
    return RiskScore(cells=tuple(cells), worst=worst)


# --------------------------------------------------------------------------------------------
# Register


@dataclass(frozen=True, slots=True)
class Flag:
    """Something in a register entry that needs attention."""

    code: str
    """Stable code: over-tolerance, review-overdue, acceptance-expired, acceptance-expiring,
    accepted-over-tolerance, supplier-poorly-informed (assets of the scenario come from a supplier
    without a usable disclosure process, :class:`SupplierInput`). (An acceptance by the risk's owner never reaches the register: the
    site document refuses it, separation of duties.)"""
    message: str


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One risk scenario as the register shows it."""

    scenario: RiskScenario
    inherent: RiskScore
    residual: RiskScore
    """Of the effective residual estimate (the inherent one where none is recorded)."""
    over_tolerance: bool
    """Residual rating above the method's tolerable rating."""
    review_overdue: bool
    flags: tuple[Flag, ...]

    @property
    def id(self) -> str:
        return self.scenario.id

    def as_dict(self) -> dict[str, Any]:
        s = self.scenario
        acc = s.acceptance
        return {
            "id": s.id,
            "title": s.title,
            "zone": s.zone,
            "assets": list(s.assets),
            "actor": s.threat.actor.value,
            "vector": s.threat.vector,
            "treatment": s.treatment.value,
            "owner": s.owner,
            "review_date": s.review_date.isoformat(),
            "controls": [c.label(s.zone) for c in s.controls],
            "inherent": _score_dict(self.inherent),
            "residual": _score_dict(self.residual),
            "over_tolerance": self.over_tolerance,
            "review_overdue": self.review_overdue,
            "acceptance": None
            if acc is None
            else {
                "by": acc.by,
                "on": acc.on.isoformat(),
                "expires": acc.expires.isoformat(),
                "rationale": acc.rationale,
            },
            "flags": [{"code": f.code, "message": f.message} for f in self.flags],
        }


def _score_dict(score: RiskScore) -> dict[str, Any]:
    w = score.worst
    return {
        "likelihood": w.likelihood,
        "worst_category": w.category,
        "impact": w.impact,
        "score": w.score,
        "rating": w.rating,
        "categories": {
            c.category: {"impact": c.impact, "score": c.score, "rating": c.rating}
            for c in score.cells
        },
    }


@dataclass(frozen=True, slots=True)
class SupplierInput:
    """A risk input (issue 16): assets of one zone whose supplier has no usable vulnerability
    disclosure process (:func:`zonewarden.domain.psirt_suppliers.assess` says ``poorly``). The
    plant may never learn of their vulnerabilities, so a known weakness can stay open unseen:
    the zone's scenarios on these assets are flagged for the assessor to weigh in the likelihood.
    It changes no score: the estimates stay the assessor's."""

    zone: str
    vendor: str
    supplier: str | None
    """The supplier record's id; None when nobody recorded the vendor's process."""
    assets: tuple[str, ...]
    reasons: tuple[str, ...]
    scenarios: tuple[str, ...]
    """The zone's scenarios that name one of these assets (or name no assets at all)."""

    @property
    def message(self) -> str:
        """``assets (vendor: reasons)``, at most five asset ids named."""
        return self.describe(self.assets)

    def describe(self, assets: tuple[str, ...]) -> str:
        head = ", ".join(assets[:5]) + (f" and {len(assets) - 5} more" if len(assets) > 5 else "")
        return f"{head} ({self.vendor}: {'; '.join(self.reasons)})"

    def on(self, scenario: RiskScenario) -> tuple[str, ...]:
        """The input's assets the scenario names (all of them for a scenario naming no assets)."""
        if scenario.zone != self.zone:
            return ()
        if not scenario.assets:
            return self.assets
        named = set(scenario.assets)
        return tuple(a for a in self.assets if a in named)

    def as_dict(self) -> dict[str, Any]:
        return {"zone": self.zone, "vendor": self.vendor, "supplier": self.supplier, "assets": list(self.assets),
                "reasons": list(self.reasons), "scenarios": list(self.scenarios), "message": self.message}


FLAG_SUPPLIERS_DESCRIBED = 3
"""Suppliers a ``supplier-poorly-informed`` flag describes with their assets and reasons; the
others it names (a scenario of a whole zone may weigh dozens: the zone's risk inputs list them)."""
FLAG_SUPPLIERS_NAMED = 5


def _poorly_informed(poor: list[tuple[SupplierInput, tuple[str, ...]]]) -> str:
    described = "; ".join(i.describe(assets) for i, assets in poor[:FLAG_SUPPLIERS_DESCRIBED])
    rest = poor[FLAG_SUPPLIERS_DESCRIBED:]
    text = ("assets from suppliers without a usable disclosure process, whose vulnerabilities may not reach "
            f"the plant: {described}")
    if rest:
        names = ", ".join(i.vendor for i, _ in rest[:FLAG_SUPPLIERS_NAMED])
        more = len(rest) - FLAG_SUPPLIERS_NAMED
        text += (f"; and {sum(len(a) for _, a in rest)} assets of {len(rest)} more suppliers ({names}"
                 f"{f' and {more} others' if more > 0 else ''}; the zone's risk inputs list them)")
    return text


def supplier_inputs(doc: SiteDocument, today: dt.date, *, zone: str | None = None) -> list[SupplierInput]:
    """Per zone (by id), the assets whose supplier informs the plant poorly, one input per
    supplier (vendor name, when nobody recorded it); assets without a vendor or a zone are the
    inventory check's business, not a supplier's."""
    by_name = {name: s for s in doc.suppliers for name in s.names()}
    groups: dict[tuple[str, str], tuple[str, str | None, list[str], tuple[str, ...]]] = {}
    for asset in sorted(doc.assets, key=lambda a: a.id):
        if not asset.vendor or asset.zone is None or (zone is not None and asset.zone != zone):
            continue
        sup = by_name.get(asset.vendor.casefold())
        verdict = assess_supplier(sup, today)
        if verdict.informed is not Informed.POORLY:
            continue
        key = (asset.zone, sup.id if sup else "vendor:" + asset.vendor.casefold())
        if key not in groups:
            groups[key] = (sup.vendor if sup else asset.vendor, sup.id if sup else None, [], verdict.reasons)
        groups[key][2].append(asset.id)
    out = []
    for (zone_id, _), (vendor, sup_id, assets, reasons) in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[1][0].casefold())):
        ids = tuple(assets)
        item = SupplierInput(zone_id, vendor, sup_id, ids, reasons, ())
        touched = tuple(sorted(s.id for s in doc.risks if item.on(s)))
        out.append(SupplierInput(zone_id, vendor, sup_id, ids, reasons, touched))
    return out


def evaluate(
    method: RiskMethod,
    scenario: RiskScenario,
    today: dt.date,
    *,
    expiring_within_days: int = 90,
    suppliers: tuple[SupplierInput, ...] = (),
) -> RegisterEntry:
    """Score one scenario and flag what needs attention on ``today``. ``suppliers``: the risk
    inputs of the scenario's zone (:func:`supplier_inputs`); those on its assets are flagged."""
    inherent = score_estimate(method, scenario.inherent)
    residual = score_estimate(method, scenario.effective_residual())
    over = not method.is_tolerable(residual.worst.rating)
    flags: list[Flag] = []
    acc = scenario.acceptance
    acceptance_valid = acc is not None and acc.on <= today <= acc.expires
    if over and not acceptance_valid:
        flags.append(
            Flag(
                "over-tolerance",
                f"residual risk {residual.worst.rating} ({residual.worst.category}) is above the tolerable "
                f"rating {method.tolerable} and is not covered by a valid acceptance",
            )
        )
    if over and acceptance_valid:
        assert acc is not None
        flags.append(
            Flag(
                "accepted-over-tolerance",
                f"residual risk {residual.worst.rating} is above tolerable; accepted by {acc.by} until {acc.expires}",
            )
        )
    poor = [(i, i.on(scenario)) for i in suppliers]
    poor = [(i, assets) for i, assets in poor if assets]
    if poor:
        flags.append(Flag("supplier-poorly-informed", _poorly_informed(poor)))
    review_overdue = scenario.review_date < today
    if review_overdue:
        flags.append(Flag("review-overdue", f"review was due on {scenario.review_date}"))
    if acc is not None:
        if acc.expires < today:
            flags.append(
                Flag("acceptance-expired", f"acceptance by {acc.by} expired on {acc.expires}")
            )
        elif (acc.expires - today).days <= expiring_within_days:
            flags.append(
                Flag(
                    "acceptance-expiring",
                    f"acceptance by {acc.by} expires on {acc.expires} ({(acc.expires - today).days} days)",
                )
            )
    return RegisterEntry(
        scenario=scenario,
        inherent=inherent,
        residual=residual,
        over_tolerance=over,
        review_overdue=review_overdue,
        flags=tuple(sorted(flags, key=lambda f: f.code)),
    )


def register(
    doc: SiteDocument,
    today: dt.date,
    *,
    zone: str | None = None,
    over_tolerance_only: bool = False,
    expiring_within_days: int = 90,
) -> list[RegisterEntry]:
    """The risk register, worst residual risk first within each zone (zones by id)."""
    if zone is not None and zone not in doc.zone_index():
        raise NotFoundError(f"unknown zone {zone!r}")
    inputs = tuple(supplier_inputs(doc, today, zone=zone))
    out = [
        evaluate(doc.risk_method, s, today, expiring_within_days=expiring_within_days, suppliers=inputs)
        for s in doc.risks
        if zone is None or s.zone == zone
    ]
    if over_tolerance_only:
        out = [e for e in out if e.over_tolerance]
    return sorted(
        out, key=lambda e: (e.scenario.zone, -e.residual.worst.rank, -e.residual.worst.score, e.id)
    )


@dataclass(frozen=True, slots=True)
class HeatMap:
    """Counts of scenarios per matrix cell (by each scenario's worst category)."""

    which: str
    """'inherent' or 'residual'."""
    counts: tuple[tuple[int, ...], ...]
    """counts[likelihood-1][impact-1]."""
    ratings: tuple[tuple[str, ...], ...]
    """The matrix's rating ids, same shape."""


def heat_map(method: RiskMethod, entries: list[RegisterEntry], which: str = "residual") -> HeatMap:
    if which not in ("inherent", "residual"):
        raise ValueError("which is 'inherent' or 'residual'")
    counts = [[0] * method.max_impact for _ in range(method.max_likelihood)]
    for e in entries:
        w = getattr(e, which).worst
        counts[w.likelihood - 1][w.impact - 1] += 1
    return HeatMap(
        which=which, counts=tuple(tuple(r) for r in counts), ratings=method.matrix_rows()
    )


# --------------------------------------------------------------------------------------------
# SL-T proposal


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one scenario's impact on one category asks of one FR, step by step."""

    scenario: str
    title: str
    category: str
    likelihood: int
    impact: int
    rating: str
    rating_level: int
    """Step 1: the level the rating asks for (slt_rule.sl_by_rating)."""
    actor: str
    ceiling: int
    """Step 2: the highest level the actor justifies (slt_rule.actor_ceiling)."""
    weight: FRWeight
    weight_source: str
    """'scenario' (the scenario's fr_weights) or 'category:<id>' (the category's default)."""
    level: int
    """Step 3: the resulting level for this FR."""

    def explain(self) -> str:
        capped = min(self.rating_level, self.ceiling)
        text = (
            f"{self.scenario} {self.category} L{self.likelihood} x I{self.impact} = {self.rating} "
            f"-> SL {self.rating_level}"
        )
        if capped < self.rating_level:
            text += f", capped to {capped} for actor {self.actor}"
        text += f"; weight {self.weight.value} ({self.weight_source}) -> {self.level}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "category": self.category,
            "likelihood": self.likelihood,
            "impact": self.impact,
            "rating": self.rating,
            "rating_level": self.rating_level,
            "actor": self.actor,
            "actor_ceiling": self.ceiling,
            "weight": self.weight.value,
            "weight_source": self.weight_source,
            "level": self.level,
            "explanation": self.explain(),
        }


@dataclass(frozen=True, slots=True)
class FRProposal:
    """The proposed level for one FR of one zone and why."""

    fr: FR
    level: int
    from_risk: int
    """Highest contribution of any scenario (0 when none bears on this FR)."""
    floor: int
    """Minimum for the zone's criticality (slt_rule.minimum_by_criticality)."""
    decisive: tuple[Contribution, ...]
    """Contributions equal to ``from_risk`` (when it sets the level), by scenario and category."""

    @property
    def reason(self) -> str:
        if self.from_risk >= self.floor and self.decisive:
            head = self.decisive[0].explain()
            more = (
                f" (and {len(self.decisive) - 1} more at the same level)"
                if len(self.decisive) > 1
                else ""
            )
            return head + more
        if self.from_risk < self.floor:
            return (
                f"criticality floor {self.floor} (highest risk contribution was {self.from_risk})"
            )
        return "no scenario bears on this FR"

    def as_dict(self) -> dict[str, Any]:
        return {
            "fr": self.fr.value,
            "level": self.level,
            "from_risk": self.from_risk,
            "floor": self.floor,
            "reason": self.reason,
            "decisive": [c.as_dict() for c in self.decisive],
        }


@dataclass(frozen=True, slots=True)
class ZoneProposal:
    """The SL-T proposal of one zone, compared with the SL-T the site sets."""

    zone: str
    name: str
    criticality: str
    scenarios: tuple[str, ...]
    """Scenario ids of the zone that were considered."""
    proposal: SLTarget | None
    """None when undecided (see ``undecided_reason``)."""
    undecided_reason: str | None
    per_fr: tuple[FRProposal, ...]
    current: SLTarget | None
    rationale: str | None
    status: str
    """'matches', 'differs-justified', 'differs-unjustified', 'not-set' or 'undecided'."""
    contributions: tuple[Contribution, ...] = field(default=(), repr=False)
    """Every contribution, for reports that show the full chain."""

    @property
    def missing_justification(self) -> bool:
        return self.status == "differs-unjustified"

    def as_dict(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "zone": self.zone,
            "name": self.name,
            "criticality": self.criticality,
            "scenarios": list(self.scenarios),
            "proposal": None if self.proposal is None else self.proposal.model_dump(),
            "undecided_reason": self.undecided_reason,
            "current": None if self.current is None else self.current.model_dump(),
            "rationale": self.rationale,
            "status": self.status,
            "per_fr": [p.as_dict() for p in self.per_fr],
        }
        if full:
            out["contributions"] = [c.as_dict() for c in self.contributions]
        return out


def _contributions(method: RiskMethod, scenario: RiskScenario) -> list[tuple[FR, Contribution]]:
    rule = method.slt_rule
    ceiling = rule.ceiling(scenario.threat.actor)
    out = []
    for cell in score_estimate(method, scenario.inherent).cells:
        category = method.category(cell.category)
        assert category is not None  # score_estimate checked it
        rating_level = rule.sl_by_rating[cell.rating]
        capped = min(rating_level, ceiling)
        for fr in FR:
            if fr in scenario.fr_weights:
                weight, source = scenario.fr_weights[fr], "scenario"
            else:
                weight, source = category.weight(fr), f"category:{category.id}"
            if weight is FRWeight.NONE:
                continue
            level = (
                capped if weight is FRWeight.PRIMARY else max(0, capped - rule.secondary_reduction)
            )
            out.append(
                (
                    fr,
                    Contribution(
                        scenario=scenario.id,
                        title=scenario.title,
                        category=cell.category,
                        likelihood=cell.likelihood,
                        impact=cell.impact,
                        rating=cell.rating,
                        rating_level=rating_level,
                        actor=scenario.threat.actor.value,
                        ceiling=ceiling,
                        weight=weight,
                        weight_source=source,
                        level=level,
                    ),
                )
            )
    return out


def propose_zone(doc: SiteDocument, zone: Zone) -> ZoneProposal:
    """The SL-T proposal for one zone; see :class:`~zonewarden.domain.risk.SLTRule`."""
    method = doc.risk_method
    scenarios = sorted((s for s in doc.risks if s.zone == zone.id), key=lambda s: s.id)
    floor = method.slt_rule.floor(zone.criticality)
    common: dict[str, Any] = {
        "zone": zone.id,
        "name": zone.name,
        "criticality": zone.criticality.value,
        "scenarios": tuple(s.id for s in scenarios),
        "current": zone.sl_target,
        "rationale": zone.sl_target_rationale,
    }
    if not scenarios:
        # A floor alone is not a risk-based target: say so rather than propose it silently.
        return ZoneProposal(
            proposal=None,
            undecided_reason=(
                f"no risk scenarios recorded for this zone; the criticality floor alone would give SL {floor}"
            ),
            per_fr=(),
            status="undecided",
            **common,
        )
    by_fr: dict[FR, list[Contribution]] = {fr: [] for fr in FR}
    allc: list[Contribution] = []
    for s in scenarios:
        for fr, c in _contributions(method, s):
            by_fr[fr].append(c)
            allc.append(c)
    per_fr = []
    for fr in FR:
        cs = by_fr[fr]
        top = max((c.level for c in cs), default=0)
        decisive = tuple(
            sorted(
                (c for c in cs if c.level == top and top > 0),
                key=lambda c: (c.scenario, c.category),
            )
        )
        per_fr.append(
            FRProposal(fr=fr, level=max(top, floor), from_risk=top, floor=floor, decisive=decisive)
        )
    proposal = SLTarget.model_validate([p.level for p in per_fr])
    if zone.sl_target is None:
        status = "not-set"
    elif zone.sl_target == proposal:
        status = "matches"
    elif zone.sl_target_rationale:
        status = "differs-justified"
    else:
        status = "differs-unjustified"
    return ZoneProposal(
        proposal=proposal,
        undecided_reason=None,
        per_fr=tuple(per_fr),
        status=status,
        contributions=tuple(allc),
        **common,
    )


def propose_slt(doc: SiteDocument, zone: str | None = None) -> list[ZoneProposal]:
    """SL-T proposals for every zone (by id) or for one zone."""
    zones = doc.zone_index()
    if zone is not None:
        if zone not in zones:
            raise NotFoundError(f"unknown zone {zone!r}")
        return [propose_zone(doc, zones[zone])]
    return [propose_zone(doc, z) for z in sorted(doc.zones, key=lambda z: z.id)]


def treatment_counts(entries: list[RegisterEntry]) -> dict[str, int]:
    """How many scenarios per treatment, every treatment listed (zero included)."""
    out = {t.value: 0 for t in Treatment}
    for e in entries:
        out[e.scenario.treatment.value] += 1
    return out


__all__ = [
    "Contribution",
    "FRProposal",
    "Flag",
    "HeatMap",
    "RegisterEntry",
    "RiskCell",
    "RiskScore",
    "SupplierInput",
    "ZoneProposal",
    "evaluate",
    "heat_map",
    "propose_slt",
    "propose_zone",
    "register",
    "score_estimate",
    "supplier_inputs",
    "treatment_counts",
]
