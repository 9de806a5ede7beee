"""`gongu store join`: an office's own SQLite archive brought into the shared PostgreSQL store — its
packages as they are (byte for byte), its old event log kept and verifiable beside the shared one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.package import payload_manifest
from gongu.cli.app import app
from gongu.pipeline.archiving import build_archive
from gongu.settings import load_settings
from signing.keys import DEMO_PASSPHRASE
from tests.archivekit import Kit, ingested_home, write_case, write_home
from tests.sealkit import example_case

runner = CliRunner()


def _cli(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("GONGU_HOME", str(home))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_an_offices_own_archive_joins_the_shared_store(kit: Kit, pg_url: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # 贵阳 kept its own archive (SQLite, its log checkpointed and pinned)
    guiyang = ingested_home(tmp_path / "guiyang", kit, checkpoint=True)
    settings_b = load_settings(guiyang)
    with build_archive(settings_b) as archive:
        (old_row,) = archive.catalog.packages()
        old_events = len(archive.catalog.events())
    old_bag = settings_b.resolve(settings_b.archive.root) / old_row["rel_path"]
    old_catalog = (guiyang / "archive" / "catalog.sqlite").read_bytes()

    # 成都 already uses the shared store and has a package of its own
    chengdu = write_home(tmp_path / "chengdu", kit, store_url=pg_url)
    data = example_case()
    data["case_id"] = "CD-2026-001"
    code, out = _cli(monkeypatch, chengdu, "archive", "ingest", str(write_case(tmp_path / "cd", data)),
                     "--report", str(kit.sealed_for(data)), "--by", "档案员甲")
    assert code == 0, out
    # store migrate rightly refuses a target that is not empty; join is the way in
    code, out = _cli(monkeypatch, chengdu, "store", "join", "--from", str(guiyang), "--by", "档案员甲")
    assert code == 0 and "档案包 1 个" in out.replace("\n", ""), out

    settings_a = load_settings(chengdu)
    root_a = settings_a.resolve(settings_a.archive.root)
    with build_archive(settings_a) as archive:
        rows = {r["case_id"]: r for r in archive.catalog.packages()}
        events = archive.catalog.events()
    assert set(rows) == {"CD-2026-001", old_row["case_id"]}
    joined = rows[old_row["case_id"]]
    assert (joined["package_hash"], joined["payload_hash"], joined["rel_path"]) == (
        old_row["package_hash"], old_row["payload_hash"], old_row["rel_path"])  # as it was
    assert payload_manifest(root_a / joined["rel_path"]) == payload_manifest(old_bag)
    ingest_event = next(e for e in events if e.case_id == old_row["case_id"] and e.kind == "ingest")
    (join_event,) = [e for e in events if e.kind == "archive_joined"]
    assert ingest_event.details["joined_from"] == join_event.details["joined_id"]
    assert join_event.details["tree_size"] == old_events
    copy = root_a / join_event.details["copy"]
    assert copy.is_file() and (copy.parent / "firm-certificate.pem").is_file()
    # 贵阳's own home is untouched
    assert (guiyang / "archive" / "catalog.sqlite").read_bytes() == old_catalog

    for args in (("archive", "log", "verify"), ("archive", "audit"), ("archive", "fsck")):
        code, out = _cli(monkeypatch, chengdu, *args)
        assert code == 0, (args, out)
    code, out = _cli(monkeypatch, chengdu, "search", old_row["case_id"])
    assert code == 0 and old_row["case_id"] in out, out

    # the old log is checked beside the shared one: rewriting one of its events is found
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE events SET entry = replace(entry, '档案员甲', '档案员乙') WHERE seq = 0")
    code, out = _cli(monkeypatch, chengdu, "archive", "log", "verify")
    flat = out.replace("\n", "")
    assert code == 1 and "并入档案的原事件日志" in flat and "发现篡改" in flat, out


def test_join_needs_the_shared_store_and_an_own_archive(kit: Kit, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    lone = write_home(tmp_path / "lone", kit)
    other = write_home(tmp_path / "other", kit)
    code, out = _cli(monkeypatch, lone, "store", "join", "--from", str(other), "--by", "档案员甲")
    assert code == 2 and "[store] url" in out.replace("\n", ""), out
