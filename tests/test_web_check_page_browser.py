"""The public check page /v/<code> in Chromium, without logging in (issue 30 item 2): a current, a
superseded and a destroyed document; uploads of the issued file (match), of a copy saved again by another
program (no match, its signatures reported), of the issued file with a change appended, of another PDF,
of a file that is not a PDF and of one over the size limit (nothing stored); 404 for unknown and malformed
codes after the same time as a hit; 429 after the per-client limit; no personal data of the case in any
answer; every lookup a "web" event in the log. One server and one Chromium for the module."""

from __future__ import annotations

import io
import re
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gongu.web.pages_check import CHECK_FLOOR_SECONDS
from tests.archivekit import Kit, open_archive, reissue_of
from tests.codekit import (
    AFTER_END,
    CASE,
    CODE_DESTROYED,
    CODE_ORIGINAL,
    CODE_R1,
    NUMBER,
    OTHER_NUMBER,
    coded_home,
    personal_texts,
    sha256,
    with_personal_data,
)
from tests.sealkit import example_case
from tests.webkit import browser, screenshot, serve  # noqa: F401 — browser is a fixture

LIMIT = 40  # [web] check_requests_per_minute for this module; the server's clock stands still, one window
UPLOAD_MIB = 1
R1 = NUMBER + "R1"


