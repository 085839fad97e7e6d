"""Suggest the field a user meant when a file names one the model does not have.

A misspelt field (``note`` for ``notes``, ``purdue`` for ``purdue_level``) is refused as unknown;
the message is more useful when it names the closest field of the object the key sits in. The
object's fields are found by walking the pydantic model along the error's location.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through Optional, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def _children(annotation: Any, part: str | int) -> list[Any]:
    """The annotations one step further down ``part`` (a field name or a list index)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _children(get_args(annotation)[0], part)
    if origin is Union or origin is types.UnionType:
        return [c for arg in get_args(annotation) for c in _children(arg, part)]
    if isinstance(part, int):
        if origin in (tuple, list) and get_args(annotation):
            return [get_args(annotation)[0]]
        return []
    out = []
    for model in _models_in(annotation):
        info = model.model_fields.get(part)
        if info is not None:
            out.append(info.annotation)
    return out


def field_names_at(root: type[BaseModel], location: Sequence[str | int]) -> set[str]:
    """Names of the fields of the object(s) at ``location`` below ``root``."""
    current: list[Any] = [root]
    for part in location:
        current = [c for a in current for c in _children(a, part)]
        if not current:
            return set()
    return {name for a in current for m in _models_in(a) for name in m.model_fields}


def did_you_mean(root: type[BaseModel], location: Sequence[str | int]) -> str | None:
    """The closest known field to the unknown key at the end of ``location``, if one is close."""
    if not location or not isinstance(location[-1], str):
        return None
    names = field_names_at(root, location[:-1])
    key = location[-1].lower()
    # A field that starts with the key (``purdue`` -> ``purdue_level``) or a close spelling.
    prefixed = sorted(n for n in names if n.startswith(key) and len(key) >= 3)
    if len(prefixed) == 1:
        return prefixed[0]
    close = difflib.get_close_matches(key, sorted(names), n=1, cutoff=0.75)
    return close[0] if close else None
