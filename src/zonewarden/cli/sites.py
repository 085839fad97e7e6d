"""Site commands: import, export, schema, sites."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from zonewarden.cli.common import (
    EXIT_INPUT,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
    safe_text,
    site_option,
)
from zonewarden.cli.identity import current_principal
from zonewarden.errors import InputError


@click.command("import")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--from",
    "source_format",
    type=click.Choice(["zonewarden", "induform", "csv"]),
    default="zonewarden",
    show_default=True,
    help="Input format: zonewarden site files, an InduForm project (YAML/JSON) or an asset CSV.",
)
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD", help="CSV: map a column to an asset field.")
@click.option("--profile", "profile_name", default=None, metavar="NAME",
              help="CSV: the export columns of an OT visibility tool (claroty, nozomi, dragos, tenable-ot, armis); "
                   "'--profile list' describes them.")
@click.option("--map-values", "value_map_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV: YAML file rewriting vendor, product, model, type, zone, criticality or os values.")
@click.option("--encoding", default=None, metavar="CODEC",
              help="CSV: the file's text encoding when it is not UTF-8 (e.g. cp1252, latin-1).")
@click.option("--reason", default=None, help="Why this import happens (recorded in the audit log).")
@click.option("--dry-run", is_flag=True, help="Print what the import would add, change and remove; change nothing.")
@click.option("--prune", is_flag=True, help="Remove what the files lack, even records recorded since they were exported.")
@click.option("--force", is_flag=True, help="Overwrite and remove records recorded since the files were exported.")
@format_option("table", "json")
@site_option
@db_option
@handle_errors
def import_cmd(paths: tuple[Path, ...], source_format: str, mapping: tuple[str, ...], profile_name: str | None,
               value_map_file: Path | None, encoding: str | None, reason: str | None, dry_run: bool, prune: bool, force: bool, fmt: str, site_id: str | None, db_url: str | None) -> None:
    """Import site files (a file, a directory of section files, or an export directory).

    Everything is validated first; all problems of all files are reported together, with
    file, line and column, and nothing is written unless every file is valid. An import is
    one transaction: it all lands or nothing does. Re-importing unchanged files changes nothing.

    Recorded work is never lost silently. A folder written by `export` carries the database
    revision it came from (zonewarden-stamp.json): records changed in the database since then
    (a status set by command, an approved control, another import) are not overwritten,
    removed or brought back; the import is refused naming each one, who changed it and when.
    Files without a stamp may change records but remove none. --prune allows removing what
    the files lack; --force allows everything (the audit log records what was overridden).

    --dry-run prints per section what would be added, changed and removed, and what would be
    refused; it writes nothing.

    Exit codes: 0 imported (or, with --dry-run, would import); 2 invalid files, or the import
    is (would be) refused.

    \b
    Examples:
      zonewarden import examples/pharma-plant
      zonewarden import --dry-run exported/
      zonewarden import --prune exported/
      zonewarden import --from induform plant.yaml
      zonewarden import --from csv --site rheinfeld --map "IP Address=addresses" assets.csv
      zonewarden import --from csv --profile nozomi --map-values names.yaml --site rheinfeld assets.csv
      zonewarden import --profile list
    """
    from zonewarden.services import import_safety
    from zonewarden.services import sites as site_service

    if profile_name is not None and profile_name.strip().lower() == "list":
        _print_profiles(fmt)
        return
    if not paths:
        raise click.UsageError("give the files or directories to import")
    if profile_name is not None or value_map_file is not None:
        # --profile and --map-values are about CSV: they imply --from csv unless another format was asked for.
        if click.get_current_context().get_parameter_source("source_format") == click.core.ParameterSource.DEFAULT:
            source_format = "csv"
        elif source_format != "csv":
            raise InputError(f"--profile and --map-values apply to CSV files, not --from {source_format}")
    docs = []
    evidence: dict[str, dict[str, bytes]] = {}
    stamps: dict[str, dict[str, Any]] = {}
    if source_format == "zonewarden":
        from zonewarden.domain.patching import timezone_note
        from zonewarden.io.evidence_files import read_evidence_files
        from zonewarden.io.sitefile import load_sites, read_stamp

        for path in paths:
            for site_path, doc in load_sites(path):
                if (tz_note := timezone_note(doc)) is not None:
                    note(f"warning: {tz_note}")
                docs.append(doc)
                evidence[doc.site.id] = read_evidence_files(doc, site_path if site_path.is_dir() else site_path.parent)
                if (stamp := read_stamp(site_path, doc.site.id)) is not None:
                    stamps[doc.site.id] = stamp
    elif source_format == "induform":
        from zonewarden.io.induform import load_induform

        for path in paths:
            result = load_induform(path)
            for line in result.unmapped:
                note(f"note: {line}")
            docs.append(result.document)
    else:
        from zonewarden.io.assets_csv import merge_assets, parse_mapping, read_assets_table
        from zonewarden.io.csv_profiles import load_profile, load_value_maps

        profile = load_profile(profile_name) if profile_name is not None else None
        value_maps = load_value_maps(value_map_file) if value_map_file is not None else None
        store = open_store_for(db_url)
        principal = current_principal(store)
        target = site_service.resolve_site_id(store, site_id, principal, "site.import")
        # The merge starts from the site as read now: its stamp protects what others record meanwhile.
        bundle = import_safety.export_site(store, target, principal=principal)
        current = bundle.doc
        stamps[target] = bundle.stamp
        columns = parse_mapping(mapping)
        assets = []
        for path in paths:
            table = read_assets_table(path, columns=columns, known_zones={z.id for z in current.zones},
                                      encoding=encoding, profile=profile, value_maps=value_maps)
            if table.unused:
                note(f"warning: {path}: {len(table.unused)} column(s) not used (map one with --map \"COLUMN=FIELD\"):")
                for u in table.unused:
                    note(f"  {u.column!r}{' (' + u.why + ')' if u.why else ''}")
            assets.extend(table.assets)
        docs.append(merge_assets(current, assets, source=", ".join(map(str, paths))))
    store = open_store_for(db_url)
    if dry_run:
        plans = import_safety.plan_import(store, docs, principal=current_principal(store), stamps=stamps,
                                          prune=prune, force=force)
        _print_plans(plans, fmt)
        if any(p.refused for p in plans):
            sys.exit(EXIT_INPUT)
        return
    try:
        outcomes = site_service.import_documents(
            store, docs, principal=current_principal(store), reason=reason, source=", ".join(map(str, paths)),
            evidence=evidence, stamps=stamps, prune=prune, force=force,
        )
    except import_safety.ImportRefused as exc:
        _print_refusal(exc)
        sys.exit(EXIT_INPUT)
    if fmt == "json":
        emit_json([
            {
                "site": o.site_id, "created": o.created, "unchanged": o.unchanged, "counts": o.counts,
                "sections": {c.section: {"added": c.added, "changed": c.changed, "removed": c.removed} for c in o.changes},
                "overridden": [c.as_dict() for c in o.overridden],
            }
            for o in outcomes
        ])
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
        for c in o.overridden:
            note(f"  overridden: {safe_text(c.describe(None), one_line=True)}")


def _print_profiles(fmt: str) -> None:
    """The CSV profiles: name, tool, where the columns come from, how product and model are filled."""
    from zonewarden.io.csv_profiles import all_profiles

    rows = [{"profile": p.name, "tool": p.title, "source": p.source, "certainty": p.certainty,
             "product_model": p.product_model,
             "columns": {f: list(c) for f, c in p.columns.items()}} for p in all_profiles()]
    if fmt == "json":
        emit_json(rows)
        return
    emit_rows(rows, ["profile", "tool"], fmt, title="CSV profiles (import --from csv --profile NAME)")
    note("details: zonewarden import --profile list --format json, or docs/site-file.md")


_SHOWN = 20
"""Ids listed per section and kind in the dry run's table (the JSON lists all)."""


