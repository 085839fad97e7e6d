"""The report command: evidence packages for auditors and customers."""

from __future__ import annotations

from pathlib import Path

import click

from zonewarden.cli.common import (
    as_of_option,
    caller,
    db_option,
    handle_errors,
    note,
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
    from zonewarden.evidence.builder import write_package
    from zonewarden.services.queries import report as queries

    if file is not None:
        from zonewarden.cli.check import read_site_file

        result = queries.report_of(read_site_file(file), audience=audience, formats=formats, as_of=as_of)
    else:
        store, principal = caller(db_url)
        result = queries.report(store, principal=principal, site_id=site_id, audience=audience, formats=formats,
                                as_of=as_of)
    day = result.as_of
    if as_of is None:
        note(f"note: no --as-of given; using today's date where the site is ({day}, "
             f"{result.timezone or 'UTC'}); pass --as-of for reproducible output")
    written = write_package(result.files, output)
    for section in result.package.sections:
        for item in section.undecided:
            note(f"undecided [{section.id}]: {item}")
    note(f"{audience} package of {result.site_id} as of {day.isoformat()}: {len(written)} files in {output}")
    for path in written:
        click.echo(str(path))


commands = [report_cmd]
