from __future__ import annotations

import pytest

from zonewarden.errors import SiteFileError
from zonewarden.io import yamlio


def test_versions_keep_their_text_and_norway_stays_a_string() -> None:
    data = yamlio.loads("v: 2.10\ncountry: NO\nflag: on\n", exact=True)
    assert data["v"].text == "2.10"
    assert data["country"] == "NO"  # YAML 1.2: only true/false are booleans
    assert data["flag"] == "on"
    fast = yamlio.loads("country: NO\nflag: on\nwhen: 2024-01-01\n")
    assert fast == {"country": "NO", "flag": "on", "when": "2024-01-01"}


def test_alias_bomb_is_refused_with_a_location() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n"
    with pytest.raises(SiteFileError) as err:
        yamlio.loads(bomb, source="bomb.yaml")
    assert "aliases are not accepted" in str(err.value)
    assert err.value.problems[0].file == "bomb.yaml"
    assert err.value.problems[0].line is not None


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(SiteFileError) as err:
        yamlio.loads("zones:\n  - id: a\n    name: [unclosed\n", source="s.yaml")
    problem = err.value.problems[0]
    assert (problem.file, problem.line) == ("s.yaml", 4)


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(SiteFileError, match="duplicate key"):
        yamlio.loads("a: 1\na: 2\n")


def test_python_tags_are_not_executed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "hacked"
    text = f"x: !!python/object/apply:pathlib.Path.touch [{marker}]\n"
    try:
        data = yamlio.loads(text)
    except SiteFileError:
        data = None
    assert not marker.exists()
    assert data is None or data == {"x": [str(marker)]}


def test_size_limit_is_checked_before_reading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(SiteFileError, match="limit"):
        yamlio.read_bytes(path, max_bytes=1000)


def test_invalid_utf8_is_reported_with_line() -> None:
    with pytest.raises(SiteFileError) as err:
        yamlio.loads(b"a: 1\nb: \xff\xfe\n", source="x.yaml")
    assert err.value.problems[0].line == 2


def test_locate_finds_nested_nodes_and_falls_back_to_parent() -> None:
    text = "assets:\n  - id: a\n  - id: b\n    zone: nowhere\n"
    assert yamlio.locate(text, ("assets", 1, "zone")) == (4, 11)
    assert yamlio.locate(text, ("assets", 1, "missing")) == (3, 5)


def test_dump_quotes_number_like_strings() -> None:
    out = yamlio.dumps({"version": "2.10", "ports": ["502"]})
    assert yamlio.loads(out) == {"version": "2.10", "ports": ["502"]}
