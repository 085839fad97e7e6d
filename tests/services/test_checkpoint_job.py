"""The scheduled audit checkpoint: configured like the other schedules, a worker round writes a
signed checkpoint file that `audit verify --checkpoint` accepts, and that detects a rewrite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from zonewarden.cli.main import cli
from zonewarden.services import checkpoints, jobs
from zonewarden.services.principal import local_principal
from zonewarden.store.tables import audit_events


def test_the_schedule_writes_a_checkpoint_that_audit_verify_accepts(store, db_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                    mini_site_file: Path) -> None:
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import sites

    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal(name="setup"))
    key, out = tmp_path / "cp.key", tmp_path / "checkpoints"
    checkpoints.keygen(key)
    jobs.set_schedule(store, "audit.checkpoint", every=dt.timedelta(hours=6), args={"key": str(key), "out": str(out)},
                      principal=local_principal(name="ann"))
    assert "audit.checkpoint" in {s.key for s in jobs.schedules(store)}
    ran = [r for r in jobs.worker_tick(store) if r.name == "audit.checkpoint"]
    assert [r.state for r in ran] == [jobs.SUCCEEDED], [r.as_json() for r in ran]
    written = checkpoints.newest(out)
    assert written is not None

    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", "--checkpoint", str(written), "--key", str(key), "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert "matches checkpoint" in ok.output

    # A rewrite of an event before the checkpoint is caught against the file.
    with store.transaction() as conn:
        conn.execute(update(audit_events).where(audit_events.c.seq == 1).values(hash="0" * 64))
    bad = runner.invoke(cli, ["audit", "verify", "--checkpoint", str(written), "--key", str(key), "--db", db_url])
    assert bad.exit_code != 0 and "BROKEN" in bad.output


def test_without_a_key_the_job_says_what_to_configure(store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.errors import InputError
    from zonewarden.services.jobs_tasks import checkpoint_job

    monkeypatch.delenv("ZONEWARDEN_CHECKPOINT_KEY", raising=False)
    monkeypatch.delenv("ZONEWARDEN_CHECKPOINT_DIR", raising=False)
    with pytest.raises(InputError, match="ZONEWARDEN_CHECKPOINT_KEY"):
        checkpoint_job(store, jobs.SYSTEM)
