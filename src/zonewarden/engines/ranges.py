"""Affected-version ranges as they really appear in ICS advisories.

CSAF wants ``product_version_range`` to be a ``vers:`` string; CISA's feed mostly is not:
``< V2.9 SP1``, ``<= 2016 R2``, ``All versions < V4.7 SP4 HF2``, ``vers:all/<V7.0.3`` (not
valid vers: ``vers:all`` allows only ``*``), ``2.0.3 (including) and 2.0.6 (excluding)``,
``prior to 5.1``, ``versions 3.0 through 3.4``, ``V1.0 and later``, ``1.5.x | 1.6.x``, and
ranges inside ``product_version`` (which CSAF mandatory test 6.1.31 forbids).

:func:`parse_range` turns such a text into a :class:`VersionRange` (a union of intervals over
:class:`~zonewarden.engines.versions.OTVersion`) or an :class:`UnparsedRange` carrying the
reason. Both answer ``contains(version)`` with ``True``, ``False`` or ``None`` (cannot tell);
an unparsed range always answers ``None``, so nothing unparseable is ever "not affected".

Remarks in parentheses (``(only Microsoft Windows versions are affected)``) and trailing
conditions (``All versions with OIS Extension Module``) are kept in ``conditions``: the
version alone does not decide those, and the matcher asks a human.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from zonewarden.engines.versions import OTVersion, VersionError, comparable, parse_version


class RangeForm(StrEnum):
    """How the text was written (for statistics and for the deviation notes of ingest)."""

    VERS = "vers"
    """A valid ``vers:`` URI."""
    VERS_INVALID = "vers-invalid"
    """``vers:`` syntax with a bad version or a non-``*`` ``vers:all`` (CISA's ``vers:all/<V7``)."""
    ALL = "all"
    """``All versions``, ``*``."""
    COMPARATOR = "comparator"
    """Operators and versions: ``< V2.9 SP1``, ``>= 1.0 | <= 2.0``."""
    PROSE = "prose"
    """English around versions: ``prior to 5.1``, ``3.0 through 3.4``, ``1.0 and later``."""
    SINGLE = "single"
    """One version, or a list of versions."""


class Unparsed(StrEnum):
    """Why a range text could not be read; stable codes for reports."""

    EMPTY = "empty"
    NOT_A_VERSION = "not-a-version"
    """A bound is not a version (prose, model or serial number, production date)."""
    DATE_IN_WORDS = "date-in-words"
    SERIAL_OR_DATE = "serial-or-production-date"
    """The bound is on a serial number or a production date, not a version."""
    EMPTY_INTERVAL = "empty-interval"
    """``>= 3 | <= 2``: contradicts itself."""


@dataclass(frozen=True, slots=True)
class Bound:
    version: OTVersion
    inclusive: bool

    def __str__(self) -> str:
        return self.version.format()


@dataclass(frozen=True, slots=True)
class Interval:
    """``lower <= v <= upper`` (each end open or closed, or absent), or a ``1.5.x`` prefix."""

    lower: Bound | None = None
    upper: Bound | None = None
    prefix: tuple[int, ...] | None = None

    def contains(self, v: OTVersion) -> bool | None:
        if self.prefix is not None:
            return v.startswith(self.prefix) if v.scheme == "number" else None
        key, scheme = v.key, v.scheme
        lo, hi = self.lower, self.upper
        if lo is not None:
            if lo.version.scheme != scheme:
                return None
            if key < lo.version.key or (not lo.inclusive and key == lo.version.key):
                return False if hi is None or hi.version.scheme == scheme else None
        if hi is not None:
            if hi.version.scheme != scheme:
                return None
            if key > hi.version.key or (not hi.inclusive and key == hi.version.key):
                return False
        return True

    def __str__(self) -> str:
        if self.prefix is not None:
            return ".".join(map(str, self.prefix)) + ".x"
        if self.lower and self.upper and self.lower.version == self.upper.version:
            return f"= {self.lower}"
        parts = []
        if self.lower:
            parts.append((">= " if self.lower.inclusive else "> ") + str(self.lower))
        if self.upper:
            parts.append(("<= " if self.upper.inclusive else "< ") + str(self.upper))
        return " and ".join(parts) or "all versions"


@dataclass(frozen=True, slots=True)
class VersionRange:
    """A parsed range: the union of ``intervals``. ``()`` never happens; all = one open interval."""

    text: str
    intervals: tuple[Interval, ...]
    form: RangeForm
    conditions: tuple[str, ...] = ()
    """Remarks the version cannot decide (``with OIS Extension Module``)."""
    deviations: tuple[str, ...] = ()
    """How the text departs from CSAF/vers (for lenient ingest to record)."""
    notes: tuple[str, ...] = ()
    """Informative remarks that do not restrict the range (``(2.1.670)``)."""

    is_all: bool = field(init=False, default=False)
    """Whether the range covers every version (computed once: matching asks per asset)."""

    parsed = True

    _description: str = field(init=False, default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        everything = any(i.lower is None and i.upper is None and i.prefix is None for i in self.intervals)
        object.__setattr__(self, "is_all", everything)
        text = " or ".join(str(i) for i in self.intervals) + "".join(f" [{c}]" for c in self.conditions)
        object.__setattr__(self, "_description", text)

    def contains(self, version: OTVersion | str | None) -> bool | None:
        """True/False when the version decides it; None when it cannot be compared.

        None for a missing or unparseable version (unless the range is all versions) and for a
        version of another scheme (``R9C`` against ``< 4.2``). True wins over None: a version
        inside any interval is inside the range.
        """
        if self.is_all:
            return True
        if version is None:
            return None
        if isinstance(version, str):
            try:
                version = parse_version(version)
            except VersionError:
                return None
        unknown = False
        for interval in self.intervals:
            hit = interval.contains(version)
            if hit:
                return True
            if hit is None:
                unknown = True
        return None if unknown else False

    def describe(self) -> str:
        """Normalised text: ``>= 2.0.3 and < 2.0.6``, ``< 2.9 SP1 or = 3.0``."""
        return self._description


@dataclass(frozen=True, slots=True)
class UnparsedRange:
    """A range text we could not read: membership is always unknown."""

    text: str
    reason: Unparsed
    message: str

    parsed = False
    conditions: tuple[str, ...] = ()
    deviations: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    is_all = False

    def contains(self, version: OTVersion | str | None) -> None:
        return None

    def describe(self) -> str:
        return f"unparsed ({self.reason}): {self.message}"


Range = VersionRange | UnparsedRange


class _Fail(Exception):
    def __init__(self, reason: Unparsed, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)


_OPS = {"<": (False, False), "<=": (False, True), ">": (True, False), ">=": (True, True), "=": (None, True)}
_OP_RE = re.compile(r"(<=|>=|=<|=>|<|>|==|=)")
_MONTHS = re.compile(
    r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(tember)?|oct(ober)?|nov(ember)?|dec(ember)?)\b",
    re.I,
)
_SERIAL = re.compile(r"serial|production|manufactur|shipped|\bdated?\b", re.I)
_ALL = re.compile(
    r"^(?:all(?:\s+(?:affected|bios|firmware|software|product|supported))?(?:\s+(?:versions?|releases))?|\*|any\s+versions?)(?=\s|$|:)",
    re.I,
)
_VERSIONS_WORD = re.compile(r"^(all\s+)?(software\s+|firmware\s+)?(versions?|releases?|firmware|ver\.?)\s*:?\s*(?=[<>=]|v?\d|prior|before|up|from|through)", re.I)
_PAREN = re.compile(r"(?:^|\s)\(([^()]*)\)")
_INCL = re.compile(r"\s*\((including|inclusive|excluding|exclusive)\)", re.I)
_WILDCARD = re.compile(r"^[vV]?(\d+(?:\.\d+)*)\.?\s*[xX*](?:\.[xX*])*$")
_CONDITION = re.compile(r"\s+((?:with|when|if|using|running|only|in\s+(?:non-)?default)\b.*)$", re.I)
_RESTRICTS = re.compile(r"(only|with|when|if|using|running|except|not\b|in\s+(?:non-)?default|including)", re.I)
_WORD_PREFIX = re.compile(r"^(?:firmware|software|fw|sw|version)[\s_:]*(?=[vV]?\d)", re.I)

# English forms, tried in order on the whole (condition-free) text.
_PROSE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?:prior\s+to|before|earlier\s+than|older\s+than|lower\s+than|below|up\s+to\s+but\s+not\s+including)\s+(?P<a>.+)$", re.I), "<"),
    (re.compile(r"^(?:up\s+to(?:\s+and\s+including)?|through|until)\s+(?P<a>.+)$", re.I), "<="),
    (re.compile(r"^(?P<a>.+?)\s+(?:and|or)\s+(?:later|newer|above|higher|greater|after)$", re.I), ">="),
    (re.compile(r"^(?P<a>.+?)\s+(?:and|or)\s+(?:earlier|prior|older|below|lower|before)(?:\s+versions?)?$", re.I), "<="),
    (re.compile(r"^(?:from|since|starting\s+(?:with|from)|after)\s+(?P<a>.+)$", re.I), ">="),
    (re.compile(r"^(?P<a>[vV]?\d[\w.]*)\s*\+$"), ">="),
    (re.compile(r"^(?:from\s+)?(?P<a>.+?)\s+(?:through|thru|to|up\s+to\s+and\s+including)\s+(?P<b>.+)$", re.I), "between"),
]
_DASH_SPAN = re.compile(r"^(?P<p>[vVrR]?)(?P<a>\d+(?:\.\d+)+)\s*-\s*(?P=p)(?P<b>\d+(?:\.\d+)+)$")
"""``2.3 - 2.6``, ``V2.3-V2.6``, ``R2.3 - R2.6``: both ends written alike (a letter prefix on both or neither)."""
_MAJOR_LINE = re.compile(r"^[vV](?P<major>\d+)$")
"""``V6``, ``V13``: the vendor's name for a whole major line (Siemens' convention), not version 6.0 alone."""


