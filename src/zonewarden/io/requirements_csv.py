"""Requirement statuses from CSV: one row per zone (or conduit) x SR/RE, for a bulk assessment.

Columns are matched by name (case- and punctuation-insensitive): ``zone`` / ``conduit`` /
``target``, ``requirement`` / ``sr`` / ``re``, ``status``, and optionally ``justification``,
``note`` / ``notes``, ``target_date``, ``compensating_control`` / ``control``, ``assessed``. A
status may be written ``n/a`` for ``not-applicable``. The file is strict UTF-8 (the asset CSV
reader's decoding); every problem of every row is reported as ``file:line:column`` (column = the
cell's position in the row) before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zonewarden.domain.requirements import RequirementStatus, status_field_problems
from zonewarden.errors import Problem, SiteFileError
from zonewarden.io import yamlio
from zonewarden.io.csv_table import norm, open_table
from zonewarden.wording import count

ALIASES = {
    "zone": "target", "conduit": "target", "target": "target", "zoneorconduit": "target", "zoneconduit": "target",
    "requirement": "requirement", "sr": "requirement", "re": "requirement", "srre": "requirement",
    "requirementid": "requirement",
    "status": "status",
    "justification": "justification", "why": "justification",
    "note": "notes", "notes": "notes",
    "targetdate": "target_date", "due": "target_date", "planned": "target_date",
    "compensatingcontrol": "compensating_control", "control": "compensating_control",
    "assessed": "assessed", "assessedon": "assessed", "date": "assessed",
}
STATUS_ALIASES = {"na": "not-applicable", "n/a": "not-applicable", "notapplicable": "not-applicable",
                  "notimplemented": "not-implemented", "done": "implemented"}


_norm = norm


def read_requirements_csv(source: Path | bytes, *, label: str | None = None,
                          known_targets: Iterable[str] | None = None) -> list[RequirementStatus]:
    """The statuses of a CSV file (a path, or the bytes of an upload named ``label``); raise
    :class:`SiteFileError` with every problem at its line and column when any row is bad."""
    from zonewarden.catalog.loader import normalise_requirement_id

    name = label or (str(source) if isinstance(source, Path) else "<upload>")
    raw = yamlio.read_bytes(source) if isinstance(source, Path) else source
    table = open_table(raw, name, expected="zone, requirement, status, ...")
    header = table.header
    fields: dict[int, str] = {}
    problems: list[Problem] = []
    for i, col in enumerate(header):
        field = ALIASES.get(_norm(col))
        if field is None:
            known = "zone, requirement, status, justification, note, target_date, compensating_control, assessed"
            problems.append(Problem(f"unknown column {col!r} (columns: {known})", file=name, line=1, column=i + 1))
        elif field in fields.values():
            problems.append(Problem(f"column {col!r} repeats field {field!r}", file=name, line=1, column=i + 1))
        else:
            fields[i] = field
    problems += table.missing(fields.values(), ("target", "requirement", "status"),
                              lambda f: f"no column for {'zone or conduit' if f == 'target' else repr(f)}")
    if problems:
        raise SiteFileError(f"cannot read requirement statuses from {name}", problems)
    column_of = {field: i + 1 for i, field in fields.items()}
    targets = set(known_targets) if known_targets is not None else None
    out: list[RequirementStatus] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in table.rows(problems):

        def at(field: str, message: str, line: int = line) -> Problem:
            return Problem(message, (field,), file=name, line=line, column=column_of.get(field))

        data: dict[str, Any] = {}
        bad = False
        for i, cell in enumerate(row):
            field, value = fields[i], cell.strip()
            if not value:
                continue
            if field == "requirement":
                try:
                    value = normalise_requirement_id(value)
                except Exception as exc:  # UnknownRequirementError: says the closest id
                    problems.append(at(field, str(exc)))
                    bad = True
                    continue
            elif field == "status":
                value = STATUS_ALIASES.get(value.lower(), STATUS_ALIASES.get(_norm(value), value.lower()))
            data[field] = value
        if bad:
            continue
        try:
            status = RequirementStatus.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                field = str(err["loc"][0]) if err["loc"] else "status"
                msg = "required cell is empty" if err["type"] == "missing" else err["msg"]
                problems.append(at(field if field in column_of else "status", f"{field}: {msg}"))
            continue
        lacking = [at(str(p.path[-1]) if str(p.path[-1]) in column_of else "status", p.message)
                   for p in status_field_problems(status)]
        if lacking:
            problems += lacking
            continue
        if targets is not None and status.target not in targets:
            problems.append(at("target", f"unknown zone or conduit {status.target!r}"))
            continue
        key = (status.target, status.requirement)
        if key in seen:
            problems.append(at("requirement", f"{status.target} {status.requirement} is already on line {seen[key]}"))
            continue
        seen[key] = line
        out.append(status)
    if problems:
        raise SiteFileError(
            f"cannot import requirement statuses from {name} ({count(len(problems), 'problem')}); nothing was written",
            problems,
        )
    return out


__all__ = ["read_requirements_csv"]
