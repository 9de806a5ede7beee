"""Cases: the list with status, filters, search and pages; upload (case.json with its photos
and attachments); the case page (adjustment steps, the report inline with its DOCX, QC findings by clause,
reviews and return comments, the actions the account may take); submit for review.

Every rule and step is gongu/pipeline/workspace.py's (the CLI's functions underneath); these functions only read
the request, call it, record the action in the trail and render."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from archive.disposal import destroyed, destroyed_case_ids
from archive.workspace import STATUSES, WorkspaceCase, comments, get_case, list_cases, status_counts
from generator.kinds import is_forensic
from generator.loading import CaseFileError, LoadedCase
from generator.review import LEVELS, level_titles, review_state
from generator.rules.registry import severity_title
from gongu.access.case_access import mask_identifiers
from gongu.pipeline import workspace
from gongu.web import forensic_view, trail
from gongu.web.access import page
from gongu.web.case_links import links_for
from gongu.web.need_to_know import log_read, not_found, require_case, visible
from gongu.web.render import flash, render
from gongu.web.state import web_archive, web_settings

# Who may use the case pages: the people who write, review and supervise cases. Which cases each one
# sees is the need-to-know rule (gongu/access/case_access.py); admin manages accounts and sees no case.
CASE_ROLES = frozenset({"handler", "proofreader", "rechecker", "approver", "appraiser", "reviewer", "supervisor",
                        "forensic_supervisor"})
UPLOAD_ROLES = frozenset({"handler", "appraiser"})
KINDS = {"car_survey": "建筑工程一切险公估", "forensic_appraisal": "司法鉴定"}
PAGE_SIZE = 50
# Messages shown once after a redirect (gongu.web.render.flash).
DONE = {"uploaded": "已上传并校验通过。", "submitted": "已提交审核。", "approve": "审核意见已记录：通过。",
        "return": "审核意见已记录：退回承办人员。", "issued": "报告已出具并签章。", "archived": "已归档。",
        "confirmed": "已确认署名。"}


def _home(request: Request) -> Path:
    return web_settings(request).home


def _now(request: Request) -> str:
    return web_archive(request).now().isoformat(timespec="seconds")


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


@page("/cases", roles=CASE_ROLES, name="cases", nav="案件")
def cases_page(request: Request) -> Response:
    q = request.query_params
    status = q.get("status") if q.get("status") in STATUSES else None
    kind = q.get("kind") if q.get("kind") in KINDS else None
    handler = (q.get("handler") or "").strip()[:100] or None
    text = (q.get("q") or "").strip()[:200] or None
    catalog = web_archive(request).catalog
    mine = visible(request)
    result = list_cases(catalog, status=status, kind=kind, handler=handler, text=text, page=_int(q.get("page"), 1),
                        page_size=PAGE_SIZE, visible=mine)
    result = replace(result, rows=[masked(row) for row in result.rows])
    filters = {k: v for k, v in (("status", status), ("kind", kind), ("handler", handler), ("q", text)) if v}
    base = "&".join(f"{k}={quote(v)}" for k, v in filters.items())
    return render(request, "cases.html", {
        "result": result, "filters": filters, "query": base, "statuses": STATUSES, "kinds": KINDS,
        "destroyed": destroyed_case_ids(catalog, [r.case_id for r in result.rows]),
        "counts": status_counts(catalog, mine), "may_upload": bool(request.state.account.roles & UPLOAD_ROLES),
        "may_create": bool(request.state.account.roles & (UPLOAD_ROLES | {"supervisor", "forensic_supervisor"}))})


def masked(row: WorkspaceCase) -> WorkspaceCase:
    """A forensic case's row as a list shows it: personal identifiers masked (in full on the case page)."""
    if row.kind != "forensic_appraisal":
        return row
    return replace(row, case_name=mask_identifiers(row.case_name), project=mask_identifiers(row.project),
                   insured=mask_identifiers(row.insured))


@page("/cases/upload", roles=UPLOAD_ROLES, name="case_upload_form")
def upload_form(request: Request) -> Response:
    return render(request, "case_upload.html", {"problems": [], "refusals": [], "limits": _limits()})


def _limits() -> dict[str, int]:
    return {"file_mib": workspace.MAX_FILE_BYTES >> 20, "total_mib": workspace.MAX_TOTAL_BYTES >> 20,
            "files": workspace.MAX_FILES}


