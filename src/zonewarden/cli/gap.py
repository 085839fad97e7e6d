"""Gap commands: ``gap`` (SL-A, SL-C limit and gap per zone/conduit and FR, the ISO 27001 view,
explanations), ``requirement set`` and ``compensation record|approve``."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import click

from zonewarden.cli.check import read_site_file
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
    signing_options,
    site_option,
)
from zonewarden.domain.levels import FR
from zonewarden.errors import InputError


def _parse_fr(value: str | None) -> FR | None:
    return None if value is None else _fr(value)


def _fr(value: str) -> FR:
    text = value.strip().upper()
    if text.isdigit():
        text = f"FR{text}"
    try:
        return FR(text)
    except ValueError:
        raise InputError(f"--fr {value!r} is not a foundational requirement; use FR1 ... FR7") from None


@click.command("gap")
@site_option
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Analyse a site file or directory directly, without a database.",
)
@click.option("--zone", "zones", multiple=True, metavar="ZONE", help="Only this zone or conduit (repeatable).")
@click.option("--fr", "fr_text", default=None, metavar="FRn", help="Only this foundational requirement (FR1..FR7).")
@click.option("--only-gaps", is_flag=True, help="Only rows where SL-A is below SL-T.")
@click.option("--explain", "explain_args", nargs=2, default=None, metavar="ZONE FR",
              help="Explain in plain words why SL-A on FR is what it is for ZONE.")
@click.option("--framework", type=click.Choice(["iec62443", "iso27001"]), default="iec62443", show_default=True,
              help="iso27001: ISO/IEC 27001:2022 Annex A coverage derived from the 62443 statuses.")
@click.option("--fail-on-gap", is_flag=True,
              help="Exit 1 when a shown row has a gap or a compensation stopped counting (for CI).")
@format_option("table", "json", "csv")
@as_of_option
@db_option
@handle_errors
def gap_cmd(site_id: str | None, file: Path | None, zones: tuple[str, ...], fr_text: str | None, only_gaps: bool,
            explain_args: tuple[str, str] | None, framework: str, fail_on_gap: bool, fmt: str, as_of: str | None,
            db_url: str | None) -> None:
    """IEC 62443-3-3 gap: SL-T, SL-A, SL-C limit and gap per zone/conduit and FR.

    SL-A on an FR is the highest level whose SR/REs are all implemented, validly compensated
    (approved, not expired) or not applicable with a justification. The SL-C limit is the
    weakest stated capability of the zone's assets. See docs/gap-analysis.md.

    \b
    Examples:
      zonewarden gap --only-gaps
      zonewarden gap --zone coat --fr FR1 --format json
      zonewarden gap --explain coat FR1 --as-of 2026-09-01
      zonewarden gap --framework iso27001 --format csv > annex-a.csv
      zonewarden gap --file examples/pharma-plant --fail-on-gap
    """
    from zonewarden.services.queries import gap as queries

    fr = _parse_fr(fr_text)
    if framework == "iso27001":
        if file is not None:
            coverage = queries.annex_a_of(read_site_file(file), as_of=as_of, only_gaps=only_gaps)
        else:
            store, principal = caller(db_url)
            coverage = queries.annex_a(store, principal=principal, site_id=site_id, as_of=as_of, only_gaps=only_gaps)
        emit_rows(coverage.rows(), queries.ISO_COLUMNS, fmt,
                  title=f"ISO/IEC 27001:2022 Annex A from IEC 62443 statuses: {coverage.site_name}")
        note(
            f"{len(coverage.coverage)} Annex A controls as of {coverage.as_of}: "
            + ", ".join(f"{n} {k}" for k, n in coverage.counts().items())
            + " (none / not-assessed / unmapped: no implemented requirement supports the control)"
        )
        return

    if file is not None:
        # Reading a site file checks its evidence files (missing or changed files are errors).
        result = queries.gap_of(read_site_file(file), as_of=as_of, zones=zones, fr=fr, only_gaps=only_gaps)
    else:
        store, principal = caller(db_url)
        result = queries.gap(store, principal=principal, site_id=site_id, as_of=as_of, zones=zones, fr=fr,
                             only_gaps=only_gaps)
    if explain_args is not None:
        target, fr_arg = explain_args
        click.echo("\n".join(result.explain(target, _fr(fr_arg))))
        return

    if result.unassessed:
        note(f"not assessed (no requirement statuses, SL-A 0 on every FR): {', '.join(result.unassessed)}")
    rows = result.rows()
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        emit_rows(rows, queries.GAP_COLUMNS, fmt, title=f"IEC 62443-3-3 gap: {result.site_name} (as of {result.as_of})")
    expired = result.expired
    gaps = sum(1 for r in rows if r["gap"])
    note(f"{gaps} of {len(rows)} rows below SL-T; {len(expired)} statuses rely on "
         f"compensating controls that do not count")
    for e in expired:
        since = f" since {e.since}" if e.since else ""
        note(f"warning: {e.target} {e.requirement}: compensating control {e.control} is {e.validity.value}{since}")
    for ctl in result.overdue_controls:
        note(f"warning: compensating control {ctl.control}: {ctl.reason}")
    for x in result.report.exceptions:
        if not x.active:
            note(f"warning: exception {x.exception}: {x.reason}")
    for u in result.report.undecided:
        note(f"note: {u.subject}: {u.reason}")
    if fail_on_gap and (gaps or expired):
        sys.exit(EXIT_FINDINGS)


# --- writes --------------------------------------------------------------------------------


def _date(value: str | None, option: str) -> Any:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date; write it as YYYY-MM-DD") from None


_STATUS_OPTIONS = {
    "target_date": "status 'planned' needs --target-date DATE (when it will be in place)",
    "justification": "status 'not-applicable' needs --justification TEXT (why it does not apply)",
    "compensating_control": "status 'compensated' needs --control ID (the compensating control standing in)",
}
"""What to say, in options, when a status lacks a field (status_field_problems names fields)."""


@click.group("requirement")
def requirement_group() -> None:
    """Record what a zone or conduit does about an IEC 62443-3-3 requirement."""


@requirement_group.command("set")
@click.argument("target")
@click.argument("requirement")
@click.argument(
    "status",
    type=click.Choice(["implemented", "partial", "planned", "not-implemented", "not-applicable", "compensated"]),
)
@click.option("--target-date", default=None, metavar="DATE", help="For 'planned': when it will be in place.")
@click.option("--justification", default=None, help="For 'not-applicable': why it does not apply.")
@click.option("--control", "control_id", default=None, metavar="ID", help="For 'compensated': the compensating control.")
@click.option("--evidence-doc", multiple=True, metavar="DOC", help="Controlled document id (repeatable).")
@click.option("--evidence-link", multiple=True, metavar="URL", help="Link to the evidence (repeatable).")
@click.option("--evidence-file", multiple=True, metavar="PATH",
              help="Evidence file inside --site-dir; its SHA-256 is recorded (repeatable).")
@click.option("--site-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder evidence file paths are relative to (the site file's folder).")
@click.option("--evidence-date", default=None, metavar="DATE", help="Date of the evidence.")
@click.option("--assessed", default=None, metavar="DATE",
              help="When the status was confirmed [default: today in the site's time zone].")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def requirement_set_cmd(target: str, requirement: str, status: str, target_date: str | None,
                        justification: str | None, control_id: str | None, evidence_doc: tuple[str, ...],
                        evidence_link: tuple[str, ...], evidence_file: tuple[str, ...], site_dir: Path,
                        evidence_date: str | None, assessed: str | None, reason: str | None, site_id: str | None,
                        db_url: str | None) -> None:
    """Set the status of one SR/RE for one zone or conduit (audited).

    \b
    Examples:
      zonewarden requirement set coat "SR 1.1 RE 1" compensated --control CC-COAT-HMI \\
          --evidence-doc "OT-SOP-031 rev 2" --reason "quarterly review"
      zonewarden requirement set gran sr3.4 planned --target-date 2027-03-31
      zonewarden requirement set pack "SR 1.6" not-applicable --justification "No wireless in the line"
    """
    from pydantic import ValidationError

    from zonewarden.catalog.loader import normalise_requirement_id
    from zonewarden.domain.requirements import RequirementStatus, status_field_problems
    from zonewarden.io.evidence_files import resolve_evidence_path
    from zonewarden.services import requirements as service
    from zonewarden.services import sites as site_service

    when = _date(evidence_date, "--evidence-date")
    evidence: list[dict[str, Any]] = [{"document": d} for d in evidence_doc]
    evidence += [{"link": u} for u in evidence_link]
    files: dict[str, bytes] = {}
    for f in evidence_file:
        path = resolve_evidence_path(site_dir, f)
        if not path.is_file():
            raise InputError(f"--evidence-file {f!r}: no such file in {site_dir.resolve()}")
        rel = path.relative_to(site_dir.resolve()).as_posix()
        files[rel] = path.read_bytes()
        evidence.append({"file": rel, "sha256": hashlib.sha256(files[rel]).hexdigest()})
    if when is not None:
        evidence = [{**e, "date": when.isoformat()} for e in evidence]
    fields: dict[str, Any] = {
        "target": target,
        "requirement": normalise_requirement_id(requirement),
        "status": status,
        "target_date": target_date,
        "justification": justification,
        "compensating_control": control_id,
        "evidence": evidence,
        "assessed": _date(assessed, "--assessed"),
    }
    try:
        record = RequirementStatus.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise InputError("invalid status: " + "; ".join(e["msg"] for e in exc.errors())) from None
    missing = status_field_problems(record)
    if missing:
        # The rule names the field; here the user gives it as an option.
        raise InputError(
            "; ".join(_STATUS_OPTIONS.get(str(p.path[-1]), p.message) for p in missing)
        )
    store, principal = caller(db_url)
    outcome = service.set_requirement_status(
        store, site_service.resolve_site_id(store, site_id, principal), record, principal=principal,
        reason=reason, evidence=files,
    )
    was = f" (was {outcome.before.get('status')})" if outcome.before else ""
    note(f"{record.target} {record.requirement}: {record.status.value}{was}; audit event {outcome.audit_seq}")


@requirement_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def requirement_import_cmd(file: Path, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Set many requirement statuses from a CSV file, all or nothing (one audit event).

    Columns (by name, any order): zone (or conduit), requirement (SR/RE), status, and
    optionally justification, note, target_date, compensating_control, assessed. Every bad
    cell is reported as FILE:LINE:COLUMN and nothing is written.

    \b
    Example:
      zonewarden requirement import assessment-2026.csv --reason "annual assessment"
    """
    from zonewarden.io.requirements_csv import read_requirements_csv
    from zonewarden.services import requirement_import
    from zonewarden.services import sites as site_service

    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal)
    doc = site_service.load_document(store, target, without=("assets",))
    known = [z.id for z in doc.zones] + [c.id for c in doc.conduits]
    statuses = read_requirements_csv(file, known_targets=known)
    outcome = requirement_import.set_requirement_statuses(store, target, statuses, principal=principal,
                                                          source=file.name, reason=reason)
    note(f"{file.name}: {outcome.added} added, {outcome.replaced} replaced, {outcome.unchanged} unchanged; "
         f"audit event {outcome.audit_seq}")


