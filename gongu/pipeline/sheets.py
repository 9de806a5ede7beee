"""Excel in and out for the lists a firm keeps in Excel: a survey's loss list (损失清单, `$.losses`, 7.x)
and a forensic case's materials (鉴定材料清单, `$.materials`, 通则 Art 12) with the parties' confirmations.

`*_template(data)` gives an .xlsx to fill: one column per model field (Chinese titles, model order), the
case's current lines, drop-downs for insured items, survey records, enums and 是/否, and a 「说明」 sheet.
`read_*(xlsx, data)` gives the list back as the case file stores it, or raises SheetRefused naming every
problem by row and column (`损失清单 第 5 行 G 列`) with the words of `gongu validate`. Both are pure: `data`
(the raw case dict, possibly an incomplete draft) is only read, so a refused sheet changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter
from pydantic import BaseModel, ValidationError

from generator import limits
from generator.forensic.model import MATERIAL_TYPE_TITLES, Confirmation, ForensicAppraisalCase, Material, MaterialType
from generator.loading import MESSAGES, problem_from_error  # the message table `gongu validate` prints
from generator.model import (
    PRICE_BASIS_TITLES,
    SALVAGE_METHOD_TITLES,
    CarSurveyCase,
    LossItem,
    PriceBasis,
    SalvageMethod,
)
from generator.problems import Problem, parse_json_path, title_for
from gongu.pipeline.sheet_io import (
    MAX_ROWS,
    NO,
    YES,
    Column,
    Line,
    Sheet,
    SheetRefused,
    model_columns,
    open_workbook,
    read_lines,
    ref_choices,
    where,
    write_workbook,
)

__all__ = ["SheetRefused", "loss_template", "materials_template", "read_losses", "read_materials"]

LOSS_SHEET = "损失清单"
MATERIALS_SHEET = "鉴定材料清单"
CONFIRMATIONS_SHEET = "当事人确认"
NOTES_SHEET = "说明"
_MATERIAL_KEY = "material"  # the confirmations sheet's column naming the material (not a model field)
# Words of generator/integrity.py and generator/forensic/integrity.py for the same cross-references.
_DUPLICATE = "编号重复 (duplicate id)"
_NO_ITEM = "保单中没有该保险项目"
_NO_RECORD = "查勘记录中没有该编号"
_NO_MATERIAL = "鉴定材料中没有该编号 (no such material)"
_NO_PARTY = "当事人中没有该名称 (no such party)"
_TOTAL_LOSS = "实际全损须给出损失前实际价值 (7.1.2)"

# What each column means, for the 「说明」 sheet (the code of practice's clause where one applies).
MEANINGS = {
    LOSS_SHEET: {
        "id": "本清单内唯一的编号，如 L1",
        "name": "受损财产或费用项目的名称",
        "insured_item": "该损失所属的保险项目",
        "record_item": "对应的现场查勘记录",
        "quantity": "根据现场查勘记录结合相关资料核定的数量（7.2）",
        "unit": "数量的计量单位，如 立方米、米、套",
        "unit_price": "核定的单价，元：原则上采用施工合同单价，否则参考定额或市场价格（7.3）",
        "price_basis": "单价的来源（7.3）",
        "price_reference": "单价所依据的合同条目、定额或询价记录",
        "betterment": "变更、增加性能或改进所产生的额外费用，元；保险合同未约定承担的予以剔除（7.1）",
        "pre_loss_value": "受损财产损失前的实际价值，元；实际全损时必填（7.1.2）",
        "destroyed": "财产灭失或无修复价值，按实际全损核定（7.1.2）",
        "salvage": "受损财产的残值，元（7.5）",
        "salvage_method": "确定残值的方式（7.5）",
        "claimed_amount": "被保险人报损的金额，元",
        "note": "其他需要说明的情况",
    },
    MATERIALS_SHEET: {
        "id": "本案内唯一的材料编号，如 C1",
        "name": "材料名称（《司法鉴定程序通则》第十二条）",
        "type": "材料类型",
        "quantity": "份数、张数等",
        "unit": "计量单位，如 份、张",
        "condition": "材料状况：原件或复印件、是否完整清晰等",
        "storage": "材料的保存状态",
        "received_at": "接收材料的时间",
        "provided_by": "提供材料的当事人或单位",
        "used": "该材料是否用于鉴定",
        "summary": "材料内容摘要",
        "file": "扫描件在案件文件夹中的相对路径，如 scans/accident-report.pdf",
    },
    CONFIRMATIONS_SHEET: {
        _MATERIAL_KEY: "所确认材料的材料编号（「鉴定材料清单」A 列）",
        "party": "作出确认的当事人（名称或姓名）",
        "confirmed": "该当事人是否确认该材料；未经确认的材料不得作为鉴定依据（川司鉴协〔2022〕7号 二(一)）",
        "at": "确认时间",
        "note": "其他需要说明的情况",
    },
}


# ───────────────────────────────────────────── losses ─────────────────────────────────────────────


def loss_columns(data: dict[str, Any]) -> list[Column]:
    policy = _dict(data.get("policy"))
    survey = _dict(data.get("survey"))
    refs = {"insured_item": ref_choices(policy.get("items")), "record_item": ref_choices(survey.get("record_items"))}
    return model_columns(LossItem, refs=refs,
                         enum_titles={PriceBasis: PRICE_BASIS_TITLES, SalvageMethod: SALVAGE_METHOD_TITLES})


def loss_template(data: dict[str, Any]) -> bytes:
    """The loss list as an .xlsx: sheet 「损失清单」 with the case's lines, 「说明」, and the hidden lists."""
    columns = loss_columns(data)
    rows = _objects(data.get("losses"))
    notes = _notes([(LOSS_SHEET, columns)], [
        "每行一个损失项目（7.1–7.5）；空行忽略；损失项目编号不得重复。",
        "所属保险项目、对应查勘记录可选下拉项，也可只填编号；须是本案保险合同、现场查勘记录中已有的编号。",
        "上传后逐行校验，有任何问题则整表不予导入，案件不作任何改动。",
    ])
    return write_workbook([Sheet(LOSS_SHEET, columns, rows)], notes, NOTES_SHEET)


