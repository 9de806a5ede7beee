"""Writing a case in the browser: a new case from the notice (/cases/new), one form per part of the case
file in the order of the report (/cases/<id>/edit/<section>), saved on every change (htmx) and with the
save button, the history of saves with restore, and the case folder as a zip.

The rules are gongu/pipeline/drafting.py and draft_saving.py; the forms are generated from the case model
(gongu/web/schema_forms.py). Every save re-validates the whole file: each problem is shown next to its
field with the words of `gongu validate`, and once the file is complete the section shows the findings of
`gongu check` whose path lies in it (clause cited)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.workspace import WorkspaceCase
from archive.workspace_versions import versions
from generator.forensic.commission import PARTY_ROLE_TITLES
from generator.problems import Problem
from gongu.access.case_access import supervises
from gongu.pipeline import draft_saving, drafting, workspace
from gongu.web import trail
from gongu.web.access import page
from gongu.web.need_to_know import require_case
from gongu.web.pages_cases import CASE_ROLES, KINDS
from gongu.web.render import flash, render
from gongu.web.state import now, web_archive, web_settings

CREATE_ROLES = frozenset({"handler", "appraiser", "supervisor", "forensic_supervisor"})


def form_lists(request: Request) -> dict[str, list[str]]:
    """The submitted form as name → every value (a browser sends a multi-line list once, a select once)."""
    form = request.state.form
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form.keys()}


# ───────────────────────────── a new case ─────────────────────────────

def _writers(request: Request, kind: str) -> list[tuple[str, str]]:
    """(person, username) of the active accounts that may write cases of the kind: the people a new case
    may name as its handlers or appraisers."""
    from archive.accounts import list_accounts

    role = drafting.writer_role(kind)
    return [(a.person, a.username) for a in list_accounts(web_archive(request).catalog)
            if role in a.roles and not a.disabled]


def _new_context(request: Request, values: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    account = request.state.account
    kinds = {k: t for k, t in KINDS.items() if drafting.writer_role(k) in account.roles or supervises(account, k)}
    return {"kinds": kinds, "values": values, "errors": errors, "writers": {k: _writers(request, k) for k in kinds},
            "party_roles": {r.value: t for r, t in PARTY_ROLE_TITLES.items()}}


@page("/cases/new", roles=CREATE_ROLES, name="case_new_form")
def new_form(request: Request) -> Response:
    account = request.state.account
    kind = "forensic_appraisal" if "appraiser" in account.roles and "handler" not in account.roles else "car_survey"
    return render(request, "draft_new.html", _new_context(request, {"kind": kind, "people": [account.person]}, []))


def _notice(kind: str, form: Any) -> dict[str, Any]:
    """The notice's fields as the case file records them (empty ones left out)."""
    def text(name: str) -> str:
        return str(form.get(name, "")).strip()[:2000]

    if kind == "forensic_appraisal":
        commission = {"number": text("commission_number"), "purpose": text("purpose"), "background": text("background")}
        role = text("party_role") if text("party_role") in {r.value for r in PARTY_ROLE_TITLES} else None
        parties = ([{"id": "P1", "name": text("party"), "client": True} | ({"role": role} if role else {})]
                   if text("party") else [])
        return {"case_name": text("case_name"), "commission": {k: v for k, v in commission.items() if v},
                "parties": parties}
    commission = {"commissioning_party": text("commissioning_party"), "subject": text("subject"),
                  "scope": text("scope")}
    letters = ([{"issuer": text("commissioning_party"), "issuer_role": "insurer", "reference": text("letter_reference")}]
               if text("letter_reference") and text("commissioning_party") else [])
    if letters:
        commission["letters"] = letters  # type: ignore[assignment]
    policy = {"number": text("policy_number"), "insurer": text("insurer"), "insured": text("insured")}
    return {"case_name": text("case_name"), "commission": {k: v for k, v in commission.items() if v},
            "policy": {k: v for k, v in policy.items() if v}}


def _received_at(value: str) -> str | None:
    """A datetime-local value ("2026-12-07T08:50") as the case file's timestamp; None when empty."""
    value = value.strip()
    if not value:
        return None
    return value if len(value) > 16 else f"{value}:00"


