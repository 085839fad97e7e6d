"""Requirement statuses, compensating controls, exceptions, SL scale: shapes and references."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from zonewarden.domain.requirements import (
    DEFAULT_SL_SCALE,
    CompensatingControl,
    ControlValidity,
    EvidenceRef,
    RequirementException,
    RequirementStatus,
    SLScale,
    Status,
    canonical_requirement_id,
    control_validity,
    evidence_locations,
    requirement_reference_problems,
)
from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.io import yamlio

KNOWN = {"SR 1.1", "SR 1.1 RE 1", "SR 1.2", "SR 2.1", "SR 3.4"}


def known(ident: str) -> str | None:
    return None if ident in KNOWN else f"unknown IEC 62443-3-3 requirement {ident!r}"


def control(**over: Any) -> dict[str, Any]:
    base = {
        "id": "CC-01",
        "title": "Jump host in front of the legacy HMI",
        "description": "All access to the HMI goes through the DMZ jump host with MFA.",
        "covers": ["SR 1.1 RE 1"],
        "zones": ["cell"],
        "rationale": "legacy-os",
        "owner": "ot-lead",
        "approver": "ciso",
        "approved": "2026-01-10",
        "review": "2026-07-01",
        "expires": "2027-01-10",
    }
    base.update(over)
    return base


def site(**sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site": {"id": "s1", "name": "Plant"},
        "people": [{"id": "ot-lead", "name": "OT lead"}, {"id": "ciso", "name": "CISO"}],
        "zones": [
            {"id": "cell", "name": "Cell", "kind": "control", "purdue_level": 1, "sl_target": 2},
            {"id": "dmz", "name": "DMZ", "kind": "dmz", "purdue_level": 3.5},
        ],
        "conduits": [{"id": "c1", "zones": ["dmz", "cell"]}],
        "assets": [{"id": "hmi-07", "name": "HMI 7", "type": "hmi", "zone": "cell"}],
    }
    data.update(sections)
    return data


def deferred(**sections: Any) -> SiteDocument:
    return SiteDocument.model_validate(site(**sections), context={"defer_references": True})


# --- ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("SR 1.1", "SR 1.1"),
        ("sr1.1", "SR 1.1"),
        ("SR 1.1 RE 1", "SR 1.1 RE 1"),
        ("SR1.1RE1", "SR 1.1 RE 1"),
        ("SR 1.1(1)", "SR 1.1 RE 1"),
        ("SR 1.1 RE(2)", "SR 1.1 RE 2"),
        ("  SR 7.06 ", "SR 7.6"),
        ("SR 1.13 RE 1", "SR 1.13 RE 1"),
        ("1.1 RE-2", "SR 1.1 RE 2"),
        ("SR-3.4", "SR 3.4"),
    ],
)
def test_requirement_ids_are_spelled_one_way(text: str, want: str) -> None:
    assert canonical_requirement_id(text) == want


@pytest.mark.parametrize("text", ["CR 1.1", "SR 1", "1", "SR 1.1 RE", "SR 1.1 (x)", "", "EDR 2.1"])
def test_bad_requirement_ids_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an IEC 62443-3-3 requirement id"):
        canonical_requirement_id(text)


def test_status_stores_canonical_id() -> None:
    st = RequirementStatus.model_validate({"target": "cell", "requirement": "sr 1.1(1)", "status": "implemented"})
    assert st.requirement == "SR 1.1 RE 1"


# --- record shapes ---------------------------------------------------------------------------


def test_evidence_needs_exactly_one_kind_and_a_hash_for_files() -> None:
    with pytest.raises(ValidationError, match="exactly one of"):
        EvidenceRef.model_validate({"document": "SOP-1", "link": "https://x.example/a"})
    with pytest.raises(ValidationError, match="exactly one of"):
        EvidenceRef.model_validate({"date": "2026-01-01"})
    with pytest.raises(ValidationError, match="needs its 'sha256'"):
        EvidenceRef.model_validate({"file": "evidence/pentest.pdf"})
    with pytest.raises(ValidationError, match="sha256"):
        EvidenceRef.model_validate({"file": "a.pdf", "sha256": "abc"})
    ev = EvidenceRef.model_validate({"file": "a.pdf", "sha256": "AB" * 32})
    assert ev.sha256 == "ab" * 32  # stored lower case so comparisons are exact


def test_fields_of_another_status_are_refused() -> None:
    with pytest.raises(ValidationError, match="only used with status 'compensated'"):
        RequirementStatus.model_validate(
            {"target": "cell", "requirement": "SR 1.1", "status": "implemented", "compensating_control": "CC-01"}
        )
    with pytest.raises(ValidationError, match="only used with status 'planned'"):
        RequirementStatus.model_validate(
            {"target": "cell", "requirement": "SR 1.1", "status": "partial", "target_date": "2027-01-01"}
        )


def test_compensating_control_rules() -> None:
    CompensatingControl.model_validate(control())
    with pytest.raises(ValidationError, match="at least one zone or conduit"):
        CompensatingControl.model_validate(control(zones=[]))
    with pytest.raises(ValidationError, match="both 'approver' and 'approved'"):
        CompensatingControl.model_validate(control(approved=None))
    with pytest.raises(ValidationError, match="must be after 'approved'"):
        CompensatingControl.model_validate(control(expires="2026-01-10"))
    with pytest.raises(ValidationError, match="listed more than once"):
        CompensatingControl.model_validate(control(covers=["SR 1.1 RE 1", "SR 1.1(1)"]))
    with pytest.raises(ValidationError):
        CompensatingControl.model_validate(control(rationale="because"))
    pending = CompensatingControl.model_validate(control(approver=None, approved=None))
    assert control_validity(pending, dt.date(2026, 3, 1)) is ControlValidity.PENDING


def test_control_validity_around_the_dates() -> None:
    cc = CompensatingControl.model_validate(control())
    assert control_validity(cc, dt.date(2026, 1, 9)) is ControlValidity.NOT_YET_APPROVED
    assert control_validity(cc, dt.date(2026, 1, 10)) is ControlValidity.VALID
    assert control_validity(cc, dt.date(2027, 1, 9)) is ControlValidity.VALID
    # 'expires' is the first day it no longer counts.
    assert control_validity(cc, dt.date(2027, 1, 10)) is ControlValidity.EXPIRED


def test_exception_rules() -> None:
    base = {
        "id": "EX-01",
        "title": "Shared operator login on line 3",
        "requirements": ["SR 1.1 RE 1"],
        "zones": ["cell"],
        "justification": "The HMI runtime supports one account only until the 2027 upgrade.",
        "residual_risk": "medium",
        "owner": "ot-lead",
        "approver": "ciso",
        "approved": "2026-02-01",
        "expires": "2026-12-31",
    }
    ex = RequirementException.model_validate(base)
    assert ex.active(dt.date(2026, 2, 1)) and not ex.active(dt.date(2026, 12, 31))
    with pytest.raises(ValidationError, match="at least one requirement or a 'policy'"):
        RequirementException.model_validate({**base, "requirements": []})
    assert RequirementException.model_validate({**base, "requirements": [], "policy": "OT-POL-7 §3"}).policy
    with pytest.raises(ValidationError, match="has a scope"):
        RequirementException.model_validate({**base, "zones": []})


def test_sl_scale_defaults_and_validation() -> None:
    assert [d.level for d in DEFAULT_SL_SCALE.levels] == [1, 2, 3, 4]
    assert "simple" in DEFAULT_SL_SCALE[2].means
    assert DEFAULT_SL_SCALE[4].resources.startswith("extended")
    with pytest.raises(ValidationError, match="levels 1, 2, 3 and 4"):
        SLScale.model_validate({"levels": [DEFAULT_SL_SCALE[1].model_dump()]})
    with pytest.raises(KeyError):
        DEFAULT_SL_SCALE[0]
    # A site that does not set a scale gets the default, and an export leaves it out.
    doc = deferred()
    assert doc.sl_scale == DEFAULT_SL_SCALE
    assert "sl_scale" not in doc.model_dump(exclude_defaults=True)


# --- references --------------------------------------------------------------------------


def messages(problems: list[Any]) -> dict[tuple[str | int, ...], str]:
    return {p.path: p.message for p in problems}


def test_reference_problems_locate_each_mistake() -> None:
    doc = deferred(
        requirements=[
            {"target": "cell", "requirement": "SR 1.1", "status": "implemented"},  # 0 fine
            {"target": "nowhere", "requirement": "SR 1.2", "status": "implemented"},  # 1
            {"target": "cell", "requirement": "SR 9.9", "status": "implemented"},  # 2
            {"target": "cell", "requirement": "SR 1.1", "status": "partial"},  # 3 duplicate
            {"target": "cell", "requirement": "SR 2.1", "status": "not-applicable"},  # 4
            {"target": "cell", "requirement": "SR 1.2", "status": "compensated"},  # 5
            {"target": "cell", "requirement": "SR 3.4", "status": "compensated", "compensating_control": "CC-XX"},  # 6
            {"target": "c1", "requirement": "SR 1.1 RE 1", "status": "compensated", "compensating_control": "CC-01"},  # 7
            {"target": "cell", "requirement": "SR 1.1 RE 1", "status": "planned"},  # 8
        ],
        compensating_controls=[control(assets=["hmi-07", "ghost"], approver="nobody")],
        capabilities=[
            {"asset": "hmi-07", "capability": 1, "source": "vendor-stated"},
            {"asset": "hmi-07", "capability": 2, "source": "assessed"},
        ],
    )
    got = messages(requirement_reference_problems(doc, known))
    assert got[("requirements", 1, "target")] == "unknown zone or conduit 'nowhere'"
    assert got[("requirements", 2, "requirement")] == "unknown IEC 62443-3-3 requirement 'SR 9.9'"
    assert "already given at requirements[0]" in got[("requirements", 3, "requirement")]
    assert "needs a 'justification'" in got[("requirements", 4, "justification")]
    assert "needs a 'compensating_control'" in got[("requirements", 5, "compensating_control")]
    assert got[("requirements", 6, "compensating_control")] == "unknown compensating control 'CC-XX'"
    assert "does not apply to 'c1'" in got[("requirements", 7, "compensating_control")]
    assert "needs a 'target_date'" in got[("requirements", 8, "target_date")]
    assert got[("compensating_controls", 0, "assets", 1)] == "unknown asset 'ghost'"
    assert "unknown person 'nobody'" in got[("compensating_controls", 0, "approver")]
    assert "already has a capability declaration" in got[("capabilities", 1, "asset")]
    assert ("requirements", 0, "requirement") not in got
    assert len(got) == 11


def test_control_must_cover_the_requirement_it_compensates() -> None:
    doc = deferred(
        requirements=[{"target": "cell", "requirement": "SR 1.2", "status": "compensated", "compensating_control": "CC-01"}],
        compensating_controls=[control()],
    )
    (p,) = requirement_reference_problems(doc, known)
    assert p.path == ("requirements", 0, "compensating_control")
    assert "does not cover SR 1.2 (it covers SR 1.1 RE 1)" in p.message


def test_site_document_runs_the_requirement_checks() -> None:
    data = site(requirements=[{"target": "cell", "requirement": "SR 2.1", "status": "not-applicable"}])
    with pytest.raises(ValidationError, match=r"requirements\[0\].justification"):
        SiteDocument.model_validate(data)
    doc = SiteDocument.model_validate(data, context={"defer_references": True})
    assert any(p.path == ("requirements", 0, "justification") for p in reference_problems(doc))


def test_valid_document_has_no_problems_and_lists_evidence() -> None:
    doc = SiteDocument.model_validate(
        site(
            requirements=[
                {
                    "target": "cell",
                    "requirement": "SR 1.1 RE 1",
                    "status": "compensated",
                    "compensating_control": "CC-01",
                    "evidence": [{"document": "OT-SOP-12"}],
                },
                {"target": "c1", "requirement": "SR 2.1", "status": "planned", "target_date": "2027-03-31"},
            ],
            compensating_controls=[
                control(evidence=[{"file": "evidence/jump.pdf", "sha256": "0" * 64, "date": "2026-01-09"}])
            ],
        )
    )
    assert requirement_reference_problems(doc, known) == []
    assert [path for path, _ in evidence_locations(doc)] == [
        ("requirements", 0, "evidence", 0),
        ("compensating_controls", 0, "evidence", 0),
    ]
    assert doc.requirements[1].status is Status.PLANNED


def test_component_requirement_ids_are_checked_against_4_2() -> None:
    doc = deferred(
        capabilities=[
            {"asset": "hmi-07", "capability": 1, "source": "assessed",
             "component_requirements": ["CR 1.1", "cr2.1", "SR 1.1", "EDR 3.2"]},
        ]
    )
    (p,) = requirement_reference_problems(doc, known)
    assert p.path == ("capabilities", 0, "component_requirements", 2)
    assert "did you mean 'CR 1.1'" in p.message


# --- round trip through YAML -----------------------------------------------------------------


REQ_IDS = sorted(KNOWN)
texts = st.text(alphabet="abc XYZ-:#'\"é0123456789\n", min_size=10, max_size=40).map(str.strip).filter(
    lambda t: len(t) >= 10
)
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))
evidence = st.one_of(
    st.builds(lambda d, when: {"document": d, "date": when}, texts, st.none() | dates),
    st.builds(lambda h: {"file": "evidence/a b.pdf", "sha256": h}, st.text("0123456789abcdef", min_size=64, max_size=64)),
    st.just({"link": "https://example.com/x?y=1#z"}),
)


@st.composite
def status_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for target in ("cell", "c1"):
        for rid in draw(st.lists(st.sampled_from(REQ_IDS), unique=True, max_size=4)):
            status = draw(st.sampled_from(["implemented", "partial", "planned", "not-implemented", "not-applicable", "compensated"]))
            row: dict[str, Any] = {"target": target, "requirement": rid, "status": status}
            if status == "planned":
                row["target_date"] = draw(dates)
            if status == "not-applicable":
                row["justification"] = draw(texts)
            if status == "compensated":
                row["compensating_control"] = "CC-01"
            row["evidence"] = draw(st.lists(evidence, max_size=2))
            rows.append(row)
    return rows


@settings(max_examples=60, deadline=None)
@given(status_rows(), st.lists(st.sampled_from(REQ_IDS), unique=True, min_size=1, max_size=5))
def test_requirement_sections_survive_a_yaml_round_trip(rows: list[dict[str, Any]], covers: list[str]) -> None:
    for row in rows:
        if row["status"] == "compensated" and row["requirement"] not in covers:
            covers.append(row["requirement"])
    doc = deferred(requirements=rows, compensating_controls=[control(covers=covers, zones=["cell"], conduits=["c1"])])
    assert requirement_reference_problems(doc, known) == []
    text = yamlio.dumps(doc.model_dump(mode="json", exclude_defaults=True))
    again = SiteDocument.model_validate(yamlio.loads(text), context={"defer_references": True})
    assert again == doc
