"""The draw in the archive (issue 14 §2): the record JSON in the package with its hash and in the 卷内目录,
the 随机选择鉴定机构记录 issued and packed with the other documents, and the "draw" event of the
tamper-evident log — appended by `gongu draw log` at the time of the draw, or on ingest in the ingest's
transaction, once per record hash.

The case is examples/forensic-reappraisal, really issued (sealed with pyHanko, a local TSA) and really
ingested into a SQLite catalog in a fresh GONGU_HOME per scenario.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "forensic-reappraisal"
INSTITUTION = "绵阳涪城正衡司法鉴定中心"
APPRAISERS = [("陈国栋", "510703011004"), ("林雪", "510703016021")]
INSURER = "中国人民财产保险股份有限公司成都市分公司"
# The sides of the draw (selection.agreed_by) sign its record (Sichuan 二(三)); parties hold no licence.
PARTIES = [("何建平", None), (INSURER, None)]
PASSPHRASE = "gongu-demo"
RECORD_SHA = hashlib.sha256((EXAMPLE / "draw-record.json").read_bytes()).hexdigest()


@dataclass
class Issued:
    base: Path
    toml: str
    case_file: Path
    primary: Path


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    from datetime import datetime

    from generator.clock import FixedClock
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings
    from signing.keys import make_demo_pki
    from signing.seal import SigningConfig
    from signing.tsa import LocalTsa

    base = tmp_path_factory.mktemp("draw-archive")
    tsa = LocalTsa(base / "keys").start()
    try:
        pki = make_demo_pki(base / "keys", INSTITUTION, APPRAISERS + PARTIES, crl_url=tsa.crl_url,
                            seal_purposes={INSTITUTION: "司法鉴定专用章"})
        config = SigningConfig(firm_p12=pki.firm_p12, handlers=dict(pki.handler_p12), tsa_url=tsa.url,
                               trust_roots=(pki.root_pem,), crls=(pki.crl,))
        handlers = "\n".join(f'"{name}" = "{path}"' for name, path in pki.handler_p12.items())
        toml = (f'[signing]\nfirm_p12 = "{pki.firm_p12}"\ntrust_roots = ["{pki.root_pem}"]\ncrls = ["{pki.crl}"]\n'
                f"[signing.handlers]\n{handlers}\n" '[people]\nnames = ["蒲晓燕", "郑德华", "黄立新", "档案员甲"]\n')
        home = base / "issuer-home"
        home.mkdir()
        (home / "gongu.toml").write_text(toml, encoding="utf-8")
        case_dir = base / "case"
        shutil.copytree(EXAMPLE, case_dir)
        # Sealed on the example's 意见书 date, 9 July 2026 (another day is refused, 通则 Art 37).
        result = issue_case(case_dir / "case.json", signer=ConfiguredSigner(config, lambda *_: PASSPHRASE.encode()),
                            settings=load_settings(home), out_dir=base / "issued",
                            clock=FixedClock(datetime(2026, 7, 9, 16, 0)))
        yield Issued(base, toml, case_dir / "case.json", result.files["pdf"])
    finally:
        tsa.stop()


def fresh_home(issued: Issued, name: str) -> Path:
    home = issued.base / name
    home.mkdir()
    (home / "gongu.toml").write_text(issued.toml, encoding="utf-8")
    return home


def draw_events(home: Path) -> list:
    from tests.archivekit import open_archive

    with open_archive(home) as archive:
        return [e for e in archive.catalog.events() if e.kind == "draw"]


def ingest_into(home: Path, issued: Issued, monkeypatch: pytest.MonkeyPatch):  # -> IngestResult
    from archive.ingest import ingest
    from generator.loading import load_case
    from tests.archivekit import open_archive

    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", PASSPHRASE)
    with open_archive(home) as archive:
        return ingest(archive, load_case(issued.case_file), issued.primary, by="档案员甲")


def test_the_draw_document_is_issued_signed_by_both_sides_and_sealed(issued: Issued) -> None:
    from generator.loading import load_case
    from signing.completeness import CompletenessPolicy
    from signing.verify import verify_issued_report

    case = load_case(issued.case_file).case
    doc = next(d for d in case.issuances[-1].documents if d.key == "draw")
    assert doc.title == "随机选择鉴定机构记录" and doc.pdf_file
    pdf = issued.primary.parent / doc.pdf_file
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == doc.pdf_sha256
    root = issued.base / "keys" / "trust"
    report, completeness = verify_issued_report(pdf, [root / "root.pem"], crls=[root / "root.crl"],
                                                policy=CompletenessPolicy(require_timestamp=True))
    assert report.ok, report.all_problems()
    # Sichuan 二(三): not the chosen institution's word alone — each side that took part signs
    assert [s.field for s in report.signatures] == ["institution-seal", "party-1", "party-2"]
    assert report.signatures[1].signer == "何建平 (DEMO)" and report.signatures[2].signer.startswith("中国人民财产保险")
    assert completeness.complete and completeness.role == "draw" and completeness.handlers == ("何建平", INSURER)


def test_ingest_packs_the_record_and_logs_the_draw_in_the_same_transaction(
        issued: Issued, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.eventlog import verify_log
    from archive.package_format import open_package
    from tests.archivekit import open_archive

    home = fresh_home(issued, "home-ingest")
    monkeypatch.setenv("GONGU_HOME", str(home))
    result = ingest_into(home, issued, monkeypatch)
    pkg = open_package(result.path)
    records = [f for f in pkg.files if f.role == "draw_record"]
    assert len(records) == 1 and records[0].path == "data/process/draw-record.json"
    assert records[0].sha256 == RECORD_SHA
    drawn = [f for f in pkg.files if f.role == "document" and "draw" in f.path]
    assert len(drawn) == 1  # the sealed 随机选择鉴定机构记录 among the issued documents
    index = pkg.tag_json("file-index.json")
    row = next(r for r in index["entries"] if r["role"] == "draw_record")
    assert row["sha256"] == RECORD_SHA and row["date"] == "2026-06-17" and row["title"].startswith("随机抽取鉴定机构记录")
    assert "随机抽取鉴定机构记录" in (pkg.path / "file-index.txt").read_text(encoding="utf-8")

    with open_archive(home) as archive:
        events = archive.catalog.events("CX-2026-0617")
        assert [e.kind for e in events] == ["ingest", "draw"]
        ingest_ev, draw_ev = events
        assert draw_ev.seq == ingest_ev.seq + 1  # appended right after the ingest event, in its transaction
        assert draw_ev.report_number == "涪正司鉴〔2026〕临鉴字第0617号" and draw_ev.actor == "档案员甲"
        record = json.loads((EXAMPLE / "draw-record.json").read_text(encoding="utf-8"))
        assert draw_ev.details["record_sha256"] == RECORD_SHA
        assert draw_ev.details["seed"] == record["seed"] and draw_ev.details["chosen_licence"] == "510703015"
        assert draw_ev.details["via"] == "ingest"
        assert verify_log(archive.catalog).problems == []
    # ingesting the same content again adds nothing, neither package nor draw event
    again = ingest_into(home, issued, monkeypatch)
    assert again.created is False
    assert len(draw_events(home)) == 1


def test_draw_log_before_archiving_then_ingest_logs_once(issued: Issued, monkeypatch: pytest.MonkeyPatch) -> None:
    from gongu.cli.app import app

    home = fresh_home(issued, "home-log")
    monkeypatch.setenv("GONGU_HOME", str(home))
    runner = CliRunner()
    first = runner.invoke(app, ["draw", "log", str(EXAMPLE / "draw-record.json"), "--by", "蒲晓燕"])
    assert first.exit_code == 0, first.output
    assert RECORD_SHA in first.output and "510703015" in first.output
    second = runner.invoke(app, ["draw", "log", str(EXAMPLE / "draw-record.json"), "--by", "蒲晓燕"])
    assert second.exit_code == 0 and "已登记过" in second.output
    logged = draw_events(home)
    assert len(logged) == 1 and logged[0].seq == 0 and logged[0].case_id == "CX-2026-0617"
    assert logged[0].details["via"] == "gongu draw log" and logged[0].report_number is None
    ingest_into(home, issued, monkeypatch)
    assert [e.seq for e in draw_events(home)] == [0]  # the ingest found the same record hash logged


def test_draw_log_refuses_a_record_that_does_not_recompute(issued: Issued, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from gongu.cli.app import app

    home = fresh_home(issued, "home-refuse")
    monkeypatch.setenv("GONGU_HOME", str(home))
    record = json.loads((EXAMPLE / "draw-record.json").read_text(encoding="utf-8"))
    record["order"].reverse()
    record["chosen"] = record["order"][0]
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["draw", "log", str(bad), "--by", "蒲晓燕"])
    assert result.exit_code == 2 and "不能登记" in result.output and "Traceback" not in result.output
    assert draw_events(home) == []
    not_a_record = tmp_path / "x.json"
    not_a_record.write_text("{}", encoding="utf-8")
    assert CliRunner().invoke(app, ["draw", "log", str(not_a_record), "--by", "蒲晓燕"]).exit_code == 2


# ───────────────────────────── one draw per case in the log ─────────────────────────────────────


def _variant(tmp_path: Path, name: str, **changes: object) -> Path:
    """The example record with other fields (not the draw's inputs: it still re-computes) and its digest
    recomputed: a second, different record of the same case."""
    from generator.forensic import draw

    record = json.loads((EXAMPLE / "draw-record.json").read_text(encoding="utf-8"))
    record.update(changes)
    record[draw.DIGEST_KEY] = draw.record_digest(record)
    assert draw.verify_record(record) == []
    path = tmp_path / name
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def _draw_checks(home: Path) -> dict[str, tuple[bool, str, str]]:
    from archive.audit import audit
    from tests.archivekit import open_archive

    with open_archive(home) as archive:
        result = audit(archive, log_events=False)
    return {c.name: (c.ok, c.detail, c.level) for c in result.checks if "抽取" in c.name}


def test_draw_log_refuses_a_second_record_unless_a_redraw_names_the_first(
        issued: Issued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gongu.cli.app import app

    home = fresh_home(issued, "home-second")
    monkeypatch.setenv("GONGU_HOME", str(home))
    runner = CliRunner()
    assert runner.invoke(app, ["draw", "log", str(EXAMPLE / "draw-record.json"), "--by", "蒲晓燕"]).exit_code == 0
    substitute = _variant(tmp_path, "substitute.json", case_name="何建平伤残等级重新鉴定（替换）")
    refused = runner.invoke(app, ["draw", "log", str(substitute), "--by", "蒲晓燕"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "已登记过另一份抽取记录" in refused.output.replace("\n", "") and RECORD_SHA in refused.output.replace("\n", "")
    # a re-draw that names a record which is not the one logged is refused too
    wrong = _variant(tmp_path, "wrong.json", redraw={"replaces": "0" * 64, "reason": "首次抽取选中的机构回避"})
    assert runner.invoke(app, ["draw", "log", str(wrong), "--by", "蒲晓燕"]).exit_code == 2
    assert len(draw_events(home)) == 1
    redraw = _variant(tmp_path, "redraw.json", redraw={"replaces": RECORD_SHA, "reason": "首次抽取选中的机构回避"})
    accepted = runner.invoke(app, ["draw", "log", str(redraw), "--by", "蒲晓燕"])
    assert accepted.exit_code == 0, accepted.output
    logged = draw_events(home)
    assert [e.details["replaces"] for e in logged] == [None, RECORD_SHA]
    assert logged[1].details["record_digest"] == json.loads(redraw.read_text(encoding="utf-8"))["record_digest"]
    checks = _draw_checks(home)
    assert checks["每个案件只有一份抽取记录（或依次取代的重新抽取）"][0] is True
    ok, detail, level = checks["重新抽取的案件"]
    assert not ok and level == "warning" and "CX-2026-0617：2 份抽取记录" in detail


def test_draw_log_refuses_a_new_record_for_an_archived_case_and_audit_lists_a_second_one(
        issued: Issued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.draw_log import append_draw
    from gongu.cli.app import app
    from tests.archivekit import open_archive

    home = fresh_home(issued, "home-archived")
    monkeypatch.setenv("GONGU_HOME", str(home))
    ingest_into(home, issued, monkeypatch)
    redraw = _variant(tmp_path, "late.json", redraw={"replaces": RECORD_SHA, "reason": "归档后补抽"})
    refused = CliRunner().invoke(app, ["draw", "log", str(redraw), "--by", "蒲晓燕"])
    assert refused.exit_code == 2 and "已归档" in refused.output
    assert len(draw_events(home)) == 1
    # A second record that reached the log another way (a package bringing its own): audit names the case.
    substitute = _variant(tmp_path, "substitute.json", case_name="替换")
    with open_archive(home) as archive:
        raw = substitute.read_bytes()
        with archive.catalog.write():
            event = append_draw(archive, json.loads(raw), raw, by="档案员甲", via="ingest")
        archive.committed([event])
    ok, detail, level = _draw_checks(home)["每个案件只有一份抽取记录（或依次取代的重新抽取）"]
    assert not ok and level == "error" and "CX-2026-0617：2 份抽取记录" in detail
