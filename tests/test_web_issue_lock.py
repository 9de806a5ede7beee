"""One issuance at a time in the web workspace, and no English error page: a second issue request while
the first holds the case's issue lock (archive/workspace_steps.py) is answered 「正在出具」 with a link to
the case, never a 500; an unexpected failure is a Chinese 500 page (gongu/web/app.py). Starlette's
TestClient against the real app and catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from archive.workspace_steps import current_lock, take_lock
from generator.types import SHANGHAI
from gongu.pipeline.workspace import review_case, submit_case, upload_case
from tests.test_workspace_store import NOW, Acct, example_data, files_of
from tests.webkit import csrf_from, make_account

PASSWORD = "lock-pass-123"
PEOPLE = {"wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "zhao": ("赵丽", {"proofreader"}),
          "sun": ("孙立军", {"rechecker"}), "liu": ("刘建国", {"approver"}), "ma": ("马明", {"approver"})}


def _acct(username: str) -> Acct:
    person, roles = PEOPLE[username]
    return Acct(0, username, person, frozenset(roles))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, TestClient, str]]:
    from gongu.settings import load_settings
    from gongu.web.app import create_app

    home = tmp_path_factory.mktemp("lock-home")
    names = [p for p, _ in PEOPLE.values()]
    (home / "gongu.toml").write_text(f"[people]\nnames = {json.dumps(names, ensure_ascii=False)}\n", encoding="utf-8")
    for username, (person, roles) in PEOPLE.items():
        make_account(home, username, roles, person, PASSWORD)
    app = create_app(home)
    catalog = app.state.web.archive().catalog
    settings = load_settings(home)
    row = upload_case(catalog, home, files_of(example_data()), account=_acct("wang"), now=NOW)
    submit_case(catalog, home, row.case_id, account=_acct("wang"), now=NOW)
    for n, (who, level) in enumerate((("zhao", "proofread"), ("sun", "recheck"), ("liu", "approve"))):
        review_case(catalog, home, row.case_id, account=_acct(who), level=level, decision="approve", comment=None,
                    now=f"2026-01-05T1{n}:00:00+08:00", settings=settings)
    # raise_server_exceptions=False: see the page a browser gets, not the exception behind it
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield home, client, row.case_id


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_from(client.get("/").text)


def test_a_second_issue_request_is_told_it_is_running_with_a_link(world: tuple[Path, TestClient, str]) -> None:
    home, client, case_id = world
    catalog = client.app.state.web.archive().catalog  # type: ignore[attr-defined]
    # the first click runs (the lock is judged on the server's clock: a lock older than STALE_AFTER is a dead one)
    started = datetime.now(SHANGHAI).replace(microsecond=0)
    token, _ = take_lock(catalog, case_id, account="liu", now=started)
    assert token
    csrf = _login(client, "ma")
    r = client.post(f"/cases/{case_id}/issue", data={"csrf_token": csrf})
    assert r.status_code == 409
    assert f"正在出具：账户 liu 于 {started.isoformat()} 开始出具本案报告，请勿重复提交" in r.text
    assert f'<a href="/cases/{case_id}">刷新查看出具结果</a>' in r.text
    assert not (home / "issued").exists()  # nothing rendered or sealed by the second request
    assert current_lock(catalog, case_id).token == token  # type: ignore[union-attr]
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and 'id="issuing"' in page.text  # everyone sees the running issue


def test_an_unexpected_failure_is_a_chinese_page(world: tuple[Path, TestClient, str]) -> None:
    home, client, case_id = world
    _login(client, "wang")
    (home / "workspace" / case_id / "case.json").write_bytes(b"{ not json")  # damaged on disk behind the catalog
    r = client.get(f"/cases/{case_id}/report.pdf")
    assert r.status_code == 500
    assert "服务器内部错误" in r.text and "Internal Server Error" not in r.text
    assert r.headers["content-type"].startswith("text/html")
