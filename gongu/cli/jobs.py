"""`gongu jobs list|show|retry|cancel` and `gongu worker`: background jobs on the command line.

`gongu worker` runs queued jobs: on a SQLite home the embedded runner (gongu/jobs/runner.py), on a
PostgreSQL home procrastinate's workers (gongu/jobs/pg_worker.py; `--concurrency N`: N processes), on
any number of machines (`--once` runs the embedded runner there too). `--background` on the long commands
(issue, archive ingest, index rebuild / sync, archive audit, ledger export, render) queues a job through
`start_background` and prints its number. Exit codes: 0 done, 1 `--wait`ed job failed, 2 bad input or
a refused request (unknown job, wrong state, the case already has a job)."""

from __future__ import annotations

import getpass
import json
import os
import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from gongu.jobs.model import KIND_TITLES, STATE_TITLES, Job
from gongu.output import console, fail, print_table, text_column, whole_column

if TYPE_CHECKING:
    from gongu.settings import Settings

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root
jobs_app = typer.Typer(help="后台任务：列出、查看、重试、取消（gongu worker 执行）", no_args_is_help=True)
commands.add_typer(jobs_app, name="jobs")


def shell_user() -> str:
    try:
        return os.environ.get("GONGU_USER") or getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "未知用户"


def _catalog(settings: Settings) -> Any:
    from gongu.pipeline.archiving import open_store

    return open_store(settings, check=False)


def _now() -> Any:
    from gongu.jobs.runner import now

    return now()


def start_background(kind: str, params: dict[str, Any], *, case_id: str | None = None,
                     settings: Settings | None = None) -> NoReturn:
    """Queue the job and tell where to follow it; exit 0. JobBusy (the case has a job) → exit 2."""
    from gongu.jobs.api import enqueue
    from gongu.settings import load_settings

    settings = settings or load_settings()
    user = shell_user()
    catalog = _catalog(settings)
    try:
        job = enqueue(catalog, kind, params, by=user, person=user, case_id=case_id, now=_now())
    finally:
        catalog.close()
    console.print(escape(f"已加入后台任务 {job.id}（{job.kind_title}）；查看进度：gongu jobs show {job.id}"))
    console.print(escape("（须有工作进程执行：gongu worker，或 gongu serve 内置的工作线程）"))
    raise typer.Exit(0)


def _job_or_fail(catalog: Any, job_id: int) -> Job:
    from gongu.jobs.api import get_job

    job = get_job(catalog, job_id)
    if job is None:
        fail(f"没有编号为 {job_id} 的任务（gongu jobs list 列出全部）")
    return job


def _progress(job: Job) -> str:
    return f"{job.done}/{job.total}" if job.total else ""


@jobs_app.command("list")
def list_cmd(
    user: Annotated[str | None, typer.Option("--user", help="只列出该账户（或命令行用户）发起的任务")] = None,
    state: Annotated[str | None, typer.Option("--state", help="只列出该状态：" + "、".join(STATE_TITLES))] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="只列出该类型：" + "、".join(KIND_TITLES))] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多列出的条数（最新的在前）", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出后台任务（最新的在前）：类型、状态、当前步骤与进度、发起人、时间。"""
    from gongu.jobs.api import list_jobs
    from gongu.settings import load_settings

    if state is not None and state not in STATE_TITLES:
        fail(f"--state 只能是 {'、'.join(STATE_TITLES)}：{escape(state)!r}")
    if kind is not None and kind not in KIND_TITLES:
        fail(f"--kind 只能是 {'、'.join(KIND_TITLES)}：{escape(kind)!r}")
    catalog = _catalog(load_settings())
    try:
        found = list_jobs(catalog, started_by=user, kind=kind, states=(state,) if state else None, limit=limit)
    finally:
        catalog.close()
    if as_json:
        console.print_json(json.dumps([j.to_json() for j in found], ensure_ascii=False))
        return
    table = Table(title=f"后台任务 {len(found)} 个")
    for col in ("编号", "类型", "案件", "状态", "进度", "发起人", "加入时间"):
        whole_column(table, col)
    text_column(table, "当前步骤 / 原因")
    for j in found:
        table.add_row(str(j.id), escape(j.kind_title), escape(j.case_id or ""), j.state_title, _progress(j),
                      escape(j.started_by), j.created_at, escape(j.error or j.step))
    print_table(table)


