"""Advisory x inventory -> findings: affected, not affected, fixed or needs review.

How an asset is tied to a product entry of an advisory, strongest first:

1. **CPE / purl**: when the entry and the asset both carry one, vendor and product of the
   CPE (or type/namespace/name of the purl) must be equal. Then names are not consulted.
2. **Model number**: the asset's model number is one of the entry's
   ``product_identification_helper.model_numbers`` (same vendor).
3. **Vendor + product name**: vendor names go through the registry
   (:mod:`zonewarden.engines.vendors`: aliases, legal forms, corporate lineage on the asset
   side); product names become word sets (case, punctuation, plurals, short/long terms, the
   vendor's brand words, joined/split words). Equal sets are a *product-name* match; an
   advisory naming a family whose words are all in the asset's product is a *product-family*
   match; an asset product that is only part of the advisory's is *product-partial*; a one-letter
   typo is a *possible-product*; both are ambiguous, so they need review unless the version
   alone rules the entry out. Words in parentheses are optional. A series in the name
   (``... (TIA Portal) V14``) must agree with the asset's version. Order numbers (exact, family
   patterns such as ``6ES7 5xx`` or ranges such as ``CPU 1211C–1217C``, also written in the
   product name) tie an asset, and one the entry's list excludes is a different device. An
   asset with a vendor and nothing else is an inventory gap
   (:mod:`zonewarden.engines.inventory_gaps`), not matched.

Then the entry's version or range (:mod:`zonewarden.engines.ranges`) decides, against the
groups of ``product_status`` the entry is in. Anything the code cannot decide (unparseable
range, no asset version, versions of different schemes, a range with a condition, an
ambiguous product) is ``needs-review`` with a :class:`ReviewReason`; never "not affected".

Speed: :class:`InventoryIndex` is built once per inventory: assets grouped by vendor key,
then by product word set, with word postings per vendor, so an entry only looks at the few
word sets that can match. Relations are cached per (vendor, product words).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import combinations
from operator import attrgetter, itemgetter

from zonewarden.domain.advisories import (
    AFFECTED_GROUPS,
    FIXED_GROUPS,
    EntryMatch,
    Finding,
    FindingStatus,
    FlatAdvisory,
    MatchField,
    ProductEntry,
    ProductStatus,
    ReviewReason,
)
from zonewarden.domain.site import Asset
from zonewarden.engines.inventory_gaps import is_gap
from zonewarden.engines.ranges import Range, VersionRange, parse_range
from zonewarden.engines.vendors import (
    asset_vendor_keys,
    brand_words,
    fold,
    vendor_aliases,
    vendor_keys,
    vendor_words,
)
from zonewarden.engines.versions import OTVersion, VersionError, parse_version, try_version
from zonewarden.runtime import gc_paused

# --- names ----------------------------------------------------------------------------

_PRODUCT_STOP = frozenset(
    "all versions version and earlier prior later the for of with only series family products product "
    "devices device firmware software models model".split()
)
_SERIES = re.compile(r"(?<![\w.])v(\d+(?:\.\d+)*)(?:\.x)?(?![\w.])(?P<upto>\s+(?:and|or)\s+(?:prior|earlier|older|below|lower))?", re.I)
_PARENS = re.compile(r"\(([^()]*)\)")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_EXCEPT = re.compile(r"\(?\b(?:except(?:\s+for)?|excluding|excl\.|not\s+including)\s+([^()]+?)\)?(?=$|[,;])", re.I)

# Kept under their old names: the registry moved to zonewarden.engines.vendors.
_fold = fold
_vendor_words = vendor_words


@lru_cache(maxsize=1)
def _terms() -> tuple[re.Pattern[str], dict[str, str]]:
    """Short product-name terms and their long forms (``engines/data/product_terms.json``), as
    one pattern (one scan per name) and the replacement of each."""
    raw = json.loads(resources.files("zonewarden.engines").joinpath("data/product_terms.json").read_text("utf-8"))
    longs = {t["short"].lower(): t["long"] for t in raw["terms"]}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(longs, key=len, reverse=True))) + r")\b")
    return pattern, longs


_MODEL_PLURAL = re.compile(r"[a-z]{4,}s$")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Singular of a plain English plural (``controllers``, ``switches``, ``utilities``)."""
    if len(word) <= 3:
        return word
    if not word.isalpha():
        # "120ENCPUs": a model with a plural s after a run of at least four letters.
        m = _MODEL_PLURAL.search(word)
        return word[:-1] if m and not word.endswith("ss") else word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ys", "os")):
        return word[:-1]
    return word


@dataclass(frozen=True, slots=True)
class ProductWords:
    """A product name as matching sees it."""

    core: frozenset[str]
    """Words outside parentheses (must all be there for a family match)."""
    full: frozenset[str]
    """All words, parentheses included."""
    series: tuple[int, ...] | None
    """A ``V14`` / ``V8.2`` in the name: the release series the entry is about."""
    series_upto: bool = False
    """``V7.2 and prior``: the series and every earlier one."""
    order: tuple[str, ...] = ()
    """The core words as written, in order (joined and split spellings are found from it)."""
    excluded: tuple[str, ...] = ()
    """Model keys the name excludes (``SCALANCE X-200 (except X-200IRT)``)."""

    def without(self, brand: frozenset[str]) -> ProductWords:
        """The words without the vendor's own names (``Wonderware InTouch`` -> ``InTouch``)."""
        if not brand or not (self.full & brand):
            return self
        core = self.core - brand
        if not core:
            return self
        return ProductWords(core, self.full - brand, self.series, self.series_upto,
                            tuple(w for w in self.order if w not in brand), self.excluded)


def _name_words(text: str) -> list[str]:
    return [_stem(w) for w in _NON_ALNUM.sub(" ", text).split() if w not in _PRODUCT_STOP]


@lru_cache(maxsize=65536)
def product_words(name: str | None) -> ProductWords:
    """``"SIMATIC STEP 7 (TIA Portal) V13"`` -> core {simatic, step, 7}, full + {tia, portal}, series (13,).

    Case, accents, punctuation, plurals (``Controllers``) and short/long terms (``SE`` = ``Site
    Edition``, ``RT`` = ``Runtime``) do not count; ``(except X)`` removes model X from the name.
    """
    if not name:
        return ProductWords(frozenset(), frozenset(), None)
    text = _fold(name)
    excluded: tuple[str, ...] = ()
    if "exc" in text or "not incl" in text:
        excluded = tuple(model_key(x) for m in _EXCEPT.finditer(text) for x in re.split(r",|\band\b|/", m.group(1)) if model_key(x))
    if excluded:
        text = _EXCEPT.sub(" ", text)
    if _RANGE_HINT.search(text):
        text = _without_ranges(text)
    series, upto = None, False
    m = _SERIES.search(text) if "v" in text else None  # the text is lower case
    if m:
        series = tuple(int(p) for p in m.group(1).split("."))
        upto = bool(m.group("upto"))
        text = _SERIES.sub(" ", text)
    pattern, longs = _terms()
    text = pattern.sub(lambda t: longs[t.group(1)], text)
    if "(" in text:
        inner = " ".join(_PARENS.findall(text))
        outer = _PARENS.sub(" ", text)
    else:
        inner, outer = "", text
    words = _name_words
    order = tuple(dict.fromkeys(words(outer)))
    if not order:
        # A product named only by stop words (LCDS "Versions"): the words are its name.
        order = tuple(dict.fromkeys(_stem(w) for w in _NON_ALNUM.sub(" ", outer).split()))
    core = frozenset(order)
    return ProductWords(core, core | frozenset(words(inner)), series, upto, order, excluded)


@lru_cache(maxsize=65536)
def _brandless(key: str, name: str | None) -> ProductWords:
    return product_words(name).without(brand_words(key))


def _relation(e: ProductWords, a: frozenset[str]) -> MatchField | None:
    """How an asset's product words relate to an entry's (the same rule the index applies)."""
    if not e.core or not a:
        return None
    if a == e.core or a == e.full:
        return MatchField.PRODUCT_NAME
    if e.core <= a:
        return MatchField.PRODUCT_FAMILY
    if a < e.full:
        return MatchField.PRODUCT_PARTIAL
    return None


