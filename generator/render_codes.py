"""The check code of an issued document (generator/check_code.py) printed on it, whatever templates the firm uses:
on the first page a QR code of the public check address with 「校验码：…」 under it, and the same line in the
footer of every page. Injected into the rendered HTML and the Word file like the unsealed copy's mark, so a
firm's own templates need nothing.

Placement: the QR block sits in the top-left corner of the first page's page area (absolutely positioned:
it moves nothing, so page counts stay as laid out), where our covers (everything centred below a top
padding) and document heads (centred firm and title) leave room. A firm template that needs that corner puts
`<div id="gongu-check-code"></div>` where the block should go instead: it is then laid out in the flow there
(callers apply it in every layout round that counts pages). The footer line is the bottom-right page-margin
box, beside the page number in the bottom-centre one. A floated block would be in the flow too, but beside a
cover on its own named page (`page: cover`) it would open a page of its own before the cover.
The QR is an SVG image served to WeasyPrint from memory (`QR_URL`, generator/render_safety.py): nothing is
fetched, and the <img>'s alt text describes it in the tagged PDF.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import replace
from datetime import datetime

from generator.check_code import check_url, printed, qr_png, qr_svg
from generator.render_html import HtmlReport
from generator.render_safety import RenderError

_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
QR_MM = 18  # 33 modules + quiet zone: about 0.5 mm a module, which phone cameras read from paper
_FONT = "'Noto Sans CJK SC', sans-serif"
_BLOCK_CSS = (f"width: 40mm; margin: 0; padding: 0; text-align: left; text-indent: 0; "
              f"font: 6.5pt/1.3 {_FONT}; color: #222; background: none; border: none;")
_CORNER_CSS = "position: absolute; top: 0; left: 0; "
# Where the fetcher serves the QR image from memory (generator/render_safety.py): no file, no network.
QR_URL = "file:///gongu-check-code/qr.svg"
# The place a firm template may reserve for the block (exactly this element, empty).
SLOT = re.compile(r'<div id="gongu-check-code">\s*</div>')


def with_code_html(report: HtmlReport, code: str, public_url: str) -> HtmlReport:
    """The report's HTML with the code's QR block on the first page and its line in every page's footer."""
    url = check_url(public_url, code)
    line = printed(code)  # the code alphabet only: nothing to escape in CSS or HTML
    footer = (f'<style>@page {{ @bottom-right {{ content: "{line}"; font: 7pt {_FONT}; color: #333; '
              "vertical-align: middle; text-align: right; } }</style>")
    def block(style: str) -> str:
        # An <img> with alt, not inline SVG: the tagged PDF describes a Figure by its img's alt.
        return (f'<div class="gongu-check-code" style="{style}{_BLOCK_CSS}">'
                f'<img src="{QR_URL}" alt="{html.escape(f"校验二维码：{url}")}" '
                f'style="display: block; width: {QR_MM}mm; height: {QR_MM}mm; margin: 0;">'
                f'<p style="margin: 0.6mm 0 0; padding: 0; text-indent: 0; text-align: left; white-space: nowrap;">'
                f"{line}</p></div>")

    page, slotted = SLOT.subn(lambda _m: block(""), report.html, count=1)
    # An absolutely positioned box belongs to the first page only (a fixed one would repeat on every page).
    marked, n = _BODY_TAG.subn(lambda m: m.group(0) + footer + ("" if slotted else block(_CORNER_CSS)), page, count=1)
    if n != 1:
        raise RenderError("模板没有 <body> 元素，无法印上校验码（template has no <body>: cannot print the check code）")
    return replace(report, html=marked, check_line=line, assets={**report.assets, QR_URL: (qr_svg(url), "image/svg+xml")})


def with_code_docx(data: bytes, code: str, public_url: str) -> bytes:
    """The Word file with the QR picture and 「校验码：…」 before its first paragraph and the line in the footer of
    every page (the first page's too). Zip members keep the document's own date: same input, same bytes."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from generator.render_docx import zip_dated

    doc = Document(io.BytesIO(data))
    url = check_url(public_url, code)
    line = printed(code)
    first = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    picture = first.insert_paragraph_before()
    picture.add_run().add_picture(io.BytesIO(qr_png(url)), width=Mm(QR_MM))
    # Word's alternative text for the picture (wp:docPr descr), as the PDF's alt text.
    for pr in picture._p.xpath(".//wp:docPr"):  # noqa: SLF001 — python-docx has no API for descr
        pr.set("descr", f"校验二维码：{url}")
    caption = first.insert_paragraph_before()
    run = caption.add_run(line)
    run.font.size = Pt(7)
    for p in (picture, caption):
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(0)
    for section in doc.sections:
        for footer in (section.footer, section.first_page_footer):
            p = footer.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            r = p.add_run(line)
            r.font.size = Pt(7)
    created = doc.core_properties.created or datetime(1980, 1, 1)
    out = io.BytesIO()
    doc.save(out)
    return zip_dated(out.getvalue(), created)
