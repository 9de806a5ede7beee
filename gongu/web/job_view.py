"""What the pages show of jobs: the active job of a case, the last job of a kind, and what a job's page links to once the job is done — the issued report (PDF, DOCX), the archived
package, the 四性 audit report — each only for the roles whose pages open it, so a page never offers
a link that answers 403. Links the task itself returns in its result are added after these."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from archive.catalog import Catalog
from gongu.jobs.api import list_jobs
from gongu.jobs.model import Job

ACTIVE = ("queued", "running")

ARCHIVE_ROLES = frozenset({"archivist"})  # gongu/web/pages_archive.py VIEWERS


def _link(title: str, href: str) -> dict[str, str]:
    return {"title": title, "href": href}


def job_links(job: Job, roles: frozenset[str]) -> list[dict[str, str]]:
    if job.state != "done":
        return []
    result: dict[str, Any] = job.result or {}
    out: list[dict[str, str]] = []
    case = quote(job.case_id, safe="") if job.case_id else None
    if job.kind in ("issue", "issue_additional") and case:
        number = result.get("number")
        out.append(_link(f"下载已出具的报告（PDF，已签章）{number or ''}".strip(), f"/cases/{case}/report.pdf"))
        out.append(_link("下载报告（DOCX）", f"/cases/{case}/report.docx"))
        out.append(_link("案件页", f"/cases/{case}"))
    if job.kind in ("issue", "ingest") and case and roles & ARCHIVE_ROLES and result.get("archived", True):
        out.append(_link("档案包", f"/archive/cases/{case}"))
    if job.kind == "audit" and roles & ARCHIVE_ROLES:
        out.append(_link("四性检测报告", "/archive/audit"))
    known = {link["href"] for link in out}
    for link in result.get("links") or []:
        if isinstance(link, dict) and str(link.get("href", "")).startswith("/") and link["href"] not in known:
            out.append(_link(str(link.get("title") or link["href"]), str(link["href"])))
            known.add(link["href"])
    return out


def job_steps(job: Job) -> list[dict[str, str]]:
    """The steps the job went through, when its task reports them in its result (`steps`); the page
    otherwise shows the current step and its progress."""
    taken = (job.result or {}).get("steps")
    if not isinstance(taken, list):
        return []
    return [{"text": str(s), "state": "done"} for s in taken]


def active_job(catalog: Catalog, case_id: str) -> Job | None:
    """The case's queued or running job (at most one: the catalog's one-active-job-per-case index)."""
    found = list_jobs(catalog, case_id=case_id, states=ACTIVE, limit=1)
    return found[0] if found else None


def last_job(catalog: Catalog, kind: str, *, states: tuple[str, ...] | None = None) -> Job | None:
    """The newest job of `kind` (in one of `states` when given)."""
    found = list_jobs(catalog, kind=kind, states=states, limit=1)
    return found[0] if found else None


def audit_report(job: Job) -> dict[str, Any] | None:
    """The 四性 audit's result as the audit page shows it (archive/audit.py's as_dict), from a done job."""
    result = job.result or {}
    report = result.get("audit", result)
    return report if isinstance(report, dict) and "properties" in report else None
