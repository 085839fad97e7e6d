"""A broken data file must fail loudly, naming the file, the line and the entry."""

from __future__ import annotations

from importlib import resources

import pytest

from zonewarden.catalog import CatalogDataError, load_62443_3_3, load_iso27001
from zonewarden.catalog.loader import (
    FILE_62443_3_3,
    FILE_62443_4_2,
    FILE_ISO27001,
    FILE_MAPPING,
    parse_62443_3_3,
    parse_62443_4_2,
    parse_iso27001,
    parse_mapping,
)


def _text(name: str) -> str:
    return resources.files("zonewarden.catalog").joinpath("data", name).read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _problems(exc: pytest.ExceptionInfo[CatalogDataError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_packaged_files_parse_through_the_public_parsers() -> None:
    assert len(parse_62443_3_3(_text(FILE_62443_3_3))) == 100
    assert len(parse_iso27001(_text(FILE_ISO27001))) == 93
    assert len(parse_62443_4_2(_text(FILE_62443_4_2))) > 100
    mapping = parse_mapping(_text(FILE_MAPPING), load_62443_3_3(), load_iso27001())
    assert len(mapping) > 100


def test_wrong_min_sl_names_file_line_and_entry() -> None:
    text = _text(FILE_62443_3_3)
    broken = _replace_once(
        text,
        "  - id: SR 1.13 RE 1\n    fr: FR1\n    min_sl: 2\n",
        "  - id: SR 1.13 RE 1\n    fr: FR1\n    min_sl: 7\n",
    )
    with pytest.raises(CatalogDataError) as info:
        parse_62443_3_3(broken)
    (problem,) = info.value.problems
    assert problem.file == FILE_62443_3_3
    assert "SR 1.13 RE 1" in problem.message and "min_sl" in problem.message
    entry_line = _line_of(text, "  - id: SR 1.13 RE 1")
    assert problem.line == entry_line + 2  # the min_sl line itself
    assert f"{FILE_62443_3_3}:{entry_line + 2}" in str(info.value)


def test_fr_must_match_the_id() -> None:
    broken = _replace_once(
        _text(FILE_62443_3_3), "  - id: SR 3.5\n    fr: FR3\n", "  - id: SR 3.5\n    fr: FR4\n"
    )
    with pytest.raises(CatalogDataError) as info:
        parse_62443_3_3(broken)
    assert any("SR 3.5" in p and "belongs to FR3" in p for p in _problems(info))


def test_duplicate_and_out_of_order_ids_are_reported_together() -> None:
    text = _text(FILE_62443_3_3)
    broken = _replace_once(text, "  - id: SR 1.4\n", "  - id: SR 1.3\n")  # duplicate
    broken = _replace_once(broken, "  - id: SR 7.8\n", "  - id: SR 7.0\n")  # order
    with pytest.raises(CatalogDataError) as info:
        parse_62443_3_3(broken)
    problems = _problems(info)
    assert any("SR 1.3" in p and "duplicate" in p for p in problems)
    assert any("SR 7.0" in p and "out of standard order" in p for p in problems)
    assert "2 problem(s)" in str(info.value)


def test_enhancement_rules() -> None:
    text = _text(FILE_62443_3_3)
    # RE below its SR's level
    low = _replace_once(
        text,
        "  - id: SR 1.9 RE 1\n    fr: FR1\n    min_sl: 3\n",
        "  - id: SR 1.9 RE 1\n    fr: FR1\n    min_sl: 1\n",
    )
    with pytest.raises(CatalogDataError, match=r"SR 1.9 RE 1\).*below its base requirement's 2"):
        parse_62443_3_3(low)
    # RE numbering gap
    gap = _replace_once(text, "  - id: SR 1.1 RE 3\n", "  - id: SR 1.1 RE 4\n")
    with pytest.raises(CatalogDataError, match="expected RE 3 next under SR 1.1"):
        parse_62443_3_3(gap)


def test_missing_description_and_unknown_keys() -> None:
    text = _text(FILE_62443_3_3)
    broken = _replace_once(text, "    name: Session lock\n", "    nme: Session lock\n")
    with pytest.raises(CatalogDataError) as info:
        parse_62443_3_3(broken)
    problems = _problems(info)
    assert any("SR 2.5" in p and "name" in p and "Field required" in p for p in problems)
    assert any("SR 2.5" in p and "nme" in p and "Extra inputs" in p for p in problems)


def test_invalid_yaml_gives_a_position() -> None:
    broken = _text(FILE_62443_3_3).replace("  - id: SR 2.5\n", "  - id: [SR 2.5\n", 1)
    with pytest.raises(CatalogDataError) as info:
        parse_62443_3_3(broken, source="edited.yaml")
    (problem,) = info.value.problems
    assert problem.file == "edited.yaml" and problem.line is not None


def test_empty_or_wrong_shape_file() -> None:
    with pytest.raises(CatalogDataError, match="non-empty list 'requirements'"):
        parse_62443_3_3("standard: x\nrequirements: []\n")
    with pytest.raises(CatalogDataError, match="'standard'"):
        parse_62443_3_3("requirements:\n  - {id: SR 1.1}\n")


def test_annex_theme_follows_clause() -> None:
    text = _text(FILE_ISO27001)
    broken = _replace_once(
        text, "  - id: A.6.3\n    theme: People\n", "  - id: A.6.3\n    theme: Physical\n"
    )
    with pytest.raises(CatalogDataError) as info:
        parse_iso27001(broken)
    (problem,) = info.value.problems
    assert "A.6.3" in problem.message and "People" in problem.message
    assert problem.line == _line_of(text, "  - id: A.6.3") + 1


def test_component_types_must_match_the_prefix() -> None:
    text = _text(FILE_62443_4_2)
    broken = text.replace(
        "{id: NDR 5.2, fr: FR5, min_sl: 1, name: Zone boundary protection, components: [NDR]",
        "{id: NDR 5.2, fr: FR5, min_sl: 1, name: Zone boundary protection, components: [HDR]",
        1,
    )
    assert broken != text
    with pytest.raises(CatalogDataError, match=r"NDR 5.2\): components must be \[NDR\]"):
        parse_62443_4_2(broken)
    unknown = text.replace("components: [SAR]", "components: [PLC]", 1)
    with pytest.raises(CatalogDataError, match=r"SAR 2.4\): components"):
        parse_62443_4_2(unknown)


def test_component_links_to_unknown_sr_are_caught() -> None:
    text = _text(FILE_62443_4_2)
    broken = _replace_once(text, "system_requirement: SR 7.8,", "system_requirement: SR 7.9,")
    srs = [r.id for r in load_62443_3_3().system_requirements()]
    with pytest.raises(CatalogDataError, match="'SR 7.9' is not an IEC 62443-3-3 SR"):
        parse_62443_4_2(broken, known_srs=srs)


def test_mapping_checks_both_sides() -> None:
    text = _text(FILE_MAPPING)
    reqs, annex = load_62443_3_3(), load_iso27001()
    bad_control = _replace_once(
        text, "{control: A.8.22, relation: equal,", "{control: A.8.99, relation: equal,"
    )
    with pytest.raises(CatalogDataError) as info:
        parse_mapping(bad_control, reqs, annex)
    (problem,) = info.value.problems
    assert "SR 5.1" in problem.message and "A.8.99" in problem.message
    assert problem.file == FILE_MAPPING and problem.line is not None
    sloppy_id = _replace_once(text, "  - requirement: SR 6.2\n", "  - requirement: sr6.2\n")
    with pytest.raises(CatalogDataError, match="write it as 'SR 6.2'"):
        parse_mapping(sloppy_id, reqs, annex)
    bad_relation = _replace_once(
        text, "{control: A.8.16, relation: equal,", "{control: A.8.16, relation: same,"
    )
    with pytest.raises(CatalogDataError, match="relation"):
        parse_mapping(bad_relation, reqs, annex)


def test_data_files_are_declared_package_data() -> None:
    # The loader reads through importlib.resources; an installed wheel only has the files if
    # pyproject's package-data covers them.
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert "catalog/data/*" in pyproject["tool"]["setuptools"]["package-data"]["zonewarden"]
    shipped = {p.name for p in resources.files("zonewarden.catalog").joinpath("data").iterdir()}
    assert {FILE_62443_3_3, FILE_62443_4_2, FILE_ISO27001, FILE_MAPPING} <= shipped
