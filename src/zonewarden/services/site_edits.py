"""Site edits: add, replace, edit or remove one record of a site section by id, and move an asset
between zones, for every section kept by id (risks, assessments, maintenance windows, blackouts,
vendor patches, change records, zones, conduits, assets).

One general mechanism over a table of sections (:data:`SECTIONS`), not a function per section:
each write validates the record with the section's domain model (errors carry field paths), then
goes through the shared write path (:func:`zonewarden.services.mutation.apply`): authorize the
section's operation, lock the site (checking ``expected_revision``), change the one record,
validate the whole site again, write it back and append one audit event with the record before
and after. Removing a record that others still name is refused, naming them and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from zonewarden.domain.governance import Assessment, ChangeRecord
from zonewarden.domain.patching import BlackoutPeriod, MaintenanceWindow, VendorPatch
from zonewarden.domain.risk import RiskScenario
from zonewarden.domain.site import Asset, Conduit, Zone
from zonewarden.errors import ConflictError, InputError, NotFoundError, PermissionDenied, Problem
from zonewarden.services import identity, mutation
from zonewarden.services.mutation import RecordOutcome
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store


@dataclass(frozen=True)
class Section:
    """One editable section of a site document."""

    name: str
    """The name in commands and URLs (``maintenance-windows``)."""
    field: str
    """The site document's key (``maintenance_windows``)."""
    model: type[BaseModel]
    object_type: str
    """The audit trail's object type (and the action's prefix: ``zone.add``)."""
    what: str
    """In messages: ``maintenance window``."""
    operation: str
    """The policy operation (services/access.py) a write of this section needs."""
    approval_fields: tuple[str, ...] = ()
    """Fields that record an approval or acceptance: with user accounts they are electronic
    signatures, not something typed into the record."""
    hint: str = ""
    """What to do instead of removing a record others still refer to."""
    moved_by: str | None = None
    """A field changed only by its own operation (an asset's ``zone``: :func:`move_asset`)."""


SECTIONS: dict[str, Section] = {s.name: s for s in (
    Section("risks", "risks", RiskScenario, "risk", "risk scenario", "risk.edit", ("acceptance",)),
    Section("assessments", "assessments", Assessment, "assessment", "assessment", "assessment.record"),
    Section("maintenance-windows", "maintenance_windows", MaintenanceWindow, "maintenance-window",
            "maintenance window", "patch.edit"),
    Section("blackouts", "blackouts", BlackoutPeriod, "blackout", "blackout period", "patch.edit"),
    Section("vendor-patches", "patches", VendorPatch, "vendor-patch", "vendor patch", "patch.edit"),
    Section("changes", "changes", ChangeRecord, "change", "change record", "site.edit", ("approvals",)),
    Section("zones", "zones", Zone, "zone", "zone", "site.edit",
            hint="; move its assets elsewhere first (`zonewarden asset move ASSET ZONE`)"),
    Section("conduits", "conduits", Conduit, "conduit", "conduit", "site.edit"),
    Section("assets", "assets", Asset, "asset", "asset", "site.edit", moved_by="zone"),
)}
"""Every section these edits cover, by its command/URL name."""


def section(name: str) -> Section:
    """The section called ``name`` (its URL name, or its site-file key)."""
    found = SECTIONS.get(name) or next((s for s in SECTIONS.values() if s.field == name), None)
    if found is None:
        raise NotFoundError(f"no editable section {name!r} (sections: {', '.join(SECTIONS)})")
    return found


