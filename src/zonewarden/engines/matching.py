"""Advisory x inventory -> findings: affected, not affected, fixed or needs review.

How an asset is tied to a product entry of an advisory, strongest first:

1. **CPE / purl**: when the entry and the asset both carry one, vendor and product of the
   CPE (or type/namespace/name of the purl) must be equal. Then names are not consulted.
2. **Model number**: the asset's model number is one of the entry's
   ``product_identification_helper.model_numbers`` (same vendor).
3. **Vendor + product name**: vendor names are normalised and mapped through the alias table
   (``engines/data/vendor_aliases.json``: "Siemens AG" = "Siemens", "Rockwell" = "Rockwell
   Automation"); product names become word sets. Equal sets are a *product-name* match; an
   advisory naming a family whose words are all in the asset's product (``SIMATIC S7-1500``
   vs the asset's ``SIMATIC S7-1500 CPU 1516-3 PN/DP``) is a *product-family* match; an
   asset product that is only part of the advisory's (``SIMATIC S7-1500`` vs ``SIMATIC S7-1500
   CPU 1510SP F-1 PN``) is *product-partial*: ambiguous, so it needs review unless the version
   alone rules the entry out. Words in parentheses (``(PST)``, ``(TIA Portal)``) are optional.
   A series in the name (``... (TIA Portal) V14``) must agree with the asset's version.

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
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import combinations

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
from zonewarden.engines.ranges import Range, VersionRange, parse_range
from zonewarden.engines.versions import OTVersion, VersionError, parse_version
from zonewarden.runtime import gc_paused

# --- names ----------------------------------------------------------------------------

_LEGAL = frozenset(
    "inc incorporated llc ltd ltda limited co corp corporation company gmbh ag sa se spa plc kg "
    "bv nv oy ab as pte pty srl sro me the".split()
)
_VENDOR_NOISE = re.compile(r"\b(?:a|an)\s+(?:subsidiary|affiliate|division|brand)\s+of\b|\bformerly\b", re.I)
_PRODUCT_STOP = frozenset(
    "all versions version and earlier prior later the for of with only series family products product "
    "devices device firmware software models model".split()
)
_SERIES = re.compile(r"(?<![\w.])v(\d+(?:\.\d+)*)(?:\.x)?(?![\w.])(?P<upto>\s+(?:and|or)\s+(?:prior|earlier|older|below|lower))?", re.I)
_PARENS = re.compile(r"\(([^()]*)\)")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Lower case without accents; repairs UTF-8 read as Latin-1 (CISA's ``GeutebrÃ¼ck``)."""
    if "Ã" in text or "Â" in text:
        try:
            text = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _vendor_words(text: str) -> str:
    words = [w for w in _NON_ALNUM.sub(" ", _fold(text)).split() if w not in _LEGAL]
    return " ".join(words)


@lru_cache(maxsize=1)
def vendor_aliases() -> dict[str, str]:
    """Normalised spelling -> canonical vendor key, from the packaged alias table."""
    raw = json.loads(resources.files("zonewarden.engines").joinpath("data/vendor_aliases.json").read_text("utf-8"))
    out: dict[str, str] = {}
    for canonical, spellings in raw.items():
        if canonical.startswith("_"):
            continue
        key = _vendor_words(canonical)
        for spelling in (canonical, *spellings):
            norm = _vendor_words(spelling)
            if out.get(norm, key) != key:
                raise ValueError(f"vendor alias {spelling!r} belongs to both {out[norm]!r} and {key!r}")
            out[norm] = key
    return out


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
    whole = _vendor_words(_PARENS.sub(" ", name))
    keys: set[str] = set()
    if whole in aliases:
        keys.add(aliases[whole])
    parts = [p for p in (_vendor_words(x) for x in re.split(r",|\band\b|&|/", text)) if p]
    for part in parts:
        if part in aliases:
            keys.add(aliases[part])
    if not keys:
        # Not in the table: the whole name is the key, and "X, Y" names also give X and Y.
        keys.add(whole)
        if len(parts) > 1:
            keys.update(parts)
    return tuple(sorted(k for k in keys if k))


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


