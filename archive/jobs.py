"""Background jobs (catalog revision 0009): one row per long action — issue, ingest, index rebuild or
sync, the 四性 audit, ledger export, batch render, the daily deadline scan — with its state, current
step, progress, who started it, where it ran and its result or the reason it failed.

The table is the queue: a worker claims the oldest queued row atomically, writes its step (which is
also the heartbeat) while it runs, and finishes or fails it. A worker that died (kill -9, power loss)
leaves a running row whose heartbeat stops; `reap` puts it back in the queue, or fails it with the
reason after the last attempt. One active job per case: a unique partial index on case_id over
queued/running rows, so two clicks never start two issues of one case.

Both stores: on SQLite every change runs in the catalog's write transaction (BEGIN IMMEDIATE orders
the claimers); on PostgreSQL job rows change in their own short transactions with row locks
(SELECT … FOR UPDATE SKIP LOCKED), never waiting for the catalog's global write lock, which an ingest
may hold for a while. Rows are returned as plain dicts (params and result decoded);
gongu/jobs/model.py turns them into `Job`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Index, Integer, Table, Text, insert, select, text, update
from sqlalchemy import exc as sa_exc

from archive.catalog import Catalog, metadata
from generator.types import SHANGHAI

STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
# A job whose worker died is started again at most this many times in all (claims), then failed.
MAX_ATTEMPTS = 3
# PostgreSQL: the periodic scheduler's own transaction-level lock (never the catalog's write lock).
_SCHEDULE_LOCK_KEY = int.from_bytes(hashlib.sha256(b"gongu-jobs-schedule").digest()[:8], "big", signed=True)

jobs_table = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("case_id", Text),
    Column("params", Text, nullable=False),  # JSON object
    Column("state", Text, nullable=False),
    Column("step", Text, nullable=False, server_default=""),  # the current step, in Chinese
    Column("done", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("started_by", Text, nullable=False),  # the account's username (or "system" for periodic jobs)
    Column("started_by_person", Text, nullable=False),
    Column("created_at", Text, nullable=False),  # ISO 8601, Beijing time
    Column("started_at", Text),
    Column("finished_at", Text),
    Column("heartbeat_at", Text),
    Column("machine", Text),  # host name of the worker that ran it last
    Column("worker", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),  # how many times a worker started it
    Column("result", Text),  # JSON object
    Column("error", Text),  # the reason, in Chinese, a person can act on
    Column("cancel_requested", Text),  # who asked to cancel a running job (the task checks between steps)
    Index("jobs_state", "state", "id"),
    Index("jobs_kind", "kind", "id"),
    Index("jobs_started_by", "started_by", "id"),
    Index("jobs_one_per_case", "case_id", unique=True,
          sqlite_where=text("state IN ('queued', 'running')"),
          postgresql_where=text("state IN ('queued', 'running')")),
)


class CaseJobActive(Exception):
    """The case already has a queued or running job (`existing`, its row)."""

    def __init__(self, existing: dict[str, Any]) -> None:
        self.existing = existing
        super().__init__(f"job {existing['id']} of case {existing['case_id']} is {existing['state']}")


class JobStateError(Exception):
    """The job is not in a state that allows the change (`reason`, in Chinese)."""


def stamp(now: datetime) -> str:
    """Times are written in Beijing time (ARCHITECTURE: dates are Beijing dates)."""
    return now.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _decode(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["params"] = json.loads(out["params"] or "{}")
    out["result"] = json.loads(out["result"]) if out["result"] else None
    return out


@contextmanager
def _tx(catalog: Catalog) -> Iterator[Connection]:
    """One short transaction for job rows: the catalog's write transaction on SQLite (joined if one is
    open), a plain transaction on PostgreSQL (row locks do the ordering)."""
    if catalog.in_transaction or catalog.server is None:
        with catalog.write():
            yield catalog._writing()
        return
    with catalog.engine.begin() as conn:
        yield conn


def _get(conn: Connection, job_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    stmt = select(jobs_table).where(jobs_table.c.id == job_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return _decode(row) if row is not None else None


def _active_of_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(jobs_table).where(jobs_table.c.case_id == case_id,
                                                jobs_table.c.state.in_(ACTIVE))).mappings().first()
    return _decode(row) if row is not None else None


# ───────────────────────────── callers' side ─────────────────────────────

def add_job(catalog: Catalog, *, kind: str, params: dict[str, Any], case_id: str | None, by: str, person: str,
            now: datetime) -> dict[str, Any]:
    """Queue a job; CaseJobActive when the case already has one queued or running."""
    values = dict(kind=kind, case_id=case_id, params=json.dumps(params, ensure_ascii=False, sort_keys=True),
                  state="queued", step="排队等待", done=0, total=0, started_by=by, started_by_person=person,
                  created_at=stamp(now), attempts=0)
    try:
        with _tx(catalog) as conn:
            if case_id is not None and (existing := _active_of_case(conn, case_id)) is not None:
                raise CaseJobActive(existing)
            job_id = int(conn.execute(insert(jobs_table).values(**values)).inserted_primary_key[0])
            row = _get(conn, job_id)
    except sa_exc.IntegrityError:
        # PostgreSQL: another process queued a job of this case between our check and our insert.
        assert case_id is not None
        with _tx(catalog) as conn:
            existing = _active_of_case(conn, case_id)
        if existing is None:
            raise
        raise CaseJobActive(existing) from None
    assert row is not None
    return row


def job(catalog: Catalog, job_id: int) -> dict[str, Any] | None:
    row = catalog._one(select(jobs_table).where(jobs_table.c.id == job_id))
    return _decode(row) if row is not None else None


def jobs(catalog: Catalog, *, started_by: str | None = None, kind: str | None = None,
         states: tuple[str, ...] | None = None, case_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first."""
    t = jobs_table
    stmt = select(t)
    if started_by is not None:
        stmt = stmt.where(t.c.started_by == started_by)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    if states is not None:
        stmt = stmt.where(t.c.state.in_(states))
    if case_id is not None:
        stmt = stmt.where(t.c.case_id == case_id)
    return [_decode(r) for r in catalog._rows(stmt.order_by(t.c.id.desc()).limit(limit))]


