"""Affected-version ranges as CISA writes them, and the parse coverage over the real feed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zonewarden.engines.ranges import (
    RangeForm,
    Unparsed,
    UnparsedRange,
    VersionRange,
    parse_range,
    version_is_range,
)
from zonewarden.engines.versions import parse_version

CASES = [
    # text, inside, outside
    ("vers:generic/>=1.0|<2.0", ["1.0", "1.9.9"], ["0.9", "2.0"]),
    ("vers:all/*", ["0.1", "V99 SP9"], []),
    ("vers:all/<V7.0.3", ["7.0.2", "V6.9 SP4"], ["7.0.3", "7.1"]),
    ("vers:all/>=V7.80<V9.40", ["7.80", "V9.3 SP1"], ["7.79", "9.40"]),
    ("< V2.9 SP1", ["2.9", "V2.8 SP3"], ["2.9 SP1", "2.9 SP1 HF1", "2.10"]),
    ("<= 2016 R2", ["2016", "2016 R2"], ["2016 R2 SP1", "2017"]),
    ("All versions < V4.7 SP4 HF2", ["4.7 SP4", "4.7 SP4 HF1"], ["4.7 SP4 HF2", "4.8"]),
    ("All versions", ["1", "Rev C"], []),
    ("2.0.3 (including) and 2.0.6 (excluding)", ["2.0.3", "2.0.5"], ["2.0.2", "2.0.6"]),
    ("All versions between V2.5 (including) and V2.7 (excluding)", ["2.5", "2.6.9"], ["2.7"]),
    ("prior to 5.1", ["5.0.9"], ["5.1"]),
    ("versions 3.0 through 3.4", ["3.0", "3.4"], ["2.9", "3.4.1"]),
    ("V1.0 and later", ["1.0", "7"], ["0.9"]),
    ("2.4 and earlier", ["2.4", "1"], ["2.4.1"]),
    ("All Versions >= V6.5 and < V7.1", ["6.5", "7.0 SP2"], ["6.4", "7.1"]),
    (">= V03.00.12 < 03.00.18", ["3.0.12", "3.0.17"], ["3.0.11", "3.0.18"]),
    (">= 10.1 | <= 10.5", ["10.1", "10.5"], ["10.0", "10.6"]),
    ("1.5.x | 1.6.x", ["1.5", "1.5.3", "1.6.9"], ["1.4.9", "1.7"]),
    ("<= V7.x", ["7.9.9"], ["8.0"]),
    (">= 2.3x | <= 6.00.327", ["2.3", "6.00.327"], ["2.2", "6.00.328"]),
    ("2017 R2 | 2017 R2 SP1 | 2019", ["2017 R2", "2019"], ["2017", "2018"]),
    ("12.7.1-12.7.3", ["12.7.2"], ["12.7.4"]),
    ("V4.5.0", ["4.5"], ["4.5.1"]),
    ("<= 2.01 (end-of-life Nov 2017)", ["2.01"], ["2.02"]),
]


@pytest.mark.parametrize(("text", "inside", "outside"), CASES, ids=[c[0] for c in CASES])
def test_membership(text: str, inside: list[str], outside: list[str]) -> None:
    r = parse_range(text)
    assert isinstance(r, VersionRange), r.describe()
    for v in inside:
        assert r.contains(v) is True, f"{v!r} should be in {text!r} ({r.describe()})"
        assert r.contains(parse_version(v)) is True
    for v in outside:
        assert r.contains(v) is False, f"{v!r} should not be in {text!r} ({r.describe()})"


def test_forms_and_deviations() -> None:
    assert parse_range("vers:generic/>=1.0|<2.0").form is RangeForm.VERS
    invalid = parse_range("vers:all/<V7.0.3")
    assert invalid.form is RangeForm.VERS_INVALID
    assert any("vers:all allows only '*'" in d for d in invalid.deviations)
    assert parse_range("< 2.1 SP2").form is RangeForm.COMPARATOR
    assert parse_range("prior to 5.1").form is RangeForm.PROSE
    assert parse_range("All versions").form is RangeForm.ALL
    assert parse_range("9.0 R2").form is RangeForm.SINGLE
    assert parse_range("<= 2.01 (end-of-life Nov 2017)").notes == ("end-of-life Nov 2017",)


def test_conditions_are_kept_not_decided() -> None:
    r = parse_range("All versions with OIS Extension Module")
    assert r.contains("1.0") is True and r.conditions == ("with OIS Extension Module",)
    r = parse_range("< 7.101 (only Microsoft Windows versions are affected)")
    assert r.contains("7.1") is True
    assert r.conditions == ("only Microsoft Windows versions are affected",)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", Unparsed.EMPTY),
        ("<=the_first_5_digits_of_serial_number_22081", Unparsed.SERIAL_OR_DATE),
        ("<=Production_date_July_2020", Unparsed.SERIAL_OR_DATE),
        ("<  january 2020", Unparsed.DATE_IN_WORDS),
        ("< V3.X.17", Unparsed.NOT_A_VERSION),
        ("NMC2 <= 6.9.6", Unparsed.NOT_A_VERSION),
        (">= 3.0 | <= 2.0", Unparsed.EMPTY_INTERVAL),
    ],
)
def test_unparsed_is_never_not_affected(text: str, reason: Unparsed) -> None:
    r = parse_range(text)
    assert isinstance(r, UnparsedRange)
    assert r.reason is reason and r.message
    assert r.contains("1.0") is None and r.contains(None) is None


def test_unknown_when_version_cannot_tell() -> None:
    r = parse_range("< V4.2")
    assert r.contains(None) is None
    assert r.contains("unknown build") is None  # not a version
    assert r.contains("R9C") is None  # another scheme: the order would mean nothing
    assert parse_range("All versions").contains(None) is True


def test_union_over_approximates_rather_than_drops() -> None:
    # CISA's per-branch list: a version below any bound counts as affected.
    r = parse_range("< 19.0.1 | < 18.0.1 | < 3.15.1")
    assert r.contains("18.5") is True and r.contains("19.0.1") is False


def test_range_in_product_version_is_detected() -> None:
    assert version_is_range("< 2.1")
    assert version_is_range("All versions")
    assert version_is_range("1.5.x")
    assert not version_is_range("2.2.5")
    assert not version_is_range("2017 R2 | 2019")


_bound = st.lists(st.integers(0, 20), min_size=1, max_size=3).map(lambda xs: ".".join(map(str, xs)))


@given(_bound, _bound, _bound)
def test_interval_membership_agrees_with_order(lo: str, hi: str, v: str) -> None:
    a, b, x = parse_version(lo), parse_version(hi), parse_version(v)
    if b < a:
        a, b, lo, hi = b, a, hi, lo
    r = parse_range(f">= {lo} | < {hi}")
    if isinstance(r, VersionRange) and a != b:
        assert r.contains(x) is (a <= x < b)
    assert parse_range(f"< {hi}").contains(x) is (x < b)
    assert parse_range(f"<= {hi}").contains(x) is (x <= b)


# --- coverage over the real feed ----------------------------------------------------------

_VOCABULARY = frozenset(
    "all versions version prior before through and later earlier including excluding update service "
    "pack hotfix build firmware software from with only release beta patch the to or below".split()
)


def _free_text(value: str) -> bool:
    """Prose rather than a range: no digit at all, or two or more ordinary words."""
    if not re.search(r"\d", value):
        return value.strip().lower() not in ("all versions", "*", "vers:all/*")
    words = [w for w in re.findall(r"[A-Za-z]{4,}", value) if w.lower() not in _VOCABULARY]
    return len(words) >= 2


def _values(shared: Path) -> Counter[str]:
    found: Counter[str] = Counter()

    def walk(branches: list[dict]) -> None:
        for b in branches:
            if b.get("category") in ("product_version_range", "product_version"):
                found[b["name"]] += 1
            walk(b.get("branches", []))

    for path in sorted((shared / "csaf/cisa-ics/csaf_files/OT/white").glob("*/*.json")):
        walk(orjson.loads(path.read_bytes()).get("product_tree", {}).get("branches", []))
    return found


@pytest.mark.shared
def test_parse_coverage_over_cisa_feed(shared_data: Path) -> None:
    values = _values(shared_data)
    total = sum(values.values())
    assert total > 13_000, "expected all product_version(_range) values of the CISA set"
    parsed = sum(n for v, n in values.items() if parse_range(v).parsed)
    structured = {v: n for v, n in values.items() if not _free_text(v)}
    parsed_structured = sum(n for v, n in structured.items() if parse_range(v).parsed)
    rate_all, rate_structured = parsed / total, parsed_structured / sum(structured.values())
    reasons = Counter(r.reason.value for v, n in values.items() if not (r := parse_range(v)).parsed for _ in range(n))
    print(
        f"\nrange parse coverage: {parsed}/{total} = {rate_all:.1%} of all values; "
        f"{parsed_structured}/{sum(structured.values())} = {rate_structured:.1%} of non-free-text; "
        f"unparsed by reason: {dict(reasons)}"
    )
    # Measured 96.5% / 98.0% on the 2017-2023 set; the floors catch a regression.
    assert rate_all >= 0.96
    assert rate_structured >= 0.975


@pytest.mark.parametrize(("text", "version", "inside"), [
    ("V6", "6.2", True), ("V6", "V6.0.1", True), ("V6", "6", True), ("V6", "7.0", False), ("V6", "5.9", False),
    ("V13", "13.1", True),
])
def test_a_bare_major_line_names_every_version_of_that_line(text: str, version: str, inside: bool) -> None:
    # Reading "V6" as 6.0 alone answered "not affected" for an asset on 6.2: the worst error.
    assert parse_range(text).contains(version) is inside


@pytest.mark.parametrize(("text", "version", "inside"), [
    ("R2.3 - R2.6", "R2.4", True), ("R2.3 - R2.6", "R2.6", True), ("R2.3 - R2.6", "R2.7", False),
    ("V2.3-V2.6", "V2.5", True), ("V2.3-V2.6", "V2.2", False),
])
def test_a_span_with_a_letter_prefix_on_both_ends_is_a_range(text: str, version: str, inside: bool) -> None:
    # Before, "R2.3 - R2.6" was one odd exact version, so R2.4 was outside it.
    assert parse_range(text).contains(version) is inside


def test_a_major_line_in_product_version_is_not_a_csaf_range_deviation() -> None:
    from zonewarden.engines.ranges import version_is_range

    # It matches as the whole line, but as a product_version it is a version name (CSAF 6.1.31).
    assert not version_is_range("V6") and not version_is_range("V13")
    assert version_is_range("< V6") and version_is_range("V6.x")