def _respelled(e: ProductWords, vocabulary: Container[str]) -> list[ProductWords]:
    """The entry's name with joined or split words as the vendor's assets spell them.

    ``Win CC`` -> ``WinCC`` when an asset writes ``wincc``; ``FactoryTalk`` -> ``Factory Talk``
    when assets write both halves. The same product, so the relation found counts in full.
    """
    order = e.order
    out = []
    for i in range(len(order) - 1):
        joined = order[i] + order[i + 1]
        if joined in vocabulary:
            new = (*order[:i], joined, *order[i + 2:])
            out.append(_replaced(e, {order[i], order[i + 1]}, {joined}, new))
    for i, w in enumerate(order):
        if len(w) < 4 or w in vocabulary:
            continue
        for cut in range(2, len(w) - 1):
            left, right = w[:cut], w[cut:]
            if left in vocabulary and right in vocabulary:
                out.append(_replaced(e, {w}, {left, right}, (*order[:i], left, right, *order[i + 1:])))
    if len(out) > 1:
        # Several words respelled at once ("ProTouch AutoGloss" as "Pro Touch Auto Gloss").
        core, full = set(e.core), set(e.full)
        for v in out:
            removed, added = e.core - v.core, v.core - e.core
            core, full = (core - removed) | added, (full - removed) | added
        out.append(ProductWords(frozenset(core), frozenset(full), e.series, e.series_upto, tuple(sorted(core)), e.excluded))
    return out


def _replaced(e: ProductWords, old: set[str], new: set[str], order: tuple[str, ...]) -> ProductWords:
    return ProductWords((e.core - old) | new, (e.full - old) | new, e.series, e.series_upto, order, e.excluded)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours apart (``simatc`` ~ ``simatic``)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return short in _deletions(long_)


_FUZZY_MIN = 5
"""Words shorter than this are too short to call a one-letter difference a typo."""


def _fuzzy_word(w: str) -> bool:
    return len(w) >= _FUZZY_MIN and w.isalpha()


def _possible(e: ProductWords, near: Callable[[str], Iterable[str]]) -> list[tuple[ProductWords, str]]:
    """The entry's name with one word as an asset misspells it, and why (``'simatc' ~ 'simatic'``).

    ``near`` gives, for an entry word, the vendor's asset words one edit away from it.
    """
    out = []
    for w in e.order:
        if not _fuzzy_word(w):
            continue
        for other in sorted(near(w)):
            out.append((
                _replaced(e, {w}, {other}, tuple(other if x == w else x for x in e.order)),
                f"{other!r} differs from the advisory's {w!r} by one letter",
            ))
    return out


@lru_cache(maxsize=65536)
def model_key(model: str) -> str:
    return _NON_ALNUM.sub("", _fold(model))


_PLACEHOLDER = re.compile(r"(?<=\d)[xX]+|[xX]{2,}|\*+|\?+|\.{2,}")

# A range of models: two model numbers joined by a dash, "..", "to" or "through"
# (``CPU 1211C–1217C``, ``6ES7 211-1AE40-0XB0 .. 6ES7 217-1AG40-0XB0``, ``SCALANCE X204-2 to X208``).
# A bound is an order number (``6ES7 211-1AE40-0XB0``, with its space) or one token of letters
# and digits without dots: version ranges (``8.0.0 to 8.5.1``, ``03.03.28C to 05.02.04C``) have
# dots or no letters and are no model ranges.
_BOUND = r"\d[A-Za-z]{2}\d{1,4}\s[0-9A-Za-z]{3,6}-[0-9A-Za-z]{3,5}(?:-[0-9A-Za-z]{3,5})?|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
_MODEL_RANGE = re.compile(
    rf"(?<![\w.\-])(?P<lo>{_BOUND})(?:\s*[\u2013\u2014]\s*|\s+-\s+|\s*\.\.\s*|\s+(?:to|through|thru)\s+)(?P<hi>{_BOUND})(?![\w.\-])",
    re.I,
)
_RUN = re.compile(r"[a-z]+|\d+")


class ModelRange:
    """Models from ``lo`` to ``hi``: where the two bounds first differ (``1211`` / ``1217``), the
    asset's model must lie between them; what comes before must be the same, what comes after
    is a variant (``X206-1`` is in ``X204-2 to X208``). Leading words of the text (``CPU``,
    ``SCALANCE``) may be left out by the asset."""

    __slots__ = ("text", "prefix", "optional", "lo", "hi", "width", "numeric", "shapes")

    def __init__(self, text: str, prefix: str, optional: tuple[str, ...], lo: str, hi: str,
                 shapes: tuple[tuple[bool, ...], ...]) -> None:
        self.text, self.prefix, self.optional, self.lo, self.hi, self.shapes = text, prefix, optional, lo, hi, shapes
        self.numeric = lo.isdigit()
        self.width = len(lo) if len(lo) == len(hi) else 0
        """Digits (or letters) compared; 0 when the bounds differ in length (the whole run then)."""

    def __repr__(self) -> str:
        return f"ModelRange({self.text!r})"

    def position(self, key: str) -> bool | None:
        """True inside, False outside (another model of the same series: ``CPU 1218C``), None
        when the key does not say: another series (``6GK5...`` against ``6ES7 211 .. 217``; a
        name such as "RS232 to RS485 converter" reads as a range too, and must not exclude every
        other model of its vendor) or no run where the bounds differ (``6ES7...`` against
        ``1211C-1217C``)."""
        placed: bool | None = None
        for k in self._without_words(key):
            if not k.startswith(self.prefix):
                continue
            run = _RUN.match(k, len(self.prefix))
            if run is None or run.group().isdigit() != self.numeric or len(run.group()) < self.width:
                placed = None
                continue
            part = run.group()[: self.width] if self.width else run.group()
            if self.numeric:
                return int(self.lo) <= int(part) <= int(self.hi)
            return self.lo <= part <= self.hi
        return placed

    def _without_words(self, key: str) -> list[str]:
        """The key without the range's leading words (when it starts with them), then as is."""
        return [*(key[len(w):] for w in self.optional if key.startswith(w)), key]

    def fullmatch(self, key: str) -> bool:
        return self.position(key) is True

    def names(self, word: str) -> bool | None:
        """:meth:`position` of a word of a product name, judged only when it is shaped like the
        bounds (``1215C`` for ``1211C-1217C``; not ``1200`` of ``S7 1200``)."""
        key = model_key(word)
        for k in self._without_words(key):
            if tuple(r.isdigit() for r in _RUN.findall(k)) in self.shapes:
                return self.position(k)
        return None


def _model_range(text: str) -> ModelRange | None:
    m = _MODEL_RANGE.search(text)
    if m is None or m.end() != len(text.rstrip()):
        return None
    lead = text[: m.start()]
    if lead.strip() and not re.fullmatch(r"\s*(?:[A-Za-z]+\s+)+", lead):
        return None  # only words may stand before the range ("SCALANCE X204-2 to X208")
    lo_text, hi_text = _fold(m.group("lo")), _fold(m.group("hi"))
    if not all(any(c.isdigit() for c in s) and any(c.isalpha() for c in s) for s in (lo_text, hi_text)):
        return None
    lo, hi = _RUN.findall(lo_text), _RUN.findall(hi_text)
    if hi[0].isdigit() and not lo[0].isdigit():
        hi = [lo[0], *hi]  # "X204 to 208": the upper bound keeps the series letters
    d = next((i for i, (a, b) in enumerate(zip(lo, hi, strict=False)) if a != b), None)
    if d is None or lo[d].isdigit() != hi[d].isdigit():
        return None
    low, high = (int(lo[d]), int(hi[d])) if lo[d].isdigit() else (lo[d], hi[d])
    if low > high:  # type: ignore[operator]
        return None
    optional = tuple(_fold(w) for w in lead.split())
    shapes = tuple({tuple(r.isdigit() for r in runs) for runs in (lo, hi)})
    return ModelRange(text, "".join(lo[:d]), optional, lo[d], hi[d], shapes)


ModelFamily = re.Pattern[str] | ModelRange


