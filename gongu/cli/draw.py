"""`gongu draw …`: the verifiable random draw of the appraisal institution (Sichuan 二(三)).

The draw goes step by step, each step writing the draw record (`gongu-draw-record/1`, atomically) so
that the order of events is on file: prepare (roster snapshot, exclusions, eligible list and its hash)
→ ack (each side confirms the hash) → declare (which public value, which future issue) → commit (a
side's secret, by its hash) → [the public value is published] → reveal → run (seed, order, chosen)
→ decline (if the chosen institution declines or must recuse: the next one). `gongu draw verify`
re-computes everything from the record alone.

Exit codes: 0 done (verify: the record re-computes identically); 1 verify found discrepancies; 2 bad
input or a step refused (the reason and clause are printed), nothing written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from gongu.cli.common import load_or_exit
from gongu.output import console, fail, print_problems, print_table, text_column, whole_column

if TYPE_CHECKING:  # the draw rules load with the command that runs them (generator.forensic.draw)
    from generator.forensic import draw
    from generator.forensic.roster import RosterSnapshot

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

draw_app = typer.Typer(help="随机抽取鉴定机构（可验证）：名册、名单确认、事先指定的公开随机值、承诺与公开、抽取、验证", no_args_is_help=True)
roster_app = typer.Typer(help="鉴定机构名册", no_args_is_help=True)
draw_app.add_typer(roster_app, name="roster")
commands.add_typer(draw_app, name="draw")

DrawArg = Annotated[Path, typer.Argument(help="抽取记录文件（JSON）", show_default=False)]
AtOpt = Annotated[str | None, typer.Option("--at", help="事件时间（ISO 8601，缺省为现在，北京时间）")]


def _now(at: str | None) -> str:
    from generator.clock import SYSTEM_CLOCK
    from generator.forensic import draw

    if at is None:
        return SYSTEM_CLOCK.now().isoformat(timespec="seconds")
    try:
        draw.instant(at)
    except ValueError:
        fail(f"--at：不是 ISO 8601 时间：{escape(at)}")
    return at


def _snapshot(path: Path, at: str) -> RosterSnapshot:
    from generator.forensic.roster import RosterError, import_roster

    try:
        return import_roster(path, at)
    except RosterError as exc:
        print_problems(exc.source, exc.problems)
        raise typer.Exit(2) from None


def _read_record(path: Path) -> dict[str, Any]:
    from gongu.pipeline.draw_records import DrawRecordError, read_record

    try:
        return read_record(path)
    except DrawRecordError as exc:
        if exc.problems:
            print_problems(str(path), exc.problems)
            raise typer.Exit(2) from None
        fail(escape(str(exc)))


def _read_record_bytes(path: Path) -> tuple[dict[str, Any], bytes]:
    from gongu.pipeline.draw_records import DrawRecordError, read_record_bytes

    try:
        return read_record_bytes(path)
    except DrawRecordError as exc:
        if exc.problems:
            print_problems(str(path), exc.problems)
            raise typer.Exit(2) from None
        fail(escape(str(exc)))


def _write_record(path: Path, record: dict[str, Any]) -> None:
    from generator.atomic import atomic_write

    atomic_write(path, (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def _step(path: Path, change: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Apply one pure step to the record on disk; a refusal prints its reason and writes nothing."""
    from generator.forensic import draw

    record = _read_record(path)
    try:
        new = change(record, *args, **kwargs)
    except draw.DrawRefused as exc:
        fail(escape(str(exc)))
    except ValueError as exc:  # an unreadable time
        fail(f"时间格式不对：{escape(str(exc))}")
    _write_record(path, new)
    return new


def _objection(text: str, kind: str) -> draw.Objection:
    from generator.forensic import draw

    parts = [p.strip() for p in text.split("|")]
    if len(parts) != 3 or not all(parts):
        fail(f"--{kind} 应写成「许可证号|提出人|理由」：{escape(text)}")
    return draw.Objection(parts[0], parts[1], parts[2], kind)


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="名册文件（CSV 或 JSON）", show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="把名册快照写入此 JSON 文件")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """导入并校验名册：列出机构及名册快照的 SHA-256；有问题时逐条列出，退出码 2。"""
    snap = _snapshot(file, _now(None))
    data = snap.as_dict()
    if output is not None:
        _write_record(output, data)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=escape(f"{snap.title or file.name}（{len(snap.entries)} 家）"))
    whole_column(table, "许可证号")
    text_column(table, "机构名称")
    text_column(table, "城市")
    text_column(table, "业务范围")
    text_column(table, "高级职称鉴定人")
    for e in snap.entries:
        table.add_row(e.licence_no, escape(e.name), escape(e.city), escape("、".join(e.scopes)), escape("、".join(e.senior_appraisers)))
    print_table(table)
    console.print(f"名册快照 SHA-256：{snap.sha256}", soft_wrap=True)


