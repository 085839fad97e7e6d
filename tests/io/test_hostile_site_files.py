"""Hostile site files (issue 18 fault 6): nesting that overflowed the native parsers' stack,
values the safe constructor cannot build, and one broken file hiding the others' problems.
Each case is a positioned error (file, line) with exit code 2, never a crash or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zonewarden.errors import SiteFileError
from zonewarden.io import yamlio
from zonewarden.io.sitefile import load_site

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pharma-plant"
LEVELS = 50_000

DEEP = {
    "block": "site:\n  id: x\n  name:\n  " + "- " * LEVELS + "x\n",  # yaml-rs overflowed here
    "indented": "site:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(300)),
    "flow": "site:\n  id: x\n  name: " + "[" * LEVELS + "]" * LEVELS + "\n",  # ruamel's C composer
    "flow-map": "site:\n  name: " + "{a: " * LEVELS + "1" + "}" * LEVELS + "\n",
}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process: a segfault there is an exit code (-11), not a dead test run."""
    code = "import sys; from zonewarden.cli.main import cli; sys.exit(cli(sys.argv[1:], standalone_mode=True))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_deep_nesting_is_a_positioned_error_not_a_segfault(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP[kind])
    result = _cli("check", "--file", str(path))
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert f"{path}:" in result.stderr and "nested more than" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("exact", [False, True])
def test_depth_limit_is_checked_on_both_paths(exact: bool) -> None:
    with pytest.raises(SiteFileError) as info:
        yamlio.loads(DEEP["flow"], source="deep.yaml", exact=exact)
    [problem] = info.value.problems
    assert (problem.file, problem.line) == ("deep.yaml", 3)
    assert problem.column is not None and problem.column > yamlio.MAX_DEPTH


def test_nesting_at_the_limit_is_still_read() -> None:
    depth = yamlio.MAX_DEPTH - 1  # the top mapping is one level
    text = "a: " + "[" * depth + "1" + "]" * depth + "\n"
    for exact in (False, True):
        data = yamlio.loads(text, exact=exact)
        for _ in range(depth + 1):
            data = data["a"] if isinstance(data, dict) else data[0]
        assert data == 1


def test_long_indentation_inside_a_text_block_is_not_mistaken_for_nesting() -> None:
    text = "site:\n  notes: |\n" + "    " + " " * 300 + "ascii art\n"
    assert yamlio.loads(text)["site"]["notes"].strip() == "ascii art"


@pytest.mark.parametrize(
    ("value", "said"),
    [("!!int xyz", "'xyz' is not a valid int"), ("!!bool maybe", "'maybe' is not a valid boolean"),
     ("!!float abc", "'abc' is not a valid float"), ("!!timestamp 2026-02-30", "'2026-02-30' is not a valid date")],
)
def test_a_tag_on_a_value_it_cannot_have_is_a_positioned_error(tmp_path: Path, value: str, said: str) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(f"site:\n  id: x\n  name: {value}\n")
    result = _cli("check", "--file", str(path))
    assert result.returncode == 2, result.stderr
    assert f"{path}:3:9: {said}" in result.stderr
    assert "internal error" not in result.stderr


def test_an_impossible_date_is_positioned_on_the_exact_path_too() -> None:
    # The exact (ruamel) path builds dates itself; 2026-02-30 raised ValueError there.
    with pytest.raises(SiteFileError) as info:
        yamlio.loads("site:\n  name: x\nassessments:\n  - date: 2026-02-30\n", source="s.yaml", exact=True)
    [problem] = info.value.problems
    assert (problem.line, problem.column) == (4, 11) and "not a valid date" in problem.message


def test_an_impossible_date_in_a_site_file_is_a_positioned_error(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for f in EXAMPLE.glob("*.yaml"):
        (site / f.name).write_text(f.read_text())
    text = (site / "governance.yaml").read_text()
    assert "date: 20" in text
    head, tail = text.split("date: 20", 1)
    (site / "governance.yaml").write_text(head + "date: 2026-02-30" + tail[len("xx-xx-xx"):])
    result = _cli("check", "--file", str(site))
    assert result.returncode == 2, result.stderr
    assert f"{site / 'governance.yaml'}:" in result.stderr and "date" in result.stderr
    assert "internal error" not in result.stderr


def test_a_syntax_error_in_one_file_does_not_hide_the_others(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for f in EXAMPLE.glob("*.yaml"):
        (site / f.name).write_text(f.read_text())
    (site / "zones.yaml").write_text("zones:\n  - id: [unclosed\n")
    assets = (site / "assets.yaml").read_text()
    (site / "assets.yaml").write_text(assets.replace("    zone:", "    zoen:", 1))
    with pytest.raises(SiteFileError) as info:
        load_site(site)
    files = {Path(p.file or "").name for p in info.value.problems}
    assert files == {"zones.yaml", "assets.yaml"}
    [unknown] = [p for p in info.value.problems if p.path and p.path[-1] == "zoen"]
    assert unknown.line is not None and "did you mean `zone`" in unknown.message
    # Sections of the broken file are not reported as missing, nor references into them.
    assert not any(p.path == ("zones",) for p in info.value.problems)
    assert not any("unknown zone" in p.message for p in info.value.problems)
    result = _cli("check", "--file", str(site))
    assert result.returncode == 2 and "assets.yaml" in result.stderr and "zones.yaml" in result.stderr
