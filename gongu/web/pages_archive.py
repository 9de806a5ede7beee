"""The archivist's pages: search, a package page, retrieval of a verified copy,
holds, withdrawing an issued document by its check code, two-account disposal and the 四性 audit. Every rule is the archive's own (archive/retrieval.py,
holds.py, disposal.py, audit.py) and every search goes through the engine the CLI opens; this module only
gathers what a page shows. Every view of an archived package and every action is in the trail."""

from __future__ import annotations

import html
import io
import re
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import bagit
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive import package
from archive.check_codes import case_codes, withdraw
from archive.disposal import DisposalRefused, approve, eligibility, execute, propose
from archive.holds import HOLD_KINDS as _HOLD_KINDS
from archive.holds import place_hold, release_hold
from archive.names import inside
from archive.retrieval import get
from archive.signature_checks import SOURCES, latest, recorded_checks
from archive.store import ArchiveError
from gongu.access.case_access import mask_identifiers
from gongu.pipeline.archiving import missing_package_advice
from gongu.pipeline.searching import build_query, catch_up, resolve_hits
from gongu.web.access import page
from gongu.web.render import env, flash, render
from gongu.web.state import web_archive, web_index, web_settings
from gongu.web.trail import record
from gongu.web.two_person import blocker, standing
from index.extract import STATUS_TITLES
from index.query import KIND_TITLES, QueryError, SearchResults

VIEWERS = {"archivist"}  # archivists see and act on archived packages; admin sees no case content
ACTORS = {"archivist"}
HOLD_KINDS = _HOLD_KINDS  # the archive's own titles, as every page shows them
PAGE_SIZE = 10

_MARK = re.compile(r"(</?mark>)")


def safe_marks(snippet: str) -> Markup:
    """A snippet from index/highlight.py with only its <mark> tags kept: every other piece is unescaped
    and escaped again, so whatever the case text holds it is shown as text (never trusted as HTML)."""
    parts = _MARK.split(snippet)
    return Markup("".join(p if p in ("<mark>", "</mark>") else str(escape(html.unescape(p))) for p in parts))


env.filters["safe_marks"] = safe_marks


def _case_url(case_id: str) -> str:
    return "/archive/cases/" + quote(case_id, safe="")


def _back(case_id: str) -> RedirectResponse:
    return RedirectResponse(_case_url(case_id), status_code=303)


# ── search ──

@page("/archive/search", roles=VIEWERS, name="archive_search", nav="档案检索")
def archive_search(request: Request) -> Response:
    params = request.query_params
    text = params.get("q", "").strip()
    kind = params.get("kind") or None
    status = params.get("status") or None
    sort = params.get("sort", "score")
    try:
        page_no = max(1, int(params.get("page", "1")))
    except ValueError:
        page_no = 1
    context: dict[str, Any] = {"q": text, "kind": kind or "", "status": status or "", "sort": sort,
                               "kinds": KIND_TITLES, "statuses": STATUS_TITLES, "results": None, "error": None,
                               "date_from": params.get("from", ""), "date_to": params.get("to", ""),
                               "insurer": params.get("insurer", "")}
    if not (text or kind or status or context["date_from"] or context["date_to"] or context["insurer"]):
        return render(request, "archive_search.html", context)
    settings = web_settings(request)
    try:
        query = build_query(text, insurer=context["insurer"] or None, kind=kind, status=status,
                            date_from=context["date_from"] or None, date_to=context["date_to"] or None,
                            sort=sort, page=page_no, page_size=PAGE_SIZE)
    except QueryError as exc:
        context["error"] = str(exc)
        return render(request, "archive_search.html", context, status=400)
    from index.postgres_backend import SearchUnavailableError

    failures = catch_up(settings)
    try:
        results = web_index(request).search(query)
    except SearchUnavailableError as exc:  # the shared search server is down or too slow: say so
        context["error"] = str(exc)
        return render(request, "archive_search.html", context, status=503)
    results = masked_results(results)
    missing = resolve_hits(settings, results)
    for problem in failures:
        flash(request, f"索引更新未能补做：{problem}；请运行 gongu index sync", "error")
    advice = missing_package_advice(settings, command="四性检测") if missing else ""  # or: check the mount
    for path in missing:
        flash(request, f"档案包不在磁盘上：{path}（{advice}）", "error")
    record(request, "archive_search", query=text, kind=kind, status=status, page=page_no, total=results.total)
    base = {k: v for k, v in params.items() if k != "page"}
    context.update(results=results, pager_base="&".join(f"{quote(k)}={quote(v)}" for k, v in base.items()))
    return render(request, "archive_search.html", context)


