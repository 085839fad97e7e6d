"""CSAF 2.0 authoring: build a ``csaf_security_advisory`` or ``csaf_vex`` document from a PSIRT
case and the supplier's product register (issue 16).

Pure: the case, the register, the policy, the revision history and the time are handed in.
The product tree is generated from the register (vendor -> product name -> one
``product_version`` branch per affected or fixing version), never typed. Versioning is CSAF's
integer versioning (section 3.1.11.5.1): the n-th published revision is version ``n`` and its
``revision_history`` holds every earlier revision plus this one, so a revision keeps its
tracking id and history. What is built is checked by the strict reader before it is published
(``services.psirt_publish``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zonewarden import __version__
from zonewarden.domain import psirt as d
from zonewarden.errors import InputError
from zonewarden.io.csaf.cvss import V3_BASE, V3_METRICS, parse_vector, scores_v3, severity_v3
from zonewarden.io.csaf.identifiers import cwe_catalog


@dataclass(frozen=True, slots=True)
class Revision:
    date: dt.datetime
    number: str
    summary: str


def csaf_time(at: dt.datetime) -> str:
    """CSAF date-time: UTC with milliseconds and ``Z``."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def file_name(tracking_id: str) -> str:
    """The file name CSAF 2.0 section 5.1 derives from the tracking id."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def product_id(product: str, version: str) -> str:
    return "CSAFPID-" + re.sub(r"[^A-Za-z0-9]+", "-", f"{product}-{version}").strip("-")


def _cwe(assessment: d.Assessment) -> dict[str, str] | None:
    if assessment.cwe is None:
        return None
    name = assessment.cwe_name
    if name is None:
        catalog = cwe_catalog()
        entry = catalog.get(assessment.cwe[4:]) if catalog else None
        history = entry.get("history") if isinstance(entry, dict) else None
        if not history:
            raise InputError(f"{assessment.cwe}: give its name (--cwe-name); the CWE catalogue is not installed "
                             "to look it up")
        name = history[-1][1]
    return {"id": assessment.cwe, "name": name}


def _cvss(vector: str, product_ids: list[str]) -> dict[str, Any]:
    parsed = parse_vector(vector)
    if parsed is None or parsed.version not in ("3.0", "3.1"):
        raise InputError(f"{vector!r} is not a CVSS v3.0/v3.1 vector")
    base = scores_v3(parsed)["baseScore"]
    obj: dict[str, Any] = {"version": parsed.version, "vectorString": parsed.vector, "baseScore": base,
                           "baseSeverity": severity_v3(base)}
    for key in V3_BASE:
        obj[V3_METRICS[key][0]] = parsed.metrics[key]
    return {"cvss_v3": obj, "products": product_ids}


def build_advisory(
    case: d.Case,
    register: Sequence[d.Product],
    policy: d.DisclosurePolicy,
    *,
    tracking_id: str,
    history: Sequence[Revision],
    self_url: str,
) -> dict[str, Any]:
    """The CSAF document of ``case`` at the newest revision of ``history`` (oldest first)."""
    if not history:
        raise ValueError("history needs at least the revision being published")
    if case.assessment is None:
        raise InputError(f"case {case.reference}: record the assessment (psirt assess) before building the advisory")
    if not case.affected:
        raise InputError(f"case {case.reference}: record the affected versions (psirt affects) first")
    by_id = {p.id: p for p in register}
    vendors: dict[str, list[dict[str, Any]]] = {}
    affected_ids: list[str] = []
    fixed_ids: list[str] = []
    fixes: list[tuple[str, list[str]]] = []
    for entry in case.affected:
        product = by_id.get(entry.product)
        if product is None:
            raise InputError(f"case {case.reference}: product {entry.product!r} is no longer in the register")
        versions = [*entry.versions, *([entry.fixed] if entry.fixed else [])]
        leaves = []
        ids = []
        for version in versions:
            pid = product_id(product.id, version)
            leaf: dict[str, Any] = {"category": "product_version", "name": version,
                                    "product": {"product_id": pid, "name": f"{product.vendor} {product.name} {version}"}}
            if product.cpe is not None:
                leaf["product"]["product_identification_helper"] = {"cpe": product.cpe}
            leaves.append(leaf)
            ids.append(pid)
        affected_now = ids[: len(entry.versions)]
        affected_ids += affected_now
        if entry.fixed:
            fixed_ids.append(ids[-1])
            fixes.append((entry.fixed, affected_now))
        vendors.setdefault(product.vendor, []).append(
            {"category": "product_name", "name": product.name, "branches": leaves})
    branches = [{"category": "vendor", "name": vendor, "branches": names} for vendor, names in sorted(vendors.items())]

    a = case.assessment
    vuln: dict[str, Any] = {"title": case.report.title}
    cves = [c.cve for c in case.cves]
    if cves:
        vuln["cve"] = cves[0]
    else:
        vuln["ids"] = [{"system_name": policy.publisher_name, "text": case.reference}]
    cwe = _cwe(a)
    if cwe:
        vuln["cwe"] = cwe
    vuln["notes"] = [{"category": "description", "title": "Vulnerability description", "text": a.summary}]
    status: dict[str, list[str]] = {"known_affected": affected_ids}
    if fixed_ids:
        status["fixed"] = fixed_ids
    vuln["product_status"] = status
    remediations: list[dict[str, Any]] = []
    for fixed, ids in fixes:
        remediations.append({"category": "vendor_fix", "details": a.remediation or f"Update to version {fixed} or later.",
                             "product_ids": ids})
    if a.workaround:
        remediations.append({"category": "workaround", "details": a.workaround, "product_ids": affected_ids})
    unfixed = [p for p in affected_ids if not any(p in ids for _, ids in fixes)]
    if unfixed and not a.workaround:
        remediations.append({"category": "none_available", "details": a.remediation or "No fix is available yet.",
                             "product_ids": unfixed})
    vuln["remediations"] = remediations
    if a.cvss_v3:
        vuln["scores"] = [_cvss(a.cvss_v3, affected_ids)]
    if a.impact:
        vuln["threats"] = [{"category": "impact", "details": "Affects " + ", ".join(a.impact.split(",")) + ".",
                            "product_ids": affected_ids}]
    if case.cves and len(cves) > 1:
        vuln["notes"].append({"category": "other", "title": "Further CVE ids", "text": ", ".join(cves[1:])})

    newest = history[-1]
    document: dict[str, Any] = {
        "category": case.category,
        "csaf_version": "2.0",
        "title": case.report.title,
        "lang": policy.languages[0],
        "publisher": {"category": "vendor", "name": policy.publisher_name, "namespace": policy.publisher_namespace,
                      "contact_details": policy.contact},
        "distribution": {"tlp": {"label": case.tlp, "url": "https://www.first.org/tlp/"}},
        "notes": [{"category": "summary", "title": "Summary", "text": a.summary}],
        "references": [{"category": "self", "summary": "This advisory", "url": self_url}],
        "tracking": {
            "id": tracking_id,
            "status": "final",
            "version": newest.number,
            "initial_release_date": csaf_time(history[0].date),
            "current_release_date": csaf_time(newest.date),
            "revision_history": [{"date": csaf_time(r.date), "number": r.number, "summary": r.summary} for r in history],
            "generator": {"engine": {"name": "zonewarden", "version": __version__}, "date": csaf_time(newest.date)},
        },
    }
    if policy.policy_url:
        document["references"].append({"category": "external", "summary": "Disclosure policy", "url": policy.policy_url})
    if case.report.reporter.credit and case.report.reporter.name:
        document["acknowledgments"] = [{"names": [case.report.reporter.name],
                                        "summary": "for reporting this vulnerability in coordinated disclosure"}]
    return {"document": document, "product_tree": {"branches": branches}, "vulnerabilities": [vuln]}
