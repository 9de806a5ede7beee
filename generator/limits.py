"""The limits a case file must stay within, checked before the model sees any of it.

A case file comes from a firm's own system or is typed by hand; a hostile or broken one must be refused
with the usual clear error (JSON path, what is wrong, the value), never crash or stall a command. The
examples reach depth 6, strings of 200 characters, lists of 20 items and amounts of 10^9, so every limit
leaves room of several orders of magnitude. README.md ("The case file") states them for firms.

- nesting: JSON deeper than MAX_DEPTH levels crashed the parser (RecursionError at ~1,000);
- number literals: at most MAX_NUMBER_CHARS characters, below MAX_NUMBER in size and with at most
  MAX_DECIMAL_PLACES decimals — `1e999999999` (20 bytes) stalled validation converting to an integer,
  `1e26` passed validation then overflowed the 28-digit presentation rounding, `1e-5000` crashed render;
- amounts: below MAX_NUMBER yuan each, and a loss's quantity × unit price below it too, so every total
  the engine forms stays within what 大写金额 can write (万亿) and what rounding to the fen can hold;
- strings: at most MAX_STRING_CHARS characters (MAX_KEY_CHARS for a key), no lone UTF-16 surrogate
  (`"\\ud800"` is legal JSON escape syntax but no character: it cannot be written out as UTF-8);
- lists: at most MAX_LIST_ITEMS items; the whole file at most MAX_FILE_BYTES bytes;
- duplicate keys: an object naming a key twice is refused (JSON parsers keep the last, silently
  losing the first — against "never silently lose data");
- the whole text: all strings together at most MAX_SURVEY_TEXT_CHARS (a survey: one report, its bulk in
  table rows — bench/render_bench.py's 5,000-item stress case holds ~1.0 million) or MAX_FORENSIC_TEXT_CHARS
  (a forensic case: its prose is repeated in up to nine documents, each as PDF and DOCX; the bench's
  `--only text` renders a case at this limit), so that whatever validates also renders (120 fields of
  19,000 characters each validated and then rendered for minutes);
- report numbers: at most MAX_REPORT_NUMBER_CHARS characters, because file names are made from them
  (`<number>-dispute-12-step-3.docx`, its temporary `.<name>.XXXXXXXX.tmp`) and a file name holds
  255 bytes — 4 per character at worst in UTF-8; case ids at most MAX_CASE_ID_CHARS (ASCII) for the
  same reason (workspace and issue folders).

Draw records (`gongu draw …`) are read with the same limits (parse_limited).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from generator.problems import Problem, json_path, problem_at

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 20
MAX_NUMBER_CHARS = 40
MAX_NUMBER = Decimal(10) ** 12  # exclusive: 999,999,999,999.99 元 is the largest amount (9,999 亿)
MAX_DECIMAL_PLACES = 10
MAX_STRING_CHARS = 20_000
MAX_KEY_CHARS = 100
MAX_LIST_ITEMS = 1_000
MAX_SURVEY_TEXT_CHARS = 1_100_000
MAX_FORENSIC_TEXT_CHARS = 50_000
MAX_REPORT_NUMBER_CHARS = 50
MAX_CASE_ID_CHARS = 64
MAX_PROBLEMS = 50  # a hostile file can break a limit a million times; the first fifty say enough

TITLE = "案件文件"
Titles = Callable[[tuple[str | int, ...]], str]  # JSON location → Chinese field title
_SURROGATE = re.compile("[\ud800-\udfff]")


class OversizeNumber:
    """A number literal too long to convert: kept as text so the walk can report it with its path."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


class DuplicateKeyObject(dict[str, Any]):
    """A JSON object that named a key more than once: the keys and every value written for them."""

    def __init__(self, pairs: list[tuple[str, Any]], duplicates: dict[str, list[Any]]) -> None:
        super().__init__(pairs)
        self.duplicates = duplicates


def read_number(literal: str) -> Decimal | OversizeNumber:
    """json.loads' parse_int / parse_float: exact Decimal, never float; never converts a huge literal."""
    if len(literal) > MAX_NUMBER_CHARS:
        return OversizeNumber(literal)
    return Decimal(literal)


