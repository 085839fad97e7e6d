"""The compiled shape check (``shape_problem``'s Rust fast path) accepts exactly what the
Python walk accepts: on every shared CISA document and on mutated ones."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonewarden.io.csaf import shape

_CISA = "csaf/cisa-ics/csaf_files/OT/white"
_BAD = ([], "a string", 1.5, "", " \x1c\u3000", "\u00a0", "x" * 20_001, "i" * 501, None, {}, True, [1.5], [""],
        [" "], [[]], {"k": []}, {"k": None}, [None], 7)


def _fast_accepts(doc: Any) -> bool:
    return bool(shape._fast_schema().is_valid(doc))


def test_space_set_is_what_str_strip_removes() -> None:
    assert shape._SPACE == "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


@pytest.fixture(scope="module")
def cisa_docs(shared_data: Path) -> list[dict[str, Any]]:
    files = sorted((shared_data / _CISA).glob("*/*.json"))
    if not files:
        pytest.skip(f"no CISA advisories under {shared_data / _CISA}")
    return [json.loads(f.read_bytes()) for f in files]


def test_fast_and_walked_agree_on_the_whole_feed(cisa_docs: list[dict[str, Any]]) -> None:
    for doc in cisa_docs:
        assert _fast_accepts(doc) == (shape._walked_problem(doc) is None), doc["document"]["tracking"]["id"]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


@pytest.fixture(scope="module")
def samples(cisa_docs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[tuple[Any, ...]]]]:
    picked = [cisa_docs[i] for i in range(0, len(cisa_docs), max(1, len(cisa_docs) // 12))][:12]
    return [(d, _paths(d)) for d in picked]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_and_walked_agree_on_mutated_documents(samples, data) -> None:  # type: ignore[no-untyped-def]
    doc, paths = data.draw(st.sampled_from(samples))
    mutated = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from(paths))
        target = mutated
        try:
            for p in path[:-1]:
                target = target[p]
            if data.draw(st.booleans()) and isinstance(target, dict):
                target.pop(path[-1], None)  # a field removed
            else:
                target[path[-1]] = data.draw(st.sampled_from(_BAD))
        except (KeyError, IndexError, TypeError):
            continue
    walked = shape._walked_problem(mutated)
    assert _fast_accepts(mutated) == (walked is None), walked
    assert shape.shape_problem(mutated) == walked  # the pointer and message come from the walk


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"document": {"csaf_version": "2.0", "category": "\x1c\u2003", "title": "t"}}, "/document/category"),
        ({"document": {"csaf_version": "3.0", "category": "c", "title": "t"}}, "/document/csaf_version"),
        ({"document": {"csaf_version": "2.0", "category": "c", "title": "t"},
          "product_tree": {"branches": [{"branches": [{"product": {"product_id": "p", "name": " "}}]}]}},
         "/product_tree/branches/0/branches/0/product/name"),
        ({"document": {"csaf_version": "2.0", "category": "c", "title": "t"},
          "vulnerabilities": [{"product_status": {"known_affected": ["p" * 501]}}]},
         "/vulnerabilities/0/product_status/known_affected/0"),
    ],
)
def test_rejections_keep_the_walks_pointer(doc: dict[str, Any], pointer: str) -> None:
    assert not _fast_accepts(doc)
    problem = shape.shape_problem(doc)
    assert problem is not None and problem[0] == pointer
