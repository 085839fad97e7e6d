"""CSAF 2.0 mandatory tests (specification section 6.1), one small function per test.

Each test reads a :class:`Context` that is built in a single pass over the document (product
and group definitions and references, branches, full product names), so the whole table costs
about one walk of the document. Tests are registered in :data:`MANDATORY_TESTS` with their
clause id; a test yields :class:`Deviation` objects and never raises on a badly typed document
(accessors below return empty values for wrong types).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from zonewarden.io.csaf import cvss as cvsslib
from zonewarden.io.csaf.identifiers import (
    Version,
    cwe_problem,
    language_tag_problem,
    parse_version,
    purl_problem,
)
from zonewarden.io.csaf.model import Deviation, join, pointer
from zonewarden.io.csaf.schema import compiled

Dev = Iterator[Deviation]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# Product status groups (CSAF 2.0 section 3.2.3.9): membership in two of them contradicts.
STATUS_GROUPS = {
    "first_affected": "affected",
    "known_affected": "affected",
    "last_affected": "affected",
    "known_not_affected": "not affected",
    "first_fixed": "fixed",
    "fixed": "fixed",
    "under_investigation": "under investigation",
    "recommended": None,
}


@dataclass
class Context:
    """Everything the tests need, collected in one pass."""

    doc: dict[str, Any]
    document: dict[str, Any]
    tracking: dict[str, Any]
    category: str | None
    vulns: list[tuple[str, dict[str, Any]]]
    product_defs: list[tuple[str, str]] = field(default_factory=list)
    """(product id, pointer) of every definition."""
    product_refs: list[tuple[str, list[Any]]] = field(default_factory=list)
    """(pointer of the array, array) of every array of product ids outside a definition;
    single references (relationships) appear as (pointer of the field, [value]) with the
    pointer ending in the field name. Kept as arrays so the common case (everything defined)
    is one C-level set operation instead of one pointer string per reference."""
    group_defs: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(group id, pointer, member product ids)."""
    group_refs: list[tuple[str, list[Any]]] = field(default_factory=list)
    full_product_names: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    helpers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(pointer, product_identification_helper) of the full product names that have one."""
    branches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    relationships: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    schema_valid: bool = True
    """Whether the document passed JSON schema validation."""
    memo: dict[str, Any] = field(default_factory=dict)
    """Values several tests share (revision history, parsed CVSS vectors), computed once."""

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for gid, _, members in self.group_defs:
            out[gid].extend(members)
        return out


def _ids(container: dict[str, Any], key: str, base: str, sink: list[tuple[str, list[Any]]]) -> None:
    # ``key`` is one of our own constants and needs no RFC 6901 escaping.
    ids = container.get(key)
    if type(ids) is list:
        sink.append((f"{base}/{key}", ids))


def _each_ref(refs: list[tuple[str, list[Any]]], wanted: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    """(id, pointer) of each referenced id for which ``wanted`` holds (the slow path)."""
    for lptr, ids in refs:
        single = len(ids) == 1 and not lptr[-1].isdigit() and lptr.endswith("reference")
        for i, pid in enumerate(ids):
            if isinstance(pid, str) and wanted(pid):
                yield pid, (lptr if single else f"{lptr}/{i}")


def _all_in(refs: list[tuple[str, list[Any]]], defined: set[str]) -> bool:
    try:
        return all(map(defined.issuperset, map(itemgetter(1), refs)))
    except TypeError:  # an unhashable item in a malformed array: take the slow path
        return False


_VULN_REF_LISTS = (("remediations", "product_ids"), ("scores", "products"),
                   ("threats", "product_ids"), ("flags", "product_ids"))


def build_context(doc: dict[str, Any]) -> Context:
    document = _dict(doc.get("document"))
    ctx = Context(
        doc=doc,
        document=document,
        tracking=_dict(document.get("tracking")),
        category=_str(document.get("category")),
        vulns=[
            (f"/vulnerabilities/{i}", v)
            for i, v in enumerate(_list(doc.get("vulnerabilities")))
            if isinstance(v, dict)
        ],
    )

    def add_fpn(fpn: Any, ptr: str) -> None:
        if isinstance(fpn, dict):
            ctx.full_product_names.append((ptr, fpn))
            helper = fpn.get("product_identification_helper")
            if type(helper) is dict:
                ctx.helpers.append((f"{ptr}/product_identification_helper", helper))
            pid = fpn.get("product_id")
            if isinstance(pid, str):
                ctx.product_defs.append((pid, f"{ptr}/product_id"))

    tree = _dict(doc.get("product_tree"))
    # Branches nest arbitrarily deep: walk them depth first (each branch before its children,
    # children before the next sibling) with an explicit stack of (pointer prefix, iterator)
    # pairs, so there is no recursion limit and no pointer is built for a skipped item.
    add_branch = ctx.branches.append
    stack = [("/product_tree/branches/", enumerate(_list(tree.get("branches"))))]
    while stack:
        base, siblings = stack[-1]
        for i, branch in siblings:
            if not isinstance(branch, dict):
                continue
            ptr = f"{base}{i}"
            add_branch((ptr, branch))
            if "product" in branch:
                add_fpn(branch["product"], f"{ptr}/product")
            children = branch.get("branches")
            if type(children) is list:
                stack.append((f"{ptr}/branches/", enumerate(children)))
                break
        else:
            stack.pop()
    for i, fpn in enumerate(_list(tree.get("full_product_names"))):
        add_fpn(fpn, f"/product_tree/full_product_names/{i}")
    for i, rel in enumerate(_list(tree.get("relationships"))):
        if not isinstance(rel, dict):
            continue
        ptr = f"/product_tree/relationships/{i}"
        ctx.relationships.append((ptr, rel))
        for key in ("product_reference", "relates_to_product_reference"):
            if isinstance(rel.get(key), str):
                ctx.product_refs.append((f"{ptr}/{key}", [rel[key]]))
        if "full_product_name" in rel:
            add_fpn(rel["full_product_name"], f"{ptr}/full_product_name")
    for i, group in enumerate(_list(tree.get("product_groups"))):
        if not isinstance(group, dict):
            continue
        ptr = f"/product_tree/product_groups/{i}"
        members: list[tuple[str, list[Any]]] = []
        _ids(group, "product_ids", ptr, members)
        ctx.product_refs.extend(members)
        if isinstance(group.get("group_id"), str):
            ids = [m for _, lst in members for m in lst if isinstance(m, str)]
            ctx.group_defs.append((group["group_id"], f"{ptr}/group_id", ids))

    # The hottest loop of all (every reference list of every vulnerability): inlined.
    add_ref, add_group_ref = ctx.product_refs.append, ctx.group_refs.append
    for vptr, vuln in ctx.vulns:
        status = vuln.get("product_status")
        if type(status) is dict:
            for key, ids in status.items():
                if type(ids) is list and key in STATUS_GROUPS:
                    add_ref((f"{vptr}/product_status/{key}", ids))
        for list_key, id_key in _VULN_REF_LISTS:
            items = vuln.get(list_key)
            if type(items) is not list:
                continue
            for i, item in enumerate(items):
                if type(item) is dict:
                    ref_ids = item.get(id_key)
                    if type(ref_ids) is list:
                        add_ref((f"{vptr}/{list_key}/{i}/{id_key}", ref_ids))
                    gids = item.get("group_ids")
                    if type(gids) is list and list_key != "scores":
                        add_group_ref((f"{vptr}/{list_key}/{i}/group_ids", gids))
    return ctx


# ---- registry -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MandatoryTest:
    test_id: str
    title: str
    run: Callable[[Context], Dev]


MANDATORY_TESTS: dict[str, MandatoryTest] = {}


def mandatory(test_id: str, title: str) -> Callable[[Callable[[Context], Dev]], Callable[[Context], Dev]]:
    def register(func: Callable[[Context], Dev]) -> Callable[[Context], Dev]:
        MANDATORY_TESTS[test_id] = MandatoryTest(test_id, title, func)
        return func

    return register


def run_mandatory_tests(doc: dict[str, Any], *, schema_valid: bool = True) -> list[Deviation]:
    """Run every registered mandatory test on ``doc``.

    On a schema-invalid document a test may meet shapes it cannot interpret; it then reports
    that it could not run instead of crashing. On a schema-valid document a crash is a bug in
    this module and propagates.
    """
    ctx = build_context(doc)
    ctx.schema_valid = schema_valid
    out: list[Deviation] = []
    for test in MANDATORY_TESTS.values():
        try:
            out.extend(test.run(ctx))
        except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
            if schema_valid:
                raise
            out.append(Deviation(test.test_id, "", f"test could not run on this malformed "
                                 f"document ({type(exc).__name__}: {exc})"))
    return out


# ---- 6.1.1 - 6.1.7: product and group ids, status, scores ------------------------------


@mandatory("6.1.1", "Missing Definition of Product ID")
def missing_product_definition(ctx: Context) -> Dev:
    defined = set(map(itemgetter(0), ctx.product_defs))
    if _all_in(ctx.product_refs, defined):
        return
    for pid, ptr in _each_ref(ctx.product_refs, lambda p: p not in defined):
        if pid not in defined:
            yield Deviation("6.1.1", ptr, f"product id '{pid}' is referenced but never defined "
                            "in /product_tree")


@mandatory("6.1.2", "Multiple Definition of Product ID")
def multiple_product_definition(ctx: Context) -> Dev:
    first: dict[str, str] = {}
    for pid, ptr in ctx.product_defs:
        if pid in first:
            yield Deviation("6.1.2", ptr, f"product id '{pid}' is already defined at {first[pid]}")
        else:
            first[pid] = ptr


@mandatory("6.1.3", "Circular Definition of Product ID")
def circular_product_definition(ctx: Context) -> Dev:
    # A relationship defines a new product from two others; following those references must
    # never lead back to the product being defined.
    edges: dict[str, set[str]] = defaultdict(set)
    where: dict[str, str] = {}
    for ptr, rel in ctx.relationships:
        pid = _str(_dict(rel.get("full_product_name")).get("product_id"))
        if pid is None:
            continue
        where.setdefault(pid, join(ptr, "full_product_name", "product_id"))
        for key in ("product_reference", "relates_to_product_reference"):
            if isinstance(rel.get(key), str):
                edges[pid].add(rel[key])
    for start in sorted(edges):
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            node = todo.pop()
            if node == start:
                yield Deviation("6.1.3", where[start], f"product id '{start}' is defined in "
                                "terms of itself through relationships")
                break
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, ()))


@mandatory("6.1.4", "Missing Definition of Product Group ID")
def missing_group_definition(ctx: Context) -> Dev:
    defined = {gid for gid, _, _ in ctx.group_defs}
    if _all_in(ctx.group_refs, defined):
        return
    for gid, ptr in _each_ref(ctx.group_refs, lambda g: g not in defined):
        if gid not in defined:
            yield Deviation("6.1.4", ptr, f"group id '{gid}' is referenced but never defined in "
                            "/product_tree/product_groups")


@mandatory("6.1.5", "Multiple Definition of Product Group ID")
def multiple_group_definition(ctx: Context) -> Dev:
    first: dict[str, str] = {}
    for gid, ptr, _ in ctx.group_defs:
        if gid in first:
            yield Deviation("6.1.5", ptr, f"group id '{gid}' is already defined at {first[gid]}")
        else:
            first[gid] = ptr


def _groups_disjoint(status: dict[str, Any]) -> bool:
    """Fast path of 6.1.6: the status groups share no product (C-level set operations)."""
    members: dict[str, set[Any]] = {}
    try:
        for key, ids in status.items():
            group = STATUS_GROUPS.get(key)
            if group is not None and type(ids) is list:
                members.setdefault(group, set()).update(ids)
    except TypeError:  # unhashable items in a malformed document: take the slow path
        return False
    sets = list(members.values())
    return len(sets) < 2 or len(set().union(*sets)) == sum(map(len, sets))


@mandatory("6.1.6", "Contradicting Product Status")
def contradicting_status(ctx: Context) -> Dev:
    for vptr, vuln in ctx.vulns:
        status = _dict(vuln.get("product_status"))
        if len(status) < 2 or _groups_disjoint(status):  # one group cannot contradict itself
            continue
        seen: dict[str, str] = {}
        for key, group in STATUS_GROUPS.items():
            if group is None:
                continue
            for i, pid in enumerate(_list(status.get(key))):
                if not isinstance(pid, str):
                    continue
                if pid in seen and seen[pid] != group:
                    yield Deviation("6.1.6", join(vptr, "product_status", key, i),
                                    f"product '{pid}' is both {seen[pid]} and {group}")
                seen.setdefault(pid, group)


def _scores_unique(vuln: dict[str, Any]) -> bool:
    """Fast path of 6.1.7: per CVSS version, no product is listed twice."""
    scores = vuln.get("scores")
    if type(scores) is list and len(scores) == 1 and type(scores[0]) is dict:
        # The usual case: one score with one CVSS object, so one version and one product list.
        score = scores[0]
        products = score.get("products")
        v2, v3 = score.get("cvss_v2"), score.get("cvss_v3")
        if type(products) is list and (type(v2) is dict) != (type(v3) is dict):
            # The version is a dict key below: an unhashable one fails here the same way.
            hash(_dict(v2 if type(v2) is dict else v3).get("version"))
            try:
                return len(set(products)) == len(products)
            except TypeError:
                return False
    by_version: dict[Any, list[Any]] = {}
    for score in _list(vuln.get("scores")):
        if type(score) is not dict or type(score.get("products")) is not list:
            continue
        for kind in ("cvss_v2", "cvss_v3"):
            obj = score.get(kind)
            if type(obj) is dict:
                by_version.setdefault(obj.get("version"), []).extend(score["products"])
    try:
        return all(len(set(ids)) == len(ids) for ids in by_version.values())
    except TypeError:
        return False


@mandatory("6.1.7", "Multiple Scores with same Version per Product")
def multiple_scores(ctx: Context) -> Dev:
    for vptr, vuln in ctx.vulns:
        if _scores_unique(vuln):
            continue
        seen: dict[tuple[str, str], tuple[int, int]] = {}
        for i, score in enumerate(_list(vuln.get("scores"))):
            score = _dict(score)
            for kind in ("cvss_v2", "cvss_v3"):
                version = _str(_dict(score.get(kind)).get("version"))
                if version is None:
                    continue
                for j, pid in enumerate(_list(score.get("products"))):
                    key = (str(pid), version)
                    if key in seen:
                        first = "{}/scores/{}/products/{}".format(vptr, *seen[key])
                        yield Deviation("6.1.7", f"{vptr}/scores/{i}/products/{j}",
                                        f"product '{pid}' already has a CVSS {version} score "
                                        f"at {first}")
                    else:
                        seen[key] = (i, j)


# ---- 6.1.8 - 6.1.10: CVSS -------------------------------------------------------------------


def _cvss_objects(ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, pointer, object) of every CVSS object; collected once per document."""
    found = ctx.memo.get("cvss")
    if found is None:
        found = ctx.memo["cvss"] = []
        for vptr, vuln in ctx.vulns:
            for i, score in enumerate(_list(vuln.get("scores"))):
                if type(score) is not dict:
                    continue
                for kind in ("cvss_v2", "cvss_v3"):
                    obj = score.get(kind)
                    if type(obj) is dict:
                        found.append((kind, f"{vptr}/scores/{i}/{kind}", obj))
    return found


