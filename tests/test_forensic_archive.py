"""Archiving a forensic appraisal (issue 13 §4): the 30-year retention class chosen by kind, the
package's payload (primary document, companions checked against the issuance, recordings, ID copies,
material scans, attachments), the 卷内目录 and 备考表, and fixity of the recordings."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from archive.forensic import plan
from archive.retention import class_for, load_classes, retention_until
from generator.forensic.model import ForensicAppraisalCase
from generator.loading import load_case
from tests.archivekit import tiny_jpeg

ROOT = Path(__file__).resolve().parents[1]
FORENSIC = ROOT / "examples" / "forensic-joint-grade10" / "case.json"
SURVEY = ROOT / "examples" / "slope-collapse" / "case.json"

# Stand-ins with the right magic numbers: the archive keeps bytes, it never decodes audio or video.
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + bytes(64)
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41" + bytes(64)


def example_data() -> dict[str, Any]:
    return json.loads(FORENSIC.read_text(encoding="utf-8"))


def with_files(data: dict[str, Any]) -> dict[str, Any]:
    """The example with the files issue 13 puts in the archive: three recordings (Art 27), the
    insurer attendee's ID copy (Sichuan 四(四)) and a scan of the first material (Art 12)."""
    d = copy.deepcopy(data)
    d["process"]["recordings"] = [
        {"file": "media/检验录音.m4a", "kind": "audio", "made_by": "邓晓梅", "made_at": "2026-05-15T09:40:00",
         "description": "检验过程录音"},
        {"file": "media/检验录像.mp4", "kind": "video", "made_by": "唐志明", "made_at": "2026-05-15T09:45:00",
         "description": "左膝关节活动度测量录像"},
        {"file": "photos/左膝瘢痕.jpg", "kind": "photo", "made_by": "邓晓梅", "made_at": "2026-05-15T09:50:00",
         "description": "左膝前内侧手术瘢痕"},
    ]
    d["attendance"]["attendees"][0]["id_copy_file"] = "id-copies/陈敏-身份证与工作证.pdf"
    d["materials"][0]["file"] = "materials/C1.pdf"
    return d


def scan_pdf(pages: int) -> bytes:
    """A real PDF of `pages` pages, standing in for a scan."""
    from weasyprint import HTML

    body = "".join(f'<p style="page-break-before: always">扫描件 第{i + 1}页</p>' if i else f"<p>扫描件 第{i + 1}页</p>"
                   for i in range(pages))
    return HTML(string=f'<html lang="zh-CN"><body style="font-family: \'Noto Sans CJK SC\'">{body}</body></html>').write_pdf()


def write_forensic_case(folder: Path, data: dict[str, Any]) -> Path:
    """A case folder: the example's folder (its scans), case.json and every further file it names."""
    import shutil

    shutil.copytree(FORENSIC.parent, folder, dirs_exist_ok=True)
    contents = {".m4a": M4A, ".mp4": MP4, ".pdf": scan_pdf(2)}  # the renderer binds ID copies and scans: real PDFs
    names = [r["file"] for r in data["process"]["recordings"]]
    names += [a["id_copy_file"] for a in (data.get("attendance") or {}).get("attendees", []) if a.get("id_copy_file")]
    names += [m["file"] for m in data["materials"] if m.get("file")]
    for i, name in enumerate(names):
        target = folder / name
        if target.exists():
            continue  # a file the example brings
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents.get(target.suffix, tiny_jpeg(i + 3)))
    path = folder / "case.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# ───────────────────────────────────────── retention ─────────────────────────────────────────


def test_forensic_files_are_kept_30_years_from_closure() -> None:
    classes = load_classes()
    case = load_case(FORENSIC).case
    cls = class_for(case, classes)
    assert cls.name == "forensic" and cls.years == 30 and cls.legal_minimum_years == 30
    assert "广东省司法鉴定管理条例" in cls.basis and "第五十一条" in cls.basis
    # closed 2026-06-01T10:00 (Beijing) + 30 years = 2056-06-01
    assert case.delivery.closed_at is not None
    assert retention_until(case.delivery.closed_at, cls) == date(2056, 6, 1)
    # a closure late on 31 Dec UTC is 1 Jan in Beijing: counted from 2027-01-01
    assert retention_until(datetime.fromisoformat("2026-12-31T20:00:00+00:00"), cls) == date(2057, 1, 1)


