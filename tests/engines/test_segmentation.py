"""Segmentation check: every rule firing and not firing, waivers, disabled rules, speed."""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonewarden.domain.site import (
    CONTROL_KINDS,
    Asset,
    AssetType,
    Conduit,
    Flow,
    SiteDocument,
    SiteInfo,
    SupportStatus,
    Zone,
)
from zonewarden.engines.segmentation import (
    RULES,
    CheckReport,
    Finding,
    ObjectKind,
    Severity,
    run_check,
)
from zonewarden.errors import InputError

TODAY = dt.date(2026, 6, 1)
LEVEL = {
    "external": 5,
    "enterprise": 4,
    "remote-access": 3.5,
    "dmz": 3.5,
    "operations": 3,
    "supervisory": 2,
    "control": 1,
    "field": 0,
    "safety": 1,
}


def zone(zid: str, kind: str, **kw: Any) -> dict[str, Any]:
    return {"id": zid, "name": kw.pop("name", zid.upper()), "kind": kind, "purdue_level": LEVEL[kind], "sl_target": 2, **kw}


def flow(src: str, dst: str, protocol: str, **kw: Any) -> dict[str, Any]:
    return {"source": src, "destination": dst, "protocol": protocol, **kw}


def conduit(cid: str, a: str, b: str, *flows: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"id": cid, "zones": [a, b], "flows": list(flows), "sl_target": 2, "protections": ["firewall"], **kw}


def base() -> dict[str, Any]:
    """A small plant with no findings at all: every rule's 'does not fire' case."""
    return {
        "site": {"id": "plant", "name": "Plant"},
        "people": [{"id": "pat", "name": "Pat"}],
        "zones": [
            zone("ext", "external"),
            zone("ent", "enterprise"),
            zone("dmz", "dmz"),
            zone("ra", "remote-access"),
            zone("ops", "operations"),
            zone("sup", "supervisory"),
            zone("ctl", "control"),
            zone("fld", "field", parent="ctl"),
            zone("sis", "safety", parent="ctl", sl_target=3),
        ],
        "conduits": [
            conduit("c-ext-ra", "ext", "ra", flow("ext", "ra", "https", remote_access=True)),
            conduit("c-ent-dmz", "ent", "dmz", flow("ent", "dmz", "https")),
            conduit(
                "c-dmz-ops",
                "dmz",
                "ops",
                flow("ops", "dmz", "https"),
                flow("dmz", "ops", "rdp", remote_access=True),
            ),
            conduit("c-ra-sup", "ra", "sup", flow("ra", "sup", "rdp", remote_access=True)),
            conduit("c-ops-sup", "ops", "sup", flow("sup", "ops", "https")),
            conduit("c-sup-ctl", "sup", "ctl", flow("sup", "ctl", "opc-ua", authenticated=True)),
            conduit("c-ctl-fld", "ctl", "fld", flow("ctl", "fld", "profinet", authenticated=True), protections=[]),
            conduit("c-ctl-sis", "ctl", "sis", flow("ctl", "sis", "modbus-tcp", authenticated=True), sl_target=3),
        ],
        "assets": [
            {"id": "jh1", "name": "Jump 1", "type": "jump-host", "zone": "dmz"},
            {"id": "jh2", "name": "Jump 2", "type": "jump-host", "zone": "ra"},
            {"id": "plc1", "name": "PLC 1", "type": "plc", "zone": "ctl", "end_of_support": "2030-01-01"},
        ],
    }


def check(data: dict[str, Any], today: dt.date = TODAY) -> CheckReport:
    return run_check(SiteDocument.model_validate(data), today=today)