@page("/cases/new", methods=("POST",), roles=CREATE_ROLES, name="case_new")
def new_case(request: Request) -> Response:
    form = request.state.form
    kind = str(form.get("kind", ""))
    people = [p for p in form.getlist("people") if isinstance(p, str)]
    values = {k: form.get(k) for k in form.keys() if k != "csrf_token"} | {"people": people}
    allowed = {person for person, _ in _writers(request, kind)} if kind in KINDS else set()
    errors = [f"「{p}」没有{'鉴定人' if kind == 'forensic_appraisal' else '承办'}角色的账户，不能指定" for p in people
              if p not in allowed]
    received = _received_at(str(form.get("received_at", "")))
    if not errors:
        try:
            row = drafting.create_case(web_archive(request).catalog, web_settings(request).home, web_settings(request),
                                       kind=kind, notice=_notice(kind, form), people=people,
                                       account=request.state.account, now=now(request), received_at=received)
        except workspace.WorkspaceRefused as exc:
            errors = exc.reasons
    if errors:
        return render(request, "draft_new.html", _new_context(request, values, errors), status=400)
    trail.record(request, "case_create", case_id=row.case_id, kind=kind, people=people)
    flash(request, f"已新建案件 {row.case_id}，请逐项填写。")
    return RedirectResponse(f"/cases/{quote(row.case_id)}/edit/{drafting.sections(kind)[0].key}", status_code=303)


# ───────────────────────────── the section forms ─────────────────────────────

def _top_key(path: str) -> str:
    """The case file's top-level key a JSON path lies under ($.policy.items[0].id → policy)."""
    return path.removeprefix("$.").split(".")[0].split("[")[0]