def _all_cvss_findings(ctx: Context) -> list[tuple[str, tuple[tuple[str, str, str], ...]]]:
    """(pointer, findings) of every CVSS object with findings; shared by 6.1.9 and 6.1.10."""
    found = ctx.memo.get("cvss_findings")
    if found is None:
        found = ctx.memo["cvss_findings"] = []
        for kind, ptr, obj in _cvss_objects(ctx):
            findings = _cvss_findings(kind, obj)
            if findings:
                found.append((ptr, findings))
    return found


@mandatory("6.1.8", "Invalid CVSS")
def invalid_cvss(ctx: Context) -> Dev:
    schemas = compiled()
    if schemas is None:
        return  # the missing schema is already reported by schema validation
    # The CSAF schema embeds these same FIRST schemas: a schema-valid document can only fail
    # here by putting a v3 object under cvss_v2 or the reverse, checked first below.
    skip_schema = ctx.schema_valid
    for kind, ptr, obj in _cvss_objects(ctx):
        version = obj.get("version")
        allowed = ("2.0",) if kind == "cvss_v2" else ("3.0", "3.1")
        if version not in allowed:
            yield Deviation("6.1.8", join(ptr, "version"), f"{kind} must have version "
                            f"{' or '.join(allowed)}, found {version!r}")
            continue
        if skip_schema:
            continue
        for err in schemas.cvss[str(version)].iter_errors(obj):
            yield Deviation("6.1.8", join(ptr, *err.instance_path),
                            f"not valid against the FIRST CVSS {version} schema: "
                            f"{err.message[:200]}")


