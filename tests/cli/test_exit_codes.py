"""Exit codes a CI gate can trust (issue 17.8): every error family has its own documented code,
and a crash is not mistaken for "findings over the threshold"."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import zonewarden
from zonewarden.cli import common
from zonewarden.cli.main import cli
from zonewarden.errors import ZonewardenError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pharma-plant"


def _all_error_classes() -> set[type[ZonewardenError]]:
    for info in pkgutil.walk_packages(zonewarden.__path__, "zonewarden."):
        if ".store.migrations" in info.name:
            continue  # Alembic scripts run only under Alembic
        try:
            importlib.import_module(info.name)
        except ImportError as exc:  # an optional extra that is not installed
            if exc.name and exc.name.startswith("zonewarden"):
                raise
    seen: set[type[ZonewardenError]] = set()
    todo: list[type[ZonewardenError]] = [ZonewardenError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


def test_every_error_class_belongs_to_a_mapped_family() -> None:
    classes = _all_error_classes()
    # The ones the issue named, so the test cannot pass by not finding them.
    names = {c.__name__ for c in classes}
    assert {"LeakError", "LanguageError", "DiagramError", "CatalogDataError", "FetchError"} <= names
    unmapped = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if not any(base in common.EXIT_CODES for base in c.__mro__)
    )
    assert unmapped == [], "error classes outside every family of zonewarden.errors (exit code 70)"
    assert ZonewardenError not in common.EXIT_CODES


def test_the_named_errors_no_longer_pass_for_a_database_problem() -> None:
    from zonewarden.catalog.loader import CatalogDataError
    from zonewarden.evidence.diagram import DiagramError
    from zonewarden.evidence.language import LanguageError
    from zonewarden.evidence.redaction import LeakError

    assert common.exit_code_for(CatalogDataError("broken", [])) == common.EXIT_INSTALLATION
    assert common.exit_code_for(DiagramError("no dot")) == common.EXIT_INSTALLATION
    assert common.exit_code_for(LeakError([])) == common.EXIT_REFUSED
    assert common.exit_code_for(LanguageError([])) == common.EXIT_REFUSED

    class Stray(ZonewardenError):
        pass

    assert common.exit_code_for(Stray("x")) == common.EXIT_INTERNAL


def test_every_exit_code_is_documented() -> None:
    doc = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    conventions = doc.split("## zonewarden", 1)[0]
    helptext = CliRunner().invoke(cli, ["--help"]).output
    for code in sorted({*common.EXIT_CODES.values(), common.EXIT_INTERNAL}):
        assert f" {code} " in conventions, f"exit code {code} is not in docs/commands.md"
        assert f" {code} " in " ".join(helptext.split()), f"exit code {code} is not in zonewarden --help"


def _boom(*_args: object, **_kwargs: object) -> None:
    raise ZeroDivisionError("division by zero")


def test_an_unexpected_error_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch) -> None:
    import zonewarden.engines.gap as gap_engine

    monkeypatch.setattr(gap_engine, "analyse", _boom)
    result = CliRunner().invoke(cli, ["gap", "--file", str(EXAMPLE), "--as-of", "2026-09-01"],
                                catch_exceptions=False)
    assert result.exit_code == common.EXIT_INTERNAL
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("internal error: ZeroDivisionError") and "--debug" in line


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import zonewarden.engines.gap as gap_engine

    monkeypatch.setattr(gap_engine, "analyse", _boom)
    result = CliRunner().invoke(cli, ["--debug", "gap", "--file", str(EXAMPLE), "--as-of", "2026-09-01"],
                                catch_exceptions=False)
    assert result.exit_code == common.EXIT_INTERNAL
    assert "Traceback" in result.stderr and "_boom" in result.stderr


def test_a_refused_output_exits_5(monkeypatch: pytest.MonkeyPatch) -> None:
    import zonewarden.engines.gap as gap_engine
    from zonewarden.evidence.redaction import Leak, LeakError

    def leak(*_args: object, **_kwargs: object) -> None:
        raise LeakError([Leak("10.0.0.1", "index.html")])

    monkeypatch.setattr(gap_engine, "analyse", leak)
    result = CliRunner().invoke(cli, ["gap", "--file", str(EXAMPLE), "--as-of", "2026-09-01"],
                                catch_exceptions=False)
    assert result.exit_code == common.EXIT_REFUSED
    assert "refusing to write the customer package" in result.stderr


def test_usage_errors_keep_clicks_code_2() -> None:
    result = CliRunner().invoke(cli, ["gap", "--no-such-option"])
    assert result.exit_code == 2
