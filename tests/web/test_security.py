"""The pages' security base: sessions in the database (revocable), cookies, CSRF, the Origin
check, the Content-Security-Policy and the other headers, and the API's policy on pages."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient

from zonewarden.services import identity, sessions
from zonewarden.web.security import COOKIE, CSP

ORIGIN = "http://testserver"
SITE = "rheinfeld-os"


def test_pages_need_a_session_and_login_opens_one(web: TestClient, login, csrf) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
    r = web.get("/", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/login")
    page = web.get("/login")
    assert page.status_code == 200 and 'name="csrf"' in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain HTTP test server
    bad = web.post("/login", data={"name": "eve", "password": "wrong password!!", "csrf": csrf(page.text)},
                   headers={"Origin": ORIGIN})
    assert bad.status_code == 401 and "authentication failed" in bad.text
    unknown = web.post("/login", data={"name": "nobody", "password": "wrong password!!", "csrf": csrf(bad.text)},
                       headers={"Origin": ORIGIN})
    assert unknown.status_code == 401 and unknown.text.count("authentication failed") == bad.text.count("authentication failed")
    ok = web.post("/login", data={"name": "eve", "password": "engineer's long pass", "csrf": csrf(unknown.text),
                                  "next": "//evil.example/x"}, headers={"Origin": ORIGIN})
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # no open redirect
    set_cookie = [v for k, v in ok.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE)][0]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    assert web.get("/").status_code == 200


def test_login_form_needs_its_token_and_this_origin(web: TestClient, csrf) -> None:  # type: ignore[no-untyped-def]
    page = web.get("/login")
    data = {"name": "eve", "password": "engineer's long pass", "csrf": csrf(page.text)}
    assert web.post("/login", data={**data, "csrf": "forged"}, headers={"Origin": ORIGIN}).status_code == 403
    assert web.post("/login", data=data, headers={"Origin": "http://evil.example"}).status_code == 403
    assert web.post("/login", data=data).status_code == 403  # no Origin, no Referer
    assert web.post("/login", data=data, headers={"Referer": ORIGIN + "/login"}).status_code == 303


def test_every_write_needs_the_csrf_token_and_the_origin(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    token = login(web, "eve")
    r = web.post("/account/tokens", data={"label": "x"}, headers={"Origin": ORIGIN})
    assert r.status_code == 403 and "security token" in r.text
    r = web.post("/account/tokens", data={"label": "x", "csrf": token}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.text
    r = web.post("/account/tokens", data={"label": "x"}, headers={"Origin": ORIGIN, "X-CSRF-Token": token})
    assert r.status_code == 200 and "zw_" in r.text  # the htmx header works as the form field does
    assert [t.label for t in identity.list_tokens(web.store, _principal(web, "eve"), "eve")] == ["x"]  # type: ignore[attr-defined]


def _principal(web: TestClient, name: str):  # type: ignore[no-untyped-def]
    return identity.authenticate_password(web.store, name, {"eve": "engineer's long pass",  # type: ignore[attr-defined]
                                                             "ada": "administrator pass"}[name], record_login=False)


def test_headers_on_every_page_and_not_on_the_api(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    for path in ("/login", "/static/app.css"):
        r = web.get(path)
        assert r.headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP and "default-src 'self'" in CSP
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "same-origin"
    assert web.get("/login").headers["cache-control"] == "no-store"
    assert "content-security-policy" not in web.get("/api/v1/openapi.json").headers
    login(web, "eve")
    assert web.get("/").headers["content-security-policy"] == CSP


def test_secure_cookie_behind_a_trusted_tls_proxy_only(db_url: str, store) -> None:  # type: ignore[no-untyped-def]
    from fastapi import FastAPI

    from zonewarden.web import mount

    for trusted in (False, True):
        app = FastAPI()
        app.state.store = store
        mount(app, trust_forwarded_proto=trusted)
        with TestClient(app) as client:
            r = client.get("/login", headers={"X-Forwarded-Proto": "https"})
            assert ("Secure" in r.headers["set-cookie"]) is trusted
    with TestClient(app, base_url="https://testserver") as client:
        assert "Secure" in client.get("/login").headers["set-cookie"]


def test_logout_disable_and_password_change_end_sessions(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    token = login(web, "eve")
    cookie = web.cookies[COOKIE]
    assert web.post("/logout", data={"csrf": token}, headers={"Origin": ORIGIN}).status_code == 303
    web.cookies.set(COOKIE, cookie)  # the old cookie, replayed
    assert web.get("/").status_code == 303

    web.cookies.clear()
    login(web, "eve")
    admin = _principal(web, "ada")
    identity.disable_user(web.store, admin, "eve")  # type: ignore[attr-defined]
    assert web.get("/").status_code == 303
    identity.disable_user(web.store, admin, "eve", disabled=False)  # type: ignore[attr-defined]

    other = TestClient(web.app, follow_redirects=False)
    login(other, "eve")
    token = login(web, "eve")
    r = web.post("/account/password", data={"current": "engineer's long pass", "new": "a brand new passphrase",
                                            "repeat": "a brand new passphrase", "csrf": token}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "password changed" in r.text
    assert web.get("/").status_code == 200  # this session carries on
    assert other.get("/").status_code == 303  # the other one ended
    login(other, "eve", "a brand new passphrase")
    identity.set_password(web.store, admin, "eve", "changed by the admin")  # type: ignore[attr-defined]
    assert other.get("/").status_code == 303 and web.get("/").status_code == 303  # the CLI's passwd too


def test_wrong_current_password_changes_nothing(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    token = login(web, "eve")
    r = web.post("/account/password", data={"current": "not my password", "new": "a brand new passphrase",
                                            "repeat": "a brand new passphrase", "csrf": token}, headers={"Origin": ORIGIN})
    assert r.status_code == 401 and "authentication failed" in r.text
    assert identity.authenticate_password(web.store, "eve", "engineer's long pass", record_login=False)  # type: ignore[attr-defined]


def test_totp_is_asked_when_enabled_and_lockout_applies(web: TestClient, csrf) -> None:  # type: ignore[no-untyped-def]
    admin = _principal(web, "ada")
    uri = identity.enable_totp(web.store, admin, "eve")  # type: ignore[attr-defined]
    code = pyotp.parse_uri(uri).now()
    page = web.get("/login")
    data = {"name": "eve", "password": "engineer's long pass", "csrf": csrf(page.text)}
    r = web.post("/login", data=data, headers={"Origin": ORIGIN})
    assert r.status_code == 401  # the password alone is not enough
    for _ in range(identity.MAX_FAILURES):
        r = web.post("/login", data={**data, "password": "wrong wrong wrong", "csrf": csrf(r.text)},
                     headers={"Origin": ORIGIN})
        assert r.status_code == 401
    locked = web.post("/login", data={**data, "totp": code, "csrf": csrf(r.text)}, headers={"Origin": ORIGIN})
    assert locked.status_code == 401  # right password and code, but locked


def test_session_survives_in_the_database_not_the_process(web: TestClient, login, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.api.app import create_app

    login(web, "eve")
    second = TestClient(create_app(db_url), follow_redirects=False)  # another worker
    second.cookies.set(COOKIE, web.cookies[COOKIE], domain="testserver.local")
    assert second.get("/").status_code == 200
    assert sessions.revoke_all(web.store, _principal(web, "eve"), "eve") == 1  # type: ignore[attr-defined]
    assert second.get("/").status_code == 303
