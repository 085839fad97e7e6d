"""Advisory x inventory matching against real CISA advisories and hand-made assets."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from zonewarden.domain.advisories import FindingStatus, FlatAdvisory, MatchField, ReviewReason
from zonewarden.domain.site import Asset, AssetType
from zonewarden.engines.inventory_gaps import (
    advisories_by_vendor,
    advisory_vendor_keys,
    inventory_gaps,
    is_gap,
    unassessable_exposure,
)
from zonewarden.engines.matching import (
    InventoryIndex,
    match_advisory,
    match_advisory_naive,
    match_all,
    product_words,
    vendor_aliases,
    vendor_keys,
)
from zonewarden.engines.products import flatten_advisory

CISA = "csaf/cisa-ics/csaf_files/OT/white"


def advisory(shared: Path, name: str) -> FlatAdvisory:
    year = "20" + name.split("-")[1]
    path = shared / CISA / year / f"{name}.json"
    return flatten_advisory(orjson.loads(path.read_bytes()), source=str(path))


def asset(ident: str, vendor: str | None, product: str | None, version: str | None = None, **kw: object) -> Asset:
    return Asset(id=ident, name=ident, type=kw.pop("type", AssetType.PLC), vendor=vendor, product=product, version=version, **kw)


def by_asset(findings: tuple) -> dict:
    return {f.asset_id: f for f in findings}


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("Siemens", ("siemens",)),
        ("Siemens AG", ("siemens",)),
        ("Rockwell", ("rockwell automation",)),
        ("Rockwell Automation ", ("rockwell automation",)),
        ("Allen-Bradley", ("rockwell automation",)),
        ("Schneider", ("schneider electric",)),
        ("Schneider Electric Software, LLC", ("schneider electric",)),
        ("General Electric (GE)", ("general electric",)),
        # corporate lineage: inventories keep the name on the nameplate, advisories use the owner's
        ("Foxboro", ("schneider electric",)),
        ("Invensys Triconex", ("schneider electric",)),
        ("Westinghouse Process Control", ("emerson",)),
        ("Hirschmann Automation and Control GmbH", ("hirschmann",)),
        ("Telemecanique", ("schneider electric",)),
        ("GeutebrÃ¼ck GmbH", ("geutebruck",)),
        ("Sensormatic Electronics, LLC, a subsidiary of Johnson Controls Inc.", ("johnson controls", "sensormatic electronics")),
        ("ICONICS, Mitsubishi Electric", ("iconics", "mitsubishi electric")),
        ("Some New Vendor Ltd", ("some new vendor",)),
        (None, ()),
    ],
)
def test_vendor_keys(name: str | None, keys: tuple[str, ...]) -> None:
    assert vendor_keys(name) == keys


def test_alias_table_is_consistent() -> None:
    aliases = vendor_aliases()  # raises if a spelling belongs to two vendors
    assert aliases["siemens"] == "siemens" and aliases["allen bradley"] == "rockwell automation"
    assert len(set(aliases.values())) > 90


def test_product_words() -> None:
    w = product_words("SIMATIC STEP 7 (TIA Portal) V13")
    # "TIA" is written out ("Totally Integrated Automation"), as both sides are.
    assert w.core == {"simatic", "step", "7"} and w.full == w.core | {"totally", "integrated", "automation", "portal"}
    assert w.series == (13,)
    assert product_words("SIMATIC WinCC V7.2 and prior").series_upto
    assert product_words("S7-1500") == product_words("s7 1500")


# --- real advisories ----------------------------------------------------------------------------


@pytest.mark.shared
def test_siemens_icsa_17_129_01(shared_data: Path) -> None:
    adv = advisory(shared_data, "icsa-17-129-01")
    assets = [
        asset("tia-13", "Siemens AG", "SIMATIC STEP 7 (TIA Portal)", "V13 SP1", type=AssetType.ENGINEERING_WORKSTATION),
        asset("tia-14", "Siemens", "SIMATIC STEP 7 (TIA Portal)", "V14 SP1"),
        asset("tia-none", "Siemens", "SIMATIC STEP 7 (TIA Portal)"),
        asset("pst-old", "Siemens", "Primary Setup Tool", "V4.2"),
        asset("pst-fixed", "Siemens", "Primary Setup Tool (PST)", "V4.2 HF1"),
        asset("wincc-74", "Siemens", "SIMATIC WinCC", "V7.4 SP1"),
        asset("wincc-74-fixed", "Siemens", "SIMATIC WinCC", "V7.4 SP1 Upd1"),
        asset("wincc-71", "Siemens", "SIMATIC WinCC", "V7.1"),
        asset("pst-odd", "Siemens", "Primary Setup Tool", "R9C"),
        asset("pst-garbage", "Siemens", "Primary Setup Tool", "unknown"),
        asset("other-vendor", "Acme", "SIMATIC STEP 7 (TIA Portal)", "V13"),
        asset("other-product", "Siemens", "SIMATIC S7-1200", "4.0"),
    ]
    found = by_asset(match_advisory(adv, InventoryIndex(assets)))
    assert "other-vendor" not in found and "other-product" not in found

    f = found["tia-13"]
    assert f.status is FindingStatus.AFFECTED and f.cves == ("CVE-2017-6865",)
    (m,) = f.matches  # the V14 entry does not apply to a 13.x asset
    assert (m.product_id, m.matched_on, m.range_text) == ("CSAFPID-0006", MatchField.PRODUCT_NAME, "All versions < V13 SP2")
    assert "'V13 SP1' is in 'All versions < V13 SP2'" in f.message

    assert found["tia-14"].status is FindingStatus.NOT_AFFECTED
    assert (found["tia-none"].status, found["tia-none"].reason) == (FindingStatus.NEEDS_REVIEW, ReviewReason.NO_ASSET_VERSION)
    assert found["pst-old"].status is FindingStatus.AFFECTED
    assert found["pst-fixed"].status is FindingStatus.NOT_AFFECTED
    assert found["wincc-74"].status is FindingStatus.AFFECTED
    assert found["wincc-74"].deciding.product_name.startswith("SIMATIC WinCC V7.4")
    fixed = found["wincc-74-fixed"]
    assert fixed.status is FindingStatus.NOT_AFFECTED
    # The precise match to "SIMATIC WinCC V7.4" outranks the partial one to "WinCC flexible 2008".
    assert [m.product_id for m in fixed.matches] == ["CSAFPID-00014"]
    assert found["wincc-71"].status is FindingStatus.AFFECTED  # "SIMATIC WinCC V7.2 and prior: All versions"
    assert found["pst-odd"].reason is ReviewReason.VERSION_NOT_COMPARABLE
    assert found["pst-garbage"].reason is ReviewReason.UNPARSEABLE_ASSET_VERSION


@pytest.mark.shared
def test_rockwell_icsa_17_047_01_family_and_ambiguity(shared_data: Path) -> None:
    adv = advisory(shared_data, "icsa-17-047-01")
    assets = [
        asset("ccw-free", "Rockwell", "Connected Components Workbench - Free Standard Edition", "9.00"),
        asset("ccw-new", "Rockwell Automation", "Connected Components Workbench Free Standard Edition", "10.0"),
        asset("ccw-vague", "Allen-Bradley", "Connected Components Workbench", "9.00"),
    ]
    found = by_asset(match_advisory(adv, InventoryIndex(assets)))
    assert found["ccw-free"].status is FindingStatus.AFFECTED
    # "(All Supported Languages)" is optional: the words outside parentheses are equal.
    assert found["ccw-free"].deciding.matched_on is MatchField.PRODUCT_NAME
    assert found["ccw-new"].status is FindingStatus.NOT_AFFECTED
    vague = found["ccw-vague"]
    assert (vague.status, vague.reason) == (FindingStatus.NEEDS_REVIEW, ReviewReason.PRODUCT_AMBIGUOUS)
    assert len(vague.matches) == 8 and "less specific" in vague.message


@pytest.mark.shared
def test_model_number_match_icsa_22_167_14(shared_data: Path) -> None:
    adv = advisory(shared_data, "icsa-22-167-14")
    assets = [
        asset("wam-eu", "Siemens", "SCALANCE WAM766-1", "V1.2", model_number="6GK5766-1GE00-7DA0", type=AssetType.WIRELESS_AP),
        asset("wam-new", "Siemens", "SCALANCE WAM766-1", "V2.0", model_number="6GK5766-1GE00-7DA0", type=AssetType.WIRELESS_AP),
        asset("wam-other-model", "Siemens", "SCALANCE WAM766-1 (EU)", "V1.2", model_number="6GK5766-9ZZ99-0AA0"),
    ]
    found = by_asset(match_advisory(adv, InventoryIndex(assets)))
    f = found["wam-eu"]
    assert f.status is FindingStatus.AFFECTED
    assert [(m.product_id, m.matched_on) for m in f.matches] == [("CSAFPID-000101", MatchField.MODEL_NUMBER)]
    assert found["wam-new"].status is FindingStatus.NOT_AFFECTED
    assert "wam-other-model" not in found  # a model number the advisory does not list


@pytest.mark.shared
def test_unreadable_ranges_and_conditions_need_review(shared_data: Path) -> None:
    serial = advisory(shared_data, "icsa-20-245-01")
    (f,) = match_advisory(serial, InventoryIndex([asset("q24", "Mitsubishi", "Q24DHCCPU-V", "24031")]))
    assert (f.status, f.reason) == (FindingStatus.NEEDS_REVIEW, ReviewReason.UNPARSEABLE_RANGE)
    assert "serial" in f.message

    cond = advisory(shared_data, "icsa-21-257-18")
    (f,) = match_advisory(cond, InventoryIndex([asset("desigo", "Siemens", "Desigo CC", "V5.0", type=AssetType.BMS)]))
    assert (f.status, f.reason) == (FindingStatus.NEEDS_REVIEW, ReviewReason.RANGE_CONDITION)
    assert "OIS Extension Module" in f.message


@pytest.mark.shared
def test_vendor_only_asset_is_one_inventory_gap_not_a_finding_per_advisory(shared_data: Path) -> None:
    advs = [advisory(shared_data, n) for n in ("icsa-17-129-01", "icsa-22-167-14", "icsa-17-047-01")]
    mystery = asset("mystery", "Siemens", None, "1.0")
    named = asset("named", "Siemens AG", "Primary Setup Tool", "V4.2")
    index = InventoryIndex([mystery, named])
    found = [f for adv in advs for f in match_advisory(adv, index)]
    assert {f.asset_id for f in found} == {"named"}  # no finding per advisory for the vendor-only asset
    by_vendor = advisories_by_vendor({a.id: advisory_vendor_keys(a) for a in advs})
    (gap,) = inventory_gaps([mystery, named], by_vendor)
    assert (gap.asset_id, gap.advisories) == ("mystery", ("ICSA-17-129-01", "ICSA-22-167-14"))
    assert "no product name and no model number" in gap.message and "2 advisories" in gap.message
    exposure = unassessable_exposure([gap])
    assert (exposure.assets, exposure.exposed_assets, exposure.advisories, exposure.pairs) == (1, 1, 2, 2)
    # A model number alone is enough to be matched: it is not a gap.
    assert not is_gap(asset("m", "Siemens", None, model_number="6GK5766-1GE00-7DA0"))
    assert not is_gap(asset("n", None, None))


@pytest.mark.shared
def test_indexed_equals_naive_on_real_advisories(shared_data: Path) -> None:
    files = sorted((shared_data / CISA).glob("*/*.json"))
    rng = random.Random(7)
    advisories = [flatten_advisory(orjson.loads(p.read_bytes())) for p in rng.sample(files, 40)]
    entries = [(e.vendor, e.product, e.version_text, e.model_numbers) for a in advisories for e in a.products if e.vendor]
    assets = []
    for i in range(600):
        vendor, product, version_text, models = rng.choice(entries)
        if i % 7 == 0 and product and " " in product:
            product = product.rsplit(" ", 1)[0]
        version = rng.choice([None, "1.0", "V2.0 SP1", "99", (version_text or "1.0").split()[-1]])
        model = rng.choice(models) if models and i % 3 == 0 else None
        assets.append(asset(f"a{i:04d}", vendor, product, version, model_number=model))
    index = InventoryIndex(assets)
    total = 0
    for adv in advisories:
        fast, slow = match_advisory(adv, index), match_advisory_naive(adv, assets)
        assert [(f.asset_id, f.status, f.reason, tuple(m.product_id for m in f.matches)) for f in fast] == [
            (f.asset_id, f.status, f.reason, tuple(m.product_id for m in f.matches)) for f in slow
        ], adv.id
        total += len(fast)
    assert total > 300, "the sample should produce findings to compare"


@pytest.mark.shared
def test_match_all_is_sorted_and_deterministic(shared_data: Path) -> None:
    advs = [advisory(shared_data, n) for n in ("icsa-17-129-01", "icsa-17-047-01")]
    assets = [asset("z", "Siemens", "Primary Setup Tool", "1.0"), asset("a", "Rockwell", "Connected Components Workbench", "1")]
    out = match_all(list(reversed(advs)), assets)
    assert [(f.advisory_id, f.asset_id) for f in out] == [("ICSA-17-047-01", "a"), ("ICSA-17-129-01", "z")]
    assert out == match_all(advs, InventoryIndex(assets))


# --- identifiers ---------------------------------------------------------------------------------


def _cpe_doc() -> dict:
    return {
        "document": {"title": "t", "tracking": {"id": "EX-1"}},
        "product_tree": {
            "full_product_names": [
                {"name": "Example HMI 3.1", "product_id": "P1",
                 "product_identification_helper": {"cpe": "cpe:2.3:a:example:hmi:3.1:*:*:*:*:*:*:*"}},
                {"name": "examplelib 1.2.0", "product_id": "P2",
                 "product_identification_helper": {"purl": "pkg:pypi/examplelib@1.2.0"}},
            ]
        },
        "vulnerabilities": [{"cve": "CVE-2024-9", "product_status": {"known_affected": ["P1", "P2"]}}],
    }


def test_cpe_and_purl_decide_when_both_sides_have_them() -> None:
    adv = flatten_advisory(_cpe_doc())
    assets = [
        asset("hmi-31", "Example", "Something Else", "3.1", cpe="cpe:2.3:a:example:hmi:3.1:*:*:*:*:*:*:*", type=AssetType.HMI),
        asset("hmi-32", None, None, "3.2", cpe="cpe:2.3:a:example:hmi:*:*:*:*:*:*:*:*", type=AssetType.HMI),
        asset("lib", None, None, "1.2.0", purl="pkg:pypi/examplelib@1.2.0", type=AssetType.SERVER),
        asset("other-cpe", "Example", "HMI", "3.1", cpe="cpe:2.3:a:example:scada:3.1:*:*:*:*:*:*:*"),
    ]
    found = by_asset(match_advisory(adv, InventoryIndex(assets)))
    assert found["hmi-31"].status is FindingStatus.AFFECTED and found["hmi-31"].matches[0].matched_on is MatchField.CPE
    assert found["hmi-32"].status is FindingStatus.NOT_AFFECTED  # the CPE names version 3.1 only
    assert found["lib"].matches[0].matched_on is MatchField.PURL and found["lib"].status is FindingStatus.AFFECTED
    assert "other-cpe" not in found
