"""End to end in a real browser (issue 15 §4): a handler uploads a case with a missing signature, sees
the blocking finding (9.2), uploads the fixed file and submits; proofreader, rechecker and approver
(three accounts) review, with the refusals the rules ask for (9.3: the handler's account never reviews
its own case, one account never reviews two levels) and a return whose comment the handler sees; the
approver issues and seals (gongu issue's pipeline, the server's demo keys and loopback TSA) and the
sealed report downloaded from the page verifies (signing.verify).

One server and one Chromium for the module, one fresh GONGU_HOME; the tests run in order on it."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.webkit import browser, login, logout, make_account, screenshot, serve  # noqa: F401 — browser is a fixture

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"
PASSWORD = "correct-horse-9"
# username → (person as registered in gongu.toml [people], roles)
ACCOUNTS = {
    "wang": ("王志强", {"handler"}),  # a handler of the example ($.handlers)
    "zhao": ("赵丽", {"proofreader", "rechecker"}),  # may proofread or recheck, never both on one case
    "sun": ("孙立军", {"rechecker"}),
    "liu": ("刘建国", {"approver"}),
    "wu": ("吴敏", {"handler", "proofreader"}),  # uploads a case, then tries to proofread it
    "chen": ("陈晓梅", {"handler"}),  # the example's second handler: confirms her own signature
}


class World:
    def __init__(self, root: Path) -> None:
        from signing.keys import DEMO_PASSPHRASE, make_demo_pki
        from signing.tsa import LocalTsa

        case = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        keys = root / "keys"
        self.tsa = LocalTsa(keys).start()
        self.pki = make_demo_pki(keys, case["firm"]["name"], [(h["name"], h.get("licence_no")) for h in case["handlers"]],
                                 crl_url=self.tsa.crl_url)
        people = [p for p, _ in ACCOUNTS.values()] + [h["name"] for h in case["handlers"]]
        (self.home / "gongu.toml").write_text("\n".join([
            "[signing]", f'firm_p12 = "{self.pki.firm_p12}"', f'tsa_url = "{self.tsa.url}"',
            f'trust_roots = ["{self.pki.root_pem}"]', f'crls = ["{self.pki.crl}"]', "[signing.handlers]",
            *[f'"{n}" = "{p}"' for n, p in self.pki.handler_p12.items()],
            "[people]", f"names = {json.dumps(list(dict.fromkeys(people)), ensure_ascii=False)}"]) + "\n",
            encoding="utf-8")
        # The server's environment holds the key passphrases; no page ever asks for one.
        self.env = {"GONGU_HOME": str(self.home), "GONGU_FIRM_KEY_PASSPHRASE": DEMO_PASSPHRASE,
                    "GONGU_HANDLER_KEY_PASSPHRASE": DEMO_PASSPHRASE}
        for username, (person, roles) in ACCOUNTS.items():
            make_account(self.home, username, roles, person, PASSWORD)
        from tests.archivekit import init_home

        init_home(self.home)  # `gongu archive init`: the workspace archives into this home

    def case_folder(self, name: str, *, signatures: int = 2, case_id: str | None = None,
                    second_handler: str | None = None) -> Path:
        """The example as a folder to upload: without its reviews (recorded in the workspace), with
        `signatures` of its two handler signatures; `second_handler` in place of 陈晓梅."""
        data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
        data.pop("reviews")
        data["report"]["signatures"] = data["report"]["signatures"][:signatures]
        if second_handler:
            data["handlers"][1]["name"] = second_handler
            for sig in data["report"]["signatures"]:
                if sig["handler"] == "陈晓梅":
                    sig["handler"] = second_handler
        if case_id:
            data["case_id"] = case_id
            data["report"]["number"] = f"{data['report']['number']}-{case_id[-1]}"
        folder = self.root / "uploads" / name
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(EXAMPLE / "photos", folder / "photos")
        (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("web-cases"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in w.env.items():
            mp.setenv(key, value)
        yield w
    w.tsa.stop()


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    with serve(world.home) as url:
        yield url


@pytest.fixture(scope="module")
def page(browser: Any, base_url: str) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(240_000)  # issuing renders, seals (TSA) and archives: seconds, more on a loaded CI
    yield pg
    context.close()


def as_user(page: Any, base_url: str, username: str) -> None:
    if page.query_selector("header .who button[type=submit]"):
        logout(page)
    login(page, base_url, username, PASSWORD)


def upload(page: Any, base_url: str, folder: Path) -> None:
    page.goto(f"{base_url}/cases/upload")
    page.set_input_files("input[name=folder]", folder)
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()


def shot(page: Any, name: str) -> None:
    screenshot(page, f"{name}.png")


CASE_ID = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))["case_id"]


def test_handler_sees_the_missing_signature_fixes_it_and_submits(world: World, base_url: str, page: Any) -> None:
    as_user(page, base_url, "wang")
    upload(page, base_url, world.case_folder("unsigned", signatures=1))
    assert page.url.endswith(f"/cases/{CASE_ID}")
    qc = page.inner_text("#qc")
    assert "9.2" in qc and "$.report.signatures" in qc and "至少两名承办人员签名" in qc
    assert page.locator("#qc tr.blocking", has_text="$.report.signatures").count() == 1
    assert page.inner_text("#case-status") == "草稿"
    shot(page, "case-blocking")
    page.click("#submit-case")
    assert "有阻止提交的问题" in page.inner_text("#errors")
    assert page.inner_text("#case-status") == "草稿"
    # the fixed file replaces the draft; nothing blocks now; submitted, it waits for the proofreader
    upload(page, base_url, world.case_folder("fixed"))
    assert page.locator("#qc tr.blocking").count() == 0
    page.click("#submit-case")
    page.wait_for_load_state()
    assert page.inner_text("#case-status") == "审核中"
    page.goto(f"{base_url}/cases?q=边坡")
    assert CASE_ID in page.inner_text("#cases")
    shot(page, "cases")


def test_a_bad_case_file_shows_json_path_and_chinese_title(world: World, base_url: str, page: Any) -> None:
    as_user(page, base_url, "wang")
    folder = world.case_folder("bad", case_id="BAD-CASE-2")
    data = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    data["policy"]["insured"] = ""
    (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    upload(page, base_url, folder)
    row = page.locator("#problems tr", has_text="$.policy.insured")
    assert row.count() == 1 and "被保险人" in row.inner_text()
    shot(page, "upload-problems")
    assert not (world.home / "workspace" / "BAD-CASE-2").exists()


def test_the_handlers_account_cannot_review_its_own_case(world: World, base_url: str, page: Any) -> None:
    as_user(page, base_url, "wu")
    upload(page, base_url, world.case_folder("wu", case_id=f"{CASE_ID}-W", second_handler="吴敏"))
    page.click("#submit-case")
    page.wait_for_load_state()
    # wu holds the proofreader role: the form is shown, the decision is refused on the account
    page.click("#approve")
    page.wait_for_load_state()
    assert "上传了本案" in page.inner_text("#errors")
    assert json.loads((world.home / "workspace" / f"{CASE_ID}-W" / "case.json").read_text(encoding="utf-8")).get("reviews") is None


def test_three_accounts_review_with_a_return_the_handler_sees(world: World, base_url: str, page: Any) -> None:
    case_url = f"{base_url}/cases/{CASE_ID}"
    as_user(page, base_url, "zhao")
    page.goto(f"{base_url}/review?level=proofread")
    assert CASE_ID in page.inner_text("#queue")
    shot(page, "review-queue")
    page.goto(case_url)
    page.fill("#review-form textarea[name=comment]", "数字与附表一致")
    page.click("#approve")
    page.wait_for_load_state()
    # zhao also holds the rechecker role, but one account never reviews two levels of one case
    page.click("#approve")
    page.wait_for_load_state()
    assert "同一账户不能担任两级审核" in page.inner_text("#errors")
    as_user(page, base_url, "sun")
    page.goto(case_url)
    page.fill("#review-form textarea[name=comment]", "损失清单缺单价依据，请补充")
    page.click("#return")
    page.wait_for_load_state()
    assert page.inner_text("#case-status") == "已退回"
    as_user(page, base_url, "wang")
    page.goto(case_url)
    assert "损失清单缺单价依据，请补充" in page.inner_text("#return-comment")
    shot(page, "case-returned")
    page.click("#submit-case")
    page.wait_for_load_state()
    for username, comment in (("zhao", "复查无误"), ("sun", "已补充，复核通过"), ("liu", "同意出具")):
        as_user(page, base_url, username)
        page.goto(case_url)
        page.fill("#review-form textarea[name=comment]", comment)
        page.click("#approve")
        page.wait_for_load_state()
        assert not page.query_selector("#errors"), page.inner_text("#errors")
    reviews = json.loads((world.home / "workspace" / CASE_ID / "case.json").read_text(encoding="utf-8"))["reviews"]
    assert [(r["level"], r["reviewer"], r["decision"]) for r in reviews] == [
        ("proofread", "赵丽", "approve"), ("recheck", "孙立军", "return"), ("proofread", "赵丽", "approve"),
        ("recheck", "孙立军", "approve"), ("approve", "刘建国", "approve")]


def test_a_handler_not_named_on_the_case_cannot_upload_it(world: World, base_url: str, page: Any) -> None:
    """Signatures follow people: 吴敏 holds the handler role but the case's handlers are 王志强 and 陈晓梅."""
    as_user(page, base_url, "wu")
    upload(page, base_url, world.case_folder("not-wus", case_id=f"{CASE_ID}-X"))
    assert "账户 wu（吴敏）不是本案的承办人员（王志强、陈晓梅）" in page.inner_text("#refusals")
    assert not (world.home / "workspace" / f"{CASE_ID}-X").exists()


