"""Flatten a parsed CSAF 2.0 document into product entries and vulnerability facts.

Input is the document as a dict (JSON already parsed and, normally, validated by
:mod:`zonewarden.io.csaf`). Output is a :class:`~zonewarden.domain.advisories.FlatAdvisory`:

* every product id of ``product_tree`` as one :class:`ProductEntry` with the vendor, product
  name and version (or range) collected along its branch path (CSAF 3.1.2: vendor ->
  product_name -> product_version / product_version_range; ``product_family`` counts as a
  product name), its ``product_identification_helper`` (cpe, purl, model_numbers, skus), and
  for ``relationships`` the product it is installed on or part of;
* every vulnerability with its product status groups, CVSS scores, remediations and what
  the advisory says about exploitation (the sentence, so a person can check it).

Structural problems that make a part unreadable are collected and raised together as one
:class:`InputError` with JSON pointers; tolerable quirks (a range inside ``product_version``,
CSAF mandatory test 6.1.31) are kept on the entry as ``deviations``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from zonewarden.domain.advisories import (
    CvssScore,
    Exploitation,
    ExploitEvidence,
    FlatAdvisory,
    ProductEntry,
    ProductStatus,
    Remediation,
    VersionKind,
    VulnerabilityInfo,
)
from zonewarden.engines.ranges import version_is_range
from zonewarden.errors import InputError, Problem

# dict first: isinstance() then answers parsed JSON without the slower ABC check of Mapping.
_MAPPING = (dict, Mapping)
_STATUS = {member.value: member for member in ProductStatus}
_PRODUCT_CATEGORIES = {"product_name", "product_family"}
_VERSION_CATEGORIES = {"product_version": VersionKind.VERSION, "product_version_range": VersionKind.RANGE}

# Sentences that state exploitation. CISA writes "No known public exploits specifically target
# this vulnerability" in almost every advisory, so negated sentences are skipped first.
_NEGATED = re.compile(r"\bno known\b|\bnot\b|\bno public\b|\bno (?:reports?|evidence)\b", re.I)
_ACTIVE = re.compile(
    r"actively exploited|being exploited|exploited in the wild|known to be exploited|"
    r"reports? of (?:active )?exploitation|exploitations?\b[^.]{0,80}\b(?:has|have) been (?:observed|reported)",
    re.I,
)
_POC = re.compile(
    r"public(?:ly)?\s+(?:available\s+)?exploits?|exploits?\b[^.]{0,60}\bpublicly available|"
    r"proof[- ]of[- ]concept[^.]{0,60}\bpublic|exploit code[^.]{0,40}\bpublic",
    re.I,
)
_SENTENCE = re.compile(r"[^.;\n]+")


# A pure function of the text; the same product_version values recur across advisories.
_is_range = lru_cache(maxsize=8192)(version_is_range)


def _pointer(path: Sequence[str | int]) -> str:
    if not path:
        return ""
    parts = list(map(str, path))
    joined = "/".join(parts)
    if "~" not in joined and joined.count("/") == len(parts) - 1:
        return "/" + joined  # no part needs escaping (the usual case)
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = " ".join(value.split())
        return value or None
    return None


def _scan_exploitation(text: str, *, skip_silent: bool) -> tuple[Exploitation, str] | None:
    best: tuple[Exploitation, str] | None = None
    for m in _SENTENCE.finditer(text):
        sentence = m.group()
        if skip_silent and not _may_state(sentence):
            continue
        sentence = sentence.strip()
        if not sentence or _NEGATED.search(sentence):
            continue
        if _ACTIVE.search(sentence):
            return Exploitation.ACTIVE, sentence
        if best is None and _POC.search(sentence):
            best = (Exploitation.PUBLIC_POC, sentence)
    return best


# Every statement either pattern finds contains "exploit" or "proof". Under re.I those letters
# match only themselves in either case, except "i", which also matches U+0130 and U+0131:
# str.lower() maps neither to "i", so texts holding them take the full scan. In all other texts
# a sentence whose lower-cased form holds neither word cannot make a statement and is skipped
# without the three searches (most advisory text never mentions exploits).
_DOTTED_I = ("\u0130", "\u0131")


def _may_state(text: str) -> bool:
    low = text.lower()
    return "exploit" in low or "proof" in low


@lru_cache(maxsize=2048)
def _exploitation_cached(text: str) -> tuple[Exploitation, str] | None:
    if _DOTTED_I[0] in text or _DOTTED_I[1] in text:
        return _scan_exploitation(text, skip_silent=False)
    if not _may_state(text):
        return None
    return _scan_exploitation(text, skip_silent=True)


def exploitation_in(text: str) -> tuple[Exploitation, str] | None:
    """The strongest exploitation statement in ``text`` and the sentence that makes it.

    Cached: CISA repeats the same notes in every advisory, and the result is immutable.
    """
    if type(text) is str:
        return _exploitation_cached(text)
    return _scan_exploitation(text, skip_silent=False)


def _evidence(notes: Any, path: list[str | int]) -> ExploitEvidence | None:
    best: ExploitEvidence | None = None
    if not isinstance(notes, list):
        return None
    for i, note in enumerate(notes):
        if not isinstance(note, _MAPPING) or not isinstance(note.get("text"), str):
            continue
        hit = exploitation_in(note["text"])
        if hit and (best is None or (hit[0] is Exploitation.ACTIVE and best.level is not Exploitation.ACTIVE)):
            best = ExploitEvidence(level=hit[0], quote=hit[1][:500], pointer=_pointer([*path, i, "text"]))
    return best


class _Walker:
    def __init__(self) -> None:
        self.entries: dict[str, ProductEntry] = {}
        self.problems: list[Problem] = []

    def product(
        self,
        product: Any,
        path: list[str | int],
        vendor: str | None,
        name: str | None,
        version: tuple[str, VersionKind] | None,
    ) -> None:
        if not isinstance(product, _MAPPING):
            self.problems.append(Problem("'product' must be an object with name and product_id", tuple(path)))
            return
        pid = _text(product.get("product_id"))
        full = _text(product.get("name"))
        if pid is None or full is None:
            self.problems.append(Problem("a product needs a non-empty 'product_id' and 'name'", tuple(path)))
            return
        helper = product.get("product_identification_helper") or {}
        if not isinstance(helper, _MAPPING):
            helper = {}
        raw_models, raw_skus = helper.get("model_numbers"), helper.get("skus")
        models = tuple(t for t in (_text(m) for m in raw_models) if t) if raw_models else ()
        skus = tuple(t for t in (_text(m) for m in raw_skus) if t) if raw_skus else ()
        deviations: list[str] = []
        if version and version[1] is VersionKind.VERSION and _is_range(version[0]):
            deviations.append("a range in product_version (CSAF 6.1.31 requires product_version_range)")
        if pid in self.entries:
            # CSAF 6.1.2 (multiple definition of product id): keep the first, say so.
            self.problems.append(Problem(f"product id {pid!r} is defined more than once", tuple(path)))
            return
        self.entries[pid] = ProductEntry(
            product_id=pid,
            name=full,
            vendor=vendor,
            product=name,
            version_text=version[0] if version else None,
            version_kind=version[1] if version else None,
            model_numbers=models,
            skus=skus,
            cpe=_text(helper.get("cpe")),
            purl=_text(helper.get("purl")),
            pointer=_pointer(path),
            deviations=tuple(deviations),
        )

    def branches(
        self,
        branches: Any,
        path: list[str | int],
        vendor: str | None = None,
        name: str | None = None,
        version: tuple[str, VersionKind] | None = None,
    ) -> None:
        if not isinstance(branches, list):
            self.problems.append(Problem("'branches' must be a list", tuple(path)))
            return
        for i, branch in enumerate(branches):
            here = [*path, i]
            if not isinstance(branch, _MAPPING):
                self.problems.append(Problem("a branch must be an object", tuple(here)))
                continue
            category, label = branch.get("category"), _text(branch.get("name"))
            b_vendor, b_name, b_version = vendor, name, version
            if category == "vendor":
                b_vendor = label
            elif category in _PRODUCT_CATEGORIES:
                b_name = label if category == "product_name" or name is None else name
            elif category in _VERSION_CATEGORIES and label is not None:
                b_version = (label, _VERSION_CATEGORIES[category])
            if "product" in branch:
                self.product(branch["product"], [*here, "product"], b_vendor, b_name, b_version)
            if "branches" in branch:
                self.branches(branch["branches"], [*here, "branches"], b_vendor, b_name, b_version)


def _flatten_tree(tree: Any) -> tuple[dict[str, ProductEntry], list[Problem]]:
    walker = _Walker()
    if not isinstance(tree, _MAPPING):
        walker.problems.append(Problem("'product_tree' must be an object", ("product_tree",)))
        return walker.entries, walker.problems
    if "branches" in tree:
        walker.branches(tree["branches"], ["product_tree", "branches"])
    for i, fpn in enumerate(tree.get("full_product_names") or ()):
        walker.product(fpn, ["product_tree", "full_product_names", i], None, _text(fpn.get("name")) if isinstance(fpn, _MAPPING) else None, None)
    for i, rel in enumerate(tree.get("relationships") or ()):
        here = ("product_tree", "relationships", i)
        if not isinstance(rel, _MAPPING):
            walker.problems.append(Problem("a relationship must be an object", here))
            continue
        ref, target = rel.get("product_reference"), rel.get("relates_to_product_reference")
        fpn = rel.get("full_product_name")
        base = walker.entries.get(ref) if isinstance(ref, str) else None
        if base is None:
            walker.problems.append(Problem(f"product_reference {ref!r} is not a product of the tree", (*here, "product_reference")))
            continue
        if not isinstance(fpn, _MAPPING) or not _text(fpn.get("product_id")):
            walker.problems.append(Problem("a relationship needs full_product_name.product_id", (*here, "full_product_name")))
            continue
        pid = _text(fpn["product_id"])
        assert pid is not None
        walker.entries[pid] = base.model_copy(
            update={
                "product_id": pid,
                "name": _text(fpn.get("name")) or base.name,
                "relates_to": (str(target),) if target else (),
                "relationship": _text(rel.get("category")),
                "pointer": _pointer(here),
            }
        )
    return walker.entries, walker.problems


def _vulnerability(
    v: Any, i: int, known: Mapping[str, ProductEntry], problems: list[Problem], made: dict[tuple[Any, ...], Any]
) -> VulnerabilityInfo | None:
    path: list[str | int] = ["vulnerabilities", i]
    if not isinstance(v, _MAPPING):
        problems.append(Problem("a vulnerability must be an object", tuple(path)))
        return None
    status: dict[ProductStatus, tuple[str, ...]] = {}
    for key, ids in (v.get("product_status") or {}).items():
        try:
            group = _STATUS.get(key) or ProductStatus(key)
        except (ValueError, TypeError):
            problems.append(Problem(f"unknown product status group {key!r}", (*path, "product_status", key)))
            continue
        if not isinstance(ids, list):
            problems.append(Problem("a product status group is a list of product ids", (*path, "product_status", key)))
            continue
        try:
            complete = known.keys() >= set(ids)
        except TypeError:  # an unhashable id: the loop below says which
            complete = False
        if complete:  # the usual case, in one C-level pass
            status[group] = tuple(sorted(map(str, ids)))
            continue
        for j, pid in enumerate(ids):
            if pid not in known:
                # CSAF 6.1.1 (missing definition of product id): the reference cannot be matched.
                problems.append(Problem(f"product id {pid!r} is not defined in the product tree", (*path, "product_status", key, j)))
        status[group] = tuple(sorted(str(p) for p in ids if p in known))
    scores = []
    for j, s in enumerate(v.get("scores") or ()):
        if not isinstance(s, _MAPPING):
            continue
        for key in ("cvss_v3", "cvss_v2"):
            c = s.get(key)
            if isinstance(c, _MAPPING) and isinstance(c.get("vectorString"), str):
                base = c.get("baseScore")
                args = (
                    "score",
                    str(c.get("version") or key[-1]),
                    c["vectorString"],
                    float(base) if isinstance(base, (int, float)) else None,
                    tuple(map(str, s.get("products") or ())),
                )
                # Advisories repeat the same score for several vulnerabilities: one frozen
                # model per distinct input (0.0 is not shared, it equals -0.0).
                score = made.get(args) if args[3] != 0.0 else None
                if score is None:
                    score = CvssScore(version=args[1], vector=args[2], base_score=args[3], products=args[4])
                    if args[3] != 0.0:
                        made[args] = score
                scores.append(score)
            elif key in s:
                problems.append(Problem(f"{key} has no vectorString", (*path, "scores", j, key)))
    remediations = []
    for j, r in enumerate(v.get("remediations") or ()):
        if not isinstance(r, _MAPPING) or not isinstance(r.get("category"), str):
            problems.append(Problem("a remediation needs a category", (*path, "remediations", j)))
            continue
        details, url = r.get("details"), r.get("url")
        product_ids = tuple(map(str, r.get("product_ids") or ()))
        # Keyed on the raw texts (normalised only once per distinct remediation); other types
        # (not hashable, or not str) are built every time.
        cacheable = (details is None or type(details) is str) and (url is None or type(url) is str)
        args = ("remediation", r["category"], details, url, product_ids)
        remediation = made.get(args) if cacheable else None
        if remediation is None:
            remediation = Remediation(category=r["category"], details=_text(details) or "", product_ids=product_ids, url=_text(url))
            if cacheable:
                made[args] = remediation
        remediations.append(remediation)
    evidence = _evidence(v.get("notes"), [*path, "notes"])
    for j, t in enumerate(v.get("threats") or ()):
        if isinstance(t, _MAPPING) and t.get("category") == "exploit_status" and isinstance(t.get("details"), str):
            hit = exploitation_in(t["details"])
            if hit and (evidence is None or hit[0] is Exploitation.ACTIVE):
                evidence = ExploitEvidence(level=hit[0], quote=hit[1][:500], pointer=_pointer([*path, "threats", j, "details"]))
    cwe = v.get("cwe")
    return VulnerabilityInfo(
        cve=_text(v.get("cve")),
        title=_text(v.get("title")),
        cwe=_text(cwe.get("id")) if isinstance(cwe, _MAPPING) else None,
        status=status,
        scores=tuple(scores),
        remediations=tuple(remediations),
        exploitation=evidence,
        pointer=f"/vulnerabilities/{i}",
    )


def _date(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def advisory_title(doc: Mapping[str, Any]) -> str | None:
    """The title :func:`flatten_advisory` gives the advisory: ``/document/title`` with its
    whitespace collapsed, else the tracking id (``None`` when neither is a non-blank string)."""
    document = doc.get("document") if isinstance(doc, _MAPPING) else None
    if not isinstance(document, _MAPPING):
        return None
    tracking = document.get("tracking")
    return _text(document.get("title")) or (_text(tracking.get("id")) if isinstance(tracking, _MAPPING) else None)


def flattens_leniently(doc: Mapping[str, Any]) -> bool:
    """Whether lenient :func:`flatten_advisory` of ``doc`` is sure not to raise ``InputError``,
    decided without flattening (issue 17, speed 1: ingest with no site to match defers the
    flattening to the first match).

    Lenient flattening raises only when the advisory has no tracking id, or when its product
    tree yields no entry at all and has a problem. A tree yields an entry as soon as one
    product object with a non-blank ``product_id`` and ``name`` is reached the way
    :class:`_Walker` reaches them (the first such product cannot be a duplicate). The search
    stops at that product, usually the first leaf. ``False`` means "not sure": flatten to
    know. Type faults that make flattening fail otherwise are :mod:`zonewarden.io.csaf.shape`'s
    to refuse first.
    """
    document = doc.get("document") if isinstance(doc, _MAPPING) else None
    tracking = document.get("tracking") if isinstance(document, _MAPPING) else None
    if not isinstance(tracking, _MAPPING) or _text(tracking.get("id")) is None:
        return False
    tree = doc.get("product_tree", {})
    if not isinstance(tree, _MAPPING):
        return False
    if not any(key in tree for key in ("branches", "full_product_names", "relationships")):
        return True  # nothing to read, nothing to fail on: an advisory with an empty tree
    # Depth first, into the first child at once: the first leaf usually holds a product.
    top = tree.get("branches")
    stack: list[Any] = [iter(top)] if isinstance(top, list) else []
    while stack:
        for branch in stack[-1]:
            if not isinstance(branch, _MAPPING):
                continue
            if "product" in branch and _readable_product(branch["product"]):
                return True
            children = branch.get("branches")
            if isinstance(children, list):
                stack.append(iter(children))
                break
        else:
            stack.pop()
    fpns = tree.get("full_product_names")
    return isinstance(fpns, list) and any(map(_readable_product, fpns))


def _readable_product(product: Any) -> bool:
    return isinstance(product, _MAPPING) and _text(product.get("product_id")) is not None \
        and _text(product.get("name")) is not None


def flatten_advisory(doc: Mapping[str, Any], *, source: str | None = None, strict: bool = False) -> FlatAdvisory:
    """Flatten a parsed CSAF document; see the module docstring.

    With ``strict`` any problem raises; otherwise only problems that leave nothing to match
    (no document id, no readable product tree) raise, and dangling references are dropped
    from the status groups.
    """
    problems: list[Problem] = []
    document = doc.get("document") if isinstance(doc, _MAPPING) else None
    if not isinstance(document, _MAPPING):
        raise InputError(f"{source or '<input>'}: not a CSAF document", [Problem("'document' is missing", ("document",), file=source)])
    raw_tracking = document.get("tracking")
    tracking: Mapping[str, Any] = raw_tracking if isinstance(raw_tracking, _MAPPING) else {}
    doc_id = _text(tracking.get("id"))
    if doc_id is None:
        problems.append(Problem("document.tracking.id is missing", ("document", "tracking", "id")))
    entries, tree_problems = _flatten_tree(doc.get("product_tree", {}))
    problems += tree_problems
    vulns = []
    raw_vulns = doc.get("vulnerabilities") or []
    made: dict[tuple[Any, ...], Any] = {}
    for i, v in enumerate(raw_vulns if isinstance(raw_vulns, list) else []):
        info = _vulnerability(v, i, entries, problems, made)
        if info is not None:
            vulns.append(info)
    fatal = doc_id is None or (not entries and bool(tree_problems))
    if problems and (strict or fatal):
        located = [Problem(p.message, p.path, file=source) for p in problems]
        raise InputError(f"{source or doc_id or '<input>'}: cannot read the advisory's products", located)
    raw_publisher = document.get("publisher")
    publisher: Mapping[str, Any] = raw_publisher if isinstance(raw_publisher, _MAPPING) else {}
    assert doc_id is not None
    return FlatAdvisory(
        id=doc_id,
        title=_text(document.get("title")) or doc_id,
        revision=_text(tracking.get("version")),
        current_release_date=_date(tracking.get("current_release_date")),
        publisher=_text(publisher.get("name")),
        products=tuple(sorted(entries.values(), key=lambda e: e.product_id)),
        vulnerabilities=tuple(vulns),
        exploitation=_evidence(document.get("notes"), ["document", "notes"]),
    )


__all__ = ["advisory_title", "exploitation_in", "flatten_advisory", "flattens_leniently"]
