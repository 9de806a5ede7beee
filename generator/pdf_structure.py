"""The tagged PDF's structure tree (ISO 32000-1 14.7–14.8) beyond what WeasyPrint writes: what is added to a
rendered document after WeasyPrint, so a screen reader still meets every piece of content in page order.

WeasyPrint (`pdf_variant="pdf/a-3a"`) tags the HTML: headings H1–H3, tables with TH/TD, every <img> a
Figure with the img's alt as /Alt, text as P/Span, borders and backgrounds (the decorative rules) as
/Artifact. Two things come later and are tagged here:

- the empty signature fields (pyHanko widgets): each a /Form structure element holding its widget
  (an OBJR), with the field's description as /Alt and the field's /TU, placed after the content of its
  page; sealing fills the same widget, so the sealed appearance keeps that element;
- attachment scans bound after the document (generator/pdf_binding.py): each scanned page one /Figure
  with the attachment's title as /Alt, its page number line (第 X 页 共 Y 页) an /Artifact;
- the seal impressions drawn at sealing (signing/seal_marks.py): the cover seal a /Figure
  「司法鉴定专用章：<institution>」, the strips of a cross-page seal artifacts (a strip alone says nothing).

The structure tree's /ParentTree maps a page's marked-content ids and an annotation's /StructParent to
their elements; every addition here keeps that map whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PageObject, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject


@dataclass(frozen=True)
class TaggedWidget:
    name: str  # the signature field's /T
    page: int  # 0-based
    alt: str  # e.g. 公估机构印章：四川蜀安保险公估有限公司


def _number_keys(nums: Any) -> list[int]:
    return [int(nums[i]) for i in range(0, len(nums), 2)]


def _ref(value: Any) -> generic.IndirectObject:
    """An indirect object (what a PDF object may hold) for what pyHanko's raw_get or page lookup returns."""
    if isinstance(value, generic.Reference):
        return generic.IndirectObject(value.idnum, value.generation, value.pdf)
    return value


def _same(a: Any, b: Any) -> bool:
    return bool(_ref(a).reference == _ref(b).reference)


def _field_refs(writer: IncrementalPdfFileWriter) -> dict[str, generic.IndirectObject]:
    fields = writer.root["/AcroForm"]["/Fields"]
    out: dict[str, generic.IndirectObject] = {}
    for i in range(len(fields)):
        ref = _ref(fields.raw_get(i))
        field = ref.get_object()
        if "/T" in field:
            out[str(field["/T"])] = ref
    return out


def _tree(writer: IncrementalPdfFileWriter) -> tuple[generic.IndirectObject, generic.IndirectObject]:
    """(the /ParentTree, the /Document element) of `writer`'s structure tree, as WeasyPrint writes them."""
    tree = writer.root["/StructTreeRoot"]
    top = tree["/K"]
    document_ref = _ref(top.raw_get(0) if isinstance(top, generic.ArrayObject) else tree.raw_get("/K"))
    return _ref(tree.raw_get("/ParentTree")), document_ref


def _insert_after_page(kids: Any, page_ref: generic.IndirectObject, element: generic.IndirectObject) -> None:
    """Reading order: `element` after every top-level element of its page (WeasyPrint lists the pages'
    elements page by page)."""
    at = len(kids)
    for i in range(len(kids) - 1, -1, -1):
        if _same(kids[i].raw_get("/Pg"), page_ref):
            at = i + 1
            break
    kids.insert(at, element)


def is_tagged(writer: IncrementalPdfFileWriter) -> bool:
    return "/StructTreeRoot" in writer.root


def tag_page_figure(writer: IncrementalPdfFileWriter, page: int, alt: str) -> int:
    """A new /Figure element with `alt` for content about to be drawn on `page` (0-based): returns the
    marked-content id that content must carry (`/Figure <</MCID n>> BDC … EMC`), the next free one of the
    page, mapped to the Figure in the /ParentTree."""
    parent_tree_ref, document_ref = _tree(writer)
    page_ref = _ref(writer.find_page_for_modification(page)[0])
    key = int(page_ref.get_object()["/StructParents"])
    nums = parent_tree_ref.get_object()["/Nums"]
    mcids = next(nums[i + 1] for i in range(0, len(nums), 2) if int(nums[i]) == key)
    mcid = len(mcids)  # WeasyPrint numbers a page's marked content 0, 1, … in order
    figure_ref = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/StructElem"),
        generic.NameObject("/S"): generic.NameObject("/Figure"),
        generic.NameObject("/P"): document_ref,
        generic.NameObject("/Pg"): page_ref,
        generic.NameObject("/Alt"): generic.TextStringObject(alt),
        generic.NameObject("/K"): generic.NumberObject(mcid),
    }))
    mcids.append(figure_ref)
    _insert_after_page(document_ref.get_object()["/K"], page_ref, figure_ref)
    writer.mark_update(parent_tree_ref)
    writer.mark_update(document_ref)
    return mcid


