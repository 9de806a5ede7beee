"""HTML → PDF/A-3b with WeasyPrint, the case JSON embedded (relationship Source), then empty signature
fields added with pyHanko at the signature boxes' positions.

Deterministic: metadata dates come from the report date, the file identifier is a hash of
the input and the Gongu version, attachment dates are fixed, and pyHanko's incremental update is
pinned (no random second ID, no clock in /ModDate). Same case + same version → byte-identical PDF.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from weasyprint import HTML, Attachment
from weasyprint.document import Document

from generator.loading import LoadedCase
from generator.pdf_binding import BoundAttachment, bind
from generator.pdf_internals import add_dublin_core, page_boxes, pin_incremental_update
from generator.render_html import HtmlReport, gongu_version
from generator.render_safety import FolderFetcher, RefusedResource, RenderError
from generator.signature_fields import PARTY_FIELD, person_field, seal_field
from generator.types import SHANGHAI

# The PDF signature fields the sealing step fills are named in generator/signature_fields.py; they sit
# on the HTML ids #sig-handler-N and #sig-firm-seal of both kinds' templates.
PX_TO_PT = 0.75  # CSS px (1/96 in) → PDF points (1/72 in)

logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


@dataclass(frozen=True)
class FieldBox:
    name: str
    page: int  # 0-based
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in PDF points, origin bottom-left


def identity_properties(loaded: LoadedCase) -> dict[str, str]:
    """Dublin Core identifier (report number), source (case id) and publisher (firm) for the XMP:
    standard dc properties, so PDF/A needs no extension schema for them."""
    case = loaded.case
    return {"identifier": case.report.number, "source": case.case_id, "publisher": case.organization_name}


def signature_boxes(document: Document, *, forensic: bool = False) -> list[FieldBox]:
    """Positions of #sig-handler-N and #sig-firm-seal from WeasyPrint's layout, in PDF points, as the fields
    of the kind: `handler-N` / `firm-seal` (survey), `appraiser-N` / `institution-seal` (forensic)."""
    found: dict[str, FieldBox] = {}
    for index, page in enumerate(document.pages):
        height = page.height
        for box in page_boxes(page):
            element = getattr(box, "element", None)
            ident = element.get("id") if element is not None and hasattr(element, "get") else None
            if ident and (ident.startswith(("sig-handler-", "sig-party-")) or ident == "sig-firm-seal") \
                    and ident not in found:
                x, y = box.border_box_x(), box.border_box_y()
                w, h = box.border_width(), box.border_height()
                number = ident.rsplit("-", 1)[1]
                name = (seal_field(forensic) if ident == "sig-firm-seal" else PARTY_FIELD.format(number)
                        if ident.startswith("sig-party-") else person_field(forensic).format(number))
                rect = (x * PX_TO_PT, (height - y - h) * PX_TO_PT, (x + w) * PX_TO_PT, (height - y) * PX_TO_PT)
                found[ident] = FieldBox(name, index, tuple(round(v, 2) for v in rect))  # type: ignore[arg-type]
    return list(found.values())


def input_digest(loaded: LoadedCase, html: str) -> bytes:
    """The PDF /ID: same case bytes, same template output, same version → same identifier."""
    h = hashlib.sha256()
    for part in (loaded.raw, html.encode("utf-8"), gongu_version().encode()):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()[:16]


def add_signature_fields(pdf: bytes, fields: list[FieldBox], second_id: bytes) -> bytes:
    """Empty signature fields by name (handler-1 … / appraiser-1 …, firm-seal / institution-seal), appended as
    an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    # pyHanko gives the updated file a random second /ID and stamps the clock into /ModDate and XMP;
    # pin both so renders stay byte-identical, and keep WeasyPrint's PDF/A XMP untouched.
    pin_incremental_update(writer, second_id)
    for f in fields:
        append_signature_field(writer, SigFieldSpec(sig_field_name=f.name, on_page=f.page, box=f.box))  # type: ignore[arg-type]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _dedupe_associated_files(document: Document, pdf: object) -> None:
    """WeasyPrint 70 lists the case.json file spec twice in the catalog's /AF (once from the
    EmbeddedFiles name tree, once from the object scan); one entry per associated file is right."""
    catalog = pdf.catalog  # type: ignore[attr-defined]
    if "AF" in catalog:
        unique = list(dict.fromkeys(catalog["AF"]))
        catalog["AF"].clear()
        catalog["AF"].extend(unique)


@dataclass(frozen=True)
class PdfResult:
    data: bytes
    pages: int
    fields: list[FieldBox]


def layout(report: HtmlReport) -> Document:
    """WeasyPrint layout only (`HTML(...).render()`), with the folder-bound URL fetcher."""
    fetcher = FolderFetcher(report.roots, report.resources)
    try:
        return HTML(string=report.html, base_url=report.base_url, url_fetcher=fetcher).render()
    except RefusedResource as exc:
        raise RenderError(str(exc)) from None


def render_pdf_bytes(loaded: LoadedCase, report: HtmlReport,
                     bound: Sequence[BoundAttachment] = ()) -> PdfResult:
    """The PDF/A-3b; `bound` attachment PDFs are appended after the rendered pages (generator/pdf_binding.py)
    before the empty signature fields are added, so sealing covers them too."""
    document = layout(report)
    fields = signature_boxes(document, forensic=loaded.case.kind == "forensic_appraisal")
    add_dublin_core(document, identity_properties(loaded))
    digest = input_digest(loaded, report.html)
    issued = loaded.case.report.issued_on
    stamp = datetime(issued.year, issued.month, issued.day, tzinfo=SHANGHAI)
    attachment = Attachment(
        file_obj=io.BytesIO(loaded.raw), name="case.json", description=f"案件数据文件 {loaded.case.case_id}",
        created=stamp.astimezone(UTC), modified=stamp.astimezone(UTC), relationship="Source",
    )
    try:
        pdf = document.write_pdf(pdf_variant="pdf/a-3b", pdf_identifier=digest, attachments=[attachment],
                                 finisher=_dedupe_associated_files)
    except RefusedResource as exc:
        raise RenderError(str(exc)) from None
    assert pdf is not None
    pdf = bind(pdf, bound, report.check_line)
    second_id = hashlib.sha256(digest + b"signature-fields").digest()[:16]
    pages = len(document.pages) + sum(a.pages for a in bound)
    return PdfResult(add_signature_fields(pdf, fields, second_id), pages, fields)
