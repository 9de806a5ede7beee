"""Review queues per level and the decisions (9.3 three-level review, forensic 通则 Art 35):
approve or return with a comment; the approver's one button that issues and seals the report (the
pipeline of `gongu issue`) and archives it (`gongu archive ingest`). The rules are gongu/pipeline/workspace.py's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.workspace import CasePage, WorkspaceCase, list_cases
from gongu.pipeline import workspace
from gongu.web import trail
from gongu.web.access import page
from gongu.web.need_to_know import require_case, visible
from gongu.web.pages_cases import DONE, KINDS, PAGE_SIZE, _home, _int, _now, case_page_with_errors, masked
from gongu.web.render import flash, render
from gongu.web.state import web_archive, web_settings
from gongu.web.two_person import blocker, standing

REVIEW_ROLES = frozenset({"proofreader", "rechecker", "approver", "reviewer"})
QUEUES = {"proofread": "校对", "recheck": "复核", "approve": "审核", "issue": "待出具"}


def _queues_for(roles: frozenset[str]) -> list[str]:
    out = [level for level in workspace.REVIEW_LEVELS if workspace.kinds_reviewed(roles, level)]
    if "approver" in roles:
        out.append("issue")
    return out


@page("/review", roles=REVIEW_ROLES, name="review_queues", nav="审核")
def queues(request: Request) -> Response:
    account = request.state.account
    mine = _queues_for(account.roles)
    level = request.query_params.get("level")
    level = level if level in mine else mine[0]
    catalog = web_archive(request).catalog
    mine_only = visible(request)  # need to know: a queue lists only cases this account may see

    def queue(q: str, page_no: int = 1, size: int = PAGE_SIZE) -> CasePage:
        if q == "issue":
            return list_cases(catalog, ready=True, page=page_no, page_size=size, visible=mine_only)
        # only the kinds whose level this account decides: a survey 复核 is not the 鉴定复核's work
        kinds = workspace.kinds_reviewed(account.roles, q)
        only = kinds[0] if len(kinds) == 1 else None
        return list_cases(catalog, status="in_review", next_level=q, kind=only, page=page_no, page_size=size,
                          visible=mine_only)

    result = queue(level, _int(request.query_params.get("page"), 1))
    result = replace(result, rows=[masked(row) for row in result.rows])
    counts = {q: queue(q, 1, 1).total for q in mine}
    return render(request, "review_queues.html", {"queues": {q: QUEUES[q] for q in mine}, "level": level,
                                                  "result": result, "counts": counts, "kinds": KINDS,
                                                  "me": account.username,
                                                  "standing": standing(request, REVIEW_ROLES),
                                                  "grant_delay": web_settings(request).accounts.grant_delay_hours})


@page("/cases/{case_id}/review", methods=("POST",), roles=REVIEW_ROLES, name="case_review")
def decide(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    if not isinstance(found := require_case(request, case_id), WorkspaceCase):
        return found
    form = request.state.form
    level, decision = str(form.get("level", "")), str(form.get("decision", ""))
    comment = str(form.get("comment", ""))[:2000]
    refused = _level_blocker(request, case_id, level)
    if refused:
        return case_page_with_errors(request, case_id, [f"不能记录此级审核：{refused}"])
    try:
        row = workspace.review_case(web_archive(request).catalog, _home(request), case_id,
                                    account=request.state.account, level=level, decision=decision,
                                    comment=comment, now=_now(request), settings=web_settings(request),
                                    expected_version=form_version(form))
    except workspace.CaseConflict as exc:  # another reviewer decided first: theirs stands, nothing of this was written
        trail.record(request, "review_conflict", case_id=case_id, level=level, decision=decision)
        return case_page_with_errors(request, case_id, exc.reasons)
    except workspace.WorkspaceRefused as exc:
        return case_page_with_errors(request, case_id, exc.reasons)
    trail.record(request, f"review_{decision}", case_id=case_id, report_number=row.report_number, level=level)
    flash(request, DONE[decision])
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)


def form_version(form: Any) -> int | None:
    """The case version the form was rendered with; None when the request carries none (a script's POST:
    the catalog's write lock and the status checks still order it), -1 when malformed (never matches)."""
    raw = form.get("version")
    if raw is None:
        return None
    return int(raw) if str(raw).isdigit() and len(str(raw)) < 12 else -1


def _level_blocker(request: Request, case_id: str, level: str) -> str | None:
    """The two-person rule for the account deciding `level`: judged on the role that decides it for the
    case's kind (the review rules themselves refuse a role that does not)."""
    from archive.workspace import get_case

    row = get_case(web_archive(request).catalog, case_id)
    if row is None:
        return None
    held = sorted(request.state.account.roles & workspace.level_roles(row.kind, level))
    return blocker(request, held[0]) if held else None


@page("/cases/{case_id}/issue", methods=("POST",), roles={"approver"}, name="case_issue")
def issue(request: Request) -> Response:
    """The approver's 「出具」: the quick checks now (a refusal is shown on the case page with every reason),
    then render → seal → record → archive as an "issue" job, answered 303 to the job's page. A second
    click while the case has a job queued or running lands on that job: one issue per case at a time."""
    from gongu.jobs.api import JobBusy, enqueue
    from gongu.pipeline.issue_checks import issue_refusals
    from gongu.web.job_view import active_job
    from gongu.web.pages_jobs import to_job

    case_id = request.path_params["case_id"]
    if not isinstance(found := require_case(request, case_id), WorkspaceCase):
        return found
    account = request.state.account
    archive_ = web_archive(request)
    if (running := active_job(archive_.catalog, case_id)) is not None:
        return to_job(running)
    try:
        issue_refusals(archive_.catalog, _home(request), case_id, account=account, now=archive_.now())
    except workspace.IssueInProgress as exc:  # an issue from the CLI holds the case's lock
        return case_page_with_errors(request, case_id, exc.reasons)
    except workspace.WorkspaceRefused as exc:
        return case_page_with_errors(request, case_id, ["不予出具：", *exc.reasons])
    try:
        job = enqueue(archive_.catalog, "issue", {"case_id": case_id, "account_id": account.id,
                                                  "account": account.username},
                      by=account.username, person=account.person, case_id=case_id, now=archive_.now())
    except JobBusy as exc:  # another click queued it a moment ago
        return to_job(exc.existing)
    trail.record(request, "case_issue", case_id=case_id, report_number=found.report_number, job=job.id)
    return to_job(job)


@page("/cases/{case_id}/issue-additional", methods=("POST",), roles={"approver"}, name="case_issue_additional")
def issue_additional(request: Request) -> Response:
    """「补充出具文书」 of a forensic case (`gongu issue --additional`): the documents written after the
    opinion (补充意见书, 异议登记表, 专家意见 …) rendered, sealed and recorded under the same number, as an
    "issue_additional" job answered 303 to its page; the job lists every reason it refuses."""
    from pathlib import Path

    from generator.loading import CaseFileError
    from gongu.jobs.api import JobBusy, enqueue
    from gongu.web.forensic_view import additional_pending
    from gongu.web.job_view import active_job
    from gongu.web.pages_jobs import to_job

    case_id = request.path_params["case_id"]
    if not isinstance(found := require_case(request, case_id), WorkspaceCase):
        return found
    account = request.state.account
    archive_ = web_archive(request)
    if (running := active_job(archive_.catalog, case_id)) is not None:
        return to_job(running)
    try:
        loaded = workspace.load(_home(request), case_id)
    except CaseFileError as exc:
        return case_page_with_errors(request, case_id, [f"{p.path} {p.title}：{p.message}" for p in exc.problems])
    if found.kind != "forensic_appraisal" or not additional_pending(loaded):
        return case_page_with_errors(request, case_id, ["没有待补充出具的文书：意见书尚未出具，或其后的文书均已出具"])
    params = {"case_file": str(Path(loaded.source).resolve()), "output": None, "templates": None}
    try:
        job = enqueue(archive_.catalog, "issue_additional", params, by=account.username, person=account.person,
                      case_id=case_id, now=archive_.now())
    except JobBusy as exc:
        return to_job(exc.existing)
    trail.record(request, "case_issue_additional", case_id=case_id, report_number=found.report_number, job=job.id)
    return to_job(job)


@page("/cases/{case_id}/archive", methods=("POST",), roles={"approver"}, name="case_archive")
def archive(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    if not isinstance(found := require_case(request, case_id), WorkspaceCase):
        return found
    try:
        reasons = workspace.archive_issued(web_archive(request).catalog, _home(request), case_id,
                                           account=request.state.account, now=_now(request),
                                           settings=web_settings(request))
    except workspace.WorkspaceRefused as exc:
        reasons = exc.reasons
    if reasons:
        return case_page_with_errors(request, case_id, ["未能归档：", *reasons])
    trail.record(request, "case_archive", case_id=case_id)
    flash(request, DONE["archived"])
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)
