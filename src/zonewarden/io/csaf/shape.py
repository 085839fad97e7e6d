"""Type check of the parts of a CSAF document that product flattening reads.

The lenient reader (:mod:`zonewarden.io.csaf.reader`) stores real-world documents with their
deviations, so a document can pass it with a wrong type where flattening expects a list, an
object or a non-empty string (an empty list as a branch category, a string as a product list,
a float as an object, an empty product id, an over-long name). :func:`shape_problem` finds the
first such value and names it by JSON pointer, so ingest rejects that one document with a
message instead of failing on it in the middle of a batch (issue 18, fault 3).

Pure: no I/O. Only the fields flattening reads are checked; everything else stays the
reader's business (deviations).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_TEXT = 20_000
"""Longest free text flattening keeps (names, details, titles): ``domain.common.Text``."""
MAX_ID = 500
"""Longest identifier (product ids, references): ``domain.common.ShortText``."""

_Path = tuple[str | int, ...]


def pointer(path: _Path) -> str:
    """RFC 6901 JSON pointer of ``path`` (``/`` for the root)."""
    if not path:
        return "/"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class _Bad(Exception):
    def __init__(self, path: _Path, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _obj(value: Any, path: _Path, what: str = "an object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(path, f"must be {what}, found {_kind(value)}")
    return value


def _list(value: Any, path: _Path, what: str = "a list") -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(path, f"must be {what}, found {_kind(value)}")
    return value


def _items(parent: dict[str, Any], key: str, path: _Path) -> Iterator[tuple[int, Any, _Path]]:
    """The entries of an optional list field."""
    if key not in parent or parent[key] is None:
        return
    for i, item in enumerate(_list(parent[key], (*path, key))):
        yield i, item, (*path, key, i)


def _text(parent: dict[str, Any], key: str, path: _Path, *, required: bool = False, limit: int = MAX_TEXT,
          nonempty: bool = False) -> None:
    if key not in parent or parent[key] is None:
        if required:
            raise _Bad((*path, key), "is missing")
        return
    value = parent[key]
    here = (*path, key)
    if not isinstance(value, str):
        raise _Bad(here, f"must be a string, found {_kind(value)}")
    if nonempty and not value.strip():
        raise _Bad(here, "must not be empty")
    if len(value) > limit:
        raise _Bad(here, f"is {len(value)} characters long; at most {limit} are accepted")


def _ids(parent: dict[str, Any], key: str, path: _Path) -> None:
    for _, pid, here in _items(parent, key, path):
        if not isinstance(pid, str):
            raise _Bad(here, f"a product id must be a string, found {_kind(pid)}")
        if not pid.strip():
            raise _Bad(here, "a product id must not be empty")
        if len(pid) > MAX_ID:
            raise _Bad(here, f"a product id is {len(pid)} characters long; at most {MAX_ID} are accepted")


def _product(value: Any, path: _Path) -> None:
    product = _obj(value, path, "an object with name and product_id")
    _text(product, "product_id", path, required=True, limit=MAX_ID, nonempty=True)
    _text(product, "name", path, required=True, nonempty=True)
    helper = product.get("product_identification_helper")
    if helper is not None:
        here = (*path, "product_identification_helper")
        helper = _obj(helper, here)
        for key in ("cpe", "purl"):
            _text(helper, key, here, limit=MAX_ID)
        for key in ("model_numbers", "skus"):
            for _, item, at in _items(helper, key, here):
                if not isinstance(item, str):
                    raise _Bad(at, f"must be a string, found {_kind(item)}")
                if len(item) > MAX_TEXT:
                    raise _Bad(at, f"is {len(item)} characters long; at most {MAX_TEXT} are accepted")


def _branches(value: Any, path: _Path) -> None:
    stack: list[tuple[Any, _Path]] = [(value, path)]
    while stack:  # iterative: the reader's depth limit applies, not Python's recursion limit
        branches, at = stack.pop()
        for _, branch, here in _items({"branches": branches}, "branches", at[:-1]):
            b = _obj(branch, here)
            _text(b, "category", here, limit=MAX_ID)
            _text(b, "name", here)
            if "product" in b:
                _product(b["product"], (*here, "product"))
            if "branches" in b:
                stack.append((b["branches"], (*here, "branches")))


def _notes(parent: dict[str, Any], path: _Path) -> None:
    for _, note, here in _items(parent, "notes", path):
        n = _obj(note, here)
        _text(n, "text", here, limit=10 * MAX_TEXT)


def _vulnerability(value: Any, path: _Path) -> None:
    v = _obj(value, path)
    _text(v, "cve", path, limit=MAX_ID)
    _text(v, "title", path)
    if v.get("cwe") is not None:
        _text(_obj(v["cwe"], (*path, "cwe")), "id", (*path, "cwe"), limit=MAX_ID)
    if v.get("product_status") is not None:
        here = (*path, "product_status")
        for key in _obj(v["product_status"], here):
            _ids(v["product_status"], key, here)
    for _, score, here in _items(v, "scores", path):
        s = _obj(score, here)
        _ids(s, "products", here)
        for key in ("cvss_v3", "cvss_v2"):
            if s.get(key) is not None:
                c = _obj(s[key], (*here, key))
                _text(c, "vectorString", (*here, key), limit=MAX_ID)
                _text(c, "version", (*here, key), limit=MAX_ID)
    for _, rem, here in _items(v, "remediations", path):
        r = _obj(rem, here)
        _text(r, "category", here, required=True, limit=MAX_ID, nonempty=True)
        _text(r, "details", here)
        _text(r, "url", here, limit=MAX_TEXT)
        _ids(r, "product_ids", here)
    for _, threat, here in _items(v, "threats", path):
        t = _obj(threat, here)
        _text(t, "category", here, limit=MAX_ID)
        _text(t, "details", here)
    _notes(v, path)


def _check(doc: Any) -> None:
    d = _obj(doc, ())
    document = _obj(d.get("document"), ("document",))
    # What makes a JSON file a CSAF advisory at all, even in lenient mode: a folder of junk
    # files with a tracking id is not stored as advisories (issue 18.4).
    version = document.get("csaf_version")
    if not isinstance(version, str) or not version.startswith("2."):
        raise _Bad(("document", "csaf_version"), f"must be \"2.0\" for a CSAF 2.0 document, found {_kind(version)}"
                   + (f" {version!r}" if isinstance(version, str) else "") + "; this is not a CSAF advisory")
    _text(document, "category", ("document",), required=True, limit=MAX_ID, nonempty=True)
    _text(document, "title", ("document",), required=True, nonempty=True)
    if document.get("publisher") is not None:
        _text(_obj(document["publisher"], ("document", "publisher")), "name", ("document", "publisher"))
    if document.get("tracking") is not None:
        tracking = _obj(document["tracking"], ("document", "tracking"))
        _text(tracking, "id", ("document", "tracking"), limit=MAX_ID)
        _text(tracking, "version", ("document", "tracking"), limit=MAX_ID)
        _text(tracking, "current_release_date", ("document", "tracking"), limit=MAX_ID)
    _notes(document, ("document",))
    if d.get("product_tree") is not None:
        tree = _obj(d["product_tree"], ("product_tree",))
        if "branches" in tree:
            _branches(tree["branches"], ("product_tree", "branches"))
        for _, fpn, here in _items(tree, "full_product_names", ("product_tree",)):
            _product(fpn, here)
        for _, rel, here in _items(tree, "relationships", ("product_tree",)):
            r = _obj(rel, here)
            _text(r, "category", here, limit=MAX_ID)
            _text(r, "product_reference", here, limit=MAX_ID)
            _text(r, "relates_to_product_reference", here, limit=MAX_ID)
            if r.get("full_product_name") is not None:
                _product(r["full_product_name"], (*here, "full_product_name"))
    for _, vuln, here in _items(d, "vulnerabilities", ()):
        _vulnerability(vuln, here)


def shape_problem(doc: Any) -> tuple[str, str] | None:
    """The first value flattening cannot read, as ``(JSON pointer, why)``; ``None`` when none."""
    try:
        _check(doc)
    except _Bad as bad:
        return pointer(bad.path), bad.message
    return None
