"""The report document → an editable Word file (python-docx), same sections and tables as the PDF.

Headings use Word's heading styles (so the navigation pane and a table of contents work), the East
Asian font is set on every style (w:eastAsia, 宋体 fallback for machines without Noto), table header
rows repeat across pages, and the footer carries PAGE / NUMPAGES fields.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run

from generator.report_content import (
    MISSING,
    AmountBlock,
    Block,
    KeyValues,
    Paragraph,
    PhotoBlock,
    ReceiptBlock,
    ReportDocument,
    Section,
    SignatureBlock,
    Table,
)
from generator.report_layout import PROTECTED, TEXT_WIDTH_PT, fit_columns

if TYPE_CHECKING:
    from generator.render_html import ReportPhoto

SERIF = "Noto Serif CJK SC"
SANS = "Noto Sans CJK SC"
FALLBACK_EAST_ASIA = "宋体"
ACCENT = RGBColor(0x1F, 0x3A, 0x68)
MISSING_RED = RGBColor(0xB0, 0x00, 0x20)
CORE_PROPERTY_LIMIT = 255  # characters: the OOXML core properties python-docx writes refuse more


def _clip(text: str) -> str:
    """A core property (title, subject …) within Word's limit; the full text is in the document body."""
    return text if len(text) <= CORE_PROPERTY_LIMIT else text[: CORE_PROPERTY_LIMIT - 1] + "…"


def _add_text(run: Run, text: str) -> None:
    """`text` into `run`, each hyphen inside an amount, date or identifier a non-breaking hyphen
    (w:noBreakHyphen, read back as "-"), so Word never splits `SA-GC-20250905-017` at a line end."""
    last = 0
    pieces: list[tuple[str, bool]] = []
    for m in PROTECTED.finditer(text):
        pieces.append((text[last:m.start()], False))
        pieces.append((m.group(), True))
        last = m.end()
    pieces.append((text[last:], False))
    for piece, protected in pieces:
        parts = piece.split("-") if protected else [piece]
        for i, part in enumerate(parts):
            if i:
                run._r.append(OxmlElement("w:noBreakHyphen"))  # noqa: SLF001
            if part:
                t = OxmlElement("w:t")
                t.set(qn("xml:space"), "preserve")
                t.text = part
                run._r.append(t)  # noqa: SLF001


def _set_fonts(style_element: object, latin: str, east_asia: str) -> None:
    rpr = style_element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _setup_styles(doc: object) -> None:
    styles = doc.styles  # type: ignore[attr-defined]
    normal = styles["Normal"]
    normal.font.name = SERIF
    normal.font.size = Pt(10.5)
    _set_fonts(normal.element, SERIF, SERIF)
    for name, size in (("Title", 22), ("Heading 1", 14), ("Heading 2", 12), ("Heading 3", 11)):
        st = styles[name]
        st.font.name = SANS
        st.font.size = Pt(size)
        st.font.bold = True
        st.font.color.rgb = ACCENT
        _set_fonts(st.element, SANS, SANS)
    # Document default East Asian font: 宋体, the usual fallback where Noto CJK is not installed.
    rpr_default = styles.element.find(qn("w:docDefaults"))
    if rpr_default is not None:
        r_fonts = rpr_default.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
        if r_fonts is not None:
            r_fonts.set(qn("w:eastAsia"), FALLBACK_EAST_ASIA)
            for attr in ("w:eastAsiaTheme",):
                if r_fonts.get(qn(attr)) is not None:
                    del r_fonts.attrib[qn(attr)]


def _field(paragraph: DocxParagraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) — python-docx has no API for fields, so the runs are built here."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    num = OxmlElement("w:t")
    num.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for el in (begin, instr, sep, num, end):
        run._r.append(el)  # noqa: SLF001


def _header_footer(doc: object, report: ReportDocument) -> None:
    section = doc.sections[0]  # type: ignore[attr-defined]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Mm(24), Mm(20)
    section.left_margin = section.right_margin = Mm(18)
    section.different_first_page_header_footer = True  # the cover carries neither
    hp = section.header.paragraphs[0]
    hp.text = f"{report.firm_name}　　报告编号：{report.report_number}"
    hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in hp.runs:
        run.font.size = Pt(8)
    fp = section.footer.paragraphs[0]
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fp.add_run("第 ")
    _field(fp, "PAGE")
    fp.add_run(" 页 共 ")
    _field(fp, "NUMPAGES")
    fp.add_run(" 页")


