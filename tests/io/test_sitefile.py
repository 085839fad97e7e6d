from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.errors import SiteFileError
from zonewarden.io.sitefile import load_site, load_sites, write_site


def test_mini_site_loads(mini_site_file: Path) -> None:
    doc = load_site(mini_site_file)
    assert [z.id for z in doc.zones] == ["corp", "dmz", "cell"]
    assert doc.assets[0].version == "2.10"


def test_every_problem_is_reported_with_file_line_and_path(tmp_path: Path, mini_site_text: str) -> None:
    bad = mini_site_text.replace("purdue_level: 1,", "purdue_level: 7,").replace(
        "type: historian", "type: historain"
    ).replace("sl_target: 2, owner: ann", "sl_target: 2, owner: ann, colour: red")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    problems = {p.pointer: p for p in err.value.problems}
    assert set(problems) == {"zones[2].purdue_level", "zones[2].colour", "assets[1].type"}
    assert all(p.file == str(path) and p.line for p in problems.values())
    assert problems["zones[2].colour"].line == 8
    assert "unknown field" in problems["zones[2].colour"].message


@pytest.mark.parametrize(
    ("written", "meant"),
    [("note: x", "notes"), ("purdue: 1", "purdue_level"), ("sl_targte: 2", "sl_target"), ("Owner: ann", "owner")],
)
def test_an_unknown_field_names_the_field_meant(tmp_path: Path, mini_site_text: str, written: str, meant: str) -> None:
    # Issue 17.6: the message could say "did you mean `notes`?".
    path = tmp_path / "typo.yaml"
    path.write_text(mini_site_text.replace("sl_target: 2, owner: ann", f"sl_target: 2, owner: ann, {written}"))
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    [problem] = [p for p in err.value.problems if p.pointer.startswith("zones[2].")]
    assert problem.message == f"unknown field: did you mean `{meant}`?"


def test_an_unknown_field_with_no_close_name_says_where_the_fields_are(tmp_path: Path, mini_site_text: str) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(mini_site_text.replace("sl_target: 2, owner: ann", "sl_target: 2, owner: ann, wibble: 1"))
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    [problem] = err.value.problems
    assert problem.message == "unknown field (check the spelling; `zonewarden schema` lists the fields)"


def test_reference_problems_are_all_reported(tmp_path: Path, mini_site_text: str) -> None:
    bad = mini_site_text.replace("zone: dmz, vendor: AVEVA", "zone: dmz2, vendor: AVEVA").replace(
        "zones: [dmz, cell]", "zones: [dmz, nowhere]"
    ).replace("owner: ann", "owner: bob")
    bad += "  - {id: plc-1, name: Dup, type: plc, zone: cell}\n"
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    messages = sorted(f"{p.pointer}: {p.message}" for p in err.value.problems)
    assert any("assets[1].zone: unknown zone 'dmz2'" in m for m in messages)
    assert any("conduits[1]: " in m and "connects dmz and nowhere" in m for m in messages)
    assert any("zones[2].owner: unknown person 'bob'" in m for m in messages)
    assert any("assets[2].id: duplicate id 'plc-1'" in m for m in messages)
    assert all(p.line for p in err.value.problems)


def test_conduit_to_itself_is_rejected(tmp_path: Path, mini_site_text: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(mini_site_text.replace("zones: [corp, dmz]", "zones: [corp, corp]"))
    with pytest.raises(SiteFileError, match="two different zones"):
        load_site(path)


def test_export_import_export_is_identical(tmp_path: Path, mini_site_file: Path) -> None:
    doc = load_site(mini_site_file)
    first = tmp_path / "one"
    write_site(doc, first)
    again = load_site(first)
    assert again == doc
    second = tmp_path / "two"
    write_site(again, second)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_section_in_two_files_is_an_error(tmp_path: Path, mini_site_file: Path) -> None:
    write_site(load_site(mini_site_file), tmp_path / "s")
    (tmp_path / "s" / "more.yaml").write_text("zones: []\n")
    with pytest.raises(SiteFileError, match="keep each section in one file"):
        load_site(tmp_path / "s")


def test_directory_of_site_directories(tmp_path: Path, mini_site_file: Path) -> None:
    doc = load_site(mini_site_file)
    write_site(doc, tmp_path / "all" / "mini")
    other = doc.model_copy(update={"site": doc.site.model_copy(update={"id": "other"})})
    write_site(other, tmp_path / "all" / "other")
    assert [d.site.id for _, d in load_sites(tmp_path / "all")] == ["mini", "other"]


def test_empty_directory_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match="no site files"):
        load_sites(tmp_path)
