"""User-typed requirement ids: spellings people use, and helpful errors for the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zonewarden.catalog import (
    UnknownRequirementError,
    load_62443_3_3,
    load_62443_4_2,
    normalise_requirement_id,
    requirement_sort_key,
)
from zonewarden.errors import InputError


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("SR 1.1", "SR 1.1"),
        ("SR1.1", "SR 1.1"),
        ("sr 1.1", "SR 1.1"),
        ("  SR 1.1  ", "SR 1.1"),
        ("1.1", "SR 1.1"),
        ("SR-1.1", "SR 1.1"),
        ("SR 1,1", "SR 1.1"),
        ("sr 1.1 re1", "SR 1.1 RE 1"),
        ("SR 1.1 RE 1", "SR 1.1 RE 1"),
        ("SR 1.1(1)", "SR 1.1 RE 1"),
        ("SR 1.1 (1)", "SR 1.1 RE 1"),
        ("SR 1.1 RE(1)", "SR 1.1 RE 1"),
        ("SR 1.1 RE-1", "SR 1.1 RE 1"),
        ("SR1.1RE1", "SR 1.1 RE 1"),
        ("SR 01.01", "SR 1.1"),
        ("SR 1.10", "SR 1.10"),
        ("sr 5.2 re 3", "SR 5.2 RE 3"),
    ],
)
def test_spellings_resolve(typed: str, canonical: str) -> None:
    assert normalise_requirement_id(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "suggestion", "fragment"),
    [
        ("SR 1.14", "SR 1.13", "did you mean 'SR 1.13'"),
        ("SR 1.1 RE 5", "SR 1.1 RE 3", "did you mean 'SR 1.1 RE 3'"),
        ("SR 2.13", "SR 2.12", "IEC 62443-3-3"),
        ("SR 7.9", "SR 7.8", "'SR 7.9' is not a requirement"),
        ("SR 1.4 RE 1", "SR 1.4", "did you mean 'SR 1.4'"),
        ("SR 9.1", None, "seven FRs"),
        ("CR 1.1", "SR 1.1", "another standard"),
        ("SR 1.1 RE", "SR 1.1 RE 1", "write it like 'SR 1.1'"),
        ("hello", None, "write it like 'SR 1.1'"),
    ],
)
def test_unknown_ids_say_why_and_suggest(typed: str, suggestion: str | None, fragment: str) -> None:
    with pytest.raises(UnknownRequirementError) as info:
        normalise_requirement_id(typed)
    err = info.value
    assert err.suggestion == suggestion
    assert fragment in str(err)
    assert isinstance(err, InputError)  # the CLI maps it to exit code 2
    if suggestion is not None:
        assert normalise_requirement_id(suggestion) == suggestion  # suggestions are real ids


def test_non_text_is_rejected_clearly() -> None:
    with pytest.raises(UnknownRequirementError, match="text like"):
        normalise_requirement_id(1.1)  # type: ignore[arg-type]


def _variants(ident: str) -> list[str]:
    parts = ident.split()
    base = f"{parts[0]}{parts[1]}"
    out = [ident.lower(), ident.replace(" ", ""), f"  {ident}  "]
    if len(parts) == 4:
        out += [
            f"{parts[0]} {parts[1]}({parts[3]})",
            f"{base} re{parts[3]}",
            f"{base} RE ({parts[3]})",
        ]
    return out


def test_every_catalog_id_round_trips_through_common_spellings() -> None:
    catalog = load_62443_3_3()
    for ident in catalog.ids():
        for typed in _variants(ident):
            assert catalog.resolve(typed) == ident, typed


def test_component_ids_resolve_with_family_prefix() -> None:
    cat = load_62443_4_2()
    assert cat.resolve("cr1.1 re2") == "CR 1.1 RE 2"
    assert cat.resolve("EDR 3.10(1)") == "EDR 3.10 RE 1"
    assert cat.resolve("1.1") == "CR 1.1"  # CR is the default family in 4-2
    with pytest.raises(UnknownRequirementError, match="did you mean 'SAR 2.4'"):
        cat.resolve("CR 2.4")  # mobile code exists only per component type
    with pytest.raises(UnknownRequirementError, match="did you mean 'CR 1.1'"):
        cat.resolve("SR 1.1")


ids = st.tuples(st.integers(1, 7), st.integers(1, 20), st.integers(0, 9))


@given(st.lists(ids, max_size=30))
def test_sort_key_orders_like_the_numbers(items: list[tuple[int, int, int]]) -> None:
    texts = [f"SR {f}.{n}" + (f" RE {r}" if r else "") for f, n, r in items]
    assert sorted(texts, key=requirement_sort_key) == [
        f"SR {f}.{n}" + (f" RE {r}" if r else "") for f, n, r in sorted(items)
    ]
