"""The documents of a forensic appraisal, as plain data (sections and blocks of generator/report_content.py),
and the registry that says which documents a case needs.

Formats follow 司发通〔2016〕112号 (the national formats of 委托书, 意见书, 延长鉴定时限告知书, 终止鉴定告知书,
复核意见, 补正书, 告知书) and the Sichuan opinion (川司鉴协〔2022〕7号) for the records it asks for (风险告知, 到场见证
通知与记录, 机构选择, 回避声明). Both renderers (HTML→PDF, DOCX) consume these objects; nothing here knows
about HTML or Word. Missing data is never dropped: it shows the 「未提供」 marker, which the rules flag.

The families live in their own modules: documents_common.py (the document object and shared parts),
documents_intake.py (委托书, 告知书, 单方委托 records, 选择记录, 回避声明), documents_opinion.py (意见书,
复核意见, 延长, 终止, 补正, 补充意见书), documents_disputes.py (异议 and its steps), draw_document.py (the
draw record). This module holds the registry and re-exports their public names.

The registry (`DOCUMENTS`): which documents a case needs —
- 委托书, 司法鉴定告知书, 机构选择记录, 回避声明: every case;
- 随机选择鉴定机构记录: when the case names its `gongu draw` record (selection.draw_record; draw_document.py);
- 单方委托风险告知书, 到场见证通知书: single commission only (Sichuan 二(二));
- 到场见证记录: single commission, or whenever the case records a witnessing (joint: Sichuan 二(一));
- 复核意见 and 意见书: unless the appraisal was terminated — then the 终止鉴定告知书 is the primary document;
- 延长鉴定时限告知书: only when the time limit was extended (通则 Art 28);
- 补正书: one per correction (通则 Art 41), `correction-1`, `correction-2` …;
- 补充意见书: one per supplementary appraisal (通则 Art 30), `supplementary-1` …, signed by its appraisers;
- per dispute (Sichuan 五(一)(二)): the 异议登记表 `dispute-<i>` and one document per mediation, explanation
  or expert-opinion step, `dispute-<i>-step-<j>` (调解记录 — the mediation committee's, under its name and
  seal, signed by the participants —, 鉴定人解释说明 — signed by its appraisers and sealed —, 专家意见).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.forensic.documents_common import (
    DEFAULT_WORKING_DAYS,
    SEAL_TITLE,
    ForensicDocument,
    clients,
    grade_text,
    matter_title,
    party_signatures,
    result_phrase,
    time_limit,
    time_limit_text,
)
from generator.forensic.documents_disputes import (
    DOCUMENTED_STEPS,
    STEP_DOCUMENT_TITLES,
    build_dispute_step,
    build_disputes,
    build_objection,
)
from generator.forensic.documents_intake import (
    ATTENDEE_DUTY,
    RISK_WARNINGS,
    build_appraisal_notice,
    build_attendance,
    build_commission,
    build_recusal,
    build_risk_notice,
    build_selection,
    build_witness_notice,
)
from generator.forensic.documents_opinion import (
    DECLARATION,
    build_correction,
    build_extension,
    build_opinion,
    build_review_opinion,
    build_supplementary,
    build_termination,
    opinion_attachments,
)
from generator.forensic.draw_document import build_draw
from generator.forensic.model import CommissionKind, ForensicAppraisalCase
from generator.report_content import _visible

__all__ = [
    "ATTENDEE_DUTY", "DECLARATION", "DEFAULT_WORKING_DAYS", "DOCUMENTED_STEPS", "DOCUMENTS", "RISK_WARNINGS",
    "SEAL_TITLE", "STEP_DOCUMENT_TITLES", "DocumentSpec", "ForensicDocument", "build_appraisal_notice",
    "build_attendance", "build_commission", "build_correction", "build_dispute_step", "build_disputes",
    "build_documents", "build_extension", "build_objection", "build_opinion", "build_recusal", "build_review_opinion",
    "build_risk_notice", "build_selection", "build_supplementary", "build_termination", "build_witness_notice",
    "clients", "grade_text", "matter_title", "opinion_attachments", "party_signatures", "result_phrase", "time_limit",
    "time_limit_text",
]

# ─────────────────────────────────────────── registry ─────────────────────────────────────────


@dataclass(frozen=True)
class DocumentSpec:
    key: str  # the key of the rendered document (per correction: key-N)
    title: str
    basis: str
    needed: Callable[[ForensicAppraisalCase], bool]
    build: Callable[[ForensicAppraisalCase], list[ForensicDocument]]
    # A document read from a file in the case folder (the draw record) is built with the folder instead.
    build_in: Callable[[ForensicAppraisalCase, Path | None], list[ForensicDocument]] | None = None


def _build_draw(case: ForensicAppraisalCase, case_dir: Path | None) -> list[ForensicDocument]:
    return build_draw(case, case_dir)


def _single(case: ForensicAppraisalCase) -> bool:
    return case.commission.kind is CommissionKind.single


def _issued(case: ForensicAppraisalCase) -> bool:
    return case.termination is None


# In the order a file is read: the primary document first, then the records in the order they arose.
DOCUMENTS: tuple[DocumentSpec, ...] = (
    DocumentSpec("opinion", "司法鉴定意见书", "通则 Art 36–40", _issued, lambda c: [build_opinion(c)]),
    DocumentSpec("termination", "终止鉴定告知书", "通则 Art 29", lambda c: c.termination is not None,
                 lambda c: [build_termination(c)]),
    DocumentSpec("commission", "司法鉴定委托书", "通则 Art 16", lambda c: True, lambda c: [build_commission(c)]),
    DocumentSpec("appraisal_notice", "司法鉴定告知书", "司发通〔2016〕112号", lambda c: True,
                 lambda c: [build_appraisal_notice(c)]),
    DocumentSpec("selection", "鉴定机构选择记录", "Sichuan 二(三)", lambda c: True, lambda c: [build_selection(c)]),
    DocumentSpec("draw", "随机选择鉴定机构记录", "Sichuan 二(三)", lambda c: c.selection.draw_record is not None,
                 lambda c: _build_draw(c, None), _build_draw),
    DocumentSpec("recusal", "回避声明（利害关系声明）", "通则 Art 20–21", lambda c: True, lambda c: [build_recusal(c)]),
    DocumentSpec("risk_notice", "单方委托风险告知书", "Sichuan 二(二)", _single, lambda c: [build_risk_notice(c)]),
    DocumentSpec("witness_notice", "到场见证通知书", "Sichuan 二(二)", _single, lambda c: [build_witness_notice(c)]),
    DocumentSpec("attendance", "到场见证记录", "Sichuan 二(二)", lambda c: _single(c) or c.attendance is not None,
                 lambda c: [build_attendance(c)]),
    DocumentSpec("review_opinion", "司法鉴定复核意见", "通则 Art 35", lambda c: _issued(c) or c.review_opinion is not None,
                 lambda c: [build_review_opinion(c)]),
    DocumentSpec("extension", "延长鉴定时限告知书", "通则 Art 28", lambda c: bool(c.timeline.extensions),
                 lambda c: [build_extension(c)]),
    DocumentSpec("correction", "司法鉴定意见补正书", "通则 Art 41", lambda c: bool(c.corrections) and _issued(c),
                 lambda c: [build_correction(c, i, x) for i, x in enumerate(c.corrections, start=1)]),
    DocumentSpec("supplementary", "司法鉴定补充意见书", "通则 Art 30", lambda c: bool(c.supplementary) and _issued(c),
                 lambda c: [build_supplementary(c, i, x) for i, x in enumerate(c.supplementary, start=1)]),
    DocumentSpec("dispute", "异议登记表、调解记录、鉴定人解释说明、专家意见", "Sichuan 五(一)(二)",
                 lambda c: bool(c.disputes), build_disputes),
)


def build_documents(case: ForensicAppraisalCase, case_dir: Path | None = None) -> list[ForensicDocument]:
    """Every document the case needs (the registry above), with case text made visible (bidi, controls).
    `case_dir` is the case's folder, where documents built from files (the draw record) read them."""
    out: list[ForensicDocument] = []
    for spec in DOCUMENTS:
        if spec.needed(case):
            for d in (spec.build_in(case, case_dir) if spec.build_in is not None else spec.build(case)):
                files, d.attachments = d.attachments, []  # paths stay as the case wrote them (read, not shown)
                _visible(d)
                d.attachments = files
                out.append(d)
    return out