@lru_cache(maxsize=65536)
def product_words(name: str | None) -> ProductWords:
    """``"SIMATIC STEP 7 (TIA Portal) V13"`` -> core {simatic, step, 7}, full + {tia, portal}, series (13,)."""
    if not name:
        return ProductWords(frozenset(), frozenset(), None)
    text = _fold(name)
    series, upto = None, False
    m = _SERIES.search(text)
    if m:
        series = tuple(int(p) for p in m.group(1).split("."))
        upto = bool(m.group("upto"))
        text = _SERIES.sub(" ", text)
    inner = " ".join(_PARENS.findall(text))
    outer = _PARENS.sub(" ", text)

    def words(t: str) -> frozenset[str]:
        return frozenset(w for w in _NON_ALNUM.sub(" ", t).split() if w not in _PRODUCT_STOP)

    core = words(outer)
    return ProductWords(core, core | words(inner), series, upto)


@lru_cache(maxsize=65536)
def model_key(model: str) -> str:
    return _NON_ALNUM.sub("", _fold(model))


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


# --- the index ------------------------------------------------------------------------


class InventoryIndex:
    """Assets indexed for matching. Build once, match many advisories against it.

    Assets that look the same to matching (same vendor keys, product name, model number,
    version, CPE and purl: a plant's fifty identical drives) form one *class*; each class is
    decided once per product entry and the result is shared by its members.
    """

    def __init__(self, assets: Iterable[Asset]) -> None:
        self.assets: tuple[Asset, ...] = tuple(assets)
        # vendor key -> product words (core) -> class ids
        self._by_vendor: dict[str, dict[frozenset[str], list[int]]] = defaultdict(lambda: defaultdict(list))
        # vendor key -> word -> product word sets containing it
        self._postings: dict[str, dict[str, set[frozenset[str]]]] = defaultdict(lambda: defaultdict(set))
        self._no_product: dict[str, list[int]] = defaultdict(list)
        self._by_model: dict[str, list[int]] = defaultdict(list)
        self._by_cpe: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._by_purl: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        self._class_of: dict[tuple[object, ...], int] = {}
        self.members: list[list[int]] = []
        """Members of each class as *ranks*: positions in asset-id order (see ``sorted_ids``)."""
        self._rep: list[Asset] = []
        self._vendors: list[tuple[str, ...]] = []
        self._versions: list[OTVersion | None | str] = []
        # Findings come out sorted by asset id. Working in rank space (asset-id order) lets a
        # plain integer sort order them, which is several times cheaper than sorting by key.
        order = sorted(range(len(self.assets)), key=lambda p: self.assets[p].id)
        self.sorted_ids: tuple[str, ...] = tuple(self.assets[p].id for p in order)
        for rank, pos in enumerate(order):
            asset = self.assets[pos]
            key = (asset.vendor, asset.product, asset.model_number, asset.version, asset.cpe, asset.purl)
            cid = self._class_of.get(key)
            if cid is None:
                cid = self._class_of[key] = len(self.members)
                self.members.append([])
                self._rep.append(asset)
                self._add_class(cid, asset)
            self.members[cid].append(rank)
        self._relations: dict[tuple[str, frozenset[str], frozenset[str]], tuple[tuple[frozenset[str], MatchField], ...]] = {}
        # vendor key -> word set -> version text -> classes: one decision per version text.
        self._by_version: dict[str, dict[frozenset[str], dict[str | None, list[int]]]] = {}
        for vkey, groups in self._by_vendor.items():
            per_ws: dict[frozenset[str], dict[str | None, list[int]]] = {}
            for ws, cids in groups.items():
                by_text: dict[str | None, list[int]] = defaultdict(list)
                for cid in cids:
                    by_text[self._rep[cid].version].append(cid)
                per_ws[ws] = dict(by_text)
            self._by_version[vkey] = per_ws

    def _add_class(self, cid: int, asset: Asset) -> None:
        keys = vendor_keys(asset.vendor)
        self._vendors.append(keys)
        words = product_words(asset.product)
        for key in keys:
            if words.core:
                self._by_vendor[key][words.core].append(cid)
                for w in words.core:
                    self._postings[key][w].add(words.core)
            else:
                self._no_product[key].append(cid)
        if asset.model_number:
            self._by_model[model_key(asset.model_number)].append(cid)
        ck = _cpe_key(asset.cpe)
        if ck:
            self._by_cpe[ck[:2]].append(cid)
        pk = _purl_key(asset.purl)
        if pk:
            self._by_purl[pk[0]].append(cid)
        self._versions.append(_parse_asset_version(asset.version))

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

    def related(self, vendor: str, words: ProductWords) -> tuple[tuple[frozenset[str], MatchField], ...]:
        """Asset product word sets of ``vendor`` related to the entry's words, with the relation."""
        cache_key = (vendor, words.core, words.full)
        hit = self._relations.get(cache_key)
        if hit is not None:
            return hit
        groups = self._by_vendor.get(vendor)
        out: dict[frozenset[str], MatchField] = {}
        if groups and words.core:
            postings = self._postings[vendor]
            # Family: every core word of the entry is in the asset's product.
            lists = sorted((postings.get(w, set()) for w in words.core), key=len)
            family = set(lists[0]).intersection(*lists[1:]) if lists and lists[0] else set()
            for ws in family:
                out[ws] = MatchField.PRODUCT_NAME if ws in (words.core, words.full) else MatchField.PRODUCT_FAMILY
            if words.full in groups:
                out[words.full] = MatchField.PRODUCT_NAME
            # Partial: the asset's words are a proper part of the entry's (incl. parentheses).
            if len(words.full) <= 10:
                for size in range(1, len(words.full)):
                    for combo in combinations(sorted(words.full), size):
                        ws = frozenset(combo)
                        if ws in groups and ws not in out:
                            out[ws] = MatchField.PRODUCT_PARTIAL
            else:
                for w in words.full:
                    for ws in postings.get(w, ()):
                        if ws < words.full and ws not in out:
                            out[ws] = MatchField.PRODUCT_PARTIAL
        result = tuple(sorted(out.items(), key=lambda kv: sorted(kv[0])))
        self._relations[cache_key] = result
        return result

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
        for model in entry.model_numbers:
            for cid in self._by_model.get(model_key(model), ()):
                vendors = self._vendors[cid]
                if not vendors or keyset.intersection(vendors):
                    found.setdefault(cid, (MatchField.MODEL_NUMBER, model))
        words = product_words(entry.product or entry.name)
        entry_models = {model_key(m) for m in entry.model_numbers}
        for key in keys:
            groups = self._by_vendor.get(key)
            if not groups:
                continue
            for ws, relation in self.related(key, words):
                label = f"{key}: {' '.join(sorted(ws))}"
                for cid in groups[ws]:
                    if cid in found:
                        continue
                    asset = self._rep[cid]
                    # Both sides identified by CPE/purl: the identifiers decide, not the names.
                    if (entry_cpe and asset.cpe) or (entry_purl and asset.purl):
                        continue
                    # A different model number of the same family is a different device.
                    if entry_models and asset.model_number and model_key(asset.model_number) not in entry_models:
                        continue
                    found[cid] = (relation, label)
        return found

    def name_ties(self, entry: ProductEntry) -> list[tuple[MatchField, str, list[int]]] | None:
        """Name-based ties grouped by asset version: ``(relation, value, classes)``.

        The common case (one vendor key, no CPE, purl or model numbers on the entry) needs no
        per-class checks, so whole groups of classes share one decision. None when the entry
        needs :meth:`candidates`.
        """
        if entry.cpe or entry.purl or entry.model_numbers:
            return None
        keys = vendor_keys(entry.vendor)
        if len(keys) != 1:
            return None
        key = keys[0]
        per_ws = self._by_version.get(key)
        if not per_ws:
            return []
        out = []
        for ws, relation in self.related(key, product_words(entry.product or entry.name)):
            label = f"{key}: {' '.join(sorted(ws))}"
            out += [(relation, label, cids) for cids in per_ws[ws].values()]
        return out

    def vendor_only(self, entry: ProductEntry) -> list[int]:
        """Classes of the entry's vendor that have no product name (cannot be told apart)."""
        out: list[int] = []
        for key in vendor_keys(entry.vendor):
            out += self._no_product.get(key, ())
        return out


