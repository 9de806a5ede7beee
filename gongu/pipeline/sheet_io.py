"""One list of a case file as an Excel sheet and back: columns from the model, cells written so Excel shows
numbers as numbers and dates as dates, cells read back into the JSON values the case file stores.

Exactness first (money is exact everywhere in Gongu): a number is written as a number cell only when the
double Excel keeps holds it exactly, otherwise as text; a number cell is read as the shortest decimal
that is exactly its double (never a longer binary expansion), padded to the decimals its number format
shows; text is kept as typed (surrounding spaces dropped, as the model drops them). The bytes are hostile:
size, unpacked size and row count are bounded before and while reading, and read_only mode streams the
sheet. No formula is evaluated: a formula's cached value is read, and a formula without one is refused.
"""

from __future__ import annotations

import io
import re
import types
import typing
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from generator.loading import MESSAGES  # the words `gongu validate` uses, not a copy of them
from generator.problems import Problem

MAX_XLSX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # a 5,000-line list unpacks to a few MiB; a zip bomb to gigabytes
MAX_ROWS = 5_000  # data rows below the header
FILE_TITLE = "Excel 文件"
OPTIONS_SHEET = "选项"  # hidden: the lists the drop-downs offer (an inline list is limited to 255 characters)
YES, NO = "是", "否"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DAY_FORMAT = "yyyy-mm-dd"
MISSING: Any = object()  # a blank cell: the key is left out, as the case files leave out absent values
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_VALUE_TAG = re.compile(rb"<(?:\w+:)?(?:v|is|f)[\s>/]")  # a cell's value, inline text or formula
_NAIVE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
_WHOLE = re.compile(r"-?(?:0|[1-9]\d*)")


class SheetRefused(Exception):
    """The sheet was not taken; `problems` names each row and column (`损失清单 第 5 行 G 列`) with the
    column's Chinese title. Reading is a pure function, so a refused sheet changes nothing."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


@dataclass(frozen=True)
class Column:
    key: str  # the JSON key
    title: str  # the model field's Chinese title, the header text
    kind: str  # text | ref | enum | flag | number | whole | time | day
    required: bool
    choices: tuple[tuple[str, Any], ...] = ()  # (shown in the cell, JSON value) for ref / enum / flag
    default: Any = None  # the model's default, said in the 说明 sheet
    width: int = 14

    def shown(self, value: Any) -> Any:
        for label, stored in self.choices:
            if stored == value and type(stored) is type(value):
                return label
        return value

    def stored(self, text: str) -> Any:
        """The JSON value a cell's text stands for: a label, or the stored value typed directly."""
        for label, stored in self.choices:
            if text == label:
                return stored
        for _label, stored in self.choices:
            if text == stored:
                return stored
        return MISSING


@dataclass
class Sheet:
    """A sheet to write: its columns and the JSON objects of its rows."""

    name: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    lists: dict[str, str] = field(default_factory=dict)  # JSON key → a drop-down's source range in another sheet


# ─────────────────────────────────── columns from the model ───────────────────────────────────


def model_columns(model: type[BaseModel], *, skip: tuple[str, ...] = (), refs: dict[str, list[tuple[str, str]]] | None = None,
                  enum_titles: dict[type[Enum], dict[Any, str]] | None = None) -> list[Column]:
    """One column per field of `model`, in model order; `refs` gives the (label, id) choices of a field that
    names another list's item, `enum_titles` the Chinese title of each enum value."""
    refs = refs or {}
    enum_titles = enum_titles or {}
    columns: list[Column] = []
    for key, info in model.model_fields.items():
        if key in skip:
            continue
        base = _base_type(info.annotation)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        choices: tuple[tuple[str, Any], ...] = ()
        if key in refs:
            kind, choices = "ref", tuple(refs[key])
        elif isinstance(base, type) and issubclass(base, Enum):
            titles = enum_titles.get(base, {})
            kind, choices = "enum", tuple((titles.get(member, member.value), member.value) for member in base)
        elif base is bool:
            kind, choices = "flag", ((YES, True), (NO, False))
        elif base is Decimal:
            kind = "number"
        elif base is int:
            kind = "whole"
        elif base is datetime:
            kind = "time"
        elif base is date:
            kind = "day"
        elif base is str:
            kind = "text"
        else:
            raise TypeError(f"{model.__name__}.{key}: no sheet column for {info.annotation!r}")
        width = 30 if kind in ("text", "ref") and key not in ("id", "unit") else 14
        columns.append(Column(key, info.title or key, kind, info.is_required(), choices, default, width))
    return columns


