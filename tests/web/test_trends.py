"""The dashboard's trends: charts with an accessible name and the same figures as a table, for
the portfolio and each site; the column chart escapes every text."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from zonewarden.store.advisory_tables import findings, triage_decisions
from zonewarden.web import charts


def test_a_stored_decision_shows_in_the_dashboard_trends(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    store = web.store  # type: ignore[attr-defined]
    now = dt.datetime.now(dt.UTC)
    seen, decided = now - dt.timedelta(days=40), now - dt.timedelta(days=30)
    with store.transaction() as conn:
        fid = conn.execute(select(findings.c.id).where(findings.c.asset_id == "dmz-sw-1")).scalar_one()
        conn.execute(update(findings).where(findings.c.id == fid).values(created_at=seen, updated_at=seen,
                                                                       triage_status="under-assessment"))
        conn.execute(triage_decisions.insert().values(
            finding_id=fid, at=decided, actor="eve", from_status="new", to_status="under-assessment",
            why="looking at it now", owner=None, expires=None, controls=[], automatic=False))
    login(web, "vic")
    html = web.get("/").text
    assert 'aria-label="Mean days to triage per month, Portfolio"' in html
    assert 'aria-label="Mean days to remediate per month, Rheinfeld Oral Solids' in html
    assert "Findings within the patch policy per month" in html
    month = f"{decided.year:04d}-{decided.month:02d}"
    rows = re.findall(rf'<tr><th scope="row">{month}</th><td>(\d+)</td><td>([^<]+)</td>', html)
    # the portfolio table and the site's table: one finding triaged after 10 days
    assert rows == [("1", "10.0"), ("1", "10.0")], rows
    assert f"<title>{month}: 10 d</title>" in html


def test_trends_need_no_findings(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "sam")  # no role: no sites, no trends section
    assert "Trends, all your sites" not in web.get("/").text


def test_the_column_chart_escapes_its_texts_and_skips_months_without_data() -> None:
    svg = str(charts.columns('<script>alert(1)</script>"', [("2026-01", None), ("<img src=x>", 5.0)], unit=" d"))
    assert "<script>" not in svg and "<img" not in svg
    assert 'aria-label="&lt;script&gt;alert(1)&lt;/script&gt;&#34;"' in svg
    assert svg.count('class="bar"') == 1 and "latest 5 d" in svg
    empty = str(charts.columns("nothing", [("2026-01", None), ("2026-02", None)]))
    assert 'class="bar"' not in empty and "latest" not in empty


def test_a_percentage_chart_scales_to_100() -> None:
    svg = str(charts.columns("policy", [("2026-01", 50.0)], unit=" %", peak=100.0, height=120))
    height = int(re.search(r'<rect class="bar"[^>]* height="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    assert height == round((120 - 16 - 16) * 0.5)
