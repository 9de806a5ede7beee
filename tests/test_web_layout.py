"""The workspace read as one product, in a real browser (Chromium): at 768 px wide no page of the case
list, the case pages (survey and forensic), the work queue or the review queue scrolls sideways and a
case id never wraps; a forensic case has one case page (its old address redirects there, after the same
need-to-know answer); clause codes are shown as the documents' titles, people as 姓名（账户）, and the
QC heading names what its blocking rows stop in the same words. Screenshots of each page family at
1366 and 768 px (docs/web.md).

One server and one Chromium for the module, from a fresh GONGU_HOME holding 40 survey cases with long
ids and names, the four forensic examples and one of them with its opinion issued, uploaded by their
handler / appraiser accounts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.webkit import browser, login, make_account, register_cases, screenshot, serve  # noqa: F401 — browser is a fixture

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PASSWORD = "layout-pass-768-ok"
WIDE = {"width": 1366, "height": 768}
NARROW = {"width": 768, "height": 1024}
# 25 characters: the firm's pattern with a sequence and a suffix, as a reopened case carries
SURVEY = [f"SA-GC-20250712-{n:04d}-BIS" for n in range(1, 41)]
FORENSIC = {"SJ-2026-0318": "forensic-joint-grade10", "MK-2026-0087": "forensic-single-no-disability",
            "JC-2026-0512": "forensic-extension-correction", "CX-2026-0617": "forensic-reappraisal"}
ISSUED = "MK-2026-0087-I"  # MK with its opinion issued: the documents written after it await 补充出具
IN_REVIEW = SURVEY[:6]  # waiting for the approver: the review queue has rows
UNSIGNED = SURVEY[-1]  # a draft with a blocking finding


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-layout")
    example = json.loads((EXAMPLES / "slope-collapse" / "case.json").read_text(encoding="utf-8"))
    for n, case_id in enumerate(SURVEY, start=1):
        folder = root / "workspace" / case_id
        shutil.copytree(EXAMPLES / "slope-collapse", folder)
        data = dict(example, case_id=case_id,
                    case_name=f"雅康高速C3合同段K42+{n:03d}边坡暴雨坍塌及排水沟、挡土墙连带损失公估案（补充查勘）")
        data["report"] = dict(example["report"], number=f"SA-GC-20250905-{n:03d}")
        if case_id == UNSIGNED:  # one of the two handler signatures missing: blocking under 9.2
            data["report"]["signatures"] = example["report"]["signatures"][:1]
        (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for case_id, folder in FORENSIC.items():
        shutil.copytree(EXAMPLES / folder, root / "workspace" / case_id)
    issued = json.loads((EXAMPLES / FORENSIC["MK-2026-0087"] / "case.json").read_text(encoding="utf-8"))
    issued["case_id"] = ISSUED
    issued["issuances"] = [{"number": issued["report"]["number"], "issued_at": "2026-04-20T10:00:00",
                            "pdf_file": "issued/opinion.pdf", "sealed": True}]
    shutil.copytree(EXAMPLES / FORENSIC["MK-2026-0087"], root / "workspace" / ISSUED)
    (root / "workspace" / ISSUED / "case.json").write_text(json.dumps(issued, ensure_ascii=False), encoding="utf-8")
    make_account(root, "wang", {"handler"}, "王志强", PASSWORD)
    make_account(root, "chen", {"appraiser"}, "陈国栋", PASSWORD)
    make_account(root, "zhou", {"appraiser"}, "周敏", PASSWORD)  # on no case: need to know hides them all
    make_account(root, "boss", {"supervisor", "forensic_supervisor", "approver"}, "李主管", PASSWORD)
    register_cases(root, "wang", SURVEY)
    register_cases(root, "chen", [*FORENSIC, ISSUED])
    _status(root, IN_REVIEW, "in_review", "approve")
    _status(root, [ISSUED], "issued", None)
    return root


def _status(home: Path, case_ids: list[str], status: str, next_level: str | None) -> None:
    from archive.catalog import Catalog
    from archive.workspace import set_status

    catalog = Catalog(home / "archive" / "catalog.sqlite")
    try:
        with catalog.write():
            for case_id in case_ids:
                set_status(catalog, case_id, status, next_level=next_level, at="2026-03-02T10:00:00+08:00")
    finally:
        catalog.close()


@pytest.fixture(scope="module")
def base_url(home: Path) -> Iterator[str]:
    with serve(home) as url:
        yield url


def _page(browser: Any, base_url: str, username: str, viewport: dict[str, int]) -> Any:  # noqa: F811
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    # the report preview's <iframe> renders a PDF (seconds of WeasyPrint); the layout does not depend on it
    pg.route("**/report.pdf", lambda route: route.fulfill(status=204, body=""))
    login(pg, base_url, username, PASSWORD)
    return pg


@pytest.fixture(scope="module")
def narrow(browser: Any, base_url: str) -> Iterator[Any]:  # noqa: F811
    pg = _page(browser, base_url, "boss", NARROW)
    yield pg
    pg.context.close()


@pytest.fixture(scope="module")
def wide(browser: Any, base_url: str) -> Iterator[Any]:  # noqa: F811
    pg = _page(browser, base_url, "boss", WIDE)
    yield pg
    pg.context.close()


def _no_sideways_scroll(page: Any) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: the page is {width} px wide in a {inner} px window"


def _both(narrow: Any, wide: Any, url: str, name: str, *, full_page: bool = False) -> None:
    """Open `url` at 768 and 1366 px: no sideways scroll at either; a screenshot of each (`full_page`: the
    whole page, for a case page whose sections run below the first screen)."""
    for page, suffix in ((narrow, "768"), (wide, "1366")):
        page.goto(url)
        _no_sideways_scroll(page)
        screenshot(page, f"{name}-{suffix}.png", full_page=full_page)


def test_case_list_fits_768_and_case_ids_never_wrap(narrow: Any, wide: Any, base_url: str) -> None:
    _both(narrow, wide, f"{base_url}/cases", "layout-cases")
    narrow.goto(f"{base_url}/cases")
    rows = narrow.locator("#cases tbody tr")
    assert rows.count() == 45  # 40 survey cases and the five forensic ones, one page of 50
    # each id on one line: its link is one box no taller than a line of text
    boxes = narrow.eval_on_selector_all(
        "#cases td.case-id a",
        "els => els.map(e => [e.getClientRects().length, e.getBoundingClientRect().height,"
        " parseFloat(getComputedStyle(e).fontSize)])")
    assert len(boxes) == 45
    assert all(n == 1 and h < 2 * size for n, h, size in boxes), boxes
    # the columns dropped at this width are still read in the row, under the case name
    first = narrow.locator("#cases tbody tr", has_text=SURVEY[0])
    assert first.locator(".col-project").is_hidden()
    project = json.loads((EXAMPLES / "slope-collapse" / "case.json").read_text(encoding="utf-8"))["project"]["name"]
    assert project in first.locator(".sub-line").inner_text()
    # the handler's name with the account beside it
    assert "王志强（wang）" in first.inner_text()


def test_survey_case_page_fits_768_and_its_qc_heading_matches_its_rows(narrow: Any, wide: Any,
                                                                        base_url: str) -> None:
    _both(narrow, wide, f"{base_url}/cases/{UNSIGNED}", "layout-case-survey", full_page=True)
    page = narrow
    page.goto(f"{base_url}/cases/{UNSIGNED}")
    assert "王志强（wang）" in page.inner_text(".case-meta")
    # a draft: what a blocking finding stops now is the submission, in the heading and in every row
    heading = page.inner_text("#qc h2")
    assert heading.startswith("品质审核（按条款）：阻止提交")
    levels = page.eval_on_selector_all("#qc tr.blocking td:first-child", "els => els.map(e => e.textContent)")
    assert levels and set(levels) == {"阻止提交"}, levels
    assert page.inner_text("#qc-blocking") == str(len(levels))
    assert page.locator("#qc tr.blocking", has_text="$.report.signatures").count() == 1
    assert "阻止出具" not in page.inner_text("#qc")
    # a case in review: what its blocking findings stop is the issue
    page.goto(f"{base_url}/cases/{IN_REVIEW[0]}")
    assert page.inner_text("#qc h2").startswith("品质审核（按条款）：阻止出具")
    _no_sideways_scroll(page)


def test_forensic_case_has_one_page_with_its_documents_limits_and_titles(narrow: Any, wide: Any,
                                                                         base_url: str) -> None:
    page = narrow
    answer = page.request.get(f"{base_url}/forensic/cases/MK-2026-0087", max_redirects=0)
    assert answer.status == 308 and answer.headers["location"] == "/cases/MK-2026-0087"
    page.goto(f"{base_url}/forensic/cases/MK-2026-0087")
    assert page.url == f"{base_url}/cases/MK-2026-0087"
    _no_sideways_scroll(page)
    # the forensic sections beside the workflow (documents, time limits) and the workflow's own
    titles = page.eval_on_selector_all("#forensic-documents tbody tr.needed td:first-child",
                                       "els => els.map(e => e.textContent)")
    assert titles[0] == "司法鉴定意见书" and "单方委托风险告知书" in titles
    # received Mon 2 March 2026: the 7th working day after is Wed 11 March (3, 4, 5, 6, 9, 10, 11)
    limits = page.inner_text("#forensic-limits")
    assert "应决定受理" in limits and "2026-03-11" in limits
    assert page.locator("#actions").count() == 1 and page.locator("#reviews").count() == 1
    tabs = page.inner_text("#case-tabs")
    assert "文书" in tabs and "鉴定时限" in tabs and "审核记录" in tabs
    # clause codes as the documents' titles: 通则 Art 13 is the acceptance limit's article
    text = page.evaluate("document.querySelector('main').textContent")  # hidden columns too (依据 at 768 px)
    assert "《司法鉴定程序通则》第十三条" in limits and "《司法鉴定程序通则》第二十八条" in limits
    assert "通则 Art" not in text and "Sichuan" not in text
    # the forensic supervisor sees who opened the case: this very account, name and username
    page.reload()
    assert "李主管（boss）" in page.inner_text("#forensic-reads")
    screenshot(page, "layout-case-forensic-768.png", full_page=True)
    wide.goto(f"{base_url}/cases/MK-2026-0087")
    _no_sideways_scroll(wide)
    screenshot(wide, "layout-case-forensic-1366.png", full_page=True)
    # the opinion is not issued: no 补充出具 button, and a hand-made request is refused with the reason
    assert page.locator("#issue-additional").count() == 0
    token = page.get_attribute("input[name=csrf_token]", "value")
    refused = page.request.post(f"{base_url}/cases/MK-2026-0087/issue-additional", form={"csrf_token": token})
    assert refused.status == 409 and "没有待补充出具的文书" in refused.text()


def test_sichuan_clauses_carry_the_opinions_document_number(narrow: Any, base_url: str) -> None:
    # JC's institution was chosen by agreement but names a draw record: a 提示 under the Sichuan opinion 二(三)
    narrow.goto(f"{base_url}/cases/JC-2026-0512")
    headings = narrow.eval_on_selector_all("#qc h3.clause", "els => els.map(e => [e.dataset.code, e.textContent])")
    assert headings == [["Sichuan 二(三)", "川司鉴协〔2022〕7号 二(三)"]]  # the code kept as data, the title shown
    assert "Sichuan" not in narrow.inner_text("main")
    from generator.clauses import clause_label

    assert clause_label("Sichuan 二(三)") == "川司鉴协〔2022〕7号 二(三)"
    assert clause_label("通则 Art 20–21") == "《司法鉴定程序通则》第二十条至第二十一条"
    assert clause_label("通则 Art 32；Sichuan 二(四)") == "《司法鉴定程序通则》第三十二条；川司鉴协〔2022〕7号 二(四)"
    assert clause_label("5.3.1") == "5.3.1"  # the CAR code's clause numbers are what a handler reads
    from generator.clauses import clauses_in

    # a refusal as the workspace words it, the codes inside named the same way
    assert clauses_in("[通则 Art 35] 复核人不得为鉴定人；[9.2] 签名不足") == (
        "[《司法鉴定程序通则》第三十五条] 复核人不得为鉴定人；[9.2] 签名不足")


def test_forensic_redirect_keeps_need_to_know(browser: Any, base_url: str) -> None:  # noqa: F811
    page = _page(browser, base_url, "zhou", NARROW)
    try:
        # an appraiser on none of the cases: the same 404 as for a case that does not exist, no redirect
        for case_id in ("MK-2026-0087", "NO-SUCH-CASE"):
            for path in (f"/forensic/cases/{case_id}", f"/cases/{case_id}"):
                answer = page.request.get(base_url + path, max_redirects=0)
                assert answer.status == 404, path
    finally:
        page.context.close()


def test_queues_fit_768(narrow: Any, wide: Any, base_url: str) -> None:
    _both(narrow, wide, f"{base_url}/queue", "layout-queue")
    assert narrow.locator("#queue tbody tr[data-case]").count() > 0
    # every survey draft's handler is in the queue with the account beside the name
    assert "王志强（wang）" in narrow.inner_text("#queue")
    _both(narrow, wide, f"{base_url}/review?level=approve", "layout-review-queue")
    assert narrow.locator("#queue tbody tr").count() == len(IN_REVIEW)
    assert "王志强（wang）" in narrow.inner_text("#queue")


def test_an_issued_opinion_offers_the_additional_issuance_as_a_job(narrow: Any, base_url: str) -> None:
    narrow.goto(f"{base_url}/forensic/cases/{ISSUED}")
    assert narrow.url == f"{base_url}/cases/{ISSUED}"
    # documents written after the opinion await issuance: the approver's button, queued as a job
    narrow.click("#issue-additional")
    narrow.wait_for_load_state()
    assert "/jobs/" in narrow.url
    assert "补充出具文书（鉴定）" in narrow.inner_text("main")
    assert "李主管（boss）" in narrow.inner_text("main")  # who started it
