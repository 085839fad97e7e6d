"""Mandatory tests 6.1.28 - 6.1.33: translation, product references of remediations and
flags, version ranges, VEX flags.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from zonewarden.io.csaf.mandatory.context import Context, Dev, _list, _str
from zonewarden.io.csaf.mandatory.profiles import _covered
from zonewarden.io.csaf.mandatory.registry import mandatory
from zonewarden.io.csaf.model import Deviation, join, pointer

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
