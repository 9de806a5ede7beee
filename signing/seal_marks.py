"""Seal impressions drawn into the pages themselves, before the institution's certification signature: the
seal on the 意见书 cover and the optional cross-page seal (骑缝章).

Both are page content added in one incremental update *before* the first signature, so the certification
signature (and every signature after it) covers them: DocMDP /P 2 sees no change after signing and
`gongu verify` reports none. They exist only in a sealed file: the renderer reserves the cover's place and
draws nothing, so an unsealed copy never shows a seal.

- **Cover seal**: the renderer marks the place with an element `id="cover-seal"` (forms/templates/forensic.html,
  a 40 mm box in forms/styles/forensic.css); WeasyPrint writes every id as a named destination, whose page and
  top-left corner say where the seal goes. A document without that destination (a survey report, a companion
  document) gets no cover seal.
- **Cross-page seal** (`[signing] cross_page_seal = true`): the common practice for a bound document — the pages
  are fanned out, each one a strip further right than the one above, and one seal is stamped across the fan,
  so each page carries one equal vertical strip of the seal at its right edge as shown (a turned page's /Rotate
  is followed), page 1 the leftmost strip. One
  impression spans at most CROSS_PAGE_MAX_PAGES pages (strips stay ≥ 4 mm wide); a longer document is split
  into consecutive groups of as equal a size as possible, one impression each. A one-page document has no
  cross-page seal (nothing to join).

The seal image is the institution's own (`[signing] seal_image`) or the one drawn from its name
(signing/seal_image.py), the same as the seal field's appearance.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, BoxConstraints, InnerScaling, SimpleBoxLayoutRule
from pyhanko.stamp import StaticContentStamp, StaticStampStyle
from pypdf import PdfReader

from generator.pdf_structure import is_tagged, tag_page_figure

MM = 72 / 25.4
COVER_SEAL_DEST = "cover-seal"  # the renderer's element id, a named destination in the PDF
COVER_SEAL_MM = 40.0  # the box of .cover-seal in forms/styles/forensic.css; a 司法鉴定专用章 is about 40 mm
CROSS_PAGE_SEAL_MM = 40.0
CROSS_PAGE_MAX_PAGES = 10  # 40 mm / 10 = 4 mm: a narrower strip no longer shows a recognisable part of the seal
INK_OPACITY = 0.92  # as the seal field's appearance (signing.seal.firm_style): the text under it stays legible


@dataclass(frozen=True)
class Strip:
    """One page's part of the cross-page seal: the `part`-th of `parts` equal vertical strips (0 = leftmost)."""

    page: int  # 0-based
    part: int
    parts: int


def cross_page_strips(pages: int, max_pages: int = CROSS_PAGE_MAX_PAGES) -> list[Strip]:
    """Which strip of which impression each page carries: consecutive groups of at most `max_pages`
    pages, sizes as equal as possible (23 pages → 8, 8, 7); none for a single page."""
    if pages < 2:
        return []
    groups = math.ceil(pages / max_pages)
    base, extra = divmod(pages, groups)
    strips: list[Strip] = []
    page = 0
    for g in range(groups):
        size = base + (1 if g < extra else 0)
        strips.extend(Strip(page + k, k, size) for k in range(size))
        page += size
    return strips


def strip_image(seal: Image.Image, part: int, parts: int) -> Image.Image:
    """The `part`-th of `parts` equal vertical strips of the seal image (pixel edges rounded, so the
    strips tile the image exactly)."""
    width = seal.width
    return seal.crop((round(part * width / parts), 0, round((part + 1) * width / parts), seal.height))


def cover_seal_place(pdf: bytes) -> tuple[int, float, float] | None:
    """(page index, left, top) in PDF points of the renderer's `cover-seal` box; None when there is none."""
    reader = PdfReader(io.BytesIO(pdf))
    dest = reader.named_destinations.get(COVER_SEAL_DEST)
    if dest is None or dest.left is None or dest.top is None:
        return None
    return reader.get_destination_page_number(dest), float(dest.left), float(dest.top)


