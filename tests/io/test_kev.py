"""Reading CISA's KEV catalog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from zonewarden.io.kev import KevError, RansomwareUse, load_kev, parse_kev


def _catalog(*vulns: dict, count: int | None = None) -> bytes:
    return orjson.dumps(
        {
            "title": "CISA Catalog of Known Exploited Vulnerabilities",
            "catalogVersion": "2025.01.02",
            "dateReleased": "2025-01-02T15:00:00.000Z",
            "count": len(vulns) if count is None else count,
            "vulnerabilities": list(vulns),
        }
    )


GOOD = {
    "cveID": "CVE-2021-44228",
    "vendorProject": "Apache",
    "product": "Log4j2",
    "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
    "dateAdded": "2021-12-10",
    "dueDate": "2021-12-24",
    "knownRansomwareCampaignUse": "Known",
    "requiredAction": "Apply updates per vendor instructions.",
    "cwes": ["CWE-20", "CWE-400"],
}


@pytest.mark.shared
def test_real_catalog(shared_data: Path) -> None:
    kev = load_kev(shared_data / "kev/known_exploited_vulnerabilities.json")
    assert kev.version == "2025.08.25" and len(kev) == 1404
    assert "CVE-2025-48384" in kev and "cve-2025-48384" in kev and "CVE-1999-0001" not in kev
    entry = kev.get("CVE-2025-48384")
    assert entry.vendor == "Git" and entry.date_added == dt.date(2025, 8, 25) and entry.due_date == dt.date(2025, 9, 15)
    assert [e.cve for e in kev.entries] == sorted(kev.cves)
    assert {e.ransomware for e in kev} == {RansomwareUse.KNOWN, RansomwareUse.UNKNOWN}


def test_parse_entry() -> None:
    kev = parse_kev(_catalog(GOOD))
    e = kev.get("CVE-2021-44228")
    assert e.ransomware is RansomwareUse.KNOWN and e.cwes == ("CWE-20", "CWE-400") and e.product == "Log4j2"
    assert kev.released.tzinfo is not None


def test_every_problem_is_reported_with_its_pointer() -> None:
    bad = [
        {**GOOD, "cveID": "CVE-21-1"},
        {**GOOD, "cveID": "CVE-2022-0001", "dateAdded": "10/12/2021"},
        {k: v for k, v in GOOD.items() if k != "product"} | {"cveID": "CVE-2022-0002"},
        GOOD,
        GOOD,
        {**GOOD, "cveID": "CVE-2022-0003", "knownRansomwareCampaignUse": "Maybe"},
    ]
    with pytest.raises(KevError) as err:
        parse_kev(_catalog(*bad, count=10), source="kev.json")
    got = {(p.pointer, p.file) for p in err.value.problems}
    assert ("vulnerabilities[0].cveID", "kev.json") in got
    assert ("vulnerabilities[1].dateAdded", "kev.json") in got
    assert ("vulnerabilities[2].product", "kev.json") in got
    assert ("vulnerabilities[4].cveID", "kev.json") in got  # listed twice
    assert ("vulnerabilities[5].knownRansomwareCampaignUse", "kev.json") in got
    assert ("count", "kev.json") in got
    assert "kev.json" in str(err.value) and "truncated" in str(err.value)


def test_not_a_catalog() -> None:
    with pytest.raises(KevError, match="not JSON"):
        parse_kev(b"{oops", source="x.json")
    with pytest.raises(KevError) as err:
        parse_kev(orjson.dumps({"title": "x"}))
    assert {p.pointer for p in err.value.problems} >= {"catalogVersion", "dateReleased", "vulnerabilities"}
    with pytest.raises(KevError, match="cannot read"):
        load_kev("/nonexistent/kev.json")
