"""Mandatory tests 6.1.1 - 6.1.7: product and group ids, product status, scores.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from collections import defaultdict
from operator import itemgetter
from typing import Any

from zonewarden.io.csaf.mandatory.context import (
    STATUS_GROUPS,
    Context,
    Dev,
    _all_in,
    _dict,
    _each_ref,
    _list,
    _str,
)
from zonewarden.io.csaf.mandatory.registry import mandatory
from zonewarden.io.csaf.model import Deviation, join

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
