"""`gongu check`, `gongu review`, `gongu issue`: the quality review (9.3) and issuance on the command line.

Exit codes: check — 0 no blocking finding, 1 blocking findings, 2 invalid input. review — 0 recorded,
2 invalid input or a decision refused. issue — 0 issued, 1 refused because the case is not ready or no
signer is configured without --unsealed (every reason listed), 2 invalid input or usage (e.g. --reissue
without --reason, a file already there, a key or passphrase that cannot seal, another issuance of the case
holding the catalog's issue lock: 「正在出具」).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from generator.review_levels import ReviewDecision, ReviewLevel
from gongu.cli.common import CaseArg, load_or_exit
from gongu.output import GonguError, console, err_console, fail, print_problems, print_table, text_column, whole_column

if TYPE_CHECKING:  # the rules and case models load when a command runs, not to build the command tree
    from generator.kinds import Case
    from generator.loading import LoadedCase
    from generator.rules import Finding, Stage
    from gongu.pipeline.issued_opinion import IssuedReference
    from gongu.settings import Settings

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err_console.print(f"[bold red]错误[/]：--today 应为日期 YYYY-MM-DD，收到 {value!r}")
        raise typer.Exit(2) from None


@commands.command()
def check(
    case_file: CaseArg,
    as_json: Annotated[bool, typer.Option("--json", help="输出机器可读的 JSON")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="写出可打印的品质审核表（HTML）")] = None,
    today: Annotated[str | None, typer.Option("--today", help="判断逾期的基准日 YYYY-MM-DD，缺省为报告日期；--stage issue 时也是盖章出具之日，缺省为今天（北京时间）")] = None,
    stage: Annotated[str, typer.Option("--stage", help="review 审核中 | issue 下一次出具（首次、补充或重新出具）的全部条件，与 gongu issue 相同 | archive 归档前")] = "issue",
) -> None:
    """品质审核（9.3；司法鉴定按川司鉴协〔2022〕7号与《司法鉴定程序通则》）：按条款列出案件文件的缺项；有阻止出具的问题时以 1 退出。

    --stage issue（缺省）列出 gongu issue 据以拒绝的全部条件：尚未出具的案件按首次出具，司法鉴定意见书已出具且有新文书的按
    补充出具（--additional），其余按重新出具（--reissue）。"""
    from generator.casefile import atomic_write
    from generator.qc_sheet import render_qc_sheet
    from generator.rules import run_rules

    if stage not in ("review", "issue", "archive"):
        err_console.print(f"[bold red]错误[/]：--stage 应为 review、issue 或 archive，收到 {stage!r}")
        raise typer.Exit(2)
    the_day = _parse_date(today)
    loaded = load_or_exit(case_file, as_json=as_json)
    case = loaded.case
    st: Stage = stage  # type: ignore[assignment]
    reference = _issued_reference(loaded.case)
    issuance: dict[str, str] = {}
    if st == "issue":  # what `gongu issue` would refuse now: the one function both call
        findings, issuance = _issue_stage_findings(loaded, the_day, reference)
    else:
        # photos too (5.3.1 d); a forensic opinion already issued is what a later 补正 is held against (通则 Art 41)
        findings = run_rules(case, today=the_day, stage=st, case_dir=loaded.source.parent, issued=reference.opinion)
    blocking = [f for f in findings if f.blocking]
    if html is not None:
        text = render_qc_sheet(case, today=the_day, stage=st, findings=findings)
        atomic_write(html, text.encode("utf-8"))
    if as_json:
        payload = {"file": str(case_file), "case_id": case.case_id, "stage": stage,
                   "today": (the_day or case.report.issued_on).isoformat(), **issuance, "blocking": len(blocking),
                   "warnings": len(findings) - len(blocking), "findings": [f.as_dict() for f in findings],
                   "issued_opinion": reference.opinion.source if reference.opinion else None,
                   "issued_opinion_problems": reference.problems}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        if issuance:
            from gongu.pipeline.issuing import ISSUE_KIND_TITLES

            console.print(escape(f"出具条件：按下一次出具 {ISSUE_KIND_TITLES[issuance['issuance']]}，"
                                 f"盖章日期 {issuance['sealing_day']}（北京时间）"))
        _print_findings(str(case_file), findings)
        if reference.opinion is not None:
            console.print(f"已与已出具的鉴定意见书核对（通则第四十一条）：{escape(reference.opinion.source)}")
        for problem in reference.problems:
            err_console.print(f"[yellow]注意[/]：{escape(problem)}")
        if html is not None:
            console.print(f"品质审核表 → {html}")
    raise typer.Exit(1 if blocking else 0)


def _issue_stage_findings(loaded: LoadedCase, the_day: date | None,
                          reference: IssuedReference) -> tuple[list[Finding], dict[str, str]]:
    """The findings of the next issuance the case is ready for (gongu.pipeline.issuing.next_issuance: the first
    issue, a forensic case's additional issue, or a reissue), as `gongu issue` decides them, sealed on
    `--today` or else today (Beijing date of the one clock)."""
    from generator.casefile import read_case_data
    from generator.clock import SYSTEM_CLOCK
    from generator.issuance import IssueRefused
    from generator.loading import CaseFileError
    from generator.review import review_clause
    from generator.rules import Finding
    from generator.types import beijing_date
    from gongu.pipeline.issuing import issue_findings, next_issuance, staged_case
    from gongu.settings import load_settings

    settings = load_settings()
    sealing_day = the_day or beijing_date(SYSTEM_CLOCK.now())
    kind = next_issuance(loaded.case)
    case, data = loaded.case, read_case_data(loaded)
    if kind == "reissue":
        try:
            staged, data = staged_case(loaded, sealing_day, "（出具前检查）")
            case = staged.case
        except IssueRefused as exc:  # e.g. the next number already taken: what `gongu issue --reissue` says
            return ([Finding("issue.reissue", review_clause(loaded.case), "blocking", "$.issuances", r) for r in exc.reasons],
                    {"issuance": kind, "sealing_day": sealing_day.isoformat()})
        except CaseFileError as exc:  # the reissued file would be invalid (e.g. the number R1 too long)
            return ([Finding("issue.reissue", review_clause(loaded.case), "blocking", p.path,
                             f"重新出具后的案件文件无效：{p.title}：{p.message}", p.value) for p in exc.problems],
                    {"issuance": kind, "sealing_day": sealing_day.isoformat()})
    findings = issue_findings(case, data, settings, kind=kind, sealing_day=sealing_day,
                              case_dir=loaded.source.parent, today=the_day,  # photos too (5.3.1 d)
                              issued=reference.opinion)  # a later 补正 is held against it (通则 Art 41)
    return findings, {"issuance": kind, "sealing_day": sealing_day.isoformat()}


def _issued_reference(case: Case) -> IssuedReference:
    """The issued opinion of a forensic case already issued (gongu.pipeline.issued_opinion), looked for under the
    settings' GONGU_HOME only then: checking a case never issued needs no settings."""
    from generator.kinds import is_forensic
    from gongu.pipeline.issued_opinion import IssuedReference, find_issued_opinion, issued_primary
    from gongu.settings import load_settings

    if not is_forensic(case) or issued_primary(case) is None:
        return IssuedReference(None)
    try:
        settings = load_settings()
    except GonguError as exc:
        fail(escape(str(exc)))
    found = find_issued_opinion(case, settings)
    if found.opinion is None and not found.problems:
        where = settings.home / "issued" / case.case_id
        return IssuedReference(None, [f"未找到已出具的鉴定意见书 {case.report.number}（{where} 及档案中），"
                                      "未能核对补正是否改变鉴定意见（通则第四十一条）"])
    return found


def _print_findings(source: str, findings: list[Finding]) -> None:
    from generator.rules.registry import SEVERITY_TITLES, clause_key

    if not findings:
        console.print(f"[green]✓[/] {source}：未发现缺项")
        return
    by_clause: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_clause[f.clause].append(f)
    n_block = sum(1 for f in findings if f.blocking)
    table = Table(title=f"{source}：阻止出具 {n_block} 项，提示 {len(findings) - n_block} 项", show_lines=True)
    whole_column(table, "条款")
    whole_column(table, "级别")
    text_column(table, "问题")
    whole_column(table, "JSON 路径")
    for clause in sorted(by_clause, key=clause_key):
        for i, f in enumerate(by_clause[clause]):
            style = "bold red" if f.blocking else "yellow"
            table.add_row(clause if i == 0 else "", f"[{style}]{SEVERITY_TITLES[f.severity]}[/]", escape(f.message), escape(f.path))
    print_table(table)


@commands.command()
def review(
    case_file: CaseArg,
    level: Annotated[ReviewLevel, typer.Option("--level", help="proofread 校对 | recheck 复核 | approve 审核（司法鉴定：签发）")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="审核人姓名；须本人凭据：具有该级审核角色的账户密码（提示输入或环境变量 GONGU_PASSWORD）或其签名密钥")],
    decision: Annotated[ReviewDecision, typer.Option("--decision", help="approve 通过 | return 退回")],
    comment: Annotated[str | None, typer.Option("--comment", help="审核说明")] = None,
    at: Annotated[str | None, typer.Option("--at", help="审核时间 ISO 8601，缺省为现在（北京时间）")] = None,
) -> None:
    """记录一级审核意见（9.3；司法鉴定为校对、复核、签发，通则第三十五条）：写入案件文件的 reviews；不合规的审核被拒绝并说明原因（退出码 2）。"""
    from generator.loading import CaseFileError
    from generator.review import LEVELS, level_titles, review_state
    from gongu.pipeline.reviewing import ReviewRefused, decision_log, record_review
    from gongu.settings import load_settings

    loaded = load_or_exit(case_file)
    titles = level_titles(loaded.case)
    settings = load_settings()
    try:
        with decision_log(settings) as log:
            recorded = record_review(case_file, level=level, reviewer=reviewer, decision=decision, comment=comment,
                                     at=at, settings=settings, loaded=loaded, confirm=log.confirm_reviewer(level, decision))
            log.record(recorded)
    except GonguError as exc:
        fail(escape(str(exc)))
    except ReviewRefused as exc:
        if exc.invalid:
            for reason in exc.reasons:
                err_console.print(f"[bold red]错误[/]：{reason}")
            raise typer.Exit(2) from None
        err_console.print(f"[bold red]审核意见未记录[/]（{titles[level]}，{escape(exc.reviewer)}）：")
        for reason in exc.reasons:
            err_console.print(f"  • {reason}")
        raise typer.Exit(2) from None
    except CaseFileError as exc:
        print_problems(exc.source, exc.problems)
        raise typer.Exit(2) from None
    reviewer = recorded.review["reviewer"]
    state = review_state(recorded.written.case)
    done = "、".join(titles[lv] for lv in LEVELS if lv in state.approved) or "无"
    verb = "通过" if decision == ReviewDecision.approve else "退回（案件重新打开，须重新经三级审核）"
    console.print(f"[green]✓[/] 已记录：{titles[level]} {reviewer} {verb}；本轮已通过：{done}")


