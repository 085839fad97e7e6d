"""Read one CSAF 2.0 document: bytes -> JSON -> limits -> schema -> mandatory tests.

Never raises for a bad document: every problem becomes a :class:`Deviation` or, when the
document cannot be interpreted at all, ``accepted=False`` with an ``error`` that names the
source and the JSON pointer. Exceptions escape only for programming errors.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs
import orjson

from zonewarden.io.csaf.mandatory import run_mandatory_tests
from zonewarden.io.csaf.model import CsafReadResult, Deviation, Limits, pointer, sort_deviations
from zonewarden.io.csaf.schema import schema_deviations

DEFAULT_LIMITS = Limits()


@cache
def _limits_validator(max_depth: int, max_string: int | None) -> Any:
    """A jsonschema_rs validator that accepts exactly the values within the depth limit and,
    unless ``max_string`` is None, whose strings and keys are within the string limit.

    ``$defs/l{k}`` applies to the values at depth ``k`` (the document is depth 1); containers
    at the deepest allowed level must be empty.
    """
    defs: dict[str, Any] = {}
    for k in range(1, max_depth + 1):
        child: Any = {"$ref": f"#/$defs/l{k + 1}"} if k < max_depth else False
        level: dict[str, Any] = {"items": child, "additionalProperties": child}
        if max_string is not None:
            level["maxLength"] = max_string
            level["propertyNames"] = {"maxLength": max_string}
        defs[f"l{k}"] = level
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "#/$defs/l1",
              "$defs": defs}
    return jsonschema_rs.validator_for(schema)


def _find_limit_violation(doc: Any, size: int, limits: Limits) -> tuple[str, str] | None:
    """First value that breaks the depth or string limit, as (pointer, message).

    A document within the limits (nearly all) is recognised by one pass of a compiled
    validator in Rust; only a document it rejects takes the Python walk below, which decides
    and says where.
    """
    depth, longest = limits.max_depth, limits.max_string
    if type(depth) is int and type(longest) is int and 1 <= depth <= 256 and longest >= 0:
        fast = _limits_validator(depth, longest if size > longest else None)
        try:
            if fast.is_valid(doc):
                return None
        except ValueError:  # not a JSON value (a set, a non-string key): only when called directly
            pass
    return _walk_limits(doc, size, limits)


def _walk_limits(doc: Any, size: int, limits: Limits) -> tuple[str, str] | None:
    """The Python definition of :func:`_find_limit_violation`.

    A breadth-first pass, one level at a time, so the depth check costs one comparison per
    level rather than per node. No string can be longer than the file, so strings are only
    measured in files larger than the string limit. Only a violation triggers the slower
    search that records where it is.
    """
    check_strings = size > limits.max_string
    max_string = limits.max_string
    level: list[Any] = [doc]
    depth = 0
    while level:
        depth += 1
        if depth > limits.max_depth:
            return _locate_violation(doc, limits)
        nxt: list[Any] = []
        for node in level:
            kind = type(node)
            if kind is dict:
                nxt += node.values()
                if check_strings and any(len(k) > max_string for k in node):
                    return _locate_violation(doc, limits)
            elif kind is list:
                nxt += node
            elif check_strings and kind is str and len(node) > max_string:
                return _locate_violation(doc, limits)
        level = nxt
    return None


def _locate_violation(data: Any, limits: Limits) -> tuple[str, str] | None:
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(data, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > limits.max_depth:
            return pointer(*path[:-1]), (
                f"nesting deeper than {limits.max_depth} levels of arrays/objects; "
                "a CSAF document never needs this, the file is malformed or hostile"
            )
        if isinstance(node, str) and len(node) > limits.max_string:
            return pointer(*path), (
                f"string of {len(node):,} characters exceeds the limit of {limits.max_string:,}"
            )
        if isinstance(node, dict):
            for key, value in node.items():
                if len(key) > limits.max_string:
                    return pointer(*path), (
                        f"object key of {len(key):,} characters exceeds the limit of "
                        f"{limits.max_string:,}"
                    )
                stack.append((value, depth + 1, (*path, key)))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                stack.append((value, depth + 1, (*path, i)))
    return None


def _str_at(doc: dict[str, Any], *path: str) -> Any:
    node: Any = doc
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _interpretation_error(doc: dict[str, Any]) -> tuple[str, str] | None:
    """Why the document cannot be interpreted even leniently, as (pointer, message)."""
    document = doc.get("document")
    if not isinstance(document, dict):
        return "/document", "missing or not an object: this is not a CSAF document"
    tracking = document.get("tracking")
    if not isinstance(tracking, dict):
        return "/document/tracking", "missing or not an object: the advisory cannot be identified"
    for field in ("id", "version"):
        value = tracking.get(field)
        if not isinstance(value, str) or not value.strip():
            return f"/document/tracking/{field}", (
                "missing or not a non-empty string: the advisory cannot be identified "
                "or ordered among its revisions"
            )
    tree = doc.get("product_tree")
    if tree is not None:
        if not isinstance(tree, dict):
            return "/product_tree", "must be an object"
        for key in ("branches", "full_product_names", "relationships", "product_groups"):
            if key in tree and not isinstance(tree[key], list):
                return f"/product_tree/{key}", "must be an array"
    vulns = doc.get("vulnerabilities")
    if vulns is not None:
        if not isinstance(vulns, list):
            return "/vulnerabilities", "must be an array"
        for i, vuln in enumerate(vulns):
            if not isinstance(vuln, dict):
                return f"/vulnerabilities/{i}", "must be an object"
            status = vuln.get("product_status")
            if status is not None and not isinstance(status, dict):
                return f"/vulnerabilities/{i}/product_status", "must be an object"
    return None


def read_csaf(
    data: bytes,
    *,
    source: str,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> CsafReadResult:
    """Parse and validate one CSAF 2.0 document.

    ``source`` names the input (path or URL) in messages. In strict mode any deviation
    rejects the document; in lenient mode (default) a document is accepted when it is a JSON
    object with a usable ``/document/tracking/id`` and ``version`` and interpretable
    ``product_tree`` / ``vulnerabilities`` shapes, with every deviation recorded.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"read_csaf expects bytes, got {type(data).__name__}")

    def rejected(ptr: str, message: str, document: Any = None, devs=()) -> CsafReadResult:
        where = f"{source}: {ptr}" if ptr else source
        return CsafReadResult(
            source=source,
            document=document,
            deviations=sort_deviations(list(devs)),
            accepted=False,
            error=f"{where}: {message}",
            strict=strict,
        )

    if len(data) > limits.max_bytes:
        return rejected(
            "",
            f"file of {len(data):,} bytes exceeds the limit of {limits.max_bytes:,} "
            "(CSAF 2.0 Appendix C caps documents at 15 MiB)",
        )
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson reports "... : line L column C (char N)"; keep it, it locates the fault.
        return rejected("", f"not well-formed JSON: {exc}")
    if not isinstance(doc, dict):
        return rejected("", f"top level is a JSON {type(doc).__name__}, a CSAF document is an object")
    violation = _find_limit_violation(doc, len(data), limits)
    if violation is not None:
        ptr, message = violation
        return rejected(ptr, message)

    deviations: list[Deviation] = schema_deviations(doc)
    problem = _interpretation_error(doc)
    if problem is not None:
        ptr, message = problem
        return rejected(ptr, message, doc, deviations)
    schema_ok = not any(d.test_id == "schema" for d in deviations)
    deviations.extend(run_mandatory_tests(doc, schema_valid=schema_ok))
    devs = sort_deviations(deviations)

    error = None
    accepted = True
    if strict and devs:
        accepted = False
        first = devs[0]
        error = (
            f"{source}: {first.pointer or '/'}: strict mode rejects the document with "
            f"{len(devs)} deviation(s); first: [{first.test_id}] {first.message}"
        )
    publisher = _str_at(doc, "document", "publisher", "name")
    return CsafReadResult(
        source=source,
        document=doc,
        deviations=devs,
        accepted=accepted,
        error=error,
        strict=strict,
        tracking_id=_str_at(doc, "document", "tracking", "id"),
        tracking_version=_str_at(doc, "document", "tracking", "version"),
        publisher=publisher if isinstance(publisher, str) else None,
    )