def parse(sec: Section, data: Mapping[str, Any], *, at: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """``data`` validated as a record of ``sec`` (InputError with field paths), as stored."""
    from zonewarden.io.sitefile import parse_record

    return parse_record(sec.model, data, sec.what, at=at).model_dump(mode="json", exclude_defaults=True)


def _index(rows: list[dict[str, Any]], ident: str) -> int | None:
    return next((i for i, row in enumerate(rows) if row.get("id") == ident), None)


def _missing(sec: Section, ident: str, site_id: str, rows: list[dict[str, Any]]) -> NotFoundError:
    known = sorted(str(r.get("id")) for r in rows)
    listed = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
    return NotFoundError(f"no {sec.what} {ident!r} in site {site_id!r} ({sec.name}: {listed or 'none recorded'})")


_SIGN_WITH = {"risks": "zonewarden risk accept", "changes": "zonewarden change approve"}
"""The command that signs a section's approval fields (services/approvals_more.py)."""


def _refuse_typed_approval(sec: Section, principal: Principal, ident: str, before: Mapping[str, Any] | None,
                           new: Mapping[str, Any]) -> None:
    if principal.local:
        return
    for key in sec.approval_fields:
        if new.get(key) != (before or {}).get(key):
            raise PermissionDenied(
                f"{sec.what} {ident}: {key!r} records an approval; with user accounts it is an electronic "
                "signature of the approver and cannot be written into the record"
                + (f" (the approver signs it with `{_SIGN_WITH[sec.name]}`)" if sec.name in _SIGN_WITH else "")
            )


def _refuse_move(sec: Section, ident: str, before: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    field = sec.moved_by
    if field is not None and before.get(field) != new.get(field):
        raise InputError(
            f"{sec.what} {ident}: moving it to another {field} is its own operation: "
            f"`zonewarden asset move {ident} {new.get(field) or 'ZONE'}` (POST .../assets/{ident}/move)",
            [Problem(f"changed only by moving the {sec.what}", (field,))],
        )


def _same_id(sec: Section, ident: str, record: Mapping[str, Any]) -> dict[str, Any]:
    given = record.get("id", ident)
    if given != ident:
        raise InputError(f"the {sec.what}'s id {given!r} differs from {ident!r}",
                         [Problem(f"must be {ident!r} (the record edited), or left out", ("id",))])
    return {**record, "id": ident}


def _referrer(data: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    """``section id`` of the record a problem's path is in (``assets plc-1``), or its pointer."""
    node: Any = data
    label = None
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, Mapping):
            if node.get("id") is not None:
                label = f"{path[0]} {node['id']}"
            elif node.get("target") and node.get("requirement"):
                label = f"{path[0]} {node['target']}/{node['requirement']}"
    return label or Problem("", path).pointer


def _explain_removal(sec: Section, ident: str) -> mutation.Explain:
    def explain(exc: InputError, data: dict[str, Any]) -> InputError:
        names = sorted({_referrer(data, p.path) for p in exc.problems})
        return InputError(
            f"{sec.what} {ident!r} is still referred to by {', '.join(names)}: change or remove "
            f"{'that' if len(names) == 1 else 'those'} first{sec.hint}; nothing was removed",
            exc.problems,
        )
    return explain


def _write(store: Store, site_id: str, sec: Section, verb: str, mutate: mutation.Mutation, *,
           principal: Principal, reason: str | None, expected_revision: str | None,
           explain: mutation.Explain | None = None, operation: str | None = None) -> RecordOutcome:
    return mutation.apply(
        store, site_id, f"{sec.object_type}.{verb}", sec.object_type, mutate, principal=principal,
        operation=operation or sec.operation, reason=reason, expected_revision=expected_revision, explain=explain,
    )


def add_record(store: Store, site_id: str, section_name: str, record: Mapping[str, Any], *, principal: Principal,
               reason: str | None = None, expected_revision: str | None = None) -> RecordOutcome:
    """Add a new record to a section; refused (ConflictError) when one with its id exists."""
    sec = section(section_name)
    identity.authorize(store, principal, sec.operation, site_id)  # a denial before any field error
    new = parse(sec, record)
    ident = str(new["id"])

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        rows: list[dict[str, Any]] = list(data.get(sec.field) or [])
        if _index(rows, ident) is not None:
            raise ConflictError(f"{sec.what} {ident!r} exists already in site {site_id!r}; edit or replace it instead")
        _refuse_typed_approval(sec, principal, ident, None, new)
        data[sec.field] = [*rows, new]
        return ident, None, new

    return _write(store, site_id, sec, "add", mutate, principal=principal, reason=reason,
                  expected_revision=expected_revision)


def replace_record(store: Store, site_id: str, section_name: str, ident: str, record: Mapping[str, Any], *,
                   principal: Principal, reason: str | None = None,
                   expected_revision: str | None = None) -> RecordOutcome:
    """Replace the whole record ``ident`` (which must exist) by ``record``."""
    sec = section(section_name)
    identity.authorize(store, principal, sec.operation, site_id)
    new = parse(sec, _same_id(sec, ident, record))

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        rows: list[dict[str, Any]] = list(data.get(sec.field) or [])
        i = _index(rows, ident)
        if i is None:
            raise _missing(sec, ident, site_id, rows)
        before = rows[i]
        _refuse_typed_approval(sec, principal, ident, before, new)
        _refuse_move(sec, ident, before, new)
        rows[i] = new
        data[sec.field] = rows
        return ident, before, new

    return _write(store, site_id, sec, "replace", mutate, principal=principal, reason=reason,
                  expected_revision=expected_revision)


def edit_record(store: Store, site_id: str, section_name: str, ident: str, changes: Mapping[str, Any], *,
                principal: Principal, unset: Iterable[str] = (), reason: str | None = None,
                expected_revision: str | None = None) -> RecordOutcome:
    """Change some fields of record ``ident``: ``changes`` replace fields, ``unset`` removes them
    (back to their default); the result is validated as a whole record."""
    sec = section(section_name)
    identity.authorize(store, principal, sec.operation, site_id)
    drop = set(unset)
    if "id" in changes and changes["id"] != ident or "id" in drop:
        raise InputError(f"the id of {sec.what} {ident!r} cannot be edited; add a new record and remove this one",
                         [Problem("cannot be edited", ("id",))])
    if not changes and not drop:
        raise InputError(f"nothing to change in {sec.what} {ident!r}: give the fields to set or unset")

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        rows: list[dict[str, Any]] = list(data.get(sec.field) or [])
        i = _index(rows, ident)
        if i is None:
            raise _missing(sec, ident, site_id, rows)
        before = rows[i]
        merged = {k: v for k, v in {**before, **changes}.items() if k not in drop}
        new = parse(sec, merged)
        _refuse_typed_approval(sec, principal, ident, before, new)
        _refuse_move(sec, ident, before, new)
        rows[i] = new
        data[sec.field] = rows
        return ident, before, new

    return _write(store, site_id, sec, "edit", mutate, principal=principal, reason=reason,
                  expected_revision=expected_revision)


def remove_record(store: Store, site_id: str, section_name: str, ident: str, *, principal: Principal,
                  reason: str | None = None, expected_revision: str | None = None) -> RecordOutcome:
    """Remove record ``ident``; refused, naming the referrers, while other records refer to it."""
    sec = section(section_name)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        rows: list[dict[str, Any]] = list(data.get(sec.field) or [])
        i = _index(rows, ident)
        if i is None:
            raise _missing(sec, ident, site_id, rows)
        before = rows.pop(i)
        data[sec.field] = rows
        return ident, before, None

    return _write(store, site_id, sec, "remove", mutate, principal=principal, reason=reason,
                  expected_revision=expected_revision, explain=_explain_removal(sec, ident))


def move_asset(store: Store, site_id: str, asset_id: str, zone: str, *, principal: Principal,
               reason: str | None = None, expected_revision: str | None = None) -> RecordOutcome:
    """Move an asset to another zone (its own audited operation: ``asset.move``). Refused when the
    zone does not exist, the asset is there already, or the move breaks a record naming the asset
    with its old zone (a risk scenario of that zone, say)."""
    sec = SECTIONS["assets"]

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        zones = sorted(str(z.get("id")) for z in data.get("zones") or [])
        if zone not in zones:
            raise InputError(f"cannot move asset {asset_id!r}: no zone {zone!r} in site {site_id!r}",
                             [Problem(f"unknown zone {zone!r} (zones: {', '.join(zones) or 'none'})", ("zone",))])
        rows: list[dict[str, Any]] = list(data.get("assets") or [])
        i = _index(rows, asset_id)
        if i is None:
            raise _missing(sec, asset_id, site_id, rows)
        before = rows[i]
        if before.get("zone") == zone:
            raise ConflictError(f"asset {asset_id!r} is in zone {zone!r} already")
        rows[i] = {**before, "zone": zone}
        data["assets"] = rows
        return asset_id, before, rows[i]

    def explain(exc: InputError, data: dict[str, Any]) -> InputError:
        names = sorted({_referrer(data, p.path) for p in exc.problems})
        return InputError(f"moving asset {asset_id!r} to zone {zone!r} breaks {', '.join(names)}: "
                          "change those first; nothing was moved", exc.problems)

    return _write(store, site_id, sec, "move", mutate, principal=principal, reason=reason,
                  expected_revision=expected_revision, explain=explain)


__all__ = [
    "SECTIONS",
    "Section",
    "add_record",
    "edit_record",
    "move_asset",
    "parse",
    "remove_record",
    "replace_record",
    "section",
]
