"""Hostile files around the writers (issue 18 faults 5, 7, 8): planted symlinks, file modes, and
CSV cells that a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import pytest

from zonewarden.cli.common import csv_safe, emit_rows
from zonewarden.evidence.builder import write_package
from zonewarden.io.atomic import UnsafeTargetError, write_atomic


def test_planted_tmp_symlink_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "zones.yaml.tmp").symlink_to(victim)  # the old writer wrote through this name
    write_atomic(out / "zones.yaml", b"site data")
    assert victim.read_text() == "precious"
    assert (out / "zones.yaml").read_bytes() == b"site data"


def test_symlinked_target_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "zones.yaml").symlink_to(victim)
    with pytest.raises(UnsafeTargetError, match="symlink"):
        write_atomic(tmp_path / "zones.yaml", b"site data")
    assert victim.read_text() == "precious"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_written_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        written = write_package({"a.json": b"{}", "b.html": b"<p/>"}, tmp_path / "pkg")
        explicit = write_atomic(tmp_path / "shared.txt", b"x", mode=0o644)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "pkg").stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o600}
    assert stat.S_IMODE(explicit.stat().st_mode) == 0o644  # asked otherwise


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\")", "@SUM(A1)", "+1+1", "-2+3", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert csv_safe(cell) == "'" + cell


def test_ordinary_cells_and_numbers_are_untouched() -> None:
    assert csv_safe("zone A") == "zone A"
    assert csv_safe(-3) == -3
    assert csv_safe(None) is None


def test_emit_rows_csv_neutralises_every_column(capsys: pytest.CaptureFixture[str]) -> None:
    emit_rows([{"name": "=HYPERLINK(\"http://evil\")", "notes": "@SUM(A1)", "score": 5}], ["name", "notes", "score"], "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == [{"name": "'=HYPERLINK(\"http://evil\")", "notes": "'@SUM(A1)", "score": "5"}]


def test_diagram_output_is_owner_only_and_not_written_through_a_symlink(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zonewarden.cli.main import cli

    example = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "plant.svg").symlink_to(victim)
    old = os.umask(0o022)
    try:
        refused = CliRunner().invoke(cli, ["diagram", "--file", str(example), "-o", str(tmp_path / "plant.svg")])
        ok = CliRunner().invoke(cli, ["diagram", "--file", str(example), "-o", str(tmp_path / "new" / "plant.svg")])
    finally:
        os.umask(old)
    assert refused.exit_code == 2 and victim.read_text() == "precious", refused.output
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "new" / "plant.svg").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
