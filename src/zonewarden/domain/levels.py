"""Foundational requirements and security-level vectors (IEC 62443-3-3 clause 4 / 3-2).

SL-T, SL-A and SL-C are each a vector of seven levels 0-4, one per FR. They are kept as
distinct types so that a target can never be passed where an achieved level is expected.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator


class FR(StrEnum):
    """The seven foundational requirements."""

    FR1 = "FR1"
    FR2 = "FR2"
    FR3 = "FR3"
    FR4 = "FR4"
    FR5 = "FR5"
    FR6 = "FR6"
    FR7 = "FR7"

    @property
    def full_name(self) -> str:
        """The FR's name, e.g. "Identification and authentication control"."""
        return FR_TITLES[self]


FR_TITLES: dict[FR, str] = {
    FR.FR1: "Identification and authentication control",
    FR.FR2: "Use control",
    FR.FR3: "System integrity",
    FR.FR4: "Data confidentiality",
    FR.FR5: "Restricted data flow",
    FR.FR6: "Timely response to events",
    FR.FR7: "Resource availability",
}

Level = int
"""A security level, 0-4."""


class _LevelVector(BaseModel):
    """Seven levels, one per FR.

    Written in a site file either as one number (the same level on every FR) or as a mapping
    with all seven FRs (``{FR1: 2, FR2: 2, ..., FR7: 1}``); serialised back the same way, so a
    round trip keeps the author's shorthand when it still applies.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[str] = "SL"

    FR1: int = Field(ge=0, le=4)
    FR2: int = Field(ge=0, le=4)
    FR3: int = Field(ge=0, le=4)
    FR4: int = Field(ge=0, le=4)
    FR5: int = Field(ge=0, le=4)
    FR6: int = Field(ge=0, le=4)
    FR7: int = Field(ge=0, le=4)

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a security level is a number 0-4, not true/false")
        if isinstance(value, int):
            return {fr.value: value for fr in FR}
        if isinstance(value, (list, tuple)):
            if len(value) != 7:
                raise ValueError(f"a list of levels needs exactly 7 entries (FR1-FR7), got {len(value)}")
            return {fr.value: v for fr, v in zip(FR, value, strict=True)}
        if isinstance(value, Mapping):
            missing = [fr.value for fr in FR if fr.value not in value]
            if missing:
                raise ValueError(
                    f"missing {', '.join(missing)}: give all seven FRs or a single number for all"
                )
        return value

    @model_serializer(mode="plain")
    def _to_shorthand(self) -> int | dict[str, int]:
        values = self.as_tuple()
        if len(set(values)) == 1:
            return values[0]
        return {fr.value: v for fr, v in zip(FR, values, strict=True)}

    @classmethod
    def uniform(cls, level: int) -> Self:
        return cls.model_validate(level)

    @classmethod
    def from_mapping(cls, levels: Mapping[FR, int]) -> Self:
        return cls.model_validate({fr.value: levels[fr] for fr in FR})

    def as_tuple(self) -> tuple[int, int, int, int, int, int, int]:
        return (self.FR1, self.FR2, self.FR3, self.FR4, self.FR5, self.FR6, self.FR7)

    def __getitem__(self, fr: FR | str) -> int:
        return int(getattr(self, FR(fr).value))

    def items(self) -> Iterator[tuple[FR, int]]:
        return iter(zip(FR, self.as_tuple(), strict=True))

    def min_level(self) -> int:
        return min(self.as_tuple())

    def max_level(self) -> int:
        return max(self.as_tuple())

    def __str__(self) -> str:
        values = self.as_tuple()
        if len(set(values)) == 1:
            return f"{self.kind} {values[0]}"
        return f"{self.kind} [" + " ".join(str(v) for v in values) + "]"

    def elementwise_max(self, other: Self) -> Self:
        if type(other) is not type(self):
            raise TypeError(f"cannot combine {type(self).__name__} with {type(other).__name__}")
        return type(self).model_validate(
            [max(a, b) for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)]
        )

    def elementwise_min(self, other: Self) -> Self:
        if type(other) is not type(self):
            raise TypeError(f"cannot combine {type(self).__name__} with {type(other).__name__}")
        return type(self).model_validate(
            [min(a, b) for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)]
        )


class SLTarget(_LevelVector):
    """Target security level (SL-T): what a zone or conduit must achieve."""

    kind: ClassVar[str] = "SL-T"


class SLAchieved(_LevelVector):
    """Achieved security level (SL-A): what the implemented countermeasures deliver."""

    kind: ClassVar[str] = "SL-A"


class SLCapability(_LevelVector):
    """Capability security level (SL-C): what a component or system can deliver when configured."""

    kind: ClassVar[str] = "SL-C"


def gap(target: SLTarget, achieved: SLAchieved) -> dict[FR, int]:
    """Levels still missing per FR (0 where the target is met). Types are checked on purpose."""
    if not isinstance(target, SLTarget) or not isinstance(achieved, SLAchieved):
        raise TypeError("gap() takes an SLTarget and an SLAchieved, in that order")
    return {fr: max(0, t - a) for (fr, t), (_, a) in zip(target.items(), achieved.items(), strict=True)}
