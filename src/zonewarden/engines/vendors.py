"""The vendor registry: who is who among the vendor names of advisories and inventories.

An inventory keeps the name on the nameplate (``Foxboro``, ``Westinghouse``, ``Allen-Bradley``,
``Wonderware``); an advisory names whoever owned the product when it was written (``Schneider
Electric``, ``Emerson``, ``Rockwell Automation``, ``AVEVA``). The registry
(``engines/data/vendors.json``, package data) groups these names under one canonical key per
vendor. Each entry has:

* ``note``: why the names are grouped (public facts: acquisitions, renames), so a reviewer can
  check an entry without guessing;
* ``aliases``: other spellings and bought brands whose products the vendor now publishes;
* ``divisions``: business units that sign advisories under their own name;
* ``lineage``: other entries that published advisories for the *same products* before or after
  a sale (Schneider Electric and AVEVA, OSIsoft and AVEVA, ABB and Hitachi Energy). An asset of
  one is also compared with the products of the other: an inventory saying ``Schneider
  Electric`` for InTouch must meet the AVEVA advisory, and ``Wonderware`` the 2017 Schneider one.

Names are compared after normalisation: lower case, accents removed (CISA's mojibake
``GeutebrÃ¼ck`` repaired), punctuation to spaces, the registry's legal-form words (``Inc``,
``GmbH``, ``Kabushiki Kaisha``...) dropped. Unknown vendors keep their normalised name as key.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from zonewarden.errors import InputError, Problem

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PARENS = re.compile(r"\(([^()]*)\)")
_VENDOR_NOISE = re.compile(r"\b(?:a|an)\s+(?:subsidiary|affiliate|division|brand)\s+of\b|\bformerly\b", re.I)


_GENERIC = frozenset(
    "electric electrical electronics automation systems system control controls process industrial industries "
    "industry international solutions software technologies technology group networks network energy power "
    "management digital smart infrastructure open intelligent platforms grid security healthcare gas fire "
    "components instruments engineering laboratories services products medical building buildings".split()
)
"""Words of vendor names that are ordinary words in product names too (``Process Control``)."""


def fold(text: str) -> str:
    """Lower case without accents; repairs UTF-8 read as Latin-1 (CISA's ``GeutebrÃ¼ck``)."""
    if text.isascii():
        return text.lower()  # nothing to repair or strip (nearly every name)
    if "Ã" in text or "Â" in text:
        try:
            text = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@dataclass(frozen=True, slots=True)
class VendorEntry:
    key: str
    note: str
    aliases: tuple[str, ...]
    divisions: tuple[str, ...]
    lineage: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Registry:
    legal_forms: frozenset[str]
    entries: dict[str, VendorEntry]
    spellings: dict[str, str]
    """Normalised spelling -> canonical key."""


def _words(text: str, legal: frozenset[str]) -> str:
    return " ".join(w for w in _NON_ALNUM.sub(" ", fold(text)).split() if w not in legal)


def parse_registry(raw: Any, source: str = "vendors.json") -> Registry:
    """Check and load a registry document; every problem is reported with its JSON pointer."""
    problems: list[Problem] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("vendors"), dict):
        raise InputError(f"{source}: not a vendor registry", [Problem("needs an object with 'vendors'", ("vendors",))])
    legal_raw = raw.get("legal_forms", [])
    if not isinstance(legal_raw, list) or not all(isinstance(w, str) for w in legal_raw):
        problems.append(Problem("legal_forms must be a list of words", ("legal_forms",)))
        legal_raw = []
    legal = frozenset(w.lower() for w in legal_raw)
    entries: dict[str, VendorEntry] = {}
    spellings: dict[str, str] = {}
    for name, body in raw["vendors"].items():
        here = ("vendors", name)
        if not isinstance(body, dict):
            problems.append(Problem("an entry is an object with note, aliases, divisions, lineage", here))
            continue
        note = body.get("note")
        if not isinstance(note, str) or len(note.strip()) < 10:
            problems.append(Problem("every entry needs a note saying why its names are grouped", (*here, "note")))
        lists: dict[str, tuple[str, ...]] = {}
        for field in ("aliases", "divisions", "lineage"):
            value = body.get(field, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                problems.append(Problem(f"{field} must be a list of names", (*here, field)))
                value = []
            lists[field] = tuple(value)
        key = _words(name, legal)
        entries[key] = VendorEntry(key, str(note), lists["aliases"], lists["divisions"], lists["lineage"])
        for i, spelling in enumerate((name, *lists["aliases"], *lists["divisions"])):
            norm = _words(spelling, legal)
            if not norm:
                problems.append(Problem(f"{spelling!r} is only legal-form words", (*here, "aliases", i - 1)))
            elif spellings.get(norm, key) != key:
                problems.append(Problem(f"{spelling!r} belongs to both {spellings[norm]!r} and {key!r}", here))
            else:
                spellings[norm] = key
    for key, entry in entries.items():
        for i, other in enumerate(entry.lineage):
            if _words(other, legal) not in entries:
                problems.append(Problem(f"lineage {other!r} is not an entry of the registry", ("vendors", key, "lineage", i)))
    if problems:
        raise InputError(f"{source}: the vendor registry has {len(problems)} problem(s)", problems)
    return Registry(legal, entries, spellings)


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The packaged registry (``engines/data/vendors.json``)."""
    text = resources.files("zonewarden.engines").joinpath("data/vendors.json").read_text("utf-8")
    return parse_registry(json.loads(text), "zonewarden/engines/data/vendors.json")


@lru_cache(maxsize=65536)
def vendor_words(text: str) -> str:
    """A vendor name normalised for comparison (``"Siemens AG"`` -> ``"siemens"``)."""
    return _words(text, registry().legal_forms)


def vendor_aliases() -> dict[str, str]:
    """Normalised spelling -> canonical vendor key."""
    return registry().spellings


@lru_cache(maxsize=16384)
def vendor_keys(name: str | None) -> tuple[str, ...]:
    """Canonical vendor keys of a vendor name; joint names give several.

    ``"Siemens AG"`` -> ``("siemens",)``; ``"Sensormatic Electronics, LLC, Johnson Controls
    Inc."`` -> ``("johnson controls", "sensormatic electronics")``; ``"ICONICS, Mitsubishi
    Electric"`` -> both. Unknown vendors keep their normalised spelling as key.
    """
    if not name or not name.strip():
        return ()
    aliases = vendor_aliases()
    text = _VENDOR_NOISE.sub(",", _PARENS.sub(lambda m: "," + m.group(1) + ",", name))
    whole = vendor_words(_PARENS.sub(" ", name))
    keys: set[str] = set()
    if whole in aliases:
        keys.add(aliases[whole])
    parts = [p for p in (vendor_words(x) for x in re.split(r",|\band\b|&|/", text)) if p]
    for part in parts:
        if part in aliases:
            keys.add(aliases[part])
    if not keys:
        words = whole.split()
        # "Westinghouse Ovation", "Allen-Bradley ControlLogix": a known name followed by more words.
        for n in range(len(words) - 1, 0, -1):
            head = " ".join(words[:n])
            if head in aliases:
                keys.add(aliases[head])
                break
    if not keys:
        # Not in the table: the whole name is the key, and "X, Y" names also give X and Y.
        keys.add(whole)
        if len(parts) > 1:
            keys.update(parts)
    return tuple(sorted(k for k in keys if k))


@lru_cache(maxsize=16384)
def asset_vendor_keys(name: str | None) -> tuple[str, ...]:
    """An asset's vendor keys with their lineage: the advisories that can be about its products."""
    keys = vendor_keys(name)
    entries = registry().entries
    out = set(keys)
    for key in keys:
        entry = entries.get(key)
        if entry:
            out.update(vendor_words(x) for x in entry.lineage)
    return tuple(sorted(out))


@lru_cache(maxsize=4096)
def brand_words(key: str) -> frozenset[str]:
    """Words of every spelling of a vendor (and its lineage): optional inside product names.

    ``"Wonderware InTouch"`` under AVEVA and ``"Allen-Bradley MicroLogix 1400"`` under Rockwell
    name the same products as ``"InTouch"`` and ``"MicroLogix 1400"``.
    """
    reg = registry()
    entry = reg.entries.get(key)
    names = [key]
    if entry:
        names += [*entry.aliases, *entry.divisions]
        for other in entry.lineage:
            o = reg.entries.get(vendor_words(other))
            if o:
                names += [o.key, *o.aliases]
    out: set[str] = set()
    for n in names:
        out.update(vendor_words(n).split())
    return frozenset(w for w in out if len(w) > 2 and not w.isdigit() and w not in _GENERIC)


def describe(key: str) -> str | None:
    """The registry note of a vendor key (None for vendors not in the registry)."""
    entry = registry().entries.get(key)
    return entry.note if entry else None


__all__ = [
    "Registry",
    "VendorEntry",
    "asset_vendor_keys",
    "brand_words",
    "describe",
    "fold",
    "parse_registry",
    "registry",
    "vendor_aliases",
    "vendor_keys",
    "vendor_words",
]
