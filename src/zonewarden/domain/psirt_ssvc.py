"""SSVC coordinator decisions (triage, publish) from a published decision table.

Pure: the table is handed in as the JSON the CERT/CC SSVC project publishes (``decision_points``,
``outcome``, ``mapping``; CISA's tables in ``../shared/data/ssvc/decision_tables``), so no table
text is copied into zonewarden. Inputs are given per decision point by its key (``RP``,
``SCON``, ...) or its full id (``ssvc:RP:1.0.0``), with the value's key or name (``Y`` / ``Yes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zonewarden.errors import InputError


@dataclass(frozen=True, slots=True)
class CoordinatorOutcome:
    table: str
    """The table's key and version, e.g. ``DT_COORD_TRIAGE 1.0.0``."""
    inputs: tuple[tuple[str, str], ...]
    """(decision point id, value key) in the table's order."""
    value: str
    """The outcome's key (e.g. ``C`` for Coordinate)."""
    name: str | None
    """The outcome's name, when the table names it."""


def _points(table: Mapping[str, Any]) -> dict[str, Any]:
    points = table.get("decision_points")
    mapping = table.get("mapping")
    if not isinstance(points, dict) or not isinstance(mapping, list) or not table.get("outcome"):
        raise InputError("not an SSVC decision table (needs decision_points, outcome and mapping)")
    return points


def input_points(table: Mapping[str, Any]) -> list[str]:
    """The decision points the table asks for (every point except the outcome), in order."""
    return [pid for pid in _points(table) if pid != table["outcome"]]


def decide_coordinator(table: Mapping[str, Any], given: Mapping[str, str]) -> CoordinatorOutcome:
    """The table's outcome for ``given``; :class:`InputError` names a missing or unknown input
    and the values it accepts."""
    points = _points(table)
    outcome_id = str(table["outcome"])
    by_key = {str(p.get("key")): pid for pid, p in points.items() if isinstance(p, dict)}
    chosen: dict[str, str] = {}
    problems = []
    norm = {k.strip(): v.strip() for k, v in given.items()}
    for key in norm:
        if key not in points and key not in by_key:
            problems.append(f"{key}: not a decision point of this table (it asks for "
                            f"{', '.join(points[p]['key'] for p in input_points(table))})")
    for pid in input_points(table):
        point = points[pid]
        raw = norm.get(pid, norm.get(str(point.get("key"))))
        values = point.get("values") or []
        if raw is None:
            problems.append(f"{point.get('key')} ({point.get('name')}) is missing; one of "
                            + ", ".join(f"{v['key']}={v['name']}" for v in values))
            continue
        match = [v["key"] for v in values if raw in (v.get("key"), v.get("name")) or raw.lower() == str(v.get("name", "")).lower()]
        if not match:
            problems.append(f"{point.get('key')}={raw}: not a value of {point.get('name')}; one of "
                            + ", ".join(f"{v['key']}={v['name']}" for v in values))
            continue
        chosen[pid] = match[0]
    if problems:
        raise InputError("SSVC coordinator decision: " + "; ".join(problems))
    for row in table["mapping"]:
        if all(row.get(pid) == val for pid, val in chosen.items()):
            value = str(row[outcome_id])
            names = {v["key"]: v.get("name") for v in points.get(outcome_id, {}).get("values", [])}
            return CoordinatorOutcome(f"{table.get('key')} {table.get('version')}",
                                      tuple(chosen.items()), value, names.get(value))
    raise InputError("SSVC coordinator decision: the table has no row for these inputs (an incomplete table?)")
