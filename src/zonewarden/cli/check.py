"""Architecture commands: check, paths, diagram."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zonewarden import __version__
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
    parse_as_of,
    site_option,
)
from zonewarden.domain.site import SiteDocument
from zonewarden.errors import InputError
from zonewarden.wording import count


def load_for_command(
    db_url: str | None, site_id: str | None, file: Path | None, *, without: tuple[str, ...] = (),
    operation: str = "site.read",
) -> tuple[SiteDocument, Path | None]:
    """The site to work on: from ``--file`` (no database needed) or from the database, where
    ``without`` skips sections the command does not read (``paths`` needs no assets)."""
    if file is not None:
        return read_site_file(file), file
    from zonewarden.cli.identity import current_principal
    from zonewarden.services import sites

    store = open_store_for(db_url)
    target = sites.resolve_site_id(store, site_id, current_principal(store), operation)
    return sites.load_document(store, target, without=without), None


def read_site_file(path: Path) -> SiteDocument:
    """A zonewarden site file/directory or an InduForm project, recognised by its content."""
    from zonewarden.io import yamlio
    from zonewarden.io.induform import load_induform, looks_like_induform
    from zonewarden.io.sitefile import load_site

    if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):
        head = path.read_bytes()[:65536].decode("utf-8", errors="replace")
        if "from_zone" in head or head.lstrip().startswith("version:") or "\nproject:" in head:
            data = yamlio.load_file(path)
            if looks_like_induform(data):
                result = load_induform(path)
                for line in result.unmapped:
                    note(f"note: {line}")
                return result.document
    return load_site(path)


def file_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--file",
        "file",
        type=click.Path(exists=True, path_type=Path),
        default=None,
        help="Check a site file or directory (or an InduForm project) directly, without a database.",
    )(func)


@click.command("check")
@site_option
@file_option
@format_option("table", "json", "sarif")
@click.option(
    "--fail-on",
    default="high",
    show_default=True,
    type=click.Choice(["critical", "high", "medium", "low", "info", "never"]),
    help="Exit 1 when a finding of this severity or worse is open.",
)
@as_of_option
@db_option
@handle_errors
def check_cmd(site_id: str | None, file: Path | None, fmt: str, fail_on: str, as_of: str | None,
              db_url: str | None) -> None:
    """Check the zone/conduit architecture for IEC 62443 segmentation mistakes.

    Rules have stable ids (docs/checks.md); disable or waive them in the site file's
    `checks:` section (a waiver needs a justification, an approver and an expiry).

    \b
    Examples:
      zonewarden check
      zonewarden check --file examples/pharma-plant --format sarif > zonewarden.sarif
      zonewarden check --file plant.yaml --fail-on critical   # gate a change in CI
    """
    from zonewarden.engines.segmentation import Severity, run_check

    if file is not None:
        doc, path, assets, asset_ids = read_site_file(file), file, None, None
    else:
        from zonewarden.cli.identity import current_principal
        from zonewarden.services import sites

        store = open_store_for(db_url)
        # Only the assets the rules look at, as a projection: no 100k model validations.
        stored = sites.load_for_check(store, sites.resolve_site_id(store, site_id, current_principal(store)))
        doc, assets, asset_ids, path = stored.doc, stored.assets, stored.asset_ids, None
    today = parse_as_of(as_of, doc.site.timezone)
    report = run_check(doc, today=today, assets=assets, asset_ids=asset_ids)
    if fmt == "json":
        emit_json({"site": doc.site.id, "as_of": today.isoformat(), **report.to_dict()})
    elif fmt == "sarif":
        from zonewarden.io.sarif import site_locations, to_sarif

        locations = site_locations(path) if path is not None else None
        emit_json(to_sarif(report, site_file=str(path) if path else None, tool_version=__version__, locations=locations))
    else:
        # The fix text is in the JSON and SARIF; the table shows it too, so the reader of a
        # finding sees what to do about it (issue 17.6).
        rows = [
            {"severity": f.severity.value, "rule": f.rule, "objects": ", ".join(f.objects), "message": f.message,
             "fix": f.fix or ""}
            for f in report.findings
        ]
        emit_rows(rows, CHECK_COLUMNS, "table", title=f"Segmentation check: {doc.site.name}")
        counts = ", ".join(f"{n} {s.value}" for s, n in report.counts().items() if n)
        note(f"{count(len(report.findings), 'open finding')} ({counts or 'none'}); {len(report.waived)} waived; "
             f"{count(len(report.expired_waivers), 'expired waiver')}")
        for problem in report.problems:
            note(f"warning: {problem.pointer}: {problem.message}")
    if fail_on != "never" and report.at_or_above(Severity.parse(fail_on)):
        sys.exit(EXIT_FINDINGS)


CHECK_COLUMNS = ["severity", "rule", "objects", "message", "fix"]
PATH_COLUMNS = ["hops", "path", "conduits", "protocols_per_hop", "end_to_end", "weakest_sl_t", "via_dmz"]


@click.command("paths")
@click.option("--from", "source", required=True, metavar="ZONE|KIND", help="Start zone id or zone kind.")
@click.option("--to", "target", required=True, metavar="ZONE|KIND", help="End zone id or zone kind.")
@click.option("--max-hops", default=6, show_default=True, type=click.IntRange(1, 20), help="Longest path considered.")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1), help="Stop after this many paths.")
@site_option
@file_option
@format_option("table", "json", "csv")
@db_option
@handle_errors
def paths_cmd(source: str, target: str, max_hops: int, limit: int, site_id: str | None, file: Path | None,
              fmt: str, db_url: str | None) -> None:
    """List the conduit paths between zones (every simple path up to --max-hops), shortest first.

    Each path shows its hops, the protocols each hop allows (in order, separated by |), the
    protocols allowed on every hop (end to end) and the weakest SL-T on it.

    \b
    Examples:
      zonewarden paths --from enterprise --to safety
      zonewarden paths --from external --to control --max-hops 4 --format json
    """
    from zonewarden.engines.paths import find_paths, resolve_zone_selector

    doc, _ = load_for_command(db_url, site_id, file, without=("assets",))
    report = find_paths(
        doc, resolve_zone_selector(doc, source), resolve_zone_selector(doc, target), max_hops=max_hops, limit=limit
    )
    if fmt == "json":
        emit_json(report.to_dict())
        return
    rows = [
        {
            "hops": p.hops,
            "path": " → ".join(p.zones),
            "conduits": ", ".join(p.conduits),
            # Per hop, not the union: a protocol that stops in the DMZ is not "on the path".
            "protocols_per_hop": p.hop_protocols_text,
            "end_to_end": ", ".join(p.end_to_end_protocols) or "none",
            "weakest_sl_t": p.weakest_sl_target_text,
            "via_dmz": "yes" if p.via_dmz else "NO",
        }
        for p in report.paths
    ]
    emit_rows(rows, PATH_COLUMNS, fmt,
              title=f"Paths {source} → {target}")
    note(f"{len(report.paths)} paths up to {max_hops} hops" + (" (truncated: raise --limit)" if report.truncated else ""))


@click.command("diagram")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="SVG file to write.")
@site_option
@file_option
@as_of_option
@db_option
@handle_errors
def diagram_cmd(output: Path, site_id: str | None, file: Path | None, as_of: str | None, db_url: str | None) -> None:
    """Draw zones by Purdue level with conduits, SL-T and check findings highlighted (SVG).

    Zone-level only: no asset names, addresses or host names appear on the diagram.

    \b
    Example:
      zonewarden diagram -o plant.svg
    """
    from zonewarden.engines.segmentation import run_check
    from zonewarden.evidence.diagram import render_diagram

    if output.suffix.lower() != ".svg":
        raise InputError(f"{output}: the diagram is written as SVG; name the file *.svg")
    doc, _ = load_for_command(db_url, site_id, file)
    svg = render_diagram(doc, run_check(doc, today=parse_as_of(as_of, doc.site.timezone)))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(svg, encoding="utf-8")
    note(f"diagram of {len(doc.zones)} zones and {len(doc.conduits)} conduits written to {output}")


commands = [check_cmd, paths_cmd, diagram_cmd]
