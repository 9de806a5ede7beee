"""Disposal is checked against what cannot be edited silently (issue 12, items 1(b) and 3): the
retention end comes from the sealed package's own metadata and the signed log, not the catalog's
`retention_until`; the proposal and approval must be events in the log; a package missing from disk
is an incident (audit, fsck, search and rebuild report it), never a disposal (10.4).

Run against both catalogs: the SQLite file and a PostgreSQL server (tests/storekit.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.audit import audit
from archive.disposal import DisposalRefused, approve, execute, propose
from archive.fsck import fsck
from gongu.cli.app import app
from tests import storekit
from tests.archivekit import Kit, copied_home, ingested_home, open_archive

runner = CliRunner()
CASE = "SAGC-2025-0712"
REL = "2025/SAGC-2025-0712/SA-GC-20250905-017"
# closed 2025-10-16, ordinary work: kept 15 years, until 2040-10-16 (10.4)
EARLY = "2030-01-01T10:00:00+08:00"
AFTER_END = "2040-10-16T09:00:00+08:00"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             store_kind: str) -> Path:
    return ingested_home(tmp_path_factory.mktemp("prepared"), kit, store_url=storekit.store_url(request, store_kind))


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)



def _sql(home: Path, statement: str, **params: object) -> None:
    storekit.execute(home, statement, **params)


def _failed(result) -> dict[str, str]:  # noqa: ANN001
    return {c.name: c.detail for c in result.checks if not c.ok and c.level == "error"}


def test_10_4_an_edited_retention_end_in_the_catalog_does_not_shorten_retention(home: Path) -> None:
    _sql(home, "UPDATE packages SET retention_until = '2026-01-01' WHERE case_id = :c", c=CASE)
    with open_archive(home, EARLY) as archive:
        with pytest.raises(DisposalRefused, match="2040-10-16，尚未届满"):
            propose(archive, CASE, by="甲")
        assert archive.catalog.disposals() == []
        failed = _failed(audit(archive, log_events=False))
    assert "目录保管期限不早于档案包自身计算的期限（10.4）" in failed
    assert "2026-01-01" in failed["目录保管期限不早于档案包自身计算的期限（10.4）"]
    assert "著录信息与目录登记一致（案件号、报告号、保管期限、类别）" in failed
    assert "目录登记与签名日志的归档事件一致（包哈希、保管期限）" in failed
    # a proposal and an approval forced in by SQL do not get it through either
    _sql(home, "INSERT INTO disposals (case_id, state, proposed_by, proposed_at, approved_by, approved_at) "
               "VALUES (:c, 'approved', '甲', '2029-12-01', '乙', '2029-12-02')", c=CASE)
    with open_archive(home, EARLY) as archive, pytest.raises(DisposalRefused, match="尚未届满"):
        execute(archive, CASE, by="乙")
    assert (home / "archive" / "packages" / REL / "data").is_dir()


def test_an_edited_retention_class_is_refused_and_reported(home: Path) -> None:
    _sql(home, "UPDATE packages SET retention_class = 'statutory' WHERE case_id = :c", c=CASE)
    with open_archive(home, AFTER_END) as archive:
        with pytest.raises(DisposalRefused, match="保管期限类别 statutory 与档案包著录 ordinary 不一致"):
            propose(archive, CASE, by="甲")
        assert "著录信息与目录登记一致（案件号、报告号、保管期限、类别）" in _failed(audit(archive, log_events=False))


def test_10_4_an_approval_inserted_by_sql_cannot_be_executed(home: Path) -> None:
    _sql(home, "INSERT INTO disposals (case_id, state, proposed_by, proposed_at, approved_by, approved_at) "
               "VALUES (:c, 'approved', '甲', '2040-10-16', '乙', '2040-10-16')", c=CASE)
    with open_archive(home, AFTER_END) as archive:  # the retention really has ended: only the log can refuse
        with pytest.raises(DisposalRefused, match="没有提议事件.*没有批准事件"):
            execute(archive, CASE, by="乙")
        assert len(archive.catalog.packages(CASE, state="active")) == 1
        assert [e.kind for e in archive.catalog.events(CASE)] == ["ingest"]
        failed = _failed(audit(archive, log_events=False))
    assert "没有批准事件" in failed["销毁提议与批准均有日志记录（目录与日志一致）"]
    assert (home / "archive" / "packages" / REL / "data").is_dir()


def test_a_proposal_inserted_by_sql_cannot_be_approved(home: Path) -> None:
    _sql(home, "INSERT INTO disposals (case_id, state, proposed_by, proposed_at) VALUES (:c, 'proposed', '甲', "
               "'2040-10-16')", c=CASE)
    with open_archive(home, AFTER_END) as archive, pytest.raises(DisposalRefused, match="没有提议事件"):
        approve(archive, CASE, by="乙")


def test_the_proper_procedure_still_disposes_and_audits_clean(home: Path) -> None:
    with open_archive(home, AFTER_END) as archive:
        propose(archive, CASE, by="甲")
        approve(archive, CASE, by="乙")
        tombs = execute(archive, CASE, by="丙")
        assert [t["report_number"] for t in tombs] == ["SA-GC-20250905-017"]
        result = audit(archive, log_events=False)
    assert result.ok, _failed(result)


def test_10_4_a_package_missing_from_disk_is_an_incident_never_a_disposal(home: Path) -> None:
    shutil.rmtree(home / "archive" / "packages" / REL)
    with open_archive(home, AFTER_END) as archive:
        with pytest.raises(DisposalRefused, match="不在磁盘上.*事故，不是销毁"):
            propose(archive, CASE, by="甲")
        # even with approvals that went through the log before the package vanished
        assert archive.catalog.packages(CASE, state="active")
        assert fsck(archive).missing_packages == [REL]
        failed = _failed(audit(archive, log_events=False))
        assert "事故" in failed["档案包存在"]
    assert not (home / "archive" / "packages" / REL).exists()  # no empty tombstone folder either
    # search names it instead of listing it as if it were there
    result = runner.invoke(app, ["search", "承办人:陈晓梅", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert [(h["doc_id"], h["package_missing"]) for h in hits] == [(REL, True)]
    result = runner.invoke(app, ["search", "承办人:陈晓梅"])
    assert result.exit_code == 0 and "档案包不在磁盘上" in result.output
    # and a rebuild reports it rather than quietly dropping it
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 2 and REL in result.output and "不在磁盘上" in result.output


def test_a_package_that_vanishes_after_approval_is_not_executed(home: Path) -> None:
    with open_archive(home, AFTER_END) as archive:
        propose(archive, CASE, by="甲")
        approve(archive, CASE, by="乙")
    shutil.rmtree(home / "archive" / "packages" / REL)
    with open_archive(home, AFTER_END) as archive:
        with pytest.raises(DisposalRefused, match="不在磁盘上"):
            execute(archive, CASE, by="丙")
        assert archive.catalog.packages(CASE, state="disposed") == []
        assert "disposal_executed" not in [e.kind for e in archive.catalog.events(CASE)]
