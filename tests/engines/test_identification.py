"""Product identification that survives real inventories (issue 14): registry, names, models."""

from __future__ import annotations

import pytest

from zonewarden.domain.advisories import FindingStatus, FlatAdvisory, MatchField, ReviewReason
from zonewarden.domain.site import Asset, AssetType
from zonewarden.engines.matching import (
    InventoryIndex,
    asset_version_text,
    match_advisory,
    match_advisory_naive,
    model_pattern,
    product_words,
)
from zonewarden.engines.products import flatten_advisory
from zonewarden.engines.ranges import parse_range
from zonewarden.engines.vendors import asset_vendor_keys, parse_registry, registry, vendor_keys
from zonewarden.engines.versions import parse_version
from zonewarden.errors import InputError


def asset(ident: str, vendor: str | None, product: str | None, version: str | None = None, **kw: object) -> Asset:
    return Asset(id=ident, name=ident, type=AssetType.PLC, vendor=vendor, product=product, version=version, **kw)  # type: ignore[arg-type]


def doc(vendor: str, products: list[tuple[str, str | None, list[str]]], status: str = "known_affected") -> FlatAdvisory:
    """An advisory with one vendor, products (name, range, model numbers) all in ``status``."""
    branches = []
    for i, (name, rng, models) in enumerate(products):
        product: dict[str, object] = {"name": f"{name} {rng or ''}".strip(), "product_id": f"P{i}"}
        if models:
            product["product_identification_helper"] = {"model_numbers": models}
        if rng is None:
            branches.append({"category": "product_name", "name": name, "product": product})
        else:
            branches.append({"category": "product_name", "name": name, "branches": [
                {"category": "product_version_range", "name": rng, "product": product}]})
    return flatten_advisory({
        "document": {"title": "t", "tracking": {"id": "EX-14"}},
        "product_tree": {"branches": [{"category": "vendor", "name": vendor, "branches": branches}]},
        "vulnerabilities": [{"cve": "CVE-2024-1", "product_status": {status: [f"P{i}" for i in range(len(products))]}}],
    })


def statuses(adv: FlatAdvisory, assets: list[Asset]) -> dict[str, tuple[FindingStatus, ReviewReason | None]]:
    fast = match_advisory(adv, InventoryIndex(assets))
    slow = match_advisory_naive(adv, assets)
    assert [(f.asset_id, f.status, f.reason, f.matches) for f in fast] == [(f.asset_id, f.status, f.reason, f.matches) for f in slow]
    return {f.asset_id: (f.status, f.reason) for f in fast}


# --- the registry -------------------------------------------------------------------------


def test_every_registry_entry_has_a_note_and_lineage_points_at_entries() -> None:
    reg = registry()
    assert len(reg.entries) > 100
    assert all(len(e.note) >= 10 for e in reg.entries.values())
    assert "AVEVA" in reg.entries["aveva"].note and reg.entries["aveva"].lineage == ("schneider electric", "osisoft")


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("Wonderware", ("aveva", "osisoft", "schneider electric")),  # AVEVA, and the advisories of its owners before
        ("Schneider Electric", ("aveva", "schneider electric")),
        ("Westinghouse", ("emerson", "general electric")),
        ("Allen-Bradley", ("rockwell automation",)),
        ("Hitachi ABB Power Grids", ("abb", "hitachi energy")),
        ("Telemecanique", ("aveva", "schneider electric")),
        ("Belden", ("hirschmann",)),
        ("Mitsubishi Electric Corp.", ("iconics", "mitsubishi electric")),
        ("Kabushiki Kaisha Toshiba", ("toshiba",)),
    ],
)
def test_asset_vendor_keys_follow_lineage(name: str, keys: tuple[str, ...]) -> None:
    assert asset_vendor_keys(name) == keys


def test_a_known_name_followed_by_a_product_word_is_that_vendor() -> None:
    assert vendor_keys("Westinghouse Ovation") == ("emerson",)


def test_registry_problems_are_reported_with_pointers() -> None:
    with pytest.raises(InputError) as err:
        parse_registry({"vendors": {"a": {"note": "", "aliases": ["x"]}, "b": {"note": "a long enough note", "aliases": ["x"], "lineage": ["nobody"]}}})
    text = str(err.value.problems)
    assert "note" in text and "belongs to both" in text and ("vendors", "b", "lineage", 0) in [p.path for p in err.value.problems]


# --- names ------------------------------------------------------------------------------


