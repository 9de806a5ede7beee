"""Tagged PDFs (generator/render_pdf.py, generator/pdf_structure.py, signing/seal_marks.py): the rendered
survey report and every document of a forensic appraisal carry a structure tree a screen reader can
follow — language zh-CN, the title shown in the window, headings H1–H3 without a skipped level, tables
with TH cells, alternative text on every figure (photos, seals, bound scans), signature fields tagged
as Form — and sealing keeps it: pdfinfo says "Tagged: yes" for the issued files, and the cover seal
drawn at sealing is a described Figure whose marked content the /ParentTree maps."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from sealkit import PASSPHRASE, World, pdfa_claim

from generator.loading import load_case
from generator.render import RenderedDocument, RenderResult, render_case_documents
from signing.verify import verify_pdf

ROOT = Path(__file__).resolve().parents[1]
FORENSIC = ROOT / "examples" / "forensic-joint-grade10" / "case.json"
FIRM = "四川蜀安保险公估有限公司"  # slope-collapse: firm.name
INSTITUTION = "四川蜀正司法鉴定中心"  # forensic-joint-grade10: institution.name
ARTIFACT = re.compile(rb"/Artifact\s+BMC")
APPRAISERS = [("唐志明", "510106012001"), ("邓晓梅", "510109013007")]  # its report.signatures, in order


@dataclass(frozen=True)
class Elem:
    tag: str  # structure type without the slash: "H1", "Figure", …
    alt: str | None
    depth: int
    page: int | None  # 0-based index of /Pg, when the element names a page
    scope: str | None = None  # a table cell's /A /Scope
    parents: tuple[str, ...] = ()  # the structure types above it, nearest first


def structure(path: Path) -> tuple[dict, list[Elem]]:
    """(the catalog, every structure element in document order: depth first, /K in order)."""
    reader = PdfReader(path)
    pages = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    root = reader.trailer["/Root"]
    found: list[Elem] = []

    def walk(node: object, depth: int, parents: tuple[str, ...]) -> None:
        node = node.get_object() if isinstance(node, IndirectObject) else node
        if isinstance(node, ArrayObject):
            for kid in node:
                walk(kid, depth, parents)
            return
        if not isinstance(node, DictionaryObject) or node.get("/Type") in ("/MCR", "/OBJR"):
            return  # a marked-content id (an int) or a reference to content: a leaf
        if "/S" not in node:  # the StructTreeRoot
            walk(node.get("/K"), depth, parents)
            return
        pg = node.get("/Pg")
        attrs = node.get("/A")
        scope = attrs.get_object().get("/Scope") if attrs is not None else None
        tag = str(node["/S"])[1:]
        found.append(Elem(tag, str(node["/Alt"]) if "/Alt" in node else None, depth,
                          pages.get(pg.idnum) if isinstance(pg, IndirectObject) else None,
                          str(scope)[1:] if scope else None, parents))
        walk(node.get("/K"), depth + 1, (tag, *parents))

    walk(root["/StructTreeRoot"], 0, ())
    return root, found


def pdfinfo_tagged(path: Path) -> str:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return re.search(r"^Tagged:\s*(\S+)", out, re.MULTILINE).group(1)  # type: ignore[union-attr]


def heading_levels(elems: list[Elem]) -> list[int]:
    return [int(e.tag[1]) for e in elems if re.fullmatch(r"H[1-6]", e.tag)]


def assert_headings_in_order(levels: list[int]) -> None:
    """The first heading is an H1 and no heading is more than one level below the one before it."""
    assert levels and levels[0] == 1, levels
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, f"H{before} followed by H{after}: a level skipped in {levels}"


def assert_accessible(path: Path, title: str) -> list[Elem]:
    """What every tagged document must carry; returns its elements for the test's own checks."""
    root, elems = structure(path)
    assert str(root["/Lang"]) == "zh-CN"
    assert root["/MarkInfo"]["/Marked"].value is True
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert str(PdfReader(path).metadata.title) == title
    assert elems[0].tag == "Document"
    assert_headings_in_order(heading_levels(elems))
    figures = [e for e in elems if e.tag == "Figure"]
    assert all(e.alt for e in figures), [e for e in figures if not e.alt]
    assert pdfinfo_tagged(path) == "yes"
    return elems


