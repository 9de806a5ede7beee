"""`gongu assign`: a supervisor assigns or hands over a duty of a case in progress — its handler or
appraiser, or the reviewer of one level — from the command line, by the pipeline function the case
page's 「指派与移交」 form calls (gongu/pipeline/assigning.py: the same rules, the same version check) and
with the same event in the case's trail.

The supervisor is named by `--by` (else GONGU_USER, else the login name) and gives the decision with
their own credential (gongu/access/credentials.py: their account password from GONGU_PASSWORD or a
prompt, or their signing key), as every decision of a person on the command line. Exit 0 assigned, 2
refused (every reason in Chinese), the case changed since `--expect-version`, or a credential missing."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape

from gongu.output import console, err_console, fail

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root


def _duty(value: str, kind: str) -> str | None:
    """The duty `value` names on a case of `kind`: a duty (handler, appraiser, proofread, recheck,
    approve), or the role that takes exactly one duty there (proofreader → proofread; reviewer → a
    forensic case's recheck); None when it names none."""
    from gongu.pipeline.assigning import duties_of, duty_roles

    duties = duties_of(kind)
    if value in duties:
        return value
    taken = [d for d in duties if value in duty_roles(kind, d)]
    return taken[0] if len(taken) == 1 else None


@commands.command("assign")
def assign_cmd(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(help="案件编号（工作台中的在办案件）", show_default=False)],
    role: Annotated[str, typer.Option("--role", help="职责：handler 承办人员 | appraiser 鉴定人 | proofread 校对 | "
                                                     "recheck 复核 | approve 审核（也可写角色名，如 proofreader）",
                                      show_default=False)],
    to: Annotated[str, typer.Option("--to", help="接手的账户名（须具有该职责所需的角色）", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="指派或移交的原因（记入案件的操作记录）", show_default=False)],
    by: Annotated[str, typer.Option("--by", help="主管姓名（缺省为 GONGU_USER 或登录名）；须本人凭据：具有该类案件主管角色的"
                                                 "账户密码（提示输入或环境变量 GONGU_PASSWORD）或其签名密钥")] = "",
    expect_version: Annotated[int | None, typer.Option("--expect-version", help="案件应有的版本号（gongu assign --json "
                                                       "输出的 version）；案件已被他人更新时拒绝",
                                                       show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """指派或移交在办案件的职责（承办人员 / 鉴定人，或某一级审核人），写明原因；由该类案件的主管以本人凭据操作，
    记入案件的操作记录。被拒绝时列出全部原因，退出码 2。"""
    from archive.accounts import get_account
    from archive.workspace import get_case
    from generator.clock import SYSTEM_CLOCK, Clock
    from gongu.access.case_access import KIND_ROLES
    from gongu.access.credentials import CLI_CLIENT, confirm_person
    from gongu.cli.archive import _default_user
    from gongu.pipeline.archiving import build_archive
    from gongu.pipeline.assigning import assign_case, duties_of, trail_entry
    from gongu.pipeline.workspace import CaseConflict, WorkspaceRefused
    from gongu.settings import load_settings

    clock = ctx.obj if isinstance(ctx.obj, Clock) else SYSTEM_CLOCK  # tests pass a FixedClock; nothing else moves time
    settings = load_settings()
    archive = build_archive(settings, clock=clock, catch_up=False)
    try:
        catalog = archive.catalog
        row = get_case(catalog, case_id)
        if row is None or row.kind not in KIND_ROLES:
            fail(escape(f"工作台中没有案件 {case_id}"))
        duty = _duty(role.strip(), row.kind)
        if duty is None:
            choices = "、".join(f"{d}（{t}）" for d, t in duties_of(row.kind).items())
            fail(escape(f"--role 取值无效：{role!r}；此案可选：{choices}"))
        person = settings.people.require(by or _default_user())
        supervisor = KIND_ROLES[row.kind].supervisor
        # the supervisor's own credential, before anything is written
        credential = confirm_person(catalog, settings, person, roles={supervisor},
                                    decision={"action": "assign", "case_id": case_id, "duty": duty, "to": to,
                                              "reason": reason},
                                    now=archive.now())
        account = get_account(catalog, str(credential["account"]))
        assert account is not None
        try:
            # the version the command read (or the one the caller saw): a change in between is a conflict
            done = assign_case(catalog, case_id, duty=duty, assignee=to, reason=reason, account=account,
                               now=archive.now().isoformat(timespec="seconds"),
                               expected_version=row.version if expect_version is None else expect_version,
                               home=settings.home)
        except CaseConflict as exc:
            fail(escape("；".join(exc.reasons)))
        except WorkspaceRefused as exc:
            err_console.print(f"[bold red]未能指派[/]（案件 {escape(case_id)}）：")
            for why in exc.reasons:
                err_console.print(f"  • {escape(why)}")
            raise typer.Exit(2) from None
        action, detail = trail_entry(done)
        detail.pop("case_id")
        number = detail.pop("report_number")
        details: dict[str, Any] = {"action": action, "client": CLI_CLIENT, "account": account.username,
                                   "person": account.person, **detail, "credential": credential}
        with catalog.write():
            event = catalog.append_event("web", archive.now(), account.username, case_id, number, details)
        archive.committed([event])
    finally:
        archive.close()
    a, before = done.assignment, done.previous
    if as_json:
        console.print_json(json.dumps({
            "case_id": case_id, "action": action, "duty": a.duty, "duty_title": a.duty_title, "to": a.account,
            "to_person": a.person, "previous": before.account if before else None,
            "previous_person": before.person if before else None, "reason": a.reason, "by": account.username,
            "by_person": account.person, "assigned_at": a.assigned_at, "version": done.row.version,
            "event": event.seq}, ensure_ascii=False))
        return
    verb = "移交" if before else "指派"
    was = f"（原为 {before.person}（{before.account}））" if before else ""
    console.print("[green]✓[/] " + escape(f"已{verb}：案件 {case_id} 的{a.duty_title} → {a.person}（{a.account}）{was}；"
                                          f"原因：{a.reason}；案件版本 {done.row.version}"))
