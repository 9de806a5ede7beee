"""generator/pdf_internals.py reaches into WeasyPrint and pyHanko internals; these tests fail loudly
when an upgrade changes their shape, instead of a render silently losing its signature fields or its
determinism (pins in pyproject.toml: weasyprint>=70,<71, pyhanko>=0.38,<0.39)."""

from __future__ import annotations

import inspect
import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from weasyprint import HTML
from weasyprint.pdf.metadata import NS, DocumentMetadata

from generator.pdf_internals import add_dublin_core, page_boxes, pin_incremental_update

HTML_DOC = '<p>before</p><div id="box" style="width: 96px; height: 48px; margin-left: 96px">x</div>'


def test_weasyprint_page_box_tree_has_the_shape_used() -> None:
    document = HTML(string=HTML_DOC).render()
    page = document.pages[0]
    assert hasattr(page, "_page_box"), "WeasyPrint dropped Page._page_box: see generator/pdf_internals.py"
    found = [b for b in page_boxes(page) if getattr(b, "element", None) is not None and b.element.get("id") == "box"]
    assert len(found) >= 1, "the box tree no longer carries the HTML element of each box"
    box = found[0]
    # 96 CSS px = 1 inch wide, 48 px high, 96 px from the page's content edge.
    assert box.border_width() == 96 and box.border_height() == 48
    assert box.border_box_x() == page.anchors["box"][0]  # the same corner WeasyPrint's public anchors report


def test_weasyprint_rdf_generator_has_the_shape_used() -> None:
    assert {"rdf", "dc"} <= set(NS)
    params = list(inspect.signature(DocumentMetadata.generate_rdf_metadata).parameters)
    assert params == ["self", "variant", "version", "conformance"]
    rdf = DocumentMetadata(title="t").generate_rdf_metadata("a", 3, "B")
    assert rdf.startswith(b"<rdf:RDF") and rdf.rstrip().endswith(b"</rdf:RDF>")


def _xmp(pdf: bytes) -> str:
    return PdfFileReader(io.BytesIO(pdf)).root["/Metadata"].get_object().data.decode("utf-8")


def test_dublin_core_survives_the_xmp_rewrite_of_sealing() -> None:
    document = HTML(string="<title>报告</title><p>x</p>").render()
    add_dublin_core(document, {"identifier": "R-1 & <2>", "source": "C-9", "publisher": "某公估公司"})
    pdf = document.write_pdf(pdf_variant="pdf/a-3b", pdf_identifier=b"0123456789abcdef")
    xmp = _xmp(pdf)
    assert "<dc:identifier>R-1 &amp; &lt;2&gt;</dc:identifier>" in xmp and "<dc:source>C-9</dc:source>" in xmp
    assert xmp.count("<rdf:RDF") == 1 and 'pdfaid:part="3"' in xmp  # WeasyPrint's own XMP kept, one rdf:RDF
    # A signature rewrites the XMP (pyHanko reads the first rdf:RDF only): the properties must stay.
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/Lang"] = generic.TextStringObject("zh-CN")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    sealed = _xmp(out.getvalue())
    assert sealed != xmp  # really rewritten
    assert "R-1 &amp; &lt;2&gt;" in sealed and "C-9" in sealed and "某公估公司" in sealed


def _pdf() -> bytes:
    return HTML(string="<p>x</p>").write_pdf(pdf_identifier=b"0123456789abcdef")


def test_pyhanko_incremental_writer_internals_have_the_shape_used() -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(_pdf()))
    doc_id = writer._document_id  # noqa: SLF001 — the internal under test
    assert isinstance(doc_id, generic.ArrayObject) and len(doc_id) == 2
    assert inspect.ismethod(writer._update_meta)  # noqa: SLF001
    assert "_update_meta" in inspect.getsource(type(writer).__mro__[1]._prep_dom_for_writing)  # noqa: SLF001


def test_pinned_update_keeps_the_given_second_id_and_no_clock() -> None:
    base = _pdf()
    out = []
    for _ in range(2):
        writer = IncrementalPdfFileWriter(io.BytesIO(base))
        pin_incremental_update(writer, b"S" * 16)
        writer.root["/Lang"] = generic.TextStringObject("zh-CN")  # any change, so an update is written
        writer.update_root()
        buf = io.BytesIO()
        writer.write(buf)
        out.append(buf.getvalue())
    assert out[0] == out[1]  # no random ID, no clock
    reader = PdfFileReader(io.BytesIO(out[0]))
    first, second = reader.trailer["/ID"]
    assert first.original_bytes == b"0123456789abcdef" and second.original_bytes == b"S" * 16
    assert b"/ModDate" not in out[0][len(base):]  # the update itself stamps no modification date