@lru_cache(maxsize=16384)
def model_pattern(model: str) -> ModelFamily | None:
    """A model or order number written as a family, over model keys; None if exact.

    Placeholders: ``x``/``X`` after a digit or repeated (``6ES7 5xx``, ``6GK7443-1UX00-0XE0``),
    ``*``, ``?`` and ``..`` (``6ES7 511-1AK..-0AB0``). A trailing placeholder leaves the rest open
    (``1756-L8*`` covers ``1756-L83E``). A single ``X`` after a letter is a real letter (``X-200``).
    A range (``CPU 1211C–1217C``, ``... X204-2 to X208``) is a :class:`ModelRange`.
    """
    if _RANGE_HINT.search(model):
        rng = _model_range(model)
        if rng is not None:
            return rng
    if not _PLACEHOLDER.search(model):
        return None
    out, pos = [], 0
    text = _fold(model)
    for m in _PLACEHOLDER.finditer(text):
        out.append(re.escape(model_key(text[pos:m.start()])))
        run = m.group()
        out.append("[a-z0-9]" * len(run) if run[0] in "x?" else "[a-z0-9]*")
        pos = m.end()
    tail = model_key(text[pos:])
    out.append(re.escape(tail) if tail else "[a-z0-9]*")
    return re.compile("".join(out))


_NAME_MODELS = re.compile(r"\(([^()]*)\)|\b(?:part|order|catalog)\s+(?:numbers?|nos?\.?)\s*:?\s*(.+)$|\bmlfbs?\s*:?\s*(.+)$", re.I)
_MODEL_TOKEN = re.compile(r"(?<![\w*.])(?=[A-Za-z0-9*.\-]*\d)(?=[A-Za-z0-9*.\-]*[A-Za-z*])[A-Za-z0-9][A-Za-z0-9*.\-]{5,}|(?<![\w*])[A-Za-z]{3,}[0-9]*\*")
_ORDER_NUMBER = re.compile(r"^\d[A-Z]{2}\d{1,4}[\s-]?[0-9A-Z]{3,6}[\s-][0-9A-Z]{3,5}$")
"""Siemens-style order numbers (MLFB): ``6ES7518-4AX00-1AC0``, ``6GK5324-4GG00-4ER2``."""
_RANGE_HINT = re.compile(r"[\u2013\u2014]|\s-\s|\.\.|\s(?:to|through|thru)\s", re.I)
_STRONG_PLACEHOLDER = re.compile(r"\*|[xX]{2,}|\.\.|\?")
_UNIT = re.compile(r"\d(?:v|vac|vdc|a|ma|w|kw|hz|mm|m|ms|mbit|gbit)$", re.I)


@lru_cache(maxsize=65536)
def _name_models(name: str) -> tuple[str, ...]:
    """Order numbers an advisory writes in the product name: ``... (6ES7518-4AX00-1AC0)``,
    ``Modicon M340 CPU (part numbers BMXP34*)``, ``..., MLFBs: 6SR2...``.

    Only tokens shaped like an order number count (``6ES7518-4AX00-1AC0``, or a family pattern
    such as ``BMXP34*``; after "part numbers", "order no." or "MLFB" any token with letters and
    digits): a parenthesis such as ``(2x 100-240VAC/60-250VDC, ports on front)`` names a variant,
    not an order number, and reading it as one would exclude every real order number.
    """
    out: list[str] = list(_name_ranges(name)) if _RANGE_HINT.search(name) else []
    low = name.lower()
    if "(" not in name and "number" not in low and "mlfb" not in low and " no" not in low:
        return tuple(out)
    for m in _NAME_MODELS.finditer(name):
        text = next(g for g in m.groups() if g is not None)
        phrase = m.group(1) is None  # after "part numbers", "MLFB", ...
        for tok in _MODEL_TOKEN.findall(text):
            tok = tok.strip(".-")
            if _UNIT.search(tok):
                continue
            # In a parenthesis a lone "x" after a digit is a count ("16xM12"), not a placeholder.
            # (model_pattern's own test, without compiling the pattern)
            family = _PLACEHOLDER.search(tok) is not None and (phrase or _STRONG_PLACEHOLDER.search(tok))
            if family or _ORDER_NUMBER.match(tok.upper()) or (
                phrase and len(model_key(tok)) >= 5 and any(c.isdigit() for c in tok) and any(c.isalpha() for c in tok)
            ):
                out.append(tok)
    return tuple(dict.fromkeys(out))


def _name_ranges(name: str) -> Iterator[str]:
    """Model ranges written in a product name, each with the word before it (``CPU 1211C–1217C``
    in ``SIMATIC S7-1200 CPU 1211C–1217C``): that word may be left out by an asset."""
    for m in _MODEL_RANGE.finditer(name):
        before = re.search(r"([A-Za-z]+)\s+$", name[: m.start()])
        for text in ((before.group(1) + " " + m.group()) if before else None, m.group()):
            if text and _model_range(text) is not None:
                yield text
                break


def _without_ranges(text: str) -> str:
    """The name without its model ranges (the range is the entry's model list, not its words)."""
    return _MODEL_RANGE.sub(lambda m: " " if _model_range(m.group()) is not None else m.group(), text)


def entry_models(entry: ProductEntry) -> tuple[str, ...]:
    """The entry's model numbers: its identification helper's, else those written in its name."""
    if entry.model_numbers:
        return entry.model_numbers
    return _name_models(entry.product or entry.name)


def _model_prefix(model: str) -> str:
    """The literal start of a model pattern (where a sorted list of model keys is searched)."""
    family = model_pattern(model)
    if isinstance(family, ModelRange):
        return "" if family.optional else family.prefix
    m = _PLACEHOLDER.search(_fold(model))
    return model_key(_fold(model)[: m.start()]) if m else model_key(model)


@lru_cache(maxsize=65536)
def _model_in(asset_model: str, entry_models: tuple[str, ...]) -> bool:
    """Whether the asset's model is one of the entry's (exactly, or inside a family pattern)."""
    key = model_key(asset_model)
    own = model_pattern(asset_model)
    for m in entry_models:
        pat = model_pattern(m)
        if isinstance(pat, ModelRange):
            if pat.position(key) is not False:
                return True  # inside, or a model the range cannot place (the name decides)
            continue
        if key == model_key(m) or (pat is not None and pat.fullmatch(key)):
            return True
        if own is not None and own.fullmatch(model_key(m)):
            return True
    return False


def _named_outside(product: str | None, models: tuple[str, ...]) -> bool:
    """An asset without a model number whose product name names a model outside the entry's
    model ranges (``SIMATIC S7-1200 CPU 1510SP`` against ``CPU 1211C–1217C``): another device."""
    ranges = _ranges_of(models)
    if not product or not ranges:
        return False
    return _named_outside_of(product, ranges)


@lru_cache(maxsize=16384)
def _ranges_of(models: tuple[str, ...]) -> tuple[ModelRange, ...]:
    """The model ranges among an entry's models (none, nearly always)."""
    return tuple(f for f in map(model_pattern, models) if isinstance(f, ModelRange))


@lru_cache(maxsize=16384)
def _named_outside_of(product: str, ranges: tuple[ModelRange, ...]) -> bool:
    said = [r.names(w) for r in ranges for w in _fold(product).split()]
    return False in said and True not in said


def _excluded(e: ProductWords, asset: Asset) -> bool:
    """The entry's name excludes the asset's model (or the asset's product names the exclusion)."""
    if not e.excluded:
        return False
    keys = {model_key(asset.model_number)} if asset.model_number else set()
    keys.update(model_key(w) for w in _NON_ALNUM.sub(" ", _fold(asset.product or "")).split())
    return bool(keys & set(e.excluded))


def _cpe_key(cpe: str | None) -> tuple[str, str, str] | None:
    """(vendor, product, version) of a CPE 2.3 or 2.2 URI."""
    if not cpe:
        return None
    c = cpe.strip().lower()
    if c.startswith("cpe:2.3:"):
        parts = c.split(":")
        if len(parts) >= 6:
            return parts[3], parts[4], parts[5]
    elif c.startswith("cpe:/"):
        parts = c[5:].split(":")
        if len(parts) >= 3:
            return parts[1], parts[2], parts[3] if len(parts) > 3 else "*"
    return None


