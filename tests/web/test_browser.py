"""The pages in a real browser: Playwright driving Debian's chromium against uvicorn on loopback.

One test per page's main job, the story "an engineer records a status, an approver signs the
compensating control, the gap changes", axe-core (no serious or critical violation), no console
errors, and script/img/svg/javascript: payloads in site, zone, asset and advisory texts that
never execute. Screenshots at 1280 and 768 px go to /tmp/zonewarden-web-shots."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

ROOT = Path(__file__).resolve().parents[2]
SITE = "rheinfeld-os"
SHOTS = Path("/tmp/zonewarden-web-shots")
PW = {"ada": "administrator pass", "eve": "engineer's long pass", "quinn": "quality signs here",
      "vic": "viewer only please"}
XSS = {
    "script": "<script>window.__xss=(window.__xss||0)+1</script>",
    "img": '<img src=x onerror="window.__xss=(window.__xss||0)+1">',
    "svg": '<svg onload="window.__xss=(window.__xss||0)+1">',
    "js": "javascript:window.__xss=(window.__xss||0)+1",
}
PAYLOAD = " ".join(XSS.values())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _populate(url: str, tmp: Path) -> None:
    from zonewarden.domain.requirements import CompensatingControl
    from zonewarden.domain.site import SiteDocument
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import advisories, identity, requirements, sites
    from zonewarden.services.principal import local_principal
    from zonewarden.store.db import open_store

    store = open_store(url)
    local = local_principal(name="setup")
    doc = load_site(ROOT / "examples" / "pharma-plant")
    data = doc.model_dump(mode="json", exclude_defaults=True)
    # Untrusted text in every field a page shows: the site's, a zone's, an asset's names.
    data["site"]["name"] = "Rheinfeld " + PAYLOAD
    for z in data["zones"]:
        if z["id"] == "pack":
            z["name"] = "Packaging " + PAYLOAD
            z["description"] = PAYLOAD
    for a in data["assets"]:
        if a.get("zone") == "pack":
            a["name"] = "Asset " + PAYLOAD
    sites.import_documents(store, [SiteDocument.model_validate(data)], principal=local)
    folder = tmp / "advisories"
    folder.mkdir()
    for f in (ROOT / "examples" / "advisories").glob("*.json"):
        (folder / f.name).write_bytes(f.read_bytes())
    evil = json.loads((ROOT / "examples" / "advisories" / "zw-example-2026-006.json").read_text())
    evil["document"]["title"] = "Evil advisory " + PAYLOAD
    evil["document"]["tracking"]["id"] = "ZW-EXAMPLE-2026-666"
    evil["document"]["references"] = [{"category": "external", "summary": PAYLOAD, "url": XSS["js"]}]
    for vuln in evil["vulnerabilities"]:
        for rem in vuln.get("remediations") or []:
            rem["details"] = PAYLOAD
            rem["url"] = XSS["js"]
    (folder / "zw-example-2026-666.json").write_text(json.dumps(evil))
    advisories.ingest_bytes(store, advisories.read_items(advisories.iter_paths([folder])), principal=local)
    identity.add_user(store, local, "ada", "Ada Admin", PW["ada"])
    admin = identity.authenticate_password(store, "ada", PW["ada"], record_login=False)
    for name, role in (("eve", "engineer"), ("quinn", "quality"), ("vic", "viewer")):
        identity.add_user(store, admin, name, f"{name.title()} Example", PW[name])
        identity.grant_role(store, admin, name, role, SITE)
    identity.link_person(store, admin, SITE, "p-hkessler", "quinn")
    eve = identity.authenticate_password(store, "eve", PW["eve"], record_login=False)
    control = CompensatingControl.model_validate({
        "id": "CC-WEB-1", "title": "Vendor sessions through the jump host",
        "description": "Every vendor session runs through the recorded jump host.", "covers": ["SR 4.2"],
        "zones": ["ops"], "rationale": "legacy-os", "owner": "p-mbrandt", "review": "2027-06-01",
        "expires": "2027-12-01"})
    requirements.record_compensating_control(store, SITE, control, principal=eve)
    store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from zonewarden.api.app import create_app

    tmp = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{tmp / 'zw.db'}"
    _populate(url, tmp)
    port = _free_port()
    config = uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


class Watched:
    """A page with its console errors, page errors, CSP violations and dialogs recorded."""

    def __init__(self, browser: Any, base: str, width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def login(self, name: str) -> None:
        self.page.goto("/login")
        self.page.fill("#name", name)
        self.page.fill("#password", PW[name])
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r"/$"))

    def xss_count(self) -> int:
        return int(self.page.evaluate("window.__xss || 0"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def watched(browser: Any, server: str) -> Iterator[Any]:
    opened: list[Watched] = []

    def make(width: int = 1280) -> Watched:
        w = Watched(browser, server, width)
        opened.append(w)
        return w

    yield make
    for w in opened:
        w.close()


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


PAGES = [
    ("dashboard", "/"),
    ("site", f"/sites/{SITE}"),
    ("zone", f"/sites/{SITE}/zones/pack"),
    ("conduit", f"/sites/{SITE}/conduits/c-ext-pack"),
    ("risks", f"/sites/{SITE}/risks"),
    ("due", f"/sites/{SITE}/due"),
    ("patching", f"/sites/{SITE}/patching"),
    ("evidence", f"/sites/{SITE}/evidence"),
    ("findings", "/findings"),
    ("advisories", "/advisories"),
    ("advisory", "/advisories/ZW-EXAMPLE-2026-666"),
    ("asset", f"/sites/{SITE}/assets/pack-plc-blister"),
    ("approvals", "/approvals"),
    ("audit", "/audit"),
    ("admin", "/admin"),
    ("account", "/account"),
]


def test_every_page_renders_clean_accessible_and_without_executing_payloads(watched: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in (1280, 768):
        w = watched(width)
        w.login("ada")
        finding = None
        for name, path in [*PAGES, ("finding", None)]:
            if path is None:  # the evil advisory's finding page
                w.page.goto("/findings?status=")
                w.page.click("text=ZW-EXAMPLE-2026-666 >> nth=0")
                w.page.wait_for_url(re.compile(r"/findings/\d+$"))
                finding = w.page.url
            else:
                response = w.page.goto(path)
                assert response is not None and response.status == 200, (name, response and response.status)
            w.page.wait_for_load_state("networkidle")
            w.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            assert w.xss_count() == 0, name
            assert w.page.locator("img[src='x']").count() == 0 and w.page.locator("svg[onload]").count() == 0, name
            if width == 1280:
                assert _axe(w.page) == [], name
        assert finding is not None
        assert w.errors == [] and w.dialogs == [], (w.errors, w.dialogs)
    # The payloads are shown as text where they were put.
    w.page.goto(f"/sites/{SITE}/zones/pack")
    assert "<script>window.__xss" in w.page.inner_text("h1")
    w.page.goto("/findings?status=")
    assert "Evil advisory <script>" in w.page.inner_text("main")


def test_login_page_and_a_failed_login(watched: Any) -> None:
    w = watched()
    w.page.goto("/")
    assert "/login" in w.page.url
    assert _axe(w.page) == []
    w.page.fill("#name", "eve")
    w.page.fill("#password", "wrong password!")
    w.page.click("button[type=submit]")
    assert "authentication failed" in w.page.inner_text("[role=alert]")
    SHOTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(SHOTS / "login-1280.png"))
    w.login("eve")
    w.page.click("text=Log out")
    w.page.wait_for_url(re.compile(r"/login$"))
    w.page.goto("/")
    assert "/login" in w.page.url  # the session ended
    # The failed login is answered 401 (Chromium logs the status); nothing else went wrong.
    assert [e for e in w.errors if "status of 401" not in e] == []


def test_story_engineer_records_status_approver_signs_gap_changes(watched: Any) -> None:
    eve = watched()
    eve.login("eve")
    eve.page.goto(f"/sites/{SITE}/zones/ops")
    row = eve.page.locator('tr[data-requirement="SR 4.2"]')
    before = eve.page.inner_text("#fr-FR4 .sl-a")
    row.locator("select[name=status]").select_option("compensated")
    row.locator("select[name=compensating_control]").select_option("CC-WEB-1")
    row.locator("form.status-form button[type=submit]").click()
    eve.page.wait_for_selector("text=SR 4.2: compensated recorded")  # htmx swapped the gap section in
    row = eve.page.locator('tr[data-requirement="SR 4.2"]')
    assert row.locator("td.status").inner_text() == "compensated"
    assert row.locator("td.bad").inner_text() == "no"  # the control is pending approval: it does not count yet
    assert eve.page.inner_text("#fr-FR4 .sl-a") == before == "1"

    quinn = watched()
    quinn.login("quinn")
    quinn.page.goto("/approvals")
    card = quinn.page.locator("section.pending", has_text="CC-WEB-1")
    card.locator("input[name=password]").fill(PW["quinn"])
    card.locator("input[name=meaning]").fill("approved as quality")
    card.locator("button[type=submit]").click()
    quinn.page.wait_for_selector("text=approved with your signature")
    assert "approved as quality" in quinn.page.inner_text("main")
    assert _axe(quinn.page) == []

    eve.page.goto(f"/sites/{SITE}/zones/ops")
    row = eve.page.locator('tr[data-requirement="SR 4.2"]')
    assert row.locator("td.ok").inner_text() == "yes"  # the approved control counts now
    assert eve.page.inner_text("#fr-FR4 .sl-a") == "2"  # SL-A rose: SR 4.2 was the last one missing
    assert eve.page.inner_text("#fr-FR4 .gap") == "0"
    assert eve.errors == [] and quinn.errors == []


def test_triage_queue_filters_and_records_a_decision(watched: Any) -> None:
    w = watched()
    w.login("eve")
    w.page.goto("/findings")
    w.page.select_option("#f-priority", "scheduled")
    w.page.click("form.filters button[type=submit]")
    w.page.wait_for_url(re.compile(r"priority=scheduled"))
    assert w.page.locator("span.prio-scheduled").count() >= 1 and w.page.locator("span.prio-immediate").count() == 0
    w.page.locator("tbody a").first.click()
    w.page.select_option("#d-status", "under-assessment")
    w.page.fill("#d-why", "Asked the vendor which firmware fixes it.")
    w.page.click("text=Record decision")
    assert w.page.inner_text("#triage-status").startswith("under-assessment")
    assert w.errors == []


def test_viewer_sees_no_status_form_and_the_dashboard_links_the_site(watched: Any) -> None:
    w = watched()
    w.login("vic")
    w.page.click(f"a[href='/sites/{SITE}']")
    w.page.locator(".diagram-box a[href$='/zones/coat']").first.click()  # a zone in the diagram is a link
    w.page.wait_for_url(re.compile(r"/zones/coat$"))
    assert w.page.locator("form.status-form").count() == 0
    w.page.goto("/admin")
    assert "Not allowed" in w.page.inner_text("h1")
    assert [e for e in w.errors if "403" not in e] == []