def of(report: CheckReport, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def get_conduit(data: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in data["conduits"] if c["id"] == cid)


def test_clean_site_has_no_findings() -> None:
    report = check(base())
    assert report.findings == ()
    assert report.problems == ()
    assert report.rules_run == tuple(RULES)
    assert set(report.counts().values()) == {0}


# ZW001 -----------------------------------------------------------------------------------


def test_zw001_direct_enterprise_to_control() -> None:
    data = base()
    data["conduits"].append(conduit("c-bad", "ent", "ctl", flow("ctl", "ent", "https")))
    [f] = of(check(data), "ZW001")
    assert f.objects == ("c-bad", "ent", "ctl")
    assert f.kinds == (ObjectKind.CONDUIT, ObjectKind.ZONE, ObjectKind.ZONE)
    assert f.severity is Severity.CRITICAL
    assert "ENT" in f.message and "CTL" in f.message and "c-bad" in f.message


def test_zw001_external_to_operations_either_order() -> None:
    data = base()
    data["conduits"].append(conduit("c-bad", "ops", "ext"))
    [f] = of(check(data), "ZW001")
    assert f.objects == ("c-bad", "ext", "ops")


# ZW002 -----------------------------------------------------------------------------------


def test_zw002_multi_hop_around_dmz_through_remote_zone_without_jump_host() -> None:
    data = base()
    data["zones"].append(zone("ra2", "remote-access"))
    data["conduits"] += [conduit("c-ent-ra2", "ent", "ra2"), conduit("c-ra2-ctl", "ra2", "ctl")]
    found = {f.objects[0]: f for f in of(check(data), "ZW002")}
    # ctl at 2 hops; sup, fld and sis behind it at 3 hops.
    assert set(found) == {"ctl", "sup", "fld", "sis"}
    assert found["ctl"].objects == ("ctl", "ent", "c-ent-ra2", "c-ra2-ctl")
    assert "ent -> ra2 -> ctl" in found["ctl"].message
    assert found["sis"].objects[-1] == "c-ctl-sis"


def test_zw002_not_when_remote_zone_has_jump_host_or_path_goes_through_dmz() -> None:
    data = base()
    data["conduits"].append(conduit("c-ent-ra", "ent", "ra"))  # ra holds jump host jh2
    assert of(check(data), "ZW002") == []
    assert of(check(base()), "ZW002") == []  # ent reaches OT only through the DMZ


def test_zw002_reports_control_behind_operations_wired_to_it() -> None:
    data = base()
    data["conduits"].append(conduit("c-ent-ops", "ent", "ops"))
    report = check(data)
    assert [f.objects for f in of(report, "ZW001")] == [("c-ent-ops", "ent", "ops")]
    sup = next(f for f in of(report, "ZW002") if f.objects[0] == "sup")
    assert sup.objects == ("sup", "ent", "c-ent-ops", "c-ops-sup")


# ZW003 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("initiator", "fires"),
    [("source", True), ("both", True), ("destination", False)],
)
def test_zw003_initiator_decides(initiator: str, fires: bool) -> None:
    data = base()
    get_conduit(data, "c-dmz-ops")["flows"].append(flow("dmz", "ops", "opc-ua", initiator=initiator))
    found = of(check(data), "ZW003")
    if fires:
        [f] = found
        assert f.objects == ("c-dmz-ops", "dmz", "ops")
        assert "opc-ua" in f.message
    else:
        assert found == []


def test_zw003_destination_initiated_from_the_less_trusted_side_fires() -> None:
    data = base()
    # Data goes ops -> dmz but the DMZ opens the connection.
    get_conduit(data, "c-dmz-ops")["flows"].append(flow("ops", "dmz", "sql", initiator="destination"))
    [f] = of(check(data), "ZW003")
    assert f.objects == ("c-dmz-ops", "dmz", "ops")


def test_zw003_not_inside_ot_nor_for_jump_host_sessions() -> None:
    data = base()
    get_conduit(data, "c-ops-sup")["flows"].append(flow("ops", "sup", "opc-ua"))
    report = check(data)
    assert of(report, "ZW003") == []  # ops -> sup is inside OT; dmz rdp starts on jump host jh1


# ZW004 -----------------------------------------------------------------------------------


def test_zw004_rdp_from_enterprise_straight_into_ot() -> None:
    data = base()
    data["conduits"].append(conduit("c-ent-sup", "ent", "sup", flow("ent", "sup", "rdp")))
    [f] = of(check(data), "ZW004")
    assert f.objects == ("c-ent-sup", "ent", "sup")
    assert "not in a DMZ or remote-access zone" in f.message