def tag_widgets(writer: IncrementalPdfFileWriter, widgets: list[TaggedWidget]) -> None:
    """Put each named signature field's widget (combined with its field, as pyHanko makes it) into the
    structure tree as a /Form element after the last element of its page. No structure tree (an untagged
    file) → nothing to do."""
    if not is_tagged(writer) or not widgets:
        return
    parent_tree_ref, document_ref = _tree(writer)
    kids = document_ref.get_object()["/K"]
    nums = parent_tree_ref.get_object()["/Nums"]
    next_key = max(_number_keys(nums), default=-1) + 1
    fields = _field_refs(writer)
    for w in widgets:
        widget_ref = fields[w.name]
        widget = widget_ref.get_object()
        page_ref = _ref(writer.find_page_for_modification(w.page)[0])
        widget["/StructParent"] = generic.NumberObject(next_key)
        widget["/TU"] = generic.TextStringObject(w.alt)
        objr = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/OBJR"),
            generic.NameObject("/Obj"): widget_ref,
            generic.NameObject("/Pg"): page_ref,
        })
        form_ref = writer.add_object(generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/StructElem"),
            generic.NameObject("/S"): generic.NameObject("/Form"),
            generic.NameObject("/P"): document_ref,
            generic.NameObject("/Pg"): page_ref,
            generic.NameObject("/Alt"): generic.TextStringObject(w.alt),
            # /K the OBJR itself, not an array holding it: pyHanko's check of what changed after a
            # signature accepts a filled field only when the structure tree reaches it as …/K/Obj.
            generic.NameObject("/K"): objr,
        }))
        _insert_after_page(kids, page_ref, form_ref)
        nums.extend([generic.NumberObject(next_key), form_ref])
        next_key += 1
        writer.mark_update(widget_ref)
    writer.mark_update(document_ref)
    writer.mark_update(parent_tree_ref)


def _wrap(page: PageObject, before: tuple[list[Any], bytes]) -> None:
    """`page`'s content as one marked-content sequence (`before` … EMC), its graphics state kept inside."""
    content = page.get_contents()
    if content is None:
        return
    ops = content.operations
    content.operations = [before, ([], b"q"), *ops, ([], b"Q"), ([], b"EMC")]
    page.replace_contents(content)


def mark_figure(page: PageObject) -> None:
    """A scanned page's whole content as real content: marked-content id 0, the page's one Figure."""
    _wrap(page, ([NameObject("/Figure"), DictionaryObject({NameObject("/MCID"): NumberObject(0)})], b"BDC"))


def mark_artifact(page: PageObject) -> None:
    """`page`'s whole content as an artifact (a page number line laid over a scan: pagination, not content)."""
    _wrap(page, ([NameObject("/Artifact")], b"BMC"))


def tag_scans(writer: PdfWriter, pages: list[tuple[PageObject, str]]) -> None:
    """Each (page, description) — a page marked by `mark_figure` — as a Figure with /Alt at the end of the
    document's structure; nothing when the document has no structure tree."""
    root = writer.root_object
    if "/StructTreeRoot" not in root or not pages:
        return
    tree = root["/StructTreeRoot"].get_object()
    parent_tree = tree["/ParentTree"].get_object()
    top = tree["/K"]
    document_ref = top[0] if isinstance(top, ArrayObject) else tree.raw_get("/K")
    document = document_ref.get_object()
    nums = parent_tree["/Nums"]
    next_key = max(_number_keys(nums), default=-1) + 1
    for page, alt in pages:
        figure_ref = writer._add_object(DictionaryObject({  # noqa: SLF001 — pypdf's way to add an object
            NameObject("/Type"): NameObject("/StructElem"),
            NameObject("/S"): NameObject("/Figure"),
            NameObject("/P"): document_ref,
            NameObject("/Pg"): page.indirect_reference,
            NameObject("/Alt"): TextStringObject(alt),
            NameObject("/K"): NumberObject(0),
        }))
        document["/K"].append(figure_ref)
        page[NameObject("/StructParents")] = NumberObject(next_key)
        nums.extend([NumberObject(next_key), ArrayObject([figure_ref])])
        next_key += 1


def scope_header_cells(pdf: Any) -> None:
    """Give each TH of WeasyPrint's structure tree (a `pydyf.PDF` before it is written) its /Scope: /Column
    for a header row (the cell's row is in a THead), /Row otherwise — a key–value or cover table's label,
    `<th scope="row">` in forms/templates. WeasyPrint links every TD to its headers (/Headers) but writes
    no /Scope, which PDF/UA checkers ask for to tell row headers from column headers."""
    objects = {o.number: o for o in pdf.objects if isinstance(o, dict) and getattr(o, "number", None) is not None}

    def parent(element: dict) -> dict | None:
        ref = element.get("P")
        return objects.get(int(ref.split()[0])) if isinstance(ref, bytes) else None

    for element in objects.values():
        if element.get("S") != "/TH":
            continue
        row = parent(element)
        group = parent(row) if row is not None else None
        scope = "/Column" if group is not None and group.get("S") == "/THead" else "/Row"
        element.setdefault("A", {"O": "/Table"})["Scope"] = scope
