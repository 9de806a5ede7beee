"""The drafting pages' rules against the real app (Starlette's TestClient), on the embedded SQLite catalog:
a new case from the notice lands on its first section; every section's page renders; a field's problem
is shown beside it with the words of `gongu validate`; the change-event save answers with the save status
and the next base; a save on a section someone else saved first is refused (409) with the typed values
still in the form and the refused version in the history; a row button adds a loss line; restore; the
folder download; read-only once submitted; a person not on the case gets 404 on every drafting page."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from generator.types import SHANGHAI
from gongu.pipeline import drafting
from tests.webkit import csrf_from, make_account

PASSWORD = "drafting-pages-123"
PEOPLE = {"wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "zhao": ("赵丽", {"proofreader"}),
          "tang": ("唐志明", {"appraiser"})}
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"
BASE_RE = re.compile(r'name="_base" id="base" value="([0-9a-f]{64})"')


class Site:
    def __init__(self, home: Path, client: TestClient) -> None:
        self.home, self.client = home, client
        self.csrf = ""

    def login(self, username: str) -> None:
        self.client.cookies.clear()
        token = csrf_from(self.client.get("/login").text)
        r = self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                             follow_redirects=False)
        assert r.status_code == 303, r.text
        self.csrf = csrf_from(self.client.get("/").text)

    def post(self, path: str, data: dict[str, Any], **kw: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf, **data}, follow_redirects=False, **kw)

    def base(self, case_id: str, section: str) -> str:
        match = BASE_RE.search(self.client.get(f"/cases/{case_id}/edit/{section}").text)
        assert match is not None
        return match.group(1)

    def new_case(self, **fields: Any) -> str:
        r = self.post("/cases/new", {"kind": "car_survey", "case_name": "K42 边坡坍塌", "people": ["王志强"], **fields})
        assert r.status_code == 303, r.text
        return str(r.headers["location"]).split("/")[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from gongu.web.app import create_app
    from tests.archivekit import init_home

    home = tmp_path_factory.mktemp("drafting-pages")
    names = json.dumps([p for p, _ in PEOPLE.values()], ensure_ascii=False)
    (home / "gongu.toml").write_text(f'[people]\nnames = {names}\n[numbering]\nsurvey = "GC-{{yyyy}}-{{seq:04}}"\n',
                                     encoding="utf-8")
    for username, (person, roles) in PEOPLE.items():
        make_account(home, username, roles, person, PASSWORD)
    init_home(home)
    app = create_app(home, workers=0)  # no worker: a preview job stays queued
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Site(home, client)


def test_a_new_case_lands_on_its_first_section_and_every_section_renders(site: Site) -> None:
    site.login("wang")
    assert "新建案件" in site.client.get("/cases").text
    case_id = site.new_case(commissioning_party="人保雅安", policy_number="PCAB2025")
    assert re.fullmatch(r"GC-\d{4}-\d{4}", case_id)
    data = json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
    assert data["policy"] == {"number": "PCAB2025"} and data["commission"]["commissioning_party"] == "人保雅安"
    for sec in drafting.sections("car_survey"):
        page = site.client.get(f"/cases/{case_id}/edit/{sec.key}")
        assert page.status_code == 200 and f"{sec.title}" in page.text
    # the policy form shows the missing insurer beside its input, as `gongu validate` words it
    policy = site.client.get(f"/cases/{case_id}/edit/policy").text
    assert 'value="PCAB2025"' in policy
    error = re.search(r'name="\$\.policy\.insurer"[^>]*aria-describedby="([^"]+)"', policy)
    assert error is not None and "缺少必填项 (required)" in policy.split(f'id="{error.group(1)}"', 1)[1][:200]
    # the case page of the incomplete draft links to the forms
    assert "案件文件尚未完整" in site.client.get(f"/cases/{case_id}").text


def test_change_event_save_and_a_conflicting_save(site: Site) -> None:
    site.login("wang")
    case_id = site.new_case(people=["王志强", "陈晓梅"])
    stale = site.base(case_id, "incident")
    auto = site.post(f"/cases/{case_id}/edit/incident", {"_base": stale, "$.incident.place": "K42 右侧边坡"},
                     headers={"HX-Request": "true"})
    assert auto.status_code == 200 and "已自动保存（第 2 版）" in auto.text
    new_base = BASE_RE.search(auto.text)
    assert new_base is not None and new_base.group(1) != stale  # the form's next save is measured from here
    site.login("chen")  # a second person with the page rendered before the first save
    refused = site.post(f"/cases/{case_id}/edit/incident", {"_base": stale, "$.incident.place": "K43 左侧"})
    assert refused.status_code == 409 and "已被他人修改" in refused.text
    assert 'value="K43 左侧"' in refused.text  # what the second person typed is still in their form
    data = json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
    assert data["incident"] == {"place": "K42 右侧边坡"}
    history = site.client.get(f"/cases/{case_id}/history").text
    assert "未保存（冲突）" in history and "陈晓梅" in history and "$.incident.place" in history


def test_row_button_restore_and_the_folder(site: Site) -> None:
    site.login("wang")
    case_id = site.new_case()
    r = site.post(f"/cases/{case_id}/edit/losses", {"_base": site.base(case_id, "losses"), "_op": "add:$.losses"})
    assert r.status_code == 303
    page = site.client.get(f"/cases/{case_id}/edit/losses").text
    assert 'name="$.losses[0].quantity"' in page  # the empty row, its inputs ready
    r = site.post(f"/cases/{case_id}/edit/losses", {"_base": site.base(case_id, "losses"),
                                                     "$.losses[0].id": "L1", "$.losses[0].quantity": "3250"})
    assert r.status_code == 303
    versions = site.client.get(f"/cases/{case_id}/history").text
    assert versions.count('<tr class="saved">') == 2
    restored = site.post(f"/cases/{case_id}/history/2/restore", {})
    assert restored.status_code == 303
    data = json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
    assert data["losses"] == [{}]  # version 2: the empty row the button added
    folder = site.client.get(f"/cases/{case_id}/folder.zip")
    with zipfile.ZipFile(io.BytesIO(folder.content)) as zf:
        assert zf.namelist() == [f"{case_id}/case.json"]
        assert zf.read(f"{case_id}/case.json") == (site.home / "workspace" / case_id / "case.json").read_bytes()


def test_not_on_the_case_is_404_and_read_only_once_submitted(site: Site) -> None:
    site.login("wang")
    case_id = site.new_case()
    site.login("tang")  # an appraiser: not on this survey case
    for path in ("edit/commission", "history", "folder.zip", "losses.xlsx"):
        assert site.client.get(f"/cases/{case_id}/{path}").status_code == 404
    assert site.post(f"/cases/{case_id}/edit/incident", {"_base": "0", "$.incident.place": "x"}).status_code == 404
    site.login("wang")
    from archive.workspace import set_status
    from gongu.web.state import web_archive

    catalog = site.client.app.state.web.archive().catalog  # type: ignore[attr-defined]
    _ = web_archive
    with catalog.write():
        set_status(catalog, case_id, "in_review", next_level="proofread", at="2026-12-07T10:00:00+08:00")
    page = site.client.get(f"/cases/{case_id}/edit/incident").text
    assert "只读" in page and "hx-post" not in page and "<button" not in page.split('id="section-form"', 1)[1]
    r = site.post(f"/cases/{case_id}/edit/incident", {"_base": site.base(case_id, "incident"), "$.incident.place": "x"})
    assert r.status_code == 409 and "只读" in r.text


def test_preview_is_a_job(site: Site) -> None:
    site.login("wang")
    case_id = site.new_case()
    r = site.post(f"/cases/{case_id}/preview", {})
    assert r.status_code == 303 and re.fullmatch(r"/jobs/\d+", r.headers["location"])
    again = site.post(f"/cases/{case_id}/preview", {})
    assert again.headers["location"] == r.headers["location"]  # one job per case at a time


def _save_from_example(site: Site, case_id: str, section: str, example: dict[str, Any]) -> None:
    """Write a section straight into the case file through the pipeline (what the forms would save)."""
    from gongu.pipeline import draft_saving
    from gongu.web.access import Account

    catalog = site.client.app.state.web.archive().catalog  # type: ignore[attr-defined]
    keys = drafting.section("car_survey", section).keys
    data = drafting.read_data(site.home, case_id)
    draft_saving.save_section(catalog, site.home, case_id, section, {k: example[k] for k in keys if k in example},
                              base=drafting.digest(data, keys), account=Account(0, "wang", "王志强", frozenset({"handler"})),
                              now=datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI))


def test_the_loss_list_goes_to_excel_and_back(site: Site) -> None:
    from openpyxl import load_workbook

    example = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    site.login("wang")
    case_id = site.new_case()
    _save_from_example(site, case_id, "policy", example)
    template = site.client.get(f"/cases/{case_id}/losses.xlsx")
    assert template.status_code == 200 and template.headers["content-type"].startswith("application/vnd.openxml")
    wb = load_workbook(io.BytesIO(template.content))
    ws = wb["损失清单"]
    header = [c.value for c in ws[1]]
    col = {title: n for n, title in enumerate(header)}
    for n, loss in enumerate(example["losses"][:2], start=2):
        for key, title in (("id", "损失项目编号"), ("name", "损失项目名称"), ("insured_item", "所属保险项目"),
                           ("quantity", "核损数量"), ("unit", "单位"), ("unit_price", "核损单价")):
            ws.cell(row=n, column=col[title] + 1, value=loss[key])
    good = io.BytesIO()
    wb.save(good)
    r = site.client.post(f"/cases/{case_id}/losses.xlsx", data={"csrf_token": site.csrf, "_base": site.base(case_id, "losses")},
                         files={"sheet": ("list.xlsx", good.getvalue(), "application/octet-stream")},
                         follow_redirects=False)
    assert r.status_code == 303, r.text
    data = json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
    assert [(x["id"], x["quantity"], x["unit_price"]) for x in data["losses"]] == [
        (x["id"], x["quantity"], x["unit_price"]) for x in example["losses"][:2]]
    # 7.1: L1 is 3250 立方米 × 28.50 = 92,625.00, shown on the page as the line's figure
    page = site.client.get(f"/cases/{case_id}/edit/losses").text
    assert "92,625.00" in page
    # a sheet with a word in a number column changes nothing and names the row and column
    ws.cell(row=2, column=col["核损数量"] + 1, value="三千")
    bad = io.BytesIO()
    wb.save(bad)
    r = site.client.post(f"/cases/{case_id}/losses.xlsx", data={"csrf_token": site.csrf, "_base": site.base(case_id, "losses")},
                         files={"sheet": ("list.xlsx", bad.getvalue(), "application/octet-stream")},
                         follow_redirects=False)
    letter = "ABCDEFGHIJKLMNOP"[col["核损数量"]]
    assert r.status_code == 400 and "未导入" in r.text and f"第 2 行 {letter} 列" in r.text
    assert json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8")) == data


def _jpeg_with_exif(when: str) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (120, 160, 90))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_photos_uploaded_together_with_captions_records_and_exif_time(site: Site) -> None:
    site.login("wang")
    case_id = site.new_case()
    survey = {"location_band": "surrounding", "arrived_at": "2026-12-07T14:00:00",
              "record_items": [{"id": "R1", "name": "边坡", "location": "K42", "condition": "坍塌"}]}
    _save_from_example(site, case_id, "survey", {"survey": survey})
    files = [("photos", ("IMG_0001.JPG", _jpeg_with_exif("2026:12:07 14:20:05"), "image/jpeg")),
             ("photos", ("坡顶.jpg", _jpeg_with_exif("2026:12:07 14:31:00"), "image/jpeg"))]
    r = site.client.post(f"/cases/{case_id}/photos", data={"csrf_token": site.csrf, "record_item": "R1",
                                                          "captions": ["坍塌全貌", ""]},
                         files=files, follow_redirects=False)
    assert r.status_code == 303, r.text
    photos = json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))["survey"]["photos"]
    assert photos == [
        {"id": "P1", "file": "photos/IMG_0001.jpg", "caption": "坍塌全貌", "record_item": "R1",
         "taken_at": "2026-12-07T14:20:05"},
        {"id": "P2", "file": "photos/photo.jpg", "caption": "坡顶", "record_item": "R1", "taken_at": "2026-12-07T14:31:00"}]
    assert site.client.get(f"/cases/{case_id}/files/photos/IMG_0001.jpg").headers["content-type"] == "image/jpeg"
    assert site.client.get(f"/cases/{case_id}/files/case.json").status_code == 404
    assert site.client.get(f"/cases/{case_id}/files/../../gongu.toml").status_code == 404
    # the second photo moved up: the list's order is the report's order
    page = site.client.get(f"/cases/{case_id}/photos").text
    base = re.search(r'name="_base" value="([0-9a-f]{64})"', page)
    assert base is not None
    form = {"_base": base.group(1), "_op": "up:$.survey.photos[1]"}
    for i, p in enumerate(photos):
        form |= {f"$.survey.photos[{i}].file": p["file"], f"$.survey.photos[{i}].caption": p["caption"],
                 f"$.survey.photos[{i}].record_item": "R1", f"$.survey.photos[{i}].taken_at": p["taken_at"][:16]}
    r = site.post(f"/cases/{case_id}/photos/list", form)
    assert r.status_code == 303
    moved = json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))["survey"]["photos"]
    assert [p["id"] for p in moved] == ["P2", "P1"]
    assert moved[1]["taken_at"] == "2026-12-07T14:20:00"  # the minute the form sent back
    # a file that is not a photo refuses the whole upload
    r = site.client.post(f"/cases/{case_id}/photos", data={"csrf_token": site.csrf},
                         files=[("photos", ("a.jpg", _jpeg_with_exif("2026:12:07 15:00:00"), "image/jpeg")),
                                ("photos", ("b.jpg", b"not a picture", "image/jpeg"))], follow_redirects=False)
    assert r.status_code == 400 and "本案未作任何改动" in r.text
    assert len(json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))["survey"]["photos"]) == 2


def test_preview_renders_the_draft_marked_on_every_page(site: Site, tmp_path: Path) -> None:
    import subprocess

    from gongu.jobs.api import get_job
    from gongu.jobs.runner import run_one
    from gongu.pipeline import draft_saving
    from gongu.settings import load_settings
    from gongu.web.access import Account

    example = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    site.login("wang")
    case_id = site.new_case(people=["王志强", "陈晓梅"])
    for sec in drafting.sections("car_survey"):
        if sec.key != "survey":
            _save_from_example(site, case_id, sec.key, example)
    catalog = site.client.app.state.web.archive().catalog  # type: ignore[attr-defined]
    photos = {p["file"]: (EXAMPLE / p["file"]).read_bytes() for p in example["survey"]["photos"]}
    draft_saving.add_files(catalog, site.home, case_id, photos, {"survey": example["survey"]}, section_key="survey",
                           account=Account(0, "wang", "王志强", frozenset({"handler"})),
                           now=datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI))
    r = site.post(f"/cases/{case_id}/preview", {})
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    run_one(load_settings(site.home), catalog, worker="test", machine="test", job_id=job_id)
    job = get_job(catalog, job_id)
    assert job is not None and job.state == "done", job
    [pdf_link] = [link["href"] for link in job.result["links"] if link["href"].endswith(".pdf")]
    pdf = site.client.get(pdf_link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "draft.pdf").write_bytes(pdf.content)
    pages = subprocess.run(["pdftotext", "-layout", str(tmp_path / "draft.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 3 and all("草稿" in p for p in pages)  # the mark on every page
    assert example["policy"]["number"] in "".join(pages)


def test_a_forensic_case_from_the_commission(site: Site) -> None:
    site.login("tang")
    r = site.post("/cases/new", {"kind": "forensic_appraisal", "case_name": "何建平伤残等级鉴定", "people": ["唐志明"],
                                 "commission_number": "蜀正司鉴委〔2026〕第0318号", "party": "何建平",
                                 "party_role": "victim", "received_at": "2026-12-07T08:50"})
    assert r.status_code == 303, r.text
    case_id = r.headers["location"].split("/")[2]
    data = json.loads((site.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
    assert data["parties"] == [{"id": "P1", "name": "何建平", "client": True, "role": "victim"}]
    assert data["timeline"] == {"received_at": "2026-12-07T08:50:00"}  # the 受理 limit counts from here
    assert data["appraisers"] == [{"name": "唐志明"}]
    assert not [p for p in drafting.problems_of(data) if p.path.startswith("$.parties")]
    for sec in drafting.sections("forensic_appraisal"):
        assert site.client.get(f"/cases/{case_id}/edit/{sec.key}").status_code == 200
    # a handler may not create a forensic case (the appraiser's role)
    site.login("wang")
    refused = site.post("/cases/new", {"kind": "forensic_appraisal", "case_name": "x", "people": ["唐志明"]})
    assert refused.status_code == 400