def test_product_name_normalisation() -> None:
    assert product_words("FactoryTalk View SE").core == product_words("FactoryTalk View Site Edition").core
    assert product_words("SIMATIC WinCC RT Professional").core == product_words("SIMATIC WinCC Runtime Professional").core
    assert product_words("Modicon M580 Controllers").core == product_words("modicon m580 controller").core
    assert product_words("MELSEC iQ-R R04ENCPUs").core == product_words("MELSEC iQ-R R04ENCPU").core
    assert product_words("SCALANCE X-200 (except X-200IRT)").excluded == ("x200irt",)


def test_lineage_brand_words_and_spellings_tie_real_inventory_names() -> None:
    adv = doc("Schneider Electric", [("Wonderware InTouch", "<= 2014 R2", []), ("Foxboro Evo Control Software", "< 6.1", [])])
    found = statuses(adv, [
        asset("intouch", "Wonderware", "InTouch", "2014 R2"),
        asset("intouch-new", "AVEVA", "InTouch HMI", "2017"),
        asset("evo", "Foxboro", "Foxboro EVO control software", "6.0"),
        asset("evo-fixed", "Invensys Foxboro", "Foxboro Evo Control Software", "6.1"),
    ])
    assert found["intouch"] == (FindingStatus.AFFECTED, None)
    assert found["intouch-new"][0] is FindingStatus.NOT_AFFECTED
    assert found["evo"] == (FindingStatus.AFFECTED, None)
    assert found["evo-fixed"][0] is FindingStatus.NOT_AFFECTED


def test_joined_and_split_words_are_the_same_product() -> None:
    adv = doc("Rockwell Automation", [("FactoryTalk Linx", "< 6.30", []), ("Studio 5000 Logix Designer", "< 33.0", [])])
    found = statuses(adv, [asset("linx", "Rockwell", "Factory Talk Linx", "6.20"), asset("s5k", "Allen-Bradley", "Studio5000 Logix Designer", "32.01")])
    assert found == {"linx": (FindingStatus.AFFECTED, None), "s5k": (FindingStatus.AFFECTED, None)}


def test_a_typo_is_a_possible_product_with_the_reason() -> None:
    adv = doc("Emerson", [("Ovation", "< 3.6", [])])
    (f,) = match_advisory(adv, InventoryIndex([asset("dcs", "Westinghouse", "Ovaton", "3.5")]))
    assert (f.status, f.reason, f.matches[0].matched_on) == (FindingStatus.NEEDS_REVIEW, ReviewReason.POSSIBLE_PRODUCT, MatchField.POSSIBLE_PRODUCT)
    assert "differs from the advisory's 'ovation' by one letter" in f.message and "'Ovation" in f.message
    assert statuses(adv, [asset("dcs", "Westinghouse", "Ovaton", "3.5")])


def test_version_beside_the_product_name() -> None:
    assert asset_version_text(asset("a", "AVEVA", "InTouch 2014 R2", None)) == "2014 R2"
    assert asset_version_text(asset("b", "Siemens", "SIMATIC WinCC V7.4", "SP1")) == "7.4 SP1"
    assert asset_version_text(asset("c", "Rockwell", "MicroLogix 1400", None)) is None  # a model, not a version
    adv = doc("Siemens", [("SIMATIC WinCC", "< V7.4 SP1", [])])
    found = statuses(adv, [asset("old", "Siemens", "SIMATIC WinCC V7.4", "SP0"), asset("new", "Siemens", "SIMATIC WinCC V7.4", "SP1")])
    assert found["new"][0] is FindingStatus.NOT_AFFECTED


# --- models -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "inside", "outside"),
    [
        ("6ES7 5xx", ["6ES7 511-1AK02-0AB0", "6ES7518-4AP00-0AB0"], ["6ES7 315-2EH14-0AB0"]),
        ("1756-L8*", ["1756-L83E", "1756-L81ES"], ["1756-L73"]),
        ("6ES7 511-1AK..-0AB0", ["6ES7511-1AK02-0AB0"], ["6ES7511-1AK02-0AB1"]),
        ("BMXP34*", ["BMX P34 2020"], ["BMEP58 2040"]),
    ],
)
def test_model_family_patterns(pattern: str, inside: list[str], outside: list[str]) -> None:
    from zonewarden.engines.matching import model_key

    compiled = model_pattern(pattern)
    assert compiled is not None
    assert all(compiled.fullmatch(model_key(m)) for m in inside)
    assert not any(compiled.fullmatch(model_key(m)) for m in outside)
    assert model_pattern("SCALANCE X-200") is None and model_pattern("6GK5766-1GE00-7DA0") is None