def _base_type(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(inner[0]) if len(inner) == 1 else annotation
    return annotation


def ref_choices(items: Any, name_key: str = "name") -> list[tuple[str, str]]:
    """(label, id) for the objects of a raw list: "A1 建筑工程" reads back as A1, and so does "A1". A label
    that is some other item's id would read back as that item, so such an item is offered by id alone."""
    objects = items if isinstance(items, list) else []
    pairs = [(item["id"], item.get(name_key)) for item in objects if isinstance(item, dict) and isinstance(item.get("id"), str)]
    ids = {item_id for item_id, _ in pairs}
    out: list[tuple[str, str]] = []
    for item_id, name in pairs:
        label = f"{item_id} {name}".strip() if isinstance(name, str) and name.strip() else item_id
        out.append((item_id if label in ids and label != item_id else label, item_id))
    return out


# ─────────────────────────────────────────── writing ───────────────────────────────────────────


def write_workbook(sheets: list[Sheet], notes: list[list[str]], notes_name: str = "说明") -> bytes:
    """The .xlsx bytes: each sheet with a bold frozen header and drop-downs; the notes sheet; the lists."""
    wb = Workbook()
    default = wb.active
    options = wb.create_sheet(OPTIONS_SHEET)
    option_column = 0
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        ws.append([c.title for c in sheet.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row_number, row in enumerate(sheet.rows, start=2):
            for col_number, column in enumerate(sheet.columns, start=1):
                value = row.get(column.key, MISSING) if isinstance(row, dict) else MISSING
                if value is not MISSING and value is not None:
                    _write_cell(ws.cell(row=row_number, column=col_number), column, value)
        for col_number, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(col_number)
            ws.column_dimensions[letter].width = column.width
            target = f"{letter}2:{letter}{MAX_ROWS + 1}"
            source = sheet.lists.get(column.key)
            if column.choices:
                option_column += 1
                source_ref = _write_options(options, option_column, column)
                if source_ref:
                    _add_validation(ws, target, column, source_ref)
            elif isinstance(source, str):
                _add_validation(ws, target, column, source)
            elif column.kind in ("number", "whole"):
                dv = DataValidation(type="decimal" if column.kind == "number" else "whole", operator="greaterThanOrEqual",
                                    formula1="0", allow_blank=True, showErrorMessage=True, errorStyle="warning",
                                    errorTitle=column.title, error="应为不小于 0 的数字")
                dv.add(target)
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    notes_ws = wb.create_sheet(notes_name)
    for line in notes:
        notes_ws.append([_safe_text(text) for text in line])
        for cell in notes_ws[notes_ws.max_row]:
            cell.data_type = "s"
            # A line of one cell is a sentence that runs on across the empty cells beside it.
            cell.alignment = Alignment(wrap_text=len(line) > 1, vertical="top")
    for cell in notes_ws[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (6, 16, 6, 48, 48, 16, 14), strict=False):
        notes_ws.column_dimensions[letter].width = width
    wb.remove(default)
    wb.move_sheet(options, offset=len(wb.sheetnames))
    options.sheet_state = "hidden"
    wb.active = 0
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _write_options(options: Worksheet, index: int, column: Column) -> str | None:
    if not column.choices:
        return None
    options.cell(row=1, column=index, value=_safe_text(column.title)).data_type = "s"
    for row, (label, _stored) in enumerate(column.choices, start=2):
        options.cell(row=row, column=index, value=_safe_text(label)).data_type = "s"
    letter = get_column_letter(index)
    return f"{quote_sheetname(OPTIONS_SHEET)}!${letter}$2:${letter}${len(column.choices) + 1}"


def _add_validation(ws: Worksheet, target: str, column: Column, formula: str) -> None:
    # A warning, not a stop: a value outside the list (a new item not yet in the policy) can still be
    # typed, and the upload names it instead of Excel silently refusing it.
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True, errorStyle="warning",
                        errorTitle=column.title, error="不在可选范围内，上传时将被拒绝")
    dv.add(target)
    ws.add_data_validation(dv)


def _write_cell(cell: Any, column: Column, value: Any) -> None:
    if column.kind == "flag" and isinstance(value, bool):
        cell.value = YES if value else NO
    elif column.kind == "number":
        number = _exact_double(value)
        if number is None:
            cell.value = _safe_text(str(value))
            cell.data_type = "s"
        else:
            cell.value, places = number
            cell.number_format = "#,##0" + ("." + "0" * places if places else "")
    elif column.kind == "whole" and isinstance(value, int) and not isinstance(value, bool):
        cell.value = value
    elif column.kind in ("time", "day") and isinstance(value, str) and _as_date_cell(column.kind, value) is not None:
        cell.value = _as_date_cell(column.kind, value)
        cell.number_format = TIME_FORMAT if column.kind == "time" else DAY_FORMAT
    else:
        shown = column.shown(value)
        cell.value = _safe_text(shown if isinstance(shown, str) else str(shown))
        cell.data_type = "s"  # text as typed: openpyxl would take "=…" for a formula


def _exact_double(value: Any) -> tuple[int | float, int] | None:
    """(the number Excel stores, the decimals to show) when a double holds `value` exactly and reading it
    back gives the same text; None when it must be written as text to stay exact."""
    if isinstance(value, bool):
        return None
    text = str(value)
    if not _PLAIN_NUMBER.fullmatch(text) or text.startswith("-"):
        return None
    number = Decimal(text)
    places = -number.as_tuple().exponent if isinstance(number.as_tuple().exponent, int) else 0
    if places <= 0:
        whole = int(number)
        return (whole, 0) if abs(whole) < 2**53 else None
    double = float(number)
    return (double, places) if Decimal(repr(double)) == number and places <= 10 else None


def _as_date_cell(kind: str, value: str) -> datetime | date | None:
    """A date-time Excel shows as one and reads back as the same text: naive, whole seconds."""
    if kind == "time" and _NAIVE_TIME.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    if kind == "day" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _safe_text(text: str) -> str:
    """XML 1.0 cannot hold most control characters; U+FFFD marks where one was (the read-back differs, and
    the models refuse control characters in names anyway)."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


# ─────────────────────────────────────────── reading ───────────────────────────────────────────


@dataclass
class ReadSheet:
    """The cells of one sheet: header texts by column number and data rows by row number."""

    header_row: int
    header: dict[int, str]
    rows: list[tuple[int, dict[int, Any]]]  # (row number, column number → cell), blank rows left out
    problems: list[Problem]
    formulas: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, formula) without a value


def open_workbook(xlsx: bytes) -> tuple[Any, zipfile.ZipFile]:
    """The workbook (read_only, cached values) and its zip, or SheetRefused for anything not an .xlsx."""
    if len(xlsx) > MAX_XLSX_BYTES:
        raise SheetRefused([Problem(FILE_TITLE, FILE_TITLE, f"文件超过 {MAX_XLSX_BYTES // (1024 * 1024)} MiB "
                                    f"(larger than {MAX_XLSX_BYTES} bytes)", f"{len(xlsx)} 字节")])
    try:
        archive = zipfile.ZipFile(io.BytesIO(xlsx))
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise SheetRefused([Problem(FILE_TITLE, FILE_TITLE, f"解压后超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB "
                                        f"(unpacks to more than {MAX_UNPACKED_BYTES} bytes)", f"{unpacked} 字节")])
        return load_workbook(io.BytesIO(xlsx), read_only=True, data_only=True), archive
    except _BROKEN as exc:
        raise SheetRefused([not_xlsx(exc)]) from None


# Everything a broken or foreign file makes zipfile / openpyxl / the XML parser raise.
_BROKEN = (zipfile.BadZipFile, zipfile.LargeZipFile, InvalidFileException, KeyError, ValueError, TypeError, IndexError,
           AttributeError, OSError, EOFError, SyntaxError, zlib.error, NotImplementedError)


def not_xlsx(exc: BaseException) -> Problem:
    reason = type(exc).__name__
    return Problem(FILE_TITLE, FILE_TITLE, f"不是有效的 .xlsx 文件（或文件设有密码），请用 Excel 另存为 .xlsx 后上传 (not an xlsx workbook: {reason})",
                   None)


def read_sheet(wb: Any, archive: zipfile.ZipFile, xlsx: bytes, name: str) -> ReadSheet:
    """The header (first non-blank row) and the non-blank rows of sheet `name`; problems for a missing
    sheet, too many rows and formulas without a cached value. Raises SheetRefused for a broken file."""
    if name not in wb.sheetnames:
        found = "、".join(wb.sheetnames)
        return ReadSheet(0, {}, [], [Problem(name, "工作表", f"找不到工作表「{name}」(sheet not found)；文件中有：{found}", None)])
    ws = wb[name]
    ws.reset_dimensions()  # a writer's <dimension> may be wrong; read what the rows hold
    header_row, header, rows, problems = 0, {}, [], []
    formulas: list[tuple[int, int, str]] = []
    try:
        xml = archive.read(ws._worksheet_path)
        has_formulas = bool(_FORMULA_TAG.search(xml))
        valued: set[tuple[int, int]] = set()  # cells with a cached value, "" included (only with formulas)
        for cells in ws.iter_rows():
            row_number = next((cell.row for cell in cells if hasattr(cell, "row")), 0)
            limit = (header_row or 1) + MAX_ROWS
            if row_number > limit:
                # Styled empty rows can run to row 1,048,576: the rest is searched for a value, not parsed.
                if _VALUE_TAG.search(xml, _row_start(xml, row_number)):
                    problems.append(Problem(f"{name} 第 {limit + 1} 行", name, f"第 {limit} 行之后还有数据：超过 {MAX_ROWS} 行，"
                                            f"请分批上传 (more than {MAX_ROWS} rows below the header)", None))
                break
            if has_formulas:
                valued |= {(cell.row, cell.column) for cell in cells if cell.value is not None}
            filled = {cell.column: cell for cell in cells if cell.value is not None and not _blank(cell.value)}
            if not filled:
                continue
            if not header_row:
                header_row = row_number
                header = {col: _header_text(cell.value) for col, cell in filled.items()}
                continue
            rows.append((row_number, filled))
        if has_formulas:
            formulas = _formulas_without_value(xlsx, name, valued, header_row)
    except _BROKEN as exc:
        raise SheetRefused([not_xlsx(exc)]) from None
    return ReadSheet(header_row, header, rows, problems, formulas)


def _row_start(xml: bytes, row_number: int) -> int:
    found = re.search(rb'<(?:\w+:)?row\b[^>]*?\sr="%d"' % row_number, xml)
    return found.start() if found else len(xml)


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _header_text(value: Any) -> str:
    return " ".join(str(value).split())


def _formulas_without_value(xlsx: bytes, name: str, valued: set[tuple[int, int]], header_row: int) -> list[tuple[int, int, str]]:
    """A formula cell whose file holds no cached value reads as blank; it would silently drop a value.
    Only a sheet whose XML has a formula is read a second time, with formulas."""
    wb = load_workbook(io.BytesIO(xlsx), read_only=True, data_only=False)
    ws = wb[name]
    ws.reset_dimensions()
    found: list[tuple[int, int, str]] = []
    for cells in ws.iter_rows():
        for cell in cells:
            if getattr(cell, "data_type", None) != "f" or (cell.row, cell.column) in valued:
                continue
            if header_row and cell.row - header_row > MAX_ROWS:
                break
            found.append((cell.row, cell.column, str(cell.value)[:80]))
    wb.close()
    return found


def cell_value(column: Column, cell: Any) -> tuple[Any, str | None]:
    """(the JSON value, None) or (MISSING, why the cell cannot be read for this column)."""
    value = cell.value
    if getattr(cell, "data_type", None) == "e":
        return MISSING, f"单元格是错误值 {value} (an Excel error value)"
    if isinstance(value, str):
        text = value.strip()
        if column.kind == "whole" and _WHOLE.fullmatch(text):
            return int(text), None
        if column.kind in ("ref", "enum", "flag"):
            return _choice(column, text)
        return text, None
    if isinstance(value, bool):
        if column.kind == "flag":
            return value, None
        return (value, None) if column.kind in ("number", "whole") else ("TRUE" if value else "FALSE", None)
    if isinstance(value, int | float):
        text = number_text(value, getattr(cell, "number_format", "General"))
        if column.kind == "whole":
            return (int(Decimal(text)) if _WHOLE.fullmatch(text) else Decimal(text)), None
        if column.kind in ("ref", "enum", "flag"):
            return _choice(column, text)
        if column.kind in ("time", "day"):
            return Decimal(text), None  # the model says a number is not a date
        return text, None
    if isinstance(value, datetime | date | time | timedelta):
        return _date_value(column, value)
    return str(value), None


def _choice(column: Column, text: str) -> tuple[Any, str | None]:
    stored = column.stored(text)
    if stored is not MISSING:
        return stored, None
    if column.kind == "ref":
        return text, None  # an unknown id: the cross-check names it
    allowed = "、".join(label for label, _ in column.choices)
    return MISSING, f"{enum_message()}：{allowed}"


def enum_message() -> str:
    return MESSAGES["enum"]


def _date_value(column: Column, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, datetime):
        if value.microsecond:  # Excel keeps time as a fraction of a day: round off the binary noise
            value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        if column.kind != "time" and value.time() == time(0):  # a date Excel made of text typed as 5-8
            return value.date().isoformat(), None
        return value.isoformat(timespec="seconds"), None
    if isinstance(value, date):
        return (value.isoformat() if column.kind == "day" else f"{value.isoformat()}T00:00:00"), None
    if column.kind in ("time", "day"):
        return MISSING, "应为日期时间，不能只有时刻或时长 (a time of day or a duration is not a date)"
    return str(value), None


def number_text(value: int | float, number_format: str | None) -> str:
    """The shortest decimal that is exactly this cell's double, padded with zeros to the decimals the
    number format shows (28.5 shown as 28.50 → "28.50"); never rounded to what the format shows."""
    if isinstance(value, int):
        number = Decimal(value)
    else:
        try:
            number = Decimal(repr(value))
        except InvalidOperation:
            return repr(value)
        if not number.is_finite():
            return repr(value)
    places = shown_places(number_format or "General")
    exponent = number.as_tuple().exponent
    if places and isinstance(exponent, int) and -exponent < places:
        number = number.quantize(Decimal(1).scaleb(-places))
    return format(number, "f")


def shown_places(number_format: str) -> int:
    """Decimals an Excel number format always shows (`#,##0.00` → 2); 0 for General, percent, scientific,
    fractions and text, whose shown digits are not the stored decimals."""
    section = number_format.split(";")[0]
    section = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", section)
    if any(mark in section for mark in ("%", "E", "e", "/", "@")) or section.lower() == "general":
        return 0
    match = re.search(r"\.([0#?]+)", section)
    return match.group(1).count("0") if match else 0


def columns_of(header: dict[int, str], columns: list[Column], sheet: str, header_row: int,
               rows: list[tuple[int, dict[int, Any]]]) -> tuple[dict[int, Column], list[Problem]]:
    """Header cells matched to columns by title (any order); unknown, repeated and missing required
    columns are problems naming the header cell."""
    by_title = {column.title: column for column in columns}
    found: dict[int, Column] = {}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for col, text in sorted(header.items()):
        where = f"{sheet} 第 {header_row} 行 {get_column_letter(col)} 列"
        column = by_title.get(text)
        if column is None:
            allowed = "、".join(by_title)
            problems.append(Problem(where, text, f"未知的列标题，应为以下之一：{allowed} (unknown column)", text))
        elif text in seen:
            problems.append(Problem(where, text, f"列标题重复，与 {get_column_letter(seen[text])} 列相同 (duplicate column)", text))
        else:
            seen[text] = col
            found[col] = column
    used = {col for _, cells in rows for col in cells}
    for col in sorted(used - set(header)):
        letter = get_column_letter(col)
        problems.append(Problem(f"{sheet} 第 {header_row or 1} 行 {letter} 列", f"{letter} 列",
                                "该列有数据但没有列标题 (data in a column without a header)", None))
    for column in columns:
        if column.required and column.title not in seen:
            problems.append(Problem(f"{sheet} 第 {header_row or 1} 行", column.title, "缺少必填列 (required column missing)", None))
    return found, problems


def cells_in_order(row: dict[int, Any], found: dict[int, Column]) -> Iterator[tuple[int, Column, Any]]:
    for col in sorted(row):
        if col in found:
            yield col, found[col], row[col]


def where(sheet: str, row: int, col: int | None = None) -> str:
    """`损失清单 第 5 行 G 列`: how a problem names its cell."""
    return f"{sheet} 第 {row} 行" + (f" {get_column_letter(col)} 列" if col else "")


@dataclass
class Line:
    """One non-blank row read as the JSON object the case file stores (keys in model order)."""

    row: int
    values: dict[str, Any]
    cols: dict[str, int]  # JSON key → its column number (0: no such column), to name a problem's cell
    bad: set[str] = field(default_factory=set)  # keys whose cell could not be read (already a problem)


def read_lines(wb: Any, archive: zipfile.ZipFile, xlsx: bytes, sheet: str,
               columns: list[Column]) -> tuple[list[Line], list[Problem], bool]:
    """The rows of `sheet` as JSON objects, the problems of the sheet, its header and its cells, and
    whether the sheet was there at all. A key with a blank cell (or no column) is left out."""
    read = read_sheet(wb, archive, xlsx, sheet)
    if not read.header_row and read.problems:
        return [], read.problems, False
    found, problems = columns_of(read.header, columns, sheet, read.header_row, read.rows)
    problems += read.problems
    for row, col, formula in read.formulas:
        title = found[col].title if col in found else read.header.get(col, sheet)
        problems.append(Problem(where(sheet, row, col), title, "公式没有计算结果，请在 Excel 中打开、重新计算并保存后再上传 "
                                "(formula without a cached value)", formula))
    order = {column.key: index for index, column in enumerate(columns)}
    cols_of_key = {column.key: 0 for column in columns} | {column.key: col for col, column in found.items()}
    lines: list[Line] = []
    for row, cells in read.rows:
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for col, column, cell in cells_in_order(cells, found):
            value, why = cell_value(column, cell)
            if why is not None:
                bad.add(column.key)
                problems.append(Problem(where(sheet, row, col), column.title, why, shown_value(cell.value)))
            elif value is not MISSING:
                values[column.key] = value
        values = dict(sorted(values.items(), key=lambda item: order[item[0]]))
        lines.append(Line(row, values, cols_of_key, bad))
    return lines, problems, True


def shown_value(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date | time | timedelta):
        return str(value)
    return value
