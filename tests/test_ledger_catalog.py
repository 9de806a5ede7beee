"""The work ledger of archived cases from the catalog (gongu/pipeline/ledger_rows.py): the same rows and
warnings as reading every package, in one query once the rows are stored; rows are stored at ingest (the
listener), backfilled by `gongu archive fsck --repair`, and computed again when computed with other code.
Real catalogs (SQLite and PostgreSQL), packages written on disk as ingest leaves them (tests/test_ledger.py's format-1 bag)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.archivekit import open_archive
from tests.storekit import store_kind, store_url  # noqa: F401 — store_kind is a fixture
from tests.test_ledger import EXTENDED, JOINT, SINGLE, _case, _write_package

REAPPRAISAL = JOINT.parents[1] / "forensic-reappraisal" / "case.json"
START, END = date(2026, 1, 1), date(2026, 12, 31)


def _register(archive: Any, bag: Path, data: dict[str, Any]) -> None:
    """The catalog row ingest writes for a package (archive/ingest.py register), for a package on disk."""
    rel = bag.relative_to(archive.root).as_posix()
    with archive.catalog.write():
        archive.catalog.add_package(
            case_id=data["case_id"], report_number=data["report"]["number"], rel_path=rel, year=2026, kind=data["kind"],
            statutory=0, retention_class="forensic", closed_at="2026-12-01T10:00:00+08:00", retention_until="2056-12-31",
            package_hash="0" * 64, payload_hash="0" * 64, file_count=1, byte_count=1,
            ingested_at="2026-12-01T10:00:00+08:00", ingested_by="档案员甲")


@pytest.fixture
def home(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """Both catalogs: the embedded SQLite file and a PostgreSQL server (tests/storekit.py)."""
    home = tmp_path / "home"
    home.mkdir()
    url = store_url(request, store_kind)
    if url is not None:
        (home / "gongu.toml").write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    monkeypatch.setenv("GONGU_HOME", str(home))
    with open_archive(home) as archive:
        survey = json.loads((JOINT.parents[1] / "slope-collapse" / "case.json").read_text(encoding="utf-8"))
        cases = [_case(JOINT), _case(SINGLE), _case(EXTENDED), _case(REAPPRAISAL), survey,
                 # a reissue of the joint case issued later: it replaces the original in the ledger
                 _case(JOINT, report__number="R1", report__issued_on="2026-12-30")]
        for n, data in enumerate(cases):
            if n < len(cases) - 1:
                bag = _write_package(archive.root, data)
            else:  # the reissue in its own folder, as ingest names a package by its report number
                bag = archive.root / "2026" / data["case_id"] / "R1"
                _write_package(tmp_path / "reissue", data).rename(bag)
            meta = json.loads((bag / "metadata.json").read_text(encoding="utf-8"))
            meta["parties"] = {"firm": "测试公估"}  # what fsck's check-code backfill reads of every package
            (bag / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            _register(archive, bag, data)
    return home


def _old_ledger(root: Path) -> Any:
    from gongu.pipeline.ledger import build_ledger
    from gongu.pipeline.ledger_sources import cases_from_archive

    return build_ledger(cases_from_archive(root)[0], START, END)


def test_the_catalog_gives_the_rows_reading_every_package_gave_and_then_needs_no_package(home: Path) -> None:
    from archive.ledger_rows import ledger_rows_table
    from gongu.pipeline.forensic_workspace import workspace_ledger

    with open_archive(home) as archive:
        before = _old_ledger(archive.root)
        # four forensic cases (the survey skipped); the joint case once, as its reissue R1
        assert sorted(r.case_id for r in before.rows) == sorted(
            _case(p)["case_id"] for p in (JOINT, SINGLE, EXTENDED, REAPPRAISAL))
        assert next(r for r in before.rows if r.case_id == _case(JOINT)["case_id"]).report_number == "R1"
        first = workspace_ledger(home, archive.root, START, END, archive.catalog)
        assert first.rows == before.rows and first.warnings == before.warnings
        stored = archive.catalog._rows(ledger_rows_table.select())
        assert len(stored) == 5  # every forensic package, the original of the reissue included
        # the packages' case files gone: the catalog alone answers, with the same rows
        for bag in archive.root.rglob("case.json"):
            bag.unlink()
        again = workspace_ledger(home, archive.root, START, END, archive.catalog)
        assert again.rows == before.rows and again.warnings == before.warnings
        # a period holds only the cases received in it (SINGLE: received 2026-05-08)
        single = _case(SINGLE)
        day = date.fromisoformat(single["timeline"]["received_at"][:10])
        one = workspace_ledger(home, archive.root, day, day, archive.catalog)
        assert [r.case_id for r in one.rows] == [single["case_id"]]


def test_a_row_computed_with_other_code_is_computed_again(home: Path) -> None:
    from archive.ledger_rows import ledger_rows_table
    from gongu.pipeline.forensic_workspace import workspace_ledger

    with open_archive(home) as archive:
        workspace_ledger(home, archive.root, START, END, archive.catalog)
        with archive.catalog.write():
            archive.catalog._writing().execute(update(ledger_rows_table).values(computed_with="0:old", cells=json.dumps(
                {"case_id": "stale"})))
        after = workspace_ledger(home, archive.root, START, END, archive.catalog)
        assert after.rows == _old_ledger(archive.root).rows
        assert {r["computed_with"] for r in archive.catalog._rows(ledger_rows_table.select())} != {"0:old"}


def test_fsck_reports_missing_rows_and_repair_stores_them(home: Path) -> None:
    from archive.ledger_rows import ledger_rows_table

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    found = subprocess.run([sys.executable, "-m", "gongu", "archive", "fsck", "--json"], capture_output=True,
                           text=True, env=env)
    assert found.stdout, found.stderr
    report = json.loads(found.stdout)
    assert len(report["ledger_missing"]) == 5, found.stdout + found.stderr
    fixed = subprocess.run([sys.executable, "-m", "gongu", "archive", "fsck", "--repair", "--json"],
                           capture_output=True, text=True, env=env)
    report = json.loads(fixed.stdout)
    assert report["ledger_missing"] == [] and sum("工作台账行" in line for line in report["repaired"]) == 5, fixed.stdout
    with open_archive(home) as archive:
        assert len(archive.catalog._rows(ledger_rows_table.select())) == 5


def test_the_ingest_listener_stores_a_forensic_packages_row(home: Path, tmp_path: Path) -> None:
    """The listener build_archive subscribes: an ingest event of a forensic package stores its row."""
    from archive.ledger_rows import ledger_rows_table

    with open_archive(home) as archive:
        data = _case(SINGLE, case_id="SJ-LISTENER-1")
        bag = _write_package(archive.root, data)
        _register(archive, bag, data)
        with archive.catalog.write():
            event = archive.catalog.append_event("ingest", archive.now(), "档案员甲", data["case_id"],
                                                 data["report"]["number"], {"rel_path": bag.relative_to(archive.root).as_posix()})
        archive.committed([event])
        assert archive.listener_failures == []
        rows = archive.catalog._rows(ledger_rows_table.select())
        assert [json.loads(r["cells"])["case_id"] for r in rows] == ["SJ-LISTENER-1"]


def test_the_ledger_page_shows_the_catalogs_rows_a_hundred_at_a_time(home: Path) -> None:
    """130 more forensic packages (the four examples under new case ids, received in March–August 2026): the
    page lists the 134 cases of the year from the catalog, 100 on page 1 and 34 on page 2, each once."""
    import re

    from starlette.testclient import TestClient

    from gongu.web.app import create_app
    from tests.webkit import csrf_from, make_account

    examples = [JOINT, SINGLE, EXTENDED, REAPPRAISAL]
    with open_archive(home) as archive:
        for i in range(130):
            data = _case(examples[i % 4], case_id=f"{_case(examples[i % 4])['case_id']}-P{i:03d}")
            bag = _write_package(archive.root, data)
            _register(archive, bag, data)
    make_account(home, "fang", {"forensic_supervisor"}, "方主任", "ledger-pages-2046")
    with TestClient(create_app(home, workers=0), base_url="http://127.0.0.1") as client:
        token = csrf_from(client.get("/login").text)
        assert client.post("/login", data={"username": "fang", "password": "ledger-pages-2046", "csrf_token": token},
                           follow_redirects=False).status_code == 303
        seen: list[str] = []
        for page_no, expected in ((1, 100), (2, 34)):  # 4 + 130 = 134 forensic cases (the survey skipped)
            html = client.get(f"/forensic/ledger?from=2026-01-01&to=2026-12-31&page={page_no}").text
            body = html.split('<tbody>', 1)[1].split("</tbody>", 1)[0]
            ids = re.findall(r"<tr><td>([^<]+)</td>", body)
            assert len(ids) == expected, (page_no, len(ids))
            assert f"134 件，第 {page_no}/2 页" in html
            seen += ids
        assert len(set(seen)) == 134 and 'id="ledger-prev"' in html and 'id="ledger-next"' not in html