def _problems_by_section(kind: str, problems: list[Problem]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    owner = {key: s.key for s in drafting.sections(kind) for key in s.keys}
    for p in problems:
        counts[owner.get(_top_key(p.path), "")] += 1
    return counts


def _in_section(sec: drafting.Section, problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if _top_key(p.path) in sec.keys]


def _findings(request: Request, case_id: str, sec: drafting.Section) -> list[Any]:
    """The QC findings (`gongu check`) whose path lies in this section, once the case file loads."""
    from generator.loading import CaseFileError

    try:
        loaded = workspace.load(web_settings(request).home, case_id)
    except CaseFileError:
        return []
    review = workspace.quality_review(loaded)
    inside = tuple(f"$.{k}" for k in sec.keys)
    return [f for g in review.groups for f in g.findings
            if f.path == "$" and sec.key == drafting.sections(loaded.case.kind)[0].key
            or any(f.path == p or f.path.startswith((p + ".", p + "[")) for p in inside)]


def _section_context(request: Request, row: WorkspaceCase, sec: drafting.Section, data: dict[str, Any],
                     problems: list[Problem], *, base: str, errors: list[str]) -> dict[str, Any]:
    from gongu.web.schema_forms import section_fields

    refusal = drafting.edit_refusal(row, request.state.account, drafting.named_people(data))
    context = {
        "row": row, "section": sec, "sections": drafting.sections(row.kind), "base": base, "errors": errors,
        "fields": section_fields(row.kind, sec.keys, data, problems, readonly=refusal is not None),
        "readonly": refusal, "counts": _problems_by_section(row.kind, problems), "problems": problems,
        "in_section": _in_section(sec, problems),
        "findings": _findings(request, row.case_id, sec) if not problems else [],
        "kinds": KINDS,
    }
    if sec.key == "losses":
        from gongu.pipeline.draft_figures import running_adjustment

        context["figures"] = running_adjustment(data)
    return context


def _case_and_section(request: Request) -> tuple[WorkspaceCase, drafting.Section] | Response:
    case_id = request.path_params["case_id"]
    row = require_case(request, case_id)
    if not isinstance(row, WorkspaceCase):
        return row
    try:
        sec = drafting.section(row.kind, request.path_params.get("section") or drafting.sections(row.kind)[0].key)
    except workspace.WorkspaceRefused:
        return render(request, "error.html", {"title": "没有这一部分", "message": "案件文件没有这一部分"}, status=404)
    return row, sec


@page("/cases/{case_id}/edit", roles=CASE_ROLES, name="case_edit_start")
def edit_start(request: Request) -> Response:
    """The case's first section (委托与受理)."""
    return _edit_page(request)


@page("/cases/{case_id}/edit/{section}", roles=CASE_ROLES, name="case_edit")
def edit_page(request: Request) -> Response:
    return _edit_page(request)


def _edit_page(request: Request) -> Response:
    found = _case_and_section(request)
    if isinstance(found, Response):
        return found
    row, sec = found
    try:
        data = drafting.read_data(web_settings(request).home, row.case_id)
    except workspace.WorkspaceRefused as exc:
        return render(request, "error.html", {"title": "案件文件无法读取", "message": "；".join(exc.reasons)}, status=409)
    problems = drafting.problems_of(data)
    return render(request, "draft_section.html", _section_context(
        request, row, sec, data, problems, base=drafting.digest(data, sec.keys), errors=[]))


@page("/cases/{case_id}/edit/{section}", methods=("POST",), roles=CASE_ROLES, name="case_edit_save")
def edit_save(request: Request) -> Response:
    """Save the section: from the save button or a row button (the page again, errors by their fields), or
    from the form's own change event (htmx: only the save status, the problems and the new base)."""
    from gongu.web.schema_forms import apply_row_op, parse_section

    found = _case_and_section(request)
    if isinstance(found, Response):
        return found
    row, sec = found
    form = request.state.form
    home = web_settings(request).home
    values = parse_section(row.kind, sec.keys, form_lists(request))
    op = str(form.get("_op", ""))
    if op:
        values = apply_row_op(values, op)
    auto = request.headers.get("hx-request") == "true" and not op
    base = str(form.get("_base", ""))
    try:
        saved = draft_saving.save_section(web_archive(request).catalog, home, row.case_id, sec.key, values, base=base,
                                          account=request.state.account, now=now(request))
    except workspace.WorkspaceRefused as exc:
        conflict = isinstance(exc, draft_saving.SectionConflict)
        if conflict:
            trail.record(request, "case_edit_refused", case_id=row.case_id, section=sec.key,
                         version=exc.version)  # type: ignore[attr-defined]
        if auto:
            return render(request, "_draft_status.html", {"errors": exc.reasons, "base": base, "auto": True},
                          status=409)
        # the page again with what this person typed (not the file's): nothing they wrote is lost
        data = drafting.read_data(home, row.case_id) | {k: v for k, v in values.items()}
        for key in sec.keys:
            if key not in values:
                data.pop(key, None)
        return render(request, "draft_section.html", _section_context(
            request, row, sec, data, drafting.problems_of(data), base=base, errors=exc.reasons), status=409)
    if saved.version is not None:
        trail.record(request, "case_edit", case_id=row.case_id, section=sec.key, version=saved.version,
                     fields=saved.paths[:50])
    if auto:
        data = drafting.read_data(home, row.case_id)
        context = {"saved": saved, "base": saved.digest, "auto": True, "errors": [],
                   "counts": _problems_by_section(row.kind, saved.problems), "sections": drafting.sections(row.kind),
                   "row": row, "section": sec, "in_section": _in_section(sec, saved.problems)}
        if sec.key == "losses":
            from gongu.pipeline.draft_figures import running_adjustment

            context["figures"] = running_adjustment(data)
        return render(request, "_draft_status.html", context)
    if op:
        return RedirectResponse(f"/cases/{quote(row.case_id)}/edit/{sec.key}#{quote(op.split(':', 1)[-1])}",
                                status_code=303)
    flash(request, f"已保存（第 {saved.version} 版）。" if saved.version else "没有改动。")
    return RedirectResponse(f"/cases/{quote(row.case_id)}/edit/{sec.key}", status_code=303)


# ───────────────────────────── history, restore, the folder ─────────────────────────────

@page("/cases/{case_id}/history", roles=CASE_ROLES, name="case_history")
def history_page(request: Request) -> Response:
    row = require_case(request, request.path_params["case_id"])
    if not isinstance(row, WorkspaceCase):
        return row
    data = drafting.read_data(web_settings(request).home, row.case_id)
    refusal = drafting.edit_refusal(row, request.state.account, drafting.named_people(data))
    rows = [(v, json.loads(v.paths)) for v in versions(web_archive(request).catalog, row.case_id)]
    # the version the file holds now: the newest one not refused (a refused save never reached the file)
    current = next((v.version for v, _ in rows if v.action != "refused"), None)
    return render(request, "draft_history.html", {"row": row, "versions": rows, "may_restore": refusal is None,
                                                   "current": current,
                                                   "sections": {s.key: s.title for s in drafting.sections(row.kind)}})


@page("/cases/{case_id}/history/{version:int}/restore", methods=("POST",), roles=CASE_ROLES, name="case_restore")
def restore(request: Request) -> Response:
    row = require_case(request, request.path_params["case_id"])
    if not isinstance(row, WorkspaceCase):
        return row
    version = int(request.path_params["version"])
    try:
        number = draft_saving.restore(web_archive(request).catalog, web_settings(request).home, row.case_id, version,
                                      account=request.state.account, now=now(request))
    except workspace.WorkspaceRefused as exc:
        flash(request, "未能恢复：" + "；".join(exc.reasons), "error")
        return RedirectResponse(f"/cases/{quote(row.case_id)}/history", status_code=303)
    trail.record(request, "case_restore", case_id=row.case_id, restored=version, version=number)
    flash(request, f"已恢复第 {version} 版（记为第 {number} 版）。")
    return RedirectResponse(f"/cases/{quote(row.case_id)}/history", status_code=303)


@page("/cases/{case_id}/folder.zip", roles=CASE_ROLES, name="case_folder_zip")
def folder_zip(request: Request) -> Response:
    row = require_case(request, request.path_params["case_id"])
    if not isinstance(row, WorkspaceCase):
        return row
    content = draft_saving.folder_zip(web_settings(request).home, row.case_id)
    trail.record(request, "case_folder_download", case_id=row.case_id, bytes=len(content))
    return Response(content, media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.case_id)}.zip"})


