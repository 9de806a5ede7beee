"""Background jobs in the workspace: `/jobs` lists the account's own jobs (every job for admin), and each
job's page shows its state, current step and progress, who started it, when and on which machine, its
result links and the reason it failed; while the job is queued or running the page reloads its state
every second (htmx polling of `/jobs/{id}/status`), and stops once the job has ended.

Who sees a job (the need-to-know rule of gongu/access/case_access.py, one place): a job of a case is
shown only to an account that may see that case — anyone else gets the same 404 as for a job that does
not exist; a job of no case to the account that started it, admin, and the roles that own its kind (the
四性 audit and the index jobs: archivists). Retry and cancel are for the account that started the job, or
admin; a retried issue runs under the starting approver's account, as the first run did."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from archive.accounts import ALL_ROLES
from archive.workspace import cases_by_id
from gongu.access.case_access import visible_filter
from gongu.jobs.api import JobBusy, JobError, cancel, get_job, list_jobs, retry
from gongu.jobs.model import KIND_TITLES, STATE_TITLES, Job
from gongu.web import trail
from gongu.web.access import Account, page
from gongu.web.job_view import job_links, job_steps
from gongu.web.render import csrf_token, env, flash, render
from gongu.web.state import web_archive

# Jobs of no case that the owners of the work may follow, whoever started them (a periodic audit is
# started by "system"): the archive's jobs are the archivists'.
KIND_VIEWERS: dict[str, frozenset[str]] = {
    "audit": frozenset({"archivist"}),
    "verify_package": frozenset({"archivist"}),
    "index_rebuild": frozenset({"archivist"}),
    "index_sync": frozenset({"archivist"}),
    "ledger_export": frozenset({"appraiser", "forensic_supervisor"}),
}
LIST_LIMIT = 200


def visible_cases(request: Request, case_ids: list[str]) -> set[str]:
    """Of these case ids, the ones the logged-in account may see (one query)."""
    if not case_ids:
        return set()
    return set(cases_by_id(web_archive(request).catalog, sorted(set(case_ids)), visible_filter(request.state.account)))


def may_see(request: Request, job: Job, seen_cases: set[str] | None = None) -> bool:
    account: Account = request.state.account
    if job.case_id is not None:
        seen = seen_cases if seen_cases is not None else visible_cases(request, [job.case_id])
        return job.case_id in seen
    return (job.started_by == account.username or "admin" in account.roles
            or bool(account.roles & KIND_VIEWERS.get(job.kind, frozenset())))


def may_act(request: Request, job: Job) -> bool:
    """Retry and cancel: the account that started the job, or admin (who runs the firm's workers)."""
    account: Account = request.state.account
    return job.started_by == account.username or "admin" in account.roles


def _not_found(request: Request, job_id: int) -> Response:
    return render(request, "error.html", {"title": "没有此任务", "message": f"没有编号为 {job_id} 的后台任务"}, status=404)


def _visible_job(request: Request) -> Job | Response:
    job_id = int(request.path_params["job_id"])
    job = get_job(web_archive(request).catalog, job_id)
    if job is None or not may_see(request, job):
        return _not_found(request, job_id)
    return job


def job_context(request: Request, job: Job) -> dict[str, Any]:
    account: Account = request.state.account
    return {"job": job, "kind_titles": KIND_TITLES, "state_titles": STATE_TITLES, "active": job.active,
            "cancel_requested": job.state == "running" and bool(job.cancel_requested),
            "links": job_links(job, account.roles), "steps": job_steps(job),
            "may_act": may_act(request, job),
            "case_url": f"/cases/{quote(job.case_id, safe='')}" if job.case_id else None}


def job_url(job: Job | int) -> str:
    return f"/jobs/{job if isinstance(job, int) else job.id}"


def to_job(job: Job | int) -> RedirectResponse:
    """The answer to a page that started (or found running) a job: 303 to the job's page."""
    return RedirectResponse(job_url(job), status_code=303)


@page("/jobs", roles=ALL_ROLES, name="jobs", nav="后台任务")
def jobs_page(request: Request) -> Response:
    account: Account = request.state.account
    everyone = "admin" in account.roles
    found = list_jobs(web_archive(request).catalog, started_by=None if everyone else account.username,
                      limit=LIST_LIMIT)
    seen = visible_cases(request, [j.case_id for j in found if j.case_id])
    rows = []
    for job in found:
        visible = may_see(request, job, seen)
        if visible or everyone:  # admin sees every job's state and machine, a case's content only if on it
            rows.append({"job": job, "open": visible})
    return render(request, "jobs.html", {"jobs": rows, "everyone": everyone, "kind_titles": KIND_TITLES,
                                         "state_titles": STATE_TITLES})


@page("/jobs/{job_id:int}", roles=ALL_ROLES, name="job")
def job_page(request: Request) -> Response:
    if not isinstance(job := _visible_job(request), Job):
        return job
    return render(request, "job.html", job_context(request, job))


@page("/jobs/{job_id:int}/status", roles=ALL_ROLES, name="job_status")
def job_status(request: Request) -> Response:
    """The job's state section alone: what the job page's htmx polling swaps in."""
    if not isinstance(job := _visible_job(request), Job):
        return job
    # not render(): that takes the session's pending flash messages, which the next full page must show
    html = env.get_template("_job.html").render({**job_context(request, job), "csrf_token": csrf_token(request)})
    return HTMLResponse(html)


def _change(request: Request, verb: str) -> Response:
    if not isinstance(job := _visible_job(request), Job):
        return job
    if not may_act(request, job):
        return render(request, "error.html", {"title": "无权操作", "message": "只有发起本任务的账户或管理员可以重试或取消"},
                      status=403)
    account: Account = request.state.account
    archive = web_archive(request)
    try:
        if verb == "retry":
            retry(archive.catalog, job.id, by=account.username, now=archive.now())
            message = f"已重新排队：任务 #{job.id}"
        else:
            changed = cancel(archive.catalog, job.id, by=account.username, now=archive.now())
            message = "已取消" if changed.state == "cancelled" else "已请求取消：任务将在当前步骤结束后停止"
    except JobBusy as exc:  # the case meanwhile has another active job: follow that one
        flash(request, f"本案已有后台任务 #{exc.existing.id}（{exc.existing.state_title}），请等它结束", "error")
        return to_job(exc.existing)
    except JobError as exc:
        flash(request, str(exc), "error")
        return to_job(job)
    trail.record(request, f"job_{verb}", case_id=job.case_id, job=job.id, kind=job.kind)
    flash(request, message)
    return to_job(job)


@page("/jobs/{job_id:int}/retry", methods=("POST",), roles=ALL_ROLES, name="job_retry")
def job_retry(request: Request) -> Response:
    return _change(request, "retry")


@page("/jobs/{job_id:int}/cancel", methods=("POST",), roles=ALL_ROLES, name="job_cancel")
def job_cancel(request: Request) -> Response:
    return _change(request, "cancel")