def read_losses(xlsx: bytes, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The loss lines of an uploaded sheet as `$.losses` stores them, or SheetRefused with every problem."""
    columns = loss_columns(data)
    item_ids = {item_id for _, item_id in _choices(columns, "insured_item")}
    record_ids = {record_id for _, record_id in _choices(columns, "record_item")}
    wb, archive = open_workbook(xlsx)
    try:
        lines, problems, _present = read_lines(wb, archive, xlsx, LOSS_SHEET, columns)
    finally:
        wb.close()
        archive.close()
    titles = _titles(columns)
    first_row: dict[str, int] = {}
    for line in lines:
        item, checked = _validate(LossItem, line, LOSS_SHEET, problems)
        values = line.values
        _check_id(line, LOSS_SHEET, titles, first_row, problems, checked)
        if "insured_item" in checked and values.get("insured_item") not in item_ids:
            problems.append(_at(line, LOSS_SHEET, "insured_item", titles, _NO_ITEM))
        if "record_item" in checked and "record_item" in values and values["record_item"] not in record_ids:
            problems.append(_at(line, LOSS_SHEET, "record_item", titles, _NO_RECORD))
        if isinstance(item, LossItem):
            if item.destroyed and item.pre_loss_value is None:
                key = "pre_loss_value" if line.cols["pre_loss_value"] else "destroyed"
                problems.append(_at(line, LOSS_SHEET, key, titles, _TOTAL_LOSS, value=None))
            for found in limits.product_problems([item], CarSurveyCase):
                problems.append(_at(line, LOSS_SHEET, "unit_price", titles, found.message))
    losses = [line.values for line in lines]
    problems += _limit_problems(data, "losses", losses, lines, LOSS_SHEET, titles, CarSurveyCase,
                                limits.MAX_SURVEY_TEXT_CHARS)
    _refuse_if(_ordered(problems))
    return losses


# ──────────────────────────────────────────── materials ───────────────────────────────────────────


def material_columns() -> list[Column]:
    return model_columns(Material, skip=("confirmations",), enum_titles={MaterialType: MATERIAL_TYPE_TITLES})


def confirmation_columns(data: dict[str, Any]) -> list[Column]:
    names = [party["name"] for party in _objects(data.get("parties")) if isinstance(party.get("name"), str)]
    material = Column(_MATERIAL_KEY, Material.model_fields["id"].title or "材料编号", "text", True, width=14)
    return [material, *model_columns(Confirmation, refs={"party": [(name, name) for name in names]})]


def materials_template(data: dict[str, Any]) -> bytes:
    """The materials as an .xlsx: 「鉴定材料清单」, 「当事人确认」 (one row per party's confirmation of a
    material, linked by 材料编号), 「说明」, and the hidden lists."""
    columns = material_columns()
    confirmation = confirmation_columns(data)
    materials = _objects(data.get("materials"))
    confirmations = [{_MATERIAL_KEY: material.get("id"), **conf} for material in materials
                     for conf in _objects(material.get("confirmations"))]
    notes = _notes([(MATERIALS_SHEET, columns), (CONFIRMATIONS_SHEET, confirmation)], [
        "「鉴定材料清单」每行一份材料（《司法鉴定程序通则》第十二条）；空行忽略；材料编号不得重复。",
        "「当事人确认」每行是一方当事人对一份材料的确认，按材料编号对应；确认方须是本案当事人的名称或姓名。",
        "上传后逐行校验，有任何问题则整表不予导入，案件不作任何改动。",
    ])
    id_range = f"'{MATERIALS_SHEET}'!$A$2:$A${MAX_ROWS + 1}"  # the material ids, the first column
    return write_workbook([Sheet(MATERIALS_SHEET, columns, materials),
                           Sheet(CONFIRMATIONS_SHEET, confirmation, confirmations, lists={_MATERIAL_KEY: id_range})],
                          notes, NOTES_SHEET)


def read_materials(xlsx: bytes, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The materials of an uploaded sheet as `$.materials` stores them (each with its confirmations from
    「当事人确认」), or SheetRefused with every problem. The confirmations sheet may be empty, not absent:
    without it every confirmation of the case would be dropped unseen."""
    columns = material_columns()
    confirmation = confirmation_columns(data)
    parties = {name for _, name in _choices(confirmation, "party")}
    wb, archive = open_workbook(xlsx)
    try:
        lines, problems, _present = read_lines(wb, archive, xlsx, MATERIALS_SHEET, columns)
        conf_lines, conf_problems, present = read_lines(wb, archive, xlsx, CONFIRMATIONS_SHEET, confirmation)
    finally:
        wb.close()
        archive.close()
    if not present:
        conf_problems = [Problem(CONFIRMATIONS_SHEET, "工作表", f"找不到工作表「{CONFIRMATIONS_SHEET}」(sheet not found)；"
                                 "没有确认记录时也请保留该表（只有标题行）", None)]
    titles = _titles(columns)
    first_row: dict[str, int] = {}
    for line in lines:
        _item, checked = _validate(Material, line, MATERIALS_SHEET, problems)
        _check_id(line, MATERIALS_SHEET, titles, first_row, problems, checked)
    conf_titles = _titles(confirmation)
    by_material: dict[str, list[dict[str, Any]]] = {}
    for line in conf_lines:
        values = dict(line.values)
        material = values.pop(_MATERIAL_KEY, None)
        _item, checked = _validate(Confirmation, Line(line.row, values, line.cols, line.bad), CONFIRMATIONS_SHEET,
                                   conf_problems)
        if material is None and _MATERIAL_KEY not in line.bad and line.cols[_MATERIAL_KEY]:
            conf_problems.append(_at(line, CONFIRMATIONS_SHEET, _MATERIAL_KEY, conf_titles, MESSAGES["missing"], value=None))
        elif material is not None and str(material) not in first_row:
            conf_problems.append(_at(line, CONFIRMATIONS_SHEET, _MATERIAL_KEY, conf_titles, _NO_MATERIAL))
        if "party" in checked and "party" in values and values["party"] not in parties:
            conf_problems.append(_at(line, CONFIRMATIONS_SHEET, "party", conf_titles, _NO_PARTY))
        if material is not None:
            by_material.setdefault(str(material), []).append(values)
    materials: list[dict[str, Any]] = []
    for line in lines:
        values = line.values
        found = by_material.get(str(values.get("id")), [])
        if found:  # in model order: after 提供方, before 用于鉴定
            keys = list(values)
            at = next((i for i, key in enumerate(keys) if key in ("used", "summary", "file")), len(keys))
            values = {**dict(list(values.items())[:at]), "confirmations": found, **dict(list(values.items())[at:])}
        materials.append(values)
    problems += _limit_problems(data, "materials", materials, lines, MATERIALS_SHEET, titles, ForensicAppraisalCase,
                                limits.MAX_FORENSIC_TEXT_CHARS)
    _refuse_if(_ordered(problems) + _ordered(conf_problems))
    return materials


# ───────────────────────────────────────────── shared ─────────────────────────────────────────────


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _choices(columns: list[Column], key: str) -> tuple[tuple[str, Any], ...]:
    return next(column.choices for column in columns if column.key == key)


def _titles(columns: list[Column]) -> dict[str, str]:
    return {column.key: column.title for column in columns}


def _validate(model: type[BaseModel], line: Line, sheet: str, problems: list[Problem]) -> tuple[BaseModel | None, set[str]]:
    """The row through the model, and the keys a cross-check may still look at (no problem yet). Each error
    has the words of `gongu validate`, at the row's cell; an error for a cell already refused, or for a
    required column missing from the header (said once), is left out."""
    clean = {key for key, col in line.cols.items() if col} - line.bad
    try:
        return model.model_validate(line.values), clean
    except ValidationError as exc:
        for err in exc.errors():
            key = err["loc"][0] if err["loc"] else None
            if key in line.bad or (err["type"] == "missing" and isinstance(key, str) and not line.cols.get(key)):
                continue
            found = problem_from_error(model, err)
            col = line.cols.get(key, 0) if isinstance(key, str) else 0
            problems.append(Problem(where(sheet, line.row, col or None), found.title, found.message, found.value))
            clean.discard(str(key))
        return None, clean


def _check_id(line: Line, sheet: str, titles: dict[str, str], first_row: dict[str, int], problems: list[Problem],
              checked: set[str]) -> None:
    value = line.values.get("id")
    if not isinstance(value, str) or "id" not in checked:
        return
    if value in first_row:
        problems.append(_at(line, sheet, "id", titles, f"{_DUPLICATE}：与第 {first_row[value]} 行相同"))
    else:
        first_row[value] = line.row


_NOVALUE: Any = object()


def _at(line: Line, sheet: str, key: str, titles: dict[str, str], message: str, value: Any = _NOVALUE) -> Problem:
    shown = line.values.get(key) if value is _NOVALUE else value
    return Problem(where(sheet, line.row, line.cols.get(key) or None), titles.get(key, key), message, shown)


def _limit_problems(data: dict[str, Any], key: str, objects: list[dict[str, Any]], lines: list[Line], sheet: str,
                    titles: dict[str, str], model: type[BaseModel], max_text: int) -> list[Problem]:
    """generator/limits.py's bounds on the list as the case file will hold it (items, string lengths) and
    on all the text of the case with this list in it."""
    problems: list[Problem] = []
    for found in limits.limit_problems({key: objects}, lambda loc: title_for(model, loc)):
        loc = parse_json_path(found.path)
        if len(loc) >= 3 and isinstance(loc[1], int) and isinstance(loc[2], str) and loc[1] < len(lines):
            problems.append(_at(lines[loc[1]], sheet, loc[2], titles, found.message, found.value))
        else:
            problems.append(Problem(sheet, found.title, found.message, found.value))
    total = limits.text_chars({**data, key: objects})
    if total > max_text:
        problems.append(Problem(sheet, sheet, f"导入后案件全部文字共 {total:,} 个字符，超过 {max_text:,} 个字符的上限 "
                                f"(more than {max_text:,} characters of text in all)", f"{total:,} 字符"))
    return problems


_CELL = re.compile(r" 第 (\d+) 行(?: ([A-Z]+) 列)?$")


def _ordered(problems: list[Problem]) -> list[Problem]:
    """A sheet's problems from top to bottom, left to right, a whole row's after its cells'; those of the
    file or the whole sheet first."""
    def key(problem: Problem) -> tuple[int, int]:
        match = _CELL.search(problem.path)
        if not match:
            return (0, 0)
        return (int(match.group(1)), column_index_from_string(match.group(2)) if match.group(2) else 1 << 20)

    return sorted(problems, key=key)


def _refuse_if(problems: list[Problem]) -> None:
    """Every problem at once, as `gongu validate` lists them — up to its limit of MAX_PROBLEMS."""
    if not problems:
        return
    shown = problems[: limits.MAX_PROBLEMS]
    if len(problems) > len(shown):
        rest = len(problems) - len(shown)
        shown.append(Problem("Excel 文件", "Excel 文件", f"另有 {rest} 个问题未列出，请先改正以上问题 (and {rest} more)", None))
    raise SheetRefused(shown)


_KIND_NOTES: dict[str, Callable[[Column], str]] = {
    "text": lambda c: "文字",
    "ref": lambda c: ("从下拉列表选择或只填编号：" + "、".join(label for label, _ in c.choices)) if c.choices
    else "本案尚无可选项，请先在表单中填写",
    "enum": lambda c: "从下拉列表选择：" + "、".join(label for label, _ in c.choices),
    "flag": lambda c: f"{YES} 或 {NO}" + (f"；留空即为{YES if c.default else NO}" if isinstance(c.default, bool) else ""),
    "number": lambda c: f"不小于 0 的数字，最多 {limits.MAX_DECIMAL_PLACES} 位小数；显示几位小数即按几位保存"
    + ("；留空即为 0" if c.default is not None and not c.default else ""),
    "whole": lambda c: "整数",
    "time": lambda c: "日期时间，如 2026-05-08 10:05:00（Excel 日期或文字均可）",
    "day": lambda c: "日期，如 2026-05-08",
}


def _notes(sheets: list[tuple[str, list[Column]]], rules: list[str]) -> list[list[str]]:
    rows: list[list[str]] = [["列", "标题", "必填", "含义", "填写说明", "字段", "工作表"]]
    for sheet, columns in sheets:
        for index, column in enumerate(columns, start=1):
            rows.append([get_column_letter(index), column.title, YES if column.required else NO,
                         MEANINGS[sheet].get(column.key, ""), _KIND_NOTES[column.kind](column), column.key, sheet])
    return [*rows, [], *[[rule] for rule in rules]]
