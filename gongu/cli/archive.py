"""`gongu archive …`: ingest, list, get, hold/release, withdraw, dispose, audit, fsck, log (clause 10).

Thin: builds an Archive from settings (root, catalog, firm key for checkpoints, the PAdES verifier with
the configured trust roots, the search-index listener) and prints results; every rule lives in archive/."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from gongu.output import GonguError, console, err_console, fail, print_table, whole_column

if TYPE_CHECKING:  # the archive (SQLAlchemy) loads when a command opens it, not at every start-up
    from archive.store import Archive
    from generator.clock import Clock

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

archive_app = typer.Typer(help="电子档案：归档、保管期限、冻结、销毁、调阅、审计（第 10 条）", no_args_is_help=True)
dispose_app = typer.Typer(help="到期档案的销毁：列出、提议、批准（须另一人）、执行", invoke_without_command=True)
log_app = typer.Typer(help="防篡改事件日志（RFC 6962 Merkle 树）与签名检查点", no_args_is_help=True)
archive_app.add_typer(dispose_app, name="dispose")
archive_app.add_typer(log_app, name="log")
commands.add_typer(archive_app, name="archive")

By = Annotated[str, typer.Option("--by", help="操作人姓名（缺省为 GONGU_USER 或登录名）；冻结、解冻与销毁各步须本人凭据："
                                               "账户密码（提示输入或环境变量 GONGU_PASSWORD）或其签名密钥")]


def _default_user() -> str:
    """Who acts: --by, else GONGU_USER, else the login name; empty when unknown (then refused)."""
    try:
        return os.environ.get("GONGU_USER") or getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return ""


# Holds and disposal steps are archivists' decisions (the web's archive pages: gongu/web/pages_archive.py).
DECIDING_ROLES = frozenset({"archivist"})


def deciding_person(archive: Archive, by: str, action: str, case_id: str) -> tuple[str, dict[str, object]]:
    """The registered person named by --by (or GONGU_USER / the login name), confirmed by their own
    credential (gongu/access/credentials.py), and the credential record for the log event."""
    from gongu.access.credentials import confirm_person
    from gongu.settings import load_settings

    settings = load_settings()
    person = settings.people.require(by or _default_user())
    credential = confirm_person(archive.catalog, settings, person, roles=DECIDING_ROLES,
                                decision={"action": action, "case_id": case_id}, now=archive.now())
    return person, credential


# The archive's clock for this invocation: the wall clock. Only Python code can construct a command with
# another clock, through click's context object (tests: `CliRunner().invoke(app, args,
# obj=FixedClock(...))`); nothing on the `gongu` command line or in the environment moves time
# (time that moves on request would allow disposal before the retention end).
# None: the wall clock (generator.clock.SYSTEM_CLOCK, looked up when an archive is opened).
_clock: ContextVar[Clock | None] = ContextVar("gongu_archive_clock", default=None)


@archive_app.callback()
def _archive(ctx: typer.Context) -> None:
    from generator.clock import SYSTEM_CLOCK, Clock

    _clock.set(ctx.obj if isinstance(ctx.obj, Clock) else SYSTEM_CLOCK)


@contextmanager
def opened(*, need_signer: bool = False, catch_up: bool = True, write: bool = False) -> Iterator[Archive]:
    """The archive for one command; `write`: the command writes, so the root must be this archive's
    (archive/identity.py) — else exit 2 naming the path, before anything is created."""
    # Errors end here with exit code 2 and a plain message (also under typer's test runner, which
    # does not go through gongu.cli.main).
    from archive.catalog import CatalogError
    from archive.store import ArchiveError
    from generator.clock import SYSTEM_CLOCK
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    clock = _clock.get()
    try:
        archive = build_archive(load_settings(), need_signer=need_signer,
                                clock=SYSTEM_CLOCK if clock is None else clock, catch_up=catch_up, write=write)
    except (GonguError, CatalogError) as exc:  # CatalogError: a damaged catalog, never a traceback
        fail(escape(str(exc)))
    try:
        yield archive
    except (ArchiveError, GonguError, CatalogError) as exc:
        fail(escape(str(exc)))
    except OSError as exc:  # e.g. -o names a file, a disk is full: a plain message, never a traceback
        fail(escape(f"文件系统错误：{exc.strerror or exc}（{exc.filename or ''}）"))
    finally:
        archive.close()
        for failure in archive.listener_failures:
            err_console.print(f"[yellow]检索索引未能同步[/]：{escape(failure)}（操作本身已写入；服务器恢复后运行 gongu index sync）")


def _parse_add(items: list[str]) -> list[tuple[str, Path]]:
    """`--add ROLE=FILE` or `--add FILE` (audio/video recognised by type, otherwise an attachment)."""
    from archive.metadata import ROLES_2, media_type_for

    out = []
    for item in items:
        role, sep, rest = item.partition("=")
        if sep and role in ROLES_2:
            out.append((role, Path(rest)))
            continue
        kind = media_type_for(item).split("/")[0]
        out.append(({"audio": "audio", "video": "video", "image": "photo"}.get(kind, "attachment"), Path(item)))
    return out


@archive_app.command("ingest")
def ingest_cmd(
    case_file: Annotated[Path, typer.Argument(help="案件文件 case.json")],
    report: Annotated[Path | None, typer.Option("--report", help="已签章的报告 PDF（缺省：GONGU_HOME/issued/<案件号>/<报告编号>.pdf）")] = None,
    add: Annotated[list[str] | None, typer.Option("--add", help="附加文件：ROLE=FILE（audio、video、photo、attachment…）或 FILE")] = None,
    by: By = "",
    background: Annotated[bool, typer.Option("--background", help="作为后台任务执行：立即返回任务编号（gongu jobs show 查看，gongu worker 执行）")] = False,
) -> None:
    """归档（10.1–10.3）：报告已交付、公估费已到账、签章核验通过后，生成 BagIt 档案包。"""
    from archive.ingest import IngestRefused, ingest
    from gongu.cli.common import load_or_exit
    from gongu.settings import load_settings

    loaded = load_or_exit(case_file)
    settings = load_settings()
    if report is None:
        # the PDF the latest issuance of this report recorded (a forensic case's primary document), else
        # the report number's name
        case = loaded.case
        issued = [i.pdf_file for i in case.issuances if i.number == case.report.number and i.pdf_file]
        names = [Path(issued[-1]).name] if issued else []
        folder = settings.home / "issued" / case.case_id
        report = next((folder / n for n in [*names, f"{case.report.number}.pdf"] if (folder / n).is_file()), None)
    if background:
        from gongu.cli.jobs import start_background

        start_background("ingest", {"case_file": str(Path(loaded.source).resolve()),
                                    "report": str(report.resolve()) if report else None,
                                    "extras": [(role, str(p.resolve())) for role, p in _parse_add(add or [])],
                                    "by": by or _default_user()},
                         case_id=loaded.case.case_id, settings=settings)
    with opened(write=True) as archive:
        try:
            result = ingest(archive, loaded, report, extras=_parse_add(add or []), by=by or _default_user())
        except IngestRefused as exc:
            err_console.print(f"[bold red]拒绝归档[/] {escape(loaded.case.case_id)} / {escape(loaded.case.report.number)}：")
            for reason in exc.reasons:
                err_console.print(f"  • {escape(reason)}")
            raise typer.Exit(2) from None
    verb = "已归档" if result.created else "已在档案中（内容相同，未重复归档）"
    console.print(f"[green]✓[/] {verb}：" + escape(f"{result.case_id} 报告 {result.report_number} → {result.path}"))


@archive_app.command("init")
def init_cmd(by: By = "") -> None:
    """新建档案（或为旧档案补写标识）：在 [archive] root 写入档案标识 gongu-archive.json 并记入目录；此后每个写入命令先核对两者一致（共享目录已挂载）。"""
    from archive.identity import ArchiveRootError, init_archive
    from gongu.pipeline.archiving import archive_config, pin_firm_certificate
    from gongu.settings import load_settings

    settings = load_settings()
    with opened(catch_up=False) as archive:
        try:
            result = init_archive(archive.catalog, archive.root, at=archive.now(), by=by or _default_user() or "init")
        except ArchiveRootError as exc:
            fail(escape(str(exc)))
        pinned = pin_firm_certificate(archive_config(settings), archive.signer)
        label = archive.catalog.label
    verb = "已初始化档案" if result.created else "档案已初始化过（标识一致，未改动）"
    console.print(f"[green]✓[/] {verb} {result.identity.archive_id}：" + escape(f"{archive.root} ↔ 目录 {label}"))
    if pinned:
        console.print("  机构证书已固定：" + escape(pinned))


@archive_app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出档案包（在库与已销毁）及保管期限、冻结状态。"""
    with opened() as archive:
        rows = archive.catalog.packages()
        held = archive.catalog.held_case_ids()
    data = [{"case_id": r["case_id"], "report_number": r["report_number"], "path": r["rel_path"], "state": r["state"],
             "retention_class": r["retention_class"], "retention_until": r["retention_until"],
             "on_hold": r["case_id"] in held} for r in rows]
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    table = Table(title=f"档案包 {len(data)} 个")
    for col in ("案件编号", "报告编号", "状态", "保管类别", "保管至", "冻结", "位置"):
        whole_column(table, col)  # identifiers, dates and a path: none may break
    for d in data:
        table.add_row(escape(d["case_id"]), escape(d["report_number"]), {"active": "在库", "disposed": "已销毁"}[d["state"]],
                      d["retention_class"], d["retention_until"], "是" if d["on_hold"] else "", escape(d["path"]))
    print_table(table)


