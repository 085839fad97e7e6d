"""Provenance of text in an evidence package: what came from the user's data.

Sections wrap every string they copy from the site document (names, descriptions, ids,
rationales, enum values the user chose) in :class:`UserText`. Two checks depend on it:

* the language check (:mod:`zonewarden.evidence.language`) must not fail on "certified" when
  that word is the user's own (a capability declaration's source, a quoted justification), but
  must fail when our templates or section code say it;
* templates never mark user text safe: autoescaping treats it like any other string.

A ``UserText`` behaves exactly like ``str`` (orjson and Jinja see a string); only its type
carries the provenance. Operations that build new strings (joins, formatting) return a plain
``str``, so provenance is lost and the result is checked like generated text: the safe side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

# Private-use code points that bracket user text in rendered HTML while the language check
# runs; removed before anything is written. User text cannot smuggle them in (see ``u``).
MARK_START = "\ue000"
MARK_END = "\ue001"
_STRIP_MARKS = {ord(MARK_START): None, ord(MARK_END): None}


class UserText(str):
    """A string quoted from the site's data (untrusted, exempt from the language check)."""

    __slots__ = ()


def u(value: Any) -> UserText | None:
    """``value`` as user text (enums by value, dates in ISO form); ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, UserText):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return UserText(value.isoformat())
    text = getattr(value, "value", value)
    return UserText(str(text).translate(_STRIP_MARKS))


def us(values: Iterable[Any]) -> list[UserText]:
    """Every value as user text, order kept."""
    return [t for v in values if (t := u(v)) is not None]


def strip_marks(text: str) -> str:
    return text.translate(_STRIP_MARKS)


def iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()