def _version(text: str) -> OTVersion:
    text = _WORD_PREFIX.sub("", text.strip().strip(",;"))
    if _MONTHS.search(text):
        raise _Fail(Unparsed.DATE_IN_WORDS, f"{text!r} is a date in words, not a version")
    try:
        return parse_version(text)
    except VersionError as exc:
        raise _Fail(Unparsed.NOT_A_VERSION, f"{text!r}: {exc.problems[0].message if exc.problems else exc}") from exc


def _item(text: str) -> Interval | tuple[bool, Bound]:
    """One comparator item: a bound ``(is_lower, Bound)``, or an exact/prefix interval."""
    text = text.strip()
    m = _OP_RE.match(text)
    if m:
        op = {"=<": "<=", "=>": ">=", "==": "="}.get(m.group(1), m.group(1))
        rest = text[m.end():].strip()
        wild = _WILDCARD.match(rest)
        if wild:
            return _wild_bound(op, wild.group(1))
        v = _version(rest)
        is_lower, inclusive = _OPS[op]
        if is_lower is None:
            return Interval(Bound(v, True), Bound(v, True))
        return (is_lower, Bound(v, inclusive))
    wild = _WILDCARD.match(text)
    if wild:
        return Interval(prefix=tuple(int(p) for p in wild.group(1).split(".")))
    v = _version(text)
    return Interval(Bound(v, True), Bound(v, True))


