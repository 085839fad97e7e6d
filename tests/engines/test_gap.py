"""Gap analysis on hand-worked cases, and SL-A against a brute-force definition."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonewarden.domain.levels import FR, SLAchieved, SLCapability
from zonewarden.domain.requirements import ControlValidity, Status
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.gap import Coverage, analyse, annex_a_coverage, explain

TODAY = dt.date(2026, 6, 1)


@dataclass(frozen=True)
class Req:
    id: str
    fr: FR
    min_sl: int
    name: str


# A slice of IEC 62443-3-3 (real ids and levels), enough to work examples by hand.
CATALOG = (
    Req("SR 1.1", FR.FR1, 1, "Human user identification and authentication"),
    Req("SR 1.1 RE 1", FR.FR1, 2, "Unique identification and authentication"),
    Req("SR 1.1 RE 2", FR.FR1, 3, "Multifactor authentication for untrusted networks"),
    Req("SR 1.1 RE 3", FR.FR1, 4, "Multifactor authentication for all networks"),
    Req("SR 1.2", FR.FR1, 2, "Software process and device identification and authentication"),
    Req("SR 2.1", FR.FR2, 1, "Authorization enforcement"),
    Req("SR 2.1 RE 1", FR.FR2, 2, "Authorization enforcement for all users"),
    Req("SR 3.4", FR.FR3, 2, "Software and information integrity"),
    Req("SR 5.1", FR.FR5, 1, "Network segmentation"),
)


def control(**over: Any) -> dict[str, Any]:
    base = {
        "id": "CC-01",
        "title": "Jump host in front of the legacy HMI",
        "description": "All access to the HMI goes through the DMZ jump host with MFA.",
        "covers": ["SR 1.1 RE 1"],
        "zones": ["cell"],
        "assets": ["hmi-07"],
        "rationale": "legacy-os",
        "owner": "ot-lead",
        "approver": "ciso",
        "approved": "2026-01-10",
        "review": "2026-12-01",
        "expires": "2027-01-10",
    }
    base.update(over)
    return base


def doc(requirements: list[dict[str, Any]], **sections: Any) -> SiteDocument:
    data: dict[str, Any] = {
        "site": {"id": "s1", "name": "Plant"},
        "people": [{"id": "ot-lead", "name": "OT lead"}, {"id": "ciso", "name": "CISO"}],
        "zones": [
            {"id": "cell", "name": "Granulation cell", "kind": "control", "purdue_level": 1, "sl_target": 2},
            {"id": "dmz", "name": "DMZ", "kind": "dmz", "purdue_level": 3.5},
        ],
        "conduits": [{"id": "c1", "zones": ["dmz", "cell"], "sl_target": 1}],
        "assets": [
            {"id": "hmi-07", "name": "HMI 7", "type": "hmi", "zone": "cell",
             "capability": {"FR1": 1, "FR2": 2, "FR3": 1, "FR4": 1, "FR5": 2, "FR6": 1, "FR7": 1}},
            {"id": "plc-01", "name": "PLC 1", "type": "plc", "zone": "cell", "capability": 3},
            {"id": "plc-02", "name": "PLC 2", "type": "plc", "zone": "cell"},
        ],
        "requirements": requirements,
    }
    data.update(sections)
    return SiteDocument.model_validate(data, context={"defer_references": True})


def s(req: str, status: str, target: str = "cell", **extra: Any) -> dict[str, Any]:
    return {"target": target, "requirement": req, "status": status, **extra}


ALL_IMPLEMENTED = [s(r.id, "implemented") for r in CATALOG]


def with_status(req: str, status: str, **extra: Any) -> list[dict[str, Any]]:
    return [x for x in ALL_IMPLEMENTED if x["requirement"] != req] + [s(req, status, **extra)]


def test_everything_implemented_reaches_four() -> None:
    report = analyse(doc(ALL_IMPLEMENTED), CATALOG, TODAY)
    cell = report.target("cell")
    assert cell.sl_achieved == SLAchieved.uniform(4)
    assert cell.states == ()
    assert [g.gap for g in cell.frs] == [0] * 7


def test_an_unmet_enhancement_caps_the_level_below_it() -> None:
    # SR 1.1 RE 1 applies from SL 2: FR1 stops at 1; other FRs are unaffected.
    report = analyse(doc(with_status("SR 1.1 RE 1", "not-implemented")), CATALOG, TODAY)
    cell = report.target("cell")
    fr1 = cell.fr("FR1")
    assert fr1.sl_achieved == 1 and fr1.sl_target == 2 and fr1.gap == 1
    assert [m.requirement for m in fr1.missing_next] == ["SR 1.1 RE 1"]
    assert fr1.missing_next[0].status is Status.NOT_IMPLEMENTED
    assert cell.sl_achieved["FR2"] == 4
    assert isinstance(cell.sl_achieved, SLAchieved)


def test_missing_status_counts_as_unmet_and_gives_zero() -> None:
    report = analyse(doc([x for x in ALL_IMPLEMENTED if x["requirement"] != "SR 5.1"]), CATALOG, TODAY)
    fr5 = report.target("cell").fr(FR.FR5)
    assert fr5.sl_achieved == 0 and fr5.gap == 2
    assert fr5.missing_next[0].status is None and fr5.missing_next[0].reason == "no status recorded"
    # The conduit has no statuses at all: 0 where an SL 1 requirement exists, 1 on FR3 (SR 3.4 is SL 2).
    c1 = report.target("c1")
    assert c1.kind == "conduit" and c1.sl_achieved.as_tuple() == (0, 0, 1, 4, 0, 4, 4)


@pytest.mark.parametrize("status", ["partial", "planned"])
def test_partial_and_planned_do_not_count(status: str) -> None:
    extra = {"target_date": "2026-09-30"} if status == "planned" else {}
    report = analyse(doc(with_status("SR 1.2", status, **extra)), CATALOG, TODAY)
    fr1 = report.target("cell").fr(FR.FR1)
    assert fr1.sl_achieved == 1
    assert fr1.missing_next[0].target_date == (dt.date(2026, 9, 30) if extra else None)


def test_not_applicable_counts_only_with_justification() -> None:
    ok = analyse(doc(with_status("SR 1.2", "not-applicable", justification="No software processes log on.")), CATALOG, TODAY)
    assert ok.target("cell").sl_achieved["FR1"] == 4
    bare = analyse(doc(with_status("SR 1.2", "not-applicable")), CATALOG, TODAY)
    fr1 = bare.target("cell").fr(FR.FR1)
    assert fr1.sl_achieved == 1 and "without a justification" in fr1.missing_next[0].reason


@pytest.mark.parametrize(
    ("today", "counts", "validity"),
    [
        (dt.date(2026, 1, 9), False, ControlValidity.NOT_YET_APPROVED),  # approved the next day
        (dt.date(2026, 1, 10), True, ControlValidity.VALID),  # day of approval
        (dt.date(2027, 1, 9), True, ControlValidity.VALID),  # last day it counts
        (dt.date(2027, 1, 10), False, ControlValidity.EXPIRED),  # expires today
        (dt.date(2027, 6, 1), False, ControlValidity.EXPIRED),
    ],
)
def test_compensation_counts_only_while_valid(today: dt.date, counts: bool, validity: ControlValidity) -> None:
    d = doc(
        with_status("SR 1.1 RE 1", "compensated", compensating_control="CC-01"),
        compensating_controls=[control()],
    )
    report = analyse(d, CATALOG, today)
    fr1 = report.target("cell").fr(FR.FR1)
    assert fr1.sl_achieved == (4 if counts else 1)
    (ctl,) = report.controls
    assert ctl.validity is validity and ctl.used_by == (("cell", "SR 1.1 RE 1"),)
    if counts:
        assert report.expired_compensations == ()
        assert any(st.met and st.compensating_control == "CC-01" for st in report.target("cell").states)
    else:
        (e,) = report.expired_compensations
        assert (e.target, e.requirement, e.control, e.validity) == ("cell", "SR 1.1 RE 1", "CC-01", validity)
        assert e.since == (dt.date(2027, 1, 10) if validity is ControlValidity.EXPIRED else None)


def test_pending_control_and_missed_review_are_reported() -> None:
    d = doc(
        with_status("SR 1.1 RE 1", "compensated", compensating_control="CC-01"),
        compensating_controls=[control(approver=None, approved=None), control(id="CC-02", review="2026-05-01")],
    )
    report = analyse(d, CATALOG, TODAY)
    assert report.target("cell").sl_achieved["FR1"] == 1
    pending, other = report.controls
    assert pending.validity is ControlValidity.PENDING and "waiting for approval" in pending.reason
    assert other.review_overdue and "review was due on 2026-05-01" in other.reason and other.used_by == ()


def test_control_that_does_not_cover_the_pair_does_not_count() -> None:
    d = doc(
        with_status("SR 1.2", "compensated", compensating_control="CC-01"),
        compensating_controls=[control()],
    )
    fr1 = analyse(d, CATALOG, TODAY).target("cell").fr(FR.FR1)
    assert fr1.sl_achieved == 1 and "does not cover SR 1.2" in fr1.missing_next[0].reason


def test_capability_limit_names_the_weakest_asset() -> None:
    report = analyse(doc(ALL_IMPLEMENTED), CATALOG, TODAY)
    cell = report.target("cell")
    assert isinstance(cell.sl_capability, SLCapability)
    assert cell.sl_capability.as_tuple() == (1, 2, 1, 1, 2, 1, 1)
    fr1 = cell.fr(FR.FR1)
    assert fr1.sl_capability == 1 and fr1.limiting_assets == ("hmi-07",)
    assert fr1.capability_blocks_target  # SL-T 2, but the HMI can only do 1
    assert not cell.fr(FR.FR2).capability_blocks_target
    assert cell.unknown_capability == ("plc-02",)
    assert report.target("dmz").sl_capability is None
    assert report.target("c1").sl_capability is None


def test_capability_declaration_overrides_the_asset_field() -> None:
    d = doc(
        ALL_IMPLEMENTED,
        capabilities=[
            {"asset": "hmi-07", "capability": 3, "source": "certified"},
            {"asset": "plc-02", "capability": 2, "source": "vendor-stated"},
        ],
    )
    cell = analyse(d, CATALOG, TODAY).target("cell")
    assert cell.sl_capability == SLCapability.uniform(2)
    assert cell.fr(FR.FR1).limiting_assets == ("plc-02",)
    assert cell.unknown_capability == ()


def test_active_exception_is_shown_but_does_not_raise_the_level() -> None:
    exc = {
        "id": "EX-01",
        "title": "Shared operator login",
        "requirements": ["SR 1.1 RE 1"],
        "assets": ["hmi-07"],
        "justification": "The HMI runtime supports one account only.",
        "residual_risk": "medium",
        "owner": "ot-lead",
        "approver": "ciso",
        "approved": "2026-02-01",
        "expires": "2026-12-31",
    }
    d = doc(with_status("SR 1.1 RE 1", "not-implemented"), exceptions=[exc, {**exc, "id": "EX-00", "expires": "2026-03-01"}])
    report = analyse(d, CATALOG, TODAY)
    cell = report.target("cell")
    assert cell.fr(FR.FR1).sl_achieved == 1
    assert cell.fr(FR.FR1).missing_next[0].exception == "EX-01"
    assert cell.exceptions == ("EX-01",)
    assert [(e.exception, e.active) for e in report.exceptions] == [("EX-00", False), ("EX-01", True)]
    assert "expired on 2026-03-01" in report.exceptions[0].reason


def test_undecided_items_are_results() -> None:
    d = doc(ALL_IMPLEMENTED + [s("SR 1.1", "partial"), s("SR 1.1", "implemented", target="ghost")])
    report = analyse(d, CATALOG, TODAY, zones=["cell", "dmz", "nope"])
    assert [t.target for t in report.targets] == ["cell", "dmz"]
    reasons = {(u.subject, u.reason) for u in report.undecided}
    assert ("dmz", "zone has no SL-T, so its gap cannot be computed") in reasons
    assert ("nope", "no such zone or conduit in the site") in reasons
    assert ("ghost", "status for an unknown zone or conduit") in reasons
    assert ("cell", "second status for SR 1.1 ignored (the first one counts)") in reasons
    assert report.target("dmz").fr(FR.FR1).gap is None


def test_explain_tells_why() -> None:
    d = doc(
        with_status("SR 1.1 RE 1", "not-implemented")
        + [s("SR 1.2", "compensated", target="c1", compensating_control="CC-02")],
        compensating_controls=[control(id="CC-02", covers=["SR 1.2"], zones=[], conduits=["c1"], expires="2026-05-01", approved="2026-01-01")],
    )
    report = analyse(d, CATALOG, TODAY)
    text = "\n".join(explain(report, "cell", "FR1"))
    assert "SL-A on FR1 is 1 because SR 1.1 RE 1 (required from SL 2) is not implemented." in text
    assert "The zone cannot reach SL 2 on FR1 while asset hmi-07 (SL-C 1) is in it." in text
    assert "Gap to the target: 1 level; 1 requirement up to SL 2 still to meet: SR 1.1 RE 1." in text
    assert "1 asset states no SL-C (plc-02); the limit rests on the others." in text
    conduit = "\n".join(explain(report, "c1", FR.FR1))
    assert "SR 1.2 relies on compensating control CC-02, which expired on 2026-05-01, so it does not count." in conduit
    assert "SL-A on FR1 is 0 because SR 1.1 (required from SL 1) is without a recorded status" in conduit
    full = explain(report, "cell", "FR2")
    assert "SL-A on FR2 is 4: every FR2 requirement up to SL 4 is met." in full
    assert "The target SL 2 is met on FR2." in full
    with pytest.raises(KeyError, match="no zone or conduit 'x'"):
        explain(report, "x", "FR1")


def test_explain_says_no_others_when_no_asset_states_a_capability() -> None:
    # Issue 17.6: "the limit rests on the others" appeared when there were no others.
    d = doc([], assets=[
        {"id": "plc-02", "name": "PLC 2", "type": "plc", "zone": "cell"},
        {"id": "plc-03", "name": "PLC 3", "type": "plc", "zone": "cell"},
    ])
    text = "\n".join(explain(analyse(d, CATALOG, TODAY), "cell", "FR1"))
    assert "No asset in the zone states an SL-C, so its capability limit is unknown." in text
    assert "2 assets state no SL-C (plc-02, plc-03)." in text
    assert "rests on the others" not in text


def test_results_are_sorted_and_repeatable() -> None:
    d = doc(list(reversed(with_status("SR 1.1", "partial"))) + [s("SR 2.1", "not-implemented", target="dmz")])
    a = analyse(d, CATALOG, TODAY)
    b = analyse(d, CATALOG, TODAY)
    assert a == b
    assert [t.target for t in a.targets] == ["cell", "dmz", "c1"]
    fr1 = a.target("cell").fr(FR.FR1)
    assert fr1.sl_achieved == 0
    # Ordered by level then id: what to fix first comes first.
    assert [m.requirement for m in fr1.missing_for_target] == ["SR 1.1"]


# --- ISO/IEC 27001 view --------------------------------------------------------------------


@dataclass(frozen=True)
class Annex:
    id: str
    title: str
    theme: str


@dataclass(frozen=True)
class Pair:
    requirement: str
    control: str
    relation: str


def test_annex_a_coverage() -> None:
    controls = [
        Annex("A.8.5", "Secure authentication", "Technological"),
        Annex("A.5.1", "Policies for information security", "Organizational"),
        Annex("A.8.22", "Segregation of networks", "Technological"),
        Annex("A.8.2", "Privileged access rights", "Technological"),
    ]
    mapping = [
        Pair("SR 1.1", "A.8.5", "subset"),
        Pair("SR 1.1 RE 1", "A.8.5", "intersects"),
        Pair("SR 5.1", "A.8.22", "equal"),
        Pair("SR 2.1", "A.8.2", "intersects"),
    ]
    d = doc(
        [
            s("SR 1.1", "implemented"),
            s("SR 1.1 RE 1", "not-implemented"),
            s("SR 1.1", "implemented", target="dmz"),
            s("SR 5.1", "compensated", compensating_control="CC-01"),
            s("SR 2.1", "not-applicable", justification="No users on this conduit.", target="c1"),
        ],
        compensating_controls=[control(covers=["SR 5.1"], expires="2026-05-01")],
    )
    cov = {c.control: c for c in annex_a_coverage(d, controls, mapping, TODAY)}
    assert list(cov) == ["A.5.1", "A.8.2", "A.8.5", "A.8.22"]  # numeric order, not text order
    assert cov["A.5.1"].coverage is Coverage.UNMAPPED
    a85 = cov["A.8.5"]
    assert a85.coverage is Coverage.PARTIAL and (a85.met, a85.recorded) == (2, 3)
    assert a85.supporting == ("SR 1.1",)
    assert a85.requirements == (("SR 1.1", "subset"), ("SR 1.1 RE 1", "intersects"))
    # The only support of A.8.22 is a compensation that expired: no support left.
    assert cov["A.8.22"].coverage is Coverage.NONE
    # Not-applicable pairs are not counted either way: nothing left to judge A.8.2 by.
    assert (cov["A.8.2"].met, cov["A.8.2"].recorded, cov["A.8.2"].coverage) == (0, 0, Coverage.NOT_ASSESSED)
    later = {c.control: c for c in annex_a_coverage(d, controls, mapping, dt.date(2026, 2, 1))}
    assert later["A.8.22"].coverage is Coverage.FULL


# --- SL-A against its definition ----------------------------------------------------------

STATUSES = ["implemented", "partial", "planned", "not-implemented", "not-applicable", "compensated", None]


def brute_force_sl_a(statuses: dict[str, str | None], fr: FR) -> int:
    """The definition read literally: try each level and check every requirement it needs. An RE
    without a status carries its SR's not-applicable."""
    statuses = {
        rid: ("not-applicable" if st is None and " RE " in rid and statuses.get(rid.split(" RE ")[0]) == "not-applicable"
              else st)
        for rid, st in statuses.items()
    }
    best = 0
    for level in (1, 2, 3, 4):
        needed = [r for r in CATALOG if r.fr is fr and r.min_sl <= level]
        if all(statuses.get(r.id) in ("implemented", "not-applicable", "compensated") for r in needed):
            best = level
        else:
            break
    return best


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(STATUSES), min_size=len(CATALOG), max_size=len(CATALOG)))
def test_sl_a_matches_its_definition(choice: list[str | None]) -> None:
    statuses = dict(zip((r.id for r in CATALOG), choice, strict=True))
    rows = []
    for rid, status in statuses.items():
        if status is None:
            continue
        extra: dict[str, Any] = {}
        if status == "not-applicable":
            extra["justification"] = "Not used in this cell."
        elif status == "compensated":
            extra["compensating_control"] = "CC-ALL"
        elif status == "planned":
            extra["target_date"] = "2027-01-01"
        rows.append(s(rid, status, **extra))
    cc = control(id="CC-ALL", covers=[r.id for r in CATALOG])
    report = analyse(doc(rows, compensating_controls=[cc]), CATALOG, TODAY)
    for fr in FR:
        assert report.target("cell").sl_achieved[fr] == brute_force_sl_a(statuses, fr)


