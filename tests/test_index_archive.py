"""The index follows the real archive: packages ingested with a sealed PDF (pdftotext), holds,
release, disposal (tombstones stay findable), and `gongu index rebuild` equals the incremental index.
Every test runs twice (issue 16 §3): on an embedded home (tantivy, the default engine) and on a home
whose `[store] url` is a PostgreSQL server, where the catalog, the log and the index all live."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.disposal import approve, execute, propose
from archive.holds import place_hold, release_hold
from generator.clock import FixedClock
from gongu.cli.app import app
from gongu.pipeline.archiving import build_archive
from gongu.pipeline.indexing import index_dir, open_index
from gongu.settings import load_settings
from index.extract import join_wrapped_lines
from index.postgres_backend import PostgresBackend
from index.tantivy_backend import TantivyBackend
from tests import storekit
from tests.archivekit import Kit, copied_home, ingested_home, write_case
from tests.sealkit import example_case
from tests.storekit import store_kind  # noqa: F401  (the module runs once per catalog)

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
CASE = "SAGC-2025-0712"
AFTER_END = "2040-10-16T09:00:00+08:00"  # retention of the example ends 2040-10-16 (10.4)
REPORTS = ["2025/SAGC-2025-0712/SA-GC-20250905-017", "2025/SAGC-2025-0712/SA-GC-20250905-017R1"]


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             store_kind: str) -> Path:  # noqa: F811
    """A home where the example and its R1 reissue were ingested; the listener indexed them."""
    return ingested_home(tmp_path_factory.mktemp("prepared"), kit, reissue=True,
                         store_url=storekit.store_url(request, store_kind))


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)


def _search(*args: str) -> dict:
    result = runner.invoke(app, ["search", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _snapshot(home: Path) -> dict[str, dict]:
    backend = open_index(load_settings(home))
    # a new home's default engine (issue 16 §1); a server catalog keeps its index beside it (§2)
    assert isinstance(backend, PostgresBackend if storekit.home_store_url(home) else TantivyBackend)
    out = {}
    for doc_id in backend.doc_ids():
        doc = backend.get(doc_id)
        assert doc is not None
        out[doc_id] = doc.as_dict()
    return out


def test_ingest_indexes_the_sealed_report_text(home: Path) -> None:
    found = _search("边坡坍塌")
    assert sorted(h["doc_id"] for h in found["hits"]) == REPORTS
    hit = found["hits"][0]
    assert hit["case_id"] == CASE and hit["status"] == "archived"
    assert Path(hit["package_path"], "bagit.txt").is_file()
    assert hit["retention_end"] == "2040-10-16"
    doc = open_index(load_settings(home)).get(REPORTS[0])
    assert doc is not None and doc.text and "<mark>" not in doc.text
    # The text is the PDF's (pdftotext), not the case-file fallback: it has no JSON timestamps.
    assert "T08:15:00" not in doc.text
    assert _search("报告编号:SA-GC-20250905-017R1")["total"] == 1


def test_hold_and_release_change_the_status(home: Path) -> None:
    with build_archive(load_settings(home)) as archive:
        place_hold(archive, CASE, kind="litigation", reason="保险合同纠纷诉讼", reference="(2026)川01民初1号", by="法务甲")
    assert sorted(h["doc_id"] for h in _search("状态:保全中")["hits"]) == REPORTS
    assert _search("边坡坍塌", "--status", "archived")["total"] == 0
    with build_archive(load_settings(home)) as archive:
        release_hold(archive, CASE, by="档案员乙", reason="诉讼终结，判决已生效", decision_reference="(2026)川01民初1号判决")
    assert _search("状态:保全中")["total"] == 0
    assert _search("边坡坍塌", "--status", "已归档")["total"] == 2


def test_disposal_removes_the_text_and_keeps_the_tombstone_findable(home: Path) -> None:
    assert _search("基本恢复受损前状态")["total"] == 2
    with build_archive(load_settings(home)) as archive:
        archive.clock = FixedClock.parse(AFTER_END)
        propose(archive, CASE, by="档案员甲")
        approve(archive, CASE, by="主任乙")
        execute(archive, CASE, by="档案员丙")
        assert archive.listener_failures == []
    assert _search("基本恢复受损前状态")["total"] == 0, "the report text left the index"
    tombs = _search("状态:已销毁")
    assert sorted(h["doc_id"] for h in tombs["hits"]) == REPORTS
    assert all(h["snippets"] == [] for h in tombs["hits"])
    # Still findable by what the catalog remembers: case number, parties.
    assert _search(CASE)["total"] == 2
    assert _search("被保险人:雅康", "--status", "disposed")["total"] == 2


def test_rebuild_from_disk_equals_the_incremental_index(home: Path) -> None:
    with build_archive(load_settings(home)) as archive:
        place_hold(archive, CASE, kind="dispute", reason="争议", reference="函2026-1", by="法务甲")
    incremental = _snapshot(home)
    assert {d["status"] for d in incremental.values()} == {"held"}
    if storekit.home_store_url(home):
        storekit.execute(home, "DROP SCHEMA gongu_search CASCADE")  # the index lost whole
    else:
        shutil.rmtree(index_dir(load_settings(home)))
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "索引已重建：2" in result.output
    if storekit.home_store_url(home):  # the Makefile installs postgresql-15-rum: phrases from the index
        assert "RUM" in result.output
    assert _snapshot(home) == incremental


def test_rebuild_after_disposal_keeps_tombstones(home: Path) -> None:
    with build_archive(load_settings(home)) as archive:
        archive.clock = FixedClock.parse(AFTER_END)
        propose(archive, CASE, by="档案员甲")
        approve(archive, CASE, by="主任乙")
        execute(archive, CASE, by="档案员丙")
    incremental = _snapshot(home)
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert _snapshot(home) == incremental
    assert {d["status"] for d in incremental.values()} == {"disposed"}
    assert all(d["text"] == "" for d in incremental.values())


def test_search_cli_prints_hits_and_refuses_bad_queries(home: Path) -> None:
    result = runner.invoke(app, ["search", "边坡坍塌", "--sort", "date", "--page-size", "1", "--page", "2"])
    assert result.exit_code == 0, result.output
    assert "共 2 件，第 2/2 页" in result.output and CASE in result.output
    assert _search("边坡坍塌", "--insurer", "人民财产", "--kind", "建筑工程一切险", "--from", "2025-07", "--to", "2025-07-11")["total"] == 2
    assert _search("边坡坍塌", "--from", "2025-07-12")["total"] == 0  # the loss was on 2025-07-11
    assert _search("边坡坍塌", "--insurer", "平安")["total"] == 0
    bad = runner.invoke(app, ["search", "颜色:红"])
    assert bad.exit_code == 2 and "未知字段" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, ["search", "x", "--from", "2025-13"])
    assert bad.exit_code == 2 and "--from" in bad.output


def test_wrapped_pdf_lines_are_rejoined_inside_cjk_text() -> None:
    raw = "一、出险经过：路堑边坡坍\n  塌，造成锚杆框架梁受损。\n二、原因\nsee ABC\nDEF\n\n三、结论"
    text = join_wrapped_lines(raw)
    assert "边坡坍塌" in text  # the wrap inside the term is gone
    assert "受损。\n二、原因" in text  # a sentence end ends the line
    assert "see ABC DEF" in text  # Latin words keep a space
    assert text.endswith("\n\n三、结论")  # paragraph breaks stay


# ───────────── issue 12.6: archived but not searchable after a crash — the index catches up ─────────────

def _ingest_killed_before_index(home: Path, kit: Kit, tmp_path: Path, case_id: str) -> str:
    """A worker process dies (os._exit, no cleanup) after the catalog commit, before the index update."""
    data = example_case()
    data["case_id"] = case_id
    case = write_case(tmp_path / case_id, data)
    env = {**os.environ, "GONGU_HOME": str(home), "GONGU_FIRM_KEY_PASSPHRASE": "gongu-demo",
           "GONGU_ARCHIVE_CRASH_AT": "before_index"}
    proc = subprocess.run([sys.executable, "-m", "tests.archive_worker", "ingest", str(home), str(case),
                           str(kit.sealed_for(data)), "甲"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 137, proc.stdout + proc.stderr
    return f"2025/{case_id}/{data['report']['number']}"


def _in_index(home: Path, rel: str) -> bool:
    return open_index(load_settings(home)).get(rel) is not None


def test_crash_between_catalog_commit_and_index_update_is_reported_then_caught_up(
        home: Path, kit: Kit, tmp_path: Path) -> None:
    rel = _ingest_killed_before_index(home, kit, tmp_path, "CRASH-IDX-1")
    with build_archive(load_settings(home), catch_up=False) as archive:
        assert [r["rel_path"] for r in archive.catalog.packages("CRASH-IDX-1")] == [rel]  # committed
        assert [e.kind for e in archive.catalog.pending_index_events()] == ["ingest"]  # queued with it
    assert not _in_index(home, rel)
    # fsck and audit report the difference (they do not catch up silently)
    result = runner.invoke(app, ["archive", "fsck"])
    assert result.exit_code == 1, result.output
    assert "1 项索引更新待完成" in result.output and f"已归档但检索不到：{rel}" in result.output
    target = tmp_path / "audit.json"
    result = runner.invoke(app, ["archive", "audit", "--json", str(target)])
    assert result.exit_code == 1
    usability = json.loads(target.read_text(encoding="utf-8"))["properties"]["usability"]["checks"]
    assert [c["ok"] for c in usability if c["name"] == "检索索引与目录一致（已归档即可检索）"] == [False]
    # the next ordinary command applies the queued work: the package becomes searchable
    result = runner.invoke(app, ["archive", "list"])
    assert result.exit_code == 0, result.output
    assert _in_index(home, rel)
    assert [h["doc_id"] for h in _search("案件编号:CRASH-IDX-1")["hits"]] == [rel]
    result = runner.invoke(app, ["archive", "fsck"])
    assert result.exit_code == 0 and "检索索引与目录不一致" not in result.output, result.output


def test_after_a_crash_before_the_index_update_the_next_search_finds_the_package(
        home: Path, kit: Kit, tmp_path: Path) -> None:
    """Found by the issue-12 probe: after kill -9 in the index update, `gongu search` alone answered
    "共 0 件" until some archive command drained the queue; search catches up first."""
    rel = _ingest_killed_before_index(home, kit, tmp_path, "CRASH-IDX-3")
    assert not _in_index(home, rel)
    assert [h["doc_id"] for h in _search("案件编号:CRASH-IDX-3")["hits"]] == [rel]
    with build_archive(load_settings(home), catch_up=False) as archive:
        assert archive.catalog.pending_index_events() == []  # drained, not just read around


def test_index_sync_drains_the_queue_and_reindexes_what_the_index_lost(home: Path, kit: Kit, tmp_path: Path) -> None:
    rel = _ingest_killed_before_index(home, kit, tmp_path, "CRASH-IDX-2")
    open_index(load_settings(home)).delete(REPORTS[0])  # and the index lost a document besides
    assert not _in_index(home, rel) and not _in_index(home, REPORTS[0])
    result = runner.invoke(app, ["index", "sync"])
    assert result.exit_code == 0, result.output
    assert "已补做 1 项待完成的索引更新" in result.output and f"已重新索引 {REPORTS[0]}" in result.output
    assert _in_index(home, rel) and _in_index(home, REPORTS[0])
    # fsck --repair does the same for a document lost again
    open_index(load_settings(home)).delete(REPORTS[1])
    result = runner.invoke(app, ["archive", "fsck", "--repair"])
    assert result.exit_code == 0, result.output
    assert f"已重新索引 {REPORTS[1]}" in result.output and _in_index(home, REPORTS[1])
    result = runner.invoke(app, ["index", "sync"])
    assert result.exit_code == 0 and "检索索引与目录一致" in result.output