def test_zw004_dmz_without_jump_host() -> None:
    data = base()
    data["assets"] = [a for a in data["assets"] if a["id"] != "jh1"]
    report = check(data)
    [f] = of(report, "ZW004")
    assert f.objects == ("c-dmz-ops", "dmz", "ops")
    assert "no asset of type jump-host" in f.message
    assert [x.objects for x in of(report, "ZW003")] == [("c-dmz-ops", "dmz", "ops")]


def test_zw004_flagged_remote_access_from_inside_ot() -> None:
    data = base()
    get_conduit(data, "c-sup-ctl")["flows"].append(flow("sup", "ctl", "vendor-tool", remote_access=True))
    [f] = of(check(data), "ZW004")
    assert f.objects == ("c-sup-ctl", "sup", "ctl")


def test_zw004_ssh_inside_ot_is_not_remote_access() -> None:
    data = base()
    get_conduit(data, "c-sup-ctl")["flows"].append(flow("sup", "ctl", "ssh", authenticated=True))
    assert of(check(data), "ZW004") == []


# ZW005 -----------------------------------------------------------------------------------


def test_zw005_safety_connected_to_supervisory() -> None:
    data = base()
    data["conduits"].append(conduit("c-sis-sup", "sup", "sis", sl_target=3))
    [f] = of(check(data), "ZW005")
    assert f.objects == ("c-sis-sup", "sis", "sup")
    assert "never an allowed neighbour" in f.message


def test_zw005_safety_connected_to_another_units_control_zone() -> None:
    data = base()
    data["zones"].append(zone("ctl2", "control"))
    data["conduits"].append(conduit("c-sis-ctl2", "sis", "ctl2", sl_target=3))
    [f] = of(check(data), "ZW005")
    assert f.objects == ("c-sis-ctl2", "sis", "ctl2")
    assert "parent ctl" in f.message


def test_zw005_sibling_field_and_own_child_are_allowed() -> None:
    data = base()
    data["zones"].append(zone("sis-io", "field", parent="sis", sl_target=3))
    data["conduits"] += [
        conduit("c-sis-fld", "sis", "fld", sl_target=3),
        conduit("c-sis-io", "sis", "sis-io", sl_target=3),
    ]
    assert of(check(data), "ZW005") == []


def test_zw005_safety_without_parent_accepts_any_control_zone() -> None:
    data = base()
    data["zones"][-1].pop("parent")
    data["zones"].append(zone("ctl2", "control"))
    data["conduits"].append(conduit("c-sis-ctl2", "sis", "ctl2", sl_target=3))
    assert of(check(data), "ZW005") == []


# ZW006 -----------------------------------------------------------------------------------


def test_zw006_lists_the_frs_below_the_zone() -> None:
    data = base()
    get_conduit(data, "c-ctl-sis")["sl_target"] = {"FR1": 3, "FR2": 3, "FR3": 2, "FR4": 3, "FR5": 1, "FR6": 3, "FR7": 3}
    ctl, f = of(check(data), "ZW006")
    assert ctl.objects == ("c-ctl-sis", "ctl") and "FR5 1 < 2" in ctl.message and "FR3" not in ctl.message
    assert f.objects == ("c-ctl-sis", "sis")
    assert "FR3 2 < 3" in f.message and "FR5 1 < 3" in f.message and "FR1" not in f.message
    assert "FR3, FR5" in f.fix


def test_zw006_silent_when_either_level_is_missing() -> None:
    data = base()
    get_conduit(data, "c-ctl-sis").pop("sl_target")
    report = check(data)
    assert of(report, "ZW006") == []
    assert [f.objects for f in of(report, "ZW013")] == [("c-ctl-sis",)]


# ZW007 -----------------------------------------------------------------------------------


def test_zw007_clear_text_and_unauthenticated_industrial() -> None:
    data = base()
    c = get_conduit(data, "c-sup-ctl")
    c["flows"] += [flow("sup", "ctl", "telnet"), flow("sup", "ctl", "modbus-tcp"), flow("ctl", "sup", "http", authenticated=True)]
    found = sorted((f.objects, f.message) for f in of(check(data), "ZW007"))
    assert [o for o, _ in found] == [("c-sup-ctl", "ctl", "sup"), ("c-sup-ctl", "sup", "ctl")]
    assert "http" in found[0][1]  # authentication does not make HTTP safe
    assert "modbus-tcp, telnet" in found[1][1]


