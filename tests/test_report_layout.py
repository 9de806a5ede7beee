"""A report that cannot be misread (issue 12 §15): amounts, dates and identifiers never break inside a
table cell, columns are sized so they fit, the cover title never leaves one character alone on a line,
and over-long unbreakable text gets break points instead of stalling the layout."""

from __future__ import annotations

import html as html_lib
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from generator.adjust import adjust
from generator.amounts import format_amount
from generator.loading import LoadedCase, load_case
from generator.render import RenderResult, render_html, render_report
from generator.report_layout import (
    BREAK_EVERY,
    CELL_PADDING_PT,
    TABLE_SIZES_PT,
    ZWSP,
    breakable,
    fit_columns,
    keep_tail,
    nobreak_html,
    text_em,
)

ROOT = Path(__file__).resolve().parents[1]
# The survey examples; the forensic ones have their own documents (tests/test_forensic_documents.py).
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/case.json") if '"forensic_appraisal"' not in p.read_text("utf-8"))


def pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", *args, str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def rendered(example_pdfs: dict[str, RenderResult]) -> dict[str, tuple[LoadedCase, str, Path]]:
    result = {}
    for name in EXAMPLES:
        loaded = load_case(ROOT / "examples" / name / "case.json")
        html = render_html(loaded).html
        pdf = example_pdfs[name].pdf
        assert pdf is not None
        result[name] = (loaded, html, pdf)
    return result


def engine_amounts(loaded: LoadedCase) -> set[str]:
    """Every amount the engine computed or the case states, formatted as the report formats it."""
    case, adj = loaded.case, adjust(loaded.case)
    values: list[Decimal] = [adj.total_payable, adj.net_loss_total, adj.salvage_total, adj.claimed_total,
                             adj.rescue_assessed_total]
    for a in adj.losses:
        values += [a.net, a.salvage, a.repair_cost - a.betterment_excluded, a.loss.unit_price]
    for ia in adj.items:
        values += [ia.item.sum_insured, ia.item.insurable_value]
    for r in adj.rescues:
        values += [r.rescue.claimed, r.rescue.reasonable, r.capped]
    values += [o.sum_insured for o in case.policy.other_insurance]
    # Only amounts with a thousands separator can be cut as in `3,208,900.0` / `0`; all of them are checked.
    return {format_amount(v) for v in values if abs(v) >= 1000}


def whole(token: str, text: str) -> int:
    """How often `token` stands whole in `text` (not as part of a longer number or identifier)."""
    return len(re.findall(rf"(?<![0-9A-Za-z.,]){re.escape(token)}(?![0-9A-Za-z])", text))


def html_text(html: str) -> str:
    body = html.split("<body>", 1)[1]
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_amount_is_whole_on_one_line(rendered: dict, name: str) -> None:
    loaded, html, pdf = rendered[name]
    text, source = pdftotext(pdf), html_text(html)
    amounts = engine_amounts(loaded)
    assert len(amounts) >= 8
    for amount in sorted(amounts):
        expected = whole(amount, source)
        assert expected >= 1, amount
        # A broken amount (`3,208,900.0` / `0`) would no longer count: every occurrence the HTML has is whole.
        assert whole(amount, text) == expected, f"{name}: {amount} appears {expected}× in the report but whole only " \
                                                f"{whole(amount, text)}× in the PDF text"


@pytest.mark.parametrize("name", EXAMPLES)
def test_policy_numbers_never_split(rendered: dict, name: str) -> None:
    loaded, html, pdf = rendered[name]
    text, source = pdftotext(pdf), html_text(html)
    numbers = [loaded.case.policy.number, *(o.policy_no for o in loaded.case.policy.other_insurance)]
    for number in numbers:
        assert whole(number, text) == whole(number, source) >= 1, number


def test_tunnel_loss_total_and_other_policy_sum_insured_on_one_line(rendered: dict) -> None:
    """The two figures issue 12 §15 saw cut in two: the loss total and the other policy's sum insured."""
    _, _, pdf = rendered["tunnel-inrush"]
    lines = pdftotext(pdf).splitlines()
    assert any(re.search(r"^合计\s.*\b3,208,900\.00\s*$", ln) for ln in lines)
    assert any("AZUN15106925Q000187K" in ln and "90,000,000.00" in ln for ln in lines)
    assert not any(re.search(r"\d,\d{3}\.\d\s*$", ln) for ln in lines)  # no amount cut before its last digit


