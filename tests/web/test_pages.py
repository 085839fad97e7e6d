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


def _pending_control(web: TestClient) -> str:
    """A compensating control recorded by the engineer (through the service, as the API or CLI
    would), waiting for the quality approver's signature."""
    from zonewarden.domain.requirements import CompensatingControl
    from zonewarden.services import identity, requirements

    eve = identity.authenticate_password(web.store, "eve", "engineer's long pass", record_login=False)  # type: ignore[attr-defined]
    control = CompensatingControl.model_validate({
        "id": "CC-WEB-1", "title": "Jump host for <b>vendor</b> access", "description": "All vendor sessions go through the jump host.",
        "covers": ["SR 1.7"], "zones": ["ops"], "rationale": "legacy-os", "owner": "p-mbrandt",
        "review": "2027-06-01", "expires": "2027-12-01"})
    requirements.record_compensating_control(web.store, SITE, control, principal=eve)  # type: ignore[attr-defined]
    return control.id


def test_approvals_inbox_signs_with_reauthentication(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    control = _pending_control(web)
    login(web, "vic")
    assert control not in web.get("/approvals").text  # a viewer signs nothing
    web.cookies.clear()
    login(web, "quinn")
    page = web.get("/approvals")
    assert control in page.text and "&lt;b&gt;vendor&lt;/b&gt;" in page.text
    form = page.text[page.text.index(f'/approvals/{SITE}/compensating-control/{control}'):]
    data = {"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1),  # type: ignore[union-attr]
            "revision": re.search(r'name="revision" value="([^"]+)"', form).group(1)}  # type: ignore[union-attr]
    url = f"/approvals/{SITE}/compensating-control/{control}"
    r = web.post(url, data={**data, "password": "not my password"}, headers={"Origin": ORIGIN})
    assert r.status_code == 401 and "authentication failed" in r.text
    r = web.post(url, data={**data, "password": "quality signs here", "meaning": "approved as quality"},
                 headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "approved with your signature" in r.text, r.text
    assert "approved as quality" in r.text and ">valid<" in r.text  # the signature, still matching


def test_a_pending_waiver_is_signed_in_the_inbox(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.domain.site import Waiver
    from zonewarden.services import identity, waivers

    eve = identity.authenticate_password(web.store, "eve", "engineer's long pass", record_login=False)  # type: ignore[attr-defined]
    waiver = Waiver.model_validate({"id": "W-WEB-1", "rule": "ZW010", "objects": ["<i>ops</i>"],
                                    "justification": "Replacement is planned with the 2027 line upgrade.",
                                    "expires": "2027-06-30"})
    waivers.record_waiver(web.store, SITE, waiver, principal=eve)  # type: ignore[attr-defined]
    login(web, "quinn")
    page = web.get("/approvals")
    assert "W-WEB-1" in page.text and "waive ZW010 for &lt;i&gt;ops&lt;/i&gt;" in page.text
    form = page.text[page.text.index(f"/approvals/{SITE}/waiver/W-WEB-1"):]
    data = {"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1),  # type: ignore[union-attr]
            "revision": re.search(r'name="revision" value="([^"]+)"', form).group(1)}  # type: ignore[union-attr]
    r = web.post(f"/approvals/{SITE}/waiver/W-WEB-1", data={**data, "password": "quality signs here"},
                 headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "waiver W-WEB-1 approved with your signature" in r.text, r.text
    assert f"/approvals/{SITE}/waiver/W-WEB-1" not in r.text  # no longer waiting
    (row,) = [w for w in waivers.list_waivers(web.store, SITE, principal=eve) if w.get("id") == "W-WEB-1"]  # type: ignore[attr-defined]
    assert row["approved_by"] and row["approval"]["status"] == "valid", row


def test_a_proposed_change_record_is_signed_in_the_inbox(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services import sites

    login(web, "quinn")  # linked to p-hkessler (asset-owner, management)
    page = web.get("/approvals")
    url = f"/approvals/{SITE}/change/CR-2026-09"
    assert url in page.text and "asked by p-mbrandt" in page.text  # proposed, owned by somebody else
    form = page.text[page.text.index(url):]
    data = {"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1),  # type: ignore[union-attr]
            "revision": re.search(r'name="revision" value="([^"]+)"', form).group(1)}  # type: ignore[union-attr]
    r = web.post(url, data={**data, "password": "quality signs here"}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "change CR-2026-09 approved with your signature" in r.text, r.text
    doc = sites.load_document(web.store, SITE)  # type: ignore[attr-defined]
    (change,) = [c for c in doc.changes if c.id == "CR-2026-09"]
    assert [a.by for a in change.approvals] == ["p-hkessler"]


def test_a_proposed_patch_change_waits_in_the_inbox_and_the_tier_policy_decides(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.domain.patching import PatchChange
    from zonewarden.services import identity, patching, sites

    eve = identity.authenticate_password(web.store, "eve", "engineer's long pass", record_login=False)  # type: ignore[attr-defined]
    doc = sites.load_document(web.store, SITE)  # type: ignore[attr-defined]
    template = next(c for c in doc.patch_changes if c.id == "PC-2026-034")
    body = template.model_dump(mode="json", exclude_defaults=True, exclude={"approvals", "status", "revalidation"})
    change = PatchChange.model_validate({**body, "id": "PC-WEB-1", "status": "proposed", "owner": "p-jweber"})
    patching.record_patch_change(web.store, SITE, change, principal=eve)  # type: ignore[attr-defined]
    login(web, "quinn")  # p-hkessler: asset-owner and management, not a role this tier lets approve
    page = web.get("/approvals")
    url = f"/approvals/{SITE}/patch-change/PC-WEB-1"
    assert url in page.text and "asked by p-jweber" in page.text
    form = page.text[page.text.index(url):]
    data = {"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1),  # type: ignore[union-attr]
            "revision": re.search(r'name="revision" value="([^"]+)"', form).group(1)}  # type: ignore[union-attr]
    r = web.post(url, data={**data, "password": "quality signs here"}, headers={"Origin": ORIGIN})
    assert r.status_code == 403 and "may not approve" in r.text, r.text
    assert url in r.text  # still waiting


def test_triage_queue_filters_and_a_viewer_cannot_decide(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    token = login(web, "vic")
    queue = web.get("/findings?priority=immediate")
    assert queue.status_code == 200 and "prio-immediate" in queue.text and "prio-scheduled" not in queue.text
    fid = re.search(r'href="/findings/(\d+)"', queue.text).group(1)  # type: ignore[union-attr]
    r = web.post(f"/findings/{fid}/decision", data={"status": "under-assessment", "why": "asking the vendor now",
                                                    "csrf": token}, headers={"Origin": ORIGIN})
    assert r.status_code == 403
    web.cookies.clear()
    token = login(web, "eve")
    r = web.post(f"/findings/{fid}/decision", data={"status": "under-assessment", "why": "asking the vendor now",
                                                    "csrf": token}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "decision recorded" in r.text
    assert 'id="triage-status">under-assessment' in r.text


def test_audit_log_and_admin(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    token = login(web, "vic")
    assert web.get("/admin").status_code == 403
    assert web.get("/audit").status_code == 403  # a viewer may not read the audit trail
    web.cookies.clear()
    token = login(web, "ada")
    r = web.get("/audit?action=session.open")
    assert r.status_code == 200 and "session.open" in r.text and "role.grant" not in r.text
    r = web.get("/audit?action=role.&actor=ada")
    assert "role.grant" in r.text and "session.open" not in r.text
    r = web.post("/audit/verify", data={"csrf": token}, headers={"Origin": ORIGIN})
    assert "hash chain is intact" in r.text
    r = web.post("/admin/users/vic/disable", data={"csrf": token}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "vic disabled" in r.text


def test_a_failed_background_job_and_its_error_show_on_the_admin_page(web: TestClient, login, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services import jobs
    from zonewarden.services.principal import SYSTEM

    missing = tmp_path / "no-such-kev.json"
    job_id = jobs.enqueue(web.store, "kev.refresh", {"path": str(missing)}, principal=SYSTEM)  # type: ignore[attr-defined]
    ran = jobs.run_job(web.store, job_id)  # type: ignore[attr-defined]
    assert ran.state == "retrying" and ran.last_error, ran
    login(web, "ada")
    r = web.get("/admin")
    assert r.status_code == 200 and "Background jobs" in r.text
    row = r.text[r.text.index(f"<code>{job_id}</code>"):].split("</tr>")[0]
    assert "kev.refresh" in row and "retrying" in row and "1 / " in row
    assert "no-such-kev.json" in row  # the error says what failed


def test_risk_register_heat_maps_and_the_due_calendar(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "vic")
    r = web.get(f"/sites/{SITE}/risks")
    assert r.status_code == 200 and "Inherent risk" in r.text and "Residual risk" in r.text
    assert r.text.count('class="rating-') == 2 * 25  # two 5x5 matrices of the site's method
    assert "over tolerance" in r.text and "R-10" in r.text
    r = web.get(f"/sites/{SITE}/due?months=2")
    assert r.status_code == 200 and r.text.count('<table class="calendar">') == 2
    assert "Overdue" in r.text and 'class="due-item due-' in r.text
    r = web.get(f"/sites/{SITE}/patching?months=12")
    assert r.status_code == 200 and "cal-window" in r.text and r.text.count('<table class="calendar">') == 12
    assert 'class="due-item cal-window"><span class="sr-only">window: </span>' in r.text
    # the plan's waves in the windows it chose, and the recorded patch change on its planned day
    waves = re.findall(r'cal-(pilot|production)"><span class="sr-only">\w+: </span>([^<]+)<', r.text)
    assert waves and all(" in " in label and "asset" in label for _, label in waves), waves
    assert "PC-2026-034 pilot: WINCC-V8-UPD4 (approved)" in r.text
    web.cookies.clear()
    login(web, "sam")
    assert web.get(f"/sites/{SITE}/patching").status_code == 404
    assert web.get(f"/sites/{SITE}/risks").status_code == 404 and web.get(f"/sites/{SITE}/due").status_code == 404
