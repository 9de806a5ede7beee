"""Jobs on a PostgreSQL home ([store] url): procrastinate delivers them to `gongu worker` processes on any
machine; the catalog's `jobs` table (archive/jobs.py) decides what runs and records what happened.

- `defer(catalog, job)`: called by the job API's enqueue / retry after the job row is committed. It
  queues a procrastinate task `gongu.run_job(job_id)` with the queueing lock `case:<case id>` (one
  waiting ticket per case; `job:<id>` for a job of no case). A failed defer loses nothing: the sweep
  below hands every queued row that procrastinate does not know to it again.
- `run_job(job_id)`: claims that one row (queued → running, atomically: a second ticket for the same
  job, or a ticket of a job cancelled meanwhile, does nothing) and runs it with the runner's code (the
  same steps, heartbeat, finish / fail as on a SQLite home). A job is therefore run to completion at
  most once, whatever procrastinate delivers twice.
- The sweep (a procrastinate periodic task, one per tick across all workers): running rows whose
  heartbeat stopped (a worker killed with kill -9, a machine that lost power) are queued again or
  failed with the reason after the last attempt (archive/jobs.py reap_jobs); procrastinate's tickets
  held by stalled workers are closed; queued rows without a ticket get one; periodic jobs fall due.
- procrastinate's own tables live in the same database, created from code by `ensure_schema` (at
  `gongu store migrate` and at every worker start; idempotent, under an advisory lock) — never by the
  catalog's alembic migrations, which know nothing of them.

This module never imports the job API (the API imports it); it runs jobs with the runner's code
(gongu/jobs/runner.py), which imports neither."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import logging
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archive import jobs as store
from gongu.jobs.model import Job

if TYPE_CHECKING:
    import procrastinate

    from archive.catalog import Catalog
    from gongu.settings import Settings

log = logging.getLogger("gongu.jobs.pg")

RUN_TASK = "gongu.run_job"
SWEEP_TASK = "gongu.sweep"
CLEANUP_TASK = "gongu.cleanup"
QUEUE = "gongu"
HOUSE_QUEUE = "gongu-house"  # the sweep and the clean-up: many small tickets, kept an hour
TICKETS_KEPT_H = 30 * 24  # a job's procrastinate tickets are kept a month (the job row itself for good)
# One schema creation at a time across machines (a 64-bit key from a name, like the catalog's lock).
_SCHEMA_LOCK_KEY = int.from_bytes(hashlib.sha256(b"gongu-procrastinate-schema").digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class Timing:
    """How quickly a dead worker's job is noticed. `stale_after_s` (`gongu worker --stale-after`; every
    worker of a home should use the same value): a running job with no heartbeat for this long is
    queued again, or failed after the last attempt (the runner beats every HEARTBEAT_S while a job
    runs, so only a dead worker's job goes stale). `sweep_every_s`: how often the sweep runs (cron seconds, a divisor of 60). procrastinate's own
    worker heartbeat is kept well inside `stale_after_s`, so its tickets of a dead worker are closed
    by the time the job row is reaped."""

    stale_after_s: float = 120.0
    sweep_every_s: int = 10
    heartbeat_s: float = 5.0
    periodic: bool = True  # queue the periodic jobs (index sync, weekly audit, daily deadline scan)

    @classmethod
    def of(cls, stale_after_s: float, *, periodic: bool = True) -> Timing:
        return cls(stale_after_s=stale_after_s, heartbeat_s=max(1.0, min(10.0, stale_after_s / 6)), periodic=periodic)

    @property
    def cron(self) -> str:
        return f"* * * * * */{self.sweep_every_s}"  # 6th column: seconds (procrastinate, croniter)


def conninfo(url: str) -> str:
    """`[store] url` as libpq takes it (no SQLAlchemy driver suffix); a password stays where it was
    (PGPASSWORD, ~/.pgpass or the URL)."""
    from archive.catalog_server import sqlalchemy_url

    return sqlalchemy_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def queueing_lock(job: Job) -> str:
    return f"case:{job.case_id}" if job.case_id is not None else f"job:{job.id}"


# ───────────────────────────── procrastinate's schema ─────────────────────────────

def schema_applied(url: str) -> bool:
    import psycopg

    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
    return bool(row and row[0])


def ensure_schema(url: str) -> bool:
    """Create procrastinate's tables, types and functions in the catalog's database unless present.
    Under a transaction-level advisory lock, so two workers starting at once do not both create it.
    Call it after the catalog exists (the catalog's first migration takes only an empty database or
    its own tables). True when it was created now."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(conninfo(url)) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if row and row[0]:
            return False
        conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]  # procrastinate's own SQL, no parameters
    log.warning("已在目录数据库中建立 procrastinate 的任务队列表")
    return True


# ───────────────────────────── deferring (any process: web, CLI) ─────────────────────────────

_defer_apps: dict[str, procrastinate.App] = {}
_defer_lock = threading.Lock()