@draw_app.command()
def prepare(
    case_file: Annotated[Path, typer.Option("--case", help="案件文件 case.json", show_default=False)],
    roster: Annotated[Path, typer.Option("--roster", help="名册文件（CSV 或 JSON）", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="新的抽取记录文件", show_default=False)],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="鉴定事项要求的业务范围（缺省按鉴定事项推定）")] = None,
    conflict: Annotated[list[str] | None, typer.Option("--conflict", help="利害关系声明「许可证号|提出人|理由」")] = None,
    recusal: Annotated[list[str] | None, typer.Option("--recusal", help="回避申请「许可证号|提出人|理由」")] = None,
    original: Annotated[str | None, typer.Option("--original", help="重新鉴定：原鉴定机构的许可证号")] = None,
    side: Annotated[list[str] | None, typer.Option("--side", help="须确认名单的当事人（缺省：委托人和保险机构）")] = None,
    redraw_of: Annotated[Path | None, typer.Option("--redraw-of", help="重新抽取：被取代的抽取记录文件（已登记进日志的那一份）")] = None,
    redraw_reason: Annotated[str, typer.Option("--redraw-reason", help="重新抽取的理由（与 --redraw-of 同用）")] = "",
    at: AtOpt = None,
) -> None:
    """第一步：名册快照、排除（逐条理由）、符合条件的名单及其哈希。"""
    from generator.forensic import draw
    from generator.kinds import is_forensic

    if output.exists():
        fail(f"{escape(str(output))} 已存在：抽取记录不能覆盖")
    redraw: dict[str, str] | None = None
    if redraw_of is not None:
        previous, raw = _read_record_bytes(redraw_of)
        try:
            redraw = draw.redraw_of(raw, redraw_reason)
        except draw.DrawRefused as exc:
            fail(escape(str(exc)))
    elif redraw_reason:
        fail("--redraw-reason 须与 --redraw-of 同用")
    when = _now(at)
    loaded = load_or_exit(case_file)
    case = loaded.case
    if not is_forensic(case):
        fail("随机抽取鉴定机构只适用于司法鉴定案件（kind = forensic_appraisal）")
    if redraw_of is not None and previous.get("case_id") != case.case_id:
        fail(f"--redraw-of 的记录属于案件 {escape(str(previous.get('case_id')))}，不是本案 {escape(case.case_id)}")
    scopes = list(dict.fromkeys(scope or []))
    if not scopes:
        unknown = [m.id for m in case.commission.matters if m.kind.value not in draw.MATTER_SCOPES]
        if unknown:
            fail(f"鉴定事项 {escape('、'.join(unknown))} 无法推定所需业务范围，请用 --scope 写明")
        scopes = list(dict.fromkeys(draw.MATTER_SCOPES[m.kind.value] for m in case.commission.matters))
    snap = _snapshot(roster, when)
    orig: draw.Original | None = None
    if case.commission.is_reappraisal:
        if original is None:
            fail("本案为重新鉴定：请用 --original 写明原鉴定机构的许可证号（通则 Art 32；Sichuan 二(四)）")
        entry = snap.by_licence(original)
        if entry is None:
            fail(f"原鉴定机构许可证号 {escape(original)} 不在名册中，无法比较资质条件")
        orig = draw.Original(entry.licence_no, entry.name, entry.scopes)
    elif original is not None:
        fail("本案不是重新鉴定（commission.is_reappraisal 为 false），不能指定 --original")
    sides = side or list(dict.fromkeys(p.name for p in case.parties if p.client or p.role.value == "insurer"))
    objections = [_objection(c, "conflict") for c in conflict or []] + [_objection(r, "recusal") for r in recusal or []]
    try:
        record = draw.new_record(
            case_id=case.case_id, case_name=case.case_name,
            matters=[{"id": m.id, "kind": m.kind.value, "description": m.description} for m in case.commission.matters],
            required_scopes=scopes, roster=snap, sides=sides, prepared_at=when, objections=objections, original=orig,
            redraw=redraw,
        )
    except draw.DrawRefused as exc:
        fail(escape(str(exc)))
    _write_record(output, record)
    if record["exclusions"]:
        table = Table(title="排除的机构")
        whole_column(table, "许可证号")
        text_column(table, "机构名称")
        text_column(table, "理由")
        whole_column(table, "依据")
        for x in record["exclusions"]:
            table.add_row(x["licence_no"], escape(x["name"]), escape(x["reason"]), escape(x["clause"]))
        print_table(table)
    table = Table(title=f"符合条件的机构（{len(record['eligible'])} 家，按许可证号排序）")
    whole_column(table, "许可证号")
    text_column(table, "机构名称")
    for e in record["eligible"]:
        table.add_row(e["licence_no"], escape(e["name"]))
    print_table(table)
    console.print(f"名单哈希（请双方确认）：{record['list_hash']}", soft_wrap=True)
    console.print(f"抽取记录 → {escape(str(output))}")


