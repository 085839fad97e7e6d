"""The single-pass :class:`Context` every mandatory test reads, and the typed accessors.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from zonewarden.io.csaf.model import Deviation

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