def test_models_in_the_name_tie_and_exclude() -> None:
    adv = doc("Schneider Electric", [("Modicon M340 CPU (part numbers BMXP34*)", "< 3.50", [])])
    found = statuses(adv, [
        asset("cpu", "Telemecanique", "Modicon M340", "3.40", model_number="BMX P34 2020"),
        asset("noe", "Schneider", "Modicon M340", "3.40", model_number="BMX NOE 0100"),
    ])
    assert found == {"cpu": (FindingStatus.AFFECTED, None)}  # the Ethernet module is another device


def test_an_excluded_model_is_a_different_device_not_a_review() -> None:
    adv = doc("Siemens", [("SCALANCE X204-2", "< V5.2.5", ["6GK5204-2BB10-2AA3"]), ("SCALANCE X204-2 TS", "< V5.2.5", ["6GK5204-2BC10-2AA3"])])
    found = statuses(adv, [
        asset("listed", "Siemens AG", "SCALANCE X204-2", "5.2.4", model_number="6GK5 204-2BB10-2AA3"),
        asset("other", "Siemens AG", "SCALANCE X204", "5.2.4", model_number="6GK5204-2BD10-2AA3"),
        asset("family", "Siemens AG", None, "5.2.4", model_number="6GK5204-2B*"),
    ])
    assert found["listed"] == (FindingStatus.AFFECTED, None)
    assert "other" not in found
    assert found["family"] == (FindingStatus.NEEDS_REVIEW, ReviewReason.PRODUCT_AMBIGUOUS)


# --- versions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("V4.1, V4.2 and V4.3", ["4.2"], ["4.4", "4.1.1"]),
        ("2.0/2.1", ["2.1"], ["2.2"]),
        ("V6, V7", ["7.2", "6.0.1"], ["8.0", "5.9"]),
        (">=V7.80<V9.40", ["8.1"], ["9.40"]),
        ("< V13 SP2 Update 10", ["V13 SP2 Update 9", "V13 SP1 Update 12"], ["V13 SP2 Update 10"]),
        ("4.5.x", ["4.5.12"], ["4.6"]),
    ],
)
def test_version_forms(text: str, inside: list[str], outside: list[str]) -> None:
    rng = parse_range(text)
    assert rng.parsed, text
    assert all(rng.contains(parse_version(v)) for v in inside)
    assert not any(rng.contains(parse_version(v)) for v in outside)


def test_a_date_with_slashes_is_not_a_version_list() -> None:
    assert not parse_range("12/10/2020").parsed or parse_range("12/10/2020").contains(parse_version("10")) is not True


# --- undecided answers ----------------------------------------------------------------------


def test_a_later_fixed_version_in_the_remediation_makes_the_gap_a_review() -> None:
    raw = {
        "document": {"title": "t", "tracking": {"id": "EX-15"}},
        "product_tree": {"branches": [{"category": "vendor", "name": "Example", "branches": [
            {"category": "product_name", "name": "Historian", "branches": [
                {"category": "product_version_range", "name": "< V2.9 SP1", "product": {"name": "Historian < V2.9 SP1", "product_id": "P1"}}]}]}]},
        "vulnerabilities": [{"cve": "CVE-2024-2", "product_status": {"known_affected": ["P1"]},
                             "remediations": [{"category": "vendor_fix", "details": "Update to V2.9 SP2 or later.", "product_ids": ["P1"]}]}],
    }
    adv = flatten_advisory(raw)
    found = statuses(adv, [asset("gap", "Example", "Historian", "2.9 SP1"), asset("fixed", "Example", "Historian", "2.9 SP2"),
                           asset("old", "Example", "Historian", "2.9")])
    assert found["gap"] == (FindingStatus.NEEDS_REVIEW, ReviewReason.FIXED_VERSION_CONTRADICTS)
    assert found["fixed"][0] is FindingStatus.NOT_AFFECTED and found["old"][0] is FindingStatus.AFFECTED
    (f,) = [f for f in match_advisory(adv, InventoryIndex([asset("gap", "Example", "Historian", "2.9 SP1")]))]
    assert "the remediation names 2.9 SP2 as the fixed version" in f.message


