"""`gongu remind`: run the daily deadline scan now (gongu/pipeline/reminders.py) and print what was sent,
or with --dry-run what would be. Exit 1 when a digest could not be sent (its reminders stay unsent and
the next scan that day sends them); exit 2 for bad settings."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gongu.output import console, print_table, text_column, whole_column

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root


@commands.command()
def remind(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只列出将要发送的提醒，不记录、不发送")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """立即运行每日到期扫描：每人一份逾期与一日内到期的待办提醒（配置了 [mail] 且账户有邮箱时发电子邮件，否则只在
    「我的待办」页面显示）；同一步骤每天只提醒一次。"""
    from generator.clock import SYSTEM_CLOCK
    from gongu.pipeline.archiving import open_store
    from gongu.pipeline.reminders import daily_scan
    from gongu.settings import load_settings

    settings = load_settings()
    catalog = open_store(settings)
    try:
        result = daily_scan(settings, catalog, SYSTEM_CLOCK.now(), dry_run=dry_run)
    finally:
        catalog.close()
    if as_json:
        console.print_json(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        _print(result)
    if result.failed:
        raise typer.Exit(1)


def _print(result) -> None:  # noqa: ANN001 — gongu.pipeline.reminders.ScanResult
    verb = "将" if result.dry_run else "已"
    mail = "已配置 [mail]" if result.mail_configured else "未配置 [mail]：提醒只在「我的待办」页面显示"
    console.print(escape(f"{result.day:%Y-%m-%d} 到期扫描（{result.at:%H:%M}，{mail}）"))
    if not result.digests:
        console.print(f"没有新的提醒（今天已提醒过的 {result.already} 项不再重复）" if result.already else "没有逾期或一日内到期的待办")
    for digest in result.digests:
        if digest.error is not None:
            state = f"[red]发送失败[/]：{escape(digest.error)}（未标记为已发送，下次扫描重发）"
        elif digest.channel == "mail":
            state = f"{verb}发送邮件至 {escape('、'.join(digest.to))}"
        else:
            state = f"{verb}记录于待办页面"
        console.print(f"\n[bold]{escape(digest.person)}[/]：{len(digest.items)} 项，{state}")
        table = Table()
        whole_column(table, "案件")
        text_column(table, "步骤")
        whole_column(table, "到期")
        whole_column(table, "剩余")
        text_column(table, "依据")
        for r in digest.items:
            due = f"{r.due_at:%Y-%m-%d %H:%M}" if r.due_at else "未定"
            left = f"[red]{escape(r.time_left)}[/]" if r.overdue else escape(r.time_left)
            table.add_row(escape(r.case_id), escape(r.stage_title), due, left, escape(r.clause))
        print_table(table)
    if result.skipped:
        console.print(escape(f"\n无人承办、未提醒的步骤：{'、'.join(result.skipped)}"))
    if result.already and result.digests:
        console.print(f"今天已提醒过的 {result.already} 项不再重复")
