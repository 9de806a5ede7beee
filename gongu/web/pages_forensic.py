"""The forensic pages of the web workspace: a case's documents with their
state, each inline (PDF) and as DOCX; its time limits and rule findings by article; the draw with its
verification; the work ledger (川司鉴协〔2022〕7号 五（三）) with filters and its export.

Every figure comes from gongu/pipeline/forensic_workspace.py, which calls the same functions as `gongu render`,
`gongu adjust`, `gongu check`, `gongu draw verify|log` and `gongu ledger export`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.workspace import cases_by_id
from generator.loading import CaseFileError, LoadedCase
from generator.rules.registry import severity_title
from gongu.access.case_access import mask_identifiers, visible_case, visible_ids
from gongu.pipeline import forensic_workspace as fw
from gongu.pipeline.ledger import COLUMNS, LedgerRow
from gongu.pipeline.ledger_export import FORMATS
from gongu.pipeline.ledger_sources import LedgerSourceError
from gongu.web import forensic_view, trail
from gongu.web.access import page
from gongu.web.case_links import CaseLink, register
from gongu.web.need_to_know import log_read, may_see_folder
from gongu.web.render import render
from gongu.web.state import now, web_archive, web_settings

# Appraisers and reviewers work the cases, approvers sign them off (签发), the forensic supervisor oversees
# them; which cases each one sees is the need-to-know rule (gongu/access/case_access.py). admin sees none.
FORENSIC_ROLES = frozenset({"appraiser", "reviewer", "approver", "forensic_supervisor"})
PREFIX = "/forensic"
LEDGER_FILTERS = {"source": "来源", "commission_kind": "委托方式", "selection": "机构选择方式",
                  "completion_in_time": "按期完成"}


# The links the case page shows for a forensic case: (title, path with {case_id}). Its documents, time
# limits and findings are sections of the case page itself (gongu/web/forensic_view.py).
CASE_LINKS = (("随机抽取鉴定机构", PREFIX + "/cases/{case_id}/draw"),)


def case_links(case_id: str) -> list[tuple[str, str]]:
    return [(title, path.format(case_id=quote(case_id, safe=""))) for title, path in CASE_LINKS]


def _register_case_links() -> None:
    """Into the generic case page's per-kind registry (gongu/web/case_links.py): the case page links here."""
    for title, path in CASE_LINKS:
        register(CaseLink(title, path, kinds=frozenset({fw.FORENSIC}), roles=FORENSIC_ROLES))


_register_case_links()


def _home(request: Request) -> Path:
    return web_settings(request).home


def _cache(request: Request) -> Path:
    return _home(request) / "web-cache" / "forensic"


def _problem(request: Request, title: str, message: str, status: int, problems: list[Any] | None = None) -> Response:
    return render(request, "forensic/problem.html",
                  {"heading": title, "message": message, "problems": problems or []}, status=status)


def _load(request: Request) -> LoadedCase | Response:
    case_id = request.path_params["case_id"]
    if not may_see_folder(request, case_id, fw.FORENSIC):  # need to know: the same answer as no such case
        return _problem(request, "没有这个司法鉴定案件", f"案件编号：{case_id}", 404)
    try:
        return fw.load_forensic_case(_home(request), case_id)
    except fw.CaseNotFound:
        from gongu.web.pages_cases import destroyed_page

        gone = destroyed_page(request, case_id, status=410)  # destroyed at the end of retention: its tombstone
        return gone or _problem(request, "没有这个司法鉴定案件", f"案件编号：{case_id}", 404)
    except CaseFileError as exc:
        return _problem(request, "案件文件校验未通过", f"{case_id}：请按 JSON 路径改正后再打开", 422, exc.problems)


# ─────────────────────────────────────────── cases ────────────────────────────────────────────


