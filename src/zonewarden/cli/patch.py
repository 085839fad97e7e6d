"""OT patch management commands: ``patch plan``, ``patch status``, ``patch defer ...`` and
``patch change ...``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from zonewarden.cli.check import file_option, read_site_file
from zonewarden.cli.common import (
    EXIT_FINDINGS,
    as_of_option,
    caller,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    read_records,
    record_places,
    signing_options,
    site_option,
)
from zonewarden.errors import InputError


@click.group("patch")
def patch_group() -> None:
    """OT patch management: plan patches into maintenance windows, show compliance, record
    deferrals and patch change records.

    \b
    Examples:
      zonewarden patch plan --horizon 26w
      zonewarden patch status --as-of 2026-12-01
      zonewarden patch defer record deferral.yaml
      zonewarden patch change advance PC-2026-034 implemented --set implemented=2026-12-12
    """


# --- plan ----------------------------------------------------------------------------------


@patch_group.command("plan")
@click.option("--horizon", default="26w", show_default=True, metavar="PERIOD", help="How far to plan (26w, 180d).")
@click.option("--solver", type=click.Choice(["mip", "cpsat", "greedy"]), default="mip", show_default=True,
              help="OR-Tools per part of the plant: LP bound + SCIP (mip) or CP-SAT (both need "
                   "zonewarden[solver]), or the greedy baseline.")
@click.option("--time-limit", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              metavar="S", help="Solver time limit in seconds (mip, cpsat).")
@click.option("--seed", default=0, show_default=True, type=int, help="Solver random seed.")
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 64), help="CP-SAT search workers.")
@site_option
@file_option
@format_option("table", "json", "ics")
@as_of_option
@db_option
@handle_errors
def plan_cmd(horizon: str, solver: str, time_limit: float, seed: int, workers: int, site_id: str | None,
             file: Path | None, fmt: str, as_of: str | None, db_url: str | None) -> None:
    """Plan open remediations (vendor patches, findings marked remediation planned) into
    maintenance windows and waves, minimising risk-weighted time-to-patch.

    Respects window scope and capacity, blackouts, patch duration and restart needs, vendor
    qualification and pilot-before-production with soak time. What cannot be done within the
    policy's deadline is listed with the reason and as a deferral candidate. Status, objective,
    bound and optimality gap go to stderr (and into JSON).

    \b
    Examples:
      zonewarden patch plan --file examples/pharma-plant --as-of 2026-12-01
      zonewarden patch plan --horizon 12w --solver greedy --format json
      zonewarden patch plan --format ics > patch-plan.ics
    """
    from zonewarden.services.queries import patching as queries

    options: dict[str, Any] = dict(as_of=as_of, horizon=horizon, solver=solver, time_limit=time_limit, seed=seed,
                                   workers=workers)
    if file is not None:
        result = queries.patch_plan_of(read_site_file(file), **options)
    else:
        store, principal = caller(db_url)
        result = queries.patch_plan(store, principal=principal, site_id=site_id, **options)
    plan, today, summary = result.plan, result.as_of, result.summary
    if fmt == "json":
        emit_json(result.as_dict())
        note(summary)
        return
    if fmt == "ics":
        from zonewarden.io.ical import plan_to_ical

        text = plan_to_ical(plan, site_id=result.site_id, site_name=result.site_name, timezone=result.timezone,
                            window_names=result.window_names)
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))  # bytes: keep RFC 5545's CRLF line ends
        sys.stdout.buffer.flush()
        note(summary)
        return
    rows = [
        {
            "start": f"{a.start:%Y-%m-%d %H:%M}",
            "window": a.window,
            "asset": a.item.asset_id,
            "patch": a.item.patch_ref,
            "priority": a.item.priority.value,
            "tier": a.tier,
            "wave": a.wave.value,
            "reval": "yes" if a.revalidation else "",
            "deadline": a.deadline.isoformat(),
            "late": f"LATE: {a.reason.value}" if a.late and a.reason else "",
        }
        for a in plan.assignments
    ]
    emit_rows(rows, ["start", "window", "asset", "patch", "priority", "tier", "wave", "reval", "deadline", "late"], "table",
              title=f"Patch plan: {result.site_name} ({today} to {plan.horizon_end})")
    if plan.unplanned:
        emit_rows(
            [{**u.as_dict(), "earliest_possible": (u.earliest_possible and f"{u.earliest_possible:%Y-%m-%d %H:%M}") or "-"}
             for u in plan.unplanned],
            ["asset", "patch", "priority", "tier", "deadline", "reason", "detail", "earliest_possible"],
            "table", title="Not planned",
        )
    if plan.candidates:
        emit_rows([c.as_dict() for c in plan.candidates],
                  ["asset", "patch", "reason", "deadline", "max_expiry", "defer_roles"], "table",
                  title="Deferral candidates (decide: defer with compensating controls, accept the risk, or change the calendar)")
    if plan.deferred:
        emit_rows([{"asset": d.item.asset_id, "patch": d.item.patch_ref, "deferral": d.deferral,
                    "expires": d.expires.isoformat()} for d in plan.deferred],
                  ["asset", "patch", "deferral", "expires"], "table", title="Deferred (not planned until the deferral ends)")
    for n in plan.notes:
        note(f"note: {n}")
    note(summary)


# --- status --------------------------------------------------------------------------------


@patch_group.command("status")
@click.option("--all", "show_all", is_flag=True, help="List every item, not only those outside the normal cycle.")
@site_option
@file_option
@format_option("table", "json", "csv")
@as_of_option
@db_option
@handle_errors
def status_cmd(show_all: bool, site_id: str | None, file: Path | None, fmt: str, as_of: str | None,
               db_url: str | None) -> None:
    """Patch compliance by tier, overdue items, deferrals (with their vulnerabilities and
    compensating controls) and where risk is carried per zone. Exits 1 when something is
    overdue (an expired deferral counts as overdue).

    \b
    Examples:
      zonewarden patch status --file examples/pharma-plant --as-of 2026-12-01
      zonewarden patch status --format json > patch-status.json
      zonewarden patch status --all --format csv
    """
    from zonewarden.engines.patchstatus import ItemState
    from zonewarden.services.queries import patching as queries

    if file is not None:
        result = queries.patch_status_of(read_site_file(file), as_of=as_of)
    else:
        store, principal = caller(db_url)
        result = queries.patch_status(store, principal=principal, site_id=site_id, as_of=as_of)
    status, today, site_name = result.status, result.as_of, result.site_name
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        shown = [i for i in status.items if show_all or i.state is not ItemState.OPEN and i.state is not ItemState.PATCHED]
        item_rows = []
        for i in shown:
            d = i.as_dict()
            d["cves"] = ", ".join(i.item.cves)
            d["controls"] = ", ".join(f"{c.id} ({c.validity})" for c in i.controls)
            d["deferral"] = f"{i.deferral} until {i.deferral_expires}" if i.deferral else ""
            d["flags"] = ", ".join(
                f for f, on in (("needs risk acceptance", i.needs_risk_acceptance),
                                (f"{i.days_overdue} days overdue", i.days_overdue > 0)) if on
            )
            item_rows.append(d)
        if fmt == "csv":
            emit_rows(item_rows, ["asset", "patch", "zone", "tier", "priority", "state", "deadline", "days_overdue",
                                  "deferral", "controls", "cves", "flags"], "csv")
        else:
            emit_rows(
                [{**t.as_dict(), "compliance": "-" if t.compliance is None else f"{t.compliance:.0%}"} for t in status.tiers],
                ["tier", "total", "within_policy", "compliance", "patched", "patched_late", "open", "overdue", "deferred",
                 "not_patchable"],
                "table", title=f"Patch compliance by tier: {site_name} (as of {today})",
            )
            emit_rows(item_rows, ["asset", "patch", "zone", "tier", "priority", "state", "deadline", "deferral",
                                  "controls", "cves", "flags"], "table", title="Outside the normal cycle")
            emit_rows([{**z.as_dict(), "cves": len(z.cves)} for z in status.zones],
                      ["zone", "items", "assets", "cves", "highest_priority", "weight", "exposure", "overdue", "deferred",
                       "not_patchable", "controls_valid", "controls_not_valid"],
                      "table", title="Where risk is carried (exposure = risk weight x days past deadline)")
            for issue in status.deferral_issues:
                note(f"{issue.deferral} ({issue.asset}, {issue.patch}): {issue.problem}: {issue.message}")
    s = status.as_dict()["summary"]
    comp = "-" if s["compliance"] is None else f"{s['compliance']:.0%}"
    note(f"{s['items']} items, {comp} within policy; {s['overdue']} overdue, {s['deferred']} deferred, "
         f"{s['needs_risk_acceptance']} need a risk acceptance")
    if result.overdue:
        sys.exit(EXIT_FINDINGS)


# --- deferrals -----------------------------------------------------------------------------


_read_records = read_records  # the shared reader of record files (cli/common.py)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date; write YYYY-MM-DD") from None


@patch_group.group("defer")
def defer_group() -> None:
    """Record and approve deferrals (asset + patch, reason, compensating controls, expiry).

    \b
    Examples:
      zonewarden patch defer record def-coat-hmi.yaml
      zonewarden patch defer approve DEF-2026-011 --approver p-hkessler
    """


@defer_group.command("record")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def defer_record_cmd(file: Path, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Add or replace deferrals from a YAML file (the fields of the site file's `deferrals:`).

    All or nothing, in one transaction (one audit event per deferral): refused as a whole,
    naming the deferral (file:line), when one runs past the tier's maximum without a risk
    acceptance, names an unknown asset, control or person, or is approved by its requester.

    \b
    Example:
      zonewarden patch defer record def-coat-hmi.yaml --reason "OT board 2026-11"
    """
    from zonewarden.domain.patching import Deferral
    from zonewarden.services import patching as service
    from zonewarden.services import sites as site_service

    records = _read_records(file, "deferrals", Deferral)
    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal)
    outcomes = service.record_deferrals(store, target, records, principal=principal, reason=reason,
                                        labels=record_places(file, "deferrals", len(records)))
    for d, outcome in zip(records, outcomes, strict=True):
        state = "approved" if d.approved else "pending approval"
        note(f"deferral {d.id} {'recorded' if outcome.created else 'replaced'} ({state}); audit event {outcome.audit_seq}")


