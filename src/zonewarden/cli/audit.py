"""Audit commands: verify the hash chain, show the log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zonewarden.cli.common import (
    EXIT_FINDINGS,
    caller,
    db_option,
    emit_rows,
    format_option,
    handle_errors,
)
from zonewarden.errors import InputError
from zonewarden.wording import count


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log of every write."""


@audit_group.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(path_type=Path), default=None,
              help="A signed checkpoint file: also detect a rewrite of the log before it.")
@click.option("--key", "key_file", type=click.Path(path_type=Path), default=None,
              help="The HMAC key file the checkpoint was signed with (needed with --checkpoint).")
@db_option
@handle_errors
def verify_cmd(checkpoint_file: Path | None, key_file: Path | None, db_url: str | None) -> None:
    """Check the audit log's hash chain and the stored data against it; exit 1 if an event
    was edited or deleted, or a site's data is not the state its newest event recorded.

    Prints the head hash: record it outside zonewarden (a ticket, a report) to detect a
    rewrite of the whole log later.

    \b
    Example:
      zonewarden audit verify
    """
    from zonewarden.services import audit_queries

    if checkpoint_file is not None:
        _verify_checkpoint(checkpoint_file, key_file, db_url)
        return
    if key_file is not None:
        raise InputError("--key is only used with --checkpoint FILE")
    store, principal = caller(db_url)
    result = audit_queries.verify(store, principal)
    if result.ok:
        click.echo(f"audit log intact: {result.events} events, head {result.head_hash}")
        return
    for p in result.problems:
        click.echo(f"{p.where}: {p.message}", err=True)
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
    from zonewarden.services import audit_queries

    store, principal = caller(db_url)
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
        for e in audit_queries.log(store, principal, site_id)
    ]
    emit_rows(rows, ["seq", "at", "actor", "action", "site", "object", "reason"], fmt, title="Audit log")


def _verify_checkpoint(checkpoint_file: Path, key_file: Path | None, db_url: str | None) -> None:
    from zonewarden.services import checkpoints

    if key_file is None:
        raise InputError("--checkpoint needs --key FILE (the key the checkpoint was signed with)")
    key = checkpoints.load_key(key_file)
    store, principal = caller(db_url)
    result = checkpoints.verify_file(store, checkpoint_file, key, principal=principal)
    cp = result.checkpoint
    if result.ok:
        click.echo(f"audit log matches checkpoint {checkpoint_file.name}: event {cp.seq} has hash {cp.head_hash} "
                   f"(checkpoint of {cp.at}); {count(result.events, 'event')} now")
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    click.echo(f"audit log BROKEN against checkpoint {checkpoint_file}: {count(len(result.problems), 'problem')}",
               err=True)
    sys.exit(EXIT_FINDINGS)


@audit_group.command("keygen")
@click.argument("key_file", type=click.Path(path_type=Path))
@handle_errors
def keygen_cmd(key_file: Path) -> None:
    """Create an HMAC key file for signing checkpoints (mode 0600; never overwrites).

    Keep it where the database's writers cannot read it.

    \b
    Example:
      zonewarden audit keygen /etc/zonewarden/checkpoint.key
    """
    from zonewarden.services import checkpoints

    checkpoints.keygen(key_file)
    click.echo(f"wrote checkpoint key {key_file} (mode 0600)")


@audit_group.command("checkpoint")
@click.option("--key", "key_file", type=click.Path(path_type=Path), required=True, help="The HMAC key file.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder to write the signed checkpoint file into (outside the database).")
@db_option
@handle_errors
def checkpoint_cmd(key_file: Path, out_dir: Path, db_url: str | None) -> None:
    """Write a signed checkpoint of the audit chain head into a folder; idempotent (safe in cron).

    \b
    Example:
      zonewarden audit checkpoint --key /etc/zonewarden/checkpoint.key --out /srv/checkpoints
    """
    from zonewarden.services import checkpoints

    key = checkpoints.load_key(key_file)
    store, principal = caller(db_url)
    path, written = checkpoints.write_checkpoint(store, key, out_dir, principal=principal)
    click.echo(f"{'wrote' if written else 'unchanged, newest checkpoint is'} {path}")


commands = [audit_group]