def _defer_app(url: str) -> procrastinate.App:
    """The app a web or CLI process hands jobs over with: a connection per hand-over, none kept open
    (a process that only queues a job now and then holds no connection, and a database it once used
    can still be dropped or cloned)."""
    import procrastinate
    import psycopg_pool

    with _defer_lock:
        app = _defer_apps.get(url)
        if app is None:
            pool = psycopg_pool.NullConnectionPool(
                conninfo(url), kwargs={"options": "-c application_name=gongu-defer"}, open=True)
            app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector()).open(pool)
            _defer_apps[url] = app
            atexit.register(pool.close)
        return app


def defer(catalog: Catalog, job: Job) -> int | None:
    """Hand a committed queued job to procrastinate; the ticket's id, or None when it could not be
    handed over now (no server, no procrastinate schema yet, or an older ticket of the case still
    waiting) — the sweep hands it over later, so the job is never lost."""
    from procrastinate import exceptions

    if catalog.server is None or job.state != "queued":
        return None
    try:
        app = _defer_app(catalog.server.url)
        return _defer_sync(app, job)
    except exceptions.ProcrastinateException as exc:
        cause = exc.__cause__ or exc
        log.warning("任务 %s 暂未交给 procrastinate（工作进程的巡检稍后补交）：%s", job.id, str(cause).strip())
        return None


def _defer_sync(app: procrastinate.App, job: Job) -> int | None:
    from procrastinate import exceptions

    lock = queueing_lock(job)
    deferrer = app.configure_task(RUN_TASK, queue=QUEUE, queueing_lock=lock)
    try:
        return deferrer.defer(job_id=job.id)
    except exceptions.AlreadyEnqueued:
        pass
    # A waiting ticket holds the case's lock. If it is this job's, nothing to do; if it is an older job's
    # (cancelled, say: one active job per case, so it is not active), its run would do nothing — drop
    # it (only a ticket still waiting can be dropped) and queue ours.
    for ticket in app.job_manager.list_jobs(queueing_lock=lock, status="todo"):
        if ticket.task_kwargs.get("job_id") == job.id:
            return ticket.id
        assert ticket.id is not None
        app.job_manager.cancel_job_by_id(ticket.id, delete_job=True)
    try:
        return app.configure_task(RUN_TASK, queue=QUEUE, queueing_lock=lock).defer(job_id=job.id)
    except exceptions.AlreadyEnqueued:
        return None  # someone queued a ticket this very moment: the sweep sorts it out


# ───────────────────────────── the worker ─────────────────────────────

@dataclass
class _Worker:
    """What the tasks of one worker process need: its settings, its name, the timing."""

    settings: Settings
    name: str
    machine: str
    timing: Timing

    def run_job(self, job_id: int) -> None:
        """The body of `gongu.run_job`: claim that job if it is still queued and run it with the runner's
        code. Its own catalog: the catalog's write transaction belongs to one thread."""
        from gongu.jobs.runner import run_one
        from gongu.pipeline.archiving import open_store

        catalog = open_store(self.settings, check=False)
        try:
            run_one(self.settings, catalog, worker=self.name, machine=self.machine, job_id=job_id)
        finally:
            catalog.close()

    def sweep_catalog(self) -> list[Job]:
        """The catalog's part of the sweep, as the embedded runner's housekeeping: reap dead workers' jobs,
        queue the periodic jobs that are due; then the queued jobs, oldest first."""
        from gongu.jobs.runner import now, schedule_due
        from gongu.pipeline.archiving import open_store

        catalog = open_store(self.settings, check=False)
        try:
            for row in store.reap_jobs(catalog, now=now(), stale_after_s=self.timing.stale_after_s):
                log.warning("任务 %s：%s 上的工作进程 %s 已 %g 秒无心跳，任务%s", row["id"], row["machine"], row["worker"],
                            self.timing.stale_after_s, "重新排队" if row["state"] == "queued" else f"标记为{row['state']}")
            if self.timing.periodic:
                schedule_due(catalog)
            return [Job.from_row(r) for r in reversed(store.jobs(catalog, states=("queued",), limit=10_000))]
        finally:
            catalog.close()


async def _sweep(app: procrastinate.App, worker: _Worker) -> None:
    from procrastinate import exceptions, jobs

    queued = await asyncio.to_thread(worker.sweep_catalog)
    stalled = await app.job_manager.get_stalled_jobs(
        task_name=RUN_TASK, seconds_since_heartbeat=worker.timing.stale_after_s / 2)
    for ticket in stalled:  # held by a worker that stopped beating: its job row is reaped above
        assert ticket.id is not None
        await app.job_manager.finish_job_by_id_async(ticket.id, status=jobs.Status.FAILED, delete_job=False)
        log.warning("已关闭失去心跳的工作进程持有的 procrastinate 任务票 %s", ticket.id)
    if not queued:
        return
    tickets = [*await app.job_manager.list_jobs_async(task=RUN_TASK, status="todo"),
               *await app.job_manager.list_jobs_async(task=RUN_TASK, status="doing")]
    known = {t.task_kwargs.get("job_id") for t in tickets}
    for job in queued:
        if job.id in known:
            continue
        try:
            await app.configure_task(RUN_TASK, queue=QUEUE, queueing_lock=queueing_lock(job)).defer_async(job_id=job.id)
            log.warning("巡检：任务 %s 已交给 procrastinate", job.id)
        except exceptions.AlreadyEnqueued:
            # an older ticket of the case waits: replaced by the same rule as defer()
            await asyncio.to_thread(_defer_sync, _defer_app(worker.settings.store.url or ""), job)


