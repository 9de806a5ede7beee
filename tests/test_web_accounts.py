"""Accounts (issue 15 §2): `gongu users add/list/disable/passwd`, Argon2id hashes, the DB-kept rate limit,
the demo accounts, `[web]` settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.accounts import (
    LOCK_MINUTES,
    MAX_FAILURES,
    accounts_table,
    add_account,
    check_login,
    get_account,
)
from archive.catalog import Catalog
from generator.types import SHANGHAI
from gongu.cli.app import app
from gongu.settings import SettingsError, parse_config

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def _catalog(home: Path) -> Catalog:
    return Catalog(home / "archive" / "catalog.sqlite")


def _users(home: Path, *args: str, password: str | None = "cli-pass-123", input: str | None = None):  # noqa: ANN202
    env = {"GONGU_HOME": str(home)}
    if password is not None:
        env["GONGU_PASSWORD"] = password
    return runner.invoke(app, ["users", *args], env=env, input=input)


def test_users_add_list_disable_passwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGU_PASSWORD", raising=False)
    r = _users(tmp_path, "add", "zhang", "--role", "handler", "--role", "proofreader", "--person", "张三")
    assert r.exit_code == 0, r.output
    listed = _users(tmp_path, "list")
    assert "zhang" in listed.output and "张三" in listed.output and "承办（handler）" in listed.output
    cat = _catalog(tmp_path)
    try:
        stored = cat._one(accounts_table.select())
        assert stored is not None and stored["password_hash"].startswith("$argon2id$")
        assert "cli-pass-123" not in stored["password_hash"]
        assert check_login(cat, "zhang", "cli-pass-123", "c1", T0).account is not None
        # passwd from a prompt (typed twice)
        r = _users(tmp_path, "passwd", "zhang", password=None, input="new-pass-456\nnew-pass-456\n")
        assert r.exit_code == 0, r.output
        assert check_login(cat, "zhang", "cli-pass-123", "c1", T0).account is None
        assert check_login(cat, "zhang", "new-pass-456", "c1", T0).account is not None
        assert _users(tmp_path, "disable", "zhang").exit_code == 0
        assert check_login(cat, "zhang", "new-pass-456", "c1", T0).account is None
        assert "已停用" in _users(tmp_path, "list").output
    finally:
        cat.close()


@pytest.mark.parametrize(("args", "message"), [
    (["add", "li", "--role", "boss"], "未知角色"),
    (["add", "li", "--role", "handler"], None),  # then a duplicate below
    (["disable", "nobody"], "尚不存在（本数据目录还没有账户或档案）"),  # a fresh home: no catalog is created
])
def test_refusals_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str | None) -> None:
    r = _users(tmp_path, *args)
    if message is None:
        assert r.exit_code == 0
        r = _users(tmp_path, *args)
        message = "已存在"
    assert r.exit_code == 2
    assert message in "".join(r.output.split())  # rich wraps long lines
    assert "Traceback" not in r.output


def test_short_password_refused(tmp_path: Path) -> None:
    r = _users(tmp_path, "add", "wang", "--role", "admin", password="short")
    assert r.exit_code == 2 and "至少12个字符" in "".join(r.output.split())


def test_registered_people_are_required_when_the_register_exists(tmp_path: Path) -> None:
    (tmp_path / "gongu.toml").write_text('[people]\nnames = ["王志强"]\n', encoding="utf-8")
    r = _users(tmp_path, "add", "wzq", "--role", "handler", "--person", "王小明")
    assert r.exit_code == 2 and "不是gongu.toml的people.names中登记的人员" in "".join(r.output.split())
    assert _users(tmp_path, "add", "wzq", "--role", "handler", "--person", "王志强").exit_code == 0


def test_rate_limit_is_per_username_and_client_and_expires(tmp_path: Path) -> None:
    cat = _catalog(tmp_path)
    try:
        add_account(cat, "chen", password="right-pass-1", roles={"archivist"}, person="陈", now=T0)
        for i in range(MAX_FAILURES - 1):
            assert check_login(cat, "chen", "bad", "10.0.0.1", T0 + timedelta(seconds=i)).locked_until is None
        locked = check_login(cat, "chen", "bad", "10.0.0.1", T0 + timedelta(seconds=10))
        assert locked.account is None and locked.locked_until == T0 + timedelta(seconds=10, minutes=LOCK_MINUTES)
        # the right password during the lock is refused; another client is not locked
        assert check_login(cat, "chen", "right-pass-1", "10.0.0.1", T0 + timedelta(minutes=5)).account is None
        assert check_login(cat, "chen", "right-pass-1", "10.0.0.2", T0 + timedelta(minutes=5)).account is not None
        # a second Catalog object (another worker process) sees the same lock: it is in the database
        other = _catalog(tmp_path)
        try:
            assert check_login(other, "chen", "right-pass-1", "10.0.0.1", T0 + timedelta(minutes=6)).locked_until
        finally:
            other.close()
        # after 15 minutes the right password works again, and a success clears the count
        after = T0 + timedelta(seconds=11, minutes=LOCK_MINUTES)
        assert check_login(cat, "chen", "right-pass-1", "10.0.0.1", after).account is not None
    finally:
        cat.close()


def test_demo_accounts_one_per_role_with_the_examples_people(tmp_path: Path) -> None:
    from gongu.demo.web import demo_accounts
    from gongu.settings import load_settings
    from gongu.web.access import ROLES

    (tmp_path / "gongu.toml").write_text('[people]\nnames = ["王志强", "赵丽"]\n', encoding="utf-8")
    passwords = demo_accounts(load_settings(tmp_path))
    assert set(passwords) == {f"demo-{r}" for r in ROLES} | {"demo-archivist2", "demo-handler2", "demo-appraiser2"}
    cat = _catalog(tmp_path)
    try:
        assert get_account(cat, "demo-handler").person == "王志强"  # registered: the example's handler
        assert get_account(cat, "demo-proofreader").person == "赵丽"
        assert get_account(cat, "demo-rechecker").person == "演示复核"  # not registered here: the demo name
        for username, password in passwords.items():
            assert check_login(cat, username, password, "demo", T0).account is not None
    finally:
        cat.close()
    again = demo_accounts(load_settings(tmp_path))  # a rerun sets new passwords
    assert again.keys() == passwords.keys() and again != passwords


def test_web_settings_are_checked() -> None:
    assert parse_config("[web]\nsecure_cookies = true\nsession_hours = 2\n").web.session_hours == 2
    with pytest.raises(SettingsError, match="web.session_hours"):
        parse_config("[web]\nsession_hours = 0\n")
    with pytest.raises(SettingsError, match="web.secure_cookie"):
        parse_config("[web]\nsecure_cookie = true\n")


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags_and_the_secret_file(tmp_path: Path, secure: bool) -> None:
    from starlette.testclient import TestClient

    from gongu.web.app import SECRET_FILE, create_app

    if secure:
        (tmp_path / "gongu.toml").write_text("[web]\nsecure_cookies = true\nsession_hours = 2\n", encoding="utf-8")
    with TestClient(create_app(tmp_path), base_url="https://127.0.0.1") as client:
        r = client.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert ("secure" in cookie.replace("httponly", "")) is secure
    assert f"max-age={(2 if secure else 8) * 3600}" in cookie
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert "script-src 'self'" in r.headers["content-security-policy"]
    config = (tmp_path / "gongu.toml").read_text() if secure else ""
    assert (tmp_path / SECRET_FILE).read_text().strip() not in config
