"""The report as plain data (generator/report_content.py): 9.1/9.2 order, appendices, 「未提供」 markers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from forms.catalogue import appendix_c
from generator.adjust import adjust
from generator.loading import load_case, validate_data
from generator.report_content import (
    MISSING,
    AmountBlock,
    KeyValues,
    Paragraph,
    PhotoBlock,
    ReceiptBlock,
    SignatureBlock,
    Table,
    build_report,
    cn_number,
)

ROOT = Path(__file__).resolve().parents[1]
SLOPE = ROOT / "examples" / "slope-collapse" / "case.json"

# 9.2, in the code's order (the signature/seal/date elements share one section).
BODY_ORDER = [
    "案件概述", "保险合同内容摘要", "被保险人及保险公估标的简介", "事故经过及索赔情况",
    "保险公估活动依据的原则、手段、评估和计算方法", "现场查勘情况及事故原因调查", "损失核定",
    "足额投保、重复投保、保险竞合、第三者责任及追偿等情况的分析", "保险赔款理算", "保险公估结论",
    "保险公估报告使用限制说明", "承办公估人员签名、保险公估机构印章及报告日期", "公估报告附件清单",
]


@pytest.fixture(scope="module")
def slope():  # noqa: ANN201
    loaded = load_case(SLOPE)
    return loaded.case, build_report(loaded.case, adjust(loaded.case))


def _blocks(section):  # noqa: ANN001, ANN202
    out = list(section.blocks)
    for sub in section.subsections:
        out += _blocks(sub)
    return out


def test_9_2_body_sections_in_the_codes_order(slope) -> None:  # noqa: ANN001
    _, doc = slope
    titles = [s.title for s in doc.sections]
    positions = [titles.index(t) for t in BODY_ORDER]
    assert positions == sorted(positions)
    # 6.2 liability analysis sits between the cause investigation and the loss assessment.
    assert titles.index("现场查勘情况及事故原因调查") < titles.index("保险责任分析及建议") < titles.index("损失核定")
    assert [s.number for s in doc.sections[:3]] == ["一、", "二、", "三、"]


def test_cn_number() -> None:
    assert [cn_number(n) for n in (1, 9, 10, 11, 14, 20, 23)] == ["一", "九", "十", "十一", "十四", "二十", "二十三"]


def test_9_1_summary_states_the_engines_total_in_figures_and_uppercase(slope) -> None:  # noqa: ANN001
    case, doc = slope
    amount = next(b for b in doc.summary if isinstance(b, AmountBlock))
    # By hand (8.3): A1 net 539,260 × 48/52 = 497,778.4615…; A2 92,625; deductible max(100,000, 10 %) = 100,000;
    # rescue 152,000 × 48/52 = 140,307.6923…; total 490,403.4615… + 140,307.6923… = 630,711.1538… → 630,711.15.
    a1 = Decimal(354320 - 21500 + 106640 + 84800 - 18600 + 36000 - 2400) * 48 / 52
    total = a1 + Decimal(92625) - Decimal(100000) + Decimal(152000) * 48 / 52
    assert amount.figures == f"{total.quantize(Decimal('0.01')):,}" == "630,711.15"
    assert amount.uppercase == "人民币陆拾叁万零柒佰壹拾壹元壹角伍分"


def test_8_3_adjustment_table_has_every_engine_step(slope) -> None:  # noqa: ANN001
    case, doc = slope
    adj = adjust(case)
    section = next(s for s in doc.sections if s.title == "保险赔款理算")
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.header == [["条款", "步骤", "公式", "输入", "结果"]]
    assert len(table.rows) == len(adj.steps)
    for row, step in zip(table.rows, adj.steps, strict=True):
        assert row[0] == step.clause and row[1] == step.label and row[2] == step.formula
        assert row[4] == step.result_text


def test_5_3_1_d_photos_cross_reference_survey_record_items(slope) -> None:  # noqa: ANN001
    case, doc = slope
    photos = [b for b in _blocks(next(s for s in doc.sections if s.anchor == "sec-survey")) if isinstance(b, PhotoBlock)]
    assert [p.id for p in photos] == ["P01", "P02", "P03", "P04", "P05"]
    assert photos[1].record_ref == "R2 浆砌片石护坡"


def test_5_3_2_survey_record_has_time_place_participants_items(slope) -> None:  # noqa: ANN001
    _, doc = slope
    record = next(s for s in doc.all_sections() if s.anchor == "sec-survey-record")
    kv = next(b for b in record.blocks if isinstance(b, KeyValues))
    labels = dict(kv.pairs)
    assert labels["查勘时间"] == "2025年7月12日 14:40 至 2025年7月12日 18:10"
    assert "周海涛（被保险人）" in (labels["参与人员"] or "")
    table = next(b for b in record.blocks if isinstance(b, Table))
    assert [r[0] for r in table.rows] == ["R1", "R2", "R3", "R4", "R5"]


def test_timeline_is_chronological_and_covers_documents(slope) -> None:  # noqa: ANN001
    _, doc = slope
    timeline = next(s for s in doc.all_sections() if s.anchor == "sec-timeline")
    rows = next(b for b in timeline.blocks if isinstance(b, Table)).rows
    events = [r[1] for r in rows]
    assert events.index("出险") < events.index("接受委托") < events.index("到达现场（5.1）") < events.index("出具公估报告")
    assert any(e.startswith("索要资料") for e in events) and any(e.startswith("收到资料") for e in events)


def test_appendix_c_lists_every_item_and_ticks_requested_ones(slope) -> None:  # noqa: ANN001
    case, doc = slope
    app_c = doc.appendices[2]
    table = next(b for b in app_c.blocks if isinstance(b, Table))
    codes = [item["code"] for g in appendix_c()["groups"] for item in g["items"]]
    first_cells = [r[0] for r in table.rows]
    for code in codes:
        assert any(c.startswith(code + " ") for c in first_cells), code
    assert len(table.group_rows) == 7
    ticked = {r[0].split(" ")[0] for r in table.rows if r[1] == "√"}
    assert {"C1.1", "C4.1", "C6.1"} <= ticked and "C1.2" not in ticked
    # The free-text request lands in group 7 (其它资料), ticked, with its status.
    assert ["坍塌体清运过磅单及出渣记录", "√", "已收到", "—", "2025年7月25日"] in table.rows
    receipt = next(b for b in app_c.blocks if isinstance(b, ReceiptBlock))
    assert receipt.signed_by == "周海涛"


def test_5_3_3_c_outstanding_document_shows_due_date() -> None:
    data = json.loads(SLOPE.read_text(encoding="utf-8"))
    data["survey"]["documents"][0] = {"code": "C1.1", "status": "outstanding", "requested_on": "2025-07-12",
                                      "due_on": "2025-07-30"}
    case = validate_data(data)
    doc = build_report(case, adjust(case))
    table = next(b for b in doc.appendices[2].blocks if isinstance(b, Table))
    row = next(r for r in table.rows if r[0].startswith("C1.1 "))
    assert row[1:4] == ["√", "待提供", "2025年7月30日"]


def test_appendix_a_filled_from_firm_and_commission(slope) -> None:  # noqa: ANN001
    case, doc = slope
    text = "".join(b.text for b in doc.appendices[0].blocks if isinstance(b, Paragraph))
    for value in (case.firm.name, case.firm.address, case.firm.post_code, case.firm.hotline,
                  case.commission.commissioning_party):
        assert value in text


def test_5_2_6_appendix_b_is_the_rescue_notice_not_a_copy_of_a(slope) -> None:  # noqa: ANN001
    _, doc = slope
    a = "".join(b.text for b in doc.appendices[0].blocks if isinstance(b, Paragraph))
    b = "".join(p.text for p in doc.appendices[1].blocks if isinstance(p, Paragraph))
    assert doc.appendices[1].title == "施救告知书"
    assert "7.1.3" in b and "应保金额" in b and "妥善保留" in b and "王志强" in b
    assert "廉洁从业" in a and "廉洁从业" not in b
    assert any(isinstance(x, ReceiptBlock) for x in doc.appendices[1].blocks)


def test_signature_block_has_every_handler_with_licence(slope) -> None:  # noqa: ANN001
    _, doc = slope
    sig = next(b for s in doc.sections for b in s.blocks if isinstance(b, SignatureBlock))
    assert [(h.index, h.name, h.licence_no) for h in sig.handlers] == [
        (1, "王志强", "GZ510100201800321"), (2, "陈晓梅", "GZ510100201900877")]
    assert sig.report_date == "2025年9月5日"


def test_missing_cause_and_conclusion_render_with_marker() -> None:
    data = json.loads(SLOPE.read_text(encoding="utf-8"))
    del data["cause"], data["conclusion"]
    data["handlers"] = data["handlers"][:1]
    data["report"]["signatures"] = data["report"]["signatures"][:1]
    case = validate_data(data)
    doc = build_report(case, adjust(case))
    for anchor in ("sec-cause", "sec-conclusion", "sec-limits", "sec-signatures"):
        section = next(s for s in doc.all_sections() if s.anchor == anchor)
        assert any(isinstance(b, Paragraph) and b.missing and MISSING in b.text for b in section.blocks), anchor


def test_8_3_many_loss_items_fold_clause_7_steps_into_one_row() -> None:
    """Above STEP_DETAIL_LIMIT items the per-item clause-7 steps are summed in one row (the loss table
    shows each); the 8.x item, deductible and rescue steps are still listed one by one."""
    from generator.report_content import STEP_DETAIL_LIMIT, is_loss_item_step

    data = json.loads(SLOPE.read_text(encoding="utf-8"))
    base = data["losses"][2]  # 锚杆框架梁修复: 1240 m × 86.00 = 106,640.00, no salvage
    data["losses"] = [dict(base, id=f"L{i}") for i in range(STEP_DETAIL_LIMIT + 1)]
    case = validate_data(data)
    adj = adjust(case)
    doc = build_report(case, adj)
    table = next(b for b in next(s for s in doc.sections if s.title == "保险赔款理算").blocks if isinstance(b, Table))
    assert table.rows[0][0] == "7.1–7.5"
    assert table.rows[0][4] == f"{Decimal('106640') * (STEP_DETAIL_LIMIT + 1):,.2f}"
    assert len(table.rows) == 1 + sum(1 for s in adj.steps if not is_loss_item_step(s))
    loss_table = next(b for b in next(s for s in doc.sections if s.title == "损失核定").blocks if isinstance(b, Table))
    assert len(loss_table.rows) == STEP_DETAIL_LIMIT + 1