def _purl_key(purl: str | None) -> tuple[tuple[str, str, str], str | None] | None:
    """((type, namespace, name), version) of a package URL."""
    if not purl or not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("#", 1)[0].split("?", 1)[0]
    body, _, version = body.partition("@")
    segments = [s for s in body.split("/") if s]
    if len(segments) < 2:
        return None
    ptype, name, namespace = segments[0].lower(), segments[-1], "/".join(segments[1:-1])
    return (ptype, namespace.lower(), name.lower()), version or None


_VERSION_TAIL = re.compile(r"(?:^|\s)(?P<v>v?\d+\.\d+(?:\.\d+)*|(?:19|20)\d\d\s+r\d+)(?P<q>(?:\s+(?:sp|r|update|upd|hf|u)\s*\d+)*)\s*$", re.I)
_QUALIFIER_ONLY = re.compile(r"^\s*(?:sp|service\s+pack|r|update|upd|hf|hotfix|u|patch|p)\s*\d+", re.I)


def asset_version_text(asset: Asset) -> str | None:
    """The asset's version, completed from its product name where owners split it.

    ``InTouch 2014 R2`` with no version gives ``2014 R2``; ``WinCC V7.4`` with version ``SP1``
    gives ``7.4 SP1``. Otherwise the version as written.
    """
    version = asset.version
    if not asset.product or (version is not None and not _QUALIFIER_ONLY.match(version)):
        return version
    text = asset.product.strip()
    m = _SERIES.search(text)
    line = m.group(1) if m and not m.group("upto") else None
    if line is None:
        tail = _VERSION_TAIL.search(text)
        if tail is None:
            return version
        line = (tail.group("v") + tail.group("q")).strip()
    if version:
        return f"{line} {version}"
    # No version: "InTouch 2014 R2" or "... 3.1.2" is a version; "V18" or "7.5" names a line only.
    full = re.fullmatch(r"(?:19|20)\d\d\s+r\d+.*|v?\d+\.\d+\.\d+.*|.*\s(?:sp|update|upd|hf)\s*\d+", line, re.I)
    return line if full else None


# --- the index ------------------------------------------------------------------------


_LOOKS = attrgetter("vendor", "product", "model_number", "version", "cpe", "purl")
"""What matching sees of an asset: assets equal in these form one class."""


