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
    signing_options,
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


@click.group("vex")
def vex_group() -> None:
    """Supplier VEX (CSAF VEX, CycloneDX VEX): statements that a product is not affected.

    A not-affected statement from the product's supplier closes the findings it covers (triage
    not-affected, with its justification, in the audit trail); one from another source is
    recorded and closes nothing until a person accepts it for a site (`vex accept`).

    \b
    Example:
      zonewarden vex import siemens-vex-2024-0001.json
      zonewarden vex import plc-fw-2.1.vex.cdx.json --site pharma --asset PLC-101
      zonewarden vex list
    """


@vex_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--asset", "asset_id", default=None, metavar="ASSET",
              help="CycloneDX VEX: the asset whose SBOM components it is about (with --site).")
@click.option("--reason", default=None, help="Why (recorded in the audit log).")
@site_option
@db_option
@handle_errors
def vex_import_cmd(path: str, asset_id: str | None, reason: str | None, site_id: str | None, db_url: str | None) -> None:
    """Record the VEX statements of PATH (CSAF VEX or CycloneDX VEX) and close what they cover.

    A file that cannot be read, or a not-affected statement without a justification or impact
    statement, is refused with the JSON pointer and why; nothing is stored.

    \b
    Example:
      zonewarden vex import siemens-vex-2024-0001.json --reason "supplier VEX for the WinCC advisories"
    """
    from zonewarden.services.sites import resolve_site_id
    from zonewarden.services.vex import import_vex

    store, principal = caller(db_url)
    site = resolve_site_id(store, site_id, principal, "sbom.import") if asset_id else None
    r = import_vex(store, path, principal=principal, site_id=site, asset_id=asset_id, reason=reason)
    if r.unchanged:
        note(f"{r.document_id}: already recorded (same bytes); nothing changed")
        return
    note(f"{r.format} VEX {r.document_id} by {r.publisher}: {r.statements} statement(s), {r.not_affected} not affected, "
         f"{r.from_supplier} from the product's supplier; {r.closed} finding(s) closed as not affected")
    waiting = r.not_affected - min(r.not_affected, r.from_supplier)
    if waiting:
        note(f"  {waiting} not-affected statement(s) are not from the product's supplier: recorded, closing nothing "
             "until accepted (`zonewarden vex accept ID --site SITE --why ...`)")


@vex_group.command("list")
@site_option
@format_option("table", "json", "csv")
@db_option
@handle_errors
def vex_list_cmd(site_id: str | None, fmt: str, db_url: str | None) -> None:
    """Recorded VEX statements: who says what about which product, and whether it closes findings.

    \b
    Example:
      zonewarden vex list --format json
    """
    from zonewarden.services.vex import list_statements

    store, principal = caller(db_url)
    rows = list_statements(store, principal=principal, site_id=site_id)
    if fmt == "json":
        emit_json(rows)
        return
    emit_rows(rows, ["id", "vulnerability", "product", "asset", "state", "publisher", "justification", "closes"], fmt,
              title="VEX statements")


@vex_group.command("accept")
@click.argument("statement_id", type=int)
@click.option("--why", required=True, help="Why the statement is trusted (recorded; at least 10 characters).")
@site_option
@signing_options
@db_option
@handle_errors
def vex_accept_cmd(statement_id: int, why: str, site_id: str | None, password_stdin: bool, totp: str | None,
                   meaning: str | None, db_url: str | None) -> None:
    """Accept a not-affected statement from a source that is not the product's supplier, for a
    site: it then closes the findings it covers there. With user accounts this is your
    electronic signature.

    \b
    Example:
      zonewarden vex accept 12 --site pharma --why "integrator's analysis reviewed with the OEM on 2026-11-30"
    """
    from zonewarden.cli.identity import signing_for
    from zonewarden.services.sites import resolve_site_id
    from zonewarden.services.vex import accept

    store, principal = caller(db_url)
    site = resolve_site_id(store, site_id, principal, "vex.accept")
    signing = signing_for(principal, password_stdin, totp, meaning)
    closed = accept(store, statement_id, site, why, principal=principal, signing=signing)
    note(f"VEX statement {statement_id} accepted on {site}; {closed} finding(s) closed as not affected")


commands = [sbom_group, vex_group]
