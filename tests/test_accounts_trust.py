"""Accounts people can trust: passwords of at least 12 characters and not common, a per-client limit on
failed logins across usernames, `gongu users roles`, server-side sessions that end with the password,
the roles or the account, and the account side of the two-person rule (own password + a second admin
or [accounts] grant_delay_hours)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.accounts import (
    CLIENT_MAX_FAILURES,
    COMMON_PASSWORDS,
    LOCK_MINUTES,
    AccountError,
    add_account,
    check_login,
    check_password,
    common_password,
    confirm_grants,
    decision_blocker,
    get_account,
    grants,
    set_disabled,
    set_password,
    set_roles,
)
from archive.catalog import Catalog
from archive.sessions import end_session, session_account, start_session
from generator.types import SHANGHAI
from gongu.cli.app import app
from gongu.settings import SettingsError, parse_config

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
GOOD = "lotus-bridge-harbour-4"


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "archive" / "catalog.sqlite")
    yield catalog
    catalog.close()


# ── passwords ──

@pytest.mark.parametrize("password", [
    "12345678",          # the example: too short
    "12345678901",       # 11 characters
    "123456789012",      # digits only
    "password1234",      # a listed word with digits after it
    "Password2024!",     # case and punctuation do not hide it
    "iloveyou1314",      # listed word + digits
    "woaini1314520",     # listed in the Chinese common list as it is
    "qwertyqwerty",      # one short piece repeated
    "abcabcabcabc",
    "1qaz2wsx3edc",      # keyboard walk of the lists
])
def test_short_or_common_passwords_are_refused(password: str) -> None:
    with pytest.raises(AccountError, match="至少 12 个字符|过于常见"):
        check_password(password)


def test_a_long_uncommon_password_is_accepted_and_the_list_is_real() -> None:
    check_password(GOOD)
    check_password("砚台-长江-2046-秋")
    words = [w for w in COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines() if w and not w.startswith("#")]
    assert len(words) > 2000 and len(set(words)) == len(words)
    assert {"123456", "password", "qwerty", "5201314", "woaini1314"} <= set(words)
    assert not common_password(GOOD)


def test_a_password_holding_the_username_is_refused() -> None:
    with pytest.raises(AccountError, match="用户名"):
        check_password("zhangsan-1986-home", "ZhangSan")


def test_the_cli_refuses_a_common_password_with_exit_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["users", "add", "zhou", "--role", "handler"],
                      env={"GONGU_HOME": str(tmp_path), "GONGU_PASSWORD": "password12345"})
    assert r.exit_code == 2 and "过于常见" in r.output and "Traceback" not in r.output


# ── the per-client limit across usernames ──

def test_one_client_trying_many_usernames_is_locked(cat: Catalog) -> None:
    add_account(cat, "chen", password=GOOD, roles={"archivist"}, person="陈", now=T0)
    # one password against 20 different names: no pair reaches 5 failures, the client reaches 20
    for i in range(CLIENT_MAX_FAILURES - 1):
        out = check_login(cat, f"user{i}", "Spring2026!!", "10.0.0.9", T0 + timedelta(seconds=i))
        assert out.account is None and out.locked_until is None
    last = check_login(cat, "user-last", "Spring2026!!", "10.0.0.9", T0 + timedelta(seconds=30))
    assert last.client_locked and last.locked_until == T0 + timedelta(seconds=30, minutes=LOCK_MINUTES)
    # during the lock even a right password from that client is refused; another client logs in
    during = check_login(cat, "chen", GOOD, "10.0.0.9", T0 + timedelta(minutes=5))
    assert during.account is None and during.client_locked
    assert check_login(cat, "chen", GOOD, "10.0.0.7", T0 + timedelta(minutes=5)).account is not None
    # after the lock the client may log in again
    assert check_login(cat, "chen", GOOD, "10.0.0.9", T0 + timedelta(seconds=31, minutes=LOCK_MINUTES)).account


def test_failures_spread_beyond_the_window_do_not_lock_the_client(cat: Catalog) -> None:
    # 19 failures, then one 16 minutes later: the window restarted, no lock
    for i in range(CLIENT_MAX_FAILURES - 1):
        check_login(cat, f"user{i}", "x", "10.0.0.8", T0 + timedelta(seconds=i))
    later = check_login(cat, "user-late", "x", "10.0.0.8", T0 + timedelta(minutes=LOCK_MINUTES + 1))
    assert later.locked_until is None and not later.client_locked


# ── gongu users roles ──

def _users(home: Path, *args: str):  # noqa: ANN202
    return runner.invoke(app, ["users", *args], env={"GONGU_HOME": str(home), "GONGU_PASSWORD": GOOD})


def test_users_roles_adds_and_removes(tmp_path: Path) -> None:
    assert _users(tmp_path, "add", "root1", "--role", "admin", "--person", "管理员甲").exit_code == 0
    assert _users(tmp_path, "add", "wu", "--role", "handler", "--role", "proofreader", "--person", "吴敏").exit_code == 0
    r = _users(tmp_path, "roles", "wu", "--add", "rechecker", "--remove", "proofreader")
    assert r.exit_code == 0, r.output
    catalog = Catalog(tmp_path / "archive" / "catalog.sqlite")
    try:
        assert get_account(catalog, "wu").roles == frozenset({"handler", "rechecker"})
        assert [g.what for g in grants(catalog, "wu")] == ["handler", "rechecker"]  # proofreader's grant went
    finally:
        catalog.close()


@pytest.mark.parametrize(("args", "message"), [
    (["roles", "wu", "--add", "boss"], "未知角色"),
    (["roles", "wu", "--remove", "approver"], "没有角色：approver"),
    (["roles", "wu"], "--add或--remove"),
    (["roles", "nobody", "--add", "handler"], "没有账户nobody"),
    (["roles", "root1", "--add", "handler", "--remove", "admin"], "最后一个可用的管理员"),
])
def test_users_roles_refusals_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    assert _users(tmp_path, "add", "root1", "--role", "admin", "--person", "管理员甲").exit_code == 0
    assert _users(tmp_path, "add", "wu", "--role", "handler", "--person", "吴敏").exit_code == 0
    r = _users(tmp_path, *args)
    assert r.exit_code == 2 and message in "".join(r.output.split()) and "Traceback" not in r.output


# ── sessions ──

def test_sessions_end_with_logout_password_roles_and_disable(cat: Catalog) -> None:
    made = add_account(cat, "zhao", password=GOOD, roles={"proofreader"}, person="赵丽", now=T0)
    add_account(cat, "root", password=GOOD + "x", roles={"admin"}, person="管理员", now=T0)
    one = start_session(cat, made.id, T0)
    assert session_account(cat, one) == made.id and session_account(cat, one + "x") is None
    end_session(cat, one)  # logout
    assert session_account(cat, one) is None
    two, three = start_session(cat, made.id, T0), start_session(cat, made.id, T0)
    set_password(cat, "zhao", "river-stone-lantern-8", own=True, now=T0)
    assert session_account(cat, two) is None and session_account(cat, three) is None
    four = start_session(cat, made.id, T0)
    set_roles(cat, "zhao", {"proofreader"}, now=T0)  # no change: the session stays
    assert session_account(cat, four) == made.id
    set_roles(cat, "zhao", {"proofreader", "rechecker"}, now=T0)
    assert session_account(cat, four) is None
    five = start_session(cat, made.id, T0)
    set_disabled(cat, "zhao", True)
    assert session_account(cat, five) is None


def test_a_login_clears_the_accounts_expired_sessions(cat: Catalog) -> None:
    made = add_account(cat, "qian", password=GOOD, roles={"handler"}, person="钱", now=T0)
    old = start_session(cat, made.id, T0)
    recent = start_session(cat, made.id, T0 + timedelta(hours=7))
    start_session(cat, made.id, T0 + timedelta(hours=8, minutes=1), max_hours=8)
    assert session_account(cat, old) is None and session_account(cat, recent) == made.id


# ── the two-person rule, account side ──

def test_a_new_account_decides_only_after_its_own_password_and_a_second_admin_or_the_wait(cat: Catalog) -> None:
    add_account(cat, "root1", password=GOOD, roles={"admin"}, person="管理员甲", now=T0 - timedelta(days=30))
    add_account(cat, "root2", password=GOOD, roles={"admin"}, person="管理员乙", now=T0 - timedelta(days=30))
    add_account(cat, "arch1", password="admin-chosen-pw-1", roles={"archivist"}, person="档案员甲", now=T0, by="root1")
    # the password is the admin's: blocked whatever the time
    assert "本人尚未设置自己的密码" in decision_blocker(cat, "arch1", T0 + timedelta(days=10), 72)
    set_password(cat, "arch1", "own-choice-harbour-2", own=True, now=T0 + timedelta(hours=1))
    blocked = decision_blocker(cat, "arch1", T0 + timedelta(hours=2), 72)
    assert blocked is not None and "未满 72 小时" in blocked and "还差约 70 小时" in blocked and "root1" in blocked
    # the wait: 72 hours after the grant it counts (71 h 59 min: not yet)
    assert decision_blocker(cat, "arch1", T0 + timedelta(hours=71, minutes=59), 72) is not None
    assert decision_blocker(cat, "arch1", T0 + timedelta(hours=72), 72) is None
    # the granting admin cannot confirm its own grant; the account cannot confirm itself; another admin can
    with pytest.raises(AccountError, match="另一名管理员"):
        confirm_grants(cat, "arch1", by="root1", now=T0 + timedelta(hours=3))
    with pytest.raises(AccountError, match="只有可用的管理员"):
        confirm_grants(cat, "arch1", by="arch1", now=T0 + timedelta(hours=3))
    assert confirm_grants(cat, "arch1", by="root2", now=T0 + timedelta(hours=3)) == 1
    assert decision_blocker(cat, "arch1", T0 + timedelta(hours=3), 72) is None


def test_a_new_role_or_an_admin_reset_password_waits_again(cat: Catalog) -> None:
    add_account(cat, "root1", password=GOOD, roles={"admin"}, person="管理员甲", now=T0 - timedelta(days=30))
    add_account(cat, "li", password="admin-chosen-pw-1", roles={"proofreader"}, person="李", now=T0 - timedelta(days=10))
    set_password(cat, "li", "own-choice-harbour-2", own=True, now=T0 - timedelta(days=9))
    assert decision_blocker(cat, "li", T0, 72) is None
    set_roles(cat, "li", {"proofreader", "approver"}, by="root1", now=T0)
    # the new role waits; the old one decides as before
    assert "角色 approver" in decision_blocker(cat, "li", T0 + timedelta(hours=1), 72, role="approver")
    assert decision_blocker(cat, "li", T0 + timedelta(hours=1), 72, role="proofreader") is None
    # an admin resets the password: nothing counts until the person sets their own and the reset is confirmed/old
    set_password(cat, "li", "admin-reset-pw-77", by="root1", now=T0 + timedelta(days=5))
    assert not get_account(cat, "li").password_own
    assert "本人尚未设置" in decision_blocker(cat, "li", T0 + timedelta(days=5), 72, role="proofreader")
    set_password(cat, "li", "own-choice-harbour-3", own=True, now=T0 + timedelta(days=5, hours=1))
    assert "管理员重设的密码" in decision_blocker(cat, "li", T0 + timedelta(days=5, hours=2), 72, role="proofreader")
    assert decision_blocker(cat, "li", T0 + timedelta(days=8, hours=1), 72, role="proofreader") is None


def test_grant_delay_hours_is_a_setting() -> None:
    assert parse_config("").accounts.grant_delay_hours == 72
    assert parse_config("[accounts]\ngrant_delay_hours = 24\n").accounts.grant_delay_hours == 24
    with pytest.raises(SettingsError, match="accounts.grant_delay_hours"):
        parse_config("[accounts]\ngrant_delay_hours = -1\n")


def test_the_demo_accounts_may_decide_at_once(tmp_path: Path) -> None:
    """`make demo` is one person trying every role: its accounts count as settled (own password,
    grants confirmed), so disposal and review can be shown without waiting 72 hours."""
    from gongu.demo.web import demo_accounts
    from gongu.settings import load_settings

    passwords = demo_accounts(load_settings(tmp_path))
    catalog = Catalog(tmp_path / "archive" / "catalog.sqlite")
    try:
        now = datetime.now(SHANGHAI)
        for username in ("demo-archivist", "demo-archivist2", "demo-proofreader"):
            assert decision_blocker(catalog, username, now, 72) is None
            assert check_login(catalog, username, passwords[username], "demo", now).account.password_own
    finally:
        catalog.close()
