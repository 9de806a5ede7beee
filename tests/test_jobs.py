"""The job store and API (archive/jobs.py, gongu/jobs/api.py, gongu/jobs/runner.py) on both catalogs: the
embedded SQLite file and a PostgreSQL server (tests/pgkit.py). Real catalogs, real threads; times are
given, never read from the clock, so every expected value below is worked out from them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from archive.catalog import Catalog, ServerStore
from archive.jobs import enqueue_if_due, jobs_table
from gongu.jobs import api
from gongu.jobs.model import Job
from gongu.jobs.runner import now
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)

T0 = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)  # 09:00 Beijing time


@pytest.fixture()
def location(tmp_path: Path, store_kind: str, request: pytest.FixtureRequest) -> Path | ServerStore:  # noqa: F811
    if store_kind == "postgresql":
        return ServerStore(request.getfixturevalue("pg_cluster").create_database(), files_dir=tmp_path)
    return tmp_path / "catalog.sqlite"


@pytest.fixture()
def catalog(location: Path | ServerStore) -> Iterator[Catalog]:
    cat = Catalog(location)
    yield cat
    cat.close()


def _queue(catalog: Catalog, case_id: str | None = None, *, kind: str = "issue", by: str = "liu",
           at: datetime = T0) -> Job:
    return api.enqueue(catalog, kind, {"case_id": case_id}, by=by, person="刘建国", case_id=case_id, now=at)


def test_a_queued_job_carries_who_when_and_beijing_time(catalog: Catalog) -> None:
    job = _queue(catalog, "SA-1")
    assert (job.kind, job.case_id, job.state, job.attempts, job.started_by, job.started_by_person) == (
        "issue", "SA-1", "queued", 0, "liu", "刘建国")
    assert job.created_at == "2026-03-02T09:00:00+08:00"  # 01:00 UTC is 09:00 in Beijing
    assert (job.state_title, job.params, job.result) == ("排队中", {"case_id": "SA-1"}, None)
    assert api.get_job(catalog, job.id) == job
    assert api.get_job(catalog, job.id + 1) is None


def test_one_active_job_per_case(catalog: Catalog) -> None:
    first = _queue(catalog, "SA-1")
    with pytest.raises(api.JobBusy) as info:
        _queue(catalog, "SA-1", by="ma")
    assert info.value.existing.id == first.id
    assert str(info.value) == (f"案件 SA-1 已有排队中的任务 {first.id}（出具报告（渲染、签章、记录、归档），liu 于 "
                               f"2026-03-02T09:00:00+08:00 发起），请勿重复提交；查看：gongu jobs show {first.id}")
    other = _queue(catalog, "SA-2")  # another case is free
    free = [_queue(catalog, None, kind="index_sync"), _queue(catalog, None, kind="index_sync")]  # no case: no lock
    assert [j.id for j in free] == [other.id + 1, other.id + 2]
    # a finished job frees its case
    claimed = api.claim(catalog, worker="w", machine="m", now=T0)
    assert claimed is not None and claimed.id == first.id
    api.finish(catalog, first.id, {"number": "N-1"}, T0)
    assert _queue(catalog, "SA-1").state == "queued"


def test_an_unknown_kind_is_refused(catalog: Catalog) -> None:
    with pytest.raises(api.JobError, match="未知的任务类型：'print'"):
        api.enqueue(catalog, "print", {}, by="liu", person="刘建国", now=T0)


def test_claims_take_the_oldest_queued_job_once(catalog: Catalog) -> None:
    a, b = _queue(catalog, "A"), _queue(catalog, "B")
    later = T0 + timedelta(seconds=5)
    first = api.claim(catalog, worker="w1", machine="host1", now=later)
    second = api.claim(catalog, worker="w2", machine="host2", now=later)
    assert first is not None and second is not None
    assert (first.id, first.state, first.attempts, first.worker, first.machine) == (a.id, "running", 1, "w1", "host1")
    assert (first.started_at, first.heartbeat_at) == ("2026-03-02T09:00:05+08:00", "2026-03-02T09:00:05+08:00")
    assert second.id == b.id
    assert api.claim(catalog, worker="w3", machine="host3", now=later) is None


def test_a_named_job_is_claimed_only_while_queued(catalog: Catalog) -> None:
    a, b = _queue(catalog, "A"), _queue(catalog, "B")
    got = api.claim(catalog, worker="w", machine="m", now=T0, job_id=b.id)
    assert got is not None and got.id == b.id
    assert api.claim(catalog, worker="w", machine="m", now=T0, job_id=b.id) is None  # running now
    assert api.get_job(catalog, a.id).state == "queued"  # type: ignore[union-attr]


def test_steps_progress_and_the_result(catalog: Catalog) -> None:
    job = _queue(catalog, "A")
    api.claim(catalog, worker="w", machine="m", now=T0)
    assert api.step(catalog, job.id, "渲染", 1, 4, T0 + timedelta(seconds=3)) is True
    seen = api.get_job(catalog, job.id)
    assert seen is not None and (seen.step, seen.done, seen.total, seen.heartbeat_at) == (
        "渲染", 1, 4, "2026-03-02T09:00:03+08:00")
    done = api.finish(catalog, job.id, {"number": "SA-GC-1", "files": ["a.pdf"]}, T0 + timedelta(seconds=9))
    assert done is not None
    assert (done.state, done.state_title, done.result, done.finished_at, done.error) == (
        "done", "已完成", {"number": "SA-GC-1", "files": ["a.pdf"]}, "2026-03-02T09:00:09+08:00", None)
    assert api.step(catalog, job.id, "迟到的步骤", 2, 4, T0) is False  # no longer running: nothing written
    assert api.get_job(catalog, job.id).step == "完成"  # type: ignore[union-attr]


def test_cancel_queued_at_once_and_running_at_the_next_step(catalog: Catalog) -> None:
    queued, running = _queue(catalog, "A"), _queue(catalog, "B")
    api.claim(catalog, worker="w", machine="m", now=T0, job_id=running.id)
    gone = api.cancel(catalog, queued.id, by="ma", now=T0)
    assert (gone.state, gone.error, gone.finished_at) == ("cancelled", "由 ma 在开始前取消", "2026-03-02T09:00:00+08:00")
    asked = api.cancel(catalog, running.id, by="ma", now=T0)
    assert (asked.state, asked.cancel_requested) == ("running", "ma")
    assert api.step(catalog, running.id, "签章并记录", 2, 4, T0) is False  # the task stops here
    with pytest.raises(api.JobError, match=f"任务 {queued.id} 的状态为 cancelled，只有排队中或进行中的任务可以取消"):
        api.cancel(catalog, queued.id, by="ma", now=T0)
    with pytest.raises(api.JobError, match="没有编号为 999 的任务"):
        api.cancel(catalog, 999, by="ma", now=T0)


def test_retry_queues_a_failed_job_again_unless_the_case_is_busy(catalog: Catalog) -> None:
    job = _queue(catalog, "A")
    api.claim(catalog, worker="w", machine="m", now=T0)
    failed = api.fail(catalog, job.id, "签章失败：缺少密钥", T0)
    assert failed is not None and (failed.state, failed.error) == ("failed", "签章失败：缺少密钥")
    with pytest.raises(api.JobError, match="只有失败或已取消的任务可以重试"):
        api.retry(catalog, _queue(catalog, "B").id, by="liu", now=T0)
    again = api.retry(catalog, job.id, by="liu", now=T0 + timedelta(minutes=1))
    assert (again.state, again.error, again.finished_at, again.attempts) == ("queued", None, None, 1)
    assert again.step == "排队等待（liu 于 2026-03-02T09:01:00+08:00 要求重试）"
    rerun = api.claim(catalog, worker="w", machine="m", now=T0, job_id=job.id)
    assert rerun is not None and rerun.attempts == 2  # the second start
    api.fail(catalog, job.id, "again", T0)
    _queue(catalog, "A")  # meanwhile someone started a new job of the case
    with pytest.raises(api.JobBusy):
        api.retry(catalog, job.id, by="liu", now=T0)


def test_reap_requeues_a_dead_workers_job_then_fails_it_after_the_last_attempt(catalog: Catalog) -> None:
    job = _queue(catalog, "A")
    api.claim(catalog, worker="w1", machine="host1", now=T0)
    api.step(catalog, job.id, "渲染", 1, 4, T0)
    assert api.reap(catalog, now=T0 + timedelta(seconds=119), stale_after_s=120) == []  # still beating
    [requeued] = api.reap(catalog, now=T0 + timedelta(seconds=120), stale_after_s=120)
    assert (requeued.id, requeued.state, requeued.attempts) == (job.id, "queued", 1)
    assert requeued.step == "排队等待（host1 上的工作进程 w1 在「渲染」时中断，自动重试）"
    for n in (2, 3):  # started twice more, each time dying at 签章并记录
        again = api.claim(catalog, worker=f"w{n}", machine="host1", now=T0)
        assert again is not None and again.attempts == n
        api.step(catalog, job.id, "签章并记录", 2, 4, T0)
        [reaped] = api.reap(catalog, now=T0 + timedelta(seconds=300), stale_after_s=120)
    assert reaped.state == "failed" and reaped.finished_at == "2026-03-02T09:05:00+08:00"
    assert reaped.error is not None and reaped.error.startswith(
        "host1 上的工作进程 w3 在「签章并记录」时中断（2026-03-02T09:00:00+08:00 后再无进度），已尝试 3 次仍未完成")
    # the case is free again: a person may retry (once more) or start anew
    assert api.retry(catalog, job.id, by="liu", now=T0).state == "queued"


def test_a_reaped_worker_that_wakes_up_writes_nothing_over_the_next_start(catalog: Catalog) -> None:
    from archive import jobs as store

    job = _queue(catalog, "A")
    first = api.claim(catalog, worker="w1", machine="host1", now=T0)
    assert first is not None and first.attempts == 1
    api.reap(catalog, now=T0 + timedelta(seconds=120), stale_after_s=120)  # w1 taken for dead
    second = api.claim(catalog, worker="w2", machine="host2", now=T0 + timedelta(seconds=121))
    assert second is not None and second.attempts == 2
    # w1 was only cut off: its step, beat and outcome are fenced by its start (attempt 1)
    assert store.set_step(catalog, job.id, "签章并记录", 2, 4, T0, attempt=1) is False
    store.finish_job(catalog, job.id, {"number": "from w1"}, T0 + timedelta(seconds=130), attempt=1)
    now_ = api.get_job(catalog, job.id)
    assert now_ is not None and (now_.state, now_.worker, now_.result) == ("running", "w2", None)
    assert store.set_step(catalog, job.id, "渲染", 1, 4, T0, attempt=2) is True
    store.finish_job(catalog, job.id, {"number": "from w2"}, T0 + timedelta(seconds=140), attempt=2)
    done = api.get_job(catalog, job.id)
    assert done is not None and (done.state, done.result) == ("done", {"number": "from w2"})


def test_a_dead_job_with_a_cancel_request_is_cancelled_not_retried(catalog: Catalog) -> None:
    job = _queue(catalog, "A")
    api.claim(catalog, worker="w", machine="m", now=T0)
    api.cancel(catalog, job.id, by="ma", now=T0)
    [reaped] = api.reap(catalog, now=T0 + timedelta(hours=1), stale_after_s=120)
    assert reaped.state == "cancelled" and "ma 已要求取消" in (reaped.error or "")


def test_list_newest_first_and_by_account(catalog: Catalog) -> None:
    a = _queue(catalog, "A", by="liu")
    b = _queue(catalog, "B", by="ma")
    c = _queue(catalog, "C", by="liu")
    assert [j.id for j in api.list_jobs(catalog)] == [c.id, b.id, a.id]
    assert [j.id for j in api.list_jobs(catalog, started_by="liu")] == [c.id, a.id]
    assert [j.id for j in api.list_jobs(catalog, limit=1)] == [c.id]
    assert [j.id for j in api.list_jobs(catalog, case_id="B")] == [b.id]


def test_a_periodic_job_is_queued_once_per_period(catalog: Catalog) -> None:
    first = enqueue_if_due(catalog, "index_sync", period_s=3600, params={}, now=T0)
    assert first is not None and (first["started_by"], first["state"]) == ("system", "queued")
    assert enqueue_if_due(catalog, "index_sync", period_s=3600, params={}, now=T0 + timedelta(hours=5)) is None  # queued
    api.claim(catalog, worker="w", machine="m", now=T0)
    api.finish(catalog, first["id"], {}, T0)
    assert enqueue_if_due(catalog, "index_sync", period_s=3600, params={}, now=T0 + timedelta(seconds=3599)) is None
    second = enqueue_if_due(catalog, "index_sync", period_s=3600, params={}, now=T0 + timedelta(seconds=3600))
    assert second is not None and second["created_at"] == "2026-03-02T10:00:00+08:00"
    # another kind has its own period
    assert enqueue_if_due(catalog, "audit", period_s=7 * 86400, params={}, now=T0) is not None


def test_racing_schedulers_queue_a_periodic_job_once(location: Path | ServerStore) -> None:
    made: list[object] = []
    barrier = threading.Barrier(4)

    def schedule() -> None:
        cat = Catalog(location)
        try:
            barrier.wait()
            made.append(enqueue_if_due(cat, "deadline_scan", period_s=86400, params={}, now=T0))
        finally:
            cat.close()

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for m in made if m is not None) == 1


def test_racing_workers_claim_every_job_exactly_once(location: Path | ServerStore) -> None:
    setup = Catalog(location)
    ids = [_queue(setup, f"C-{n}").id for n in range(20)]
    setup.close()
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def work(name: str) -> None:
        cat = Catalog(location)
        mine: list[int] = []
        try:
            barrier.wait()
            while (job := api.claim(cat, worker=name, machine="m", now=T0)) is not None:
                mine.append(job.id)
                api.finish(cat, job.id, {}, T0)
        finally:
            cat.close()
            claimed[name] = mine

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for mine in claimed.values() for i in mine]
    assert sorted(every) == ids  # each of the 20 once, none twice, none left


def test_postgresql_claim_skips_a_row_another_worker_has_locked(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """FOR UPDATE SKIP LOCKED: a worker mid-claim on the oldest row does not hold up a second worker,
    which takes the next row instead of waiting (or taking the same one)."""
    url = request.getfixturevalue("pg_cluster").create_database()
    catalog = Catalog(ServerStore(url, files_dir=tmp_path))
    try:
        a, b = _queue(catalog, "A"), _queue(catalog, "B")
        with catalog.engine.connect() as other:
            tx = other.begin()
            locked = other.execute(select(jobs_table.c.id).where(jobs_table.c.id == a.id).with_for_update()).scalar()
            assert locked == a.id
            other.execute(text("SET LOCAL statement_timeout = '5s'"))
            got = api.claim(catalog, worker="w2", machine="m", now=T0)
            assert got is not None and got.id == b.id
            tx.rollback()
        assert api.get_job(catalog, a.id).state == "queued"  # type: ignore[union-attr]
    finally:
        catalog.close()


# ───────────────────────────── the runner (SQLite home) ─────────────────────────────

@pytest.fixture()
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    (h / "gongu.toml").write_text("", encoding="utf-8")
    return h


def test_a_cancel_request_stops_the_task_at_its_next_step(home: Path) -> None:
    from gongu.jobs.runner import execute
    from gongu.settings import load_settings

    settings = load_settings(home)
    catalog = Catalog(home / "archive" / "catalog.sqlite")
    try:
        job = _queue(catalog, None, kind="index_sync")
        running = api.claim(catalog, worker="w", machine="m", now=T0)
        assert running is not None
        api.cancel(catalog, job.id, by="ma", now=T0)
        ended = execute(settings, catalog, running)
        assert (ended.state, ended.error) == (
            "cancelled", "已按要求在「核对检索索引与目录」之前停止；此前完成的步骤保留（均为完整写入），可重试继续")
    finally:
        catalog.close()


def test_a_failing_task_records_the_reason_a_person_can_act_on(home: Path) -> None:
    from gongu.jobs.runner import run_one
    from gongu.settings import load_settings

    settings = load_settings(home)
    catalog = Catalog(home / "archive" / "catalog.sqlite")
    try:
        job = _queue(catalog, None, kind="index_rebuild")
        assert run_one(settings, catalog, worker="w", machine="m") is True
        failed = api.get_job(catalog, job.id)
        root = home / "archive" / "packages"
        assert failed is not None and failed.state == "failed"
        assert failed.error == f"档案根目录 {root} 不存在：共享目录似乎未挂载，或 [archive] root 指向了错误的路径"
        assert run_one(settings, catalog, worker="w", machine="m") is False  # nothing left
    finally:
        catalog.close()


def test_the_embedded_worker_runs_a_queued_job_and_queues_the_periodic_ones(home: Path) -> None:
    from gongu.jobs.runner import EmbeddedWorker, wait_for
    from gongu.settings import load_settings

    catalog = Catalog(home / "archive" / "catalog.sqlite")
    job = _queue(catalog, None, kind="index_sync", at=now())  # just queued: the hourly sync is not due
    worker = EmbeddedWorker(load_settings(home), concurrency=2, poll_s=0.1).start()
    try:
        done = wait_for(catalog, job.id, timeout_s=60)
        assert (done.state, done.machine is not None, done.attempts) == ("done", True, 1)
        assert done.result == {"note": "档案库尚未建立（gongu archive init），无需同步"}
        deadline = time.monotonic() + 30
        while len(api.list_jobs(catalog)) < 3 and time.monotonic() < deadline:  # housekeeping runs alongside
            time.sleep(0.1)
    finally:
        worker.stop()
    try:
        # housekeeping queued the periodic kinds that never ran, as "system"; not the index sync, one
        # of which was queued a moment ago
        periodic = [j for j in api.list_jobs(catalog) if j.started_by == "system"]
        assert sorted(j.kind for j in periodic) == ["audit", "deadline_scan"]
    finally:
        catalog.close()
    assert not worker.running


def test_the_worker_runs_at_a_lower_priority_than_the_pages(home: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "GONGU_HOME": str(home), "PYTHONPATH": str(root)}
    base = os.nice(0)  # the priority this test runs at; the worker lowers its own by --nice
    proc = subprocess.Popen([sys.executable, "-m", "gongu", "worker", "--nice", "7"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            # /proc/<pid>/stat: field 19 is the nice value (after the command name in parentheses)
            seen = int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
            if seen == min(base + 7, 19):
                break
            time.sleep(0.1)
        assert seen == min(base + 7, 19)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_the_servers_own_worker_queues_no_periodic_job_right_after_a_start(home: Path) -> None:
    from gongu.jobs.runner import EmbeddedWorker, wait_for
    from gongu.settings import load_settings
    from gongu.web.app import SERVER_PERIODIC_AFTER_S

    catalog = Catalog(home / "archive" / "catalog.sqlite")
    job = _queue(catalog, None, kind="index_sync", at=now())
    worker = EmbeddedWorker(load_settings(home), poll_s=0.1, periodic_after_s=SERVER_PERIODIC_AFTER_S).start()
    try:
        assert wait_for(catalog, job.id, timeout_s=60).state == "done"
        time.sleep(0.5)  # housekeeping has run (it runs first in the loop): reaped, but queued nothing
        assert [j.id for j in api.list_jobs(catalog)] == [job.id]
    finally:
        worker.stop()
        catalog.close()