@commands.command("issue")
def issue_command(
    case_file: CaseArg,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出目录，缺省 GONGU_HOME/issued/<案件编号>/")] = None,
    reissue: Annotated[bool, typer.Option("--reissue", help="重新出具（编号加 R1、R2 …，替代上一份报告）")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="重新出具原因")] = None,
    templates: Annotated[Path | None, typer.Option("--templates", help="机构模板目录；缺省 gongu.toml [render] templates（与 gongu render 相同）")] = None,
    unsealed: Annotated[bool, typer.Option("--unsealed", help="不签章，出具标明「未签章副本 — 非正式报告」的副本（案件文件中记为未签章）")] = False,
    additional: Annotated[bool, typer.Option("--additional", help="司法鉴定：补充出具意见书出具后新增的文书（补充意见书、异议与争议处理记录、专家意见），编号不变")] = False,
    background: Annotated[bool, typer.Option("--background", help="作为后台任务执行：立即返回任务编号（gongu jobs show 查看，gongu worker 执行）")] = False,
) -> None:
    """出具公估报告：三级审核通过且无阻止出具的问题时生成、签章并记录最终报告，否则列出全部原因并以 1 退出。

    未配置签章（gongu.toml [signing]）时拒绝出具；--unsealed 出具每页标明未签章的副本。
    """
    if additional and (reissue or unsealed or reason):
        err_console.print("[bold red]错误[/]：--additional 不能与 --reissue、--reason 或 --unsealed 同用（补充出具的文书须签章）")
        raise typer.Exit(2)
    if reissue and not (reason and reason.strip()):
        err_console.print("[bold red]错误[/]：重新出具须用 --reason 说明原因")
        raise typer.Exit(2)
    if reason and not reissue:
        err_console.print("[bold red]错误[/]：--reason 只用于 --reissue")
        raise typer.Exit(2)
    from gongu.settings import load_settings

    loaded = load_or_exit(case_file)  # invalid input → exit 2 with every problem
    settings = load_settings()
    if background:
        _issue_in_background(loaded, settings, output=output, reason=reason if reissue else None,
                             templates=templates, unsealed=unsealed, additional=additional)
    with issue_lock(settings, loaded.case.case_id):
        _issue(loaded, settings, output=output, reissue=reissue, reason=reason, templates=templates,
               unsealed=unsealed, additional=additional)


