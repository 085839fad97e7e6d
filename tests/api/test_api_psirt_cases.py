"""PSIRT case changes over HTTP: transitions with reasons, owners, the embargo and its members,
coordination parties, CVE records and the SSVC decision, each with If-Match on the case's
version (428 / 412), the role first (403), and embargoed details only to users inside it."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from zonewarden.services import identity

from .test_api import PW, api, h  # noqa: F401  (the fixture)

CANARY = "EMBARGO-CANARY-api-91c"
REPORT = {"reporter": {"name": "Rita Reporter", "contact": "rita@example.org"}, "product": "FlowCtl PLC",
          "version": "2.0", "title": f"{CANARY} firmware upload", "description": f"{CANARY}: upload without a password"}


@pytest.fixture()
def psirt_api(api: TestClient) -> TestClient:  # noqa: F811
    store = api.app.state.store  # type: ignore[attr-defined]
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    for name in ("ana", "bob"):
        identity.add_user(store, admin, name, name.title(), f"{name}'s long password")
        identity.grant_role(store, admin, name, "psirt-analyst", "*")
        api.tokens[name] = identity.create_token(store, admin, name)[1]  # type: ignore[attr-defined]
    return api


def _case(api: TestClient, ref: str, who: str = "ana") -> tuple[dict, str]:  # type: ignore[type-arg]  # noqa: F811
    r = api.get(f"/api/v1/psirt/cases/{ref}", headers=h(api, who))
    assert r.status_code == 200, r.text
    return r.json(), r.headers.get("ETag", "")


def test_case_changes_with_if_match_and_the_embargo_keeps_outsiders_out(psirt_api: TestClient) -> None:
    api = psirt_api  # noqa: F811
    ref = api.post("/api/v1/psirt/reports", content=json.dumps(REPORT)).json()["reference"]
    base = f"/api/v1/psirt/cases/{ref}"
    _, etag = _case(api, ref)
    assert api.post(f"{base}/acknowledgement", json={}, headers=h(api, "vic", **{"If-Match": etag})).status_code == 403
    assert api.post(f"{base}/acknowledgement", json={}, headers=h(api, "ana")).status_code == 428
    r = api.post(f"{base}/acknowledgement", json={"owners": ["ana"]}, headers=h(api, "ana", **{"If-Match": etag}))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "triage" and r.json()["owners"] == ["ana"] and r.headers["ETag"] != etag
    stale = api.post(f"{base}/transitions", json={"to": "validated"}, headers=h(api, "ana", **{"If-Match": etag}))
    assert stale.status_code == 412 and stale.headers["content-type"].startswith("application/problem+json")

    etag = r.headers["ETag"]
    r = api.post(f"{base}/transitions", json={"to": "validated", "reason": "reproduced on V2.0"},
                 headers=h(api, "ana", **{"If-Match": etag}))
    assert r.status_code == 200 and r.json()["state"] == "validated", r.text
    r = api.put(f"{base}/embargo", json={"until": "2099-01-15T09:00:00Z", "members": []},
                headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200, r.text
    assert r.json()["embargo"]["members"] == ["ana"]
    r = api.post(f"{base}/parties", json={"party": "CERT@VDE", "kind": "cert", "told": "details under embargo"},
                 headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200 and [p["name"] for p in r.json()["parties"]] == ["CERT@VDE"], r.text
    r = api.put(f"{base}/cves/CVE-2026-12345", json={"state": "reserved"},
                headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200 and r.json()["cves"][0]["state"] == "reserved", r.text
    bad = api.put(f"{base}/cves/not-a-cve", json={"state": "reserved"}, headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert bad.status_code == 422

    # Bob holds the same role but is outside the embargo: an outline, no version, no writes.
    outline, bob_etag = _case(api, ref, "bob")
    assert bob_etag == "" and CANARY not in json.dumps(outline) and "rita" not in json.dumps(outline)
    assert CANARY not in api.get("/api/v1/psirt/cases", headers=h(api, "bob")).text
    for method, path, body in (("post", "transitions", {"to": "remediation"}), ("patch", "owners", {"add": ["bob"]}),
                               ("put", "embargo", {"until": "2099-02-01T00:00:00Z", "members": ["bob"]}),
                               ("post", "parties", {"party": "x", "kind": "cert", "told": "y"})):
        denied = getattr(api, method)(f"{base}/{path}", json=body, headers=h(api, "bob", **{"If-Match": '"x"'}))
        assert denied.status_code == 403 and CANARY not in denied.text, (path, denied.text)
    assert api.post("/api/v1/psirt/cases/PSIRT-1999-0001/transitions", json={"to": "validated"},
                    headers=h(api, "ana", **{"If-Match": '"x"'})).status_code == 404

    # An owner lets Bob in: now he sees the details.
    _, etag = _case(api, ref)
    r = api.patch(f"{base}/owners", json={"add": ["bob"]}, headers=h(api, "ana", **{"If-Match": etag}))
    assert r.status_code == 200 and "bob" in r.json()["owners"], r.text
    inside, bob_etag = _case(api, ref, "bob")
    assert bob_etag and CANARY in json.dumps(inside)


def test_reject_needs_a_reason_and_ssvc_is_recorded(psirt_api: TestClient, shared_data: Path) -> None:
    api = psirt_api  # noqa: F811
    ref = api.post("/api/v1/psirt/reports", content=json.dumps(REPORT)).json()["reference"]
    base = f"/api/v1/psirt/cases/{ref}"
    _, etag = _case(api, ref)
    r = api.post(f"{base}/acknowledgement", json={}, headers=h(api, "ana", **{"If-Match": etag}))
    table = json.loads((shared_data / "ssvc/decision_tables/ssvc/coordinator_triage_1_0_0.json").read_text())
    inputs = {"RP": "N", "SCON": "Y", "RC": "C", "SC": "O", "SE": "A", "U": "L", "PSI": "M"}
    r = api.put(f"{base}/ssvc", json={"table": table, "inputs": inputs}, headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200, r.text
    assert {k.split(":")[1]: v for k, v in r.json()["coordinator"]["inputs"].items()} == inputs
    bad = api.put(f"{base}/ssvc", json={"table": table, "inputs": {**inputs, "RC": "maybe"}},
                  headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert bad.status_code == 422 and "RC=maybe" in bad.text
    no_reason = api.post(f"{base}/transitions", json={"to": "rejected"}, headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert no_reason.status_code in (409, 422) and "reason" in no_reason.text
    r = api.post(f"{base}/transitions", json={"to": "rejected", "reason": "not reproducible"},
                 headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text


@pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the gpg program (Debian package gnupg)")
def test_a_reply_is_encrypted_to_the_key_the_reporter_sent_and_needs_if_match(psirt_api: TestClient) -> None:
    api = psirt_api  # noqa: F811
    home = tempfile.mkdtemp(prefix="zwa-")  # the reporter's own keyring, short for gpg-agent's socket
    gpg = ["gpg", "--batch", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", ""]
    try:
        subprocess.run([*gpg, "--quick-gen-key", "Rita <rita@example.org>", "ed25519", "sign", "1y"], check=True,
                       capture_output=True)
        fpr = subprocess.run([*gpg, "--list-keys", "--with-colons"], check=True, capture_output=True,
                             text=True).stdout.split("\nfpr:::::::::")[1].split(":")[0]
        subprocess.run([*gpg, "--quick-add-key", fpr, "cv25519", "encr", "1y"], check=True, capture_output=True)
        public = subprocess.run([*gpg, "--armor", "--export", fpr], check=True, capture_output=True, text=True).stdout
        sent = api.post("/api/v1/psirt/reports",
                        content=json.dumps({**REPORT, "reporter": {**REPORT["reporter"], "encryption_key": public}}))
        assert sent.status_code == 201 and sent.json()["encryption_key_fingerprint"] == fpr, sent.text
        ref = sent.json()["reference"]
        base = f"/api/v1/psirt/cases/{ref}"
        _, etag = _case(api, ref)
        body = {"message": f"{CANARY}: fixed in 2.1"}
        assert api.post(f"{base}/replies", json=body, headers=h(api, "vic", **{"If-Match": etag})).status_code == 403
        assert api.post(f"{base}/replies", json=body, headers=h(api, "ana")).status_code == 428
        r = api.post(f"{base}/replies", json=body, headers=h(api, "ana", **{"If-Match": etag}))
        assert r.status_code == 201, r.text
        assert r.headers["cache-control"] == "no-store" and r.headers["ETag"] != etag
        armoured = r.json()["armoured"]
        assert CANARY not in armoured and r.json()["communication"]["fingerprint"] == fpr
        plain = subprocess.run([*gpg, "--decrypt"], input=armoured.encode(), check=True, capture_output=True).stdout
        assert plain.decode() == body["message"]
        shown, _ = _case(api, ref)
        assert [c["channel"] for c in shown["communications"]] == ["openpgp"]
        clear = api.post(f"{base}/replies", json={**body, "clear": True}, headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
        assert clear.status_code == 409 and "encryption key" in clear.text
        bad = api.put(f"{base}/reporter-key", json={"key": "<script>x</script>"},
                      headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
        assert bad.status_code == 422 and "not an armoured OpenPGP public key" in bad.text
        dropped = api.put(f"{base}/reporter-key", json={"key": None}, headers=h(api, "ana", **{"If-Match": r.headers["ETag"]}))
        assert dropped.status_code == 200 and dropped.json()["reporter_key"] is None, dropped.text
        clear = api.post(f"{base}/replies", json={**body, "clear": True},
                         headers=h(api, "ana", **{"If-Match": dropped.headers["ETag"]}))
        assert clear.status_code == 201 and clear.json()["armoured"] is None, clear.text
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)