# --- with the packaged catalog -----------------------------------------------------------------


def test_packaged_catalog_levels() -> None:
    from zonewarden.catalog.loader import load_62443_3_3, load_iso27001, load_mapping

    catalog = load_62443_3_3()
    everything = [s(r.id, "implemented") for r in catalog]
    # SR 3.4 moved to SL 2 with the 2014 corrigendum: without it FR3 stops at 1, not 0.
    rows = [x for x in everything if x["requirement"] != "SR 3.4"] + [s("SR 3.4", "planned", target_date="2026-12-01")]
    report = analyse(doc(rows), catalog, TODAY)
    cell = report.target("cell")
    assert cell.sl_achieved.as_tuple() == (4, 4, 1, 4, 4, 4, 4)
    assert [m.requirement for m in cell.fr("FR3").missing_next] == ["SR 3.4"]
    # With nothing recorded, every FR is at 0 (each FR has an SL 1 requirement).
    assert analyse(doc([]), catalog, TODAY).target("cell").sl_achieved == SLAchieved.uniform(0)
    cov = annex_a_coverage(doc(everything), load_iso27001(), load_mapping(), TODAY)
    assert len(cov) == 93
    assert {c.coverage for c in cov} <= {Coverage.FULL, Coverage.UNMAPPED}
    assert any(c.coverage is Coverage.FULL for c in cov)
