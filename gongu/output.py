"""Printing for people: problems as a table, user errors with exit code 2 and never a traceback."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from generator.problems import Problem

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class GonguError(Exception):
    """A problem the user can act on: printed plainly, exit code 2. The message is rich markup unless
    `plain` (then it may quote user text such as a gongu.toml value verbatim)."""

    plain: bool = False


def print_problems(source: str, problems: list[Problem], *, as_json: bool = False) -> None:
    if as_json:
        payload = {"file": source, "valid": False, "problems": [p.as_dict() for p in problems]}
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title=f"{source}：{len(problems)} 处问题", show_lines=False, expand=False)
    table.add_column("JSON 路径", overflow="fold")
    table.add_column("字段", overflow="fold")
    table.add_column("问题", overflow="fold")
    table.add_column("值", overflow="fold")
    for p in problems:
        table.add_row(p.path, p.title, p.message, "" if p.value is None else _short(p.value))
    err_console.print(table)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]错误[/]：{message}")
    raise typer.Exit(2)