def _wild_bound(op: str, series: str) -> Interval | tuple[bool, Bound]:
    """A comparator on a whole series: ``>= 4.0.x`` from 4.0, ``<= 7.x`` below 8, ``< 8.1x`` below 8.1."""
    parts = [int(p) for p in series.split(".")]
    start = parse_version(".".join(map(str, parts)))
    after = parse_version(".".join(map(str, [*parts[:-1], parts[-1] + 1])))
    if op in (">=", "="):
        return (True, Bound(start, True)) if op == ">=" else Interval(prefix=tuple(parts))
    if op == ">":
        return (True, Bound(after, True))
    if op == "<=":
        return (False, Bound(after, False))
    return (False, Bound(start, False))


def _union(items: list[Interval | tuple[bool, Bound]]) -> tuple[Interval, ...]:
    """Pair a lower bound with the upper bound right after it; everything else stands alone.

    This reads both vers (``>=1.0|<2.0``) and CISA's lists (``2.7 | >= 4.0.x | <= 4.6.4``);
    lone upper bounds (``< 19.0.1 | < 18.0.1``) become a union, which over-approximates
    rather than dropping versions.
    """
    out: list[Interval] = []
    i = 0
    while i < len(items):
        it = items[i]
        if isinstance(it, Interval):
            out.append(it)
            i += 1
            continue
        is_lower, bound = it
        nxt = items[i + 1] if i + 1 < len(items) else None
        if is_lower and isinstance(nxt, tuple) and not nxt[0]:
            upper = nxt[1]
            if upper.version < bound.version and comparable(upper.version, bound.version):
                raise _Fail(Unparsed.EMPTY_INTERVAL, f"lower bound {bound} is above upper bound {upper}")
            out.append(Interval(bound, upper))
            i += 2
            continue
        out.append(Interval(bound, None) if is_lower else Interval(None, bound))
        i += 1
    return tuple(out)


