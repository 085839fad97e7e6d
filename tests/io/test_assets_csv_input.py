"""Asset CSV input that is not what it claims: bytes that are not UTF-8 are an error at their line
and column (not silently read as Windows-1252), a declared encoding is honoured, and an over-long
cell is a positioned problem, not a traceback."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from zonewarden.errors import SiteFileError
from zonewarden.io.assets_csv import read_assets_csv

HEADER = b"id,name,type,vendor\n"


def test_bytes_that_are_not_utf8_are_refused_with_their_position(tmp_path: Path) -> None:
    f = tmp_path / "assets.csv"
    f.write_bytes(HEADER + b"plc-1,PLC 1,plc,Siemens\nhmi-1,HMI M\xfcller,hmi,Siemens\n")
    with pytest.raises(SiteFileError) as err:
        read_assets_csv(f)
    (problem,) = err.value.problems
    assert (problem.line, problem.column) == (3, 12)
    assert "0xFC" in problem.message and "--encoding" in problem.message


def test_a_declared_encoding_is_read_as_such(tmp_path: Path) -> None:
    f = tmp_path / "assets.csv"
    f.write_bytes(HEADER + b"hmi-1,HMI M\xfcller,hmi,Siemens\n")
    (asset,) = read_assets_csv(f, encoding="cp1252")
    assert asset.name == "HMI Müller"
    with pytest.raises(SiteFileError, match="unknown text encoding"):
        read_assets_csv(f, encoding="klingon")


def test_an_over_long_cell_is_a_positioned_problem(tmp_path: Path) -> None:
    f = tmp_path / "assets.csv"
    huge = b'"' + b"x" * (csv.field_size_limit() + 10) + b'"'
    f.write_bytes(HEADER + b"plc-1,PLC 1,plc,Siemens\nplc-2," + huge + b",plc,Siemens\n")
    with pytest.raises(SiteFileError) as err:
        read_assets_csv(f)
    assert any(p.line == 3 and "field larger" in p.message for p in err.value.problems), err.value.problems


def test_the_cli_exits_2_and_names_the_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zonewarden.cli.main import cli

    db = f"sqlite:///{tmp_path / 'zw.db'}"
    example = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
    assert CliRunner().invoke(cli, ["import", str(example), "--db", db]).exit_code == 0
    f = tmp_path / "assets.csv"
    f.write_bytes(HEADER + b"hmi-9,HMI M\xfcller,hmi,Siemens\n")
    result = CliRunner().invoke(cli, ["import", "--from", "csv", "--site", "rheinfeld-os", str(f), "--db", db])
    assert result.exit_code == 2, result.output
    assert "assets.csv:2:12: byte 0xFC is not valid UTF-8" in result.output, result.output
    ok = CliRunner().invoke(cli, ["import", "--from", "csv", "--site", "rheinfeld-os", "--encoding", "cp1252", str(f),
                                  "--db", db])
    assert ok.exit_code == 0, ok.output
