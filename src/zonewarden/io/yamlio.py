"""Safe YAML reading with precise error locations, and deterministic YAML writing.

Reading has a fast path and a slow path. The fast path parses with yaml-rs (Rust; about 20x
faster than libyaml with a Python constructor on a 100k-asset site). The slow path, ruamel.yaml,
runs only when the fast path cannot be trusted or fails: when a model needs the spelling of a
plain number (``version: 2.10`` must not become the float 2.1: the model raises
``NeedsExactText`` and the file is read again exactly), or to produce a precise error. Field paths such as ``("assets", 5, "zone")`` are turned into a line and column by
composing the node tree again, which happens only when something is wrong.

Safety: only the safe constructor is used (no Python tags), anchors/aliases are rejected (they
are what "billion laughs" bombs are made of and site files never need them), and files above a
size limit are refused before they are read. Nesting deeper than :data:`MAX_DEPTH` is refused
before either parser builds anything: both compose recursively in native code, and ~50k levels
overflow the C stack (a segfault, no message). A value the safe constructor cannot build
(``!!int xyz``, ``!!bool maybe``, the date 2026-02-30) is a positioned error, not a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml_rs
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from zonewarden.errors import Problem, SiteFileError

MAX_FILE_BYTES = int(os.environ.get("ZONEWARDEN_MAX_FILE_MB", "512")) * 1024 * 1024

MAX_DEPTH = 100
"""Deepest nesting of collections accepted. A site file needs fewer than ten levels; both YAML
parsers recurse in native code per level and crash (SIGSEGV) somewhere in the tens of thousands."""

_DEEP_BLOCK = re.compile(rf"^[ \t?:-]{{{MAX_DEPTH - 2}}}", re.MULTILINE)
"""A line whose leading run of blanks and block indicators (``- ``, ``? ``, ``: ``) is long enough
to hold :data:`MAX_DEPTH` levels. In block style every level costs at least one column of that
run except one (a sequence may sit at its key's indentation), so a file without such a line is
not too deep in block style, and the exact (event) count is needed only when one exists."""


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
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            # An explicit tag on a value it cannot have, or a timestamp that is no date.
            reason = str(exc) if isinstance(exc, ValueError) else ""
            raise _ValueError(node, reason) from None

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


class _ValueError(Exception):
    """A scalar the safe constructor cannot build (``!!int xyz``, an impossible date), with where."""

    def __init__(self, node: Node, reason: str) -> None:
        self.line, self.column = node.start_mark.line + 1, node.start_mark.column + 1
        tag = str(node.tag or "")
        kind = tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else tag
        kind = {"timestamp": "date", "bool": "boolean (true or false)"}.get(kind, kind)
        value = str(node.value) if isinstance(node, ScalarNode) else ""
        self.message = f"{value[:60]!r} is not a valid {kind}" + (f" ({reason})" if reason else "")


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


def _depth_problem(text: str, source: str, *, flow: bool) -> SiteFileError | None:
    """The error for nesting deeper than :data:`MAX_DEPTH`, found before anything recurses.

    Cheap bounds decide first: no long indentation/indicator run (block style) and, with
    ``flow``, fewer opening brackets in the whole text than the limit (flow style). Only when a
    bound cannot rule it out are the parser's events counted: libyaml's event parser keeps its
    own stack (no recursion) and the count stops at the first level over the limit."""
    if not _DEEP_BLOCK.search(text) and not (flow and text.count("[") + text.count("{") >= MAX_DEPTH):
        return None
    depth = 0
    try:
        for event in YAML(typ="safe", pure=False).parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return SiteFileError(
                        f"{source} is nested too deeply",
                        [Problem(
                            f"collections nested more than {MAX_DEPTH} levels deep; a site file needs a few "
                            "levels (is this file generated or hostile?)",
                            file=source, line=mark.line + 1, column=mark.column + 1,
                        )],
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        return None  # a syntax error before the limit: the parse itself reports it with its place
    return None


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
    too_deep = _depth_problem(text, source, flow=False)
    if too_deep is not None:
        raise too_deep
    if not exact:
        ok, data = _fast_load(text)
        if ok:
            return data
    # yaml-rs limits flow nesting itself; ruamel's C composer does not.
    too_deep = _depth_problem(text, source, flow=True)
    if too_deep is not None:
        raise too_deep
    try:
        return _reader().load(text)
    except _AliasError as exc:
        raise SiteFileError(
            f"{source}: YAML anchors and aliases are not accepted",
            [Problem("alias (*name) found: write the value out in full", file=source, line=exc.line, column=exc.column)],
        ) from None
    except _ValueError as exc:
        raise SiteFileError(
            f"{source} holds a value YAML cannot read",
            [Problem(f"{exc.message}: write a valid value, or quote it to make it text", file=source, line=exc.line, column=exc.column)],
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
