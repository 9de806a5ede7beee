"""DOCX rendering (generator/render_docx.py): the same sections and tables as the PDF, as Word headings,
East Asian fonts set, page numbers as fields in the footer, editable (plain paragraphs and tables)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from generator.adjust import adjust
from generator.amounts import format_amount, rmb_uppercase
from generator.loading import load_case
from generator.render import render_report
from generator.report_content import Table, build_report

ROOT = Path(__file__).resolve().parents[1]
# The survey examples; the forensic ones have their own documents (tests/test_forensic_documents.py).
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/case.json") if '"forensic_appraisal"' not in p.read_text("utf-8"))


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    out = tmp_path_factory.mktemp("docx")
    result = {}
    for name in EXAMPLES:
        loaded = load_case(ROOT / "examples" / name / "case.json")
        rendered = render_report(loaded, out, formats=("docx",))
        assert rendered.pdf is None and rendered.docx is not None and rendered.docx.suffix == ".docx"
        result[name] = (loaded, Document(str(rendered.docx)))
    return result


@pytest.mark.parametrize("name", EXAMPLES)
def test_same_headings_as_the_report_document_in_order(docs: dict, name: str) -> None:
    loaded, doc = docs[name]
    report = build_report(loaded.case, adjust(loaded.case))
    expected = ["摘要"] + [s.heading for s in report.all_sections()]
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert [t for _, t in headings] == expected
    styles = dict((t, s) for s, t in headings)
    assert styles["一、案件概述"] == "Heading 1" and styles["（二）现场查勘记录"] == "Heading 2"


@pytest.mark.parametrize("name", EXAMPLES)
def test_amounts_and_tables_match_the_engine(docs: dict, name: str) -> None:
    loaded, doc = docs[name]
    adj = adjust(loaded.case)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"人民币 {format_amount(adj.total_payable)} 元（大写：{rmb_uppercase(adj.total_payable)}）" in text
    # The 理算过程 table: one row per engine step below its header row.
    steps = next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["条款", "步骤", "公式", "输入", "结果"])
    assert len(steps.rows) == 1 + len(adj.steps)
    assert [r.cells[4].text for r in steps.rows[1:]] == [s.result_text for s in adj.steps]
    header = steps.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}")  # noqa: SLF001
    assert header is not None  # the header row repeats on each page


def test_every_content_table_is_present(docs: dict) -> None:
    loaded, doc = docs["slope-collapse"]
    report = build_report(loaded.case, adjust(loaded.case))
    expected = [b.header[0] for s in report.all_sections() for b in s.blocks if isinstance(b, Table)]
    headers = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    found = [h for h in headers if h in expected]
    assert found == expected


def test_east_asian_font_and_page_number_fields(docs: dict) -> None:
    _, doc = docs["slope-collapse"]
    normal = doc.styles["Normal"].element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    assert normal.get(qn("w:eastAsia")) == "Noto Serif CJK SC"
    heading = doc.styles["Heading 1"].element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    assert heading.get(qn("w:eastAsia")) == "Noto Sans CJK SC"
    footer_xml = doc.sections[0].footer._element.xml  # noqa: SLF001
    assert " PAGE " in footer_xml and " NUMPAGES " in footer_xml
    footer_text = doc.sections[0].footer.paragraphs[0].text
    assert footer_text.startswith("第 ") and " 页 共 " in footer_text
    assert "SA-GC-20250905-017" in doc.sections[0].header.paragraphs[0].text
    assert doc.core_properties.identifier == "SA-GC-20250905-017"


def test_signature_block_names_every_handler(docs: dict) -> None:
    loaded, doc = docs["tunnel-inrush"]
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    for h in loaded.case.handlers:
        assert any(h.name in c and "执业证号" in c for c in cells), h.name


def test_every_zip_member_is_dated_the_report_date(tmp_path: Path) -> None:
    """One case rendered twice gives the same bytes: python-docx dates its zip members with the clock, so the
    members are dated the report date, as the core properties are."""
    import zipfile

    loaded = load_case(ROOT / "examples" / "slope-collapse" / "case.json")  # report.issued_on 2025-09-05
    rendered = render_report(loaded, tmp_path, formats=("docx",))
    assert rendered.docx is not None
    with zipfile.ZipFile(rendered.docx) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2025, 9, 5, 0, 0, 0)}