def _split_and(text: str) -> list[str]:
    """``>= V2.0 and < V2.6``, ``>= V03.00.12 < 03.00.18``, ``>=1, <2`` -> one item each."""
    parts = re.split(r"\s*(?:\band\b|,|&&)\s*", text)
    out: list[str] = []
    for part in parts:
        # Two comparators without a separator: split before the second operator.
        # ">= V03.00.12 < 03.00.18" and ">=V7.80<V9.40" alike (a space or none).
        pieces = re.split(r"(?<=[\w.)])\s*(?=(?:<=|>=|<|>)\s*[vV]?\d)", part.strip())
        out += [p for p in pieces if p]
    return out


def _comparators(text: str) -> tuple[Interval, ...]:
    alternatives = [a for a in (s.strip() for s in text.split("|")) if a]
    items: list[Interval | tuple[bool, Bound]] = []
    for alt in alternatives:
        ands = _split_and(alt)
        if len(ands) == 1:
            items.append(_item(ands[0]))
            continue
        # An intersection (">= a and < b"): its bounds form one interval.
        got = [_item(a) for a in ands]
        lowers = [g[1] for g in got if isinstance(g, tuple) and g[0]]
        uppers = [g[1] for g in got if isinstance(g, tuple) and not g[0]]
        if len(lowers) > 1 or len(uppers) > 1 or len(lowers) + len(uppers) != len(got):
            raise _Fail(Unparsed.NOT_A_VERSION, f"cannot intersect {alt!r}")
        items += [(True, b) for b in lowers] + [(False, b) for b in uppers]
    return _union(items)


def _parse_vers(text: str) -> tuple[tuple[Interval, ...], RangeForm, tuple[str, ...]]:
    scheme, _, constraints = text[5:].partition("/")
    deviations: list[str] = []
    constraints = constraints.strip()
    if not constraints:
        raise _Fail(Unparsed.EMPTY, f"{text!r} has no constraints after the scheme")
    if constraints == "*":
        return (Interval(),), RangeForm.VERS, ()
    if scheme == "all":
        deviations.append("vers:all allows only '*'; read the constraints as a generic range")
    # CISA writes ">=V7.80<V9.40" without the "|" between the two constraints.
    pieces = [p for c in constraints.split("|") for p in re.split(r"(?<=[\w.])(?=[<>]=?)", c) if p.strip()]
    if len(pieces) > len([c for c in constraints.split("|") if c.strip()]):
        deviations.append("constraints must be separated by '|'")
    items = [_item(c) for c in pieces]

    # vers requires constraints sorted by version; pair them in that order (the spec's algorithm).
    def sort_key(it: Interval | tuple[bool, Bound]) -> OTVersion:
        if isinstance(it, Interval):
            assert it.lower is not None  # exact versions only: vers has no x-patterns
            return it.lower.version
        return it[1].version

    if any(isinstance(it, Interval) and it.prefix is not None for it in items):
        deviations.append("vers has no wildcard versions")
    else:
        items.sort(key=sort_key)
    if any(re.search(r"[A-Za-z ]", c) for c in constraints.split("|")):
        deviations.append("version with letters or spaces needs percent-encoding in vers")
    form = RangeForm.VERS_INVALID if deviations else RangeForm.VERS
    return _union(items), form, tuple(deviations)


