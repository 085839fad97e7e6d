"""Advisories, KEV and evidence packages over HTTP: uploads read by the CLI's readers (same
pointers on a bad document), roles checked before the body is read, packages by audience."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from fastapi.testclient import TestClient

from .test_api import ADVISORIES, SITE, api, h  # noqa: F401  (the fixture)


def test_an_uploaded_csaf_document_is_ingested_and_matched(api: TestClient) -> None:  # noqa: F811
    doc = json.loads((ADVISORIES / "zw-example-2026-001.json").read_text())
    doc["document"]["tracking"]["id"] = "ZW-API-UPLOAD-1"
    r = api.post("/api/v1/advisories?name=vendor.json", content=json.dumps(doc), headers=h(api, "ada"))
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "new" and r.json()["tracking_id"] == "ZW-API-UPLOAD-1"
    again = api.post("/api/v1/advisories", content=json.dumps(doc), headers=h(api, "ada"))
    assert again.json()["outcome"] == "unchanged"
    one = api.get("/api/v1/advisories/ZW-API-UPLOAD-1", headers=h(api, "vic")).json()
    assert [rev["version"] for rev in one["revisions"]] == [doc["document"]["tracking"]["version"]]


def test_a_broken_document_is_422_with_its_pointer_and_a_viewer_may_not_ingest(api: TestClient) -> None:  # noqa: F811
    doc = json.loads((ADVISORIES / "zw-example-2026-001.json").read_text())
    del doc["document"]["title"]
    r = api.post("/api/v1/advisories", content=json.dumps(doc), headers=h(api, "ada"))
    assert r.status_code == 422 and "/document/title" in r.json()["detail"], r.text
    r = api.post("/api/v1/advisories", content=json.dumps(doc), headers=h(api, "vic"))
    assert r.status_code == 403
    assert api.post("/api/v1/advisories", content=b"", headers=h(api, "ada")).status_code == 422


def test_kev_upload_over_the_general_body_limit_is_accepted_and_reprioritises(api: TestClient, shared_data) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    body = (shared_data / "kev" / "known_exploited_vulnerabilities.json").read_bytes()
    assert len(body) > 1024 * 1024  # the general limit would refuse it
    assert api.put("/api/v1/kev", content=body, headers=h(api, "vic")).status_code == 403
    r = api.put("/api/v1/kev", content=body, headers=h(api, "ada"))
    assert r.status_code == 200, r.text
    assert r.json()["entries"] > 1000
    assert api.get("/api/v1/kev", headers=h(api, "vic")).json()["entries"] == r.json()["entries"]
    bad = api.put("/api/v1/kev", content=b'{"vulnerabilities": [{"cveID": "nope"}]}', headers=h(api, "ada"))
    assert bad.status_code == 422 and bad.json()["errors"], bad.text


def test_a_package_by_audience_with_its_digest(api: TestClient) -> None:  # noqa: F811
    r = api.get(f"/api/v1/sites/{SITE}/report?audience=customer&format=json", headers=h(api, "vic"))
    assert r.status_code == 200, r.text
    digest = base64.b64encode(hashlib.sha256(r.content).digest()).decode()
    assert r.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert json.loads(r.content)["audience"] == "customer"
    html = api.get(f"/api/v1/sites/{SITE}/report?audience=auditor&format=html", headers=h(api, "vic"))
    assert html.status_code == 403  # the auditor package is for auditors
    html = api.get(f"/api/v1/sites/{SITE}/report?audience=auditor&format=html", headers=h(api, "ada"))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.headers["content-security-policy"].startswith("sandbox")
    assert api.get(f"/api/v1/sites/{SITE}/report", headers=h(api, "sam")).status_code == 404


@pytest.mark.parametrize("size", [2 * 1024 * 1024])
def test_the_general_body_limit_still_holds_elsewhere(api: TestClient, size: int) -> None:  # noqa: F811
    r = api.put(f"/api/v1/sites/{SITE}/requirements/ent/SR 1.1", content=b"x" * size,
                headers=h(api, "ada", **{"content-type": "application/json"}))
    assert r.status_code == 413
