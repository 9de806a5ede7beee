"""Accounts in a real browser: a copied session cookie stops working at logout, password change and role
change (server-side sessions); an admin who makes two archivist accounts and logs in as each cannot
dispose alone (own password at first login, then a second admin or the grant wait); case text carrying
U+202E stays isolated on the pages (every element showing it has unicode-bidi: isolate or is its own
block). One server and one Chromium per module; the archive runs after the example's retention end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.archivekit import Kit, ingested_home, open_archive
from tests.webkit import browser, login, logout, make_account, serve  # noqa: F401 — browser is a fixture

CASE = "SAGC-2025-0712"  # examples/slope-collapse, ordinary work: kept 15 years (10.4)
# well after the retention end however it is counted (closure 2025-10-16, issuance, ingest)
NOW = "2046-06-01T09:00:00+08:00"
PASSWORD = "trust-pass-2046"
RLO = "\u202e"
HOSTILE_PERSON = f"王{RLO}五"


@pytest.fixture(scope="module")
def home(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = ingested_home(tmp_path_factory.mktemp("web-trust"), kit)
    make_account(home, "root1", {"admin"}, "管理员甲", PASSWORD)
    make_account(home, "root2", {"admin"}, "管理员乙", PASSWORD)
    make_account(home, "keeper", {"archivist"}, "档案员丁", PASSWORD)
    make_account(home, "mover", {"archivist"}, "档案员戊", PASSWORD)
    make_account(home, "rtl", {"archivist", "proofreader"}, HOSTILE_PERSON, PASSWORD)
    return home


@pytest.fixture(scope="module")
def base_url(home: Path) -> Iterator[str]:
    from generator.clock import FixedClock

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_HOME", str(home))
        with serve(home, clock=FixedClock.parse(NOW)) as url:
            yield url


@pytest.fixture
def two(browser: Any) -> Iterator[tuple[Any, Any]]:  # noqa: F811
    """Two browsers (contexts) that share nothing but what a test copies between them."""
    a = browser.new_context(viewport={"width": 1366, "height": 768})
    b = browser.new_context(viewport={"width": 1366, "height": 768})
    yield a.new_page(), b.new_page()
    a.close()
    b.close()


def _copy_cookies(src: Any, dst: Any) -> None:
    dst.context.add_cookies(src.context.cookies())


def _opens(page: Any, url: str) -> bool:
    page.goto(url)
    return "/login" not in page.url


def test_a_copied_cookie_stops_working_at_logout(base_url: str, two: tuple[Any, Any]) -> None:
    page, thief = two
    login(page, base_url, "keeper", PASSWORD)
    _copy_cookies(page, thief)
    assert _opens(thief, f"{base_url}/archive/disposal")  # control: the copy works while the session lives
    logout(page)
    assert not _opens(thief, f"{base_url}/archive/disposal")
    assert thief.url.startswith(f"{base_url}/login")


def test_a_copied_cookie_stops_working_at_a_password_change(base_url: str, two: tuple[Any, Any]) -> None:
    page, thief = two
    login(page, base_url, "mover", PASSWORD)
    _copy_cookies(page, thief)
    assert _opens(thief, f"{base_url}/archive/disposal")
    page.goto(f"{base_url}/account/password")
    page.fill("input[name=current]", PASSWORD)
    page.fill("input[name=new_password]", "shifter-own-key-2046")
    page.fill("input[name=again]", "shifter-own-key-2046")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "已设置新密码" in page.inner_text("main")
    assert not _opens(thief, f"{base_url}/archive/disposal")
    assert _opens(page, f"{base_url}/archive/disposal")  # the changer's own browser has a new session
    logout(page)
    login(page, base_url, "mover", "shifter-own-key-2046")
    logout(page)


def test_a_common_new_password_is_refused_on_the_page(base_url: str, two: tuple[Any, Any]) -> None:
    page, _ = two
    login(page, base_url, "keeper", PASSWORD)
    page.goto(f"{base_url}/account/password")
    page.fill("input[name=current]", PASSWORD)
    page.fill("input[name=new_password]", "password2046")
    page.fill("input[name=again]", "password2046")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "过于常见" in page.inner_text(".flash.error")
    logout(page)


def test_a_role_change_ends_the_sessions_of_the_account(base_url: str, two: tuple[Any, Any]) -> None:
    admin, user = two
    login(user, base_url, "keeper", PASSWORD)
    login(admin, base_url, "root1", PASSWORD)
    admin.goto(f"{base_url}/accounts")
    row = admin.locator("#accounts tr", has_text="keeper")
    row.locator("input[value=handler]").check()
    row.locator("button", has_text="保存角色").click()
    admin.wait_for_load_state()
    assert "已更新账户 keeper 的角色" in admin.inner_text("main")
    assert not _opens(user, f"{base_url}/archive/disposal")
    # the new grant is listed to every admin, with its age
    admin.goto(f"{base_url}/accounts")
    grant = admin.locator("#grants tr", has_text="keeper")
    assert "承办" in grant.inner_text() and "0 小时" in grant.inner_text() and "root1" in grant.inner_text()


def _set_own_password(page: Any, current: str, new: str) -> None:
    assert page.url.endswith("/account/password"), page.url  # first login: sent here, nowhere else
    page.fill("input[name=current]", current)
    page.fill("input[name=new_password]", new)
    page.fill("input[name=again]", new)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_an_admin_with_two_archivist_accounts_cannot_dispose_alone(home: Path, base_url: str,
                                                                   two: tuple[Any, Any]) -> None:
    page, other_admin = two
    login(page, base_url, "root1", PASSWORD)
    for username, person in (("arch-a", "档案员甲"), ("arch-b", "档案员丙")):  # two registered names
        page.goto(f"{base_url}/accounts")
        page.fill("form.card input[name=username]", username)
        page.select_option("form.card select[name=person]", person)
        page.fill("form.card input[name=password]", f"chosen-by-root1-{username[-1]}")
        page.check("form.card input[name=roles][value=archivist]")
        page.click("form.card button[type=submit]")
        page.wait_for_load_state()
        assert f"已添加账户 {username}" in page.inner_text("main")
    logout(page)

    # the admin logs in as the first archivist: every page but setting one's own password is closed
    login(page, base_url, "arch-a", "chosen-by-root1-a")
    page.goto(f"{base_url}/archive/cases/{CASE}")
    assert page.url.endswith("/account/password")
    _set_own_password(page, "chosen-by-root1-a", "root1-now-knows-a-1")
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.click("#propose")  # proposing alone decides nothing
    page.wait_for_load_state()
    assert "已提议销毁" in page.inner_text("main")
    logout(page)

    login(page, base_url, "arch-b", "chosen-by-root1-b")
    _set_own_password(page, "chosen-by-root1-b", "root1-now-knows-b-2")
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.click("#approve")
    page.wait_for_load_state()
    refusal = page.inner_text(".flash.error")
    assert "不能批准销毁" in refusal and "arch-b" in refusal and "第二名管理员" in refusal and "72 小时" in refusal
    with open_archive(home, NOW) as archive:
        assert archive.catalog.open_disposal(CASE)["state"] == "proposed"
    # the disposal page shows how old each archivist account and grant is, and who may decide now
    page.goto(f"{base_url}/archive/disposal")
    standing = page.locator("#standing tr", has_text="arch-b").inner_text()
    assert "0 小时" in standing and "未确认" in standing and "否" in standing
    assert "能" in page.locator("#standing tr", has_text="mover").inner_text()
    logout(page)

    # a second admin confirms the grant: now the approval goes through
    login(other_admin, base_url, "root2", PASSWORD)
    other_admin.goto(f"{base_url}/accounts")
    other_admin.locator("#grants tr", has_text="arch-b").locator("button", has_text="确认").click()
    other_admin.wait_for_load_state()
    assert "已确认账户 arch-b" in other_admin.inner_text("main")
    login(page, base_url, "arch-b", "root1-now-knows-b-2")
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.click("#approve")
    page.wait_for_load_state()
    assert "已批准销毁" in page.inner_text("main")
    logout(page)


# For every text node holding U+202E: the nearest element that isolates it (unicode-bidi isolate or
# plaintext, or a block of its own) holds that text and nothing else, so nothing beside it is reordered.
UNISOLATED = """() => {
  const bad = []; let seen = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.data.includes("\\u202e")) continue;
    seen += 1;
    let el = n.parentElement;
    while (el && el !== document.body) {
      const cs = getComputedStyle(el);
      if (["isolate", "plaintext", "isolate-override"].includes(cs.unicodeBidi) || cs.display !== "inline") break;
      el = el.parentElement;
    }
    if (!el || el.textContent.trim() !== n.data.trim()) bad.push(el ? el.outerHTML.slice(0, 300) : n.data);
  }
  return {seen, bad};
}"""


def test_case_text_with_a_bidi_override_is_isolated(home: Path, base_url: str, two: tuple[Any, Any]) -> None:
    from archive.workspace import put_case

    with open_archive(home, NOW) as archive, archive.catalog.write():
        put_case(archive.catalog, case_id="SAGC-2046-0001", kind="car_survey", status="in_review", handler="keeper",
                 handler_person=f"刘{RLO}一", case_name=f"{RLO}边坡坍塌 2046-05-01", project=f"{RLO}雅康高速",
                 insured=f"{RLO}某公司", report_number="SAGC-2046-0001-R", next_level="proofread", at=NOW)
    page, _ = two
    login(page, base_url, "rtl", PASSWORD)
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.fill("#hold-form input[name=reason]", f"{RLO}诉讼 2046-05-20 立案")
    page.fill("#hold-form input[name=reference]", f"(2046){RLO}川01民初7号")
    page.click("#hold-form button[type=submit]")
    page.wait_for_load_state()
    # the system's own message quoting the reference shows the control instead of obeying it
    assert "(2046)[U+202E]川01民初7号" in page.inner_text(".flash")
    assert page.evaluate(UNISOLATED)["bad"] == []
    checked = 0
    for path in (f"/archive/cases/{CASE}", "/archive/disposal", "/review?level=proofread", "/cases", "/"):
        page.goto(base_url + path)
        found = page.evaluate(UNISOLATED)
        assert found["bad"] == [], (path, found["bad"])
        checked += found["seen"]
        # the date beside the hostile hold reason reads as written
    page.goto(f"{base_url}/archive/cases/{CASE}")
    assert "2046-05-20" in page.inner_text("#holds li")
    assert checked >= 8  # hold reason and reference, the person (header, tables), case name, handler
    logout(page)


def test_a_freshly_granted_reviewer_cannot_record_a_review_level(base_url: str, two: tuple[Any, Any]) -> None:
    admin, page = two
    login(admin, base_url, "root1", PASSWORD)
    admin.goto(f"{base_url}/accounts")
    row = admin.locator("#accounts tr", has_text="mover")
    row.locator("input[value=proofreader]").check()
    row.locator("button", has_text="保存角色").click()
    admin.wait_for_load_state()
    login(page, base_url, "mover", "shifter-own-key-2046")
    # the review page shows the grant's age and that it cannot decide yet
    page.goto(f"{base_url}/review?level=proofread")
    standing = page.locator("#standing tr", has_text="mover").inner_text()
    assert "校对：0 小时" in standing and "否" in standing
    token = page.get_attribute("input[name=csrf_token]", "value")
    response = page.request.post(f"{base_url}/cases/SAGC-2046-0001/review",
                                 form={"csrf_token": token, "level": "proofread", "decision": "approve", "comment": ""})
    assert response.status == 409
    assert "不能记录此级审核" in response.text() and "角色 proofreader" in response.text()
    logout(page)


def test_a_fresh_archivist_cannot_release_a_hold(home: Path, base_url: str, two: tuple[Any, Any]) -> None:
    page, _ = two
    with open_archive(home, NOW) as archive:
        assert archive.catalog.active_holds(CASE)  # placed by the bidi test above
    login(page, base_url, "arch-a", "root1-now-knows-a-1")  # own password set, grant not confirmed
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.fill("#holds input[name=reason]", "原告已撤回起诉，诉讼终结")
    page.fill("#holds input[name=decision_reference]", "（2026）川01民初1号之一")
    page.click("#holds form[action$='/release'] button[type=submit]")
    page.wait_for_load_state()
    assert "不能解除冻结" in page.inner_text(".flash.error")
    with open_archive(home, NOW) as archive:
        assert archive.catalog.active_holds(CASE)
    logout(page)