def cancel_job(catalog: Catalog, job_id: int, *, by: str, now: datetime) -> dict[str, Any]:
    """queued → cancelled at once; running → cancel requested (the task stops at its next step)."""
    with _tx(catalog) as conn:
        row = _get(conn, job_id, lock=True)
        if row is None:
            raise JobStateError(f"没有编号为 {job_id} 的任务")
        if row["state"] == "queued":
            conn.execute(update(jobs_table).where(jobs_table.c.id == job_id, jobs_table.c.state == "queued").values(
                state="cancelled", step="已取消", finished_at=stamp(now), cancel_requested=by,
                error=f"由 {by} 在开始前取消"))
        elif row["state"] == "running":
            conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(cancel_requested=by))
        else:
            raise JobStateError(f"任务 {job_id} 的状态为 {row['state']}，只有排队中或进行中的任务可以取消")
        out = _get(conn, job_id)
    assert out is not None
    return out


def retry_job(catalog: Catalog, job_id: int, *, by: str, now: datetime) -> dict[str, Any]:
    """failed / cancelled → queued again (the task is idempotent, so a retry finishes what was begun);
    CaseJobActive when the case meanwhile has another active job."""
    with _tx(catalog) as conn:
        row = _get(conn, job_id, lock=True)
        if row is None:
            raise JobStateError(f"没有编号为 {job_id} 的任务")
        if row["state"] not in ("failed", "cancelled"):
            raise JobStateError(f"任务 {job_id} 的状态为 {row['state']}，只有失败或已取消的任务可以重试")
        if row["case_id"] is not None and (existing := _active_of_case(conn, row["case_id"])) is not None:
            raise CaseJobActive(existing)
        conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(
            state="queued", step=f"排队等待（{by} 于 {stamp(now)} 要求重试）", error=None, finished_at=None,
            cancel_requested=None, done=0, total=0))
        out = _get(conn, job_id)
    assert out is not None
    return out


# ───────────────────────────── workers' side ─────────────────────────────

def claim_job(catalog: Catalog, *, worker: str, machine: str, now: datetime,
              kinds: tuple[str, ...] | None = None, job_id: int | None = None) -> dict[str, Any] | None:
    """Take the oldest queued job (or the job `job_id`, when it is still queued), atomically: two workers
    never get the same row."""
    t = jobs_table
    at = stamp(now)
    running = dict(state="running", step="开始", started_at=at, heartbeat_at=at, worker=worker, machine=machine,
                   attempts=t.c.attempts + 1, finished_at=None, error=None)
    oldest = select(t.c.id).where(t.c.state == "queued")
    if kinds is not None:
        oldest = oldest.where(t.c.kind.in_(kinds))
    if job_id is not None:
        oldest = oldest.where(t.c.id == job_id)
    oldest = oldest.order_by(t.c.id).limit(1)
    with _tx(catalog) as conn:
        if conn.dialect.name == "postgresql":
            found = conn.execute(oldest.with_for_update(skip_locked=True)).scalar()
            if found is None:
                return None
            conn.execute(update(t).where(t.c.id == found).values(**running))
        else:
            # SQLite: the write transaction (BEGIN IMMEDIATE) holds the only write lock; the state
            # condition repeated in the UPDATE keeps the statement right on its own.
            found = conn.execute(oldest).scalar()
            if found is None:
                return None
            done = conn.execute(update(t).where(t.c.id == oldest.scalar_subquery(), t.c.state == "queued")
                                .values(**running))
            if done.rowcount != 1:
                return None
        return _get(conn, int(found))


def _running(job_id: int, attempt: int | None) -> list[Any]:
    """The WHERE of a write by the worker running the job. `attempt` (the job's attempts when it was
    claimed) fences a worker that was taken for dead and reaped: once another start has claimed the job,
    the old worker's steps and outcome no longer land."""
    t = jobs_table
    conds = [t.c.id == job_id, t.c.state == "running"]
    return conds if attempt is None else [*conds, t.c.attempts == attempt]


