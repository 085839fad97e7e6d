"""``zonewarden signatures``: the electronic signatures on a site's approvals, and whether each
still matches the record it signed."""

from __future__ import annotations

import sys

import click

from zonewarden.cli.common import (
    EXIT_FINDINGS,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
    site_option,
)
from zonewarden.cli.identity import current_principal


@click.command("signatures")
@click.option("--object", "object_id", default=None, metavar="ID", help="Only the signatures of this record.")
@site_option
@format_option("table", "json", "csv")
@db_option
@handle_errors
def signatures_cmd(object_id: str | None, site_id: str | None, fmt: str, db_url: str | None) -> None:
    """List the electronic signatures on approvals (compensating controls, deferrals, patch
    changes, triage closures and risk acceptances) and check each against the record as it is
    now; exit 1 when a signed record was changed after it was signed.

    \b
    Example:
      zonewarden signatures --site rheinfeld
      zonewarden signatures --object CC-COAT-HMI --format json
    """
    from zonewarden.services import sites as site_service
    from zonewarden.services.signatures import list_signatures

    store = open_store_for(db_url)
    principal = current_principal(store)
    target = site_service.resolve_site_id(store, site_id, principal)
    found = list_signatures(store, principal, target, object_id)
    if fmt == "json":
        emit_json({"site": target, "signatures": [s.as_dict() for s in found]})
    else:
        rows = [{**s.as_dict(), "object": f"{s.object_type}:{s.object_id}"} for s in found]
        emit_rows(rows, ["seq", "object", "signer", "full_name", "meaning", "signed_at_local", "status"], fmt,
                  title="Signatures")
        if not found:
            note("no electronic signatures on this site (approvals made in single-user mode are not signed)")
    if any(s.status != "valid" for s in found):
        sys.exit(EXIT_FINDINGS)


commands = [signatures_cmd]
