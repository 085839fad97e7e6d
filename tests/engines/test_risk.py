"""Risk scores, register flags and the SL-T proposal on hand-worked cases.

Default method: score = likelihood x impact; 1-4 low, 5-9 medium, 10-19 high, 20-25 very high;
rating -> SL low 1, medium 2, high 3, very high 4; actor ceilings (criminal 3, negligent
insider 1, nation state 4); secondary weight lowers by 1; floors medium 1, high 2, critical 2.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonewarden.domain.levels import FR, SLTarget
from zonewarden.domain.risk import FRWeight, RiskEstimate, RiskMethod
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.risk import (
    evaluate,
    heat_map,
    propose_slt,
    register,
    score_estimate,
    treatment_counts,
)
from zonewarden.errors import NotFoundError

TODAY = dt.date(2026, 11, 25)


def scenario(ident: str, zone: str, actor: str, inherent: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "title": f"scenario {ident}",
        "threat": {"actor": actor, "vector": "it-network"},
        "zone": zone,
        "inherent": inherent,
        "treatment": extra.pop("treatment", "mitigate"),
        "owner": extra.pop("owner", "alice"),
        "review_date": extra.pop("review_date", "2027-06-30"),
        **extra,
    }


def site(**overrides: Any) -> SiteDocument:
    data: dict[str, Any] = {
        "site": {"id": "plant", "name": "Plant"},
        "people": [{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}],
        "zones": [
            {"id": "ctl", "name": "Control", "kind": "control", "purdue_level": 1, "criticality": "high",
             "sl_target": [2, 2, 3, 2, 3, 2, 3]},
            {"id": "sis", "name": "Safety", "kind": "safety", "purdue_level": 1, "criticality": "critical",
             "sl_target": 3},
            {"id": "lab", "name": "QC lab", "kind": "operations", "purdue_level": 3, "criticality": "medium"},
            {"id": "spare", "name": "Spare", "kind": "supervisory", "purdue_level": 2, "criticality": "low"},
        ],
        "assets": [
            {"id": "plc1", "name": "PLC 1", "type": "plc", "zone": "ctl"},
            {"id": "cds1", "name": "CDS", "type": "chromatography-data-system", "zone": "lab"},
        ],
        "risks": [
            scenario("R1", "ctl", "criminal", {"likelihood": 4, "impacts": {"safety": 3, "supply-disruption": 5}},
                     assets=["plc1"],
                     residual={"likelihood": 2, "impacts": {"supply-disruption": 4}}),
            scenario("R2", "ctl", "insider-negligent", {"likelihood": 3, "impacts": {"product-quality": 4}}),
            scenario("R3", "sis", "nation-state", {"likelihood": 2, "impacts": {"safety": 5, "environmental": 4}},
                     fr_weights={"FR5": "none"},
                     residual={"likelihood": 1, "impacts": {}},
                     treatment="accept",
                     acceptance={"by": "bob", "on": "2025-12-31", "expires": "2026-12-31",
                                 "rationale": "Hardwired trip backs up the SIS; residual accepted."}),
            scenario("R4", "lab", "insider-malicious", {"likelihood": 3, "impacts": {"regulatory": 5}},
                     assets=["cds1"],
                     residual={"likelihood": 2, "impacts": {}},
                     review_date="2026-01-01",
                     acceptance={"by": "bob", "on": "2026-02-01", "expires": "2027-08-01",
                                 "rationale": "Audit trail review weekly; replacement CDS in 2027."}),
        ],
    }
    data.update(overrides)
    return SiteDocument.model_validate(data)


def test_scores_take_the_worst_category_by_rating_then_score() -> None:
    method = RiskMethod()
    s = score_estimate(method, RiskEstimate(likelihood=2, impacts={"safety": 3, "supply-disruption": 4}))
    assert [(c.category, c.score, c.rating) for c in s.cells] == [
        ("safety", 6, "medium"),
        ("supply-disruption", 8, "medium"),
    ]
    assert s.worst.category == "supply-disruption"
    assert score_estimate(method, RiskEstimate(likelihood=4, impacts={"safety": 5})).worst.rating == "very-high"
    with pytest.raises(ValueError, match="outside the method's scales"):
        score_estimate(method, RiskEstimate(likelihood=6, impacts={"safety": 1}))


def test_explicit_matrix_overrides_the_product_bands() -> None:
    rows = [["low"] * 5] * 4 + [["low", "low", "low", "low", "very-high"]]
    method = RiskMethod(matrix=rows)
    assert method.cell(5, 5).id == "very-high"
    assert method.cell(4, 4).id == "low"  # 16 would be 'high' by the bands


def test_slt_proposal_hand_worked_for_the_control_zone() -> None:
    (p,) = propose_slt(site(), "ctl")
    # R1 safety: 4x3=12 high -> 3, criminal cap 3: FR3/FR7 primary 3, FR4 none, rest 2.
    # R1 supply: 4x5=20 very-high -> 4, capped 3: FR5/FR7 primary 3, FR4 none, rest 2.
    # R2 quality: 3x4=12 high -> 3, negligent insider cap 1: FR2/FR3 1, rest 0.
    # Floor for 'high' criticality is 2, so FR4 (no contribution) becomes 2.
    assert p.proposal == SLTarget.model_validate([2, 2, 3, 2, 3, 2, 3])
    assert p.status == "matches"
    fr = {x.fr: x for x in p.per_fr}
    assert fr[FR.FR4].from_risk == 0 and fr[FR.FR4].level == 2
    assert "criticality floor 2" in fr[FR.FR4].reason
    assert [(c.scenario, c.category) for c in fr[FR.FR7].decisive] == [("R1", "safety"), ("R1", "supply-disruption")]
    assert fr[FR.FR5].reason.startswith(
        "R1 supply-disruption L4 x I5 = very-high -> SL 4, capped to 3 for actor criminal; "
        "weight primary (category:supply-disruption) -> 3"
    )
    r2 = [c for c in p.contributions if c.scenario == "R2"]
    assert {c.level for c in r2 if c.weight is FRWeight.PRIMARY} == {1}


def test_slt_scenario_weights_override_category_weights_and_unjustified_difference_is_reported() -> None:
    (p,) = propose_slt(site(), "sis")
    # safety 2x5=10 high -> 3 (nation state, no cap): FR3/FR7 3, FR4 none, others 2; FR5 dropped by the
    # scenario's weight. environmental 2x4=8 medium -> 2: FR3/FR7 2, others 1.
    # critical floor 2 lifts FR4 and FR5.
    assert p.proposal == SLTarget.model_validate([2, 2, 3, 2, 2, 2, 3])
    fr5 = next(x for x in p.per_fr if x.fr is FR.FR5)
    assert fr5.from_risk == 0 and fr5.decisive == ()
    assert p.current == SLTarget.uniform(3)
    assert p.status == "differs-unjustified" and p.missing_justification


def test_slt_difference_with_rationale_is_justified() -> None:
    doc = site()
    zones = [z.model_dump() for z in doc.zones]
    zones[1]["sl_target_rationale"] = "Group standard: every SIS zone is SL 3 on all FRs."
    (p,) = propose_slt(site(zones=zones), "sis")
    assert p.status == "differs-justified"


def test_zone_without_scenarios_is_undecided_with_a_reason() -> None:
    (p,) = propose_slt(site(), "spare")
    assert p.proposal is None and p.status == "undecided"
    assert "no risk scenarios" in (p.undecided_reason or "")
    assert p.as_dict()["proposal"] is None


def test_all_zones_sorted_and_unknown_zone() -> None:
    assert [p.zone for p in propose_slt(site())] == ["ctl", "lab", "sis", "spare"]
    with pytest.raises(NotFoundError):
        propose_slt(site(), "nope")


def test_json_of_a_proposal_carries_the_rationale_chain() -> None:
    (p,) = propose_slt(site(), "ctl")
    d = p.as_dict(full=True)
    fr3 = d["per_fr"][2]
    assert fr3["fr"] == "FR3" and fr3["level"] == 3
    assert fr3["decisive"][0]["scenario"] == "R1" and fr3["decisive"][0]["rating"] == "high"
    assert "explanation" in d["contributions"][0]


def test_register_order_tolerance_and_flags() -> None:
    entries = register(site(), TODAY)
    assert [e.id for e in entries] == ["R2", "R1", "R4", "R3"]
    by = {e.id: e for e in entries}
    # R1 residual: safety 2x3=6, supply 2x4=8 -> medium (tolerable)
    assert by["R1"].residual.worst.category == "supply-disruption" and not by["R1"].over_tolerance
    assert [f.code for f in by["R1"].flags] == []
    # R2 has no residual estimate: inherent 3x4=12 high stays, above 'medium'
    assert by["R2"].over_tolerance and [f.code for f in by["R2"].flags] == ["over-tolerance"]
    # R3: acceptance ends in 36 days (an owner accepting their own risk is refused on loading:
    # tests/domain/test_separation_of_duties.py)
    assert [f.code for f in by["R3"].flags] == ["acceptance-expiring"]
    # R4: residual 2x5=10 high, accepted by someone else, review date passed
    assert [f.code for f in by["R4"].flags] == ["accepted-over-tolerance", "review-overdue"]
    assert [e.id for e in register(site(), TODAY, over_tolerance_only=True)] == ["R2", "R4"]
    assert [e.id for e in register(site(), TODAY, zone="lab")] == ["R4"]


def test_expired_acceptance_no_longer_covers_over_tolerance() -> None:
    doc = site()
    e = evaluate(doc.risk_method, doc.risks[3], dt.date(2027, 8, 2))
    assert [f.code for f in e.flags] == ["acceptance-expired", "over-tolerance", "review-overdue"]
    # the day it expires it still holds
    e = evaluate(doc.risk_method, doc.risks[3], dt.date(2027, 8, 1))
    assert "over-tolerance" not in [f.code for f in e.flags]


def test_heat_map_counts_worst_cells() -> None:
    doc = site()
    hm = heat_map(doc.risk_method, register(doc, TODAY), "residual")
    assert hm.counts[1][3] == 1  # R1 L2 I4
    assert hm.counts[2][3] == 1  # R2 L3 I4
    assert hm.counts[0][4] == 1  # R3 L1 I5
    assert hm.counts[1][4] == 1  # R4 L2 I5
    assert sum(map(sum, hm.counts)) == 4
    inherent = heat_map(doc.risk_method, register(doc, TODAY), "inherent")
    assert inherent.counts[3][4] == 1  # R1 L4 supply 5
    assert treatment_counts(register(doc, TODAY)) == {"mitigate": 3, "accept": 1, "transfer": 0, "avoid": 0}


# --- properties ------------------------------------------------------------------------------

CATEGORIES = [c.id for c in RiskMethod().impact_categories]
ACTORS = ["insider-negligent", "opportunistic", "hacktivist", "criminal", "third-party", "nation-state"]

estimates = st.fixed_dictionaries(
    {
        "likelihood": st.integers(1, 5),
        "impacts": st.dictionaries(st.sampled_from(CATEGORIES), st.integers(1, 5), min_size=1, max_size=3),
    }
)
scenario_specs = st.lists(
    st.tuples(
        st.sampled_from(ACTORS),
        estimates,
        st.dictionaries(st.sampled_from([fr.value for fr in FR]), st.sampled_from(["primary", "secondary", "none"]),
                        max_size=3),
    ),
    min_size=1,
    max_size=4,
)


def _site_with(specs: list[Any], criticality: str = "medium") -> SiteDocument:
    risks = [
        scenario(f"S{i}", "ctl", actor, inherent, fr_weights=weights)
        for i, (actor, inherent, weights) in enumerate(specs)
    ]
    zones = [{"id": "ctl", "name": "Control", "kind": "control", "purdue_level": 1, "criticality": criticality}]
    return site(zones=zones, assets=[], risks=risks)


@settings(max_examples=60, deadline=None)
@given(scenario_specs, st.integers(0, 3), st.sampled_from(["likelihood", "impact"]))
def test_raising_a_score_never_lowers_the_proposal(specs: list[Any], which: int, field: str) -> None:
    which %= len(specs)
    (before,) = propose_slt(_site_with(specs), "ctl")
    actor, inherent, weights = specs[which]
    raised = {"likelihood": inherent["likelihood"], "impacts": dict(inherent["impacts"])}
    if field == "likelihood":
        raised["likelihood"] = min(5, raised["likelihood"] + 1)
    else:
        cat = sorted(raised["impacts"])[0]
        raised["impacts"][cat] = min(5, raised["impacts"][cat] + 1)
    bigger = list(specs)
    bigger[which] = (actor, raised, weights)
    (after,) = propose_slt(_site_with(bigger), "ctl")
    assert before.proposal is not None and after.proposal is not None
    for (_, a), (_, b) in zip(before.proposal.items(), after.proposal.items(), strict=True):
        assert b >= a


@settings(max_examples=60, deadline=None)
@given(scenario_specs, st.sampled_from(["low", "medium", "high", "critical"]))
def test_proposal_is_bounded_by_floor_and_actor_ceilings(specs: list[Any], criticality: str) -> None:
    (p,) = propose_slt(_site_with(specs, criticality), "ctl")
    rule = RiskMethod().slt_rule
    floor = rule.minimum_by_criticality[criticality]  # type: ignore[index]
    top = max(rule.actor_ceiling[a] for a, _, _ in specs)  # type: ignore[index]
    for fr in p.per_fr:
        assert floor <= fr.level <= max(floor, top)
        # every decisive contribution really reaches the level it claims
        assert all(c.level == fr.from_risk for c in fr.decisive)