def _parse(text: str) -> VersionRange:
    raw = text
    text = " ".join(text.split())
    if not text:
        raise _Fail(Unparsed.EMPTY, "the range is empty")
    if text.lower().startswith("vers:"):
        intervals, form, deviations = _parse_vers(text)
        return VersionRange(raw, intervals, form, (), deviations)

    if _SERIAL.search(text) and not re.search(r"\bversions?\b.*\d", text, re.I):
        raise _Fail(Unparsed.SERIAL_OR_DATE, f"{text!r} bounds a serial number or production date, not a version")

    # (including) / (excluding) are part of the grammar, not remarks.
    text = _INCL.sub(lambda m: " (incl)" if m.group(1).lower().startswith("incl") else " (excl)", text)
    incl_marks = re.findall(r"\((incl|excl)\)", text)
    if incl_marks:
        m = re.match(r"^(?:all\s+versions\s+)?(?:from\s+|between\s+)?(?P<a>.+?)\s+\((?P<ia>incl|excl)\)\s+(?:and|to|until|through)\s+(?P<b>.+?)\s+\((?P<ib>incl|excl)\)$", text, re.I)
        if not m:
            raise _Fail(Unparsed.NOT_A_VERSION, f"cannot read the (including)/(excluding) form of {text!r}")
        lo = Bound(_version(m.group("a")), m.group("ia") == "incl")
        hi = Bound(_version(m.group("b")), m.group("ib") == "incl")
        return VersionRange(raw, _union([(True, lo), (False, hi)]), RangeForm.PROSE)

    conditions: list[str] = []

    notes: list[str] = []

    def keep(m: re.Match[str]) -> str:
        # "(only Windows versions are affected)" restricts the range; "(2.1.670)" or
        # "(end-of-life Nov 2017)" only informs.
        remark = m.group(1).strip()
        (conditions if _RESTRICTS.match(remark) else notes).append(remark)
        return " "

    text = _PAREN.sub(keep, text).strip()
    cond = _CONDITION.search(text)
    if cond and re.search(r"\d", text[: cond.start()]):
        conditions.append(cond.group(1))
        text = text[: cond.start()].strip()
    low = text.lower()

    all_m = _ALL.match(text)
    if all_m:
        rest = text[all_m.end():].strip().lstrip(":").strip()
        if not rest:
            return VersionRange(raw, (Interval(),), RangeForm.ALL, tuple(conditions), notes=tuple(notes))
        if rest[0] in "<>=" or re.match(r"(prior|before|up|from|since)\b", rest, re.I):
            text = rest
        elif re.match(r"(with|in|using|running|when|if|on|that|where)\b", rest, re.I):
            return VersionRange(raw, (Interval(),), RangeForm.ALL, (*conditions, rest), notes=tuple(notes))
        else:
            raise _Fail(Unparsed.NOT_A_VERSION, f"cannot read {rest!r} after 'all versions'")
    vm = _VERSIONS_WORD.match(text)
    if vm:
        text = text[vm.end():]
    low = text.lower()

    for pattern, kind in _PROSE:
        m = pattern.match(text)
        if not m:
            continue
        if kind == "between":
            lo = Bound(_version(m.group("a")), True)
            hi = Bound(_version(m.group("b")), True)
            return VersionRange(raw, _union([(True, lo), (False, hi)]), RangeForm.PROSE, tuple(conditions), notes=tuple(notes))
        a = _version(m.group("a"))
        is_lower, inclusive = _OPS[kind]
        assert is_lower is not None
        return VersionRange(raw, _union([(is_lower, Bound(a, inclusive))]), RangeForm.PROSE, tuple(conditions), notes=tuple(notes))
    m = _DASH_SPAN.match(text)
    if m:
        lo = Bound(_version(m.group("p") + m.group("a")), True)
        hi = Bound(_version(m.group("p") + m.group("b")), True)
        return VersionRange(raw, _union([(True, lo), (False, hi)]), RangeForm.PROSE, tuple(conditions), notes=tuple(notes))

    if _OP_RE.search(low):
        return VersionRange(raw, _comparators(text), RangeForm.COMPARATOR, tuple(conditions), notes=tuple(notes))
    # A single version or a list of them ("2017 R2 | 2017 R2 SP1 | 2019", "6.0, 6.1").
    if "|" in text:
        return VersionRange(raw, _comparators(text), RangeForm.SINGLE, tuple(conditions), notes=tuple(notes))
    listed = _enumerated(text)
    if listed is not None:
        return VersionRange(raw, listed, RangeForm.SINGLE, tuple(conditions), notes=tuple(notes))
    line = _MAJOR_LINE.match(text)
    if line:  # every 6.x: reading "V6" as 6.0 alone would answer "not affected" for 6.2
        return VersionRange(raw, (Interval(prefix=(int(line.group("major")),)),), RangeForm.SINGLE,
                            tuple(conditions), notes=tuple(notes))
    return VersionRange(raw, (_single(text),), RangeForm.SINGLE, tuple(conditions), notes=tuple(notes))


