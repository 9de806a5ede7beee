"""What the pages show of jobs: the active job of a case, the last job of a kind, and what a job's page links to once the job is done — the issued report (PDF, DOCX), the archived
package, the 四性 audit report — each only for the roles whose pages open it, so a page never offers
a link that answers 403. Links the task itself returns in its result are added after these."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from archive.catalog import Catalog
from gongu.jobs.api import list_jobs
from gongu.jobs.model import Job
from gongu.jobs.tasks import _ISSUE_STEPS

ACTIVE = ("queued", "running")

ARCHIVE_ROLES = frozenset({"archivist"})  # gongu/web/pages_archive.py VIEWERS
# The steps a kind's task goes through, in order (gongu/jobs/tasks.py reports them with ctx.step).
STEP_PLANS: dict[str, tuple[str, ...]] = {"issue": _ISSUE_STEPS}


def _link(title: str, href: str) -> dict[str, str]:
    return {"title": title, "href": href}


def job_links(job: Job, roles: frozenset[str]) -> list[dict[str, str]]:
    """Done, or failed with a result kept (an audit that found problems, a report issued but not archived)."""
    if not (job.state == "done" or (job.state == "failed" and job.result)):
        return []
    result: dict[str, Any] = job.result or {}
    out: list[dict[str, str]] = []
    case = quote(job.case_id, safe="") if job.case_id else None
    issued = job.state == "done" or bool(result.get("number") and result.get("files"))
    if job.kind in ("issue", "issue_additional") and case and issued:
        number = f" {result['number']}" if result.get("number") else ""
        out.append(_link(f"下载已出具的报告{number}（PDF，已签章）", f"/cases/{case}/report.pdf"))
        out.append(_link("下载报告（DOCX）", f"/cases/{case}/report.docx"))
        out.append(_link("案件页", f"/cases/{case}"))
    if job.kind in ("issue", "ingest") and case and roles & ARCHIVE_ROLES and job.state == "done":
        out.append(_link("档案包", f"/archive/cases/{case}"))
    if job.kind == "audit" and roles & ARCHIVE_ROLES and "report" in result:
        out.append(_link("四性检测报告", "/archive/audit"))
    known = {link["href"] for link in out}
    for link in result.get("links") or []:
        if not isinstance(link, dict) or not str(link.get("href", "")).startswith("/"):
            continue
        if str(link["href"]).startswith("/archive/") and not roles & ARCHIVE_ROLES:
            continue  # the archive's pages are the archivists'
        if link["href"] not in known:
            out.append(_link(str(link.get("title") or link["href"]), str(link["href"])))
            known.add(link["href"])
    return out


def job_steps(job: Job) -> list[dict[str, str]]:
    """The steps of a kind whose task declares them (the issue: 检查 → 渲染 → 签章并记录 → 归档), each
    done, current or to come, judged by the job's progress; [] for other kinds (the page shows the
    current step and its count)."""
    plan = STEP_PLANS.get(job.kind)
    if not plan or (job.kind == "issue" and "case_file" in job.params):
        return []
    out = []
    for i, text in enumerate(plan):
        if job.state == "done" or i < job.done:
            state = "done"
        elif i == job.done and job.state == "running":
            state = "now"
        elif i == job.done and job.state == "failed":
            state = "failed"
        else:
            state = "todo"
        out.append({"text": text, "state": state})
    return out


def active_job(catalog: Catalog, case_id: str) -> Job | None:
    """The case's queued or running job (at most one: the catalog's one-active-job-per-case index)."""
    found = list_jobs(catalog, case_id=case_id, states=ACTIVE, limit=1)
    return found[0] if found else None


def last_job(catalog: Catalog, kind: str, *, states: tuple[str, ...] | None = None) -> Job | None:
    """The newest job of `kind` (in one of `states` when given)."""
    found = list_jobs(catalog, kind=kind, states=states, limit=1)
    return found[0] if found else None


def audit_report(job: Job) -> dict[str, Any] | None:
    """The 四性 audit's report as the audit page shows it (archive/audit.py's as_dict) from a finished
    audit job — done, or failed because the audit found problems (the report is kept then too)."""
    result = job.result or {}
    report = result.get("report", result)
    return report if isinstance(report, dict) and "properties" in report else None
