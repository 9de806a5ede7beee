"""`make demo`: demo accounts for the web workspace, one per role, printed with the URL and
how to start the server. Each run sets new random passwords: they are printed here and nowhere else."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import update

from archive.accounts import (
    account_grants_table,
    accounts_table,
    add_account,
    get_account,
    set_disabled,
    set_password,
)
from archive.catalog import Catalog
from gongu.output import console
from gongu.pipeline.archiving import open_store
from gongu.settings import Settings, load_settings
from gongu.web.access import ROLES

# demo person names (fictional); a firm registers its own people in gongu.toml people.names
DEMO_PEOPLE = {"handler": "演示承办", "proofreader": "演示校对", "rechecker": "演示复核", "approver": "演示审核",
               "archivist": "演示档案员", "appraiser": "演示鉴定人", "reviewer": "演示鉴定复核", "admin": "演示管理员",
               "supervisor": "演示公估主管", "forensic_supervisor": "演示鉴定主管"}
# the second archivist: disposal needs two different accounts (one proposes, another approves); the second
# handler and appraiser: each person named on a case confirms their own signature (「确认署名」) before issue
EXTRA = {"demo-archivist2": ("archivist", "演示档案员乙"), "demo-handler2": ("handler", "演示承办乙"),
         "demo-appraiser2": ("appraiser", "演示鉴定人乙")}
# Persons of the bundled examples (registered in the demo home's people.names, with demo signing keys):
# the slope-collapse example's two handlers and three review levels, a forensic example's two appraisers
# and its reviewer, so demo accounts can work those cases through the pages, each under its own name.
EXAMPLE_PEOPLE = {"demo-handler": "王志强", "demo-handler2": "陈晓梅", "demo-proofreader": "赵丽",
                  "demo-rechecker": "孙立军", "demo-approver": "刘建国", "demo-appraiser": "刘国华",
                  "demo-appraiser2": "陈丽君", "demo-reviewer": "黄敏", "demo-archivist": "周静",
                  "demo-archivist2": "钟文华"}


def _settle(catalog: Catalog, username: str, now: datetime) -> None:
    """Demo only: the one person running `make demo` is every demo person, so each demo password counts
    as its person's own and its grants as confirmed — the demo can show disposal and review at once. A
    real account waits for its person's own password and a second admin (archive/accounts.py)."""
    account = get_account(catalog, username)
    assert account is not None
    with catalog.write():
        conn = catalog._writing()
        conn.execute(update(accounts_table).where(accounts_table.c.id == account.id).values(password_own=1))
        conn.execute(update(account_grants_table).where(account_grants_table.c.account_id == account.id,
                                                        account_grants_table.c.confirmed_by.is_(None))
                     .values(confirmed_by="make demo（演示）", confirmed_at=now.isoformat()))


def demo_accounts(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> dict[str, str]:
    """Create (or re-enable) the demo accounts with fresh passwords; returns username → password."""
    wanted = {f"demo-{role}": (role, DEMO_PEOPLE[role]) for role in ROLES} | EXTRA
    registered = load_settings(settings.home).people  # the demo wrote gongu.toml after `settings` was read
    for username, person in EXAMPLE_PEOPLE.items():
        if registered.find(person):
            wanted[username] = (wanted[username][0], person)
    catalog = open_store(settings)
    passwords: dict[str, str] = {}
    try:
        from generator.clock import SYSTEM_CLOCK
        from generator.types import SHANGHAI

        now = SYSTEM_CLOCK.now().astimezone(SHANGHAI)
        for username, (role, person) in wanted.items():
            password = secrets.token_urlsafe(9)
            if get_account(catalog, username) is None:
                add_account(catalog, username, password=password, roles={role}, person=person, now=now,
                            by="make demo")
            else:
                set_password(catalog, username, password, by="make demo", now=now)
                set_disabled(catalog, username, False)
            _settle(catalog, username, now)
            passwords[username] = password
    finally:
        catalog.close()
    console.print(f"启动工作台：GONGU_HOME={settings.home} gongu serve --host {host} --port {port}")
    console.print(f"然后打开 http://{host}:{port}/ ，用下列演示账户登录（密码每次运行 make demo 重新生成）：")
    for username, password in passwords.items():
        role = wanted[username][0]
        console.print(f"  {username:<18} {password:<14} {ROLES[role]}（{role}）")
    return passwords
