"""Vendor version ordering: OT rules (service packs after the base) and order properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonewarden.engines.versions import (
    OTVersion,
    VersionError,
    VersionRule,
    comparable,
    parse_version,
    try_version,
)

# Each chain is in strictly ascending order, as the vendors mean it.
CHAINS = [
    ["2.9 beta", "2.9", "V2.9 SP1", "V2.9 SP1 HF1", "V2.9 SP1 HF2", "V2.9 SP2", "2.9.1", "V3.0"],
    ["2016", "2016 R2", "2016 R2 SP1", "2017"],
    ["V4.7", "V4.7 SP3", "V4.7 SP4", "V4.7 SP4 HF1", "V4.7 SP4 HF2", "V4.8"],
    ["V13", "V13 Update 9", "V13 SP1", "V13 SP2", "V13 SP2 Update 4", "V14"],
    ["1.2.3", "1.2.3-build45", "1.2.3-build46", "1.2.4"],
    ["v32.002", "v32.011", "v33.011"],
    ["2021.06", "2021.11", "2022.01"],
    ["Rev. A", "Rev B", "Rev. C"],
    ["R1", "R2", "R10"],
    ["Update 1", "Update 3"],
    ["4.04", "4.04D", "4.04E", "4.05"],
    ["1.0 RC1", "1.0", "1.0 Service Pack 01"],
]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c[0])
def test_vendor_chains_are_ascending(chain: list[str]) -> None:
    versions = [parse_version(v) for v in chain]
    for lower, higher in zip(versions, versions[1:], strict=False):
        assert lower < higher, f"{lower.text!r} should sort before {higher.text!r}"
        assert higher > lower and lower != higher


def test_service_pack_after_base_unlike_semver() -> None:
    # univers' vers:generic puts 2.9.4-SP1 before 2.9.4 (a pre-release); in OT it comes after.
    assert parse_version("2.9.4-SP1") > parse_version("2.9.4")
    assert parse_version("2.9.4 beta") < parse_version("2.9.4")


@pytest.mark.parametrize(
    ("a", "b"),
    [("V2.9", "2.9"), ("2.9.0", "2.9"), ("v2.9 sp1", "V2.9 SP1"), ("V13 SP2 Upd4", "V13 SP2 Update 4"),
     ("9.4_FP2_Hotfix_4", "9.4 FP2 HF4"), ("Version v4.75", "4.75"), ("V 4.87", "4.87"), ("4.04e", "4.04E")],
)
def test_equivalent_spellings(a: str, b: str) -> None:
    assert parse_version(a) == parse_version(b)
    assert hash(parse_version(a)) == hash(parse_version(b))


def test_parts_and_format() -> None:
    v = parse_version("V4.7 SP4 HF2")
    assert v.release == (4, 7)
    assert v.scheme == "number"
    assert v.format() == "4.7 SP4 HF2"
    assert parse_version("v32.011").format() == "32.011"  # the vendor's digits are kept
    assert parse_version("Rev. C").format() == "Rev C"
    assert parse_version("1.2.3-build45").format() == "1.2.3 build 45"
    assert parse_version("1.5").startswith((1, 5)) and not parse_version("1.6").startswith((1, 5))


def test_schemes_tell_comparable_versions() -> None:
    assert comparable(parse_version("4.2"), parse_version("V4.3 SP1"))
    assert not comparable(parse_version("R9C"), parse_version("4.2"))
    assert comparable(parse_version("R7.01"), parse_version("R8.02"))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", VersionRule.EMPTY),
        ("   ", VersionRule.EMPTY),
        ("1.5.x", VersionRule.WILDCARD),
        ("*", VersionRule.WILDCARD),
        ("January 2020", VersionRule.WORD),
        ("All versions", VersionRule.WORD),
        ("1.2;3", VersionRule.BAD_CHARACTER),
        ("SP", VersionRule.NO_VALUE),
        ("1" * 130, VersionRule.TOO_LONG),
    ],
)
def test_each_rule_has_its_error(text: str, rule: VersionRule) -> None:
    with pytest.raises(VersionError) as err:
        parse_version(text)
    assert err.value.rule is rule
    assert repr(text[:20])[:10] in str(err.value) or text.strip() == ""
    assert err.value.problems, "the error carries a Problem for reports"
    assert try_version(text) is None


def test_error_names_the_position() -> None:
    with pytest.raises(VersionError) as err:
        parse_version("V2.1 Final")
    assert err.value.position == 5
    assert "'Final'" in str(err.value) and "position 5" in str(err.value)


# --- properties -------------------------------------------------------------------------

_QUALIFIERS = ["SP", "HF", "Update ", "Upd", "R", "build ", "beta", "RC", "P", "FP", "Rev "]
_release = st.lists(st.integers(0, 40), min_size=1, max_size=4).map(lambda xs: ".".join(map(str, xs)))
_qualifier = st.tuples(st.sampled_from(_QUALIFIERS), st.integers(0, 12), st.sampled_from([" ", "-", "_", ""])).map(
    lambda t: f"{t[2] if t[2] else ' '}{t[0]}{t[1]}"
)
_suffix = st.sampled_from(["", "", "", "a", "E", "Y"])
versions = st.builds(
    lambda v, rel, suffix, quals: f"{v}{rel}{suffix}{''.join(quals)}",
    st.sampled_from(["", "V", "v", "V "]),
    _release,
    _suffix,
    st.lists(_qualifier, max_size=3),
).map(parse_version)


@given(versions, versions)
def test_total_order(a: OTVersion, b: OTVersion) -> None:
    assert sum([a < b, a == b, a > b]) == 1
    assert (a <= b) == (a < b or a == b)
    assert (a == b) == (hash(a) == hash(b)) or a != b


@given(versions, versions)
def test_antisymmetry(a: OTVersion, b: OTVersion) -> None:
    if a <= b and b <= a:
        assert a == b


@given(versions, versions, versions)
def test_transitivity(a: OTVersion, b: OTVersion, c: OTVersion) -> None:
    x, y, z = sorted([a, b, c])
    assert x <= y <= z and x <= z


@given(versions)
def test_parse_format_is_stable(v: OTVersion) -> None:
    again = parse_version(v.format())
    assert again == v
    assert again.format() == v.format()


@given(versions)
def test_qualifier_after_base(v: OTVersion) -> None:
    # Adding a service pack or hotfix to any version makes it later, never earlier.
    assert parse_version(v.format() + " SP1") > v
    assert parse_version(v.format() + " HF1") > v


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_garbage_fails_cleanly(text: str) -> None:
    try:
        v = parse_version(text)
    except VersionError as err:
        assert err.rule in VersionRule
    else:
        assert parse_version(v.format()) == v


# --- letter-suffixed builds (issue 14: ``14.5s0`` in a remediation) ---------------------------


def test_letter_suffixed_builds_of_one_style_are_ordered() -> None:
    # HMS eWON firmware: 14.0s2 < 14.1s0 < 14.1s1 < 14.2s0; the build comes after its release.
    chain = ["14.0s2", "14.1", "14.1s0", "14.1s1", "14.1s12", "14.1.1", "14.2s0"]
    versions = [parse_version(v) for v in chain]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert comparable(parse_version("14.1s0"), parse_version("14.2"))


@pytest.mark.parametrize("text", ["3.8.0a4", "3.10.0b1", "2.1c2", "V1.0b3"])
def test_a_build_letter_that_may_mean_a_pre_release_is_not_guessed(text: str) -> None:
    # PEP 440 writes alpha/beta/candidate as 3.8.0a4 (before 3.8.0); vendor build letters come
    # after the release (4.04E, 14.1s0): which one a/b/c means is not written in the version.
    with pytest.raises(VersionError) as err:
        parse_version(text)
    assert err.value.rule is VersionRule.AMBIGUOUS
    assert "pre-release" in str(err.value)
    assert try_version(text) is None


def test_letter_codes_without_a_number_keep_their_order() -> None:
    assert parse_version("4.04") < parse_version("4.04b") < parse_version("4.04c") < parse_version("4.05")
    assert parse_version("1.0 beta 2") < parse_version("1.0")
