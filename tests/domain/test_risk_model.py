"""Risk method, risk scenarios and governance records: invariants and whole-document checks."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from zonewarden.domain.governance import Assessment, ChangeRecord, ChangeStatus, ChangeType
from zonewarden.domain.risk import (
    DEFAULT_IMPACT_CATEGORIES,
    Acceptance,
    ControlLink,
    RiskMethod,
    RiskScenario,
)
from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.errors import SiteFileError
from zonewarden.io.sitefile import load_site


def test_default_method_is_complete() -> None:
    m = RiskMethod()
    assert [c.id for c in m.impact_categories] == [
        "safety",
        "regulatory",
        "product-quality",
        "supply-disruption",
        "ip-loss",
        "data-protection",
        "environmental",
    ]
    for c in DEFAULT_IMPACT_CATEGORIES:
        assert sorted(c.criteria) == [1, 2, 3, 4, 5] and all(c.criteria.values())
    assert all(lv.criteria for lv in m.likelihood)
    assert m.matrix_rows()[0] == ("low", "low", "low", "low", "medium")
    assert m.is_tolerable("medium") and not m.is_tolerable("high")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tolerable": "acceptable"}, "tolerable rating 'acceptable' is not one of"),
        ({"matrix": [["low"] * 5] * 4}, "one row per likelihood level (5), has 4"),
        ({"matrix": [["low"] * 5] * 4 + [["low", "low", "low", "low", "extreme"]]}, "unknown ratings ['extreme']"),
        ({"slt_rule": {"sl_by_rating": {"low": 1, "medium": 2}}}, "must give a level for every rating"),
        (
            {"impact_categories": [{"id": "safety", "name": "Safety", "criteria": {1: "a", 2: "b"}}]},
            "needs criteria for exactly the impact levels [1, 2, 3, 4, 5]",
        ),
        (
            {"likelihood": [{"level": 1, "name": "a", "criteria": "x"}, {"level": 3, "name": "b", "criteria": "y"}]},
            "likelihood levels must be numbered 1..2",
        ),
    ],
)
def test_inconsistent_methods_are_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        RiskMethod.model_validate(changes)
    assert message in str(exc.value)


def test_custom_three_step_method() -> None:
    m = RiskMethod.model_validate(
        {
            "likelihood": [{"level": i, "name": n, "criteria": n} for i, n in enumerate(["low", "mid", "high"], 1)],
            "impact_levels": [{"level": i, "name": n, "criteria": n} for i, n in enumerate(["low", "mid", "high"], 1)],
            "impact_categories": [{"id": "safety", "name": "Safety", "criteria": {"1": "a", "2": "b", "3": "c"}}],
            "ratings": [{"id": "ok", "name": "OK", "min_score": 1}, {"id": "bad", "name": "Bad", "min_score": 4}],
            "tolerable": "ok",
            "slt_rule": {"sl_by_rating": {"ok": 1, "bad": 3}},
        }
    )
    assert m.matrix_rows() == (("ok", "ok", "ok"), ("ok", "bad", "bad"), ("ok", "bad", "bad"))


def scenario(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "R1",
        "title": "Ransomware",
        "threat": {"actor": "criminal", "vector": "it-network"},
        "zone": "ops",
        "inherent": {"likelihood": 3, "impacts": {"safety": 2}},
        "treatment": "mitigate",
        "owner": "alice",
        "review_date": "2027-01-01",
    }
    base.update(extra)
    return base


def test_residual_cannot_exceed_inherent() -> None:
    with pytest.raises(ValidationError, match="controls cannot make a threat more likely"):
        RiskScenario.model_validate(scenario(residual={"likelihood": 4}))
    with pytest.raises(ValidationError, match=r"residual impact on 'safety' \(3\) is above inherent \(2\)"):
        RiskScenario.model_validate(scenario(residual={"likelihood": 2, "impacts": {"safety": 3}}))
    with pytest.raises(ValidationError, match="does not score"):
        RiskScenario.model_validate(scenario(residual={"likelihood": 2, "impacts": {"ip-loss": 1}}))
    s = RiskScenario.model_validate(scenario(residual={"likelihood": 1}))
    assert s.effective_residual().impacts == {"safety": 2}


def test_acceptance_needs_rationale_and_expiry() -> None:
    with pytest.raises(ValidationError) as exc:
        Acceptance.model_validate({"by": "bob", "on": "2026-01-01"})
    fields = {e["loc"][0] for e in exc.value.errors()}
    assert fields == {"rationale", "expires"}
    with pytest.raises(ValidationError, match="must expire after"):
        Acceptance.model_validate({"by": "bob", "on": "2026-01-01", "expires": "2026-01-01",
                                   "rationale": "long enough rationale"})
    with pytest.raises(ValidationError, match="at least 10"):
        Acceptance.model_validate({"by": "bob", "on": "2026-01-01", "expires": "2026-02-01", "rationale": "ok"})


def test_control_link_shorthand() -> None:
    assert ControlLink.model_validate("SR 5.1").requirement == "SR 5.1"
    assert ControlLink.model_validate("sr1.1(1)").requirement == "SR 1.1 RE 1"
    assert ControlLink.model_validate("CC-USB").compensating_control == "CC-USB"
    with pytest.raises(ValidationError, match="exactly one"):
        ControlLink.model_validate({"compensating_control": "CC-1", "requirement": "SR 1.1"})
    with pytest.raises(ValidationError, match="'target' belongs"):
        ControlLink.model_validate({"compensating_control": "CC-1", "target": "ops"})


def test_governance_record_invariants() -> None:
    with pytest.raises(ValidationError, match="scoped assessment must list the zones"):
        Assessment.model_validate({"id": "A", "kind": "scoped", "date": "2026-01-01", "assessors": ["a"],
                                   "outcome": "satisfactory"})
    with pytest.raises(ValidationError, match="needs the 'implemented' date"):
        ChangeRecord.model_validate({"id": "C", "type": "architecture-change", "title": "x", "zones": ["z"],
                                     "status": "implemented", "raised": "2026-01-01"})
    with pytest.raises(ValidationError, match="before 'raised'"):
        ChangeRecord.model_validate({"id": "C", "type": "architecture-change", "title": "x", "zones": ["z"],
                                     "status": "implemented", "raised": "2026-01-01", "implemented": "2025-12-31"})
    with pytest.raises(ValidationError, match="names the zones or assets"):
        ChangeRecord.model_validate({"id": "C", "type": "patch", "title": "x", "status": "proposed",
                                     "raised": "2026-01-01"})
    incident = ChangeRecord.model_validate({"id": "C", "type": "security-incident", "title": "x", "zones": ["z"],
                                            "status": "closed", "raised": "2026-01-05", "closed": "2026-01-09"})
    assert incident.effective_date == incident.raised
    assert not ChangeType.PATCH.triggers_reassessment and ChangeType.NEW_INTEGRATION.triggers_reassessment
    assert ChangeStatus.REJECTED.value == "rejected"


def bad_site() -> dict[str, Any]:
    return {
        "site": {"id": "p", "name": "P", "timezone": "Mars/Olympus"},
        "people": [{"id": "alice", "name": "Alice"}],
        "zones": [
            {"id": "ops", "name": "Ops", "kind": "operations", "purdue_level": 3},
            {"id": "ctl", "name": "Ctl", "kind": "control", "purdue_level": 1},
        ],
        "assets": [{"id": "plc", "name": "PLC", "type": "plc", "zone": "ctl"}],
        "compensating_controls": [],
        "risks": [
            scenario(zone="nowhere"),
            scenario(id="R2", assets=["plc", "ghost"], inherent={"likelihood": 6, "impacts": {"reputation": 3, "safety": 7}}),
            scenario(id="R3", treatment="accept", owner="carol", controls=["CC-9", "SR 5.1"]),
            scenario(id="R2"),
        ],
        "assessments": [{"id": "A1", "kind": "scoped", "date": "2026-01-01", "zones": ["lab"],
                         "assessors": ["dave"], "outcome": "satisfactory", "changes": ["CR-9"]}],
        "changes": [{"id": "CR-1", "type": "new-integration", "title": "x", "assets": ["ghost"],
                     "status": "proposed", "raised": "2026-01-01", "owner": "erin"}],
        "criticality_classes": [{"id": "high"}, {"id": "high"}],
    }


def test_reference_problems_name_every_broken_reference() -> None:
    doc = SiteDocument.model_validate(bad_site(), context={"defer_references": True})
    got = {(p.pointer, p.message.split(":")[0].split(" (")[0]) for p in reference_problems(doc)}
    assert got >= {
        ("risks[3].id", "duplicate id 'R2'"),
        ("risks[0].zone", "unknown zone 'nowhere'"),
        ("risks[1].assets[0]", "asset 'plc' is in zone 'ctl', not in the scenario's zone 'ops'"),
        ("risks[1].assets[1]", "unknown asset 'ghost'"),
        ("risks[1].inherent.likelihood", "likelihood 6 is outside the method's scale 1-5"),
        ("risks[1].inherent.impacts.reputation", "impact category 'reputation' is not defined by the risk method"),
        ("risks[1].inherent.impacts.safety", "impact 7 is outside the method's scale 1-5"),
        ("risks[2].owner", "unknown person 'carol'"),
        ("risks[2].acceptance", "treatment is 'accept' but there is no acceptance record"),
        ("risks[2].controls[0]", "unknown compensating control 'CC-9'"),
        ("risks[2].controls[1]", "no requirement status for SR 5.1 on 'ops'"),
        ("site.timezone", "unknown time zone 'Mars/Olympus'"),
        ("criticality_classes[1].id", "criticality class 'high' is configured twice"),
        ("assessments[0].zones[0]", "unknown zone 'lab'"),
        ("assessments[0].assessors[0]", "unknown person 'dave'"),
        ("assessments[0].changes[0]", "unknown change record 'CR-9'"),
        ("changes[0].assets[0]", "unknown asset 'ghost'"),
        ("changes[0].owner", "unknown person 'erin'"),
    }


def test_site_file_errors_are_located_by_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(
        textwrap.dedent(
            """\
            zonewarden: 1
            site: {id: p, name: P}
            people: [{id: alice, name: Alice}]
            zones:
              - {id: ops, name: Ops, kind: operations, purdue_level: 3}
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "risk.yaml").write_text(
        textwrap.dedent(
            """\
            risks:
              - id: R1
                title: Ransomware
                threat: {actor: criminal, vector: it-network}
                zone: ops
                inherent:
                  likelihood: 9
                  impacts: {safety: 2}
                treatment: mitigate
                owner: alice
                review_date: 30.02.2027
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(SiteFileError) as exc:
        load_site(tmp_path)
    (problem,) = exc.value.problems
    assert problem.file and problem.file.endswith("risk.yaml")
    assert problem.pointer == "risks[0].review_date" and problem.line == 11

    text = (tmp_path / "risk.yaml").read_text().replace("30.02.2027", "2027-02-28")
    (tmp_path / "risk.yaml").write_text(text)
    with pytest.raises(SiteFileError) as exc:
        load_site(tmp_path)
    (problem,) = exc.value.problems
    assert problem.pointer == "risks[0].inherent.likelihood" and problem.line == 7
    assert "outside the method's scale 1-5" in problem.message


def test_round_trip_through_json_keeps_method_and_records() -> None:
    data = {
        "site": {"id": "p", "name": "P"},
        "people": [{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}],
        "zones": [{"id": "ops", "name": "Ops", "kind": "operations", "purdue_level": 3}],
        "risk_method": {"tolerable": "low", "impact_categories": [
            {"id": "safety", "name": "S", "criteria": {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"},
             "fr_weights": {"FR3": "primary", "FR4": "none"}}]},
        "risks": [scenario(treatment="accept", acceptance={"by": "bob", "on": "2026-01-01", "expires": "2027-01-01",
                                                          "rationale": "because it is cheap"},
                           fr_weights={"FR5": "none"}, controls=[])],
    }
    doc = SiteDocument.model_validate(data)
    again = SiteDocument.model_validate(doc.model_dump(mode="json", exclude_defaults=True))
    assert again == doc
    assert again.risk_method.tolerable == "low"