_FREE_TEXT_FIELDS = frozenset({"case_name", "insured", "insurer", "project", "parties", "clients"})


def masked_results(results: SearchResults) -> SearchResults:
    """Forensic hits as a list shows them: personal identifiers masked in the snippets and the fields
    (in full only on the case page)."""
    hits = []
    for hit in results.hits:
        if hit.fields.get("kind") == "forensic_appraisal":
            fields = {k: mask_identifiers(v) if isinstance(v, str) and k in _FREE_TEXT_FIELDS else v
                      for k, v in hit.fields.items()}
            hit = replace(hit, fields=fields, snippets=tuple(mask_identifiers(s) for s in hit.snippets))
        hits.append(hit)
    return replace(results, hits=tuple(hits))


# ── the package page ──

def _files(bag_dir: Path) -> list[dict[str, Any]]:
    entries = bagit.Bag(str(bag_dir)).payload_entries()
    rows = []
    for rel, hashes in sorted(entries.items()):
        path = bag_dir / rel
        rows.append({"path": rel, "size": path.stat().st_size if path.exists() else None,
                     "sha256": hashes.get("sha256", next(iter(hashes.values()), ""))})
    return rows


def case_record(request: Request, case_id: str) -> dict[str, Any]:
    """Everything the package page shows for one case, from the catalog, the packages and the log. The
    reports' signatures are shown as the log recorded their verification (at ingest, by the last 四性
    audit, by the last 「立即验证」, archive/signature_checks.py), never verified again on a view."""
    archive = web_archive(request)
    cat = archive.catalog
    events = cat.events(case_id)
    recorded = recorded_checks(events)
    packages = []
    for row in cat.packages(case_id):
        checks = recorded.get(row["report_number"], {})
        entry: dict[str, Any] = {"row": row, "files": [], "problem": None, "checks": checks,
                                 "latest": latest(checks)}
        if row["state"] == "active":
            bag_dir = inside(archive.root, *row["rel_path"].split("/"))
            if not package.is_bag(bag_dir):
                entry["problem"] = f"档案包缺失：{row['rel_path']}（请运行四性检测 / fsck）"
            else:
                entry["files"] = _files(bag_dir)
        packages.append(entry)
    disposal = cat.open_disposal(case_id)
    today = archive.today()
    from archive.disposal import disposal_blockers

    return {"case_id": case_id, "packages": packages, "holds": cat.active_holds(case_id),
            "tombstones": cat.tombstones(case_id), "disposal": disposal, "codes": case_codes(cat, case_id),
            "blockers": disposal_blockers(archive, case_id, today) if any(
                p["row"]["state"] == "active" for p in packages) else [],
            "today": today, "events": events, "hold_kinds": HOLD_KINDS, "sources": SOURCES,
            "verifying": _verify_job(cat, case_id),
            # The firm's classes (10.4), so the page names a class by its title, not its code.
            "retention": archive.config.retention}


@page("/archive/cases/{case_id}", roles=VIEWERS, name="archive_case")
def archive_case(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    context = case_record(request, case_id)
    if not context["packages"]:
        return render(request, "error.html", {"title": "未找到", "message": f"档案中没有案件 {case_id}"}, status=404)
    record(request, "archive_view", case_id=case_id)
    return render(request, "archive_case.html", context)


@page("/archive/cases/{case_id}/copy", methods=("POST",), roles=ACTORS, name="archive_copy")
def archive_copy(request: Request) -> Response:
    """A copy of the case's packages with its verification report, as `gongu archive get` exports it,
    zipped for the browser; the retrieval is logged by get() and the download by the trail."""
    case_id = request.path_params["case_id"]
    account = request.state.account
    archive = web_archive(request)
    with tempfile.TemporaryDirectory(prefix="gongu-copy-") as tmp:
        out = Path(tmp) / "copy"
        try:
            report = get(archive, case_id, out, by=account.person)
        except ArchiveError as exc:
            flash(request, str(exc), "error")
            return _back(case_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(out).as_posix())
    record(request, "archive_copy", case_id=case_id, ok=report["ok"],
           packages=[p["report_number"] for p in report["packages"]])
    name = f"{case_id}-copy.zip"
    return Response(buffer.getvalue(), media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename=\"copy.zip\"; filename*=UTF-8''{quote(name)}"})


def _verify_job(catalog: Any, case_id: str) -> Any:  # gongu.jobs.model.Job | None
    """The case's 「立即验证」 job still queued or running, if any."""
    from gongu.jobs.api import list_jobs

    return next((j for j in list_jobs(catalog, kind="verify_package", states=("queued", "running"), limit=50)
                 if j.params.get("case_id") == case_id), None)


