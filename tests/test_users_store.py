"""Every `gongu users` sub-command works on the configured store (gongu/pipeline/archiving.py open_store): on a
home whose `[store] url` names PostgreSQL they read and write the server — a password changed in one
office works in the other — and no SQLite catalog appears in the home. Errors from the server say what
to do for their cause: refused credentials → check them; unreachable → retry later."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.accounts import check_login, get_account
from archive.catalog import CatalogUnavailable
from archive.events import Listeners
from generator.types import SHANGHAI
from gongu.cli.app import app
from gongu.pipeline.archiving import open_store
from gongu.settings import load_settings

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
FIRST, SECOND = "first-long-passphrase-1", "second-long-passphrase-2"


def _home(base: Path, url: str) -> Path:
    base.mkdir(parents=True)
    (base / "gongu.toml").write_text(f'[store]\nurl = "{url}"\nconnect_timeout = 3\n'
                                     '[people]\nnames = ["王志强", "周静"]\n', encoding="utf-8")
    return base


def _users(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str, password: str | None = None) -> tuple[int, str]:
    monkeypatch.setenv("GONGU_HOME", str(home))
    if password is not None:
        monkeypatch.setenv("GONGU_PASSWORD", password)
    result = runner.invoke(app, ["users", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _login(home: Path, username: str, password: str) -> bool:
    catalog = open_store(load_settings(home))
    try:
        return check_login(catalog, username, password, "test", T0).account is not None
    finally:
        catalog.close()


def _roles(home: Path, username: str) -> set[str]:
    catalog = open_store(load_settings(home))
    try:
        account = get_account(catalog, username)
        assert account is not None
        return set(account.roles)
    finally:
        catalog.close()


def test_every_users_command_reads_and_writes_the_server(pg_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    office_a, office_b = _home(tmp_path / "a", pg_url), _home(tmp_path / "b", pg_url)
    code, out = _users(monkeypatch, office_a, "add", "zhou", "--role", "archivist", "--person", "周静", password=FIRST)
    assert code == 0, out
    code, out = _users(monkeypatch, office_a, "add", "admin1", "--role", "admin", "--person", "王志强", password=FIRST)
    assert code == 0, out
    # office B, the same server: sees both accounts
    code, out = _users(monkeypatch, office_b, "list")
    assert code == 0 and "zhou" in out and "admin1" in out and "周静" in out, out
    # a password changed in office A works in office B, the old one nowhere
    code, out = _users(monkeypatch, office_a, "passwd", "zhou", password=SECOND)
    assert code == 0, out
    assert _login(office_b, "zhou", SECOND) and not _login(office_b, "zhou", FIRST)
    # roles changed in office B are the server's: office A reads them back
    code, out = _users(monkeypatch, office_b, "roles", "zhou", "--add", "handler", "--remove", "archivist")
    assert code == 0 and "handler" in out, out
    assert _roles(office_a, "zhou") == {"handler"}
    code, out = _users(monkeypatch, office_b, "roles", "zhou", "--remove", "approver")  # a role zhou lacks
    assert code == 2 and "没有角色" in out, out
    assert _roles(office_a, "zhou") == {"handler"}
    code, out = _users(monkeypatch, office_b, "disable", "zhou")
    assert code == 0, out
    code, out = _users(monkeypatch, office_a, "list")
    assert code == 0 and "已停用" in out, out
    assert not _login(office_a, "zhou", SECOND)
    # an unknown account is the server's answer, not an empty SQLite file's
    code, out = _users(monkeypatch, office_b, "passwd", "nobody", password=SECOND)
    assert code == 2 and "nobody" in out, out
    for home in (office_a, office_b):
        assert list(home.rglob("*.sqlite*")) == [], list(home.rglob("*"))


def test_a_sqlite_home_gets_no_catalog_from_reading_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    code, out = _users(monkeypatch, home, "list")
    assert code == 2 and "尚不存在" in out, out
    assert not (home / "archive").exists()
    code, out = _users(monkeypatch, home, "add", "zhou", "--role", "archivist", password=FIRST)
    assert code == 0 and (home / "archive" / "catalog.sqlite").is_file(), out


def test_refused_credentials_are_told_apart_from_an_unreachable_server(pg_url: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    wrong_role = pg_url.replace("postgresql://postgres@", "postgresql://no_such_role@")
    code, out = _users(monkeypatch, _home(tmp_path / "a", wrong_role), "list")
    flat = out.replace("\n", "")
    assert code == 2 and "拒绝登录" in flat and "检查" in flat and "PGPASSWORD" in flat, out
    assert "服务器恢复后" not in flat and "稍后" not in flat and "Traceback" not in out, out

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = _users(monkeypatch, _home(tmp_path / "b", f"postgresql://postgres@127.0.0.1:{port}/x"), "list")
    flat = out.replace("\n", "")
    assert code == 2 and "无法连接" in flat and "稍后" in flat and "拒绝登录" not in flat, out


def test_a_failed_follow_up_names_the_event_and_never_an_object_address() -> None:
    from archive.catalog import Event

    class Maintainer:  # like index.maintenance.IndexMaintainer: a callable object without __name__
        def __call__(self, event: Event, root: Path) -> None:
            raise OSError("connection to server lost")

    failures = Listeners([Maintainer()]).notify([Event(7, "ingest", T0.isoformat(), "甲", "C-1", "R-1")], Path("."))
    assert failures == ["事件 7（归档入库）已写入，其后续更新未完成：connection to server lost"]

    def lost(event: Event, root: Path) -> None:  # the server went away after the commit
        raise CatalogUnavailable("无法连接目录数据库服务器 …：本次操作未写入")

    (failure,) = Listeners([lost]).notify([Event(8, "hold", T0.isoformat(), "甲", "C-1", None)], Path("."))
    assert "已写入" in failure and "gongu index sync" in failure and "未写入" not in failure
