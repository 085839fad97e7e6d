"""Publishing a PSIRT case: CSAF authoring under strict validation, revisions, the provider
folder, and the round trip through `advisories sync` into a plant that uses the product."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

import support_csaf_provider as S
from zonewarden.domain import psirt as d
from zonewarden.errors import ConflictError, InputError
from zonewarden.io.csaf import read_csaf
from zonewarden.io.csaf.author_provider import provider_metadata_deviations
from zonewarden.io.csaf.sync import SyncOptions
from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories, psirt, psirt_publish, sites
from zonewarden.services.csaf_sync import sync
from zonewarden.services.principal import local_principal

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "examples" / "pharma-plant"
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
ME = local_principal(name="psirt-lead")
BASE = "http://127.0.0.1:1"  # rewritten per test when served






def _case(store, *, category: str = "csaf_security_advisory", cwe_name: str | None = None) -> str:  # type: ignore[no-untyped-def]
    psirt.add_product(store, d.Product(id="sc646", vendor="Siemens", name="SCALANCE SC646-2C",
                                       versions=("V2.0", "V2.2", "V3.0", "V3.0.1", "V3.1")), principal=ME)
    report = psirt.parse_report(json.dumps({
        "reporter": {"name": "Rita Reporter", "contact": "rita@example.org", "credit": True},
        "product": "SCALANCE SC646-2C", "version": "V2.2", "title": "Web UI accepts unauthenticated config writes",
        "description": "<script>alert(1)</script>"}).encode(), source="r.json")
    ref = psirt.intake(store, report, principal=ME, now=T0).reference
    psirt.acknowledge(store, ref, principal=ME, now=T0)
    psirt.transition(store, ref, d.CaseState.VALIDATED, principal=ME, now=T0)
    psirt.set_embargo(store, ref, T0 + dt.timedelta(days=30), principal=ME, members=["cert-liaison"], now=T0)
    psirt.record_cve(store, ref, "CVE-2026-40001", d.CveState.RESERVED, principal=ME, now=T0)
    psirt.record_affected(store, ref, "sc646", "<V3.0.1", fixed="V3.0.1", principal=ME, now=T0)
    psirt.assess(store, ref, d.Assessment(
        summary="The web interface accepts configuration writes without a session.",
        cvss_v3="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", impact="availability,integrity",
        cwe="CWE-306" if cwe_name else None, cwe_name=cwe_name,
        remediation="Update to V3.0.1 or later."), category=category, principal=ME, now=T0)
    psirt.transition(store, ref, d.CaseState.COORDINATED_RELEASE, principal=ME, now=T0)
    return ref


def test_built_advisory_passes_strict_validation_with_a_generated_product_tree(store) -> None:  # type: ignore[no-untyped-def]
    ref = _case(store)
    doc, problems = psirt_publish.build(store, ref, principal=ME, base_url=BASE, now=T0 + dt.timedelta(days=31))
    assert problems == []
    [vendor] = doc["product_tree"]["branches"]
    versions = [b["name"] for b in vendor["branches"][0]["branches"]]
    assert versions == ["V2.0", "V2.2", "V3.0", "V3.0.1"]  # affected (below V3.0.1) + the fix, from the register
    vuln = doc["vulnerabilities"][0]
    assert vuln["cve"] == "CVE-2026-40001" and vuln["scores"][0]["cvss_v3"]["baseScore"] == 9.8
    assert vuln["product_status"]["fixed"] == ["CSAFPID-sc646-V3-0-1"]
    assert "rita@example.org" not in json.dumps(doc) and "<script>" not in json.dumps(doc)


def test_embargo_and_state_gate_publication_and_a_failing_mandatory_test_names_test_and_pointer(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref = _case(store, cwe_name="Not the name of CWE-306")
    out = tmp_path / "out"
    with pytest.raises(ConflictError, match="under embargo until"):
        psirt_publish.publish(store, ref, principal=ME, out_dir=out, base_url=BASE, signer=None, now=T0)
    later = T0 + dt.timedelta(days=31)
    with pytest.raises(InputError, match=r"test 6\.1\.11 at /vulnerabilities/0/cwe"):
        psirt_publish.publish(store, ref, principal=ME, out_dir=out, base_url=BASE, signer=None, now=later)
    assert not out.exists()  # nothing written
    assert psirt.show_case(store, ref, principal=ME)["state"] == "coordinated_release"


def test_revision_keeps_tracking_id_and_history_and_provider_metadata_is_schema_valid(store, tmp_path: Path, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    ref = _case(store, category="csaf_vex")
    later = T0 + dt.timedelta(days=31)
    first = psirt_publish.publish(store, ref, principal=ME, out_dir=tmp_path, base_url=BASE, signer=None, now=later)
    second = psirt_publish.publish(store, ref, principal=ME, out_dir=tmp_path, base_url=BASE, signer=None,
                                   summary="Added the workaround", now=later + dt.timedelta(days=2))
    assert (first.tracking_id, first.version) == ("PSIRT-2026-0001", 1)
    assert (second.tracking_id, second.version) == ("PSIRT-2026-0001", 2)
    doc = json.loads((tmp_path / second.path).read_text())
    hist = doc["document"]["tracking"]["revision_history"]
    assert [h["number"] for h in hist] == ["1", "2"] and hist[1]["summary"] == "Added the workaround"
    assert doc["document"]["tracking"]["initial_release_date"] == hist[0]["date"]
    assert read_csaf((tmp_path / second.path).read_bytes(), source="x", strict=True).accepted
    meta = json.loads((tmp_path / ".well-known/csaf/provider-metadata.json").read_text())
    assert meta["publisher"]["category"] == "vendor"
    assert [dv for dv in provider_metadata_deviations(meta)] == []
    # The same schema, read straight from the shared OASIS folder, agrees.
    import jsonschema
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    oasis = shared_data / "csaf/oasis/csaf_2.0/json_schema"
    csaf_schema = json.loads((oasis / "csaf_json_schema.json").read_text())
    reg = Registry().with_resource(csaf_schema["$id"], DRAFT202012.create_resource(csaf_schema))
    jsonschema.Draft202012Validator(json.loads((oasis / "provider_json_schema.json").read_text()), registry=reg).validate(meta)
    sec = (tmp_path / ".well-known/security.txt").read_text()
    assert "Contact: mailto:" in sec and "Expires: " in sec and "CSAF: " in sec
    assert (tmp_path / ".well-known/csaf/white/index.txt").read_text() == "2026/psirt-2026-0001.json\n"
    assert psirt.show_case(store, ref, principal=ME)["cves"][0]["state"] == "published"
    assert [a["version"] for a in psirt_publish.advisories(store, principal=ME)] == [1, 2]


def test_disclosure_page_escapes_the_recorded_process(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    psirt.set_policy(store, d.DisclosurePolicy(publisher_name="ACME <b>PSIRT</b>",
                                               process=("<script>alert(1)</script>",)), principal=ME)
    ref = _case(store)
    psirt_publish.publish(store, ref, principal=ME, out_dir=tmp_path, base_url=BASE, signer=None,
                          now=T0 + dt.timedelta(days=31))
    page = (tmp_path / "disclosure-policy.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "ACME &lt;b&gt;PSIRT&lt;/b&gt;" in page


def _secret_key(gpg) -> bytes:  # type: ignore[no-untyped-def]
    return subprocess.run(["gpg", "--batch", "--homedir", str(gpg.home), "--pinentry-mode", "loopback",
                           "--passphrase", "", "--armor", "--export-secret-keys"],
                          capture_output=True, check=True).stdout


def test_published_folder_syncs_back_verified_and_matches_the_example_plant(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gpg = S.Gpg("ACME PSIRT <psirt@acme.test>")
    try:
        secret = _secret_key(gpg)
        site = load_site(PLANT)
        sites.import_documents(store, [site], principal=ME)
        ref = _case(store)
        folder = tmp_path / "provider"
        with S.serve(folder) as (base, _faults):
            with psirt_publish.Signer(secret, passphrase="") as signer:
                res = psirt_publish.publish(store, ref, principal=ME, out_dir=folder, base_url=base, signer=signer,
                                            now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31))
            assert (folder / (res.path + ".asc")).exists()
            opts = SyncOptions(timeout=5, retries=0, backoff=0, workers=2, allow_insecure=True)
            report = sync(store, f"{base}/.well-known/csaf/provider-metadata.json", key=gpg.public_key, strict=True,
                          options=opts, principal=ME)
        assert report.ok, report.failed
        assert report.signatures_checked
        assert report.ingested["new"] == 1
        found = {f.asset_id: f.status for f in advisories.list_findings(store, principal=ME, advisory=res.tracking_id)}
        assert found.get("dmz-fw-a") == "affected"  # V2.2 is below the fix
        assert found.get("dmz-fw-b") in (None, "fixed", "not-affected")  # V3.0.1 is the fix
    finally:
        gpg.close()


def test_folder_is_rebuilt_from_the_database_and_an_unchecked_schema_is_said(store, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ref = _case(store)
    out = tmp_path / "site"
    res = psirt_publish.publish(store, ref, principal=ME, out_dir=out, base_url=BASE, signer=None,
                                now=T0 + dt.timedelta(days=31))
    assert res.notes == ()
    published = (out / res.path).read_bytes()
    again = tmp_path / "again"
    from zonewarden.io.csaf import author_provider

    monkeypatch.setattr(author_provider, "provider_schema_path", lambda: None)
    n, notes = psirt_publish.write_folder(store, principal=ME, out_dir=again, base_url=BASE, signer=None)
    assert (again / res.path).read_bytes() == published and n == res.files
    assert notes and "not checked" in notes[0]
    assert oct((again / res.path).stat().st_mode & 0o777) == "0o644"
    assert oct((again / ".well-known").stat().st_mode & 0o777) == "0o755"
