"""Drafting in a real browser (Chromium): a handler on a phone-sized screen (390×844) creates a case from the
notice, adds two survey records in the survey form, uploads three photos at once with a caption typed for
each, assigns them to the records and reorders them; two people with the same section open each change a
field — the second is told the section changed and both versions are in the history. The page never
scrolls sideways at phone width."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from generator.clock import FixedClock
from generator.types import SHANGHAI
from tests.webkit import browser, login, make_account, screenshot, serve  # noqa: F401 — browser is a fixture

PASSWORD = "drafting-phone-123"
NOW = datetime(2026, 12, 7, 15, 30, tzinfo=SHANGHAI)
ACCOUNTS = {"wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"})}
PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.archivekit import init_home

    h = tmp_path_factory.mktemp("drafting-phone") / "home"
    h.mkdir()
    names = json.dumps([p for p, _ in ACCOUNTS.values()], ensure_ascii=False)
    (h / "gongu.toml").write_text(f'[people]\nnames = {names}\n[numbering]\nsurvey = "GC{{yyyymmdd}}-{{seq:02}}"\n',
                                  encoding="utf-8")
    for username, (person, roles) in ACCOUNTS.items():
        make_account(h, username, roles, person, PASSWORD)
    init_home(h)
    return h


@pytest.fixture(scope="module")
def base_url(home: Path) -> Iterator[str]:
    with serve(home, clock=FixedClock(NOW)) as url:
        yield url


@pytest.fixture()
def pages(browser: Any) -> Iterator[Any]:  # noqa: F811
    contexts: list[Any] = []

    def new_page(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or {"width": 1366, "height": 768})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        return pg

    yield new_page
    for context in contexts:
        context.close()


def _photo(tmp: Path, name: str, when: str, colour: tuple[int, int, int]) -> Path:
    from PIL import Image

    image = Image.new("RGB", (320, 240), colour)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal, as a phone camera writes it
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    path = tmp / name
    path.write_bytes(out.getvalue())
    return path


def _case_file(home: Path, case_id: str) -> dict[str, Any]:
    return json.loads((home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))


def _new_case(page: Any, base_url: str, name: str, people: list[str]) -> str:
    page.goto(f"{base_url}/cases/new")
    page.check("input[name=kind][value=car_survey]")
    page.fill("input[name=case_name]", name)
    page.fill(".kind-car_survey input[name=commissioning_party]", "中国人民财产保险股份有限公司雅安市分公司")
    page.fill(".kind-car_survey input[name=policy_number]", "PCAB202551010000000876")
    for person in people:
        page.check(f".kind-car_survey input[name=people][value='{person}']")
    page.click("#new-case button[type=submit]")
    page.wait_for_load_state()
    match = re.search(r"/cases/([^/]+)/edit/commission$", page.url)
    assert match, page.url
    return match.group(1)


def test_on_a_phone_three_photos_with_captions_go_to_their_records(home: Path, base_url: str, pages: Any,
                                                                  tmp_path: Path) -> None:
    phone = pages(PHONE)
    login(phone, base_url, "wang", PASSWORD)
    case_id = _new_case(phone, base_url, "K42 边坡坍塌（现场）", ["王志强"])
    assert case_id == "GC20261207-01"  # the firm's pattern, the Beijing day of the server's clock
    assert phone.evaluate(NO_SIDEWAYS)

    # two survey records, written in the survey form (rows added with the form's own button)
    phone.goto(f"{base_url}/cases/{case_id}/edit/survey")
    for n, (rid, name) in enumerate((("R1", "K42 右侧路堑边坡"), ("R2", "坡顶截水沟"))):
        phone.click("button[name=_op][value='add:$.survey.record_items']")
        phone.wait_for_load_state()
        row = f"$.survey.record_items[{n}]"
        phone.fill(f"[name='{row}.id']", rid)
        phone.fill(f"[name='{row}.name']", name)
        phone.fill(f"[name='{row}.location']", "K42+180～K42+360")
        phone.fill(f"[name='{row}.condition']", "坍塌约3,250立方米")
        phone.click("#section-form .actions button[type=submit]")
        phone.wait_for_load_state()
    assert [r["id"] for r in _case_file(home, case_id)["survey"]["record_items"]] == ["R1", "R2"]
    assert phone.evaluate(NO_SIDEWAYS)

    # three photos chosen at once; a caption typed for each before sending; all to R1 first
    phone.goto(f"{base_url}/cases/{case_id}/photos")
    shots = [_photo(tmp_path, f"IMG_00{n}.jpg", f"2026:12:07 14:{20 + n}:00", (40 * n, 120, 90)) for n in (1, 2, 3)]
    phone.set_input_files("#photo-files", [str(p) for p in shots])
    for n, caption in enumerate(("坍塌全貌", "坡面冲刷", "截水沟损毁")):
        phone.fill(f"#caption-{n}", caption)
    phone.select_option("#photo-record", "R1")
    screenshot(phone, "drafting-photo-upload-phone.png", full_page=True)
    phone.click("#photo-submit")
    phone.wait_for_load_state()
    assert "已上传 3 张照片" in phone.inner_text("main")
    photos = _case_file(home, case_id)["survey"]["photos"]
    assert [(p["id"], p["caption"], p["record_item"], p["taken_at"]) for p in photos] == [
        ("P1", "坍塌全貌", "R1", "2026-12-07T14:21:00"), ("P2", "坡面冲刷", "R1", "2026-12-07T14:22:00"),
        ("P3", "截水沟损毁", "R1", "2026-12-07T14:23:00")]
    for p in photos:  # each stored as sent, in the case folder
        assert (home / "workspace" / case_id / p["file"]).read_bytes() == (tmp_path / Path(p["file"]).name).read_bytes()

    # the third belongs to the second record, and goes first
    phone.select_option("select[name='$.survey.photos[2].record_item']", "R2")
    phone.click("#photos-save")
    phone.wait_for_load_state()
    phone.click("button[name=_op][value='up:$.survey.photos[2]']")
    phone.wait_for_load_state()
    phone.click("button[name=_op][value='up:$.survey.photos[1]']")
    phone.wait_for_load_state()
    photos = _case_file(home, case_id)["survey"]["photos"]
    assert [(p["id"], p["record_item"]) for p in photos] == [("P3", "R2"), ("P1", "R1"), ("P2", "R1")]
    assert phone.evaluate(NO_SIDEWAYS)
    screenshot(phone, "drafting-photo-list-phone.png", full_page=True)


def test_two_people_on_one_section_the_second_is_told_and_both_versions_kept(home: Path, base_url: str,
                                                                             pages: Any) -> None:
    wang, chen = pages(), pages()
    login(wang, base_url, "wang", PASSWORD)
    case_id = _new_case(wang, base_url, "C3 合同段隧道涌水", ["王志强", "陈晓梅"])
    login(chen, base_url, "chen", PASSWORD)
    wang.goto(f"{base_url}/cases/{case_id}/edit/incident")
    chen.goto(f"{base_url}/cases/{case_id}/edit/incident")  # both forms rendered from the same file
    wang.fill("[name='$.incident.place']", "K42 右侧边坡")
    wang.press("[name='$.incident.place']", "Tab")  # the change event saves the section
    expect(wang.locator("#save-status")).to_contain_text("已自动保存")
    screenshot(wang, "drafting-section.png")
    chen.fill("[name='$.incident.place']", "K43 左侧")
    chen.press("[name='$.incident.place']", "Tab")
    expect(chen.locator("#save-status")).to_contain_text("已被他人修改")
    assert _case_file(home, case_id)["incident"] == {"place": "K42 右侧边坡"}  # the first save stands
    screenshot(chen, "drafting-conflict.png")
    wang.goto(f"{base_url}/cases/{case_id}/history")
    rows = wang.locator("#history tbody tr")
    assert rows.nth(0).get_attribute("class") == "refused" and "陈晓梅（chen）" in rows.nth(0).inner_text()
    assert rows.nth(1).get_attribute("class") == "saved" and "王志强（wang）" in rows.nth(1).inner_text()
    assert "$.incident.place" in rows.nth(0).inner_text() and "$.incident.place" in rows.nth(1).inner_text()
    screenshot(wang, "drafting-history.png")
    # the refused text is restored by its author from the history
    chen.goto(f"{base_url}/cases/{case_id}/history")
    refused = chen.locator("#history tbody tr.refused form button")
    refused.click()
    chen.wait_for_load_state()
    assert _case_file(home, case_id)["incident"] == {"place": "K43 左侧"}
    assert "2026-12-07 15:30:00" in chen.inner_text("#history")  # every version at the server's clock