@page("/cases/upload", methods=("POST",), roles=UPLOAD_ROLES, name="case_upload")
def upload(request: Request) -> Response:
    form = request.state.form
    files = [(f.filename, f.file) for key in ("files", "folder") for f in form.getlist(key)
             if hasattr(f, "filename") and f.filename]
    context: dict[str, Any] = {"problems": [], "refusals": [], "limits": _limits()}
    try:
        received = workspace.receive_upload(web_archive(request).catalog, _home(request), files,
                                            account=request.state.account, now=_now(request))
    except workspace.UploadRefused as exc:
        context["problems"] = [p.as_dict() for p in exc.problems]
        return render(request, "case_upload.html", context, status=400)
    except workspace.WorkspaceRefused as exc:
        context["refusals"] = exc.reasons
        return render(request, "case_upload.html", context, status=409)
    row = received.case
    trail.record(request, "case_upload", case_id=row.case_id, report_number=row.report_number,
                 files=len(files))
    flash(request, DONE["uploaded"])
    for kind, message in placement_notes(received.placement):
        flash(request, message, kind)
    return RedirectResponse(f"/cases/{quote(row.case_id)}", status_code=303)


# The notes travel in the signed session cookie (about 4 KB): a long list is cut, with its count.
_NOTE_ITEMS = 10


def _listed(items: list[str]) -> str:
    shown = "；".join(items[:_NOTE_ITEMS])
    return shown if len(items) <= _NOTE_ITEMS else f"{shown} 等共 {len(items)} 个"


def placement_notes(placement: workspace.Placement) -> list[tuple[str, str]]:
    """What the upload did with the files' names, for the case page after the redirect."""
    notes: list[tuple[str, str]] = []
    if placement.matched:
        notes.append(("info", "按文件名匹配：" + _listed([f"{m.uploaded} → {m.placed}" for m in placement.matched])))
    if placement.unmatched:
        notes.append(("error", "未按文件名匹配：" + _listed(placement.unmatched)))
    if placement.unreferenced:
        notes.append(("info", "未被案件文件引用（已保存在案件文件夹中，不进入报告和归档）："
                      + _listed(placement.unreferenced)))
    return notes


def _adjustment(loaded: LoadedCase) -> dict[str, Any]:
    """What `gongu adjust` shows for a survey case (gongu/pipeline/adjust_view.py rows): the 理算 steps. A
    forensic case's time limits are among its forensic sections (gongu/web/forensic_view.py)."""
    from gongu.pipeline.adjust_view import adjustment_rows

    case = loaded.case
    from generator.adjust import adjust
    from generator.amounts import format_amount, rmb_uppercase

    result = adjust(case)  # type: ignore[arg-type]
    return {"title": "理算过程", "headers": ["条款", "步骤", "公式", "输入", "结果"], "rows": adjustment_rows(result),
            "total": f"{format_amount(result.total_payable)} 元（{rmb_uppercase(result.total_payable)}）"}


