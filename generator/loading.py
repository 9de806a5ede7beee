"""Load a case file: JSON → exact Decimals → the pydantic model, with every problem reported.

Each problem carries the JSON path, the Chinese field title, what is wrong and the offending value,
so a firm can fix its file without reading code (ARCHITECTURE: errors a person can act on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from generator import limits
from generator.integrity import integrity_problems
from generator.kinds import CASE_KINDS, Case
from generator.model import CarSurveyCase
from generator.problems import Problem, json_path, title_for

# pydantic error types → what a Chinese reader is told (English kept for the firm's IT staff).
MESSAGES = {
    "missing": "缺少必填项 (required)",
    "extra_forbidden": "未定义的字段，可能拼写有误 (unknown field)",
    "string_too_short": "不能为空 (must not be empty)",
    "too_short": "至少需要一项 (must not be empty)",
    "string_pattern_mismatch": "格式不正确 (wrong format)",
    "decimal_parsing": "不是有效的数字 (not a valid number)",
    "decimal_type": "应为数字或数字字符串 (expected a number)",
    "decimal_max_digits": "位数过多 (too many digits)",
    "decimal_max_places": f"小数位数过多，最多 {limits.MAX_DECIMAL_PLACES} 位 (too many decimal places)",
    "finite_number": "不是有限数 (not a finite number)",
    "greater_than_equal": "不能小于下限 (below the minimum)",
    "less_than_equal": "不能大于上限 (above the maximum)",
    "less_than": "应小于上限 (must be below the maximum)",
    "datetime_from_date_parsing": "不是有效的 ISO 8601 时间 (not an ISO 8601 date-time)",
    "datetime_parsing": "不是有效的 ISO 8601 时间 (not an ISO 8601 date-time)",
    "datetime_type": "应为 ISO 8601 时间字符串 (expected an ISO 8601 date-time)",
    "date_from_datetime_parsing": "不是有效的日期 YYYY-MM-DD (not a date)",
    "date_parsing": "不是有效的日期 YYYY-MM-DD (not a date)",
    "date_type": "应为日期字符串 YYYY-MM-DD (expected a date)",
    "enum": "取值不在允许范围内 (not one of the allowed values)",
    "literal_error": "取值不在允许范围内 (not one of the allowed values)",
    "string_type": "应为文字 (expected a string)",
    "bool_type": "应为 true 或 false (expected a boolean)",
    "bool_parsing": "应为 true 或 false (expected a boolean)",
    "list_type": "应为列表 (expected a list)",
    "model_type": "应为对象 (expected an object)",
    "dict_type": "应为对象 (expected an object)",
    "int_type": "应为整数 (expected an integer)",
    "int_parsing": "应为整数 (expected an integer)",
    "int_from_float": "应为整数 (expected an integer)",
    "string_too_long": "过长 (too long)",
    "value_error": "取值无效 (invalid value)",
}


class CaseFileError(Exception):
    """The case file cannot be used; `problems` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)")


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    source: Path
    raw: bytes  # the exact bytes read: embedded in the PDF and archived as they were


def parse_json(text: str, source: str = "<case>") -> Any:
    """JSON with numbers read as Decimal (never float); malformed JSON reports line and column.

    Every limit of generator/limits.py is checked here, before any model sees the data: nesting before
    the (recursive) parser runs, then every number, string, list and key with its JSON path.
    """
    if len(text) > limits.MAX_FILE_BYTES:
        raise CaseFileError(source, [_too_big(len(text.encode("utf-8", "surrogatepass")))])
    deep = limits.nesting_problem(text, _titles(None))  # the kind is not known before parsing
    if deep is not None:
        raise CaseFileError(source, [deep])
    try:
        data = json.loads(text, parse_float=limits.read_number, parse_int=limits.read_number,
                          parse_constant=_reject_constant, object_pairs_hook=limits.read_object)
    except json.JSONDecodeError as exc:
        problem = Problem(
            path="$",
            title="案件文件",
            message=f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列 ({exc.msg})",
            value=_excerpt(text, exc.pos),
        )
        raise CaseFileError(source, [problem]) from None
    except ValueError as exc:  # NaN / Infinity
        raise CaseFileError(source, [Problem("$", "案件文件", str(exc), None)]) from None
    except RecursionError:  # a second line of defence: the flat scan above should always stop it first
        message = f"嵌套过深 (nested deeper than {limits.MAX_DEPTH} levels)"
        raise CaseFileError(source, [Problem("$", "案件文件", message, None)]) from None
    problems = limits.limit_problems(data, _titles(data), max_text=_text_limit(data))
    if problems:
        raise CaseFileError(source, problems)
    return data