@pytest.fixture(scope="module")
def home(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = coded_home(tmp_path_factory.mktemp("web-check"), kit)
    with (home / "gongu.toml").open("a", encoding="utf-8") as fh:
        fh.write(f"[web]\ncheck_requests_per_minute = {LIMIT}\ncheck_upload_mib = {UPLOAD_MIB}\n")
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
    context = browser.new_context(viewport={"width": 1100, "height": 900})  # never logged in
    yield context.new_page()
    context.close()


PAGES: list[str] = []  # every answer's HTML, searched for personal data at the end


def _open(page: Any, url: str) -> int:
    response = page.goto(url)
    PAGES.append(page.content())
    return int(response.status)


def _pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^Pages:\s+(\d+)$", out, re.M)
    assert found is not None
    return int(found[1])


def _home_files(home: Path) -> dict[str, int]:
    """Files of the home (the catalog's own files aside, which every request writes to)."""
    return {str(p.relative_to(home)): p.stat().st_size for p in home.rglob("*")
            if p.is_file() and "catalog" not in p.name}


def test_a_current_document_without_logging_in(base_url: str, page: Any, kit: Kit) -> None:
    # typed as people do: lower case, hyphens between the groups
    assert _open(page, f"{base_url}/v/ab12-cd34-ef56-gh78-jk9m") == 200
    assert page.url.endswith("/v/ab12-cd34-ef56-gh78-jk9m")  # not sent to /login
    assert page.inner_text("#check-code") == "AB12-CD34-EF56-GH78-JK9M"
    assert page.inner_text("#check-status").strip() == "有效"
    assert page.inner_text("#check-number") == R1
    assert page.inner_text("#check-kind") == "公估报告"
    assert page.inner_text("#check-issuer") == "四川蜀安保险公估有限公司"
    assert page.inner_text("#check-date") == "2025-09-20"
    assert page.inner_text("#check-pages") == str(_pages(kit.sealed_reissue))
    assert page.inner_text("#check-sha256") == sha256(kit.sealed_reissue)
    screenshot(page, "check-page.png")


def test_a_superseded_document_names_its_successor(base_url: str, page: Any) -> None:
    assert _open(page, f"{base_url}/v/{CODE_ORIGINAL}") == 200
    assert page.get_attribute("#check-status", "data-status") == "superseded"
    assert page.inner_text("#check-successor") == R1
    assert f"已被 {R1} 取代" in page.inner_text("#check-status")
    assert page.inner_text("#check-number") == NUMBER
    assert page.inner_text("#check-date") == "2025-09-05"  # 2025-09-04 17:30 UTC, the 5th in Beijing


def test_a_destroyed_document_says_so_with_the_tombstone_date(base_url: str, page: Any) -> None:
    assert _open(page, f"{base_url}/v/{CODE_DESTROYED}") == 200
    status = page.inner_text("#check-status")
    assert status.startswith("已按保管期限销毁") and "2040-10-16" in status
    assert page.inner_text("#check-number") == OTHER_NUMBER


def _upload(page: Any, base_url: str, code: str, name: str, data: bytes, mime: str = "application/pdf") -> int:
    _open(page, f"{base_url}/v/{code}")
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": mime, "buffer": data}])
    with page.expect_navigation() as nav:
        page.click("form button[type=submit]")
    PAGES.append(page.content())
    return int(nav.value.status)


def test_uploads_are_compared_with_the_issued_file(base_url: str, page: Any, kit: Kit, home: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    before = _home_files(home)
    issued = kit.sealed_reissue.read_bytes()
    assert _upload(page, base_url, CODE_R1, "报告.pdf", issued) == 200
    assert page.get_attribute("#check-result", "data-verdict") == "match"
    assert "逐字节一致" in page.inner_text("#check-result")
    screenshot(page, "check-page-match.png")

    # saved again by another program: rewritten, so not the issued file, and its seals no longer hold
    out = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(issued))).write(out)
    assert _upload(page, base_url, CODE_R1, "另存.pdf", out.getvalue()) == 200
    assert page.get_attribute("#check-result", "data-verdict") == "different"
    signatures = page.inner_text("#check-signatures")
    assert signatures.startswith("签章："), signatures
    assert page.get_attribute("#check-signatures", "data-ok") == "no", signatures  # reported: not intact any more

    # the issued file with something appended after it: the issued revision is inside, the rest is not
    assert _upload(page, base_url, CODE_R1, "追加.pdf", issued + b"\n% appended after issue\n") == 200
    assert page.get_attribute("#check-result", "data-verdict") == "extends"
    assert "以出具的文件开头" in page.inner_text("#check-result")

    # another PDF altogether (the same report, never sealed): no match, no signatures
    assert _upload(page, base_url, CODE_R1, "其他.pdf", kit.unsealed.read_bytes()) == 200
    assert page.get_attribute("#check-result", "data-verdict") == "different"
    assert page.inner_text("#check-signatures") == "签章：文件中没有签章"

    # not a PDF; over the size limit: a clear message, nothing compared
    assert _upload(page, base_url, CODE_R1, "a.pdf", b"GIF89a not a pdf at all", "image/gif") == 400
    assert "不是 PDF 文件" in page.inner_text("#check-error")
    assert page.query_selector("#check-result") is None
    big = b"%PDF-1.7\n" + b"0" * (UPLOAD_MIB * 1024 * 1024 + 200 * 1024)
    assert _upload(page, base_url, CODE_R1, "big.pdf", big) == 400
    assert f"超过 {UPLOAD_MIB} MiB" in page.inner_text("#check-error")
    assert _home_files(home) == before  # nothing of the uploads was kept in the home


def test_an_archivist_withdraws_a_document_and_the_public_page_says_so(base_url: str, page: Any, browser: Any) -> None:  # noqa: F811
    from tests.archivekit import person_password
    from tests.webkit import login

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        staff = context.new_page()
        login(staff, base_url, "档案员甲", person_password("档案员甲"))
        staff.goto(f"{base_url}/archive/cases/{CASE}")
        row = staff.locator(f"#check-codes tr[data-code='{CODE_R1}']")
        assert row.locator(".code-status").inner_text() == "有效"
        row.locator("input[name=reason]").fill("委托人撤回委托，报告作废")
        with staff.expect_navigation():
            row.locator("button[type=submit]").click()
        assert "已撤回" in staff.locator(f"#check-codes tr[data-code='{CODE_R1}'] .code-status").inner_text()
        # the superseded original may still be withdrawn; the row of the other case is not on this page
        assert staff.locator(f"#check-codes tr[data-code='{CODE_ORIGINAL}'] form").count() == 1
        assert staff.locator(f"#check-codes tr[data-code='{CODE_DESTROYED}']").count() == 0
    finally:
        context.close()
    assert _open(page, f"{base_url}/v/{CODE_R1}") == 200
    status = page.inner_text("#check-status")
    # the server's clock stands at AFTER_END: the withdrawal's date is that day
    assert status.startswith("已撤回") and "2040-10-16" in status and "委托人撤回委托，报告作废" in status


