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

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, NameObject

from generator.render_safety import RenderError, resolve_case_file

PDF_MAGIC = b"%PDF-"


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
        if not data.startswith(PDF_MAGIC):
            raise RenderError(f"{ref.what} “{ref.file}” 不是 PDF 文件，附件须为 PDF 扫描件 (attachment is not a PDF)")
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


def page_number_overlay(sizes: Sequence[tuple[float, float]], first: int, total: int) -> PdfReader:
    """One page per size (PDF points) carrying only 「第 X 页 共 Y 页」 in the bottom margin, numbered from
    `first`: laid over the bound scans so every page of the bound file is numbered like the document's.
    No background: nothing of the scan is hidden."""
    from weasyprint import HTML  # the renderer's own engine; fonts embedded as in the document

    pages_css = "".join(f"@page p{i} {{ size: {w:.2f}pt {h:.2f}pt; margin: 0; }}" for i, (w, h) in enumerate(sizes))
    body = "".join(
        f'<div style="page: p{i}; height: {h:.2f}pt; position: relative;"><p style="position: absolute; '
        f'bottom: 3.5mm; left: 0; right: 0; margin: 0; text-align: center; font: 8pt \'Noto Serif CJK SC\', serif; '
        f'color: #222;">第 {first + i} 页 共 {total} 页</p></div>'
        for i, (_, h) in enumerate(sizes))
    data = HTML(string=f"<html><head><style>{pages_css}</style></head><body style='margin:0'>{body}</body></html>").write_pdf()
    return PdfReader(io.BytesIO(data))


def bind(pdf: bytes, attachments: Sequence[BoundAttachment]) -> bytes:
    """`pdf` with every page of each attachment appended and numbered (第 X 页 共 Y 页, Y the bound
    file's length), the catalog, /ID and Info of `pdf` kept."""
    if not attachments:
        return pdf
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # PDF/A-3 is based on PDF 1.7: keep WeasyPrint's %PDF-1.7
    scans = [page for a in attachments for page in PdfReader(io.BytesIO(a.data)).pages]
    own = len(reader.pages)
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in scans]
    overlay = page_number_overlay(sizes, own + 1, own + len(scans))
    for page, number in zip(scans, overlay.pages, strict=True):
        added = writer.add_page(page)
        # A scan's own annotations (links, forms) have no place in a sealed record.
        if "/Annots" in added:
            del added[NameObject("/Annots")]
        added.merge_page(number)
    # The render's identifier (deterministic, issue 3 §7) and WeasyPrint's Info (matching the XMP).
    first = reader.trailer["/ID"]
    writer._ID = ArrayObject([ByteStringObject(first[0].original_bytes),  # noqa: SLF001 — no public setter
                              ByteStringObject(first[1].original_bytes)])
    info = reader.trailer.get("/Info")
    if info is not None:
        writer._info = writer._add_object(DictionaryObject(info.get_object()))  # noqa: SLF001
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
