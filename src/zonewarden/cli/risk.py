"""Risk and calendar commands: slt, risks, risk-method, due, diff."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from zonewarden.cli.check import file_option, load_for_command, read_site_file
from zonewarden.cli.common import (
    EXIT_FINDINGS,
    as_of_option,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
    site_option,
)
from zonewarden.domain.site import SiteDocument
from zonewarden.errors import InputError


def site_today(doc: SiteDocument, as_of: str | None) -> dt.date:
    """``--as-of`` as the site's date, or today's date where the site is."""
    from zonewarden.clock import site_today as today_at

    return today_at(doc.site.timezone, as_of)


def _levels(vector: Any) -> str:
    return "-" if vector is None else str(vector)


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
    from zonewarden.engines.risk import propose_slt

    if history:
        _slt_history(db_url, site_id, file, zone, fmt)
        return

    doc, _ = load_for_command(db_url, site_id, file)
    proposals = propose_slt(doc, zone)
    if fmt == "json":
        emit_json(
            {
                "site": doc.site.id,
                "method": {"name": doc.risk_method.name, "version": doc.risk_method.version},
                "zones": [p.as_dict(full=True) for p in proposals],
            }
        )
    else:
        rows: list[dict[str, Any]] = []
        for p in proposals:
            if p.proposal is None:
                rows.append(
                    {
                        "zone": p.zone,
                        "fr": "-",
                        "proposed": "-",
                        "current": _levels(p.current),
                        "reason": p.undecided_reason,
                    }
                )
                continue
            for fr in p.per_fr:
                rows.append(
                    {
                        "zone": p.zone,
                        "fr": fr.fr.value,
                        "proposed": fr.level,
                        "current": "-" if p.current is None else p.current[fr.fr],
                        "reason": fr.reason,
                    }
                )
        emit_rows(
            rows,
            ["zone", "fr", "proposed", "current", "reason"],
            fmt,
            title=f"SL-T proposal: {doc.site.name} ({doc.risk_method.name} v{doc.risk_method.version})",
        )
        for p in proposals:
            note(
                f"{p.zone}: proposed {_levels(p.proposal)}, set {_levels(p.current)} -> {p.status}"
            )
    unjustified = [p.zone for p in proposals if p.missing_justification]
    if unjustified:
        note(
            "SL-T differs from the proposal without sl_target_rationale: " + ", ".join(unjustified)
        )
        if strict:
            sys.exit(EXIT_FINDINGS)


def _slt_history(
    db_url: str | None, site_id: str | None, file: Path | None, zone: str | None, fmt: str
) -> None:
    from zonewarden.services import sites
    from zonewarden.services.slt import slt_history

    if file is not None:
        raise InputError(
            "--history reads the audit log of the database; it cannot be used with --file"
        )
    from zonewarden.cli.identity import current_principal

    store = open_store_for(db_url)
    ident = sites.resolve_site_id(store, site_id, current_principal(store))
    changes = slt_history(store, ident, zone)
    rows = [c.as_dict() for c in changes]
    if fmt == "json":
        emit_json({"site": ident, "history": rows})
        return
    for r in rows:
        r["before"] = _plain_levels(r["before"])
        r["after"] = _plain_levels(r["after"])
    emit_rows(
        rows,
        ["seq", "at", "actor", "zone", "before", "after", "rationale", "reason"],
        fmt,
        title=f"SL-T history: {ident}",
    )
    if not rows:
        note("no SL-T changes recorded for this site" + (f" and zone {zone}" if zone else ""))


def _plain_levels(value: Any) -> str:
    if value is None:
        return "-"
    from zonewarden.domain.levels import SLTarget

    return str(SLTarget.model_validate(value))


# --- risks -----------------------------------------------------------------------------------


def _cell(score: Any) -> str:
    w = score.worst
    return f"{w.rating} {w.score} (L{w.likelihood} x I{w.impact} {w.category})"


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
    accepted), review-overdue, acceptance-expired / -expiring, accepted-by-owner (the person
    who owns the treatment also accepted the residual risk). JSON adds both heat maps.

    \b
    Examples:
      zonewarden risks
      zonewarden risks --over-tolerance --format csv > over.csv
      zonewarden risks --zone qc-lab --as-of 2026-12-31 --format json
    """
    from zonewarden.engines.cadence import parse_days
    from zonewarden.engines.risk import heat_map, register, treatment_counts

    doc, _ = load_for_command(db_url, site_id, file)
    today = site_today(doc, as_of)
    entries = register(
        doc,
        today,
        zone=zone,
        over_tolerance_only=over_tolerance,
        expiring_within_days=parse_days(expiring_within),
    )
    method = doc.risk_method
    if fmt == "json":
        emit_json(
            {
                "site": doc.site.id,
                "as_of": today.isoformat(),
                "method": {
                    "name": method.name,
                    "version": method.version,
                    "tolerable": method.tolerable,
                },
                "entries": [e.as_dict() for e in entries],
                "treatments": treatment_counts(entries),
                "heat_map": {
                    "ratings": [list(r) for r in method.matrix_rows()],
                    "inherent": [list(r) for r in heat_map(method, entries, "inherent").counts],
                    "residual": [list(r) for r in heat_map(method, entries, "residual").counts],
                },
            }
        )
        return
    rows = [
        {
            "id": e.id,
            "zone": e.scenario.zone,
            "title": e.scenario.title,
            "threat": f"{e.scenario.threat.actor.value} via {e.scenario.threat.vector}",
            "inherent": _cell(e.inherent),
            "residual": _cell(e.residual),
            "treatment": e.scenario.treatment.value,
            "owner": e.scenario.owner,
            "review": e.scenario.review_date.isoformat(),
            "flags": ", ".join(f.code for f in e.flags),
        }
        for e in entries
    ]
    emit_rows(
        rows,
        [
            "id",
            "zone",
            "title",
            "threat",
            "inherent",
            "residual",
            "treatment",
            "owner",
            "review",
            "flags",
        ],
        fmt,
        title=f"Risk register: {doc.site.name} (tolerable up to {method.tolerable}, as of {today})",
    )
    if fmt == "table":
        over = sum(1 for e in entries if any(f.code == "over-tolerance" for f in e.flags))
        note(f"{len(entries)} scenarios; {over} over tolerance without valid acceptance")
        for e in entries:
            for f in e.flags:
                note(f"  {e.id}: {f.message}")


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
    doc, _ = load_for_command(db_url, site_id, file)
    data = doc.risk_method.model_dump(mode="json")
    data["matrix"] = [list(r) for r in doc.risk_method.matrix_rows()]
    if fmt == "json":
        emit_json({"risk_method": data})
        return
    from zonewarden.io import yamlio

    sys.stdout.write(yamlio.dumps({"risk_method": data}))


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
    from zonewarden.engines.cadence import DueStatus, due_items, has_overdue, parse_days
    from zonewarden.engines.sitediff import diff_sites

    doc, _ = load_for_command(db_url, site_id, file)
    today = site_today(doc, as_of)
    days = parse_days(within)
    extra = (
        list(diff_sites(read_site_file(_one_site(baseline)), doc, as_of=today).triggers)
        if baseline
        else []
    )
    if file is None:
        # From the database: re-imports that added exposed conduits or critical assets count too.
        from zonewarden.services.calendar import import_triggers

        extra += import_triggers(open_store_for(db_url), doc)
    items = due_items(doc, today, within_days=days, extra_triggers=extra)
    shown = [i for i in items if show_all or i.status is not DueStatus.SCHEDULED]
    if fmt == "json":
        emit_json(
            {
                "site": doc.site.id,
                "as_of": today.isoformat(),
                "within_days": days,
                "items": [i.as_dict() for i in shown],
            }
        )
    else:
        rows = [i.as_dict() for i in shown]
        for r in rows:
            r["due"] = r["due"] or "never done"
        emit_rows(
            rows,
            ["status", "due", "days", "zone", "kind", "reason"],
            fmt,
            title=f"Assessments due: {doc.site.name} (as of {today}, within {days} days)",
        )
        if fmt == "table":
            counts = {s: sum(1 for i in items if i.status is s) for s in DueStatus}
            note(", ".join(f"{n} {s.value}" for s, n in counts.items()))
    if has_overdue(items):
        sys.exit(EXIT_FINDINGS)