def build_app(worker: _Worker) -> procrastinate.App:
    import procrastinate

    url = worker.settings.store.url
    assert url is not None
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(url), min_size=1, max_size=4,
        kwargs={"options": "-c application_name=gongu-worker"})
    app = procrastinate.App(connector=connector)

    @app.task(name=RUN_TASK, queue=QUEUE, retry=False)
    def run_job(job_id: int) -> None:
        worker.run_job(job_id)

    # One sweep per tick across all workers (procrastinate records each periodic defer once); a high
    # priority, so a busy worker takes it before its next job; one waiting sweep at most.
    @app.periodic(cron=worker.timing.cron, periodic_id="sweep")
    @app.task(name=SWEEP_TASK, queue=HOUSE_QUEUE, retry=False, priority=100, queueing_lock="gongu:sweep")
    async def sweep(timestamp: int) -> None:
        await _sweep(app, worker)

    @app.periodic(cron="17 * * * *", periodic_id="cleanup")
    @app.task(name=CLEANUP_TASK, queue=HOUSE_QUEUE, retry=False, queueing_lock="gongu:cleanup")
    async def cleanup(timestamp: int) -> None:
        manager = app.job_manager
        await manager.delete_old_jobs(nb_hours=1, queue=HOUSE_QUEUE, include_failed=True)
        await manager.delete_old_jobs(nb_hours=TICKETS_KEPT_H, queue=QUEUE, include_failed=True,
                                      include_cancelled=True, include_aborted=True)

    return app


def _warm_up() -> None:
    """Load the renderer and the signer before the first job, so the first job is no slower than the rest."""
    import pyhanko.sign  # noqa: F401
    import weasyprint  # noqa: F401


def _run_process(settings: Settings, timing: Timing) -> None:
    """One worker process running one job at a time (rendering and sealing hold the GIL: jobs in
    parallel need processes, not threads)."""
    from gongu.jobs.runner import machine_name

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s gongu worker %(process)d: %(message)s")
    # procrastinate stops after the current job at the first SIGTERM and then puts back the handler it
    # found: make that "ignore", so a second SIGTERM (systemd signalling the whole group, then the
    # parent forwarding it) does not kill a job half-way. kill -9 still stops it (the sweep recovers).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _warm_up()
    worker = _Worker(settings=settings, name=f"{machine_name()}:{os.getpid()}", machine=machine_name(), timing=timing)
    app = build_app(worker)

    async def main() -> None:
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE, HOUSE_QUEUE], concurrency=1, name=worker.name,
                update_heartbeat_interval=timing.heartbeat_s,
                stalled_worker_timeout=timing.stale_after_s / 2,
                fetch_job_polling_interval=5.0)

    asyncio.run(main())


def _child(home: str, timing: Timing) -> None:
    from gongu.settings import load_settings

    os.setpgrp()  # Ctrl-C in a terminal reaches the parent only, which passes on one SIGTERM
    _die_with_parent()
    _run_process(load_settings(home), timing)


def _die_with_parent() -> None:
    """Linux: a child worker is told to stop (SIGTERM: after its current job) when `gongu worker` goes
    away, even by kill -9, so no orphan keeps taking jobs the operator believes stopped."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def prepare(settings: Settings) -> None:
    """The catalog first (created or migrated to the head revision), then procrastinate's tables beside
    it: the order the catalog's first migration needs (it takes only an empty database or its own)."""
    from gongu.pipeline.archiving import open_store

    assert settings.store.url is not None
    open_store(settings, check=False).close()
    ensure_schema(settings.store.url)


def run_worker(settings: Settings, concurrency: int = 1, *, stale_after_s: float = 120.0,
               periodic: bool = True) -> None:
    """`gongu worker` on a PostgreSQL home: create procrastinate's schema if missing, then run
    `concurrency` worker processes (this one, when 1) until SIGINT / SIGTERM; each stops after its
    current job."""
    from gongu.jobs.runner import HEARTBEAT_S
    from gongu.output import GonguError

    if stale_after_s < 2 * HEARTBEAT_S:
        raise GonguError(f"--stale-after {stale_after_s:g} 太短：运行中的任务每 {HEARTBEAT_S:g} 秒写一次心跳，"
                         f"须至少 {2 * HEARTBEAT_S:g} 秒，否则仍在运行的任务会被当作中断而重复执行")
    timing = Timing.of(stale_after_s, periodic=periodic)
    prepare(settings)
    if concurrency <= 1:
        _run_process(settings, timing)
        return
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_child, args=(str(settings.home), timing), name=f"gongu-worker-{i + 1}")
                for i in range(concurrency)]
    for child in children:
        child.start()

    def stop(signum: int, _frame: Any) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signal.SIGTERM)  # procrastinate stops after the current job

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()
