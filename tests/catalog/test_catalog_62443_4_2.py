"""IEC 62443-4-2 component requirement catalog."""

from __future__ import annotations

import pytest

from zonewarden.catalog import ComponentType, load_62443_3_3, load_62443_4_2
from zonewarden.domain.levels import FR


@pytest.fixture(scope="module")
def cat():
    return load_62443_4_2()


def test_generic_crs_follow_the_system_requirements(cat) -> None:
    srs = {r.id for r in load_62443_3_3().system_requirements()}
    for r in cat:
        if r.system_requirement is not None:
            assert r.system_requirement in srs
            # same numbers as the SR it derives from, whatever the family prefix
            assert r.id.split()[1] == r.system_requirement.split()[1]
    assert cat.get("CR 1.1").system_requirement == "SR 1.1"
    assert cat.get("CR 1.14").system_requirement is None  # new in 4-2


def test_known_component_specific_ids(cat) -> None:
    for ident in (
        "NDR 1.6",
        "NDR 1.13",
        "SAR 2.4",
        "EDR 2.4 RE 1",
        "HDR 2.13",
        "EDR 3.10",
        "NDR 3.14 RE 1",
        "NDR 5.2 RE 3",
        "NDR 5.3",
    ):
        assert ident in cat
    assert cat.get("EDR 3.10").component_types == (ComponentType.EDR,)
    assert set(cat.get("CR 7.8").component_types) == set(ComponentType)


def test_requirements_per_component_type(cat) -> None:
    sar = {r.id for r in cat.for_component("SAR")}
    ndr = {r.id for r in cat.for_component(ComponentType.NDR)}
    assert "NDR 5.2" in ndr and "NDR 5.2" not in sar
    assert "SAR 2.4" in sar and "SAR 2.4" not in ndr
    assert "EDR 3.14" not in sar  # boot integrity is a device requirement
    assert {"CR 1.1", "CR 7.8"} <= sar & ndr


def test_required_at_excludes_items_without_a_component_level_requirement(cat) -> None:
    ids = {r.id for r in cat.required_at("EDR", FR.FR2, 4)}
    assert "CR 2.3" not in ids  # 4-2 asks nothing of components here
    assert {"CR 2.1 RE 4", "EDR 2.4 RE 1", "EDR 2.13 RE 1"} <= ids
    assert not any(i.startswith(("SAR", "HDR", "NDR")) for i in ids)
    level1 = {r.id for r in cat.required_at(ComponentType.NDR, None, 1)}
    assert "NDR 1.6" in level1 and "CR 1.2" not in level1  # device authentication starts at SL 2
    for lower in range(4):
        assert set(cat.required_at("HDR", None, lower)) <= set(
            cat.required_at("HDR", None, lower + 1)
        )


def test_uncertain_entries_are_marked_and_explained(cat) -> None:
    uncertain = [r for r in cat if not r.certain]
    assert uncertain, "the file is honest about what was not verified"
    assert all(r.note for r in uncertain)
    assert cat.get("CR 1.1").certain is True
    assert cat.get("CR 2.3").min_sl is None and cat.get("CR 2.3").note


def test_components_by_type_and_titles(cat) -> None:
    assert ComponentType.HDR.label == "Host device"
    assert cat.get("HDR 3.2 RE 1").applies_to("HDR")
    assert not cat.get("HDR 3.2 RE 1").applies_to("EDR")
