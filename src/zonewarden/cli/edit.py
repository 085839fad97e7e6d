"""Edit commands for the sections kept by id: ``zone``, ``conduit``, ``asset`` (and ``asset move``),
``risk``, ``assessment``, ``change``, and ``patch window``, ``patch blackout``, ``patch vendor-patch``.

One factory builds add / edit / remove for every section of
:data:`zonewarden.services.site_edits.SECTIONS`: the record's simple fields become options
(``--purdue-level 2``; list fields repeat: ``--protection firewall --protection ids``), any field
can be given as ``--set FIELD=YAML`` (nested ones: ``--set 'threat={actor: insider}'``) and a
whole record as ``--from-file rec.yaml`` (the project's safe YAML reader). A problem in the file
is reported at its line and column; one in an option names the option.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zonewarden.cli.common import (
    db_option,
    handle_errors,
    note,
    open_store_for,
    signing_options,
    site_option,
)
from zonewarden.errors import InputError, Problem
from zonewarden.services.site_edits import SECTIONS, Section

RESERVED = {"id", "reason", "site", "db", "from_file", "set", "unset", "help"}
_SCALARS = (str, int, float, bool, dt.date, dt.datetime)


def _kind(annotation: Any) -> str | None:
    """'scalar', 'list' or None (a nested field: --set or --from-file)."""
    if hasattr(annotation, "__supertype__"):  # a NewType such as AssetRef
        return _kind(annotation.__supertype__)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin is typing.Literal:
        return "scalar"
    if origin is tuple:
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return "list" if args and all(_kind(a) == "scalar" for a in args) else None
    if isinstance(annotation, type) and (issubclass(annotation, _SCALARS) or issubclass(annotation, enum.Enum)):
        return "scalar"
    return None


def _fields(sec: Section) -> dict[str, tuple[str, str]]:
    """field -> (option name, kind) for the section's simple fields."""
    out = {}
    for name, info in sec.model.model_fields.items():
        kind = _kind(info.annotation)
        if kind is None or name in RESERVED:
            continue
        out[name] = ("--" + name.replace("_", "-"), kind)
    return out


