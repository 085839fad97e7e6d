"""A ``not-applicable`` SR carries to its REs in the gap, unless an RE has a status of its own."""

from __future__ import annotations

from zonewarden.domain.levels import FR
from zonewarden.domain.requirements import Status
from zonewarden.engines.gap import analyse, explain

from .test_gap import ALL_IMPLEMENTED, CATALOG, TODAY, doc, s

WHY = "Nobody logs on in this cell: it has no human interface at all."
WITHOUT_SR_1_1 = [x for x in ALL_IMPLEMENTED if not x["requirement"].startswith("SR 1.1")]


def test_the_res_of_a_not_applicable_sr_without_statuses_are_not_applicable_too() -> None:
    report = analyse(doc([*WITHOUT_SR_1_1, s("SR 1.1", "not-applicable", justification=WHY)]), CATALOG, TODAY)
    cell = report.target("cell")
    assert cell.sl_achieved["FR1"] == 4  # without inheritance RE 1 (SL 2) would leave FR1 at 1
    states = {st.requirement: st for st in cell.states}
    for re in ("SR 1.1 RE 1", "SR 1.1 RE 2", "SR 1.1 RE 3"):
        assert states[re].status is Status.NOT_APPLICABLE and states[re].met
        assert states[re].inherited_from == "SR 1.1" and "from SR 1.1" in states[re].reason
    assert states["SR 1.1"].inherited_from is None
    assert any("from SR 1.1" in line for line in explain(report, "cell", FR.FR1)) or cell.fr(FR.FR1).gap == 0


def test_an_re_with_its_own_status_keeps_it() -> None:
    rows = [*WITHOUT_SR_1_1, s("SR 1.1", "not-applicable", justification=WHY), s("SR 1.1 RE 1", "not-implemented")]
    cell = analyse(doc(rows), CATALOG, TODAY).target("cell")
    fr1 = cell.fr(FR.FR1)
    assert fr1.sl_achieved == 1 and [m.requirement for m in fr1.missing_next] == ["SR 1.1 RE 1"]
    assert fr1.missing_next[0].status is Status.NOT_IMPLEMENTED and fr1.missing_next[0].inherited_from is None
    states = {st.requirement: st for st in cell.states}
    assert states["SR 1.1 RE 2"].inherited_from == "SR 1.1"  # the REs without one still carry it


def test_an_unjustified_not_applicable_sr_carries_as_unmet() -> None:
    cell = analyse(doc([*WITHOUT_SR_1_1, s("SR 1.1", "not-applicable")]), CATALOG, TODAY).target("cell")
    assert cell.sl_achieved["FR1"] == 0
    re1 = next(st for st in cell.states if st.requirement == "SR 1.1 RE 1")
    assert not re1.met and "without a justification" in re1.reason and re1.inherited_from == "SR 1.1"


def test_other_statuses_of_the_sr_do_not_carry() -> None:
    cell = analyse(doc([*WITHOUT_SR_1_1, s("SR 1.1", "implemented")]), CATALOG, TODAY).target("cell")
    re1 = next(st for st in cell.states if st.requirement == "SR 1.1 RE 1")
    assert re1.status is None and not re1.met and re1.inherited_from is None
