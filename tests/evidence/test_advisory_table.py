"""The auditor package's advisory table (issue 15.3): CVE, CVSS base score and version from the
stored advisory, priority, status, decision and decider; a signed decision names the signer by
the full name of the e-signature."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services import identity, sites
from zonewarden.services.principal import local_principal
from zonewarden.services.queries.report import report
from zonewarden.services.signatures import Signing

ROOT = Path(__file__).resolve().parents[2]
SITE = "rheinfeld-os"
PW = "quality signs here"


def test_findings_carry_cvss_and_the_signers_full_name(store) -> None:  # type: ignore[no-untyped-def]
    local = local_principal(name="setup")
    sites.import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], principal=local)
    svc.ingest_bytes(store, svc.read_items(svc.iter_paths([ROOT / "examples" / "advisories"])), principal=local)
    identity.add_user(store, local, "ada", "Ada Admin", "administrator pass")
    admin = identity.authenticate_password(store, "ada", "administrator pass")
    identity.add_user(store, admin, "quinn", "Quinn Q. Quality", PW)
    identity.grant_role(store, admin, "quinn", "quality", SITE)
    quinn = identity.authenticate_password(store, "quinn", PW)

    found = svc.list_findings(store, principal=local)
    affected = next(f for f in found if f.status == "affected" and f.cves)
    other = next(f for f in found if f.id != affected.id and f.status == "affected")
    svc.decide(store, affected.id, "under-assessment", "checking the unit", principal=local_principal(name="eng"),
               today=dt.date.today())
    svc.decide(store, affected.id, "not-affected", "the vulnerable service is disabled on this unit",
               principal=quinn, today=dt.date.today(), signing=Signing(PW, meaning="closed as quality"))
    svc.decide(store, other.id, "under-assessment", "asking the OEM", principal=local_principal(name="ann"),
               today=dt.date.today())

    result = report(store, principal=local, site_id=SITE, audience="auditor", formats=["html"])
    section = next(s for s in result.package.sections if s.id == "advisories")
    rows = {f["id"]: f for f in section.data["findings"]}
    row = rows[affected.id]
    assert row["cvss"], "no CVSS from the stored advisory"
    assert {c["cve"] for c in row["cvss"]} <= set(row["cves"])
    assert all(0.0 <= c["base_score"] <= 10.0 and c["version"].startswith(("3", "2")) for c in row["cvss"])
    assert row["decider"] == "Quinn Q. Quality"
    assert row["signature"]["meaning"] == "closed as quality" and row["signature"]["status"] == "valid"
    assert rows[other.id]["decider"] == "ann" and rows[other.id]["signature"] is None
    html = result.files["evidence-auditor.html"].decode()
    assert "<th>CVSS (base, version)</th>" in html
    score = row["cvss"][0]
    assert f"{score['base_score']} (v{score['version']})" in html
    assert "decided by Quinn Q. Quality (e-signature, closed as quality" in html

    customer = report(store, principal=local, site_id=SITE, audience="customer", formats=["html"])
    text = customer.files["evidence-customer.html"].decode()
    assert "Quinn" not in text and "CVSS (base" not in text
