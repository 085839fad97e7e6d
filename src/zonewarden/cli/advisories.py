"""Advisory commands: ``advisories`` (ingest, list, show), ``kev import``, ``findings`` (list,
show, decide, override).

Advisory text is untrusted input: it is printed as plain text (rich ``Text``, never markup),
so a title such as ``[red]...`` or an escape sequence is shown literally.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING

import click

from zonewarden.cli.common import (
    EXIT_INPUT,
    caller,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
    safe_text,
    signing_options,
    site_option,
)
from zonewarden.errors import InputError

if TYPE_CHECKING:
    from zonewarden.engines.advisory_actions import ActOn


def _console(err: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    stream = sys.stderr if err else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 120, soft_wrap=False, highlight=False,
                   markup=False, emoji=False)


def _print(text: str) -> None:
    from rich.text import Text

    # No wrapping: lines stay whole for grep and for copying ranges and ids.
    _console().print(Text(safe_text(text)), soft_wrap=True)


# --- advisories -----------------------------------------------------------------------------


@click.group("advisories")
def advisories_group() -> None:
    """Security advisories (CSAF 2.0): ingest, list, show.

    \b
    Example:
      zonewarden advisories ingest examples/advisories
      zonewarden findings list
    """


@advisories_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--strict", is_flag=True, help="Reject any document with a deviation from CSAF 2.0 (for advisories you author).")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@click.option("--progress/--no-progress", "show_progress", default=None,
              help="Progress bar on stderr [default: on when stderr is a terminal].")
@format_option("table", "json")
@db_option
@handle_errors
def ingest_cmd(paths: tuple[str, ...], strict: bool, reason: str | None, show_progress: bool | None, fmt: str,
               db_url: str | None) -> None:
    """Validate, store and match CSAF advisories: files, folders (recursively) or a CSAF
    provider's directory layout (signature, hash and ROLIE feed files are skipped).

    Lenient by default: real-world documents are stored with every deviation recorded (test id
    and JSON pointer). Each document is stored on its own; a bad one is reported and the batch
    goes on. A newer tracking.version supersedes the stored one; the same file again changes
    nothing. New and revised advisories are matched against every site at once.

    Exit code 2 when a document was rejected in --strict mode, and when nothing given was
    stored (no document found, or every one rejected).

    \b
    Example:
      zonewarden advisories ingest examples/advisories
      zonewarden advisories ingest ../csaf/cisa-ics/csaf_files/OT/white --reason "monthly CISA sync"
      zonewarden advisories ingest my-advisory.json --strict
    """
    from zonewarden.services import advisories as svc

    files = [p for p in svc.iter_paths(paths)]
    store, principal = caller(db_url)
    show = sys.stderr.isatty() if show_progress is None else show_progress
    items = svc.read_items(files)
    if show and files:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        with Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=_console(err=True), transient=True) as bar:
            task = bar.add_task("ingest", total=len(files))
            report = svc.ingest_bytes(store, items, strict=strict, principal=principal, reason=reason,
                                      progress=lambda n: bar.advance(task, n))
    else:
        report = svc.ingest_bytes(store, items, strict=strict, principal=principal, reason=reason)
    if fmt == "json":
        emit_json({
            "results": [
                {"source": r.source, "outcome": r.outcome, "tracking_id": r.tracking_id, "version": r.version,
                 "error": r.error, "deviations": r.deviations, "vex_statements": r.vex_statements}
                for r in report.results
            ],
            "findings_created": report.findings_created,
            "findings_updated": report.findings_updated,
            "reopened": report.reopened,
            "vex_statements": report.vex_statements,
            "vex_closed": report.vex_closed,
        })
    else:
        for r in report.rejected:
            note(f"rejected: {safe_text(r.error)}")
        counts = ", ".join(f"{report.count(o)} {o}" for o in ("new", "revision", "unchanged", "older", "rejected"))
        deviating = sum(1 for r in report.results if r.outcome != "rejected" and r.deviations)
        note(f"{len(report.results)} document(s): {counts}; {deviating} stored with deviations from CSAF 2.0")
        note(f"findings: {report.findings_created} new, {report.findings_updated} updated, "
             f"{report.reopened} triage decision(s) reopened")
        if report.vex_statements or report.vex_closed:
            note(f"VEX: {report.vex_statements} statement(s) recorded from CSAF VEX documents, "
                 f"{report.vex_closed} finding(s) closed as not affected (see `zonewarden vex list`)")
    if strict and report.rejected:
        sys.exit(EXIT_INPUT)
    if not report.results or len(report.rejected) == len(report.results):
        # Nothing it was given is stored (issue 18.4): a wrong folder or a folder of junk is an
        # error, not a quiet success.
        note("nothing stored: no CSAF document found in " + ", ".join(safe_text(p) for p in paths)
             if not report.results else "nothing stored: every document was rejected (see above)")
        sys.exit(EXIT_INPUT)


@advisories_group.command("list")
@click.option("--history", is_flag=True, help="Every stored revision, not only the current ones.")
@format_option("table", "json", "csv")
@db_option
@handle_errors
def list_cmd(history: bool, fmt: str, db_url: str | None) -> None:
    """Stored advisories (current revisions), sorted by tracking id.

    \b
    Example:
      zonewarden advisories list
      zonewarden advisories list --history --format json
    """
    from zonewarden.services import advisories as svc

    rows = [
        {
            "id": a.tracking_id,
            "version": a.version,
            "current": a.current,
            "released": a.release_date.date().isoformat() if a.release_date else None,
            "publisher": a.publisher,
            "title": a.title,
            "deviations": len(a.deviations),
            "sha256": a.sha256 if fmt != "table" else a.sha256[:12],
        }
        for a in svc.list_advisories(open_store_for(db_url), include_history=history)
    ]
    cols = ["id", "version", "released", "deviations", "title"] + (["current"] if history else [])
    if fmt != "table":
        cols = list(rows[0]) if rows else cols
    emit_rows(rows, cols, fmt, title="Advisories")


@advisories_group.command("show")
@click.argument("tracking_id")
@click.option("--deviations/--no-deviations", default=True, help="List the recorded deviations.")
@format_option("table", "json")
@db_option
@handle_errors
def show_cmd(tracking_id: str, deviations: bool, fmt: str, db_url: str | None) -> None:
    """One advisory: its revisions, deviations and findings on every site.

    \b
    Example:
      zonewarden advisories show ZW-EXAMPLE-2026-001
    """
    from zonewarden.services import advisories as svc

    store, principal = caller(db_url)
    history = svc.advisory_history(store, tracking_id)
    current = next((a for a in history if a.current), history[-1])
    found = svc.list_findings(store, principal=principal, advisory=tracking_id)
    if fmt == "json":
        emit_json({
            "id": current.tracking_id,
            "title": current.title,
            "publisher": current.publisher,
            "revisions": [
                {"version": a.version, "current": a.current, "sha256": a.sha256, "source": a.source,
                 "released": a.release_date.isoformat() if a.release_date else None,
                 "ingested": a.ingested_at.isoformat(), "deviations": list(a.deviations)}
                for a in history
            ],
            "findings": [f.as_json() for f in found],
        })
        return
    _print(f"{current.tracking_id} version {current.version}: {current.title}")
    _print(f"publisher: {current.publisher or '-'}; released "
           f"{current.release_date.isoformat() if current.release_date else '-'}; status {current.status or '-'}")
    for a in history:
        mark = "current" if a.current else "history"
        _print(f"  revision {a.version} ({mark}): sha256 {a.sha256[:16]}, {len(a.deviations)} deviation(s), from {a.source}")
    if deviations and current.deviations:
        _print("deviations of the current revision:")
        for d in current.deviations:
            _print(f"  [{d['test_id']}] {d['pointer'] or '/'}: {d['message']}")
    rows = [{"id": f.id, "site": f.site_id, "asset": f.asset_id, "status": f.status, "priority": f.priority,
             "triage": f.triage_status} for f in found]
    emit_rows(rows, ["id", "site", "asset", "status", "priority", "triage"], "table", title="Findings")


# --- KEV ------------------------------------------------------------------------------------


@click.group("kev")
def kev_group() -> None:
    """CISA's Known Exploited Vulnerabilities catalog (SSVC exploitation input).

    \b
    Example:
      zonewarden kev import known_exploited_vulnerabilities.json
    """


@kev_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@db_option
@handle_errors
def kev_import_cmd(path: str, reason: str | None, db_url: str | None) -> None:
    """Replace the stored KEV catalog with PATH (CISA's JSON) and re-prioritise findings.

    A CVE in the catalog makes SSVC exploitation "active" for every finding that lists it.

    \b
    Example:
      zonewarden kev import known_exploited_vulnerabilities.json --reason "weekly KEV refresh"
    """
    from zonewarden.services import advisories as svc

    store, principal = caller(db_url)
    report = svc.import_kev(store, path, principal=principal, reason=reason)
    note(f"KEV catalog {report.version}: {report.entries} entries ({report.added} added, {report.removed} removed); "
         f"{report.reprioritised} finding(s) re-prioritised")


# --- findings -------------------------------------------------------------------------------


@click.group("findings")
def findings_group() -> None:
    """Advisory findings (advisory x asset): list, show why, triage, override SSVC inputs.

    \b
    Example:
      zonewarden findings list --priority immediate --priority out-of-cycle
      zonewarden findings decide 12 --status under-assessment --why "checking firmware on site"
    """


_STATUSES = ("affected", "not-affected", "fixed", "needs-review")
_PRIORITIES = ("immediate", "out-of-cycle", "scheduled", "defer")


@findings_group.command("list")
@click.option("--priority", "priorities", multiple=True, type=click.Choice(_PRIORITIES), help="Only this SSVC priority (repeatable).")
@click.option("--status", "statuses", multiple=True, type=click.Choice(_STATUSES), help="Only this match status (repeatable).")
@click.option("--triage", "triage", multiple=True, metavar="STATE", help="Only this triage state (repeatable): new, under-assessment, ...")
@click.option("--zone", default=None, help="Only assets in this zone.")
@click.option("--advisory", default=None, help="Only findings of this advisory (tracking id).")
@click.option("--all", "include_inactive", is_flag=True, help="Include findings whose asset left the inventory.")
@click.option("--group-by", "group_by", type=click.Choice(["asset"]), default=None,
              help="One row per asset: its open findings (affected, needs-review unless --status) and the fixes that close them.")
@site_option
@format_option("table", "json", "csv")
@db_option
@handle_errors
def findings_list_cmd(priorities: tuple[str, ...], statuses: tuple[str, ...], triage: tuple[str, ...], zone: str | None,
                      advisory: str | None, include_inactive: bool, group_by: str | None, site_id: str | None, fmt: str,
                      db_url: str | None) -> None:
    """Findings, most urgent first: SSVC priority, then affected, needs-review, fixed, not-affected.

    \b
    Example:
      zonewarden findings list
      zonewarden findings list --status needs-review --zone ops
      zonewarden findings list --priority immediate --format csv
      zonewarden findings list --group-by asset
    """
    from zonewarden.services import advisories as svc

    for t in triage:
        if t not in svc.TRIAGE_STATUSES:
            raise InputError(f"--triage {t!r}: use one of {', '.join(svc.TRIAGE_STATUSES)}")
    store, principal = caller(db_url)
    if group_by == "asset":
        if triage or advisory or include_inactive:
            raise InputError("--group-by asset takes --site, --zone, --status and --priority only")
        groups = svc.findings_by_asset(store, principal=principal, site_id=site_id, zone=zone,
                                       status=statuses or ("affected", "needs-review"), priority=priorities or None)
        if fmt == "json":
            emit_json([g.as_json() for g in groups])
            return
        grouped = [
            {"asset": g.asset_id, "zone": g.zone_id, "priority": g.findings[0].priority or "-",
             "findings": len(g.findings), "advisories": len(g.advisories),
             "fixed_by": str(g.fixed_by) if g.fixed_by is not None else "-", "summary": safe_text(g.summary),
             "site": g.site_id}
            for g in groups
        ]
        cols = ["asset", "zone", "priority", "findings", "advisories", "fixed_by", "summary"]
        emit_rows(grouped, cols + (["site"] if fmt == "csv" else []), fmt, title="Findings by asset")
        if fmt == "table":
            note(f"{len(groups)} asset(s); {sum(1 for g in groups if g.fixed_by is not None)} closed by one named version")
        return
    rows = svc.list_findings(
        store, principal=principal, site_id=site_id, priority=priorities or None, status=statuses or None,
        triage=triage or None, zone=zone, advisory=advisory, include_inactive=include_inactive,
    )
    if fmt == "json":
        emit_json([f.as_json() for f in rows])
        return
    out = [
        {
            "id": f.id, "priority": f.priority or "-", "status": f.status + (f" ({f.reason})" if f.reason else ""),
            "advisory": f.tracking_id, "asset": f.asset_id, "zone": f.zone_id, "triage": f.triage_status,
            "why": safe_text(f.message), "site": f.site_id,
        }
        for f in rows
    ]
    cols = ["id", "priority", "status", "advisory", "asset", "zone", "triage", "why"]
    emit_rows(out, cols + (["site"] if fmt == "csv" else []), fmt, title="Findings")
    if fmt == "table":
        by: dict[str, int] = {}
        for f in rows:
            by[f.status] = by.get(f.status, 0) + 1
        note(f"{len(rows)} finding(s): " + ", ".join(f"{by.get(s, 0)} {s}" for s in _STATUSES))


@findings_group.command("show")
@click.argument("finding_id", type=int)
@format_option("table", "json")
@db_option
@handle_errors
def findings_show_cmd(finding_id: int, fmt: str, db_url: str | None) -> None:
    """One finding: why it matched (each product entry, range and verdict), the SSVC inputs
    with their sources and overrides, and the triage history.

    \b
    Example:
      zonewarden findings show 7
    """
    from zonewarden.services import advisories as svc

    store, principal = caller(db_url)
    f = svc.get_finding(store, finding_id, principal=principal)
    act = svc.finding_actions(store, finding_id, principal=principal)
    if fmt == "json":
        emit_json({**f.as_json(), "act_on": act.as_json()})
        return
    _print(f"finding {f.id}: {f.tracking_id} (version {f.advisory_version}) x asset {f.asset_id} "
           f"(zone {f.zone_id or '-'}, site {f.site_id}){'' if f.active else ' [inactive]'}")
    _print(f"advisory: {f.advisory_title}")
    _print(f"status: {f.status}" + (f" ({f.reason})" if f.reason else "") + f"; triage: {f.triage_status}"
           + (f", owner {f.triage_owner}" if f.triage_owner else "")
           + (f", expires {f.triage_expires}" if f.triage_expires else ""))
    _print(f"vulnerabilities: {', '.join(f.cves) or '-'}")
    _print(f"why: {f.message}")
    _print_act_on(act)
    _print("matched product entries:")
    for m in f.matches:
        _print(f"  {m['product_id']} {m['product_name']!r}: {m['status']}")
        _print(f"      matched on {m['matched_on']} ({m['matched_value']}); group {m['group']}; range "
               f"{m['range']!r} read as {m['range_understood_as']!r}; asset version {m['asset_version']!r}")
        _print(f"      {m['message']}")
    if f.ssvc:
        s = f.ssvc
        _print(f"SSVC priority: {s['priority']} ({s['table']}; deciding vulnerability: {s.get('vulnerability') or '-'})")
        for name in ("exploitation", "exposure", "automatable", "safety_impact", "mission_impact", "human_impact"):
            i = s[name]
            changed = f" (computed {i['computed']})" if i.get("override") else ""
            _print(f"  {name:<15} {i['value']:<12}{changed} - {i['source']}")
    else:
        _print("SSVC priority: none (the asset is not affected)")
    if f.decisions:
        _print("triage history:")
        for d in f.decisions:
            extra = "".join([
                f"; owner {d.owner}" if d.owner else "", f"; expires {d.expires}" if d.expires else "",
                f"; controls {', '.join(d.controls)}" if d.controls else "", " (automatic)" if d.automatic else "",
            ])
            _print(f"  {d.at.isoformat(timespec='seconds')} {d.actor}: {d.from_status} -> {d.to_status}: {d.why}{extra}")


def _print_act_on(act: ActOn) -> None:
    """What to act on: each vulnerability's CVSS and CWE, the remediations, where to read more."""
    for v in act.vulnerabilities:
        cvss = f"CVSS {v.cvss_version} {v.cvss_base_score} {v.cvss_vector}" if v.cvss_vector else "no CVSS score"
        _print(f"  {v.cve or v.title or '-'}: {cvss}; {v.cwe or 'no CWE'}")
    fixed = act.fixed_by
    _print(f"act on: {'update to version ' + str(fixed) + ' closes it' if fixed is not None else 'no single fixed version named'}")
    for r in act.remediations:
        versions = f" [fixed in {', '.join(str(x) for x in r.fixed)}]" if r.fixed else ""
        _print(f"  {r.category}{versions}: {r.details}" + (f" ({r.url})" if r.url else ""))
    for label, urls in (("CISA", act.cisa_urls), ("vendor", act.vendor_urls)):
        if urls:
            _print(f"  {label}: {' '.join(urls)}")


@findings_group.command("decide")
@click.argument("finding_id", type=int)
@click.option("--status", required=True, metavar="STATE",
              help="new state: under-assessment, not-affected, mitigated, remediation-planned, risk-accepted, resolved.")
@click.option("--why", required=True, help="Justification (recorded; at least 10 characters).")
@click.option("--owner", default=None, help="Who owns the decision (required for risk-accepted).")
@click.option("--expires", default=None, metavar="DATE", help="Expiry YYYY-MM-DD (required for risk-accepted).")
@click.option("--control", "controls", multiple=True, metavar="ID", help="Compensating control id (mitigated; repeatable).")
@signing_options
@db_option
@handle_errors
def findings_decide_cmd(finding_id: int, status: str, why: str, owner: str | None, expires: str | None,
                        controls: tuple[str, ...], password_stdin: bool, totp: str | None, meaning: str | None,
                        db_url: str | None) -> None:
    """Record a triage decision. Workflow: new -> under-assessment -> not-affected /
    mitigated / remediation-planned / risk-accepted / resolved; decided findings can go back to
    under-assessment. Invalid transitions exit 2. A new advisory revision that changes the
    product status reopens the decision automatically. With user accounts, closing a finding
    (not-affected, mitigated, resolved) or accepting its risk is your electronic signature.

    \b
    Example:
      zonewarden findings decide 7 --status under-assessment --why "asking the OEM for the firmware level"
      zonewarden findings decide 7 --status risk-accepted --why "line retired in Q1" --owner p-mweber --expires 2027-03-31
      zonewarden findings decide 9 --status mitigated --why "web UI blocked at the cell firewall" --control CC-COMP-HMI
    """
    from zonewarden.services import advisories as svc

    until = None
    if expires is not None:
        try:
            until = dt.date.fromisoformat(expires)
        except ValueError:
            raise InputError(f"--expires {expires!r} is not a date; write it as YYYY-MM-DD") from None
    from zonewarden.cli.identity import signing_for

    store, principal = caller(db_url)
    signing = signing_for(principal, password_stdin, totp, meaning) if status in svc.TRIAGE_OPERATION else None
    f = svc.decide(store, finding_id, status, why, owner=owner, expires=until, controls=controls,
                   principal=principal, signing=signing)
    note(f"finding {f.id} ({f.tracking_id} x {f.asset_id}): {f.decisions[-1].from_status} -> {f.triage_status}")


@findings_group.command("override")
@click.argument("finding_id", type=int)
@click.option("--exploitation", type=click.Choice(["none", "public-poc", "active", "computed"]), default=None)
@click.option("--exposure", type=click.Choice(["small", "controlled", "open", "computed"]), default=None)
@click.option("--automatable", type=click.Choice(["no", "yes", "computed"]), default=None)
@click.option("--safety-impact", type=click.Choice(["negligible", "marginal", "critical", "catastrophic", "computed"]), default=None)
@click.option("--mission-impact", type=click.Choice(["degraded", "crippled", "mef-failure", "mission-failure", "computed"]),
              default=None)
@click.option("--human-impact", type=click.Choice(["low", "medium", "high", "very-high", "computed"]), default=None)
@click.option("--why", required=True, help="Justification (recorded with the override).")
@db_option
@handle_errors
def findings_override_cmd(finding_id: int, exploitation: str | None, exposure: str | None, automatable: str | None,
                          safety_impact: str | None, mission_impact: str | None, human_impact: str | None, why: str,
                          db_url: str | None) -> None:
    """Replace computed SSVC inputs of a finding (the value "computed" removes an override);
    the priority is recomputed and the change recorded with your justification.

    \b
    Example:
      zonewarden findings override 7 --exposure open --why "the OEM tunnel is left open during commissioning"
      zonewarden findings override 7 --exposure computed --why "tunnel closed again (change CR-2026-041)"
    """
    from zonewarden.services import advisories as svc

    given = {
        "exploitation": exploitation, "exposure": exposure, "automatable": automatable,
        "safety_impact": safety_impact, "mission_impact": mission_impact, "human_impact": human_impact,
    }
    values = {k: (None if v == "computed" else v) for k, v in given.items() if v is not None}
    store, principal = caller(db_url)
    f = svc.override(store, finding_id, values, why, principal=principal)
    note(f"finding {f.id}: priority {f.priority}")


commands = [advisories_group, kev_group, findings_group]

from zonewarden.cli.advisories_sync import sync_cmd  # noqa: E402 - `advisories sync` lives in its own module

advisories_group.add_command(sync_cmd)
