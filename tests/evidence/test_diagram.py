"""Zone diagram: valid SVG, Purdue layout, highlighted findings, escaping, no sensitive data."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from zonewarden.domain.site import SiteDocument, ZoneKind
from zonewarden.engines.segmentation import run_check
from zonewarden.evidence.diagram import (
    FINDING_COLOUR,
    KIND_COLOURS,
    DiagramError,
    build_graph,
    render_diagram,
    render_overview,
)

SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2026, 6, 1)


def doc() -> SiteDocument:
    return SiteDocument.model_validate(
        {
            "site": {"id": "p", "name": "Plant & <Lab>"},
            "zones": [
                {"id": "ent", "name": "<script>alert('x')</script> & Office \\N", "kind": "enterprise", "purdue_level": 4, "sl_target": 1},
                {"id": "dmz", "name": "DMZ", "kind": "dmz", "purdue_level": 3.5, "sl_target": 2},
                {"id": "ops:1", "name": "Operations", "kind": "operations", "purdue_level": 3, "sl_target": 2},
                {"id": "ctl", "name": "Line 1 control", "kind": "control", "purdue_level": 1},
                {"id": "fld", "name": "Line 1 field", "kind": "field", "purdue_level": 0, "sl_target": 2},
            ],
            "conduits": [
                {"id": "c-ent-dmz", "zones": ["ent", "dmz"], "sl_target": 2, "protections": ["firewall"],
                 "flows": [{"source": "ent", "destination": "dmz", "protocol": "https"}]},
                {"id": "c-dmz-ops", "zones": ["dmz", "ops:1"], "sl_target": 2, "protections": ["firewall"],
                 "flows": [{"source": "ops:1", "destination": "dmz", "protocol": p} for p in ("https", "opc-ua", "sql", "smb", "syslog")]},
                {"id": "c-ops-ctl", "zones": ["ops:1", "ctl"], "sl_target": 2, "protections": ["firewall"],
                 "flows": [{"source": "ops:1", "destination": "ctl", "protocol": "opc-ua", "authenticated": True}]},
                # Telnet across the boundary: ZW007 on this conduit.
                {"id": "c-ctl-fld", "zones": ["ctl", "fld"], "sl_target": 2,
                 "flows": [{"source": "ctl", "destination": "fld", "protocol": "telnet"}]},
            ],
            "assets": [
                {"id": "plc1", "name": "SECRET-PLC-NAME", "type": "plc", "zone": "ctl",
                 "addresses": ["10.20.30.40"], "hostnames": ["plc1.secret.example"]},
                {"id": "hmi1", "name": "SECRET-HMI", "type": "hmi", "zone": "ctl"},
            ],
        }
    )


@pytest.fixture(scope="module")
def svg() -> str:
    d = doc()
    return render_diagram(d, run_check(d, today=TODAY))


def groups(svg_text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg_text)
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g")}


def test_is_well_formed_svg_with_every_zone_and_conduit(svg: str) -> None:
    g = groups(svg)
    for zid in ("ent", "dmz", "ops:1", "ctl", "fld"):
        assert f"zone-{zid}" in g, zid
    for cid in ("c-ent-dmz", "c-dmz-ops", "c-ops-ctl", "c-ctl-fld"):
        assert f"conduit-{cid}" in g, cid
    assert "legend" in g


def test_site_text_is_escaped(svg: str) -> None:
    assert "<script" not in svg.lower()
    assert "&lt;script&gt;" in svg
    assert "&amp; Office" in svg
    assert "Plant &amp; &lt;Lab&gt;" in svg
    # dot's \N (node name) escape must not be expanded from a user's text.
    assert "Office \\N" in svg


def test_no_asset_names_addresses_or_hostnames(svg: str) -> None:
    source = build_graph(doc()).source
    for secret in ("SECRET", "10.20.30.40", "plc1.secret", "plc1", "hmi1"):
        assert secret not in svg and secret not in source
    assert "2 assets" in svg  # a zone-level count is all that is shown


def _text_y(group: ET.Element) -> float:
    return min(float(t.get("y", "0")) for t in group.iter(f"{SVG}text"))


def test_zones_are_laid_out_by_purdue_level(svg: str) -> None:
    g = groups(svg)
    ys = [_text_y(g[f"zone-{z}"]) for z in ("ent", "dmz", "ops:1", "ctl", "fld")]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)  # level 4 on top, down to level 0
    assert abs(_text_y(g["level-1"]) - _text_y(g["zone-ctl"])) < 20


def _strokes(group: ET.Element) -> set[str]:
    return {el.get("stroke", "") for el in group.iter() if el.get("stroke")}


def test_findings_are_highlighted_in_red(svg: str) -> None:
    g = groups(svg)
    assert FINDING_COLOUR in _strokes(g["zone-ctl"])  # ZW012: no SL-T
    assert FINDING_COLOUR in _strokes(g["conduit-c-ctl-fld"])  # ZW007 telnet, ZW009
    assert FINDING_COLOUR not in _strokes(g["zone-dmz"])
    assert FINDING_COLOUR not in _strokes(g["conduit-c-ops-ctl"])
    assert "open findings" in svg


def test_edge_labels_show_slt_and_main_protocols(svg: str) -> None:
    g = groups(svg)
    text = " ".join(t.text or "" for t in g["conduit-c-dmz-ops"].iter(f"{SVG}text"))
    assert "SL-T 2" in text
    assert "https, opc-ua, smb +2 more" in text
    ctl_text = " ".join(t.text or "" for t in g["zone-ctl"].iter(f"{SVG}text"))
    assert "SL-T ?" in ctl_text


def test_kind_colours_are_six_digit_hex_and_used(svg: str) -> None:
    assert set(KIND_COLOURS) == set(ZoneKind)
    for colour in KIND_COLOURS.values():
        assert re.fullmatch(r"#[0-9a-f]{6}", colour)
    fills = {el.get("fill") for el in ET.fromstring(svg).iter() if el.get("fill")}
    assert {KIND_COLOURS[k] for k in (ZoneKind.ENTERPRISE, ZoneKind.DMZ, ZoneKind.CONTROL)} <= fills


def test_without_report_nothing_is_red() -> None:
    out = render_diagram(doc())
    assert FINDING_COLOUR not in out and "open findings" not in out


def test_deterministic() -> None:
    d = doc()
    report = run_check(d, today=TODAY)
    assert render_diagram(d, report) == render_diagram(d, report)


def test_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(DiagramError, match="apt-get install graphviz"):
        render_diagram(doc())


def test_empty_site_renders() -> None:
    out = render_diagram(SiteDocument.model_validate({"site": {"id": "e", "name": "Empty"}}))
    ET.fromstring(out)
    assert "Legend" in out


def _bbox(group: ET.Element) -> tuple[float, float, float, float]:
    shape = next(el for el in group.iter() if el.tag in (f"{SVG}path", f"{SVG}polygon"))
    raw = shape.get("d") or shape.get("points") or ""
    nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", raw)]
    xs, ys = nums[0::2], nums[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def test_thirty_zone_plant_has_no_overlapping_zones() -> None:
    levels = {"external": 5, "enterprise": 4, "dmz": 3.5, "remote-access": 3.5, "operations": 3,
              "supervisory": 2, "control": 1, "safety": 1, "field": 0}
    zones = [("inet", "external"), ("corp", "enterprise"), ("dmz", "dmz"), ("ra", "remote-access"), ("ops", "operations"), ("lab", "operations")]
    conduits = [("inet", "corp"), ("corp", "dmz"), ("inet", "ra"), ("ra", "dmz"), ("dmz", "ops"), ("ops", "lab")]
    for u in range(1, 7):
        zones += [(f"sup{u}", "supervisory"), (f"ctl{u}", "control"), (f"fld{u}", "field"), (f"sis{u}", "safety")]
        conduits += [("ops", f"sup{u}"), (f"sup{u}", f"ctl{u}"), (f"ctl{u}", f"fld{u}"), (f"ctl{u}", f"sis{u}")]
    assert len(zones) == 30
    d = SiteDocument.model_validate(
        {
            "site": {"id": "big", "name": "Thirty zones"},
            "zones": [{"id": z, "name": f"Zone {z} with a longer name", "kind": k, "purdue_level": levels[k],
                       **({"parent": f"ctl{z[3:]}"} if k == "safety" else {})} for z, k in zones],
            "conduits": [{"id": f"c-{a}-{b}", "zones": [a, b], "flows": [{"source": a, "destination": b, "protocol": "https"}]}
                         for a, b in conduits],
        }
    )
    g = groups(render_diagram(d, run_check(d, today=TODAY)))
    boxes = {z: _bbox(g[f"zone-{z}"]) for z, _ in zones}
    names = sorted(boxes)
    for i, a in enumerate(names):
        ax0, ay0, ax1, ay1 = boxes[a]
        for b in names[i + 1:]:
            bx0, by0, bx1, by1 = boxes[b]
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, f"{a} overlaps {b}"
    assert all(f"conduit-c-{a}-{b}" in g for a, b in conduits)


def _many_zones() -> SiteDocument:
    """One enterprise zone with a hostile name, a DMZ, and 12 control cells under 3 supervisory
    zones; one cell conduit carries telnet (ZW007)."""
    zones = [{"id": "ent", "name": "<script>alert('x')</script> & Office \\N", "kind": "enterprise", "purdue_level": 4, "sl_target": 1},
             {"id": "dmz", "name": "DMZ", "kind": "dmz", "purdue_level": 3.5, "sl_target": 2}]
    conduits = [{"id": "c-ent-dmz", "zones": ["ent", "dmz"], "sl_target": 2, "protections": ["firewall"],
                 "flows": [{"source": "ent", "destination": "dmz", "protocol": "https"}]}]
    for s in range(3):
        zones.append({"id": f"sup{s}", "name": f"Supervisory {s}", "kind": "supervisory", "purdue_level": 2, "sl_target": 2})
        conduits.append({"id": f"c-dmz-sup{s}", "zones": ["dmz", f"sup{s}"], "sl_target": 2, "protections": ["firewall"],
                         "flows": [{"source": f"sup{s}", "destination": "dmz", "protocol": "https"}]})
        for c in range(4):
            cell = f"cell{s}{c}"
            zones.append({"id": cell, "name": f"Cell {s}{c}", "kind": "control", "purdue_level": 1,
                          "sl_target": 3 if c == 0 else 2})
            conduits.append({"id": f"c-{cell}", "zones": [f"sup{s}", cell], "sl_target": 2, "protections": ["firewall"],
                             "flows": [{"source": f"sup{s}", "destination": cell,
                                        "protocol": "telnet" if (s, c) == (0, 0) else "opc-ua", "authenticated": True}]})
    return SiteDocument.model_validate({"site": {"id": "big", "name": "Plant & <Lab>"}, "zones": zones, "conduits": conduits})


def test_overview_groups_zones_by_level_and_kind_with_conduit_counts() -> None:
    d = _many_zones()
    report = run_check(d, today=TODAY)
    out = render_overview(d, report)
    g = groups(out)
    boxes = {k for k in g if k.startswith("group-")}
    assert boxes == {"group-4-enterprise", "group-3.5-dmz", "group-2-supervisory", "group-1-control"}
    text = lambda k: " ".join(t.text or "" for t in g[k].iter(f"{SVG}text"))  # noqa: E731
    assert "12 control zones" in text("group-1-control") and "SL-T 2–3" in text("group-1-control")
    assert "3 supervisory zones" in text("group-2-supervisory")
    assert "DMZ" in text("group-3.5-dmz")  # a group of one zone shows the zone
    edges = {" ".join(t.text or "" for t in e.iter(f"{SVG}text")): e
             for e in ET.fromstring(out).iter(f"{SVG}g") if e.get("class") == "edge"}
    assert sorted(lbl.split(" conduit")[0] for lbl in edges) == ["1", "12", "3"]
    cells = next(e for lbl, e in edges.items() if lbl.startswith("12 conduits"))
    assert FINDING_COLOUR in _strokes(cells)  # the telnet conduit's finding marks the line to the cells
    assert "finding" in " ".join(t.text or "" for t in cells.iter(f"{SVG}text"))
    assert FINDING_COLOUR not in _strokes(next(e for lbl, e in edges.items() if lbl.startswith("3 conduits")))
    # every zone's own name but one appears nowhere: zones are counted, not drawn
    assert "Cell 01" not in out and "cell01" not in out


def test_overview_escapes_site_text() -> None:
    out = render_overview(_many_zones())
    ET.fromstring(out)
    assert "<script" not in out.lower() and "&lt;script&gt;" in out
    assert "Plant &amp; &lt;Lab&gt;" in out and "Office \\N" in out