class InventoryIndex:
    """Assets indexed for matching. Build once, match many advisories against it.

    Assets that look the same to matching (same vendor keys, product name, model number,
    version, CPE and purl: a plant's fifty identical drives) form one *class*; each class is
    decided once per product entry and the result is shared by its members.
    """

    def __init__(self, assets: Iterable[Asset]) -> None:
        # The build allocates tens of thousands of small containers: without the pause, the
        # collector walks the whole heap (the flattened advisories, the site) several times
        # over, which cost as much as the build itself (0.22 s -> 0.11 s on the bench's 20,000).
        with gc_paused():
            self._build(assets)

    def _build(self, assets: Iterable[Asset]) -> None:
        self.assets: tuple[Asset, ...] = tuple(assets)
        # vendor key -> product words (core) -> class ids
        self._by_vendor: dict[str, dict[frozenset[str], list[int]]] = defaultdict(lambda: defaultdict(list))
        # vendor key -> word -> product word sets containing it
        self._postings: dict[str, dict[str, set[frozenset[str]]]] = defaultdict(lambda: defaultdict(set))
        self._by_model: dict[str, list[int]] = defaultdict(list)
        self._model_patterns: list[tuple[ModelFamily, int]] = []
        self._near: dict[str, dict[str, str | set[str]]] = {}
        self._near_words: dict[tuple[str, str], frozenset[str]] = {}
        self._by_cpe: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._by_purl: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        self._class_of: dict[tuple[object, ...], int] = {}
        self.members: list[list[int]] = []
        """Members of each class as *ranks*: positions in asset-id order (see ``sorted_ids``)."""
        self._rep: list[Asset] = []
        self._vendors: list[tuple[str, ...]] = []
        self._versions: list[OTVersion | None | str] = []
        self._vtext: list[str | None] = []
        self._series: list[tuple[int, ...] | None] = []
        # Findings come out sorted by asset id. Working in rank space (asset-id order) lets a
        # plain integer sort order them, which is several times cheaper than sorting by key.
        ids = [a.id for a in self.assets]
        order = sorted(range(len(ids)), key=ids.__getitem__)
        self.sorted_ids: tuple[str, ...] = tuple(map(ids.__getitem__, order))
        # One C-level call gives the class key of an asset; members are kept as list.append.
        looks, class_of, members, appends = _LOOKS, self._class_of, self.members, []
        for rank, asset in enumerate(map(self.assets.__getitem__, order)):
            key = looks(asset)
            cid = class_of.get(key)
            if cid is None:
                cid = class_of[key] = len(members)
                members.append([])
                appends.append(members[cid].append)
                self._rep.append(asset)
                self._add_class(cid, asset)
            appends[cid](rank)
        self._model_keys: list[str] = sorted(self._by_model)
        # Per-index caches of answers that depend only on the index and a name or model: CISA
        # repeats the same product names and order numbers across advisories and entries.
        self._labelled: dict[tuple[str, tuple[str, ...], frozenset[str]], tuple[tuple[frozenset[str], MatchField, str], ...]] = {}
        self._name_ties: dict[tuple[str, str | None], list[_NameTie] | None] = {}
        self._model_tie_cache: dict[str, list[tuple[int, MatchField, str]]] = {}
        # Asset family patterns by their literal prefix: a model key can only match a pattern
        # whose prefix starts it, so a look-up tries the key's prefixes, not every pattern.
        self._patterns_by_prefix: dict[str, list[tuple[ModelFamily, int]]] = defaultdict(list)
        for pattern, cid in self._model_patterns:
            self._patterns_by_prefix[_model_prefix(self._rep[cid].model_number or "")].append((pattern, cid))
        # vendor key -> word set -> version text -> classes: one decision per version text.
        self._by_version: dict[str, dict[frozenset[str], dict[tuple[str | None, tuple[int, ...] | None], list[int]]]] = {}
        for vkey, groups in self._by_vendor.items():
            per_ws: dict[frozenset[str], dict[tuple[str | None, tuple[int, ...] | None], list[int]]] = {}
            for ws, cids in groups.items():
                by_text: dict[tuple[str | None, tuple[int, ...] | None], list[int]] = defaultdict(list)
                for cid in cids:
                    by_text[(self._vtext[cid], self._series[cid])].append(cid)
                per_ws[ws] = dict(by_text)
            self._by_version[vkey] = per_ws

    def _add_class(self, cid: int, asset: Asset) -> None:
        keys = asset_vendor_keys(asset.vendor)
        self._vendors.append(keys)
        # No product name: the model number is the only name there is ("6ES7 511-1AK02-0AB0").
        # An asset with neither is an inventory gap (engines.inventory_gaps), not matched here.
        name = asset.product or asset.model_number
        for key in () if is_gap(asset) else keys:
            words = _brandless(key, name)
            if words.core:
                self._by_vendor[key][words.core].append(cid)
                for w in words.core:
                    self._postings[key][w].add(words.core)
        if asset.model_number:
            # Exact first: an "X" after a digit may be a real letter of an order number.
            self._by_model[model_key(asset.model_number)].append(cid)
            pattern = model_pattern(asset.model_number)
            if pattern is not None:
                self._model_patterns.append((pattern, cid))
        ck = _cpe_key(asset.cpe)
        if ck:
            self._by_cpe[ck[:2]].append(cid)
        pk = _purl_key(asset.purl)
        if pk:
            self._by_purl[pk[0]].append(cid)
        vtext = asset_version_text(asset)
        self._vtext.append(vtext)
        self._series.append(product_words(asset.product).series if asset.product else None)
        self._versions.append(_parse_asset_version(vtext))

    def __len__(self) -> int:
        return len(self.assets)

    @property
    def classes(self) -> int:
        """How many distinct kinds of asset the inventory has."""
        return len(self.members)

    def representative(self, cid: int) -> Asset:
        return self._rep[cid]

    def version_of(self, cid: int) -> OTVersion | None | str:
        """Parsed version of a class; None when it has none; the error text when unparseable."""
        return self._versions[cid]

    def series_of(self, cid: int) -> tuple[int, ...] | None:
        """The release line the asset's product name gives (``TIA Portal V18``), if any."""
        return self._series[cid]

    def version_text(self, cid: int) -> str | None:
        """The version of a class as matching reads it (completed from the product name)."""
        return self._vtext[cid]

    def near(self, vendor: str, word: str) -> frozenset[str]:
        """The vendor's asset product words one edit away from ``word`` (typos)."""
        index = self._near.get(vendor)
        if index is None:
            # Deletion -> the word, or the words when several share it (rare): plain strings
            # are no work for the garbage collector, a set per key was (16,000 on the bench).
            index = self._near[vendor] = {}
            for w in self._postings.get(vendor, ()):
                if len(w) >= _FUZZY_MIN - 1:
                    for k in (w, *_deletions(w)):
                        cur = index.get(k)
                        if cur is None:
                            index[k] = w
                        elif isinstance(cur, str):
                            if cur != w:
                                index[k] = {cur, w}
                        else:
                            cur.add(w)
        hit = self._near_words.get((vendor, word))
        if hit is None:
            out: set[str] = set()
            for k in (word, *_deletions(word)):
                found = index.get(k)
                if found is not None:
                    out.update(x for x in ((found,) if isinstance(found, str) else found) if _one_edit(word, x))
            hit = self._near_words[(vendor, word)] = frozenset(out)
        return hit

    def related(self, vendor: str, words: ProductWords) -> tuple[tuple[frozenset[str], MatchField, str], ...]:
        """Asset product word sets of ``vendor`` related to the entry's words: (words, relation, why).

        The entry's name as written, then as the vendor's assets join or split its words (the
        same relation), then with one word as an asset misspells it (possible-product, with why).
        """
        groups = self._by_vendor.get(vendor)
        out: dict[frozenset[str], tuple[MatchField, str]] = {}
        if groups and words.core:
            postings = self._postings[vendor]
            for variant in (words, *_respelled(words, postings)):
                for ws, rel in self._relate(variant, groups, postings).items():
                    if ws not in out or _RANK[rel] > _RANK[out[ws][0]]:
                        out[ws] = (rel, "")
            for variant, why in _possible(words, lambda w: () if w in postings else self.near(vendor, w)):
                for ws in self._relate(variant, groups, postings):
                    if ws not in out:
                        out[ws] = (MatchField.POSSIBLE_PRODUCT, why)
        # In no particular order: a class has one word set per vendor key, so no caller's answer
        # depends on it (a finding's matches are sorted by product id).
        return tuple((ws, rel, why) for ws, (rel, why) in out.items())

    @staticmethod
    def _relate(
        words: ProductWords, groups: Mapping[frozenset[str], list[int]], postings: Mapping[str, set[frozenset[str]]]
    ) -> dict[frozenset[str], MatchField]:
        out: dict[frozenset[str], MatchField] = {}
        if not words.core:
            return out
        full = words.full
        # Only the entry's words some asset of the vendor uses can be in a related word set.
        present = {w: ps for w in full if (ps := postings.get(w))}
        if not present:
            return out
        # Family: every core word of the entry is in the asset's product.
        if all(w in present for w in words.core):
            lists = sorted((present[w] for w in words.core), key=len)
            for ws in lists[0].intersection(*lists[1:]):
                out[ws] = MatchField.PRODUCT_NAME if ws == words.core or ws == full else MatchField.PRODUCT_FAMILY
        if full in groups:
            out[full] = MatchField.PRODUCT_NAME
        # Partial: the asset's words are a proper part of the entry's (incl. parentheses).
        # Whichever is fewer: the subsets of the entry's words that assets use, or the word
        # sets sharing one of them.
        n = len(present)
        if n <= 10 and (1 << n) <= sum(map(len, present.values())):
            top = n if n < len(full) else n - 1
            for size in range(1, top + 1):
                for combo in combinations(present, size):
                    ws = frozenset(combo)
                    if ws in groups and ws not in out:
                        out[ws] = MatchField.PRODUCT_PARTIAL
        else:
            for ps in present.values():
                for ws in ps:
                    if ws < full and ws not in out:
                        out[ws] = MatchField.PRODUCT_PARTIAL
        return out

    def candidates(self, entry: ProductEntry) -> dict[int, tuple[MatchField, str]]:
        """Asset classes tied to ``entry``, each with the field and value that tied it."""
        found: dict[int, tuple[MatchField, str]] = {}
        entry_cpe = _cpe_key(entry.cpe)
        if entry_cpe:
            for cid in self._by_cpe.get(entry_cpe[:2], ()):
                found[cid] = (MatchField.CPE, entry.cpe or "")
        entry_purl = _purl_key(entry.purl)
        if entry_purl:
            for cid in self._by_purl.get(entry_purl[0], ()):
                found.setdefault(cid, (MatchField.PURL, entry.purl or ""))
        keys = vendor_keys(entry.vendor)
        keyset = set(keys)
        models = entry_models(entry)
        # Exact order numbers first, then family patterns (either side), in the entry's order.
        ties = [(cid, MatchField.MODEL_NUMBER, m) for m in models for cid in self._by_model.get(model_key(m), ())]
        ties += [t for m in models for t in self._model_ties(m)]
        for cid, tie_field, value in ties:
            vendors = self._vendors[cid]
            if not vendors or keyset.intersection(vendors):
                found.setdefault(cid, (tie_field, value))
        for key in keys:
            groups = self._by_vendor.get(key)
            if not groups:
                continue
            words = _brandless(key, entry.product or entry.name)
            for ws, relation, label in self._related_labelled(key, words):
                for cid in groups[ws]:
                    if cid in found:
                        continue
                    asset = self._rep[cid]
                    # Both sides identified by CPE/purl: the identifiers decide, not the names.
                    if (entry_cpe and asset.cpe) or (entry_purl and asset.purl):
                        continue
                    # A model number the entry's list (or its name) excludes is a different device.
                    if models and asset.model_number and not _model_in(asset.model_number, models):
                        continue
                    if models and not asset.model_number and _named_outside(asset.product, models):
                        continue
                    if words.excluded and _excluded(words, asset):
                        continue
                    found[cid] = (relation, label)
        return found

    def _related_labelled(self, key: str, words: ProductWords) -> tuple[tuple[frozenset[str], MatchField, str], ...]:
        """:meth:`related` with each word set's label (what a finding shows as the tie's value).

        Cached by the words alone (the core is the set of ``order``): names that differ only in
        their release line or exclusions relate to the same word sets."""
        cache_key = (key, words.order, words.full)
        hit = self._labelled.get(cache_key)
        if hit is None:
            hit = self._labelled[cache_key] = tuple(
                (ws, relation, _label(key, ws, why)) for ws, relation, why in self.related(key, words)
            )
        return hit

    def _model_ties(self, model: str) -> list[tuple[int, MatchField, str]]:
        """Classes whose model number is in the family the entry's ``model`` writes, or whose
        family pattern includes it (exact equality is looked up by the caller)."""
        hit = self._model_tie_cache.get(model)
        if hit is None:
            hit = self._model_tie_cache[model] = self._find_model_ties(model)
        return hit

    def _find_model_ties(self, model: str) -> list[tuple[int, MatchField, str]]:
        out: list[tuple[int, MatchField, str]] = []
        pattern = model_pattern(model)
        if pattern is not None:
            prefix, keys = _model_prefix(model), self._model_keys
            i = bisect_left(keys, prefix)
            while i < len(keys) and keys[i].startswith(prefix):
                if keys[i] != model_key(model) and pattern.fullmatch(keys[i]):
                    out += [(cid, MatchField.MODEL_NUMBER, model) for cid in self._by_model[keys[i]]]
                i += 1
        if self._model_patterns:
            key = model_key(model)
            family: list[tuple[int, MatchField, str]] = []
            for n in range(len(key) + 1):
                for own, cid in self._patterns_by_prefix.get(key[:n], ()):
                    if own.fullmatch(key) and model_key(self._rep[cid].model_number or "") != key:
                        family.append((cid, MatchField.MODEL_FAMILY, self._rep[cid].model_number or ""))
            out += sorted(family, key=itemgetter(0))  # class order, as a scan of every pattern gives
        return out

    def name_ties(self, entry: ProductEntry) -> list[_NameTie] | None:
        """Name-based ties grouped by asset version: ``(relation, value, classes, version text,
        parsed version, release line)`` (the last three shared by the classes).

        The common case (one vendor key, no CPE, purl or model numbers on the entry) needs no
        per-class checks, so whole groups of classes share one decision. None when the entry
        needs :meth:`candidates`.
        """
        if entry.cpe or entry.purl or entry_models(entry):
            return None
        keys = vendor_keys(entry.vendor)
        if len(keys) != 1:
            return None
        key = keys[0]
        per_ws = self._by_version.get(key)
        if not per_ws:
            return []
        # Keyed by the name as written (cheaper to hash than its words); None when excluded.
        name = entry.product or entry.name
        cache_key = (key, name)
        if cache_key in self._name_ties:
            return self._name_ties[cache_key]
        words = _brandless(key, name)
        hit: list[_NameTie] | None = None
        if not words.excluded:
            hit = []
            for ws, relation, label in self._related_labelled(key, words):
                for cids in per_ws[ws].values():
                    c = cids[0]
                    hit.append((relation, label, cids, self._vtext[c], self._versions[c], self._series[c]))
        self._name_ties[cache_key] = hit
        return hit