@archive_app.command("get")
def get_cmd(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    out: Annotated[Path, typer.Option("-o", "--output", help="导出到此目录")],
    report_number: Annotated[str | None, typer.Option("--report-number", help="只导出这一份报告的档案包")] = None,
    by: By = "",
) -> None:
    """调阅：导出档案包副本及核验报告（固定性、签章），并记录调阅。"""
    from archive.retrieval import get

    with opened() as archive:
        report = get(archive, case_id, out, by=by or _default_user(), report_number=report_number)
    for p in report["packages"]:
        mark = "[green]✓[/]" if p["ok"] else "[red]✗[/]"
        console.print(f"{mark} " + escape(f"{p['report_number']} → {p['path']}（固定性{'通过' if p['bag_valid'] else '未通过'}，"
                                          f"签章：{p['signature']['summary']}）"))
    console.print(f"核验报告 → {out / 'verification-report.json'}")
    if not report["ok"]:
        raise typer.Exit(1)


@archive_app.command("hold")
def hold_cmd(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    reason: Annotated[str, typer.Option("--reason", help="冻结原因")],
    reference: Annotated[str, typer.Option("--reference", help="文号（案号、函号）")],
    kind: Annotated[str, typer.Option("--kind", help="dispute（委托人争议）| litigation（诉讼）| regulator（监管）")],
    by: By = "",
) -> None:
    """冻结：争议、诉讼或监管期间，无论保管期限是否届满都不得销毁。"""
    from archive.holds import place_hold

    with opened(write=True) as archive:
        person, credential = deciding_person(archive, by, "hold", case_id)
        hold_id = place_hold(archive, case_id, kind=kind, reason=reason, reference=reference, by=person,
                             credential=credential)
    console.print("[green]✓[/] " + escape(f"已冻结案件 {case_id}（冻结 #{hold_id}，文号 {reference}）"))


