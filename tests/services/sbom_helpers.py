"""Builders of CycloneDX SBOMs and CSAF advisories with product identification helpers (tests)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "examples" / "pharma-plant"
BASE = ROOT / "examples" / "advisories" / "zw-example-2026-001.json"
# A supplier VEX about the example plant's ControlLogix (tests of vex import and of VEX through ingest).
CVE = "CVE-2099-0001"
LOGIX = {"vendor": "Rockwell Automation", "product": "ControlLogix 5580 controllers"}
NOT_IN_PATH = {
    "flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["V1"]}],
    "threats": [{"category": "impact", "details": "The web server is not compiled into this firmware.", "product_ids": ["V1"]}],
}


def sbom(components: list[dict[str, Any]], *, spec: str = "1.5", vulnerabilities: list[dict[str, Any]] | None = None,
         manufacturer: str | None = "Siemens") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX", "specVersion": spec, "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"component": {"type": "firmware", "name": "PLC firmware", "version": "2.9"}},
        "components": components,
    }
    if manufacturer:
        doc["metadata"]["supplier"] = {"name": manufacturer}
    if vulnerabilities is not None:
        doc["vulnerabilities"] = vulnerabilities
    return doc


def lib(name: str, version: str, *, purl: str | None = None, cpe: str | None = None, ref: str | None = None,
        supplier: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"type": "library", "name": name, "version": version}
    if purl:
        c["purl"] = purl
    if cpe:
        c["cpe"] = cpe
    if ref:
        c["bom-ref"] = ref
    if supplier:
        c["supplier"] = {"name": supplier}
    return c


def advisory(tracking_id: str, products: list[dict[str, Any]], *, cve: str = "CVE-2023-0286",
             publisher: str = "zonewarden examples", status: str = "known_affected", category: str = "csaf_security_advisory",
             extra_vuln: dict[str, Any] | None = None) -> bytes:
    """A CSAF document whose product tree is one vendor/product_name/version branch per entry in
    ``products`` (keys: vendor, product, version, range, id, helper) and one vulnerability."""
    doc = json.loads(BASE.read_text(encoding="utf-8"))
    doc["document"]["tracking"]["id"] = tracking_id
    doc["document"]["category"] = category
    doc["document"]["publisher"] = {**doc["document"]["publisher"], "name": publisher,
                                    "category": "vendor" if publisher != "zonewarden examples" else "other"}
    branches = []
    for p in products:
        leaf = {"category": "product_version_range" if "range" in p else "product_version",
                "name": p.get("range") or p["version"],
                "product": {"name": f"{p['vendor']} {p['product']} {p.get('range') or p['version']}", "product_id": p["id"]}}
        if p.get("helper"):
            leaf["product"]["product_identification_helper"] = p["helper"]
        branches.append({"category": "vendor", "name": p["vendor"], "branches": [
            {"category": "product_name", "name": p["product"], "branches": [leaf]}]})
    doc["product_tree"] = {"branches": branches}
    vuln = copy.deepcopy(doc["vulnerabilities"][0])
    vuln.pop("ids", None)
    vuln["cve"] = cve
    vuln["product_status"] = {status: [p["id"] for p in products]}
    for key in ("scores", "remediations"):
        vuln.pop(key, None)
    if status == "known_affected":
        vuln["remediations"] = [{"category": "vendor_fix", "details": "Update.", "product_ids": [p["id"] for p in products]}]
    vuln.update(extra_vuln or {})
    doc["vulnerabilities"] = [vuln]
    return json.dumps(doc, indent=1).encode()
