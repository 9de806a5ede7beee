"""Excel in and out for the loss list and a forensic case's materials (gongu/pipeline/sheets.py).

The examples' lists go out as a template and come back equal, key for key; sheets built here with
openpyxl, as a firm's own Excel would be, come back with the values worked out by hand; bad sheets are
refused with every problem named by row, column and the field's Chinese title.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from generator.problems import Problem
from gongu.pipeline.sheets import SheetRefused, loss_template, materials_template, read_losses, read_materials

ROOT = Path(__file__).resolve().parent.parent
# Every LossItem field's title, in the model's order (generator/model.py).
LOSS_TITLES = ["损失项目编号", "损失项目名称", "所属保险项目", "对应查勘记录", "核损数量", "单位", "核损单价", "单价依据",
               "单价出处", "变更改进费用", "损失前实际价值", "实际全损", "残值", "残值处理方式", "报损金额", "说明"]


def case(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "examples" / name / "case.json").read_text(encoding="utf-8"))


def xlsx_of(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def sheet(rows: list[list[Any]], title: str = "损失清单") -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    return wb


def refused(read: Any, xlsx: bytes, data: dict[str, Any]) -> list[Problem]:
    before = copy.deepcopy(data)
    with pytest.raises(SheetRefused) as info:
        read(xlsx, data)
    assert data == before  # a refused sheet changes nothing
    return info.value.problems


# ───────────────────────────────────────── losses ─────────────────────────────────────────


def test_the_template_of_an_example_reads_back_as_its_losses_exactly() -> None:
    data = case("slope-collapse")
    xlsx = loss_template(data)
    assert read_losses(xlsx, data) == data["losses"]

    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["损失清单", "说明", "选项"]
    assert wb["选项"].sheet_state == "hidden"
    ws = wb["损失清单"]
    assert [c.value for c in ws[1]] == LOSS_TITLES
    # L1: 3250 立方米 at 28.50, insured item A2 shown with its name, price basis by its Chinese title.
    assert [ws[f"{col}2"].value for col in "ACEG"] == ["L1", "A2 场地清理费", 3250, 28.5]
    assert ws["G2"].number_format == "#,##0.00" and ws["H2"].value == "施工合同单价"
    assert ws["L6"].value == "是" and ws["L2"].value is None  # L5 is a total loss; the others leave it out
    lists = {str(dv.sqref)[0]: dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists["C"] == "'选项'!$A$2:$A$3"
    assert [wb["选项"][f"A{r}"].value for r in (2, 3)] == ["A1 建筑工程（含永久及临时工程）", "A2 场地清理费"]
    notes = {row[1]: row[3] for row in wb["说明"].iter_rows(min_row=2, values_only=True) if row[1]}
    assert notes["单价依据"] == "从下拉列表选择：施工合同单价、定额、市场价格"
    assert notes["实际全损"] == "是 或 否；留空即为否"


def test_a_template_of_an_incomplete_draft_has_the_header_and_no_lines() -> None:
    data = {"kind": "car_survey", "losses": [{"id": "L1", "quantity": "2"}, "not an object"]}
    xlsx = loss_template(data)
    ws = load_workbook(io.BytesIO(xlsx))["损失清单"]
    assert [c.value for c in ws[1]] == LOSS_TITLES
    assert [ws["A2"].value, ws["E2"].value, ws["A3"].value] == ["L1", 2, None]


def test_200_lines_built_in_excel_read_back_with_their_values() -> None:
    rows: list[list[Any]] = [["损失项目编号", "损失项目名称", "所属保险项目", "核损数量", "单位", "核损单价", "实际全损",
                              "损失前实际价值"]]
    for i in range(1, 201):
        # Quarters are exact doubles: i / 4 yuan; odd lines name the item by id, even ones by its label.
        rows.append([f"L{i}", f"项目{i}", "A1" if i % 2 else "A2 场地清理费", i, "米", i / 4,
                     "是" if i == 100 else None, 5000 if i == 100 else None])
        if i == 50:
            rows.append([None, "   ", None])  # a blank row is skipped
    wb = sheet(rows)
    for (cell,) in wb.active.iter_rows(min_row=2, min_col=6, max_col=6):
        cell.number_format = "0.00"
    lines = read_losses(xlsx_of(wb), case("slope-collapse"))
    assert len(lines) == 200
    assert lines[0] == {"id": "L1", "name": "项目1", "insured_item": "A1", "quantity": "1", "unit": "米",
                        "unit_price": "0.25"}
    assert lines[3]["unit_price"] == "1.00"  # 4 / 4 = 1 shown as 1.00
    assert lines[1]["insured_item"] == "A2" and lines[1]["unit_price"] == "0.50"
    assert lines[99] == {"id": "L100", "name": "项目100", "insured_item": "A2", "quantity": "100", "unit": "米",
                         "unit_price": "25.00", "pre_loss_value": "5000", "destroyed": True}
    assert lines[199]["unit_price"] == "50.00" and lines[199]["quantity"] == "200"


def test_a_number_cell_reads_as_the_decimal_it_shows() -> None:
    rows = [["损失项目编号", "损失项目名称", "所属保险项目", "核损数量", "单位", "核损单价", "残值"],
            ["L1", "a", "A1", 28.5, "米", 28.5, "12.340"],  # General format; a text cell kept as typed
            ["L2", "b", "A1", 3250, "米", 3250, 0.1]]
    wb = sheet(rows)
    wb.active["F3"].number_format = "#,##0.00"
    wb.active["G3"].number_format = "0.00%"  # a percent shows 10.00%, the value is 0.1
    lines = read_losses(xlsx_of(wb), case("slope-collapse"))
    assert [(x["quantity"], x["unit_price"], x["salvage"]) for x in lines] == [("28.5", "28.5", "12.340"),
                                                                             ("3250", "3250.00", "0.1")]


def test_text_in_a_number_column_a_missing_unit_and_an_unknown_item_are_three_problems() -> None:
    data = case("slope-collapse")
    wb = load_workbook(io.BytesIO(loss_template(data)))
    ws = wb["损失清单"]
    ws["E3"] = "约860"  # L2's quantity
    ws["F4"] = None  # L3's unit
    ws["C5"] = "A9"  # L4's insured item
    problems = refused(read_losses, xlsx_of(wb), data)
    assert [(p.path, p.title, p.value) for p in problems] == [
        ("损失清单 第 3 行 E 列", "核损数量", "约860"),
        ("损失清单 第 4 行 F 列", "单位", None),
        ("损失清单 第 5 行 C 列", "所属保险项目", "A9"),
    ]
    assert problems[0].message.startswith("不是有效的数字")  # generator/types.py's words, as `gongu validate`
    assert problems[1].message == "缺少必填项 (required)"
    assert problems[2].message == "保单中没有该保险项目"


def test_reordered_columns_read_the_same_lines() -> None:
    data = case("slope-collapse")
    ws = load_workbook(io.BytesIO(loss_template(data)))["损失清单"]
    table = [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()]
    order = list(range(len(LOSS_TITLES)))[::-1]  # last column first
    wb = sheet([[row[i][0] for i in order] for row in table])
    for number, row in enumerate(table, start=1):
        for to, i in enumerate(order, start=1):
            wb.active.cell(row=number, column=to).number_format = row[i][1]  # 28.50 shows two decimals
    assert wb.active["A1"].value == "说明" and wb.active["J2"].number_format == "#,##0.00"
    assert read_losses(xlsx_of(wb), data) == data["losses"]


def test_unknown_repeated_and_missing_columns_are_named() -> None:
    rows = [["损失项目编号", "损失项目名称", "所属保险项目", "核损数量", "单价", "核损单价", "损失项目名称"],
            ["L1", "a", "A1", 1, "米", 2, "b"]]
    problems = refused(read_losses, xlsx_of(sheet(rows)), case("slope-collapse"))
    assert [(p.path, p.title) for p in problems] == [
        ("损失清单 第 1 行 E 列", "单价"), ("损失清单 第 1 行 G 列", "损失项目名称"), ("损失清单 第 1 行", "单位")]
    assert problems[0].message.startswith("未知的列标题")
    assert problems[1].message == "列标题重复，与 B 列相同 (duplicate column)"
    assert problems[2].message == "缺少必填列 (required column missing)"  # said once, not for every row


def test_cross_checks_duplicates_enums_flags_and_decimals() -> None:
    rows = [["损失项目编号", "损失项目名称", "所属保险项目", "对应查勘记录", "核损数量", "单位", "核损单价", "单价依据", "实际全损"],
            ["L1", "a", "A1", "R1 坍塌土石方", 1, "米", 0.123456789012, "合同价", "对"],
            ["L1", "b", "A1", "R9", 1, "米", 2, "定额", "是"]]
    problems = refused(read_losses, xlsx_of(sheet(rows)), case("slope-collapse"))
    assert [(p.path, p.title, p.message) for p in problems] == [
        ("损失清单 第 2 行 G 列", "核损单价", "小数位数过多，最多 10 位 (too many decimal places)"),
        ("损失清单 第 2 行 H 列", "单价依据", "取值不在允许范围内 (not one of the allowed values)：施工合同单价、定额、市场价格"),
        ("损失清单 第 2 行 I 列", "实际全损", "取值不在允许范围内 (not one of the allowed values)：是、否"),
        ("损失清单 第 3 行 A 列", "损失项目编号", "编号重复 (duplicate id)：与第 2 行相同"),
        ("损失清单 第 3 行 D 列", "对应查勘记录", "查勘记录中没有该编号"),
        ("损失清单 第 3 行 I 列", "实际全损", "实际全损须给出损失前实际价值 (7.1.2)"),
    ]
    assert problems[0].value == "0.123456789012"


def test_a_formula_is_read_by_its_cached_value_and_refused_without_one() -> None:
    rows = [["损失项目编号", "损失项目名称", "所属保险项目", "核损数量", "单位", "核损单价", "报损金额"],
            ["L1", "a", "A1", 2, "米", 3, "=D2*F2"]]
    xlsx = xlsx_of(sheet(rows))  # openpyxl writes a formula with no cached value, as a generator would
    problems = refused(read_losses, xlsx, case("slope-collapse"))
    assert [(p.path, p.title, p.value) for p in problems] == [("损失清单 第 2 行 G 列", "报损金额", "=D2*F2")]
    assert problems[0].message.startswith("公式没有计算结果")
    # Excel saves the value it computed beside the formula: that value is read, the formula never run.
    cached = _rewrite_sheet(xlsx, lambda xml: re.sub(rb"(<f>D2\*F2</f>)<v\s*/?>(</v>)?", rb"\1<v>6.5</v>", xml))
    assert read_losses(cached, case("slope-collapse"))[0]["claimed_amount"] == "6.5"


def _rewrite_sheet(xlsx: bytes, change: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                changed = change(body)
                assert changed != body
                body = changed
            dst.writestr(info, body)
    return out.getvalue()


@pytest.mark.parametrize("junk", [b"", b"PK\x03\x04 not really a zip", b"<html>not excel</html>",
                                  b"id,name\nL1,a\n"])
def test_a_file_that_is_not_an_xlsx_is_one_clear_problem(junk: bytes) -> None:
    problems = refused(read_losses, junk, case("slope-collapse"))
    assert len(problems) == 1 and problems[0].path == "Excel 文件"
    assert problems[0].message.startswith("不是有效的 .xlsx 文件")


def test_a_zip_that_is_not_a_workbook_and_a_missing_sheet_are_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert refused(read_losses, out.getvalue(), {})[0].message.startswith("不是有效的 .xlsx 文件")
    problems = refused(read_losses, xlsx_of(sheet([["损失项目编号"]], title="Sheet1")), {})
    assert [(p.path, p.message) for p in problems] == [("损失清单", "找不到工作表「损失清单」(sheet not found)；文件中有：Sheet1")]


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (65 * 1024 * 1024))  # 65 MiB of zeros, ~65 KiB packed
    assert len(out.getvalue()) < 1024 * 1024
    problems = refused(read_losses, out.getvalue(), {})
    assert [(p.path, p.message) for p in problems] == [
        ("Excel 文件", "解压后超过 64 MiB (unpacks to more than 67108864 bytes)")]


def test_more_than_5000_rows_are_refused() -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("损失清单")
    ws.append(LOSS_TITLES[:7])
    for i in range(5001):
        ws.append([f"L{i}", "a", "A1", None, 1, "米", 1])
    problems = refused(read_losses, xlsx_of(wb), case("slope-collapse"))
    assert [p.message.split("，")[0] for p in problems if p.path == "损失清单 第 5002 行"] == ["第 5001 行之后还有数据：超过 5000 行"]


def test_styled_empty_rows_far_below_are_no_rows_but_a_value_there_is() -> None:
    wb = sheet([LOSS_TITLES[:7], ["L1", "a", "A1", None, 1, "米", 1]])
    wb.active.cell(row=60_000, column=3).number_format = "0.00"  # a styled, empty cell far below
    assert len(read_losses(xlsx_of(wb), case("slope-collapse"))) == 1
    wb.active.cell(row=60_001, column=2, value="遗漏")
    problems = refused(read_losses, xlsx_of(wb), case("slope-collapse"))
    assert [(p.path, p.title) for p in problems] == [("损失清单 第 5002 行", "损失清单")]


def test_more_lines_than_a_case_file_holds_are_refused() -> None:
    rows = [LOSS_TITLES[:7]] + [[f"L{i}", "a", "A1", None, 1, "米", 1] for i in range(1001)]
    problems = refused(read_losses, xlsx_of(sheet(rows)), case("slope-collapse"))
    assert [(p.path, p.title, p.message) for p in problems] == [
        ("损失清单", "损失项目", "列表超过 1000 项 (more than 1000 items)")]


# ──────────────────────────────────────── materials ───────────────────────────────────────


def test_the_materials_template_of_an_example_reads_back_exactly() -> None:
    data = case("forensic-joint-grade10")
    xlsx = materials_template(data)
    assert read_materials(xlsx, data) == data["materials"]
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["鉴定材料清单", "当事人确认", "说明", "选项"]
    ws = wb["鉴定材料清单"]
    assert [c.value for c in ws[1]][:4] == ["材料编号", "材料名称", "材料类型", "数量"]
    assert ws["C2"].value == "病历资料" and ws["D3"].value == 6
    assert ws["H2"].is_date and ws["H2"].number_format == "yyyy-mm-dd hh:mm:ss"
    confirmations = wb["当事人确认"]
    assert [c.value for c in confirmations[1]] == ["材料编号", "确认方", "是否确认", "确认时间", "说明"]
    assert confirmations.max_row == 1 + 4 * 2  # four materials, each confirmed by two parties


def test_materials_problems_name_both_sheets() -> None:
    data = case("forensic-joint-grade10")
    wb = load_workbook(io.BytesIO(materials_template(data)))
    wb["鉴定材料清单"]["D2"] = 0  # 数量 ≥ 1
    wb["鉴定材料清单"]["H3"] = "五月八日"
    wb["当事人确认"]["A2"] = "C9"
    wb["当事人确认"]["B3"] = "张三"
    problems = refused(read_materials, xlsx_of(wb), data)
    assert [(p.path, p.title, p.message) for p in problems] == [
        ("鉴定材料清单 第 2 行 D 列", "数量", "不能小于下限 (below the minimum)：1"),
        ("鉴定材料清单 第 3 行 H 列", "接收时间", "应为 ISO 8601 时间，如 2026-05-06T10:05:00+08:00 (not an ISO 8601 date-time)"),
        ("当事人确认 第 2 行 A 列", "材料编号", "鉴定材料中没有该编号 (no such material)"),
        ("当事人确认 第 3 行 B 列", "确认方", "当事人中没有该名称 (no such party)"),
    ]


def test_materials_without_the_confirmations_sheet_are_refused() -> None:
    data = case("forensic-joint-grade10")
    wb = load_workbook(io.BytesIO(materials_template(data)))
    del wb["当事人确认"]
    problems = refused(read_materials, xlsx_of(wb), data)
    assert [p.path for p in problems] == ["当事人确认"]
    assert problems[0].message.startswith("找不到工作表「当事人确认」")


def test_a_material_time_typed_as_text_is_kept_as_typed() -> None:
    data = case("forensic-joint-grade10")
    wb = load_workbook(io.BytesIO(materials_template(data)))
    wb["鉴定材料清单"]["H2"] = "2026-05-08 10:05"
    wb["鉴定材料清单"]["H2"].data_type = "s"
    assert read_materials(xlsx_of(wb), data)[0]["received_at"] == "2026-05-08 10:05"
