"""Retention, holds, disposal, retrieval, audit and the signed event log (clauses 10.3–10.4;
资产评估法 Art. 29; the four properties of electronic-archive testing).

Run against both catalogs: the SQLite file and a PostgreSQL server (tests/storekit.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.audit import audit
from archive.catalog import Event
from archive.disposal import DisposalRefused, _remove_packages, approve, execute, propose
from archive.eventlog import check_signature, verify_log
from archive.holds import place_hold, release_hold
from archive.ingest import ingest
from archive.merkle import leaf_hash
from archive.retention import RetentionConfigError, load_classes
from generator.clock import FixedClock
from generator.loading import load_case
from gongu.cli.app import app
from tests import storekit
from tests.archivekit import (
    INGESTED_AT,
    Kit,
    add_archivists,
    by_env,
    copied_home,
    ingested_home,
    open_archive,
    write_case,
)
from tests.sealkit import example_case

runner = CliRunner()
CASE = "SAGC-2025-0712"
BEFORE_END = "2040-10-15T12:00:00+08:00"  # retention until 2040-10-16 (closed 2025-10-16 + 15 years)
AFTER_END = "2040-10-16T09:00:00+08:00"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             store_kind: str) -> Path:
    """A home holding the example case and its R1 reissue, with a signed checkpoint; copied per test."""
    return add_archivists(ingested_home(tmp_path_factory.mktemp("prepared"), kit, reissue=True, checkpoint=True,
                                        checkpoint_every=3, store_url=storekit.store_url(request, store_kind)))


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)



def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", *args], env=by_env(args))
    return result.exit_code, result.output


def _cli_at(now: str, *args: str) -> tuple[int, str]:
    """The CLI constructed with a fixed clock (click's context object: reachable from Python only)."""
    result = runner.invoke(app, ["archive", *args], obj=FixedClock.parse(now), env=by_env(args))
    return result.exit_code, result.output


def _package_files(home: Path) -> dict[str, bytes]:
    root = home / "archive" / "packages"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts}


# ─────────────────────────────────────── retention (10.4) ───────────────────────────────────────

def test_10_4_retention_config_cannot_go_below_the_law() -> None:
    classes = load_classes()
    assert (classes["ordinary"].years, classes["statutory"].years) == (15, 30)
    assert load_classes({"ordinary": {"years": 20}})["ordinary"].years == 20  # a firm may keep longer
    with pytest.raises(RetentionConfigError, match="短于法定最低 15 年"):
        load_classes({"ordinary": {"years": 10}})
    with pytest.raises(RetentionConfigError, match="短于法定最低 30 年"):
        load_classes({"statutory": {"years": 15, "legal_minimum_years": 1}})  # the minimum is not configurable


def test_dispose_lists_only_expired_cases_without_hold(home: Path) -> None:
    code, out = _cli_at(BEFORE_END, "dispose")
    assert code == 0 and "没有可销毁的档案" in out
    code, out = _cli_at(AFTER_END, "dispose")
    assert code == 0 and CASE in out
    with open_archive(home) as archive:
        place_hold(archive, CASE, kind="litigation", reason="被保险人起诉", reference="(2041)川01民初1号", by="法务")
    code, out = _cli_at("2099-01-01T00:00:00+08:00", "dispose")
    assert code == 0 and CASE not in out


# ────────────────────────────────── disposal: guarded in one place ──────────────────────────────

