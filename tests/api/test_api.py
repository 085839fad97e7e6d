"""The REST API, in-process, on SQLite and PostgreSQL: authentication, roles, paging, ETag /
If-Match, problem details with field paths, the body limit and signed triage."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories, identity, sites
from zonewarden.services.principal import local_principal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
ADVISORIES = Path(__file__).resolve().parents[2] / "examples" / "advisories"
SITE = "rheinfeld-os"
PW = {"ada": "administrator pass", "eve": "engineer's long pass", "quinn": "quality signs here",
      "vic": "viewer only please", "sam": "stranger's password"}


@pytest.fixture()
def api(db_url: str, store):  # type: ignore[no-untyped-def]
    from zonewarden.api.app import create_app

    local = local_principal(name="setup")
    sites.import_documents(store, [load_site(EXAMPLE)], principal=local)
    advisories.ingest_bytes(store, advisories.read_items(advisories.iter_paths([ADVISORIES])), principal=local)
    identity.add_user(store, local, "ada", "Ada Admin", PW["ada"])
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    tokens = {"ada": identity.create_token(store, admin, "ada")[1]}
    for name, role in (("eve", "engineer"), ("quinn", "quality"), ("vic", "viewer"), ("sam", None)):
        identity.add_user(store, admin, name, name.title(), PW[name])
        if role:
            identity.grant_role(store, admin, name, role, SITE)
        tokens[name] = identity.create_token(store, admin, name)[1]
    identity.link_person(store, admin, SITE, "p-hkessler", "quinn")
    tokens["eve-ro"] = identity.create_token(store, admin, "eve", read_only=True)[1]
    client = TestClient(create_app(db_url))
    client.tokens = tokens  # type: ignore[attr-defined]
    yield client
    client.close()


def h(client: TestClient, who: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[who]}", **extra}  # type: ignore[attr-defined]


def test_no_or_bad_credential_is_401_problem_json(api: TestClient) -> None:
    r = api.get("/api/v1/sites")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"
    bad = api.get("/api/v1/sites", headers={"Authorization": "Bearer zw_0000_nope"})
    forged = api.get("/api/v1/sites", headers={"Authorization": "Bearer " + api.tokens["eve"] + "x"})  # type: ignore[attr-defined]
    assert bad.status_code == forged.status_code == 401 and bad.json()["detail"] == forged.json()["detail"]


def test_a_user_sees_only_sites_with_a_role_and_nothing_leaks(api: TestClient) -> None:
    assert [s["id"] for s in api.get("/api/v1/sites", headers=h(api, "vic")).json()["items"]] == [SITE]
    assert api.get("/api/v1/sites", headers=h(api, "sam")).json()["items"] == []
    r = api.get(f"/api/v1/sites/{SITE}/assets", headers=h(api, "sam"))
    assert r.status_code == 404 and "coat" not in r.text  # nothing about the plant
    assert api.get("/api/v1/findings", headers=h(api, "sam")).json()["total"] == 0
    assert api.get("/api/v1/findings", headers=h(api, "vic")).json()["total"] > 0


def test_paging_and_filters(api: TestClient) -> None:
    first = api.get(f"/api/v1/sites/{SITE}/assets?limit=5", headers=h(api, "vic"))
    assert first.status_code == 200 and first.headers["etag"].strip('"') == first.json()["revision"]
    body = first.json()
    assert len(body["items"]) == 5 and body["total"] > 5
    rest = api.get(f"/api/v1/sites/{SITE}/assets?limit=1000&offset=5", headers=h(api, "vic")).json()["items"]
    assert len(rest) == body["total"] - 5 and {a["id"] for a in rest}.isdisjoint({a["id"] for a in body["items"]})
    coat = api.get(f"/api/v1/sites/{SITE}/assets?zone=coat", headers=h(api, "vic")).json()["items"]
    assert coat and all(a["zone"] == "coat" for a in coat)
    one = api.get(f"/api/v1/sites/{SITE}/assets/{coat[0]['id']}", headers=h(api, "vic")).json()
    assert one["item"] == coat[0]
    assert api.get(f"/api/v1/sites/{SITE}/assets?limit=0", headers=h(api, "vic")).status_code == 422


def test_a_write_needs_the_role_the_revision_and_valid_fields(api: TestClient) -> None:
    url = f"/api/v1/sites/{SITE}/requirements/ent/SR 1.1"
    body = {"status": "partial", "justification": "MFA for vendor accounts only so far", "reason": "review"}
    etag = api.get(f"/api/v1/sites/{SITE}", headers=h(api, "eve")).headers["etag"]
    r = api.put(url, json=body, headers=h(api, "vic", **{"If-Match": etag}))
    assert r.status_code == 403 and "needs one of the roles: admin, engineer" in r.json()["detail"], r.text
    assert api.put(url, json=body, headers=h(api, "eve-ro", **{"If-Match": etag})).status_code == 403
    assert api.put(url, json=body, headers=h(api, "eve")).status_code == 428
    r = api.put(url, json=body, headers=h(api, "eve", **{"If-Match": '"0' + etag.strip('"')[1:] + '"'}))
    assert r.status_code == 412 and r.json()["current_revision"] == etag.strip('"')
    r = api.put(url, json={"status": "planned"}, headers=h(api, "eve", **{"If-Match": etag}))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "target_date"
    r = api.put(url, json={"status": "bogus"}, headers=h(api, "eve", **{"If-Match": etag}))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "status"
    r = api.put(url, json=body, headers=h(api, "eve", **{"If-Match": etag}))
    assert r.status_code == 200, r.text
    new_etag = r.headers["etag"]
    assert new_etag != etag
    # The second engineer still holds the old revision: refused, nothing overwritten.
    r = api.put(url, json={**body, "status": "implemented"}, headers=h(api, "eve", **{"If-Match": etag}))
    assert r.status_code == 412
    log = api.get(f"/api/v1/audit?site={SITE}&limit=1000", headers=h(api, "quinn")).json()["items"]
    (event,) = [e for e in log if e["action"] == "requirement.set-status"]
    assert event["actor"] == "eve" and event["context"]["method"] == "token" and event["context"]["client"] == "api"
    denied = [e for e in log if e["action"] == "access.denied"]
    assert {e["actor"] for e in denied} == {"vic", "eve"}  # the viewer, and the read-only token


def test_oversized_body_is_413(api: TestClient) -> None:
    url = f"/api/v1/sites/{SITE}/requirements/ent/SR 1.1"
    r = api.put(url, content=b'{"status": "partial", "justification": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                headers=h(api, "eve", **{"If-Match": '"x"', "Content-Type": "application/json"}))
    assert r.status_code == 413


def test_closing_a_finding_is_a_signature(api: TestClient) -> None:
    f = api.get(f"/api/v1/findings?site={SITE}&status=affected&limit=1", headers=h(api, "quinn")).json()["items"][0]
    url = f"/api/v1/findings/{f['id']}/decisions"
    step = {"status": "under-assessment", "why": "asking the vendor for the firmware level"}
    assert api.post(url, json=step, headers=h(api, "eve")).status_code == 201
    close = {"status": "not-affected", "why": "the vulnerable web server is disabled on this unit"}
    r = api.post(url, json=close, headers=h(api, "eve"))
    assert r.status_code == 403 and "finding.close" in r.json()["detail"]  # an engineer cannot close
    r = api.post(url, json=close, headers=h(api, "quinn"))
    assert r.status_code == 403 and "electronic signature" in r.json()["detail"]
    r = api.post(url, json={**close, "password": "wrong password"}, headers=h(api, "quinn"))
    assert r.status_code == 401
    r = api.post(url, json={**close, "password": PW["quinn"]}, headers=h(api, "quinn"))
    assert r.status_code == 201 and r.json()["triage"] == "not-affected"
    sigs = api.get(f"/api/v1/sites/{SITE}/signatures", headers=h(api, "vic")).json()["signatures"]
    assert [(s["object_id"], s["signer"], s["status"]) for s in sigs] == [(str(f["id"]), "quinn", "valid")]


def test_check_matches_the_cli(api: TestClient) -> None:
    import json

    from click.testing import CliRunner

    from zonewarden.cli.main import cli

    r = api.get(f"/api/v1/sites/{SITE}/check?as_of=2026-12-01", headers=h(api, "vic"))
    assert r.status_code == 200
    cli_out = CliRunner().invoke(cli, ["check", "--file", str(EXAMPLE), "--as-of", "2026-12-01", "--format", "json"])
    assert r.json()["findings"] == json.loads(cli_out.stdout)["findings"]


def test_openapi_document_lists_the_routes(api: TestClient) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/sites", "/api/v1/sites/{site_id}/assets", "/api/v1/findings/{finding_id}/decisions",
                 "/api/v1/sites/{site_id}/requirements/{target}/{requirement}", "/api/v1/audit"):
        assert path in doc["paths"], path


def test_a_finding_says_what_to_act_on_as_the_cli_does(api: TestClient) -> None:
    f = api.get(f"/api/v1/findings?site={SITE}&status=affected&limit=1", headers=h(api, "quinn")).json()["items"][0]
    got = api.get(f"/api/v1/findings/{f['id']}", headers=h(api, "quinn"))
    assert got.status_code == 200, got.text
    act = got.json()["act_on"]
    assert act["vulnerabilities"] and act["vulnerabilities"][0]["cwe"], act  # what the advisory says
    assert act["fixed_by"], act  # the example advisory's vendor fix names the version
    store = api.app.state.store  # type: ignore[attr-defined]
    assert act == advisories.finding_actions(store, f["id"], principal=local_principal()).as_json()