@defer_group.command("approve")
@click.argument("deferral_id")
@click.option("--approver", default=None, metavar="PERSON",
              help="Person id (not the requester; role allowed by the policy); with accounts, your linked person.")
@click.option("--date", "approved", default=None, metavar="DATE", help="Approval date [default: today where the site is].")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@signing_options
@site_option
@db_option
@handle_errors
def defer_approve_cmd(deferral_id: str, approver: str | None, approved: str | None, reason: str | None,
                      password_stdin: bool, totp: str | None, meaning: str | None,
                      site_id: str | None, db_url: str | None) -> None:
    """Approve a deferral (with user accounts: your electronic signature).

    \b
    Example:
      zonewarden patch defer approve DEF-2026-011 --approver p-hkessler --date 2026-11-09
    """
    from zonewarden.cli.identity import signing_for
    from zonewarden.services import patching as service
    from zonewarden.services import sites as site_service

    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal, "patch.defer.approve")
    when = _date(approved, "--date") or site_service.site_today(store, target)
    outcome = service.approve_deferral(store, target, deferral_id, approver=approver, approved=when,
                                       principal=principal, reason=reason,
                                       signing=signing_for(principal, password_stdin, totp, meaning))
    note(f"deferral {deferral_id} approved by {outcome.after.get('approver')} on {when}; audit event {outcome.audit_seq}")


