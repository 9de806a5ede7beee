"""The job API every caller uses (CLI, web pages, the demo): enqueue and read jobs, cancel and retry
them; and the runner's side (claim, step, finish, fail, reap). Callers never know which engine runs a
job: on a SQLite home the embedded runner (runner.py) polls the same table; on a PostgreSQL home
enqueue also hands the job to procrastinate (gongu/jobs/pg_worker.py), whose task runs
the same runner code for that job id.

`attempts` counts how many times a worker started the job (claim adds one); a retry queues it again
and its next start adds one more. Times are `datetime`s with an offset, stored in Beijing time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from archive import jobs as store
from archive.catalog import Catalog
from gongu.jobs.model import KIND_TITLES, STATE_TITLES, Job
from gongu.jobs.runner import STALE_AFTER_S, wait_for
from gongu.output import GonguError

__all__ = ["Job", "JobBusy", "JobError", "KIND_TITLES", "STATE_TITLES", "cancel", "claim", "enqueue", "fail", "finish",
           "get_job", "list_jobs", "reap", "retry", "step", "wait_for"]



class JobError(GonguError):
    """A job request that cannot be done (unknown job, wrong state): the reason in Chinese."""


class JobBusy(GonguError):
    """The case already has a queued or running job: `existing`."""

    def __init__(self, existing: Job) -> None:
        self.existing = existing
        super().__init__(f"案件 {existing.case_id} 已有{existing.state_title}的任务 {existing.id}"
                         f"（{existing.kind_title}，{existing.started_by} 于 {existing.created_at} 发起），"
                         f"请勿重复提交；查看：gongu jobs show {existing.id}")


def enqueue(catalog: Catalog, kind: str, params: dict[str, Any], *, by: str, person: str,
            case_id: str | None = None, now: datetime) -> Job:
    if kind not in KIND_TITLES:
        raise JobError(f"未知的任务类型：{kind!r}（可用：{'、'.join(KIND_TITLES)}）")
    try:
        job = Job.from_row(store.add_job(catalog, kind=kind, params=params, case_id=case_id, by=by, person=person,
                                         now=now))
    except store.CaseJobActive as exc:
        raise JobBusy(Job.from_row(exc.existing)) from None
    _hand_to_server_queue(catalog, job)
    return job


def _hand_to_server_queue(catalog: Catalog, job: Job) -> None:
    """PostgreSQL home: procrastinate runs the job on any worker machine (gongu/jobs/pg_worker.py, which
    must not import this module). A hand-over that fails now loses nothing: the workers' sweep hands
    every queued row procrastinate does not know to it again."""
    if catalog.server is None:
        return
    from gongu.jobs import pg_worker

    pg_worker.defer(catalog, job)


def get_job(catalog: Catalog, job_id: int) -> Job | None:
    row = store.job(catalog, job_id)
    return Job.from_row(row) if row is not None else None


def list_jobs(catalog: Catalog, *, started_by: str | None = None, kind: str | None = None,
              states: tuple[str, ...] | None = None, case_id: str | None = None, limit: int = 100) -> list[Job]:
    """Newest first; `started_by` narrows to one account's jobs (what a non-admin sees)."""
    return [Job.from_row(r) for r in store.jobs(catalog, started_by=started_by, kind=kind, states=states,
                                                 case_id=case_id, limit=limit)]


def cancel(catalog: Catalog, job_id: int, *, by: str, now: datetime) -> Job:
    try:
        return Job.from_row(store.cancel_job(catalog, job_id, by=by, now=now))
    except store.JobStateError as exc:
        raise JobError(str(exc)) from None


def retry(catalog: Catalog, job_id: int, *, by: str, now: datetime) -> Job:
    try:
        job = Job.from_row(store.retry_job(catalog, job_id, by=by, now=now))
    except store.JobStateError as exc:
        raise JobError(str(exc)) from None
    except store.CaseJobActive as exc:
        raise JobBusy(Job.from_row(exc.existing)) from None
    _hand_to_server_queue(catalog, job)
    return job


# ───────────────────────────── the runner's side ─────────────────────────────

def claim(catalog: Catalog, *, worker: str, machine: str, now: datetime,
          kinds: tuple[str, ...] | None = None, job_id: int | None = None) -> Job | None:
    """The oldest queued job (or `job_id` while it is queued: a procrastinate task's own job), now running."""
    row = store.claim_job(catalog, worker=worker, machine=machine, now=now, kinds=kinds, job_id=job_id)
    return Job.from_row(row) if row is not None else None


def step(catalog: Catalog, job_id: int, text: str, done: int, total: int, now: datetime) -> bool:
    """The current step and progress (and the heartbeat); False when the task should stop (cancel
    requested, or the job is no longer running under this worker)."""
    return store.set_step(catalog, job_id, text, done, total, now)


def finish(catalog: Catalog, job_id: int, result: dict[str, Any], now: datetime) -> Job | None:
    row = store.finish_job(catalog, job_id, result, now)
    return Job.from_row(row) if row is not None else None


def fail(catalog: Catalog, job_id: int, reason: str, now: datetime, *,
         result: dict[str, Any] | None = None) -> Job | None:
    row = store.finish_job(catalog, job_id, result or {}, now, state="failed", error=reason)
    return Job.from_row(row) if row is not None else None


def cancelled(catalog: Catalog, job_id: int, now: datetime, *, reason: str) -> Job | None:
    """A running job that stopped at a cancel request: 已取消 with what was (not) done."""
    row = store.finish_job(catalog, job_id, {}, now, state="cancelled", error=reason)
    return Job.from_row(row) if row is not None else None


def reap(catalog: Catalog, *, now: datetime, stale_after_s: float = STALE_AFTER_S,
         max_attempts: int = store.MAX_ATTEMPTS) -> list[Job]:
    return [Job.from_row(r) for r in store.reap_jobs(catalog, now=now, stale_after_s=stale_after_s,
                                                     max_attempts=max_attempts)]