@page(f"{PREFIX}/cases", methods=("GET",), roles=FORENSIC_ROLES, name="forensic_cases", nav="司法鉴定")
def cases_page(request: Request) -> Response:
    cases, invalid = fw.list_cases(_home(request))
    # need to know: only the cases this account may see, identifiers masked (in full on the case page)
    catalog = web_archive(request).catalog
    mine = visible_ids(catalog, request.state.account, [c.case_id for c in cases] + [i for i, _ in invalid],
                       fw.FORENSIC)
    cases = [replace(c, case_name=mask_identifiers(c.case_name)) for c in cases if c.case_id in mine]
    invalid = [entry for entry in invalid if entry[0] in mine]
    # Where each case stands in the three-level review: a case put in the folder by hand,
    # not uploaded through the workspace, has no row and is shown as not registered.
    rows = cases_by_id(catalog, [c.case_id for c in cases])
    return render(request, "forensic/cases.html", {"cases": cases, "invalid": invalid, "rows": rows})


@page(PREFIX + "/cases/{case_id}", methods=("GET",), roles=FORENSIC_ROLES, name="forensic_case")
def case_page(request: Request) -> Response:
    """One case page per case: a case in the workspace's workflow is shown at /cases/<id> with these
    sections beside it (308 there, after the same need-to-know answer as every case page). A folder put
    in the workspace by hand has no workflow: its forensic sections are shown here, alone."""
    case_id = request.path_params["case_id"]
    row = visible_case(web_archive(request).catalog, request.state.account, case_id)
    if row is not None and row.kind == fw.FORENSIC:
        return RedirectResponse(f"/cases/{quote(case_id, safe='')}", status_code=308)
    loaded = _load(request)
    if isinstance(loaded, Response):
        return loaded
    log_read(request, loaded.case, "forensic_case_page")
    context: dict[str, Any] = {"case": loaded.case, **forensic_view.sections(request, loaded),
                               "qc": forensic_view.findings(loaded, request, "issue"), "qc_stage": "issue",
                               "severity_title": severity_title}
    return render(request, "forensic/case.html", context)


def _rendered(request: Request, loaded: LoadedCase, key: str) -> fw.RenderedFiles | Response:
    from generator.render import RenderError

    try:
        doc = fw.rendered_document(loaded, key, _cache(request))
    except RenderError as exc:
        return _problem(request, "文书无法生成", str(exc), 422)
    if doc is None:
        return _problem(request, "本案没有这份文书", f"文书：{key}", 404)
    return doc


@page(PREFIX + "/cases/{case_id}/documents/{key}", methods=("GET",), roles=FORENSIC_ROLES,
      name="forensic_document")
def document_page(request: Request) -> Response:
    loaded = _load(request)
    if isinstance(loaded, Response):
        return loaded
    doc = _rendered(request, loaded, request.path_params["key"])
    if isinstance(doc, Response):
        return doc
    log_read(request, loaded.case, "document_page", document=doc.key)
    return render(request, "forensic/document.html", {"case": loaded.case, "doc": doc})


