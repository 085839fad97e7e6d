"""Checks of identifiers used in CSAF: language tags (6.1.12), purls (6.1.13), CWEs (6.1.11)
and version numbers (6.1.14-6.1.22, 6.1.30).

The IANA language subtag registry and the MITRE CWE catalogue come from the pinned ``csaf``
package (which ships them with their licences); when it is missing the checks that need them
report that they could not run instead of passing silently.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson


def _package_file(*parts: str) -> Path | None:
    spec = importlib.util.find_spec("csaf")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    return path if path.is_file() else None


# ---- language tags (RFC 5646) -------------------------------------------------------------


@cache
def language_registry() -> dict[str, Any] | None:
    """The IANA subtag registry as shipped by the ``csaf`` package (lower-case keys)."""
    path = _package_file("bcp47", "registry.json")
    return orjson.loads(path.read_bytes()) if path else None


_ALNUM = re.compile(r"^[a-z0-9]+$")


def _in_range(registry: dict[str, Any], kind: str, subtag: str) -> bool:
    for low, high in registry.get("ranges", {}).get(kind, ()):
        if len(subtag) == len(low) and low <= subtag <= high:
            return True
    return False


def _known(registry: dict[str, Any], kind: str, subtag: str) -> bool:
    return subtag in registry.get(kind, {}) or _in_range(registry, kind, subtag)


@lru_cache(maxsize=1024)
def language_tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a valid, registered BCP 47 language tag; ``None`` when it is.

    Raises ``LookupError`` when the registry is not available.
    """
    registry = language_registry()
    if registry is None:
        raise LookupError("IANA language subtag registry not available (install 'csaf')")
    low = tag.lower()  # subtags are case-insensitive (RFC 5646 section 2.1.1)
    if low in registry.get("grandfathered", {}) or low in registry.get("redundant", {}):
        return None
    subtags = low.split("-")
    if any(not s or not _ALNUM.match(s) or len(s) > 8 for s in subtags):
        return "not a well-formed language tag"
    if subtags[0] == "x":
        return None if len(subtags) > 1 else "private-use prefix 'x' without a subtag"
    i = 0
    lang = subtags[0]
    if not lang.isalpha() or not (2 <= len(lang) <= 3 or 5 <= len(lang) <= 8):
        return f"'{lang}' is not a language subtag"
    if not _known(registry, "language", lang):
        return f"language subtag '{lang}' is not in the IANA registry"
    i = 1
    n_ext = 0
    while i < len(subtags) and len(subtags[i]) == 3 and subtags[i].isalpha() and n_ext < 3:
        if subtags[i] not in registry.get("extlang", {}):
            return f"extended language subtag '{subtags[i]}' is not in the IANA registry"
        i += 1
        n_ext += 1
    if i < len(subtags) and len(subtags[i]) == 4 and subtags[i].isalpha():
        if not _known(registry, "script", subtags[i]):
            return f"script subtag '{subtags[i]}' is not in the IANA registry"
        i += 1
    if i < len(subtags) and (
        (len(subtags[i]) == 2 and subtags[i].isalpha())
        or (len(subtags[i]) == 3 and subtags[i].isdigit())
    ):
        if not _known(registry, "region", subtags[i]):
            return f"region subtag '{subtags[i]}' is not in the IANA registry"
        i += 1
    while i < len(subtags) and (
        5 <= len(subtags[i]) <= 8 or (len(subtags[i]) == 4 and subtags[i][0].isdigit())
    ):
        if subtags[i] not in registry.get("variant", {}):
            return f"variant subtag '{subtags[i]}' is not in the IANA registry"
        i += 1
    seen_singletons = set()
    while i < len(subtags) and len(subtags[i]) == 1 and subtags[i] != "x":
        singleton = subtags[i]
        if singleton in seen_singletons:
            return f"extension '{singleton}' appears twice"
        seen_singletons.add(singleton)
        i += 1
        start = i
        while i < len(subtags) and 2 <= len(subtags[i]) <= 8:
            i += 1
        if i == start:
            return f"extension '{singleton}' has no subtags"
    if i < len(subtags) and subtags[i] == "x":
        if i + 1 >= len(subtags):
            return "private-use prefix 'x' without a subtag"
        return None
    if i < len(subtags):
        return f"unexpected subtag '{subtags[i]}'"
    return None


# ---- package URLs -------------------------------------------------------------------------

_PURL_TYPE = re.compile(r"^[A-Za-z.+-][A-Za-z0-9.+-]*$")
_QUALIFIER_KEY = re.compile(r"^[A-Za-z.\-_][A-Za-z0-9.\-_]*$")