def case_context(request: Request, case_id: str) -> dict[str, Any] | None:
    """Everything the case page shows; None when the workspace has no such case or the account may not
    see it (need to know). Showing a forensic case is a logged read."""
    catalog = web_archive(request).catalog
    row = require_case(request, case_id)
    if not isinstance(row, WorkspaceCase):
        return None
    account = request.state.account
    home = _home(request)
    context: dict[str, Any] = {"row": row, "kinds": KINDS, "errors": [], "comments": comments(catalog, case_id)}
    from archive.workspace import case_people
    from gongu.pipeline.drafting import edit_refusal

    context["may_edit"] = edit_refusal(row, account, case_people(catalog, case_id)) is None
    context["may_reissue"] = row.status in ("issued", "archived") and edit_refusal(
        replace(row, status="draft"), account, case_people(catalog, case_id)) is None
    try:
        loaded = workspace.load(home, case_id)
    except CaseFileError as exc:
        context["load_problems"] = [p.as_dict() for p in exc.problems]
        return context
    case = loaded.case
    log_read(request, case, "case_page")
    titles = level_titles(case)
    state = review_state(case)
    stage = "archive" if row.status in ("issued", "archived") else "review"
    # What a blocking finding stops now: the submission of a draft, the issue of a case in review, the archiving.
    shown = "archive" if stage == "archive" else "issue" if row.status == "in_review" else "review"
    forensic = is_forensic(case)
    if forensic:  # the forensic sections beside the workflow: one case page per case
        context["forensic"] = forensic_view.sections(request, loaded)
        context["may_issue_additional"] = forensic_view.may_issue_additional(request, loaded, row.status)
    context.update({
        "case": case, "adjustment": None if forensic else _adjustment(loaded), "stage": stage, "qc_stage": shown,
        "qc": forensic_view.findings(loaded, request, stage) if forensic else workspace.quality_review(loaded, stage),
        "severity_title": severity_title, "links": links_for(case.kind, account.roles),
        "reviews": [{"level": titles[r.level], "reviewer": r.reviewer, "decision": r.decision.value,
                     "at": r.at.isoformat(timespec="seconds"), "comment": r.comment or ""} for r in case.reviews],
        "level_titles": {lv.value: titles[lv] for lv in LEVELS},
        "approved": [titles[lv] for lv in LEVELS if lv in state.approved],
        "last_return": state.last_return,
        "may_replace": row.status in ("draft", "returned") and row.handler == account.username,
        "may_submit": row.status in ("draft", "returned") and row.handler == account.username,
        "review_level": (row.next_level if row.status == "in_review" and row.next_level
                         and account.roles & workspace.level_roles(row.kind, row.next_level) else None),
        "may_issue": row.status == "in_review" and row.next_level is None and "approver" in account.roles,
        "may_archive": row.status == "issued" and "approver" in account.roles,
        "issued": workspace.issued_files(home, loaded),
    })
    context.update(_signatures(request, row, loaded))
    context["assign"] = _assignment(request, row)
    return context


def _assignment(request: Request, row: WorkspaceCase) -> dict[str, Any]:
    """Who holds each duty on the case; for the kind's supervisor, the accounts each duty may go to."""
    from archive.accounts import list_accounts
    from archive.workspace_assign import assignments
    from gongu.access.case_access import supervises
    from gongu.pipeline.assigning import duties_of, duty_roles

    catalog = web_archive(request).catalog
    duties = duties_of(row.kind)
    may = supervises(request.state.account, row.kind) and row.status not in ("issued", "archived")
    wanted = frozenset().union(*(duty_roles(row.kind, d) for d in duties))
    accounts = [a for a in list_accounts(catalog) if not a.disabled and a.roles & wanted] if may else []
    return {"duties": duties, "held": assignments(catalog, row.case_id), "may": may, "accounts": accounts}


def _signatures(request: Request, row: Any, loaded: LoadedCase) -> dict[str, Any]:
    """Who signs the case and who has confirmed (「确认署名」), and whether this account may confirm now."""
    from archive.workspace_steps import current_lock
    from gongu.web.job_view import active_job

    account = request.state.account
    catalog = web_archive(request).catalog
    signers = workspace.case_signers(loaded.case)
    waiting = workspace.unconfirmed_people(catalog, row, loaded)
    open_ = row.status not in ("issued", "archived")
    return {"signers": signers, "signer_title": workspace.signer_title(loaded.case),
            "unconfirmed": workspace.unconfirmed_signers(catalog, row, loaded),
            "may_confirm": open_ and account.person in waiting
            and bool(account.roles & UPLOAD_ROLES), "issue_lock": current_lock(catalog, row.case_id),
            "case_job": active_job(catalog, row.case_id)}


def destroyed_page(request: Request, case_id: str, *, status: int = 200) -> Response | None:
    """The page of a case whose archived report was destroyed at the end of its retention (10.4): 已销毁
    and the tombstone, never the report (its copies went with the package: archive/disposal.py)."""
    catalog = web_archive(request).catalog
    tombs = destroyed(catalog, case_id)
    if not tombs:
        return None
    row = get_case(catalog, case_id)
    # need to know: the people who could see the case see its tombstone; the archivists keep the register
    if "archivist" not in request.state.account.roles and (
            row is None or not isinstance(require_case(request, case_id), WorkspaceCase)):
        return not_found(request, case_id)
    return render(request, "case_disposed.html", {"case_id": case_id, "row": row, "kinds": KINDS,
                                                  "tombstones": [_tombstone(t) for t in tombs]}, status=status)


