"""Advisory pages, the per-asset view, bulk triage and risk register edits (TestClient)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import ADVISORIES, ORIGIN, PW, SITE

from zonewarden.services import advisories
from zonewarden.services.principal import local_principal

ADV = "ZW-EXAMPLE-2026-001"


def _evil_advisory(web: TestClient, tmp_path: Path) -> str:
    """An advisory whose texts and URLs are hostile (it matches the same switches as 001)."""
    doc = json.loads((ADVISORIES / "zw-example-2026-001.json").read_text())
    doc["document"]["tracking"]["id"] = "ZW-EVIL-1"
    doc["document"]["title"] = "Evil <script>alert(1)</script>"
    doc["document"]["references"] = [
        {"category": "external", "summary": "<img src=x onerror=alert(1)>", "url": "javascript:alert(1)"},
        {"category": "external", "summary": "CISA ICS advisory", "url": "https://www.cisa.gov/news-events/ics-advisories/x"},
    ]
    vuln = doc["vulnerabilities"][0]
    vuln["remediations"][0]["url"] = "javascript:alert(2)"
    vuln["remediations"][0]["details"] = "Update to V4.5 <svg onload=alert(3)>"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    report = advisories.ingest_bytes(web.store, [(str(path), path.read_bytes())],  # type: ignore[attr-defined]
                                     principal=local_principal(name="test"))
    assert report.count("rejected") == 0, report.rejected
    return "ZW-EVIL-1"


def test_advisory_page_shows_products_cves_remediations_and_links(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    r = web.get(f"/advisories/{ADV}")
    assert r.status_code == 200, r.text
    text = r.text
    assert "CVSS 3.1" in text and "7.5" in text and "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" in text
    assert "CWE-20" in text and "vendor fix" in text and "Update to V4.5 or later" in text and "mitigation" in text
    assert f'href="/sites/{SITE}/assets/dmz-sw-1"' in text  # the asset it matched, linked
    assert re.search(r'href="/findings/\d+"', text)
    assert 'href="https://github.com/zonewarden/zonewarden/blob/main/examples/advisories/zw-example-2026-001.json"' in text
    assert "KEV" in text and "SSVC priority" in text


def test_advisory_list_searches_and_links(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    r = web.get("/advisories")
    assert r.status_code == 200 and "6 advisories" in r.text and f'href="/advisories/{ADV}"' in r.text
    r = web.get("/advisories", params={"q": "scalance"})  # a product vendor/name inside the document
    assert r.status_code == 200 and f"/advisories/{ADV}" in r.text
    assert web.get("/advisories", params={"q": "no such thing at all"}).text.count('href="/advisories/ZW') == 0
    r = web.get("/advisories", params={"q": "100%_"})  # LIKE wildcards are text
    assert r.status_code == 200 and "0 advisories" in r.text
    assert web.get("/advisories/NOT-THERE").status_code == 404
    queue = web.get("/findings").text
    assert 'href="/advisories/ZW-EXAMPLE' in queue and f'href="/sites/{SITE}/assets/' in queue
    fid = re.search(r'href="/findings/(\d+)"', queue).group(1)  # type: ignore[union-attr]
    assert 'href="/advisories/ZW-EXAMPLE' in web.get(f"/findings/{fid}").text


def test_advisory_text_and_urls_are_escaped_and_only_http_links(web: TestClient, login, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ident = _evil_advisory(web, tmp_path)
    login(web, "vic")
    r = web.get(f"/advisories/{ident}")
    assert r.status_code == 200, r.text
    for raw in ("<script>alert(1)", "<img src=x", "<svg onload"):
        assert raw not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "&lt;svg onload=alert(3)&gt;" in r.text
    assert 'href="javascript:' not in r.text and "javascript:alert(1)" in r.text and "javascript:alert(2)" in r.text
    assert 'CISA: <a href="https://www.cisa.gov/news-events/ics-advisories/x"' in r.text
    assert "&lt;script&gt;" in web.get("/advisories").text


def test_an_outsider_sees_no_assets_of_the_site(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "sam")  # no role anywhere
    r = web.get(f"/advisories/{ADV}")
    assert r.status_code == 200 and "dmz-sw-1" not in r.text and "No asset you may see" in r.text
    assert web.get(f"/sites/{SITE}/assets/dmz-sw-1").status_code == 404


def test_asset_page_rolls_findings_up_by_fix(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    r = web.get(f"/sites/{SITE}/assets/comp-plc-p1")
    assert r.status_code == 200, r.text
    assert "1 advisory, 1 fixed by firmware 33.011" in r.text
    assert "Rockwell Automation" in r.text and "1756-L83E" in r.text and 'href="/sites/rheinfeld-os/zones/comp"' in r.text
    assert web.get(f"/sites/{SITE}/assets/no-such-asset").status_code == 404
    zone = web.get(f"/sites/{SITE}/zones/comp").text
    assert f'href="/sites/{SITE}/assets/comp-plc-p1"' in zone


def test_asset_roll_up_groups_by_fix_as_a_service(web: TestClient) -> None:
    from zonewarden.services.queries.asset_findings import NO_FIX, asset_findings

    view = asset_findings(web.store, SITE, "dmz-sw-1", principal=local_principal(name="t"))  # type: ignore[attr-defined]
    assert [g.fix for g in view.groups] == ["firmware 4.5"]
    assert view.groups[0].advisories == (ADV,) and view.summary() == "1 advisory, 1 fixed by firmware 4.5"
    assert view.as_dict()["groups"][0]["fix"] == "firmware 4.5"
    assert NO_FIX == "no vendor fix"


def _open_ids(web: TestClient, n: int) -> list[int]:
    rows = advisories.list_findings(web.store, principal=local_principal(name="t"), site_id=SITE,  # type: ignore[attr-defined]
                                    status="affected", triage="new")
    assert len(rows) >= n
    return [f.id for f in rows[:n]]


def _triage(web: TestClient, fid: int) -> str:
    return advisories.get_finding(web.store, fid, principal=local_principal(name="t")).triage_status  # type: ignore[attr-defined]


def test_bulk_triage_records_one_decision_per_finding(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    a, b, c = _open_ids(web, 3)
    token = login(web, "vic")
    assert 'action="/findings/bulk"' not in web.get("/findings").text  # no form for a viewer
    form = {"csrf": token, "status": "under-assessment", "why": "asking the vendor about all", "ids": [a, b]}
    assert web.post("/findings/bulk", data=form, headers={"Origin": ORIGIN}).status_code == 403
    assert _triage(web, a) == "new"
    web.cookies.clear()
    token = login(web, "eve")
    queue = web.get("/findings")
    assert 'action="/findings/bulk"' in queue.text and f'name="ids" value="{a}"' in queue.text
    assert web.post("/findings/bulk", data={**form, "csrf": "forged"}, headers={"Origin": ORIGIN}).status_code == 403
    r = web.post("/findings/bulk", data={**form, "csrf": token, "f_status": "affected"}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "decision recorded for 2 findings: under-assessment" in r.text, r.text
    assert (_triage(web, a), _triage(web, b), _triage(web, c)) == ("under-assessment", "under-assessment", "new")
    # All or nothing: c is still new and cannot be closed; a must not be closed either.
    web.cookies.clear()
    token = login(web, "quinn")
    close = {"csrf": token, "status": "not-affected", "why": "the web interface is disabled on these",
             "password": "quality signs here", "meaning": "approved as quality"}
    r = web.post("/findings/bulk", data={**close, "ids": [a, c]}, headers={"Origin": ORIGIN})
    assert r.status_code == 409 and "nothing recorded" in r.text and f"finding {c} is new" in r.text
    assert _triage(web, a) == "under-assessment"
    r = web.post("/findings/bulk", data={**close, "ids": [a, b], "password": "wrong password"}, headers={"Origin": ORIGIN})
    assert r.status_code == 401 and _triage(web, a) == "under-assessment"
    r = web.post("/findings/bulk", data={**close, "ids": [a, b]}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "decision recorded for 2 findings: not-affected" in r.text, r.text
    from zonewarden.services.signatures import list_signatures

    quinn = local_principal(name="t")
    signed = [s for s in list_signatures(web.store, quinn, SITE) if s.object_type == "finding"]  # type: ignore[attr-defined]
    assert sorted(s.object_id for s in signed) == sorted([str(a), str(b)])
    assert {s.signer for s in signed} == {"quinn"} and {s.meaning for s in signed} == {"approved as quality"}


def _risk_form(html: str) -> dict[str, str]:
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', html).group(1),  # type: ignore[union-attr]
            "revision": re.search(r'name="revision" value="([^"]+)"', html).group(1)}  # type: ignore[union-attr]


def _scenario(web: TestClient, risk_id: str) -> dict:  # type: ignore[type-arg]
    from zonewarden.services.sites import load_document

    doc = load_document(web.store, SITE)  # type: ignore[attr-defined]
    return next(r.model_dump(mode="json") for r in doc.risks if r.id == risk_id)


NEW_RISK = """id: R-WEB
title: Web-added <b>scenario</b>
threat: {actor: criminal, vector: it-network}
zone: ops
inherent: {likelihood: 2, impacts: {supply-disruption: 3}}
treatment: mitigate
owner: p-mbrandt
review_date: 2027-06-30
"""


def test_risk_register_edits_with_revision_and_adds_and_removes(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    page = web.get(f"/sites/{SITE}/risks")
    assert page.status_code == 200 and "SL-T proposals" in page.text and "capped to" in page.text  # rules shown
    assert f'action="/sites/{SITE}/risks/R-01/edit"' not in page.text
    form = {"csrf": re.search(r'name="csrf" value="([^"]+)"', page.text).group(1), "revision": "any"}  # type: ignore[union-attr]
    assert web.post(f"/sites/{SITE}/risks/R-01/edit", data={**form, "likelihood": "3"},
                    headers={"Origin": ORIGIN}).status_code == 403
    web.cookies.clear()
    login(web, "eve")
    page = web.get(f"/sites/{SITE}/risks")
    assert f'action="/sites/{SITE}/risks/R-01/edit"' in page.text and "Accept and sign" not in page.text
    form = _risk_form(page.text)
    r = web.post(f"/sites/{SITE}/risks/R-01/edit", headers={"Origin": ORIGIN}, data={
        **form, "likelihood": "5", "impacts": "supply-disruption=5, regulatory=4, product-quality=3",
        "treatment": "transfer", "review_date": "2027-04-30"})
    assert r.status_code == 200 and "risk R-01 saved" in r.text, r.text
    saved = _scenario(web, "R-01")
    assert saved["inherent"]["likelihood"] == 5 and saved["treatment"] == "transfer" and saved["review_date"] == "2027-04-30"
    # The same (now stale) form again: refused, nothing overwritten.
    r = web.post(f"/sites/{SITE}/risks/R-01/edit", data={**form, "likelihood": "1"}, headers={"Origin": ORIGIN})
    assert r.status_code == 412 and "Nothing was overwritten" in r.text
    assert _scenario(web, "R-01")["inherent"]["likelihood"] == 5
    form = _risk_form(r.text)
    r = web.post(f"/sites/{SITE}/risks/R-01/edit", data={**form, "impacts": "supply-disruption"}, headers={"Origin": ORIGIN})
    assert r.status_code == 422 and "CATEGORY=LEVEL" in r.text
    r = web.post(f"/sites/{SITE}/risks/add", data={**form, "record": NEW_RISK}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "risk added" in r.text and "Web-added &lt;b&gt;scenario&lt;/b&gt;" in r.text, r.text
    r = web.post(f"/sites/{SITE}/risks/add", data={**_risk_form(r.text), "record": "!!python/object:os.system {}"},
                 headers={"Origin": ORIGIN})
    assert r.status_code in (400, 422) and "risk added" not in r.text
    r = web.post(f"/sites/{SITE}/risks/R-WEB/remove", data=_risk_form(r.text), headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "risk R-WEB removed" in r.text and "Web-added" not in r.text


def test_risk_acceptance_is_signed_by_the_approver(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "eve")
    form = _risk_form(web.get(f"/sites/{SITE}/risks").text)
    accept = {"rationale": "residual risk is tolerable until the upgrade", "expires": "2099-01-31",
              "password": PW["eve"]}
    assert web.post(f"/sites/{SITE}/risks/R-01/accept", data={**form, **accept},
                    headers={"Origin": ORIGIN}).status_code == 403  # an engineer may not accept
    web.cookies.clear()
    login(web, "quinn")
    page = web.get(f"/sites/{SITE}/risks")
    assert "Accept and sign" in page.text
    form = _risk_form(page.text)
    r = web.post(f"/sites/{SITE}/risks/R-01/accept", data={**form, **accept, "password": "wrong one"},
                 headers={"Origin": ORIGIN})
    assert r.status_code == 401 and _scenario(web, "R-01").get("acceptance") is None
    r = web.post(f"/sites/{SITE}/risks/R-01/accept", headers={"Origin": ORIGIN},
                 data={**form, **accept, "password": PW["quinn"], "meaning": "accepted as quality"})
    assert r.status_code == 200 and "accepted with your signature" in r.text, r.text
    saved = _scenario(web, "R-01")
    assert saved["treatment"] == "accept" and saved["acceptance"]["by"] == "p-hkessler"
    from zonewarden.services.signatures import list_signatures

    signed = [s for s in list_signatures(web.store, local_principal(name="t"), SITE, "R-01")]  # type: ignore[attr-defined]
    assert [(s.signer, s.meaning) for s in signed] == [("quinn", "accepted as quality")]