# --- diff ------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


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
    from zonewarden.engines.sitediff import diff_sites

    old_doc, new_doc = read_site_file(_one_site(old)), read_site_file(_one_site(new))
    if old_doc.site.id != new_doc.site.id:
        note(f"warning: comparing different sites ({old_doc.site.id} and {new_doc.site.id})")
    today = site_today(new_doc, as_of)
    result = diff_sites(old_doc, new_doc, as_of=today)
    if fmt == "json":
        emit_json(
            {"old": str(old), "new": str(new), "as_of": today.isoformat(), **result.as_dict()}
        )
        return
    rows = [
        {
            "section": c.section,
            "id": c.id,
            "change": c.kind.value,
            "fields": "; ".join(f"{f.field}: {_show(f.old)} -> {_show(f.new)}" for f in c.fields),
        }
        for c in result.changes
    ]
    emit_rows(rows, ["section", "id", "change", "fields"], "table", title=f"Changes {old} -> {new}")
    trig = [
        {"trigger": t.kind, "zones": ", ".join(t.zones), "reason": t.reason}
        for t in result.triggers
    ]
    if trig:
        emit_rows(trig, ["trigger", "zones", "reason"], "table", title="Reassessment triggers")
    note(f"{len(result.changes)} changes; {len(result.triggers)} reassessment triggers")


commands = [slt_cmd, risks_cmd, risk_method_cmd, due_cmd, diff_cmd]