def test_unknown_and_malformed_codes_are_404_after_the_same_time(base_url: str, page: Any) -> None:
    assert _open(page, f"{base_url}/v/0000-0000-0000-0000-0000") == 404
    assert page.query_selector("#check-unknown") is not None
    for malformed in ("short", "7K3M9Q2XR8TB4VWZ6NUP", "x" * 60, "%3Cscript%3E", "7K3M/9Q2X/R8TB"):
        assert _open(page, f"{base_url}/v/{malformed}") == 404
        assert page.query_selector("#check-record") is None

    def timed(code: str) -> float:
        started = time.perf_counter()
        assert page.request.get(f"{base_url}/v/{code}").status in (200, 404)
        return time.perf_counter() - started

    hits = [timed(CODE_R1) for _ in range(4)]
    misses = [timed("ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ") for _ in range(4)]
    assert min(hits + misses) >= CHECK_FLOOR_SECONDS  # every answer waits for the floor
    assert abs(statistics.median(hits) - statistics.median(misses)) < 0.1, (hits, misses)


def test_every_lookup_is_a_web_event_without_personal_data(home: Path) -> None:
    with open_archive(home) as archive:
        logged = [e for e in archive.catalog.events() if e.kind == "web"]
    events = [e for e in logged if e.details.get("action") == "check_code"]
    outcomes = {(e.details["code"], e.details["outcome"]) for e in events}
    assert (CODE_R1, "found") in outcomes and (CODE_DESTROYED, "found") in outcomes
    assert ("00000000000000000000", "unknown") in outcomes and (None, "malformed") in outcomes
    found = next(e for e in events if e.details["code"] == CODE_ORIGINAL)
    assert found.case_id == CASE and found.report_number == NUMBER and found.details["status"] == "superseded"
    assert all(e.details["client"] == "127.0.0.1" for e in events)
    uploads = [e for e in logged if e.details.get("action") == "check_upload"]
    assert {e.details.get("refused") for e in uploads} >= {"not_pdf", "size"}
    texts = personal_texts(with_personal_data(example_case())) + personal_texts(reissue_of(example_case()))
    for e in events + uploads:
        assert not any(t in e.entry() for t in texts), e.entry()


def test_no_personal_data_on_any_answer() -> None:
    texts = personal_texts(with_personal_data(example_case()))
    assert len(PAGES) >= 15
    for html in PAGES:
        found = [t for t in texts if t in html]
        assert not found, found


def test_429_after_the_limit(base_url: str, page: Any, home: Path) -> None:
    """Last in the module: it spends the client's requests of the (still) minute."""
    from sqlalchemy import select

    from archive.check_codes import check_rate_table

    with open_archive(home) as archive:
        used = archive.catalog._one(select(check_rate_table).where(check_rate_table.c.client == "127.0.0.1"))
    assert used is not None and used["requests"] < LIMIT
    statuses = [page.request.get(f"{base_url}/v/{CODE_R1}").status for _ in range(LIMIT - used["requests"])]
    assert set(statuses) == {200}
    refused = page.request.get(f"{base_url}/v/{CODE_R1}")
    assert refused.status == 429 and refused.headers["retry-after"] == "60"
    assert "查询过于频繁" in refused.text()
    assert page.request.get(f"{base_url}/v/0000-0000-0000-0000-0000").status == 429  # misses count alike
    upload = {"file": {"name": "a.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n"}}
    assert page.request.post(f"{base_url}/v/{CODE_R1}", multipart=upload).status == 429  # refused before reading
    with open_archive(home) as archive:
        limited = [e for e in archive.catalog.events() if e.kind == "web" and e.details.get("action") == "check_rate_limited"]
    assert len(limited) == 1  # logged once per window, not once per refused request