@archive_app.command("release")
def release_cmd(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    reason: Annotated[str, typer.Option("--reason", help="解除原因")],
    decision_reference: Annotated[str, typer.Option("--decision-reference", help="解除冻结决定的文号（裁定书、撤诉通知、监管函等）")] = "",
    reference: Annotated[str | None, typer.Option("--reference", help="解除哪一项冻结（有多项时必填）")] = None,
    by: By = "",
) -> None:
    """解除冻结：须由冻结人、被冻结阻止的销毁的提议人以外的另一名档案管理人员，以本人凭据、解除决定文号和事由解除（记录在案，不删除冻结记录）。"""
    from archive.holds import release_hold

    with opened(write=True) as archive:
        # Releasing a hold makes the package disposable again: a registered archivist's own decision.
        person, credential = deciding_person(archive, by, "release", case_id)
        hold = release_hold(archive, case_id, by=person, reason=reason, reference=reference,
                            decision_reference=decision_reference, credential=credential)
    console.print("[green]✓[/] " + escape(f"已解除案件 {case_id} 的冻结（文号 {hold['reference']}）"))


@archive_app.command("withdraw")
def withdraw_cmd(
    code: Annotated[str, typer.Argument(help="文书上印的校验码（可带连字符）")],
    reason: Annotated[str, typer.Option("--reason", help="撤回原因（一句话，公开校验页向持有人显示）")],
    by: By = "",
) -> None:
    """撤回已出具的文书：公开校验页此后显示「已撤回」及日期与原因；以本人凭据记入防篡改日志，不可撤销。"""
    from archive.check_codes import lookup, withdraw
    from archive.store import ArchiveError
    from generator.check_code import grouped

    with opened(write=True) as archive:
        found = lookup(archive.catalog, code)
        if found is None:
            raise ArchiveError(f"档案中没有校验码 {code}")
        person, credential = deciding_person(archive, by, "withdraw", found.case_id)
        record = withdraw(archive, code, reason=reason, by=person, credential=credential)
    console.print("[green]✓[/] " + escape(f"已撤回 {record.kind} {record.report_number}（校验码 {grouped(record.code)}）"))


