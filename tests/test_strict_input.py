"""The case model is strict and refuses invisible controls in names: each value that was once read two
ways (`0` as 1970-01-01, `1` as true, `" 12 "` and `"-0"` as numbers) and each name carrying a bidi or
zero-width control is refused by `gongu validate` with exit 2, the JSON path, the Chinese title and why.
Report numbers and case ids are as long as file names derived from them can be.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from car_case_factory import minimal_case
from case_edits import forensic_joint
from typer.testing import CliRunner

from generator import limits
from generator.loading import CaseFileError, validate_data
from gongu.cli.app import app


def validate_json(tmp_path: Path, data: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")  # Decimal as its text
    result = CliRunner().invoke(app, ["validate", "--json", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.output).get("problems", [])


def survey(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = minimal_case()
    edit(data)
    return data


def forensic(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = forensic_joint()
    edit(data)
    return data


def _confirmation(d: dict[str, Any], value: object) -> None:
    d["survey"]["confirmation"] = {"signed": value}


def _pages(d: dict[str, Any], value: object) -> None:
    d["attachments"] = [{"title": "图纸", "pages": value}]


@pytest.mark.parametrize(
    ("data", "path", "title", "message"),
    [
        pytest.param(survey(lambda d: d["report"].__setitem__("issued_on", 0)), "$.report.issued_on",
                     "公估报告 / 报告日期", "不能写作数字", id="date-zero"),
        pytest.param(survey(lambda d: d["report"].__setitem__("issued_on", "20260506")), "$.report.issued_on",
                     "公估报告 / 报告日期", "YYYY-MM-DD", id="date-digits"),
        pytest.param(survey(lambda d: d["incident"].__setitem__("occurred_at", 0)), "$.incident.occurred_at",
                     "事故 / 出险时间", "不能写作数字", id="datetime-zero"),
        pytest.param(survey(lambda d: d["incident"].__setitem__("occurred_at", "1700000000")), "$.incident.occurred_at",
                     "事故 / 出险时间", "ISO 8601", id="datetime-epoch-text"),
        pytest.param(survey(lambda d: _confirmation(d, 1)), "$.survey.confirmation.signed",
                     "现场查勘 / 查勘记录确认 / 已签字", "应为 true 或 false", id="bool-one"),
        pytest.param(survey(lambda d: _confirmation(d, "true")), "$.survey.confirmation.signed",
                     "现场查勘 / 查勘记录确认 / 已签字", "应为 true 或 false", id="bool-text"),
        pytest.param(survey(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", "-0")),
                     "$.policy.items[0].sum_insured", "保险合同 / 保险项目[0] / 保险金额", "负零", id="minus-zero-text"),
        pytest.param(survey(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", " 12 ")),
                     "$.policy.items[0].sum_insured", "保险合同 / 保险项目[0] / 保险金额", "不能有空格", id="padded-text"),
        pytest.param(survey(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", "+12")),
                     "$.policy.items[0].sum_insured", "保险合同 / 保险项目[0] / 保险金额", "正号", id="plus-text"),
        pytest.param(survey(lambda d: d["policy"]["items"][0].__setitem__("sum_insured", "1_000")),
                     "$.policy.items[0].sum_insured", "保险合同 / 保险项目[0] / 保险金额", "不是有效的数字", id="underscore"),
        pytest.param(survey(lambda d: _pages(d, True)), "$.attachments[0].pages", "附件[0] / 页数", "布尔值", id="int-true"),
        pytest.param(survey(lambda d: _pages(d, "03")), "$.attachments[0].pages", "附件[0] / 页数", "前导零", id="int-padded"),
        pytest.param(forensic(lambda d: d["report"].__setitem__("copies", "4.0")), "$.report.copies",
                     "司法鉴定意见书 / 份数", "不是有效的数字", id="int-decimal-text"),
        pytest.param(forensic(lambda d: d["timeline"].__setitem__("effective_on", 20260506)), "$.timeline.effective_on",
                     "鉴定时限 / 委托书生效日期", "不能写作数字", id="forensic-date-number"),
    ],
)
def test_lax_values_are_refused(tmp_path: Path, data: dict[str, Any], path: str, title: str, message: str) -> None:
    code, problems = validate_json(tmp_path, data)
    assert code == 2
    assert [(p["path"], p["title"]) for p in problems] == [(path, title)]
    assert message in problems[0]["message"]


def test_minus_zero_number_and_decimal_count(tmp_path: Path) -> None:
    """A JSON number -0 (not only the text) is refused, and 3.0 is no page count."""
    text = json.dumps(survey(lambda d: _pages(d, 7)), ensure_ascii=False)
    text = text.replace('"pages": 7', '"pages": 3.0').replace('"sum_insured": "1000000"', '"sum_insured": -0')
    path = tmp_path / "case.json"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--json", str(path)])
    assert result.exit_code == 2
    found = {p["path"]: p["message"] for p in json.loads(result.output)["problems"]}
    assert "负零" in found["$.policy.items[0].sum_insured"]
    assert "应为整数" in found["$.attachments[0].pages"]


def test_plain_values_still_validate() -> None:
    data = survey(lambda d: _pages(d, 3))
    data["policy"]["items"][0]["sum_insured"] = "0.5E3"
    data["survey"]["confirmation"] = {"signed": True}
    case = validate_data(data)
    assert case.attachments[0].pages == 3 and case.survey.confirmation.signed is True
    assert case.policy.items[0].sum_insured == 500


# ─────────────────────────────── invisible controls in names ───────────────────────────────────


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200f", "\u061c", "\u200b", "\u200d", "\u2060", "\ufeff"])
@pytest.mark.parametrize(
    ("edit", "path", "title"),
    [
        pytest.param(lambda d, c: d.__setitem__("case_name", f"边坡{c}坍塌"), "$.case_name", "案件名称", id="case-name"),
        pytest.param(lambda d, c: d["handlers"][0].__setitem__("name", f"张三{c}"), "$.handlers[0].name",
                     "承办人员[0] / 姓名", id="person"),
        pytest.param(lambda d, c: d["report"].__setitem__("number", f"GG{c}-2026-001"), "$.report.number",
                     "公估报告 / 报告编号", id="report-number"),
        pytest.param(lambda d, c: d["policy"].__setitem__("number", f"P{c}123"), "$.policy.number", "保险合同 / 保单号",
                     id="policy-number"),
        pytest.param(lambda d, c: d["firm"].__setitem__("name", f"公估{c}有限公司"), "$.firm.name",
                     "公估机构 / 公估机构名称", id="firm"),
    ],
)
def test_invisible_controls_in_survey_names(tmp_path: Path, edit: Callable[[dict[str, Any], str], object], path: str,
                                            title: str, char: str) -> None:
    data = minimal_case()
    edit(data, char)
    code, problems = validate_json(tmp_path, data)
    assert code == 2
    assert [(p["path"], p["title"]) for p in problems] == [(path, title)]
    assert f"U+{ord(char):04X}" in problems[0]["message"] and "名称和编号中不允许" in problems[0]["message"]


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        pytest.param(lambda d: d["parties"][0].__setitem__("name", "何\u202e建平"), "$.parties[0].name", id="party"),
        pytest.param(lambda d: d["appraisers"][0].__setitem__("licence_no", "5101\u200b"), "$.appraisers[0].licence_no",
                     id="licence"),
        pytest.param(lambda d: d["institution"].__setitem__("name", "\u2067四川蜀正"), "$.institution.name", id="institution"),
        pytest.param(lambda d: d["report"].__setitem__("number", "蜀正\u200e第1号"), "$.report.number", id="opinion-number"),
        pytest.param(lambda d: d.__setitem__("case_id", "SJ-1\u200b"), "$.case_id", id="case-id"),
    ],
)
def test_invisible_controls_in_forensic_names(tmp_path: Path, edit: Callable[[dict[str, Any]], object], path: str) -> None:
    data = forensic_joint()
    edit(data)
    code, problems = validate_json(tmp_path, data)
    assert code == 2
    assert path in [p["path"] for p in problems]


def test_free_text_keeps_bidi_for_the_review() -> None:
    """Free text is not a name: a U+202E in an analysis validates and is flagged by the review rule."""
    data = minimal_case()
    data["project"]["overview"] = "工程\u202e概况"
    validate_data(data)


# ─────────────────────────────── lengths that render ───────────────────────────────────────────


def test_report_number_of_300_characters_is_refused(tmp_path: Path) -> None:
    code, problems = validate_json(tmp_path, survey(lambda d: d["report"].__setitem__("number", "报" * 300)))
    assert code == 2
    assert problems[0]["path"] == "$.report.number"
    assert f"最多 {limits.MAX_REPORT_NUMBER_CHARS} 个字符" in problems[0]["message"]


def test_longest_derived_file_name_fits_255_bytes() -> None:
    """The longest name made from a report number: 4 UTF-8 bytes per character at worst, the longest
    document key (lists hold at most MAX_LIST_ITEMS), the .docx suffix and atomic_write's temporary name."""
    stem = limits.MAX_REPORT_NUMBER_CHARS * 4
    key = f"-dispute-{limits.MAX_LIST_ITEMS}-step-{limits.MAX_LIST_ITEMS}.docx"
    temporary = len(".") + len(".abcdefgh.tmp")  # tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp")
    assert stem + len(key) + temporary <= 255
    assert limits.MAX_CASE_ID_CHARS + len("-qc-sheet.html") <= 255


