"""Central redaction for customer-facing packages, driven by the sensitivity marks of the model.

Rules (docs/evidence-packages.md):

* every field marked ``sensitive()`` in the domain model (addresses, host names, serial numbers,
  e-mail addresses, the site's location, internal notes, asset names, assessment finding
  details...) is removed from the document the customer sections are built from, unless the
  object lists the field in its ``shareable`` tuple;
* asset names are sensitive by default; a removed asset name is replaced by the asset's id
  (the model requires a name);
* free-text ``notes`` never go out, whatever ``shareable`` says.

Redaction happens once, on the input: customer sections never see the internal values, so a
template cannot leak what it was never given. As a second line, :func:`find_leaks` searches the
rendered output for every sensitive value of the original document; the package builder runs it
on every customer package and refuses to write one that contains a hit.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

import orjson
from pydantic import BaseModel

from zonewarden.domain.common import sensitive_fields
from zonewarden.domain.site import Asset, SiteDocument
from zonewarden.errors import OutputRefused


class Audience(StrEnum):
    AUDITOR = "auditor"
    """Everything, including internal details: the auditor works under confidentiality."""
    CUSTOMER = "customer"
    """No sensitive internals: capabilities, processes and boundaries only."""


NEVER_SHARED = frozenset({"notes"})
"""Fields that stay internal even when an object lists them as shareable."""


_marked = functools.cache(sensitive_fields)

_LEAF = (str, int, float, bool, type(None), dt.date, Enum)


def _may_hold_models(tp: Any) -> bool:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return True
    return any(_may_hold_models(a) for a in typing.get_args(tp))


@functools.cache
def _walk_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Fields of ``cls`` worth visiting: marked ones and those that can hold other models.

    Computed once per class from the annotations, so redacting 100k assets does not look at
    every version string and vendor name.
    """
    marked = _marked(cls)
    return tuple(
        name for name, info in cls.model_fields.items() if name in marked or _may_hold_models(info.annotation)
    )


def _removed(model: BaseModel) -> frozenset[str]:
    """Sensitive fields of ``model`` that must be removed for a customer."""
    marked = _marked(type(model))
    if not marked:
        return frozenset()
    shareable = set(getattr(model, "shareable", ()) or ())
    return frozenset(f for f in marked if f not in shareable or f in NEVER_SHARED)


def _redact(value: Any) -> Any:
    if isinstance(value, BaseModel):
        update: dict[str, Any] = {}
        removed = _removed(value)
        for name in _walk_fields(type(value)):
            current = getattr(value, name)
            if name not in removed and isinstance(current, _LEAF):
                continue  # nothing inside to redact
            if name in removed:
                if current is None or current == ():
                    continue
                if isinstance(value, Asset) and name == "name":
                    update[name] = value.id  # required field: the id stands in for the name
                elif isinstance(current, tuple):
                    update[name] = ()
                else:
                    update[name] = None
                continue
            new = _redact(current)
            if new is not current:
                update[name] = new
        return value.model_copy(update=update) if update else value
    if isinstance(value, tuple):
        items = [_redact(v) for v in value]
        return tuple(items) if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        out = {k: _redact(v) for k, v in value.items()}
        return out if any(out[k] is not value[k] for k in value) else value
    return value


def redact_document(doc: SiteDocument, audience: Audience) -> SiteDocument:
    """The document as ``audience`` may see it (unchanged for the auditor)."""
    if audience is Audience.AUDITOR:
        return doc
    result = _redact(doc)
    assert isinstance(result, SiteDocument)
    return result


# --- leak detection ----------------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _strings(v)
    elif value is not None and not isinstance(value, (bool, BaseModel, dict)):
        yield str(value)


def _sensitive(value: Any) -> Iterator[str]:
    if isinstance(value, BaseModel):
        removed = _removed(value)
        for name in _walk_fields(type(value)):
            current = getattr(value, name)
            if name not in removed and isinstance(current, _LEAF):
                continue
            if name in removed:
                yield from _strings(current)
            else:
                yield from _sensitive(current)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _sensitive(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _sensitive(v)


def _public_strings(doc: SiteDocument) -> set[str]:
    """Values a customer may see anyway and that a sensitive value can coincide with: ids and
    the names of sites, zones, conduits and people, and asset names as redacted."""
    out = {doc.site.id, doc.site.name, doc.site.organisation or ""}
    for section in (doc.zones, doc.conduits, doc.people, doc.assets):
        for obj in section:
            out.add(obj.id)
            name = getattr(obj, "name", None)
            if name:
                out.add(name)
    return out


MIN_LENGTH = 3
"""Shorter values (a one-letter host name) cannot be told apart from ordinary text."""


def sensitive_values(doc: SiteDocument, redacted: SiteDocument | None = None) -> tuple[str, ...]:
    """Every value a customer must not see, sorted.

    A value that is also an id or a public name (an asset whose name equals its id, a host name
    equal to a zone name) is public anyway and is left out, as are
    values shorter than :data:`MIN_LENGTH`. IP interfaces are also listed without their prefix.
    """
    public = _public_strings(redacted or redact_document(doc, Audience.CUSTOMER))
    out: set[str] = set()
    for text in _sensitive(doc):
        for v in (text, text.split("/")[0] if "/" in text and text[0].isdigit() else text):
            v = v.strip()
            if len(v) >= MIN_LENGTH and v not in public:
                out.add(v)
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True)
class Leak:
    value: str
    where: str


class LeakError(OutputRefused):
    """A customer package would contain a sensitive value; nothing was written."""

    def __init__(self, leaks: list[Leak]) -> None:
        self.leaks = leaks
        shown = "\n".join(f"  {lk.where}: a sensitive value ({len(lk.value)} characters)" for lk in leaks[:20])
        super().__init__(
            f"refusing to write the customer package: {len(leaks)} sensitive value(s) found in the "
            f"output (a redaction bug; please report it):\n{shown}"
        )


def _forms(value: str) -> set[str]:
    """The ways ``value`` can appear in HTML, JSON or extracted PDF text."""
    forms = {value, html.escape(value, quote=True), html.escape(value, quote=False)}
    forms.add(orjson.dumps(value).decode()[1:-1])
    forms.add(" ".join(value.split()))
    return {f for f in forms if f}


_WORDISH = re.compile(r"^[\w.\-]+$")


def _token_hit(form: str, text: str) -> bool:
    rx = re.compile(r"(?<![\w\-])" + re.escape(form) + r"(?![\w\-]|\.\w)")
    return rx.search(text) is not None


def find_leaks(outputs: Iterable[tuple[str, str]], values: Iterable[str]) -> list[Leak]:
    """Occurrences of any of ``values`` in the ``(name, text)`` outputs.

    Single-word values (host names, serials, addresses, one-word asset names) are matched as
    whole tokens, so ``fw1`` does not match inside ``fw10`` and an asset called ``Historian``
    does not match ``historians``; values with spaces as substrings. Matching is
    case-sensitive and covers every form the renderers could give a value (HTML-escaped,
    JSON-escaped, whitespace-collapsed).
    """
    texts = list(outputs)
    leaks: list[Leak] = []
    for value in values:
        for form in _forms(value):
            word = _WORDISH.match(form) is not None
            hit = next(
                (name for name, text in texts if form in text and (not word or _token_hit(form, text))),
                None,
            )
            if hit is not None:
                leaks.append(Leak(value, hit))
                break
    return leaks


__all__ = [
    "Audience",
    "Leak",
    "LeakError",
    "NEVER_SHARED",
    "find_leaks",
    "redact_document",
    "sensitive_values",
]