def _choices(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return [c for a in typing.get_args(annotation) for c in _choices(a)]


def _first_sentence(text: str | None) -> str:
    if not text:
        return ""
    return text.split(". ")[0].rstrip(".") + "."


def _field_options(sec: Section) -> Callable[[Any], Any]:
    def deco(func: Any) -> Any:
        for name, (option, kind) in reversed(list(_fields(sec).items())):
            info = sec.model.model_fields[name]
            help_text = _first_sentence(info.description) or f"The {sec.what}'s {name.replace('_', ' ')}."
            choices = _choices(info.annotation)
            if choices:
                help_text += f" One of: {', '.join(choices)}."
            if kind == "list":
                func = click.option(option, name, multiple=True, metavar="VALUE",
                                    help=help_text + " (repeatable)")(func)
            else:
                func = click.option(option, name, default=None, metavar="VALUE", help=help_text)(func)
        return func
    return deco


def _record_options(func: Any) -> Any:
    func = click.option("--set", "sets", multiple=True, metavar="FIELD=YAML",
                        help="Any field, its value in YAML (nested fields too); repeatable.")(func)
    return click.option("--from-file", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        default=None, help="The record (or the fields to change) as a YAML mapping.")(func)


def _reason_option(func: Any) -> Any:
    return click.option("--reason", default=None, help="Why (recorded in the audit log).")(func)


class _Given:
    """The fields a command line gives, and where each came from (to locate its problems)."""

    def __init__(self, sec: Section, from_file: Path | None, options: dict[str, Any], sets: tuple[str, ...]) -> None:
        from zonewarden.io import yamlio

        self.sec, self.file, self.text = sec, from_file, None
        self.data: dict[str, Any] = {}
        self.source: dict[str, str] = {}
        if from_file is not None:
            loaded = yamlio.load_file(from_file)
            if isinstance(loaded, dict) and isinstance(loaded.get(sec.field), list) and len(loaded[sec.field]) == 1:
                loaded = loaded[sec.field][0]  # a site-file excerpt: `zones: [ {...} ]`
            if not isinstance(loaded, dict):
                raise InputError(f"{from_file}: expected one {sec.what} as a YAML mapping of fields")
            self.text = from_file.read_text(encoding="utf-8")
            self.data.update(loaded)
            self.source.update(dict.fromkeys(loaded, "file"))
        fields = _fields(sec)
        for name, value in options.items():
            if value is None or value == ():
                continue
            self.data[name] = list(value) if isinstance(value, tuple) else value
            self.source[name] = fields[name][0]
        for item in sets:
            key, eq, raw = item.partition("=")
            key = key.strip()
            if not eq or not key:
                raise InputError(f"--set {item!r}: write FIELD=VALUE (the value in YAML)")
            self.data[key] = yamlio.loads(raw, source=f"--set {key}") if raw.strip() else None
            self.source[key] = f"--set {key}"

    def locate(self, exc: InputError) -> InputError:
        """The record's problems at their line in --from-file, or naming the option given."""
        if super(InputError, exc).__str__() != f"invalid {self.sec.what}":
            return exc  # a whole-site problem: its path is in the site, not in this record
        from zonewarden.io import yamlio

        out = []
        for p in exc.problems:
            top = str(p.path[0]) if p.path else ""
            origin = self.source.get(top)
            if origin == "file" and self.file is not None and self.text is not None:
                pos = yamlio.locate(self.text, p.path)
                out.append(Problem(p.message, p.path, str(self.file), *(pos or (None, None))))
            elif origin is not None:
                out.append(Problem(p.message, p.path[1:], origin))  # printed as "--option: [sub.path: ]message"
            else:
                out.append(p)
        return InputError(str(super(InputError, exc).__str__()), out)


def _target(db_url: str | None, site_id: str | None) -> tuple[Any, Any, str]:
    from zonewarden.cli.identity import current_principal
    from zonewarden.services import sites as site_service

    store = open_store_for(db_url)
    principal = current_principal(store)
    return store, principal, site_service.resolve_site_id(store, site_id, principal)


def _add_command(sec: Section, verb: str) -> click.Command:
    example = f"zonewarden {_PATH[sec.name]} {verb}"

    @click.command(verb, help=f"Add a {sec.what} (fields as options, --set or --from-file; audited).\n\n"
                              f"\b\nExamples:\n  {example} ID --from-file rec.yaml\n"
                              f"  {example} ID --set FIELD=VALUE --reason \"why\"")
    @click.argument("ident", metavar="ID", required=False)
    @_field_options(sec)
    @_record_options
    @_reason_option
    @site_option
    @db_option
    @handle_errors
    def add(ident: str | None, from_file: Path | None, sets: tuple[str, ...], reason: str | None,
            site_id: str | None, db_url: str | None, **options: Any) -> None:
        from zonewarden.services import site_edits

        given = _Given(sec, from_file, options, sets)
        if ident is not None:
            if given.data.get("id", ident) != ident:
                raise InputError(f"ID {ident!r} differs from the record's id {given.data['id']!r}")
            given.data["id"] = ident
        elif "id" not in given.data:
            raise InputError(f"give the {sec.what}'s ID (an argument, or `id:` in --from-file)")
        store, principal, target = _target(db_url, site_id)
        try:
            outcome = site_edits.add_record(store, target, sec.name, given.data, principal=principal, reason=reason)
        except InputError as exc:
            raise given.locate(exc) from None
        note(f"{sec.what} {outcome.object_id} added; audit event {outcome.audit_seq}")

    return add


def _edit_command(sec: Section) -> click.Command:
    example = f"zonewarden {_PATH[sec.name]} edit"

    @click.command("edit", help=f"Change fields of a {sec.what} (the others are kept; --unset clears one; audited).\n\n"
                                f"\b\nExample:\n  {example} ID --set FIELD=VALUE --unset FIELD")
    @click.argument("ident", metavar="ID")
    @_field_options(sec)
    @_record_options
    @click.option("--unset", "unset", multiple=True, metavar="FIELD", help="Clear a field (back to its default); repeatable.")
    @_reason_option
    @site_option
    @db_option
    @handle_errors
    def edit(ident: str, from_file: Path | None, sets: tuple[str, ...], unset: tuple[str, ...], reason: str | None,
             site_id: str | None, db_url: str | None, **options: Any) -> None:
        from zonewarden.services import site_edits

        given = _Given(sec, from_file, options, sets)
        store, principal, target = _target(db_url, site_id)
        try:
            outcome = site_edits.edit_record(store, target, sec.name, ident, given.data, unset=unset,
                                             principal=principal, reason=reason)
        except InputError as exc:
            raise given.locate(exc) from None
        before = outcome.before or {}
        changed = sorted(k for k in {*before, *outcome.after} if before.get(k) != outcome.after.get(k))
        note(f"{sec.what} {ident} changed ({', '.join(changed) or 'nothing'}); audit event {outcome.audit_seq}")

    return edit


def _remove_command(sec: Section) -> click.Command:
    @click.command("remove", help=f"Remove a {sec.what}; refused while other records refer to it (audited).\n\n"
                                  f"\b\nExample:\n  zonewarden {_PATH[sec.name]} remove ID --reason \"why\"")
    @click.argument("ident", metavar="ID")
    @_reason_option
    @site_option
    @db_option
    @handle_errors
    def remove(ident: str, reason: str | None, site_id: str | None, db_url: str | None) -> None:
        from zonewarden.services import site_edits

        store, principal, target = _target(db_url, site_id)
        outcome = site_edits.remove_record(store, target, sec.name, ident, principal=principal, reason=reason)
        note(f"{sec.what} {ident} removed; audit event {outcome.audit_seq}")

    return remove


@click.command("move")
@click.argument("asset_id", metavar="ASSET")
@click.argument("zone", metavar="ZONE")
@_reason_option
@site_option
@db_option
@handle_errors
def asset_move_cmd(asset_id: str, zone: str, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Move an asset to another zone (audited as asset.move); refused when a record that names the
    asset with its old zone would break.

    \b
    Example:
      zonewarden asset move coat-hmi-1 pack --reason "line 3 rebuild"
    """
    from zonewarden.services import site_edits

    store, principal, target = _target(db_url, site_id)
    outcome = site_edits.move_asset(store, target, asset_id, zone, principal=principal, reason=reason)
    note(f"asset {asset_id} moved from zone {(outcome.before or {}).get('zone')} to {zone}; audit event {outcome.audit_seq}")


def _date_arg(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date; write YYYY-MM-DD") from None


def _signed(principal: Any) -> str:
    return "" if principal.local else f", signed by {principal.full_name or principal.user_id}"


@click.command("accept")
@click.argument("risk_id", metavar="RISK")
@click.option("--rationale", required=True, help="Why the risk is acceptable (at least a sentence).")
@click.option("--expires", required=True, metavar="YYYY-MM-DD", help="Until when (after today where the site is).")
@click.option("--by", "by", default=None, metavar="PERSON",
              help="Accepting person (not the risk's owner); with accounts, your linked person.")
@_reason_option
@signing_options
@site_option
@db_option
@handle_errors
def risk_accept_cmd(risk_id: str, rationale: str, expires: str, by: str | None, reason: str | None,
                    password_stdin: bool, totp: str | None, meaning: str | None,
                    site_id: str | None, db_url: str | None) -> None:
    """Accept a risk until a date (treatment: accept; with user accounts: your electronic signature).

    \b
    Example:
      zonewarden risk accept R-07 --expires 2027-06-30 --rationale "Isolated by the cell firewall; replaced in 2027."
    """
    from zonewarden.cli.identity import current_principal, signing_for
    from zonewarden.services import approvals_more
    from zonewarden.services import sites as site_service

    store = open_store_for(db_url)
    principal = current_principal(store)
    target = site_service.resolve_site_id(store, site_id, principal, "risk.accept")
    outcome = approvals_more.accept_risk(
        store, target, risk_id, rationale=rationale, expires=_date_arg(expires, "--expires"), principal=principal,
        signing=signing_for(principal, password_stdin, totp, meaning), reason=reason, by=by)
    acc = outcome.after.get("acceptance") or {}
    note(f"risk {risk_id} accepted by {acc.get('by')} until {acc.get('expires')}{_signed(principal)}; "
         f"audit event {outcome.audit_seq}")


@click.command("approve")
@click.argument("change_id", metavar="CHANGE")
@click.option("--role", default=None, metavar="ROLE",
              help="The role you approve in (one of your person's roles) [default: the first of them].")
@click.option("--comment", default=None, help="A comment recorded with the approval.")
@click.option("--by", "by", default=None, metavar="PERSON",
              help="Approving person (not the change's owner); with accounts, your linked person.")
@_reason_option
@signing_options
@site_option
@db_option
@handle_errors
def change_approve_cmd(change_id: str, role: str | None, comment: str | None, by: str | None, reason: str | None,
                       password_stdin: bool, totp: str | None, meaning: str | None,
                       site_id: str | None, db_url: str | None) -> None:
    """Approve a change record (appends an approval; with user accounts: your electronic signature).

    \b
    Example:
      zonewarden change approve CR-2026-05 --role quality --meaning "approved as quality"
    """
    from zonewarden.cli.identity import current_principal, signing_for
    from zonewarden.services import approvals_more
    from zonewarden.services import sites as site_service

    store = open_store_for(db_url)
    principal = current_principal(store)
    target = site_service.resolve_site_id(store, site_id, principal, "change.approve")
    outcome = approvals_more.approve_change(
        store, target, change_id, role=role, comment=comment, principal=principal,
        signing=signing_for(principal, password_stdin, totp, meaning), reason=reason, by=by)
    last = (outcome.after.get("approvals") or [{}])[-1]
    note(f"change {change_id} approved by {last.get('by')} as {last.get('role')}{_signed(principal)}; "
         f"audit event {outcome.audit_seq}")


# Command group path of each section, its add verb, and the group's help.
_GROUPS: dict[str, tuple[str, str, str]] = {
    "zones": ("zone", "add", "Add, edit or remove zones."),
    "conduits": ("conduit", "add", "Add, edit or remove conduits."),
    "assets": ("asset", "add", "Add, edit, remove or move assets."),
    "risks": ("risk", "add", "Add, edit or remove risk scenarios (`risks` lists them)."),
    "assessments": ("assessment", "record", "Record, edit or remove completed assessments."),
    "changes": ("change", "add", "Add, edit or remove change records (`changes:`; patch changes: `patch change`)."),
    "maintenance-windows": ("window", "add", "Add, edit or remove maintenance windows."),
    "blackouts": ("blackout", "add", "Add, edit or remove blackout periods (no patching)."),
    "vendor-patches": ("vendor-patch", "add",
                       "Add, edit or remove vendor patches (one patch may fix several CVEs: --cves, repeatable)."),
}
_PATCH_SUBGROUPS = {"maintenance-windows", "blackouts", "vendor-patches"}
_PATH = {name: (f"patch {g}" if name in _PATCH_SUBGROUPS else g) for name, (g, _, _) in _GROUPS.items()}


def _group(name: str) -> click.Group:
    sec = SECTIONS[name]
    group_name, add_verb, help_text = _GROUPS[name]
    path = _PATH[name]
    examples = (f"\n\n\b\nExamples:\n  zonewarden {path} {add_verb} ID --from-file rec.yaml\n"
                f"  zonewarden {path} edit ID --set FIELD=VALUE\n  zonewarden {path} remove ID --reason \"why\"")
    group = click.Group(group_name, help=help_text + examples)
    group.add_command(_add_command(sec, add_verb))
    group.add_command(_edit_command(sec))
    group.add_command(_remove_command(sec))
    return group


def _build() -> list[click.Command]:
    from zonewarden.cli.patch import patch_group

    top: list[click.Command] = []
    for name in _GROUPS:
        group = _group(name)
        if name == "assets":
            group.add_command(asset_move_cmd)
        if name == "risks":
            group.add_command(risk_accept_cmd)
        if name == "changes":
            group.add_command(change_approve_cmd)
        if name in _PATCH_SUBGROUPS:
            patch_group.add_command(group)
        else:
            top.append(group)
    return top


commands = _build()