def test_an_older_line_than_the_advisory_lists_is_undecided() -> None:
    adv = doc("Siemens", [("SIMATIC WinCC V7.4", "< V7.4 SP1", []), ("SIMATIC WinCC V7.5", "< V7.5 SP2", [])])
    found = statuses(adv, [
        asset("old-line", "Siemens", "SIMATIC WinCC", "7.3"),
        asset("new-line", "Siemens", "SIMATIC WinCC", "8.0"),
        asset("listed", "Siemens", "SIMATIC WinCC", "7.5 SP1"),
    ])
    assert found["old-line"] == (FindingStatus.NEEDS_REVIEW, ReviewReason.BRANCH_UNDECIDED)
    assert "new-line" not in found and found["listed"] == (FindingStatus.AFFECTED, None)
    with_prior = doc("Siemens", [("SIMATIC WinCC V7.3 and prior", None, []), ("SIMATIC WinCC V7.5", "< V7.5 SP2", [])])
    assert statuses(with_prior, [asset("old-line", "Siemens", "SIMATIC WinCC", "7.3")]) == {"old-line": (FindingStatus.AFFECTED, None)}


def test_a_variant_in_parentheses_is_not_an_order_number() -> None:
    from zonewarden.engines.matching import _name_models

    assert _name_models("SCALANCE XR324-4M EEC (2x 100-240VAC/60-250VDC, ports on front)") == ()
    assert _name_models("SIMATIC ET 200eco PN (16xM12)") == ()
    assert _name_models("SIMATIC HMI KTP700 (6AV2123-2GB03-0AX0)") == ("6AV2123-2GB03-0AX0",)
    adv = doc("Siemens", [("SCALANCE XR324-4M EEC (2x 24V, ports on rear)", "< V4.1", [])])
    found = statuses(adv, [asset("sw", "Siemens", "SCALANCE XR324-4M EEC (2x 24V, ports on rear)", "4.0", model_number="6GK5324-4GG00-2JR2")])
    assert found == {"sw": (FindingStatus.AFFECTED, None)}


def _fixed_in(rng: str, fix_text: str) -> FlatAdvisory:
    return flatten_advisory({
        "document": {"title": "t", "tracking": {"id": "EX-16"}},
        "product_tree": {"branches": [{"category": "vendor", "name": "HMS", "branches": [
            {"category": "product_name", "name": "eWON Flexy", "branches": [
                {"category": "product_version_range", "name": rng, "product": {"name": f"eWON Flexy {rng}", "product_id": "P1"}}]}]}]},
        "vulnerabilities": [{"cve": "CVE-2024-3", "product_status": {"known_affected": ["P1"]},
                             "remediations": [{"category": "vendor_fix", "details": fix_text, "product_ids": ["P1"]}]}],
    })


def test_a_letter_suffixed_fixed_version_is_read_whole() -> None:
    from zonewarden.engines.matching import named_versions

    assert [v.text for v in named_versions("Update to the latest firmware, Version 14.1s0")] == ["14.1s0"]
    assert [str(v) for v in named_versions("Upgrade Niagara AX to 3.8u4 or later")] == ["3.8 Update 4"]
    assert named_versions("Update to 3.8.0a4 or later") == ()  # a/b/c: pre-release or build, not guessed


def test_a_letter_suffixed_fixed_version_after_the_bound_makes_the_gap_a_review() -> None:
    # The range says "< 14.1"; the fix is build 14.1s2: builds 14.1s0 and 14.1s1 are undecided,
    # not "not affected" (reading the fix as 14.1 would hide them).
    adv = _fixed_in("< 14.1", "Update to firmware version 14.1s2.")
    found = statuses(adv, [asset("gap", "HMS", "eWON Flexy", "14.1s0"), asset("fixed", "HMS", "eWON Flexy", "14.1s2"),
                           asset("old", "HMS", "eWON Flexy", "14.0s3")])
    assert found["gap"] == (FindingStatus.NEEDS_REVIEW, ReviewReason.FIXED_VERSION_CONTRADICTS)
    assert found["fixed"][0] is FindingStatus.NOT_AFFECTED and found["old"][0] is FindingStatus.AFFECTED
    same = statuses(_fixed_in("< 14.1s0", "Update to firmware version 14.1s0."),
                    [asset("at", "HMS", "eWON Flexy", "14.1s0"), asset("below", "HMS", "eWON Flexy", "14.0s2")])
    assert same["at"][0] is FindingStatus.NOT_AFFECTED and same["below"][0] is FindingStatus.AFFECTED


def test_an_asset_version_with_a_pre_release_letter_is_a_review_not_an_order() -> None:
    found = statuses(_fixed_in("< 3.8.0", "Update to 3.8.0."), [asset("pre", "HMS", "eWON Flexy", "3.8.0a4")])
    assert found["pre"] == (FindingStatus.NEEDS_REVIEW, ReviewReason.UNPARSEABLE_ASSET_VERSION)


# --- model ranges (issue 14: "ranges in model names") ------------------------------------------


