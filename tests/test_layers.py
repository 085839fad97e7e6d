"""The layers hold (issue 17.12): read every module's imports (with ast, lazy imports inside
functions included) and fail when a layer reaches one it must not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "zonewarden"

FORBIDDEN = {
    # layer: packages it must not import
    "cli": ("zonewarden.store",),
    "domain": ("zonewarden.io", "zonewarden.store", "zonewarden.services", "zonewarden.cli"),
    "engines": ("zonewarden.io", "zonewarden.store", "zonewarden.services", "zonewarden.cli"),
    "services": ("zonewarden.cli",),
}


def imports_of(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path`` (a module of ``package``), relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = ".".join(("zonewarden", *path.relative_to(SRC).with_suffix("").parts[:-1]))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            # ``from zonewarden import store`` imports the package too
            out.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return out


def violations(layer: str) -> list[str]:
    found = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for line, module in imports_of(path):
            for banned in FORBIDDEN[layer]:
                if module == banned or module.startswith(banned + "."):
                    found.append(f"{path.relative_to(SRC.parent)}:{line} imports {module}")
    return sorted(set(found))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_it_must_not(layer: str) -> None:
    assert (SRC / layer).is_dir()
    assert violations(layer) == [], f"{layer} must not import {', '.join(FORBIDDEN[layer])}"


def test_the_reader_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The check can fail: an import inside a function, and a relative one, are both seen."""
    probe = SRC / "cli" / "check.py"
    found = dict((m, n) for n, m in imports_of(probe))
    assert "zonewarden.services.queries.architecture" in found  # imported inside a function
    fake = tmp_path / "x.py"
    fake.write_text("def f():\n    from ..store.db import open_store\n\nfrom zonewarden import store\n")
    modules = [m for _, m in imports_of(fake, "zonewarden.cli")]
    assert "zonewarden.store.db" in modules and "zonewarden.store" in modules
