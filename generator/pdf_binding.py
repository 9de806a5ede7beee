"""Attachment PDFs (scanned medical records, ID copies …) bound after a rendered document, before sealing.

A document's 附件 list names files of the case folder (forensic: `attachments[].file` and the scans of
listed materials; survey: `attachments[].file` of the 附件清单, clause 9.1). They are bound after the
rendered pages with pypdf, and the list shows where each one sits in the bound file (第 a–b 页), so
the rendered pages say 「共 Y 页」 with Y counting the attachments too.

PDF/A: the rendered PDF's catalog (XMP metadata with pdfaid 3B and Dublin Core, the sRGB output intent,
the embedded case.json and its /AF entry, MarkInfo) is kept as it is: pypdf clones the document and only
grows the page tree; the file identifier stays the render's, the Info dictionary WeasyPrint's (pypdf
would otherwise stamp its own producer, which the XMP does not carry). Scans are image-only pages.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, NameObject

from generator.render_safety import RenderError, resolve_case_file

PDF_MAGIC = b"%PDF-"
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # JPEG, PNG: a photographed ID copy is common
_A4_AT_150_DPI = (1240, 1754)
_MARGIN = 90  # px at 150 dpi (15 mm): room for the 第 X 页 共 Y 页 line


def image_page(data: bytes, what: str) -> bytes:
    """A JPEG/PNG scan as one A4 PDF page (the image scaled to fit, never enlarged), so it binds like a
    PDF scan. Pillow's decompression-bomb guard stays on; a broken image is a RenderError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise RenderError(f"{what} 无法读取图像：{exc} (unreadable image)") from None
    page = Image.new("RGB", _A4_AT_150_DPI, "white")
    box = (_A4_AT_150_DPI[0] - 2 * _MARGIN, _A4_AT_150_DPI[1] - 2 * _MARGIN)
    rgb.thumbnail(box)
    page.paste(rgb, ((_A4_AT_150_DPI[0] - rgb.width) // 2, _MARGIN))
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150.0)
    return out.getvalue()


@dataclass(frozen=True)
class AttachmentRef:
    """A file a document lists in its 附件: shown as `title`, read from `file` (relative to the case folder)."""

    title: str
    file: str
    what: str  # where the case names it, for errors, e.g. "附件 2（出院记录）的文件 $.attachments[1].file"


@dataclass(frozen=True)
class BoundAttachment:
    title: str
    path: Path
    data: bytes
    pages: int


def load_attachments(case_dir: Path, refs: Sequence[AttachmentRef]) -> list[BoundAttachment]:
    """Each listed file, checked: inside the case folder, present, and a readable PDF (else RenderError)."""
    out: list[BoundAttachment] = []
    for ref in refs:
        path = resolve_case_file(case_dir, ref.file, ref.what)
        if not path.is_file():
            raise RenderError(f"{ref.what} “{ref.file}” 不存在 (attachment file not found)")
        data = path.read_bytes()
        if data.startswith(IMAGE_MAGIC):
            data = image_page(data, f"{ref.what} “{ref.file}”")
        if not data.startswith(PDF_MAGIC):
            raise RenderError(f"{ref.what} “{ref.file}” 不是 PDF 文件或 JPEG/PNG 图像，附件须为扫描件 "
                              "(attachment is neither a PDF nor a JPEG/PNG image)")
        try:
            pages = len(PdfReader(io.BytesIO(data)).pages)
        except (PyPdfError, ValueError, KeyError, OSError) as exc:
            raise RenderError(f"{ref.what} “{ref.file}” 无法读取：{exc} (unreadable PDF)") from None
        if pages == 0:
            raise RenderError(f"{ref.what} “{ref.file}” 没有页面 (PDF has no pages)")
        out.append(BoundAttachment(ref.title, path, data, pages))
    return out


def page_ranges(document_pages: int, attachments: Sequence[BoundAttachment]) -> list[tuple[int, int]]:
    """1-based (first, last) page of each attachment in the bound file, after `document_pages` pages."""
    ranges: list[tuple[int, int]] = []
    nxt = document_pages + 1
    for a in attachments:
        ranges.append((nxt, nxt + a.pages - 1))
        nxt += a.pages
    return ranges


def format_range(first: int, last: int) -> str:
    return f"第 {first} 页" if first == last else f"第 {first}–{last} 页"


def page_number_overlay(sizes: Sequence[tuple[float, float]], first: int, total: int,
                        note: str | None = None) -> PdfReader:
    """One page per size (PDF points) carrying only 「第 X 页 共 Y 页」 in the bottom margin, numbered from
    `first`: laid over the bound scans so every page of the bound file is numbered like the document's;
    `note` (the document's 「校验码：…」, generator/render_codes.py) at the bottom right, as on its own pages.
    No background: nothing of the scan is hidden."""
    from weasyprint import HTML  # the renderer's own engine; fonts embedded as in the document

    corner = "" if not note else (
        '<p style="position: absolute; bottom: 3.5mm; right: 10mm; margin: 0; text-align: right; '
        f"font: 7pt 'Noto Sans CJK SC', sans-serif; color: #333;\">{html.escape(note)}</p>")
    pages_css = "".join(f"@page p{i} {{ size: {w:.2f}pt {h:.2f}pt; margin: 0; }}" for i, (w, h) in enumerate(sizes))
    body = "".join(
        f'<div style="page: p{i}; height: {h:.2f}pt; position: relative;"><p style="position: absolute; '
        f'bottom: 3.5mm; left: 0; right: 0; margin: 0; text-align: center; font: 8pt \'Noto Serif CJK SC\', serif; '
        f'color: #222;">第 {first + i} 页 共 {total} 页</p>{corner}</div>'
        for i, (_, h) in enumerate(sizes))
    data = HTML(string=f"<html><head><style>{pages_css}</style></head><body style='margin:0'>{body}</body></html>").write_pdf()
    return PdfReader(io.BytesIO(data))


def bind(pdf: bytes, attachments: Sequence[BoundAttachment], note: str | None = None) -> bytes:
    """`pdf` with every page of each attachment appended and numbered (第 X 页 共 Y 页, Y the bound
    file's length) and carrying `note` (the check code's line), the catalog, /ID and Info of `pdf` kept."""
    if not attachments:
        return pdf
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # PDF/A-3 is based on PDF 1.7: keep WeasyPrint's %PDF-1.7
    scans = [page for a in attachments for page in PdfReader(io.BytesIO(a.data)).pages]
    own = len(reader.pages)
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in scans]
    overlay = page_number_overlay(sizes, own + 1, own + len(scans), note)
    for page, number in zip(scans, overlay.pages, strict=True):
        added = writer.add_page(page)
        # A scan's own annotations (links, forms) have no place in a sealed record.
        if "/Annots" in added:
            del added[NameObject("/Annots")]
        added.merge_page(number)
    # The render's identifier (deterministic) and WeasyPrint's Info (matching the XMP).
    first = reader.trailer["/ID"]
    writer._ID = ArrayObject([ByteStringObject(first[0].original_bytes),  # noqa: SLF001 — no public setter
                              ByteStringObject(first[1].original_bytes)])
    info = reader.trailer.get("/Info")
    if info is not None:
        writer._info = writer._add_object(DictionaryObject(info.get_object()))  # noqa: SLF001
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