_LIST_SPLIT = re.compile(r"\s*(?:,|;|/|\s\bor\b|\s\band\b)\s*", re.I)


def _enumerated(text: str) -> tuple[Interval, ...] | None:
    """``V4.1, V4.2 and V4.3``, ``2.0/2.1``, ``V6, V7``: every listed version (or line, or series).

    None when the text is not such a list; a list with an unreadable item fails with that item.
    """
    if not re.search(r"[,;/]|\s(?:or|and)\s", text, re.I):
        return None
    items = [p for p in _LIST_SPLIT.split(text) if p]
    if len(items) < 2 or not all(re.match(r"^[vVrR]?\d", p) for p in items):
        return None
    if "/" in text and all(p.isdigit() for p in items):
        return None  # 12/10/2020: a date
    out = []
    for item in items:
        line = _MAJOR_LINE.match(item)
        if line:
            out.append(Interval(prefix=(int(line.group("major")),)))
        else:
            out.append(_single(item))
    return tuple(out)


def _single(text: str) -> Interval:
    it = _item(text)
    assert isinstance(it, Interval)
    return it


@lru_cache(maxsize=65536)
def parse_range(text: str) -> Range:
    """Read a range text; never raises for bad input (the reason is in :class:`UnparsedRange`).

    Cached: the same range texts recur across thousands of advisories and both results are
    immutable.
    """
    try:
        return _parse(text)
    except _Fail as fail:
        return UnparsedRange(text, fail.reason, fail.message)


def version_is_range(text: str) -> bool:
    """Whether a ``product_version`` value is really a range (CSAF 6.1.31 forbids that)."""
    if _MAJOR_LINE.match(text.strip()):
        return False  # "V6" names a release line: a version as vendors write it, not a range expression
    result = parse_range(text)
    if not result.parsed:
        return bool(_OP_RE.search(text)) or text.lower().startswith(("vers:", "all "))
    assert isinstance(result, VersionRange)
    return result.form is not RangeForm.SINGLE or any(
        i.prefix is not None or i.lower is None or i.upper is None or i.lower.version != i.upper.version
        for i in result.intervals
    )


__all__ = [
    "Bound",
    "Interval",
    "Range",
    "RangeForm",
    "Unparsed",
    "UnparsedRange",
    "VersionRange",
    "parse_range",
    "version_is_range",
]