def test_case_json_and_photos_chosen_one_by_one_are_matched_by_name(world: World, base_url: str, page: Any) -> None:
    """A browser sends the multi-file input's files under base names (P01.jpg, not photos/P01.jpg): each is
    put where the case names it, the case page says so, and no photo is missing (5.3.1 d)."""
    as_user(page, base_url, "wang")
    folder = world.case_folder("by-name", case_id=f"{CASE_ID}-N")
    page.goto(f"{base_url}/cases/upload")
    assert ".zip" in page.inner_text("#upload-form")
    page.set_input_files("input[name=files]", [folder / "case.json", *sorted((folder / "photos").iterdir())])
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(f"/cases/{CASE_ID}-N")
    note = page.locator(".flash", has_text="按文件名匹配").inner_text()
    assert note.startswith("按文件名匹配：P01.jpg → photos/P01.jpg；P02.jpg → photos/P02.jpg")
    assert "P05.jpg → photos/P05.jpg" in note
    assert "照片文件缺失" not in page.inner_text("#qc")
    assert (world.home / "workspace" / f"{CASE_ID}-N" / "photos" / "P05.jpg").is_file()
    shot(page, "upload-matched-by-name")


def test_the_other_handler_confirms_her_signature_before_the_issue(world: World, base_url: str, page: Any) -> None:
    case_url = f"{base_url}/cases/{CASE_ID}"
    as_user(page, base_url, "liu")
    page.goto(case_url)
    assert "陈晓梅」尚未用本人账户确认署名" in page.inner_text("#unconfirmed")
    page.click("#issue")
    page.wait_for_load_state()
    assert "承办人员「陈晓梅」尚未用本人账户确认署名" in page.inner_text("#errors")
    assert page.inner_text("#case-status") == "审核中" and not (world.home / "issued" / CASE_ID).exists()
    # 吴敏 is not on the case: no button, and the request itself is refused naming the case's handlers
    as_user(page, base_url, "wu")
    page.goto(case_url)
    assert not page.query_selector("#confirm-signature")
    token = page.get_attribute("input[name=csrf_token]", "value")
    response = page.request.post(f"{case_url}/confirm", form={"csrf_token": token or ""})
    assert response.status == 409 and "不是本案的承办人员（王志强、陈晓梅）" in response.text()
    as_user(page, base_url, "chen")
    page.goto(case_url)
    page.click("#confirm-signature")
    page.wait_for_load_state()
    assert not page.query_selector("#errors") and not page.query_selector("#unconfirmed")
    assert "均已由本人账户办理或确认" in page.inner_text("#signers")


