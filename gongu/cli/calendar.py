"""`gongu calendar check FILE` and `gongu calendar list`: the holiday-calendar year files that forensic
time limits count on (generator/forensic/holiday_calendar.py; docs/forensic.md, "Adding a year")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gongu.output import console, fail, print_table, text_column, whole_column

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

calendar_app = typer.Typer(help="节假日日历：官方年度文件（随软件提供 / 机构添加）与估算年份", no_args_is_help=True)
commands.add_typer(calendar_app, name="calendar")


@calendar_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="年度文件，如 2027.toml", show_default=False)],
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """校验一个年度文件：日期在该年内、无重复、同一天不能既放假又上班、来源已填写；有误时以 2 退出。"""
    from generator.forensic.holiday_calendar import CalendarFileError, estimated_year, parse_year_file

    try:
        year = parse_year_file(file)
    except CalendarFileError as exc:
        if as_json:
            console.print_json(json.dumps({"file": exc.path, "valid": False, "line": exc.line, "reason": exc.reason},
                                          ensure_ascii=False))
            raise typer.Exit(2) from None
        fail(escape(str(exc)))
    if as_json:
        console.print_json(json.dumps({"file": str(file), "valid": True, "year": year.year, "source": year.source,
                                       "holidays": len(year.holidays), "workdays": len(year.workdays),
                                       "sha256": year.sha256}, ensure_ascii=False))
        return
    estimate = estimated_year(year.year) if 1950 <= year.year <= 2099 else None
    differs = ""
    if estimate is not None:
        changed = sorted((year.holidays ^ estimate.holidays) | (year.workdays ^ estimate.workdays))
        differs = f"；与估算相比有 {len(changed)} 天不同" if changed else "；与估算相同"
    console.print(f"[green]✓[/] {escape(str(file))}：{year.year} 年，放假 {len(year.holidays)} 天，"
                  f"调休上班 {len(year.workdays)} 天{differs}；来源：{escape(year.source)}")
    console.print(f"  SHA-256 {year.sha256}；放入 gongu.toml \\[calendar] dir 所指的目录后生效")


@calendar_app.command("list")
def list_years(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出官方年份（随软件提供 / 机构添加）及其来源；其余年份按估算计算。"""
    from generator.forensic.holiday_calendar import active_calendar

    calendar = active_calendar()
    years = [calendar.official[y] for y in sorted(calendar.official)]
    if as_json:
        console.print_json(json.dumps({"firm_dir": str(calendar.firm_dir) if calendar.firm_dir else None,
                                       "official": [{"year": y.year, "file": y.file, "shipped": y.shipped,
                                                     "source": y.source, "sha256": y.sha256} for y in years]},
                                      ensure_ascii=False))
        return
    table = Table(title="节假日日历（其余年份按估算计算，标“估算”）")
    whole_column(table, "年份")
    text_column(table, "来自")
    text_column(table, "来源")
    whole_column(table, "SHA-256（前 12 位）")
    for y in years:
        table.add_row(str(y.year), "随软件提供" if y.shipped else f"机构添加（{escape(str(calendar.firm_dir))}）",
                      escape(y.source), (y.sha256 or "")[:12])
    print_table(table)
