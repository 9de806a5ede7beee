"""The one place Gongu reaches into private internals of WeasyPrint and pyHanko, because neither has a
public API for what the deterministic render needs (issue 3 §7: same case + same version → the same
bytes; issue 5: signature fields where the layout put the signature boxes).

- WeasyPrint: the laid-out box tree of a page (`Page._page_box`). The public `Page.anchors` gives an
  element's position but not its size, and a signature field needs the whole box.
- pyHanko: an incremental update gets a random second /ID (`_document_id`) and the clock in /ModDate and
  the XMP (`_update_meta`, called from `write`); there is no public switch for either.

Everything else in the render uses public API (`write_pdf(pdf_identifier=, attachments=, finisher=,
xmp_metadata=)`). pyproject.toml pins the versions these were checked against, and
tests/test_pdf_internals.py asserts each internal still has the shape used here, so an upgrade fails
there, loudly, instead of producing a PDF without signature fields or with a clock in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from weasyprint.document import Page


def page_boxes(page: Page) -> Iterator[Any]:
    """Every laid-out box of `page`, depth first in document order (WeasyPrint ≥70,<71: `Page._page_box`,
    boxes with `element`, `children`, `border_box_x/y()`, `border_width/height()`)."""
    stack = [page._page_box]  # noqa: SLF001 — no public accessor for the box tree
    while stack:
        box = stack.pop()
        yield box
        stack.extend(reversed(getattr(box, "children", None) or []))


def pin_incremental_update(writer: IncrementalPdfFileWriter, second_id: bytes) -> None:
    """Make `writer`'s update deterministic: the trailer's second /ID is `second_id` instead of random,
    and /ModDate and the XMP (WeasyPrint's PDF/A metadata) are left as they are instead of stamped
    with the clock (pyHanko ≥0.38,<0.39: `_document_id`, `_update_meta`)."""
    first = writer._document_id[0]  # noqa: SLF001 — no public setter for the trailer /ID
    writer._document_id = generic.ArrayObject([first, generic.ByteStringObject(second_id)])  # noqa: SLF001
    writer._update_meta = lambda: None  # type: ignore[method-assign]  # noqa: SLF001
