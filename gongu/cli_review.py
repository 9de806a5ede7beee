"""`gongu check`, `gongu review`, `gongu issue`: the quality review (9.3) and issuance on the command line.

Exit codes: check — 0 no blocking finding, 1 blocking findings, 2 invalid input. review — 0 recorded,
2 invalid input or a decision refused. issue — 0 issued, 1 refused because the case is not ready
(every reason listed), 2 invalid input or usage (e.g. --reissue without --reason, a file already there).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from generator.casefile import atomic_write, read_case_data, write_case_data
from generator.issuance import IssueRefused
from generator.loading import CaseFileError
from generator.model import REVIEW_LEVEL_TITLES, Review, ReviewDecision, ReviewLevel
from generator.qc_sheet import render_qc_sheet
from generator.review import LEVELS, check_new_review, review_state
from generator.rules import Finding, Stage, run_rules
from generator.rules.registry import SEVERITY_TITLES, clause_key
from generator.types import SHANGHAI
from gongu.cli import CaseArg, app, load_or_exit
from gongu.output import console, err_console, print_problems


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err_console.print(f"[bold red]错误[/]：--today 应为日期 YYYY-MM-DD，收到 {value!r}")
        raise typer.Exit(2) from None


@app.command()
def check(
    case_file: CaseArg,
    as_json: Annotated[bool, typer.Option("--json", help="输出机器可读的 JSON")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="写出可打印的品质审核表（HTML）")] = None,
    today: Annotated[str | None, typer.Option("--today", help="判断逾期的基准日 YYYY-MM-DD，缺省为报告日期")] = None,
    stage: Annotated[str, typer.Option("--stage", help="review 审核中 | issue 出具前 | archive 归档前")] = "issue",
) -> None:
    """品质审核（9.3）：按条款列出案件文件的缺项；有阻止出具的问题时以 1 退出。"""
    if stage not in ("review", "issue", "archive"):
        err_console.print(f"[bold red]错误[/]：--stage 应为 review、issue 或 archive，收到 {stage!r}")
        raise typer.Exit(2)
    the_day = _parse_date(today)
    loaded = load_or_exit(case_file, as_json=as_json)
    case = loaded.case
    st: Stage = stage  # type: ignore[assignment]
    findings = run_rules(case, today=the_day, stage=st, case_dir=loaded.source.parent)  # photos too (5.3.1 d)
    blocking = [f for f in findings if f.blocking]
    if html is not None:
        text = render_qc_sheet(case, today=the_day, stage=st, findings=findings)
        atomic_write(html, text.encode("utf-8"))
    if as_json:
        payload = {"file": str(case_file), "case_id": case.case_id, "stage": stage,
                   "today": (the_day or case.report.issued_on).isoformat(), "blocking": len(blocking),
                   "warnings": len(findings) - len(blocking), "findings": [f.as_dict() for f in findings]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_findings(str(case_file), findings)
        if html is not None:
            console.print(f"品质审核表 → {html}")
    raise typer.Exit(1 if blocking else 0)


def _print_findings(source: str, findings: list[Finding]) -> None:
    if not findings:
        console.print(f"[green]✓[/] {source}：未发现缺项")
        return
    by_clause: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_clause[f.clause].append(f)
    n_block = sum(1 for f in findings if f.blocking)
    table = Table(title=f"{source}：阻止出具 {n_block} 项，提示 {len(findings) - n_block} 项", show_lines=True)
    table.add_column("条款", no_wrap=True)
    table.add_column("级别", no_wrap=True)
    table.add_column("问题", overflow="fold")
    table.add_column("JSON 路径", overflow="fold")
    for clause in sorted(by_clause, key=clause_key):
        for i, f in enumerate(by_clause[clause]):
            style = "bold red" if f.blocking else "yellow"
            table.add_row(clause if i == 0 else "", f"[{style}]{SEVERITY_TITLES[f.severity]}[/]", f.message, f.path)
    console.print(table)


@app.command()
def review(
    case_file: CaseArg,
    level: Annotated[ReviewLevel, typer.Option("--level", help="proofread 校对 | recheck 复核 | approve 审核")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="审核人姓名")],
    decision: Annotated[ReviewDecision, typer.Option("--decision", help="approve 通过 | return 退回")],
    comment: Annotated[str | None, typer.Option("--comment", help="审核说明")] = None,
    at: Annotated[str | None, typer.Option("--at", help="审核时间 ISO 8601，缺省为现在（北京时间）")] = None,
) -> None:
    """记录一级审核意见（9.3）：写入案件文件的 reviews；不合规的审核被拒绝并说明原因（退出码 2）。"""
    loaded = load_or_exit(case_file)
    raw_review = {"level": level.value, "reviewer": reviewer, "decision": decision.value,
                  "at": at or datetime.now(SHANGHAI).isoformat(timespec="seconds")}
    if comment:
        raw_review["comment"] = comment
    try:
        new = Review.model_validate(raw_review)
    except ValidationError as exc:
        for err in exc.errors():
            err_console.print(f"[bold red]错误[/]：{'.'.join(map(str, err['loc']))}：{err['msg']}（{err.get('input')!r}）")
        raise typer.Exit(2) from None
    reasons = check_new_review(loaded.case, new)
    if reasons:
        err_console.print(f"[bold red]审核意见未记录[/]（{REVIEW_LEVEL_TITLES[level]}，{reviewer}）：")
        for reason in reasons:
            err_console.print(f"  • {reason}")
        raise typer.Exit(2)
    data = read_case_data(loaded)
    data.setdefault("reviews", []).append(raw_review)
    try:
        written = write_case_data(case_file, data)
    except CaseFileError as exc:
        print_problems(exc.source, exc.problems)
        raise typer.Exit(2) from None
    state = review_state(written.case)
    done = "、".join(REVIEW_LEVEL_TITLES[lv] for lv in LEVELS if lv in state.approved) or "无"
    verb = "通过" if decision == ReviewDecision.approve else "退回（案件重新打开，须重新经三级审核）"
    console.print(f"[green]✓[/] 已记录：{REVIEW_LEVEL_TITLES[level]} {reviewer} {verb}；本轮已通过：{done}")


@app.command("issue")
def issue_command(
    case_file: CaseArg,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出目录，缺省 GONGU_HOME/issued/<案件编号>/")] = None,
    reissue: Annotated[bool, typer.Option("--reissue", help="重新出具（编号加 R1、R2 …，替代上一份报告）")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="重新出具原因")] = None,
) -> None:
    """出具公估报告：三级审核通过且无阻止出具的问题时生成最终报告，否则列出全部原因并以 1 退出。"""
    from generator.render import RenderError
    from gongu.issuing import IssueFileExists, issue_case

    if reissue and not (reason and reason.strip()):
        err_console.print("[bold red]错误[/]：重新出具须用 --reason 说明原因")
        raise typer.Exit(2)
    if reason and not reissue:
        err_console.print("[bold red]错误[/]：--reason 只用于 --reissue")
        raise typer.Exit(2)
    load_or_exit(case_file)  # invalid input → exit 2 with every problem
    try:
        result = issue_case(case_file, out_dir=output, reissue_reason=reason if reissue else None)
    except IssueRefused as exc:
        err_console.print(f"[bold red]不予出具[/]：{case_file}（{len(exc.reasons)} 项原因）")
        for r in exc.reasons:
            err_console.print(f"  • {r}")
        raise typer.Exit(1) from None
    except RenderError as exc:
        err_console.print(f"[bold red]报告生成失败[/]：{exc}")
        raise typer.Exit(2) from None
    except IssueFileExists as exc:
        err_console.print(f"[bold red]错误[/]：{exc}")
        raise typer.Exit(2) from None
    except CaseFileError as exc:
        print_problems(exc.source, exc.problems)
        raise typer.Exit(2) from None
    head = f"已出具报告 {result.number}" + (f"（替代 {result.supersedes}）" if result.supersedes else "")
    console.print(f"[green]✓[/] {head}")
    for kind, path in result.files.items():
        console.print(f"  {kind.upper()}: {path}")
    console.print(f"  品质审核表（仅供存档，不交付委托人）: {result.qc_sheet}")