_NameTie = tuple[MatchField, str, list[int], str | None, "OTVersion | None | str", tuple[int, ...] | None]


def _label(key: str, ws: frozenset[str], why: str) -> str:
    label = f"{key}: {' '.join(sorted(ws))}"
    return f"{label}; {why}" if why else label


_RANK = {
    MatchField.POSSIBLE_PRODUCT: 0,
    MatchField.PRODUCT_PARTIAL: 1,
    MatchField.PRODUCT_FAMILY: 2,
    MatchField.PRODUCT_NAME: 3,
}


@lru_cache(maxsize=65536)
def _parse_asset_version(text: str | None) -> OTVersion | None | str:
    if text is None:
        return None
    try:
        return parse_version(text)
    except VersionError as exc:
        return exc.problems[0].message if exc.problems else str(exc)


# --- deciding one entry for one asset ---------------------------------------------------


@dataclass(slots=True, eq=False)
class _EntryFacts:
    """What deciding needs of one entry (built per entry and advisory; not frozen: a frozen
    dataclass sets each field through object.__setattr__, measurably slower here)."""

    entry: ProductEntry
    range: Range | None
    groups: tuple[tuple[ProductStatus, tuple[str, ...]], ...]
    series: tuple[int, ...] | None
    series_upto: bool
    range_description: str
    range_text: str | None
    context: _Context | None = None
    bound: OTVersion | None = None
    """The upper bound of a one-interval range (where a later fixed version can contradict it)."""
    """The rest of the advisory, for the answers that need it (computed when first asked)."""

    @property
    def lines(self) -> tuple[tuple[int, ...], ...]:
        """Release lines (``V7.4``, ``V7.5``) of the entries with the same product name."""
        return self.context.branches(self)[0] if self.context is not None else ()

    @property
    def upto(self) -> tuple[int, ...] | None:
        """The newest ``... V7.3 and prior`` line among them."""
        return self.context.branches(self)[1] if self.context is not None else None

    @property
    def floor(self) -> OTVersion | None:
        """The range's first good version (``< X``: X), when the remediation names a later fix."""
        return self.context.later_fixes(self)[0] if self.context is not None else None

    @property
    def fixes(self) -> tuple[OTVersion, ...]:
        """Fixed versions the remediation names after ``floor`` on the same release line."""
        return self.context.later_fixes(self)[1] if self.context is not None else ()


_FIX_VERSION = re.compile(
    r"(?:\bv|\bversions?\s+|\brelease\s+|\bfirmware\s+|\bto\s+)"
    # A letter-suffixed build belongs to the version (14.1s0, 3.8u4, 4.2.8p9): cut off, the fix
    # would read as the bare release and sort before the build it names.
    r"(\d+(?:\.\d+)+(?:[a-z]{1,2}\d+)?(?:\s*(?:sp|update|upd|hf)\s*\d+)*)", re.I
)


@lru_cache(maxsize=8192)
def _named_versions(details: str) -> tuple[OTVersion, ...]:
    """Versions a remediation text names (``Update to V2.9 SP2``); the same texts recur."""
    return tuple(v for v in (try_version(m.group(1)) for m in _FIX_VERSION.finditer(details)) if v)


def named_versions(details: str) -> tuple[OTVersion, ...]:
    """Versions a remediation text names as the fix (``Update to V2.9 SP2`` -> 2.9 SP2)."""
    return _named_versions(details)


@dataclass(slots=True)
class _Context:
    """What an entry's decision needs from the rest of its advisory (built on first use)."""

    advisory: FlatAdvisory
    _fixes: dict[str, set[OTVersion]] | None = None
    _fix_texts: dict[str, dict[str, None]] | None = None
    _lines: dict[frozenset[str], list[tuple[tuple[int, ...], bool]]] | None = None
    _branches: dict[str, tuple[tuple[tuple[int, ...], ...], tuple[int, ...] | None]] = field(default_factory=dict)
    _later: dict[str, tuple[OTVersion | None, tuple[OTVersion, ...]]] = field(default_factory=dict)

    def branches(self, facts: _EntryFacts) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...] | None]:
        pid = facts.entry.product_id
        hit = self._branches.get(pid)
        if hit is None:
            lines: tuple[tuple[int, ...], ...] = ()
            upto = None
            if facts.series is not None:
                siblings = self.lines(product_words(facts.entry.product or facts.entry.name).core)
                lines = tuple(sorted({s for s, up in siblings if not up}))
                ups = [s for s, up in siblings if up]
                upto = max(ups) if ups else None
            hit = self._branches[pid] = (lines, upto)
        return hit

    def later_fixes(self, facts: _EntryFacts) -> tuple[OTVersion | None, tuple[OTVersion, ...]]:
        pid = facts.entry.product_id
        hit = self._later.get(pid)
        if hit is None:
            rng = facts.range
            hit = (None, ())
            if isinstance(rng, VersionRange) and len(rng.intervals) == 1 and rng.intervals[0].upper is not None:
                hit = _later_fixes(rng, self.fixes(pid))
            self._later[pid] = hit
        return hit

    def fixes(self, pid: str) -> set[OTVersion]:
        if self._fixes is None:
            # The texts of every product's vendor fixes; only the asked products' are read.
            self._fixes = {}
            texts: dict[str, dict[str, None]] = defaultdict(dict)
            for vuln in self.advisory.vulnerabilities:
                for r in vuln.remediations:
                    if r.category == "vendor_fix" and r.details:
                        for p in r.product_ids:
                            texts[p][r.details] = None
            self._fix_texts = texts
        hit = self._fixes.get(pid)
        if hit is None:
            assert self._fix_texts is not None
            hit = self._fixes[pid] = {v for text in self._fix_texts.get(pid, ()) for v in _named_versions(text)}
        return hit

    def lines(self, core: frozenset[str]) -> list[tuple[tuple[int, ...], bool]]:
        if self._lines is None:
            self._lines = defaultdict(list)
            for entry, _ in _entries_with_status(self.advisory):
                w = product_words(entry.product or entry.name)
                if w.series is not None:
                    self._lines[w.core].append((w.series, w.series_upto))
        return self._lines.get(core, [])


def _entries_with_status(
    advisory: FlatAdvisory,
) -> Iterator[tuple[ProductEntry, dict[ProductStatus, list[str]]]]:
    """Product entries some vulnerability gives a status, with the vulnerabilities per group."""
    by_pid: dict[str, dict[ProductStatus, list[str]]] = {}
    get = by_pid.get
    for i, vuln in enumerate(advisory.vulnerabilities):
        label = vuln.cve or vuln.title or f"vulnerability {i + 1}"
        for group, ids in vuln.status.items():
            for pid in ids:
                groups = get(pid)
                if groups is None:
                    by_pid[pid] = {group: [label]}
                elif group in groups:
                    groups[group].append(label)
                else:
                    groups[group] = [label]
    for entry in advisory.products:
        groups = by_pid.get(entry.product_id)
        if groups:
            yield entry, groups


