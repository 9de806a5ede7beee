"""Public rendering API: a loaded case → `<report number>.pdf` (PDF/A-3b) and `.docx`.

Used by the CLI, the demo, sealing and archiving. Files are written atomically
(temp file in the output folder, then rename), so a failed render never leaves a half-written report.

`render_case_documents` renders every document a case needs (generator/forensic/documents.py's
registry for the forensic kind; the one report, key "report", for the survey kind) and returns one
`RenderedDocument` each. File names: the primary document (意见书, or the 终止鉴定告知书 of a terminated
appraisal; the survey report) is `<stem>.pdf|.docx` with stem = `report_file_stem` (the report number);
every other document is `<stem>-<key>.pdf|.docx` (`<stem>-commission.pdf`, `<stem>-correction-1.pdf` …).

Signature fields (empty PDF signature fields the sealing step fills; names in generator/signature_fields.py):
- survey report: `firm-seal` (the firm's seal) and `handler-1` … `handler-n` (the case's handlers, in order);
- forensic 司法鉴定意见书: `institution-seal` (the institution's 司法鉴定专用章) and `appraiser-1` …
  `appraiser-n` for the appraisers in the order of `report.signatures`;
- forensic 司法鉴定意见补正书 (`correction-N`) and 补充意见书 (`supplementary-N`): `institution-seal` and
  `appraiser-1` … for their appraisers, in order;
- every other forensic document: only `institution-seal`.
Attachment PDFs listed in a document's 附件 (forensic `attachments[].file`, listed material scans,
attendance ID copies; survey `attachments[].file`) are bound after the document before the fields are
added; the 附件 list shows each one's pages (第 a–b 页) and 「第 X 页 共 Y 页」 counts them.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.adjust import Adjustment, adjust
from generator.atomic import atomic_write
from generator.check_code import DocumentCodes
from generator.loading import LoadedCase
from generator.render_codes import with_code_docx, with_code_html
from generator.render_docx import render_docx_bytes, zip_dated
from generator.render_html import HtmlReport, build_html
from generator.render_pdf import render_pdf_bytes
from generator.render_safety import RenderError

__all__ = ["FORMATS", "RenderError", "RenderResult", "RenderedDocument", "render_case_documents", "render_forensic_document", "render_html",
           "render_report", "report_file_stem"]

FORMATS = ("pdf", "docx")
_UNSAFE_NAME = re.compile(r"[^\w.\-（）()]+", re.UNICODE)


@dataclass(frozen=True)
class RenderResult:
    pdf: Path | None
    docx: Path | None
    pages: int  # PDF pages; 0 when no PDF was asked for


@dataclass(frozen=True)
class RenderedDocument:
    """One rendered document of a case."""

    key: str  # "report" (survey); "opinion", "commission", … "correction-1" (forensic)
    title: str  # Chinese title, e.g. 司法鉴定意见书
    pdf: Path | None
    docx: Path | None
    pages: int  # PDF pages, bound attachments included; 0 when no PDF was asked for
    primary: bool  # the report / 意见书 (or 终止鉴定告知书): the document issued under the report number


def report_file_stem(loaded: LoadedCase) -> str:
    """The report number as a file name: separators and anything unsafe become '_'."""
    stem = _UNSAFE_NAME.sub("_", loaded.case.report.number).strip("._")
    if not stem:
        raise RenderError(f"报告编号 “{loaded.case.report.number}” 不能用作文件名 (report number unusable as a file name)")
    return stem


def render_html(loaded: LoadedCase, templates: Path | None = None, adj: Adjustment | None = None) -> HtmlReport:
    """The report's HTML (what WeasyPrint lays out), e.g. for tests and template authors."""
    return build_html(loaded, adj or adjust(loaded.case), templates)