# ───────────────────────────── the draft report ─────────────────────────────

@page("/cases/{case_id}/preview", methods=("POST",), roles=CASE_ROLES, name="case_preview")
def preview(request: Request) -> Response:
    """「预览报告」: the draft rendered with 「草稿 — 非正式报告」 on every page, as a job (303 to its page)."""
    from gongu.jobs.api import JobBusy, enqueue
    from gongu.web.pages_jobs import to_job

    row = require_case(request, request.path_params["case_id"])
    if not isinstance(row, WorkspaceCase):
        return row
    account = request.state.account
    archive_ = web_archive(request)
    try:
        job = enqueue(archive_.catalog, "preview", {"case_id": row.case_id}, by=account.username,
                      person=account.person, case_id=row.case_id, now=archive_.now())
    except JobBusy as exc:
        return to_job(exc.existing)
    trail.record(request, "case_preview", case_id=row.case_id, job=job.id)
    return to_job(job)


@page("/cases/{case_id}/draft/{version}.{ext}", roles=CASE_ROLES, name="case_draft_file")
def draft_file(request: Request) -> Response:
    from starlette.responses import FileResponse

    from gongu.web.need_to_know import log_read

    row = require_case(request, request.path_params["case_id"])
    if not isinstance(row, WorkspaceCase):
        return row
    ext = request.path_params["ext"]
    try:
        folder = workspace.preview_folder(web_settings(request).home, row.case_id, request.path_params["version"])
    except workspace.WorkspaceRefused:
        folder = None
    path = folder / f"draft.{ext}" if folder is not None and ext in ("pdf", "docx") else None
    if path is None or not path.is_file():
        return render(request, "error.html", {"title": "没有此草稿", "message": "该版本的草稿报告不存在，请重新预览"},
                      status=404)
    if row.kind == "forensic_appraisal":
        from generator.loading import CaseFileError

        try:
            log_read(request, workspace.load(web_settings(request).home, row.case_id).case, f"draft.{ext}")
        except CaseFileError:
            pass
    media = {"pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[ext]
    return FileResponse(path, media_type=media, filename=f"{row.case_id}-草稿.{ext}",
                        content_disposition_type="inline" if ext == "pdf" else "attachment")


# ───────────────────────────── Excel lists ─────────────────────────────

# The lists kept in Excel: section → (case-file key, template, reader, file name).
SHEETS = {"losses": ("losses", "loss_template", "read_losses", "损失清单"),
          "materials": ("materials", "materials_template", "read_materials", "鉴定材料清单")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet_section(request: Request) -> tuple[WorkspaceCase, drafting.Section, tuple[str, str, str, str]] | Response:
    found = _case_and_section(request)
    if isinstance(found, Response):
        return found
    row, sec = found
    if sec.key not in SHEETS:
        return render(request, "error.html", {"title": "没有此清单", "message": "这一部分没有 Excel 清单"}, status=404)
    return row, sec, SHEETS[sec.key]


@page("/cases/{case_id}/{section:str}.xlsx", roles=CASE_ROLES, name="case_sheet")
def sheet_template(request: Request) -> Response:
    from gongu.pipeline import sheets

    found = _sheet_section(request)
    if isinstance(found, Response):
        return found
    row, _sec, (_key, template, _reader, title) = found
    content = getattr(sheets, template)(drafting.read_data(web_settings(request).home, row.case_id))
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f'{row.case_id}-{title}.xlsx')}"})


