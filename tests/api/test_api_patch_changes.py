"""Patch change records over HTTP: opened as proposed, approved with an electronic signature by
a person whose role the tier policy allows (another person's role is 403), advanced only with the
fields the next status needs (422), If-Match on every write (428 / 412)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from zonewarden.io.sitefile import load_site
from zonewarden.services import identity

from .test_api import EXAMPLE, PW, SITE, api, h  # noqa: F401  (the fixture)

BASE = f"/api/v1/sites/{SITE}/patch-changes/PC-API-1"


def _etag(client: TestClient) -> str:
    return client.get(f"/api/v1/sites/{SITE}", headers=h(client, "vic")).headers["ETag"]


def _body() -> dict:  # type: ignore[type-arg]
    template = next(c for c in load_site(EXAMPLE).patch_changes if c.id == "PC-2026-034")
    body = template.model_dump(mode="json", exclude_defaults=True, exclude={"id", "approvals", "status", "revalidation"})
    return {**body, "status": "proposed", "owner": "p-jweber"}


def test_open_sign_and_advance_a_patch_change(api: TestClient) -> None:  # noqa: F811
    store = api.app.state.store  # type: ignore[attr-defined]
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    identity.add_user(store, admin, "otto", "Otto", "otto's long password")
    identity.grant_role(store, admin, "otto", "integrator", SITE)
    identity.link_person(store, admin, SITE, "p-mbrandt", "otto")  # ot-engineering: tier 1 approves
    api.tokens["otto"] = identity.create_token(store, admin, "otto")[1]  # type: ignore[attr-defined]

    assert api.post(BASE, json=_body(), headers=h(api, "vic", **{"If-Match": _etag(api)})).status_code == 403
    assert api.post(BASE, json=_body(), headers=h(api, "eve")).status_code == 428
    bad = api.post(BASE, json={**_body(), "assets": []}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert bad.status_code == 422, bad.text
    r = api.post(BASE, json=_body(), headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 201 and r.json()["record"]["status"] == "proposed", r.text
    again = api.post(BASE, json=_body(), headers=h(api, "eve", **{"If-Match": r.headers["ETag"]}))
    assert again.status_code == 409

    # Quinn signs as p-hkessler (asset-owner, management): not a role tier 1 lets approve.
    refused = api.post(f"{BASE}/approval", json={"password": PW["quinn"]}, headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert refused.status_code == 403 and "may not approve" in refused.json()["detail"]
    stale = api.post(f"{BASE}/approval", json={"password": "otto's long password"}, headers=h(api, "otto", **{"If-Match": '"0"'}))
    assert stale.status_code == 412
    signed = api.post(f"{BASE}/approval", json={"password": "otto's long password", "role": "ot-engineering"},
                      headers=h(api, "otto", **{"If-Match": _etag(api)}))
    assert signed.status_code == 201, signed.text
    assert signed.json()["record"]["status"] == "approved"
    assert signed.json()["record"]["approvals"][-1]["by"] == "p-mbrandt"
    sigs = api.get(f"/api/v1/sites/{SITE}/signatures?object_id=PC-API-1", headers=h(api, "vic")).json()["signatures"]
    assert [(s["signer"], s["status"]) for s in sigs] == [("otto", "valid")]

    early = api.post(f"{BASE}/advance", json={"to": "implemented", "fields": {}},
                     headers=h(api, "eve", **{"If-Match": signed.headers["ETag"]}))
    assert early.status_code == 422 and "cannot be implemented yet" in early.json()["detail"], early.text
    skip = api.post(f"{BASE}/advance", json={"to": "closed", "fields": {}}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert skip.status_code in (409, 422), skip.text
