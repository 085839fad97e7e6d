"""``zonewarden worker`` (runs background jobs) and ``zonewarden jobs`` (list, run, schedules)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import click

from zonewarden.cli.common import (
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
)
from zonewarden.errors import InputError

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")


def parse_duration(value: str) -> Any:
    """``90s``, ``30m``, ``6h`` or ``1d`` as a timedelta."""
    import datetime as dt

    m = _DURATION.match(value.strip())
    if not m:
        raise InputError(f"--every {value!r}: give a number with s, m, h or d (e.g. 6h)")
    n, unit = int(m.group(1)), m.group(2)
    return dt.timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})


def show_duration(value: Any) -> str:
    """A timedelta the way --every takes it (6h, 1d, 90s)."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_args(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; a value that reads as JSON (true, 3, ["json"]) is taken as such."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--arg {pair!r}: write it as name=value")
        try:
            value = json.loads(raw)
            if isinstance(value, dict):
                value = raw
        except ValueError:
            value = raw
        out[key.strip()] = value
    return out


@click.command("worker")
@click.option("--once", is_flag=True, help="Run what is due now and exit (SQLite; on PostgreSQL: until the queue is empty).")
@click.option("--poll", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="Seconds between rounds on SQLite.")
@click.option("--concurrency", type=click.IntRange(min=1, max=16), default=1, show_default=True,
              help="Jobs run at the same time (PostgreSQL).")
