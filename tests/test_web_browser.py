"""The workspace core in a real browser (Playwright driving Debian's chromium, issue 15 §4): log in,
wrong password, lockout after 5 failures, session expiry, a disabled account's session, log out; every
action recorded in the tamper-evident log with the account; hostile text shown as text and never run;
screenshots of the main pages for docs/web.md. One server and one browser for the module."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import TimestampSigner

from archive.catalog import Catalog, Event
from gongu.web.app import SECRET_FILE, SESSION_COOKIE
from tests.webkit import browser, login, logout, make_account, screenshot, serve  # noqa: F401 — browser is a fixture

PASSWORD = "browser-pass-1"
HOSTILE = '<script>alert("x")</script><img src=x onerror="window.__pwned=1;alert(2)">王五'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = Path(tmp_path_factory.mktemp("web-home"))
    accounts = {"admin": ({"admin"}, "管理员甲"), "handler1": ({"handler"}, "张三"),
                "locky": ({"archivist"}, "李四"), "hostile": ({"handler"}, HOSTILE),
                "leaver": ({"proofreader"}, "赵六")}
    ids = {name: make_account(home, name, roles, person, PASSWORD).id for name, (roles, person) in accounts.items()}
    with serve(home) as base_url:
        yield {"home": home, "url": base_url, "ids": ids}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811 — the module-scoped browser fixture
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def events(site: dict[str, Any]) -> list[Event]:
    catalog = Catalog(site["home"] / "archive" / "catalog.sqlite", check=False)
    try:
        return [e for e in catalog.events() if e.kind == "web"]
    finally:
        catalog.close()


def actions_of(site: dict[str, Any], actor: str) -> list[str]:
    return [e.details["action"] for e in events(site) if e.actor == actor]


def test_login_shows_the_person_and_logout_ends_the_session(site: dict[str, Any], page: Any) -> None:
    login(page, site["url"], "handler1", PASSWORD)
    assert page.url == site["url"] + "/"
    assert page.inner_text("header .who .person") == "张三"
    logout(page)
    assert page.url.startswith(site["url"] + "/login")
    page.goto(site["url"] + "/")
    assert page.url == site["url"] + "/login?next=/"  # the old session no longer opens pages
    assert actions_of(site, "handler1")[-2:] == ["login", "logout"]
    last = [e for e in events(site) if e.actor == "handler1"][-1]
    assert last.details["account"] == "handler1" and last.details["person"] == "张三"


def test_login_returns_to_the_page_asked_for_and_never_off_site(site: dict[str, Any], page: Any) -> None:
    page.goto(site["url"] + "/accounts")
    assert page.url == site["url"] + "/login?next=/accounts"
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == site["url"] + "/accounts"
    logout(page)
    page.goto(site["url"] + "/login?next=//evil.example/x")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == site["url"] + "/"


def test_wrong_password_is_refused_and_logged(site: dict[str, Any], page: Any) -> None:
    page.goto(site["url"] + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as resp:
        page.click("button[type=submit]")
    assert resp.value.status == 401
    assert "用户名或密码错误" in page.inner_text("main")
    assert page.query_selector("header .who") is None  # not logged in
    failed = [e for e in events(site) if e.details["action"] == "login_failed" and e.actor == "admin"]
    assert failed and failed[-1].details["locked"] is False
    assert "not-the-password" not in json.dumps([e.details for e in events(site)], ensure_ascii=False)


def test_five_failures_lock_the_account_even_for_the_right_password(site: dict[str, Any], page: Any) -> None:
    statuses = []
    for attempt in range(5):
        page.goto(site["url"] + "/login")
        page.fill("input[name=username]", "locky")
        page.fill("input[name=password]", f"wrong-{attempt}")
        with page.expect_response(lambda r: r.request.method == "POST") as resp:
            page.click("button[type=submit]")
        statuses.append(resp.value.status)
    assert statuses == [401, 401, 401, 401, 429]  # the 5th failure locks
    assert "已锁定 15 分钟" in page.inner_text("main")
    page.goto(site["url"] + "/login")
    page.fill("input[name=username]", "locky")
    page.fill("input[name=password]", PASSWORD)  # the right password, during the lock
    with page.expect_response(lambda r: r.request.method == "POST") as resp:
        page.click("button[type=submit]")
    assert resp.value.status == 429 and page.url.startswith(site["url"] + "/login")
    logged = [e.details["locked"] for e in events(site) if e.actor == "locky"]
    assert logged == [False, False, False, False, True, True]


def _cookie(site: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
    """A session cookie signed with the server's key exactly as Starlette's SessionMiddleware does."""
    secret = (site["home"] / SECRET_FILE).read_text().strip()
    data = base64.b64encode(json.dumps(session).encode())
    value = TimestampSigner(secret).sign(data).decode()
    return {"name": SESSION_COOKIE, "value": value, "url": site["url"]}


def _server_session(site: dict[str, Any], account_id: int) -> str:
    """A session recorded in the catalog, as logging in makes one; its id goes into the cookie."""
    from datetime import datetime

    from archive.sessions import start_session

    catalog = Catalog(site["home"] / "archive" / "catalog.sqlite", check=False)
    try:
        return start_session(catalog, account_id, datetime.now().astimezone())
    finally:
        catalog.close()


def test_a_session_older_than_session_hours_is_ended(site: dict[str, Any], page: Any) -> None:
    account_id = site["ids"]["handler1"]
    # a validly signed cookie naming the account but no server-side session logs no one in
    page.context.add_cookies([_cookie(site, {"account_id": account_id, "login_at": int(time.time()), "csrf": "c"})])
    page.goto(site["url"] + "/")
    assert page.url == site["url"] + "/login?next=/"
    sid = _server_session(site, account_id)
    # control: a fresh login time opens the home page, so the cookie itself is a valid one
    page.context.clear_cookies()
    page.context.add_cookies([_cookie(site, {"sid": sid, "login_at": int(time.time()), "csrf": "c"})])
    page.goto(site["url"] + "/")
    assert page.url == site["url"] + "/" and page.inner_text("header .who .person") == "张三"
    # 8 h is the default [web] session_hours: logged in 8 h 1 min ago → sent to the login page
    stale = int(time.time()) - 8 * 3600 - 60
    page.context.clear_cookies()
    page.context.add_cookies([_cookie(site, {"sid": sid, "login_at": stale, "csrf": "c"})])
    page.goto(site["url"] + "/")
    assert page.url == site["url"] + "/login?next=/"


def test_admin_actions_are_recorded_and_a_disabled_account_is_logged_out(site: dict[str, Any], browser: Any,  # noqa: F811
                                                                         page: Any) -> None:
    other = browser.new_context(viewport={"width": 1366, "height": 768})
    leaver = other.new_page()
    login(leaver, site["url"], "leaver", PASSWORD)
    login(page, site["url"], "admin", PASSWORD)
    page.goto(site["url"] + "/accounts")
    page.fill("form.card input[name=username]", "newbie")
    page.fill("form.card input[name=person]", "钱七")
    page.fill("form.card input[name=password]", "qian-first-key-7")
    page.check("form.card input[name=roles][value=archivist]")
    page.click("form.card button[type=submit]")
    assert "已添加账户 newbie" in page.inner_text("main")
    row = page.locator("#accounts tr", has_text="leaver")
    row.locator("button", has_text="停用").click()
    assert "已停用账户 leaver" in page.inner_text("main")
    row = page.locator("#accounts tr", has_text="newbie")
    row.locator("input[value=handler]").check()
    row.locator("button", has_text="保存角色").click()
    assert "已更新账户 newbie 的角色" in page.inner_text("main")
    # the disabled account's open session ends at its next request
    leaver.goto(site["url"] + "/")
    assert leaver.url.startswith(site["url"] + "/login")
    other.close()
    admin_events = [e for e in events(site) if e.actor == "admin"]
    actions = [e.details["action"] for e in admin_events]
    assert actions[-4:] == ["login", "account_add", "account_disable", "account_roles"]
    assert admin_events[-3].details["username"] == "newbie" and admin_events[-3].details["roles"] == ["archivist"]
    assert admin_events[-2].details["username"] == "leaver"
    assert admin_events[-1].details["roles"] == ["archivist", "handler"]
    # the failed attempt of the wrong-password test carries the name typed, not an account
    assert all(e.details["person"] == "管理员甲" for e in admin_events if e.details["action"] != "login_failed")
    assert "qian-first-key-7" not in json.dumps([e.details for e in events(site)], ensure_ascii=False)


def test_hostile_text_is_shown_as_text_and_never_runs(site: dict[str, Any], page: Any) -> None:
    login(page, site["url"], "hostile", PASSWORD)
    assert page.inner_text("header .who .person") == HOSTILE  # the header shows the person's own name
    logout(page)
    login(page, site["url"], "admin", PASSWORD)
    page.goto(site["url"] + "/accounts")
    cell = page.locator("#accounts tr", has_text="hostile").locator("td.person")
    assert cell.inner_text() == HOSTILE
    assert cell.locator("script, img").count() == 0  # no element was made from the text
    page.wait_for_timeout(300)  # time for an injected image's onerror to fire, had one been made
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []


def test_screenshots_of_the_core_pages(site: dict[str, Any], page: Any) -> None:
    """The core pages at 1366×768 (`make screenshots` writes them to docs/web, linked from docs/web.md)."""
    page.goto(site["url"] + "/login")
    shots = [screenshot(page, "login.png")]
    login(page, site["url"], "admin", PASSWORD)
    shots.append(screenshot(page, "home.png"))
    page.goto(site["url"] + "/accounts")
    shots.append(screenshot(page, "accounts.png"))
    for shot in shots:
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == 1366 and int.from_bytes(data[20:24], "big") == 768
