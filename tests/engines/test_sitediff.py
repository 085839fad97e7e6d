"""Site diff: what changed between two versions and which reassessments that implies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from zonewarden.domain.site import SiteDocument
from zonewarden.engines.sitediff import ChangeKind, diff_sites

AS_OF = dt.date(2026, 11, 25)


def base() -> dict[str, Any]:
    return {
        "site": {"id": "plant", "name": "Plant"},
        "zones": [
            {"id": "ent", "name": "Enterprise", "kind": "enterprise", "purdue_level": 4},
            {"id": "dmz", "name": "DMZ", "kind": "dmz", "purdue_level": 3.5},
            {"id": "ctl", "name": "Control", "kind": "control", "purdue_level": 1, "criticality": "high"},
            {"id": "ops", "name": "Operations", "kind": "operations", "purdue_level": 3},
        ],
        "conduits": [
            {"id": "c-ent-dmz", "zones": ["ent", "dmz"], "protections": ["firewall"],
             "flows": [{"source": "ent", "destination": "dmz", "protocol": "https", "ports": [443]}]},
            {"id": "c-dmz-ops", "zones": ["dmz", "ops"], "protections": ["firewall", "monitoring"],
             "flows": [{"source": "ops", "destination": "dmz", "protocol": "opc-ua", "ports": [4840]}]},
            {"id": "c-ops-ctl", "zones": ["ops", "ctl"], "protections": ["firewall"],
             "flows": [{"source": "ops", "destination": "ctl", "protocol": "s7comm", "ports": [102]}]},
        ],
        "assets": [
            {"id": "plc1", "name": "PLC", "type": "plc", "zone": "ctl", "criticality": "high"},
            {"id": "hmi1", "name": "HMI", "type": "hmi", "zone": "ctl", "version": "1.0"},
            {"id": "hist", "name": "Historian", "type": "historian", "zone": "ops"},
        ],
    }


def build(data: dict[str, Any]) -> SiteDocument:
    return SiteDocument.model_validate(data)


def test_identical_sites_have_no_diff() -> None:
    d = diff_sites(build(base()), build(base()), as_of=AS_OF)
    assert d.empty and d.triggers == ()


def test_new_remote_access_zone_and_conduit_trigger_external_connectivity_of_the_plant_side() -> None:
    new = base()
    new["zones"].append({"id": "ra", "name": "Vendor access", "kind": "remote-access", "purdue_level": 3.5})
    new["conduits"].append(
        {"id": "c-ra-ctl", "zones": ["ra", "ctl"], "protections": ["vpn"],
         "flows": [{"source": "ra", "destination": "ctl", "protocol": "rdp", "ports": [3389], "remote_access": True}]}
    )
    d = diff_sites(build(base()), build(new), as_of=AS_OF)
    assert [(c.section, c.id, c.kind) for c in d.changes] == [
        ("zones", "ra", ChangeKind.ADDED),
        ("conduits", "c-ra-ctl", ChangeKind.ADDED),
        ("flows", "c-ra-ctl:ra->ctl/rdp/3389", ChangeKind.ADDED),
    ]
    # only the plant side is reassessed; the new remote-access zone itself is no trigger
    assert [(t.kind, t.ref, t.zones, t.date) for t in d.triggers] == [
        ("new-external-connectivity", "conduit:c-ra-ctl", ("ctl",), AS_OF)
    ]


def test_new_critical_asset_moved_asset_and_changed_fields() -> None:
    new = base()
    new["assets"][1] = {**new["assets"][1], "version": "2.0", "zone": "ops"}
    new["assets"].append({"id": "sis1", "name": "SIS", "type": "safety-controller", "zone": "ctl",
                          "criticality": "critical"})
    new["assets"][2] = {**new["assets"][2], "criticality": "high"}
    d = diff_sites(build(base()), build(new), as_of=AS_OF)
    hmi = next(c for c in d.changes if c.id == "hmi1")
    assert hmi.kind is ChangeKind.CHANGED
    assert [(f.field, f.old, f.new) for f in hmi.fields] == [("version", "1.0", "2.0"), ("zone", "ctl", "ops")]
    assert [(t.kind, t.ref, t.zones) for t in d.triggers] == [
        ("architecture-change", "asset:hmi1", ("ctl", "ops")),
        ("new-critical-asset", "asset:hist", ("ops",)),
        ("new-critical-asset", "asset:sis1", ("ctl",)),
    ]
    assert "newly high-criticality asset hist" in d.triggers[1].reason


def test_lost_protection_new_flow_and_removed_conduit() -> None:
    new = base()
    new["conduits"][1] = {**new["conduits"][1], "protections": ["firewall"]}
    new["conduits"][2]["flows"].append({"source": "ops", "destination": "ctl", "protocol": "modbus-tcp",
                                       "ports": [502]})
    new["conduits"][2]["flows"][0] = {**new["conduits"][2]["flows"][0], "purpose": "recipe download"}
    del new["conduits"][0]
    d = diff_sites(build(base()), build(new), as_of=AS_OF)
    kinds = {(c.section, c.id): c.kind for c in d.changes}
    assert kinds[("conduits", "c-ent-dmz")] is ChangeKind.REMOVED
    assert kinds[("flows", "c-ent-dmz:ent->dmz/https/443")] is ChangeKind.REMOVED
    assert kinds[("conduits", "c-dmz-ops")] is ChangeKind.CHANGED
    assert kinds[("flows", "c-ops-ctl:ops->ctl/modbus-tcp/502")] is ChangeKind.ADDED
    changed_flow = next(c for c in d.changes if c.id == "c-ops-ctl:ops->ctl/s7comm/102")
    assert [(f.field, f.new) for f in changed_flow.fields] == [("purpose", "recipe download")]
    assert [(t.kind, t.ref, t.zones) for t in d.triggers] == [
        ("architecture-change", "conduit:c-dmz-ops", ("dmz", "ops")),
        ("architecture-change", "conduit:c-ent-dmz", ("dmz", "ent")),
        ("new-integration", "flow:c-ops-ctl:ops->ctl/modbus-tcp/502", ("ctl", "ops")),
    ]
    assert "lost protections: monitoring" in d.triggers[0].reason


def test_other_sections_are_summarised() -> None:
    new = base()
    new["people"] = [{"id": "alice", "name": "Alice"}]
    d = diff_sites(build(base()), build(new), as_of=AS_OF)
    (c,) = d.changes
    assert c.section == "people" and [(f.field, f.new) for f in c.fields] == [("added", ["alice"])]
    assert d.as_dict()["changes"][0]["section"] == "people"