def read_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads' object_pairs_hook: keep every value of a repeated key so the walk can report it."""
    seen: dict[str, list[Any]] = {}
    for key, value in pairs:
        seen.setdefault(key, []).append(value)
    duplicates = {key: values for key, values in seen.items() if len(values) > 1}
    return DuplicateKeyObject(pairs, duplicates) if duplicates else dict(pairs)


def shown(text: str, limit: int = 60) -> str:
    """A string as an error message may show it: lone surrogates escaped, long text cut with its length."""
    cut = text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字符）"
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", cut)


# ────────────────────────────── nesting, before the parser recurses ──────────────────────────────

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)
_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def nesting_problem(text: str, titles: Titles = lambda loc: TITLE) -> Problem | None:
    """The first place nested deeper than MAX_DEPTH, found by a flat scan (the parser itself recurses).

    Tracks keys and list positions so the error names a JSON path; malformed JSON is left to the parser.
    """
    depth = 0  # first a quick pass over strings and brackets only; most files stop here
    for match in _BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                break
        elif token in "]}":
            depth -= 1
    else:
        return None
    stack: list[list[Any]] = []  # [opening bracket, current key or list index]
    last_string: str | None = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            last_string = token
            continue
        if token in "[{":
            if len(stack) >= MAX_DEPTH:
                loc = tuple(frame[1] for frame in stack if frame[1] is not None)
                return Problem(json_path(loc), titles(loc) or TITLE, f"嵌套超过 {MAX_DEPTH} 层 (nested deeper than {MAX_DEPTH} levels)",
                               _line_col(text, match.start()))
            stack.append([token, 0 if token == "[" else None])
        elif token in "]}":
            if stack:
                stack.pop()
        elif token == ":" and stack and stack[-1][0] == "{" and last_string is not None:
            stack[-1][1] = _key_of(last_string)
        elif token == "," and stack and stack[-1][0] == "[" and isinstance(stack[-1][1], int):
            stack[-1][1] += 1
    return None


