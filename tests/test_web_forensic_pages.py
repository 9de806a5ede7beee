"""The forensic pages' answers to bad or hostile input, through Starlette's TestClient (no browser):
an unknown case, an invalid case file (JSON path and Chinese field title shown), hostile case text shown
as text, a bad ledger period or export format (a plain Chinese message), a changed draw record (the
discrepancies listed), and a case of another kind (not listed, not found)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gongu.web.app import create_app
from tests.webkit import csrf_from, make_account

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PASSWORD = "forensic-pages-password-1"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forensic-pages")
    ws = root / "workspace"
    shutil.copytree(EXAMPLES / "forensic-joint-grade10", ws / "SJ-2026-0318")
    shutil.copytree(EXAMPLES / "forensic-reappraisal", ws / "CX-2026-0617")
    shutil.copytree(EXAMPLES / "slope-collapse", ws / "survey")
    hostile = json.loads((EXAMPLES / "forensic-single-no-disability" / "case.json").read_text(encoding="utf-8"))
    hostile["case_name"] = HOSTILE
    shutil.copytree(EXAMPLES / "forensic-single-no-disability", ws / "MK-2026-0087")
    (ws / "MK-2026-0087" / "case.json").write_text(json.dumps(hostile, ensure_ascii=False), encoding="utf-8")
    broken = json.loads((EXAMPLES / "forensic-joint-grade10" / "case.json").read_text(encoding="utf-8"))
    broken["case_id"] = "BAD-1"
    broken["timeline"]["received_at"] = "not a time"
    (ws / "BAD-1").mkdir()
    (ws / "BAD-1" / "case.json").write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    record = json.loads((ws / "CX-2026-0617" / "draw-record.json").read_text(encoding="utf-8"))
    record["seed"] = "0" * 64  # a changed record must not verify
    (ws / "CX-2026-0617" / "draw-record.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    # folders put there by hand (no workspace row), one of them invalid: need to know shows them to the
    # forensic supervisor only (gongu/access/case_access.py), whose view of every folder these tests check
    make_account(root, "rev", {"forensic_supervisor"}, "李主管", PASSWORD)
    return root


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(home), base_url="http://127.0.0.1") as c:
        token = csrf_from(c.get("/login").text)
        r = c.post("/login", data={"username": "rev", "password": PASSWORD, "csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 303
        yield c


def test_list_skips_other_kinds_and_shows_invalid_files_with_their_paths(client: TestClient) -> None:
    r = client.get("/forensic/cases")
    assert r.status_code == 200
    assert "SJ-2026-0318" in r.text and "CX-2026-0617" in r.text
    assert "survey" not in r.text.split("forensic-cases")[1].split("</table>")[0]
    assert "$.timeline.received_at" in r.text and "BAD-1" in r.text


def test_invalid_case_page_lists_the_problem_with_the_chinese_title(client: TestClient) -> None:
    r = client.get("/forensic/cases/BAD-1")
    assert r.status_code == 422
    assert "$.timeline.received_at" in r.text and "收到委托时间" in r.text


def test_unknown_and_other_kind_cases_are_not_found(client: TestClient) -> None:
    for path in ("/forensic/cases/NOPE", "/forensic/cases/survey", "/forensic/cases/SJ-2026-0318/documents/nope",
                 "/forensic/cases/SJ-2026-0318/documents/risk_notice/pdf"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "<h1>" in r.text


def test_hostile_case_text_is_shown_as_text(client: TestClient) -> None:
    for path in ("/forensic/cases", "/forensic/cases/MK-2026-0087"):
        r = client.get(path)
        assert r.status_code == 200
        assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_changed_draw_record_lists_the_discrepancies(client: TestClient) -> None:
    r = client.get("/forensic/cases/CX-2026-0617/draw")
    assert r.status_code == 200
    assert 'id="draw-failed"' in r.text and 'id="draw-verified"' not in r.text
    assert "$.seed" in r.text
    token = csrf_from(r.text)
    r = client.post("/forensic/cases/CX-2026-0617/draw/log", data={"csrf_token": token})
    assert r.status_code == 422 and "抽取未能登记" in r.text  # the log never vouches for a record that fails
    r = client.get("/forensic/cases/SJ-2026-0318/draw")
    assert r.status_code == 200 and "没有抽取记录" in r.text


def test_bad_ledger_period_and_format_are_plain_messages(client: TestClient) -> None:
    r = client.get("/forensic/ledger?from=2026-13-01&to=2026-12-31")
    assert r.status_code == 400 and "YYYY-MM-DD" in r.text
    r = client.get("/forensic/ledger?from=2026-12-31&to=2026-01-01")
    assert r.status_code == 400 and "晚于" in r.text
    r = client.get("/forensic/ledger/export?from=2026-01-01&to=2026-12-31&format=pdf")
    assert r.status_code == 400 and "xlsx" in r.text


def test_ledger_refuses_an_invalid_case_like_the_cli(client: TestClient) -> None:
    # `gongu ledger export --cases` ends with the problems and no file when one case is invalid; so does the page
    r = client.get("/forensic/ledger?from=2026-01-01&to=2026-12-31")
    assert r.status_code == 422 and "$.timeline.received_at" in r.text


def test_csv_export_is_the_cli_format(home: Path, client: TestClient) -> None:
    shutil.move(str(home / "workspace" / "BAD-1"), str(home / "BAD-1-aside"))
    try:
        r = client.get("/forensic/ledger/export?from=2026-05-08&to=2026-05-08&format=csv")
    finally:
        shutil.move(str(home / "BAD-1-aside"), str(home / "workspace" / "BAD-1"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, as `gongu ledger export --format csv`
    lines = r.content.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("案件编号,鉴定文书编号,案件名称")
    assert [line.split(",")[0] for line in lines[1:] if line] == ["SJ-2026-0318"]  # received 2026-05-08 only


def test_case_links_for_the_generic_case_page(client: TestClient) -> None:
    from gongu.web.pages_forensic import case_links

    links = dict(case_links("CX-2026-0617"))
    assert links["随机抽取鉴定机构"] == "/forensic/cases/CX-2026-0617/draw"
    for url in links.values():
        assert client.get(url).status_code == 200


def test_list_shows_each_cases_review_status_from_the_workspace(client: TestClient, home: Path) -> None:
    from archive.catalog import Catalog
    from archive.workspace import put_case

    catalog = Catalog(home / "archive" / "catalog.sqlite")
    try:
        with catalog.write():  # as an upload and a passed proofreading would leave it (9.3)
            put_case(catalog, case_id="SJ-2026-0318", kind="forensic_appraisal", status="in_review", handler="chen",
                     handler_person="陈晓梅", case_name="某", project="", insured="", report_number="",
                     next_level="recheck", at="2026-03-02T10:00:00+08:00")
    finally:
        catalog.close()
    table = client.get("/forensic/cases").text.split('id="forensic-cases"')[1].split("</table>")[0]
    rows = {r.split("</a>")[0].rsplit(">", 1)[-1]: r for r in table.split("<tr>")[2:]}
    assert '<a href="/cases/SJ-2026-0318">审核中（待复核）</a>' in rows["SJ-2026-0318"]
    # copied into the folder by hand, never uploaded through the workspace: no status to show
    assert "未登记" in rows["CX-2026-0617"] and 'href="/cases/CX-2026-0617"' not in rows["CX-2026-0617"]


def test_one_case_page_the_forensic_address_leads_there_once_the_case_is_in_the_workflow(client: TestClient) -> None:
    # SJ has a workspace row (the test above): its forensic address answers 308 to the case page
    r = client.get("/forensic/cases/SJ-2026-0318", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/cases/SJ-2026-0318"
    page = client.get("/cases/SJ-2026-0318")
    assert page.status_code == 200 and 'id="forensic-documents"' in page.text and 'id="forensic-limits"' in page.text
    # CX was put in the folder by hand: no workflow, its forensic sections shown alone, clauses by title
    r = client.get("/forensic/cases/CX-2026-0617", follow_redirects=False)
    assert r.status_code == 200 and 'id="unregistered"' in r.text
    shown = re.sub(r"<[^>]*>", "", r.text)  # what a reader sees; the codes stay as data (data-code="…")
    assert "《司法鉴定程序通则》第十三条" in shown and "通则 Art" not in shown and "Sichuan" not in shown
    assert 'data-code="Sichuan 二(三)">川司鉴协〔2022〕7号 二(三)<' in r.text  # a changed draw record
