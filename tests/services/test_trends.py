"""Trends over time (services/queries/trends.py): hand-made histories whose monthly figures are
worked out by hand, then the same figures read back from stored findings and decisions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from zonewarden.errors import NotFoundError
from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services.principal import Principal, local_principal
from zonewarden.services.queries import trends
from zonewarden.services.queries.trends import FindingHistory, monthly
from zonewarden.services.sites import import_documents
from zonewarden.store.advisory_tables import findings, triage_decisions
from zonewarden.store.db import open_store
from zonewarden.store.tables import audit_events

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)


def t(month: int, day: int, year: int = 2026, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def _by_month(rows: tuple[trends.MonthTrend, ...]) -> dict[str, trends.MonthTrend]:
    return {m.month: m for m in rows}


def test_the_twelve_months_end_with_the_current_one_across_a_year_boundary():
    assert trends.month_keys(t(2, 10, 2027)) == [
        "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
        "2026-12", "2027-01", "2027-02",
    ]


def test_monthly_figures_of_hand_made_histories():
    histories = [
        # seen 1 Oct, decided after 4 days, remediated after 10, deadline 31 Oct: on time (Oct)
        FindingHistory("s", t(10, 1), t(10, 5), t(10, 11), t(10, 31)),
        # seen 10 Oct, decided after 2 days, remediated 19 Nov (40 days) past its 9 Nov deadline:
        # late, counted when the deadline passed (Nov); remediated in Nov
        FindingHistory("s", t(10, 10), t(10, 12), t(11, 19), t(11, 9)),
        # never decided, deadline 8 Nov passed: late (Nov)
        FindingHistory("s", t(11, 1), None, None, t(11, 8)),
        # open, deadline still ahead: not counted yet
        FindingHistory("s", t(11, 20), None, None, t(1, 1, 2027)),
        # decided in 2025: outside the window
        FindingHistory("s", t(6, 1, 2025), t(7, 1, 2025), None, None),
        # no policy (no priority): decided after 2 days in Dec, remediation counted, policy not
        FindingHistory("s", t(11, 29), t(12, 1), t(12, 2), None),
        # decided after `now`: not seen yet
        FindingHistory("s", t(12, 1), t(12, 5), None, None),
    ]
    rows = monthly(histories, now=NOW)
    assert len(rows) == 12 and rows[0].month == "2026-01" and rows[-1].month == "2026-12"
    m = _by_month(rows)
    oct_, nov, dec = m["2026-10"], m["2026-11"], m["2026-12"]
    assert (oct_.triaged, oct_.mean_days_to_triage) == (2, 3.0)
    assert (oct_.remediated, oct_.mean_days_to_remediate) == (1, 10.0)
    assert (oct_.policy_counted, oct_.within_policy, oct_.pct_within_policy) == (1, 1, 100.0)
    assert (nov.triaged, nov.mean_days_to_triage) == (0, None)
    assert (nov.remediated, nov.mean_days_to_remediate) == (1, 40.0)
    assert (nov.policy_counted, nov.within_policy, nov.pct_within_policy) == (2, 0, 0.0)
    assert (dec.triaged, dec.mean_days_to_triage) == (1, 2.0)
    assert (dec.remediated, dec.mean_days_to_remediate) == (1, 3.0)
    assert dec.policy_counted == 0 and dec.pct_within_policy is None
    quiet = m["2026-05"]
    assert (quiet.triaged, quiet.remediated, quiet.policy_counted) == (0, 0, 0)
    assert quiet.mean_days_to_triage is None and quiet.mean_days_to_remediate is None


def test_one_on_time_in_three_is_a_third_and_means_keep_hours():
    histories = [
        FindingHistory("s", t(9, 1), t(9, 1, hour=12), t(9, 2), t(9, 30)),   # 0.5 d, 1 d, on time
        FindingHistory("s", t(9, 1), t(9, 2), None, t(9, 15)),                # 1 d, late
        FindingHistory("s", t(9, 1), t(9, 3), t(9, 20), t(9, 10)),            # 2 d, 19 d, late
    ]
    sep = _by_month(monthly(histories, now=NOW))["2026-09"]
    assert sep.triaged == 3 and sep.mean_days_to_triage == pytest.approx(3.5 / 3, abs=0.05)
    assert sep.remediated == 2 and sep.mean_days_to_remediate == 10.0
    assert (sep.policy_counted, sep.within_policy, sep.pct_within_policy) == (3, 1, 33.3)


def test_the_closing_states_are_those_signed_as_closing_a_finding():
    assert set(trends.CLOSING_TRIAGE) == {s for s, op in svc.TRIAGE_OPERATION.items() if op == "finding.close"}


# --- read from the store ---------------------------------------------------------------------


@pytest.fixture
def plant(tmp_path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'z.db'}")
    import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], reason="test", principal=local_principal())
    svc.ingest_bytes(store, svc.read_items(svc.iter_paths([ROOT / "examples" / "advisories"])), strict=True,
                     principal=local_principal())
    return store


def _id(store, advisory: str, asset: str) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(findings.c.id).where(findings.c.tracking_id == advisory,
                                                            findings.c.asset_id == asset)).scalar_one())


def _history(store, fid: int, seen: dt.datetime, decisions: list[tuple[dt.datetime, str, bool]], now_status: str,
             *, updated: dt.datetime | None = None, status: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Give finding ``fid`` a hand-made history: first seen, decisions (at, to, automatic)."""
    with store.transaction() as conn:
        values = {"created_at": seen, "updated_at": updated or seen, "triage_status": now_status}
        if status:
            values["status"] = status
        conn.execute(update(findings).where(findings.c.id == fid).values(**values))
        previous = "new"
        for at, to, automatic in decisions:
            conn.execute(triage_decisions.insert().values(
                finding_id=fid, at=at, actor="system" if automatic else "alice", from_status=previous, to_status=to,
                why="hand-made history", owner=None, expires=None, controls=[], automatic=automatic))
            previous = to