def _stamp(writer: IncrementalPdfFileWriter, image: Image.Image, page: int, x: float, y: float,
           width: float, height: float, alt: str | None = None) -> None:
    """The image drawn at (x, y) on `page`. In a tagged PDF every piece of page content is either real
    content or an artifact (ISO 32000-1 14.8.2.2): with `alt` the impression is a Figure described by
    it (generator/pdf_structure.py), without it an artifact. pyHanko's `StaticContentStamp.apply` draws
    unmarked content, so the stamp is registered with pyHanko and painted here, the way apply paints it
    (the page's own content wrapped in q … Q first)."""
    style = StaticStampStyle(
        background=PdfImage(image), background_opacity=INK_OPACITY, border_width=0,
        background_layout=SimpleBoxLayoutRule(x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MIN,
                                              inner_content_scaling=InnerScaling.STRETCH_FILL),
    )
    stamp_ref = StaticContentStamp(writer, style, BoxConstraints(width=width, height=height)).register()
    if not is_tagged(writer):
        mark, end = b"", b""
    elif alt:
        mark, end = b"/Figure <</MCID %d>> BDC " % tag_page_figure(writer, page, alt), b" EMC"
    else:
        mark, end = b"/Artifact BMC ", b" EMC"
    name = f"/GonguSeal{stamp_ref.idnum}"  # unique in the file: the stamp's object number
    paint = mark + b"q 1 0 0 1 %g %g cm %s Do Q" % (x, y, name.encode()) + end
    resources = generic.DictionaryObject({
        generic.NameObject("/XObject"): generic.DictionaryObject({generic.NameObject(name): stamp_ref})})
    writer.add_stream_to_page(page, writer.add_object(generic.StreamObject(stream_data=b"q")), prepend=True)
    writer.add_stream_to_page(page, writer.add_object(generic.StreamObject(stream_data=b"Q")))
    page_ref = writer.add_stream_to_page(page, writer.add_object(generic.StreamObject(stream_data=paint)), resources)
    # A page holding its /Resources directly (a bound attachment's page) gets a new resource dictionary that
    # pyHanko does not write unless the page itself is marked updated: the stamp would name an unknown XObject.
    writer.mark_update(page_ref)


def _strip_placement(piece: Image.Image, seal_width: int, box: Any, rotate: int
                     ) -> tuple[Image.Image, float, float, float, float]:
    """The strip as drawn in the page's own coordinates: (image, x, y, width, height). It goes flush with the
    right edge *as the page is shown* — the visible area (crop box) turned by /Rotate (clockwise) — half-way
    down it, clear of header and footer, and upright as shown."""
    diameter = CROSS_PAGE_SEAL_MM * MM
    width = diameter * piece.width / seal_width
    left, bottom, right, top = float(box.left), float(box.bottom), float(box.right), float(box.top)
    middle_x, middle_y = (left + right - diameter) / 2, (bottom + top - diameter) / 2
    if rotate == 90:  # the top edge is shown on the right; turned back a quarter (anticlockwise) to stand upright
        return piece.rotate(90, expand=True), middle_x, top - width, diameter, width
    if rotate == 180:
        return piece.rotate(180, expand=True), left, middle_y, width, diameter
    if rotate == 270:
        return piece.rotate(-90, expand=True), middle_x, bottom, diameter, width
    return piece, right - width, middle_y, width, diameter


def draw_seal_marks(pdf: bytes, seal: Image.Image, *, cross_page: bool, alt: str = "") -> bytes:
    """`pdf` with the cover seal (where the renderer reserved its place) and, with `cross_page`, the
    cross-page seal strips, as one incremental update; `pdf` itself when there is nothing to draw. In a
    tagged PDF the cover seal is a Figure described by `alt` (司法鉴定专用章：<institution>), each strip an
    artifact: a sliver of a seal says nothing the cover seal does not."""
    cover = cover_seal_place(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    strips = cross_page_strips(len(reader.pages)) if cross_page else []
    if cover is None and not strips:
        return pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if cover is not None:
        page, left, top = cover
        size = COVER_SEAL_MM * MM
        _stamp(writer, seal, page, left, top - size, size, size, alt or None)
    for s in strips:
        page = reader.pages[s.page]
        piece, x, y, w, h = _strip_placement(strip_image(seal, s.part, s.parts), seal.width,
                                             page.cropbox, page.rotation % 360)
        _stamp(writer, piece, s.page, x, y, w, h)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