@draw_app.command()
def ack(
    record: DrawArg,
    party: Annotated[str, typer.Option("--party", help="确认名单的当事人", show_default=False)],
    list_hash: Annotated[str, typer.Option("--hash", help="该当事人确认的名单哈希", show_default=False)],
    at: AtOpt = None,
) -> None:
    """当事人确认名单哈希（不一致即拒绝）；必须在指定随机值来源之前。"""
    from generator.forensic import draw

    _step(record, draw.acknowledge, party, list_hash, _now(at))
    console.print(f"{escape(party)} 已确认名单哈希")


@draw_app.command()
def declare(
    record: DrawArg,
    source: Annotated[str, typer.Option("--source", help="公开随机值来源，例如「中国福利彩票双色球」", show_default=False)],
    issue: Annotated[str, typer.Option("--issue", help="尚未开奖的期号", show_default=False)],
    by: Annotated[str, typer.Option("--by", help="记录人")] = "",
    at: AtOpt = None,
) -> None:
    """事先指定公开随机值：哪一种彩票（或其他公开来源）、哪一期（尚未公布）。"""
    from generator.forensic import draw

    _step(record, draw.declare, source, issue, _now(at), by)
    console.print(f"已指定公开随机值：{escape(source)} 第 {escape(issue)} 期")


@draw_app.command("commitment")
def commitment_of(secret: Annotated[str, typer.Option("--secret", help="自己的秘密值（至少 16 个字符）", show_default=False)]) -> None:
    """计算秘密值的承诺值 SHA-256("gongu-draw-commit/1" ‖ 秘密值)，可在自己的电脑上算。"""
    from generator.forensic import draw

    if len(secret) < draw.MIN_SECRET_CHARS:
        fail(f"秘密值至少 {draw.MIN_SECRET_CHARS} 个字符")
    console.print(draw.commitment(secret), soft_wrap=True)


@draw_app.command("commit")
def commit_cmd(
    record: DrawArg,
    party: Annotated[str, typer.Option("--party", show_default=False)],
    commitment: Annotated[str, typer.Option("--commitment", help="承诺值（64 位十六进制）", show_default=False)],
    at: AtOpt = None,
) -> None:
    """当事人提交秘密值的承诺值（公开随机值公布之前）。"""
    from generator.forensic import draw

    _step(record, draw.commit, party, commitment, _now(at))
    console.print(f"{escape(party)} 的承诺值已记录")


@draw_app.command("reveal")
def reveal_cmd(
    record: DrawArg,
    party: Annotated[str, typer.Option("--party", show_default=False)],
    secret: Annotated[str, typer.Option("--secret", show_default=False)],
    at: AtOpt = None,
) -> None:
    """当事人公开秘密值；与其承诺值不符即拒绝。"""
    from generator.forensic import draw

    _step(record, draw.reveal, party, secret, _now(at))
    console.print(f"{escape(party)} 的秘密值与承诺值相符，已记录")


