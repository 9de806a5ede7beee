"""Printing for people: problems as a table, user errors with exit code 2 and never a traceback.

Two promises hold for every command:
- output never crashes on text that is not valid Unicode (a lone surrogate such as `\\ud800`, or a file
  name that is not UTF-8): `safe_streams` writes such a character as its `\\uXXXX` escape, which inside a
  `--json` string is exactly the JSON escape for it, so the JSON stays valid and UTF-8;
- a table never breaks a JSON path, amount, number, identifier or date across lines: those columns are
  `whole_column`s, the text columns wrap instead, and `print_table` widens the table past the terminal
  (or, when piped, prints each row on one line) rather than cut a whole column;
- output that is not a terminal (a file, a pipe, `make demo | cat`) is never wrapped: each printed line
  stays one line, so a path, an amount or a report number is never split. On a terminal rich wraps
  at spaces, and a rule whose title does not fit prints the title under the line instead of cutting it.
"""

from __future__ import annotations

import io
import json
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:  # pydantic: loaded by the commands that print problems, not at every start-up
    from generator.problems import Problem


class GonguConsole(Console):
    """A rich Console that decides per print whether to wrap: on a terminal at its width, else not at all.

    Deciding per print (not once at start) follows the stream in use, e.g. a test runner's captured stdout.
    """

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        if soft_wrap is None and not self.is_terminal:
            soft_wrap = True  # no wrapping, no cropping: a line longer than the width stays whole
        super().print(*objects, soft_wrap=soft_wrap, **options)

    def rule(self, title: str | Text = "", *, characters: str = "─", style: str = "rule.line",
             align: Any = "center") -> None:
        """A rule; rich would cut a title wider than the line with "…", so such a title goes under it."""
        plain = title.plain if isinstance(title, Text) else Text.from_markup(title).plain
        if cell_len(plain) + RULE_TITLE_SPACE <= self.width:
            super().rule(title, characters=characters, style=style, align=align)
            return
        super().rule(characters=characters, style=style)
        self.print(title, style="rule.text")


# A centred rule title needs two cells of line and a space on each side.
RULE_TITLE_SPACE = 6

console = GonguConsole(highlight=False)
err_console = GonguConsole(stderr=True, highlight=False)


def safe_streams() -> None:
    """stdout and stderr write a character UTF-8 cannot hold (a lone surrogate) as `\\udXXX`, never crash."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


# When piped, rows print whole up to this width (rich would use 80 columns, or $COLUMNS).
PIPED_MAX_WIDTH = 400
# The narrowest a wrapping text column is made before the table is widened instead.
TEXT_MIN_WIDTH = 8


def whole_column(table: Table, header: str, **options: Any) -> None:
    """A column whose cells never break: JSON paths, amounts, numbers, identifiers, dates."""
    table.add_column(header, no_wrap=True, **options)


def text_column(table: Table, header: str = "", **options: Any) -> None:
    """A column of prose that may wrap (and fold a long Chinese run) to leave room for whole columns."""
    table.add_column(header, overflow="fold", **options)


def print_table(table: Table, *, to: Console | None = None) -> None:
    """Print `table` so that no whole (no_wrap) column is ever cut or folded.

    rich's own fallback, when a table is wider than the console, shrinks every column evenly and
    truncates no_wrap cells with "…". Here the text columns are narrowed first (to TEXT_MIN_WIDTH);
    if the whole columns still do not fit, the table is printed wider than the console. When the
    output is not a terminal each row is printed on one line (up to PIPED_MAX_WIDTH), so
    `gongu validate x.json | grep unit_price` finds the full path.
    """
    out = to or console
    measure = Measurement.get(out, out.options.update_width(10**6), table)
    natural = measure.maximum
    width = out.width if out.is_terminal else max(out.width, min(natural, PIPED_MAX_WIDTH))
    if natural > width:
        width = max(width, _fit_text_columns(out, table, width))
    if width == out.width:
        out.print(table)
        return
    wide = Console(file=out.file, width=width, highlight=False, force_terminal=out.is_terminal,
                   color_system=out.color_system, no_color=out.no_color, soft_wrap=False)  # type: ignore[arg-type]
    wide.print(table)


def _fit_text_columns(out: Console, table: Table, width: int) -> int:
    """Give the wrapping columns what the whole columns leave of `width`; return the width needed."""
    options = out.options.update_width(10**6)
    natural = [table._measure_column(out, options, column).maximum for column in table.columns]  # noqa: SLF001
    padding = [table._get_padding_width(column._index) for column in table.columns]  # noqa: SLF001
    text = [i for i, column in enumerate(table.columns) if not column.no_wrap and column.width is None]
    fixed = sum(natural[i] for i in range(len(natural)) if i not in text) + table._extra_width  # noqa: SLF001
    if not text:
        return fixed
    room = width - fixed - sum(padding[i] for i in text)
    floors = [min(natural[i] - padding[i], TEXT_MIN_WIDTH) for i in text]
    # Keep numbers inside the prose whole too when that still fits the console; else only the whole columns.
    keep_numbers = [max(floor, _longest_token(table.columns[i])) for floor, i in zip(floors, text, strict=True)]
    if sum(keep_numbers) <= room:
        floors = keep_numbers
    if room < sum(floors):
        for i, floor in zip(text, floors, strict=True):
            table.columns[i].width = floor
        return fixed + sum(floors) + sum(padding[i] for i in text)
    # Share the room in proportion to each text column's natural width, never below its floor.
    wants = [natural[i] - padding[i] for i in text]
    total = sum(wants)
    shares = [max(floor, room * want // total) for floor, want in zip(floors, wants, strict=True)]
    while sum(shares) > room:
        widest = max(range(len(shares)), key=lambda k: shares[k] - floors[k])
        shares[widest] -= 1
    for i, share in zip(text, shares, strict=True):
        table.columns[i].width = share
    return width


_DIGIT = re.compile(r"\d")
TOKEN_MAX_WIDTH = 24


def _longest_token(column: Column) -> int:
    """The widest word holding a digit (an amount, a number, an id, a date) in a text column's cells.

    rich wraps text at spaces and folds a longer word at the column's edge, so a column at least this
    wide never splits such a word (up to TOKEN_MAX_WIDTH cells).
    """
    widest = 0
    for cell in column.cells:
        plain = Text.from_markup(cell).plain if isinstance(cell, str) else ""
        widest = max([widest, *(cell_len(word) for word in plain.split() if _DIGIT.search(word))])
    return min(widest, TOKEN_MAX_WIDTH)


class GonguError(Exception):
    """A problem the user can act on: printed plainly (as text, never as rich markup: `[store]` in it
    prints as written), exit code 2. `plain` is kept for subclasses that said so before."""

    plain: bool = False


def print_problems(source: str, problems: list[Problem], *, as_json: bool = False, to: Console | None = None) -> None:
    """The problems of a case file: as JSON on stdout, or as a table (on stderr unless `to` says otherwise)."""
    if as_json:
        payload = {"file": source, "valid": False, "problems": [p.as_dict() for p in problems]}
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title=escape(f"{source}：{len(problems)} 处问题"), show_lines=False, expand=False)
    whole_column(table, "JSON 路径")
    text_column(table, "字段")
    text_column(table, "问题")
    text_column(table, "值")
    for p in problems:
        value = "" if p.value is None else _short(p.value)
        table.add_row(escape(p.path), escape(p.title), escape(p.message), escape(value))
    print_table(table, to=to or err_console)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]错误[/]：{message}")
    raise typer.Exit(2)
