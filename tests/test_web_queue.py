"""「我的待办」 and assignment in a real browser (Chromium), on the embedded SQLite catalog and on PostgreSQL:
a supervisor hands a case over to another handler with a reason, and the new handler's /queue shows its
4.4 contact due 30 minutes after that assignment (the server runs on a fixed clock); an overdue case is
sorted first and marked 逾期; two reviewers with the same case open decide at once — the second is told
the case changed (「案件已被他人更新，请刷新后重试」) and the first decision stands, alone in the case file."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from generator.clock import FixedClock
from generator.types import SHANGHAI
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)
from tests.webkit import browser, login, serve  # noqa: F401 — browser is a fixture

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"
PASSWORD = "correct-horse-9"
NOW = datetime(2026, 1, 5, 9, 10, tzinfo=SHANGHAI)  # the server's clock: Monday 09:10 Beijing time
ACCOUNTS = {
    "wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "boss": ("王五", {"supervisor"}),
    "zhao": ("赵丽", {"proofreader", "rechecker"}), "sun": ("孙立军", {"proofreader", "rechecker"}),
    "boss2": ("吴敏", {"supervisor"}),
}
NEW, LATE, REVIEWED = "SA-Q-NEW", "SA-Q-LATE", "SA-Q-REV"


class Handler:
    def __init__(self, username: str, person: str, roles: set[str]) -> None:
        self.id, self.username, self.person, self.roles = 0, username, person, frozenset(roles)


def _case(case_id: str, n: int, *, open_steps: bool) -> list[tuple[str, Any]]:
    import io

    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews")
    data["case_id"] = case_id
    data["report"]["number"] = f"{data['report']['number']}-{n}"
    if open_steps:  # not yet contacted (4.4) nor surveyed (5.1): the case file's 指派时间 is 2025-07-12
        data.pop("contact")
        data["survey"]["record_items"] = []
        for item in (*data["survey"]["photos"], *data["losses"]):
            item.pop("record_item", None)
    files = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False).encode()))]
    return files + [(f"photos/{p.name}", io.BytesIO(p.read_bytes())) for p in sorted((EXAMPLE / "photos").iterdir())]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, store_kind: str,  # noqa: F811
         request: pytest.FixtureRequest) -> Path:
    from archive.accounts import add_account, set_password
    from archive.catalog import Catalog, ServerStore
    from gongu.pipeline.workspace import submit_case, upload_case
    from gongu.settings import load_settings

    h = tmp_path_factory.mktemp(f"web-queue-{store_kind}") / "home"
    h.mkdir()
    store = ""
    if store_kind == "postgresql":
        store = f'[store]\nurl = "{request.getfixturevalue("pg_cluster").create_database()}"\n'
    names = [p for p, _ in ACCOUNTS.values()]
    (h / "gongu.toml").write_text(f"[people]\nnames = {json.dumps(names, ensure_ascii=False)}\n{store}", encoding="utf-8")
    url = load_settings(h).store.url
    catalog = Catalog(ServerStore(url, files_dir=h / "archive" / "packages") if url else h / "archive" / "catalog.sqlite")
    try:
        for username, (person, roles) in ACCOUNTS.items():  # accounts in use for a month by the server's clock
            made = add_account(catalog, username, password=secrets.token_urlsafe(12), roles=roles, person=person,
                               now=NOW - timedelta(days=30))
            set_password(catalog, made.username, PASSWORD, own=True, now=NOW - timedelta(days=29))
        wang = Handler("wang", "王志强", {"handler"})
        at = "2026-01-05T08:00:00+08:00"
        upload_case(catalog, h, _case(NEW, 1, open_steps=True), account=wang, now=at)
        upload_case(catalog, h, _case(LATE, 2, open_steps=True), account=wang, now=at)
        upload_case(catalog, h, _case(REVIEWED, 3, open_steps=False), account=wang, now=at)
        submit_case(catalog, h, REVIEWED, account=wang, now=at)
    finally:
        catalog.close()
    return h


@pytest.fixture(scope="module")
def base_url(home: Path) -> Iterator[str]:
    with serve(home, clock=FixedClock(NOW)) as url:
        yield url


@pytest.fixture()
def pages(browser: Any) -> Iterator[Any]:  # noqa: F811
    contexts: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        return pg

    yield new_page
    for context in contexts:
        context.close()


def queue_rows(page: Any) -> list[tuple[str, str, str, str]]:
    """(case id, stage, due time, time left) of each row of the queue table, in order."""
    rows = page.locator("#queue tbody tr[data-case]")
    return [(r.get_attribute("data-case"), r.get_attribute("data-stage"), r.locator("td.due").inner_text(),
             r.locator("td.left").inner_text()) for r in rows.all()]


def _events(home: Path, case_id: str) -> list[Any]:
    from archive.catalog import Catalog, ServerStore
    from gongu.settings import load_settings

    url = load_settings(home).store.url
    catalog = Catalog(ServerStore(url, files_dir=home / "archive" / "packages") if url else home / "archive" / "catalog.sqlite")
    try:
        return list(catalog.events(case_id))
    finally:
        catalog.close()


def test_a_supervisor_hands_a_case_over_and_the_new_handlers_queue_shows_it_due(home: Path, base_url: str,
                                                                               pages: Any) -> None:
    boss = pages()
    login(boss, base_url, "boss", PASSWORD)
    boss.goto(f"{base_url}/cases/{NEW}")
    boss.select_option("#assign-duty", "handler")
    boss.select_option("#assign-to", "chen")
    boss.fill("#assign-reason", "王志强出差，移交陈晓梅承办")
    boss.click("#assign")
    boss.wait_for_load_state()
    assert "已指派：承办人员 → 陈晓梅（chen）" in boss.inner_text("main")
    held = boss.inner_text("#assignees")
    assert "陈晓梅（chen）" in held and "王志强出差，移交陈晓梅承办" in held and "2026-01-05 09:10:00" in held

    # the case's trail: who assigned, when, to whom and why (a `web` event of the tamper-evident log)
    [event] = [e for e in _events(home, NEW) if e.details.get("action") == "case_assign"]
    assert (event.actor, event.details["to"], event.details["duty"], event.details["reason"]) == (
        "boss", "chen", "handler", "王志强出差，移交陈晓梅承办")
    assert event.details["assigned_at"] == "2026-01-05T09:10:00+08:00"

    chen = pages()
    login(chen, base_url, "chen", PASSWORD)
    chen.goto(f"{base_url}/queue")
    rows = queue_rows(chen)
    # 4.4: assigned 09:10 → contact due 09:40; 5.1.2 (city surroundings, 6 hours) → arrival due 15:10
    assert rows == [(NEW, "contact", "2026-01-05 09:40:00", "剩 30 分钟"),
                    (NEW, "survey", "2026-01-05 15:10:00", "剩 6.0 小时"),
                    (NEW, "write", "—", "无时限")]
    assert chen.locator("#queue tr.overdue").count() == 0

    # the supervisor sees everyone's steps of the kind: the unassigned case is long overdue (assigned
    # 2025-07-12 09:40 in its file) and comes first, marked
    boss.goto(f"{base_url}/queue")
    first = queue_rows(boss)[0]
    assert first[:3] == (LATE, "contact", "2025-07-12 10:10:00") and first[3].startswith("逾期")
    assert boss.locator(f"#queue tr.overdue[data-case='{LATE}']").count() == 2  # contact and survey
    assert "逾期 2 项" in boss.inner_text("#queue-summary")
    boss.goto(f"{base_url}/queue?person=陈晓梅")
    assert {r[0] for r in queue_rows(boss)} == {NEW}


def test_two_reviewers_at_once_the_second_sees_the_conflict_and_the_first_decision_stands(
        home: Path, base_url: str, pages: Any) -> None:
    zhao, sun = pages(), pages()
    login(zhao, base_url, "zhao", PASSWORD)
    login(sun, base_url, "sun", PASSWORD)
    zhao.goto(f"{base_url}/cases/{REVIEWED}")
    sun.goto(f"{base_url}/cases/{REVIEWED}")  # both pages show the case waiting for 校对
    assert zhao.locator("#review-form").count() == 1 and sun.locator("#review-form").count() == 1
    zhao.click("#approve")
    zhao.wait_for_load_state()
    assert "审核意见已记录：通过。" in zhao.inner_text("main")
    sun.fill("#review-form textarea[name=comment]", "损失清单需补充")
    sun.click("#return")
    sun.wait_for_load_state()
    assert "案件已被他人更新，请刷新后重试" in sun.inner_text("#errors")
    sun.reload()
    assert "复核" in sun.inner_text(".case-meta")  # the page now shows the case waiting for 复核
    data = json.loads((home / "workspace" / REVIEWED / "case.json").read_text(encoding="utf-8"))
    assert [(r["level"], r["reviewer"], r["decision"]) for r in data["reviews"]] == [("proofread", "赵丽", "approve")]


def test_two_supervisors_assigning_at_once_the_second_is_told_and_the_first_assignment_stands(
        base_url: str, pages: Any) -> None:
    first, second = pages(), pages()
    login(first, base_url, "boss", PASSWORD)
    login(second, base_url, "boss2", PASSWORD)
    for pg in (first, second):
        pg.goto(f"{base_url}/cases/{LATE}")
        pg.select_option("#assign-duty", "recheck")
    first.select_option("#assign-to", "sun")
    first.fill("#assign-reason", "孙立军熟悉边坡工程")
    second.select_option("#assign-to", "zhao")
    second.fill("#assign-reason", "赵丽有空")
    first.click("#assign")
    first.wait_for_load_state()
    assert "已指派：复核 → 孙立军（sun）" in first.inner_text("main")
    second.click("#assign")
    second.wait_for_load_state()
    assert "案件已被他人更新，请刷新后重试" in second.inner_text("#errors")
    held = second.inner_text("#assignees")  # the page shown with the refusal is the case as it is now
    assert "孙立军（sun）" in held and "孙立军熟悉边坡工程" in held and "赵丽有空" not in held
