"""The evidence, upload and paths pages in a real browser (Debian's chromium through Playwright):
the story "the auditor builds the auditor package and downloads it; the file's SHA-256 is the one
shown and the one recorded", an evidence upload on the matrix, the paths explorer; axe-core and
no console errors on each."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.test_browser import CHROMIUM, SITE, _axe, _free_port, _populate, browser, watched  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]
DB: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from zonewarden.api.app import create_app

    tmp = tmp_path_factory.mktemp("webevid")
    url = f"sqlite:///{tmp / 'zw.db'}"
    _populate(url, tmp)
    DB["url"] = url
    before = os.environ.get("ZONEWARDEN_PACKAGES_DIR")
    os.environ["ZONEWARDEN_PACKAGES_DIR"] = str(tmp / "packages")  # the in-process build writes here
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    if before is None:
        os.environ.pop("ZONEWARDEN_PACKAGES_DIR", None)
    else:
        os.environ["ZONEWARDEN_PACKAGES_DIR"] = before


def test_story_the_auditor_builds_the_package_and_downloads_it(watched: Any, tmp_path: Path) -> None:  # noqa: F811
    from zonewarden.services import identity, jobs
    from zonewarden.store.db import open_store

    w = watched()
    w.login("quinn")
    w.page.goto(f"/sites/{SITE}/evidence")
    assert _axe(w.page) == []
    w.page.check("input[name=audience][value=auditor]")
    w.page.click("form[aria-label='Build a package'] button[type=submit]")
    w.page.wait_for_url(re.compile(r"/evidence/jobs/\d+$"))
    job_id = int(w.page.url.rsplit("/", 1)[1])
    w.page.wait_for_selector("#evidence-job[data-state=succeeded]", timeout=60_000)  # htmx polled it there
    assert _axe(w.page) == []
    row = w.page.locator("table.files tr", has_text="evidence-auditor.html")
    shown = row.locator("code.sha256").inner_text()
    with w.page.expect_download() as info:
        row.locator("a").click()
    saved = tmp_path / "download.html"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "evidence-auditor.html"
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    store = open_store(DB["url"])
    try:
        quinn = identity.authenticate_password(store, "quinn", "quality signs here", record_login=False)
        recorded = jobs.get_job(store, job_id, principal=quinn).result
    finally:
        store.close()
    assert recorded is not None and digest == shown == recorded["files"]["evidence-auditor.html"]
    w.page.goto(f"/sites/{SITE}/evidence")
    assert w.page.locator(f"a[href$='/evidence/jobs/{job_id}']").count() == 1  # listed among the builds
    assert w.errors == [] and w.dialogs == []


def test_an_engineer_attaches_evidence_on_the_matrix(watched: Any, tmp_path: Path) -> None:  # noqa: F811
    w = watched()
    w.login("eve")
    w.page.goto(f"/sites/{SITE}/zones/ops")
    evidence = tmp_path / "firewall-review.pdf"
    evidence.write_bytes(b"%PDF-1.4 firewall rule review\n")
    row = w.page.locator('tr[data-requirement="SR 5.1"]')
    row.locator("input[type=file]").set_input_files(str(evidence))
    row.locator("form.evidence-form button[type=submit]").click()
    w.page.wait_for_url(re.compile(r"/zones/ops#req-SR%205\.1$"))
    row = w.page.locator('tr[data-requirement="SR 5.1"]')
    assert "uploaded as firewall-review.pdf" in row.locator("td.evidence").inner_text()
    assert row.locator("td.evidence code.sha256").last.inner_text() == hashlib.sha256(evidence.read_bytes()).hexdigest()
    assert _axe(w.page) == []
    assert w.errors == []


def test_the_paths_explorer_highlights_the_chosen_path(watched: Any) -> None:  # noqa: F811
    w = watched()
    w.login("vic")
    w.page.goto(f"/sites/{SITE}")
    w.page.click("text=Paths explorer")
    w.page.select_option("#p-source", "ext")
    w.page.select_option("#p-target", "qc-lab")
    w.page.click("form.filters button[type=submit]")
    w.page.wait_for_selector("tr[data-path='1']")
    assert w.page.locator("tr[data-path]").count() > 1
    w.page.click("text=show path 2")
    w.page.wait_for_selector("tr[data-path='2'].chosen")
    if w.page.locator(".diagram-box").count():
        assert w.page.locator(".diagram-box g.on-path").count() >= 3
    assert _axe(w.page) == []
    assert w.errors == []
