"""Synthetic sites for benchmarks: realistic shape, fixed seed, any size.

About one zone per 100 assets: a few enterprise and DMZ zones, operations areas, supervisory
and control cells under them, safety zones beside some cells, conduits along the hierarchy plus
a few percent of shortcuts (the mistakes a real brownfield site has). Vendor and product names
are ones that appear in CISA's ICS advisories.

    python bench/synth.py 10000 out/synth-10k      # writes a site directory
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

PRODUCTS = [
    ("Siemens", "SIMATIC S7-1500", "plc", ["V2.8", "V2.9", "V2.9 SP1", "V3.0.1", "V3.1"]),
    ("Siemens", "SIMATIC S7-300", "plc", ["V3.3.17", "V3.3.19"]),
    ("Siemens", "SIMATIC WinCC", "scada-server", ["V7.5 SP2", "V7.5 SP2 Update 13", "V8.0"]),
    ("Siemens", "SCALANCE X-200", "switch", ["V5.2.5", "V5.5.0"]),
    ("Rockwell Automation", "ControlLogix 5580", "plc", ["32.011", "33.012", "34.011"]),
    ("Rockwell Automation", "FactoryTalk View SE", "hmi", ["11.0", "12.0", "13.0"]),
    ("Schneider Electric", "Modicon M580", "plc", ["SV3.20", "SV4.10", "SV4.20"]),
    ("Schneider Electric", "EcoStruxure Control Expert", "engineering-workstation", ["15.1", "15.3"]),
    ("Mitsubishi Electric", "MELSEC iQ-R", "plc", ["1.03", "1.05"]),
    ("Phoenix Contact", "FL MGUARD 1102", "firewall", ["10.3.0", "10.4.1"]),
    ("Moxa", "EDR-810", "router", ["5.12", "5.12.3"]),
    ("Honeywell", "Experion PKS", "dcs-controller", ["R510.2", "R511.5", "R520.1"]),
    ("Emerson", "DeltaV", "dcs-controller", ["14.3", "14.3.1", "15.0"]),
    ("AVEVA", "PI Server", "historian", ["2018 SP3", "2023"]),
    ("ABB", "AC800M", "plc", ["6.0", "6.1.1"]),
    ("Hitachi Energy", "RTU500", "rtu", ["12.7.4", "13.2.1"]),
    ("Johnson Controls", "Metasys ADX", "building-management", ["11.0", "12.0"]),
    ("HMS Networks", "Ewon Cosy+", "remote-access-gateway", ["21.2s2", "22.1s0"]),
]


def generate(n_assets: int, *, seed: int = 62443) -> dict[str, Any]:
    """A site document (plain data) with ``n_assets`` assets and about n/100 zones."""
    rnd = random.Random(seed)
    n_zones = max(12, n_assets // 100)
    zones: list[dict[str, Any]] = []
    conduits: list[dict[str, Any]] = []

    def zone(zid: str, kind: str, level: float, slt: int) -> str:
        zones.append({"id": zid, "name": f"{kind} {zid}", "kind": kind, "purdue_level": level, "sl_target": slt,
                      "criticality": rnd.choice(["low", "medium", "high", "critical"])})
        return zid

    def conduit(a: str, b: str, proto: str, port: str, slt: int | None = 2, protections: tuple[str, ...] = ("firewall",)) -> None:
        c: dict[str, Any] = {"id": f"c{len(conduits):05d}", "zones": [a, b],
                             "protections": list(protections),
                             "flows": [{"source": a, "destination": b, "protocol": proto, "ports": [port]}]}
        if slt is not None:
            c["sl_target"] = slt
        conduits.append(c)

    ext = zone("internet", "external", 5, 1)
    n_ent = max(1, n_zones // 100)
    ent = [zone(f"ent{i:03d}", "enterprise", 4, 1) for i in range(n_ent)]
    dmz = [zone(f"dmz{i:03d}", "dmz", 3.5, 2) for i in range(max(1, n_zones // 200))]
    ra = zone("remote", "remote-access", 3.5, 2)
    conduit(ext, ent[0], "https", "443", 1)
    conduit(ext, ra, "https", "443", 2, ("firewall", "vpn", "mfa"))
    for e in ent:
        conduit(e, rnd.choice(dmz), "https", "443")
    for d in dmz:
        conduit(ra, d, "rdp", "3389", 2, ("firewall", "jump-host"))
    remaining = n_zones - len(zones)
    n_ops = max(1, remaining // 30)
    ops = [zone(f"ops{i:03d}", "operations", 3, 2) for i in range(n_ops)]
    for o in ops:
        conduit(rnd.choice(dmz), o, "opc-ua", "4840")
    remaining = n_zones - len(zones)
    sups, cells, safety = [], [], []
    for i in range(remaining):
        r = i % 10
        if r == 0:
            s = zone(f"sup{i:05d}", "supervisory", 2, 2)
            sups.append(s)
            conduit(rnd.choice(ops), s, "opc-ua", "4840")
        elif (r == 9 or (i == remaining - 1 and not safety)) and cells:
            s = zone(f"sis{i:05d}", "safety", 1, 3)
            safety.append(s)
            conduit(cells[-1], s, "profinet", "34964", 3)
        else:
            c = zone(f"cell{i:05d}", "control", 1, 2)
            cells.append(c)
            conduit(sups[-1] if sups else rnd.choice(ops), c, "s7comm", "102")
    # Brownfield shortcuts: a few percent of conduits that skip the DMZ or the hierarchy.
    for _ in range(max(2, len(zones) // 50)):
        a, b = rnd.choice(ent + ops), rnd.choice(cells)
        conduit(a, b, rnd.choice(["rdp", "modbus-tcp", "any"]), "any" if rnd.random() < 0.3 else "502", None, ())
    placeable = [z["id"] for z in zones if z["kind"] not in ("external",)]
    assets: list[dict[str, Any]] = []
    for i in range(n_assets):
        vendor, product, atype, versions = rnd.choice(PRODUCTS)
        asset: dict[str, Any] = {
            "id": f"a{i:06d}",
            "name": f"{atype}-{i:06d}",
            "type": atype,
            "zone": rnd.choice(placeable) if rnd.random() > 0.001 else None,
            "vendor": vendor,
            "product": product,
            "version": rnd.choice(versions),
            "criticality": rnd.choice(["low", "medium", "high", "critical"]),
            "addresses": [f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"],
            "hostnames": [f"h{i:06d}.ot.example"],
        }
        if rnd.random() < 0.05:
            asset["end_of_support"] = "2020-01-14"
            asset["os"] = "Windows 7 SP1"
        if asset["zone"] is None:
            del asset["zone"]
        assets.append(asset)
    return {
        "zonewarden": 1,
        "site": {"id": f"synth-{n_assets}", "name": f"Synthetic site ({n_assets} assets)"},
        "zones": zones,
        "conduits": conduits,
        "assets": assets,
    }


def write(data: dict[str, Any], directory: Path) -> Path:
    """Write the synthetic site as a section directory (the layout `zonewarden export` writes)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from zonewarden.io import yamlio

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.yaml").write_text(yamlio.dumps({"zonewarden": 1, "site": data["site"]}))
    for section in ("zones", "conduits", "assets"):
        (directory / f"{section}.yaml").write_text(yamlio.dumps({section: data[section]}))
    return directory


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"out/synth-{n}")
    write(generate(n), out)
    print(out)
