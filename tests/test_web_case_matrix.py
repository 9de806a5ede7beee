"""Need to know, role × case (gongu/access/case_access.py; 个人信息保护法 Art 28): every page, download, action,
list, count, queue and search hit of a survey case and a forensic case, for every account below, on
SQLite and on PostgreSQL → 200 only where the account may see the case, 403 (role) or 404 (not the
account's case: its existence is not revealed) everywhere else.

The case endpoints are generated from the page registry (gongu.web.access.ENDPOINTS), so a page added
later is in the matrix without editing this file. Who sees what is worked out by hand in SEES from the
rule: the people on the case (uploading account, named handlers / appraisers), its reviewers from its
level on (and for good once they decided), the kind's supervisor; admin and archivists see no case in
progress. Both cases are uploaded, submitted and proofread through the pages, so each waits for its
复核 level: the survey one for the rechecker (9.3), the forensic one for the 鉴定复核 reviewer (通则 Art 35)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gongu.web.access import ENDPOINTS, SAFE_METHODS, Endpoint
from gongu.web.app import create_app, load_page_modules
from tests.storekit import store_kind, store_url  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)
from tests.webkit import browser, csrf_from, login, make_account, serve  # noqa: F401  (browser: a fixture)

load_page_modules()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PASSWORD = "need-to-know-pass-1"
SURVEY, FORENSIC = "SAGC-2025-0712", "CX-2026-0617"  # slope-collapse (王志强, 陈晓梅); reappraisal (陈国栋, 林雪)
FOLDERS = {SURVEY: EXAMPLES / "slope-collapse", FORENSIC: EXAMPLES / "forensic-reappraisal"}
# username → (registered person, roles)
ACCOUNTS: dict[str, tuple[str, set[str]]] = {
    "handler_a": ("王志强", {"handler"}),  # uploads the survey case and is named on it
    "handler_named": ("陈晓梅", {"handler"}),  # named on the survey case, did not upload it
    "handler_b": ("梁国栋", {"handler"}),  # another handler's cases only
    "proofreader": ("赵丽", {"proofreader"}),  # proofreads both kinds (LEVEL_ROLES), decided both
    "survey_reviewer": ("孙立军", {"rechecker"}),
    "approver": ("刘建国", {"approver"}),  # the cases have not reached 审核 yet
    "appraiser": ("陈国栋", {"appraiser"}),  # uploads the forensic case and is named on it
    "appraiser_other": ("唐志明", {"appraiser"}),
    "forensic_reviewer": ("李复核", {"reviewer"}),
    "archivist": ("周档案", {"archivist"}),
    "supervisor": ("主管甲", {"supervisor"}),
    "forensic_supervisor": ("主管乙", {"forensic_supervisor"}),
    "admin": ("管理员甲", {"admin"}),
    "both_kinds": ("吴主管", {"supervisor", "forensic_supervisor"}),
}
# Worked out by hand from the rule (module docstring).
SEES = {
    SURVEY: {"handler_a", "handler_named", "proofreader", "survey_reviewer", "supervisor", "both_kinds"},
    FORENSIC: {"appraiser", "proofreader", "forensic_reviewer", "forensic_supervisor", "both_kinds"},
}
CASE_NAMES = {c: json.loads((f / "case.json").read_text(encoding="utf-8"))["case_name"] for c, f in FOLDERS.items()}


def _upload(client: TestClient, folder: Path) -> None:
    data = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews", None)  # reviews are recorded by the workspace, never uploaded
    files: list[tuple[str, tuple[str, bytes, str]]] = [
        ("files", ("case.json", json.dumps(data, ensure_ascii=False).encode(), "application/json"))]
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "case.json":
            files.append(("files", (path.relative_to(folder).as_posix(), path.read_bytes(), "application/octet-stream")))
    r = client.post("/cases/upload", files=files, data={"csrf_token": _token(client)}, follow_redirects=False)
    assert r.status_code == 303, r.text[-2000:]


def _token(client: TestClient) -> str:
    return csrf_from(client.get("/").text)


def _post(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": _token(client), **data}, follow_redirects=False)


class Site:
    def __init__(self, home: Path, app: Any) -> None:
        self.home = home
        self.clients: dict[str, TestClient] = {}
        for username in ACCOUNTS:
            client = TestClient(app, base_url="http://127.0.0.1")
            client.__enter__()
            r = client.post("/login", data={"username": username, "password": PASSWORD,
                                            "csrf_token": csrf_from(client.get("/login").text)}, follow_redirects=False)
            assert r.status_code == 303, r.text
            self.clients[username] = client

    def close(self) -> None:
        for client in self.clients.values():
            client.__exit__(None, None, None)


def write_site_home(home: Path, url: str | None) -> None:
    home.mkdir(parents=True)
    people = [p for p, _ in ACCOUNTS.values()] + ["林雪"]
    store = f'[store]\nurl = "{url}"\n' if url else ""
    (home / "gongu.toml").write_text(store + f"[people]\nnames = {json.dumps(people, ensure_ascii=False)}\n",
                                     encoding="utf-8")
    for username, (person, roles) in ACCOUNTS.items():
        make_account(home, username, roles, person, PASSWORD)


@pytest.fixture(scope="module")
def site(store_kind: str, request: pytest.FixtureRequest,  # noqa: F811
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp(f"need-to-know-{store_kind}") / "home"
    write_site_home(home, store_url(request, store_kind))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_HOME", str(home))
        s = Site(home, create_app(home))
        try:
            _upload(s.clients["handler_a"], FOLDERS[SURVEY])
            _upload(s.clients["appraiser"], FOLDERS[FORENSIC])
            for uploader, case_id in (("handler_a", SURVEY), ("appraiser", FORENSIC)):
                r = _post(s.clients[uploader], f"/cases/{case_id}/submit")
                assert r.status_code == 303, r.text[-2000:]
                r = _post(s.clients["proofreader"], f"/cases/{case_id}/review", level="proofread", decision="approve",
                          comment="校对无误")
                assert r.status_code == 303, r.text[-2000:]
            yield s
        finally:
            s.close()


# A file each example's folder holds (the case's own files page), and its Excel list.
A_FILE = {SURVEY: "photos/P01.jpg", FORENSIC: "scans/accident-report.pdf"}
SHEET = {SURVEY: "losses", FORENSIC: "materials"}


def concrete(path: str, case_id: str) -> str:
    return (path.replace("{case_id}", case_id).replace("{key}", "opinion").replace("{section}", "commission")
            .replace("{section:str}", SHEET.get(case_id, "losses")).replace("{name:path}", A_FILE.get(case_id, "x.jpg")))


CASE_GETS = [e for e in ENDPOINTS if "{case_id}" in e.path and "GET" in e.methods]
CASE_POSTS = [e for e in ENDPOINTS if "{case_id}" in e.path and set(e.methods) - SAFE_METHODS]


def applies(endpoint: Endpoint, case_id: str) -> bool:
    """Whether the page exists for this case at all: forensic pages for the forensic kind; the archive's
    package page for archived cases (neither case is archived here)."""
    if endpoint.path.startswith("/forensic/"):
        return case_id == FORENSIC
    if endpoint.name == "case_draft_file":
        return False  # a draft report exists only once a preview job rendered one
    return not endpoint.path.startswith("/archive/")


GET_CASES = [(e, c, u) for e in CASE_GETS for c in (SURVEY, FORENSIC) for u in ACCOUNTS]


def test_the_registry_has_case_pages_of_each_family() -> None:
    names = {e.name for e in CASE_GETS}
    assert {"case", "case_report_pdf", "case_report_docx", "forensic_case", "forensic_document",
            "forensic_document_pdf", "forensic_document_docx", "forensic_draw", "archive_case"} <= names


@pytest.mark.parametrize("case", GET_CASES, ids=[f"{e.name}-{c}-{u}" for e, c, u in GET_CASES])
def test_a_case_page_or_download_is_served_only_to_whoever_may_see_the_case(
        site: Site, case: tuple[Endpoint, str, str]) -> None:
    endpoint, case_id, username = case
    roles = ACCOUNTS[username][1]
    allowed = bool(roles & endpoint.roles) and username in SEES[case_id] and applies(endpoint, case_id)
    r = site.clients[username].get(concrete(endpoint.path, case_id), follow_redirects=False)
    if allowed:
        if endpoint.name == "forensic_case":  # one case page per case: the forensic address leads to it
            assert r.status_code == 308 and r.headers["location"] == f"/cases/{case_id}"
            r = site.clients[username].get(r.headers["location"], follow_redirects=False)
        assert r.status_code == 200, f"{username} {endpoint.path} {case_id} → {r.status_code}"
    else:
        assert r.status_code in (403, 404), f"{username} {endpoint.path} {case_id} → {r.status_code}"
        assert CASE_NAMES[case_id] not in r.text  # nothing of the case is shown
        if bool(roles & endpoint.roles) and applies(endpoint, case_id):
            # the role may use the page: the refusal is need to know, the same answer as for no such case
            missing = site.clients[username].get(concrete(endpoint.path, "NO-SUCH-1"), follow_redirects=False)
            assert r.status_code == missing.status_code == 404


# The archive's actions (holds, disposal, copies) are on archived packages, the archivist's: not cases in progress.
POST_CASES = [(e, c, u) for e in CASE_POSTS for c in (SURVEY, FORENSIC) for u in ACCOUNTS
              if ACCOUNTS[u][1] & e.roles and u not in SEES[c] and not e.path.startswith("/archive/")]


@pytest.mark.parametrize("case", POST_CASES, ids=[f"{e.name}-{c}-{u}" for e, c, u in POST_CASES])
def test_an_action_on_a_case_the_account_may_not_see_is_refused_and_changes_nothing(
        site: Site, case: tuple[Endpoint, str, str]) -> None:
    endpoint, case_id, username = case
    before = _row(site, case_id)
    r = _post(site.clients[username], concrete(endpoint.path, case_id), level="recheck", decision="approve",
              comment="x", kind="dispute", reason="x", reference="x")
    assert r.status_code in (403, 404), f"{username} POST {endpoint.path} {case_id} → {r.status_code}"
    assert _row(site, case_id) == before


def _row(site: Site, case_id: str) -> Any:
    from archive.catalog import Catalog
    from archive.workspace import comments, get_case
    from gongu.pipeline.archiving import archive_config
    from gongu.settings import load_settings

    settings = load_settings(site.home)
    catalog = Catalog(settings.server_store() or archive_config(settings).catalog_path)
    try:
        return get_case(catalog, case_id), comments(catalog, case_id)
    finally:
        catalog.close()


def _listed(text: str, case_id: str) -> bool:
    return re.search(rf">{re.escape(case_id)}<", text) is not None


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_lists_counts_and_search_hits_show_only_the_accounts_cases(site: Site, username: str) -> None:
    client = site.clients[username]
    roles = ACCOUNTS[username][1]
    mine = {c for c in (SURVEY, FORENSIC) if username in SEES[c]}
    # the archive's search is the archivist's (archived packages; neither case is archived): no hit of a
    # case in progress, and no one else may search the archive
    archive = client.get("/archive/search", params={"q": "边坡"})
    assert archive.status_code == (200 if "archivist" in roles else 403)
    assert SURVEY not in archive.text and FORENSIC not in archive.text
    r = client.get("/cases")
    if r.status_code == 403:  # a role without the case pages: archivist, admin
        assert not mine and roles <= {"archivist", "admin"}
        return
    assert r.status_code == 200
    assert {c for c in (SURVEY, FORENSIC) if _listed(r.text, c)} == mine
    # the counts count only these (both cases are 审核中)
    assert f"审核中 {len(mine)}<" in r.text
    for case_id in (SURVEY, FORENSIC):  # a search hit, by id and by a word of the case
        hit = client.get("/cases", params={"q": case_id})
        assert _listed(hit.text, case_id) == (case_id in mine)
    for q, case_id in (("边坡", SURVEY), ("重新鉴定", FORENSIC)):
        hit = client.get("/cases", params={"q": q})
        assert not _listed(hit.text, case_id) or case_id in mine


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_review_queues_forensic_list_and_ledger_rows_follow_the_same_rule(site: Site, username: str) -> None:
    client = site.clients[username]
    queue = client.get("/review", params={"level": "recheck"})
    if queue.status_code == 200:
        listed = {c for c in (SURVEY, FORENSIC) if c in queue.text}
        expected = {"survey_reviewer": {SURVEY}, "forensic_reviewer": {FORENSIC}}.get(username, set())
        assert listed == expected, username
    else:
        assert queue.status_code == 403
    forensic = client.get("/forensic/cases")
    ledger = client.get("/forensic/ledger", params={"from": "2020-01-01", "to": "2030-12-31"})
    if forensic.status_code == 403:
        assert ledger.status_code == 403
        return
    assert forensic.status_code == 200 and ledger.status_code == 200, ledger.text[-1500:]
    sees = username in SEES[FORENSIC]
    assert (FORENSIC in forensic.text) == sees
    assert (FORENSIC in ledger.text) == sees


def test_the_kinds_supervisor_sees_who_read_the_forensic_file(site: Site) -> None:
    site.clients["forensic_reviewer"].get(f"/cases/{FORENSIC}")
    page = site.clients["forensic_supervisor"].get(f"/cases/{FORENSIC}")
    reads = page.text.split('id="forensic-reads"', 1)[1].split("</table>", 1)[0]
    # the person with the account beside the name, and what was opened in words (the stored value: case_page)
    assert re.search(r'>李复核</bdi>（<bdi class="username">forensic_reviewer</bdi>）', reads)
    assert "案件页" in reads and "case_page" not in reads
    # the appraiser on the case does not see the read log; a refused look is not a read
    assert 'id="forensic-reads"' not in site.clients["appraiser"].get(f"/cases/{FORENSIC}").text
    site.clients["handler_b"].get(f"/cases/{FORENSIC}")
    events = _reads(site)
    assert events and all(e.details["account"] != "handler_b" for e in events)
    assert {e.details["subjects"] for e in events} == {"、".join(_parties())}


def _parties() -> list[str]:
    data = json.loads((FOLDERS[FORENSIC] / "case.json").read_text(encoding="utf-8"))
    return [p["name"] for p in data["parties"]]


def _reads(site: Site) -> list[Any]:
    from archive.catalog import Catalog
    from gongu.pipeline.archiving import archive_config
    from gongu.settings import load_settings

    settings = load_settings(site.home)
    catalog = Catalog(settings.server_store() or archive_config(settings).catalog_path)
    try:
        return [e for e in catalog.events(FORENSIC) if e.kind == "web" and e.details.get("action") == "forensic_read"]
    finally:
        catalog.close()


def test_handler_b_changing_the_id_in_the_url_is_refused_in_a_browser(
        site: Site, store_kind: str, browser: Any) -> None:  # noqa: F811
    if store_kind != "sqlite":
        pytest.skip("one browser run is enough; the rule itself is checked on both stores above")
    with serve(site.home) as base_url:
        first = browser.new_context()
        try:
            page = first.new_page()
            login(page, base_url, "handler_a", PASSWORD)
            # the page itself, not its report preview <iframe> (rendered on demand: slow on a busy machine)
            page.goto(f"{base_url}/cases/{SURVEY}", wait_until="domcontentloaded")
            assert page.inner_text("#case-status") == "审核中"
        finally:
            # its own browser context: the preview still loading there would set handler_a's session cookie
            # again after a clear_cookies(), between handler_b's login form and its submission (CSRF refused)
            first.close()
        context = browser.new_context()
        page = context.new_page()
        try:
            login(page, base_url, "handler_b", PASSWORD)
            page.goto(f"{base_url}/cases")
            assert SURVEY not in page.inner_text("main")
            for path in (f"/cases/{SURVEY}", f"/cases/{SURVEY}/report.pdf", f"/cases/{FORENSIC}"):
                response = page.goto(base_url + path)
                assert response is not None and response.status == 404, path
                assert "没有此案件" in page.inner_text("main") and "边坡" not in page.inner_text("main")
        finally:
            context.close()