def test_survey_classes_are_unchanged() -> None:
    classes = load_classes()
    survey = load_case(SURVEY).case
    assert class_for(survey, classes).name == ("statutory" if survey.statutory else "ordinary")
    assert (classes["ordinary"].years, classes["statutory"].years) == (15, 30)
    assert class_for(survey.model_copy(update={"statutory": True}), classes).name == "statutory"
    assert class_for(survey.model_copy(update={"statutory": False}), classes).name == "ordinary"


def test_a_firm_cannot_keep_forensic_files_shorter() -> None:
    from archive.retention import RetentionConfigError

    with pytest.raises(RetentionConfigError, match="30"):
        load_classes({"forensic": {"years": 20}})
    assert load_classes({"forensic": {"years": 50}})["forensic"].years == 50


# ───────────────────────────────────────── the payload plan ─────────────────────────────────────────


def _loaded(folder: Path, data: dict[str, Any]) -> ForensicAppraisalCase:
    case = load_case(write_forensic_case(folder, data)).case
    assert isinstance(case, ForensicAppraisalCase)
    return case


def test_plan_orders_the_volume_and_keeps_recordings_apart(tmp_path: Path) -> None:
    data = with_files(example_data())
    case = _loaded(tmp_path / "case", data)
    pdf = tmp_path / "issued" / "opinion.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.7\n%%EOF\n")
    filed, problems = plan(case, b"{}", tmp_path / "case", pdf, [])
    assert problems == []
    roles = [f.item.role for f in filed]
    # C1 (added here) and C3 (the example's) have scans; the example binds one attachment
    assert roles == ["report", "process_record", "review_record", "material", "material", "id_copy", "attachment",
                     "case_file", "audio", "video", "photo"]
    rels = [f.item.rel for f in filed]
    assert rels[0] == "report/opinion.pdf"
    assert rels[3:5] == ["materials/C1.pdf", "materials/accident-report.pdf"]
    assert rels[5].startswith("id-copies/") and rels[6] == "attachments/discharge-record.pdf"
    assert rels[8].startswith("media/") and rels[9].startswith("media/") and rels[10].startswith("photos/")
    by_role = {f.item.role: f for f in filed}
    assert by_role["audio"].responsible == "邓晓梅" and by_role["audio"].on == date(2026, 5, 15)
    assert filed[3].responsible == data["materials"][0]["provided_by"] and filed[3].on == date(2026, 5, 8)
    assert by_role["id_copy"].responsible == "中国人民财产保险股份有限公司成都市分公司"
    assert by_role["report"].title.startswith("司法鉴定意见书")


@pytest.mark.parametrize("reference", ["../outside.m4a", "/etc/passwd", "https://example.com/a.mp4"])
def test_a_recording_outside_the_case_folder_is_refused(tmp_path: Path, reference: str) -> None:
    data = with_files(example_data())
    case = _loaded(tmp_path / "case", data)
    (tmp_path / "outside.m4a").write_bytes(M4A)
    case.process.recordings[0].file = reference
    filed, problems = plan(case, b"{}", tmp_path / "case", tmp_path / "case" / "case.json", [])
    assert len(problems) == 1 and "音像资料 1（检验过程录音）" in problems[0]


def test_a_missing_id_copy_is_refused(tmp_path: Path) -> None:
    data = with_files(example_data())
    case = _loaded(tmp_path / "case", data)
    (tmp_path / "case" / data["attendance"]["attendees"][0]["id_copy_file"]).unlink()
    _filed, problems = plan(case, b"{}", tmp_path / "case", tmp_path / "case" / "case.json", [])
    assert problems == ["到场人员 陈敏 的证件复印件 的文件不存在：id-copies/陈敏-身份证与工作证.pdf（档案应完整）"]


