"""The advisory, asset, bulk triage and risk register pages in a real browser, and the story
"a new advisory arrives, the engineer triages it in the queue, the alert e-mail was sent"."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import pytest
from tests.web.test_browser import CHROMIUM, PW, ROOT, SITE, Watched, _axe, _free_port, _populate

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of a server on the example plant."""
    import uvicorn

    from zonewarden.api.app import create_app

    tmp = tmp_path_factory.mktemp("webadv")
    url = f"sqlite:///{tmp / 'zw.db'}"
    _populate(url, tmp)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", url
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture()
def open_page(chromium: Any, plant: tuple[str, str]) -> Iterator[Any]:
    opened: list[Watched] = []

    def make(width: int = 1280) -> Watched:
        w = Watched(chromium, plant[0], width)
        opened.append(w)
        return w

    yield make
    for w in opened:
        w.close()


@pytest.fixture()
def smtp() -> Iterator[tuple[Any, list[Any]]]:
    from aiosmtpd.controller import Controller

    from zonewarden.services import alerts

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email_policy)))
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield alerts.SmtpConfig("127.0.0.1", port, sender="zw@plant.example"), received
    finally:
        controller.stop()


def test_story_a_new_advisory_arrives_is_mailed_and_triaged_in_the_queue(open_page: Any, plant: tuple[str, str],
                                                                         smtp: Any, tmp_path: Path) -> None:
    from zonewarden.services import advisories, alerts, identity
    from zonewarden.services.principal import local_principal
    from zonewarden.store.db import open_store

    config, received = smtp
    store = open_store(plant[1])
    try:
        eve = identity.authenticate_password(store, "eve", PW["eve"], record_login=False)
        alerts.subscribe(store, eve, channel="email", target="eve@plant.example", events=["finding"], site_id=SITE)
        alerts.scan_and_deliver(store, kinds=["finding"], smtp=config)  # what was there before: not this story's
        received.clear()
        doc = json.loads((ROOT / "examples" / "advisories" / "zw-example-2026-001.json").read_text())
        doc["document"]["tracking"]["id"] = "ZW-STORY-1"
        doc["document"]["title"] = "Story advisory: SCALANCE web server"
        path = tmp_path / "story.json"
        path.write_text(json.dumps(doc))
        report = advisories.ingest_bytes(store, [(str(path), path.read_bytes())], principal=local_principal(name="feed"))
        assert report.count("rejected") == 0 and report.findings_created >= 1
        sent = alerts.scan_and_deliver(store, kinds=["finding"], smtp=config)
        assert sent["sent"] >= 1 and sent["failed"] == 0, sent
        subjects = [msg["Subject"] for rcpts, msg in received if rcpts == ["eve@plant.example"]]
        assert any("ZW-STORY-1" in s for s in subjects), subjects
    finally:
        store.close()
    w = open_page()
    w.login("eve")
    w.page.goto("/findings")
    rows = w.page.locator("tbody tr", has_text="ZW-STORY-1")
    n = rows.count()
    assert n >= 1
    for i in range(n):
        rows.nth(i).locator("input[name=ids]").check()
    w.page.select_option("#b-status", "under-assessment")
    w.page.fill("#b-why", "New advisory: checking the switches' web interface.")
    w.page.click("text=Record for the checked findings")
    assert f"decision recorded for {n} finding" in w.page.inner_text("[role=status]")
    w.page.goto("/findings?status=affected&triage=under-assessment")
    assert w.page.locator("tbody tr", has_text="ZW-STORY-1").count() == n
    assert _axe(w.page) == [] and w.errors == []


def test_from_the_queue_to_the_advisory_and_the_asset(open_page: Any) -> None:
    w = open_page()
    w.login("vic")
    w.page.goto("/advisories")
    w.page.fill("#a-q", "SCALANCE")
    w.page.click("form[role=search] button[type=submit]")
    w.page.wait_for_url(re.compile(r"q=SCALANCE"))
    w.page.click("text=ZW-EXAMPLE-2026-001")
    w.page.wait_for_url(re.compile(r"/advisories/ZW-EXAMPLE-2026-001$"))
    assert "CVSS 3.1" in w.page.inner_text("main") and "vendor fix" in w.page.inner_text("main")
    w.page.click("a[href$='/assets/dmz-sw-1'] >> nth=0")
    w.page.wait_for_url(re.compile(r"/assets/dmz-sw-1$"))
    assert re.search(r"(\d) advisor(y|ies), \1 fixed by firmware 4\.5", w.page.inner_text("h2#fixes-h"))
    assert _axe(w.page) == [] and w.errors == []


def test_risk_register_edit_and_signed_acceptance(open_page: Any) -> None:
    eve = open_page()
    eve.login("eve")
    eve.page.goto(f"/sites/{SITE}/risks")
    eve.page.click("summary:has-text('R-02')")
    box = eve.page.locator("details", has_text="R-02").first
    box.locator("select[name=treatment]").select_option("transfer")
    box.locator("button:has-text('Save R-02')").click()
    assert "risk R-02 saved" in eve.page.inner_text("[role=status]")
    assert _axe(eve.page) == [] and eve.errors == []
    quinn = open_page()
    quinn.login("quinn")
    quinn.page.goto(f"/sites/{SITE}/risks")
    quinn.page.click("summary:has-text('R-02')")
    box = quinn.page.locator("details", has_text="R-02").first
    box.locator("textarea[name=rationale]").fill("Tolerable with the OEM's recorded sessions until the upgrade.")
    box.locator("input[name=expires]").fill("2099-01-31")
    box.locator("input[name=password]").fill(PW["quinn"])
    box.locator("button:has-text('Accept and sign')").click()
    assert "risk R-02 accepted with your signature" in quinn.page.inner_text("[role=status]")
    assert quinn.errors == []
