"""The language check: an evidence package describes capabilities, processes and boundaries,
never guarantees.

What counts as *our* words and what counts as the user's is decided by provenance, not by
guessing: sections wrap every string copied from the site document in
:class:`~zonewarden.evidence.text.UserText`. While the HTML is rendered, each user string is
bracketed by two private-use marker characters; the check removes the bracketed spans and
looks for forbidden phrases in what remains (template text and section-generated sentences),
then the markers are stripped. For the JSON format the same rule is applied to the section data
directly: ``UserText`` values are skipped, every other string is checked. The PDF is rendered
from the checked HTML, so it inherits the result.

Consequence of the design: a forbidden word in the user's own data ("the vendor's certified
firmware") passes, the same word written by a template or a section fails, and a user string
that lost its provenance on the way (joined, reformatted) is checked like our own text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from zonewarden.errors import OutputRefused
from zonewarden.evidence.text import MARK_END, MARK_START, UserText

FORBIDDEN: tuple[tuple[str, str], ...] = (
    (r"guarantee[sd]?|guaranteeing", "promises an outcome; describe the control or process instead"),
    (r"fully\s+compliant", "claims complete conformity; say what is met and what is not"),
    (r"fully\s+secured?", "claims an absolute state; describe capabilities and boundaries"),
    (r"completely\s+secured?", "claims an absolute state; describe capabilities and boundaries"),
    (r"100\s*%\s*(?:secure|safe|compliant|protected)", "claims an absolute state"),
    (r"certified", "implies a third-party certificate the package does not prove"),
    (r"unhackable|impenetrable|bullet-?proof", "claims immunity to attack"),
    (r"risk-free|zero\s+risk", "residual risk is never zero; state it"),
)
"""Forbidden phrases (regular expressions, matched case-insensitively on word boundaries)."""

_PATTERN = re.compile(
    r"(?<![\w-])(?:" + "|".join(f"(?P<p{i}>{p})" for i, (p, _) in enumerate(FORBIDDEN)) + r")(?![\w-])",
    re.IGNORECASE,
)
_MARKED = re.compile(re.escape(MARK_START) + ".*?" + re.escape(MARK_END), re.DOTALL)


@dataclass(frozen=True, slots=True)
class LanguageFinding:
    """One forbidden phrase in generated text."""

    phrase: str
    why: str
    where: str
    """A short excerpt around the phrase, or the JSON path for data."""

    def __str__(self) -> str:
        return f"{self.phrase!r} ({self.why}) in: {self.where}"


class LanguageError(OutputRefused):
    """Generated text makes a promise the package cannot back (a bug in a template or section)."""

    def __init__(self, findings: list[LanguageFinding]) -> None:
        self.findings = findings
        super().__init__(
            "evidence package wording check failed (templates or section code use forbidden words):\n"
            + "\n".join(f"  {f}" for f in findings[:20])
        )


def _why(match: re.Match[str]) -> str:
    for i, (_, why) in enumerate(FORBIDDEN):
        if match.group(f"p{i}"):
            return why
    return ""  # pragma: no cover - one group always matches


def check_text(text: str, *, where: str = "text") -> list[LanguageFinding]:
    """Forbidden phrases in ``text`` outside marked user spans (HTML entities decoded)."""
    generated = html.unescape(_MARKED.sub(" ", text))
    out = []
    for m in _PATTERN.finditer(generated):
        lo, hi = max(0, m.start() - 40), min(len(generated), m.end() + 40)
        excerpt = " ".join(generated[lo:hi].split())
        out.append(LanguageFinding(m.group(0), _why(m), f"{where}: …{excerpt}…"))
    return out


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, UserText):
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}/{i}")


def check_data(data: Any, *, where: str = "") -> list[LanguageFinding]:
    """Forbidden phrases in every generated (non-``UserText``) string of ``data``."""
    out = []
    for path, text in _walk(data, where):
        for m in _PATTERN.finditer(text):
            out.append(LanguageFinding(m.group(0), _why(m), path or "/"))
    return out


def mark(text: str) -> str:
    """Bracket user text for :func:`check_text` (used by the renderer's finalize hook)."""
    return f"{MARK_START}{text}{MARK_END}"


__all__ = ["FORBIDDEN", "LanguageError", "LanguageFinding", "check_data", "check_text", "mark"]
