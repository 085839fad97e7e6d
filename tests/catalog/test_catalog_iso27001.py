"""ISO/IEC 27001:2022 Annex A catalog."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from zonewarden.catalog import Theme, UnknownRequirementError, load_iso27001


def test_matches_shared_reference_table_exactly(shared_data: Path) -> None:
    with (shared_data / "standards" / "iso27001-2022-annex-a-controls.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        rows = [(r["id"], r["theme"], r["title"]) for r in csv.DictReader(fh)]
    assert [(c.id, c.theme.value, c.title) for c in load_iso27001()] == rows


def test_93_controls_in_four_themes() -> None:
    annex = load_iso27001()
    assert len(annex) == 93
    assert Counter(c.theme for c in annex) == {
        Theme.ORGANIZATIONAL: 37,
        Theme.PEOPLE: 8,
        Theme.PHYSICAL: 14,
        Theme.TECHNOLOGICAL: 34,
    }
    assert [c.id for c in annex.by_theme("People")] == [f"A.6.{i}" for i in range(1, 9)]
    assert annex.ids()[36:38] == ("A.5.37", "A.6.1")


def test_descriptions_are_present_and_distinct() -> None:
    annex = load_iso27001()
    descriptions = [c.description for c in annex]
    assert len(set(descriptions)) == 93
    assert all(c.description != c.title for c in annex)


@pytest.mark.parametrize("typed", ["A.8.5", "a.8.5", "A8.5", "8.5", " A. 8.5 "])
def test_control_ids_resolve(typed: str) -> None:
    assert load_iso27001().get(typed).title == "Secure authentication"


def test_unknown_control_suggests_a_real_one() -> None:
    with pytest.raises(UnknownRequirementError) as info:
        load_iso27001().get("A.8.35")
    assert info.value.suggestion in load_iso27001().ids()
    assert "A.8.35" in str(info.value)


# Phrases that mark a description as the control statement with "shall" turned into "is":
# the standard's own vocabulary, not the way we describe practice on a site (issue 15).
_STATEMENT_VOICE = (
    " shall ", " should ", "appropriate", "in accordance with", "the organization", "information processing",
    "interested parties", "established", "implemented", "defined, documented",
)


def test_descriptions_are_our_words_not_the_control_statement() -> None:
    offenders = []
    for c in load_iso27001():
        text = f" {c.description.lower()} "
        title = c.title.lower().split()
        if any(p in text for p in _STATEMENT_VOICE):
            offenders.append((c.id, "statement vocabulary"))
        # "<Title> is/are ..." restates the control name as its requirement
        if len(title) >= 2 and text.strip().startswith(" ".join(title[:2])):
            offenders.append((c.id, "opens with the title"))
        if len(c.description) > 200:
            offenders.append((c.id, "longer than a short summary"))
    assert offenders == []
