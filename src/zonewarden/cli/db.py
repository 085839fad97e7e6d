"""``zonewarden db``: the database's schema, upgraded at deploy time."""

from __future__ import annotations

import click

from zonewarden.cli.common import db_option, emit_json, handle_errors, note


@click.group("db")
def db_group() -> None:
    """The database's schema: see where it stands, upgrade it at deploy time.

    A new database gets its schema when first opened, and the single-user SQLite file is
    upgraded when a newer zonewarden opens it. A PostgreSQL database is shared: it is upgraded
    only by `zonewarden db upgrade`, once per release, before the servers and workers start
    (they refuse a schema that is not theirs).
    """


@db_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@db_option
@handle_errors
def status_cmd(as_json: bool, db_url: str | None) -> None:
    """Where the schema stands; exit 1 when an upgrade is pending.

    \b
    Example:
      zonewarden db status --db postgresql+psycopg://zw@db/zonewarden
    """
    from zonewarden.services.database import schema_status

    state = schema_status(db_url)
    if as_json:
        emit_json({"stored": sorted(state.stored), "expected": sorted(state.expected), "current": state.current})
    else:
        click.echo(state.describe() + (" (current)" if state.current else " (run `zonewarden db upgrade`)"))
    if not state.current:
        raise SystemExit(1)


@db_group.command("upgrade")
@db_option
@handle_errors
def upgrade_cmd(db_url: str | None) -> None:
    """Run the pending migrations in one transaction (on PostgreSQL one migrator at a time);
    recorded in the audit trail. Back the database up first. Safe to run again.

    \b
    Example:
      zonewarden db upgrade --db postgresql+psycopg://zw@db/zonewarden
    """
    from zonewarden.services.database import upgrade_schema

    outcome = upgrade_schema(db_url)
    if outcome.audit_seq is None:
        note(f"nothing to do: {outcome.after.describe()}")
        return
    before = ", ".join(sorted(outcome.before.stored)) or "no schema"
    note(f"upgraded the schema from {before} to {', '.join(sorted(outcome.after.stored))} "
         f"(audit event #{outcome.audit_seq})")


commands = [db_group]
