"""Vendor versions as OT advisories write them, parsed into a totally ordered value.

CISA's ICS advisories (and the vendors behind them) write versions such as ``V2.9 SP1``,
``V4.7 SP4 HF2``, ``2016 R2``, ``v32.011``, ``V13 SP2 Update 4``, ``1.2.3-build45``,
``Rev. C`` or ``2021.06``. Generic schemes get these wrong: univers' ``vers:generic`` puts
``2.9.4-SP1`` *before* ``2.9.4`` (a semver pre-release), but in OT a service pack, hotfix or
update always comes *after* its base release. This module is our own normaliser:

* A version is a sequence of tokens: release numbers, *post-release qualifiers* (``R``,
  ``SP``/``Service Pack``, ``Update``/``Upd``/``U``, ``MP``, ``RU``, ``FP``, ``HF``/``Hotfix``,
  ``P``/``Patch``, ``Rev``, ``build``), *pre-release qualifiers* (``dev``, ``alpha``, ``beta``,
  ``pre``/``preview``, ``RC``) and short vendor letter codes (``4.04E``, ``1.22Y``).
* Comparison is token by token, where at any position::

      release number  >  post-release qualifier  >  end of version  >  pre-release qualifier

  so ``2.9 < 2.9 SP1 < 2.9 SP1 HF1 < 2.9 SP2 < 2.9.1`` and ``2.9 beta < 2.9``.
  Between qualifiers the larger maintenance step wins: ``R > SP > Update > MP > RU > FP >
  HF > P > Rev > build``; so ``V13 Update 9 < V13 SP2 Update 4`` (Siemens ships updates of
  service packs), and vendor letter codes rank below all named qualifiers.
* Trailing zeros of a run of release numbers do not count: ``2.9`` == ``2.9.0``. A leading
  ``V``/``v``/``Version`` is dropped: ``V2.9`` == ``2.9``. Letters are compared case-blind.

:func:`parse_version` raises :class:`VersionError` naming the rule that failed and where
(the univers style), and never guesses: ``1.5.x`` is a pattern, ``January 2020`` a date in
words; the range parser deals with both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from zonewarden.errors import InputError, Problem

MAX_LENGTH = 120
"""Longer strings are prose, not versions (the longest real version in the CISA set is ~40)."""


class VersionRule(StrEnum):
    """The parsing rule a string broke; stable codes for reports and tests."""

    EMPTY = "empty"
    TOO_LONG = "too-long"
    BAD_CHARACTER = "bad-character"
    WILDCARD = "wildcard"
    WORD = "word"
    NO_VALUE = "no-value"
    AMBIGUOUS = "ambiguous"
    """A part whose place in the order depends on a style the text does not show (``3.8.0a4``)."""


class VersionError(InputError):
    """A string is not a vendor version; ``rule`` says which parsing rule it broke."""

    def __init__(self, text: str, rule: VersionRule, message: str, position: int | None = None) -> None:
        self.text = text
        self.rule = rule
        self.message = message
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(
            f"not a version {text!r}: {message}{where}",
            [Problem(f"{message}{where}")],
        )


class TokenKind(StrEnum):
    NUMBER = "number"
    POST = "post"
    PRE = "pre"
    LETTERS = "letters"


# Comparison classes (see module docstring); END sits between post and pre qualifiers.
_CLASS = {TokenKind.NUMBER: 4, TokenKind.POST: 3, TokenKind.LETTERS: 3, TokenKind.PRE: 1}
_END = (2, 0, 0, "")

# keyword (lower case) -> (kind, rank, canonical spelling). Rank orders qualifiers of one kind.
_QUALIFIERS: dict[str, tuple[TokenKind, int, str]] = {
    "r": (TokenKind.POST, 12, "R"),
    "release": (TokenKind.POST, 12, "R"),
    "sp": (TokenKind.POST, 11, "SP"),
    "servicepack": (TokenKind.POST, 11, "SP"),
    "update": (TokenKind.POST, 10, "Update"),
    "upd": (TokenKind.POST, 10, "Update"),
    "u": (TokenKind.POST, 10, "Update"),
    "mp": (TokenKind.POST, 9, "MP"),
    "ru": (TokenKind.POST, 8, "RU"),
    "fp": (TokenKind.POST, 7, "FP"),
    "fixpack": (TokenKind.POST, 7, "FP"),
    "hf": (TokenKind.POST, 6, "HF"),
    "hotfix": (TokenKind.POST, 6, "HF"),
    "p": (TokenKind.POST, 5, "P"),
    "patch": (TokenKind.POST, 5, "P"),
    "rev": (TokenKind.POST, 4, "Rev"),
    "revision": (TokenKind.POST, 4, "Rev"),
    "build": (TokenKind.POST, 3, "build"),
    "dev": (TokenKind.PRE, 1, "dev"),
    "alpha": (TokenKind.PRE, 2, "alpha"),
    "beta": (TokenKind.PRE, 3, "beta"),
    "pre": (TokenKind.PRE, 4, "pre"),
    "preview": (TokenKind.PRE, 4, "pre"),
    "rc": (TokenKind.PRE, 5, "RC"),
}
# Single letters that are only qualifiers when a number follows (``R2``, ``U1``, ``P021``);
# standing alone after a number they are vendor letter codes (``4.04E``, ``5.89.05b``).
_NEEDS_NUMBER = {"r", "u", "p"}
_WILDCARDS = {"x", "*"}
_MAX_CODE_LETTERS = 3
"""Longer unknown words (``January``, ``Edition``, ``WinCC``) are prose, not version codes."""

_LEX = re.compile(r"(?P<num>\d+)|(?P<word>[A-Za-z]+)|(?P<sep>[ .\-_()]+)|(?P<star>\*)|(?P<bad>.)")
_PREFIX = re.compile(
    r"^\s*(?:version\s*|ver\.\s*|ver\s+)?[vV](?=[\s_.\-]?\d)[\s_.\-]?|^\s*(?:version\s+|ver\.\s*|ver\s+)", re.I
)


@dataclass(frozen=True, slots=True)
class Token:
    """One part of a version. ``value`` is the number of a release part or qualifier."""

    kind: TokenKind
    value: int = 0
    text: str = ""
    """Digits as written (numbers), lower-case letter code, or the letter of ``Rev C``."""
    rank: int = 0

    def key(self) -> tuple[int, int, int, str]:
        if self.kind is TokenKind.NUMBER:
            return (_CLASS[self.kind], 0, self.value, "")
        if self.kind is TokenKind.LETTERS:
            return (_CLASS[self.kind], 0, 0, self.text)
        return (_CLASS[self.kind], self.rank, self.value, self.text.lower() if self.rank == 4 else "")

    def format(self, before_number: bool = False) -> str:
        """Spelling of the token; ``before_number``: a number follows, so a 0 must be shown."""
        if self.kind is TokenKind.NUMBER:
            return self.text or str(self.value)  # keep the vendor's digits: 2021.06, v32.011
        if self.kind is TokenKind.LETTERS:
            return self.text
        if self.text and self.rank == 4 and self.value == 0:
            return f"Rev {self.text}"
        if self.value == 0 and self._word.lower() not in _NEEDS_NUMBER and self.rank != 4 and not before_number:
            return self._word  # "beta", "SP": parses back to the same value 0
        sep = " " if len(self._word) > 2 else ""
        return f"{self._word}{sep}{self.value}"

    @property
    def _word(self) -> str:
        for kind, rank, canon in _QUALIFIERS.values():
            if kind is self.kind and rank == self.rank:
                return canon
        raise AssertionError(self)  # pragma: no cover - tokens are built from _QUALIFIERS


def _rev_token(rank: int, letter: str) -> Token:
    return Token(TokenKind.POST, 0, letter.upper(), rank)


@dataclass(frozen=True, slots=True)
class OTVersion:
    """An immutable, totally ordered vendor version. Equal when their keys are equal."""

    text: str = field(compare=False)
    """The version as it was written."""
    tokens: tuple[Token, ...] = field(compare=False)
    key: tuple[tuple[int, int, int, str], ...] = field(repr=False)
    """Comparison key; ends with a unique terminator so no key is a prefix of another."""
    release: tuple[int, ...] = field(init=False, compare=False, repr=False)
    """The leading run of release numbers (``V4.7 SP4`` -> ``(4, 7)``)."""
    scheme: str = field(init=False, compare=False, repr=False)
    """What the version starts with: ``number`` or the first qualifier/letter code.

    Versions of different schemes (``R9C`` against ``4.2``) order consistently but the
    order means nothing; :func:`comparable` tells the range code so.
    """

    def __post_init__(self) -> None:
        # Computed once: range checks ask for these for every asset of every advisory.
        release = []
        for tok in self.tokens:
            if tok.kind is not TokenKind.NUMBER:
                break
            release.append(tok.value)
        first = self.tokens[0]
        if first.kind is TokenKind.NUMBER:
            scheme = "number"
        elif first.kind is TokenKind.LETTERS:
            scheme = f"letters:{first.text}"
        else:
            scheme = f"{first.kind}:{first.rank}"
        object.__setattr__(self, "release", tuple(release))
        object.__setattr__(self, "scheme", scheme)

    # Written out rather than functools.total_ordering: these run millions of times.
    def __lt__(self, other: OTVersion) -> bool:
        return self.key < other.key

    def __le__(self, other: OTVersion) -> bool:
        return self.key <= other.key

    def __gt__(self, other: OTVersion) -> bool:
        return self.key > other.key

    def __ge__(self, other: OTVersion) -> bool:
        return self.key >= other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.format()

    def format(self) -> str:
        """Canonical spelling: ``V2.9.0 sp1`` -> ``2.9.0 SP1``; parsing it gives an equal value."""
        out = ""
        prev: Token | None = None
        for i, tok in enumerate(self.tokens):
            nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
            piece = tok.format(nxt is not None and nxt.kind is TokenKind.NUMBER)
            if prev is None:
                out = piece
            elif tok.kind is TokenKind.NUMBER and prev.kind is TokenKind.NUMBER:
                out += "." + piece
            else:
                out += " " + piece
            prev = tok
        return out

    def startswith(self, prefix: tuple[int, ...]) -> bool:
        """True when the release numbers begin with ``prefix`` (``1.5.x`` patterns)."""
        rel = self.release
        return rel[: len(prefix)] == prefix or (
            # 1.5 matches the pattern 1.5.x: missing parts are zeros.
            len(rel) < len(prefix) and rel + (0,) * (len(prefix) - len(rel)) == prefix
        )


def comparable(a: OTVersion, b: OTVersion) -> bool:
    """Whether ordering ``a`` against ``b`` means something (same leading scheme)."""
    return a.scheme == b.scheme


# Letter-suffixed builds (a letter between two numbers, no separator: ``14.5s0``, ``2.1.0f1``):
# a vendor build after its release, ordered by its number (14.1 < 14.1s0 < 14.1s1 < 14.1.1),
# except a, b and c, which PEP 440 and its imitators use for pre-releases (3.8.0a4 < 3.8.0).
_PRE_LETTERS = frozenset("abc")


def _attached(parts: list[tuple[str, str, int]], i: int) -> bool:
    """Whether the one-letter word ``parts[i]`` ends the version as PEP 440 writes a pre-release:
    after a dotted release (two numbers or more, nothing else), with no separator, and followed
    by one number that ends the text (``3.8.0a4``; not ``04A00.1`` or ``V01L001``)."""
    _group, raw, pos = parts[i]
    if len(raw) != 1 or i < 2 or i + 2 != len(parts) or any(p[0] != "num" for p in parts[:i]):
        return False
    before, after = parts[i - 1], parts[i + 1]
    return (before[0] == "num" and before[2] + len(before[1]) == pos
            and after[0] == "num" and after[2] == pos + 1)


def _tokens(text: str) -> list[Token]:
    m = _PREFIX.match(text)
    start = m.end() if m else 0
    parts: list[tuple[str, str, int]] = []  # (group, text, position)
    for lm in _LEX.finditer(text, start):
        group = lm.lastgroup or "bad"
        if group == "sep":
            continue
        if group == "bad":
            raise VersionError(
                text, VersionRule.BAD_CHARACTER, f"character {lm.group()!r} cannot be part of a version", lm.start()
            )
        if group == "star":
            raise VersionError(text, VersionRule.WILDCARD, "'*' is a pattern, not a version", lm.start())
        parts.append((group, lm.group(), lm.start()))

    tokens: list[Token] = []
    i = 0
    while i < len(parts):
        group, raw, pos = parts[i]
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if group == "num":
            tokens.append(Token(TokenKind.NUMBER, int(raw), raw))
            i += 1
            continue
        word = raw.lower()
        if word == "service" and nxt and nxt[1].lower() == "pack":
            word, i = "servicepack", i + 1
            nxt = parts[i + 1] if i + 1 < len(parts) else None
        if word in _WILDCARDS and (tokens or nxt is None):
            raise VersionError(text, VersionRule.WILDCARD, f"{raw!r} is a pattern, not a version", pos)
        qual = _QUALIFIERS.get(word)
        if qual and (word not in _NEEDS_NUMBER or (nxt and nxt[0] == "num")):
            kind, rank, _canon = qual
            if nxt and nxt[0] == "num":
                tokens.append(Token(kind, int(nxt[1]), "", rank))
                i += 2
            elif rank == 4 and nxt and nxt[0] == "word" and len(nxt[1]) <= 2 and nxt[1].lower() not in _QUALIFIERS:
                tokens.append(_rev_token(rank, nxt[1]))  # Rev. C, Rev J
                i += 2
            else:
                tokens.append(Token(kind, 0, "", rank))
                i += 1
            continue
        if word in _PRE_LETTERS and _attached(parts, i):
            raise VersionError(
                text, VersionRule.AMBIGUOUS,
                f"{raw + parts[i + 1][1]!r} after a release number is an alpha, beta or candidate pre-release in "
                "some styles (before the release) and a build in others (after it)", pos,
            )
        if len(raw) > _MAX_CODE_LETTERS:
            raise VersionError(
                text, VersionRule.WORD, f"the word {raw!r} is not a version part (only short letter codes are)", pos
            )
        tokens.append(Token(TokenKind.LETTERS, 0, word))
        i += 1
    if len(tokens) > 1 and tokens[0] == Token(TokenKind.LETTERS, 0, "v") and tokens[1].kind is TokenKind.NUMBER:
        del tokens[0]  # "V)0", "V_2": a version prefix behind an odd separator
    return tokens


def _key(tokens: list[Token]) -> tuple[tuple[int, int, int, str], ...]:
    out: list[tuple[int, int, int, str]] = []
    run: list[tuple[int, int, int, str]] = []

    def flush() -> None:
        # 2.9.0 == 2.9: trailing zeros of a run of release numbers carry no information.
        while run and run[-1][2] == 0:
            run.pop()
        out.extend(run)
        run.clear()

    for tok in tokens:
        if tok.kind is TokenKind.NUMBER:
            run.append(tok.key())
        else:
            flush()
            out.append(tok.key())
    flush()
    out.append(_END)
    return tuple(out)


def parse_version(text: str) -> OTVersion:
    """Parse a vendor version; raise :class:`VersionError` with the broken rule otherwise.

    Cached by the text: the same versions recur as range bounds, asset versions and the fixed
    versions remediations name, and the result is immutable. A failure is cached as its rule,
    message and position, and raised as a new error each time.
    """
    if type(text) is not str:
        if not isinstance(text, str):
            raise TypeError(f"a version is text, got {type(text).__name__}")
        text = str(text)
    hit = _parsed(text)
    if type(hit) is OTVersion:
        return hit
    assert isinstance(hit, tuple)
    raise VersionError(text, *hit)


@lru_cache(maxsize=65536)
def _parsed(text: str) -> OTVersion | tuple[VersionRule, str, int | None]:
    try:
        return _parse_version(text)
    except VersionError as exc:
        return exc.rule, exc.message, exc.position


def _parse_version(text: str) -> OTVersion:
    stripped = text.strip()
    if not stripped:
        raise VersionError(text, VersionRule.EMPTY, "the version is empty")
    if len(stripped) > MAX_LENGTH:
        raise VersionError(text, VersionRule.TOO_LONG, f"longer than {MAX_LENGTH} characters: prose, not a version")
    tokens = _tokens(stripped)
    if not tokens or not (
        # A bare letter code is a hardware/firmware revision letter ("<= C"); a lone qualifier
        # without a number ("SP", "beta") says nothing.
        all(t.kind is TokenKind.LETTERS for t in tokens)
        or any(t.value or t.kind is TokenKind.NUMBER or t.text for t in tokens if t.kind is not TokenKind.LETTERS)
    ):
        raise VersionError(text, VersionRule.NO_VALUE, "no number and no qualifier with a value")
    return OTVersion(stripped, tuple(tokens), _key(tokens))


def try_version(text: str | None) -> OTVersion | None:
    """:func:`parse_version`, or None for a missing or unparseable version."""
    if text is None:
        return None
    try:
        return parse_version(text)
    except VersionError:
        return None


__all__ = [
    "OTVersion",
    "Token",
    "TokenKind",
    "VersionError",
    "VersionRule",
    "comparable",
    "parse_version",
    "try_version",
]
