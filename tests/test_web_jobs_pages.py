"""The job pages' rules without a worker running them, on both catalogs (Starlette's TestClient against the
real app): 「出具」 queues one issue job and answers 303 to its page; a second approver's click lands on the
same job; a case not ready is refused at the click with its reasons and no job; the job's page polls
while the job waits and stops once it is cancelled; retry and cancel are the starter's (or admin's); a
job of a case is 404 to an account not on the case, admin included; the 四性 audit's second click goes to
the queued audit. A PostgreSQL home runs no worker inside the server by default, so the job stays queued."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.storekit import store_kind, store_url  # noqa: F401 — store_kind is a fixture
from tests.webkit import csrf_from, make_account

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"
PASSWORD = "jobs-pages-123"
PEOPLE = {"wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "zhao": ("赵丽", {"proofreader"}),
          "sun": ("孙立军", {"rechecker"}), "liu": ("刘建国", {"approver"}), "ma": ("马明", {"approver"}),
          "wu": ("吴敏", {"handler"}), "root": ("管理员", {"admin"}), "zhou": ("周静", {"archivist"})}
BASE = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
READY, NOT_READY = f"{BASE['case_id']}-P1", f"{BASE['case_id']}-P2"


class Site:
    def __init__(self, home: Path, client: TestClient) -> None:
        self.home, self.client = home, client

    def login(self, username: str) -> str:
        self.client.cookies.clear()
        token = csrf_from(self.client.get("/login").text)
        r = self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                             follow_redirects=False)
        assert r.status_code == 303, r.text
        return csrf_from(self.client.get("/").text)

    def post(self, path: str, csrf: str) -> Any:
        return self.client.post(path, data={"csrf_token": csrf}, follow_redirects=False)

    def jobs_of(self, case_id: str) -> list[Any]:
        from gongu.jobs.api import list_jobs

        return list_jobs(self.client.app.state.web.archive().catalog, case_id=case_id)  # type: ignore[attr-defined]


def _case(home: Path, catalog: Any, accounts: dict[str, Any], case_id: str, suffix: str, *, levels: int) -> None:
    """Uploaded, submitted, both signatures confirmed, and the first `levels` review levels approved."""
    from gongu.pipeline.workspace import confirm_signature, review_case, submit_case, upload_case
    from gongu.settings import load_settings

    data = json.loads(json.dumps(BASE))
    data.pop("reviews")
    data["case_id"], data["report"]["number"] = case_id, f"{BASE['report']['number']}-{suffix}"
    files = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False).encode()))]
    files += [(f"photos/{p.name}", io.BytesIO(p.read_bytes())) for p in sorted((EXAMPLE / "photos").iterdir())]
    upload_case(catalog, home, files, account=accounts["wang"], now="2026-03-02T09:00:00+08:00")
    submit_case(catalog, home, case_id, account=accounts["wang"], now="2026-03-02T09:10:00+08:00")
    confirm_signature(catalog, home, case_id, account=accounts["chen"], now="2026-03-02T09:20:00+08:00")
    for n, (who, level) in enumerate((("zhao", "proofread"), ("sun", "recheck"), ("liu", "approve"))[:levels]):
        review_case(catalog, home, case_id, account=accounts[who], level=level, decision="approve", comment=None,
                    now=f"2026-03-02T1{n}:00:00+08:00", settings=load_settings(home))


@pytest.fixture(scope="module")
def site(store_kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:  # noqa: F811
    from gongu.web.app import create_app
    from tests.archivekit import init_home

    home = tmp_path_factory.mktemp(f"jobs-pages-{store_kind}")
    url = store_url(request, store_kind)
    names = json.dumps([p for p, _ in PEOPLE.values()], ensure_ascii=False)
    (home / "gongu.toml").write_text((f'[store]\nurl = "{url}"\n' if url else "") + f"[people]\nnames = {names}\n",
                                     encoding="utf-8")
    accounts = {u: make_account(home, u, roles, person, PASSWORD) for u, (person, roles) in PEOPLE.items()}
    init_home(home)
    # SQLite: no worker asked for; PostgreSQL: the default, which is none inside the server
    app = create_app(home, workers=0 if url is None else None)
    catalog = app.state.web.archive().catalog
    _case(home, catalog, accounts, READY, "P1", levels=3)
    _case(home, catalog, accounts, NOT_READY, "P2", levels=2)  # waits for the approver's 审核
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Site(home, client)


def test_worker_threads_by_home(tmp_path: Path) -> None:
    from gongu.settings import load_settings
    from gongu.web.app import worker_count

    (tmp_path / "lite").mkdir()
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "gongu.toml").write_text('[store]\nurl = "postgresql://gongu@127.0.0.1:5432/gongu"\n',
                                                    encoding="utf-8")
    lite, server = load_settings(tmp_path / "lite"), load_settings(tmp_path / "server")
    assert (worker_count(lite, None), worker_count(server, None)) == (1, 0)
    assert (worker_count(lite, 0), worker_count(server, 2)) == (0, 2)
    with pytest.raises(ValueError):
        worker_count(lite, -1)


def test_issue_queues_one_job_and_a_second_click_lands_on_it(site: Site) -> None:
    csrf = site.login("liu")
    first = site.post(f"/cases/{READY}/issue", csrf)
    assert first.status_code == 303 and re.fullmatch(r"/jobs/\d+", first.headers["location"])
    job_url = first.headers["location"]
    page = site.client.get(job_url)
    assert page.status_code == 200 and 'id="job-state" class="state queued">排队中<' in page.text
    assert 'hx-get="' + job_url + '/status" hx-trigger="every 1s"' in page.text  # polls while it waits
    assert 'id="job-cancel"' in page.text and "刘建国" in page.text
    # the case page names the job; another approver's click goes to the same job
    assert f'<a href="{job_url}">' in site.client.get(f"/cases/{READY}").text
    again = site.post(f"/cases/{READY}/issue", site.login("ma"))
    assert again.status_code == 303 and again.headers["location"] == job_url
    jobs = site.jobs_of(READY)
    assert [f"/jobs/{j.id}" for j in jobs] == [job_url] and jobs[0].state == "queued"  # no worker: it waits
    assert jobs[0].started_by == "liu" and jobs[0].params["case_id"] == READY
    events = [e for e in site.client.app.state.web.archive().catalog.events(READY)  # type: ignore[attr-defined]
              if e.kind == "web" and e.details.get("action") == "case_issue"]
    assert [(e.actor, e.details["job"]) for e in events] == [("liu", jobs[0].id)]


def test_a_case_not_ready_is_refused_at_the_click_and_queues_nothing(site: Site) -> None:
    r = site.post(f"/cases/{NOT_READY}/issue", site.login("liu"))
    assert r.status_code == 409 and "不予出具" in r.text and "三级审核尚未全部通过" in r.text
    assert site.jobs_of(NOT_READY) == []
    csrf = site.login("wang")  # its uploader sees it, but is no approver
    assert site.post(f"/cases/{NOT_READY}/issue", csrf).status_code == 403
    assert site.jobs_of(NOT_READY) == []


def test_retry_and_cancel_are_the_starters_and_polling_stops_when_the_job_ends(site: Site) -> None:
    job_url = f"/jobs/{site.jobs_of(READY)[0].id}"
    csrf = site.login("wang")  # uploaded the case: sees the job, may not stop it
    assert site.client.get(job_url).status_code == 200
    assert 'id="job-cancel"' not in site.client.get(job_url).text
    assert site.post(f"{job_url}/cancel", csrf).status_code == 403
    csrf = site.login("liu")
    assert site.post(f"{job_url}/cancel", csrf).headers["location"] == job_url
    fragment = site.client.get(f"{job_url}/status").text
    assert fragment.lstrip().startswith('<section class="card job cancelled" id="job"')  # the section alone
    assert "已取消" in fragment and "hx-trigger" not in fragment  # ended: the swapped-in section stops polling
    assert 'id="job-retry"' in fragment and "由 liu 在开始前取消" in fragment
    assert site.post(f"{job_url}/retry", csrf).headers["location"] == job_url
    assert site.jobs_of(READY)[0].state == "queued"
    assert "hx-trigger" in site.client.get(f"{job_url}/status").text  # waiting again: the section polls again
    # the poll leaves the session's message for the page the redirect leads to
    assert f"已重新排队：任务 #{job_url.rsplit('/', 1)[1]}" in site.client.get(job_url).text
    assert site.post(f"{job_url}/retry", csrf).status_code == 303  # not failed or cancelled: refused, said why
    assert "只有失败或已取消的任务可以重试" in site.client.get(job_url).text


def test_a_job_of_a_case_is_404_to_whoever_may_not_see_the_case(site: Site) -> None:
    job = site.jobs_of(READY)[0]
    site.login("wu")  # a handler not on the case
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}/status", "/jobs/987654"):
        assert site.client.get(path).status_code == 404, path
    assert READY not in site.client.get("/jobs").text
    site.login("root")  # admin: every job in the list, the case's content not
    listing = site.client.get("/jobs").text
    assert f"#{job.id}" in listing and "无权查看本案" in listing and READY not in listing
    assert site.client.get(f"/jobs/{job.id}").status_code == 404


def test_the_audit_is_queued_once_and_shown_on_its_page(site: Site) -> None:
    csrf = site.login("zhou")
    first = site.post("/archive/audit", csrf)
    assert first.status_code == 303 and re.fullmatch(r"/jobs/\d+", first.headers["location"])
    assert site.post("/archive/audit", csrf).headers["location"] == first.headers["location"]
    page = site.client.get("/archive/audit").text
    assert 'id="audit-running"' in page and f'href="{first.headers["location"]}"' in page and 'id="run-audit"' not in page
    assert site.client.get(first.headers["location"]).status_code == 200  # a job of no case: archivists follow it
    site.login("wang")
    assert site.client.get(first.headers["location"]).status_code == 404