def _issue_in_background(loaded: LoadedCase, settings: Settings, *, output: Path | None, reason: str | None,
                         templates: Path | None, unsealed: bool, additional: bool) -> None:
    """Queue the issue as a job (gongu/jobs/tasks.py runs the same issue_case under the same lock). The
    number of issuances already recorded goes with it: a retried job that finds more never issues again."""
    from gongu.cli.jobs import start_background

    params = {"case_file": str(Path(loaded.source).resolve()), "issuances_before": len(loaded.case.issuances),
              "output": str(output.resolve()) if output else None, "reissue_reason": reason,
              "templates": str(templates.resolve()) if templates else None, "unsealed": unsealed}
    start_background("issue_additional" if additional else "issue", params, case_id=loaded.case.case_id,
                     settings=settings)


@contextmanager
def issue_lock(settings: Settings, case_id: str) -> Iterator[None]:
    """The catalog's per-case issue lock (archive/workspace_steps.py), the one the web workspace takes, held
    while the case is issued and given back however the issue ends: a CLI and a web issuance of one case
    never both render and seal. A home without a catalog (no SQLite file, no [store] url) issues unlocked."""
    from archive.catalog import CatalogError
    from archive.workspace_steps import release_lock, take_lock
    from generator.types import SHANGHAI
    from gongu.pipeline.archiving import existing_store

    try:
        catalog = existing_store(settings, check=False)
    except GonguError as exc:
        err_console.print(f"[bold red]错误[/]：{escape(str(exc))}")
        raise typer.Exit(2) from None
    if catalog is None:
        yield
        return
    try:
        try:
            token, held = take_lock(catalog, case_id, account=f"{_shell_user()}（命令行）",
                                    now=datetime.now(SHANGHAI).replace(microsecond=0))
        except CatalogError as exc:
            err_console.print(f"[bold red]错误[/]：{escape(str(exc))}")
            raise typer.Exit(2) from None
        if token is None:
            assert held is not None
            err_console.print(escape(f"正在出具：{held.account} 于 {held.started_at} 开始出具案件 {case_id} 的报告，"
                                     "请勿重复出具；待其完成后查看结果"))
            raise typer.Exit(2)
        try:
            yield
        finally:
            release_lock(catalog, case_id, token)
    finally:
        catalog.close()