# --- patch change records --------------------------------------------------------------------


@patch_group.group("change")
def change_group() -> None:
    """Patch change records: record, approve or reject, advance (implemented, closed).

    \b
    Examples:
      zonewarden patch change record pc-wincc.yaml
      zonewarden patch change approve PC-2026-040 --by p-mbrandt --role ot-engineering
      zonewarden patch change advance PC-2026-040 closed --set closed=2026-12-22 --set "post_implementation_review=ok"
    """


@change_group.command("record")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def change_record_cmd(file: Path, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Open new patch change records from a YAML file (fields of `patch_changes:`; status
    'proposed').

    All or nothing, in one transaction (one audit event per record): when one record is
    refused (not 'proposed', an id that exists already, an unknown asset) nothing is recorded
    and the error names it (file:line).

    \b
    Example:
      zonewarden patch change record pc-wincc.yaml
    """
    from zonewarden.domain.patching import PatchChange
    from zonewarden.services import patching as service
    from zonewarden.services import sites as site_service

    records = _read_records(file, "patch_changes", PatchChange)
    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal)
    outcomes = service.record_patch_changes(store, target, records, principal=principal, reason=reason,
                                            labels=record_places(file, "patch_changes", len(records)))
    for c, outcome in zip(records, outcomes, strict=True):
        note(f"patch change {c.id} recorded (proposed); audit event {outcome.audit_seq}")


@change_group.command("approve")
@click.argument("change_id")
@click.option("--by", "by", default=None, metavar="PERSON",
              help="Person id; the role must be allowed by the policy (with accounts: your linked person).")
@click.option("--role", default=None, metavar="ROLE", help="Role in which they sign (recorded).")
@click.option("--reject", is_flag=True, help="Record a rejection instead of an approval.")
@click.option("--date", "on", default=None, metavar="DATE", help="Decision date [default: today where the site is].")
@click.option("--comment", default=None, help="Comment recorded with the decision.")
@signing_options
@site_option
@db_option
@handle_errors
def change_approve_cmd(change_id: str, by: str | None, role: str | None, reject: bool, on: str | None,
                       comment: str | None, password_stdin: bool, totp: str | None, meaning: str | None,
                       site_id: str | None, db_url: str | None) -> None:
    """Approve (or --reject) a proposed patch change.

    \b
    Examples:
      zonewarden patch change approve PC-2026-040 --by p-mbrandt --role ot-engineering
      zonewarden patch change approve PC-2026-041 --by p-mbrandt --reject --comment "wait for SP1"
    """
    from zonewarden.cli.identity import signing_for
    from zonewarden.domain.governance import Approval, Decision
    from zonewarden.services import patching as service
    from zonewarden.services import sites as site_service
    from zonewarden.services.requirements import approver_for

    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal, "patch.change.approve")
    when = _date(on, "--date") or site_service.site_today(store, target)
    if by is None and principal.local:
        raise InputError("--by PERSON: name the person who approves (a person id of the site's people)")
    by = approver_for(store, principal, target, by)
    approval = Approval(by=by, on=when, decision=Decision.REJECTED if reject else Decision.APPROVED,
                        role=role, comment=comment)
    outcome = service.approve_patch_change(store, target, change_id, approval, principal=principal,
                                           signing=signing_for(principal, password_stdin, totp, meaning))
    note(f"patch change {change_id} {outcome.after['status']} by {by} on {when}; audit event {outcome.audit_seq}")


def _parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    from zonewarden.io import yamlio

    out: dict[str, Any] = {}
    for v in values:
        key, sep, raw = v.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set {v!r}: write FIELD=VALUE (e.g. outcome=success)")
        value = yamlio.loads(raw.encode("utf-8"), source=f"--set {key}") if raw.strip() else None
        # Dates stay ISO text; the model reads them.
        out[key.strip()] = value.isoformat() if isinstance(value, dt.date) else value
    return out


@change_group.command("advance")
@click.argument("change_id")
@click.argument("status", type=click.Choice(["implemented", "closed", "cancelled"]))
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Field to set with the move (repeatable); values are YAML (dates, {required: true, ...}).")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def change_advance_cmd(change_id: str, status: str, sets: tuple[str, ...], reason: str | None,
                       site_id: str | None, db_url: str | None) -> None:
    """Move an approved patch change to implemented, then closed (or cancel it).

    Implemented needs an approval, backup_taken, restore_tested, revalidation or
    no_impact_determination, rollback_criteria and rollback_decider, and the outcome;
    closed needs post_implementation_review (and a completed revalidation when one was needed).

    \b
    Examples:
      zonewarden patch change advance PC-2026-034 implemented --set implemented=2026-12-12 \\
          --set backup_taken=2026-12-11 --set restore_tested=2026-12-01 --set outcome=success
      zonewarden patch change advance PC-2026-034 closed --set closed=2026-12-22 \\
          --set "post_implementation_review=VAL-TS-118 passed; no alarms lost"
    """
    from zonewarden.domain.governance import ChangeStatus
    from zonewarden.services import patching as service
    from zonewarden.services import sites as site_service

    store, principal = caller(db_url)
    outcome = service.advance_patch_change(store, site_service.resolve_site_id(store, site_id, principal), change_id,
                                           ChangeStatus(status), fields=_parse_sets(sets), principal=principal,
                                           reason=reason)
    note(f"patch change {change_id} {status}; audit event {outcome.audit_seq}")


commands = [patch_group]