def _titles(data: Any) -> limits.Titles:
    """Chinese titles from the model the file names (its `kind`), or the first kind when it names none."""
    kind = data.get("kind") if isinstance(data, dict) else None
    model = CASE_KINDS.get(kind) if isinstance(kind, str) else None
    model = model or next(iter(CASE_KINDS.values()))
    return lambda loc: title_for(model, loc)


def _text_limit(data: Any) -> int:
    """The bound on all the text of a case of this kind (generator/limits.py); the survey's when unknown."""
    kind = data.get("kind") if isinstance(data, dict) else None
    return limits.MAX_FORENSIC_TEXT_CHARS if kind == "forensic_appraisal" else limits.MAX_SURVEY_TEXT_CHARS


def _too_big(size: int) -> Problem:
    return Problem("$", "案件文件", f"文件超过 {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB "
                   f"(larger than {limits.MAX_FILE_BYTES} bytes)", f"{size} 字节")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"JSON 中不允许 {name} (NaN/Infinity are not valid amounts)")


def _excerpt(text: str, pos: int) -> str:
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end != -1 else len(text)]
    return line.strip()[:80]


def validate_data(data: Any, source: str = "<case>") -> Case:
    """Validate parsed JSON; raise CaseFileError listing every problem at once."""
    if not isinstance(data, dict):
        raise CaseFileError(source, [Problem("$", "案件文件", "顶层应为 JSON 对象 (expected an object)", data)])
    kind = data.get("kind")
    model = CASE_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        allowed = ", ".join(CASE_KINDS)
        problem = Problem("$.kind", "案件类型", f"未知的案件类型，应为 {allowed} (unknown case kind)", kind)
        raise CaseFileError(source, [problem])
    try:
        case = model.model_validate(data)
    except ValidationError as exc:
        raise CaseFileError(source, [problem_from_error(model, err) for err in exc.errors()]) from None
    if isinstance(case, CarSurveyCase):
        problems = limits.product_problems(case.losses, model) or integrity_problems(case)
    else:
        from generator.forensic.integrity import integrity_problems as forensic_integrity

        problems = forensic_integrity(case)
    if problems:
        raise CaseFileError(source, problems)
    return case


def load_case(path: str | Path) -> LoadedCase:
    path = Path(path)
    try:
        with path.open("rb") as fh:  # never more than the limit, whatever the file (or device) holds
            raw = fh.read(limits.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CaseFileError(str(path), [Problem("$", "案件文件", f"无法读取文件 ({exc.strerror})", str(path))]) from None
    if len(raw) > limits.MAX_FILE_BYTES:
        raise CaseFileError(str(path), [_too_big(max(path.stat().st_size, len(raw)))])  # a device has no size
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = Problem("$", "案件文件", f"文件不是 UTF-8 编码 (byte {exc.start})", None)
        raise CaseFileError(str(path), [problem]) from None
    case = validate_data(parse_json(text, str(path)), str(path))
    return LoadedCase(case=case, source=path.resolve(), raw=raw)


def problem_from_error(model: type[BaseModel], err: Any) -> Problem:
    """One pydantic error as a Problem with the words `gongu validate` uses; `model` gives the titles (the
    case model for a whole file, or a part's model for a part validated alone)."""
    loc = tuple(err["loc"])
    message = MESSAGES.get(err["type"], err["msg"])
    ctx = err.get("ctx") or {}
    if err["type"] in {"enum", "literal_error"} and "expected" in ctx:
        message += f"：{ctx['expected']}"
    elif err["type"] in {"greater_than_equal", "less_than_equal", "less_than"}:
        bound = str(ctx.get("ge", ctx.get("le", ctx.get("lt"))))
        bound = bound.removeprefix("Decimal('").removesuffix("')")  # pydantic gives Decimal bounds as repr
        message += f"：{bound}"
    elif err["type"] == "string_too_long":
        message = f"过长，最多 {ctx.get('max_length')} 个字符 (more than {ctx.get('max_length')} characters)"
    elif err["type"] == "value_error":
        message = str(ctx.get("error", err["msg"]))
    value = None if err["type"] == "missing" else err.get("input")
    return Problem(json_path(loc), title_for(model, loc), message, value)