def _tombstone(t: Any) -> dict[str, Any]:
    import json

    approvals = json.loads(t["approvals"]) if isinstance(t["approvals"], str) else dict(t["approvals"] or {})
    return {"report_number": t["report_number"], "disposed_at": t["disposed_at"], "disposed_by": t["disposed_by"],
            "proposed_by": approvals.get("proposed_by"), "approved_by": approvals.get("approved_by"),
            "package_hash": t["package_hash"]}


def _not_found(request: Request, case_id: str) -> Response:
    return not_found(request, case_id)


@page("/cases/{case_id}", roles=CASE_ROLES, name="case")
def case_page(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    gone = destroyed_page(request, case_id)
    if gone is not None:
        return gone
    context = case_context(request, case_id)
    if context is None:
        return _not_found(request, case_id)
    return render(request, "case.html", context)


def case_page_with_errors(request: Request, case_id: str, errors: list[str], status: int = 409) -> Response:
    """The case page again, with the reasons an action was refused in view."""
    context = case_context(request, case_id)
    if context is None:
        return _not_found(request, case_id)
    context["errors"] = errors
    return render(request, "case.html", context, status=status)


def _report(request: Request, kind: str) -> Response:
    case_id = request.path_params["case_id"]
    gone = destroyed_page(request, case_id, status=410)  # 410 Gone: destroyed on purpose, never served again
    if gone is not None:
        return gone
    row = require_case(request, case_id)
    if not isinstance(row, WorkspaceCase):
        return row
    loaded = workspace.load(_home(request), case_id)
    from gongu.pipeline.templates import firm_templates

    issued = workspace.issued_files(_home(request), loaded)  # the sealed report once issued, else a preview
    files = issued or workspace.report_files(_home(request), loaded, firm_templates(web_settings(request), None))
    if kind not in files:
        return _not_found(request, case_id)
    name = f"{loaded.case.report.number}.{kind}"
    media = {"pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[kind]
    if issued:
        trail.record(request, f"report_{kind}", case_id=case_id, report_number=loaded.case.report.number)
    log_read(request, loaded.case, f"report.{kind}", issued=bool(issued))
    disposition = "inline" if kind == "pdf" else "attachment"
    # The PDF is shown in the case page's <iframe>: framed by this site only (the app's default is 'none').
    headers = {"content-security-policy": "frame-ancestors 'self'"} if kind == "pdf" else None
    return FileResponse(files[kind], media_type=media, filename=name, content_disposition_type=disposition,
                        headers=headers)


@page("/cases/{case_id}/report.pdf", roles=CASE_ROLES, name="case_report_pdf")
def report_pdf(request: Request) -> Response:
    return _report(request, "pdf")


@page("/cases/{case_id}/report.docx", roles=CASE_ROLES, name="case_report_docx")
def report_docx(request: Request) -> Response:
    return _report(request, "docx")


@page("/cases/{case_id}/submit", methods=("POST",), roles=UPLOAD_ROLES, name="case_submit")
def submit(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    if not isinstance(found := require_case(request, case_id), WorkspaceCase):
        return found
    try:
        row = workspace.submit_case(web_archive(request).catalog, _home(request), case_id,
                                    account=request.state.account, now=_now(request))
    except workspace.WorkspaceRefused as exc:
        return case_page_with_errors(request, case_id, exc.reasons)
    trail.record(request, "case_submit", case_id=case_id, report_number=row.report_number)
    flash(request, DONE["submitted"])
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)


@page("/cases/{case_id}/confirm", methods=("POST",), roles=UPLOAD_ROLES, name="case_confirm")
def confirm(request: Request) -> Response:
    """「确认署名」: a handler / appraiser named on the case confirms, under their own account, that they sign it."""
    case_id = request.path_params["case_id"]
    try:
        row = workspace.confirm_signature(web_archive(request).catalog, _home(request), case_id,
                                          account=request.state.account, now=_now(request))
    except workspace.WorkspaceRefused as exc:
        return case_page_with_errors(request, case_id, exc.reasons)
    trail.record(request, "case_confirm", case_id=case_id, report_number=row.report_number)
    flash(request, DONE["confirmed"])
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)
