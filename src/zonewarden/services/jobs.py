"""Background jobs: the same job functions on PostgreSQL (procrastinate) and SQLite (in-process).

A job is a plain function ``fn(store, principal, **args) -> dict | None`` registered under a
name (``csaf.sync``, ``report.build``...; the built-in ones are in ``services.jobs_tasks``). Its
writes go through the services, so they are authorized and audited as the principal the job
runs as: :data:`~zonewarden.services.principal.SYSTEM` for scheduled jobs, the enqueuing user
(with the roles the account holds when the job runs) otherwise.

Every job has a row in the ``jobs`` table, the record the CLI, the API and the web pages read
(:func:`list_jobs`): state, attempts, last error, result. On PostgreSQL :func:`enqueue` also
queues a procrastinate job *on the caller's connection*, so a job enqueued inside a write's
transaction exists exactly when the write commits (``services.jobs_pg``); a procrastinate
worker (``zonewarden worker``) runs it. On SQLite the worker (or ``jobs run``) calls
:func:`run_pending` in-process. Either way :func:`run_job` is what runs a job: it records the
attempt, and on an error either schedules a retry with exponential backoff
(``backoff * 2**(attempt-1)``, capped at 6 hours) or, after ``max_attempts``, marks the job
failed. The error stays visible in ``last_error``.

Schedules: :func:`enqueue_due` queues every scheduled job whose interval has passed since its
last run (the worker calls it each tick; on PostgreSQL from a procrastinate periodic task).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from zonewarden.errors import InputError, NotFoundError, PermissionDenied, ZonewardenError
from zonewarden.services import access, identity
from zonewarden.services.principal import SYSTEM, Principal
from zonewarden.store.db import Store
from zonewarden.store.job_tables import job_schedules, jobs

QUEUED, RUNNING, RETRYING, SUCCEEDED, FAILED = "queued", "running", "retrying", "succeeded", "failed"
STATES = (QUEUED, RUNNING, RETRYING, SUCCEEDED, FAILED)
MAX_BACKOFF = dt.timedelta(hours=6)
_ERROR_LIMIT = 4000

JobFn = Callable[..., "Mapping[str, Any] | None"]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A registered job function."""

    name: str
    fn: JobFn
    summary: str
    operation: str
    """The operation the enqueuing principal needs (checked on ``site_id`` when the args name one)."""
    max_attempts: int = 4
    backoff: dt.timedelta = dt.timedelta(seconds=60)
    """Wait before the first retry; doubled for each further one."""
    interval: dt.timedelta | None = None
    """Default schedule (None: only when enqueued, or when a schedule row is configured)."""
    args: tuple[str, ...] = ()
    """Argument names the function takes (besides store and principal)."""
    timeout: dt.timedelta = dt.timedelta(hours=2)
    """A job running longer than this is taken to have lost its worker (:func:`recover_stalled`)."""


REGISTRY: dict[str, JobSpec] = {}


def job(name: str, *, summary: str, operation: str, max_attempts: int = 4, backoff_seconds: int = 60,
        interval: dt.timedelta | None = None, args: tuple[str, ...] = (),
        timeout: dt.timedelta = dt.timedelta(hours=2)) -> Callable[[JobFn], JobFn]:
    """Register ``fn`` as the job ``name``."""

    def register(fn: JobFn) -> JobFn:
        if operation.format(audience="auditor") not in access.OPERATIONS:
            raise ValueError(f"job {name}: unknown operation {operation!r}")
        REGISTRY[name] = JobSpec(name, fn, summary, operation, max_attempts,
                                 dt.timedelta(seconds=backoff_seconds), interval, args, timeout)
        return fn

    return register


def specs() -> dict[str, JobSpec]:
    """Every registered job, by name (the built-in ones are registered on first use)."""
    import zonewarden.services.jobs_tasks  # noqa: F401 - registers the built-in jobs

    return dict(sorted(REGISTRY.items()))