def test_zw007_authenticated_industrial_protocol_passes() -> None:
    assert of(check(base()), "ZW007") == []  # profinet and modbus-tcp are authenticated in base


def test_zw007_what_the_flow_declares_wins_over_the_protocol_list() -> None:
    # Issue 17.2: a flow the user marked unauthenticated or unencrypted is insecure whatever its
    # protocol is called; the built-in list only decides for flows that say nothing.
    data = base()
    c = get_conduit(data, "c-sup-ctl")
    c["flows"] += [
        flow("sup", "ctl", "vendor-rpc", authenticated=False),
        flow("sup", "ctl", "historian-sync", authenticated=True, encrypted=False),
        flow("sup", "ctl", "opc-ua", authenticated=True, encrypted=True),
        flow("sup", "ctl", "mqtt"),  # not on the list and nothing declared: not a finding
    ]
    [f] = of(check(data), "ZW007")
    assert f.objects == ("c-sup-ctl", "sup", "ctl")
    assert f.message.endswith("without authentication, and historian-sync without encryption.")
    assert "carries vendor-rpc from" in f.message and "mqtt" not in f.message and "opc-ua" not in f.message
    # A replaced list does not make a declared-insecure flow secure.
    data["checks"] = {"insecure_protocols": ["telnet"]}
    [f] = of(check(data), "ZW007")
    assert "vendor-rpc" in f.message and "historian-sync" in f.message


def test_zw007_site_list_replaces_builtin() -> None:
    data = base()
    get_conduit(data, "c-sup-ctl")["flows"].append(flow("sup", "ctl", "telnet"))
    data["checks"] = {"insecure_protocols": ["OPC-UA"]}
    [f] = of(check(data), "ZW007")
    assert "opc-ua" in f.message and "telnet" not in f.message


# ZW008 -----------------------------------------------------------------------------------


def test_zw008_any_protocol_or_any_port() -> None:
    data = base()
    get_conduit(data, "c-ops-sup")["flows"] += [flow("sup", "ops", "any"), flow("ops", "sup", "tcp", ports=["any"])]
    found = [f.objects for f in of(check(data), "ZW008")]
    assert found == [("c-ops-sup", "ops", "sup"), ("c-ops-sup", "sup", "ops")]


# ZW009 -----------------------------------------------------------------------------------


def test_zw009_boundary_without_firewall() -> None:
    data = base()
    get_conduit(data, "c-sup-ctl")["protections"] = ["vpn"]
    get_conduit(data, "c-ctl-sis")["protections"] = ["data-diode"]
    [f] = of(check(data), "ZW009")
    assert f.objects == ("c-sup-ctl", "sup", "ctl")
    # c-ctl-fld has no protections but joins zones of equal trust: not reported.


# ZW010 / ZW011 ----------------------------------------------------------------------------


def test_zw010_asset_without_zone_names_id_not_name() -> None:
    data = base()
    data["assets"].append({"id": "hmi9", "name": "Secret HMI name", "type": "hmi"})
    [f] = of(check(data), "ZW010")
    assert f.objects == ("hmi9",) and f.kinds == (ObjectKind.ASSET,)
    assert "Secret" not in f.message


@pytest.mark.parametrize(
    ("asset", "fires"),
    [
        ({"end_of_support": "2026-05-31"}, True),
        ({"end_of_support": "2026-06-01"}, False),  # the last day of support is still supported
        ({"vendor_support": "end-of-support"}, True),
        ({"vendor_support": "extended", "end_of_support": "2027-01-01"}, False),
    ],
)
def test_zw011_end_of_support(asset: dict[str, Any], fires: bool) -> None:
    data = base()
    data["assets"].append({"id": "old", "name": "Old", "type": "hmi", "zone": "sup", **asset})
    found = of(check(data), "ZW011")
    assert [f.objects for f in found] == ([("old", "sup")] if fires else [])