def _facts_of(entry: ProductEntry, groups: Mapping[ProductStatus, list[str]], context: _Context | None = None) -> _EntryFacts:
    rng = parse_range(entry.version_text) if entry.version_text else None
    if rng is None and entry.cpe:
        ck = _cpe_key(entry.cpe)
        if ck and ck[2] not in ("*", "-", ""):
            rng = parse_range(ck[2])
    if rng is None and entry.purl:
        pk = _purl_key(entry.purl)
        if pk and pk[1]:
            rng = parse_range(pk[1])
    words = product_words(entry.product or entry.name)
    return _EntryFacts(
        entry,
        rng,
        tuple((g, tuple(sorted(set(c)))) for g, c in sorted(groups.items())),
        words.series,
        words.series_upto,
        rng.describe() if rng is not None else "all versions (no version given)",
        rng.text if rng is not None else None,
        context,
        rng.intervals[0].upper.version
        if isinstance(rng, VersionRange) and len(rng.intervals) == 1 and rng.intervals[0].upper is not None else None,
    )


def _later_fixes(rng: Range | None, named: set[OTVersion]) -> tuple[OTVersion | None, tuple[OTVersion, ...]]:
    """For ``< X`` (or ``<= X``): the fixed versions the remediation names after X on X's line.

    ``< V2.9 SP1`` with "update to V2.9 SP2": versions from 2.9 SP1 up to SP2 are undecided.
    """
    if not named or not isinstance(rng, VersionRange) or len(rng.intervals) != 1:
        return None, ()
    upper = rng.intervals[0].upper
    if upper is None:
        return None, ()
    u = upper.version
    later = tuple(sorted(f for f in named if f.scheme == u.scheme and f.release[:2] == u.release[:2]
                         and (f > u if not upper.inclusive else f > u and not f.startswith(u.release))))
    return (u, later) if later else (None, ())


def _entry_facts(advisory: FlatAdvisory) -> list[_EntryFacts]:
    context = _Context(advisory)
    return [_facts_of(entry, groups, context) for entry, groups in _entries_with_status(advisory)]


def _undecided_line(facts: _EntryFacts, vtext: str | None, relation: MatchField, value: str, version: OTVersion) -> EntryMatch | None:
    """An asset on an older release line than the advisory lists, and no "and prior" entry covers it."""
    if not facts.lines or version.release[: len(facts.lines[-1])] >= facts.lines[-1]:
        return None  # a newer line than any listed: not named, not affected
    if any(version.startswith(line) for line in facts.lines):
        return None  # its own line has an entry of its own
    if facts.upto is not None and version.release[: len(facts.upto)] <= facts.upto:
        return None  # covered by "... and prior"
    listed = ", ".join("V" + ".".join(map(str, line)) for line in facts.lines)
    why = f"the advisory lists release lines {listed} of this product and {'.'.join(map(str, version.release))} is none of them"
    group, cves = facts.groups[0]
    return EntryMatch(facts.entry.product_id, facts.entry.name, relation, value, group, facts.range_text,
                      facts.range_description, vtext, None, None, (why,), FindingStatus.NEEDS_REVIEW,
                      ReviewReason.BRANCH_UNDECIDED, cves)


def _verdict(rng: Range | None, version: OTVersion | None | str, group: ProductStatus) -> tuple[bool | None, ReviewReason | None]:
    """Is the asset version in the entry's range? (answer, reason when it cannot be told)"""
    if rng is None or rng.is_all:
        return True, None
    if not rng.parsed:
        return None, ReviewReason.UNPARSEABLE_RANGE
    if version is None:
        return None, ReviewReason.NO_ASSET_VERSION
    if isinstance(version, str):
        return None, ReviewReason.UNPARSEABLE_ASSET_VERSION
    assert isinstance(rng, VersionRange)
    if group is ProductStatus.FIRST_FIXED and len(rng.intervals) == 1 and rng.intervals[0].lower is not None:
        # first_fixed names the first good version: everything from it on is fixed.
        low = rng.intervals[0].lower.version
        hit: bool | None = version >= low if version.scheme == low.scheme else None
    else:
        hit = rng.contains(version)
    return hit, (ReviewReason.VERSION_NOT_COMPARABLE if hit is None else None)


def _decide(
    facts: _EntryFacts, vtext: str | None, version: OTVersion | None | str, relation: MatchField, value: str,
    asset_series: tuple[int, ...] | None = None,
) -> EntryMatch | None:
    if facts.series is not None and not isinstance(version, OTVersion) and asset_series is not None:
        # No usable version, but the product name gives the line ("TIA Portal V18"): a V15 entry is
        # about another line.
        n = min(len(asset_series), len(facts.series))
        if facts.series_upto:
            if asset_series[:n] > facts.series[:n]:
                return None
        elif asset_series[:n] != facts.series[:n]:
            return None
    if facts.series is not None and isinstance(version, OTVersion) and version.scheme == "number":
        if facts.series_upto:
            if version.release[: len(facts.series)] > facts.series:
                return None  # "... V7.2 and prior" entry, asset on 7.4: a later release line
        elif not version.startswith(facts.series):
            # "... V14" entry, asset on 13.x: another release line of the product; undecided when
            # the advisory lists newer lines but not the asset's.
            return _undecided_line(facts, vtext, relation, value, version)
    rng = facts.range
    best: EntryMatch | None = None
    for group, cves in facts.groups:
        hit, version_reason = _verdict(rng, version, group)
        status: FindingStatus | None
        reason = version_reason
        if group in AFFECTED_GROUPS:
            if hit is True:
                if rng is not None and rng.conditions:
                    status, reason = FindingStatus.NEEDS_REVIEW, ReviewReason.RANGE_CONDITION
                else:
                    status = FindingStatus.AFFECTED
            elif hit is False:
                status = FindingStatus.NOT_AFFECTED
                # The bound first: the remediation's versions are read only for an asset at or above it.
                if (isinstance(version, OTVersion) and facts.bound is not None and version >= facts.bound
                        and facts.fixes and facts.floor is not None and version >= facts.floor):
                    if any(version < f for f in facts.fixes):
                        status, reason = FindingStatus.NEEDS_REVIEW, ReviewReason.FIXED_VERSION_CONTRADICTS
            else:
                status = FindingStatus.NEEDS_REVIEW
        elif group in FIXED_GROUPS:
            status = FindingStatus.FIXED if hit else None
        elif group is ProductStatus.KNOWN_NOT_AFFECTED:
            status = FindingStatus.NOT_AFFECTED if hit else None
        elif hit is not False:  # under_investigation
            status, reason = FindingStatus.NEEDS_REVIEW, ReviewReason.UNDER_INVESTIGATION
        else:
            status = None
        if status is None:
            continue
        if relation in _AMBIGUOUS and status is not FindingStatus.NOT_AFFECTED:
            status, reason = FindingStatus.NEEDS_REVIEW, _AMBIGUOUS[relation]
        if status is not FindingStatus.NEEDS_REVIEW:
            reason = None
        conditions = rng.conditions if rng is not None else ()
        if reason is ReviewReason.FIXED_VERSION_CONTRADICTS:
            conditions = tuple(str(f) for f in facts.fixes if isinstance(version, OTVersion) and version < f)
        if best is not None and _SEVERITY[status] <= _SEVERITY[best.status]:
            continue
        best = EntryMatch(
            facts.entry.product_id,
            facts.entry.name,
            relation,
            value,
            group,
            facts.range_text,
            facts.range_description,
            vtext,
            hit,
            version_reason,
            conditions,
            status,
            reason,
            cves,
        )
    return best


_SEVERITY = {s: s.severity for s in FindingStatus}
_AMBIGUOUS = {
    MatchField.PRODUCT_PARTIAL: ReviewReason.PRODUCT_AMBIGUOUS,
    MatchField.MODEL_FAMILY: ReviewReason.PRODUCT_AMBIGUOUS,
    MatchField.POSSIBLE_PRODUCT: ReviewReason.POSSIBLE_PRODUCT,
}
_VAGUE = frozenset({MatchField.PRODUCT_PARTIAL, MatchField.VENDOR_ONLY, MatchField.POSSIBLE_PRODUCT, MatchField.MODEL_FAMILY})
_Aggregate = tuple[FindingStatus, ReviewReason | None, tuple[str, ...], tuple[EntryMatch, ...]]