def mcids_by_page(path: Path) -> list[tuple[set[int], int]]:
    """Per page: the marked-content ids its content uses, and how many the /ParentTree maps for it."""
    reader = PdfReader(path)
    nums = reader.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    tree = {int(nums[i]): nums[i + 1].get_object() for i in range(0, len(nums), 2)}
    out = []
    for page in reader.pages:
        used = {int(m) for m in re.findall(rb"/MCID\s+(\d+)", page.get_contents().get_data())}
        mapped = tree.get(int(page["/StructParents"])) if "/StructParents" in page else None
        out.append((used, len(mapped) if isinstance(mapped, ArrayObject) else 0))
    return out


# ───────────────────────────── rendered ─────────────────────────────

@pytest.fixture(scope="module")
def survey(example_pdfs: dict[str, RenderResult]) -> Path:
    pdf = example_pdfs["slope-collapse"].pdf
    assert pdf is not None
    return pdf


@pytest.fixture(scope="module")
def forensic_docs(tmp_path_factory: pytest.TempPathFactory) -> list[RenderedDocument]:
    return render_case_documents(load_case(FORENSIC), tmp_path_factory.mktemp("forensic-tags"), formats=("pdf",))


@pytest.fixture(scope="module")
def opinion(forensic_docs: list[RenderedDocument]) -> Path:
    doc = next(d for d in forensic_docs if d.key == "opinion")
    assert doc.pdf is not None
    return doc.pdf


def test_survey_report_is_tagged_with_language_title_headings_and_tables(survey: Path) -> None:
    elems = assert_accessible(survey, "雅康高速C3合同段K42边坡坍塌损失公估报告")
    levels = heading_levels(elems)
    # One title (the cover), then 摘要, the 13 sections of 9.2 and the three appendices A–C as H2.
    assert levels.count(1) == 1 and levels.count(2) >= 1 + 13 + 3, levels
    tables = [i for i, e in enumerate(elems) if e.tag == "Table"]
    assert tables
    # A data table's header row is TH (the loss tables' thead), the key-value tables' labels are TH too.
    assert sum(e.tag == "TH" for e in elems) >= 10
    assert any(e.tag == "TH" for e in elems[tables[0]:])
    # Each says what it heads: a thead's cells their column, a label (th scope="row") its row.
    for e in elems:
        if e.tag == "TH":
            assert e.scope == ("Column" if e.parents[1] == "THead" else "Row"), e
    assert {e.scope for e in elems if e.tag == "TH"} == {"Column", "Row"}


def test_every_photo_is_a_figure_described_by_its_id_caption_and_survey_record(survey: Path) -> None:
    # From examples/slope-collapse/case.json: P01 "坍塌全貌（无人机航拍）" of record R1 "坍塌土石方", … five photos.
    figures = [e.alt for e in structure(survey)[1] if e.tag == "Figure"]
    assert "照片 P01：坍塌全貌（无人机航拍）（对应查勘记录：R1 坍塌土石方）" in figures
    assert "照片 P04：坡顶截水沟冲断（对应查勘记录：R4 坡顶截水沟）" in figures
    assert sum(a.startswith("照片 P0") for a in figures) == 5


