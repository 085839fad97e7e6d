"""What to act on, computed from a flattened advisory and its references (pure)."""

from __future__ import annotations

from typing import Any

from zonewarden.engines.advisory_actions import act_on
from zonewarden.engines.products import flatten_advisory


def _doc() -> dict[str, Any]:
    def branch(pid: str, version: str) -> dict[str, Any]:
        return {"category": "product_version", "name": version, "product": {"product_id": pid, "name": f"Relay {version}"}}

    return {
        "document": {
            "category": "csaf_security_advisory", "csaf_version": "2.0", "title": "Relay flaws",
            "publisher": {"category": "coordinator", "name": "CISA", "namespace": "https://www.cisa.gov/"},
            "references": [
                {"category": "self", "url": "https://raw.githubusercontent.com/cisagov/CSAF/x.json", "summary": "JSON"},
                {"category": "self", "url": "https://www.cisa.gov/news-events/ics-advisories/icsa-99-001-01", "summary": "web"},
                {"category": "external", "url": "https://cert.vendor.example/psirt/sa-1.pdf", "summary": "vendor"},
                {"category": "external", "url": "https://nvd.nist.gov/vuln/detail/CVE-2099-0001", "summary": "nvd"},
            ],
            "tracking": {"id": "ICSA-99-001-01", "version": "1", "status": "final",
                         "initial_release_date": "2099-01-01T00:00:00Z", "current_release_date": "2099-01-01T00:00:00Z",
                         "revision_history": [{"number": "1", "date": "2099-01-01T00:00:00Z", "summary": "x"}],
                         "generator": {"engine": {"name": "t"}}},
        },
        "product_tree": {"branches": [{"category": "vendor", "name": "Vendor", "branches": [
            {"category": "product_name", "name": "Relay", "branches": [branch("P1", "<4.5"), branch("P2", "<2.0")]}]}]},
        "vulnerabilities": [
            {"cve": "CVE-2099-0001", "cwe": {"id": "CWE-20", "name": "Improper Input Validation"},
             "product_status": {"known_affected": ["P1", "P2"]},
             "scores": [{"products": ["P1", "P2"], "cvss_v3": {"version": "3.1", "baseScore": 7.5, "baseSeverity": "HIGH",
                                                                "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}],
             "remediations": [
                 {"category": "vendor_fix", "details": "Update to V4.5", "product_ids": ["P1"],
                  "url": "https://support.vendor.example/fw/4.5"},
                 {"category": "vendor_fix", "details": "Update to V2.0", "product_ids": ["P2"]},
                 {"category": "mitigation", "details": "Block port 80 at the cell firewall", "product_ids": ["P1", "P2"]},
             ]},
            {"cve": "CVE-2099-0002", "product_status": {"known_affected": ["P1"]},
             "remediations": [{"category": "workaround", "details": "Disable the web server", "product_ids": ["P1"]}]},
        ],
    }


def test_a_finding_gets_cvss_cwe_its_remediations_and_urls() -> None:
    doc = _doc()
    act = act_on(flatten_advisory(doc), doc["document"]["references"], ["P1"])
    assert [(v.cve, v.cwe, v.cvss_base_score, v.cvss_version) for v in act.vulnerabilities] == [
        ("CVE-2099-0001", "CWE-20", 7.5, "3.1"), ("CVE-2099-0002", None, None, None)]
    assert act.vulnerabilities[0].cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    # Only P1's remediations, fix first; the fixed version read from the text.
    assert [(r.category, [str(v) for v in r.fixed], r.cves) for r in act.remediations] == [
        ("vendor_fix", ["4.5"], ("CVE-2099-0001",)),
        ("mitigation", [], ("CVE-2099-0001",)),
        ("workaround", [], ("CVE-2099-0002",)),
    ]
    assert act.cisa_urls == ("https://www.cisa.gov/news-events/ics-advisories/icsa-99-001-01",)
    assert act.vendor_urls == ("https://cert.vendor.example/psirt/sa-1.pdf", "https://support.vendor.example/fw/4.5")
    # CVE-2099-0002 has no vendor fix: no single version closes the finding.
    assert act.fixed_by is None
    assert act.as_json()["fixed_by"] is None


def test_fixed_by_when_every_vulnerability_has_a_vendor_fix() -> None:
    doc = _doc()
    doc["vulnerabilities"].pop()
    act = act_on(flatten_advisory(doc), doc["document"]["references"], ["P2"])
    assert str(act.fixed_by) == "2.0"
    assert act.as_json()["remediations"][0]["fixed_versions"] == ["2.0"]
