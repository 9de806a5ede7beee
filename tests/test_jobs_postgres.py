"""Jobs on a PostgreSQL home (gongu/jobs/pg_worker.py): real `gongu worker` processes running
procrastinate against a real PostgreSQL 15 server (tests/pgkit.py), real issue jobs of workspace cases
(render → seal → record → archive, tests/pgjobkit.py).

- Two workers share 20 issue jobs: each job is done exactly once — every case has one issuance, one
  report number, one archived package — and both workers took part. Two of the jobs were queued
  before any worker had created procrastinate's tables (the hand-over failed): the sweep hands them
  over, so a failed defer loses nothing.
- A worker killed with kill -9 in the middle of an issue: its job is taken over by the other worker
  after the heartbeat timeout and finishes there, once — one issuance, one report number — and
  procrastinate's ticket held by the dead worker is closed."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from archive.accounts import get_account
from archive.catalog import Catalog
from archive.workspace import get_case
from archive.workspace_steps import current_lock
from generator.types import SHANGHAI
from gongu.jobs import api, pg_worker
from gongu.jobs.model import Job
from gongu.settings import load_settings
from tests import pgjobkit as kit

STALE_AFTER = 30  # seconds without a heartbeat before a running job counts as its worker's death
CASES = 21  # 20 for the two-worker run, 1 for the kill -9 run


@dataclass
class World:
    home: Path
    url: str
    catalog: Catalog
    account_id: int
    cases: list[str]
    logs: Path


@pytest.fixture(scope="module")
def world(pg_cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("pg-jobs")
    url = pg_cluster.create_database()
    home = kit.write_home(base / "home", url, base / "pki")
    kit.prepare_home(home)
    cases = kit.ready_cases(home, CASES)
    catalog = Catalog(load_settings(home).server_store())  # type: ignore[arg-type]
    approver = get_account(catalog, kit.APPROVER.username)
    assert approver is not None
    logs = base / "logs"
    logs.mkdir()
    yield World(home, url, catalog, approver.id, cases, logs)
    catalog.close()


def _enqueue(w: World, case_id: str) -> Job:
    return api.enqueue(w.catalog, "issue", {"case_id": case_id, "account_id": w.account_id},
                       by=kit.APPROVER.username, person=kit.APPROVER.person, case_id=case_id,
                       now=datetime.now(SHANGHAI))


def _start(w: World, name: str) -> subprocess.Popen[bytes]:
    return kit.start_worker(w.home, w.logs / f"{name}.log", "--stale-after", str(STALE_AFTER))


def _name(proc: subprocess.Popen[bytes]) -> str:
    return f"{socket.gethostname()}:{proc.pid}"  # how pg_worker names a worker process


def _sql(url: str, query: str, *args: object) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(pg_worker.conninfo(url), autocommit=True) as conn:
        return list(conn.execute(query, args).fetchall())  # type: ignore[arg-type]


def _wait_registered(w: World, procs: list[subprocess.Popen[bytes]], timeout_s: float = 120) -> None:
    """Until procrastinate's tables exist and every worker has registered (it then takes jobs)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for p in procs:
            assert p.poll() is None, f"worker {p.pid} exited with {p.returncode}:\n{_logs(w)}"
        if pg_worker.schema_applied(w.url) and len(_sql(w.url, "SELECT id FROM procrastinate_workers")) >= len(procs):
            return
        time.sleep(0.5)
    raise AssertionError("workers did not register in time:\n" + _logs(w))