def test_the_approver_issues_and_the_downloaded_report_verifies(world: World, base_url: str, page: Any) -> None:
    from signing.verify import verify_issued_report

    as_user(page, base_url, "liu")
    page.goto(f"{base_url}/cases/{CASE_ID}")
    page.click("#issue")
    # an "issue" job: the browser lands on its page, which follows it to the end (tests/test_web_jobs.py)
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_selector("#job-state.done, #job-state.failed")
    assert page.inner_text("#job-state") == "已完成", page.inner_text("#job")
    page.click("#case-link")
    page.wait_for_load_state()
    assert page.inner_text("#case-status") == "已归档"
    shot(page, "case-issued")
    response = page.request.get(f"{base_url}/cases/{CASE_ID}/report.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    # shown inline in the case page's <iframe>: framed by this site only, never by another
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'"
    pdf = world.root / "downloaded.pdf"
    pdf.write_bytes(response.body())
    # pyHanko's validation runs its own asyncio loop: not on this thread, where Playwright's loop runs
    with ThreadPoolExecutor(1) as pool:
        report, _complete = pool.submit(verify_issued_report, pdf, [world.pki.root_pem], crls=[world.pki.crl]).result()
    assert report.ok, report.all_problems()
    # both handlers' signatures and the firm seal
    assert len(report.signatures) == 3
    assert page.request.get(f"{base_url}/cases/{CASE_ID}/report.docx").ok


def test_issue_is_refused_with_reasons_before_the_review_is_complete(world: World, base_url: str, page: Any) -> None:
    as_user(page, base_url, "liu")
    # need to know: the approver sees a case only once it reaches the 审核 level (gongu/access/case_access.py)
    assert page.goto(f"{base_url}/cases/{CASE_ID}-W").status == 404
    for username in ("zhao", "sun"):  # proofread and rechecked: it now waits for the approver's 审核
        as_user(page, base_url, username)
        page.goto(f"{base_url}/cases/{CASE_ID}-W")
        page.click("#approve")
        page.wait_for_load_state()
        assert not page.query_selector("#errors"), page.inner_text("#errors")
    as_user(page, base_url, "liu")
    page.goto(f"{base_url}/cases/{CASE_ID}-W")
    assert not page.query_selector("#issue")  # not offered: the 审核 level is not recorded yet
    token = page.get_attribute("input[name=csrf_token]", "value")
    page.goto(f"{base_url}/cases/{CASE_ID}-W")
    response = page.request.post(f"{base_url}/cases/{CASE_ID}-W/issue", form={"csrf_token": token or ""})
    assert response.status == 409
    assert "三级审核尚未全部通过" in response.text()


def test_the_trail_records_every_action(world: World, base_url: str) -> None:
    from archive.catalog import Catalog

    catalog = Catalog(world.home / "archive" / "catalog.sqlite", check=False)
    try:
        events = [e for e in catalog.events(CASE_ID) if e.kind == "web"]
    finally:
        catalog.close()
    actions = [(e.actor, e.details["action"]) for e in events]
    for expected in (("wang", "case_upload"), ("wang", "case_submit"), ("zhao", "review_approve"), ("chen", "case_confirm"),
                     ("sun", "review_return"), ("liu", "case_issue")):
        assert expected in actions
    assert os.environ["GONGU_FIRM_KEY_PASSPHRASE"] not in json.dumps([e.details for e in events], ensure_ascii=False)