def _ids(ids: tuple[str, ...]) -> str:
    shown = ", ".join(safe_text(i, one_line=True) for i in ids[:_SHOWN])
    return shown + (f" ... and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _flag(needs: str) -> str:
    return "--prune or --force" if needs == "prune" else "--force"


def _print_plans(plans: list[Any], fmt: str) -> None:
    if fmt == "json":
        emit_json([p.as_dict() for p in plans])
        return
    out = click.echo
    for p in plans:
        verb = "would create" if p.created else "unchanged" if p.unchanged else "would update"
        where = []
        if p.stamped:
            where.append(f"files exported at revision {p.base_revision}")
        elif not p.created:
            where.append("files without an export stamp")
        if p.current_revision is not None:
            where.append(f"database at revision {p.current_revision}")
        out(f"site {safe_text(p.site_id, one_line=True)}: {verb}{' (' + '; '.join(where) + ')' if where else ''}")
        for s in p.sections:
            out(f"  {s.section}: +{len(s.added)} ~{len(s.changed)} -{len(s.removed)}")
            for label, ids in (("add", s.added), ("change", s.changed), ("remove", s.removed)):
                if ids:
                    out(f"    {label}: {_ids(ids)}")
        for c in p.conflicts:
            mark = "allowed" if c.allowed else f"refused without {_flag(c.conflict.needs)}"
            out(f"  {mark}: {safe_text(c.describe(p.base_revision), one_line=True)}")
    refused = sum(len(p.refused) for p in plans)
    if refused:
        note(f"the import would be refused: {refused} record(s) recorded in the database would be lost")


def _print_refusal(exc: Any) -> None:
    n = sum(len(p.refused) for p in exc.plans)
    note(f"error: import refused: it would lose {n} record(s) recorded in the database since the files were made; "
         "nothing was imported")
    for p in exc.plans:
        for c in p.refused:
            note(f"  site {safe_text(p.site_id, one_line=True)}: {safe_text(c.describe(p.base_revision), one_line=True)}"
                 f" (to go ahead: {_flag(c.conflict.needs)})")
    note("  `zonewarden import --dry-run` shows the whole plan; export the site again to start from its current state")


@click.command("export")
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path), help="Directory to write.")
@site_option
@db_option
@handle_errors
def export_cmd(output: Path, site_id: str | None, db_url: str | None) -> None:
    """Export sites as site-file directories (one sub-directory per site).

    Export → import → export gives identical files. Each directory carries an export stamp,
    zonewarden-stamp.json: the database revision it came from and a digest of every record,
    so that importing it later never overwrites or removes work recorded since (see import).

    \b
    Example:
      zonewarden export -o exported/
    """
    from zonewarden.io.sitefile import write_site
    from zonewarden.services import import_safety
    from zonewarden.services import sites as site_service

    store = open_store_for(db_url)
    principal = current_principal(store)
    if site_id:
        ids = [site_service.resolve_site_id(store, site_id, principal, "site.export")]
    else:
        ids = [site_service.resolve_site_id(store, i, principal, "site.export")
               for i, _ in site_service.list_sites(store, principal)]
    if not ids:
        raise InputError("the database holds no site yet: nothing to export")
    for ident in ids:
        bundle = import_safety.export_site(store, ident, principal=principal)
        files = write_site(bundle.doc, output / ident, bundle.evidence, bundle.stamp)
        note(f"site {ident}: {len(files)} files in {output / ident} (revision {bundle.stamp['revision']})")


@click.command("schema")
@handle_errors
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
    rows = [{"id": i, "name": n} for i, n in site_service.list_sites(store, current_principal(store))]
    emit_rows(rows, ["id", "name"], fmt, title="Sites")
    if not rows:
        print("no sites yet: run `zonewarden import FILE`", file=sys.stderr)


commands = [import_cmd, export_cmd, schema_cmd, sites_cmd]
