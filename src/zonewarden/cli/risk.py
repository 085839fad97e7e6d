"""Risk and calendar commands: slt, risks, risk-method, due, diff."""

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
    site_option,
)
from zonewarden.domain.site import SiteDocument
from zonewarden.errors import InputError


def site_today(doc: SiteDocument, as_of: str | None) -> dt.date:
    """``--as-of`` as the site's date, or today's date where the site is."""
    from zonewarden.clock import site_today as today_at

    return today_at(doc.site.timezone, as_of)


# --- slt -------------------------------------------------------------------------------------


@click.command("slt")
@click.option("--zone", default=None, metavar="ZONE", help="Only this zone.")
@click.option(
    "--history",
    is_flag=True,
    help="Show the recorded SL-T changes (who, when, from, to, rationale) from the audit log instead.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when a zone's SL-T differs from the proposal without a written sl_target_rationale.",
)
@site_option
@file_option
@format_option("table", "json", "csv")
@db_option
@handle_errors
def slt_cmd(
    zone: str | None,
    history: bool,
    strict: bool,
    site_id: str | None,
    file: Path | None,
    fmt: str,
    db_url: str | None,
) -> None:
    """Propose an SL-T per zone and FR from the zone's risk scenarios, with the reasoning.

    Each FR's level names the scenario, impact category, matrix cell and rule steps that set
    it (rating -> level, actor ceiling, FR weight) or the criticality floor. A zone whose SL-T
    differs from the proposal needs `sl_target_rationale` in the site file.

    \b
    Examples:
      zonewarden slt
      zonewarden slt --zone line1-control --format json
      zonewarden slt --file examples/pharma-plant --strict   # gate in CI
      zonewarden slt --history --zone gran-sis
    """
    from zonewarden.services.queries import risk as queries

    if history:
        _slt_history(db_url, site_id, file, zone, fmt)
        return

    if file is not None:
        result = queries.slt_of(read_site_file(file), zone=zone)
    else:
        store, principal = caller(db_url)
        result = queries.slt(store, principal=principal, site_id=site_id, zone=zone)
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        method = result.method
        emit_rows(result.rows(), queries.SLT_COLUMNS, fmt,
                  title=f"SL-T proposal: {result.site_name} ({method.name} v{method.version})")
        for p in result.proposals:
            note(f"{p.zone}: proposed {queries.levels_text(p.proposal)}, set {queries.levels_text(p.current)} -> {p.status}")
    if result.unjustified:
        note("SL-T differs from the proposal without sl_target_rationale: " + ", ".join(result.unjustified))
        if strict:
            sys.exit(EXIT_FINDINGS)


def _slt_history(
    db_url: str | None, site_id: str | None, file: Path | None, zone: str | None, fmt: str
) -> None:
    from zonewarden.services.queries import risk as queries

    if file is not None:
        raise InputError(
            "--history reads the audit log of the database; it cannot be used with --file"
        )
    store, principal = caller(db_url)
    result = queries.slt_history(store, principal=principal, site_id=site_id, zone=zone)
    if fmt == "json":
        emit_json(result.as_dict())
        return
    rows = result.rows()
    emit_rows(rows, queries.SLT_HISTORY_COLUMNS, fmt, title=f"SL-T history: {result.site_id}")
    if not rows:
        note("no SL-T changes recorded for this site" + (f" and zone {zone}" if zone else ""))


# --- risks -----------------------------------------------------------------------------------


@click.command("risks")
@click.option("--zone", default=None, metavar="ZONE", help="Only this zone's scenarios.")
@click.option(
    "--over-tolerance", is_flag=True, help="Only scenarios whose residual risk is above tolerable."
)
@click.option(
    "--expiring-within",
    default="90d",
    show_default=True,
    metavar="PERIOD",
    help="Flag acceptances that expire within this period (90d, 12w).",
)
@site_option
@file_option
@format_option("table", "json", "csv")
@as_of_option
@db_option
@handle_errors
def risks_cmd(
    zone: str | None,
    over_tolerance: bool,
    expiring_within: str,
    site_id: str | None,
    file: Path | None,
    fmt: str,
    as_of: str | None,
    db_url: str | None,
) -> None:
    """The risk register: inherent vs residual risk, treatment, owner, review and acceptance.

    Flags: over-tolerance (residual above the method's tolerable rating and not validly
    accepted), review-overdue, acceptance-expired / -expiring (an acceptance by the risk's own owner is refused when
    the site is loaded), supplier-poorly-informed (assets of the scenario come from a supplier without a
    usable disclosure process; each zone's such assets are listed as risk inputs). JSON adds both heat maps.

    \b
    Examples:
      zonewarden risks
      zonewarden risks --over-tolerance --format csv > over.csv
      zonewarden risks --zone qc-lab --as-of 2026-12-31 --format json
    """
    from zonewarden.services.queries import risk as queries

    options: dict[str, Any] = {"as_of": as_of, "zone": zone, "over_tolerance": over_tolerance,
                               "expiring_within": expiring_within}
    if file is not None:
        result = queries.risks_of(read_site_file(file), **options)
    else:
        store, principal = caller(db_url)
        result = queries.risks(store, principal=principal, site_id=site_id, **options)
    if fmt == "json":
        emit_json(result.as_dict())
        return
    emit_rows(result.rows(), queries.RISK_COLUMNS, fmt,
              title=f"Risk register: {result.site_name} (tolerable up to {result.method.tolerable}, as of {result.as_of})")
    if fmt == "table":
        note(f"{len(result.entries)} scenarios; {result.over_tolerance} over tolerance without valid acceptance")
        for e in result.entries:
            for f in e.flags:
                note(f"  {e.id}: {f.message}")
        if result.supplier_inputs:
            note(f"risk inputs: assets from suppliers without a usable disclosure process, "
                 f"{len(result.supplier_inputs)} in {len({i.zone for i in result.supplier_inputs})} zones "
                 "(see zonewarden suppliers):")
        for i in result.supplier_inputs:
            considered = f"in {', '.join(i.scenarios)}" if i.scenarios else "in no scenario yet"
            note(f"  zone {i.zone}: {i.message}; {considered}")