def test_10_4_early_disposal_impossible_through_every_command(home: Path) -> None:
    before = _package_files(home)
    # the CLI, step by step, before the retention end
    code, out = _cli_at(BEFORE_END, "dispose", "propose", CASE, "--by", "甲")
    assert code == 2 and "尚未届满" in out
    code, out = _cli_at(BEFORE_END, "dispose", "approve", CASE, "--by", "乙")
    assert code == 2
    code, out = _cli_at(BEFORE_END, "dispose", "execute", CASE, "--by", "乙")
    assert code == 2
    # an approval forced into the catalog behind the archive's back is still refused at execution
    storekit.execute(home, "INSERT INTO disposals (case_id, state, proposed_by, proposed_at, approved_by, approved_at) "
                     "VALUES (:c, 'approved', '甲', '2030-01-01', '乙', '2030-01-02')", c=CASE)
    code, out = _cli_at(BEFORE_END, "dispose", "execute", CASE, "--by", "乙")
    assert code == 2 and "尚未届满" in out
    # the removal function itself refuses, whoever calls it
    with open_archive(home, BEFORE_END) as archive:
        d = archive.catalog.open_disposal(CASE)
        with pytest.raises(DisposalRefused, match="尚未届满"), archive.catalog.write():
            _remove_packages(archive, CASE, d, "乙")
    # fsck --repair and re-ingest never remove or replace a package
    assert _cli("fsck", "--repair")[0] == 0
    assert _package_files(home) == before
    # …and the audit reports the forged approval: it has no events in the signed log
    code, out = _cli_at(BEFORE_END, "audit")
    assert code == 1 and "没有批准事件" in out


def test_hold_blocks_disposal_whatever_the_date(home: Path) -> None:
    with open_archive(home, AFTER_END) as archive:
        place_hold(archive, CASE, kind="dispute", reason="委托人对理算金额有异议", reference="函2040-7", by="法务")
        with pytest.raises(DisposalRefused, match="冻结"):
            propose(archive, CASE, by="甲")
    code, out = _cli_at("2100-01-01T00:00:00+08:00", "dispose", "propose", CASE, "--by", "甲")
    assert code == 2 and "函2040-7" in out
    # releasing makes the package disposable again: only a registered person may (issue 12 item 2)
    code, out = _cli_at(AFTER_END, "release", CASE, "--reason", "争议已调解", "--by", "Mallory")
    assert code == 2 and "「Mallory」" in out and "not a registered person" in " ".join(out.split())
    with open_archive(home, AFTER_END) as archive:
        assert [e.kind for e in archive.catalog.events(CASE)].count("release") == 0
    # a hold placed after approval still blocks execution
    code, out = _cli_at(AFTER_END, "release", CASE, "--reason", "争议已由双方调解解决", "--decision-reference",
                        "调解书2040-3", "--by", "法务")
    assert code == 2 and "冻结人以外" in out  # 法务 placed it
    code, out = _cli_at(AFTER_END, "release", CASE, "--reason", "争议已由双方调解解决", "--decision-reference",
                        "调解书2040-3", "--by", "档案员丙")
    assert code == 0, out
    with open_archive(home, AFTER_END) as archive:
        propose(archive, CASE, by="甲")
        approve(archive, CASE, by="乙")
        place_hold(archive, CASE, kind="regulator", reason="监管检查调档", reference="监管函-9", by="合规")
        with pytest.raises(DisposalRefused, match="监管函-9"):
            execute(archive, CASE, by="乙")
        assert len(archive.catalog.packages(CASE, state="active")) == 2
        kinds = [e.kind for e in archive.catalog.events(CASE)]
    assert kinds.count("hold") == 2 and kinds.count("release") == 1


