"""`gongu queue`: the work queue of the workspace (gongu/pipeline/queue.py) — every open step of every case
in progress, who has it, when it falls due (clause cited) and the time left, overdue first; the same list
the web's 「我的待办」 shows, read from the due times the catalog keeps (archive/workspace_due.py); `--refresh`
computes them all again from the workspace's case files."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gongu.output import console, fail, print_table, text_column, whole_column

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

KINDS = {"car_survey": "公估", "forensic_appraisal": "司法鉴定"}


def _choice(value: str | None, allowed: dict[str, str], option: str) -> str | None:
    if value is None or value in allowed:
        return value
    fail(f"{option} 取值无效：{escape(value)!r}；可选：{escape('、'.join(f'{k}（{t}）' for k, t in allowed.items()))}")


@commands.command("queue")
def queue_cmd(
    ctx: typer.Context,
    person: Annotated[str | None, typer.Option("--person", help="只列此人（登记姓名）办理的步骤；--person '' 列未指派的审核步骤",
                                               show_default=False)] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="car_survey 或 forensic_appraisal", show_default=False)] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="步骤，如 contact、survey、proofread、appraisal",
                                              show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="按工作台中的案件文件重新计算全部在办案件的到期时间（记录于目录数据库）")] = False,
) -> None:
    """工作台待办：每件在办案件的每个未完成步骤，办理人、到期时间（注明条款）与剩余时间，逾期在前。"""
    from archive.catalog import CatalogError
    from generator.clock import SYSTEM_CLOCK, Clock
    from gongu.pipeline import queue as work_queue
    from gongu.pipeline.archiving import open_catalog
    from gongu.settings import load_settings

    kind = _choice(kind, KINDS, "--kind")
    stage = _choice(stage, work_queue.STAGES, "--stage")
    clock = ctx.obj if isinstance(ctx.obj, Clock) else SYSTEM_CLOCK  # tests pass a FixedClock; nothing else moves time
    settings = load_settings()
    try:
        with open_catalog(settings, check=False) as catalog:
            if refresh and catalog is not None:
                counted = work_queue.refresh_all(settings, catalog, clock.now())
                if not as_json:
                    console.print(f"已重新计算 {counted} 件在办案件的到期时间")
            items = ([] if catalog is None else
                     work_queue.open_steps(settings, catalog, now=clock.now(), person=person))
    except CatalogError as exc:
        fail(escape(str(exc)))
    items = [i for i in items if (kind is None or i.kind == kind) and (stage is None or i.stage == stage)]
    if as_json:
        console.print_json(json.dumps([work_queue.to_dict(i) for i in items], ensure_ascii=False))
        return
    if not items:
        console.print("没有待办事项")
        return
    table = Table(title=f"待办 {len(items)} 项（逾期 {sum(i.overdue for i in items)} 项）")
    whole_column(table, "案件编号")
    whole_column(table, "类型")
    text_column(table, "步骤")
    text_column(table, "办理人")
    whole_column(table, "到期时间")
    text_column(table, "剩余")
    whole_column(table, "条款")
    for i in items:
        due = i.due_at.strftime("%Y-%m-%d %H:%M") + ("（估算）" if i.estimated else "") if i.due_at else "—"
        left = work_queue.time_left(i)
        table.add_row(escape(i.case_id), KINDS.get(i.kind, i.kind), i.stage_title, escape(i.person or "未指派（按角色）"),
                      due, f"[bold red]{left}[/]" if i.overdue else left, i.clause)
    print_table(table)
