"""The archivist's pages in a real browser (issue 15 §3 "Archive", §4): search 边坡坍塌 with a highlighted
snippet, the package page, a downloaded copy that verifies, holds, and disposal by two different accounts
(the same account cannot approve its own proposal; a held case cannot be disposed). One server and one
Chromium per module; the archive runs at a fixed time after the retention end (injected clock)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.archivekit import Kit, ingested_home, open_archive
from tests.webkit import browser, login, logout, make_account, screenshot, serve  # noqa: F401 — browser is a fixture

CASE = "SAGC-2025-0712"  # examples/slope-collapse: 雅康高速C3合同段K42边坡暴雨坍塌
# closed 2025-10-16, ordinary work: kept 15 years (10.4), so on this day the package may be disposed
AFTER_END = "2040-10-16T09:00:00+08:00"
PASSWORD = "archive-pass-2040"


@pytest.fixture(scope="module")
def home(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = ingested_home(tmp_path_factory.mktemp("web-archive"), kit)
    make_account(home, "jia", {"archivist"}, "档案员甲", PASSWORD)
    make_account(home, "bing", {"archivist"}, "档案员丙", PASSWORD)
    make_account(home, "clerk", {"handler"}, "甲", PASSWORD)
    return home


@pytest.fixture(scope="module")
def base_url(home: Path) -> Iterator[str]:
    from generator.clock import FixedClock

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_HOME", str(home))
        with serve(home, clock=FixedClock.parse(AFTER_END)) as url:
            yield url


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    yield context.new_page()
    context.close()


def _events(home: Path) -> list[Any]:
    with open_archive(home) as archive:
        return archive.catalog.events(CASE)


def test_an_archivist_searches_opens_the_package_and_downloads_a_copy_that_verifies(
        home: Path, base_url: str, page: Any, kit: Kit, tmp_path: Path) -> None:
    from archive.retention import load_classes
    from signing.verify import verify_issued_report

    login(page, base_url, "jia", PASSWORD)
    page.goto(f"{base_url}/archive/search")
    page.fill("input[name=q]", "边坡坍塌")
    page.click("#search-form button[type=submit]")
    page.wait_for_load_state()
    assert "共 1 件" in page.inner_text("#total")
    marks = page.eval_on_selector_all(".snippet mark", "els => els.map(e => e.textContent)")
    assert marks and all(m in "边坡坍塌" for m in marks), marks  # the matched words, highlighted
    screenshot(page, "archive-search.png")
    # at 768 px the results and the form fit: nothing scrolls sideways
    page.set_viewport_size({"width": 768, "height": 1024})
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, (width, inner)
    screenshot(page, "layout-archive-search-768.png", full_page=False)
    page.set_viewport_size({"width": 1366, "height": 768})

    page.click(".hit a.case-link")
    page.wait_for_load_state()
    assert page.inner_text("#case-id") == CASE
    # the retention class by its title and period (10.4), not the catalog's code ("ordinary")
    classes = {f"{c.title}（{c.years} 年）" for c in load_classes().values()}
    assert page.inner_text(".package .retention") in classes
    signatures = page.inner_text(".signatures")
    assert "✓" in signatures and "✗" not in signatures
    # as recorded at ingest (tests/archivekit.INGESTED_AT, 2025-10-16T17:00:00+08:00), with its Beijing time;
    # no audit or verify-now has run yet, and the page says so instead of verifying on the view
    ingest_line = page.inner_text(".signatures li[data-source=ingest]")
    assert ingest_line.startswith("✓ 归档时核验") and "2025-10-16 17:00:00" in ingest_line, ingest_line
    assert "尚未检测" in page.inner_text(".signatures li[data-source=audit]")
    # the package's files with their hashes, read from the bag's manifest
    files = page.eval_on_selector_all(".package table.grid tbody tr td:first-child", "els => els.map(e => e.textContent)")
    assert any(f.startswith("data/report/") and f.endswith(".pdf") for f in files)
    screenshot(page, "archive-package.png", full_page=False)

    with page.expect_download() as download_info:
        page.click("#download-copy")
    archive_zip = tmp_path / "copy.zip"
    download_info.value.save_as(archive_zip)
    with zipfile.ZipFile(archive_zip) as zf:
        report = json.loads(zf.read("verification-report.json"))
        pdf_names = [n for n in zf.namelist() if n.endswith(".pdf") and "/data/report/" in n]
        assert len(pdf_names) == 1
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(zf.read(pdf_names[0]))
        assert zf.read("verification-report.txt").decode("utf-8").startswith(f"调阅核验报告  案件 {CASE}")
    assert report["ok"] and report["exported_by"] == "档案员甲"
    # verified here on its own, against the demo root: the seal and both handlers' signatures
    with ThreadPoolExecutor(1) as pool:  # pyHanko runs its own event loop: not on Playwright's thread
        verified, _ = pool.submit(verify_issued_report, pdf, [kit.root_pem], crls=[kit.crl]).result()
    assert verified.ok, verified.all_problems()

    actions = [(e.actor, e.details.get("action")) for e in _events(home) if e.kind == "web"]
    assert ("jia", "archive_view") in actions and ("jia", "archive_copy") in actions
    retrievals = [e for e in _events(home) if e.kind == "retrieval"]
    assert retrievals and retrievals[-1].actor == "档案员甲"
    logout(page)


def test_verify_now_runs_as_a_job_and_the_package_page_shows_its_result(home: Path, base_url: str, page: Any) -> None:
    """「立即验证」 queues a job (the server's worker thread runs it) and lands on its page; its link back
    opens the package page, which shows the new result with its date and who asked for it."""
    import re

    login(page, base_url, "jia", PASSWORD)
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.click("#verify-now")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_selector("#job-state.done, #job-state.failed", timeout=240_000)
    assert page.inner_text("#job-state") == "已完成", page.inner_text("#job")
    page.click("#job-links a:text('档案包')")
    page.wait_for_load_state()
    checked = [e for e in _events(home) if e.kind == "signature_check"]
    assert len(checked) == 1 and checked[0].actor == "档案员甲"
    line = page.inner_text(".signatures li[data-source=verify]")
    shown = checked[0].at[:10]  # the worker's (real) Beijing date, as the event records it
    assert line.startswith("✓ 立即验证") and shown in line and "档案员甲" in line, line
    assert "立即验证" in page.inner_text(".signature-latest")
    logout(page)


def test_a_handler_account_cannot_reach_the_archive_pages(base_url: str, page: Any) -> None:
    login(page, base_url, "clerk", PASSWORD)
    response = page.goto(f"{base_url}/archive/cases/{CASE}")
    assert response is not None and response.status == 403
    logout(page)


def test_disposal_needs_two_accounts_and_no_hold(home: Path, base_url: str, page: Any) -> None:
    login(page, base_url, "jia", PASSWORD)
    page.goto(f"{base_url}/archive/cases/{CASE}")
    # a hold first: the case cannot even be proposed while it is held
    page.select_option("#hold-form select[name=kind]", "litigation")
    page.fill("#hold-form input[name=reason]", "被保险人起诉")
    page.fill("#hold-form input[name=reference]", "(2040)川01民初7号")
    page.click("#hold-form button[type=submit]")
    page.wait_for_load_state()
    assert "已冻结" in page.inner_text("main")
    # the kind in words (the stored code is "litigation"), the archivist by name with the account beside it
    held = page.inner_text("#holds ul")
    assert held.startswith("诉讼：被保险人起诉") and "litigation" not in held and "档案员甲（jia）" in held
    assert page.query_selector("#propose") is None
    assert "冻结" in page.inner_text("#disposal .blockers")
    # a proposal posted past the page (as a hand-made request would) is refused by the archive's own rule
    token = page.get_attribute("input[name=csrf_token]", "value")
    refused = page.request.post(f"{base_url}/archive/cases/{CASE}/dispose/propose", form={"csrf_token": token})
    assert refused.ok and "冻结" in refused.text()
    with open_archive(home) as archive:
        assert archive.catalog.open_disposal(CASE) is None

    # the one who placed the hold cannot lift it: a second archivist does, with the lifting decision's 文号
    page.fill("#holds input[name=reason]", "原告已撤诉，法院准许撤诉")
    page.fill("#holds input[name=decision_reference]", "(2040)川01民初7号之一")
    page.click("#holds form[action$='/release'] button[type=submit]")
    page.wait_for_load_state()
    assert "冻结人以外" in page.inner_text(".flash.error")
    logout(page)
    login(page, base_url, "bing", PASSWORD)
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.fill("#holds input[name=reason]", "原告已撤诉，法院准许撤诉")
    page.fill("#holds input[name=decision_reference]", "(2040)川01民初7号之一")
    page.click("#holds form[action$='/release'] button[type=submit]")
    page.wait_for_load_state()
    assert "已解除" in page.inner_text("main")
    released = [e for e in _events(home) if e.kind == "release"][-1]
    assert (released.actor, released.details["decision_reference"], released.details["credential"]) == (
        "档案员丙", "(2040)川01民初7号之一", {"method": "web_session", "account": "bing"})
    logout(page)
    login(page, base_url, "jia", PASSWORD)
    page.goto(f"{base_url}/archive/cases/{CASE}")

    page.click("#propose")
    page.wait_for_load_state()
    assert "已提议销毁" in page.inner_text("main")
    page.click("#approve")  # the proposer's own approval
    page.wait_for_load_state()
    assert "另一个账户批准" in page.inner_text(".flash.error")
    with open_archive(home) as archive:
        assert archive.catalog.open_disposal(CASE)["state"] == "proposed"
    logout(page)

    login(page, base_url, "bing", PASSWORD)
    page.goto(f"{base_url}/archive/cases/{CASE}")
    page.click("#approve")
    page.wait_for_load_state()
    assert "已批准销毁" in page.inner_text("main")
    page.click("#execute")
    page.wait_for_load_state()
    assert "已销毁" in page.inner_text("main")
    with open_archive(home) as archive:
        assert [r["state"] for r in archive.catalog.packages(CASE)] == ["disposed"]
        assert len(archive.catalog.tombstones(CASE)) == 1
    web = [(e.actor, e.details.get("action")) for e in _events(home) if e.kind == "web"]
    assert ("jia", "dispose_propose") in web and ("bing", "dispose_approve") in web and ("bing", "dispose_execute") in web
    assert ("jia", "dispose_approve") not in web
    # the disposed case is still found by its number, as a tombstone (its text is gone with it)
    page.goto(f"{base_url}/archive/search?q=案件编号:{CASE}&status=disposed")
    assert "共 1 件" in page.inner_text("#total")
    logout(page)


def test_the_audit_page_runs_the_four_properties_check_as_a_job(base_url: str, page: Any) -> None:
    """「运行检测」 queues an audit job (the server's worker thread runs it) and lands on its page; once it
    has ended, its link opens the audit page, which shows that job's report."""
    import re

    login(page, base_url, "bing", PASSWORD)
    page.goto(f"{base_url}/archive/audit")
    page.click("#run-audit")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    job_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#job-state.done, #job-state.failed", timeout=240_000)
    # the worker audits on the real clock, behind this archive's fixed 2040 one: its log "from the future"
    # fails 真实性, a finding the audit reports (the job ends 失败 with the report kept), not an error
    assert page.inner_text("#job-state") in ("已完成", "失败"), page.inner_text("#job")
    page.click("#job-links a:text('四性检测报告')")
    page.wait_for_load_state()
    text = page.inner_text("#audit-result")
    for title in ("真实性", "完整性", "可用性", "安全性"):
        assert title in text
    assert f"/jobs/{job_id}" in (page.get_attribute("#audit-result a", "href") or "")
    assert page.inner_text("#verdict") in ("审计通过", "审计未通过")
    logout(page)


def test_snippets_keep_only_their_marks() -> None:
    from gongu.web.pages_archive import safe_marks

    # what index/highlight.py produces: escaped text with <mark> around hits; a case text that holds a
    # tag (escaped by the highlighter) stays text, and a raw tag that slipped through is escaped here
    produced = "边坡&lt;script&gt;<mark>坍塌</mark><img src=x onerror=alert(1)>"
    assert str(safe_marks(produced)) == ("边坡&lt;script&gt;<mark>坍塌</mark>"
                                         "&lt;img src=x onerror=alert(1)&gt;")


def test_timestamps_are_shown_as_beijing_time_with_the_stored_value_kept() -> None:
    from gongu.web.render import beijing_time

    # 20:00 UTC on New Year's Eve is 04:00 on 1 January in Beijing (UTC+8)
    shown = str(beijing_time("2025-12-31T20:00:00.123456+00:00"))
    assert shown == ('<time datetime="2025-12-31T20:00:00.123456+00:00" '
                     'title="2025-12-31T20:00:00.123456+00:00">2026-01-01 04:00:00</time>')
    assert ">2026-11-28 20:34:32<" in str(beijing_time("2026-11-28T20:34:32.065511+08:00"))
    # something that is not a timestamp is shown as text, escaped
    assert str(beijing_time("<b>x</b>")) == "&lt;b&gt;x&lt;/b&gt;"
    assert str(beijing_time(None)) == ""


def test_the_audit_time_is_shown_in_beijing_time() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from gongu.web.render import _environment

    # an audit run at 12:59:11 UTC was run at 20:59:11 in Beijing (UTC+8)
    html = _environment().get_template("archive_audit.html").render(
        result={"packages": 1, "bytes_checked": 2, "ok": True, "properties": {}},
        audit_job=SimpleNamespace(id=7, started_by_person="档案员甲",
                                  finished_at=dt.datetime(2026, 12, 7, 12, 59, 11, tzinfo=dt.UTC).isoformat()))
    assert ">2026-12-07 20:59:11</time>（北京时间，任务 <a href=\"/jobs/7\">#7</a>" in html
