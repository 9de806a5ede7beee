"""Loading and validating a case file: every problem with its JSON path, Chinese title and value.

Each kind of error is provoked alone on the smallest valid case (tests/car_case_factory.py) and checked
for path, title and message; then several at once must all be listed; then the file-level failures
(malformed JSON with line and column, not UTF-8, unreadable) and exactness of JSON numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from car_case_factory import build_data, deductible, loss, minimal_case

from generator.adjust import adjust
from generator.loading import CaseFileError, load_case, parse_json, validate_data
from generator.problems import Problem


def problems_of(data: Any) -> list[Problem]:
    with pytest.raises(CaseFileError) as info:
        validate_data(data, "<test>")
    return info.value.problems


def only(data: Any) -> Problem:
    found = problems_of(data)
    assert len(found) == 1, found
    return found[0]


def test_minimal_case_is_valid() -> None:
    case = validate_data(minimal_case(), "<test>")
    assert case.case_id == "T-0001"
    assert case.policy.items[0].sum_insured == D("1000000")


def edit(fn: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = minimal_case()
    fn(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "path", "title", "message"),
    [
        pytest.param(lambda d: d["firm"].pop("name"), "$.firm.name", "公估机构 / 公估机构名称", "缺少必填项",
                     id="missing-field"),
        pytest.param(lambda d: d.__setitem__("handlers", "张三"), "$.handlers", "承办人员", "应为列表",
                     id="wrong-type-list"),
        pytest.param(lambda d: d.__setitem__("statutory", "maybe"), "$.statutory", "法定公估业务", "应为 true 或 false",
                     id="wrong-type-bool"),
        pytest.param(lambda d: d["incident"].__setitem__("occurred_at", "2025-13-01T03:00:00"), "$.incident.occurred_at",
                     "事故 / 出险时间", "ISO 8601", id="bad-datetime"),
        pytest.param(lambda d: d["report"].__setitem__("issued_on", "2025-02-30"), "$.report.issued_on",
                     "公估报告 / 报告日期", "日期", id="bad-date"),
        pytest.param(lambda d: d["commission"].__setitem__("type", "friend"), "$.commission.type", "委托 / 委托方式",
                     "取值不在允许范围内", id="bad-enum"),
        pytest.param(lambda d: d["policy"]["items"][0].__setitem__("sum_insrued", "5"), "$.policy.items[0].sum_insrued",
                     "保险合同 / 保险项目[0] / sum_insrued", "未定义的字段", id="unknown-key"),
        pytest.param(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", "-1"), "$.policy.items[0].sum_insured",
                     "保险合同 / 保险项目[0] / 保险金额", "不能小于下限", id="negative-money"),
        pytest.param(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", 0.1), "$.policy.items[0].sum_insured",
                     "保险合同 / 保险项目[0] / 保险金额", "浮点", id="python-float"),
        pytest.param(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", True), "$.policy.items[0].sum_insured",
                     "保险合同 / 保险项目[0] / 保险金额", "布尔", id="boolean-as-money"),
        pytest.param(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", "12万"), "$.policy.items[0].sum_insured",
                     "保险合同 / 保险项目[0] / 保险金额", "不是有效的数字", id="not-a-number"),
        pytest.param(lambda d: d["policy"].__setitem__("agreed_share", "1.5"), "$.policy.agreed_share",
                     "保险合同 / 约定分摊比例", "不能大于上限", id="rate-above-one"),
        pytest.param(lambda d: d["firm"].__setitem__("post_code", "61004"), "$.firm.post_code", "公估机构 / 邮政编码",
                     "格式不正确", id="pattern"),
        pytest.param(lambda d: d.__setitem__("handlers", []), "$.handlers", "承办人员", "至少需要一项", id="empty-list"),
        pytest.param(lambda d: d.__setitem__("kind", "forensic"), "$.kind", "案件类型", "未知的案件类型", id="unknown-kind"),
    ],
)
def test_each_schema_error_reports_path_title_message(mutate: Callable[[dict[str, Any]], object], path: str,
                                                      title: str, message: str) -> None:
    problem = only(edit(mutate))
    assert problem.path == path
    assert problem.title == title
    assert message in problem.message


@pytest.mark.parametrize(
    ("data", "path", "message", "value"),
    [
        pytest.param(build_data(losses=[loss("L1", "A9", "1", "1")]), "$.losses[0].insured_item",
                     "保单中没有该保险项目", "A9", id="loss-to-insured-item"),
        pytest.param(build_data(losses=[loss("L1", "A1", "1", "1", record_item="R9")]), "$.losses[0].record_item",
                     "查勘记录中没有该编号", "R9", id="loss-to-record-item"),
        pytest.param(build_data(deductibles=[deductible("D1", "amount")]), "$.policy.deductibles[0].amount",
                     "需要免赔额", None, id="deductible-amount-missing"),
        pytest.param(build_data(deductibles=[deductible("D1", "rate")]), "$.policy.deductibles[0].rate",
                     "需要免赔率", None, id="deductible-rate-missing"),
        pytest.param(build_data(deductibles=[deductible("D1", "amount", amount="1", items=["A7"])]),
                     "$.policy.deductibles[0].items[0]", "保单中没有该保险项目", "A7", id="deductible-to-item"),
        pytest.param(build_data(losses=[loss("L1", "A1", "1", "1"), loss("L1", "A1", "2", "2")]), "$.losses",
                     "编号重复", "L1", id="duplicate-loss-id"),
    ],
)
def test_each_reference_error_reports_path(data: dict[str, Any], path: str, message: str, value: Any) -> None:
    problem = only(data)
    assert (problem.path, problem.value) == (path, value)
    assert message in problem.message
    assert problem.title  # a Chinese label is always given


def test_photo_to_record_item_dangling() -> None:
    data = minimal_case()
    data["survey"]["record_items"] = [{"id": "R1", "name": "边坡", "location": "K1", "condition": "坍塌"}]
    data["survey"]["photos"] = [{"id": "P01", "file": "photos/P01.jpg", "caption": "全貌", "record_item": "R2"}]
    problem = only(data)
    assert problem.path == "$.survey.photos[0].record_item"
    assert problem.title == "现场查勘 / 现场照片[0] / 对应查勘记录"
    assert problem.value == "R2"


def test_duplicate_photo_ids() -> None:
    data = minimal_case()
    photo = {"id": "P01", "file": "photos/P01.jpg", "caption": "全貌"}
    data["survey"]["photos"] = [photo, dict(photo)]
    problem = only(data)
    assert (problem.path, problem.value) == ("$.survey.photos", "P01")
    assert "编号重复" in problem.message


def test_document_code_not_in_appendix_c() -> None:
    data = minimal_case()
    data["survey"]["documents"] = [{"code": "C1.1", "status": "received"}, {"code": "C9.9", "status": "outstanding"}]
    problem = only(data)
    assert problem.path == "$.survey.documents[1].code"
    assert problem.title == "现场查勘 / 索赔资料[1] / 清单条目编号"
    assert "附录C" in problem.message and problem.value == "C9.9"


def test_several_errors_are_all_listed() -> None:
    data = minimal_case()
    data["firm"].pop("name")
    data["commission"]["type"] = "friend"
    data["policy"]["items"][0]["sum_insured"] = 1.5
    data["incident"]["occurred_at"] = "yesterday"
    data["report"]["extra_key"] = 1
    paths = {p.path for p in problems_of(data)}
    assert paths == {"$.firm.name", "$.commission.type", "$.policy.items[0].sum_insured", "$.incident.occurred_at",
                     "$.report.extra_key"}


def test_several_reference_errors_are_all_listed() -> None:
    data = build_data(losses=[loss("L1", "A9", "1", "1", record_item="R9")], deductibles=[deductible("D1", "higher")])
    data["survey"]["documents"] = [{"code": "C9.9", "status": "received"}]
    paths = {p.path for p in problems_of(data)}
    assert paths == {"$.losses[0].insured_item", "$.losses[0].record_item", "$.policy.deductibles[0].amount",
                     "$.policy.deductibles[0].rate", "$.survey.documents[0].code"}


def test_top_level_must_be_an_object() -> None:
    problem = only([1, 2])
    assert problem.path == "$"


# ─────────────────────────────── files ───────────────────────────────


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "case.json"
    path.write_bytes(content)
    return path


def test_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    text = '{\n  "kind": "car_survey",\n  "case_id": "X" "oops"\n}\n'
    with pytest.raises(CaseFileError) as info:
        load_case(write(tmp_path, text.encode()))
    (problem,) = info.value.problems
    assert problem.path == "$"
    # line 3: `  "case_id": "X" "oops"` — 2 spaces, "case_id" (cols 3-11), ':' 12, ' ' 13, "X" 14-16,
    # ' ' 17: the parser stops at the second string's quote, column 18.
    assert "第 3 行第 18 列" in problem.message
    assert problem.value == '"case_id": "X" "oops"'


def test_file_not_utf8(tmp_path: Path) -> None:
    body = json.dumps(minimal_case(), ensure_ascii=False).encode("gbk")
    with pytest.raises(CaseFileError) as info:
        load_case(write(tmp_path, body))
    (problem,) = info.value.problems
    assert "UTF-8" in problem.message


def test_utf8_with_bom_is_accepted(tmp_path: Path) -> None:
    body = b"\xef\xbb\xbf" + json.dumps(minimal_case(), ensure_ascii=False).encode()
    loaded = load_case(write(tmp_path, body))
    assert loaded.raw == body  # the exact bytes, for archiving


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError) as info:
        load_case(tmp_path / "nope.json")
    assert "无法读取" in info.value.problems[0].message


def test_nan_is_refused() -> None:
    with pytest.raises(CaseFileError) as info:
        parse_json('{"a": NaN}')
    assert "NaN" in info.value.problems[0].message


# ─────────────────────────────── exactness ───────────────────────────────


def test_json_numbers_are_decimal_never_float() -> None:
    # 22 significant digits, the most the limits allow (12 before the point, 10 after): a float keeps ~17.
    parsed = parse_json('{"a": 0.1, "b": 0.2, "c": 999999999999.9999999999, "d": 3}')
    assert parsed["a"] + parsed["b"] == D("0.3")
    assert parsed["c"] == D("999999999999.9999999999")
    assert all(isinstance(v, D) for v in parsed.values())


def test_json_number_amounts_stay_exact_through_the_engine(tmp_path: Path) -> None:
    # Unit prices written as bare JSON numbers 0.1 and 0.2 (not strings): 0.1 × 3 and 0.1 + 0.2 exact.
    data = minimal_case()
    text = json.dumps(data, ensure_ascii=False)[:-1] + (
        ', "losses": [{"id": "L1", "name": "a", "insured_item": "A1", "quantity": 3, "unit": "m", "unit_price": 0.1},'
        ' {"id": "L2", "name": "b", "insured_item": "A1", "quantity": 1, "unit": "m", "unit_price": 0.2}]}'
    )
    case = load_case(write(tmp_path, text.encode())).case
    result = adjust(case)
    assert result.losses[0].repair_cost == D("0.3")
    assert result.net_loss_total == D("0.1") * 3 + D("0.2") == D("0.5")
    assert 0.1 * 3 != 0.3  # what float would have done


# ───────────── limits (issue 12 item 8): refused with path, title and value, never a crash or a stall ─────────────


def text_problems(text: str) -> list[Problem]:
    with pytest.raises(CaseFileError) as info:
        validate_data(parse_json(text, "<test>"), "<test>")
    return info.value.problems


def case_text(**losses_and_more: Any) -> str:
    """The minimal case as JSON text with one loss L1 (quantity 2, unit price 100) to edit as text."""
    data = build_data(losses=[loss("L1", "A1", "2", "100")])
    return json.dumps(data, ensure_ascii=False)


def test_nesting_a_thousand_deep_is_refused_with_its_path() -> None:
    # The parser recursed and died with RecursionError at ~1,000 levels.
    text = '{"kind": "car_survey", "case_name": ' + "[" * 1000 + "]" * 1000 + "}"
    (problem,) = text_problems(text)
    assert problem.path == "$.case_name" + "[0]" * 19  # the 21st container opens inside 1 object + 19 lists
    assert "嵌套超过 20 层" in problem.message
    assert problem.title.startswith("案件名称")
    assert "line 1, column 56" in problem.value  # 36 characters of prefix, then the 20th "[" opens the 21st level


def test_nesting_at_the_limit_parses() -> None:
    # 1 object + 19 lists = 20 levels: allowed; parse_json returns the nested value.
    parsed = parse_json('{"a": ' + "[" * 19 + "]" * 19 + "}")
    expected: list[Any] = []
    for _ in range(18):
        expected = [expected]
    assert parsed["a"] == expected


@pytest.mark.parametrize(
    ("literal", "message", "value"),
    [
        pytest.param("1e26", "数值过大", "1E+26", id="amount-1e26"),  # passed validate, then crashed adjust
        pytest.param("1000000000000", "数值过大", "1000000000000", id="exactly-10^12"),
        pytest.param("1e-5000", "小数位数过多", "1E-5000", id="tiny-exponent"),  # passed validate, crashed render
        pytest.param("0.00000000001", "小数位数过多", "1E-11", id="eleven-places"),
        pytest.param("1" * 41, "数字超过 40 个字符", "1" * 40 + "…（共 41 字符）", id="41-digit-literal"),
    ],
)
def test_number_literals_beyond_the_limits(literal: str, message: str, value: str) -> None:
    text = case_text().replace('"unit_price": "100"', f'"unit_price": {literal}')
    (problem,) = text_problems(text)
    assert problem.path == "$.losses[0].unit_price"
    assert problem.title == "损失项目[0] / 核损单价"
    assert message in problem.message
    assert problem.value == value


def test_integer_written_with_a_huge_exponent_is_refused_at_once() -> None:
    # `1e999999999` in an integer field made the validator build a billion-digit int (a 20-byte DoS).
    data = minimal_case()
    data["attachments"] = [{"title": "现场查勘记录", "pages": 1}]
    text = json.dumps(data, ensure_ascii=False).replace('"pages": 1', '"pages": 1e999999999')
    (problem,) = text_problems(text)
    assert problem.path == "$.attachments[0].pages"
    assert "数值过大" in problem.message
    assert problem.value == "1E+999999999"


def test_largest_amount_below_the_limit_is_accepted_and_adjusts() -> None:
    case = validate_data(parse_json(case_text().replace('"unit_price": "100"', '"unit_price": 999999999999.99')
                                    .replace('"quantity": "2"', '"quantity": 1')), "<test>")
    assert case.losses[0].unit_price == D("999999999999.99")
    adjust(case)  # the engine and its presentation rounding take the largest allowed amount


@pytest.mark.parametrize("amount", ["1e26", "1e999999999", "1E-5000", " 1" + "0" * 40])
def test_amounts_written_as_strings_are_bounded_too(amount: str) -> None:
    data = build_data(losses=[loss("L1", "A1", "2", amount)])
    (problem,) = problems_of(data)
    assert problem.path == "$.losses[0].unit_price"
    assert problem.title == "损失项目[0] / 核损单价"
    assert any(word in problem.message for word in ("应小于上限", "小数位数过多", "数字超过 40 个字符"))


def test_quantity_times_unit_price_is_bounded() -> None:
    # 1,000,000 × 1,000,000 = 10^12: each factor allowed, the repair cost (7.2) is not.
    data = build_data(losses=[loss("L1", "A1", "1000000", "1000000")])
    (problem,) = problems_of(data)
    assert problem.path == "$.losses[0].unit_price"
    assert "核损数量 × 核损单价" in problem.message


def test_duplicate_key_is_refused_with_both_values() -> None:
    # json.loads keeps the last value silently; the first one would be lost.
    text = case_text().replace('"unit_price": "100"', '"unit_price": "100", "unit_price": "99"')
    (problem,) = text_problems(text)
    assert problem.path == "$.losses[0].unit_price"
    assert problem.title == "损失项目[0] / 核损单价"
    assert "键重复出现 2 次" in problem.message
    assert problem.value == "100 / 99"


def test_lone_surrogate_is_refused_and_shown_escaped() -> None:
    text = case_text().replace('"name": "损失L1"', '"name": "坏\\ud800字"')
    (problem,) = text_problems(text)
    assert problem.path == "$.losses[0].name"
    assert "孤立的代理字符 \\ud800" in problem.message
    assert problem.value == "坏\\ud800字"  # escaped: the problem itself can be printed as UTF-8
    json.dumps(problem.as_dict(), ensure_ascii=False).encode("utf-8")


def test_lone_surrogate_in_a_key_is_refused() -> None:
    text = case_text().replace('"name": "损失L1"', '"name": "损失L1", "x\\udfff": 1')
    problem = text_problems(text)[0]
    assert problem.path == "$.losses[0]"
    assert "键名含有孤立的代理字符 \\udfff" in problem.message
    assert problem.value == "x\\udfff"


def test_string_longer_than_the_limit() -> None:
    text = case_text().replace('"name": "损失L1"', '"name": "' + "长" * 20_001 + '"')
    (problem,) = text_problems(text)
    assert problem.path == "$.losses[0].name"
    assert "超过 20000 个字符" in problem.message
    assert problem.value.endswith("…（共 20001 字符）")


def test_list_longer_than_the_limit() -> None:
    data = minimal_case()
    data["handlers"] = [{"name": f"人{i}"} for i in range(1001)]
    (problem,) = text_problems(json.dumps(data, ensure_ascii=False))
    assert (problem.path, problem.value) == ("$.handlers", "1001 项")
    assert "列表超过 1000 项" in problem.message


def test_file_larger_than_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, b'{"kind": "car_survey", "case_name": "' + b"x" * (4 * 1024 * 1024) + b'"}')
    with pytest.raises(CaseFileError) as info:
        load_case(path)
    (problem,) = info.value.problems
    assert "文件超过 4 MiB" in problem.message
    assert problem.value == f"{path.stat().st_size} 字节"


def test_problems_from_a_hostile_file_are_capped() -> None:
    data = minimal_case()
    data["handlers"] = [{"name": "\ud800"} for _ in range(200)]
    assert len(problems_of_text(data)) == 50


def problems_of_text(data: Any) -> list[Problem]:
    return text_problems(json.dumps(data))  # ensure_ascii: the surrogates are written as \ud800 escapes