@draw_app.command("run")
def run_cmd(
    record: DrawArg,
    numbers: Annotated[str, typer.Option("--numbers", help="公布的开奖号码，空格分隔，如「03 07 12 19 25 31 09」", show_default=False)],
    published_at: Annotated[str, typer.Option("--published-at", help="开奖公布时间（ISO 8601）", show_default=False)],
    at: AtOpt = None,
) -> None:
    """录入公布的随机值并抽取：种子、顺序、选定机构。"""
    from generator.forensic import draw

    try:
        values = draw.parse_numbers(numbers)
    except ValueError as exc:
        fail(f"--numbers：{escape(str(exc))}：{escape(numbers)}")
    new = _step(record, draw.run, values, published_at, _now(at))
    table = Table(title="抽取顺序")
    whole_column(table, "顺序")
    whole_column(table, "许可证号")
    text_column(table, "机构名称")
    for i, e in enumerate(new["order"], start=1):
        table.add_row(str(i), e["licence_no"], escape(e["name"]))
    print_table(table)
    console.print(f"种子：{new['seed']}", soft_wrap=True)
    console.print(f"选定：{escape(new['chosen']['name'])}（{new['chosen']['licence_no']}）")


@draw_app.command("decline")
def decline_cmd(
    record: DrawArg,
    licence: Annotated[str, typer.Option("--licence", help="拒绝或回避的机构许可证号", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", show_default=False)],
    recused: Annotated[bool, typer.Option("--recused", help="属于回避（缺省为拒绝受理）")] = False,
    at: AtOpt = None,
) -> None:
    """选中的机构拒绝受理或须回避：按顺序由下一家顶替，不重新抽取。"""
    from generator.forensic import draw

    new = _step(record, draw.decline, licence, reason, _now(at), "recused" if recused else "declined")
    chosen = new["chosen"]
    console.print(f"现选定：{escape(chosen['name'])}（{chosen['licence_no']}）" if chosen else "顺序中的机构均已拒绝或回避，没有选定机构")


@draw_app.command("verify")
def verify_cmd(record: DrawArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """仅凭抽取记录重新计算一切：一致时退出码 0，否则列出每一处不一致并以 1 退出；无法读取或结构不对时 2。"""
    from generator.forensic import draw

    data = _read_record(record)
    problems = draw.verify_record(data)
    unreadable = any(p.title == draw.MALFORMED for p in problems)
    if as_json:
        payload = {"file": str(record), "verified": not problems, "problems": [p.as_dict() for p in problems],
                   "chosen": data.get("chosen"), "seed": data.get("seed")}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    elif problems:
        print_problems(str(record), problems, to=console)
    else:
        chosen = data["chosen"]
        who = f"{escape(chosen['name'])}（{chosen['licence_no']}）" if chosen else "无（全部拒绝或回避）"
        console.print(f"[green]✓[/] {escape(str(record))}：重新计算一致；选定 {who}")
    if problems:
        raise typer.Exit(2 if unreadable else 1)


@draw_app.command("log")
def log_cmd(
    record: DrawArg,
    by: Annotated[str, typer.Option("--by", help="登记人姓名（缺省为 GONGU_USER 或登录名）")] = "",
) -> None:
    """把抽取登记进档案的防篡改事件日志（抽取当时即可，不必等到归档）；同一份记录（SHA-256 相同）只登记一次。"""
    from archive.draw_log import DrawLogRefused, log_draw
    from gongu.cli.archive import _default_user, opened

    _read_record(record)  # exit 2 for a file that is no draw record, before the archive is opened
    with opened() as archive:
        try:
            event, details = log_draw(archive, record, by=by or _default_user())
        except DrawLogRefused as exc:
            fail(escape(str(exc)))
    chosen = f"{details['chosen_name']}（{details['chosen_licence']}）" if details["chosen_licence"] else "无"
    if event is None:
        console.print(f"已登记过：抽取记录 SHA-256 {details['record_sha256']}（案件 {escape(str(details['case_id']))}）",
                      soft_wrap=True)
    else:
        console.print(f"[green]✓[/] 已登记为事件日志第 {event.seq} 条：案件 {escape(str(details['case_id']))}，"
                      f"抽取记录 SHA-256 {details['record_sha256']}，种子 {details['seed']}，选定 {escape(chosen)}",
                      soft_wrap=True)