def _issued(tmp_path: Path, case: ForensicAppraisalCase) -> tuple[ForensicAppraisalCase, Path]:
    """The primary PDF and DOCX in an issued folder, recorded with their SHA-256 as `gongu issue` does."""
    from generator.model import Issuance

    folder = tmp_path / "issued"
    folder.mkdir()
    pdf, docx = folder / "opinion.pdf", folder / "opinion.docx"
    pdf.write_bytes(b"%PDF-1.7\n% the opinion\n%%EOF\n")
    docx.write_bytes(b"PK\x03\x04 the opinion as docx")
    issuance = Issuance(number=case.report.number, issued_at=datetime.fromisoformat("2026-05-29T10:00:00+08:00"),
                        pdf_file=pdf.name, pdf_sha256=hashlib.sha256(pdf.read_bytes()).hexdigest(),
                        docx_file=docx.name, docx_sha256=hashlib.sha256(docx.read_bytes()).hexdigest(), sealed=True)
    return case.model_copy(update={"issuances": [issuance]}), pdf


def test_the_issued_docx_comes_along_and_is_checked_against_the_issuance(tmp_path: Path) -> None:
    case, pdf = _issued(tmp_path, _loaded(tmp_path / "case", example_data()))
    filed, problems = plan(case, b"{}", tmp_path / "case", pdf, [])
    assert problems == []
    assert [(f.item.role, f.item.rel) for f in filed[:2]] == [("report", "report/opinion.pdf"),
                                                               ("report_docx", "report/opinion.docx")]
    (pdf.parent / "opinion.docx").write_bytes(b"PK\x03\x04 edited after issue")
    _filed, problems = plan(case, b"{}", tmp_path / "case", pdf, [])
    assert len(problems) == 1 and "opinion.docx" in problems[0] and "出具记录" in problems[0]


def test_a_primary_pdf_other_than_the_issued_one_is_refused(tmp_path: Path) -> None:
    case, pdf = _issued(tmp_path, _loaded(tmp_path / "case", example_data()))
    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.7\n% another file\n%%EOF\n")
    _filed, problems = plan(case, b"{}", tmp_path / "case", other, [])
    assert any("SHA-256 与出具记录" in p and "other.pdf" in p for p in problems)


# ─────────────────────── a real ingest: example (a) issued, sealed and archived ───────────────────────
# Example (a) with three recordings, the insurer attendee's ID copy and a two-page scan of material C1,
# issued by the real pipeline (every document rendered, sealed with a demo PKI and a loopback TSA), then
# archived by 档案员甲 into a home whose archive verifies the primary document against the demo root.

INSTITUTION = "四川蜀正司法鉴定中心"  # example (a)'s institution.name
APPRAISERS = [("唐志明", "510106012001"), ("邓晓梅", "510109013007")]
PASSPHRASE = "gongu-demo"


@dataclass
class Archived:
    home: Path
    case_file: Path
    primary: Path
    result: Any  # archive.ingest.IngestResult
    package: Any  # archive.package_format.ArchivedPackage


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archived]:
    import generator.model
    from archive.ingest import ingest
    from archive.package_format import open_package
    from generator.clock import FixedClock
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings
    from signing.keys import make_demo_pki
    from signing.seal import SigningConfig
    from signing.tsa import LocalTsa
    from tests.archivekit import open_archive
    from tests.sealkit import forensic_signing_home

    if not hasattr(generator.model, "IssuedDocument"):  # forensic issuing (branch f-seal) not merged yet
        pytest.skip("forensic issuing (Issuance.documents) is not on this branch yet")
    base = tmp_path_factory.mktemp("forensic-archive")
    tsa = LocalTsa(base / "keys").start()
    try:
        pki = make_demo_pki(base / "keys", INSTITUTION, APPRAISERS, crl_url=tsa.crl_url,
                            seal_purposes={INSTITUTION: "司法鉴定专用章"})
        config = SigningConfig(firm_p12=pki.firm_p12, handlers=dict(pki.handler_p12), tsa_url=tsa.url,
                               trust_roots=(pki.root_pem,), crls=(pki.crl,))
        home = forensic_signing_home(base / "home", pki)
        data = with_files(example_data())
        case_file = write_forensic_case(base / "case", data)
        settings = load_settings(home)
        # Sealed on the 意见书's own date, 29 May 2026 (another day is refused, 通则 Art 37).
        issued = issue_case(case_file, signer=ConfiguredSigner(config, lambda *_: PASSPHRASE.encode()),
                            settings=settings, out_dir=home / "issued" / data["case_id"],
                            clock=FixedClock(datetime(2026, 5, 29, 16, 0)))
        primary = issued.files["pdf"]
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", PASSPHRASE)
            with open_archive(home) as archive:
                result = ingest(archive, load_case(case_file), primary, by="档案员甲")
                assert archive.listener_failures == []
        yield Archived(home, case_file, primary, result, open_package(result.path))
    finally:
        tsa.stop()


