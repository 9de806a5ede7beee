"""The package page shows the reports' verification as the log recorded it (archive/signature_checks.py),
never verifying on a view: the result of ingest with its date; for a package registered without one (fsck
recovery) the page says nothing is recorded and offers 「立即验证」; the verify-now job records a new result
the page then shows with its date — ✗ once the archived report was altered. Starlette's TestClient against
the real app; the job is run by the runner's own `run_one`, as a worker does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.archivekit import INGESTED_AT, Kit, ingested_home, open_archive, write_home
from tests.webkit import csrf_from, make_account

CASE = "SAGC-2025-0712"  # examples/slope-collapse, ingested by 档案员甲 at INGESTED_AT
PASSWORD = "archive-checks-2046"


def _client(home: Path) -> Iterator[TestClient]:
    from gongu.web.app import create_app

    make_account(home, "zhou", {"archivist"}, "周静", PASSWORD)
    make_account(home, "wang", {"handler"}, "王志强", PASSWORD)
    with TestClient(create_app(home, workers=0), base_url="http://127.0.0.1") as client:
        yield client


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_from(client.get("/").text)


def _source_line(html: str, source: str) -> str:
    start = html.index(f'data-source="{source}"')
    return html[start:html.index("</li>", start)]


def _run_jobs(home: Path, client: TestClient) -> None:
    from gongu.jobs.runner import run_one
    from gongu.settings import load_settings

    catalog = client.app.state.web.archive().catalog  # type: ignore[attr-defined]
    while run_one(load_settings(home), catalog, worker="test", machine="test"):
        pass


@pytest.fixture(scope="module")
def ingested(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_home(tmp_path_factory.mktemp("checks-ingested"), kit)


@pytest.fixture()
def recovered(ingested: Path, kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A second archive holding the same package, registered by `fsck --repair` (no verification recorded)."""
    from archive.fsck import fsck
    from tests.archivekit import DEMO_PASSPHRASE

    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    home = write_home(tmp_path / "home", kit)
    with open_archive(ingested) as source, open_archive(home) as target:
        rel = source.catalog.package(CASE, source.catalog.packages(CASE)[0]["report_number"])["rel_path"]
        shutil.copytree(source.root.joinpath(*rel.split("/")), target.root.joinpath(*rel.split("/")))
        report = fsck(target, repair=True, by="fsck")
        assert report.repaired and target.catalog.package(CASE, target.catalog.packages(CASE)[0]["report_number"])
    return home


def test_the_page_shows_the_verification_recorded_at_ingest_with_its_date(ingested: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(ingested, home)
    for client in _client(home):
        _login(client, "zhou")
        html = client.get(f"/archive/cases/{CASE}").text
        line = _source_line(html, "ingest")
        # INGESTED_AT (2025-10-16T17:00:00+08:00) as a Beijing wall-clock time (render.beijing_time)
        assert INGESTED_AT == "2025-10-16T17:00:00+08:00"
        assert line.startswith('data-source="ingest">✓ 归档时核验') and ">2025-10-16 17:00:00</time>" in line, line
        assert "签名有效" in line and "档案员甲" in line
        assert "✓ 有效" in html and "归档时核验" in html.split('class="signature-latest', 1)[1][:200]
        assert "尚未检测" in _source_line(html, "audit") and "尚未执行" in _source_line(html, "verify")
        assert 'id="verify-now"' in html
        # a handler is not an archivist: neither the page nor the action is theirs
        csrf = _login(client, "wang")
        assert client.get(f"/archive/cases/{CASE}").status_code == 403
        assert client.post(f"/archive/cases/{CASE}/verify", data={"csrf_token": csrf},
                           follow_redirects=False).status_code == 403


def test_nothing_recorded_is_said_and_verify_now_records_valid_then_failed_after_tampering(
        recovered: Path) -> None:
    from gongu.jobs.api import list_jobs

    for client in _client(recovered):
        csrf = _login(client, "zhou")
        html = client.get(f"/archive/cases/{CASE}").text
        assert "尚无已记录的签章核验结果" in html and "✓" not in html.split('class="signatures"', 1)[1].split("</ul>")[0]
        assert "未记录" in _source_line(html, "ingest") and 'id="verify-now"' in html

        r = client.post(f"/archive/cases/{CASE}/verify", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
        # a second click while it waits lands on the same job; the page names it instead of the button
        again = client.post(f"/archive/cases/{CASE}/verify", data={"csrf_token": csrf}, follow_redirects=False)
        assert again.headers["location"] == r.headers["location"]
        assert f'<a href="{r.headers["location"]}">' in client.get(f"/archive/cases/{CASE}").text
        _run_jobs(recovered, client)
        catalog = client.app.state.web.archive().catalog  # type: ignore[attr-defined]
        job = list_jobs(catalog, kind="verify_package")[0]
        assert job.state == "done" and job.result["ok"] is True
        assert client.get(r.headers["location"]).status_code == 200  # an archivist follows the job

        events = [e for e in catalog.events(CASE) if e.kind == "signature_check"]
        assert len(events) == 1 and events[0].actor == "周静" and events[0].details["signature"]["ok"] is True
        html = client.get(f"/archive/cases/{CASE}").text
        line = _source_line(html, "verify")
        assert line.startswith('data-source="verify">✓ 立即验证') and events[0].at[:10] in line and "周静" in line
        assert "尚无已记录的签章核验结果" not in html and "✓ 有效" in html

        # one byte of the archived report changed: the next verification records ✗, and the page says so
        with open_archive(recovered) as archive:
            rel = archive.catalog.packages(CASE)[0]["rel_path"]
            pdf = next((archive.root.joinpath(*rel.split("/")) / "data" / "report").glob("*.pdf"))
        data = bytearray(pdf.read_bytes())
        middle = len(data) // 2
        data[middle] = (data[middle] + 1) % 256
        pdf.write_bytes(bytes(data))
        r = client.post(f"/archive/cases/{CASE}/verify", data={"csrf_token": csrf}, follow_redirects=False)
        _run_jobs(recovered, client)
        job = list_jobs(catalog, kind="verify_package")[0]
        assert f"/jobs/{job.id}" == r.headers["location"] and job.state == "failed"
        assert job.result["ok"] is False and "签章核验未通过" in (job.error or "")
        events = [e for e in catalog.events(CASE) if e.kind == "signature_check"]
        assert [e.details["signature"]["ok"] for e in events] == [True, False]
        html = client.get(f"/archive/cases/{CASE}").text
        assert _source_line(html, "verify").startswith('data-source="verify">✗ 立即验证')
        assert "✗ 未通过" in html.split('class="signature-latest', 1)[1][:200]


def test_the_audit_records_each_reports_verification_for_the_page(ingested: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.audit import audit
    from archive.signature_checks import latest, recorded_checks
    from tests.archivekit import DEMO_PASSPHRASE

    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    home = tmp_path / "home"
    shutil.copytree(ingested, home)
    with open_archive(home) as archive:
        audit(archive, by="audit")
        events = archive.catalog.events(CASE)
    checks: dict[str, Any] = next(iter(recorded_checks(events).values()))
    assert set(checks) == {"ingest", "audit"}
    audited = checks["audit"]
    assert audited.ok and audited.actor == "audit" and audited.file.endswith(".pdf") and "签名有效" in audited.summary
    assert latest(checks) is audited  # the later of the two