def _parsed_cvss(kind: str, obj: dict[str, Any]) -> cvsslib.Parsed | None:
    parsed = cvsslib.parse_vector(obj.get("vectorString"))
    if parsed is None:
        return None
    if (kind == "cvss_v2") != (parsed.version == "2.0"):
        return None
    return parsed


def _same(a: Any, b: float) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a - b) < 1e-6


def _compute_cvss_findings(kind: str, obj: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """(test id, property, message) for every 6.1.9 / 6.1.10 finding in one CVSS object."""
    parsed = _parsed_cvss(kind, obj)
    if parsed is None:
        return ()  # an unparseable vector is the schema's and 6.1.8's finding
    out = []
    if parsed.version == "2.0":
        scores = cvsslib.scores_v2(parsed)
        severities: dict[str, str] = {}
    else:
        scores = cvsslib.scores_v3(parsed)
        severities = {
            "baseSeverity": cvsslib.severity_v3(scores["baseScore"]),
            "temporalSeverity": cvsslib.severity_v3(scores["temporalScore"]),
            "environmentalSeverity": cvsslib.severity_v3(scores["environmentalScore"]),
        }
    for prop, expected in scores.items():
        if prop in obj and not _same(obj[prop], expected):
            out.append(("6.1.9", prop, f"{prop} is {obj[prop]!r} but the vector "
                        f"{parsed.version} computes to {expected}"))
    for prop, expected_sev in severities.items():
        if prop in obj and obj[prop] != expected_sev:
            out.append(("6.1.9", prop, f"{prop} is {obj[prop]!r} but the computed score "
                        f"gives {expected_sev}"))
    if kind == "cvss_v3" and obj.get("version") != parsed.version:
        out.append(("6.1.10", "version", f"version {obj.get('version')!r} but the vector is "
                    f"CVSS {parsed.version}"))
    for prop, implied in cvsslib.properties_of(parsed).items():
        if prop in obj and obj[prop] != implied:
            out.append(("6.1.10", prop, f"{prop} is {obj[prop]!r} but the vector says "
                        f"{implied}"))
    return tuple(out)


@lru_cache(maxsize=4096)
def _cached_cvss_findings(kind: str, items: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, str, str], ...]:
    return _compute_cvss_findings(kind, dict(items))