def _issuance(archived: Archived) -> Any:
    case = load_case(archived.case_file).case
    return case.issuances[-1]


def test_the_package_holds_every_file_with_its_hash(archived: Archived) -> None:
    import bagit

    from archive.package_format import manifest_sha256

    pkg = archived.package
    assert pkg.format == "gongu-archive-package/2"
    issuance = _issuance(archived)
    companions = [d for d in issuance.documents if d.pdf_file]
    assert companions, "issuing example (a) publishes the companion documents beside the opinion"
    roles = Counter(f.role for f in pkg.files)
    assert roles == Counter({"report": 1, "report_docx": 1, "document": len(companions),
                             "document_docx": sum(1 for d in issuance.documents if d.docx_file),
                             "process_record": 1, "review_record": 1, "material": 2, "id_copy": 1, "attachment": 1,
                             "case_file": 1, "audio": 1, "video": 1, "photo": 1})
    manifest = manifest_sha256(pkg.path)
    for f in pkg.files:
        on_disk = hashlib.sha256((pkg.path / f.path).read_bytes()).hexdigest()
        assert on_disk == f.sha256 == manifest[f.path], f.path
    assert set(manifest) == {f.path for f in pkg.files}
    # the issued documents are the very files the issuance recorded
    issued = {issuance.pdf_sha256, issuance.docx_sha256} | {d.pdf_sha256 for d in companions} \
        | {d.docx_sha256 for d in issuance.documents if d.docx_file}
    packed = {f.sha256 for f in pkg.files if f.role in ("report", "report_docx", "document", "document_docx")}
    assert packed == issued
    # the recordings and the ID copy are the case folder's bytes
    folder = archived.case_file.parent
    for f in pkg.files:
        if f.role in ("audio", "video", "photo", "id_copy", "material", "attachment"):
            assert any(hashlib.sha256(p.read_bytes()).hexdigest() == f.sha256 for p in folder.rglob("*") if p.is_file())
    bagit.Bag(str(pkg.path)).validate()
    meta = pkg.metadata
    assert meta["kind"] == "forensic_appraisal" and meta["parties"]["firm"] == INSTITUTION
    # 30 years from the latest of closure (2026-06-01), the TSA's time on the sealed 意见书 and the ingest
    # (both today: the loopback TSA tells real time) — never from the closure alone
    start = date.fromisoformat(meta["retention"]["facts"]["ingest"])
    assert meta["retention"]["facts"]["closure"] == "2026-06-01" and meta["retention"]["facts"]["issuance"]
    assert meta["retention"]["class"] == "forensic" and meta["retention"]["start"] == start.isoformat()
    assert meta["retention"]["until"] == start.replace(year=start.year + 30).isoformat()
    assert meta["forensic"]["results"][0] == "十级伤残"
    assert [a["name"] for a in meta["forensic"]["appraisers"]] == ["唐志明", "邓晓梅"]
    by_path = {f["path"]: f for f in meta["files"]}
    assert by_path[next(f.path for f in pkg.files if f.role == "audio")]["title"] == "录音：检验过程录音"