def test_gongu_now_and_hidden_now_no_longer_move_the_clock(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11/12 item 1(a): the package is kept until 2040-10-16; neither GONGU_NOW nor --now (both
    once test hooks reachable from the command line) lets anyone dispose of it today."""
    before = _package_files(home)
    monkeypatch.setenv("GONGU_NOW", "2100-01-01")
    code, out = _cli("dispose")
    assert code == 0 and "没有可销毁的档案" in out and CASE not in out
    code, out = _cli("dispose", "propose", CASE, "--by", "甲")
    assert code == 2 and "尚未届满" in out
    code, out = _cli("--now", "2100-01-01", "dispose", "propose", CASE, "--by", "甲")
    assert code == 2 and "No such option" in out
    code, out = _cli("dispose", "propose", CASE, "--by", "甲", "--now", "2100-01-01")
    assert code == 2 and "No such option" in out
    # The installed command, as an operator would run it.
    gongu = Path(sys.executable).parent / "gongu"
    env = {**os.environ, "GONGU_HOME": str(home), "GONGU_NOW": "2100-01-01T00:00:00+08:00"}
    for args in (["dispose", "propose", CASE, "--by", "甲"], ["--now", "2100-01-01", "dispose", "propose", CASE]):
        done = subprocess.run([str(gongu), "archive", *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    with open_archive(home) as archive:
        assert archive.catalog.open_disposal(CASE) is None
    assert _package_files(home) == before


def test_disposal_names_are_registered_persons_compared_normalised(home: Path) -> None:
    """Issue 12 item 2: `Alice` cannot approve `alice`'s proposal, `b\u200bob` is `bob`, and an
    unregistered name is refused."""
    code, out = _cli_at(AFTER_END, "dispose", "propose", CASE, "--by", "Mallory")
    assert code == 2 and "Mallory" in out and "登记" in out
    code, out = _cli_at(AFTER_END, "dispose", "propose", CASE, "--by", "bob")
    assert code == 0, out
    for same in ("b\u200bob", "BOB", "ｂｏｂ", " bob "):
        code, out = _cli_at(AFTER_END, "dispose", "approve", CASE, "--by", same)
        assert code == 2 and "提议人以外" in out, (same, out)
    code, out = _cli_at(AFTER_END, "dispose", "approve", CASE, "--by", "Mallory")
    assert code == 2 and "登记" in out
    code, out = _cli_at(AFTER_END, "dispose", "approve", CASE, "--by", "ＡＬＩＣＥ")
    assert code == 0, out
    with open_archive(home) as archive:
        d = archive.catalog.open_disposal(CASE)
        assert (d["proposed_by"], d["approved_by"]) == ("bob", "Alice")  # the registered spellings
    # The archive's own rule compares persons too, whoever calls it.
    with open_archive(home, AFTER_END) as archive:
        # a test stands in for someone editing the catalog
        storekit.execute(home, "UPDATE disposals SET state = 'proposed', approved_by = NULL")
        with pytest.raises(DisposalRefused, match="提议人以外"):
            approve(archive, CASE, by="B\u200bOB")


def test_disposal_needs_two_different_people_and_keeps_a_tombstone(home: Path, prepared: Path, kit: Kit) -> None:
    code, out = _cli_at(AFTER_END, "dispose", "propose", CASE, "--by", "甲")
    assert code == 0
    code, out = _cli_at(AFTER_END, "dispose", "approve", CASE, "--by", "甲")
    assert code == 2 and "提议人以外" in out
    code, out = _cli_at(AFTER_END, "dispose", "execute", CASE, "--by", "甲")
    assert code == 2 and "尚未获批准" in out
    assert _cli_at(AFTER_END, "dispose", "approve", CASE, "--by", "乙")[0] == 0
    with open_archive(home) as archive:
        manifest = (home / "archive" / "packages" / archive.catalog.packages(CASE)[0]["rel_path"]
                    / "manifest-sha256.txt").read_text(encoding="utf-8")
    code, out = _cli_at(AFTER_END, "dispose", "execute", CASE, "--by", "丙")
    assert code == 0, out
    case_dir = home / "archive" / "packages" / "2025" / CASE
    assert not list(case_dir.rglob("data"))  # payload gone
    tomb_file = json.loads((case_dir / "SA-GC-20250905-017" / "TOMBSTONE.json").read_text(encoding="utf-8"))
    assert tomb_file["approvals"]["proposed_by"] == "甲" and tomb_file["approvals"]["approved_by"] == "乙"
    with open_archive(home, AFTER_END) as archive:  # audited at the time of the disposal: no event lies ahead of it
        tombs = archive.catalog.tombstones(CASE)
        assert [t["report_number"] for t in tombs] == ["SA-GC-20250905-017", "SA-GC-20250905-017R1"]
        assert json.loads(tombs[0]["manifests"])["manifest-sha256.txt"] == manifest
        assert json.loads(tombs[0]["metadata"])["case_id"] == CASE
        executed = [e for e in archive.catalog.events(CASE) if e.kind == "disposal_executed"]
        assert len(executed) == 2 and executed[0].details["approvals"]["executed_by"] == "丙"
        assert verify_log(archive.catalog, export_dir=archive.config.checkpoint_dir).ok
        result = audit(archive)
    assert result.ok, [c for c in result.checks if not c.ok]
    assert _cli("fsck")[0] == 0
    # a disposed report cannot come back under the same number
    code, out = _cli("ingest", str(prepared.parent / "case" / "case.json"), "--report", str(kit.sealed), "--by", "甲")
    assert code == 2 and "已按程序销毁" in out


# ─────────────────────────────────────────── retrieval ──────────────────────────────────────────

def test_get_exports_a_verified_copy_and_logs_it(home: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "export"
    code, out = _cli("get", CASE, "-o", str(out_dir), "--by", "调阅人丁")
    assert code == 0, out
    report = json.loads((out_dir / "verification-report.json").read_text(encoding="utf-8"))
    assert report["ok"] and len(report["packages"]) == 2
    assert all(p["bag_valid"] and p["signature"]["ok"] for p in report["packages"])
    assert (out_dir / "SA-GC-20250905-017" / "data" / "case" / "case.json").is_file()
    with open_archive(home) as archive:
        events = [e for e in archive.catalog.events(CASE) if e.kind == "retrieval"]
    assert [e.actor for e in events] == ["调阅人丁", "调阅人丁"]
    code, out = _cli("get", CASE, "-o", str(out_dir), "--by", "调阅人丁")
    assert code == 2 and "不覆盖" in out


# ─────────────────────────────────────────── audit (四性) ─────────────────────────────────────────

def _audit_json(tmp_path: Path) -> tuple[int, dict]:
    target = tmp_path / "audit.json"
    code, _ = _cli("audit", "--json", str(target))
    return code, json.loads(target.read_text(encoding="utf-8"))


def _failed(report: dict, prop: str) -> list[str]:
    return [c["name"] for c in report["properties"][prop]["checks"] if not c["ok"] and c["level"] == "error"]


def _pkg(home: Path) -> Path:
    return home / "archive" / "packages" / "2025" / CASE / "SA-GC-20250905-017"


def test_audit_passes_and_groups_by_the_four_properties(home: Path, tmp_path: Path) -> None:
    code, report = _audit_json(tmp_path)
    assert code == 0 and report["ok"]
    assert {k: v["title"] for k, v in report["properties"].items()} == {
        "authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}
    names = [c["name"] for g in report["properties"].values() for c in g["checks"]]
    assert "报告为 PDF/A（XMP pdfaid）" in names and "报告签章有效" in names
    pdfa = [c for c in report["properties"]["usability"]["checks"] if c["name"].startswith("报告为 PDF/A")]
    assert all(c["detail"] == "PDF/A-3B" for c in pdfa)


def test_audit_catches_a_flipped_byte_in_data(home: Path, tmp_path: Path) -> None:
    target = _pkg(home) / "data" / "working-papers" / "calculation.json"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x20
    target.write_bytes(bytes(data))
    code, report = _audit_json(tmp_path)
    assert code == 1 and "固定性（BagIt SHA-256/SHA-512 清单与标签清单）" in _failed(report, "authenticity")


def test_audit_catches_a_changed_metadata_file(home: Path, tmp_path: Path) -> None:
    target = _pkg(home) / "metadata.json"
    meta = json.loads(target.read_text(encoding="utf-8"))
    meta["parties"]["insured"] = "别人"
    target.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    code, report = _audit_json(tmp_path)
    assert code == 1
    assert "包哈希与目录登记一致" not in _failed(report, "authenticity")  # tag manifest itself unchanged …
    assert "固定性（BagIt SHA-256/SHA-512 清单与标签清单）" in _failed(report, "authenticity")  # … but it no longer matches


def test_audit_catches_malformed_metadata_without_a_traceback(home: Path, tmp_path: Path) -> None:
    target = _pkg(home) / "metadata.json"
    meta = json.loads(target.read_text(encoding="utf-8"))
    meta["files"].append(dict(meta["files"][0]))  # a duplicate entry
    meta["files"][1]["size"] = -5
    target.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    code, report = _audit_json(tmp_path)
    assert code == 1
    bad = [c for c in report["properties"]["authenticity"]["checks"] if c["name"].startswith("著录信息格式正确")]
    assert any(not c["ok"] and "重复的文件条目" in c["detail"] and "非负整数" in c["detail"] for c in bad)
    meta["report"] = "not an object"
    target.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    code, report = _audit_json(tmp_path)
    assert code == 1 and "著录信息格式正确（类型、范围、格式、无重复）" in _failed(report, "authenticity")


def test_audit_catches_a_deleted_file(home: Path, tmp_path: Path) -> None:
    (_pkg(home) / "data" / "review" / "reviews.json").unlink()
    code, report = _audit_json(tmp_path)
    assert code == 1
    assert "文件数与著录、目录登记一致" in _failed(report, "integrity")
    assert "文件属性与著录一致（名称、大小、格式、哈希）" in _failed(report, "authenticity")


def test_audit_catches_a_catalog_count_mismatch(home: Path, tmp_path: Path) -> None:
    storekit.execute(home, "DELETE FROM packages WHERE report_number = 'SA-GC-20250905-017R1'")
    code, report = _audit_json(tmp_path)
    assert code == 1 and "目录与磁盘档案包数量一致" in _failed(report, "integrity")


def _rewrite_event(home: Path, seq: int, actor: str) -> None:
    """Rewrite one event consistently (entry and its leaf hash), as a careful forger would."""
    entry = storekit.execute(home, "SELECT entry FROM events WHERE seq = :seq", seq=seq)[0][0]
    ev = Event.from_entry(entry)
    forged = Event(ev.seq, ev.kind, ev.at, actor, ev.case_id, ev.report_number, ev.details).entry()
    storekit.execute(home, "UPDATE events SET entry = :e, actor = :a, leaf_hash = :h WHERE seq = :seq",
                     e=forged, a=actor, h=leaf_hash(forged.encode()).hex(), seq=seq)


def test_audit_catches_a_rewritten_log_event(home: Path, tmp_path: Path) -> None:
    _rewrite_event(home, 0, "冒名者")
    code, report = _audit_json(tmp_path)
    assert code == 1
    assert "日志未被改写（Merkle 树、签名检查点一致性）" in _failed(report, "authenticity")


def test_log_verify_catches_rewritten_history_against_an_exported_checkpoint(home: Path, tmp_path: Path) -> None:
    code, out = _cli("log", "checkpoint")
    assert code == 0
    kept = tmp_path / "kept-elsewhere.json"
    exported = sorted((home / "archive" / "checkpoints").glob("checkpoint-*.json"))[-1]
    shutil.copy(exported, kept)
    doc = json.loads(kept.read_text(encoding="utf-8"))
    from archive.firmcert import pinned_certificates

    assert check_signature(doc, pinned_certificates(storekit.pin_file(home))) is None
    assert check_signature(doc, []) is not None  # the certificate inside a checkpoint vouches for nothing
    assert _cli("log", "verify", "--checkpoint", str(kept))[0] == 0
    # more history is fine: the old checkpoint is consistent with the grown tree
    with open_archive(home) as archive:
        place_hold(archive, CASE, kind="dispute", reason="异议", reference="R-1", by="法务")
        release_hold(archive, CASE, by="档案员丙", reason="委托人书面撤回异议", decision_reference="撤回函-1")
    assert _cli("log", "verify", "--checkpoint", str(kept))[0] == 0
    # the forger rewrites an event and erases every checkpoint the archive holds …
    _rewrite_event(home, 1, "冒名者")
    storekit.execute(home, "DELETE FROM checkpoints")
    shutil.rmtree(home / "archive" / "checkpoints")
    code, out = _cli("log", "verify")
    assert code == 0 and "尚无签名检查点" in out  # nothing left inside the archive to compare with
    # … but the copy kept elsewhere proves it
    code, out = _cli("log", "verify", "--checkpoint", str(kept))
    assert code == 1 and "历史被改写" in out
    # and a checkpoint file whose root was edited fails its signature
    doc["root_hash"] = "00" * 32
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc), encoding="utf-8")
    code, out = _cli("log", "verify", "--checkpoint", str(forged))
    assert code == 1 and "签名无效" in out


def test_periodic_checkpoints_are_signed_and_exported(home: Path) -> None:
    folder = home / "archive" / "checkpoints"
    before = len(list(folder.glob("*.json")))
    with open_archive(home) as archive:
        for i in range(3):  # checkpoint_every = 3 in this home
            place_hold(archive, CASE, kind="dispute", reason="异议", reference=f"R-{i}", by="法务")
        sizes = [size for size, _doc in archive.catalog.checkpoint_documents()]
        size = len(archive.catalog.events())
    assert len(list(folder.glob("*.json"))) == before + 1 and size in sizes


def test_listeners_follow_ingest_hold_release_disposal(home: Path, kit: Kit, tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []
    with open_archive(home, INGESTED_AT) as archive:  # ingested on its closure day: kept until 2040-10-16
        archive.subscribe(lambda ev, root: seen.append((ev.kind, ev.details.get("rel_path"))))
        data = example_case()
        data["case_id"] = "LISTEN-1"
        ingest(archive, load_case(write_case(tmp_path / "c", data)), kit.sealed_for(data), by="甲")
    with open_archive(home, AFTER_END) as archive:
        archive.subscribe(lambda ev, root: seen.append((ev.kind, ev.details.get("rel_path"))))
        place_hold(archive, "LISTEN-1", kind="dispute", reason="r", reference="x", by="甲")
        release_hold(archive, "LISTEN-1", by="丙", reason="委托人书面撤回异议", decision_reference="撤回函-2")
        propose(archive, "LISTEN-1", by="甲")
        approve(archive, "LISTEN-1", by="乙")
        execute(archive, "LISTEN-1", by="乙")
    assert [k for k, _ in seen] == ["ingest", "hold", "release", "disposal_proposed", "disposal_approved",
                                    "disposal_executed"]
    assert seen[0][1] == "2025/LISTEN-1/SA-GC-20250905-017"


@pytest.mark.parametrize("point", ["disposal_after_move", "disposal_after_commit"])
def test_crash_during_disposal_loses_nothing(home: Path, point: str) -> None:
    """Killed after moving a package out but before the commit: fsck puts it back (the catalog still
    says it is kept). Killed after the commit: fsck finishes the removal the catalog records."""
    import os
    import subprocess
    import sys

    with open_archive(home, AFTER_END) as archive:
        propose(archive, CASE, by="甲")
        approve(archive, CASE, by="乙")
    before = _package_files(home)
    env = {**os.environ, "GONGU_ARCHIVE_CRASH_AT": point}
    proc = subprocess.run([sys.executable, "-m", "tests.archive_worker", "dispose", str(home), CASE, AFTER_END, "丙"],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 137, proc.stderr[-2000:]
    code, out = _cli("fsck", "--repair")
    with open_archive(home, AFTER_END) as archive:  # audited at the time of the disposal: no event lies ahead of it
        states = {r["state"] for r in archive.catalog.packages(CASE)}
        result = audit(archive, log_events=False)
    assert result.ok, [c for c in result.checks if not c.ok]
    if point == "disposal_after_move":
        assert states == {"active"} and _package_files(home) == before
    else:
        assert states == {"disposed"}
        assert not list((home / "archive" / "packages" / ".trash").iterdir())