def spec_of(name: str) -> JobSpec:
    known = specs()
    if name not in known:
        raise InputError(f"no job named {name!r}: use one of {', '.join(known)}")
    return known[name]


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job as the front doors show it."""

    id: int
    name: str
    args: dict[str, Any]
    state: str
    attempts: int
    max_attempts: int
    run_after: dt.datetime
    enqueued_by: str
    schedule_key: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    last_error: str | None
    result: dict[str, Any] | None
    queue_id: int | None = field(default=None, repr=False)
    progress: dict[str, Any] | None = None
    """While running: ``{"stage", "done", "total", "at"}`` as the job last reported it."""

    def as_json(self) -> dict[str, Any]:
        def iso(v: dt.datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "id": self.id, "name": self.name, "args": self.args, "state": self.state,
            "attempts": self.attempts, "max_attempts": self.max_attempts, "run_after": iso(self.run_after),
            "enqueued_by": self.enqueued_by, "schedule": self.schedule_key, "created_at": iso(self.created_at),
            "started_at": iso(self.started_at), "finished_at": iso(self.finished_at),
            "last_error": self.last_error, "result": self.result, "progress": self.progress,
        }


def _utc(v: dt.datetime | None) -> dt.datetime | None:
    if v is None:
        return None
    return v if v.tzinfo else v.replace(tzinfo=dt.UTC)


def _record(r: Any) -> JobRecord:
    return JobRecord(
        int(r.id), r.name, dict(r.args or {}), r.state, int(r.attempts), int(r.max_attempts),
        _utc(r.run_after) or dt.datetime.now(dt.UTC), r.enqueued_by, r.schedule_key,
        _utc(r.created_at) or dt.datetime.now(dt.UTC), _utc(r.started_at), _utc(r.finished_at), r.last_error,
        dict(r.result) if r.result is not None else None, r.queue_id,
        dict(r.progress) if r.progress is not None else None,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def backoff(spec: JobSpec, attempts: int) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failed ones: doubles each time, capped."""
    return min(spec.backoff * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _check_args(spec: JobSpec, args: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(args) - set(spec.args))
    if unknown:
        raise InputError(f"job {spec.name} takes no argument {', '.join(unknown)}"
                         + (f" (it takes: {', '.join(spec.args)})" if spec.args else " (it takes none)"))
    out = {}
    for k, v in args.items():
        if not isinstance(v, (str, int, float, bool, list, type(None))):
            raise InputError(f"job {spec.name}: argument {k} must be text, a number or a list")
        out[k] = v
    return out


def authorize_enqueue(store: Store, principal: Principal, spec: JobSpec, args: Mapping[str, Any]) -> None:
    """The enqueuing principal must be allowed the job's operation (on its site, if it names one)."""
    site = args.get("site_id")
    identity.authorize(store, principal, operation_of(spec, args), site if isinstance(site, str) else None)


def operation_of(spec: JobSpec, args: Mapping[str, Any]) -> str:
    """The operation a job needs; ``report.{audience}`` takes the audience from the args."""
    if "{" not in spec.operation:
        return spec.operation
    try:
        operation = spec.operation.format(**{"audience": "auditor", **args})
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(f"job {spec.name}: cannot tell the operation it needs from its arguments") from exc
    if operation not in access.OPERATIONS:  # e.g. an audience that does not exist
        raise InputError(f"job {spec.name}: {operation!r} is not an operation; check its arguments "
                         f"(audience: auditor or customer)")
    return operation


def enqueue(store: Store, name: str, args: Mapping[str, Any] | None = None, *, principal: Principal,
            conn: Connection | None = None, run_after: dt.datetime | None = None,
            schedule_key: str | None = None) -> int:
    """Queue the job ``name`` with ``args`` to run as ``principal``; returns its id.

    With ``conn`` (an open write transaction of the caller) the job is recorded, and on
    PostgreSQL queued for the worker, in that same transaction: if the caller's write rolls
    back, no job exists."""
    spec = spec_of(name)
    clean = _check_args(spec, args or {})
    if conn is None:
        authorize_enqueue(store, principal, spec, clean)
    else:
        # Inside the caller's transaction a denial cannot be recorded in a transaction of its own
        # (SQLite would wait for the caller's write lock); the caller's write rolls back instead.
        site = clean.get("site_id")
        access.require(principal, operation_of(spec, clean), site if isinstance(site, str) else None)
    pg = store.dialect == "postgresql"
    if pg:
        from zonewarden.services import jobs_pg

        jobs_pg.ensure_schema(store)
    now = _now()
    with _maybe_transaction(store, conn) as c:
        key = c.execute(jobs.insert().values(
            name=spec.name, args=clean, state=QUEUED, attempts=0, max_attempts=spec.max_attempts,
            run_after=run_after or now, enqueued_by=principal.user_id, schedule_key=schedule_key, created_at=now,
        )).inserted_primary_key
        assert key is not None
        job_id = int(key[0])
        if pg:
            from zonewarden.services import jobs_pg

            queue_id = jobs_pg.defer(c, job_id, run_after)
            c.execute(update(jobs).where(jobs.c.id == job_id).values(queue_id=queue_id))
    return job_id


@contextmanager
def _maybe_transaction(store: Store, conn: Connection | None) -> Iterator[Connection]:
    if conn is not None:
        yield conn
    else:
        with store.transaction() as c:
            yield c


def get_job(store: Store, job_id: int, *, principal: Principal) -> JobRecord:
    with store.read() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None or not _may_see(principal, row.enqueued_by):
        raise NotFoundError(f"no job {job_id}")
    return _record(row)


def _may_see(principal: Principal, enqueued_by: str) -> bool:
    return enqueued_by == principal.user_id or access.allowed(principal, "job.read")


def list_jobs(store: Store, principal: Principal, *, state: str | None = None, name: str | None = None,
              limit: int = 50, offset: int = 0) -> list[JobRecord]:
    """Jobs newest first, ``limit`` at a time (for the UI's jobs page). A user sees the jobs they
    enqueued; ``job.read`` (admin, or a role held on every site) sees every job."""
    if state is not None and state not in STATES:
        raise InputError(f"job state {state!r}: use one of {', '.join(STATES)}")
    stmt = select(jobs).order_by(jobs.c.id.desc()).limit(max(1, min(limit, 1000))).offset(max(offset, 0))
    if state is not None:
        stmt = stmt.where(jobs.c.state == state)
    if name is not None:
        stmt = stmt.where(jobs.c.name == name)
    if not access.allowed(principal, "job.read"):
        stmt = stmt.where(jobs.c.enqueued_by == principal.user_id)
    with store.read() as conn:
        return [_record(r) for r in conn.execute(stmt)]


# --- running ----------------------------------------------------------------------------------

_current: contextvars.ContextVar[tuple[Store, int, list[float]] | None] = contextvars.ContextVar(
    "zonewarden_job", default=None)
PROGRESS_EVERY = 1.0
"""Seconds between two progress writes of one job (the last one of a stage always lands)."""


def progress(stage: str, done: int, total: int) -> None:
    """Report how far the running job is (a no-op outside a job). Written to the job's record at
    most once per :data:`PROGRESS_EVERY` seconds, and always when ``done == total``."""
    current = _current.get()
    if current is None:
        return
    store, job_id, last = current
    clock = time.monotonic()
    if done < total and clock - last[0] < PROGRESS_EVERY:
        return
    last[0] = clock
    with store.transaction() as conn:
        conn.execute(update(jobs).where(and_(jobs.c.id == job_id, jobs.c.state == RUNNING)).values(
            progress={"stage": stage, "done": done, "total": total, "at": _now().isoformat()}))


class RetryLater(Exception):
    """Raised by :func:`run_job` (when asked to) after a failed attempt that will be retried."""

    def __init__(self, job_id: int, run_after: dt.datetime, error: str) -> None:
        super().__init__(error)
        self.job_id = job_id
        self.run_after = run_after


def _principal_for(store: Store, enqueued_by: str) -> Principal:
    if enqueued_by == SYSTEM.user_id:
        return SYSTEM
    return identity.principal_of_user(store, enqueued_by, client="job")


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ZonewardenError):
        text = f"{type(exc).__name__}: {exc}"
    else:  # a bug: keep the place it happened (the last frames), not the whole stack
        frames = traceback.extract_tb(exc.__traceback__)[-3:]
        where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames)
        text = f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
    return text[:_ERROR_LIMIT]


