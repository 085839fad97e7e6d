"""Safe YAML reading with precise error locations, and deterministic YAML writing.

Reading has a fast path and a slow path. The fast path parses with yaml-rs (Rust; about 20x
faster than libyaml with a Python constructor on a 100k-asset site). The slow path, ruamel.yaml,
runs only when the fast path cannot be trusted or fails: when a model needs the spelling of a
plain number (``version: 2.10`` must not become the float 2.1: the model raises
``NeedsExactText`` and the file is read again exactly), or to produce a precise error. Field paths such as ``("assets", 5, "zone")`` are turned into a line and column by
composing the node tree again, which happens only when something is wrong.

Safety: only the safe constructor is used (no Python tags), anchors/aliases are rejected (they
are what "billion laughs" bombs are made of and site files never need them), and files above a
size limit are refused before they are read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml_rs
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from zonewarden.errors import Problem, SiteFileError

MAX_FILE_BYTES = int(os.environ.get("ZONEWARDEN_MAX_FILE_MB", "512")) * 1024 * 1024


class YamlFloat(float):
    """A float that remembers how it was written, so ``version: 2.10`` can become ``"2.10"``."""

    text: str

    def __new__(cls, value: float, text: str) -> YamlFloat:
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


class YamlInt(int):
    """An int that remembers how it was written (``010`` stays ``"010"`` in a text field)."""

    text: str

    def __new__(cls, value: int, text: str) -> YamlInt:
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


class _NoAliasConstructor(SafeConstructor):
    """Safe constructor that refuses aliases and keeps the source text of floats."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            mark = node.start_mark
            raise _AliasError(mark.line + 1, mark.column + 1)
        return super().construct_object(node, deep=deep)

    def construct_yaml_float(self, node: Node) -> Any:
        value = super().construct_yaml_float(node)
        if isinstance(value, float):
            return YamlFloat(value, str(node.value))
        return value


    def construct_yaml_int(self, node: Node) -> Any:
        value = super().construct_yaml_int(node)
        if isinstance(value, int) and not isinstance(value, bool):
            return YamlInt(value, str(node.value))
        return value


_NoAliasConstructor.add_constructor("tag:yaml.org,2002:float", _NoAliasConstructor.construct_yaml_float)
_NoAliasConstructor.add_constructor("tag:yaml.org,2002:int", _NoAliasConstructor.construct_yaml_int)


class _AliasError(Exception):
    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


def _reader() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.Constructor = _NoAliasConstructor
    yaml.allow_duplicate_keys = False
    return yaml


def read_bytes(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a file, refusing one above the size limit before reading it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SiteFileError(f"cannot read {path}: {exc.strerror}") from exc
    if size > max_bytes:
        raise SiteFileError(
            f"{path} is {size / 1e6:.0f} MB, above the {max_bytes / 1e6:.0f} MB limit "
            "(raise it with ZONEWARDEN_MAX_FILE_MB if the file is genuine)"
        )
    return path.read_bytes()


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SiteFileError(
            f"{source} is not UTF-8 text",
            [Problem(f"invalid UTF-8 byte at offset {exc.start}; save the file as UTF-8", file=source, line=line)],
        ) from exc


_NO_ALIASES = yaml_rs.AliasLimits(max_alias_expansions_per_anchor=0)


def _fast_load(text: str) -> tuple[bool, Any]:
    """(True, data) from yaml-rs, or (False, None) when the slow path must decide."""
    try:
        return True, yaml_rs.loads(text, parse_datetime=False, alias_limits=_NO_ALIASES)
    except (yaml_rs.YAMLDecodeError, ValueError, RecursionError):
        return False, None


def loads(text: str | bytes, *, source: str = "<input>", exact: bool = False) -> Any:
    """Parse YAML text into plain Python values, or raise :class:`SiteFileError` with a location.

    With ``exact`` numbers keep their source text (:class:`YamlFloat`, :class:`YamlInt`); the
    caller asks for it when a model needs the spelling of a number (see ``NeedsExactText``).
    """
    if isinstance(text, bytes):
        text = _decode(text, source)
    if not exact:
        ok, data = _fast_load(text)
        if ok:
            return data
    try:
        return _reader().load(text)
    except _AliasError as exc:
        raise SiteFileError(
            f"{source}: YAML anchors and aliases are not accepted",
            [Problem("alias (*name) found: write the value out in full", file=source, line=exc.line, column=exc.column)],
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(m) for m in (exc.context, exc.problem) if m) or "invalid YAML"
        raise SiteFileError(
            f"{source} is not valid YAML",
            [
                Problem(
                    message,
                    file=source,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ],
        ) from None
    except YAMLError as exc:
        raise SiteFileError(f"{source} is not valid YAML", [Problem(str(exc), file=source)]) from None
    except RecursionError:
        raise SiteFileError(
            f"{source} is nested too deeply", [Problem("reduce nesting depth", file=source)]
        ) from None


def load_file(path: Path, *, exact: bool = False) -> Any:
    return loads(read_bytes(path), source=str(path), exact=exact)


def locate(text: str, path: Sequence[str | int]) -> tuple[int, int] | None:
    """1-based (line, column) of the node at ``path`` in YAML ``text``; the nearest parent if the
    exact node does not exist (a missing field is reported at its mapping)."""
    try:
        node: Node | None = YAML(typ="safe", pure=False).compose(text)
    except YAMLError:
        return None
    best = node
    for part in path:
        if node is None:
            break
        nxt: Node | None = None
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == str(part):
                    nxt = value
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            nxt = node.value[part]
        if nxt is None:
            break
        node = best = nxt
    if best is None:
        return None
    return best.start_mark.line + 1, best.start_mark.column + 1




def dumps(data: Any) -> str:
    """Deterministic block-style YAML for plain JSON-like data (keys in the order given)."""
    return yaml_rs.dumps(data)