def test_the_package_records_the_time_limits_and_the_calendar_they_were_counted_on(archived: Archived) -> None:
    from generator.forensic.holiday_calendar import WorkCalendar, YearCalendar
    from generator.forensic.workdays import Span, add_working_days

    limits = archived.package.metadata["forensic"]["time_limits"]
    # example (a): agreed 20 working days from Mon 11 May 2026 → Mon 8 Jun (tests/test_forensic_workdays.py)
    assert limits["completion"]["deadline"] == "2026-06-08" and limits["completion"]["deadline_estimated"] is False
    (year,) = limits["calendar"]["years"]
    shipped = ROOT / "forms" / "calendar" / "2026.toml"
    assert (year["year"], year["origin"], year["file"]) == (2026, "official", "2026.toml")
    assert year["sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    # counted again from the package alone: the recorded days are enough to reach the same deadline
    recorded = YearCalendar(year=2026, origin="official", source=year["source"],
                            holidays=frozenset(date.fromisoformat(d) for d in year["holidays"]),
                            workdays=frozenset(date.fromisoformat(d) for d in year["workdays"]))
    again = add_working_days(date.fromisoformat(limits["completion"]["effective_on"]),
                             limits["completion"]["total_working_days"],
                             [Span(date.fromisoformat(s["start"]), date.fromisoformat(s["end"]))
                              for s in limits["completion"]["suspensions"]],
                             calendar=WorkCalendar(official={2026: recorded}))
    assert again.isoformat() == limits["completion"]["deadline"]
    assert "鉴定时限截止日：2026-06-08" in (archived.package.path / "README.txt").read_text(encoding="utf-8")


def test_the_catalog_keeps_it_30_years(archived: Archived) -> None:
    from tests.archivekit import open_archive

    with open_archive(archived.home) as archive:
        row = archive.catalog.package("SJ-2026-0318", "蜀正司鉴〔2026〕临鉴字第0318号")
    assert row is not None
    # 30 years from the day it was archived (later than its closure on 2026-06-01)
    start = date.fromisoformat(archived.package.metadata["retention"]["start"])
    assert start > date(2026, 6, 1)
    assert (row["retention_class"], row["retention_until"], row["kind"]) == (
        "forensic", start.replace(year=start.year + 30).isoformat(), "forensic_appraisal")


def test_file_index_lists_the_volume_in_order(archived: Archived) -> None:
    pkg = archived.package
    index = pkg.tag_json("file-index.json")
    assert index is not None and index["schema"] == "gongu-file-index/1"
    rows = index["entries"]
    assert [r["number"] for r in rows] == list(range(1, len(pkg.files) + 1))
    assert [r["path"] for r in rows] == [f.path for f in pkg.files]  # metadata keeps the same order
    assert rows[0]["role"] == "report" and rows[0]["title"].startswith("司法鉴定意见书")
    assert rows[0]["responsible"] == INSTITUTION
    assert [r["role"] for r in rows[-3:]] == ["audio", "video", "photo"]
    assert [r["kept_apart"] for r in rows] == [False] * (len(rows) - 3) + [True] * 3
    scan = next(r for r in rows if r["role"] == "material")  # C1, the two-page scan write_forensic_case made
    assert scan["path"] == "data/materials/C1.pdf" and scan["pages"] == 2 and scan["responsible"] == "何建平" and scan["date"] == "2026-05-08"
    id_copy = next(r for r in rows if r["role"] == "id_copy")
    assert id_copy["responsible"] == "中国人民财产保险股份有限公司成都市分公司" and id_copy["date"] == "2026-05-15"
    audio = next(r for r in rows if r["role"] == "audio")
    assert (audio["responsible"], audio["date"], audio["pages"]) == ("邓晓梅", "2026-05-15", None)
    assert audio["size"] == len(M4A)
    text = (pkg.path / "file-index.txt").read_text(encoding="utf-8")
    assert text.startswith("卷内目录") and "【音像资料（另行保存）】" in text and "2 页" in text


def test_filing_note_counts_and_explains(archived: Archived) -> None:
    pkg = archived.package
    note = pkg.tag_json("filing-note.json")
    assert note is not None and note["schema"] == "gongu-filing-note/1"
    n = len(pkg.files)
    assert note["filed_by"] == "档案员甲"
    counts = note["counts"]
    assert counts["files"] == n and counts["documents"] == n - 3
    assert counts["recordings"] == {"audio": 1, "video": 1, "photo": 1}
    assert (counts["id_copies"], counts["materials"], counts["attachments"]) == (1, 2, 1)
    notes = "\n".join(note["notes"])
    assert f"卷内目录第 {n - 2}、{n - 1}、{n} 号" in notes  # the recordings, kept apart
    for material in ("C2", "C4"):  # example (a)'s materials without a scan
        assert f"鉴定材料 {material}" in notes
    assert "鉴定材料 C1" not in notes and "鉴定材料 C3" not in notes
    text = (pkg.path / "filing-note.txt").read_text(encoding="utf-8")
    assert text.startswith("备考表") and "立卷人：档案员甲" in text and f"本卷共有文件 {n} 件" in text
    # the 卷内目录 and 备考表 are tag files: covered by the tag manifest, not by the payload manifest
    tags = (pkg.path / "tagmanifest-sha256.txt").read_text(encoding="utf-8")
    assert all(name in tags for name in ("file-index.json", "file-index.txt", "filing-note.json", "filing-note.txt"))


def test_ingesting_the_same_content_again_is_a_no_op(archived: Archived, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the command line, whose --report defaults to the PDF the issuance recorded."""
    from typer.testing import CliRunner

    from gongu.cli.app import app
    from tests.archivekit import copied_home

    home = copied_home(archived.home, tmp_path, monkeypatch)
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", PASSPHRASE)
    result = CliRunner().invoke(app, ["archive", "ingest", str(archived.case_file), "--by", "档案员甲"],
                                env={"GONGU_HOME": str(home), "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "已在档案中" in result.output


def test_a_companion_changed_after_issue_is_refused(archived: Archived, tmp_path: Path) -> None:
    import shutil

    from archive.ingest import IngestRefused, plan_forensic

    issued = tmp_path / "issued"
    shutil.copytree(archived.primary.parent, issued)
    companion = next(d for d in _issuance(archived).documents if d.pdf_file)
    with (issued / companion.pdf_file).open("ab") as fh:
        fh.write(b"\n% appended after issue\n")
    with pytest.raises(IngestRefused) as refused:
        plan_forensic(load_case(archived.case_file), issued / archived.primary.name, [])
    assert len(refused.value.reasons) == 1
    assert companion.title in refused.value.reasons[0] and "SHA-256 与出具记录" in refused.value.reasons[0]


def test_a_recording_changed_after_ingest_fails_the_fixity_audit(archived: Archived, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.audit import audit
    from tests.archivekit import copied_home, open_archive

    home = copied_home(archived.home, tmp_path, monkeypatch)
    rel = archived.package.path.relative_to(archived.home)
    recording = next(f for f in archived.package.files if f.role == "video")
    target = home / rel / recording.path
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01  # one bit of the video
    target.write_bytes(bytes(data))
    with open_archive(home) as archive:
        verdict = audit(archive)
    failed = [c for c in verdict.checks if not c.ok and c.level == "error"]
    fixity = [c for c in failed if c.name.startswith("固定性")]
    assert len(fixity) == 1 and recording.path in fixity[0].detail
    assert not verdict.ok


def test_search_finds_the_archived_appraisal(archived: Archived) -> None:
    from gongu.pipeline.indexing import open_index
    from gongu.settings import load_settings
    from index.query import parse_query

    backend = open_index(load_settings(archived.home))
    rel = str(archived.package.path.relative_to(archived.home / "archive" / "packages"))
    for query in ("类型:司法鉴定 十级伤残", "鉴定人:邓晓梅", "当事人:何建平", "鉴定文书编号:临鉴字第0318号"):
        hits = backend.search(parse_query(query)).hits
        assert [h.doc_id for h in hits] == [rel], query
    assert backend.search(parse_query("类型:公估")).total == 0
