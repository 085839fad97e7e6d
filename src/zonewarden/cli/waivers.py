"""``zonewarden waiver record|approve|list``: check-finding waivers as signed approvals
(:mod:`zonewarden.services.waivers`), the same services as the API's waiver routes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from zonewarden.cli.common import (
    caller,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    signing_options,
    site_option,
)
from zonewarden.errors import InputError


@click.group("waiver")
def waiver_group() -> None:
    """Record, approve (sign) and list check-finding waivers."""


@waiver_group.command("record")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def waiver_record_cmd(file: Path, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Add or replace waivers (by their id) from a YAML file (one mapping, or a list), pending
    approval: a pending waiver waives nothing until it is approved with `waiver approve`.

    \b
    Example:
      zonewarden waiver record w-rtu.yaml --reason "CAB 2026-15"
    """
    from zonewarden.cli.common import read_records
    from zonewarden.domain.site import Waiver
    from zonewarden.services import sites as site_service
    from zonewarden.services import waivers

    records = read_records(file, "waivers", Waiver)
    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal)
    for waiver in records:
        outcome = waivers.record_waiver(store, target, waiver, principal=principal, reason=reason)
        state = "approved (typed, not signed)" if waiver.approved_by else "pending approval"
        note(f"waiver {waiver.id} {'recorded' if outcome.created else 'replaced'} ({state}); "
             f"audit event {outcome.audit_seq}")


@waiver_group.command("approve")
@click.argument("waiver_id")
@click.option("--approver", default=None, metavar="PERSON",
              help="Person id of the approver; with user accounts, your linked person.")
@click.option("--date", "approved", default=None, metavar="DATE", help="Approval date [default: today where the site is].")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@signing_options
@site_option
@db_option
@handle_errors
def waiver_approve_cmd(waiver_id: str, approver: str | None, approved: str | None, reason: str | None,
                       password_stdin: bool, totp: str | None, meaning: str | None,
                       site_id: str | None, db_url: str | None) -> None:
    """Approve a pending waiver; from then until it expires it waives its findings.

    With user accounts the approval is your electronic signature (re-enter your password, and
    the TOTP code), bound to the waiver: a later edit shows the signature as no longer matching.

    \b
    Example:
      zonewarden waiver approve W-RTU-104 --meaning "approved as asset-owner"
    """
    from zonewarden.cli.identity import signing_for
    from zonewarden.services import sites as site_service
    from zonewarden.services import waivers

    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal, "waiver.approve")
    try:
        when = dt.date.fromisoformat(approved) if approved else site_service.site_today(store, target)
    except ValueError:
        raise InputError(f"--date {approved!r} is not a date; write it as YYYY-MM-DD") from None
    outcome = waivers.approve_waiver(store, target, waiver_id, approver=approver, approved=when, principal=principal,
                                     reason=reason, signing=signing_for(principal, password_stdin, totp, meaning))
    signed = "" if principal.local else f", signed by {principal.full_name or principal.user_id}"
    note(f"waiver {waiver_id} approved by {outcome.after.get('approved_by')} on {when}{signed}; "
         f"audit event {outcome.audit_seq}")


@waiver_group.command("list")
@format_option("table", "json", "csv")
@site_option
@db_option
@handle_errors
def waiver_list_cmd(fmt: str, site_id: str | None, db_url: str | None) -> None:
    """The site's waivers and how each approval stands: pending, not signed (typed in the site
    file), valid or no longer matches (its signature)."""
    from zonewarden.services import sites as site_service
    from zonewarden.services import waivers

    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal)
    rows = waivers.list_waivers(store, target, principal=principal)
    if fmt == "json":
        emit_json({"site": target, "waivers": rows})
        return
    emit_rows([{"id": r.get("id") or "", "rule": r["rule"], "objects": ", ".join(r.get("objects") or []),
                "expires": r["expires"], "approval": r["approval"]["line"]} for r in rows],
              ["id", "rule", "objects", "expires", "approval"], fmt, title="Waivers")


commands = [waiver_group]
