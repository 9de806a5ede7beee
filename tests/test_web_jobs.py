"""Issuing from the web as a background job, in a real browser on both catalogs (the embedded SQLite
home and a PostgreSQL server): the approver's 「出具」 answers at once with the job's page, which updates
itself (htmx polling) through the steps to 已完成 while a worker inside the server renders, seals and
archives; the sealed report downloads and carries its three signatures. A seal that cannot be made (a
handler's key file missing) shows the reason on the job page and leaves the case unissued — nothing
recorded, nothing in issued/ — and a retry after the key is back issues it once. A second click while a
job runs lands on the same job. A job of a case is shown only to someone who may see the case.

Cases reach 「待出具」 through the workspace's own functions (upload, submit, confirm, three reviews), as
tests/test_web_cases.py does through the pages; one server and one Chromium per store."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.storekit import store_kind, store_url  # noqa: F401 — store_kind is a fixture
from tests.webkit import browser, login, logout, make_account, screenshot, serve  # noqa: F401 — browser is a fixture

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"
PASSWORD = "jobs-pass-123"
ACCOUNTS = {
    "wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "zhao": ("赵丽", {"proofreader"}),
    "sun": ("孙立军", {"rechecker"}), "liu": ("刘建国", {"approver"}), "wu": ("吴敏", {"handler"}),
    "root": ("系统管理员", {"admin"}), "zhou": ("周静", {"archivist"}),
}
BASE = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
CASE_OK, CASE_NO_KEY, CASE_TWICE = (f"{BASE['case_id']}-{s}" for s in ("J1", "J2", "J3"))
WAIT_MS = 240_000  # render + seal (loopback TSA) + archive on a loaded 2-core machine


class World:
    def __init__(self, root: Path, store: str | None) -> None:
        from signing.keys import DEMO_PASSPHRASE, make_demo_pki
        from signing.tsa import LocalTsa

        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        keys = root / "keys"
        self.tsa = LocalTsa(keys).start()
        self.pki = make_demo_pki(keys, BASE["firm"]["name"], [(h["name"], h.get("licence_no")) for h in BASE["handlers"]],
                                 crl_url=self.tsa.crl_url)
        people = list(dict.fromkeys([p for p, _ in ACCOUNTS.values()] + [h["name"] for h in BASE["handlers"]]))
        (self.home / "gongu.toml").write_text("\n".join([
            *([f'[store]\nurl = "{store}"'] if store else []),
            "[signing]", f'firm_p12 = "{self.pki.firm_p12}"', f'tsa_url = "{self.tsa.url}"',
            f'trust_roots = ["{self.pki.root_pem}"]', f'crls = ["{self.pki.crl}"]', "[signing.handlers]",
            *[f'"{n}" = "{p}"' for n, p in self.pki.handler_p12.items()],
            "[people]", f"names = {json.dumps(people, ensure_ascii=False)}"]) + "\n", encoding="utf-8")
        self.env = {"GONGU_HOME": str(self.home), "GONGU_FIRM_KEY_PASSPHRASE": DEMO_PASSPHRASE,
                    "GONGU_HANDLER_KEY_PASSPHRASE": DEMO_PASSPHRASE}
        self.accounts = {u: make_account(self.home, u, roles, person, PASSWORD) for u, (person, roles) in ACCOUNTS.items()}
        from tests.archivekit import init_home

        init_home(self.home)

    def catalog(self) -> Any:
        from archive.catalog import Catalog
        from gongu.pipeline.archiving import archive_config
        from gongu.settings import load_settings

        settings = load_settings(self.home)
        return Catalog(settings.server_store() or archive_config(settings).catalog_path)

    def ready_to_issue(self, case_id: str, suffix: str) -> None:
        """Upload (wang), submit, 陈晓梅 confirms her signature, three levels approve: 「待出具」."""
        from gongu.pipeline.workspace import confirm_signature, review_case, submit_case, upload_case
        from gongu.settings import load_settings

        data = json.loads(json.dumps(BASE))
        data.pop("reviews")
        data["case_id"] = case_id
        data["report"]["number"] = f"{BASE['report']['number']}-{suffix}"
        files = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False).encode()))]
        files += [(f"photos/{p.name}", io.BytesIO(p.read_bytes())) for p in sorted((EXAMPLE / "photos").iterdir())]
        catalog = self.catalog()
        a = self.accounts
        try:
            upload_case(catalog, self.home, files, account=a["wang"], now="2026-03-02T09:00:00+08:00")
            submit_case(catalog, self.home, case_id, account=a["wang"], now="2026-03-02T09:10:00+08:00")
            confirm_signature(catalog, self.home, case_id, account=a["chen"], now="2026-03-02T09:20:00+08:00")
            for n, (who, level) in enumerate((("zhao", "proofread"), ("sun", "recheck"), ("liu", "approve"))):
                review_case(catalog, self.home, case_id, account=a[who], level=level, decision="approve",
                            comment="同意", now=f"2026-03-02T1{n}:00:00+08:00", settings=load_settings(self.home))
        finally:
            catalog.close()

    def status(self, case_id: str) -> str:
        from archive.workspace import get_case

        catalog = self.catalog()
        try:
            row = get_case(catalog, case_id)
            assert row is not None
            return row.status
        finally:
            catalog.close()

    def jobs_of(self, case_id: str) -> list[Any]:
        from gongu.jobs.api import list_jobs

        catalog = self.catalog()
        try:
            return list_jobs(catalog, case_id=case_id)
        finally:
            catalog.close()

    def due_stages(self, case_id: str) -> list[str]:
        """The case's open steps as the catalog records them (archive/workspace_due.py)."""
        from archive.workspace import workspace_due_table as t

        catalog = self.catalog()
        try:
            return [r["stage"] for r in catalog._rows(select(t.c.stage).where(t.c.case_id == case_id))]
        finally:
            catalog.close()

    def issuances(self, case_id: str) -> list[Any]:
        data = json.loads((self.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
        return list(data.get("issuances") or [])


@pytest.fixture(scope="module")
def world(store_kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:  # noqa: F811
    w = World(tmp_path_factory.mktemp(f"web-jobs-{store_kind}"), store_url(request, store_kind))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in w.env.items():
            mp.setenv(key, value)
        for suffix, case_id in (("J1", CASE_OK), ("J2", CASE_NO_KEY), ("J3", CASE_TWICE)):
            w.ready_to_issue(case_id, suffix)
        yield w
    w.tsa.stop()


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    # one job worker thread inside the server on either store (`gongu serve --workers 1`)
    with serve(world.home, workers=1) as url:
        yield url


@pytest.fixture(scope="module")
def context(browser: Any, base_url: str) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    ctx.set_default_timeout(WAIT_MS)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def page(context: Any) -> Any:
    return context.new_page()


def as_user(page: Any, base_url: str, username: str) -> None:
    if page.query_selector("header .who button[type=submit]"):
        logout(page)
    login(page, base_url, username, PASSWORD)


JOB_URL = re.compile(r"/jobs/(\d+)$")


def click_issue(page: Any, base_url: str, case_id: str) -> int:
    """On the case page, 「出具」; returns the job id of the page the browser lands on."""
    page.goto(f"{base_url}/cases/{case_id}")
    page.click("#issue")
    page.wait_for_url(JOB_URL)
    found = JOB_URL.search(page.url)
    assert found, page.url
    return int(found.group(1))


def wait_until_ended(page: Any) -> str:
    """Wait, without reloading, until the job page's own polling shows a finished state; returns it."""
    page.wait_for_selector("#job-state.done, #job-state.failed, #job-state.cancelled", timeout=WAIT_MS)
    return str(page.inner_text("#job-state"))


def watch_steps(page: Any) -> None:
    """Collect every step text the page shows as htmx swaps the job section in (window.__steps)."""
    page.evaluate("""() => {
        window.__steps = [];
        const note = () => { const s = document.querySelector('#job-step');
            if (s && window.__steps[window.__steps.length - 1] !== s.textContent) window.__steps.push(s.textContent); };
        note();
        new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")


def test_issue_is_a_job_whose_page_updates_itself_and_the_sealed_report_downloads(
        world: World, base_url: str, page: Any) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    assert world.due_stages(CASE_OK) == ["issue"]  # every level passed: the approver's step (9.3)
    as_user(page, base_url, "liu")
    job_id = click_issue(page, base_url, CASE_OK)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    first = page.inner_text("#job-state")
    watch_steps(page)
    assert first in ("排队中", "进行中")  # answered at once: render and seal take seconds
    assert "出具报告" in page.inner_text("h1") and CASE_OK in page.inner_text("h1")
    assert wait_until_ended(page) == "已完成", page.inner_text("#job")
    assert navigations == []  # the page updated itself in place (htmx), no reload
    seen = page.evaluate("window.__steps")
    assert len(seen) >= 2 and seen[-1] == "完成", seen  # more than one step shown as the job went
    steps = page.eval_on_selector_all("#job-steps li", "els => els.map(e => [e.className, e.textContent])")
    assert steps == [["done", "检查 ✓"], ["done", "渲染 ✓"], ["done", "签章并记录 ✓"], ["done", "归档 ✓"]]
    assert socket.gethostname() in page.inner_text("#job-machine")
    assert "刘建国" in page.inner_text("#job") and not page.query_selector("#job-retry")
    # polling stopped: the finished section carries no trigger
    assert page.get_attribute("#job", "hx-trigger") is None
    assert world.status(CASE_OK) == "archived" and len(world.issuances(CASE_OK)) == 1
    assert world.due_stages(CASE_OK) == []  # archived: no open step left in the work queue
    screenshot(page, "job-done.png")
    link = page.locator("#job-links a", has_text="下载已出具的报告")
    href = link.get_attribute("href")
    assert href == f"/cases/{CASE_OK}/report.pdf"
    response = page.request.get(base_url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    signatures = PdfFileReader(io.BytesIO(body)).embedded_signatures
    # the two handlers' signatures and the firm's seal (the example names two handlers)
    assert len(signatures) == 3
    assert [j.id for j in world.jobs_of(CASE_OK)] == [job_id]
    # the web's issue draws the check code as `gongu issue` does: recorded, and printed on the report downloaded
    from generator.check_code import code_in_pdf

    code = world.issuances(CASE_OK)[0]["check_code"]
    assert code and code_in_pdf(body) == code


def test_a_seal_that_cannot_be_made_shows_the_reason_and_leaves_the_case_unissued(
        world: World, base_url: str, page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def unissued() -> None:
        assert world.status(CASE_NO_KEY) == "in_review"  # unchanged: 三级审核已通过，待出具
        assert world.issuances(CASE_NO_KEY) == []  # no issuance recorded
        assert not any((world.home / "issued" / CASE_NO_KEY).glob("*.pdf"))

    as_user(page, base_url, "liu")
    # the server's environment holds a wrong passphrase for the handlers' keys
    monkeypatch.setenv("GONGU_HANDLER_KEY_PASSPHRASE", "not-the-passphrase")
    job_id = click_issue(page, base_url, CASE_NO_KEY)
    assert wait_until_ended(page) == "失败"
    reason = page.inner_text("#job-error")
    assert "口令错误" in reason and "不予出具" in reason, reason
    assert page.query_selector("#job-steps li.failed")  # the step it stopped at is marked
    unissued()
    monkeypatch.setenv("GONGU_HANDLER_KEY_PASSPHRASE", world.env["GONGU_HANDLER_KEY_PASSPHRASE"])
    # then 陈晓梅's key file is missing: retried, the job fails again, naming the file
    key = Path(world.pki.handler_p12["陈晓梅"])
    moved = key.with_suffix(".away")
    shutil.move(key, moved)
    try:
        page.click("#job-retry")
        page.wait_for_url(JOB_URL)
        assert page.url.endswith(f"/jobs/{job_id}")
        assert wait_until_ended(page) == "失败"
        reason = page.inner_text("#job-error")
        assert f"无法读取密钥文件 {key}" in reason, reason
        screenshot(page, "job-failed.png")
        assert "Traceback" not in page.content()
        unissued()
        page.goto(f"{base_url}/cases/{CASE_NO_KEY}")
        assert page.inner_text("#case-status") == "审核中" and page.query_selector("#issue")
    finally:
        shutil.move(moved, key)
    # the key is back: the starter retries the same job, which issues the case once
    page.goto(f"{base_url}/jobs/{job_id}")
    page.click("#job-retry")
    page.wait_for_url(JOB_URL)
    assert wait_until_ended(page) == "已完成", page.inner_text("#job")
    assert world.status(CASE_NO_KEY) == "archived" and len(world.issuances(CASE_NO_KEY)) == 1
    assert [j.id for j in world.jobs_of(CASE_NO_KEY)] == [job_id]


def test_a_second_click_while_the_issue_runs_lands_on_the_same_job(
        world: World, base_url: str, page: Any, context: Any) -> None:
    as_user(page, base_url, "liu")
    other = context.new_page()  # a second tab of the same approver, opened before the first click
    try:
        other.goto(f"{base_url}/cases/{CASE_TWICE}")
        first = click_issue(page, base_url, CASE_TWICE)
        other.click("#issue")
        other.wait_for_url(JOB_URL)
        assert other.url.endswith(f"/jobs/{first}")
        assert wait_until_ended(other) == "已完成"
    finally:
        other.close()
    assert [j.id for j in world.jobs_of(CASE_TWICE)] == [first]
    assert len(world.issuances(CASE_TWICE)) == 1 and world.status(CASE_TWICE) == "archived"


def test_a_job_of_a_case_is_shown_only_to_those_who_may_see_the_case(world: World, base_url: str, page: Any) -> None:
    job_id = world.jobs_of(CASE_OK)[0].id
    as_user(page, base_url, "wang")  # uploaded the case: sees it and its job, but did not start it
    assert page.goto(f"{base_url}/jobs/{job_id}").status == 200
    assert not page.query_selector("#job-retry") and not page.query_selector("#job-cancel")
    page.goto(f"{base_url}/jobs")
    assert page.locator("#jobs tbody tr", has_text=CASE_OK).count() == 0  # the list: own jobs only
    as_user(page, base_url, "wu")  # a handler not on the case: the same 404 as for no such job
    assert page.goto(f"{base_url}/jobs/{job_id}").status == 404
    assert page.goto(f"{base_url}/jobs/{job_id}/status").status == 404
    assert page.goto(f"{base_url}/jobs/999999").status == 404
    as_user(page, base_url, "liu")
    page.goto(f"{base_url}/jobs")
    rows = page.locator("#jobs tbody tr")
    assert rows.count() == 3  # J1, J2 (failed, then retried: the same job), J3 — nothing of anyone else's
    text = page.inner_text("#jobs")
    screenshot(page, "jobs.png")
    assert CASE_OK in text and "已完成" in text and socket.gethostname() in text
    assert "后台任务" in page.inner_text("header nav")
    as_user(page, base_url, "root")  # admin: every job's state and machine, no case it is not on
    page.goto(f"{base_url}/jobs")
    assert page.locator("#jobs tbody tr.job").count() >= 3
    assert CASE_OK not in page.inner_text("#jobs") and "无权查看本案" in page.inner_text("#jobs")
