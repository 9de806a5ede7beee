"""The embedded runner: runs queued jobs on the machine it is started on, polling the catalog's jobs
table — `gongu worker` and the worker thread inside `gongu serve` on a SQLite home, and the body of
the procrastinate task on a PostgreSQL home (`run_one(..., job_id=…)`).

Why a runner over the catalog and not another engine on a single machine: nothing to install or keep
running besides Gongu itself, and the job state lives in the same table the pages and `gongu jobs` read
(docs/deployment.md). Each thread opens its own Catalog (a Catalog's write transaction belongs to the
thread that opened it); a heartbeat thread keeps a long step from looking like a dead worker.

This module never imports gongu.jobs.api (the API imports it, and the PostgreSQL worker imports both)."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import traceback
from datetime import datetime
from typing import Any

from archive import jobs as store
from archive.catalog import Catalog, CatalogError
from generator.types import SHANGHAI
from gongu.jobs.model import Job
from gongu.jobs.tasks import PERIODIC, TASKS, JobContext, TaskCancelled, TaskFailed
from gongu.output import GonguError
from gongu.settings import Settings

# A running job whose heartbeat is older than this is a dead worker's (reaped, then retried or failed).
STALE_AFTER_S = 120.0
HEARTBEAT_S = 15.0
# How often a worker looks for dead workers' jobs and for periodic jobs that are due.
HOUSEKEEPING_S = 30.0


def now() -> datetime:
    return datetime.now(SHANGHAI).replace(microsecond=0)


def machine_name() -> str:
    return socket.gethostname()


def _open(settings: Settings) -> Catalog:
    from gongu.pipeline.archiving import open_store

    return open_store(settings, check=False)


class _Heartbeat:
    """Beats for a running job from its own thread and catalog connection while a long step runs."""

    def __init__(self, settings: Settings, job_id: int, attempt: int, every_s: float = HEARTBEAT_S) -> None:
        self.settings, self.job_id, self.attempt, self.every_s = settings, job_id, attempt, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gongu-job-{job_id}-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        catalog: Catalog | None = None
        try:
            while not self._stop.wait(self.every_s):
                catalog = catalog or _open(self.settings)
                store.heartbeat(catalog, self.job_id, now(), attempt=self.attempt)
        except Exception as exc:  # a missed beat only risks a retry, which the tasks make safe
            print(f"gongu worker: 任务 {self.job_id} 心跳未能写入：{exc}", file=sys.stderr)
        finally:
            if catalog is not None:
                catalog.close()


def _reason(reasons: list[str]) -> str:
    if len(reasons) > 1 and reasons[0].endswith("："):
        return reasons[0] + "；".join(reasons[1:])
    return "；".join(reasons)


def execute(settings: Settings, catalog: Catalog, job: Job) -> Job:
    """Run a claimed job to its end and record the outcome: done with its result, failed with the
    reason, or cancelled between two steps."""
    task = TASKS.get(job.kind)
    if task is None:
        row = store.finish_job(catalog, job.id, {}, now(), state="failed",
                               error=f"未知的任务类型 {job.kind!r}：这一版本的 Gongu 不能执行，请升级工作进程")
        return Job.from_row(row) if row else job
    ctx = JobContext(settings, catalog, job,
                     report=lambda text, done, total: store.set_step(catalog, job.id, text, done, total, now(),
                                                                     attempt=job.attempts))
    state, result, error = "done", {}, None
    with _Heartbeat(settings, job.id, job.attempts):
        try:
            result = task(ctx, dict(job.params))
        except TaskCancelled as exc:
            state, error = "cancelled", f"已按要求在「{exc}」之前停止；此前完成的步骤保留（均为完整写入），可重试继续"
        except TaskFailed as exc:
            state, error, result = "failed", _reason(exc.reasons), exc.result
        except (GonguError, CatalogError) as exc:
            state, error = "failed", str(exc)
        except Exception as exc:  # a bug: recorded with its type, the traceback goes to the worker's log
            traceback.print_exc(file=sys.stderr)
            state, error = "failed", f"内部错误（{type(exc).__name__}：{exc}），详见工作进程日志；可重试"
    row = store.finish_job(catalog, job.id, result, now(), state=state, error=error, attempt=job.attempts)
    return Job.from_row(row) if row else job


def run_one(settings: Settings, catalog: Catalog, *, worker: str, machine: str, job_id: int | None = None,
            kinds: tuple[str, ...] | None = None) -> bool:
    """Claim one queued job (the oldest, or `job_id`) and run it; False when there was none."""
    row = store.claim_job(catalog, worker=worker, machine=machine, now=now(), kinds=kinds, job_id=job_id)
    if row is None:
        return False
    execute(settings, catalog, Job.from_row(row))
    return True


def schedule_due(catalog: Catalog, at: datetime | None = None) -> list[Job]:
    """Queue each periodic job whose last run is older than its period (never two at once)."""
    out = []
    for kind, (period_s, params) in PERIODIC.items():
        row = store.enqueue_if_due(catalog, kind, period_s=period_s, params=params, now=at or now())
        if row is not None:
            out.append(Job.from_row(row))
    return out


def housekeeping(catalog: Catalog, *, stale_after_s: float = STALE_AFTER_S, periodic: bool = True) -> None:
    store.reap_jobs(catalog, now=now(), stale_after_s=stale_after_s)
    if periodic:
        schedule_due(catalog)


def wait_for(catalog: Catalog, job_id: int, timeout_s: float, *, poll_s: float = 0.2) -> Job:
    """Poll until the job is done, failed or cancelled, or the timeout passes (the job as it is then)."""
    deadline = time.monotonic() + timeout_s
    while True:
        row = store.job(catalog, job_id)
        if row is None:
            raise GonguError(f"没有编号为 {job_id} 的任务")
        job = Job.from_row(row)
        if not job.active or time.monotonic() >= deadline:
            return job
        time.sleep(poll_s)


class EmbeddedWorker:
    """`concurrency` daemon threads polling the catalog for queued jobs. The first also reaps dead
    workers' jobs and queues periodic jobs when due (every HOUSEKEEPING_S)."""

    def __init__(self, settings: Settings, concurrency: int = 1, *, poll_s: float = 1.0,
                 stale_after_s: float = STALE_AFTER_S, periodic: bool = True, periodic_after_s: float = 0.0,
                 name: str | None = None) -> None:
        """`periodic_after_s`: queue no periodic job before this long after the start (the web server's own
        worker: a server just started answers its first pages before a whole-archive audit runs beside them)."""
        self.settings = settings
        self.periodic_after_s = periodic_after_s
        self.concurrency = max(1, concurrency)
        self.poll_s, self.stale_after_s, self.periodic = poll_s, stale_after_s, periodic
        self.name = name or f"pid{os.getpid()}"
        self.machine = machine_name()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []

    def start(self) -> EmbeddedWorker:
        for n in range(self.concurrency):
            t = threading.Thread(target=self._loop, args=(n,), name=f"gongu-worker-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the threads to stop after the job each is running, and wait for them."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=timeout_s)
        self._threads.clear()

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def _loop(self, n: int) -> None:
        catalog = _open(self.settings)
        worker = f"{self.name}-{n}"
        last_housekeeping = 0.0
        started = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    if n == 0 and time.monotonic() - last_housekeeping >= HOUSEKEEPING_S:
                        last_housekeeping = time.monotonic()
                        periodic = self.periodic and last_housekeeping - started >= self.periodic_after_s
                        housekeeping(catalog, stale_after_s=self.stale_after_s, periodic=periodic)
                    if run_one(self.settings, catalog, worker=worker, machine=self.machine):
                        continue
                except Exception as exc:  # the catalog away for a moment: keep polling, say so
                    self.errors.append(str(exc))
                    print(f"gongu worker {worker}: {exc}", file=sys.stderr)
                self._stop.wait(self.poll_s)
        finally:
            catalog.close()


def run_until_idle(settings: Settings, catalog: Catalog, *, worker: str | None = None,
                   stale_after_s: float = STALE_AFTER_S, periodic: bool = False) -> int:
    """`gongu worker --once`: reap, queue what is due (when `periodic`), then run queued jobs until none
    is left; the number run."""
    housekeeping(catalog, stale_after_s=stale_after_s, periodic=periodic)
    worker = worker or f"pid{os.getpid()}-once"
    count = 0
    while run_one(settings, catalog, worker=worker, machine=machine_name()):
        count += 1
    return count


__all__: list[Any] = ["EmbeddedWorker", "HEARTBEAT_S", "STALE_AFTER_S", "execute", "housekeeping", "run_one",
                      "run_until_idle", "schedule_due", "wait_for"]