@lru_cache(maxsize=65536)
def _parse_asset_version(text: str | None) -> OTVersion | None | str:
    if text is None:
        return None
    try:
        return parse_version(text)
    except VersionError as exc:
        return exc.problems[0].message if exc.problems else str(exc)


# --- deciding one entry for one asset ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _EntryFacts:
    entry: ProductEntry
    range: Range | None
    groups: tuple[tuple[ProductStatus, tuple[str, ...]], ...]
    series: tuple[int, ...] | None
    series_upto: bool
    range_description: str
    range_text: str | None


def _entries_with_status(
    advisory: FlatAdvisory,
) -> Iterator[tuple[ProductEntry, dict[ProductStatus, list[str]]]]:
    """Product entries some vulnerability gives a status, with the vulnerabilities per group."""
    by_pid: dict[str, dict[ProductStatus, list[str]]] = defaultdict(lambda: defaultdict(list))
    for i, vuln in enumerate(advisory.vulnerabilities):
        label = vuln.cve or vuln.title or f"vulnerability {i + 1}"
        for group, ids in vuln.status.items():
            for pid in ids:
                by_pid[pid][group].append(label)
    for entry in advisory.products:
        groups = by_pid.get(entry.product_id)
        if groups:
            yield entry, groups


def _facts_of(entry: ProductEntry, groups: Mapping[ProductStatus, list[str]]) -> _EntryFacts:
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
    )


