"""Risk acceptances and change-record approvals over HTTP: signed by the linked person, bound to
the record; a viewer is 403, a wrong password 401, a bad body 422, the owner refused."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from .test_api import PW, SITE, api, h  # noqa: F401  (the fixture)

LATER = (dt.date.today() + dt.timedelta(days=300)).isoformat()
RISK = f"/api/v1/sites/{SITE}/risks/R-01/acceptance"
CHANGE = f"/api/v1/sites/{SITE}/changes/CR-2025-07/approval"
WHY = "Isolated behind the cell firewall until the 2027 replacement."


def _etag(api: TestClient) -> str:  # noqa: F811
    return api.get(f"/api/v1/sites/{SITE}", headers=h(api, "vic")).headers["ETag"]


def _sigs(api: TestClient, obj: str) -> list[tuple[str, str]]:  # noqa: F811
    rows = api.get(f"/api/v1/sites/{SITE}/signatures?object_id={obj}", headers=h(api, "vic")).json()["signatures"]
    return [(s["signer"], s["status"]) for s in rows]


def test_risk_acceptance_is_signed_over_http(api: TestClient) -> None:  # noqa: F811
    body = {"password": PW["quinn"], "rationale": WHY, "expires": LATER}
    assert api.post(RISK, json={**body, "password": PW["vic"]}, headers=h(api, "vic", **{"If-Match": _etag(api)})).status_code == 403
    assert api.post(RISK, json={**body, "password": "nope"}, headers=h(api, "quinn", **{"If-Match": _etag(api)})).status_code == 401
    bad = api.post(RISK, json={"password": PW["quinn"], "rationale": WHY}, headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert bad.status_code == 422 and any("expires" in e.get("pointer", "") for e in bad.json()["errors"]), bad.text
    assert api.post(RISK, json=body, headers=h(api, "quinn")).status_code == 428
    r = api.post(RISK, json=body, headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert r.status_code == 201, r.text
    assert r.json()["record"]["treatment"] == "accept" and r.json()["record"]["acceptance"]["by"] == "p-hkessler"
    assert _sigs(api, "R-01") == [("quinn", "valid")]


def test_change_approval_is_signed_over_http_and_an_edit_breaks_it(api: TestClient) -> None:  # noqa: F811
    assert api.post(CHANGE, json={"password": PW["vic"]}, headers=h(api, "vic", **{"If-Match": _etag(api)})).status_code == 403
    r = api.post(CHANGE, json={"password": PW["quinn"], "role": "management", "meaning": "approved as management"},
                 headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert r.status_code == 201, r.text
    assert r.json()["record"]["approvals"][-1]["by"] == "p-hkessler"
    assert _sigs(api, "CR-2025-07") == [("quinn", "valid")]
    edit = api.patch(f"/api/v1/sites/{SITE}/changes/CR-2025-07", json={"rollback_plan": "Remove the router."},
                     headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert edit.status_code == 200, edit.text
    assert _sigs(api, "CR-2025-07") == [("quinn", "no longer matches")]
