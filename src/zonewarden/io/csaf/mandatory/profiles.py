"""Mandatory tests 6.1.27.x: the profile tests.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zonewarden.io.csaf.mandatory.context import Context, Dev, _dict, _list
from zonewarden.io.csaf.mandatory.registry import mandatory
from zonewarden.io.csaf.model import Deviation, join, pointer

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