@db_option
@handle_errors
def worker_cmd(once: bool, poll: float, concurrency: int, db_url: str | None) -> None:
    """Run background jobs: scheduled provider syncs, rematch, KEV refresh, expiry and SLA
    checks, alerts, and the jobs people queue (report builds).

    On PostgreSQL this is a procrastinate worker (several may run at once); on SQLite the
    jobs run in this process, one round every --poll seconds. Stop with Ctrl-C.

    \b
    Examples:
      zonewarden worker
      zonewarden worker --once
      ZONEWARDEN_DB=postgresql+psycopg://zw@db/zonewarden zonewarden worker --concurrency 4
    """
    from zonewarden.services import jobs

    store = open_store_for(db_url)
    if store.dialect == "postgresql":
        from zonewarden.services import jobs_pg

        jobs.enqueue_due(store)
        note(f"worker: procrastinate on {store.engine.url.render_as_string(hide_password=True)}, "
             f"queue {jobs_pg.QUEUE}")
        jobs_pg.run_worker(store, concurrency=concurrency, wait=not once)
        return
    note("worker: running jobs in this process (SQLite)")
    try:
        while True:
            for record in jobs.worker_tick(store):
                note(f"job {record.id} {record.name}: {record.state}"
                     + (f" ({record.last_error})" if record.last_error and record.state != "succeeded" else ""))
            if once:
                return
            time.sleep(poll)
    except KeyboardInterrupt:
        note("worker stopped")


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: what ran, what failed and why, and running one now.

    \b
    Examples:
      zonewarden jobs list --state failed
      zonewarden jobs run advisories.rematch
      zonewarden jobs run report.build --arg site_id=rheinfeld --arg audience=auditor --arg output=out/pkg
      zonewarden jobs schedule csaf.sync --every 6h --arg url=https://psirt.example/.well-known/csaf/provider-metadata.json
    """


def _principal(store: Any) -> Any:
    from zonewarden.cli.identity import current_principal

    return current_principal(store)


@jobs_group.command("list")
@click.option("--state", type=click.Choice(["queued", "running", "retrying", "succeeded", "failed"]), default=None)
@click.option("--name", default=None, help="Only jobs of this name.")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=50, show_default=True)
@format_option("table", "json", "csv")
@db_option
@handle_errors
def jobs_list_cmd(state: str | None, name: str | None, limit: int, fmt: str, db_url: str | None) -> None:
    """Jobs newest first, with state, attempts and the last error.

    \b
    Examples:
      zonewarden jobs list --state failed
      zonewarden jobs list --name csaf.sync --format json
    """
    from zonewarden.services import jobs

    store = open_store_for(db_url)
    found = jobs.list_jobs(store, _principal(store), state=state, name=name, limit=limit)
    if fmt == "json":
        emit_json({"jobs": [j.as_json() for j in found]})
        return
    rows = [{**j.as_json(), "args": json.dumps(j.args, sort_keys=True)} for j in found]
    emit_rows(rows, ["id", "name", "state", "attempts", "max_attempts", "enqueued_by", "created_at", "run_after",
                     "last_error"], fmt, title="Jobs")


@jobs_group.command("run")
@click.argument("name")
@click.option("--arg", "pairs", multiple=True, metavar="NAME=VALUE", help="A job argument; repeat for several.")
@click.option("--queue", "queue_only", is_flag=True, help="Only queue it for the worker (default on PostgreSQL).")
@format_option("table", "json")
@db_option
@handle_errors
def jobs_run_cmd(name: str, pairs: tuple[str, ...], queue_only: bool, fmt: str, db_url: str | None) -> None:
    """Queue the job NAME as you, and on SQLite run it now in this process (exit 1 if it failed).
    ``zonewarden jobs names`` lists the jobs and their arguments.

    \b
    Examples:
      zonewarden jobs run advisories.rematch
      zonewarden jobs run kev.refresh --arg path=known_exploited_vulnerabilities.json
      zonewarden jobs run report.build --arg site_id=rheinfeld-os --arg audience=customer --arg output=out/cust
    """
    import sys

    from zonewarden.cli.common import EXIT_FINDINGS
    from zonewarden.services import jobs

    store = open_store_for(db_url)
    principal = _principal(store)
    job_id = jobs.enqueue(store, name, parse_args(pairs), principal=principal)
    if queue_only or store.dialect == "postgresql":
        note(f"job {job_id} {name} queued for the worker (zonewarden jobs list shows its state)")
        return
    record = jobs.run_job(store, job_id)
    if fmt == "json":
        emit_json(record.as_json())
    else:
        note(f"job {record.id} {record.name}: {record.state} after {record.attempts} attempt(s)")
        if record.result:
            click.echo(json.dumps(record.result, indent=2, sort_keys=True))
        if record.last_error:
            note(f"error: {record.last_error}" + (f"; retried after {record.run_after.isoformat()} by the worker"
                                                  if record.state == "retrying" else ""))
    if record.state != "succeeded":
        sys.exit(EXIT_FINDINGS)


@jobs_group.command("names")
@handle_errors
def jobs_names_cmd() -> None:
    """The job functions there are, with their arguments and default schedule.

    \b
    Example:
      zonewarden jobs names
    """
    from zonewarden.services import jobs

    rows = [{"name": s.name, "arguments": ", ".join(s.args), "every": show_duration(s.interval), "needs": s.operation,
             "summary": s.summary} for s in jobs.specs().values() if not s.name.startswith("test.")]
    emit_rows(rows, ["name", "arguments", "every", "needs", "summary"], "table", title="Jobs")


@jobs_group.command("schedules")
@format_option("table", "json")
@db_option
@handle_errors
def jobs_schedules_cmd(fmt: str, db_url: str | None) -> None:
    """Every schedule (built-in, per CSAF provider, configured) and when it last queued a job.

    \b
    Example:
      zonewarden jobs schedules --format json
    """
    from zonewarden.services import jobs

    store = open_store_for(db_url)
    rows = [{"key": s.key, "name": s.name, "every": show_duration(s.interval), "enabled": s.enabled,
             "configured": s.configured, "last_run": s.last_run.isoformat() if s.last_run else None}
            for s in jobs.schedules(store)]
    if fmt == "json":
        emit_json({"schedules": rows})
    else:
        emit_rows(rows, ["key", "every", "enabled", "configured", "last_run"], fmt, title="Schedules")


@jobs_group.command("schedule")
@click.argument("name")
@click.option("--every", required=True, help="Interval: 90s, 30m, 6h, 1d.")
@click.option("--arg", "pairs", multiple=True, metavar="NAME=VALUE", help="A job argument (csaf.sync: url=...).")
@click.option("--disable", is_flag=True, help="Keep the schedule but queue nothing.")
@db_option
@handle_errors
def jobs_schedule_cmd(name: str, every: str, pairs: tuple[str, ...], disable: bool, db_url: str | None) -> None:
    """Set how often the job NAME runs (needs admin). A CSAF provider is named by url=.

    \b
    Examples:
      zonewarden jobs schedule csaf.sync --every 6h --arg url=https://psirt.example/.well-known/csaf/provider-metadata.json
      zonewarden jobs schedule kev.refresh --every 1d
      zonewarden jobs schedule checks.sla --every 12h --disable
    """
    from zonewarden.services import jobs

    store = open_store_for(db_url)
    key = jobs.set_schedule(store, name, every=parse_duration(every), args=parse_args(pairs),
                            enabled=not disable, principal=_principal(store))
    note(f"schedule {key}: every {every}" + (" (disabled)" if disable else ""))


commands = [worker_cmd, jobs_group]
