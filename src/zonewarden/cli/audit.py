"""Audit commands: verify the hash chain, show the log."""

from __future__ import annotations

import sys

import click

from zonewarden.cli.common import (
    EXIT_FINDINGS,
    db_option,
    emit_rows,
    format_option,
    handle_errors,
    open_store_for,
)
from zonewarden.wording import count


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log of every write."""


@audit_group.command("verify")
@db_option
@handle_errors
def verify_cmd(db_url: str | None) -> None:
    """Check the audit log's hash chain; exit 1 if an event was edited or deleted.

    Prints the head hash: record it outside zonewarden (a ticket, a report) to detect a
    rewrite of the whole log later.

    \b
    Example:
      zonewarden audit verify
    """
    from zonewarden.cli.identity import current_principal
    from zonewarden.services import audit_queries

    store = open_store_for(db_url)
    result = audit_queries.verify(store, current_principal(store))
    if result.ok:
        click.echo(f"audit log intact: {result.events} events, head {result.head_hash}")
        return
    for p in result.problems:
        click.echo(f"event {p.seq}: {p.message}", err=True)
    click.echo(f"audit log BROKEN: {count(len(result.problems), 'problem')} in {count(result.events, 'event')}", err=True)
    sys.exit(EXIT_FINDINGS)


@audit_group.command("log")
@click.option("--site", "site_id", default=None, help="Only events of this site.")
@format_option("table", "json", "csv")
@db_option
@handle_errors
def log_cmd(site_id: str | None, fmt: str, db_url: str | None) -> None:
    """Show audit events (who, when, what, why).

    \b
    Example:
      zonewarden audit log --site rheinfeld --format json
    """
    from zonewarden.cli.identity import current_principal
    from zonewarden.services import audit_queries

    store = open_store_for(db_url)
    rows = [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "site": e.site_id,
            "object": f"{e.object_type}:{e.object_id}" if e.object_type else "",
            "reason": e.reason,
            **({"before": e.before, "after": e.after} if fmt == "json" else {}),
        }
        for e in audit_queries.log(store, current_principal(store), site_id)
    ]
    emit_rows(rows, ["seq", "at", "actor", "action", "site", "object", "reason"], fmt, title="Audit log")


commands = [audit_group]
