"""Fixtures of the web page tests: the example plant, users with roles, a logged-in client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories, identity, sites
from zonewarden.services.principal import local_principal

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pharma-plant"
ADVISORIES = ROOT / "examples" / "advisories"
SITE = "rheinfeld-os"
ORIGIN = "http://testserver"
PW = {"ada": "administrator pass", "eve": "engineer's long pass", "quinn": "quality signs here",
      "vic": "viewer only please", "sam": "stranger's password"}
ROLES = {"eve": "engineer", "quinn": "quality", "vic": "viewer", "sam": None}


def populate(store) -> None:  # type: ignore[no-untyped-def]
    local = local_principal(name="setup")
    sites.import_documents(store, [load_site(EXAMPLE)], principal=local)
    advisories.ingest_bytes(store, advisories.read_items(advisories.iter_paths([ADVISORIES])), principal=local)
    identity.add_user(store, local, "ada", "Ada Admin", PW["ada"])
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    for name, role in ROLES.items():
        identity.add_user(store, admin, name, name.title() + " Example", PW[name])
        if role:
            identity.grant_role(store, admin, name, role, SITE)
    identity.link_person(store, admin, SITE, "p-hkessler", "quinn")


@pytest.fixture(scope="session")
def populated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plant with its users in a SQLite file, made once: each test gets a copy
    (argon2 hashes and the import cost seconds per test otherwise)."""
    from zonewarden.store.db import open_store

    path = tmp_path_factory.mktemp("template") / "web.db"
    store = open_store(f"sqlite:///{path}")
    populate(store)
    store.close()
    return path


@pytest.fixture()
def web(db_url: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    import shutil

    from zonewarden.api.app import create_app
    from zonewarden.store.db import open_store

    if db_url.startswith("sqlite:///"):
        shutil.copy(request.getfixturevalue("populated_sqlite"), db_url.removeprefix("sqlite:///"))
        store = open_store(db_url)
    else:
        store = open_store(db_url)
        populate(store)
    client = TestClient(create_app(db_url), follow_redirects=False)
    client.store = store  # type: ignore[attr-defined]
    yield client
    client.close()
    store.close()


@pytest.fixture()
def login():  # type: ignore[no-untyped-def]
    """``login(client, name[, password])`` logs a user in and returns the session's CSRF token."""
    return _login


@pytest.fixture()
def csrf():  # type: ignore[no-untyped-def]
    """``csrf(html)``: the CSRF token of a page."""
    return csrf_of


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _login(client: TestClient, name: str, password: str | None = None) -> str:
    """Log ``name`` in; returns the session's CSRF token."""
    form = client.get("/login")
    r = client.post("/login", data={"name": name, "password": password or PW[name], "csrf": csrf_of(form.text)},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/account").text)
