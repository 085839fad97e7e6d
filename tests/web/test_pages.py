"""Each page's main job through the TestClient, and the API's policy on pages: a viewer cannot
record a status (403), a site without a role is 404 and says nothing about the plant."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

ORIGIN = "http://testserver"
SITE = "rheinfeld-os"


def test_dashboard_shows_the_sites_the_user_may_see(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    r = web.get("/")
    assert r.status_code == 200 and "Rheinfeld Oral Solids" in r.text
    assert "Zones below SL-T" in r.text and "<svg" in r.text and "Patch compliance" in r.text
    web.cookies.clear()
    login(web, "sam")
    r = web.get("/")
    assert "Rheinfeld" not in r.text and "no role on any site" in r.text


def test_an_invisible_site_is_404_and_leaks_nothing(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "sam")
    for path in (f"/sites/{SITE}", f"/sites/{SITE}/zones/coat", f"/sites/{SITE}/conduits/c-ent-ext"):
        r = web.get(path)
        assert r.status_code == 404, path
        assert "Coating" not in r.text and "coat-plc" not in r.text


def test_site_page_links_every_zone_in_the_diagram(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    r = web.get(f"/sites/{SITE}")
    assert r.status_code == 200
    assert f'href="/sites/{SITE}/zones/coat"' in r.text and 'aria-label="zone coat"' in r.text
    assert " style=" not in r.text  # the CSP allows no inline styles, the diagram included
    assert "Segmentation check" in r.text


def _status_form(html: str, requirement: str) -> dict[str, str]:
    row = html[html.index(f'data-requirement="{requirement}"'):]
    row = row[:row.index("</tr>")]
    return {"revision": re.search(r'name="revision" value="([^"]+)"', row).group(1),  # type: ignore[union-attr]
            "requirement": requirement, "csrf": re.search(r'name="csrf" value="([^"]+)"', row).group(1)}  # type: ignore[union-attr]


def test_engineer_records_a_status_with_htmx_and_the_gap_changes(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "eve")
    page = web.get(f"/sites/{SITE}/zones/ops")
    assert page.status_code == 200 and "Requirement matrix" in page.text
    form = _status_form(page.text, "SR 2.8")
    url = f"/sites/{SITE}/zones/ops/requirements"
    bad = web.post(url, data={**form, "status": "planned"}, headers={"Origin": ORIGIN, "HX-Request": "true"})
    assert bad.status_code == 422 and "target_date" in bad.text  # says what to fix
    r = web.post(url, data={**form, "status": "implemented"}, headers={"Origin": ORIGIN, "HX-Request": "true"})
    assert r.status_code == 200 and 'id="zone-gap"' in r.text and "SR 2.8: implemented recorded" in r.text
    assert "<html" not in r.text  # a fragment for htmx
    stale = web.post(url, data={**form, "status": "partial"}, headers={"Origin": ORIGIN, "HX-Request": "true"})
    assert stale.status_code == 412 and "reload" in stale.text  # the revision moved on: nothing overwritten


def test_a_viewer_cannot_record_a_status(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    token = login(web, "vic")
    page = web.get(f"/sites/{SITE}/zones/ops")
    assert "Record a status" not in page.text  # no form offered
    revision = re.search(r"revision <code>", web.get(f"/sites/{SITE}").text)
    assert revision
    r = web.post(f"/sites/{SITE}/zones/ops/requirements",
                 data={"requirement": "SR 2.8", "status": "implemented", "revision": "x", "csrf": token},
                 headers={"Origin": ORIGIN})
    assert r.status_code == 403 and "needs one of the roles" in r.text