def run_job(store: Store, job_id: int, *, raise_retry: bool = False, now: dt.datetime | None = None) -> JobRecord:
    """Run one attempt of the job ``job_id`` if it is queued or waiting for a retry, and record
    the outcome. A job already running, finished or failed is left alone (a second worker, or
    procrastinate delivering a job twice, runs nothing twice). With ``raise_retry`` a failed
    attempt that will be retried raises :class:`RetryLater` (the procrastinate task uses it to
    schedule the retry at the recorded time)."""
    now = now or _now()
    with store.transaction() as conn:
        claimed = conn.execute(
            update(jobs).where(and_(jobs.c.id == job_id, jobs.c.state.in_([QUEUED, RETRYING])))
            .values(state=RUNNING, attempts=jobs.c.attempts + 1, started_at=now, finished_at=None)
        ).rowcount
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFoundError(f"no job {job_id}")
    if not claimed:
        return _record(row)
    rec = _record(row)
    spec = REGISTRY.get(rec.name) or specs().get(rec.name)
    values: dict[str, Any]
    try:
        if spec is None:
            raise InputError(f"no job function named {rec.name!r} in this version of zonewarden")
        principal = _principal_for(store, rec.enqueued_by)
        token = _current.set((store, job_id, [0.0]))
        try:
            result = spec.fn(store, principal, **rec.args)
        finally:
            _current.reset(token)
        values = {"state": SUCCEEDED, "result": dict(result) if result else {}, "last_error": None}
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, never lost
        error = _error_text(exc)
        final = spec is None or isinstance(exc, PermissionDenied) or rec.attempts >= (spec.max_attempts if spec else 1)
        if final:
            values = {"state": FAILED, "last_error": error}
        else:
            assert spec is not None
            values = {"state": RETRYING, "last_error": error, "run_after": _now() + backoff(spec, rec.attempts)}
    values["finished_at"] = _now()
    with store.transaction() as conn:
        # Only this attempt's outcome: if the job was taken for stalled and run again meanwhile,
        # the newer attempt's record stands.
        conn.execute(update(jobs).where(and_(jobs.c.id == job_id, jobs.c.state == RUNNING,
                                             jobs.c.attempts == rec.attempts)).values(**values))
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    out = _record(row)
    if raise_retry and out.state == RETRYING:
        raise RetryLater(job_id, out.run_after, out.last_error or "")
    return out