@click.command("risk-method")
@site_option
@file_option
@format_option("yaml", "json", default="yaml")
@db_option
@handle_errors
def risk_method_cmd(site_id: str | None, file: Path | None, fmt: str, db_url: str | None) -> None:
    """Print the risk method exactly as it is applied, defaults included (scales, criteria,
    matrix, tolerable rating and the SL-T rule), so an assessment can be repeated.

    \b
    Example:
      zonewarden risk-method --file examples/pharma-plant > method.yaml
    """
    from zonewarden.services.queries import risk as queries

    if file is not None:
        data = queries.risk_method_of(read_site_file(file))
    else:
        store, principal = caller(db_url)
        data = queries.risk_method(store, principal=principal, site_id=site_id)
    if fmt == "json":
        emit_json(data)
        return
    from zonewarden.io import yamlio

    sys.stdout.write(yamlio.dumps(data))


# --- due -------------------------------------------------------------------------------------


@click.command("due")
@click.option(
    "--within",
    default="90d",
    show_default=True,
    metavar="PERIOD",
    help="List what falls due within this period (90d, 12w) besides what is overdue.",
)
@click.option(
    "--all", "show_all", is_flag=True, help="Also list assessments scheduled further out."
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="An earlier site file/directory: changes since then add scoped reassessments.",
)
@site_option
@file_option
@format_option("table", "json", "csv")
@as_of_option
@db_option
@handle_errors
def due_cmd(
    within: str,
    show_all: bool,
    baseline: Path | None,
    site_id: str | None,
    file: Path | None,
    fmt: str,
    as_of: str | None,
    db_url: str | None,
) -> None:
    """Assessments that are overdue or due, per zone, with the reason. Exits 1 when something
    is overdue.

    Sources: the criticality class calendar (full assessment, health check), change records
    (scoped reassessment of affected zones), assets past end of support, and with --baseline the
    differences from an earlier version (new external connectivity, new critical assets...).
    Working on the database, re-imports that added such conduits or assets count as well.
    --as-of takes a date or a date-time with offset; it is converted to the site's time zone.

    \b
    Examples:
      zonewarden due
      zonewarden due --within 30d --as-of 2026-12-01
      zonewarden due --file examples/pharma-plant --baseline old-export/rheinfeld --format json
    """
    from zonewarden.services.queries import risk as queries

    options: dict[str, Any] = {"as_of": as_of, "within": within, "show_all": show_all,
                               "baseline": read_site_file(_one_site(baseline)) if baseline else None}
    if file is not None:
        result = queries.due_of(read_site_file(file), **options)
    else:
        store, principal = caller(db_url)
        result = queries.due(store, principal=principal, site_id=site_id, **options)
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        emit_rows(result.rows(), queries.DUE_COLUMNS, fmt,
                  title=f"Assessments due: {result.site_name} (as of {result.as_of}, within {result.within_days} days)")
        if fmt == "table":
            note(", ".join(f"{n} {s}" for s, n in result.counts().items()))
    if result.overdue:
        sys.exit(EXIT_FINDINGS)


# --- diff ------------------------------------------------------------------------------------


def _one_site(path: Path) -> Path:
    """A site file or section directory; an export root holding exactly one site is accepted too."""
    from zonewarden.io.sitefile import discover_sites

    found = discover_sites(path)
    if len(found) != 1:
        names = ", ".join(p.name for p in found)
        raise InputError(f"{path} holds several sites ({names}): name one site directory")
    return found[0]


@click.command("diff")
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@format_option("table", "json")
@as_of_option
@handle_errors
def diff_cmd(old: Path, new: Path, fmt: str, as_of: str | None) -> None:
    """What changed between two versions of a site (site files, section directories or export
    directories), and which scoped reassessments the change implies.

    \b
    Examples:
      zonewarden diff exported-2026-01/rheinfeld examples/pharma-plant
      zonewarden diff old.yaml new.yaml --format json
    """
    from zonewarden.services.queries import changes

    old_doc, new_doc = read_site_file(_one_site(old)), read_site_file(_one_site(new))
    result = changes.diff_of(old_doc, new_doc, old=str(old), new=str(new), as_of=as_of)
    if not result.same_site:
        note(f"warning: comparing different sites ({result.old_site} and {result.new_site})")
    if fmt == "json":
        emit_json(result.as_dict())
        return
    emit_rows(result.rows(), changes.DIFF_COLUMNS, "table", title=f"Changes {old} -> {new}")
    trig = result.trigger_rows()
    if trig:
        emit_rows(trig, changes.TRIGGER_COLUMNS, "table", title="Reassessment triggers")
    note(f"{len(result.diff.changes)} changes; {len(result.diff.triggers)} reassessment triggers")


commands = [slt_cmd, risks_cmd, risk_method_cmd, due_cmd, diff_cmd]