def _document_file(request: Request, fmt: str) -> Response:
    loaded = _load(request)
    if isinstance(loaded, Response):
        return loaded
    key = request.path_params["key"]
    doc = _rendered(request, loaded, key)
    if isinstance(doc, Response):
        return doc
    path = doc.pdf if fmt == "pdf" else doc.docx
    if path is None:
        return _problem(request, "没有这种格式", fmt, 404)
    log_read(request, loaded.case, f"document.{'view' if fmt == 'pdf' else 'download'}", document=key, format=fmt)
    media = ("application/pdf" if fmt == "pdf"
             else "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    disposition = "inline" if fmt == "pdf" else "attachment"
    name = f"{loaded.case.case_id}-{key}.{fmt}"
    return Response(path.read_bytes(), media_type=media, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"})


@page(PREFIX + "/cases/{case_id}/documents/{key}/pdf", methods=("GET",), roles=FORENSIC_ROLES,
      name="forensic_document_pdf")
def document_pdf(request: Request) -> Response:
    return _document_file(request, "pdf")


@page(PREFIX + "/cases/{case_id}/documents/{key}/docx", methods=("GET",), roles=FORENSIC_ROLES,
      name="forensic_document_docx")
def document_docx(request: Request) -> Response:
    return _document_file(request, "docx")


# ─────────────────────────────────────────── the draw ─────────────────────────────────────────


@page(PREFIX + "/cases/{case_id}/draw", methods=("GET",), roles=FORENSIC_ROLES, name="forensic_draw")
def draw_page(request: Request) -> Response:
    loaded = _load(request)
    if isinstance(loaded, Response):
        return loaded
    view = fw.draw_view(loaded)
    checked = request.query_params.get("checked") == "1"
    from generator.forensic.commission import MATTER_KIND_TITLES

    return render(request, "forensic/draw.html", {"case": loaded.case, "view": view, "checked": checked,
                                                   "logged": request.query_params.get("logged", ""),
                                                   "matter_titles": MATTER_KIND_TITLES})


@page(PREFIX + "/cases/{case_id}/draw/verify", methods=("POST",), roles=FORENSIC_ROLES,
      name="forensic_draw_verify")
def draw_verify(request: Request) -> Response:
    """`gongu draw verify` from the page: everything re-computed from the record alone; recorded in the trail."""
    loaded = _load(request)
    if isinstance(loaded, Response):
        return loaded
    view = fw.draw_view(loaded)
    if view is None:
        return _problem(request, "本案没有抽取记录", "机构为协商选定，或 selection.draw_record 未填写", 404)
    trail.record(request, "forensic.draw.verify", case_id=loaded.case.case_id, record_sha256=view.sha256 or "",
                 verified=view.verified, problems=len(view.problems))
    url = f"{PREFIX}/cases/{quote(loaded.case.case_id)}/draw?checked=1"
    return RedirectResponse(url, status_code=303)


@page(PREFIX + "/cases/{case_id}/draw/log", methods=("POST",), roles=FORENSIC_ROLES, name="forensic_draw_log")
def draw_log(request: Request) -> Response:
    """`gongu draw log`: the draw registered in the archive's event log by the logged-in person."""
    from archive.draw_log import DrawLogRefused, log_draw

    loaded = _load(request)
    if isinstance(loaded, Response):
        return loaded
    path = fw.draw_record_path(loaded)
    if path is None or not path.is_file():
        return _problem(request, "本案没有抽取记录", "机构为协商选定，或记录文件不存在", 404)
    account = request.state.account
    try:
        event, details = log_draw(web_archive(request), path, by=f"{account.person}（{account.username}）")
    except DrawLogRefused as exc:
        return _problem(request, "抽取未能登记", str(exc), 422)
    trail.record(request, "forensic.draw.log", case_id=loaded.case.case_id,
                 record_sha256=details["record_sha256"], new=event is not None)
    state = f"seq-{event.seq}" if event is not None else "already"
    return RedirectResponse(f"{PREFIX}/cases/{quote(loaded.case.case_id)}/draw?logged={state}", status_code=303)


# ─────────────────────────────────────────── the ledger ───────────────────────────────────────


def _period(request: Request) -> tuple[date, date] | str:
    today = now(request).date()  # the archive's clock, the one the rest of the workspace tells time by
    raw_from = request.query_params.get("from") or f"{today.year}-01-01"
    raw_to = request.query_params.get("to") or f"{today.year}-12-31"
    try:
        start, end = date.fromisoformat(raw_from), date.fromisoformat(raw_to)
    except ValueError:
        return f"日期应为 YYYY-MM-DD（如 2026-03-01）：{raw_from!r} — {raw_to!r}"
    if start > end:
        return f"起始日期 {start} 晚于结束日期 {end}"
    return start, end


def _filtered(rows: list[LedgerRow], request: Request) -> list[LedgerRow]:
    out = rows
    for key in LEDGER_FILTERS:
        want = request.query_params.get(key)
        if want:
            out = [r for r in out if getattr(r, key) == want]
    q = (request.query_params.get("q") or "").strip()
    if q:
        out = [r for r in out if q in r.case_id or q in r.case_name or q in r.report_number or q in r.institution]
    return out


def _ledger(request: Request) -> tuple[date, date, list[LedgerRow], list[LedgerRow], list[str]] | Response:
    period = _period(request)
    if isinstance(period, str):
        return _problem(request, "台账期间不对", period, 400)
    start, end = period
    from gongu.pipeline.archiving import archive_config

    root = archive_config(web_settings(request)).root
    try:
        # the archived cases' rows as the catalog keeps them: one query, not every package on disk
        ledger = fw.workspace_ledger(_home(request), root, start, end, web_archive(request).catalog)
    except LedgerSourceError as exc:
        return _problem(request, "台账未能生成", exc.message, 422, exc.problems)
    rows = _visible_rows(request, ledger.rows)
    return start, end, rows, _filtered(rows, request), ledger.warnings


def _visible_rows(request: Request, rows: list[LedgerRow]) -> list[LedgerRow]:
    """Need to know for the ledger: the rows of cases this account may see (all of them for the forensic
    supervisor, whose register it is); an archived case counts for the people who were on it."""
    mine = visible_ids(web_archive(request).catalog, request.state.account, sorted({r.case_id for r in rows}),
                       fw.FORENSIC)
    return [r for r in rows if r.case_id in mine]


LEDGER_PAGE_ROWS = 100


@page(PREFIX + "/ledger", methods=("GET",), roles=FORENSIC_ROLES, name="forensic_ledger", nav="工作台账")
def ledger_page(request: Request) -> Response:
    got = _ledger(request)
    if isinstance(got, Response):
        return got
    start, end, every, rows, warnings = got
    choices = {k: sorted({getattr(r, k) for r in every}) for k in LEDGER_FILTERS}
    params = {k: v for k, v in request.query_params.items() if k in (*LEDGER_FILTERS, "q") and v}
    export = {fmt: f"{PREFIX}/ledger/export?" + urlencode({"from": start, "to": end, **params, "format": fmt})
              for fmt in FORMATS}
    # the table a page at a time (a year of an institution's cases is thousands of rows); the export has them all
    pages = max(1, -(-len(rows) // LEDGER_PAGE_ROWS))
    try:
        page_no = min(pages, max(1, int(request.query_params.get("page", "1"))))
    except ValueError:
        page_no = 1
    shown = rows[(page_no - 1) * LEDGER_PAGE_ROWS:page_no * LEDGER_PAGE_ROWS]
    # a list: personal identifiers masked (the export is the register itself, in full)
    shown = [replace(r, case_name=mask_identifiers(r.case_name), clients=mask_identifiers(r.clients)) for r in shown]
    pager = f"{PREFIX}/ledger?" + urlencode({"from": start, "to": end, **params}) + "&page="
    return render(request, "forensic/ledger.html", {
        "start": start, "end": end, "columns": COLUMNS, "rows": shown, "count": len(rows), "total": len(every),
        "warnings": warnings, "filters": LEDGER_FILTERS, "choices": choices, "params": params, "export": export,
        "page_no": page_no, "pages": pages, "pager": pager,
    })


@page(PREFIX + "/ledger/export", methods=("GET",), roles=FORENSIC_ROLES, name="forensic_ledger_export")
def ledger_export(request: Request) -> Response:
    fmt = request.query_params.get("format", "xlsx")
    if fmt not in FORMATS:
        return _problem(request, "导出格式不对", f"只能是 {' 或 '.join(FORMATS)}：{fmt!r}", 400)
    got = _ledger(request)
    if isinstance(got, Response):
        return got
    start, end, _, rows, _ = got
    from gongu.pipeline.ledger import Ledger

    data, name, media = fw.ledger_file(Ledger(rows=rows, warnings=[]), fmt, start, end)
    trail.record(request, "forensic.ledger.export", period=f"{start}/{end}", format=fmt, rows=len(rows))
    return Response(data, media_type=media, headers={"Content-Disposition": f"attachment; filename=\"{name}\""})
