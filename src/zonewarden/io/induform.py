"""Import of InduForm project files (an open-source zone/conduit modelling tool).

InduForm writes one YAML (or JSON) file: ``project``, ``zones`` (``type`` among enterprise,
dmz, site, area, cell, safety; nested ``assets``) and ``conduits`` (``from_zone``/``to_zone``
with ``flows``). We map what has an equivalent and report, one line each, what has none, so a
user moving over knows exactly what to fill in by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.errors import Problem, SiteFileError
from zonewarden.io import yamlio
from zonewarden.io.sitefile import pydantic_problems
from zonewarden.wording import count

ZONE_TYPES: dict[str, tuple[str, float]] = {
    "enterprise": ("enterprise", 4),
    "dmz": ("dmz", 3.5),
    "site": ("operations", 3),
    "area": ("supervisory", 2),
    "cell": ("control", 1),
    "safety": ("safety", 1),
}
ASSET_TYPES = {
    "scada": "scada-server",
    "server": "server",
    "jump_host": "jump-host",
    "engineering_workstation": "engineering-workstation",
    "workstation": "workstation",
    "historian": "historian",
    "plc": "plc",
    "hmi": "hmi",
    "rtu": "rtu",
    "firewall": "firewall",
    "switch": "switch",
    "router": "router",
    "ids": "ids-sensor",
    "safety_plc": "safety-controller",
    "dcs": "dcs-controller",
    "mes": "mes",
    "other": "other",
}
PROTOCOLS = {"opcua": "opc-ua", "modbus_tcp": "modbus-tcp", "ethernet_ip": "ethernet-ip", "bacnet_ip": "bacnet-ip"}
CRITICALITY = {1: "low", 2: "low", 3: "medium", 4: "high", 5: "critical"}

_ZONE_KEYS = {"id", "name", "type", "security_level_target", "parent_zone", "assets", "description"}
_ASSET_KEYS = {"id", "name", "type", "ip_address", "vendor", "model", "criticality", "description"}
_CONDUIT_KEYS = {"id", "name", "from_zone", "to_zone", "flows", "requires_inspection", "security_level_required", "description"}
_FLOW_KEYS = {"protocol", "port", "direction", "description"}


@dataclass(frozen=True)
class InduformImport:
    """The converted site and a line for every InduForm field that has no zonewarden equivalent."""

    document: SiteDocument
    unmapped: tuple[str, ...]


def looks_like_induform(data: Any) -> bool:
    if not isinstance(data, dict) or "site" in data:
        return False
    conduits = data.get("conduits") or []
    return "project" in data or any(isinstance(c, dict) and "from_zone" in c for c in conduits)


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.:-]+", "-", text.strip()).strip("-").lower()
    return slug[:128] or "induform-site"


def convert(data: dict[str, Any], *, source: str) -> tuple[dict[str, Any], list[str]]:
    """InduForm data → zonewarden site-document data, plus the unmapped notes."""
    unmapped: list[str] = []
    project = data.get("project") or {}
    name = str(project.get("name") or Path(source).stem)
    site: dict[str, Any] = {"id": _slug(name), "name": name}
    if project.get("description"):
        site["description"] = project["description"]
    for key in sorted(set(project) - {"name", "description"}):
        unmapped.append(f"project.{key} ({project[key]!r}) has no equivalent; not imported")
    zones: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    for zi, z in enumerate(data.get("zones") or []):
        if not isinstance(z, dict):
            continue
        ztype = str(z.get("type", ""))
        kind, level = ZONE_TYPES.get(ztype, (ztype, 0))
        zone: dict[str, Any] = {"id": z.get("id"), "name": z.get("name") or z.get("id"), "kind": kind, "purdue_level": level}
        if "security_level_target" in z:
            zone["sl_target"] = z["security_level_target"]
        if z.get("parent_zone"):
            zone["parent"] = z["parent_zone"]
        if z.get("description"):
            zone["description"] = z["description"]
        for key in sorted(set(z) - _ZONE_KEYS):
            unmapped.append(f"zones[{zi}].{key} has no equivalent; not imported")
        zones.append(zone)
        for ai, a in enumerate(z.get("assets") or []):
            if not isinstance(a, dict):
                continue
            atype = str(a.get("type", "other"))
            asset: dict[str, Any] = {
                "id": a.get("id"),
                "name": a.get("name") or a.get("id"),
                "type": ASSET_TYPES.get(atype, atype.replace("_", "-")),
                "zone": z.get("id"),
            }
            if atype not in ASSET_TYPES:
                unmapped.append(f"zones[{zi}].assets[{ai}].type {atype!r} mapped to {asset['type']!r}; check it")
            if a.get("ip_address"):
                asset["addresses"] = [a["ip_address"]]
            if a.get("vendor"):
                asset["vendor"] = a["vendor"]
            if a.get("model"):
                # InduForm's "model" holds product names ("S7-1500", "PI Server"), not order numbers.
                asset["product"] = a["model"]
            if a.get("criticality") is not None:
                asset["criticality"] = CRITICALITY.get(a["criticality"], a["criticality"])
            if a.get("description"):
                asset["description"] = a["description"]
            for key in sorted(set(a) - _ASSET_KEYS):
                unmapped.append(f"zones[{zi}].assets[{ai}].{key} has no equivalent; not imported")
            assets.append(asset)
    conduits: list[dict[str, Any]] = []
    for ci, c in enumerate(data.get("conduits") or []):
        if not isinstance(c, dict):
            continue
        a_zone, b_zone = c.get("from_zone"), c.get("to_zone")
        conduit: dict[str, Any] = {"id": c.get("id"), "zones": [a_zone, b_zone]}
        if c.get("name"):
            conduit["name"] = c["name"]
        if c.get("description"):
            conduit["description"] = c["description"]
        if c.get("requires_inspection"):
            conduit["protections"] = ["deep-packet-inspection"]
        if c.get("security_level_required") is not None:
            conduit["sl_target"] = c["security_level_required"]
        flows = []
        for fi, f in enumerate(c.get("flows") or []):
            if not isinstance(f, dict):
                continue
            direction = str(f.get("direction", "bidirectional"))
            src, dst = (b_zone, a_zone) if direction == "inbound" else (a_zone, b_zone)
            proto = str(f.get("protocol", "any")).lower()
            flow: dict[str, Any] = {
                "source": src,
                "destination": dst,
                "protocol": PROTOCOLS.get(proto, proto.replace("_", "-")),
                "initiator": "both" if direction == "bidirectional" else "source",
            }
            if f.get("port") is not None:
                flow["ports"] = [f["port"]]
            if f.get("description"):
                flow["purpose"] = f["description"]
            if direction not in ("inbound", "outbound", "bidirectional"):
                unmapped.append(f"conduits[{ci}].flows[{fi}].direction {direction!r} unknown; read as bidirectional")
            for key in sorted(set(f) - _FLOW_KEYS):
                unmapped.append(f"conduits[{ci}].flows[{fi}].{key} has no equivalent; not imported")
            flows.append(flow)
        if flows:
            conduit["flows"] = flows
        for key in sorted(set(c) - _CONDUIT_KEYS):
            unmapped.append(f"conduits[{ci}].{key} has no equivalent; not imported")
        conduits.append(conduit)
    for key in sorted(set(data) - {"version", "project", "zones", "conduits"}):
        unmapped.append(f"top-level {key!r} has no equivalent; not imported")
    doc = {"site": site, "zones": zones, "conduits": conduits, "assets": assets}
    return doc, unmapped


_BACK = {"zones": "zones", "conduits": "conduits", "site": "project"}


def load_induform(path: Path) -> InduformImport:
    """Read an InduForm file and convert it; problems are located in the InduForm file."""
    raw = yamlio.read_bytes(path)
    data = yamlio.loads(raw, source=str(path))
    if not isinstance(data, dict) or not looks_like_induform(data):
        raise SiteFileError(f"{path} does not look like an InduForm project (no 'project', or conduits without from_zone)")
    converted, unmapped = convert(data, source=str(path))
    try:
        doc = SiteDocument.model_validate(converted, context={"defer_references": True})
    except ValidationError as exc:
        problems = pydantic_problems(exc)
    else:
        problems = reference_problems(doc)
    if problems:
        # Asset paths are flattened by the conversion; report them in zonewarden terms with the file.
        located = []
        text = raw.decode("utf-8", errors="replace")
        for p in problems:
            head = str(p.path[0]) if p.path else ""
            pos = yamlio.locate(text, p.path) if head in ("zones", "conduits") else None
            located.append(Problem(f"(after conversion) {p.message}", p.path, str(path), *(pos or (None, None))))
        raise SiteFileError(f"InduForm project {path} cannot be converted ({count(len(located), 'problem')})", located)
    return InduformImport(doc, tuple(unmapped))