def _entry_facts(advisory: FlatAdvisory) -> list[_EntryFacts]:
    return [_facts_of(entry, groups) for entry, groups in _entries_with_status(advisory)]


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
    facts: _EntryFacts, asset: Asset, version: OTVersion | None | str, relation: MatchField, value: str
) -> EntryMatch | None:
    if facts.series is not None and isinstance(version, OTVersion) and version.scheme == "number":
        if facts.series_upto:
            if version.release[: len(facts.series)] > facts.series:
                return None  # "... V7.2 and prior" entry, asset on 7.4: a later release line
        elif not version.startswith(facts.series):
            return None  # "... V14" entry, asset on 13.x: another release line of the product
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
        if relation is MatchField.PRODUCT_PARTIAL and status is not FindingStatus.NOT_AFFECTED:
            status, reason = FindingStatus.NEEDS_REVIEW, ReviewReason.PRODUCT_AMBIGUOUS
        if status is not FindingStatus.NEEDS_REVIEW:
            reason = None
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
            asset.version,
            hit,
            version_reason,
            rng.conditions if rng is not None else (),
            status,
            reason,
            cves,
        )
    return best


_SEVERITY = {s: s.severity for s in FindingStatus}
_VAGUE = frozenset({MatchField.PRODUCT_PARTIAL, MatchField.VENDOR_ONLY})
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


def _no_product_match(facts: _EntryFacts, asset: Asset) -> EntryMatch:
    return EntryMatch(
        facts.entry.product_id,
        facts.entry.name,
        MatchField.VENDOR_ONLY,
        ", ".join(vendor_keys(asset.vendor)),
        facts.groups[0][0],
        facts.range_text,
        facts.range_description,
        asset.version,
        None,
        None,
        (),
        FindingStatus.NEEDS_REVIEW,
        ReviewReason.PRODUCT_AMBIGUOUS,
        tuple(sorted({c for _, cs in facts.groups for c in cs})),
    )


def match_advisory(advisory: FlatAdvisory, index: InventoryIndex) -> tuple[Finding, ...]:
    """Findings of one advisory against an indexed inventory, sorted by asset id."""
    with gc_paused():
        return _match_advisory(advisory, index)


