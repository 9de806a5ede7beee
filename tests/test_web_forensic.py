"""End to end in a real browser (Playwright on Debian's Chromium): an appraiser opens a forensic case
(its one case page), sees its documents and opens one inline, verifies and logs the draw, opens the work ledger, filters it
and downloads the export, which is read back with openpyxl. One server and one browser for the module,
from a fresh GONGU_HOME holding the four forensic examples in the workspace store's layout
(GONGU_HOME/workspace/<case_id>/). Expected cells are read off the example case files or worked out by
hand in the test."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gongu.pipeline.ledger import COLUMNS
from tests.webkit import browser, login, make_account, register_cases, screenshot, serve  # noqa: F401  (browser: the module-scoped fixture)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FOLDERS = {"SJ-2026-0318": "forensic-joint-grade10", "MK-2026-0087": "forensic-single-no-disability",
           "JC-2026-0512": "forensic-extension-correction", "CX-2026-0617": "forensic-reappraisal"}
PASSWORD = "forensic-e2e-password-1"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gongu-forensic-web")
    for case_id, folder in FOLDERS.items():
        shutil.copytree(EXAMPLES / folder, root / "workspace" / case_id)
    make_account(root, "chen", {"appraiser"}, "陈国栋", PASSWORD)
    make_account(root, "handler1", {"handler"}, "王磊", PASSWORD)
    register_cases(root, "chen", list(FOLDERS))  # chen uploaded the four: need to know puts him on them
    return root


@pytest.fixture(scope="module")
def base_url(home: Path) -> Iterator[str]:
    with serve(home) as url:
        yield url


@pytest.fixture(scope="module")
def page(browser: Any, base_url: str) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(120_000)  # a document renders on first view (WeasyPrint) on a shared 2-core machine
    login(pg, base_url, "chen", PASSWORD)
    yield pg
    context.close()


def _case(case_id: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / FOLDERS[case_id] / "case.json").read_text(encoding="utf-8"))


def _shot(page: Any, name: str) -> None:
    screenshot(page, name, full_page=False)


def test_appraiser_opens_a_case_its_documents_and_one_inline(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/forensic/cases")
    assert page.locator("#forensic-cases tbody tr").count() == 4
    page.click("text=MK-2026-0087")
    page.wait_for_selector("#forensic-documents")
    assert page.url == f"{base_url}/cases/MK-2026-0087"  # one case page: the documents beside the workflow
    rows = page.locator("#forensic-documents tbody tr.needed")
    titles = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    # A single commission (Sichuan 二(二)): the risk notice and the witness notice are among its documents.
    assert "单方委托风险告知书" in titles and "到场见证通知书" in titles and titles[0] == "司法鉴定意见书"
    assert "延长鉴定时限告知书" not in titles
    # The time limits as `gongu adjust` shows them: received Mon 2 March 2026, the 7th working day after is
    # Wed 11 March (3, 4, 5, 6, 9, 10, 11).
    limits = page.locator("#forensic-limits").inner_text()
    assert "应决定受理" in limits and "2026-03-11" in limits
    _shot(page, "forensic-case.png")
    page.locator("#forensic-documents tr[data-key='risk_notice'] >> text=查看 PDF").click()
    page.wait_for_selector("#pdf-link")
    pdf_url = page.locator("#pdf-link").get_attribute("href")
    response = page.request.get(base_url + pdf_url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.body().startswith(b"%PDF-")
    with page.expect_download() as got:
        page.click("#docx-link")
    docx = Path(got.value.path()).read_bytes()
    assert docx[:2] == b"PK"  # a DOCX is a zip


def test_draw_page_verifies_and_logs_the_draw(page: Any, base_url: str, home: Path) -> None:
    record = json.loads((EXAMPLES / "forensic-reappraisal" / "draw-record.json").read_text(encoding="utf-8"))
    page.goto(f"{base_url}/forensic/cases/CX-2026-0617/draw")
    assert "重新计算一致" in page.locator("#draw-verified").inner_text()
    assert page.locator("#draw-roster tbody tr").count() == len(record["roster"]["entries"])
    assert page.locator("#draw-eligible tbody tr").count() == len(record["eligible"])
    assert "中国福利彩票双色球 第 2026068 期" in page.locator("#draw-declaration").inner_text()
    assert "绵阳涪城正衡司法鉴定中心（510703015）" in page.locator("#draw-chosen").inner_text()
    _shot(page, "forensic-draw.png")
    page.click("#draw-verify")
    page.wait_for_selector("#draw-checked")
    page.click("#draw-log")
    page.wait_for_selector("#draw-logged")
    assert "已登记进档案事件日志" in page.locator("#draw-logged").inner_text()
    page.click("#draw-log")  # the same record is logged once
    assert "已登记过" in page.wait_for_selector("#draw-logged").inner_text()
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    archive = build_archive(load_settings(home))
    try:
        events = archive.catalog.events("CX-2026-0617")
    finally:
        archive.close()
    draws = [e for e in events if e.kind == "draw"]
    assert len(draws) == 1 and "陈国栋" in draws[0].actor
    assert draws[0].details["record_sha256"] == hashlib.sha256(
        (EXAMPLES / "forensic-reappraisal" / "draw-record.json").read_bytes()).hexdigest()
    trail = [e.details for e in events if e.kind == "web" and e.actor == "chen"]
    verify = [d for d in trail if d["action"] == "forensic.draw.verify"]
    assert len(verify) == 1 and verify[0]["verified"] is True
    assert sum(1 for d in trail if d["action"] == "forensic.draw.log") == 2


def test_ledger_filters_and_export_read_back(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/forensic/ledger?from=2026-01-01&to=2026-12-31")
    assert page.locator("#ledger-table tbody tr").count() == 4
    _shot(page, "forensic-ledger.png")
    page.select_option("select[name=commission_kind]", "单方委托")
    page.click("#ledger-filters button")
    page.wait_for_url("**commission_kind=*")
    assert page.locator("#ledger-table tbody tr").count() == 1
    assert "MK-2026-0087" in page.locator("#ledger-table").inner_text()
    page.goto(f"{base_url}/forensic/ledger?from=2026-05-08&to=2026-12-31")
    with page.expect_download() as got:
        page.click("#ledger-xlsx")
    assert got.value.suggested_filename == "ledger-2026-05-08-2026-12-31.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == [c.header for c in COLUMNS]
    col = {c.key: i for i, c in enumerate(COLUMNS)}
    rows = {v[col["case_id"]]: v for v in values[1:]}
    # received 2026-03-02 (MK) is before the period; SJ 05-08 (the first day, included), CX 06-18, JC 08-17
    assert set(rows) == {"SJ-2026-0318", "CX-2026-0617", "JC-2026-0512"}
    for case_id, row in rows.items():
        data = _case(case_id)
        assert row[col["case_name"]] == data["case_name"]
        assert row[col["institution"]] == data["institution"]["name"]
        received = date.fromisoformat(data["timeline"]["received_at"][:10])
        assert row[col["received_on"]].date() == received
        assert row[col["commission_kind"]] == "共同委托"
        method = data["selection"]["method"]
        assert row[col["selection"]] == {"agreement": "协商选定", "random_draw": "随机选定"}[method]
        assert (row[col["draw_reference"]] or "") == (data["selection"].get("draw_reference") or "")  # empty cell: None
        assert row[col["source"]] == "在办"
    # CX: effective Mon 22 June 2026, 20 agreed working days, no holiday until then: 23–26 June (4),
    # 29 June–3 July (9), 6–10 (14), 13–17 (19), Mon 20 July (20).
    assert _case("CX-2026-0617")["commission"]["agreed_working_days"] == 20
    assert rows["CX-2026-0617"][col["deadline"]].date() == date(2026, 7, 20)


def test_other_roles_are_refused(browser: Any, base_url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    try:
        login(pg, base_url, "handler1", PASSWORD)
        for path in ("/forensic/cases", "/forensic/cases/CX-2026-0617/draw", "/forensic/ledger/export"):
            assert pg.request.get(base_url + path).status == 403, path
    finally:
        context.close()