# ZW012 / ZW013 ----------------------------------------------------------------------------


def test_zw012_zone_without_slt_is_info() -> None:
    data = base()
    data["zones"][1].pop("sl_target")
    [f] = of(check(data), "ZW012")
    assert f.objects == ("ent",) and f.severity is Severity.INFO


# Waivers, disabled rules, ordering ---------------------------------------------------------


def bad_site() -> dict[str, Any]:
    data = base()
    data["conduits"] += [conduit("c-bad1", "ent", "ctl"), conduit("c-bad2", "ent", "sup")]
    return data


def waiver(rule: str, objects: list[str], expires: str = "2026-12-31") -> dict[str, Any]:
    return {"rule": rule, "objects": objects, "justification": "Vendor migration planned for Q3", "approved_by": "pat", "expires": expires}


def test_object_specific_waiver_covers_only_that_object() -> None:
    data = bad_site()
    data["checks"] = {"waivers": [waiver("ZW001", ["c-bad1"])]}
    report = check(data)
    assert [f.objects[0] for f in of(report, "ZW001")] == ["c-bad2"]
    [w] = report.waived
    assert w.finding.objects[0] == "c-bad1" and w.waiver.objects == ("c-bad1",)
    assert report.unused_waivers == () and report.expired_waivers == ()


def test_waiver_with_several_objects_needs_all_of_them() -> None:
    data = bad_site()
    data["checks"] = {"waivers": [waiver("ZW001", ["ent", "sup"])]}
    report = check(data)
    assert [w.finding.objects for w in report.waived] == [("c-bad2", "ent", "sup")]


def test_rule_wide_waiver_and_expiry_boundaries() -> None:
    data = bad_site()
    data["checks"] = {"waivers": [waiver("ZW001", [], expires="2026-06-01")]}
    report = check(data)  # valid through its expiry date
    assert of(report, "ZW001") == [] and len(report.waived) == 2

    later = check(data, today=dt.date(2026, 6, 2))
    assert len(of(later, "ZW001")) == 2 and later.waived == ()
    assert [w.rule for w in later.expired_waivers] == ["ZW001"]
    [expired] = of(later, "ZW014")
    assert "expired on 2026-06-01" in expired.message and expired.objects == ()


def test_expired_object_waiver_reports_the_objects() -> None:
    data = bad_site()
    data["checks"] = {"waivers": [waiver("ZW001", ["c-bad1"], expires="2025-01-01")]}
    [f] = of(check(data), "ZW014")
    assert f.objects == ("c-bad1",) and f.kinds == (ObjectKind.CONDUIT,)


def test_unused_waiver_and_settings_problems_are_reported() -> None:
    data = base()
    data["checks"] = {"disabled": ["ZW999"], "waivers": [waiver("ZW001", ["nope"])]}
    report = check(data)
    assert [w.objects for w in report.unused_waivers] == [("nope",)]
    pointers = [p.pointer for p in report.problems]
    assert pointers == ["checks.disabled[0]", "checks.waivers[0].objects[0]"]


def test_disabled_rule_does_not_run() -> None:
    data = bad_site()
    data["checks"] = {"disabled": ["ZW001", "ZW009"]}
    report = check(data)
    assert of(report, "ZW001") == [] and of(report, "ZW009") == []
    assert report.disabled_rules == ("ZW001", "ZW009")
    assert "ZW001" not in report.rules_run and of(report, "ZW002")


