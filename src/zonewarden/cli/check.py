"""Architecture commands: check, paths, diagram."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zonewarden import __version__
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
from zonewarden.wording import count


def load_for_command(
    db_url: str | None, site_id: str | None, file: Path | None, *, without: tuple[str, ...] = (),
    operation: str = "site.read",
) -> tuple[SiteDocument, Path | None]:
    """The site to work on: from ``--file`` (no database needed) or from the database, where
    ``without`` skips sections the command does not read (``paths`` needs no assets)."""
    if file is not None:
        return read_site_file(file), file
    from zonewarden.services import sites

    store, principal = caller(db_url)
    target = sites.resolve_site_id(store, site_id, principal, operation)
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
    from zonewarden.engines.segmentation import Severity
    from zonewarden.services.queries import architecture

    if file is not None:
        result = architecture.check_of(read_site_file(file), as_of=as_of)
    else:
        store, principal = caller(db_url)
        result = architecture.check(store, principal=principal, site_id=site_id, as_of=as_of)
    report = result.report
    if fmt == "json":
        emit_json(result.as_dict())
    elif fmt == "sarif":
        from zonewarden.io.sarif import site_locations, to_sarif

        locations = site_locations(file) if file is not None else None
        emit_json(to_sarif(report, site_file=str(file) if file else None, tool_version=__version__, locations=locations))
    else:
        emit_rows(result.rows(), architecture.CHECK_COLUMNS, "table", title=f"Segmentation check: {result.site_name}")
        counts = ", ".join(f"{n} {s.value}" for s, n in report.counts().items() if n)
        note(f"{count(len(report.findings), 'open finding')} ({counts or 'none'}); {len(report.waived)} waived; "
             f"{count(len(report.expired_waivers), 'expired waiver')}")
        for problem in report.problems:
            note(f"warning: {problem.pointer}: {problem.message}")
    if fail_on != "never" and report.at_or_above(Severity.parse(fail_on)):
        sys.exit(EXIT_FINDINGS)


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
    from zonewarden.services.queries import architecture

    if file is not None:
        result = architecture.paths_of(read_site_file(file), source=source, target=target, max_hops=max_hops,
                                       limit=limit)
    else:
        store, principal = caller(db_url)
        result = architecture.paths(store, principal=principal, site_id=site_id, source=source, target=target,
                                    max_hops=max_hops, limit=limit)
    if fmt == "json":
        emit_json(result.as_dict())
        return
    emit_rows(result.rows(), architecture.PATH_COLUMNS, fmt, title=f"Paths {source} → {target}")
    note(f"{len(result.report.paths)} paths up to {max_hops} hops"
         + (" (truncated: raise --limit)" if result.report.truncated else ""))


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
    from zonewarden.services.queries import architecture

    if output.suffix.lower() != ".svg":
        raise InputError(f"{output}: the diagram is written as SVG; name the file *.svg")
    if file is not None:
        result = architecture.diagram_of(read_site_file(file), as_of=as_of)
    else:
        store, principal = caller(db_url)
        result = architecture.diagram(store, principal=principal, site_id=site_id, as_of=as_of)
    from zonewarden.io.atomic import make_dir, write_atomic

    make_dir(output.parent)
    write_atomic(output, result.svg.encode("utf-8"))  # owner-only, never through a planted symlink
    note(f"diagram of {result.zones} zones and {result.conduits} conduits written to {output}")


commands = [check_cmd, paths_cmd, diagram_cmd]
