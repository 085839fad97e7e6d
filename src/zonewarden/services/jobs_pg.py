"""The PostgreSQL side of background jobs: procrastinate as the queue.

* :func:`defer` queues the procrastinate job that runs one ``jobs`` row, on the caller's own
  psycopg connection (procrastinate 3.x takes ``connection=`` for exactly this), so it shares
  the SQLAlchemy transaction of the write that enqueued it: both commit or neither does.
* :data:`app` has one task, ``zonewarden.run_job``, which calls ``jobs.run_job``; a failed
  attempt that ``run_job`` will retry is handed back to procrastinate with the retry time
  ``run_job`` recorded (:class:`_RecordedBackoff`), so the ``jobs`` row stays the one truth of
  attempts, backoff and the last error. A periodic task (every minute) queues what the
  schedules want (``jobs.enqueue_due``).
* :func:`ensure_schema` applies procrastinate's packaged schema once per database (under an
  advisory lock; the schema matches the installed procrastinate version).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from zonewarden.store.db import Store

TASK = "zonewarden.run_job"
QUEUE = "zonewarden"
_LOCK_KEY = 0x7A6F6E65  # pg_advisory lock id for applying the schema ("zone")
_schema_ready: set[str] = set()
_worker_store: Store | None = None


def conninfo(store: Store) -> str:
    """The libpq URL of the store's database (procrastinate's own pool uses it)."""
    url = make_url(store.engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _procrastinate() -> Any:
    import procrastinate

    return procrastinate


def _make_app() -> Any:
    procrastinate = _procrastinate()
    from procrastinate.retry import BaseRetryStrategy, RetryDecision

    class _RecordedBackoff(BaseRetryStrategy):  # type: ignore[misc]
        """Retry exactly when ``jobs.run_job`` said (its backoff); never otherwise."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            from zonewarden.services.jobs import RetryLater

            if isinstance(exception, RetryLater):
                return RetryDecision(retry_at=exception.run_after)
            return None

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(), import_paths=[])

    @app.task(name=TASK, queue=QUEUE, retry=_RecordedBackoff(), pass_context=False)
    def run_job_task(job_id: int) -> None:
        from zonewarden.services import jobs

        if _worker_store is None:
            raise RuntimeError("the procrastinate worker was not started through zonewarden.services.jobs_pg")
        jobs.run_job(_worker_store, job_id, raise_retry=True)

    @app.periodic(cron="* * * * *", periodic_id="zonewarden-schedules")
    @app.task(name="zonewarden.schedules", queue=QUEUE, pass_context=False)
    def schedules_task(timestamp: int) -> None:
        from zonewarden.services import jobs

        if _worker_store is not None:
            jobs.recover_stalled(_worker_store)
            jobs.enqueue_due(_worker_store)

    return app


_app: Any = None


def app() -> Any:
    """The procrastinate app (built on first use: procrastinate is imported only on PostgreSQL)."""
    global _app
    if _app is None:
        _app = _make_app()
    return _app


def ensure_schema(store: Store) -> None:
    """Create procrastinate's tables and functions in the store's database if they are missing."""
    key = str(store.engine.url)
    if key in _schema_ready:
        return
    from procrastinate.schema import SchemaManager

    with store.transaction() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        present = conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
        if present is None:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute(SchemaManager.get_schema())  # no parameters: simple query, many statements
    _schema_ready.add(key)


_deferrer: Any = None


def defer(conn: Connection, job_id: int, run_after: dt.datetime | None) -> int:
    """Queue the procrastinate job for ``jobs`` row ``job_id`` in ``conn``'s transaction.

    Through a job manager of its own with a sync connector: inside a worker the app's connector
    is the worker's async one, which cannot run a query on an outside (sync) connection."""
    global _deferrer
    from procrastinate import SyncPsycopgConnector
    from procrastinate.jobs import Job
    from procrastinate.manager import JobManager

    if _deferrer is None:
        _deferrer = JobManager(SyncPsycopgConnector())
    job = Job(queue=QUEUE, lock=None, queueing_lock=None, task_name=TASK, task_kwargs={"job_id": job_id},
              scheduled_at=run_after)
    return int(_deferrer.defer_job(job, connection=conn.connection.driver_connection).id)


def run_worker(store: Store, *, concurrency: int = 1, wait: bool = True, install_signal_handlers: bool = True) -> None:
    """Run a procrastinate worker for the zonewarden queue until stopped (``wait=False``:
    until the queue is empty)."""
    global _worker_store
    ensure_schema(store)
    _worker_store = store
    connector = _procrastinate().PsycopgConnector(conninfo=conninfo(store))
    try:
        with app().replace_connector(connector) as worker_app:
            worker_app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=wait,
                                  install_signal_handlers=install_signal_handlers)
    finally:
        _worker_store = None