@click.group("compensation")
def compensation_group() -> None:
    """Record and approve compensating controls."""


@compensation_group.command("record")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def compensation_record_cmd(file: Path, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Add or replace compensating controls from a YAML file (one mapping, or a list).

    The file holds the same fields as the site file's `compensating_controls:` entries. All or
    nothing, in one transaction (one audit event per control): when one control is refused
    (an unknown zone or person, a typed approval) nothing is recorded and the error names it
    (file:line).

    \b
    Example:
      zonewarden compensation record cc-coat-hmi.yaml --reason "CAB 2026-14"
    """
    from zonewarden.cli.common import read_records, record_places
    from zonewarden.domain.requirements import CompensatingControl
    from zonewarden.services import requirements as service
    from zonewarden.services import sites as site_service

    controls = read_records(file, "compensating_controls", CompensatingControl)
    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal)
    outcomes = service.record_compensating_controls(
        store, target, controls, principal=principal, reason=reason,
        labels=record_places(file, "compensating_controls", len(controls)),
    )
    for control, outcome in zip(controls, outcomes, strict=True):
        verb = "recorded" if outcome.created else "replaced"
        state = "approved" if control.approved else "pending approval"
        note(f"compensating control {control.id} {verb} ({state}); audit event {outcome.audit_seq}")


@compensation_group.command("approve")
@click.argument("control_id")
@click.option("--approver", default=None, metavar="PERSON",
              help="Person id of the approver (not the owner); with user accounts, your linked person.")
@click.option("--date", "approved", default=None, metavar="DATE", help="Approval date [default: today where the site is].")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@signing_options
@site_option
@db_option
@handle_errors
def compensation_approve_cmd(control_id: str, approver: str | None, approved: str | None, reason: str | None,
                             password_stdin: bool, totp: str | None, meaning: str | None,
                             site_id: str | None, db_url: str | None) -> None:
    """Approve a compensating control; from that date it counts towards SL-A until it expires.

    With user accounts the approval is your electronic signature: you re-enter your password
    (and TOTP code) to sign, and the signature is bound to the approved record.

    \b
    Example:
      zonewarden compensation approve CC-COAT-HMI --approver p-hkessler --reason "CAB 2026-14"
    """

    from zonewarden.cli.identity import signing_for
    from zonewarden.services import requirements as service
    from zonewarden.services import sites as site_service

    store, principal = caller(db_url)
    target = site_service.resolve_site_id(store, site_id, principal, "compensation.approve")
    when = _date(approved, "--date") or site_service.site_today(store, target)
    outcome = service.approve_compensating_control(
        store, target, control_id, approver=approver, approved=when, principal=principal, reason=reason,
        signing=signing_for(principal, password_stdin, totp, meaning),
    )
    by = outcome.after.get("approver")
    signed = "" if principal.local else f", signed by {principal.full_name or principal.user_id}"
    note(f"compensating control {control_id} approved by {by} on {when}{signed}; audit event {outcome.audit_seq}")


commands = [gap_cmd, requirement_group, compensation_group]