def _aggregate(matches: list[EntryMatch]) -> _Aggregate:
    """Status, reason, CVEs and sorted matches of one asset class for one advisory.

    When the asset matched some entry precisely (CPE, purl, model number, product name or
    family), its partial matches to other entries are dropped: the asset has been identified,
    and "SIMATIC WinCC" matching "SIMATIC WinCC V7.4" is not also "SIMATIC WinCC flexible".
    """
    if len(matches) > 1 and any(m.matched_on not in _VAGUE for m in matches):
        matches = [m for m in matches if m.matched_on not in _VAGUE]
    if len(matches) == 1:  # the common case
        m = matches[0]
        return m.status, m.reason, m.cves, (m,)
    matches.sort(key=lambda m: m.product_id)
    top = matches[0]
    for m in matches[1:]:
        if _SEVERITY[m.status] > _SEVERITY[top.status]:
            top = m
    status = top.status
    cves = tuple(sorted({c for m in matches if m.status is status for c in m.cves}))
    reason = top.reason if status is FindingStatus.NEEDS_REVIEW else None
    return status, reason, cves, tuple(matches)


def _findings(advisory_id: str, assets: Sequence[Asset], per_asset: dict[int, list[EntryMatch]]) -> tuple[Finding, ...]:
    findings = [Finding(advisory_id, assets[pos].id, *_aggregate(ms)) for pos, ms in per_asset.items()]
    findings.sort(key=lambda f: f.asset_id)
    return tuple(findings)


def match_advisory(advisory: FlatAdvisory, index: InventoryIndex) -> tuple[Finding, ...]:
    """Findings of one advisory against an indexed inventory, sorted by asset id."""
    with gc_paused():
        return _match_advisory(advisory, index)


def _match_advisory(advisory: FlatAdvisory, index: InventoryIndex) -> tuple[Finding, ...]:
    per_class: dict[int, list[EntryMatch]] = defaultdict(list)
    context: _Context | None = None
    for entry, groups in _entries_with_status(advisory):
        # An entry's decision depends only on how the asset was tied to it and on its version
        # text, so classes that share both share the (immutable) match.
        ties = index.name_ties(entry)
        candidates = index.candidates(entry) if ties is None else {}
        if not ties and not candidates:
            continue  # no asset is tied to this entry: its range need not even be parsed
        if context is None:
            context = _Context(advisory)
        facts = _facts_of(entry, groups, context)
        if ties is not None:
            for relation, value, cids, vtext, version, series in ties:
                m = _decide(facts, vtext, version, relation, value, series)
                if m is not None:
                    for cid in cids:
                        per_class[cid].append(m)
        decided: dict[tuple[MatchField, str, str | None, tuple[int, ...] | None], EntryMatch | None] = {}
        vtexts, series_of = index._vtext, index._series
        for cid, (relation, value) in candidates.items():
            key = (relation, value, vtexts[cid], series_of[cid])
            if key in decided:
                m = decided[key]
            else:
                m = decided[key] = _decide(facts, vtexts[cid], index.version_of(cid), relation, value, series_of[cid])
            if m is not None:
                per_class[cid].append(m)
    # Decide per class, then hand the shared result to every member asset.
    by_rank: dict[int, _Aggregate] = {}
    for cid, ms in per_class.items():
        by_rank.update(dict.fromkeys(index.members[cid], _aggregate(ms)))
    ranks = sorted(by_rank)
    ids, aid, new = index.sorted_ids, advisory.id, tuple.__new__
    return tuple([new(Finding, (aid, ids[r], *by_rank[r])) for r in ranks])


def match_all(advisories: Iterable[FlatAdvisory], index: InventoryIndex | Sequence[Asset]) -> tuple[Finding, ...]:
    """Findings of many advisories, sorted by (advisory id, asset id)."""
    if not isinstance(index, InventoryIndex):
        index = InventoryIndex(index)
    out: list[Finding] = []
    with gc_paused():
        for adv in sorted(advisories, key=lambda a: a.id):
            out += _match_advisory(adv, index)
        return tuple(out)


def _naive_vocabulary(assets: Sequence[Asset]) -> dict[str, set[str]]:
    vocab: dict[str, set[str]] = defaultdict(set)
    for asset in assets:
        for key in asset_vendor_keys(asset.vendor):
            vocab[key].update(_brandless(key, asset.product or asset.model_number).core)
    return vocab


def _naive_relation(
    e: ProductWords, a: frozenset[str], vocab: set[str]
) -> tuple[MatchField, str] | None:
    best: MatchField | None = None
    for variant in (e, *_respelled(e, vocab)):
        rel = _relation(variant, a)
        if rel is not None and (best is None or _RANK[rel] > _RANK[best]):
            best = rel
    if best is not None:
        return best, ""
    for variant, why in _possible(e, lambda w: set() if w in vocab else {x for x in vocab if _one_edit(w, x)}):
        if _relation(variant, a) is not None:
            return MatchField.POSSIBLE_PRODUCT, why
    return None


def match_advisory_naive(advisory: FlatAdvisory, assets: Sequence[Asset]) -> tuple[Finding, ...]:
    """The same rules without an index: every entry against every asset.

    The reference the indexed matcher is tested against, and the benchmark's baseline.
    """
    per_asset: dict[int, list[EntryMatch]] = defaultdict(list)
    vocab = _naive_vocabulary(assets)
    for facts in _entry_facts(advisory):
        entry = facts.entry
        e_keys = set(vendor_keys(entry.vendor))
        e_cpe, e_purl = _cpe_key(entry.cpe), _purl_key(entry.purl)
        for pos, asset in enumerate(assets):
            a_cpe, a_purl = _cpe_key(asset.cpe), _purl_key(asset.purl)
            a_keys = set(asset_vendor_keys(asset.vendor))
            tie: tuple[MatchField, str] | None = None
            model_tie = None
            if asset.model_number and entry_models(entry) and (not a_keys or a_keys & e_keys):
                own = model_pattern(asset.model_number)
                a_key = model_key(asset.model_number)
                exact = [em for em in entry_models(entry) if model_key(em) == a_key]
                for em in exact + [em for em in entry_models(entry) if em not in exact]:
                    pat = model_pattern(em)
                    if model_key(em) == a_key or (pat is not None and pat.fullmatch(a_key)):
                        model_tie = (MatchField.MODEL_NUMBER, em)
                        break
                    if own is not None and own.fullmatch(model_key(em)):
                        model_tie = (MatchField.MODEL_FAMILY, asset.model_number)
                        break
            if e_cpe and a_cpe and e_cpe[:2] == a_cpe[:2]:
                tie = (MatchField.CPE, entry.cpe or "")
            elif e_purl and a_purl and e_purl[0] == a_purl[0]:
                tie = (MatchField.PURL, entry.purl or "")
            elif model_tie is not None:
                tie = model_tie
            elif a_keys & e_keys and not ((e_cpe and asset.cpe) or (e_purl and asset.purl)) and not is_gap(asset):
                if entry_models(entry) and asset.model_number and not _model_in(asset.model_number, entry_models(entry)):
                    continue
                if entry_models(entry) and not asset.model_number and _named_outside(asset.product, entry_models(entry)):
                    continue
                for key in sorted(a_keys & e_keys):
                    e_words = _brandless(key, entry.product or entry.name)
                    a_words = _brandless(key, asset.product or asset.model_number).core
                    found = _naive_relation(e_words, a_words, vocab[key])
                    if found is not None:
                        if not _excluded(e_words, asset):
                            tie = (found[0], _label(key, a_words, found[1]))
                        break
            if tie is None:
                continue
            vtext = asset_version_text(asset)
            m = _decide(facts, vtext, _parse_asset_version(vtext), *tie,
                        product_words(asset.product).series if asset.product else None)
            if m is not None:
                per_asset[pos].append(m)
    return _findings(advisory.id, assets, per_asset)


__all__ = [
    "InventoryIndex",
    "ModelRange",
    "asset_version_text",
    "model_pattern",
    "ProductWords",
    "match_advisory",
    "match_advisory_naive",
    "match_all",
    "model_key",
    "product_words",
    "vendor_aliases",
    "vendor_keys",
]