def _wait_all(w: World, jobs: list[Job], timeout_s: float) -> list[Job]:
    deadline = time.monotonic() + timeout_s
    while True:
        now = [api.get_job(w.catalog, j.id) for j in jobs]
        assert all(now)
        if all(not j.active for j in now if j) or time.monotonic() > deadline:
            return [j for j in now if j]
        time.sleep(1)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _logs(w: World) -> str:
    return "\n".join(f"── {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(w.logs.iterdir()))


def _issued_once(w: World, index: int, case_id: str) -> None:
    """One issuance with the case's own number, one PDF issued, one package archived."""
    number = kit.report_number(index)
    data = json.loads((w.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
    assert [i["number"] for i in data["issuances"]] == [number], case_id
    pdfs = sorted(p.name for p in (w.home / "issued" / case_id).glob("*.pdf"))
    assert pdfs == [f"{number}.pdf"], (case_id, pdfs)
    assert [(p["report_number"]) for p in w.catalog.packages(case_id)] == [number], case_id
    row = get_case(w.catalog, case_id)
    assert row is not None and row.status == "archived", (case_id, row)


def test_twenty_issue_jobs_on_two_workers_are_each_done_once(world: World) -> None:
    w = world
    cases = w.cases[:20]
    # Queued before any worker ran: procrastinate's tables do not exist yet, the hand-over fails quietly
    early = [_enqueue(w, c) for c in cases[:2]]
    assert not pg_worker.schema_applied(w.url)
    procs = [_start(w, "a"), _start(w, "b")]
    try:
        _wait_registered(w, procs)
        late = [_enqueue(w, c) for c in cases[2:]]
        done = _wait_all(w, early + late, timeout_s=1200)
    finally:
        _stop(procs)
    assert [(j.state, j.error) for j in done] == [("done", None)] * 20, _logs(w)
    assert [j.attempts for j in done] == [1] * 20  # nobody started a job twice
    assert {j.worker for j in done} == {_name(p) for p in procs}  # both workers took jobs
    assert [j.result and j.result["number"] for j in done] == [kit.report_number(i) for i in range(20)]
    for i, case_id in enumerate(cases):
        _issued_once(w, i, case_id)
    # 20 packages in all, one per report number: no job archived twice
    numbers = sorted(str(r[0]) for r in _sql(w.url, "SELECT report_number FROM packages"))
    assert numbers == sorted(kit.report_number(i) for i in range(20))
    # one procrastinate ticket per job, run once: no job was handed over twice
    tickets = _sql(w.url, "SELECT args->>'job_id', status FROM procrastinate_jobs WHERE task_name = 'gongu.run_job'")
    ours = {j.id for j in done}  # (the workers also ran the periodic jobs they queued: index sync, audit…)
    assert sorted((int(str(j)), str(s)) for j, s in tickets if int(str(j)) in ours) == [(j.id, "succeeded") for j in done]
    assert [p.returncode for p in procs] == [0, 0]  # SIGTERM: each stopped after its job, cleanly


def test_a_worker_killed_mid_issue_leaves_the_job_to_the_other_worker_once(world: World) -> None:
    w = world
    index = 20
    case_id = w.cases[index]
    procs = [_start(w, "c"), _start(w, "d")]
    try:
        _wait_registered(w, procs)
        job = _enqueue(w, case_id)
        # Wait until a worker is rendering this job (holding the case's issue lock), then kill it without warning
        deadline = time.monotonic() + 120
        while True:
            now = api.get_job(w.catalog, job.id)
            assert now is not None and now.state in ("queued", "running"), (now, _logs(w))
            if now.state == "running" and now.step == "渲染":
                break
            assert time.monotonic() < deadline, _logs(w)
            time.sleep(0.05)
        victim = next(p for p in procs if _name(p) == now.worker)
        survivor = next(p for p in procs if p is not victim)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert api.get_job(w.catalog, job.id).state == "running"  # type: ignore[union-attr]  # nothing noticed yet
        # the heartbeat stops; after STALE_AFTER the sweep queues it again and the survivor takes it
        [final] = _wait_all(w, [job], timeout_s=STALE_AFTER + 300)
    finally:
        _stop(procs)
    assert (final.state, final.error) == ("done", None), _logs(w)
    assert final.worker == _name(survivor)
    assert final.attempts == 2  # the killed start and the survivor's
    _issued_once(w, index, case_id)
    assert current_lock(w.catalog, case_id) is None  # the killed start's issue lock was given back
    # procrastinate's ticket held by the killed worker was closed; nothing of this job is left running
    states = sorted(str(r[0]) for r in _sql(w.url, "SELECT status FROM procrastinate_jobs WHERE task_name = "
                                               "'gongu.run_job' AND args->>'job_id' = %s", str(job.id)))
    # the killed worker's ticket closed, the survivor's run; on a loaded machine the sweep may hand the
    # requeued job over a second time before the survivor claims it — that ticket finds the job taken (the
    # claim is fenced by attempt: attempts == 2 and one issue above) and succeeds doing nothing
    assert states[0] == "failed" and set(states[1:]) == {"succeeded"} and len(states) <= 3, states


def test_hand_over_is_one_ticket_per_case_and_the_sweep_hands_over_what_was_missed(pg_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """In process, no worker: what enqueue hands to procrastinate, and what the sweep does about the rest."""
    import asyncio

    url = pg_cluster.create_database()
    home = tmp_path / "home"
    home.mkdir()
    (home / "gongu.toml").write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    settings = load_settings(home)
    catalog = Catalog(settings.server_store())  # type: ignore[arg-type]
    now = datetime.now(SHANGHAI)

    def tickets() -> list[tuple[int, str, str]]:
        rows = _sql(url, "SELECT args->>'job_id', queueing_lock, status FROM "
                    "procrastinate_jobs WHERE task_name = 'gongu.run_job' ORDER BY id")
        return [(int(str(j)), str(lock), str(status)) for j, lock, status in rows]

    try:
        missed = api.enqueue(catalog, "index_sync", {}, by="wang", person="王志强", now=now)
        assert not pg_worker.schema_applied(url) and missed.state == "queued"  # no queue yet: the row waits
        assert pg_worker.ensure_schema(url) is True and pg_worker.ensure_schema(url) is False  # once
        first = api.enqueue(catalog, "render_batch", {"case_files": []}, by="wang", person="王志强", case_id="C-1", now=now)
        assert tickets() == [(first.id, "case:C-1", "todo")]
        # cancelled before it ran, then queued anew: the old ticket (its run would do nothing) gives way
        api.cancel(catalog, first.id, by="wang", now=now)
        second = api.enqueue(catalog, "render_batch", {"case_files": []}, by="wang", person="王志强", case_id="C-1",
                             now=now)
        assert tickets() == [(second.id, "case:C-1", "todo")]
        # a ticket of a job that is not queued claims nothing
        worker = pg_worker._Worker(settings, name="test:1", machine="test", timing=pg_worker.Timing(periodic=False))
        worker.run_job(first.id)
        assert api.get_job(catalog, first.id).state == "cancelled"  # type: ignore[union-attr]

        async def sweep() -> None:
            app = pg_worker.build_app(worker)
            async with app.open_async():
                await pg_worker._sweep(app, worker)

        asyncio.run(sweep())  # the job queued before the schema existed gets its ticket; no second one for C-1
        assert tickets() == [(second.id, "case:C-1", "todo"), (missed.id, f"job:{missed.id}", "todo")]
        asyncio.run(sweep())
        assert len(tickets()) == 2
    finally:
        catalog.close()


def test_concurrency_runs_worker_processes_that_stop_with_their_parent(world: World) -> None:
    """`gongu worker --concurrency 2`: two worker processes under one command; one SIGTERM to the command
    stops both (each after its job) and they unregister from procrastinate."""
    w = world
    parent = kit.start_worker(w.home, w.logs / "concurrency.log", "--concurrency", "2", "--stale-after", str(STALE_AFTER))
    try:
        deadline = time.monotonic() + 120
        while len(_sql(w.url, "SELECT id FROM procrastinate_workers")) < 2:
            assert parent.poll() is None and time.monotonic() < deadline, _logs(w)
            time.sleep(0.5)
        jobs = [api.enqueue(w.catalog, "index_sync", {}, by="liu", person="刘建国", now=datetime.now(SHANGHAI))
                for _ in range(2)]
        done = _wait_all(w, jobs, timeout_s=300)
        assert [j.state for j in done] == ["done", "done"], _logs(w)
        assert all(j.worker and j.worker != _name(parent) for j in done)  # run by the children, not the parent
    finally:
        _stop([parent])
    assert parent.returncode == 0
    assert _sql(w.url, "SELECT id FROM procrastinate_workers") == []  # both children stopped cleanly


def test_a_stale_after_shorter_than_two_heartbeats_is_refused(world: World) -> None:
    result = subprocess.run([*kit.worker_command(), "--stale-after", "10"], env=kit.worker_env(world.home),
                            capture_output=True, text=True, timeout=120, cwd=kit.ROOT)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--stale-after 10 太短" in result.stdout + result.stderr and "Traceback" not in result.stderr
