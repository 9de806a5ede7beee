"""In a real browser (10.4, retention from facts the system saw; disposal reaches every copy): a case
whose file says it closed twenty years ago, issued and archived today, is not 可销毁 on the disposal
page — its retention runs 15 years from today's ingest. Once that time has passed and two archivists
have disposed of it, the workspace case page shows 已销毁 with the tombstone, the case list says 已销毁,
and the sealed report is no longer served (410) — its workspace and issued copies are gone.
Before: the case was listed 可销毁 three minutes after its ingest, and after the disposal the case page
still showed 已归档 and served the sealed PDF."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.archivekit import Kit, open_archive, write_case, write_home
from tests.sealkit import example_case
from tests.webkit import browser, login, logout, make_account, serve  # noqa: F401 — browser is a fixture

CASE = "SAGC-2025-0712"
NUMBER = "SA-GC-20250905-017"
ISSUED_AND_ARCHIVED = "2026-12-07T19:50:00+08:00"
THREE_MINUTES_LATER = "2026-12-07T19:53:00+08:00"
PAST_RETENTION = "2041-12-08T09:00:00+08:00"  # 15 years (10.4) after the ingest, not after the 2006 closure
PASSWORD = "disposal-pass-2041-long"


@pytest.fixture(scope="module")
def home(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace case closed (as its file says) in 2006, issued and archived on 2026-12-07."""
    from archive.ingest import ingest
    from archive.workspace import put_case
    from generator.loading import load_case
    from signing.keys import DEMO_PASSPHRASE

    base = tmp_path_factory.mktemp("web-disposal")
    home = write_home(base / "home", kit)
    data = example_case()
    data["report"]["issued_on"] = "2006-03-01"
    data["delivery"].update(delivered_at="2006-03-02T10:00:00", fee_received_at="2006-03-03T10:00:00",
                            closed_at="2006-03-04T09:00:00")
    data["issuances"] = [{"number": NUMBER, "issued_at": ISSUED_AND_ARCHIVED, "sealed": True,
                          "pdf_file": f"{NUMBER}.pdf"}]
    case = write_case(home / "workspace" / CASE, data)
    (home / "issued" / CASE).mkdir(parents=True)
    report = shutil.copyfile(kit.sealed, home / "issued" / CASE / f"{NUMBER}.pdf")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
        mp.setenv("GONGU_HOME", str(home))
        with open_archive(home, ISSUED_AND_ARCHIVED) as archive:
            ingest(archive, load_case(case), report, by="档案员甲")
            with archive.catalog.write():
                put_case(archive.catalog, case_id=CASE, kind="car_survey", status="archived", handler="wang",
                         handler_person="王志强", case_name=data["case_name"], project=data["project"]["name"],
                         insured=data["policy"]["insured"], report_number=NUMBER, next_level=None,
                         at=ISSUED_AND_ARCHIVED)
        make_account(home, "jia", {"archivist"}, "档案员甲", PASSWORD)
        make_account(home, "wang", {"handler"}, "甲", PASSWORD)
        yield home


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    yield context.new_page()
    context.close()


def test_10_4_archived_today_is_not_disposable_and_after_disposal_every_page_says_destroyed(
        home: Path, page: Any) -> None:
    from archive.disposal import approve, execute, propose

    with serve(home, clock=_clock(THREE_MINUTES_LATER)) as url:
        login(page, url, "jia", PASSWORD)
        page.goto(f"{url}/archive/disposal")
        eligible, blocked = page.inner_text("section:nth-of-type(2)"), page.inner_text("section:nth-of-type(3)")
        assert "可销毁" in eligible and CASE not in eligible
        assert f"{CASE}：报告 {NUMBER} 保管期限至 2041-12-07，尚未届满（10.4）" in page.text_content("body")  # the text, names inside <bdi>
        assert "不可销毁（1）" in blocked
        logout(page)
        login(page, url, "wang", PASSWORD)
        page.goto(f"{url}/cases/{CASE}")
        assert page.inner_text("#case-status") == "已归档"
        served = page.request.get(f"{url}/cases/{CASE}/report.pdf")
        assert served.status == 200 and served.body()[:5] == b"%PDF-"
        logout(page)

    with open_archive(home, PAST_RETENTION) as archive:  # two people, after the retention end
        propose(archive, CASE, by="档案员甲")
        approve(archive, CASE, by="档案员丙")
        execute(archive, CASE, by="档案员甲")
    assert not (home / "workspace" / CASE).exists() and not (home / "issued" / CASE).exists()

    with serve(home, clock=_clock(PAST_RETENTION)) as url:
        login(page, url, "wang", PASSWORD)
        page.goto(f"{url}/cases/{CASE}")
        assert page.inner_text("#case-status") == "已销毁"
        tomb = page.inner_text("#tombstone")
        assert NUMBER in tomb and "档案员甲" in tomb and "档案员丙" in tomb
        assert not page.query_selector("iframe") and not page.query_selector("#pdf-link")
        for kind in ("pdf", "docx"):
            gone = page.request.get(f"{url}/cases/{CASE}/report.{kind}")
            assert gone.status == 410 and "已销毁" in gone.text() and not gone.body().startswith(b"%PDF")
        page.goto(f"{url}/cases")
        row = page.inner_text(f"tr:has(a[href='/cases/{CASE}'])")
        assert "已销毁" in row and "已归档" not in row


def _clock(at: str) -> Any:
    from generator.clock import FixedClock

    return FixedClock.parse(at)


def test_the_package_metadata_records_the_start_and_its_facts(home: Path) -> None:
    """The sealed package says from which day it is kept (docs/package-format.md)."""
    rel = f"2006/{CASE}/{NUMBER}"
    tomb = json.loads((home / "archive" / "packages" / rel / "TOMBSTONE.json").read_text(encoding="utf-8"))
    assert tomb["metadata"]["retention"]["facts"] == {"closure": "2006-03-04", "issuance": "2026-12-07",
                                                      "ingest": "2026-12-07"}
    assert (tomb["metadata"]["retention"]["start"], tomb["metadata"]["retention"]["until"]) == ("2026-12-07",
                                                                                               "2041-12-07")