def _repeat_header(row: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]  # noqa: SLF001
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _shade(cell: object, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]  # noqa: SLF001
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _cell_text(cell: object, text: str, *, bold: bool = False, right: bool = False, size: float = 8.5) -> None:
    p = cell.paragraphs[0]  # type: ignore[attr-defined]
    run = p.add_run()
    _add_text(run, text)
    run.font.size = Pt(size)
    run.bold = bold
    if text == MISSING:
        run.font.color.rgb = MISSING_RED
        run.bold = True
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _table(doc: object, b: Table) -> None:
    """Column widths from generator/report_layout.py, as in the PDF: no amount, date or id has to break."""
    if b.caption:
        cap = doc.add_paragraph()  # type: ignore[attr-defined]
        run = cap.add_run(b.caption)
        run.bold = True
        run.font.size = Pt(9)
        run.font.color.rgb = ACCENT
    ncols = len(b.header[0])
    table: DocxTable = doc.add_table(rows=0, cols=ncols)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # Word keeps the widths below instead of re-flowing columns to content
    total_width = Mm(174)
    measured = [*b.header, *(r for i, r in enumerate(b.rows) if i not in b.group_rows), *b.footer]
    # Word's cell margins (1.9 mm each side) are wider than the PDF's 3 pt: measured on a narrower table.
    fit = fit_columns(measured, b.widths or [1] * ncols, TEXT_WIDTH_PT - ncols * 7.8)
    size = fit.size_pt
    for header in b.header:
        row = table.add_row()
        _repeat_header(row)
        for cell, text in zip(row.cells, header, strict=True):
            _cell_text(cell, text, bold=True, size=size)
            _shade(cell, "E8EDF5")
    for index, data in enumerate(b.rows):
        row = table.add_row()
        if index in b.group_rows:
            merged = row.cells[0].merge(row.cells[-1])
            _cell_text(merged, data[0], bold=True, size=size)
            _shade(merged, "F4F6FA")
            continue
        for col, (cell, text) in enumerate(zip(row.cells, data, strict=True)):
            _cell_text(cell, text, right=col in b.numeric, size=size)
    for data in b.footer:
        row = table.add_row()
        for col, (cell, text) in enumerate(zip(row.cells, data, strict=True)):
            _cell_text(cell, text, bold=True, right=col in b.numeric, size=size)
    for col, fraction in enumerate(fit.widths):
        width = int(total_width * fraction)
        table.columns[col].width = width
        for cell in table.columns[col].cells:
            cell.width = width
    doc.add_paragraph()  # type: ignore[attr-defined]


def _key_values(doc: object, b: KeyValues) -> None:
    table = doc.add_table(rows=0, cols=2)  # type: ignore[attr-defined]
    for label, value in b.pairs:
        cells = table.add_row().cells
        _cell_text(cells[0], label, bold=True, size=10)
        _cell_text(cells[1], value if value else MISSING, size=10)
    for cell in table.columns[0].cells:
        cell.width = Mm(45)
    for cell in table.columns[1].cells:
        cell.width = Mm(129)


def _paragraph(doc: object, text: str, *, missing: bool = False, bold: bool = False,
               size: float | None = None, align: WD_ALIGN_PARAGRAPH | None = None) -> DocxParagraph:
    p = doc.add_paragraph()  # type: ignore[attr-defined]
    run = p.add_run()
    _add_text(run, text)
    run.bold = bold or missing
    if missing:
        run.font.color.rgb = MISSING_RED
    if size:
        run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    return p


