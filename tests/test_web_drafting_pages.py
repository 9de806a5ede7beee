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
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gongu.pipeline import drafting
from tests.webkit import csrf_from, make_account

PASSWORD = "drafting-pages-123"
PEOPLE = {"wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "zhao": ("赵丽", {"proofreader"}),
          "tang": ("唐志明", {"appraiser"})}
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