@dispose_app.callback()
def dispose_list(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出可销毁的案件（保管期限已届满且未冻结）。"""
    if ctx.invoked_subcommand is not None:
        return
    from archive.disposal import eligibility

    with opened() as archive:
        rows = eligibility(archive)
        today = archive.today()
    eligible = [r for r in rows if r.eligible]
    if as_json:
        console.print_json(json.dumps([{"case_id": r.case_id, "retention_until": r.retention_until} for r in eligible]))
        return
    if not eligible:
        console.print(f"截至 {today} 没有可销毁的档案（共 {len(rows)} 个案件在库）")
        return
    table = Table(title=f"截至 {today} 可销毁的档案")
    whole_column(table, "案件编号")
    whole_column(table, "保管至")
    for r in eligible:
        table.add_row(escape(r.case_id), r.retention_until)
    print_table(table)


@dispose_app.command("propose")
def dispose_propose(case_id: Annotated[str, typer.Argument(help="案件编号")], by: By = "") -> None:
    """提议销毁（保管期限须已届满、无冻结）。"""
    from archive.disposal import propose

    with opened(write=True) as archive:
        person, credential = deciding_person(archive, by, "dispose_propose", case_id)
        propose(archive, case_id, by=person, credential=credential)
    console.print("[green]✓[/] " + escape(f"已提议销毁案件 {case_id}；须由另一人批准"))


@dispose_app.command("approve")
def dispose_approve(case_id: Annotated[str, typer.Argument(help="案件编号")], by: By = "") -> None:
    """批准销毁（批准人不得为提议人）。"""
    from archive.disposal import approve

    with opened(write=True) as archive:
        person, credential = deciding_person(archive, by, "dispose_approve", case_id)
        approve(archive, case_id, by=person, credential=credential)
    console.print("[green]✓[/] " + escape(f"已批准销毁案件 {case_id}"))


@dispose_app.command("execute")
def dispose_execute(case_id: Annotated[str, typer.Argument(help="案件编号")], by: By = "") -> None:
    """执行销毁：删除档案内容，在目录与日志中保留墓碑（著录信息、清单哈希、审批）。"""
    from archive.disposal import execute

    with opened(write=True) as archive:
        person, credential = deciding_person(archive, by, "dispose_execute", case_id)
        tombs = execute(archive, case_id, by=person, credential=credential)
    for t in tombs:
        console.print("[green]✓[/] " + escape(f"已销毁 {t['case_id']} 报告 {t['report_number']}；墓碑保留于目录与日志"))


@archive_app.command("audit")
def audit_cmd(
    json_out: Annotated[Path | None, typer.Option("--json", help="把结果写入 JSON 文件")] = None,
    by: By = "",
    background: Annotated[bool, typer.Option("--background", help="作为后台任务执行：立即返回任务编号（gongu jobs show 查看，gongu worker 执行）")] = False,
) -> None:
    """四性检测：真实性、完整性、可用性、安全性；任何一项未通过则以非零退出。"""
    from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn

    from archive.audit import summary_lines
    from gongu.pipeline.archiving import full_audit
    from gongu.settings import load_settings

    if background:
        from gongu.cli.jobs import start_background

        start_background("audit", {"json_out": str(json_out.resolve()) if json_out else None,
                                   "by": by or _default_user() or "audit"})

    with opened(catch_up=False) as archive:
        total = sum(r["byte_count"] for r in archive.catalog.packages(state="active"))
        with Progress(TextColumn("{task.description}"), BarColumn(), TransferSpeedColumn(),
                      console=err_console, transient=True) as bar:
            task = bar.add_task("审计档案包", total=total or None)
            result = full_audit(archive, load_settings(), by=by or _default_user() or "audit",
                                progress=lambda _rel, size: bar.advance(task, size))
    if json_out is not None:
        json_out.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for line in summary_lines(result):
        console.print(escape(line))
    if not result.ok:
        raise typer.Exit(1)


@archive_app.command("fsck")
def fsck_cmd(
    repair: Annotated[bool, typer.Option("--repair", help="清理中断留下的临时目录，登记完整的未入目录档案包")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """核对目录与磁盘：临时目录、未登记的档案包、登记了却不存在的档案包。"""
    from archive.fsck import fsck
    from gongu.pipeline.indexing import catalog_index_drift, sync_index
    from gongu.settings import load_settings

    with opened(catch_up=False, write=repair) as archive:
        report = fsck(archive, repair=repair)
        if not report.catalog_problems:
            settings = load_settings()
            if repair:
                drift, fixed, failures = sync_index(archive, settings)
                report.repaired += fixed
                report.index_problems = failures
            else:
                report.index_problems = catalog_index_drift(archive, settings).lines()
            report.ledger_missing, report.repaired = _ledger_rows(archive, repair, report.repaired)
    if as_json:
        console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        console.print(f"目录数据库结构版本：{report.schema_revision}")
        if report.root_problem:
            console.print(f"[red]档案根目录[/]：{escape(report.root_problem)}")
        labels = {"catalog_problems": "目录数据库完整性检查未通过", "index_problems": "检索索引与目录不一致",
                  "temp_folders": "中断归档的临时目录", "trash_folders": "中断销毁的残留",
                  "orphan_packages": "完整但未登记的档案包", "invalid_packages": "不完整且未登记的目录",
                  "missing_packages": "登记了但磁盘上不存在的档案包（事故：从备份恢复，不得以销毁处理）",
                  "codes_missing": "校验码未入目录的档案包", "ledger_missing": "工作台账行未入目录的司法鉴定档案包"}
        d = report.as_dict()
        for key, label in labels.items():
            for item in d[key]:
                console.print(f"[yellow]{label}[/]：{escape(item)}")
        for item in report.repaired:
            console.print(f"[green]修复[/]：{escape(item)}")
        console.print("目录与磁盘一致" if report.clean else "发现不一致" + ("（已修复可修复的部分）" if repair else "（--repair 可修复）"))
    if (report.root_problem or report.missing_packages or report.invalid_packages or report.catalog_problems or report.index_problems
            or (not repair and not report.clean)):
        raise typer.Exit(1)


def _ledger_rows(archive: Any, repair: bool, repaired: list[str]) -> tuple[list[str], list[str]]:
    """Forensic packages whose work-ledger row the catalog lacks (ingested before it kept them) or holds as
    computed with other code or calendar; `repair` computes and stores them (gongu/pipeline/ledger_rows.py)."""
    from archive.ledger_rows import stale_packages
    from gongu.pipeline.ledger_rows import FORENSIC, computed_with, fill
    from gongu.pipeline.ledger_sources import LedgerSourceError

    if not repair:
        return [p["rel_path"] for p in stale_packages(archive.catalog, FORENSIC, computed_with())], repaired
    try:
        rows, stored = fill(archive.catalog, archive.root)
    except LedgerSourceError as exc:
        return [exc.message], repaired
    return [], repaired + [f"已登记工作台账行 {r['rel_path']}" for r in rows if stored]


@log_app.command("checkpoint")
def log_checkpoint() -> None:
    """立即用机构密钥签署一个检查点（树大小 + 根哈希 + 时间）并导出为文件。"""
    with opened(need_signer=True, write=True) as archive:
        doc = archive.checkpoint()
        folder = archive.config.checkpoint_dir
    console.print(f"[green]✓[/] 检查点：{doc['tree_size']} 个事件，根哈希 {doc['root_hash']}"
                  + (f" → {folder}" if folder else ""))


@log_app.command("verify")
def log_verify(
    checkpoint: Annotated[list[Path] | None, typer.Option("--checkpoint", help="另行保存的检查点文件")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """从事件重新计算 Merkle 树，核验每个检查点的签名及与当前日志的一致性。"""
    from archive.eventlog import verify_log
    from gongu.pipeline.archiving import trusted_firm_certs

    with opened() as archive:
        report = verify_log(archive.catalog, extra_checkpoints=list(checkpoint or []),
                            export_dir=archive.config.checkpoint_dir, trusted=trusted_firm_certs(archive))
        from archive.join import joined_log_problems

        report.problems += joined_log_problems(archive)  # the old logs of joined archives, kept beside this one
    if as_json:
        console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for p in report.problems:
            console.print(f"[red]✗[/] {escape(p)}")
        for w in report.warnings:
            console.print(f"[yellow]![/] {escape(w)}")
        console.print(f"日志 {report.size} 个事件，根哈希 {report.root}；核验检查点 {report.checkpoints_checked} 个："
                      + ("一致" if report.ok else "发现篡改"))
    if not report.ok:
        raise typer.Exit(1)
