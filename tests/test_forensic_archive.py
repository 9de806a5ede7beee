"""Archiving a forensic appraisal (issue 13 §4): the 30-year retention class chosen by kind, the
package's payload (primary document, companions checked against the issuance, recordings, ID copies,
material scans, attachments), the 卷内目录 and 备考表, and fixity of the recordings."""

from __future__ import annotations

import copy
import json
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
    d["attendance"]["attendees"][0]["id_copy_file"] = "id-copies/陈敏-身份证与工作证.jpg"
    d["materials"][0]["file"] = "materials/C1.pdf"
    return d


def write_forensic_case(folder: Path, data: dict[str, Any]) -> Path:
    """A case folder: case.json and every file it names."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {".m4a": M4A, ".mp4": MP4, ".pdf": b"%PDF-1.7\n% material scan\n%%EOF\n"}
    names = [r["file"] for r in data["process"]["recordings"]]
    names += [a["id_copy_file"] for a in (data.get("attendance") or {}).get("attendees", []) if a.get("id_copy_file")]
    names += [m["file"] for m in data["materials"] if m.get("file")]
    for i, name in enumerate(names):
        target = folder / name
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
    assert roles == ["report", "process_record", "review_record", "material", "id_copy", "case_file",
                     "audio", "video", "photo"]
    rels = [f.item.rel for f in filed]
    assert rels[0] == "report/opinion.pdf"
    assert rels[3].startswith("materials/") and rels[4].startswith("id-copies/")
    assert rels[6].startswith("media/") and rels[7].startswith("media/") and rels[8].startswith("photos/")
    by_role = {f.item.role: f for f in filed}
    assert by_role["audio"].responsible == "邓晓梅" and by_role["audio"].on == date(2026, 5, 15)
    assert by_role["material"].responsible == data["materials"][0]["provided_by"]
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
    assert problems == ["到场人员 陈敏 的证件复印件 的文件不存在：id-copies/陈敏-身份证与工作证.jpg（档案应完整）"]


def _issued(tmp_path: Path, case: ForensicAppraisalCase) -> tuple[ForensicAppraisalCase, Path]:
    """The primary PDF and DOCX in an issued folder, recorded with their SHA-256 as `gongu issue` does."""
    import hashlib

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
