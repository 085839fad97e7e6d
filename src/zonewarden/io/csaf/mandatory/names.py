"""Mandatory tests 6.1.11 - 6.1.13: CWE, language and PURL identifiers.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from zonewarden.io.csaf.identifiers import (
    cwe_problem,
    language_tag_problem,
    purl_problem,
)
from zonewarden.io.csaf.mandatory.context import Context, Dev, _str
from zonewarden.io.csaf.mandatory.registry import mandatory
from zonewarden.io.csaf.model import Deviation, join, pointer

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