def test_stored_findings_and_decisions_give_the_hand_computed_figures(plant):
    store = plant
    # pack-ewon: tier 1 on the plant's own policy (immediate: 2 days); dmz-sw-1: tier 2 default
    # (scheduled: 90 days); comp-plc-p1: tier 3 default (scheduled: 180 days).
    ewon = _id(store, "ZW-EXAMPLE-2026-006", "pack-ewon")
    dmz = _id(store, "ZW-EXAMPLE-2026-001", "dmz-sw-1")
    plc = _id(store, "ZW-EXAMPLE-2026-002", "comp-plc-p1")
    # seen 1 Nov; decided 2 Nov (1 day); resolved 4 Nov (3 days) past the 3 Nov deadline: late (Nov)
    _history(store, ewon, t(11, 1), [(t(11, 2), "under-assessment", False), (t(11, 4), "resolved", False)], "resolved")
    # seen 1 Sep; an automatic reopen first (not a decision), a person decides 11 Sep (10 days),
    # mitigated 21 Sep (20 days), deadline 30 Nov: on time (Sep)
    _history(store, dmz, t(9, 1), [(t(9, 5), "under-assessment", True), (t(9, 11), "under-assessment", False),
                                   (t(9, 21), "mitigated", False)], "mitigated")
    # seen 1 Oct; resolved 3 Oct, then reopened 5 Oct and still open: decided (2 days), not remediated
    _history(store, plc, t(10, 1), [(t(10, 3), "resolved", False), (t(10, 5), "under-assessment", False)],
             "under-assessment")
    # lab-sw-1: fixed by the matcher from the start: never affected, not remediated
    with store.read() as conn:
        audit_before = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()

    site = trends.site_trends(store, principal=local_principal(), site_id="rheinfeld-os", now=NOW)
    m = _by_month(site.months)
    assert site.site_id == "rheinfeld-os" and site.name
    assert (m["2026-09"].triaged, m["2026-09"].mean_days_to_triage) == (1, 10.0)
    assert (m["2026-09"].remediated, m["2026-09"].mean_days_to_remediate) == (1, 20.0)
    assert (m["2026-09"].policy_counted, m["2026-09"].within_policy) == (1, 1)
    assert (m["2026-10"].triaged, m["2026-10"].mean_days_to_triage, m["2026-10"].remediated) == (1, 2.0, 0)
    assert (m["2026-11"].triaged, m["2026-11"].mean_days_to_triage) == (1, 1.0)
    assert (m["2026-11"].remediated, m["2026-11"].mean_days_to_remediate) == (1, 3.0)
    assert (m["2026-11"].policy_counted, m["2026-11"].within_policy, m["2026-11"].pct_within_policy) == (1, 0, 0.0)

    folio = trends.portfolio_trends(store, principal=local_principal(), now=NOW)
    assert [s.site_id for s in folio.sites] == ["rheinfeld-os"]
    assert folio.total.months == site.months and folio.total.site_id is None
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == audit_before


def test_a_finding_fixed_later_is_remediated_when_the_matcher_changed_it(plant):
    store = plant
    fid = _id(store, "ZW-EXAMPLE-2026-001", "lab-sw-1")
    _history(store, fid, t(8, 1), [], "new", updated=t(8, 31), status="fixed")
    m = _by_month(trends.site_trends(store, principal=local_principal(), site_id="rheinfeld-os", now=NOW).months)
    assert (m["2026-08"].remediated, m["2026-08"].mean_days_to_remediate) == (1, 30.0)
    assert m["2026-08"].policy_counted == 0  # a fixed finding carries no priority any more


def test_a_site_without_a_role_is_unknown_and_the_portfolio_leaves_it_out(plant):
    stranger = Principal(user_id="mallory", method="password", client="web", roles={})
    with pytest.raises(NotFoundError):
        trends.site_trends(plant, principal=stranger, site_id="rheinfeld-os", now=NOW)
    folio = trends.portfolio_trends(plant, principal=stranger, now=NOW)
    assert folio.sites == () and all(x.triaged == 0 for x in folio.total.months)
