"""Workspace accounts on both catalogs (issue 16 §2: "the accounts of the web workspace" move to
PostgreSQL with the catalog): the same Argon2 login, the same DB-kept rate limit, and `gongu store
migrate` carries the accounts over so people log in on the server with the passwords they had."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.accounts import LOCK_MINUTES, MAX_FAILURES, add_account, check_login, set_disabled
from archive.catalog import Catalog, ServerStore
from generator.types import SHANGHAI
from gongu.cli.app import app
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def catalog(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Catalog:  # noqa: F811
    if store_kind == "sqlite":
        return Catalog(tmp_path / "catalog.sqlite")
    url = request.getfixturevalue("pg_cluster").create_database()
    return Catalog(ServerStore(url, files_dir=tmp_path))


def test_login_rate_limit_and_disable_behave_the_same_on_either_store(catalog: Catalog) -> None:
    add_account(catalog, "zhaoli", password="correct horse 1", roles={"proofreader"}, person="赵丽", now=T0)
    ok = check_login(catalog, "zhaoli", "correct horse 1", "10.0.0.5", T0)
    assert ok.account is not None and ok.account.roles == frozenset({"proofreader"})

    # MAX_FAILURES wrong passwords from one client lock that pair; the lock refuses even the right one
    outcomes = [check_login(catalog, "zhaoli", f"wrong {i}", "10.0.0.5", T0) for i in range(MAX_FAILURES)]
    assert all(o.account is None for o in outcomes)
    assert [o.locked_until is not None for o in outcomes] == [False] * (MAX_FAILURES - 1) + [True]
    assert outcomes[-1].locked_until == T0 + timedelta(minutes=LOCK_MINUTES)
    assert check_login(catalog, "zhaoli", "correct horse 1", "10.0.0.5", T0).account is None
    # another client is not locked out by someone else's guessing, and the lock ends on time
    assert check_login(catalog, "zhaoli", "correct horse 1", "10.0.0.9", T0).account is not None
    later = T0 + timedelta(minutes=LOCK_MINUTES, seconds=1)
    assert check_login(catalog, "zhaoli", "correct horse 1", "10.0.0.5", later).account is not None

    set_disabled(catalog, "zhaoli")
    assert check_login(catalog, "zhaoli", "correct horse 1", "10.0.0.9", later).account is None


def test_store_migrate_carries_the_accounts_and_their_passwords(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "archive").mkdir(parents=True)
    lite = Catalog(home / "archive" / "catalog.sqlite")
    add_account(lite, "zhouj", password="archive pass 7", roles={"archivist"}, person="周静", now=T0)
    add_account(lite, "liujg", password="approve pass 9", roles={"approver", "rechecker"}, person="刘建国", now=T0)
    lite.close()

    monkeypatch.setenv("GONGU_HOME", str(home))
    result = CliRunner().invoke(app, ["store", "migrate", "--to", pg_url])
    assert result.exit_code == 0, result.output

    server = Catalog(ServerStore(pg_url, files_dir=tmp_path / "packages"))
    moved = check_login(server, "liujg", "approve pass 9", "127.0.0.1", T0).account
    assert moved is not None and moved.person == "刘建国" and moved.roles == frozenset({"approver", "rechecker"})
    assert check_login(server, "zhouj", "not the password", "127.0.0.1", T0).account is None
    assert check_login(server, "zhouj", "archive pass 7", "127.0.0.1", T0).account is not None


def test_web_pages_say_when_the_shared_server_is_down_and_work_again_after(tmp_path: Path) -> None:
    """Issue 16 §3 for the workspace: the PostgreSQL server stops under a logged-in session. Pages answer
    503 with the reason (never a traceback or a bare 500); once the server is back the same session and
    the same app carry on — the catalog and the search engine reconnect on their own."""
    from starlette.testclient import TestClient

    from gongu.web.app import create_app
    from tests import pgkit
    from tests.webkit import csrf_from, make_account

    with pgkit.cluster() as pg:
        home = tmp_path / "home"
        home.mkdir()
        (home / "gongu.toml").write_text(f'[store]\nurl = "{pg.create_database()}"\nconnect_timeout = 2\n',
                                         encoding="utf-8")
        make_account(home, "zhouj", {"archivist"}, "周静", "archive pass 7")
        with TestClient(create_app(home), base_url="https://127.0.0.1") as client:
            token = csrf_from(client.get("/login").text)
            client.post("/login", data={"username": "zhouj", "password": "archive pass 7", "csrf_token": token})
            up = client.get("/archive/search", params={"q": "边坡坍塌"})
            assert up.status_code == 200 and "共 <strong>0</strong> 件" in up.text
            pg.stop()
            for path in ("/archive/search?q=边坡坍塌", "/cases"):
                down = client.get(path)
                assert down.status_code == 503, path
                assert "数据库暂时不可用" in down.text and "Traceback" not in down.text
                assert "127.0.0.1" in down.text  # which server, so the reader knows whom to call
            pg.start()
            again = client.get("/archive/search", params={"q": "边坡坍塌"})
            assert again.status_code == 200 and "共 <strong>0</strong> 件" in again.text


def test_usernames_are_one_form_and_carry_no_invisible_characters(catalog: Catalog) -> None:
    """`Demo-Admin` is the account `demo-admin`, not a second one beside it; `admin\\u200b` and `evil\\u202euser`
    (a zero-width space, a right-to-left override) are refused, naming the character."""
    from datetime import UTC, datetime

    from archive.accounts import AccountError, add_account, check_login

    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    made = add_account(catalog, "Demo-Admin", password="a-long-password-1", roles={"admin"}, person="管理员", now=now)
    assert made.username == "demo-admin"
    for twin in ("demo-admin", "DEMO-ADMIN", "ｄｅｍｏ-admin"):
        with pytest.raises(AccountError, match="已存在"):
            add_account(catalog, twin, password="a-long-password-1", roles={"handler"}, person="甲", now=now)
    for hidden, code in (("admin\u200b", "U+200B"), ("evil\u202euser", "U+202E"), ("a\tb", "U+0009")):
        with pytest.raises(AccountError, match=re.escape(code)):
            add_account(catalog, hidden, password="a-long-password-1", roles={"handler"}, person="甲", now=now)
    # the stored form logs in whatever the case typed
    assert check_login(catalog, "DEMO-Admin", "a-long-password-1", "127.0.0.1", now).account is not None


def test_the_last_admin_keeps_the_role(catalog: Catalog) -> None:
    from datetime import UTC, datetime

    from archive.accounts import AccountError, add_account, set_disabled, set_roles

    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    add_account(catalog, "root1", password="a-long-password-1", roles={"admin"}, person="管理员甲", now=now)
    with pytest.raises(AccountError, match="最后一个"):
        set_roles(catalog, "root1", {"handler"})
    with pytest.raises(AccountError, match="最后一个"):
        set_disabled(catalog, "root1")
    add_account(catalog, "root2", password="a-long-password-1", roles={"admin"}, person="管理员乙", now=now)
    assert "admin" not in set_roles(catalog, "root1", {"handler"}).roles  # a second admin remains
    with pytest.raises(AccountError, match="最后一个"):
        set_roles(catalog, "root2", {"archivist"})
