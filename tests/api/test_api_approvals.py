"""Recording a compensating control and approving it over HTTP: the approval is an electronic
signature (re-authentication, the signer's linked person, bound to the record); a typed-in
approval, a wrong password, a missing role and a stale revision change nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .test_api import PW, SITE, api, h  # noqa: F401  (the fixture)

CONTROL = {
    "title": "Cell firewall allow-list for the press HMI",
    "description": "Only the historian and the OEM jump host reach the press HMI through the cell firewall.",
    "covers": ["SR 1.7"], "zones": ["comp"], "assets": ["comp-hmi-p1"],
    "rationale": "fixed-vendor-image", "owner": "p-jweber",
    "review": "2027-06-01", "expires": "2027-12-01",
}
BASE = f"/api/v1/sites/{SITE}/compensating-controls/CC-API-TEST"


def _etag(api: TestClient) -> str:  # noqa: F811
    return api.get(f"/api/v1/sites/{SITE}", headers=h(api, "vic")).headers["ETag"]


def test_engineer_records_approver_signs_and_the_signature_is_listed(api: TestClient) -> None:  # noqa: F811
    r = api.put(BASE, json=CONTROL, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 200, r.text
    assert r.json()["created"] and "approver" not in r.json()["record"]

    denied = api.post(f"{BASE}/approval", json={"password": PW["vic"]}, headers=h(api, "vic", **{"If-Match": _etag(api)}))
    assert denied.status_code == 403
    wrong = api.post(f"{BASE}/approval", json={"password": "not it"}, headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert wrong.status_code == 401
    stale = api.post(f"{BASE}/approval", json={"password": PW["quinn"]}, headers=h(api, "quinn", **{"If-Match": '"0" '}))
    assert stale.status_code == 412

    signed = api.post(f"{BASE}/approval", json={"password": PW["quinn"], "approved": "2026-12-02"},
                      headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert signed.status_code == 201, signed.text
    assert signed.json()["record"]["approver"] == "p-hkessler" and signed.json()["record"]["approved"] == "2026-12-02"
    sigs = api.get(f"/api/v1/sites/{SITE}/signatures?object_id=CC-API-TEST", headers=h(api, "vic")).json()["signatures"]
    assert [(s["signer"], s["status"]) for s in sigs] == [("quinn", "valid")]

    # The engineer edits the signed record: the signature no longer matches it.
    edited = {**CONTROL, "approver": "p-hkessler", "approved": "2026-12-02", "description": CONTROL["description"] + " Edited."}
    r = api.put(BASE, json=edited, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 200, r.text
    sigs = api.get(f"/api/v1/sites/{SITE}/signatures?object_id=CC-API-TEST", headers=h(api, "vic")).json()["signatures"]
    assert [s["status"] for s in sigs] == ["no longer matches"]


def test_a_typed_in_approval_is_refused(api: TestClient) -> None:  # noqa: F811
    r = api.put(BASE, json={**CONTROL, "approver": "p-hkessler", "approved": "2026-12-01"},
                headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 403 and "signs it" in r.json()["detail"]
    assert api.get(f"/api/v1/sites/{SITE}/signatures?object_id=CC-API-TEST", headers=h(api, "vic")).json()["signatures"] == []


def test_invalid_control_is_422_with_field_paths(api: TestClient) -> None:  # noqa: F811
    r = api.put(BASE, json={**CONTROL, "covers": []}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 422, r.text
    assert any("covers" in e.get("pointer", "") for e in r.json()["errors"])


def test_a_deferral_is_recorded_and_signed_by_an_approver_the_tier_policy_allows(api: TestClient) -> None:  # noqa: F811
    from zonewarden.io.sitefile import load_site

    from .test_api import EXAMPLE

    template = next(d for d in load_site(EXAMPLE).deferrals if d.id == "DEF-2026-009")
    body = template.model_dump(mode="json", exclude_defaults=True, exclude={"id", "approver", "approved"})
    base = f"/api/v1/sites/{SITE}/deferrals/DEF-API-1"
    r = api.put(base, json=body, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 200, r.text
    assert "approver" not in r.json()["record"]
    signed = api.post(f"{base}/approval", json={"password": PW["quinn"], "meaning": "approved as quality"},
                      headers=h(api, "quinn", **{"If-Match": _etag(api)}))
    assert signed.status_code == 201, signed.text
    assert signed.json()["record"]["approver"] == "p-hkessler"
    sigs = api.get(f"/api/v1/sites/{SITE}/signatures?object_id=DEF-API-1", headers=h(api, "vic")).json()["signatures"]
    assert [(s["signer"], s["meaning"], s["status"]) for s in sigs] == [("quinn", "approved as quality", "valid")]
    again = api.post(f"{base}/approval", json={"password": PW["eve"]}, headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert again.status_code == 403  # an engineer holds no approver role