def _shell_user() -> str:
    try:
        return os.environ.get("GONGU_USER") or getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "未知用户"


def _issue(loaded: LoadedCase, settings: Settings, *, output: Path | None, reissue: bool, reason: str | None,
           templates: Path | None, unsealed: bool, additional: bool) -> None:
    from generator.issuance import IssueRefused
    from generator.loading import CaseFileError
    from generator.render import RenderError
    from gongu.pipeline.issuing import IssueFileExists, issue_additional, issue_case
    from gongu.pipeline.sealing import configured_signer
    from signing.seal import SealError

    try:
        signer = None if unsealed else configured_signer(settings)  # --unsealed: never seal, even if configured
        if additional:
            result = issue_additional(loaded, signer=signer, out_dir=output, templates=templates, settings=settings)
        else:
            result = issue_case(loaded, signer=signer, unsealed=unsealed, out_dir=output, templates=templates,
                                settings=settings, reissue_reason=reason if reissue else None)
    except IssueRefused as exc:
        err_console.print(f"[bold red]不予出具[/]：{escape(str(loaded.source))}（{len(exc.reasons)} 项原因）")
        for r in exc.reasons:  # plain text: "[signing]" or a name from the case file is not rich markup
            err_console.print(f"  • {escape(r)}")
        raise typer.Exit(1) from None
    except RenderError as exc:
        err_console.print(f"[bold red]报告生成失败[/]：{exc}")
        raise typer.Exit(2) from None
    except IssueFileExists as exc:
        err_console.print(f"[bold red]错误[/]：{exc}")
        raise typer.Exit(2) from None
    except SealError as exc:  # a key, passphrase or TSA problem: nothing was published or recorded
        err_console.print(f"[bold red]签章失败，未出具[/]：{escape(str(exc))}")
        raise typer.Exit(2) from None
    except GonguError as exc:  # e.g. a bad [signing] section or templates folder
        err_console.print(f"[bold red]错误[/]：{exc}")
        raise typer.Exit(2) from None
    except CaseFileError as exc:
        print_problems(exc.source, exc.problems)
        raise typer.Exit(2) from None
    if additional:
        console.print(escape(f"✓ 已补充出具鉴定文书 {result.number} 的 {len(result.documents)} 份文书（已签章）"))
        for _key, (title, files) in result.documents.items():
            console.print(escape(f"  {title}：{'，'.join(str(p) for p in files.values())}"))
        return
    head = f"已出具报告 {result.number}" + (f"（替代 {result.supersedes}）" if result.supersedes else "")
    if result.sealed:
        console.print(f"[green]✓[/] {head}（已签章）")
    else:
        console.print(f"[yellow]![/] {head}：未签章副本，每页标明「未签章副本 — 非正式报告」（unsealed copy）")
    for kind, path in result.files.items():
        console.print(f"  {kind.upper()}: {path}")
    for _key, (title, files) in result.documents.items():  # a forensic case's other documents
        console.print(escape(f"  {title}：{'，'.join(str(p) for p in files.values())}"))
    console.print(f"  品质审核表（仅供存档，不交付委托人）: {result.qc_sheet}")
