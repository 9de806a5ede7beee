"""The one place Gongu reaches into private internals of WeasyPrint and pyHanko, because neither has a
public API for what the deterministic render needs (same case + same version → the same bytes) and
for signature fields where the layout put the signature boxes.

- WeasyPrint: the laid-out box tree of a page (`Page._page_box`). The public `Page.anchors` gives an
  element's position but not its size, and a signature field needs the whole box.
- WeasyPrint: Dublin Core properties in the XMP's one rdf:RDF (`weasyprint.pdf.metadata`:
  `DocumentMetadata.generate_rdf_metadata`, `NS`). The public `xmp_metadata` option appends a second
  rdf:RDF, which XMP readers ignore: pyHanko keeps only the first when sealing rewrites the XMP, so
  the report number and case id would vanish from every sealed report.
- pyHanko: an incremental update gets a random second /ID (`_document_id`) and the clock in /ModDate and
  the XMP (`_update_meta`, called from `write`); there is no public switch for either.

Everything else in the render uses public API (`write_pdf(pdf_identifier=, attachments=, finisher=)`). pyproject.toml pins the versions these were checked against, and
tests/test_pdf_internals.py asserts each internal still has the shape used here, so an upgrade fails
there, loudly, instead of producing a PDF without signature fields or with a clock in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import SubElement, fromstring, tostring

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from weasyprint.document import Document, Page
from weasyprint.pdf.metadata import NS, DocumentMetadata


def page_boxes(page: Page) -> Iterator[Any]:
    """Every laid-out box of `page`, depth first in document order (WeasyPrint ≥70,<71: `Page._page_box`,
    boxes with `element`, `children`, `border_box_x/y()`, `border_width/height()`)."""
    stack = [page._page_box]  # noqa: SLF001 — no public accessor for the box tree
    while stack:
        box = stack.pop()
        yield box
        stack.extend(reversed(getattr(box, "children", None) or []))


class _DublinCoreMetadata(DocumentMetadata):
    """WeasyPrint's XMP plus Dublin Core text properties (and dc:publisher, which XMP types as a bag of
    names) in the same rdf:RDF."""

    dublin_core: dict[str, str]

    def generate_rdf_metadata(self, variant, version, conformance):  # type: ignore[no-untyped-def]
        rdf = fromstring(super().generate_rdf_metadata(variant, version, conformance))
        desc = SubElement(rdf, f'{{{NS["rdf"]}}}Description')
        desc.attrib[f'{{{NS["rdf"]}}}about'] = ""
        for key, value in self.dublin_core.items():
            prop = SubElement(desc, f'{{{NS["dc"]}}}{key}')
            if key == "publisher":
                SubElement(SubElement(prop, f'{{{NS["rdf"]}}}Bag'), f'{{{NS["rdf"]}}}li').text = value
            else:
                prop.text = value
        return tostring(rdf, encoding="utf-8")


def add_dublin_core(document: Document, properties: dict[str, str]) -> None:
    """Write `properties` (dc name → text) into `document`'s XMP, keeping everything WeasyPrint puts
    there (WeasyPrint ≥70,<71: `DocumentMetadata.generate_rdf_metadata(variant, version, conformance)`
    returning the rdf:RDF element as bytes; `NS` with "rdf" and "dc")."""
    meta = _DublinCoreMetadata()
    meta.__dict__.update(document.metadata.__dict__)
    meta.dublin_core = dict(properties)
    document.metadata = meta


def pin_incremental_update(writer: IncrementalPdfFileWriter, second_id: bytes) -> None:
    """Make `writer`'s update deterministic: the trailer's second /ID is `second_id` instead of random,
    and /ModDate and the XMP (WeasyPrint's PDF/A metadata) are left as they are instead of stamped
    with the clock (pyHanko ≥0.38,<0.39: `_document_id`, `_update_meta`)."""
    first = writer._document_id[0]  # noqa: SLF001 — no public setter for the trailer /ID
    writer._document_id = generic.ArrayObject([first, generic.ByteStringObject(second_id)])  # noqa: SLF001
    writer._update_meta = lambda: None  # type: ignore[method-assign]  # noqa: SLF001