def _key_of(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token.strip('"')


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"第 {line} 行第 {col} 列 (line {line}, column {col})"


# ──────────────────────────────── every value, after parsing ─────────────────────────────────────


def limit_problems(data: Any, titles: Titles = lambda loc: TITLE, *, max_text: int | None = None) -> list[Problem]:
    """Every value beyond a limit, with its JSON path and Chinese title; at most MAX_PROBLEMS of them.
    `max_text` bounds the characters of all strings together (None: no bound)."""
    problems: list[Problem] = []
    for loc, message, value in _walk(data, ()):
        problems.append(Problem(json_path(loc), titles(loc) or TITLE, message, value))
        if len(problems) >= MAX_PROBLEMS:
            return problems
    total = text_chars(data) if max_text is not None else 0
    if max_text is not None and total > max_text:
        problems.append(Problem("$", TITLE, f"全部文字共 {total:,} 个字符，超过 {max_text:,} 个字符的上限；请把长篇材料作为附件 "
                                f"(more than {max_text:,} characters of text in all)", f"{total:,} 字符"))
    return problems


def text_chars(data: Any) -> int:
    """The characters of every string (keys included) in parsed JSON."""
    if isinstance(data, str):
        return len(data)
    if isinstance(data, dict):
        return sum(len(key) + text_chars(value) for key, value in data.items())
    if isinstance(data, list):
        return sum(text_chars(item) for item in data)
    return 0


def parse_limited(text: str, titles: Titles = lambda loc: TITLE, *, parse_int: Callable[[str], Any] = read_number,
                  max_text: int | None = None) -> tuple[Any, list[Problem]]:
    """Parse JSON text under every limit of this module: (data, []) or (None, the problems).
    For JSON that is not a case file (a draw record); the case loader (generator.loading) adds its own
    messages. Numbers are exact Decimals unless `parse_int` says otherwise; NaN / Infinity refused."""
    if len(text) > MAX_FILE_BYTES:
        return None, [Problem("$", TITLE, f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB (larger than {MAX_FILE_BYTES} bytes)",
                              f"{len(text)} 字符")]
    deep = nesting_problem(text, titles)
    if deep is not None:
        return None, [deep]

    def constant(name: str) -> Any:
        raise ValueError(f"JSON 中不允许 {name} (NaN/Infinity)")

    try:
        data = json.loads(text, parse_float=read_number, parse_int=parse_int, parse_constant=constant,
                          object_pairs_hook=read_object)
    except json.JSONDecodeError as exc:
        return None, [Problem("$", TITLE, f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列 ({exc.msg})", None)]
    except (ValueError, RecursionError) as exc:
        return None, [Problem("$", TITLE, str(exc) if isinstance(exc, ValueError) else "嵌套过深 (nested too deep)", None)]
    problems = limit_problems(data, titles, max_text=max_text)
    return (None, problems) if problems else (data, [])


def read_whole_number(literal: str) -> int | OversizeNumber:
    """A parse_int for JSON whose integers are plain ints (draw numbers): never converts a huge literal."""
    if len(literal) > MAX_NUMBER_CHARS:
        return OversizeNumber(literal)
    return int(literal)


_Found = tuple[tuple[str | int, ...], str, str]


def _walk(value: Any, loc: tuple[str | int, ...]) -> Iterator[_Found]:
    if isinstance(value, dict):
        for key, values in getattr(value, "duplicates", {}).items():
            written = " / ".join(shown(str(v), 20) for v in values)
            yield (*loc, shown(key)), f"键重复出现 {len(values)} 次，只能出现一次 (duplicate key)", written
        for key, item in value.items():
            if len(key) > MAX_KEY_CHARS or _SURROGATE.search(key):
                yield from _string_problems(key, loc, what="键名", limit=MAX_KEY_CHARS)
                continue  # the key itself cannot name a path
            yield from _walk(item, (*loc, key))
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            yield loc, f"列表超过 {MAX_LIST_ITEMS} 项 (more than {MAX_LIST_ITEMS} items)", f"{len(value)} 项"
        for index, item in enumerate(value[:MAX_LIST_ITEMS]):
            yield from _walk(item, (*loc, index))
    elif isinstance(value, str):
        yield from _string_problems(value, loc, what="文字", limit=MAX_STRING_CHARS)
    elif isinstance(value, OversizeNumber):
        yield loc, f"数字超过 {MAX_NUMBER_CHARS} 个字符 (number literal too long)", shown(value.literal, MAX_NUMBER_CHARS)
    elif isinstance(value, Decimal):
        message = number_problem(value)
        if message:
            yield loc, message, str(value)


def _string_problems(text: str, loc: tuple[str | int, ...], *, what: str, limit: int) -> Iterator[_Found]:
    if len(text) > limit:
        yield loc, f"{what}超过 {limit} 个字符 (more than {limit} characters)", shown(text, 40)
    found = _SURROGATE.search(text)
    if found:
        yield loc, (f"{what}含有孤立的代理字符 \\u{ord(found.group()):04x}，不是有效的 Unicode 字符 "
                    "(lone surrogate)"), shown(text)


def number_problem(value: Decimal) -> str | None:
    """Why a number is beyond the limits, or None. Cheap for any exponent (no conversion to int)."""
    if not value.is_finite():
        return "不是有限数 (not a finite number)"
    if value and value.adjusted() >= MAX_NUMBER.adjusted():
        return f"数值过大，应小于 {MAX_NUMBER:,} (must be below 10^12)"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        return f"小数位数过多，最多 {MAX_DECIMAL_PLACES} 位 (more than {MAX_DECIMAL_PLACES} decimal places)"
    return None


def product_problems(losses: list[Any], model: Any) -> list[Problem]:
    """A loss's quantity × unit price (7.2, 7.3) must stay below MAX_NUMBER, as every amount does.

    `losses` are the case's validated losses, `model` the case model (for the Chinese titles).
    """
    problems: list[Problem] = []
    for index, loss in enumerate(losses):
        product = loss.quantity * loss.unit_price
        if product >= MAX_NUMBER:
            problems.append(problem_at(model, f"$.losses[{index}].unit_price",
                                       f"核损数量 × 核损单价 = {product:.4E}，应小于 {MAX_NUMBER:,} "
                                       "(quantity × unit price must be below 10^12)", str(loss.unit_price)))
    return problems
