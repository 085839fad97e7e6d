"""Zone path search: known answers on a small plant, limits, selectors, and a brute-force oracle."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonewarden.domain.levels import SLTarget
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.paths import find_paths, resolve_zone_selector
from zonewarden.errors import InputError

LEVEL = {"enterprise": 4, "dmz": 3.5, "operations": 3, "supervisory": 2, "control": 1, "remote-access": 3.5}


def site(zones: list[tuple[str, str]], conduits: list[dict[str, Any]]) -> SiteDocument:
    return SiteDocument.model_validate(
        {
            "site": {"id": "s", "name": "S"},
            "zones": [{"id": z, "name": z, "kind": k, "purdue_level": LEVEL[k]} for z, k in zones],
            "conduits": conduits,
        }
    )


def plant() -> SiteDocument:
    r"""ent - dmz - ops - ctl, plus a bypass ent - ra - ctl and a second ops-ctl conduit.

        ent --c1-- dmz --c2-- ops ==c3/c4== ctl
          \                               /
           c5 ---------- ra ------- c6 --
    """
    return site(
        [("ent", "enterprise"), ("dmz", "dmz"), ("ops", "operations"), ("ctl", "control"), ("ra", "remote-access")],
        [
            {"id": "c1", "zones": ["ent", "dmz"], "sl_target": 2, "flows": [{"source": "ent", "destination": "dmz", "protocol": "https"}]},
            {
                "id": "c2",
                "zones": ["dmz", "ops"],
                "sl_target": {"FR1": 3, "FR2": 3, "FR3": 3, "FR4": 1, "FR5": 3, "FR6": 3, "FR7": 3},
                "flows": [
                    {"source": "ops", "destination": "dmz", "protocol": "https"},
                    {"source": "ops", "destination": "dmz", "protocol": "sql", "initiator": "destination"},
                ],
            },
            {"id": "c3", "zones": ["ops", "ctl"], "sl_target": 3, "flows": [{"source": "ops", "destination": "ctl", "protocol": "opc-ua"}]},
            {"id": "c4", "zones": ["ctl", "ops"], "flows": [{"source": "ctl", "destination": "ops", "protocol": "s7comm", "initiator": "both"}]},
            {"id": "c5", "zones": ["ent", "ra"], "sl_target": 2, "flows": [{"source": "ent", "destination": "ra", "protocol": "rdp"}]},
            {"id": "c6", "zones": ["ra", "ctl"], "sl_target": 1, "flows": [{"source": "ra", "destination": "ctl", "protocol": "vnc"}]},
        ],
    )


def test_known_paths_in_order() -> None:
    report = find_paths(plant(), ["ent"], ["ctl"])
    got = [(p.zones, p.conduits) for p in report.paths]
    assert got == [
        (("ent", "ra", "ctl"), ("c5", "c6")),
        (("ent", "dmz", "ops", "ctl"), ("c1", "c2", "c3")),
        (("ent", "dmz", "ops", "ctl"), ("c1", "c2", "c4")),
    ]
    assert not report.truncated
    bypass, via3, via4 = report.paths
    assert bypass.hops == 2 and not bypass.via_dmz and via3.via_dmz
    assert bypass.protocols == ("rdp", "vnc")
    assert bypass.weakest_sl_target == SLTarget.uniform(1)
    # c2's only flows are opened by ops (https) and by dmz (sql, destination-initiated): the
    # dmz->ops hop relies on sql; c3 carries opc-ua from ops; c4 is opened by either side.
    assert via3.protocols == ("https", "opc-ua", "sql")
    assert via3.unbacked_conduits == ()
    assert via3.weakest_sl_target == SLTarget.model_validate([2, 2, 2, 1, 2, 2, 2])
    assert via4.weakest_sl_target is None and via4.weakest_sl_target_text == "unknown"
    assert via4.protocols == ("https", "s7comm", "sql")


def test_protocols_are_shown_per_hop() -> None:
    # Issue 17.4: the union over the path suggested https reaches the control zone; it stops in
    # the DMZ. Each hop carries its own protocols; only those on every hop go end to end.
    _, via3, via4 = find_paths(plant(), ["ent"], ["ctl"]).paths
    assert len(via3.hop_protocols) == via3.hops == 3
    assert via3.hop_protocols[2] == ("opc-ua",)
    assert "https" not in via3.hop_protocols[-1]
    assert via3.end_to_end_protocols == ()
    assert via3.hop_protocols_text.endswith("| opc-ua")
    assert via3.to_dict()["hop_protocols"] == [list(h) for h in via3.hop_protocols]
    assert via3.to_dict()["end_to_end_protocols"] == []
    assert set().union(*via4.hop_protocols) == set(via4.protocols)


def test_a_protocol_on_every_hop_goes_end_to_end() -> None:
    bypass = find_paths(plant(), ["ent"], ["ctl"]).paths[0]
    assert bypass.zones == ("ent", "ra", "ctl")
    assert bypass.end_to_end_protocols == tuple(sorted(set(bypass.hop_protocols[0]) & set(bypass.hop_protocols[1])))


def test_a_hop_allowing_any_protocol_does_not_cut_the_others() -> None:
    from zonewarden.engines.paths import ZonePath

    path = ZonePath(zones=("a", "b", "c", "d"), conduits=("x", "y", "z"), protocols=("any", "modbus-tcp"),
                    weakest_sl_target=None, via_dmz=False,
                    hop_protocols=(("modbus-tcp",), ("any",), ("modbus-tcp", "s7comm")))
    assert path.end_to_end_protocols == ("modbus-tcp",)
    assert path.hop_protocols_text == "modbus-tcp | any | modbus-tcp, s7comm"


def test_direction_matters_for_protocols() -> None:
    report = find_paths(plant(), ["ctl"], ["ent"], max_hops=2)
    [back] = report.paths
    assert back.zones == ("ctl", "ra", "ent")
    # vnc and rdp are opened towards ctl, not from it: nothing is allowed this way.
    assert back.protocols == ()
    assert back.unbacked_conduits == ("c6", "c5")


def test_max_hops_and_limit_truncation() -> None:
    doc = plant()
    assert [p.hops for p in find_paths(doc, ["ent"], ["ctl"], max_hops=2).paths] == [2]
    limited = find_paths(doc, ["ent"], ["ctl"], limit=2)
    assert limited.truncated and [p.conduits for p in limited.paths] == [("c5", "c6"), ("c1", "c2", "c3")]
    exact = find_paths(doc, ["ent"], ["ctl"], limit=3)
    assert not exact.truncated and len(exact.paths) == 3
    assert exact.to_dict()["count"] == 3


def test_paths_may_pass_through_other_targets() -> None:
    report = find_paths(plant(), ["ent"], ["ops", "ctl"], max_hops=4)
    through_ctl = [p.conduits for p in report.paths if p.zones == ("ent", "ra", "ctl", "ops")]
    assert through_ctl == [("c5", "c6", "c3"), ("c5", "c6", "c4")]  # passes target ctl to reach ops
    assert [p.hops for p in report.paths] == [2, 2, 3, 3, 3, 3]


def test_selector_by_id_kind_and_errors() -> None:
    doc = plant()
    assert resolve_zone_selector(doc, "ctl") == ("ctl",)
    assert resolve_zone_selector(doc, "Enterprise") == ("ent",)
    with pytest.raises(InputError, match="no zone of kind 'safety'"):
        resolve_zone_selector(doc, "safety")
    with pytest.raises(InputError) as err:
        resolve_zone_selector(doc, "plc-lan")
    text = str(err.value)
    assert "ctl, dmz, ent, ops, ra" in text and "supervisory" in text


def test_bad_arguments() -> None:
    doc = plant()
    with pytest.raises(InputError) as err:
        find_paths(doc, ["ent", "nope"], ["ctl"])
    assert "unknown zone 'nope'" in str(err.value)
    with pytest.raises(InputError, match="max_hops"):
        find_paths(doc, ["ent"], ["ctl"], max_hops=0)
    with pytest.raises(InputError, match="limit"):
        find_paths(doc, ["ent"], ["ctl"], limit=0)


# Property test against networkx's simple edge paths on random small multigraphs -------------


@st.composite
def graphs(draw: st.DrawFn) -> tuple[SiteDocument, list[str], list[str], int]:
    n = draw(st.integers(2, 7))
    names = [f"z{i}" for i in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]), max_size=14))
    conduits = [{"id": f"c{i:02d}", "zones": [names[a], names[b]]} for i, (a, b) in enumerate(pairs)]
    doc = site([(z, "operations") for z in names], conduits)
    sources = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    targets = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    return doc, sources, targets, draw(st.integers(1, 5))


def brute_force(doc: SiteDocument, sources: list[str], targets: list[str], max_hops: int) -> set[tuple[str, ...]]:
    g = nx.MultiGraph()
    g.add_nodes_from(z.id for z in doc.zones)
    for c in doc.conduits:
        g.add_edge(*c.zones, key=c.id)
    out = set()
    for s in sources:
        for t in targets:
            if s == t:
                continue
            for edges in nx.all_simple_edge_paths(g, s, t, cutoff=max_hops):
                out.add((s, *(k for _, _, k in edges)))
    return out


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_paths_match_brute_force(case: tuple[SiteDocument, list[str], list[str], int]) -> None:
    doc, sources, targets, max_hops = case
    report = find_paths(doc, sources, targets, max_hops=max_hops)
    conduit_ends = {c.id: set(c.zones) for c in doc.conduits}
    for p in report.paths:
        assert 1 <= p.hops <= max_hops
        assert len(set(p.zones)) == len(p.zones) == p.hops + 1
        assert p.zones[0] in sources and p.zones[-1] in targets
        for i, c in enumerate(p.conduits):
            assert conduit_ends[c] == {p.zones[i], p.zones[i + 1]}
    keys = [(p.hops, p.zones[0], tuple(zip(p.zones[1:], p.conduits, strict=True))) for p in report.paths]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    # The oracle runs networkx once per (source, target) pair; a path is its start + conduits.
    found = [(p.zones[0], *p.conduits) for p in report.paths]
    assert len(found) == len(set(found))
    assert set(found) == brute_force(doc, sources, targets, max_hops)


@settings(max_examples=60, deadline=None)
@given(graphs(), st.integers(1, 6))
def test_limit_keeps_the_same_prefix(case: tuple[SiteDocument, list[str], list[str], int], limit: int) -> None:
    doc, sources, targets, max_hops = case
    full = find_paths(doc, sources, targets, max_hops=max_hops)
    cut = find_paths(doc, sources, targets, max_hops=max_hops, limit=limit)
    assert cut.paths == full.paths[:limit]
    assert cut.truncated == (len(full.paths) > limit)
