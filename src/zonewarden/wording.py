"""Small wording helpers shared by messages and reports (no I/O)."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in the right number: ``1 problem``, ``2 problems``, ``0 assets``."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