def test_findings_sorted_by_severity_rule_objects_and_counts() -> None:
    data = bad_site()
    data["zones"][0].pop("sl_target")
    data["assets"].append({"id": "x", "name": "X", "type": "hmi"})
    report = check(data)
    keys = [(-f.severity.rank, f.rule, f.objects) for f in report.findings]
    assert keys == sorted(keys)
    assert report.findings[0].severity is Severity.CRITICAL
    assert report.findings[-1].severity is Severity.INFO
    counts = report.counts()
    assert list(counts) == [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
    assert sum(counts.values()) == len(report.findings)
    assert counts[Severity.MEDIUM] == 1
    assert report.at_or_above(Severity.HIGH) == tuple(f for f in report.findings if f.severity.rank >= Severity.HIGH.rank)
    # Same input, same output.
    assert check(copy.deepcopy(data)) == report


def test_severity_order_and_parse() -> None:
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(InputError, match="critical, high, medium, low, info"):
        Severity.parse("severe")


def test_every_rule_has_docs_and_unique_name() -> None:
    names = [r.name for r in RULES.values()]
    assert len(set(names)) == len(names)
    for rid, r in RULES.items():
        assert rid == r.id and r.title and r.finds and r.why and r.fix
        assert "62443" in r.why, rid


def test_report_to_dict_is_plain_data() -> None:
    import json

    data = bad_site()
    data["checks"] = {"waivers": [waiver("ZW001", ["c-bad1"])]}
    out = json.loads(json.dumps(check(data).to_dict()))
    assert out["counts"]["critical"] == 1
    assert out["waived"][0]["waiver"]["objects"] == ["c-bad1"]


# Speed -------------------------------------------------------------------------------------


def synthetic_site(zones: int = 1000, conduits: int = 3000, assets: int = 100_000, seed: int = 7) -> SiteDocument:
    """A big, messy site: every kind of zone, random conduits and flows, many assets."""
    rnd = random.Random(seed)
    kinds = list(LEVEL)
    zs = [
        Zone(id=f"z{i}", name=f"Zone {i}", kind=kinds[i % len(kinds)], purdue_level=LEVEL[kinds[i % len(kinds)]], sl_target=rnd.choice([None, 1, 2, 3]))
        for i in range(zones)
    ]
    protocols = ["https", "opc-ua", "modbus-tcp", "rdp", "telnet", "s7comm", "any", "ssh"]
    cs = []
    for i in range(conduits):
        a, b = rnd.sample(range(zones), 2)
        flows = tuple(
            Flow(source=f"z{a}", destination=f"z{b}", protocol=rnd.choice(protocols), initiator=rnd.choice(["source", "destination", "both"]))
            for _ in range(rnd.randint(0, 3))
        )
        cs.append(Conduit(id=f"c{i}", zones=(f"z{a}", f"z{b}"), flows=flows, sl_target=rnd.choice([None, 1, 2]), protections=rnd.choice([(), ("firewall",)])))
    types = list(AssetType)
    assets_ = [
        Asset.model_construct(
            id=f"a{i}", name=f"Asset {i}", type=types[i % len(types)], zone=None if i % 997 == 0 else f"z{i % zones}",
            end_of_support=dt.date(2020 + i % 10, 1, 1) if i % 13 == 0 else None,
            vendor_support=SupportStatus.UNKNOWN,
        )
        for i in range(assets)
    ]
    # References are valid by construction; skip the document-wide check to keep setup quick.
    return SiteDocument.model_validate(
        {"site": SiteInfo(id="big", name="Big"), "zones": zs, "conduits": cs, "assets": assets_},
        context={"defer_references": True},
    )


def test_big_site_is_checked_in_one_pass() -> None:
    # Timing lives in bench/bench_foundation.py (ratios, not a timed test); here the big
    # synthetic site must simply produce the rules its shortcuts trigger, deterministically.
    doc = synthetic_site()
    report = run_check(doc, today=TODAY)
    assert {f.rule for f in report.findings} >= {"ZW001", "ZW002", "ZW007", "ZW008", "ZW010", "ZW011"}
    assert run_check(doc, today=TODAY) == report


def test_docs_describe_every_rule_as_the_code_does() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "checks.md").read_text("utf-8")
    for r in RULES.values():
        assert f"### {r.id}\n" in text, f"docs/checks.md has no section for {r.id}"
        section = text.split(f"### {r.id}\n", 1)[1].split("\n### ", 1)[0]
        assert f"severity **{r.severity.value}**" in section, r.id
        for part in (r.title, r.finds, r.why, r.fix):
            assert part in section, f"docs/checks.md section {r.id} is out of date: {part[:60]}..."


