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
    open_store_for,
    signing_options,
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
    type=click.Choice(["html", "pdf", "json", "pdfa"]),
    help="Output format; repeat for several (--format html --format pdf). pdfa: an archive PDF/A-3 "
         "with the JSON package embedded (evidence-<audience>-archive.pdf).",
)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the package into (created if needed).")
@site_option
@click.option("--file", "file", type=click.Path(exists=True, path_type=Path), default=None,
              help="Build from a site file or directory directly, without a database.")
@click.option("--checkpoint-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Sign an audit checkpoint of the log's head now and put it in the package.")
@click.option("--checkpoint-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Put the newest checkpoint from this folder (written by `audit checkpoint`) in the package.")
@click.option("--issue", is_flag=True,
              help="Record this package as the next numbered version (a draft until `report-approve`).")
@click.option("--version", "version", type=click.IntRange(min=1), default=None, metavar="N",
              help="Render issued version N again, from the site data it was issued with (e.g. once approved).")
@click.option("--recipient", default=None, metavar="NAME",
              help="Customer package: who receives it (named in the marking on every page).")
@click.option("--agreement", default=None, metavar="TEXT",
              help="Customer package: the agreement it is shared under, e.g. 'NDA 2026-031'.")
@as_of_option
@db_option
@handle_errors
def report_cmd(audience: str, formats: tuple[str, ...], output: Path, site_id: str | None, file: Path | None,
               checkpoint_key: Path | None, checkpoint_dir: Path | None, issue: bool, version: int | None,
               recipient: str | None, agreement: str | None,
               as_of: str | None, db_url: str | None) -> None:
    """Write an evidence package (HTML, PDF and/or JSON) with a manifest of SHA-256 hashes.

    The same data and --as-of give byte-identical files. A customer package is searched for
    every sensitive value of the site before it is written; nothing is written on a hit.

    Document control: without --issue a package is an uncontrolled draft (no version). --issue
    records version 1, 2, ... for the site and audience (a customer package needs --recipient
    and --agreement); `zonewarden report-approve` approves it, and --version N renders it again.

    \b
    Examples:
      zonewarden report --audience auditor --format html --format pdf -o out/auditor --as-of 2026-11-25
      zonewarden report --audience customer --format pdf -o out/customer
      zonewarden report --audience customer --format json -o pkg --file examples/pharma-plant
      zonewarden report --audience customer --format pdf -o out/c --issue --recipient "Acme Pharma" --agreement "NDA 2026-031"
    """
    from zonewarden.evidence.builder import write_package
    from zonewarden.services.queries import report as queries

    if file is not None and (issue or version is not None):
        from zonewarden.errors import InputError

        raise InputError("--issue and --version need the database (drop --file): issues are recorded there")
    if file is not None:
        from zonewarden.cli.check import read_site_file

        result = queries.report_of(read_site_file(file), audience=audience, formats=formats, as_of=as_of,
                                   attachments=_checkpoint_attachment(db_url, file, checkpoint_key, checkpoint_dir))
    else:
        store, principal = caller(db_url)
        result = queries.report(store, principal=principal, site_id=site_id, audience=audience, formats=formats,
                                as_of=as_of,
                                attachments=_checkpoint_attachment(db_url, file, checkpoint_key, checkpoint_dir),
                                issue=issue, version=version, recipient=recipient, agreement=agreement)
    day = result.as_of
    control = next((s.data for s in result.package.sections if s.id == "document-control"), None)
    if control is not None:
        if isinstance(control["version"], int):
            note(f"{control['document_id']} version {control['version']} ({control['status']}): "
                 f"{control['classification']}")
        else:
            note(f"{control['document_id']}: an uncontrolled draft, no version (--issue records one): "
                 f"{control['classification']}")
    if as_of is None and version is None:
        note(f"note: no --as-of given; using today's date where the site is ({day}, "
             f"{result.timezone or 'UTC'}); pass --as-of for reproducible output")
    written = write_package(result.files, output)
    if issue and control is not None:  # the issued files and their hashes, as a background build records them
        from zonewarden.services import package_files
        from zonewarden.services.jobs_tasks import packages_dir

        package_files.record(store, principal=principal, site_id=result.site_id, audience=audience,
                             version=int(control["version"]), folder=package_files.folder_label(output, packages_dir()),
                             files=result.files)
        note(f"recorded the {len(result.files)} files of version {control['version']} with their SHA-256 "
             "(the web's evidence page lists them)")
    for section in result.package.sections:
        for item in section.undecided:
            note(f"undecided [{section.id}]: {item}")
    note(f"{audience} package of {result.site_id} as of {day.isoformat()}: {len(written)} files in {output}")
    for path in written:
        click.echo(str(path))


@click.command("report-approve")
@click.option("--audience", required=True, type=click.Choice(["auditor", "customer"]))
@click.option("--version", "version", required=True, type=click.IntRange(min=1), metavar="N",
              help="The issued version to approve (the newest one).")
@signing_options
@site_option
@db_option
@handle_errors
def report_approve_cmd(audience: str, version: int, password_stdin: bool, totp: str | None, meaning: str | None,
                       site_id: str | None, db_url: str | None) -> None:
    """Approve an issued package version (someone other than its issuer).

    With user accounts the approval is your electronic signature; the package rendered again
    with `report --version N` shows it.

    \b
    Example:
      zonewarden report-approve --audience auditor --version 2 --password-stdin
    """
    from zonewarden.cli.identity import current_principal, signing_for
    from zonewarden.services import package_issues
    from zonewarden.services import sites as site_service

    store = open_store_for(db_url)
    principal = current_principal(store)
    target = site_service.resolve_site_id(store, site_id, principal, "report.approve")
    record = package_issues.approve(store, principal=principal, site_id=target, audience=audience, version=version,
                                    signing=signing_for(principal, password_stdin, totp, meaning))
    signed = "" if principal.local else f", signed by {principal.full_name or principal.user_id}"
    note(f"{record.document_id} version {record.version} approved{signed}")


commands = [report_cmd, report_approve_cmd]


def _checkpoint_attachment(db_url: str | None, file: Path | None, key_file: Path | None,
                           folder: Path | None) -> dict[str, bytes]:
    """The signed audit checkpoint the package carries: it proves the audit log held these
    events, unchanged, when the package was built (`audit verify --checkpoint` checks it later)."""
    from zonewarden.errors import InputError
    from zonewarden.services import checkpoints

    if key_file is None and folder is None:
        return {}
    if file is not None:
        raise InputError("--checkpoint-key/--checkpoint-dir need the database (drop --file)")
    if key_file is not None:
        key = checkpoints.load_key(key_file)
        with open_store_for(db_url).read() as conn:
            cp = checkpoints.make(conn, key)
        return {f"audit-{cp.filename}": cp.to_bytes()}
    assert folder is not None
    newest = checkpoints.newest(folder)
    if newest is None:
        raise InputError(f"{folder}: no checkpoint-*.json files (run `zonewarden audit checkpoint` first)")
    checkpoints.read(newest)  # refuse a file that is not a checkpoint
    return {f"audit-{newest.name}": newest.read_bytes()}