@page("/cases/{case_id}/{section:str}.xlsx", methods=("POST",), roles=CASE_ROLES, name="case_sheet_import")
def sheet_import(request: Request) -> Response:
    """The list filled in Excel replaces the section's rows: every row is validated first and a refused
    sheet changes nothing (each problem names its row and column)."""
    from gongu.pipeline import sheet_io, sheets

    found = _sheet_section(request)
    if isinstance(found, Response):
        return found
    row, sec, (key, _template, reader, title) = found
    home = web_settings(request).home
    upload = request.state.form.get("sheet")
    data = drafting.read_data(home, row.case_id)
    problems: list[str] = []
    if upload is None or not hasattr(upload, "file"):
        problems = ["请选择要导入的 .xlsx 文件"]
    else:
        content = upload.file.read(sheet_io.MAX_XLSX_BYTES + 1)
        try:
            rows = getattr(sheets, reader)(content, data)
        except sheets.SheetRefused as exc:
            problems = [f"{p.path}（{p.title}）：{p.message}" + (f"（值：{p.value}）" if p.value not in (None, "") else "")
                        for p in exc.problems]
    if not problems:
        values = {k: data[k] for k in sec.keys if k in data} | {key: rows}
        try:
            saved = draft_saving.save_section(web_archive(request).catalog, home, row.case_id, sec.key, values,
                                              base=str(request.state.form.get("_base", "")),
                                              account=request.state.account, now=now(request))
        except workspace.WorkspaceRefused as exc:
            problems = exc.reasons
        else:
            trail.record(request, "case_sheet_import", case_id=row.case_id, section=sec.key, rows=len(rows),
                         version=saved.version)
            flash(request, f"已导入{title} {len(rows)} 行（第 {saved.version} 版）。" if saved.version
                  else f"{title}与本案现有内容相同，没有改动。")
            return RedirectResponse(f"/cases/{quote(row.case_id)}/edit/{sec.key}", status_code=303)
    context = _section_context(request, row, sec, data, drafting.problems_of(data),
                               base=drafting.digest(data, sec.keys), errors=[f"{title}未导入，本案未作任何改动：", *problems])
    return render(request, "draft_section.html", context, status=400)


@page("/cases/{case_id}/reissue", methods=("POST",), roles=CASE_ROLES, name="case_reissue")
def reissue(request: Request) -> Response:
    """「更正并重新出具」: the issued case becomes a draft again, to be corrected, reviewed at every level and
    issued under the next R number (the first report stays on record and in the archive)."""
    from gongu.web.pages_cases import case_page_with_errors

    row = require_case(request, request.path_params["case_id"])
    if not isinstance(row, WorkspaceCase):
        return row
    reason = str(request.state.form.get("reason", "")).strip()[:2000]
    try:
        version = draft_saving.reopen_for_reissue(web_archive(request).catalog, web_settings(request).home,
                                                  row.case_id, reason, account=request.state.account,
                                                  now=now(request))
    except workspace.WorkspaceRefused as exc:
        return case_page_with_errors(request, row.case_id, ["未能重新出具：", *exc.reasons])
    trail.record(request, "case_reissue_start", case_id=row.case_id, report_number=row.report_number, reason=reason,
                 version=version)
    flash(request, "案件已转为草稿：请更正后提交审核，三级审核后以新编号（R 后缀）重新出具。")
    return RedirectResponse(f"/cases/{quote(row.case_id)}/edit", status_code=303)