@pytest.mark.parametrize(
    ("written", "inside", "outside"),
    [
        ("CPU 1211C–1217C", ["CPU 1214C", "1215C", "CPU 1211C", "CPU 1217C"], ["CPU 1510SP-1 PN", "CPU 1218C", "CPU 315-2"]),
        ("6ES7 211-1AE40-0XB0 .. 6ES7 217-1AG40-0XB0",
         ["6ES7214-1AG40-0XB0", "6ES7 212-1BE40-0XB0", "6ES7217-1AG40-0XB0"], ["6ES7 511-1AK02-0AB0", "6ES7218-1AG40-0XB0", "6GK5204-2BB10-2AA3"]),
        ("SCALANCE X204-2 to X208", ["SCALANCE X206-1", "X204-2", "X208"], ["SCALANCE X216", "X200-4P IRT", "SCALANCE XB208"]),
        ("M241 through M251", ["M251", "M241"], ["M258", "M221", "TM241CE40R"]),
    ],
)
def test_model_ranges(written: str, inside: list[str], outside: list[str]) -> None:
    from zonewarden.engines.matching import model_key

    family = model_pattern(written)
    assert family is not None, written
    assert [m for m in inside if not family.fullmatch(model_key(m))] == []
    assert [m for m in outside if family.fullmatch(model_key(m))] == []


def test_a_version_range_is_not_a_model_range() -> None:
    for text in ("8.0.0 to 8.5.1", "Versions 03.03.28C to 05.02.04C", "V5.3.1 build 150410 to V5.4.4", "20 to 30.014"):
        assert model_pattern(text) is None, text
    assert product_words("mGuard firmware versions 8.3.0 to 8.4.2").core >= {"mguard", "8", "3", "0", "4", "2"}


def test_a_model_range_in_the_name_ties_inside_and_excludes_outside() -> None:
    adv = doc("Siemens", [("SIMATIC S7-1200 CPU 1211C–1217C", "< V4.5", [])])
    found = statuses(adv, [
        asset("in", "Siemens", "SIMATIC S7-1200", "4.4", model_number="CPU 1214C"),
        asset("order", "Siemens", "S7-1200", "4.4", model_number="6ES7 214-1AG40-0XB0"),
        asset("out", "Siemens", "SIMATIC S7-1200", "4.4", model_number="CPU 1218C"),
        asset("named-in", "Siemens", "SIMATIC S7-1200 CPU 1215C", "4.4"),
        asset("named-out", "Siemens", "SIMATIC S7-1200 CPU 1510SP", "4.4"),
        asset("fixed", "Siemens", "SIMATIC S7-1200", "4.5", model_number="CPU 1212C"),
    ])
    assert found["in"] == (FindingStatus.AFFECTED, None)
    assert found["named-in"] == (FindingStatus.AFFECTED, None)
    assert found["fixed"][0] is FindingStatus.NOT_AFFECTED
    assert "out" not in found and "named-out" not in found  # other devices, as excluded models are
    # An order number is no CPU name: it is not judged by the CPU range, the product name decides.
    assert found["order"][0] is not FindingStatus.NOT_AFFECTED


def test_a_model_range_in_the_identification_helper() -> None:
    adv = doc("Siemens", [("SIMATIC S7-1200 CPU family", "< V4.5", ["6ES7 211-1AE40-0XB0 .. 6ES7 217-1AG40-0XB0"])])
    found = statuses(adv, [
        asset("in", "Siemens", None, "4.4", model_number="6ES7214-1AG40-0XB0"),
        asset("out", "Siemens", "SIMATIC S7-1200 CPU family", "4.4", model_number="6ES7 511-1AK02-0AB0"),
    ])
    assert found == {"in": (FindingStatus.AFFECTED, None)}


def test_a_model_of_another_series_is_not_excluded_by_a_range() -> None:
    # "RS232 to RS485" reads as a range of RS models; a model of another series is not placed by
    # it (None), so it is not excluded: the product name decides.
    from zonewarden.engines.matching import ModelRange, model_key

    family = model_pattern("RS232 to RS485")
    assert isinstance(family, ModelRange)
    assert family.position(model_key("RS422")) is True and family.position(model_key("RS110")) is False
    assert family.position(model_key("MGate 5105")) is None
    adv = doc("Moxa", [("NPort RS232 to RS485 converter", "< 2.0", [])])
    found = statuses(adv, [asset("other", "Moxa", "NPort converter", "1.0", model_number="MGate 5105"),
                           asset("below", "Moxa", "NPort converter", "1.0", model_number="RS110")])
    assert found["other"][0] is FindingStatus.AFFECTED and "below" not in found
