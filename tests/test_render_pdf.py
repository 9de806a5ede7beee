"""PDF rendering (generator/render_pdf.py): every example renders to PDF/A-3a with the mandated headings
in order (9.1/9.2), the engine's amounts, embedded fonts, the case JSON attached, XMP, bookmarks,
signature fields by name, and byte-identical output for the same input."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from generator.adjust import adjust
from generator.amounts import format_amount, rmb_uppercase
from generator.loading import load_case
from generator.render import RenderResult, render_report

ROOT = Path(__file__).resolve().parents[1]
# The survey examples; the forensic ones have their own documents (tests/test_forensic_documents.py).
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/case.json") if '"forensic_appraisal"' not in p.read_text("utf-8"))

# 9.2 in the code's order; the number prefix (一、二、…) is how the report numbers its sections.
MANDATED = [
    "案件概述", "保险合同内容摘要", "被保险人及保险公估标的简介", "事故经过及索赔情况",
    "保险公估活动依据的原则、手段、评估和计算方法", "现场查勘情况及事故原因调查", "损失核定",
    "足额投保、重复投保、保险竞合、第三者责任及追偿等情况的分析", "保险赔款理算", "保险公估结论",
    "保险公估报告使用限制说明", "承办公估人员签名、保险公估机构印章及报告日期", "公估报告附件清单",
]


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def rendered(example_pdfs: dict[str, RenderResult]) -> dict[str, tuple]:
    """Each example rendered once (PDF only; the DOCX has its own module), shared with other modules."""
    results = {}
    for name in EXAMPLES:
        loaded = load_case(ROOT / "examples" / name / "case.json")
        result = example_pdfs[name]
        assert result.pdf is not None and result.docx is None
        results[name] = (loaded, result, pdftotext(result.pdf))
    return results


def test_examples_exist() -> None:
    assert "slope-collapse" in EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_9_2_headings_in_order(rendered: dict, name: str) -> None:
    _, _, text = rendered[name]
    flat = squash(text)
    pos = flat.find("摘要")
    assert pos >= 0
    for title in MANDATED:
        m = re.compile(r"[一二三四五六七八九十]+、" + re.escape(title)).search(flat, pos)
        assert m is not None, f"heading {title!r} missing or out of order"
        pos = m.end()
    for appendix in ("附录A客户告知书", "附录B施救告知书", "附录C建筑工程一切险索赔资料清单"):
        nxt = flat.find(appendix, pos)
        assert nxt > 0, appendix
        pos = nxt


@pytest.mark.parametrize("name", EXAMPLES)
def test_final_amounts_as_figures_and_uppercase(rendered: dict, name: str) -> None:
    loaded, _, text = rendered[name]
    adj = adjust(loaded.case)
    flat = squash(text)
    assert f"人民币{format_amount(adj.total_payable)}元（大写：{rmb_uppercase(adj.total_payable)}）" in flat
    assert format_amount(adj.net_loss_total) in flat


def test_slope_total_worked_by_hand(rendered: dict) -> None:
    # A1: (354,320 − 21,500) + 106,640 + (84,800 − 18,600) + (36,000 − 2,400) = 539,260 × 48/52 = 497,778.46…
    # A2: 92,625 × 100 %; deductible max(100,000, 10 % × 590,403.46) = 100,000 → 490,403.46…
    # rescue 152,000 × 48/52 = 140,307.69…; total 630,711.15.
    flat = squash(rendered["slope-collapse"][2])
    assert "人民币630,711.15元（大写：人民币陆拾叁万零柒佰壹拾壹元壹角伍分）" in flat


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_font_embedded(rendered: dict, name: str) -> None:
    out = subprocess.run(["pdffonts", str(rendered[name][1].pdf)], check=True, capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    assert rows, "no fonts listed"
    families = " ".join(r.split()[0] for r in rows)
    assert "Noto-Serif-CJK-SC" in families and "Noto-Sans-CJK-SC" in families
    for row in rows:
        # columns: name type encoding emb sub uni object ID — 'emb' must be yes for every font
        cols = row.split()
        assert cols[-5] == "yes", row


@pytest.mark.parametrize("name", EXAMPLES)
def test_case_json_attached_byte_for_byte(rendered: dict, name: str, tmp_path: Path) -> None:
    loaded, result, _ = rendered[name]
    listing = subprocess.run(["pdfdetach", "-list", str(result.pdf)], check=True, capture_output=True, text=True).stdout
    assert "1 embedded files" in listing and "case.json" in listing
    target = tmp_path / "extracted.json"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(target), str(result.pdf)], check=True)
    assert target.read_bytes() == loaded.raw == (ROOT / "examples" / name / "case.json").read_bytes()
    with result.pdf.open("rb") as fh:
        reader = PdfFileReader(fh)
        af = reader.root["/AF"]
        assert [spec.get_object()["/AFRelationship"] for spec in af] == ["/Source"]


def test_xmp_declares_pdfa_3a_and_report_identity(rendered: dict) -> None:
    loaded, result, _ = rendered["slope-collapse"]
    with result.pdf.open("rb") as fh:
        reader = PdfFileReader(fh)
        xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
        info = reader.trailer["/Info"]
        assert str(info["/Title"]) == "雅康高速C3合同段K42边坡坍塌损失公估报告"
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp
    assert "<dc:identifier>SA-GC-20250905-017</dc:identifier>" in xmp
    assert "<dc:source>SAGC-2025-0712</dc:source>" in xmp
    assert "四川蜀安保险公估有限公司" in xmp and "<xmp:CreatorTool>Gongu " in xmp
    # Dates come from the case's report date, not the clock.
    assert "<xmp:CreateDate>2025-09-05T00:00:00+08:00</xmp:CreateDate>" in xmp


def test_9_2_signature_fields_named_for_sealing(rendered: dict) -> None:
    for name, (loaded, result, _) in rendered.items():
        with result.pdf.open("rb") as fh:
            reader = PdfFileReader(fh)
            fields = [(n, value) for n, value, _ in enumerate_sig_fields(reader)]
        expected = [f"handler-{i}" for i in range(1, len(loaded.case.handlers) + 1)] + ["firm-seal"]
        assert sorted(n for n, _ in fields) == sorted(expected), name
        assert all(value is None for _, value in fields)  # empty: the sealing step signs them


def test_signature_fields_sit_on_the_signature_page(rendered: dict) -> None:
    loaded, result, text = rendered["slope-collapse"]
    pages = text.split("\f")
    sig_page = next(i for i, p in enumerate(pages) if "承办公估人员签名" in p and "执业证号" in p)
    with result.pdf.open("rb") as fh:
        reader = PdfFileReader(fh)
        page = reader.root["/Pages"]["/Kids"][sig_page].get_object() if False else None  # noqa: F841
        for _, _, ref in enumerate_sig_fields(reader):
            field = ref.get_object()
            page_ref = field.raw_get("/P")
            index = [p.idnum for p in _page_refs(reader)].index(page_ref.idnum)
            assert index == sig_page
            x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
            assert 0 < x1 < x2 < 595.3 and 0 < y1 < y2 < 841.9 and (x2 - x1) > 50 and (y2 - y1) > 50


def _page_refs(reader: PdfFileReader) -> list:
    out = []

    def walk(node) -> None:  # noqa: ANN001
        obj = node.get_object()
        if obj["/Type"] == "/Pages":
            for kid in obj["/Kids"]:
                walk(kid)
        else:
            out.append(node)

    walk(reader.trailer["/Root"].raw_get("/Pages"))
    return out


def test_page_footer_header_and_bookmarks(rendered: dict) -> None:
    _, result, text = rendered["slope-collapse"]
    pages = [p for p in text.split("\f") if p.strip()]
    n = result.pages
    assert len(pages) == n
    assert f"第 2 页 共 {n} 页" in pages[1] and f"第 {n} 页 共 {n} 页" in pages[-1]
    assert "报告编号：SA-GC-20250905-017" in pages[2]
    with result.pdf.open("rb") as fh:
        reader = PdfFileReader(fh)
        titles = []
        item = reader.root["/Outlines"]["/First"]
        while item is not None:
            obj = item.get_object()
            titles.append(str(obj["/Title"]))
            item = obj.get("/Next")
    assert titles[0] == "摘要" and "七、保险责任分析及建议" in titles and titles[-1] == "附录C 建筑工程一切险索赔资料清单"


def test_table_header_repeats_across_pages(rendered: dict) -> None:
    # The Appendix C checklist is longer than a page: its header row is printed again on the next page.
    _, _, text = rendered["slope-collapse"]
    pages = text.split("\f")
    with_header = [i for i, p in enumerate(pages) if "约定提供日期" in p and "C5." in p]
    assert len(with_header) >= 2


def test_same_case_renders_byte_identical(rendered: dict, tmp_path: Path) -> None:
    loaded, first, _ = rendered["slope-collapse"]
    again = render_report(load_case(ROOT / "examples" / "slope-collapse" / "case.json"), tmp_path, formats=("pdf",))
    assert again.pdf is not None and again.pdf.read_bytes() == first.pdf.read_bytes()
