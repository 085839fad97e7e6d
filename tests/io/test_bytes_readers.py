"""Readers take bytes as well as paths (uploads to the API): the same document, and problems
positioned in the file as it was named."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.errors import SiteFileError
from zonewarden.io.assets_csv import read_assets_csv
from zonewarden.io.sitefile import load_site, load_site_bytes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"


def _files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(EXAMPLE.glob("*.yaml"))}


def test_a_site_from_the_bytes_of_its_files_is_the_site_from_its_folder() -> None:
    from_bytes = load_site_bytes(_files())
    from_folder = load_site(EXAMPLE)
    assert from_bytes.model_dump(mode="json") == from_folder.model_dump(mode="json")


def test_problems_in_uploaded_bytes_name_the_file_line_and_column() -> None:
    files = _files()
    files["zones.yaml"] = files["zones.yaml"].replace(b"    sl_target: 1\n", b"    sl_targte: 1\n", 1)
    with pytest.raises(SiteFileError) as err:
        load_site_bytes(files)
    [problem] = [p for p in err.value.problems if "targte" in p.message or "targte" in str(p.path)]
    assert problem.file == "zones.yaml" and problem.line and problem.line > 1 and problem.column


@pytest.mark.parametrize("name", ["../site.yaml", "sub/zones.yaml", ".hidden.yaml", "site.txt"])
def test_upload_names_are_plain_yaml_file_names(name: str) -> None:
    with pytest.raises(SiteFileError) as err:
        load_site_bytes({name: b"site: {id: x, name: X}\n"})
    assert err.value.problems[0].file == name


def test_a_csv_from_bytes_reads_like_the_file(tmp_path: Path) -> None:
    text = "id,name,type,zone\nplc-1,Line PLC,plc,cell\nhmi-1,Line HMI,hmi,cell\n"
    (tmp_path / "a.csv").write_text(text)
    assert read_assets_csv(tmp_path / "a.csv") == read_assets_csv("upload.csv", content=text.encode())
    with pytest.raises(SiteFileError) as err:
        read_assets_csv("upload.csv", content=b"id,name,type\nplc-\xff,x,plc\n")
    assert err.value.problems[0].file == "upload.csv" and err.value.problems[0].line == 2