def test_signature_fields_are_tagged_forms_named_for_the_signer_and_the_seal(survey: Path) -> None:
    forms = [(e.alt, e.page) for e in structure(survey)[1] if e.tag == "Form"]
    # slope-collapse: handlers 王志强 and 陈晓梅, firm 四川蜀安保险公估有限公司; all three on the signature page.
    assert [a for a, _ in forms] == ["承办公估人员签名：王志强", "承办公估人员签名：陈晓梅", f"公估机构印章：{FIRM}"]
    reader = PdfReader(survey)
    fields = {str(f["/T"]): f for f in (r.get_object() for r in reader.trailer["/Root"]["/AcroForm"]["/Fields"])}
    assert str(fields["firm-seal"]["/TU"]) == f"公估机构印章：{FIRM}"
    assert all("/StructParent" in f for f in fields.values())


def test_decorative_rules_are_artifacts_and_every_marked_content_is_mapped(survey: Path) -> None:
    reader = PdfReader(survey)
    # The cover's table rules (border-bottom) are drawn as artifacts.
    assert ARTIFACT.search(reader.pages[0].get_contents().get_data())
    for n, (used, mapped) in enumerate(mcids_by_page(survey)):
        assert used == set(range(mapped)), f"page {n + 1}: content ids {sorted(used)[-3:]}… but {mapped} mapped"


def test_forensic_opinion_is_tagged_and_its_bound_scans_are_described(opinion: Path) -> None:
    elems = assert_accessible(opinion, "司法鉴定意见书")
    # The cover's title and the document's own title are H1, the 声明 and each section H2.
    assert heading_levels(elems)[:3] == [1, 2, 1]
    assert any(e.tag == "TH" for e in elems) and any(e.tag == "Table" for e in elems)
    # Attachments (examples/forensic-joint-grade10/case.json): the 出院记录 (2 pages) and the police report
    # (1 page) bound after the 5 pages of the opinion: pages 6–8, one Figure each.
    scans = [(e.alt, e.page) for e in elems if e.tag == "Figure" and (e.alt or "").startswith("附件：")]
    assert scans == [("附件：四川省骨科医院出院记录（复印件），第 1 页 共 2 页", 5),
                     ("附件：四川省骨科医院出院记录（复印件），第 2 页 共 2 页", 6),
                     ("附件：道路交通事故认定书（成公交认字〔2026〕第05117号）（扫描件），第 1 页 共 1 页", 7)]
    forms = [e.alt for e in elems if e.tag == "Form"]
    assert forms == ["司法鉴定人签名：唐志明", "司法鉴定人签名：邓晓梅", f"司法鉴定专用章：{INSTITUTION}"]
    for n, (used, mapped) in enumerate(mcids_by_page(opinion)):
        assert used == set(range(mapped)), f"page {n + 1}"


def test_every_forensic_document_is_tagged(forensic_docs: list[RenderedDocument]) -> None:
    assert len(forensic_docs) >= 2
    for d in forensic_docs:
        assert d.pdf is not None
        assert_accessible(d.pdf, d.title)


def test_the_pdfa_claim_is_level_a(survey: Path, opinion: Path) -> None:
    assert pdfa_claim(survey.read_bytes()) == ("3", "A")
    assert pdfa_claim(opinion.read_bytes()) == ("3", "A")


# ───────────────────────────── sealed ─────────────────────────────

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("tags-seal"))
    yield w
    w.close()


def test_a_sealed_survey_report_keeps_its_structure_tree(world: World) -> None:
    sealed = world.seal("sealed")
    elems = assert_accessible(sealed, "雅康高速C3合同段K42边坡坍塌损失公估报告")
    assert pdfa_claim(sealed.read_bytes()) == ("3", "A")
    before = structure(world.report)[1]
    assert [e.tag for e in elems] == [e.tag for e in before]  # sealing adds no element and drops none
    # The seal's appearance fills the tagged field: its Form still describes it.
    assert f"公估机构印章：{FIRM}" in [e.alt for e in elems if e.tag == "Form"]
    # Filling tagged fields is a change the certification (DocMDP /P 2) permits: every signature verifies.
    report = verify_pdf(sealed, [world.pki.root_pem])
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["firm-seal", "handler-1", "handler-2"]