@page("/archive/cases/{case_id}/verify", methods=("POST",), roles=VIEWERS, name="archive_verify")
def archive_verify(request: Request) -> Response:
    """「立即验证」: the reports' signatures verified by a background job (about a second per tagged report),
    whose results the log records and the package page then shows with their date; 303 to the job's page
    (to the one already queued or running for this case, on a second click)."""
    from gongu.jobs.api import enqueue
    from gongu.web.pages_jobs import to_job

    case_id = request.path_params["case_id"]
    archive = web_archive(request)
    if not archive.catalog.packages(case_id, state="active"):
        flash(request, f"档案中没有案件 {case_id} 的在库档案包", "error")
        return _back(case_id)
    if (running := _verify_job(archive.catalog, case_id)) is not None:
        return to_job(running)
    account = request.state.account
    job = enqueue(archive.catalog, "verify_package", {"case_id": case_id}, by=account.username,
                  person=account.person, now=archive.now())
    record(request, "archive_verify", case_id=case_id, job=job.id)
    return to_job(job)


# ── holds ──

def _session_credential(request: Request) -> dict[str, object]:
    """What the log records of how the person proved who they are: their logged-in account."""
    return {"method": "web_session", "account": request.state.account.username}


@page("/archive/cases/{case_id}/hold", methods=("POST",), roles=ACTORS, name="archive_hold")
def archive_hold(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    form = request.state.form
    kind, reason, reference = (str(form.get(k, "")).strip() for k in ("kind", "reason", "reference"))
    if not reason or not reference or kind not in HOLD_KINDS:
        flash(request, "冻结须写明类型、原因与文号", "error")
        return _back(case_id)
    try:
        hold_id = place_hold(web_archive(request), case_id, kind=kind, reason=reason, reference=reference,
                             by=request.state.account.person, credential=_session_credential(request))
    except ArchiveError as exc:
        flash(request, str(exc), "error")
        return _back(case_id)
    record(request, "archive_hold", case_id=case_id, hold_id=hold_id, kind=kind, reference=reference)
    flash(request, f"已冻结案件 {case_id}（文号 {reference}）")
    return _back(case_id)


@page("/archive/cases/{case_id}/release", methods=("POST",), roles=ACTORS, name="archive_release")
def archive_release(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    form = request.state.form
    reason = str(form.get("reason", "")).strip()
    reference = str(form.get("reference", "")).strip() or None
    decision_reference = str(form.get("decision_reference", "")).strip()
    if not reason:
        flash(request, "解除冻结须写明原因", "error")
        return _back(case_id)
    refused = blocker(request, "archivist")
    if refused:
        flash(request, f"不能解除冻结：{refused}", "error")
        return _back(case_id)
    try:  # the two-person and reference rules are archive/holds.py's, the same for the CLI
        hold = release_hold(web_archive(request), case_id, by=request.state.account.person, reason=reason,
                            reference=reference, decision_reference=decision_reference,
                            credential=_session_credential(request))
    except ArchiveError as exc:
        flash(request, str(exc), "error")
        return _back(case_id)
    record(request, "archive_release", case_id=case_id, reference=hold["reference"])
    flash(request, f"已解除案件 {case_id} 的冻结（文号 {hold['reference']}）")
    return _back(case_id)


# ── withdrawing an issued document (the public check page then says 已撤回) ──

@page("/archive/cases/{case_id}/withdraw", methods=("POST",), roles=ACTORS, name="archive_withdraw")
def archive_withdraw(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    form = request.state.form
    code, reason = (str(form.get(k, "")).strip() for k in ("code", "reason"))
    if not any(c.code == code for c in case_codes(web_archive(request).catalog, case_id)):
        flash(request, f"案件 {case_id} 没有校验码 {code}", "error")
        return _back(case_id)
    refused = blocker(request, "archivist")
    if refused:
        flash(request, f"不能撤回：{refused}", "error")
        return _back(case_id)
    try:  # the reason rule and the log event are archive/check_codes.py's, the same for the CLI
        done = withdraw(web_archive(request), code, reason=reason, by=request.state.account.person,
                        credential=_session_credential(request))
    except ArchiveError as exc:
        flash(request, str(exc), "error")
        return _back(case_id)
    record(request, "archive_withdraw", case_id=case_id, report_number=done.report_number, code=done.code)
    flash(request, f"已撤回 {done.kind} {done.report_number}：公开校验页此后显示「已撤回」")
    return _back(case_id)


# ── disposal: proposed by one account, approved by another ──

def proposing_account(request: Request, case_id: str, disposal_id: int) -> str | None:
    """The account that proposed this disposal through the workspace (from the trail in the log)."""
    for event in reversed(web_archive(request).catalog.events(case_id)):
        d = event.details
        if event.kind == "web" and d.get("action") == "dispose_propose" and d.get("disposal_id") == disposal_id:
            return str(d.get("account"))
    return None


@page("/archive/disposal", roles=VIEWERS, name="archive_disposal", nav="销毁审批")
def archive_disposal(request: Request) -> Response:
    archive = web_archive(request)
    rows = eligibility(archive)
    pending = archive.catalog.disposals(states=("proposed", "approved"))
    return render(request, "archive_disposal.html", {"eligible": [r for r in rows if r.eligible],
                                                     "blocked": [r for r in rows if not r.eligible],
                                                     "pending": pending, "today": archive.today(),
                                                     "standing": standing(request, frozenset(ACTORS)),
                                                     "grant_delay": web_settings(request).accounts.grant_delay_hours})


def _disposal_step(request: Request, step: str) -> Response:
    case_id = request.path_params["case_id"]
    account = request.state.account
    archive = web_archive(request)
    refused = blocker(request, "archivist") if step in ("approve", "execute") else None
    if refused:
        flash(request, f"不能{'批准' if step == 'approve' else '执行'}销毁：{refused}", "error")
        return _back(case_id)
    try:
        if step == "propose":
            disposal_id = propose(archive, case_id, by=account.person, credential=_session_credential(request))
            detail: dict[str, Any] = {"disposal_id": disposal_id}
        elif step == "approve":
            open_disposal = archive.catalog.open_disposal(case_id)
            if open_disposal is not None and proposing_account(request, case_id, open_disposal["id"]) == account.username:
                raise DisposalRefused("销毁须由另一个账户批准：不能批准自己提出的销毁")
            approve(archive, case_id, by=account.person, credential=_session_credential(request))
            detail = {"disposal_id": open_disposal["id"] if open_disposal else None}
        else:
            tombs = execute(archive, case_id, by=account.person, credential=_session_credential(request))
            detail = {"report_numbers": [str(t["report_number"]) for t in tombs]}
    except ArchiveError as exc:  # DisposalRefused is one: the rule's own message, shown on the page
        flash(request, str(exc), "error")
        return _back(case_id)
    record(request, f"dispose_{step}", case_id=case_id, **detail)
    flash(request, {"propose": "已提议销毁；须由另一档案管理账户批准", "approve": "已批准销毁",
                    "execute": "已销毁；墓碑保留于目录与日志"}[step])
    return _back(case_id)


@page("/archive/cases/{case_id}/dispose/propose", methods=("POST",), roles=ACTORS, name="archive_dispose_propose")
def archive_dispose_propose(request: Request) -> Response:
    return _disposal_step(request, "propose")


@page("/archive/cases/{case_id}/dispose/approve", methods=("POST",), roles=ACTORS, name="archive_dispose_approve")
def archive_dispose_approve(request: Request) -> Response:
    return _disposal_step(request, "approve")


@page("/archive/cases/{case_id}/dispose/execute", methods=("POST",), roles=ACTORS, name="archive_dispose_execute")
def archive_dispose_execute(request: Request) -> Response:
    return _disposal_step(request, "execute")


# ── the 四性 audit ──

@page("/archive/audit", roles=VIEWERS, name="archive_audit", nav="四性检测")
def archive_audit(request: Request) -> Response:
    """The last finished 四性 audit (run weekly by the workers, or on request) and, if one is queued or
    running, a link to it."""
    from gongu.web.job_view import audit_report, last_job

    catalog = web_archive(request).catalog
    ended = last_job(catalog, "audit", states=("done", "failed"))  # failed: it found problems, or could not run
    report = audit_report(ended) if ended else None
    return render(request, "archive_audit.html", {
        "result": report, "audit_job": ended, "failed": ended if ended and report is None and ended.state == "failed"
        else None, "running": last_job(catalog, "audit", states=("queued", "running"))})


@page("/archive/audit", methods=("POST",), roles=VIEWERS, name="archive_audit_run")
def archive_audit_run(request: Request) -> Response:
    """A new audit is a background job (it reads every package): 303 to its page; while one is queued or
    running, a second click goes to that one instead of queuing another."""
    from gongu.jobs.api import enqueue
    from gongu.web.job_view import last_job
    from gongu.web.pages_jobs import to_job

    archive = web_archive(request)
    account = request.state.account
    if (running := last_job(archive.catalog, "audit", states=("queued", "running"))) is not None:
        return to_job(running)
    job = enqueue(archive.catalog, "audit", {}, by=account.username, person=account.person, now=archive.now())
    record(request, "archive_audit", job=job.id)
    return to_job(job)