def test_case_id_too_long_is_refused() -> None:
    data = minimal_case()
    data["case_id"] = "C" * (limits.MAX_CASE_ID_CHARS + 1)
    with pytest.raises(CaseFileError) as info:
        validate_data(data)
    assert [p.path for p in info.value.problems] == ["$.case_id"]


@pytest.mark.parametrize(("make", "limit"), [(minimal_case, limits.MAX_SURVEY_TEXT_CHARS),
                                             (forensic_joint, limits.MAX_FORENSIC_TEXT_CHARS)], ids=["survey", "forensic"])
def test_total_text_is_bounded(tmp_path: Path, make: Callable[[], dict[str, Any]], limit: int) -> None:
    """Every string may be within its own limit and the case still too long to render in time."""
    data = make()
    data["attachments"] = [{"title": "说" * 19_000} for _ in range(limit // 19_000 + 1)]
    code, problems = validate_json(tmp_path, data)
    assert code == 2
    assert [p["path"] for p in problems] == ["$"]
    assert f"超过 {limit:,} 个字符" in problems[0]["message"]


def test_a_file_name_too_long_for_the_file_system_is_a_clear_error(tmp_path: Path) -> None:
    """300 bytes in one component (100 Chinese characters) used to reach the OS ("File name too long")."""
    from generator.case_paths import CasePathError, resolve_case_file

    with pytest.raises(CasePathError, match="过长"):
        resolve_case_file(tmp_path, "照片" * 50 + ".jpg", "照片 P1 的文件")
    assert resolve_case_file(tmp_path, "照" * 80 + ".jpg", "照片").name == "照" * 80 + ".jpg"  # 244 bytes: fits
