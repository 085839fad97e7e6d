"""IEC 62443-3-3 catalog: facts against the shared reference table, counts, lookups, order."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pydantic import ValidationError

from zonewarden.catalog import (
    Requirement,
    UnknownRequirementError,
    load_62443_3_3,
    requirement_sort_key,
)
from zonewarden.domain.levels import FR, SLTarget


@pytest.fixture(scope="module")
def catalog():
    return load_62443_3_3()


def test_matches_shared_reference_table_exactly(shared_data: Path, catalog) -> None:
    with (shared_data / "standards" / "iec62443-3-3-sr-re-security-levels.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        rows = [(r["id"], r["fr"], int(r["min_sl"]), r["name"]) for r in csv.DictReader(fh)]
    ours = [(r.id, r.fr.value, r.min_sl, r.name) for r in catalog]
    assert ours == rows


def test_counts_51_srs_and_49_res(catalog) -> None:
    assert len(catalog) == 100
    assert len(catalog.system_requirements()) == 51
    assert len(catalog.enhancements()) == 49


@pytest.mark.parametrize(("level", "count"), [(0, 0), (1, 37), (2, 60), (3, 90), (4, 100)])
def test_required_counts_per_level(catalog, level: int, count: int) -> None:
    assert len(catalog.required_at(None, level)) == count
    # the per-FR views partition the all-FR view
    assert sum(len(catalog.required_at(fr, level)) for fr in FR) == count


def test_required_at_one_fr_is_monotonic_and_filtered(catalog) -> None:
    fr5 = [catalog.required_at(FR.FR5, level) for level in range(5)]
    assert all(r.fr is FR.FR5 for level in fr5 for r in level)
    for lower, higher in zip(fr5, fr5[1:], strict=False):
        assert set(lower) <= set(higher)
    assert [r.id for r in fr5[1]] == ["SR 5.1", "SR 5.2", "SR 5.3", "SR 5.4"]
    assert "SR 5.1 RE 3" in {r.id for r in fr5[4]} - {r.id for r in fr5[3]}
    assert catalog.required_at("FR5", 2) == fr5[2]


def test_required_at_rejects_levels_outside_0_to_4(catalog) -> None:
    for bad in (-1, 5, True, 2.0):
        with pytest.raises(ValueError, match="0-4"):
            catalog.required_at(FR.FR1, bad)


def test_required_for_a_mixed_target_vector(catalog) -> None:
    target = SLTarget.model_validate(
        {"FR1": 2, "FR2": 1, "FR3": 0, "FR4": 4, "FR5": 3, "FR6": 1, "FR7": 2}
    )
    got = {r.id for r in catalog.required_for(target)}
    want = {r.id for fr in FR for r in catalog.required_at(fr, target[fr])}
    assert got == want
    assert "SR 1.2" in got and "SR 1.2 RE 1" not in got  # FR1 at 2
    assert not any(i.startswith("SR 3.") for i in got)  # FR3 at 0
    assert "SR 4.1 RE 2" in got  # FR4 at 4


def test_enhancements_know_their_sr(catalog) -> None:
    for r in catalog:
        if r.is_enhancement:
            assert r.parent_sr is not None and r.id.startswith(r.parent_sr + " RE ")
            assert catalog.get(r.parent_sr).min_sl <= r.min_sl
        else:
            assert r.parent_sr is None
    assert [r.id for r in catalog.enhancements_of("sr 1.1")] == [
        "SR 1.1 RE 1",
        "SR 1.1 RE 2",
        "SR 1.1 RE 3",
    ]
    assert catalog.enhancements_of("SR 1.4") == ()


def test_standard_order(catalog) -> None:
    ids = catalog.ids()
    assert ids[:5] == ("SR 1.1", "SR 1.1 RE 1", "SR 1.1 RE 2", "SR 1.1 RE 3", "SR 1.2")
    assert ids.index("SR 1.10") == ids.index("SR 1.9 RE 1") + 1
    assert ids == tuple(sorted(ids, key=requirement_sort_key))
    assert ids[-1] == "SR 7.8"
    # a plain string sort would get this wrong; the key must not
    assert sorted(["SR 1.10", "SR 1.9", "SR 1.1 RE 1", "SR 1.1"], key=requirement_sort_key) == [
        "SR 1.1",
        "SR 1.1 RE 1",
        "SR 1.9",
        "SR 1.10",
    ]


def test_descriptions_are_own_short_summaries(catalog) -> None:
    descriptions = [r.description for r in catalog]
    assert len(set(descriptions)) == len(descriptions)
    for r in catalog:
        assert r.description != r.name
        assert 20 <= len(r.description) <= 400
        # one or two sentences, as docs/catalog.md promises
        assert 1 <= r.description.count(". ") + 1 <= 3, r.id


def test_get_accepts_any_spelling_and_rejects_unknown(catalog) -> None:
    assert catalog.get("sr1.7re2").name == "Password lifetime restrictions for all users"
    assert "SR 1.1(1)" in catalog
    assert "SR 1.14" not in catalog
    assert 11 not in catalog
    with pytest.raises(UnknownRequirementError):
        catalog.get("SR 1.14")
    with pytest.raises(LookupError):  # callers that only know builtins can still catch it
        catalog.get("SR 8.1")


def test_models_are_frozen_and_cached(catalog) -> None:
    assert load_62443_3_3() is catalog
    req = catalog.get("SR 1.1")
    with pytest.raises(ValidationError):
        req.min_sl = 4  # type: ignore[misc]
    assert isinstance(req, Requirement)
    assert req.required_at(1) and not req.required_at(0)


def test_descriptions_avoid_the_standards_normative_voice() -> None:
    # Our summaries describe practice in a plant; "shall" sentences would be a sign of text
    # lifted from a standard, which must not be in the repository.
    from zonewarden.catalog import load_iso27001

    texts = [r.description for r in load_62443_3_3()] + [c.description for c in load_iso27001()]
    assert not [t for t in texts if " shall " in f" {t.lower()} "]