def _block(doc: object, b: Block, photos: Mapping[str, ReportPhoto]) -> None:
    if isinstance(b, Paragraph):
        _paragraph(doc, b.text, missing=b.missing, bold=b.style == "emphasis", size=9 if b.style == "note" else None)
    elif isinstance(b, KeyValues):
        _key_values(doc, b)
    elif isinstance(b, Table):
        _table(doc, b)
    elif isinstance(b, PhotoBlock):
        photo = photos.get(b.id)
        if photo is not None and photo.data is not None:  # the print copy, as in the PDF (generator/photos.py)
            doc.add_picture(io.BytesIO(photo.data), width=Mm(110))  # type: ignore[attr-defined]
        elif photo is not None and not photo.missing:
            _paragraph(doc, f"照片无法显示：{b.file}（{photo.problem}）", missing=True)
        else:
            _paragraph(doc, f"照片文件缺失：{b.file}", missing=True)
        _paragraph(doc, f"{b.id} {b.caption}；对应查勘记录：{b.record_ref}"
                   + (f"；拍摄时间：{b.taken_at}" if b.taken_at else ""), size=9)
    elif isinstance(b, SignatureBlock):
        if b.handlers:
            _paragraph(doc, b.signer_title, bold=True)
            table = doc.add_table(rows=1, cols=len(b.handlers))  # type: ignore[attr-defined]
            table.style = "Table Grid"
            for cell, h in zip(table.rows[0].cells, b.handlers, strict=True):
                cell.paragraphs[0].add_run("\n\n\n签名：")
                cell.add_paragraph(f"{h.name}" + (f"（{h.role}）" if h.role else ""))
                cell.add_paragraph(f"{b.licence_label}：{h.licence_no or MISSING}")
        _paragraph(doc, b.seal_title, bold=True)
        _paragraph(doc, "（盖章）\n\n\n", align=WD_ALIGN_PARAGRAPH.RIGHT)
        _paragraph(doc, b.firm_name, align=WD_ALIGN_PARAGRAPH.RIGHT)
        _paragraph(doc, f"{b.date_label}：{b.report_date}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    elif isinstance(b, ReceiptBlock):
        _paragraph(doc, f"{b.label}：{b.signed_by or '＿＿＿＿＿＿＿＿'}", align=WD_ALIGN_PARAGRAPH.RIGHT)
        _paragraph(doc, b.signed_at or "＿＿＿＿年＿＿月＿＿日", align=WD_ALIGN_PARAGRAPH.RIGHT)
        for label, value in b.extra:
            _paragraph(doc, f"{label}：{value or MISSING}", size=9, align=WD_ALIGN_PARAGRAPH.RIGHT)
    elif isinstance(b, AmountBlock):
        p = doc.add_paragraph()  # type: ignore[attr-defined]
        p.add_run(f"{b.label}：").bold = True
        p.add_run("人民币 ")
        p.add_run(b.figures).bold = True
        p.add_run(" 元（大写：")
        p.add_run(b.uppercase).bold = True
        p.add_run("）")


def _section(doc: object, s: Section, photos: Mapping[str, ReportPhoto]) -> None:
    if s.anchor.startswith("app-"):
        doc.add_page_break()  # type: ignore[attr-defined]
    doc.add_heading(s.heading, level=s.level)  # type: ignore[attr-defined]
    for b in s.blocks:
        _block(doc, b, photos)
    for sub in s.subsections:
        _section(doc, sub, photos)


def render_docx_bytes(report: ReportDocument, photos: Mapping[str, ReportPhoto]) -> bytes:
    doc = Document()
    _setup_styles(doc)
    _header_footer(doc, report)
    props = doc.core_properties
    props.title = _clip(report.title)
    props.author = _clip(report.firm_name)
    props.identifier = _clip(report.report_number)
    props.subject = _clip(report.case_name)
    props.keywords = _clip(f"{report.report_number}, {report.case_id}")
    props.comments = _clip(f"案件编号 {report.case_id}")
    # Fixed dates (python-docx would otherwise stamp the clock): the report date, like the PDF.
    stamp = datetime(report.report_date.year, report.report_date.month, report.report_date.day)
    props.created = props.modified = stamp
    props.last_printed = stamp
    props.revision = 1

    # Cover
    _paragraph(doc, report.firm_name, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    title = doc.add_paragraph(style="Title")
    _add_text(title.add_run(), report.title)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(doc, f"报告编号：{report.report_number}", size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    _key_values(doc, KeyValues(report.cover))
    doc.add_page_break()
    doc.add_heading("摘要", level=1)
    for b in report.summary:
        _block(doc, b, photos)
    doc.add_page_break()
    for s in report.sections:
        _section(doc, s, photos)
    for s in report.appendices:
        _section(doc, s, photos)
    out = io.BytesIO()
    doc.save(out)
    return zip_dated(out.getvalue(), stamp)


def zip_dated(docx: bytes, stamp: datetime) -> bytes:
    """The .docx with every zip member dated `stamp` (the report date): python-docx dates the members with the
    clock, so one case rendered twice (the web's issue, `gongu issue` on the downloaded folder) differed in
    the zip headers alone. Members, order and compression stay as python-docx wrote them."""
    when = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)  # a zip dates nothing before 1980
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dated = zipfile.ZipInfo(info.filename, date_time=when)
            dated.compress_type, dated.external_attr = info.compress_type, info.external_attr
            dst.writestr(dated, src.read(info))
    return out.getvalue()
