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
    assert 'class="bar"' not in empty and "latest " not in empty and "no data in these months" in empty


def test_a_percentage_chart_scales_to_100() -> None:
    svg = str(charts.columns("policy", [("2026-01", 50.0)], unit=" %", peak=100.0, height=120))
    height = int(re.search(r'<rect class="bar"[^>]* height="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    assert height == round((120 - 16 - 16) * 0.5)


def test_a_provider_past_its_interval_shows_as_stale_and_a_fresh_one_does_not(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.store.sync_tables import csaf_sync_sources

    now = dt.datetime.now(dt.UTC)
    with web.store.transaction() as conn:  # type: ignore[attr-defined]
        conn.execute(csaf_sync_sources.insert(), [
            {"url": "https://old.example/<b>feed</b>", "kind": "rolie", "last_sync_at": now - dt.timedelta(hours=30),
             "last_report": {}},
            {"url": "https://fresh.example/", "kind": "rolie", "last_sync_at": now - dt.timedelta(hours=2),
             "last_report": {}},
        ])
    login(web, "vic")
    html = web.get("/").text
    assert "1 advisory feed not synced on time" in html
    assert "https://old.example/&lt;b&gt;feed&lt;/b&gt;" in html and "<b>feed" not in html
    assert "fresh.example" not in html
    # the default daily interval: 30 h since the last sync is 6 h overdue (give or take the test's minute)
    assert re.search(r'<td>1 day</td><td class="bad">(6 h 0 min|5 h 59 min)</td>', html), html


def test_no_stale_section_when_every_feed_is_fresh(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    assert "not synced on time" not in web.get("/").text


def test_the_dashboard_counts_unassessable_assets_per_site(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import sites
    from zonewarden.services.principal import local_principal

    from .conftest import EXAMPLE

    doc = load_site(EXAMPLE)
    # two assets of a vendor the example advisories name, with neither product nor model: gaps
    vendor_only = {a.id for a in doc.assets if a.vendor and "siemens" in a.vendor.lower()}
    assert vendor_only, "the example plant has Siemens assets"
    chosen = sorted(vendor_only)[:2]
    changed = doc.model_copy(update={"assets": tuple(
        a.model_copy(update={"product": None, "model_number": None, "cpe": None, "purl": None}) if a.id in chosen else a
        for a in doc.assets)})
    sites.import_documents(web.store, [changed], principal=local_principal(name="setup"), force=True)  # type: ignore[attr-defined]
    login(web, "vic")
    html = web.get("/").text
    found = re.search(r"<dt>Unassessable assets</dt><dd[^>]*>(\d+) <span class=\"muted\">\((\d+) of a vendor", html)
    assert found and found.group(1) == "2", html