def run_pending(store: Store, *, now: dt.datetime | None = None, limit: int = 100) -> list[JobRecord]:
    """Run every job that is due (queued, or waiting for a retry whose time has come), oldest
    first: the in-process runner of SQLite (and of ``jobs run`` on either database)."""
    now = now or _now()
    with store.read() as conn:
        due = [r.id for r in conn.execute(
            select(jobs.c.id).where(and_(jobs.c.state.in_([QUEUED, RETRYING]), jobs.c.run_after <= now))
            .order_by(jobs.c.run_after, jobs.c.id).limit(limit)
        )]
    return [run_job(store, int(i), now=now) for i in due]


# --- schedules --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Schedule:
    key: str
    name: str
    args: dict[str, Any]
    interval: dt.timedelta
    enabled: bool
    configured: bool
    """False for a built-in default (no row in ``job_schedules``)."""
    last_run: dt.datetime | None = None


def provider_key(url: str) -> str:
    return f"csaf.sync {url}"


def schedules(store: Store) -> list[Schedule]:
    """Every schedule: the configured ones, the built-in defaults (rematch, checks, alert
    delivery) and a daily sync of every CSAF provider synced so far, unless configured
    otherwise; with the creation time of the newest job each enqueued."""
    from zonewarden.services import csaf_sync

    out: dict[str, Schedule] = {}
    for spec in specs().values():
        if spec.interval is not None:
            out[spec.name] = Schedule(spec.name, spec.name, {}, spec.interval, True, False)
    for src in csaf_sync.sources(store):
        key = provider_key(src.url)
        out[key] = Schedule(key, "csaf.sync", {"url": src.url}, DEFAULT_PROVIDER_INTERVAL, True, False)
    with store.read() as conn:
        for r in conn.execute(select(job_schedules)):
            out[r.key] = Schedule(r.key, r.name, dict(r.args or {}), dt.timedelta(seconds=r.interval_seconds),
                                  bool(r.enabled), True)
        last = {r.schedule_key: _utc(r.at) for r in conn.execute(
            select(jobs.c.schedule_key, func.max(jobs.c.created_at).label("at"))
            .where(jobs.c.schedule_key.is_not(None)).group_by(jobs.c.schedule_key)
        )}
    return [
        Schedule(s.key, s.name, s.args, s.interval, s.enabled, s.configured, last.get(s.key))
        for s in sorted(out.values(), key=lambda s: s.key)
    ]


DEFAULT_PROVIDER_INTERVAL = dt.timedelta(hours=24)


