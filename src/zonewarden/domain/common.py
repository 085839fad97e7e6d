"""Shared building blocks of the domain model: ids, the frozen base model, sensitivity marks."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, NewType

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from zonewarden.errors import Problem

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"
"""Ids are short, stable and safe in file names, URLs and SARIF locations."""

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

# Distinct id types: a zone id cannot be passed where an asset id is expected (mypy checks it).
SiteId = NewType("SiteId", str)
ZoneId = NewType("ZoneId", str)
ConduitId = NewType("ConduitId", str)
AssetId = NewType("AssetId", str)
PersonId = NewType("PersonId", str)

ZoneRef = Annotated[ZoneId, StringConstraints(pattern=ID_PATTERN)]
ConduitRef = Annotated[ConduitId, StringConstraints(pattern=ID_PATTERN)]
AssetRef = Annotated[AssetId, StringConstraints(pattern=ID_PATTERN)]
PersonRef = Annotated[PersonId, StringConstraints(pattern=ID_PATTERN)]

Text = Annotated[str, StringConstraints(max_length=20_000)]
"""Free text from users or advisories: untrusted, always rendered escaped."""
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]

SENSITIVE = "x-sensitive"


def sensitive(**kwargs: Any) -> Any:
    """A field whose value must not reach a customer-facing output unless marked shareable.

    The mark lives in the JSON schema of the field, so the redaction in rendering and the
    schema published by ``zonewarden schema`` both see it.
    """
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[SENSITIVE] = True
    return Field(json_schema_extra=extra, **kwargs)


def sensitive_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the fields of ``model`` that are marked sensitive."""
    out = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(SENSITIVE):
            out.add(name)
    return frozenset(out)


class Model(BaseModel):
    """Base of every domain model: immutable, strict about unknown keys."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        use_enum_values=False,
        validate_default=False,
        defer_build=True,
    )


class Criticality(StrEnum):
    """Criticality class of a zone or asset; drives assessment cadence and SL-T proposals."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Criticality).index(self)


NonNegInt = Annotated[int, Field(ge=0)]


def duplicate_id_problems(section: str, ids: Iterable[str]) -> list[Problem]:
    """One problem for every repeat of an id within a section, located at the repeat."""
    seen: set[str] = set()
    out = []
    for i, ident in enumerate(ids):
        if ident in seen:
            out.append(Problem(f"duplicate id {ident!r} (ids must be unique within {section})", (section, i, "id")))
        seen.add(ident)
    return out
