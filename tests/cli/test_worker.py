"""``zonewarden worker`` and ``zonewarden jobs``: a worker process really runs the queued jobs
(procrastinate on PostgreSQL, in-process on SQLite), and a failing job is retried with backoff."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from zonewarden.cli.main import cli
from zonewarden.services import jobs
from zonewarden.services.principal import SYSTEM, local_principal
from zonewarden.store.db import open_store


def _worker(db_url: str, *extra: str, packages: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZONEWARDEN_ACTOR": "ops", "ZONEWARDEN_PACKAGES_DIR": str(packages)}
    return subprocess.run([sys.executable, "-m", "zonewarden.cli.main", "worker", "--once", "--db", db_url, *extra],
                          capture_output=True, text=True, timeout=120, env=env)


def test_a_worker_process_runs_the_queued_jobs(db_url: str, mini_site_file: Path, tmp_path: Path) -> None:
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import sites

    store = open_store(db_url)
    try:
        sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal(name="setup"))
        ok = jobs.enqueue(store, "report.build", {"site_id": "mini", "audience": "auditor", "formats": ["json"],
                                                  "output": "pkg", "as_of": "2026-12-01"},
                          principal=local_principal(name="ann"))
        bad = jobs.enqueue(store, "kev.refresh", {"path": str(tmp_path / "missing-kev.json")}, principal=SYSTEM)
        done = _worker(db_url, packages=tmp_path)
        assert done.returncode == 0, done.stderr
        good = jobs.get_job(store, ok, principal=SYSTEM)
        assert good.state == jobs.SUCCEEDED, good.last_error
        assert (tmp_path / "pkg" / "manifest.json").is_file()
        failed = jobs.get_job(store, bad, principal=SYSTEM)
        assert failed.state == jobs.RETRYING and failed.attempts == 1
        assert "missing-kev.json" in (failed.last_error or "")
        assert failed.run_after > failed.finished_at  # type: ignore[operator]
        if store.dialect == "postgresql":
            # procrastinate holds the retry, scheduled at the time the jobs record shows.
            with store.read() as conn:
                row = conn.execute(text("SELECT status, scheduled_at, attempts FROM procrastinate_jobs WHERE id = :i"),
                                   {"i": failed.queue_id}).one()
            assert row.status == "todo" and row.attempts == 1
            assert abs((row.scheduled_at - failed.run_after).total_seconds()) < 1
            with store.read() as conn:
                states = {r.status for r in conn.execute(text(
                    "SELECT status FROM procrastinate_jobs WHERE id = :i"), {"i": good.queue_id})}
            assert states == {"succeeded"}
    finally:
        store.close()


def test_jobs_run_and_list_on_sqlite(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'z.db'}"
    runner = CliRunner()
    env = {"ZONEWARDEN_ACTOR": "ann"}
    result = runner.invoke(cli, ["jobs", "run", "kev.refresh", "--arg", f"path={tmp_path / 'none.json'}", "--db", db],
                           env=env)
    assert result.exit_code == 1, result.output
    assert "retrying" in result.output and "none.json" in result.output
    listed = runner.invoke(cli, ["jobs", "list", "--format", "json", "--db", db], env=env)
    assert listed.exit_code == 0
    assert '"state":"retrying"' in listed.output.replace(" ", "") and '"enqueued_by":"ann"' in listed.output.replace(" ", "")
    ok = runner.invoke(cli, ["jobs", "run", "advisories.rematch", "--db", db], env=env)
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["jobs", "run", "report.build", "--arg", "colour", "--db", db], env=env)
    assert bad.exit_code == 2 and "name=value" in bad.output


def test_jobs_schedule_sets_a_provider_interval(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'z.db'}"
    runner = CliRunner()
    url = "https://psirt.example/.well-known/csaf/provider-metadata.json"
    r = runner.invoke(cli, ["jobs", "schedule", "csaf.sync", "--every", "6h", "--arg", f"url={url}", "--db", db])
    assert r.exit_code == 0, r.output
    shown = runner.invoke(cli, ["jobs", "schedules", "--format", "json", "--db", db])
    assert f"csaf.sync {url}" in shown.output and '"every": "6h"' in shown.output
    wrong = runner.invoke(cli, ["jobs", "schedule", "csaf.sync", "--every", "6 hours", "--db", db])
    assert wrong.exit_code == 2 and "6h" in wrong.output


@pytest.mark.parametrize("value", ["1", "true", '["json", "html"]'])
def test_job_arguments_read_json_values(value: str) -> None:
    import json

    from zonewarden.cli.worker import parse_args
    assert parse_args((f"x={value}",)) == {"x": json.loads(value)}
