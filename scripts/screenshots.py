"""Render every web page of the example plant to docs/screenshots/<page>.png (1280 px wide) and
<page>-768.png, with Debian's chromium, from a throw-away database. Run by scripts/screenshots.sh."""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SITE = "rheinfeld-os"
ADMIN = ("ada", "Ada Admin", "example admin pass")


def populate(url: str) -> int:
    from zonewarden.domain.requirements import CompensatingControl
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import advisories, identity, requirements, sites
    from zonewarden.services.principal import local_principal
    from zonewarden.store.db import open_store

    store = open_store(url)
    local = local_principal(name="screenshots")
    sites.import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], principal=local)
    advisories.ingest_bytes(store, advisories.read_items(advisories.iter_paths([ROOT / "examples" / "advisories"])),
                            principal=local)
    identity.add_user(store, local, *ADMIN)
    admin = identity.authenticate_password(store, ADMIN[0], ADMIN[2], record_login=False)
    identity.add_user(store, admin, "eve", "Eve Engineer", "example engineer pass")
    identity.grant_role(store, admin, "eve", "engineer", SITE)
    identity.link_person(store, admin, SITE, "p-hkessler", ADMIN[0])
    control = CompensatingControl.model_validate({
        "id": "CC-OPS-JUMP", "title": "Vendor sessions through the recorded jump host",
        "description": "Every vendor session to the operations zone runs through the recorded jump host.",
        "covers": ["SR 4.2"], "zones": ["ops"], "rationale": "legacy-os", "owner": "p-mbrandt",
        "review": "2027-06-01", "expires": "2027-12-01"})
    requirements.record_compensating_control(store, SITE, control, principal=admin)
    finding = advisories.list_findings(store, principal=admin, site_id=SITE)[0].id
    store.close()
    return finding


def main() -> int:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from zonewarden.api.app import create_app
    from zonewarden.web import PAGES

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/screens.db"
        finding = populate(url)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        OUT.mkdir(parents=True, exist_ok=True)
        values = {"site": SITE, "zone": "ops", "conduit": "c-ext-pack", "finding": finding,
                  "advisory": "ZW-EXAMPLE-2026-001", "asset": "dmz-sw-1"}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            for width, suffix in ((1280, ""), (768, "-768")):
                context = browser.new_context(viewport={"width": width, "height": 900},
                                              base_url=f"http://127.0.0.1:{port}")
                page = context.new_page()
                for name, pattern in PAGES:
                    if name == "login":
                        page.goto("/login")
                        page.screenshot(path=str(OUT / f"{name}{suffix}.png"))
                        page.fill("#name", ADMIN[0])
                        page.fill("#password", ADMIN[2])
                        page.click("button[type=submit]")
                        page.wait_for_url(f"http://127.0.0.1:{port}/")
                        continue
                    page.goto(pattern.format(**values))
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(OUT / f"{name}{suffix}.png"))
                context.close()
            browser.close()
        server.should_exit = True
    print(f"wrote {len(PAGES) * 2} screenshots to {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
