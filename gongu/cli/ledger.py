"""`gongu ledger export`: the work ledger of forensic appraisals (工作台账, Sichuan opinion 五(三)).

Reads the case file of every archive package (archive/package_format.py) and, with `--cases DIR`, the
case.json files of cases still in progress; only the forensic kind goes in (survey cases are counted
and skipped). The rows are gongu/pipeline/ledger.py, the file bytes gongu/pipeline/ledger_export.py; the file is
written atomically (generator/atomic.py) or not at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from gongu.output import GonguError, console, err_console, fail, print_problems

if TYPE_CHECKING:  # the ledger (case models, openpyxl) loads with `gongu ledger export`
    from gongu.pipeline.ledger import Ledger, LedgerCase

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

ledger_app = typer.Typer(help="涉保司法鉴定工作台账（川司鉴协〔2022〕7号 五（三））", no_args_is_help=True)
commands.add_typer(ledger_app, name="ledger")


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} 不是有效的日期，应为 YYYY-MM-DD（如 2026-03-01）：{escape(value)!r}")


def _read(read: Callable[[Path], tuple[list[LedgerCase], int]], where: Path) -> tuple[list[LedgerCase], int]:
    from gongu.pipeline.ledger_sources import LedgerSourceError

    try:
        return read(where)
    except LedgerSourceError as exc:
        if exc.problems:
            print_problems(exc.source, exc.problems)
        fail(escape(exc.message))


def _from_cases_dir(folder: Path) -> tuple[list[LedgerCase], int]:
    from gongu.pipeline.ledger_sources import cases_from_folder

    return _read(cases_from_folder, folder)


def _from_archive() -> tuple[list[LedgerCase], int]:
    from gongu.pipeline.archiving import archive_config
    from gongu.pipeline.ledger_sources import cases_from_archive
    from gongu.settings import load_settings

    return _read(cases_from_archive, archive_config(load_settings()).root)


def _format_for(fmt: str | None, output: Path | None) -> str:
    from gongu.pipeline.ledger_export import FORMATS

    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    if fmt is None:
        return suffix if suffix in FORMATS else "xlsx"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        fail(f"--format 只能是 {' 或 '.join(FORMATS)}：{escape(fmt)!r}")
    return fmt


@ledger_app.command("export")
def export_cmd(
    from_: Annotated[str, typer.Option("--from", help="起始日期 YYYY-MM-DD（含），按收到委托的北京日期", show_default=False)],
    to: Annotated[str, typer.Option("--to", help="结束日期 YYYY-MM-DD（含），按收到委托的北京日期", show_default=False)],
    fmt: Annotated[str | None, typer.Option("--format", help="xlsx 或 csv；缺省按 -o 的扩展名，否则 xlsx",
                                            show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出文件；缺省为 ledger-起始-结束.格式",
                                                show_default=False)] = None,
    cases: Annotated[Path | None, typer.Option("--cases", help="在办案件文件夹（递归查找 case.json）",
                                               show_default=False)] = None,
    background: Annotated[bool, typer.Option("--background", help="作为后台任务执行：立即返回任务编号（gongu jobs show 查看，gongu worker 执行）")] = False,
) -> None:
    """导出涉保司法鉴定工作台账：每件一行（委托方式、机构选择、保险机构通知与到场、回避、复核、
    鉴定结果、时限、延长、重新鉴定与争议）。

    收录范围：收到委托日期（北京日期）在 --from 与 --to 之间（两端都含）的司法鉴定案件，
    来自档案中的档案包和 --cases 文件夹中的在办案件；公估案件不收录。同一案件编号以档案中的为准。
    """
    from generator.atomic import atomic_write
    from gongu.pipeline.ledger import build_ledger
    from gongu.pipeline.ledger_export import to_csv, to_xlsx

    start, end = _date(from_, "--from"), _date(to, "--to")
    if start > end:
        fail(f"--from {start.isoformat()} 晚于 --to {end.isoformat()}")
    kind = _format_for(fmt, output)
    target = output or Path(f"ledger-{start.isoformat()}-{end.isoformat()}.{kind}")
    if background:
        from gongu.cli.jobs import start_background

        if target.is_dir():
            fail(f"-o 是一个文件夹：{escape(str(target))}")
        start_background("ledger_export", {"from": start.isoformat(), "to": end.isoformat(), "format": kind,
                                           "output": str(target.resolve()),
                                           "cases": str(cases.resolve()) if cases else None})
    try:
        archived, skipped_archive = _from_archive()
    except GonguError as exc:  # bad gongu.toml: a plain message, exit 2
        fail(escape(str(exc)))
    in_progress, skipped_cases = _from_cases_dir(cases) if cases is not None else ([], 0)
    ledger: Ledger = build_ledger([*archived, *in_progress], start, end)
    data = to_csv(ledger.rows) if kind == "csv" else to_xlsx(ledger.rows, period=f"{start}—{end}")
    if target.is_dir():
        fail(f"-o 是一个文件夹：{escape(str(target))}")
    try:
        atomic_write(target, data)
    except OSError as exc:
        fail(f"无法写入 {escape(str(target))}：{escape(exc.strerror or str(exc))}")
    for warning in ledger.warnings:
        err_console.print(f"[yellow]注意[/]：{escape(warning)}")
    archived_rows = sum(1 for r in ledger.rows if r.source == "档案")
    skipped = skipped_archive + skipped_cases
    note = f"，跳过非司法鉴定案件 {skipped} 件" if skipped else ""
    console.print(f"工作台账 {start}—{end}：{len(ledger.rows)} 件（档案 {archived_rows}，在办 "
                  f"{len(ledger.rows) - archived_rows}）{note} → {escape(str(target))}")
