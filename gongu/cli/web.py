"""`gongu serve` and `gongu users …`: the web workspace server and its accounts."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gongu.output import GonguError, console, print_table

PASSWORD_ENV = "GONGU_PASSWORD"

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

users = typer.Typer(help="工作台账户：添加、列出、停用、改密码、改角色、设邮箱", no_args_is_help=True)
commands.add_typer(users, name="users")


class AccountRefused(GonguError):
    plain = True


@commands.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址；缺省只在本机回环地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8080,
    proxy_headers: Annotated[bool, typer.Option("--proxy-headers/--no-proxy-headers",
                                                help="信任反向代理的 X-Forwarded-For/Proto")] = False,
    forwarded_allow_ips: Annotated[str, typer.Option(help="可信反向代理地址（逗号分隔）")] = "127.0.0.1",
    workers: Annotated[int | None, typer.Option(
        "--workers", min=0, help="工作台进程内运行后台任务的线程数；缺省：SQLite 数据目录 1 个，PostgreSQL 数据目录 0 个"
                                 "（由 gongu worker 进程运行）；0 = 不运行（另行启动 gongu worker）")] = None,
) -> None:
    """启动网页工作台（uvicorn）。签章口令只从服务器环境变量读取，从不在网页中输入。"""
    import uvicorn

    from gongu.web.app import create_app, worker_count

    web = create_app(workers=workers)
    settings = web.state.web.settings
    threads = worker_count(settings, workers)
    jobs = f"后台任务线程 {threads} 个" if threads else "本进程不运行后台任务（请启动 gongu worker）"
    console.print(f"Gongu 工作台：http://{host}:{port}/ （数据目录 {settings.home}；{jobs}；Ctrl-C 停止）")
    uvicorn.run(web, host=host, port=port, proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips,
                log_level="warning", access_log=False)


def _catalog(create: bool = False):  # noqa: ANN202 — archive.catalog.Catalog
    """The home's catalog through the one store factory: the PostgreSQL server when `[store] url` is set.
    Only `users add` may create a new SQLite catalog."""
    from gongu.pipeline.archiving import open_store
    from gongu.settings import load_settings

    return open_store(load_settings(), create=create)


def _password(confirm: bool = True) -> str:
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value
    return typer.prompt("密码", hide_input=True, confirmation_prompt=confirm)


def _now():  # noqa: ANN202
    from generator.clock import SYSTEM_CLOCK
    from generator.types import SHANGHAI

    return SYSTEM_CLOCK.now().astimezone(SHANGHAI)


def _run(func, *args, create: bool = False, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    from archive.accounts import AccountError

    catalog = _catalog(create)
    try:
        return func(catalog, *args, **kwargs)
    except AccountError as exc:
        raise AccountRefused(str(exc)) from None
    finally:
        catalog.close()


@users.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="用户名（登录名）")],
    role: Annotated[list[str], typer.Option("--role", help="角色，可重复：handler proofreader rechecker approver "
                                                        "archivist appraiser reviewer admin")],
    person: Annotated[str | None, typer.Option(help="本人姓名（gongu.toml people.names 中登记的写法）")] = None,
) -> None:
    """添加账户；密码从提示输入或环境变量 GONGU_PASSWORD 读取。"""
    from archive.accounts import add_account
    from gongu.settings import load_settings

    people = load_settings().people
    who = person or name
    if people.names:
        who = people.require(who, "姓名（--person）")
    account = _run(add_account, name, password=_password(), roles=set(role), person=who, now=_now(), create=True)
    console.print(f"[green]✓[/] 已添加账户 {account.username}（{account.person}；{', '.join(sorted(account.roles))}）")


@users.command("list")
def users_list() -> None:
    """列出全部账户及其角色。"""
    from rich.table import Table

    from archive.accounts import list_accounts
    from gongu.web.access import ROLES

    rows = _run(list_accounts)
    if not rows:
        console.print("尚无账户；用 gongu users add NAME --role R 添加")
        return
    table = Table("用户名", "姓名", "角色", "状态", "邮箱")
    for a in rows:
        state = "已停用" if a.disabled else ("启用；待本人设置密码" if not a.password_own else "启用")
        table.add_row(a.username, a.person, "、".join(f"{ROLES.get(r, r)}（{r}）" for r in sorted(a.roles)), state,
                      a.email or "")
    print_table(table)


@users.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """停用账户（其会话随即失效；记录不删除）。"""
    from archive.accounts import set_disabled

    _run(set_disabled, name, True)
    console.print(f"[green]✓[/] 已停用账户 {name}")


@users.command("passwd")
def users_passwd(name: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """修改账户密码（提示输入或 GONGU_PASSWORD）。"""
    from archive.accounts import set_password

    _run(set_password, name, _password(), now=_now())
    console.print(f"[green]✓[/] 已修改账户 {name} 的密码；其会话均已结束，本人下次登录时须改设自己的密码")


@users.command("roles")
def users_roles(
    name: Annotated[str, typer.Argument(help="用户名")],
    add: Annotated[list[str] | None, typer.Option("--add", help="授予角色，可重复")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="取消角色，可重复")] = None,
) -> None:
    """增减账户的角色（其会话随即失效；新授予的角色须经第二名管理员确认或满等待时间才参与双人决定）。"""
    from archive.accounts import get_account, set_roles

    added, removed = set(add or ()), set(remove or ())
    if not added and not removed:
        raise AccountRefused("须用 --add 或 --remove 指明要增减的角色")
    if added & removed:
        raise AccountRefused(f"同一角色不能既增又减：{'、'.join(sorted(added & removed))}")

    def change(catalog, username):  # noqa: ANN001, ANN202
        from archive.accounts import AccountError

        account = get_account(catalog, username)
        if account is None:
            raise AccountError(f"没有账户 {username}（no such account）")
        if removed - account.roles:
            raise AccountError(f"账户 {account.username} 没有角色：{'、'.join(sorted(removed - account.roles))}")
        return set_roles(catalog, username, (set(account.roles) | added) - removed, now=_now())

    account = _run(change, name)
    console.print(f"[green]✓[/] 账户 {account.username} 的角色：{'、'.join(sorted(account.roles))}")


@users.command("email")
def users_email(
    name: Annotated[str, typer.Argument(help="用户名")],
    address: Annotated[str | None, typer.Argument(help="电子邮件地址（接收每日待办提醒）")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="删除该账户的邮箱（提醒只在待办页面显示）")] = False,
) -> None:
    """设置账户的电子邮件地址：配置了 [mail] 时，每日到期提醒发往此地址。"""
    from archive.accounts import set_email

    if clear == (address is not None):
        raise AccountRefused("须给出邮箱地址，或用 --clear 删除邮箱（二者取一）")
    account = _run(set_email, name, None if clear else address)
    shown = account.email or "（无：提醒只在待办页面显示）"
    console.print(f"[green]✓[/] 账户 {account.username}（{account.person}）的邮箱：{shown}")