def test_dangling_conduit_zone_is_an_input_error() -> None:
    data = base()
    data["conduits"].append(conduit("c-x", "ctl", "ghost"))
    data["assets"].append({"id": "lost", "name": "Lost", "type": "hmi", "zone": "ghost2", "vendor_support": "end-of-support"})
    doc = SiteDocument.model_validate(data, context={"defer_references": True})
    with pytest.raises(InputError) as err:
        run_check(doc, today=TODAY)
    assert [p.pointer for p in err.value.problems] == ["conduits[8].zones[1]"]
    data["conduits"].pop()
    doc = SiteDocument.model_validate(data, context={"defer_references": True})
    [f] = of(run_check(doc, today=TODAY), "ZW011")
    assert "unknown zone ghost2" in f.message


# Properties on random small sites ------------------------------------------------------------

KINDS = list(LEVEL)


@st.composite
def random_sites(draw: st.DrawFn) -> SiteDocument:
    n = draw(st.integers(2, 9))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    zones = [zone(f"z{i}", k, sl_target=draw(st.sampled_from([None, 1, 2, 3]))) for i, k in enumerate(kinds)]
    for z in zones:
        if z["sl_target"] is None:
            del z["sl_target"]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]), max_size=12))
    protocols = st.sampled_from(["https", "rdp", "modbus-tcp", "telnet", "any", "opc-ua", "ssh"])
    conduits = []
    for i, (a, b) in enumerate(pairs):
        flows = [
            flow(*((f"z{a}", f"z{b}") if fwd else (f"z{b}", f"z{a}")), p, initiator=ini, remote_access=ra)
            for fwd, p, ini, ra in draw(
                st.lists(st.tuples(st.booleans(), protocols, st.sampled_from(["source", "destination", "both"]), st.booleans()), max_size=3)
            )
        ]
        conduits.append(conduit(f"c{i}", f"z{a}", f"z{b}", *flows, protections=draw(st.sampled_from([[], ["firewall"]]))))
    assets = [
        {"id": f"a{i}", "name": "n", "type": t, **({"zone": f"z{draw(st.integers(0, n - 1))}"} if draw(st.booleans()) else {})}
        for i, t in enumerate(draw(st.lists(st.sampled_from(["jump-host", "plc", "hmi"]), max_size=5)))
    ]
    return SiteDocument.model_validate({"site": {"id": "r", "name": "R"}, "zones": zones, "conduits": conduits, "assets": assets})


@settings(max_examples=150, deadline=None)
@given(random_sites())
def test_findings_name_real_objects_and_are_sorted(doc: SiteDocument) -> None:
    report = run_check(doc, today=TODAY)
    ids = {
        ObjectKind.ZONE: {z.id for z in doc.zones},
        ObjectKind.CONDUIT: {c.id for c in doc.conduits},
        ObjectKind.ASSET: {a.id for a in doc.assets},
    }
    for f in report.findings:
        assert f.rule in RULES and f.severity is RULES[f.rule].severity
        for kind, ident in f.refs:
            assert ident in ids[kind], (f.rule, kind, ident)
    assert list(report.findings) == sorted(report.findings, key=Finding.sort_key)
    assert run_check(doc, today=TODAY) == report


@settings(max_examples=150, deadline=None)
@given(random_sites())
def test_zw002_matches_networkx_reachability(doc: SiteDocument) -> None:
    jump = {a.zone for a in doc.assets if a.type is AssetType.JUMP_HOST}
    brokers = {z.id for z in doc.zones if z.kind.value == "dmz" or (z.kind.value == "remote-access" and z.id in jump)}
    g = nx.Graph()
    g.add_nodes_from(z.id for z in doc.zones if z.id not in brokers)
    g.add_edges_from(c.zones for c in doc.conduits if not set(c.zones) & brokers)
    it = [z.id for z in doc.zones if z.kind.is_it]
    dist = nx.multi_source_dijkstra_path_length(g, it) if it else {}
    expected = {z.id for z in doc.zones if z.kind in CONTROL_KINDS and dist.get(z.id, 0) >= 2}
    assert {f.objects[0] for f in of(run_check(doc, today=TODAY), "ZW002")} == expected
