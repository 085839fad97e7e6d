"""SBOM and VEX commands: ``sbom import`` / ``sbom list`` (an asset's CycloneDX SBOM) and
``vex import`` / ``vex list`` / ``vex accept`` (supplier VEX statements).

Component names and VEX justifications are untrusted text: printed as plain text.
"""

from __future__ import annotations

import click

from zonewarden.cli.common import (
    caller,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    site_option,
)


@click.group("sbom")
def sbom_group() -> None:
    """Software bills of materials (CycloneDX 1.4-1.6 JSON) of assets, matched by purl and CPE.

    \b
    Example:
      zonewarden sbom import plc-fw-2.1.cdx.json --site pharma --asset PLC-101
      zonewarden sbom list --asset PLC-101
    """


@sbom_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--asset", "asset_id", required=True, metavar="ASSET", help="The asset whose software the SBOM lists.")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def sbom_import_cmd(path: str, asset_id: str, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Store the components of the CycloneDX SBOM PATH for ASSET (replacing its earlier SBOM)
    and rematch the site's advisories against them.

    A file that is not valid CycloneDX JSON 1.4-1.6 is refused with the JSON pointer and why,
    and nothing is stored.

    \b
    Example:
      zonewarden sbom import plc-fw-2.1.cdx.json --site pharma --asset PLC-101 --reason "firmware 2.1 SBOM from vendor"
    """
    from zonewarden.services.sbom import import_sbom
    from zonewarden.services.sites import resolve_site_id

    store, principal = caller(db_url)
    site = resolve_site_id(store, site_id, principal, "sbom.import")
    report = import_sbom(store, site, asset_id, path, principal=principal, reason=reason)
    note(report.summary)
    for label, items in (("added", report.added), ("removed", report.removed), ("version changed", report.changed)):
        if report.replaced and items:
            note(f"  {label}: {', '.join(items[:20])}{' ...' if len(items) > 20 else ''}")
    f = report.findings
    note(f"findings: {f.get('created', 0)} created, {f.get('updated', 0)} updated, {f.get('deactivated', 0)} inactive; "
         f"{report.vex_closed} closed by supplier VEX")


@sbom_group.command("list")
@click.option("--asset", "asset_id", default=None, metavar="ASSET", help="Only this asset's SBOM.")
@site_option
@format_option("table", "json", "csv")
@db_option
@handle_errors
def sbom_list_cmd(asset_id: str | None, site_id: str | None, fmt: str, db_url: str | None) -> None:
    """The stored SBOM components of the site's assets.

    \b
    Example:
      zonewarden sbom list --asset PLC-101 --format csv
    """
    from zonewarden.services.sbom import list_components
    from zonewarden.services.sites import resolve_site_id

    store, principal = caller(db_url)
    site = resolve_site_id(store, site_id, principal)
    rows = list_components(store, site, asset_id, principal=principal)
    if fmt == "json":
        emit_json(rows)
        return
    emit_rows(rows, ["asset", "name", "version", "purl", "cpe", "supplier"], fmt, title=f"SBOM components of {site}")


commands = [sbom_group]
