"""Requirement statuses from CSV: columns by name, positioned errors (file:line:column), strict
UTF-8, and the `requirement import` command writing all rows or none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.domain.requirements import Status
from zonewarden.errors import SiteFileError
from zonewarden.io.requirements_csv import read_requirements_csv

GOOD = """Zone,SR/RE,Status,Justification,Target date,Note
cell,SR 1.1,implemented,,,
cell,sr1.1 re1,planned,,2027-03-31,MFA project
dmz,SR 1.6,n/a,No wireless in the DMZ,,
corp-dmz,SR 5.1,partial,,,
"""


def test_good_rows_are_read_with_canonical_ids(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text(GOOD, encoding="utf-8")
    rows = read_requirements_csv(f, known_targets={"cell", "dmz", "corp-dmz"})
    assert [(r.target, r.requirement, r.status) for r in rows] == [
        ("cell", "SR 1.1", Status.IMPLEMENTED), ("cell", "SR 1.1 RE 1", Status.PLANNED),
        ("dmz", "SR 1.6", Status.NOT_APPLICABLE), ("corp-dmz", "SR 5.1", Status.PARTIAL)]
    assert rows[1].notes == "MFA project" and str(rows[1].target_date) == "2027-03-31"


def test_every_bad_cell_is_reported_at_its_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        "zone,requirement,status,justification,target_date\n"
        "cell,SR 1.1,implemented,,\n"
        "cell,SR 99.9,implemented,,\n"          # line 3: unknown requirement (column 2)
        "cell,SR 1.2,maybe,,\n"                 # line 4: bad status (column 3)
        "cell,SR 1.3,planned,,\n"               # line 5: planned without a date (column 5)
        "mars,SR 1.4,implemented,,\n"           # line 6: unknown zone (column 1)
        "cell,SR 1.1,partial,,\n"               # line 7: repeats line 2
        "dmz,SR 1.6,not-applicable,,\n",        # line 8: no justification (column 4)
        encoding="utf-8")
    with pytest.raises(SiteFileError) as caught:
        read_requirements_csv(f, known_targets={"cell", "dmz"})
    where = {(p.line, p.column) for p in caught.value.problems}
    assert where == {(3, 2), (4, 3), (5, 5), (6, 1), (7, 2), (8, 4)}
    assert all(p.file == str(f) for p in caught.value.problems)
    assert "nothing was written" in str(caught.value)
    assert any(str(p).startswith(f"{f}:7:2") and "already on line 2" in str(p) for p in caught.value.problems)


def test_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    f = tmp_path / "cols.csv"
    f.write_text("zone,state,colour\ncell,implemented,red\n", encoding="utf-8")
    with pytest.raises(SiteFileError) as caught:
        read_requirements_csv(f)
    messages = [str(p) for p in caught.value.problems]
    assert any(":1:2" in m and "unknown column 'state'" in m for m in messages)
    assert any("no column for 'requirement'" in m for m in messages)


def test_bytes_that_are_not_utf8_are_an_error_at_their_position() -> None:
    raw = b"zone,requirement,status,justification\ncell,SR 1.1,not-applicable,Gr" + b"\xfc" + b"n\n"
    with pytest.raises(SiteFileError) as caught:
        read_requirements_csv(raw, label="upload.csv")
    (p,) = caught.value.problems
    assert (p.file, p.line, p.column) == ("upload.csv", 2, 30) and "0xFC" in p.message


def _cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stderr


def test_requirement_import_writes_all_or_nothing(tmp_path: Path, mini_site_file: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    assert _cli("import", str(mini_site_file), "--db", db)[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "cell,SR 2.1,planned,,,\n", encoding="utf-8")
    code, err = _cli("requirement", "import", str(bad), "--db", db)
    assert code == 2 and f"{bad}:6:5" in err and "nothing was written" in err
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    code, err = _cli("requirement", "import", str(good), "--db", db, "--reason", "annual assessment")
    assert code == 0, err
    assert "4 added, 0 replaced, 0 unchanged" in err
    code, err = _cli("requirement", "import", str(good), "--db", db)
    assert code == 0 and "0 added, 0 replaced, 4 unchanged" in err
    result = CliRunner().invoke(cli, ["gap", "--db", db, "--format", "json"], catch_exceptions=False)
    targets = {t["target"]: t for t in json.loads(result.stdout)["targets"]}
    assert targets["dmz"]["assessed"] is True
