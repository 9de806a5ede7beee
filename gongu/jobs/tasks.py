"""The job functions: an explicit table kind → function `(ctx, params) -> result`. Each is a thin
wrapper over gongu/pipeline (the same code the synchronous command or page runs), reporting its steps
through `ctx.step` and safe to run again: a retried issue whose case already records the issuance never
issues a second report number (it goes on to archive, or reports what was issued); a retried ingest
joins the existing package (archive ingest is idempotent for the same content).

A task ends by returning its result (links to what it made), or by raising TaskFailed with the reasons
a person can act on; the runner records either (runner.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from archive.catalog import Catalog
from gongu.jobs.model import Job
from gongu.settings import Settings


class TaskFailed(Exception):
    """The task could not do its work: `reasons` in Chinese, `result` what was done before it stopped."""

    def __init__(self, reasons: list[str], result: dict[str, Any] | None = None) -> None:
        self.reasons = reasons
        self.result = result or {}
        super().__init__("；".join(reasons))


class TaskCancelled(Exception):
    """A person asked to cancel; the task stopped between two steps (nothing half-written)."""


@dataclass
class JobContext:
    settings: Settings
    catalog: Catalog
    job: Job
    report: Callable[[str, int, int], bool]  # the runner's step writer: False when the job should stop

    def step(self, text: str, done: int, total: int) -> None:
        """Record the step now beginning; stops the task here when a cancel was requested."""
        if not self.report(text, done, total):
            raise TaskCancelled(text)

    def cancelled(self) -> bool:
        from archive.jobs import job as job_row

        row = job_row(self.catalog, self.job.id)
        return row is None or row["state"] != "running" or row["cancel_requested"] is not None


Task = Callable[[JobContext, dict[str, Any]], dict[str, Any]]


def _now() -> datetime:
    from generator.types import SHANGHAI

    return datetime.now(SHANGHAI).replace(microsecond=0)


def _case_links(case_id: str) -> list[dict[str, str]]:
    q = quote(case_id)
    return [{"title": "案件页", "href": f"/cases/{q}"}, {"title": "报告 PDF", "href": f"/cases/{q}/report.pdf"}]


# ───────────────────────────── issue ─────────────────────────────

_ISSUE_STEPS = ("检查", "渲染", "签章并记录", "归档")


def _workspace_result(settings: Settings, case_id: str, *, archived: bool, reasons: list[str],
                      number: str | None = None, files: dict[str, Path] | None = None,
                      note: str | None = None) -> dict[str, Any]:
    from gongu.pipeline.workspace import issued_files, load

    if number is None or files is None:
        loaded = load(settings.home, case_id)
        number, files = loaded.case.report.number, issued_files(settings.home, loaded)
    out: dict[str, Any] = {"case_id": case_id, "number": number, "files": [str(p) for p in files.values()],
                           "archived": archived, "links": _case_links(case_id)}
    if reasons:
        out["archive_reasons"] = reasons
    if note:
        out["note"] = note
    return out


def _release_own_dead_lock(ctx: JobContext, case_id: str) -> None:
    """A worker killed mid-issue left the case's issue lock (archive/workspace_steps.py). When this job was
    reaped and started again, the lock its earlier attempt took (same account, after the job was queued,
    before this attempt began) is a dead one: given back, so the retry is not refused as 「正在出具」."""
    from archive.workspace_steps import current_lock, release_lock

    held = current_lock(ctx.catalog, case_id)
    job = ctx.job
    if held is None or job.attempts < 2 or held.account != job.started_by or job.started_at is None:
        return
    taken = datetime.fromisoformat(held.started_at)
    if datetime.fromisoformat(job.created_at) <= taken <= datetime.fromisoformat(job.started_at):
        release_lock(ctx.catalog, case_id, held.token)


def _take_back_unrecorded(ctx: JobContext, case_id: str) -> None:
    """A worker killed after issue_case published the files but before it recorded the issuance in the
    case file left files that were never issued (issue_case takes them back itself on any other failure).
    A reaped job's retry of a case with no recorded issuance of its number removes what its dead attempt
    left under that number — written after the job was queued — so the issue can publish again."""
    import shutil

    from generator.render import report_file_stem
    from gongu.pipeline.workspace import load

    if ctx.job.attempts < 2:
        return
    folder = ctx.settings.home / "issued" / case_id
    if not folder.is_dir():
        return
    stem = report_file_stem(load(ctx.settings.home, case_id))
    since = datetime.fromisoformat(ctx.job.created_at).timestamp()
    left = [*folder.glob(f"{stem}.*"), *folder.glob(f"{stem}-*"), *folder.glob(f"internal/{stem}-qc-sheet.html")]
    for path in left:
        if path.is_file() and path.stat().st_mtime >= since:
            path.unlink()
    for work in folder.glob(".issue-*"):  # the dead attempt's work folder (render, seal)
        if work.is_dir() and work.stat().st_mtime >= since:
            shutil.rmtree(work, ignore_errors=True)


def issue_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"issue": a workspace case (params case_id, account_id) → issue_and_archive; a case file
    (params case_file, from `gongu issue --background`) → issue_case."""
    if "case_file" in params:
        return _issue_file(ctx, params)
    from archive.accounts import get_account_by_id
    from archive.workspace import get_case, set_status
    from gongu.pipeline import workspace as ws
    from gongu.pipeline.queue import refresh_due

    case_id = str(params["case_id"])
    total = len(_ISSUE_STEPS)
    ctx.step("检查", 0, total)
    account = get_account_by_id(ctx.catalog, int(params["account_id"]))
    if account is None or account.disabled:
        raise TaskFailed([f"发起出具的账户（编号 {params['account_id']}）已不存在或已停用，须由在职的审核人重新发起"])
    row = get_case(ctx.catalog, case_id)
    if row is None:
        raise TaskFailed([f"工作台中没有案件 {case_id}"])
    home, now = ctx.settings.home, _now().isoformat()
    # A start killed at any step left its issue lock: given back first, whatever is left to do.
    _release_own_dead_lock(ctx, case_id)
    # Idempotent: what an earlier attempt finished is not done again.
    if row.status == "archived":
        return _workspace_result(ctx.settings, case_id, archived=True, reasons=[], note="已出具并归档（此前完成）")
    if row.status == "in_review" and row.next_level is None:
        loaded = ws.load(home, case_id)
        if ws.issued_files(home, loaded):  # recorded in the case file, the status row not yet set
            with ctx.catalog.write():
                set_status(ctx.catalog, case_id, "issued", next_level=None, at=now)
                refresh_due(ctx.catalog, home, case_id, datetime.fromisoformat(now))
            row = get_case(ctx.catalog, case_id) or row
    if row.status == "issued":
        ctx.step("归档", 3, total)
        reasons = ws.archive_issued(ctx.catalog, home, case_id, account=account, now=now, settings=ctx.settings)
        result = _workspace_result(ctx.settings, case_id, archived=not reasons, reasons=reasons,
                                   note="报告此前已出具（编号不变），本次完成归档")
        if reasons:
            raise TaskFailed(["报告已出具并签章，但未能归档：", *reasons], result)
        return result
    _take_back_unrecorded(ctx, case_id)

    def progress(text: str) -> None:
        ctx.step(text, _ISSUE_STEPS.index(text), total)

    try:
        outcome = ws.issue_and_archive(ctx.catalog, home, case_id, account=account, now=now,
                                       settings=ctx.settings, progress=progress)
    except ws.WorkspaceRefused as exc:
        raise TaskFailed(["不予出具：", *exc.reasons]) from None
    result = _workspace_result(ctx.settings, case_id, archived=outcome.archived, reasons=outcome.archive_reasons,
                               number=outcome.number, files=outcome.files)
    if not outcome.archived:
        raise TaskFailed(["报告已出具并签章，但未能归档：", *outcome.archive_reasons], result)
    return result


