"""Background jobs: the record, retries with backoff, schedules, the same-transaction enqueue,
and a procrastinate worker process running a job against the throw-away PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from zonewarden.errors import InputError, PermissionDenied
from zonewarden.services import audit, jobs
from zonewarden.services.principal import ANY_SITE, SYSTEM, Principal, local_principal
from zonewarden.store.tables import sites

CALLS: list[dict[str, Any]] = []


@jobs.job("test.flaky", summary="fails until told otherwise", operation="job.admin", max_attempts=3,
          backoff_seconds=30, args=("fail_times", "tag"))
def _flaky(store: Any, principal: Principal, *, fail_times: int = 0, tag: str = "") -> Mapping[str, Any]:
    CALLS.append({"principal": principal.user_id, "tag": tag})
    if sum(1 for c in CALLS if c["tag"] == tag) <= fail_times:
        raise RuntimeError(f"provider down ({tag})")
    return {"ok": True, "tag": tag}


def _at(store: Any, job_id: int) -> jobs.JobRecord:
    return jobs.get_job(store, job_id, principal=SYSTEM)


def test_a_failing_job_is_retried_with_backoff_and_its_error_recorded(store) -> None:  # type: ignore[no-untyped-def]
    job_id = jobs.enqueue(store, "test.flaky", {"fail_times": 5, "tag": f"a-{store.dialect}"}, principal=SYSTEM)
    t0 = dt.datetime.now(dt.UTC)
    first = jobs.run_job(store, job_id)
    assert first.state == jobs.RETRYING and first.attempts == 1
    assert "RuntimeError: provider down" in (first.last_error or "")
    wait1 = first.run_after - t0
    assert dt.timedelta(seconds=29) < wait1 < dt.timedelta(seconds=40)
    # Not due yet: the runner leaves it alone.
    assert jobs.run_pending(store) == []
    second = jobs.run_pending(store, now=first.run_after + dt.timedelta(seconds=1))
    assert [r.attempts for r in second] == [2]
    wait2 = second[0].run_after - second[0].finished_at  # type: ignore[operator]
    assert dt.timedelta(seconds=59) < wait2 < dt.timedelta(seconds=61)  # doubled
    third = jobs.run_job(store, job_id)
    assert third.state == jobs.FAILED and third.attempts == 3 and "provider down" in (third.last_error or "")
    # A failed job is not run again.
    assert jobs.run_job(store, job_id).attempts == 3
    shown = jobs.list_jobs(store, SYSTEM, state="failed")
    assert [j.id for j in shown] == [job_id] and shown[0].as_json()["last_error"].startswith("RuntimeError")


def test_a_job_that_recovers_succeeds_with_its_result(store) -> None:  # type: ignore[no-untyped-def]
    job_id = jobs.enqueue(store, "test.flaky", {"fail_times": 1, "tag": f"b-{store.dialect}"}, principal=SYSTEM)
    assert jobs.run_job(store, job_id).state == jobs.RETRYING
    done = jobs.run_job(store, job_id)
    assert done.state == jobs.SUCCEEDED and done.result == {"ok": True, "tag": f"b-{store.dialect}"}
    assert done.last_error is None and done.attempts == 2


def test_enqueue_checks_the_job_and_its_arguments(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no job named 'nope'"):
        jobs.enqueue(store, "nope", principal=SYSTEM)
    with pytest.raises(InputError, match="takes no argument colour"):
        jobs.enqueue(store, "test.flaky", {"colour": "red"}, principal=SYSTEM)
    viewer = Principal(user_id="vic", method="token", roles={"s1": frozenset({"viewer"})})
    with pytest.raises(PermissionDenied, match="job.admin needs one of the roles: admin"):
        jobs.enqueue(store, "test.flaky", principal=viewer)
    with pytest.raises(InputError, match="'report.board' is not an operation"):
        jobs.enqueue(store, "report.build", {"site_id": "s1", "audience": "board"}, principal=SYSTEM)
    with pytest.raises(PermissionDenied, match="report.auditor on site s1"):
        jobs.enqueue(store, "report.build", {"site_id": "s1", "audience": "auditor"}, principal=viewer)


def test_users_see_their_own_jobs_and_admins_every_job(store) -> None:  # type: ignore[no-untyped-def]
    mine = jobs.enqueue(store, "test.flaky", {"tag": "own"}, principal=local_principal(name="ann"))
    other = jobs.enqueue(store, "test.flaky", {"tag": "other"}, principal=SYSTEM)
    ann = Principal(user_id="ann", method="token", roles={"s1": frozenset({"engineer"})})
    admin = Principal(user_id="root", method="token", roles={ANY_SITE: frozenset({"admin"})})
    assert [j.id for j in jobs.list_jobs(store, ann)] == [mine]
    assert [j.id for j in jobs.list_jobs(store, admin)] == [other, mine]
    with pytest.raises(Exception, match="no job"):
        jobs.get_job(store, other, principal=ann)


def test_a_report_job_writes_inside_the_packages_folder_only(store, mini_site_file: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import sites

    monkeypatch.setenv("ZONEWARDEN_PACKAGES_DIR", str(tmp_path / "packages"))
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal(name="setup"))
    job_id = jobs.enqueue(store, "report.build", {"site_id": "mini", "audience": "customer", "formats": ["json"],
                                                  "output": "pkg", "as_of": "2026-12-01"},
                          principal=local_principal(name="ann"))
    done = jobs.run_job(store, job_id)
    assert done.state == jobs.SUCCEEDED, done.last_error
    assert done.result and "manifest.json" in done.result["files"]
    assert (tmp_path / "packages" / "pkg" / "manifest.json").is_file()
    count = len(done.result["files"])  # progress: one step per file written
    assert done.progress and (done.progress["stage"], done.progress["done"], done.progress["total"]) == ("write", count, count)
    for where in ("../escape", str(tmp_path / "abs")):
        bad = jobs.enqueue(store, "report.build", {"site_id": "mini", "audience": "customer", "output": where},
                           principal=local_principal(name="ann"))
        record = jobs.run_job(store, bad)
        assert record.state == jobs.RETRYING and "must be a relative folder name" in (record.last_error or "")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "abs").exists()


def test_a_jobs_writes_are_audited_as_the_user_who_queued_it(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import orjson

    kev = tmp_path / "kev.json"
    kev.write_bytes(orjson.dumps({
        "title": "KEV", "catalogVersion": "2026.12.01", "dateReleased": "2026-12-01T10:00:00.000Z", "count": 1,
        "vulnerabilities": [{"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
                             "vulnerabilityName": "Log4j2 RCE", "dateAdded": "2021-12-10", "dueDate": "2021-12-24",
                             "knownRansomwareCampaignUse": "Known", "requiredAction": "Update."}],
    }))
    job_id = jobs.enqueue(store, "kev.refresh", {"path": str(kev)}, principal=local_principal(name="ann"))
    done = jobs.run_job(store, job_id)
    assert done.state == jobs.SUCCEEDED and done.result and done.result["entries"] == 1
    scheduled = jobs.run_job(store, jobs.enqueue(store, "kev.refresh", {"path": str(kev)}, principal=SYSTEM))
    assert scheduled.state == jobs.SUCCEEDED
    with store.read() as conn:
        imports = [e for e in audit.events(conn) if e.action == "kev.import"]
    assert [(e.actor, e.context["client"]) for e in imports] == [("ann", "job"), ("zonewarden", "job")]
    assert imports[1].context["method"] == "system"


def test_a_job_whose_worker_died_is_taken_back(store) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.store.job_tables import jobs as jobs_table

    job_id = jobs.enqueue(store, "test.flaky", {"tag": f"stall-{store.dialect}"}, principal=SYSTEM)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    with store.transaction() as conn:  # as a worker killed mid-job leaves it
        conn.execute(jobs_table.update().where(jobs_table.c.id == job_id).values(
            state=jobs.RUNNING, attempts=1, started_at=long_ago))
    assert jobs.recover_stalled(store) == [job_id]
    record = _at(store, job_id)
    assert record.state == jobs.RETRYING and "the worker running it stopped" in (record.last_error or "")
    assert jobs.run_job(store, job_id, now=record.run_after).state == jobs.SUCCEEDED


def test_schedules_queue_due_jobs_once_as_the_system(store) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.store.sync_tables import csaf_sync_sources

    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        conn.execute(csaf_sync_sources.insert().values(url="https://psirt.example/", kind="rolie",
                                                       last_sync_at=now, last_report={}))
    keys = {s.key: s for s in jobs.schedules(store)}
    assert keys["csaf.sync https://psirt.example/"].interval == jobs.DEFAULT_PROVIDER_INTERVAL
    assert {"advisories.rematch", "checks.expiry", "checks.sla", "alerts.scan", "alerts.deliver"} <= set(keys)
    jobs.set_schedule(store, "csaf.sync", every=dt.timedelta(hours=6), args={"url": "https://psirt.example/"},
                      principal=local_principal(name="ann"))
    assert {s.key: s for s in jobs.schedules(store)}["csaf.sync https://psirt.example/"].interval == dt.timedelta(hours=6)
    first = jobs.enqueue_due(store, now=now)
    assert len(first) == len(keys)
    assert jobs.enqueue_due(store, now=now) == []  # waiting jobs are not queued again
    records = jobs.list_jobs(store, SYSTEM, limit=100)
    assert {r.enqueued_by for r in records} == {"zonewarden"}
    with store.read() as conn:
        events = [e for e in audit.events(conn) if e.action == "job.schedule"]
    assert events and events[0].actor == "ann"


def test_enqueue_shares_the_callers_transaction(store) -> None:  # type: ignore[no-untyped-def]
    pg = store.dialect == "postgresql"

    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.transaction() as conn:
        conn.execute(sites.insert().values(id="rolled", name="back", content_hash="x", data={},
                                           updated_at=dt.datetime.now(dt.UTC)))
        jobs.enqueue(store, "test.flaky", {"tag": "tx"}, principal=SYSTEM, conn=conn)
        raise Boom
    with store.read() as c:
        assert c.execute(select(sites.c.id)).all() == []
        if pg:  # procrastinate's job went with the rolled-back transaction too
            assert c.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar() == 0
    assert jobs.list_jobs(store, SYSTEM) == []
    with store.transaction() as conn:
        conn.execute(sites.insert().values(id="kept", name="kept", content_hash="x", data={},
                                           updated_at=dt.datetime.now(dt.UTC)))
        job_id = jobs.enqueue(store, "test.flaky", {"tag": "tx2"}, principal=SYSTEM, conn=conn)
    assert [j.id for j in jobs.list_jobs(store, SYSTEM)] == [job_id]
    if pg:
        with store.read() as c:
            row = c.execute(text("SELECT id, task_name, args, status FROM procrastinate_jobs")).one()
        assert row.task_name == "zonewarden.run_job" and row.args == {"job_id": job_id} and row.status == "todo"
        assert _at(store, job_id).queue_id == row.id
    # Inside a transaction a denial raises (and the caller's write rolls back).
    viewer = Principal(user_id="vic", method="token", roles={"kept": frozenset({"viewer"})})
    with pytest.raises(PermissionDenied), store.transaction() as conn:
        jobs.enqueue(store, "report.build", {"site_id": "kept", "audience": "auditor"}, principal=viewer, conn=conn)


@jobs.job("test.chain", summary="queues a follow-up job", operation="job.admin", args=("tag",))
def _chain(store: Any, principal: Principal, *, tag: str) -> Mapping[str, Any]:
    follow = jobs.enqueue(store, "test.flaky", {"tag": f"{tag}-next"}, principal=principal)
    stalled = jobs.recover_stalled(store)
    return {"follow": follow, "stalled": stalled}


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite runs jobs in-process (tests above)
def test_a_procrastinate_worker_runs_jobs_that_queue_jobs(db_url: str) -> None:
    from zonewarden.services import jobs_pg
    from zonewarden.store.db import open_store

    store = open_store(db_url)
    try:
        first = jobs.enqueue(store, "test.chain", {"tag": "pg"}, principal=SYSTEM)
        # In this process, so the test's job functions are registered; the worker's async
        # connector is in place while the job queues the next one on a connection of its own.
        jobs_pg.run_worker(store, wait=False, install_signal_handlers=False)
        done = _at(store, first)
        assert done.state == jobs.SUCCEEDED, done.last_error
        follow = _at(store, done.result["follow"])  # type: ignore[index]
        assert follow.state == jobs.SUCCEEDED and follow.result == {"ok": True, "tag": "pg-next"}
        with store.read() as conn:
            statuses = [r.status for r in conn.execute(text("SELECT status FROM procrastinate_jobs ORDER BY id"))]
        assert set(statuses) == {"succeeded"}
        # The periodic task ran in the worker too: the schedules' jobs were queued (on the
        # worker's own connections) and run, as the system.
        scheduled = [j for j in jobs.list_jobs(store, SYSTEM, limit=100) if j.schedule_key]
        assert {j.name for j in scheduled} >= {"advisories.rematch", "alerts.scan", "checks.sla"}
        assert all(j.state == jobs.SUCCEEDED for j in scheduled), [j.last_error for j in scheduled]
        assert len(statuses) == 2 + len(scheduled) + 1  # + the periodic task's own job
    finally:
        store.close()


SEEN: list[dict[str, Any] | None] = []


@jobs.job("test.progress", summary="reports progress", operation="job.admin")
def _progressing(store: Any, principal: Principal) -> Mapping[str, Any]:
    jobs.progress("count", 1, 3)
    (me,) = [j for j in jobs.list_jobs(store, SYSTEM) if j.name == "test.progress"]
    SEEN.append(me.progress)
    jobs.progress("count", 2, 3)  # within a second of the last write: not written
    (me,) = [j for j in jobs.list_jobs(store, SYSTEM) if j.name == "test.progress"]
    SEEN.append(me.progress)
    return {}


def test_a_running_job_reports_its_progress_for_the_ui(store) -> None:  # type: ignore[no-untyped-def]
    SEEN.clear()
    jobs.progress("outside", 1, 1)  # outside a job: nothing happens
    done = jobs.run_job(store, jobs.enqueue(store, "test.progress", principal=SYSTEM))
    assert done.state == jobs.SUCCEEDED
    assert [(p or {}).get("done") for p in SEEN] == [1, 1]
    assert SEEN[0] and SEEN[0]["stage"] == "count" and SEEN[0]["total"] == 3