@pytest.mark.parametrize("name", EXAMPLES)
def test_cover_title_never_leaves_a_character_alone(rendered: dict, name: str) -> None:
    loaded, _, pdf = rendered[name]
    title = loaded.case.report.title or f"{loaded.case.case_name}公估报告"
    lines = [ln.strip() for ln in pdftotext(pdf, "-f", "1", "-l", "1").splitlines() if ln.strip()]
    assert title[-1] not in lines and title[-2:] not in lines
    assert any(title[-4:] in ln for ln in lines)  # the last words stay together


def test_fit_columns_widens_amount_columns_from_text_columns() -> None:
    rows = [["说明文字" * 10, "3,208,900.00", "AZUN15106925Q000187K"]]
    fit = fit_columns(rows, [10, 1, 1], total_pt=400)
    assert fit.fits and fit.size_pt == TABLE_SIZES_PT[0] and abs(sum(fit.widths) - 1) < 1e-9
    # Each token column at least its token's width: 12 chars of digits/commas, 20 of capitals and digits.
    assert fit.widths[1] * 400 >= text_em("3,208,900.00") * 8.5 + CELL_PADDING_PT
    assert fit.widths[2] * 400 >= text_em("AZUN15106925Q000187K") * 8.5 + CELL_PADDING_PT
    assert fit.widths[0] > fit.widths[1]  # the text column gave way but still holds most of the width


def test_fit_columns_sets_a_crowded_table_smaller() -> None:
    row = ["999,999,999,999.99"] * 6  # six 18-character amounts: ~526 pt at 8.5 pt, ~470 pt at 7.5 pt
    fit = fit_columns([row], [1] * 6, total_pt=490)
    assert fit.fits and fit.size_pt == TABLE_SIZES_PT[1]
    hopeless = fit_columns([["X" * 30] * 12], [1] * 12, total_pt=490)
    assert not hopeless.fits  # then (and only then) the tokens may break: table.overfull


def test_nobreak_html_escapes_and_protects() -> None:
    out = str(nobreak_html("<b>合计 3,208,900.00 元，2025年7月12日 14:45，保单 PCAB-2025</b>"))
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert '<span class="nb">3,208,900.00</span>' in out
    assert '<span class="nb">2025年7月12日 14:45</span>' in out
    assert '<span class="nb">PCAB-2025&lt;/b&gt;</span>' in out  # "PCAB-2025</b>" is one ASCII run


def test_long_unbreakable_run_gets_break_points_every_few_characters() -> None:
    text = "W" * 200_000
    pieces = breakable(text).split(ZWSP)
    assert "".join(pieces) == text and max(len(p) for p in pieces) == BREAK_EVERY
    assert breakable("护坡" * 100) == "护坡" * 100  # CJK text already breaks anywhere: left alone
    assert breakable("3,208,900.00") == "3,208,900.00"  # short tokens: untouched
    assert keep_tail("雅康高速C3合同段K42边坡坍塌损失公估报告") == ("雅康高速C3合同段K42边坡坍塌损失", "公估报告")


def test_docx_keeps_identifiers_whole_and_amount_columns_wide_enough(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm

    loaded = load_case(ROOT / "examples" / "tunnel-inrush" / "case.json")
    doc = Document(str(render_report(loaded, tmp_path, formats=("docx",)).docx))
    body = doc.element.body
    assert body.findall(".//" + qn("w:noBreakHyphen"))  # QH-GC-20250728-031 cannot break at its hyphens
    cover = doc.tables[0]
    assert any(row.cells[1].text == loaded.case.report.number for row in cover.rows)  # read back with "-"
    (other,) = [t for t in doc.tables if len(t.columns) == 6 and t.rows[0].cells[2].text == "保单号"]
    amount_col = other.columns[3].cells[1].width  # 保险金额（元）: 90,000,000.00
    size = other.rows[1].cells[3].paragraphs[0].runs[0].font.size.pt
    assert amount_col >= Mm(3.8) + text_em("90,000,000.00") * size * 12700  # Word's cell margins + the figure
