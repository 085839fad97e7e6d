"""The PSIRT over HTTP: an anonymous reporter's intake (limited per client, pointers on bad
input, only the reference and secret back), the status link, and cases for PSIRT roles only."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from zonewarden.services import identity, psirt

from .test_api import api, h  # noqa: F401  (the fixture)

REPORT = {
    "reporter": {"name": "Rita Reporter", "contact": "rita@example.org"},
    "product": "FlowCtl PLC", "version": "2.0",
    "title": "Unauthenticated firmware upload", "description": "Upload works without a password <script>alert(1)</script>",
}


def test_an_anonymous_report_gets_a_reference_and_a_status_link_only(api: TestClient) -> None:  # noqa: F811
    r = api.post("/api/v1/psirt/reports", content=json.dumps(REPORT))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"reference", "status_secret", "acknowledge_by", "encryption_key_fingerprint", "encryption"}
    assert r.headers["cache-control"] == "no-store"
    assert body["encryption_key_fingerprint"] is None and "in clear" in body["encryption"]  # no key sent
    status = api.get(f"/api/v1/psirt/reports/status/{body['status_secret']}")
    assert status.status_code == 200 and status.json()["state"] == "received"
    assert "rita" not in status.text and "FlowCtl" not in status.text  # the state, nothing of the case
    assert status.headers["referrer-policy"] == "no-referrer"
    assert api.get("/api/v1/psirt/reports/status/guess").status_code == 404
    bad = api.post("/api/v1/psirt/reports", content=json.dumps({**REPORT, "reporter": {"contact": "nope"}}))
    assert bad.status_code == 422 and "/reporter/contact" in bad.text


def test_intake_is_limited_per_client_with_429(api: TestClient) -> None:  # noqa: F811
    codes = [api.post("/api/v1/psirt/reports", content=json.dumps(REPORT)).status_code
             for _ in range(psirt.RATE_LIMIT + 1)]
    assert codes == [201] * psirt.RATE_LIMIT + [429]


def test_cases_are_for_psirt_roles(api: TestClient) -> None:  # noqa: F811
    ref = api.post("/api/v1/psirt/reports", content=json.dumps(REPORT)).json()["reference"]
    assert api.get("/api/v1/psirt/cases", headers=h(api, "eve")).status_code == 403
    assert api.get(f"/api/v1/psirt/cases/{ref}", headers=h(api, "vic")).status_code == 403
    assert api.get("/api/v1/psirt/cases").status_code == 401
    admin = api.get("/api/v1/psirt/cases", headers=h(api, "ada"))
    assert admin.status_code == 200 and [c["reference"] for c in admin.json()["items"]] == [ref]
    assert api.get(f"/api/v1/psirt/cases/{ref}", headers=h(api, "ada")).json()["report"]["reporter"]["contact"] \
        == "rita@example.org"
    assert identity  # the fixture's accounts