def _file_issue_result(case: Any, note: str | None = None) -> dict[str, Any]:
    last = case.issuances[-1]
    out: dict[str, Any] = {"case_id": case.case_id, "number": last.number,
                           "files": [f for f in (last.pdf_file, getattr(last, "docx_file", None)) if f]}
    if note:
        out["note"] = note
    return out


def _issue_file(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """`gongu issue CASE --background`: the same issue_case, under the catalog's per-case issue lock."""
    from archive.workspace_steps import release_lock, take_lock
    from generator.issuance import IssueRefused
    from generator.loading import CaseFileError, load_case
    from generator.render import RenderError
    from gongu.output import GonguError
    from gongu.pipeline.issuing import IssueFileExists, issue_case, stepped_renderers
    from gongu.pipeline.sealing import configured_signer
    from signing.seal import SealError

    total = 3
    ctx.step("检查", 0, total)
    try:
        loaded = load_case(params["case_file"])
    except CaseFileError as exc:
        raise TaskFailed([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    if len(loaded.case.issuances) > int(params.get("issuances_before", 0)):  # an earlier attempt issued it
        return _file_issue_result(loaded.case, "此前的尝试已出具（未重复出具，编号不变）")
    token, held = take_lock(ctx.catalog, loaded.case.case_id, account=ctx.job.started_by, now=_now())
    if token is None:
        assert held is not None
        raise TaskFailed([f"正在出具：{held.account} 于 {held.started_at} 开始出具案件 {loaded.case.case_id} 的报告"])
    try:
        unsealed = bool(params.get("unsealed"))
        signer = None if unsealed else configured_signer(ctx.settings)
        templates = Path(params["templates"]) if params.get("templates") else None
        result = issue_case(loaded, signer=signer, unsealed=unsealed, out_dir=params.get("output"), templates=templates,
                            settings=ctx.settings, reissue_reason=params.get("reissue_reason"),
                            **stepped_renderers(lambda t: ctx.step(t, 1 if t == "渲染" else 2, total)))
    except IssueRefused as exc:
        raise TaskFailed(["不予出具：", *exc.reasons]) from None
    except (RenderError, IssueFileExists, SealError, GonguError, OSError) as exc:
        raise TaskFailed([f"出具失败：{exc}"]) from None
    except CaseFileError as exc:
        raise TaskFailed([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    finally:
        release_lock(ctx.catalog, loaded.case.case_id, token)
    return {"case_id": loaded.case.case_id, "number": result.number, "sealed": result.sealed,
            "files": [str(p) for p in result.files.values()], "qc_sheet": str(result.qc_sheet)}


def issue_additional_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"issue_additional": the forensic documents written after the opinion (`gongu issue --additional`)."""
    from generator.issuance import IssueRefused
    from generator.loading import CaseFileError, load_case
    from generator.render import RenderError
    from gongu.output import GonguError
    from gongu.pipeline.issuing import IssueFileExists, issue_additional, new_documents
    from gongu.pipeline.sealing import configured_signer
    from signing.seal import SealError

    ctx.step("检查", 0, 2)
    try:
        loaded = load_case(params["case_file"])
    except CaseFileError as exc:
        raise TaskFailed([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    if not new_documents(loaded.case):  # nothing left to issue: an earlier attempt issued them
        return {"case_id": loaded.case.case_id, "number": loaded.case.report.number,
                "note": "没有待补充出具的文书（此前已出具）"}
    ctx.step("渲染、签章并记录", 1, 2)
    try:
        result = issue_additional(loaded, signer=configured_signer(ctx.settings), out_dir=params.get("output"),
                                  templates=Path(params["templates"]) if params.get("templates") else None,
                                  settings=ctx.settings)
    except IssueRefused as exc:
        raise TaskFailed(["不予出具：", *exc.reasons]) from None
    except (RenderError, IssueFileExists, SealError, GonguError, OSError) as exc:
        raise TaskFailed([f"出具失败：{exc}"]) from None
    return {"case_id": loaded.case.case_id, "number": result.number,
            "files": [str(p) for _t, files in result.documents.values() for p in files.values()]}


# ───────────────────────────── archive, index, audit ─────────────────────────────

def _archive_errors() -> tuple[type[BaseException], ...]:
    from archive.catalog import CatalogError
    from archive.errors import ArchiveError
    from gongu.output import GonguError

    return (ArchiveError, GonguError, CatalogError, OSError)


def ingest_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"ingest": `gongu archive ingest` (a retry joins the package an earlier attempt made)."""
    from archive.ingest import IngestRefused, ingest
    from generator.loading import CaseFileError, load_case
    from gongu.pipeline.archiving import build_archive

    ctx.step("检查", 0, 2)
    try:
        loaded = load_case(params["case_file"])
    except CaseFileError as exc:
        raise TaskFailed([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    ctx.step("归档", 1, 2)
    extras = [(role, Path(path)) for role, path in params.get("extras", [])]
    try:
        with build_archive(ctx.settings, write=True) as archive:
            result = ingest(archive, loaded, Path(params["report"]) if params.get("report") else None, extras=extras,
                            by=params.get("by") or ctx.job.started_by)
    except IngestRefused as exc:
        raise TaskFailed(["拒绝归档：", *exc.reasons]) from None
    except _archive_errors() as exc:
        raise TaskFailed([f"归档失败：{exc}"]) from None
    return {"case_id": result.case_id, "number": result.report_number, "package": str(result.path),
            "created": result.created, "note": None if result.created else "已在档案中（内容相同，未重复归档）"}


def index_sync_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"index_sync": `gongu index sync`."""
    from gongu.pipeline.archiving import build_archive
    from gongu.pipeline.indexing import sync_index

    ctx.step("核对检索索引与目录", 0, 1)
    if not _archive_ready(ctx.settings):
        return {"note": "档案库尚未建立（gongu archive init），无需同步"}
    try:
        with build_archive(ctx.settings, catch_up=False, write=True) as archive:
            drift, repaired, failures = sync_index(archive, ctx.settings)
    except _archive_errors() as exc:
        raise TaskFailed([f"同步失败：{exc}"]) from None
    result = {"found": drift.lines(), "repaired": repaired, "failures": failures}
    if failures:
        raise TaskFailed(["部分未能同步（请运行 gongu archive audit / fsck）：", *failures], result)
    return result


def index_rebuild_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"index_rebuild": `gongu index rebuild` (from the packages on disk)."""
    from archive.identity import ArchiveRootError, require_root
    from archive.package import iter_bags
    from gongu.pipeline.archiving import archive_root_and_catalog_path
    from gongu.pipeline.indexing import open_index
    from index.maintenance import archive_documents

    root, _ = archive_root_and_catalog_path(ctx.settings)
    if not root.is_dir():
        raise TaskFailed([f"档案根目录 {root} 不存在：共享目录似乎未挂载，或 [archive] root 指向了错误的路径"])
    try:
        require_root(ctx.catalog, root)
    except ArchiveRootError as exc:
        raise TaskFailed([str(exc)]) from None
    total = sum(1 for _ in iter_bags(root))
    ctx.step("重建检索索引", 0, total)
    backend = open_index(ctx.settings, procs=max(1, int(params.get("procs", 1))), rebuilding=True)
    errors: list[str] = []
    seen = [0]

    def advance(doc: Any) -> None:
        if doc.status != "disposed":
            seen[0] += 1
            if seen[0] % 20 == 0 or seen[0] == total:
                ctx.step(f"重建检索索引（{doc.case_id}）", seen[0], total)

    count = backend.rebuild(archive_documents(root, ctx.catalog, errors=errors), progress=advance)
    result = {"count": count, "skipped": errors}
    if errors:
        raise TaskFailed([f"{len(errors)} 个档案包未能读取，未进入检索索引（gongu archive audit 核查）：", *errors], result)
    return result


def _archive_ready(settings: Settings) -> bool:
    from gongu.pipeline.archiving import archive_root_and_catalog_path

    root, _ = archive_root_and_catalog_path(settings)
    return root.is_dir() and any(root.iterdir())


def audit_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"audit": the 四性 audit (gongu.pipeline.archiving.full_audit); the result is kept on the job, so the
    audit page shows the last one."""
    from archive.audit import summary_lines
    from gongu.pipeline.archiving import build_archive, full_audit

    if not _archive_ready(ctx.settings):
        return {"ok": True, "note": "档案库尚未建立（gongu archive init），无可检测的档案"}
    try:
        with build_archive(ctx.settings, catch_up=False) as archive:
            total = sum(r["byte_count"] for r in archive.catalog.packages(state="active"))
            seen = [0, 0]
            ctx.step("审计档案包", 0, total)

            def progress(rel: str, size: int) -> None:
                seen[0] += size
                seen[1] += 1
                if seen[1] % 10 == 0:
                    ctx.step(f"审计档案包（{rel}）", seen[0], total)

            result = full_audit(archive, ctx.settings, by=params.get("by") or ctx.job.started_by, progress=progress)
    except _archive_errors() as exc:
        raise TaskFailed([f"审计未能完成：{exc}"]) from None
    report = result.as_dict()
    if params.get("json_out"):
        Path(params["json_out"]).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    out = {"ok": result.ok, "summary": summary_lines(result), "report": report,
           "links": [{"title": "四性检测", "href": "/archive/audit"}]}
    if not result.ok:
        raise TaskFailed(["四性检测未通过：", *[line.strip() for line in summary_lines(result)
                                              if line.lstrip().startswith(("✗", "未通过"))]], out)
    return out


def verify_package_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"verify_package": 「立即验证」 of an archived case's sealed reports; each result is recorded in the log
    (archive/signature_checks.py), where the package page reads it with its date."""
    from archive.signature_checks import verify_case
    from gongu.pipeline.archiving import build_archive

    case_id = str(params["case_id"])
    try:
        with build_archive(ctx.settings, catch_up=False) as archive:
            events = verify_case(archive, case_id, by=ctx.job.started_by_person, progress=ctx.step)
    except _archive_errors() as exc:
        raise TaskFailed([f"核验未能完成：{exc}"]) from None
    checks = [{"report_number": e.report_number, **e.details["signature"]} for e in events]
    out = {"case_id": case_id, "ok": all(c["ok"] for c in checks), "checks": checks,
           "links": [{"title": "档案包", "href": "/archive/cases/" + quote(case_id, safe="")}]}
    if not out["ok"]:
        raise TaskFailed(["签章核验未通过（结果已记入日志）：", *[f"{c['report_number']}：{c['summary']}" for c in checks
                                                  if not c["ok"]]], out)
    return out


# ───────────────────────────── ledger, render, deadlines ─────────────────────────────

def ledger_export_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"ledger_export": `gongu ledger export` (the file written atomically or not at all)."""
    from generator.atomic import atomic_write
    from gongu.pipeline.archiving import archive_config
    from gongu.pipeline.ledger import build_ledger
    from gongu.pipeline.ledger_export import to_csv, to_xlsx
    from gongu.pipeline.ledger_sources import LedgerSourceError, cases_from_archive, cases_from_folder

    start, end = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
    ctx.step("读取档案与在办案件", 0, 2)
    try:
        archived, skipped = cases_from_archive(archive_config(ctx.settings).root)
        in_progress, skipped_cases = cases_from_folder(Path(params["cases"])) if params.get("cases") else ([], 0)
    except LedgerSourceError as exc:
        raise TaskFailed([exc.message]) from None
    ctx.step("写出台账", 1, 2)
    ledger = build_ledger([*archived, *in_progress], start, end)
    kind, target = params["format"], Path(params["output"])
    data = to_csv(ledger.rows) if kind == "csv" else to_xlsx(ledger.rows, period=f"{start}—{end}")
    try:
        atomic_write(target, data)
    except OSError as exc:
        raise TaskFailed([f"无法写入 {target}：{exc.strerror or exc}"]) from None
    return {"rows": len(ledger.rows), "skipped": skipped + skipped_cases, "warnings": ledger.warnings,
            "files": [str(target)]}


def render_batch_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"render_batch": `gongu render` of several case files, one after another."""
    from generator.loading import CaseFileError, load_case
    from generator.render import RenderError, render_case_documents

    files = [str(f) for f in params["case_files"]]
    formats = tuple(params.get("formats", ("pdf", "docx")))
    templates = Path(params["templates"]) if params.get("templates") else None
    outputs: list[str] = []
    failures: list[str] = []
    for n, name in enumerate(files):
        ctx.step(f"渲染 {Path(name).parent.name or name}", n, len(files))
        try:
            docs = render_case_documents(load_case(name), Path(params["out_dir"]), formats, templates)
        except CaseFileError as exc:
            failures.append(f"{name}：案件文件校验失败（{'；'.join(f'{p.path} {p.title}：{p.message}' for p in exc.problems)}）")
            continue
        except (RenderError, OSError) as exc:
            failures.append(f"{name}：{exc}")
            continue
        outputs += [str(p) for d in docs for p in (d.pdf, d.docx) if p is not None]
    result = {"files": outputs, "failures": failures}
    if failures:
        raise TaskFailed([f"{len(failures)} 件未能渲染：", *failures], result)
    return result


def preview_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"preview": the draft report of a workspace case rendered with 「草稿 — 非正式报告」 on every page."""
    from generator.loading import CaseFileError
    from generator.render import RenderError
    from gongu.pipeline import workspace as ws

    case_id = str(params["case_id"])
    ctx.step("校验案件文件", 0, 2)
    try:
        loaded = ws.load(ctx.settings.home, case_id)
    except CaseFileError as exc:
        raise TaskFailed(["案件文件尚未完整，不能预览：",
                          *(f"{p.path} {p.title}：{p.message}" for p in exc.problems[:20])]) from None
    ctx.step("渲染草稿报告", 1, 2)
    from gongu.pipeline.templates import firm_templates

    try:
        files = ws.preview_files(ctx.settings.home, loaded, firm_templates(ctx.settings, None),
                                 mark=ws.DRAFT_MARK, name="draft")
    except (RenderError, OSError) as exc:
        raise TaskFailed([f"渲染失败：{exc}"]) from None
    version = files["pdf"].parent.name
    q = quote(case_id)
    return {"case_id": case_id, "files": [str(p) for p in files.values()], "links": [
        {"title": "草稿报告 PDF", "href": f"/cases/{q}/draft/{version}.pdf"},
        {"title": "草稿报告 DOCX", "href": f"/cases/{q}/draft/{version}.docx"},
        {"title": "案件页", "href": f"/cases/{q}"}]}


def deadline_scan_task(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """"deadline_scan": the daily scan of what falls due (gongu.pipeline.reminders.daily_scan)."""
    try:
        from gongu.pipeline import reminders  # type: ignore[attr-defined]
    except ImportError:
        return {"connected": False, "note": "每日期限扫描尚未接入（gongu.pipeline.reminders.daily_scan）"}
    ctx.step("扫描到期事项", 0, 1)
    found = reminders.daily_scan(ctx.settings, ctx.catalog, _now())
    return found.to_json() if hasattr(found, "to_json") else dict(found or {})


TASKS: dict[str, Task] = {
    "issue": issue_task,
    "issue_additional": issue_additional_task,
    "ingest": ingest_task,
    "index_rebuild": index_rebuild_task,
    "index_sync": index_sync_task,
    "audit": audit_task,
    "verify_package": verify_package_task,
    "ledger_export": ledger_export_task,
    "render_batch": render_batch_task,
    "deadline_scan": deadline_scan_task,
    "preview": preview_task,
}

# Periodic jobs: kind → (period in seconds, params). The runner queues one when the last is older.
PERIODIC: dict[str, tuple[float, dict[str, Any]]] = {
    "index_sync": (3600.0, {}),
    "audit": (7 * 86400.0, {}),
    "deadline_scan": (86400.0, {}),
}
