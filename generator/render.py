"""Public rendering API: a loaded case → `<report number>.pdf` (PDF/A-3b) and `.docx`.

Used by the CLI, the demo, sealing (issue 5) and archiving (issue 6). Files are written atomically
(temp file in the output folder, then rename), so a failed render never leaves a half-written report.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from generator.adjust import Adjustment, adjust
from generator.atomic import atomic_write
from generator.loading import LoadedCase
from generator.render_docx import render_docx_bytes
from generator.render_html import HtmlReport, build_html
from generator.render_pdf import render_pdf_bytes
from generator.render_safety import RenderError

__all__ = ["FORMATS", "RenderError", "RenderResult", "render_html", "render_report", "report_file_stem"]

FORMATS = ("pdf", "docx")
_UNSAFE_NAME = re.compile(r"[^\w.\-（）()]+", re.UNICODE)


@dataclass(frozen=True)
class RenderResult:
    pdf: Path | None
    docx: Path | None
    pages: int  # PDF pages; 0 when no PDF was asked for


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
    return out.getvalue()


def render_report(loaded: LoadedCase, out_dir: Path, formats: Sequence[str] = FORMATS,
                  templates: Path | None = None, *, mark: str | None = None) -> RenderResult:
    """Render the report; `mark` (e.g. 「未签章副本 — 非正式报告」) is printed on every page of both files."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise RenderError(f"未知的输出格式：{', '.join(unknown) or '（空）'}，可选 pdf, docx")
    adj = adjust(loaded.case)
    report = build_html(loaded, adj, templates)  # also refuses hostile photo paths before any output
    if mark:
        report = with_mark_html(report, mark)
    stem = report_file_stem(loaded)
    pdf_data = docx_data = None
    pages = 0
    if "pdf" in formats:
        result = render_pdf_bytes(loaded, report)
        pdf_data, pages = result.data, result.pages
    if "docx" in formats:
        docx_data = render_docx_bytes(report.doc, report.photos)  # the same print copies as the PDF
        if mark:
            docx_data = with_mark_docx(docx_data, mark)
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
