"""A forensic appraisal's documents (generator/forensic/documents.py) → HTML, PDF/A-3a and DOCX.

The same machinery as the survey report: the Jinja2 environment and block macros of render_html.py,
WeasyPrint and the embedded case file of render_pdf.py, the DOCX blocks of render_docx.py. What is
particular here: the template (forms/templates/forensic.html, forms/styles/forensic.css) and the
attachment PDFs bound after a document (generator/pdf_binding.py) with their page ranges in its 附件 list.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from jinja2 import TemplateError

from generator.forensic.documents import ForensicDocument
from generator.loading import LoadedCase
from generator.pdf_binding import BoundAttachment, format_range, page_ranges
from generator.render_docx import (
    _add_text,
    _clip,
    _header_footer,
    _key_values,
    _paragraph,
    _section,
    _setup_styles,
    zip_dated,
)
from generator.render_html import (
    FORMS_DIR,
    STYLES_DIR,
    HtmlReport,
    _firm_asset,
    environment,
    gongu_version,
)
from generator.render_safety import RenderError
from generator.report_content import KeyValues


def fill_attachment_pages(doc: ForensicDocument, attachments: list[BoundAttachment], document_pages: int) -> None:
    """The 附件 table's 页数 and 页码 (第 a–b 页 of the bound file) once the document's own length is known."""
    if doc.attachment_table is None:
        return
    for row, a, (first, last) in zip(doc.attachment_table.rows, attachments,
                                      page_ranges(document_pages, attachments), strict=True):
        row[2] = str(a.pages)
        row[3] = format_range(first, last)


def build_forensic_html(loaded: LoadedCase, doc: ForensicDocument, templates: Path | None,
                        page_total: int | None = None) -> HtmlReport:
    """The document's HTML; `page_total` replaces counter(pages) when attachments follow the document."""
    case_dir = loaded.source.parent.resolve()
    stylesheets = [(_firm_asset(templates, "report", (".css",)) or STYLES_DIR / "report.css").as_uri(),
                   (_firm_asset(templates, "forensic", (".css",)) or STYLES_DIR / "forensic.css").as_uri()]
    firm_css = _firm_asset(templates, "firm", (".css",))
    if firm_css:
        stylesheets.append(firm_css.as_uri())
    # A document another body issues (a mediation committee's 调解记录) never shows the institution's logo or seal.
    logo = None if doc.foreign_issuer else _firm_asset(templates, "logo", (".png", ".svg", ".jpg"))
    seal = None if doc.foreign_issuer else _firm_asset(templates, "seal", (".png", ".svg"))
    issued = loaded.case.report.issued_on
    try:
        html = environment(templates).get_template("forensic.html").render(
            doc=doc, stylesheets=stylesheets, page_total=page_total,
            logo_src=logo.as_uri() if logo else None, seal_src=seal.as_uri() if seal else None,
            generator=f"Gongu {gongu_version()}", created=f"{issued.isoformat()}T00:00:00+08:00",
        )
    except TemplateError as exc:
        raise RenderError(f"模板错误：{exc}") from None
    roots = [case_dir, FORMS_DIR] + ([templates] if templates else [])
    return HtmlReport(html=html, base_url=case_dir.as_uri() + "/", roots=roots, doc=doc)  # type: ignore[arg-type]


def render_forensic_docx(doc: ForensicDocument) -> bytes:
    """The editable Word copy: same sections and blocks; every page numbered (the cover too)."""
    word = Document()
    _setup_styles(word)
    _header_footer(word, doc)  # type: ignore[arg-type]  # reads firm_name and report_number
    word.sections[0].different_first_page_header_footer = False  # 第 X 页 共 Y 页 on every page
    props = word.core_properties
    props.title = _clip(doc.title)
    props.author = _clip(doc.firm_name)
    props.identifier = _clip(doc.number or doc.case_id)
    props.subject = _clip(doc.case_name)
    props.keywords = _clip(f"{doc.number or ''}, {doc.case_id}")
    props.comments = _clip(f"案件编号 {doc.case_id}")
    stamp = datetime(doc.issued_on.year, doc.issued_on.month, doc.issued_on.day)  # fixed, like the PDF
    props.created = props.modified = props.last_printed = stamp
    props.revision = 1
    if doc.cover is not None:
        _paragraph(word, doc.firm_name, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
        title = word.add_paragraph(style="Title")
        _add_text(title.add_run(), doc.title)
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _paragraph(word, doc.number or "", size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
        _key_values(word, KeyValues(doc.cover))
        word.add_page_break()
        word.add_heading("声明", level=1)
        for i, line in enumerate(doc.declaration, start=1):
            _paragraph(word, f"{i}. {line}" if i <= 5 else line)
        word.add_page_break()
    _paragraph(word, doc.firm_name, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    title = word.add_paragraph(style="Title")
    _add_text(title.add_run(), doc.title)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if doc.number:
        _paragraph(word, doc.number, align=WD_ALIGN_PARAGRAPH.RIGHT)
    for s in doc.sections:
        _section(word, s, {})
    out = io.BytesIO()
    word.save(out)
    return zip_dated(out.getvalue(), stamp)
