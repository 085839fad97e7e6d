"""Check-finding waivers as signed approvals over HTTP: an engineer records a waiver (pending,
it waives nothing), an approver signs it (re-authentication, bound to the waiver's content), the
signature is shown with the waiver in the waiver list and the check, and an edit breaks it. The
example's typed-in waivers read as before and show as not signed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .test_api import PW, SITE, api, h  # noqa: F401  (the fixture)

WAIVER = {"rule": "ZW007", "objects": ["c-ops-elec"], "expires": "2027-06-01",
          "justification": "Substation RTU cannot authenticate until the 2027 firmware upgrade."}
BASE = f"/api/v1/sites/{SITE}/waivers/W-API-1"


def _etag(api: TestClient) -> str:  # noqa: F811
    return api.get(f"/api/v1/sites/{SITE}", headers=h(api, "vic")).headers["ETag"]


def _approval(api: TestClient, ident: str) -> dict:  # type: ignore[type-arg]  # noqa: F811
    rows = api.get(f"/api/v1/sites/{SITE}/waivers", headers=h(api, "vic")).json()["items"]
    return next(r["approval"] for r in rows if r.get("id") == ident)


def _check_waiver(api: TestClient, ident: str) -> dict | None:  # type: ignore[type-arg]  # noqa: F811
    body = api.get(f"/api/v1/sites/{SITE}/check", headers=h(api, "vic")).json()
    for w in body["waived"]:
        if w["waiver"].get("id") == ident:
            return {"where": "waived", **w["waiver"]["approval"]}
    for key in ("pending_waivers", "unused_waivers", "expired_waivers"):
        for w in body[key]:
            if w.get("id") == ident:
                return {"where": key, **w["approval"]}
    return None


def test_a_recorded_waiver_is_pending_until_signed_and_an_edit_breaks_the_signature(api: TestClient) -> None:  # noqa: F811
    legacy = api.get(f"/api/v1/sites/{SITE}/waivers", headers=h(api, "vic")).json()["items"]
    assert legacy and {r["approval"]["status"] for r in legacy} == {"not signed"}

    r = api.put(BASE, json=WAIVER, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 200, r.text
    assert r.json()["created"] and "approved_by" not in r.json()["record"]
    assert _approval(api, "W-API-1")["status"] == "pending"
    assert _check_waiver(api, "W-API-1") == {"where": "pending_waivers", "status": "pending",
                                             "line": "pending: not approved yet (waives nothing)", "signature": None}

    assert api.post(f"{BASE}/approval", json={"password": PW["vic"]},
                    headers=h(api, "vic", **{"If-Match": _etag(api)})).status_code == 403
    assert api.post(f"{BASE}/approval", json={"password": "not it"},
                    headers=h(api, "quinn", **{"If-Match": _etag(api)})).status_code == 401
    signed = api.post(f"{BASE}/approval", json={"password": PW["quinn"], "meaning": "approved as quality"},
                      headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert signed.status_code == 201, signed.text
    assert signed.json()["record"]["approved_by"] == "p-hkessler"
    approval = _approval(api, "W-API-1")
    assert approval["status"] == "valid" and approval["signature"]["signer"] == "quinn"
    assert "approved as quality" in approval["line"]
    assert _check_waiver(api, "W-API-1")["status"] == "valid"  # type: ignore[index]

    again = api.post(f"{BASE}/approval", json={"password": PW["quinn"]},
                     headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert again.status_code == 409 and "approved already" in again.json()["detail"]

    # The engineer edits the signed waiver (keeping its approval): the signature no longer matches.
    edited = {**WAIVER, "approved_by": "p-hkessler", "approved": signed.json()["record"]["approved"],
              "expires": "2027-12-31"}
    r = api.put(BASE, json=edited, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 200, r.text
    assert _approval(api, "W-API-1")["status"] == "no longer matches"
    assert _check_waiver(api, "W-API-1")["status"] == "no longer matches"  # type: ignore[index]
    sigs = api.get(f"/api/v1/sites/{SITE}/signatures?object_id=W-API-1", headers=h(api, "vic")).json()["signatures"]
    assert [(s["object_type"], s["status"]) for s in sigs] == [("waiver", "no longer matches")]


def test_a_typed_in_waiver_approval_is_refused(api: TestClient) -> None:  # noqa: F811
    r = api.put(BASE, json={**WAIVER, "approved_by": "p-hkessler"}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 403 and "waiver approve" in r.json()["detail"]
    assert not any(w.get("id") == "W-API-1" for w in
                   api.get(f"/api/v1/sites/{SITE}/waivers", headers=h(api, "vic")).json()["items"])


def test_a_waiver_without_id_or_with_a_bad_rule_is_422(api: TestClient) -> None:  # noqa: F811
    r = api.put(BASE, json={**WAIVER, "rule": "X1"}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 422 and any("rule" in e.get("pointer", "") for e in r.json()["errors"])