# Drawn on every PDF page (a fixed element repeats on each page in WeasyPrint) and at the top of the DOCX,
# whatever templates the firm uses: a copy issued without the signatures must never look final.
_MARK_CSS = ("position: fixed; top: -17mm; left: 47mm; right: 47mm; text-align: center; color: #c00000; "
             "font: bold 13pt 'Noto Sans CJK SC', sans-serif; border: 1.2pt solid #c00000; padding: 1mm; "
             "background: #fff;")
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def with_mark_html(report: HtmlReport, mark: str) -> HtmlReport:
    """The report's HTML with `mark` as a banner on every page, right after <body>."""
    banner = f'<div class="gongu-copy-mark" style="{_MARK_CSS}">{html.escape(mark)}</div>'
    marked, n = _BODY_TAG.subn(lambda m: m.group(0) + banner, report.html, count=1)
    if n != 1:
        raise RenderError("模板没有 <body> 元素，无法加注标记（template has no <body>: cannot add the mark）")
    return replace(report, html=marked)


def with_mark_docx(data: bytes, mark: str) -> bytes:
    """The DOCX with `mark` as its first paragraph and in every page header (the cover's included)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = Document(io.BytesIO(data))

    def style(paragraph: object, size: float) -> None:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER  # type: ignore[attr-defined]
        for run in paragraph.runs:  # type: ignore[attr-defined]
            run.font.bold = True
            run.font.size = Pt(size)
            run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)

    first = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    style(first.insert_paragraph_before(mark), 16)
    for section in doc.sections:
        for header in (section.header, section.first_page_header):
            style(header.paragraphs[0].insert_paragraph_before(mark), 9)
    out = io.BytesIO()
    doc.save(out)
    return zip_dated(out.getvalue(), doc.core_properties.created or datetime(1980, 1, 1))  # python-docx dates by the clock


def render_report(loaded: LoadedCase, out_dir: Path, formats: Sequence[str] = FORMATS,
                  templates: Path | None = None, *, mark: str | None = None,
                  codes: DocumentCodes | None = None) -> RenderResult:
    """Render the report; `mark` (e.g. 「未签章副本 — 非正式报告」) is printed on every page of both files;
    `codes`: the check code of the issuance (key "report") with its QR code (generator/render_codes.py).
    A forensic case has several documents: this renders them all (render_case_documents) and returns
    its primary one (the 意见书, or the 终止鉴定告知书), so callers that want "the report" keep working."""
    from generator.kinds import is_forensic

    if is_forensic(loaded.case):
        docs = render_case_documents(loaded, out_dir, formats, templates, mark=mark, codes=codes)
        primary = next(d for d in docs if d.primary)
        return RenderResult(pdf=primary.pdf, docx=primary.docx, pages=primary.pages)
    _check_formats(formats)
    adj = adjust(loaded.case)
    bound = _survey_attachments(loaded)  # checked (in the case folder, a PDF) before anything renders
    report = build_html(loaded, adj, templates)  # also refuses hostile photo paths before any output
    code = codes.code("report") if codes else None

    def decorate(r: HtmlReport) -> HtmlReport:
        r = with_mark_html(r, mark) if mark else r
        return with_code_html(r, code, codes.public_url) if code and codes else r

    if bound and "pdf" in formats:
        report = _settle_survey_pages(loaded, adj, templates, bound, decorate)
    report = decorate(report)
    stem = report_file_stem(loaded)
    pdf_data = docx_data = None
    pages = 0
    if "pdf" in formats:
        result = render_pdf_bytes(loaded, report, bound)
        pdf_data, pages = result.data, result.pages
    if "docx" in formats:
        docx_data = render_docx_bytes(report.doc, report.photos)  # the same print copies as the PDF
        if mark:
            docx_data = with_mark_docx(docx_data, mark)
        if code:
            docx_data = with_code_docx(docx_data, code, codes.public_url)  # type: ignore[union-attr]
    # Write only once everything rendered: no half set of outputs after an error.
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = docx_path = None
    if pdf_data is not None:
        pdf_path = out_dir / f"{stem}.pdf"
        atomic_write(pdf_path, pdf_data)
    if docx_data is not None:
        docx_path = out_dir / f"{stem}.docx"
        atomic_write(docx_path, docx_data)
    return RenderResult(pdf=pdf_path, docx=docx_path, pages=pages)


def _survey_attachments(loaded: LoadedCase) -> list:
    """The 附件清单's files (9.1), bound after the report: `attachments[].file` of the case."""
    from generator.pdf_binding import AttachmentRef, load_attachments

    refs = [AttachmentRef(a.title, a.file, f"附件 {i + 1}（{a.title}）的文件 $.attachments[{i}].file")
            for i, a in enumerate(loaded.case.attachments) if a.file]
    return load_attachments(loaded.source.parent.resolve(), refs)


