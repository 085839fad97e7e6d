"""Site commands: import, export, schema, sites."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zonewarden.cli.common import (
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
    site_option,
)
from zonewarden.errors import InputError


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--from",
    "source_format",
    type=click.Choice(["zonewarden", "induform", "csv"]),
    default="zonewarden",
    show_default=True,
    help="Input format: zonewarden site files, an InduForm project (YAML/JSON) or an asset CSV.",
)
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD", help="CSV: map a column to an asset field.")
@click.option("--reason", default=None, help="Why this import happens (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def import_cmd(paths: tuple[Path, ...], source_format: str, mapping: tuple[str, ...], reason: str | None,
               site_id: str | None, db_url: str | None) -> None:
    """Import site files (a file, a directory of section files, or an export directory).

    Everything is validated first; all problems of all files are reported together, with
    file, line and column, and nothing is written unless every file is valid. An import is
    one transaction: it all lands or nothing does. Re-importing unchanged files changes nothing.

    \b
    Examples:
      zonewarden import examples/pharma-plant
      zonewarden import --from induform plant.yaml
      zonewarden import --from csv --site rheinfeld --map "IP Address=addresses" assets.csv
    """
    from zonewarden.services import sites as site_service

    docs = []
    evidence: dict[str, dict[str, bytes]] = {}
    if source_format == "zonewarden":
        from zonewarden.domain.patching import timezone_note
        from zonewarden.io.evidence_files import read_evidence_files
        from zonewarden.io.sitefile import load_sites

        for path in paths:
            for site_path, doc in load_sites(path):
                if (tz_note := timezone_note(doc)) is not None:
                    note(f"warning: {tz_note}")
                docs.append(doc)
                evidence[doc.site.id] = read_evidence_files(doc, site_path if site_path.is_dir() else site_path.parent)
    elif source_format == "induform":
        from zonewarden.io.induform import load_induform

        for path in paths:
            result = load_induform(path)
            for line in result.unmapped:
                note(f"note: {line}")
            docs.append(result.document)
    else:
        from zonewarden.errors import StaleRevisionError
        from zonewarden.io.assets_csv import merge_assets, parse_mapping, read_assets_csv

        store = open_store_for(db_url)
        target = site_service.resolve_site_id(store, site_id)
        columns = parse_mapping(mapping)
        # Merge into the stored site and write only if nobody changed it in between (a
        # concurrent import would otherwise be overwritten); on a conflict, merge again.
        for attempt in range(5):
            revision = site_service.revision_of(store, target)  # before the read: see lock_site
            current = site_service.load_document(store, target)
            assets = []
            for path in paths:
                assets.extend(read_assets_csv(path, columns=columns, known_zones={z.id for z in current.zones}))
            merged = merge_assets(current, assets, source=", ".join(map(str, paths)))
            try:
                outcomes = site_service.import_documents(
                    store, [merged], reason=reason, source=", ".join(map(str, paths)),
                    expected_revisions={target: revision},
                )
                break
            except StaleRevisionError:
                if attempt == 4:
                    raise
    if source_format != "csv":
        store = open_store_for(db_url)
        outcomes = site_service.import_documents(
            store, docs, reason=reason, source=", ".join(map(str, paths)), evidence=evidence
        )
    for o in outcomes:
        counts = ", ".join(f"{n} {s}" for s, n in o.counts.items())
        if o.unchanged:
            note(f"site {o.site_id}: unchanged ({counts})")
        else:
            verb = "created" if o.created else "updated"
            changed = "; ".join(
                f"{c.section} +{len(c.added)} -{len(c.removed)} ~{len(c.changed)}" for c in o.changes
            )
            note(f"site {o.site_id}: {verb} ({counts}){' — ' + changed if changed and not o.created else ''}")


@click.command("export")
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path), help="Directory to write.")
@site_option
@db_option
@handle_errors
def export_cmd(output: Path, site_id: str | None, db_url: str | None) -> None:
    """Export sites as site-file directories (one sub-directory per site).

    Export → import → export gives identical files.

    \b
    Example:
      zonewarden export -o exported/
    """
    from zonewarden.io.sitefile import write_site
    from zonewarden.services import sites as site_service

    store = open_store_for(db_url)
    ids = [site_service.resolve_site_id(store, site_id)] if site_id else list(site_service.all_site_ids(store))
    if not ids:
        raise InputError("the database holds no site yet: nothing to export")
    for ident in ids:
        doc = site_service.load_document(store, ident)
        files = write_site(doc, output / ident, site_service.evidence_of(store, ident))
        note(f"site {ident}: {len(files)} files in {output / ident}")


@click.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the site file (fields marked x-sensitive are redacted for customers).

    \b
    Example:
      zonewarden schema > site.schema.json
    """
    from zonewarden.domain.site import SiteDocument

    emit_json(SiteDocument.model_json_schema(mode="validation"))


@click.command("sites")
@format_option("table", "json", "csv")
@db_option
@handle_errors
def sites_cmd(fmt: str, db_url: str | None) -> None:
    """List the sites in the database.

    \b
    Example:
      zonewarden sites --format json
    """
    from zonewarden.services import sites as site_service

    store = open_store_for(db_url)
    rows = [{"id": i, "name": n} for i, n in site_service.list_sites(store)]
    emit_rows(rows, ["id", "name"], fmt, title="Sites")
    if not rows:
        print("no sites yet: run `zonewarden import FILE`", file=sys.stderr)


commands = [import_cmd, export_cmd, schema_cmd, sites_cmd]
