"""Site edits over HTTP, one route factory over every section: add (POST), replace (PUT), edit
(PATCH), remove (DELETE) and move an asset, with If-Match/ETag, 412 stale, 403 naming the role,
404 for a site without a role, 422 with the field path; every role x every route."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from zonewarden.services.site_edits import SECTIONS

from .test_api import SITE, api, h  # noqa: F401  (the fixture)

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ZONE = {"name": "QC annex", "kind": "control", "purdue_level": 1, "sl_target": 2}
OVERRIDES: dict[str, dict[str, Any]] = {
    "maintenance-windows": {"rule": "every Sunday 02:00-03:00", "scope": {"zones": ["ext"]}},
}


def _etag(api: TestClient) -> str:  # noqa: F811
    return api.get(f"/api/v1/sites/{SITE}", headers=h(api, "vic")).headers["ETag"]


def _template(api: TestClient, section: str) -> dict[str, Any]:  # noqa: F811
    from zonewarden.services import sites

    sec = SECTIONS[section]
    store = api.app.state.store  # type: ignore[attr-defined]
    row = getattr(sites.load_document(store, SITE), sec.field)[0].model_dump(mode="json", exclude_defaults=True)
    row.pop("id")
    for key in sec.approval_fields:  # with accounts an approval is a signature, never typed in
        row.pop(key, None)
    return {**row, **OVERRIDES.get(section, {})}


@SQLITE_ONLY
def test_every_section_over_http(api: TestClient) -> None:  # noqa: F811
    for name, sec in SECTIONS.items():
        url = f"/api/v1/sites/{SITE}/{name}/zz-api-1"
        body = _template(api, name)
        r = api.post(url, json=body, headers=h(api, "eve", **{"If-Match": _etag(api)}))
        assert r.status_code == 201, (name, r.text)
        assert r.json()["record"]["id"] == "zz-api-1" and r.json()["before"] is None
        assert r.headers["ETag"] == _etag(api)
        again = api.post(url, json=body, headers=h(api, "eve", **{"If-Match": _etag(api)}))
        assert again.status_code == 409, name
        text = next(f for f in ("title", "name", "scope") if f in sec.model.model_fields)
        r = api.put(url, json={**body, text: "Replaced"}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
        assert r.status_code == 200 and r.json()["record"][text] == "Replaced", (name, r.text)
        r = api.patch(url, json={text: "Patched"}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
        assert r.status_code == 200 and r.json()["record"][text] == "Patched", (name, r.text)
        r = api.delete(url, headers=h(api, "eve", **{"If-Match": _etag(api)}))
        assert r.status_code == 200 and r.json()["record"] is None and r.json()["before"][text] == "Patched", name
        assert api.delete(url, headers=h(api, "eve", **{"If-Match": _etag(api)})).status_code == 404
    log = api.get(f"/api/v1/audit?site={SITE}&limit=1000", headers=h(api, "quinn")).json()["items"]
    removed = [e for e in log if e["action"] == "zone.remove"]
    assert removed and removed[0]["actor"] == "eve" and removed[0]["after"] is None


@SQLITE_ONLY
def test_roles_revision_and_field_paths(api: TestClient) -> None:  # noqa: F811
    url = f"/api/v1/sites/{SITE}/zones/annex"
    r = api.post(url, json=ZONE, headers=h(api, "vic", **{"If-Match": _etag(api)}))
    assert r.status_code == 403 and "site.edit on site rheinfeld-os needs one of the roles: admin, engineer" in r.json()["detail"]
    assert api.post(url, json=ZONE, headers=h(api, "eve-ro", **{"If-Match": _etag(api)})).status_code == 403
    r = api.post(url, json=ZONE, headers=h(api, "sam", **{"If-Match": _etag(api)}))
    assert r.status_code == 404 and "QC" not in r.text
    assert api.post(url, json=ZONE, headers=h(api, "eve")).status_code == 428
    r = api.post(url, json={**ZONE, "purdue_level": 9, "sl_targt": 1}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 422
    assert {e["pointer"] for e in r.json()["errors"]} == {"purdue_level", "sl_targt"}
    r = api.post(url, json={**ZONE, "id": "other"}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "id"
    old = _etag(api)
    assert api.post(url, json=ZONE, headers=h(api, "eve", **{"If-Match": old})).status_code == 201
    r = api.patch(url, json={"name": "Lost update"}, headers=h(api, "eve", **{"If-Match": old}))
    assert r.status_code == 412 and r.json()["current_revision"] == _etag(api).strip('"')
    r = api.patch(url, json={"sl_target": None}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 200 and "sl_target" not in r.json()["record"]
    log = api.get(f"/api/v1/audit?site={SITE}&limit=1000", headers=h(api, "quinn")).json()["items"]
    assert {e["actor"] for e in log if e["action"] == "access.denied"} >= {"vic", "eve"}


@SQLITE_ONLY
def test_a_zone_with_assets_is_not_removed_and_an_asset_moves(api: TestClient) -> None:  # noqa: F811
    r = api.delete(f"/api/v1/sites/{SITE}/zones/elec", headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 422 and "zonewarden asset move" in r.json()["detail"] and "assets " in r.json()["detail"]
    asset = api.post(f"/api/v1/sites/{SITE}/assets/zz-spare", json={"name": "Spare HMI", "type": "hmi", "zone": "elec"},
                     headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert asset.status_code == 201, asset.text
    moved = api.post(f"/api/v1/sites/{SITE}/assets/zz-spare/move", json={"zone": "water", "reason": "relocated"},
                     headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert moved.status_code == 200 and moved.json()["record"]["zone"] == "water" and moved.json()["before"]["zone"] == "elec"
    bad = api.post(f"/api/v1/sites/{SITE}/assets/zz-spare/move", json={"zone": "mars"},
                   headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "zone"
    denied = api.post(f"/api/v1/sites/{SITE}/assets/zz-spare/move", json={"zone": "elec"},
                      headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert denied.status_code == 403


def test_every_role_on_every_edit_route(api: TestClient) -> None:  # noqa: F811
    """The API matrix for these routes (SQLite and PostgreSQL): the engineer and the admin may
    write every section, the viewer and the approver get 403, a user without a role 404."""
    expected = {"ada": 201, "eve": 201, "vic": 403, "quinn": 403, "sam": 404}
    for name in SECTIONS:
        body = _template(api, name)
        for who, status in expected.items():
            ident = f"zz-{who}"
            r = api.post(f"/api/v1/sites/{SITE}/{name}/{ident}", json=body, headers=h(api, who, **{"If-Match": _etag(api)}))
            assert r.status_code == status, (name, who, r.text)
            if status == 201:
                gone = api.delete(f"/api/v1/sites/{SITE}/{name}/{ident}", headers=h(api, who, **{"If-Match": _etag(api)}))
                assert gone.status_code == 200, (name, who, gone.text)


@SQLITE_ONLY
def test_openapi_lists_the_edit_routes(api: TestClient) -> None:  # noqa: F811
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    for name in SECTIONS:
        assert set(paths[f"/api/v1/sites/{{site_id}}/{name}/{{ident}}"]) >= {"post", "put", "patch", "delete"}
    assert "post" in paths["/api/v1/sites/{site_id}/assets/{ident}/move"]


@SQLITE_ONLY
def test_requirement_statuses_from_a_csv_body(api: TestClient) -> None:  # noqa: F811
    url = f"/api/v1/sites/{SITE}/requirements/import"
    good = "zone,requirement,status,justification\nent,SR 1.1,partial,\nent,SR 1.6,n/a,No wireless in the office\n"
    bad = good + "mars,SR 1.2,implemented,\n"
    csv_headers = {"Content-Type": "text/csv"}
    r = api.post(url, content=bad, headers=h(api, "eve", **csv_headers, **{"If-Match": _etag(api)}))
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert (error["line"], error["column"], error["pointer"]) == (4, 1, "target") and "mars" in error["detail"]
    assert api.post(url, content=good, headers=h(api, "vic", **csv_headers, **{"If-Match": _etag(api)})).status_code == 403
    r = api.post(url, content=good, headers=h(api, "eve", **csv_headers, **{"If-Match": _etag(api)}))
    assert r.status_code == 200, r.text
    assert r.json()["added"] + r.json()["replaced"] + r.json()["unchanged"] == 2
    rows = api.get(f"/api/v1/sites/{SITE}/requirements?target=ent&limit=1000", headers=h(api, "vic")).json()["items"]
    assert {(x["requirement"], x["status"]) for x in rows} >= {("SR 1.1", "partial"), ("SR 1.6", "not-applicable")}