def _settle_survey_pages(loaded: LoadedCase, adj: Adjustment, templates: Path | None, bound: list,
                         decorate: Callable[[HtmlReport], HtmlReport]) -> HtmlReport:
    """The report's HTML with its 附件清单 page ranges and 「共 Y 页」, laid out (as `decorate` prints it: the
    check code's block takes room) until its length is stable."""
    from generator.pdf_binding import format_range, page_ranges
    from generator.render_pdf import layout

    indexes = [i for i, a in enumerate(loaded.case.attachments) if a.file]
    guess = len(layout(decorate(build_html(loaded, adj, templates))).pages)
    for _ in range(_LAYOUT_ROUNDS):
        where = {i: (b.pages, format_range(*r)) for i, b, r in zip(indexes, bound, page_ranges(guess, bound), strict=True)}
        report = build_html(loaded, adj, templates, where, guess + sum(b.pages for b in bound))
        pages = len(layout(decorate(report)).pages)
        if pages == guess:
            return report
        guess = pages
    raise RenderError("附件页码无法确定：报告页数在排版中不断变化 (page count does not settle)")


def _check_formats(formats: Sequence[str]) -> None:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise RenderError(f"未知的输出格式：{', '.join(unknown) or '（空）'}，可选 pdf, docx")


# A document's own length and its 附件 page ranges depend on each other (the ranges are printed in it):
# lay out until the page count is stable; the ranges' text is short, so this settles in one or two rounds.
_LAYOUT_ROUNDS = 4


def _render_forensic_pdf(loaded: LoadedCase, doc: object, bound: list, templates: Path | None,
                         mark: str | None, code: tuple[str, str] | None) -> tuple[bytes, int]:
    from generator.render_forensic import build_forensic_html, fill_attachment_pages
    from generator.render_pdf import layout

    def html(pages: int | None) -> HtmlReport:
        if pages is not None:
            fill_attachment_pages(doc, bound, pages)  # type: ignore[arg-type]
        total = pages + sum(a.pages for a in bound) if (pages is not None and bound) else None
        report = build_forensic_html(loaded, doc, templates, total)  # type: ignore[arg-type]
        report = with_mark_html(report, mark) if mark else report
        return with_code_html(report, *code) if code else report

    report = html(None)
    if bound:
        guess = len(layout(report).pages)
        for _ in range(_LAYOUT_ROUNDS):
            report = html(guess)
            pages = len(layout(report).pages)
            if pages == guess:
                break
            guess = pages
        else:
            raise RenderError("附件页码无法确定：文书页数在排版中不断变化 (page count does not settle)")
    result = render_pdf_bytes(loaded, report, bound)
    return result.data, result.pages