def _cvss_findings(kind: str, obj: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    # Advisories repeat the same CVSS objects (same vector, same scores) many times over:
    # check each distinct object once per process.
    try:
        return _cached_cvss_findings(kind, tuple(obj.items()))
    except TypeError:  # an unhashable value in a malformed object
        return _compute_cvss_findings(kind, obj)


@mandatory("6.1.9", "Invalid CVSS computation")
def invalid_cvss_computation(ctx: Context) -> Dev:
    for ptr, findings in _all_cvss_findings(ctx):
        for test_id, prop, message in findings:
            if test_id == "6.1.9":
                yield Deviation("6.1.9", join(ptr, prop), message)


@mandatory("6.1.10", "Inconsistent CVSS")
def inconsistent_cvss(ctx: Context) -> Dev:
    for ptr, findings in _all_cvss_findings(ctx):
        for test_id, prop, message in findings:
            if test_id == "6.1.10":
                yield Deviation("6.1.10", join(ptr, prop), message)


# ---- 6.1.11 - 6.1.13: identifiers -----------------------------------------------------------


@mandatory("6.1.11", "CWE")
def cwe(ctx: Context) -> Dev:
    for vptr, vuln in ctx.vulns:
        item = vuln.get("cwe")
        if not isinstance(item, dict):
            continue
        cid, name = _str(item.get("id")), _str(item.get("name"))
        if cid is None or name is None:
            continue
        try:
            problem = cwe_problem(cid, name)
        except LookupError as exc:
            yield Deviation("6.1.11", join(vptr, "cwe"), f"not checked: {exc}")
            continue
        if problem:
            yield Deviation("6.1.11", join(vptr, "cwe"), problem)


@mandatory("6.1.12", "Language")
def language(ctx: Context) -> Dev:
    for key in ("lang", "source_lang"):
        tag = _str(ctx.document.get(key))
        if tag is None:
            continue
        try:
            problem = language_tag_problem(tag)
        except LookupError as exc:
            yield Deviation("6.1.12", pointer("document", key), f"not checked: {exc}")
            continue
        if problem:
            yield Deviation("6.1.12", pointer("document", key), f"'{tag}': {problem}")


@mandatory("6.1.13", "PURL")
def purl(ctx: Context) -> Dev:
    for ptr, helper in ctx.helpers:
        value = _str(helper.get("purl"))
        if value is not None:
            problem = purl_problem(value)
            if problem:
                yield Deviation("6.1.13", join(ptr, "purl"),
                                f"'{value}' is not a valid package URL: {problem}")


# ---- 6.1.14 - 6.1.22, 6.1.30: versions and revision history ---------------------------------


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return _parse_date(value)


@lru_cache(maxsize=8192)
def _parse_date(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class _Rev:
    index: int
    date: datetime | None
    number: Version | None
    raw: Any


def _history(ctx: Context) -> list[_Rev]:
    found = ctx.memo.get("history")
    if found is None:
        found = ctx.memo["history"] = _read_history(ctx)
    return found


def _read_history(ctx: Context) -> list[_Rev]:
    return [
        _Rev(i, _date(_dict(item).get("date")), parse_version(_dict(item).get("number")),
             _dict(item).get("number"))
        for i, item in enumerate(_list(ctx.tracking.get("revision_history")))
    ]


def _rev_ptr(rev: _Rev) -> str:
    return pointer("document", "tracking", "revision_history", rev.index, "number")


def _one_scheme(revs: list[_Rev]) -> bool:
    schemes = {r.number.scheme for r in revs if r.number is not None}
    return len(schemes) == 1 and all(r.number is not None for r in revs)


def _by_date(revs: list[_Rev]) -> list[_Rev] | None:
    if any(r.date is None for r in revs):
        return None
    # Items with the same timestamp are ordered by their number (the OASIS examples 6.1.14-12
    # and 6.1.16-16 list two same-day revisions in descending order and are valid).
    return sorted(revs, key=lambda r: (r.date, r.number.key() if r.number else ()))


def _history_by_date(ctx: Context) -> list[_Rev] | None:
    """:func:`_by_date` of the document's revision history, sorted once per document."""
    if "history_by_date" not in ctx.memo:
        ctx.memo["history_by_date"] = _by_date(_history(ctx))
    return ctx.memo["history_by_date"]


@mandatory("6.1.14", "Sorted Revision History")
def sorted_revision_history(ctx: Context) -> Dev:
    revs = _history(ctx)
    ordered = _history_by_date(ctx)
    if ordered is None or not _one_scheme(revs):
        return
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        assert prev.number is not None and cur.number is not None
        if cur.number.key() < prev.number.key():
            yield Deviation("6.1.14", _rev_ptr(cur), f"revision {cur.raw} is dated after "
                            f"revision {prev.raw} but numbered lower")


@mandatory("6.1.15", "Translator")
def translator(ctx: Context) -> Dev:
    if _dict(ctx.document.get("publisher")).get("category") == "translator" and \
            "source_lang" not in ctx.document:
        yield Deviation("6.1.15", pointer("document", "source_lang"), "the publisher is a "
                        "translator, so the language translated from must be given")


def _version(ctx: Context) -> Version | None:
    return parse_version(ctx.tracking.get("version"))


@mandatory("6.1.16", "Latest Document Version")
def latest_document_version(ctx: Context) -> Dev:
    version = _version(ctx)
    ordered = _history_by_date(ctx)
    if version is None or not ordered or ordered[-1].number is None:
        return
    last = ordered[-1].number
    draft = ctx.tracking.get("status") == "draft"
    if draft:
        mine, theirs = version.without_pre_and_build(), last.without_pre_and_build()
    else:
        mine, theirs = version.without_build(), last.without_build()
    if mine != theirs:
        yield Deviation("6.1.16", pointer("document", "tracking", "version"), f"version "
                        f"{version.text} differs from the latest revision history entry "
                        f"{last.text}")


@mandatory("6.1.17", "Document Status Draft")
def document_status_draft(ctx: Context) -> Dev:
    version = _version(ctx)
    if version is None or ctx.tracking.get("status") == "draft":
        return
    if version.is_zero or version.pre is not None:
        yield Deviation("6.1.17", pointer("document", "tracking", "status"), f"version "
                        f"{version.text} is a pre-release, so the status must be draft, "
                        f"not {ctx.tracking.get('status')!r}")


@mandatory("6.1.18", "Released Revision History")
def released_revision_history(ctx: Context) -> Dev:
    if ctx.tracking.get("status") not in ("final", "interim"):
        return
    for rev in _history(ctx):
        if rev.number is not None and rev.number.is_zero:
            yield Deviation("6.1.18", _rev_ptr(rev), f"a {ctx.tracking.get('status')} document "
                            f"must not list pre-release revision {rev.raw} in its history")


@mandatory("6.1.19", "Revision History Entries for Pre-release Versions")
def prerelease_history(ctx: Context) -> Dev:
    for rev in _history(ctx):
        if rev.number is not None and rev.number.pre is not None:
            yield Deviation("6.1.19", _rev_ptr(rev), f"revision {rev.raw} has a pre-release "
                            "part; the history lists released revisions only")


@mandatory("6.1.20", "Non-draft Document Version")
def non_draft_version(ctx: Context) -> Dev:
    version = _version(ctx)
    status = ctx.tracking.get("status")
    if version is not None and status in ("final", "interim") and version.pre is not None:
        yield Deviation("6.1.20", pointer("document", "tracking", "version"), f"a {status} "
                        f"document must not have the pre-release version {version.text}")


@mandatory("6.1.21", "Missing Item in Revision History")
def missing_revision(ctx: Context) -> Dev:
    revs = _history(ctx)
    if not revs or not _one_scheme(revs):
        return
    ordered = sorted(revs, key=lambda r: r.number.key())  # type: ignore[union-attr]
    first = ordered[0]
    assert first.number is not None
    if first.number.major not in (0, 1):
        yield Deviation("6.1.21", _rev_ptr(first), f"the earliest revision is {first.raw}; it "
                        "must be 0 or 1 (major version 0 or 1 for semantic versioning)")
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        assert prev.number is not None and cur.number is not None
        if cur.number.major - prev.number.major > 1:
            yield Deviation("6.1.21", _rev_ptr(cur), f"revision history jumps from {prev.raw} "
                            f"to {cur.raw}: the versions between are missing")


@mandatory("6.1.22", "Multiple Definition in Revision History")
def duplicate_revision(ctx: Context) -> Dev:
    first: dict[str, int] = {}
    for rev in _history(ctx):
        if not isinstance(rev.raw, str):
            continue
        if rev.raw in first:
            yield Deviation("6.1.22", _rev_ptr(rev), f"revision {rev.raw} already appears at "
                            f"index {first[rev.raw]}")
        else:
            first[rev.raw] = rev.index


@mandatory("6.1.30", "Mixed Integer and Semantic Versioning")
def mixed_versioning(ctx: Context) -> Dev:
    version = _version(ctx)
    if version is None:
        return
    for rev in _history(ctx):
        if rev.number is not None and rev.number.scheme != version.scheme:
            yield Deviation("6.1.30", _rev_ptr(rev), f"revision {rev.raw} uses "
                            f"{rev.number.scheme} versioning but the document version "
                            f"{version.text} uses {version.scheme}")


# ---- 6.1.23 - 6.1.26: uniqueness and category ---------------------------------------------


@mandatory("6.1.23", "Multiple Use of Same CVE")
def duplicate_cve(ctx: Context) -> Dev:
    first: dict[str, str] = {}
    for vptr, vuln in ctx.vulns:
        cve = _str(vuln.get("cve"))
        if cve is None:
            continue
        if cve in first:
            yield Deviation("6.1.23", join(vptr, "cve"), f"{cve} is already described at "
                            f"{first[cve]}")
        else:
            first[cve] = vptr


@mandatory("6.1.24", "Multiple Definition in Involvements")
def duplicate_involvement(ctx: Context) -> Dev:
    for vptr, vuln in ctx.vulns:
        seen: set[tuple[Any, Any]] = set()
        for i, inv in enumerate(_list(vuln.get("involvements"))):
            inv = _dict(inv)
            date = _date(inv.get("date"))
            key = (inv.get("party"), date if date is not None else inv.get("date"))
            if key in seen:
                yield Deviation("6.1.24", join(vptr, "involvements", i), f"party "
                                f"{inv.get('party')!r} already has an involvement dated "
                                f"{inv.get('date')}")
            seen.add(key)


@mandatory("6.1.25", "Multiple Use of Same Hash Algorithm")
def duplicate_hash_algorithm(ctx: Context) -> Dev:
    for ptr, helper in ctx.helpers:
        for i, entry in enumerate(_list(helper.get("hashes"))):
            seen: set[str] = set()
            for j, fh in enumerate(_list(_dict(entry).get("file_hashes"))):
                algo = _str(_dict(fh).get("algorithm"))
                if algo is None:
                    continue
                if algo in seen:
                    yield Deviation("6.1.25", join(ptr, "hashes", i, "file_hashes", j,
                                                   "algorithm"),
                                    f"hash algorithm '{algo}' is used twice for the same file")
                seen.add(algo)


# Profile names and values (CSAF 2.0 section 4), compared with dashes, underscores and
# white space removed and case folded.
PROFILES = {
    "csaf_base": "CSAF Base",
    "csaf_security_incident_response": "Security incident response",
    "csaf_informational_advisory": "Informational Advisory",
    "csaf_security_advisory": "Security Advisory",
    "csaf_vex": "VEX",
}
_SQUASH = re.compile(r"[\s_\-\u2010-\u2015\u2212]+")


def _squash(text: str) -> str:
    return _SQUASH.sub("", text).casefold()


_RESERVED = {
    _squash(form)
    for value, name in PROFILES.items() if value != "csaf_base"
    for form in (value, value.removeprefix("csaf_"), name)
}


@mandatory("6.1.26", "Prohibited Document Category Name")
def prohibited_category(ctx: Context) -> Dev:
    category = ctx.category
    if category is None or category in PROFILES:
        return
    ptr = pointer("document", "category")
    if category.casefold().startswith("csaf_"):
        yield Deviation("6.1.26", ptr, f"'{category}' uses the reserved prefix csaf_ but is "
                        "not one of the CSAF profiles")
    elif _squash(category) in _RESERVED:
        yield Deviation("6.1.26", ptr, f"'{category}' is too close to the name of a CSAF "
                        "profile; use the profile's value or a clearly different category")


# ---- 6.1.27.x: profile tests ----------------------------------------------------------------

_TEXT_PROFILES = ("csaf_informational_advisory", "csaf_security_incident_response")
_VULN_PROFILES = ("csaf_security_advisory", "csaf_vex")


@mandatory("6.1.27.1", "Document Notes")
def profile_document_notes(ctx: Context) -> Dev:
    if ctx.category not in _TEXT_PROFILES:
        return
    wanted = {"description", "details", "general", "summary"}
    if not any(_dict(n).get("category") in wanted for n in _list(ctx.document.get("notes"))):
        yield Deviation("6.1.27.1", pointer("document", "notes"), f"a {ctx.category} document "
                        "needs a note of category description, details, general or summary")


@mandatory("6.1.27.2", "Document References")
def profile_document_references(ctx: Context) -> Dev:
    if ctx.category not in _TEXT_PROFILES:
        return
    if not any(_dict(r).get("category") == "external"
               for r in _list(ctx.document.get("references"))):
        yield Deviation("6.1.27.2", pointer("document", "references"), f"a {ctx.category} "
                        "document needs at least one reference of category external")


@mandatory("6.1.27.3", "Vulnerabilities")
def profile_no_vulnerabilities(ctx: Context) -> Dev:
    if ctx.category == "csaf_informational_advisory" and "vulnerabilities" in ctx.doc:
        yield Deviation("6.1.27.3", pointer("vulnerabilities"), "an informational advisory "
                        "must not contain vulnerabilities; use csaf_security_advisory")


@mandatory("6.1.27.4", "Product Tree")
def profile_product_tree(ctx: Context) -> Dev:
    if ctx.category in _VULN_PROFILES and "product_tree" not in ctx.doc:
        yield Deviation("6.1.27.4", pointer("product_tree"), f"a {ctx.category} document "
                        "must have a product tree")


@mandatory("6.1.27.5", "Vulnerability Notes")
def profile_vulnerability_notes(ctx: Context) -> Dev:
    if ctx.category not in _VULN_PROFILES:
        return
    for vptr, vuln in ctx.vulns:
        if "notes" not in vuln:
            yield Deviation("6.1.27.5", join(vptr, "notes"), f"each vulnerability of a "
                            f"{ctx.category} document needs notes")


@mandatory("6.1.27.6", "Product Status")
def profile_product_status(ctx: Context) -> Dev:
    if ctx.category != "csaf_security_advisory":
        return
    for vptr, vuln in ctx.vulns:
        if "product_status" not in vuln:
            yield Deviation("6.1.27.6", join(vptr, "product_status"), "each vulnerability of "
                            "a security advisory needs a product status")


@mandatory("6.1.27.7", "VEX Product Status")
def profile_vex_status(ctx: Context) -> Dev:
    if ctx.category != "csaf_vex":
        return
    wanted = ("fixed", "known_affected", "known_not_affected", "under_investigation")
    for vptr, vuln in ctx.vulns:
        status = _dict(vuln.get("product_status"))
        if not any(k in status for k in wanted):
            yield Deviation("6.1.27.7", join(vptr, "product_status"), "a VEX vulnerability "
                            "needs at least one of fixed, known_affected, known_not_affected, "
                            "under_investigation")


@mandatory("6.1.27.8", "Vulnerability ID")
def profile_vex_id(ctx: Context) -> Dev:
    if ctx.category != "csaf_vex":
        return
    for vptr, vuln in ctx.vulns:
        if "cve" not in vuln and "ids" not in vuln:
            yield Deviation("6.1.27.8", vptr, "a VEX vulnerability needs a cve or ids")


def _covered(items: list[Any], groups: dict[str, list[str]],
             keep: Callable[[dict[str, Any]], bool] = lambda _: True) -> set[str]:
    out: set[str] = set()
    for item in items:
        item = _dict(item)
        if not keep(item):
            continue
        out.update(p for p in _list(item.get("product_ids")) if isinstance(p, str))
        for gid in _list(item.get("group_ids")):
            out.update(groups.get(gid, ()) if isinstance(gid, str) else ())
    return out


@mandatory("6.1.27.9", "Impact Statement")
def profile_vex_impact(ctx: Context) -> Dev:
    if ctx.category != "csaf_vex":
        return
    groups = ctx.groups()
    for vptr, vuln in ctx.vulns:
        status = _dict(vuln.get("product_status"))
        covered = _covered(_list(vuln.get("flags")), groups) | _covered(
            _list(vuln.get("threats")), groups, lambda t: t.get("category") == "impact")
        for i, pid in enumerate(_list(status.get("known_not_affected"))):
            if isinstance(pid, str) and pid not in covered:
                yield Deviation("6.1.27.9", join(vptr, "product_status", "known_not_affected", i),
                                f"product '{pid}' is known not affected but no flag or impact "
                                "threat says why")


@mandatory("6.1.27.10", "Action Statement")
def profile_vex_action(ctx: Context) -> Dev:
    if ctx.category != "csaf_vex":
        return
    groups = ctx.groups()
    for vptr, vuln in ctx.vulns:
        status = _dict(vuln.get("product_status"))
        covered = _covered(_list(vuln.get("remediations")), groups)
        for i, pid in enumerate(_list(status.get("known_affected"))):
            if isinstance(pid, str) and pid not in covered:
                yield Deviation("6.1.27.10", join(vptr, "product_status", "known_affected", i),
                                f"product '{pid}' is known affected but no remediation says "
                                "what to do")


@mandatory("6.1.27.11", "Vulnerabilities")
def profile_needs_vulnerabilities(ctx: Context) -> Dev:
    if ctx.category in _VULN_PROFILES and "vulnerabilities" not in ctx.doc:
        yield Deviation("6.1.27.11", pointer("vulnerabilities"), f"a {ctx.category} document "
                        "must have vulnerabilities")


# ---- 6.1.28 - 6.1.33 ------------------------------------------------------------------------


@mandatory("6.1.28", "Translation")
def translation(ctx: Context) -> Dev:
    lang, source = _str(ctx.document.get("lang")), _str(ctx.document.get("source_lang"))
    if lang is not None and source is not None and lang.casefold() == source.casefold():
        yield Deviation("6.1.28", pointer("document", "source_lang"), f"source_lang equals "
                        f"lang ('{lang}'): a translation must change the language")


@mandatory("6.1.29", "Remediation without Product Reference")
def remediation_without_product(ctx: Context) -> Dev:
    for vptr, vuln in ctx.vulns:
        for i, rem in enumerate(_list(vuln.get("remediations"))):
            if isinstance(rem, dict) and "product_ids" not in rem and "group_ids" not in rem:
                yield Deviation("6.1.29", join(vptr, "remediations", i), "remediation names no "
                                "product_ids or group_ids, so it applies to nothing")


# 6.1.31: operators (< and >) anywhere in the name, keywords only as whole words (the OASIS
# valid example "after-eight" shows that substrings of tokens do not count; csaf#825).
_RANGE_WORDS = frozenset({"after", "all", "before", "earlier", "later", "prior", "versions"})


@mandatory("6.1.31", "Version Range in Product Version")
def version_range_in_version(ctx: Context) -> Dev:
    for ptr, branch in ctx.branches:
        if branch.get("category") != "product_version":
            continue
        name = _str(branch.get("name"))
        if name is None:
            continue
        low = name.lower()
        # A vers string ("vers:all/*", CISA's "vers:all/<V7.0.3") is a range by definition.
        if (low.startswith("vers:") or "<" in low or ">" in low
                or _RANGE_WORDS.intersection(low.split())):
            yield Deviation("6.1.31", join(ptr, "name"), f"'{name}' looks like a version range; "
                            "use a product_version_range branch (vers or vls) instead")


@mandatory("6.1.32", "Flag without Product Reference")
def flag_without_product(ctx: Context) -> Dev:
    for vptr, vuln in ctx.vulns:
        for i, flag in enumerate(_list(vuln.get("flags"))):
            if isinstance(flag, dict) and "product_ids" not in flag and "group_ids" not in flag:
                yield Deviation("6.1.32", join(vptr, "flags", i), "flag names no product_ids "
                                "or group_ids, so it applies to nothing")


@mandatory("6.1.33", "Multiple Flags with VEX Justification Codes per Product")
def multiple_flags(ctx: Context) -> Dev:
    groups: dict[str, list[str]] | None = None  # built at the first flag (most documents have none)
    for vptr, vuln in ctx.vulns:
        seen: dict[str, int] = {}
        for i, flag in enumerate(_list(vuln.get("flags"))):
            if groups is None:
                groups = ctx.groups()
            members = _covered([flag], groups)
            for pid in sorted(members):
                if pid in seen and seen[pid] != i:
                    yield Deviation("6.1.33", join(vptr, "flags", i), f"product '{pid}' already "
                                    f"has a VEX justification flag at index {seen[pid]}")
                seen.setdefault(pid, i)


def implemented_test_ids() -> list[str]:
    """Clause ids of the registered tests, in clause order."""
    return sorted(MANDATORY_TESTS, key=lambda t: tuple(int(p) for p in t.split(".")))


__all__ = [
    "MANDATORY_TESTS",
    "Context",
    "MandatoryTest",
    "build_context",
    "implemented_test_ids",
    "run_mandatory_tests",
]