@jobs_app.command("show")
def show_cmd(job_id: Annotated[int, typer.Argument(help="任务编号")],
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """一个任务的全部情况：状态、步骤与进度、发起人、在哪台机器上运行、结果或失败原因。"""
    from gongu.settings import load_settings

    catalog = _catalog(load_settings())
    try:
        job = _job_or_fail(catalog, job_id)
    finally:
        catalog.close()
    if as_json:
        console.print_json(json.dumps(job.to_json(), ensure_ascii=False))
        return
    lines = [f"任务 {job.id}：{job.kind_title}" + (f"（案件 {job.case_id}）" if job.case_id else ""),
             f"状态：{job.state_title}" + (f"，{job.step}" if job.state == "running" else ""),
             *([f"进度：{job.done}/{job.total}"] if job.total else []),
             f"发起：{job.started_by}（{job.started_by_person}）于 {job.created_at}",
             *([f"开始：{job.started_at}，{job.machine} 上的 {job.worker}，第 {job.attempts} 次尝试"] if job.started_at else []),
             *([f"结束：{job.finished_at}"] if job.finished_at else []),
             *([f"已要求取消：{job.cancel_requested}"] if job.cancel_requested and job.active else []),
             *([f"原因：{job.error}"] if job.error else [])]
    for key, value in (job.result or {}).items():
        if key in ("report", "links") or value in (None, [], ""):
            continue
        shown = "；".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"{_RESULT_TITLES.get(key, key)}：{shown}")
    for line in lines:
        console.print(escape(line))


_RESULT_TITLES = {"number": "报告编号", "files": "文件", "package": "档案包", "archived": "已归档", "note": "说明",
                  "archive_reasons": "未能归档的原因", "case_id": "案件", "summary": "结果", "ok": "通过",
                  "count": "件数", "rows": "行数", "failures": "未完成", "found": "发现", "repaired": "修复"}


@jobs_app.command("retry")
def retry_cmd(job_id: Annotated[int, typer.Argument(help="任务编号")]) -> None:
    """重试失败或已取消的任务（任务可安全重做：已出具的报告不会再取新编号，已归档的并入原档案包）。"""
    from gongu.jobs.api import retry
    from gongu.settings import load_settings

    catalog = _catalog(load_settings())
    try:
        job = retry(catalog, job_id, by=shell_user(), now=_now())
    finally:
        catalog.close()
    console.print(escape(f"任务 {job.id} 已重新排队；查看进度：gongu jobs show {job.id}"))


@jobs_app.command("cancel")
def cancel_cmd(job_id: Annotated[int, typer.Argument(help="任务编号")]) -> None:
    """取消排队中的任务；进行中的任务在当前步骤完成后停止（不留下写了一半的结果）。"""
    from gongu.jobs.api import cancel
    from gongu.settings import load_settings

    catalog = _catalog(load_settings())
    try:
        job = cancel(catalog, job_id, by=shell_user(), now=_now())
    finally:
        catalog.close()
    console.print(escape(f"任务 {job.id} 已取消" if job.state == "cancelled" else
                         f"已要求取消任务 {job.id}：当前步骤「{job.step}」完成后停止"))


@commands.command("worker")
def worker_cmd(
    concurrency: Annotated[int, typer.Option("--concurrency", help="同时执行的任务数", min=1)] = 1,
    once: Annotated[bool, typer.Option("--once", help="执行完排队中的任务后退出")] = False,
    stale_after: Annotated[float, typer.Option("--stale-after", help="进行中的任务超过这么多秒没有心跳，"
                                                                        "视为其工作进程已中断，重新排队", min=0)] = 120.0,
    nice: Annotated[int, typer.Option("--nice", help="工作进程的调度优先级降低多少（0–19）：后台任务让位于网页请求",
                                      min=0, max=19)] = 10,
) -> None:
    """执行后台任务（出具、归档、索引、四性检测、台账导出、批量渲染）与定时任务（索引同步每小时、四性检测每周、期限扫描每日）。"""
    from gongu.settings import load_settings

    settings = load_settings()
    # Rendering and sealing are CPU-bound: on a machine that also serves the workspace, the pages a person
    # waits for come first and a job takes what is left (the worker's child processes inherit it).
    os.nice(nice)
    if settings.store.url and not once:  # PostgreSQL home: procrastinate's workers run the same job code
        from gongu.jobs import pg_worker

        pg_worker.run_worker(settings, concurrency, stale_after_s=stale_after)
        return
    from gongu.jobs.runner import EmbeddedWorker, run_until_idle

    if once:
        catalog = _catalog(settings)
        try:
            count = run_until_idle(settings, catalog, stale_after_s=stale_after)
        finally:
            catalog.close()
        console.print(f"已执行 {count} 个任务")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = EmbeddedWorker(settings, concurrency, stale_after_s=stale_after).start()
    console.print(escape(f"工作进程已启动（{worker.machine}，{concurrency} 个线程）；Ctrl-C 停止"))
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    worker.stop()
    console.print("工作进程已停止")

