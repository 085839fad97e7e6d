"""The report command: evidence packages for auditors and customers."""

from __future__ import annotations

from pathlib import Path

import click

from zonewarden.cli.common import (
    as_of_option,
    db_option,
    handle_errors,
    note,
    open_store_for,
    parse_as_of,
    site_option,
)


@click.command("report")
@click.option(
    "--audience",
    required=True,
    type=click.Choice(["auditor", "customer"]),
    help="auditor: everything; customer: no addresses, host names, serials, asset names or notes.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    default=("html",),
    show_default=True,
    type=click.Choice(["html", "pdf", "json"]),
    help="Output format; repeat for several (--format html --format pdf).",
)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the package into (created if needed).")
@site_option
@click.option("--file", "file", type=click.Path(exists=True, path_type=Path), default=None,
              help="Build from a site file or directory directly, without a database.")
@as_of_option
@db_option
@handle_errors
def report_cmd(audience: str, formats: tuple[str, ...], output: Path, site_id: str | None, file: Path | None,
               as_of: str | None, db_url: str | None) -> None:
    """Write an evidence package (HTML, PDF and/or JSON) with a manifest of SHA-256 hashes.

    The same data and --as-of give byte-identical files. A customer package is searched for
    every sensitive value of the site before it is written; nothing is written on a hit.

    \b
    Examples:
      zonewarden report --audience auditor --format html --format pdf -o out/auditor --as-of 2026-11-25
      zonewarden report --audience customer --format pdf -o out/customer
      zonewarden report --audience customer --format json -o pkg --file examples/pharma-plant
    """
    from zonewarden.cli.check import load_for_command
    from zonewarden.evidence.builder import build_package, render_package, write_package

    doc, _ = load_for_command(db_url, site_id, file, operation=f"report.{audience}")
    day = parse_as_of(as_of, doc.site.timezone)
    if as_of is None:
        note(f"note: no --as-of given; using today's date where the site is ({day}, "
             f"{doc.site.timezone or 'UTC'}); pass --as-of for reproducible output")
    extras = {}
    if file is None:
        # Advisory findings and triage decisions live in the database, not in the site file.
        from zonewarden.cli.identity import current_principal
        from zonewarden.services import advisories
        from zonewarden.services import sites as site_service

        store = open_store_for(db_url)
        target = site_service.resolve_site_id(store, site_id, current_principal(store), f"report.{audience}")
        extras["advisories"] = advisories.evidence_data(store, target)
    package = build_package(doc, audience, day, extras=extras)
    files = render_package(package, formats)
    written = write_package(files, output)
    for section in package.sections:
        for item in section.undecided:
            note(f"undecided [{section.id}]: {item}")
    note(f"{audience} package of {doc.site.id} as of {day.isoformat()}: {len(written)} files in {output}")
    for path in written:
        click.echo(str(path))


commands = [report_cmd]