def _match_advisory(advisory: FlatAdvisory, index: InventoryIndex) -> tuple[Finding, ...]:
    per_class: dict[int, list[EntryMatch]] = defaultdict(list)
    vendor_only: dict[int, EntryMatch] = {}
    for entry, groups in _entries_with_status(advisory):
        # An entry's decision depends only on how the asset was tied to it and on its version
        # text, so classes that share both share the (immutable) match.
        ties = index.name_ties(entry)
        candidates = index.candidates(entry) if ties is None else {}
        vendor_only_ids = index.vendor_only(entry)
        if not ties and not candidates and not vendor_only_ids:
            continue  # no asset is tied to this entry: its range need not even be parsed
        facts = _facts_of(entry, groups)
        if ties is not None:
            for relation, value, cids in ties:
                m = _decide(facts, index.representative(cids[0]), index.version_of(cids[0]), relation, value)
                if m is not None:
                    for cid in cids:
                        per_class[cid].append(m)
        decided: dict[tuple[MatchField, str, str | None], EntryMatch | None] = {}
        for cid, (relation, value) in candidates.items():
            rep = index.representative(cid)
            key = (relation, value, rep.version)
            if key in decided:
                m = decided[key]
            else:
                m = decided[key] = _decide(facts, rep, index.version_of(cid), relation, value)
            if m is not None:
                per_class[cid].append(m)
        for cid in vendor_only_ids:
            vendor_only.setdefault(cid, _no_product_match(facts, index.representative(cid)))
    for cid, m in vendor_only.items():
        if cid not in per_class:
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


def match_advisory_naive(advisory: FlatAdvisory, assets: Sequence[Asset]) -> tuple[Finding, ...]:
    """The same rules without an index: every entry against every asset.

    The reference the indexed matcher is tested against, and the benchmark's baseline.
    """
    per_asset: dict[int, list[EntryMatch]] = defaultdict(list)
    vendor_only: dict[int, EntryMatch] = {}
    for facts in _entry_facts(advisory):
        entry = facts.entry
        e_keys = set(vendor_keys(entry.vendor))
        e_words = product_words(entry.product or entry.name)
        e_models = {model_key(m) for m in entry.model_numbers}
        e_cpe, e_purl = _cpe_key(entry.cpe), _purl_key(entry.purl)
        for pos, asset in enumerate(assets):
            a_cpe, a_purl = _cpe_key(asset.cpe), _purl_key(asset.purl)
            a_keys = set(vendor_keys(asset.vendor))
            tie: tuple[MatchField, str] | None = None
            if e_cpe and a_cpe and e_cpe[:2] == a_cpe[:2]:
                tie = (MatchField.CPE, entry.cpe or "")
            elif e_purl and a_purl and e_purl[0] == a_purl[0]:
                tie = (MatchField.PURL, entry.purl or "")
            elif asset.model_number and model_key(asset.model_number) in e_models and (not a_keys or a_keys & e_keys):
                tie = (MatchField.MODEL_NUMBER, next(m for m in entry.model_numbers if model_key(m) == model_key(asset.model_number)))
            elif a_keys & e_keys and not ((e_cpe and asset.cpe) or (e_purl and asset.purl)):
                a_words = product_words(asset.product).core
                if not a_words:
                    vendor_only.setdefault(pos, _no_product_match(facts, asset))
                    continue
                if e_models and asset.model_number and model_key(asset.model_number) not in e_models:
                    continue
                relation = None
                if not e_words.core:
                    pass
                elif a_words in (e_words.core, e_words.full):
                    relation = MatchField.PRODUCT_NAME
                elif e_words.core <= a_words:
                    relation = MatchField.PRODUCT_FAMILY
                elif a_words < e_words.full:
                    relation = MatchField.PRODUCT_PARTIAL
                if relation is not None:
                    key = sorted(a_keys & e_keys)[0]
                    tie = (relation, f"{key}: {' '.join(sorted(a_words))}")
            if tie is None:
                continue
            m = _decide(facts, asset, _parse_asset_version(asset.version), *tie)
            if m is not None:
                per_asset[pos].append(m)
    for pos, m in vendor_only.items():
        if pos not in per_asset:
            per_asset[pos].append(m)
    return _findings(advisory.id, assets, per_asset)


__all__ = [
    "InventoryIndex",
    "ProductWords",
    "match_advisory",
    "match_advisory_naive",
    "match_all",
    "model_key",
    "product_words",
    "vendor_aliases",
    "vendor_keys",
]
