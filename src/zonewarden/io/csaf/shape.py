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
from functools import cache
from typing import Any

import jsonschema_rs

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


# --- the same check as one compiled JSON schema ------------------------------------------------
#
# Walking every product and score in Python cost about three times parsing the document (issue
# 17, speed 1). The rules above are also written below as a JSON schema that jsonschema_rs checks
# in Rust: a document it accepts (nearly all) is done; one it rejects takes the Python walk, which
# decides and names the pointer. The schema must accept nothing the walk refuses
# (tests/io/test_csaf_shape.py compares the two on mutated documents).

_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""What ``str.strip`` removes (every ``str.isspace`` character; a test recomputes it): a
non-empty text has a character outside this set."""


def _s(limit: int, *, nonempty: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "maxLength": limit}
    if nonempty:
        out["pattern"] = "[^" + _SPACE + "]"  # no space character is special in a class
    return out


def _opt(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (an optional field that flattening skips when null)."""
    return {"anyOf": [{"type": "null"}, schema]}


def _opt_text(limit: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": limit}


def _opt_list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": ["array", "null"], "items": items}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


_ID = _s(MAX_ID, nonempty=True)
_IDS = _opt_list(_ID)
_NOTES = _opt_list(_object({"text": _opt_text(10 * MAX_TEXT)}))


def _product_schema() -> dict[str, Any]:
    helper_list = _opt_list({"type": "string", "maxLength": MAX_TEXT})
    helper = _object({"cpe": _opt_text(MAX_ID), "purl": _opt_text(MAX_ID), "model_numbers": helper_list,
                      "skus": helper_list})
    return _object(
        {"product_id": _ID, "name": _s(MAX_TEXT, nonempty=True), "product_identification_helper": _opt(helper)},
        ("product_id", "name"),
    )


@cache
def _fast_schema() -> Any:
    product = {"$ref": "#/$defs/product"}
    branch = _object({"category": _opt_text(MAX_ID), "name": _opt_text(),
                      "product": product, "branches": {"$ref": "#/$defs/branches"}})
    cvss = _opt(_object({"vectorString": _opt_text(MAX_ID), "version": _opt_text(MAX_ID)}))
    vulnerability = _object({
        "cve": _opt_text(MAX_ID),
        "title": _opt_text(),
        "cwe": _opt(_object({"id": _opt_text(MAX_ID)})),
        "product_status": _opt({"type": "object", "additionalProperties": _IDS}),
        "scores": _opt_list(_object({"products": _IDS, "cvss_v3": cvss, "cvss_v2": cvss})),
        "remediations": _opt_list(_object({"category": _s(MAX_ID, nonempty=True), "details": _opt_text(),
                                           "url": _opt_text(), "product_ids": _IDS}, ("category",))),
        "threats": _opt_list(_object({"category": _opt_text(MAX_ID), "details": _opt_text()})),
        "notes": _NOTES,
    })
    tree = _object({
        "branches": {"$ref": "#/$defs/branches"},
        "full_product_names": _opt_list(product),
        "relationships": _opt_list(_object({
            "category": _opt_text(MAX_ID), "product_reference": _opt_text(MAX_ID),
            "relates_to_product_reference": _opt_text(MAX_ID), "full_product_name": _opt(product),
        })),
    })
    document = _object({
        "csaf_version": {"type": "string", "pattern": "^2\\."},
        "category": _s(MAX_ID, nonempty=True),
        "title": _s(MAX_TEXT, nonempty=True),
        "publisher": _opt(_object({"name": _opt_text()})),
        "tracking": _opt(_object({"id": _opt_text(MAX_ID), "version": _opt_text(MAX_ID),
                                  "current_release_date": _opt_text(MAX_ID)})),
        "notes": _NOTES,
    }, ("csaf_version", "category", "title"))
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"product": _product_schema(), "branches": _opt_list(branch)},
        **_object({"document": document, "product_tree": _opt(tree), "vulnerabilities": _opt_list(vulnerability)},
                  ("document",)),
    }
    return jsonschema_rs.validator_for(schema)


def shape_problem(doc: Any) -> tuple[str, str] | None:
    """The first value flattening cannot read, as ``(JSON pointer, why)``; ``None`` when none."""
    try:
        if _fast_schema().is_valid(doc):
            return None
    except ValueError:  # not a JSON value (only when called directly): the walk says what
        pass
    return _walked_problem(doc)


def _walked_problem(doc: Any) -> tuple[str, str] | None:
    """:func:`shape_problem` by the Python walk (the definition; it locates the value)."""
    try:
        _check(doc)
    except _Bad as bad:
        return pointer(bad.path), bad.message
    return None