def set_step(catalog: Catalog, job_id: int, text_: str, done: int, total: int, now: datetime, *,
             attempt: int | None = None) -> bool:
    """Record the current step and progress (also the heartbeat). False when the job is no longer
    running under this worker's claim (reaped or cancelled meanwhile), or a cancel was requested."""
    t = jobs_table
    with _tx(catalog) as conn:
        changed = conn.execute(update(t).where(*_running(job_id, attempt)).values(
            step=text_, done=done, total=total, heartbeat_at=stamp(now))).rowcount
        row = conn.execute(select(t.c.cancel_requested).where(t.c.id == job_id)).first()
    return changed == 1 and row is not None and row[0] is None


def heartbeat(catalog: Catalog, job_id: int, now: datetime, *, attempt: int | None = None) -> None:
    t = jobs_table
    with _tx(catalog) as conn:
        conn.execute(update(t).where(*_running(job_id, attempt)).values(heartbeat_at=stamp(now)))


def finish_job(catalog: Catalog, job_id: int, result: dict[str, Any], now: datetime, *,
               state: str = "done", error: str | None = None, attempt: int | None = None) -> dict[str, Any] | None:
    """running → done (or cancelled / failed with the reason); a job no longer running (or, with `attempt`,
    no longer running under that start) is left alone."""
    t = jobs_table
    assert state in ("done", "failed", "cancelled")
    step = {"done": "完成", "failed": "失败", "cancelled": "已取消"}[state]
    with _tx(catalog) as conn:
        conn.execute(update(t).where(*_running(job_id, attempt)).values(
            state=state, step=step, result=json.dumps(result, ensure_ascii=False, sort_keys=True),
            error=error, finished_at=stamp(now), heartbeat_at=stamp(now)))
        return _get(conn, job_id)


def reap_jobs(catalog: Catalog, *, now: datetime, stale_after_s: float,
              max_attempts: int = MAX_ATTEMPTS) -> list[dict[str, Any]]:
    """Running jobs whose heartbeat is older than `stale_after_s` (their worker died): queued again, or
    failed with the reason once they were started `max_attempts` times. Returns the rows changed."""
    t = jobs_table
    changed: list[dict[str, Any]] = []
    with _tx(catalog) as conn:
        stmt = select(t).where(t.c.state == "running")
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for raw in conn.execute(stmt).mappings().all():
            beat = datetime.fromisoformat(raw["heartbeat_at"] or raw["started_at"])
            if (now - beat).total_seconds() < stale_after_s:
                continue
            where = f"{raw['machine'] or '?'} 上的工作进程 {raw['worker'] or '?'}"
            if raw["cancel_requested"] is not None:
                values = dict(state="cancelled", step="已取消", finished_at=stamp(now),
                              error=f"{where} 在「{raw['step']}」时中断；{raw['cancel_requested']} 已要求取消，不再重试")
            elif raw["attempts"] >= max_attempts:
                values = dict(state="failed", step="失败", finished_at=stamp(now),
                              error=f"{where} 在「{raw['step']}」时中断（{raw['heartbeat_at']} 后再无进度），"
                                    f"已尝试 {raw['attempts']} 次仍未完成；已写入的结果均完整（出具与归档为原子操作），"
                                    "检查工作进程日志后可重试")
            else:
                values = dict(state="queued", step=f"排队等待（{where} 在「{raw['step']}」时中断，自动重试）")
            conn.execute(update(t).where(t.c.id == raw["id"], t.c.state == "running").values(**values))
            row = _get(conn, raw["id"])
            assert row is not None
            changed.append(row)
    return changed


def enqueue_if_due(catalog: Catalog, kind: str, *, period_s: float, params: dict[str, Any], now: datetime,
                   by: str = "system", person: str = "系统（定时任务）") -> dict[str, Any] | None:
    """A periodic job: queued when no job of `kind` is queued or running and the last one was created
    more than `period_s` ago (or there was none). The check and the insert share one serialised
    transaction, so two workers never queue it twice."""
    t = jobs_table
    with _tx(catalog) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEDULE_LOCK_KEY})
        active = conn.execute(select(t.c.id).where(t.c.kind == kind, t.c.state.in_(ACTIVE)).limit(1)).first()
        if active is not None:
            return None
        last = conn.execute(select(t.c.created_at).where(t.c.kind == kind).order_by(t.c.id.desc()).limit(1)).scalar()
        if last is not None and (now - datetime.fromisoformat(last)).total_seconds() < period_s:
            return None
        job_id = int(conn.execute(insert(t).values(
            kind=kind, case_id=None, params=json.dumps(params, ensure_ascii=False, sort_keys=True), state="queued",
            step="排队等待（定时任务）", done=0, total=0, started_by=by, started_by_person=person,
            created_at=stamp(now), attempts=0)).inserted_primary_key[0])
        return _get(conn, job_id)
