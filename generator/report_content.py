"""The survey report as plain data: sections, paragraphs, tables, key-value blocks.

Built once from `(case, adjustment)` and consumed by both renderers (HTML→PDF and DOCX), so every
section of clauses 9.1/9.2 is defined in exactly one place. Nothing here knows about HTML or Word.
A section whose data is missing is never dropped: it carries a visible 「未提供」 marker (9.2), which
the review rules flag.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import PurePosixPath
from typing import Any

from generator.adjust import Adjustment
from generator.amounts import format_amount, rmb_uppercase
from generator.model import CarSurveyCase
from generator.report_appendices import _appendix_a, _appendix_b, _appendix_c
from generator.report_blocks import (
    MISSING,
    AmountBlock,
    Block,
    HandlerSignature,
    KeyValues,
    Paragraph,
    PhotoBlock,
    ReceiptBlock,
    ReportDocument,
    Section,
    SignatureBlock,
    Table,
    cn_number,
    fmt_date,
    fmt_dt,
    money,
    qty,
    text_or_missing,
    yes_no,
)
from generator.report_body import (
    STEP_DETAIL_LIMIT,
    _adjustment,
    _attachments,
    _conclusion,
    _contract,
    _incident,
    _insurance_analysis,
    _insured_and_subject,
    _liability,
    _limits,
    _loss_assessment,
    _overview,
    _principles,
    _signatures,
    _survey_and_cause,
    is_loss_item_step,
    set_attachment_pages,
)
from generator.text_safety import neutralise

# The names the renderers and the forensic documents take from here; the blocks live in report_blocks,
# the sections in report_body and report_appendices.
__all__ = [
    "MISSING", "STEP_DETAIL_LIMIT", "AmountBlock", "Block", "HandlerSignature", "KeyValues", "Paragraph", "PhotoBlock",
    "ReceiptBlock", "ReportDocument", "Section", "SignatureBlock", "Table", "build_report", "cn_number", "fmt_date",
    "fmt_dt", "is_loss_item_step", "money", "photo_path_parts", "qty", "set_attachment_pages", "text_or_missing",
    "yes_no",
]


# ─────────────────────────────────────────── builder ──────────────────────────────────────────


def build_report(case: CarSurveyCase, adj: Adjustment, gongu_version: str = "") -> ReportDocument:
    """The whole report of 9.1: cover, summary, body (9.2 in order), appendices A–C."""
    builders = [
        _overview, _contract, _insured_and_subject, _incident, _principles, _survey_and_cause,
        _liability, _loss_assessment, _insurance_analysis, _adjustment, _conclusion, _limits,
        _signatures, _attachments,
    ]
    sections: list[Section] = []
    for n, builder in enumerate(builders, start=1):
        section = builder(case, adj)
        section.number = cn_number(n) + "、"
        sections.append(section)
    appendices = [_appendix_a(case), _appendix_b(case), _appendix_c(case)]
    title = case.report.title or f"{case.case_name}公估报告"
    total = adj.total_payable
    cover = [
        ("案件名称", case.case_name),
        ("报告编号", case.report.number),
        ("委托人", case.commission.commissioning_party),
        ("被保险人", case.policy.insured),
        ("保单号", case.policy.number),
        ("公估机构", case.firm.name),
        ("报告日期", fmt_date(case.report.issued_on)),
    ]
    if case.report.supersedes:
        cover.append(("替代报告编号", case.report.supersedes))
    summary: list[Block] = [text_or_missing(case.report.summary)]
    summary.append(AmountBlock("理算金额", format_amount(total), rmb_uppercase(total)))
    return _visible(ReportDocument(
        title=title, case_name=case.case_name, case_id=case.case_id, report_number=case.report.number,
        report_date=case.report.issued_on, firm_name=case.firm.name, cover=cover, summary=summary,
        sections=sections, appendices=appendices, total_payable=total, handler_count=len(case.handlers),
        photo_files=[p.file for p in case.survey.photos],
    ))


def _visible(value: Any) -> Any:
    """Every text of the document with bidi and control characters shown as codes (〔U+202E〕), so the
    report never displays something other than what the case stores. In place."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, list):
        value[:] = [_visible(v) for v in value]
        return value
    if isinstance(value, tuple):
        return tuple(_visible(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            setattr(value, f.name, _visible(getattr(value, f.name)))
    return value



def photo_path_parts(file: str) -> tuple[str, ...]:
    """The path components of a photo reference, for the renderer's folder check."""
    return PurePosixPath(file.replace("\\", "/")).parts