def set_schedule(store: Store, name: str, *, every: dt.timedelta, args: Mapping[str, Any] | None = None,
                 enabled: bool = True, principal: Principal) -> str:
    """Configure how often the job ``name`` runs (a provider sync names its ``url``); returns the
    schedule key. Needs ``job.admin``."""
    from zonewarden.services import audit

    identity.authorize(store, principal, "job.admin")
    spec = spec_of(name)
    clean = _check_args(spec, args or {})
    if every < dt.timedelta(minutes=1):
        raise InputError(f"schedule of {name}: an interval under one minute ({every}) is too short")
    if name == "csaf.sync" and not isinstance(clean.get("url"), str):
        raise InputError("a csaf.sync schedule names its provider: give url=...")
    key = provider_key(clean["url"]) if name == "csaf.sync" else name
    now = _now()
    with store.transaction() as conn:
        before = conn.execute(select(job_schedules).where(job_schedules.c.key == key)).first()
        values = {"name": name, "args": clean, "interval_seconds": int(every.total_seconds()),
                  "enabled": enabled, "updated_at": now}
        if before is None:
            conn.execute(job_schedules.insert().values(key=key, **values))
        else:
            conn.execute(update(job_schedules).where(job_schedules.c.key == key).values(**values))
        audit.append(conn, action="job.schedule", **principal.audit_fields, object_type="schedule", object_id=key[:200],
                     before={"interval_seconds": before.interval_seconds, "enabled": bool(before.enabled)} if before else None,
                     after={"interval_seconds": values["interval_seconds"], "enabled": enabled}, at=now)
    return key


def enqueue_due(store: Store, *, now: dt.datetime | None = None) -> list[int]:
    """Queue, as the system, every enabled schedule whose interval has passed since it last
    queued a job, unless a job of it is still waiting or running. Returns the new job ids."""
    now = now or _now()
    with store.read() as conn:
        busy = {r.schedule_key for r in conn.execute(
            select(jobs.c.schedule_key).where(and_(jobs.c.schedule_key.is_not(None),
                                                   or_(jobs.c.state == QUEUED, jobs.c.state == RUNNING,
                                                       jobs.c.state == RETRYING)))
        )}
    prune(store, now=now)
    out = []
    for s in schedules(store):
        if not s.enabled or s.key in busy:
            continue
        if s.last_run is not None and now - s.last_run < s.interval:
            continue
        out.append(enqueue(store, s.name, s.args, principal=SYSTEM, schedule_key=s.key))
    return out


def recover_stalled(store: Store, *, now: dt.datetime | None = None) -> list[int]:
    """Jobs ``running`` for longer than their timeout lost their worker (killed, machine
    restarted): record that as a failed attempt and retry them (or mark them failed after their
    last attempt). On PostgreSQL the retry is queued with procrastinate again. Returns their ids."""
    now = now or _now()
    with store.read() as conn:
        running = list(conn.execute(select(jobs).where(jobs.c.state == RUNNING)))
    out = []
    for r in running:
        spec = REGISTRY.get(r.name) or specs().get(r.name)
        timeout = spec.timeout if spec else dt.timedelta(hours=2)
        started = _utc(r.started_at)
        if started is None or now - started < timeout:
            continue
        error = f"the worker running it stopped: no result {timeout} after it started at {started.isoformat()}"
        final = spec is None or r.attempts >= r.max_attempts
        run_after = now + (backoff(spec, int(r.attempts)) if spec else dt.timedelta(0))
        with store.transaction() as conn:
            changed = conn.execute(update(jobs).where(and_(jobs.c.id == r.id, jobs.c.state == RUNNING,
                                                           jobs.c.attempts == r.attempts)).values(
                state=FAILED if final else RETRYING, last_error=error, finished_at=now,
                **({} if final else {"run_after": run_after}),
            )).rowcount
            if changed and not final and store.dialect == "postgresql":
                from zonewarden.services import jobs_pg

                queue_id = jobs_pg.defer(conn, int(r.id), run_after)
                conn.execute(update(jobs).where(jobs.c.id == r.id).values(queue_id=queue_id))
        if changed:
            out.append(int(r.id))
    return out


KEEP_FINISHED = dt.timedelta(days=14)


def prune(store: Store, *, now: dt.datetime | None = None, keep: dt.timedelta = KEEP_FINISHED) -> int:
    """Delete succeeded jobs of schedules older than ``keep`` (a job per minute adds up); failed
    jobs and jobs people queued stay."""
    cutoff = (now or _now()) - keep
    with store.transaction() as conn:
        return int(conn.execute(jobs.delete().where(and_(
            jobs.c.state == SUCCEEDED, jobs.c.schedule_key.is_not(None), jobs.c.finished_at < cutoff,
        ))).rowcount)


def worker_tick(store: Store) -> list[JobRecord]:
    """One round of the SQLite worker: take back stalled jobs, queue what the schedules want,
    run what is due."""
    recover_stalled(store)
    enqueue_due(store)
    return run_pending(store)
