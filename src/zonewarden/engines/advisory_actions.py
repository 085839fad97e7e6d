"""What to act on for a finding (issue 14): CVEs with CVSS and CWE, the advisory's remediations
(vendor fixes with the fixed version read where the text names one, mitigations, workarounds),
the vendor's and CISA's pages.

Computed from the stored advisory (flattened) and its document references, for the product
entries a finding matched: nothing here is stored per finding row (issue 17 kept rows compact).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from zonewarden.domain.advisories import FlatAdvisory
from zonewarden.engines.matching import named_versions
from zonewarden.engines.versions import OTVersion

_CISA_HOSTS = ("cisa.gov", "us-cert.gov")
_NOT_VENDOR_HOSTS = _CISA_HOSTS + ("nvd.nist.gov", "cve.org", "cve.mitre.org", "cwe.mitre.org", "first.org",
                                   "githubusercontent.com", "github.com")
FIX_CATEGORIES = ("vendor_fix", "mitigation", "workaround", "no_fix_planned", "none_available")
"""CSAF remediation categories in the order a person reads them (fix first)."""


@dataclass(frozen=True, slots=True)
class VulnerabilityFacts:
    cve: str | None
    title: str | None
    cwe: str | None
    cvss_version: str | None
    cvss_vector: str | None
    cvss_base_score: float | None

    def as_json(self) -> dict[str, Any]:
        return {"cve": self.cve, "title": self.title, "cwe": self.cwe,
                "cvss": None if self.cvss_vector is None else
                {"version": self.cvss_version, "vector": self.cvss_vector, "base_score": self.cvss_base_score}}


@dataclass(frozen=True, slots=True)
class RemediationFacts:
    category: str
    details: str
    url: str | None
    fixed: tuple[OTVersion, ...]
    """Versions a vendor fix names (``Update to V4.5`` -> ``V4.5``); empty when none is written."""
    cves: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"category": self.category, "details": self.details, "url": self.url,
                "fixed_versions": [str(v) for v in self.fixed], "cves": list(self.cves)}


@dataclass(frozen=True, slots=True)
class ActOn:
    """What a finding asks the engineer to do, and where to read more."""

    vulnerabilities: tuple[VulnerabilityFacts, ...]
    remediations: tuple[RemediationFacts, ...]
    cisa_urls: tuple[str, ...]
    vendor_urls: tuple[str, ...]

    @property
    def fixed_by(self) -> OTVersion | None:
        """The version that closes every vulnerability of the finding: the highest fixed version
        the vendor fixes name when every vulnerability has one; None otherwise."""
        cves = {v.cve or v.title or "" for v in self.vulnerabilities}
        covered: set[str] = set()
        best: OTVersion | None = None
        for r in self.remediations:
            if r.category != "vendor_fix" or not r.fixed:
                continue
            covered.update(r.cves)
            for v in r.fixed:
                if best is None or (v.scheme == best.scheme and v > best):
                    best = v
        return best if best is not None and cves <= covered else None

    def as_json(self) -> dict[str, Any]:
        fixed = self.fixed_by
        return {"vulnerabilities": [v.as_json() for v in self.vulnerabilities],
                "remediations": [r.as_json() for r in self.remediations],
                "fixed_by": str(fixed) if fixed is not None else None,
                "cisa_urls": list(self.cisa_urls), "vendor_urls": list(self.vendor_urls)}


def _host_in(url: str, hosts: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


def act_on(flat: FlatAdvisory, references: Iterable[Mapping[str, Any]], product_ids: Iterable[str]) -> ActOn:
    """The facts to act on for the advisory's entries ``product_ids`` (those a finding matched).

    A vulnerability counts when it gives one of them a status; a score or remediation when it
    names one of them (or names no product at all). The best CVSS score per vulnerability is
    the newest CVSS version's, then the highest base score.
    """
    pids = set(product_ids)
    vulns: list[VulnerabilityFacts] = []
    rems: dict[tuple[str, str, str | None], list[str]] = {}
    for i, v in enumerate(flat.vulnerabilities):
        if not any(pids.intersection(ids) for ids in v.status.values()):
            continue
        label = v.cve or v.title or f"vulnerability {i + 1}"
        scores = [s for s in v.scores if not s.products or pids.intersection(s.products)]
        best = max(scores, key=lambda s: (s.version, s.base_score or 0.0), default=None)
        vulns.append(VulnerabilityFacts(v.cve, v.title, v.cwe, best.version if best else None,
                                        best.vector if best else None, best.base_score if best else None))
        for r in v.remediations:
            if r.product_ids and not pids.intersection(r.product_ids):
                continue
            rems.setdefault((r.category, r.details, r.url), []).append(label)
    order = {c: n for n, c in enumerate(FIX_CATEGORIES)}
    remediations = tuple(
        RemediationFacts(cat, details, url,
                         tuple(dict.fromkeys(named_versions(details))) if cat == "vendor_fix" else (),
                         tuple(dict.fromkeys(cves)))
        for (cat, details, url), cves in sorted(rems.items(), key=lambda kv: order.get(kv[0][0], 99))
    )
    cisa: dict[str, None] = {}
    vendor: dict[str, None] = {}
    for ref in references:
        url = ref.get("url") if isinstance(ref, Mapping) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        if _host_in(url, _CISA_HOSTS):
            if ref.get("category") == "self" and not url.endswith(".json"):
                cisa[url] = None
        elif not _host_in(url, _NOT_VENDOR_HOSTS):
            vendor[url] = None
    for fix in remediations:
        if fix.url and fix.url.startswith(("http://", "https://")) and not _host_in(fix.url, _NOT_VENDOR_HOSTS):
            vendor[fix.url] = None
    return ActOn(tuple(vulns), remediations, tuple(cisa), tuple(vendor))


__all__ = ["FIX_CATEGORIES", "ActOn", "RemediationFacts", "VulnerabilityFacts", "act_on"]