def purl_problem(purl: str) -> str | None:
    """Why ``purl`` is not a valid package URL (purl-spec); ``None`` when it is."""
    scheme, sep, rest = purl.partition(":")
    if not sep or scheme.lower() != "pkg":
        return "does not start with the scheme 'pkg:'"
    rest = rest.lstrip("/")
    rest, _, subpath = rest.partition("#")
    rest, has_q, qualifiers = rest.partition("?")
    if subpath and any(s in (".", "..") for s in subpath.strip("/").split("/")):
        return "subpath contains '.' or '..' segments"
    if has_q:
        keys = set()
        for pair in qualifiers.split("&"):
            key, eq, value = pair.partition("=")
            if not eq or not value:
                return f"qualifier '{pair}' has no value"
            if not _QUALIFIER_KEY.match(key):
                return f"qualifier key '{key}' is not valid"
            if key.lower() in keys:
                return f"qualifier key '{key}' appears twice"
            keys.add(key.lower())
    ptype, slash, path = rest.partition("/")
    if not slash or not ptype:
        return "has no type"
    if not _PURL_TYPE.match(ptype):
        return f"type '{ptype}' is not valid"
    path = path.strip("/")
    if "@" in path.rsplit("/", 1)[-1]:
        path, _, version = path.rpartition("@")
        if not unquote(version):
            return "has an '@' but no version"
    segments = path.split("/")
    name = unquote(segments[-1])
    if not name:
        return "has no name"
    if any(not unquote(s) for s in segments[:-1]):
        return "has an empty namespace segment"
    return None


# ---- CWE ----------------------------------------------------------------------------------


@cache
def cwe_catalog() -> dict[str, Any] | None:
    """CWE id (number as string) -> entry with every name it has had, from the ``csaf`` package."""
    path = _package_file("csaf", "v21", "cwe", "catalog.json")
    if path is None:
        return None
    data = orjson.loads(path.read_bytes())
    weaknesses = data.get("weaknesses")
    return weaknesses if isinstance(weaknesses, dict) else None


@lru_cache(maxsize=4096)
def cwe_problem(cwe_id: str, name: str) -> str | None:
    """Why the (id, name) pair is not a CWE from the catalogue; ``None`` when it is.

    CSAF 2.0 does not pin a CWE version, so a name is accepted when it matches the name the
    weakness had in any published CWE version (advisories keep the name they were written with).
    Raises ``LookupError`` when the catalogue is not available.
    """
    catalog = cwe_catalog()
    if catalog is None:
        raise LookupError("CWE catalogue not available (install 'csaf')")
    number = cwe_id[4:] if cwe_id.startswith("CWE-") else None
    entry = catalog.get(number) if number else None
    if entry is None:
        return f"{cwe_id} is not a weakness in the CWE catalogue"
    names = [n for _, n in entry.get("history", ())]
    if name not in names:
        return f"name '{name}' does not match {cwe_id} ('{names[-1]}')" if names else None
    return None


# ---- version numbers (CSAF 2.0 section 3.1.11.5: integer or semantic versioning) ----------

_INTVER = re.compile(r"^(0|[1-9][0-9]*)$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class Version:
    """A CSAF document version: integer (``"3"``) or semantic (``"1.2.0-rc.1+b5"``)."""

    __slots__ = ("text", "scheme", "major", "minor", "patch", "pre", "build")

    def __init__(self, text: str) -> None:
        self.text = text
        self.minor = self.patch = 0
        self.pre: str | None = None
        self.build: str | None = None
        if _INTVER.match(text):
            self.scheme = "int"
            self.major = int(text)
            return
        m = _SEMVER.match(text)
        if m is None:
            raise ValueError(f"'{text}' is neither integer nor semantic versioning")
        self.scheme = "semver"
        self.major, self.minor, self.patch = int(m[1]), int(m[2]), int(m[3])
        self.pre, self.build = m[4], m[5]

    @property
    def is_zero(self) -> bool:
        """Version 0 or 0.y.z: not yet released."""
        return self.major == 0

    def key(self) -> tuple[Any, ...]:
        """Precedence order (semver section 11: build ignored, pre-release sorts first)."""
        if self.pre is None:
            pre_key: tuple[Any, ...] = ((1,),)
        else:
            pre_key = ((0,), *(
                (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre.split(".")
            ))
        return (self.major, self.minor, self.patch, pre_key)

    def without_build(self) -> str:
        return self.text.split("+", 1)[0]

    def without_pre_and_build(self) -> str:
        return self.without_build().split("-", 1)[0]


def parse_version(text: Any) -> Version | None:
    """A :class:`Version`, or ``None`` when ``text`` follows neither scheme."""
    if not isinstance(text, str):
        return None
    return _parse_version(text)


@lru_cache(maxsize=4096)
def _parse_version(text: str) -> Version | None:
    # Cached: revision numbers repeat across advisories ("1", "2", "1.0.0"); a Version is
    # never mutated after construction.
    try:
        return Version(text)
    except ValueError:
        return None