@pytest.fixture(scope="module")
def sealed_opinion(opinion: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The 意见书 sealed with the cover seal and the cross-page seal (骑缝章) drawn into its pages."""
    from signing.keys import make_demo_pki
    from signing.seal import SigningConfig, seal_report
    from signing.tsa import LocalTsa

    root = tmp_path_factory.mktemp("tags-opinion")
    tsa = LocalTsa(root / "keys").start()
    try:
        pki = make_demo_pki(root / "keys", INSTITUTION, APPRAISERS, crl_url=tsa.crl_url,
                            seal_purposes={INSTITUTION: "司法鉴定专用章"})
        config = SigningConfig(firm_p12=pki.firm_p12, handlers=dict(pki.handler_p12), tsa_url=tsa.url,
                               trust_roots=(pki.root_pem,), crls=(pki.crl,), cross_page_seal=True)
        out = root / "opinion-sealed.pdf"
        seal_report(opinion, out, config, lambda *_: PASSPHRASE)
        report = verify_pdf(out, [pki.root_pem])
        assert report.ok, report.all_problems()
        yield out
    finally:
        tsa.stop()


def test_a_sealed_opinion_describes_its_cover_seal_and_keeps_the_tree_whole(opinion: Path, sealed_opinion: Path) -> None:
    elems = assert_accessible(sealed_opinion, "司法鉴定意见书")
    before = structure(opinion)[1]
    added = [e for e in elems if e.tag == "Figure" and e.alt == f"司法鉴定专用章：{INSTITUTION}"]
    # One Figure for the seal stamped on the cover (page 1); the eight cross-page strips are artifacts.
    assert [e.page for e in added] == [0]
    assert len(elems) == len(before) + 1
    pages = mcids_by_page(sealed_opinion)
    for n, (used, mapped) in enumerate(pages):
        assert used == set(range(mapped)), f"page {n + 1}"
    reader = PdfReader(sealed_opinion)
    assert all(ARTIFACT.search(p.get_contents().get_data()) for p in reader.pages[5:])  # strips on the scans too


def _serialised(obj: object) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out, None)  # type: ignore[attr-defined]
    return out.getvalue()


def test_verification_reads_every_object_of_every_revision_as_pyhanko_does(world: World, sealed_opinion: Path) -> None:
    """signing/pdf_reader.py reads objects in object streams through its own index of each stream's
    header (verification time independent of the structure tree's size); what it reads must be what
    pyHanko's reader reads, for every object as of every revision of a sealed survey report and of the
    意见书 with its drawn seals."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.xref import ObjStreamRef

    from signing.pdf_reader import IndexedPdfReader

    for path in (world.seal("sealed-objects"), sealed_opinion):
        data = path.read_bytes()
        ours, theirs = IndexedPdfReader(io.BytesIO(data), strict=False), PdfFileReader(io.BytesIO(data), strict=False)
        in_streams = 0
        for revision in range(theirs.xrefs.total_revisions):
            for ref in theirs.xrefs.explicit_refs_in_revision(revision):
                in_streams += isinstance(theirs.xrefs.get_historical_ref(ref, revision), ObjStreamRef)
                assert _serialised(ours.get_object(ref, revision)) == _serialised(theirs.get_object(ref, revision)), ref
        # WeasyPrint writes the structure elements into an object stream: thousands in the survey report;
        # the 意见书 is rewritten by pypdf when its scans are bound (generator/pdf_binding.py), without any.
        assert (in_streams > 1000) if path != sealed_opinion else in_streams == 0, path.name
        # Each object stream's header was parsed once, whatever the number of objects read from it.
        streams = {m.obj_stream_id for r in range(theirs.xrefs.total_revisions)
                   for m in (theirs.xrefs.get_historical_ref(ref, r) for ref in theirs.xrefs.explicit_refs_in_revision(r))
                   if isinstance(m, ObjStreamRef)}
        assert set(ours._object_stream_headers) == streams  # noqa: SLF001 — the reader's own cache


def test_the_case_file_reader_reads_every_object_as_pypdf_does(world: World, sealed_opinion: Path) -> None:
    """signing/embedded.py reads an object from an object stream on its own (pypdf parses the whole stream
    — every structure element — for the first object it reads); every object it reads must be what pypdf
    reads, and the case file found must be the one attached."""
    from pypdf.generic import IndirectObject

    from signing.embedded import _ObjectAtATimeReader, embedded_case

    def written(obj: object) -> bytes:
        out = io.BytesIO()
        obj.write_to_stream(out)  # type: ignore[attr-defined]
        return out.getvalue()

    for path in (world.seal("sealed-pypdf"), sealed_opinion):
        data = path.read_bytes()
        ours, theirs = _ObjectAtATimeReader(io.BytesIO(data)), PdfReader(io.BytesIO(data), strict=False)
        numbers = sorted(theirs.xref_objStm)
        # the survey report's structure elements are in object streams; the 意见书 has none (test above)
        assert (len(numbers) > 1000) if path != sealed_opinion else not numbers, path.name
        for number in reversed(numbers):  # from the end: no object read as a side effect of an earlier one
            assert written(ours.get_object(IndirectObject(number, 0, ours))) == written(theirs.get_object(number))
        # one object at a time: reading the catalog parsed it alone, not its object stream's other objects
        if numbers:
            fresh = _ObjectAtATimeReader(io.BytesIO(data))
            fresh.trailer["/Root"].get_object()
            assert sum(1 for n in numbers if fresh.cache_get_indirect_object(0, n) is not None) < 10
        case = embedded_case(data)
        assert case is not None and case.get("handlers" if path != sealed_opinion else "kind")


def test_verification_leaves_the_collector_as_it_found_it_and_no_garbage(world: World) -> None:
    """verify_pdf turns Python's cyclic garbage collector off while pyHanko analyses the file and frees
    what it read by reference counting (signing/pdf_reader.py): the collector is back in its former state
    after, and a full collection right after finds next to nothing of the report's ~4,000 objects."""
    import gc

    sealed = world.seal("sealed-gc")
    assert gc.isenabled()
    gc.collect()
    assert verify_pdf(sealed, [world.pki.root_pem]).ok
    assert gc.isenabled()
    assert gc.collect() < 20_000  # the reader itself, its xref tables…; pyHanko's copies of every object: >250,000
    gc.disable()
    try:
        assert verify_pdf(sealed, [world.pki.root_pem]).ok
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_alt_text_changed_after_sealing_is_flagged(world: World) -> None:
    """The structure tree is content under the signatures too: a later revision that rewrites a Figure's
    description (a photo said to show something else) fails verification against every signature."""
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    sealed = world.seal("sealed-alt")
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed.read_bytes()), strict=False)
    pending = [writer.root["/StructTreeRoot"].raw_get("/K")]
    figure = None
    while pending and figure is None:  # depth first to the first Figure with /Alt
        node = pending.pop()
        element = node.get_object()
        if isinstance(element, list):
            pending.extend(element.raw_get(i) for i in reversed(range(len(element))))
            continue
        if not hasattr(element, "get") or element.get("/Type") in ("/MCR", "/OBJR"):
            continue
        if element.get("/S") == "/Figure" and "/Alt" in element:
            figure = node
        elif "/K" in element:
            pending.append(element.raw_get("/K"))
    assert figure is not None
    element = figure.get_object()
    element[NameObject("/Alt")] = TextStringObject("照片 P01：无损失")
    writer.mark_update(figure)
    out = io.BytesIO()
    writer.write(out)
    changed = world.root / "alt-changed.pdf"
    changed.write_bytes(out.getvalue())

    report = verify_pdf(changed, [world.pki.root_pem])
    assert not report.ok
    assert all(s.intact and s.valid for s in report.signatures)  # the signed bytes are untouched
    for s in report.signatures:
        assert s.modification_level == "OTHER" or s.docmdp_ok is False, s.field
