"""The forensic sections of a case page: the documents with their state, the time limits, the rule
findings by article (with the issued opinion held against later corrections, 通则 Art 41), the read log
for the forensic supervisor, the draw and the additional issuance (补充出具). One case page per case:
/cases/<id> shows them beside the workflow; /forensic/cases/<id> shows them alone only for a folder put
in the workspace by hand (no workflow row).

Every figure comes from gongu/pipeline/forensic_workspace.py, the functions `gongu render`, `gongu adjust`
and `gongu check` use."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from generator.loading import LoadedCase
from gongu.access.case_access import supervises
from gongu.pipeline import forensic_workspace as fw
from gongu.web.need_to_know import reads
from gongu.web.state import web_settings

# What a `forensic_read` event says was opened (gongu/web/need_to_know.log_read), as the read log shows it.
READ_TITLES = {"case_page": "案件页", "forensic_case_page": "司法鉴定页（未登记案件）", "document_page": "文书页",
               "document.view": "查看文书 PDF", "document.download": "下载文书 DOCX",
               "report.pdf": "报告 PDF", "report.docx": "下载报告 DOCX"}


def findings(loaded: LoadedCase, request: Request, stage: str) -> dict[str, Any]:
    """`gongu check` for the case at `stage`, grouped by article, with the issued opinion looked for."""
    groups = fw.findings_by_clause(loaded, stage=stage, settings=web_settings(request))
    blocking = sum(1 for g in groups for f in g.findings if f.blocking)
    return {"groups": groups, "blocking": blocking, "warnings": sum(len(g.findings) for g in groups) - blocking}


def additional_pending(loaded: LoadedCase) -> bool:
    """Whether the opinion is issued under its number and documents written after it await issuance
    (what `gongu issue --additional` issues; its job refuses with every other reason)."""
    from gongu.pipeline.issuing import new_documents

    case = loaded.case
    issued = any(i.number == case.report.number and i.pdf_file for i in case.issuances)
    return issued and bool(new_documents(case))


def may_issue_additional(request: Request, loaded: LoadedCase, status: str | None) -> bool:
    """The approver's 「补充出具文书」 button."""
    return status in ("issued", "archived") and "approver" in request.state.account.roles and additional_pending(loaded)


def sections(request: Request, loaded: LoadedCase) -> dict[str, Any]:
    """What the forensic sections of a case page show."""
    case = loaded.case
    limits, limits_error, limits_note = fw.time_limit_table(case)  # type: ignore[arg-type]
    account = request.state.account
    return {
        "documents": fw.document_states(loaded), "limits": limits, "limits_error": limits_error,
        "limits_note": limits_note, "has_draw": fw.draw_record_path(loaded) is not None,
        "reads": reads(request, case.case_id) if supervises(account, fw.FORENSIC) else None,
        "read_titles": READ_TITLES,
    }