def _write(out_dir: Path, outputs: list[tuple[str, bytes | None, bytes | None]]) -> list[tuple[Path | None, Path | None]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[tuple[Path | None, Path | None]] = []
    for stem, pdf, docx in outputs:
        pdf_path = docx_path = None
        if pdf is not None:
            pdf_path = out_dir / f"{stem}.pdf"
            atomic_write(pdf_path, pdf)
        if docx is not None:
            docx_path = out_dir / f"{stem}.docx"
            atomic_write(docx_path, docx)
        paths.append((pdf_path, docx_path))
    return paths


def render_case_documents(loaded: LoadedCase, out_dir: Path, formats: Sequence[str] = FORMATS,
                          templates: Path | None = None, *, mark: str | None = None,
                          codes: DocumentCodes | None = None) -> list[RenderedDocument]:
    """Every document of the case (see the module docstring for names, keys and signature fields). All
    are rendered in memory first and written only when every one succeeded: never half a set. `codes`: the
    check code to print on each document, by key (a document without one gets none)."""
    from generator.kinds import is_forensic

    _check_formats(formats)
    if not is_forensic(loaded.case):
        result = render_report(loaded, out_dir, formats, templates, mark=mark, codes=codes)
        title = loaded.case.report.title or f"{loaded.case.case_name}公估报告"  # type: ignore[union-attr]
        return [RenderedDocument("report", title, result.pdf, result.docx, result.pages, True)]

    from generator.forensic.documents import build_documents
    from generator.pdf_binding import load_attachments
    from generator.render_html import check_templates_dir

    templates = check_templates_dir(templates)
    case_dir = loaded.source.parent.resolve()
    stem = report_file_stem(loaded)
    docs = build_documents(loaded.case, case_dir)  # type: ignore[arg-type]
    # Every listed attachment is checked (inside the case folder, present, a PDF) before anything renders.
    bound = {d.key: load_attachments(case_dir, d.attachments) for d in docs}
    rendered: list[tuple[str, bytes | None, bytes | None]] = []
    pages: list[int] = []
    for d in docs:
        code = codes.code(d.key) if codes else None
        pdf_data, docx_data, n = _render_forensic_one(loaded, d, bound[d.key], formats, templates, mark,
                                                      (code, codes.public_url) if code and codes else None)
        rendered.append((stem if d.primary else f"{stem}-{d.key}", pdf_data, docx_data))
        pages.append(n)
    paths = _write(out_dir, rendered)
    return [RenderedDocument(d.key, d.title, pdf, docx, n, d.primary)
            for d, (pdf, docx), n in zip(docs, paths, pages, strict=True)]


def _render_forensic_one(loaded: LoadedCase, d: Any, bound: list[Any], formats: Sequence[str], templates: Path | None,
                         mark: str | None, code: tuple[str, str] | None = None) -> tuple[bytes | None, bytes | None, int]:
    """One forensic document's PDF and DOCX bytes and PDF pages (the step every forensic render shares);
    `code`: (check code, public URL) to print on it."""
    from generator.render_forensic import render_forensic_docx

    pdf_data = docx_data = None
    n = 0
    if "pdf" in formats:
        pdf_data, n = _render_forensic_pdf(loaded, d, bound, templates, mark, code)
    if "docx" in formats:
        if "pdf" not in formats and bound:
            from generator.render_forensic import fill_attachment_pages

            fill_attachment_pages(d, bound, 0)  # page counts only matter in the bound PDF
        docx_data = render_forensic_docx(d)
        if mark:
            docx_data = with_mark_docx(docx_data, mark)
        if code:
            docx_data = with_code_docx(docx_data, *code)
    return pdf_data, docx_data, n


def render_forensic_document(loaded: LoadedCase, key: str, out_dir: Path, formats: Sequence[str] = FORMATS,
                             templates: Path | None = None) -> RenderedDocument | None:
    """One document of a forensic case (its key: "opinion", "correction-1" …), rendered exactly as
    render_case_documents renders it and written under the same file name; None when the case has no
    such document. The web workspace shows one document without rendering the whole set."""
    from generator.forensic.documents import build_documents
    from generator.pdf_binding import load_attachments
    from generator.render_html import check_templates_dir

    _check_formats(formats)
    templates = check_templates_dir(templates)
    case_dir = loaded.source.parent.resolve()
    d = next((x for x in build_documents(loaded.case, case_dir) if x.key == key), None)  # type: ignore[arg-type]
    if d is None:
        return None
    pdf_data, docx_data, n = _render_forensic_one(loaded, d, load_attachments(case_dir, d.attachments), formats,
                                                  templates, None)
    stem = report_file_stem(loaded)
    [(pdf, docx)] = _write(out_dir, [(stem if d.primary else f"{stem}-{d.key}", pdf_data, docx_data)])
    return RenderedDocument(d.key, d.title, pdf, docx, n, d.primary)
