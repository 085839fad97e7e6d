"""Mandatory tests 6.1.23 - 6.1.26: uniqueness and the document category.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

import re
from typing import Any

from zonewarden.io.csaf.mandatory.context import Context, Dev, _dict, _list, _str
from zonewarden.io.csaf.mandatory.registry import mandatory
from zonewarden.io.csaf.mandatory.revisions import _date
from zonewarden.io.csaf.model import Deviation, join, pointer

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
