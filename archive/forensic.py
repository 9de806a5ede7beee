"""What a forensic appraisal case (涉保司法鉴定, kind `forensic_appraisal`) puts into its archive
package, format `gongu-archive-package/2` (docs/package-format.md, section 10).

The package carries the primary sealed document (the 司法鉴定意见书, or the 终止鉴定告知书 of a
terminated case) and its DOCX, the companion documents of the latest issuance (each checked against
the SHA-256 the case file recorded when it was issued), the process recordings (通则 Art 27, Sichuan
三(二)), the attendance ID copies (Sichuan 四(四)), the material scans (通则 Art 12) and attachments,
plus a file index (卷内目录) and a 备考表 as tag files. Files the case names are read relative to the
case folder, issued documents relative to the folder of the primary PDF, never outside either
(generator/case_paths.py through archive/names.py). What the package says about itself (metadata.json,
README.txt, the search record) is archive/forensic_metadata.py."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archive import metadata as md
from archive import package
from archive.forensic_metadata import FILE_INDEX_JSON, FILE_INDEX_TXT, FILING_NOTE_JSON, FILING_NOTE_TXT, primary_title
from archive.names import UnsafePathError, named_case_file, relative_inside, safe_component
from archive.package_format import ArchivedPackage
from generator.forensic.model import (
    RECORDING_KIND_TITLES,
    TERMINATION_GROUND_TITLES,
    DisputeStepKind,
    ForensicAppraisalCase,
)
from generator.model import Issuance
from generator.types import beijing_date

FILE_INDEX_SCHEMA = "gongu-file-index/1"
FILING_NOTE_SCHEMA = "gongu-filing-note/1"
RECORDING_ROLES = {"photo": "photo", "audio": "audio", "video": "video"}
# Audio, video and photos are kept apart from the documents and cross-referenced to the case
# (Hainan 2022 filing rules, forensic-rules.md "Archives and retention").
KEPT_APART_ROLES = ("audio", "video", "photo")


@dataclass(frozen=True)
class Filed:
    """One payload file as the 卷内目录 lists it: what it is, who is responsible for it, its date."""

    item: package.PayloadFile
    title: str
    responsible: str
    on: date | None
    key: str | None = None  # an issued document's key (generator.forensic.documents), e.g. dispute-1-step-1


def _date(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    return beijing_date(value) if isinstance(value, datetime) else value


def _field(obj: Any, name: str) -> Any:
    """A field of an issuance's document record (a model, or a plain dict in a case file read as data)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def latest_issuance(case: ForensicAppraisalCase) -> Issuance | None:
    """The issuance of the report being archived: the last one recorded under its number that issued the
    primary document (an issuance of `gongu issue --additional` carries only later documents)."""
    mine = [i for i in case.issuances if i.number == case.report.number]
    primary = [i for i in mine if i.pdf_file]
    return primary[-1] if primary else (mine[-1] if mine else None)


def report_issuances(case: ForensicAppraisalCase) -> list[Issuance]:
    """Every issuance of the report's number, in order: the first issue, then each additional one
    (补充意见书, dispute records …): the package holds the documents of all of them."""
    return [i for i in case.issuances if i.number == case.report.number]


# ─────────────────────────────────────────── payload ───────────────────────────────────────────


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


class _Names:
    """Unique, cleaned file names per folder of the package."""

    def __init__(self) -> None:
        self.taken: dict[str, set[str]] = {}

    def rel(self, folder: str, name: str) -> str:
        taken = self.taken.setdefault(folder, set())
        candidate, n = safe_component(name), 1
        stem, dot, ext = candidate.rpartition(".")
        first = candidate
        while candidate in taken:
            n += 1
            candidate = f"{stem}-{n}.{ext}" if dot else f"{first}-{n}"
        taken.add(candidate)
        return f"{folder}/{candidate}"


_STEP_KEY = re.compile(r"^dispute-(\d+)-step-(\d+)$")


def issuer_of(case: ForensicAppraisalCase, key: str | None) -> str:
    """Who issued the document of `key` (its 责任者 in the 卷内目录): the institution, except a mediation
    committee's 调解记录 (Sichuan 五(一)), issued under the committee's name (generator.forensic.documents)."""
    match = _STEP_KEY.match(key or "")
    if match:
        i, j = int(match[1]) - 1, int(match[2]) - 1
        steps = case.disputes[i].steps if i < len(case.disputes) else []
        if j < len(steps) and steps[j].kind is DisputeStepKind.mediation:
            return steps[j].by
    return case.organization_name


def issued_files(case: ForensicAppraisalCase, report_pdf: Path, names: _Names) -> tuple[list[Filed], list[str]]:
    """The primary sealed PDF, its DOCX and the companion documents of its issuance and of every later
    additional issuance under the same number, each
    checked against the SHA-256 recorded in the case file when it was issued. Returns the files and
    every problem (a missing file or a hash that differs refuses the ingest)."""
    problems: list[str] = []
    issuance = latest_issuance(case)
    org = case.organization_name
    title = primary_title(case)
    on = _date(issuance.issued_at) if issuance is not None else case.report.issued_on
    filed = [Filed(package.PayloadFile(names.rel("report", report_pdf.name), "report", source=report_pdf),
                   f"{title}（{case.report.number}）", org, on)]
    if issuance is None:
        return filed, problems
    if issuance.pdf_sha256 and _sha256(report_pdf) != issuance.pdf_sha256:
        problems.append(f"{title} PDF {report_pdf.name} 的 SHA-256 与出具记录（$.issuances，{issuance.number}）不符："
                        "不是出具时的文件")
    folder = report_pdf.parent

    def issued(name: str | None, digest: str | None, what: str) -> Path | None:
        if not name:
            return None
        try:
            path = relative_inside(folder, name)
        except UnsafePathError as exc:
            problems.append(f"{what}：{exc}")
            return None
        if not path.is_file():
            problems.append(f"{what} 的文件不存在：{folder / name}（出具记录 $.issuances 中登记）")
            return None
        if digest and _sha256(path) != digest:
            problems.append(f"{what} {name} 的 SHA-256 与出具记录（$.issuances）不符：文件在出具后被改动")
            return None
        return path

    docx = issued(issuance.docx_file, issuance.docx_sha256, f"{title} DOCX")
    if docx is not None:
        filed.append(Filed(package.PayloadFile(names.rel("report", docx.name), "report_docx", source=docx),
                           f"{title}（DOCX）", org, on))
    # The primary's issuance, then every additional issuance after it (gongu issue --additional).
    later = [i for i in report_issuances(case) if i is not issuance and not i.pdf_file
             and i.issued_at >= issuance.issued_at]
    for each in (issuance, *later):
        each_on = _date(each.issued_at)
        for i, doc in enumerate(_field(each, "documents") or []):
            doc_title = str(_field(doc, "title") or _field(doc, "key") or f"文书 {i + 1}")
            key = str(_field(doc, "key") or "") or None
            by = issuer_of(case, key)
            pdf = issued(_field(doc, "pdf_file"), _field(doc, "pdf_sha256"), doc_title)
            if pdf is not None:
                filed.append(Filed(package.PayloadFile(names.rel("documents", pdf.name), "document", source=pdf),
                                   doc_title, by, each_on, key))
            doc_docx = issued(_field(doc, "docx_file"), _field(doc, "docx_sha256"), f"{doc_title} DOCX")
            if doc_docx is not None:
                filed.append(Filed(package.PayloadFile(names.rel("documents", doc_docx.name), "document_docx",
                                                       source=doc_docx), f"{doc_title}（DOCX）", by, each_on))
    return filed, problems


def working_records(case: ForensicAppraisalCase, names: _Names) -> list[Filed]:
    """The records generated from the case: the process record (通则 Art 27; selection, recusals,
    notices, attendance, identity shown, real-time notes) and the review record (通则 Art 35, 37)."""
    process = {
        "case_id": case.case_id,
        "timeline": case.timeline.model_dump(mode="json"),
        "selection": case.selection.model_dump(mode="json"),
        "recusals": [r.model_dump(mode="json") for r in case.recusals],
        "single_commission": case.single.model_dump(mode="json") if case.single else None,
        "attendance": case.attendance.model_dump(mode="json") if case.attendance else None,
        "process": case.process.model_dump(mode="json"),
        "examination": case.examination.model_dump(mode="json") if case.examination else None,
    }
    reviews = {
        "case_id": case.case_id, "report_number": case.report.number,
        "reviews": [r.model_dump(mode="json") for r in case.reviews],
        "review_opinion": case.review_opinion.model_dump(mode="json") if case.review_opinion else None,
        "signatures": [s.model_dump(mode="json") for s in case.report.signatures],
        "institution_seal": case.report.institution_seal,
    }
    appraisers = "、".join(case.appraiser_names)
    reviewers = list(dict.fromkeys(r.reviewer for r in case.reviews))
    if case.review_opinion is not None:
        reviewers.append(case.review_opinion.reviewer.name)
    last_review = max([r.at for r in case.reviews] + ([case.review_opinion.at] if case.review_opinion else []),
                      default=None)
    return [
        Filed(package.PayloadFile(names.rel("process", "process-record.json"), "process_record",
                                  content=_json_bytes(process)),
              "鉴定过程记录（受理、选择、回避、通知与见证、检验）", appraisers, case.timeline.completed_on),
        Filed(package.PayloadFile(names.rel("review", "reviews.json"), "review_record", content=_json_bytes(reviews)),
              "复核与审核记录、鉴定人签名", "、".join(dict.fromkeys(reviewers)) or case.organization_name,
              _date(last_review)),
    ]


def case_named_files(case: ForensicAppraisalCase, case_dir: Path, names: _Names) -> tuple[list[Filed], list[str]]:
    """Material scans, ID copies, attachments and recordings the case names, relative to its folder."""
    problems: list[str] = []
    wanted: list[tuple[str, str, str, str, str, date | None]] = []  # label, file, role, title, responsible, date
    if case.selection.draw_record:
        # the draw record itself: the file `gongu draw verify` re-computes, its SHA-256 in the manifest
        wanted.append(("随机抽取记录", case.selection.draw_record, "draw_record",
                       f"随机抽取鉴定机构记录（{case.selection.draw_reference or case.selection.draw_record}）",
                       "、".join(case.selection.agreed_by), _date(case.selection.at)))
    for m in case.materials:
        if m.file:
            wanted.append((f"鉴定材料 {m.id}（{m.name}）", m.file, "material", f"鉴定材料：{m.name}",
                           m.provided_by, _date(m.received_at)))
    if case.attendance is not None:
        for a in case.attendance.attendees:
            if a.id_copy_file:
                wanted.append((f"到场人员 {a.name} 的证件复印件", a.id_copy_file, "id_copy",
                               f"到场人员身份证件复印件：{a.name}", a.organisation, _date(case.attendance.at)))
    for i, att in enumerate(case.attachments):
        if att.file:
            wanted.append((f"附件 {i + 1}（{att.title}）", att.file, "attachment", f"附件：{att.title}",
                           case.organization_name, case.report.issued_on))
    for i, r in enumerate(case.process.recordings):
        role = RECORDING_ROLES[r.kind.value]
        wanted.append((f"音像资料 {i + 1}（{r.description}）", r.file, role,
                       f"{RECORDING_KIND_TITLES[r.kind]}：{r.description}", r.made_by, _date(r.made_at)))
    filed: list[Filed] = []
    for label, reference, role, title, responsible, on in wanted:
        if (path := named_case_file(case_dir, label, reference, problems, why="档案应完整")) is None:
            continue
        filed.append(Filed(package.PayloadFile(names.rel(md.FOLDERS[role], path.name), role, source=path),
                           title, responsible, on))
    return filed, problems


def plan(case: ForensicAppraisalCase, raw: bytes, case_dir: Path, report_pdf: Path,
         extras: Iterable[tuple[str, Path]]) -> tuple[list[Filed], list[str]]:
    """Every payload file of a forensic package in the order of the 卷内目录: the primary document
    first (then its companions), the records, materials, ID copies, attachments, the case file, and
    last the recordings, which are kept apart."""
    names = _Names()
    issued, problems = issued_files(case, report_pdf, names)
    named, more = case_named_files(case, case_dir, names)
    problems += more
    for role, path in extras:
        if role not in ("audio", "video", "photo", "attachment", "id_copy", "material"):
            problems.append(f"未知的文件用途 {role}（司法鉴定案件可用：audio, video, photo, attachment, id_copy, material）")
        elif not path.is_file():
            problems.append(f"附加文件不存在：{path}")
        else:
            named.append(Filed(package.PayloadFile(names.rel(md.FOLDERS[role], path.name), role, source=path),
                               f"{md.ROLES_2[role]}：{path.name}", case.organization_name, None))
    documents = [f for f in named if f.item.role not in KEPT_APART_ROLES]
    recordings = [f for f in named if f.item.role in KEPT_APART_ROLES]
    case_file = Filed(package.PayloadFile("case/case.json", "case_file", content=raw), "案件文件（结案时）",
                      case.organization_name, _date(case.delivery.closed_at))
    return [*issued, *working_records(case, names), *documents, case_file, *recordings], problems


# ──────────────────────────────── documents the search index reads ────────────────────────────────

# Besides the primary document, the index reads the documents of the dispute path (Sichuan 五(一)(二)) and
# the 补充意见书 (通则 Art 30): they carry findings and reasons of their own, found nowhere else. The other
# companion documents restate the case file (委托书, notices, records …) and are left out.
SEARCHED_DOCUMENT_KEY = re.compile(r"^(dispute-\d+(-step-\d+)?|supplementary-\d+)$")
# A file index without keys (packages filed before they were recorded): the same documents by title.
SEARCHED_DOCUMENT_TITLES = frozenset({"鉴定意见异议登记表", "涉保司法鉴定争议调解记录", "鉴定人解释说明", "专家意见",
                                      "司法鉴定补充意见书"})


def searched_document_pdfs(pkg: ArchivedPackage) -> list[Path]:
    """The PDFs of `pkg` whose text the search index adds to the primary document's, in file-index order:
    issued documents (role `document`) of the dispute path and supplementary opinions. Only files the
    package's own metadata lists are read (a file index naming anything else is ignored)."""
    index = pkg.tag_json(FILE_INDEX_JSON)
    if index is None:
        return []
    listed = {f.path for f in pkg.files if f.role == "document"}
    out = []
    for row in index.get("entries") or []:
        if not isinstance(row, dict) or row.get("path") not in listed:
            continue
        key = row.get("key")
        if (SEARCHED_DOCUMENT_KEY.match(key) if isinstance(key, str) else row.get("title") in SEARCHED_DOCUMENT_TITLES):
            out.append(pkg.file_path(str(row["path"])))
    return out


# ─────────────────────────────────────── 卷内目录 and 备考表 ───────────────────────────────────────


def pdf_pages(path: Path) -> int | None:
    """Page count of a PDF, None when it cannot be read (the 卷内目录 then shows the size)."""
    try:
        from pypdf import PdfReader

        return len(PdfReader(str(path)).pages)
    except Exception:  # a damaged PDF still gets archived; its size is listed instead
        return None


def file_index(case: ForensicAppraisalCase, filed: list[Filed], entries: list[md.FileEntry], bag: Path) -> dict[str, Any]:
    """The 卷内目录: every file in order with number, title, responsible party, date, pages (PDF)
    or size, and its path in the package; recordings form a second section kept apart."""
    by_path = {e.path: e for e in entries}
    rows = []
    for n, f in enumerate(filed, start=1):
        entry = by_path[f"data/{f.item.rel}"]
        pages = pdf_pages(bag / entry.path) if entry.media_type == "application/pdf" else None
        rows.append({"number": n, "title": f.title, "responsible": f.responsible,
                     "date": f.on.isoformat() if f.on else None, "pages": pages, "size": entry.size,
                     "path": entry.path, "role": entry.role, "sha256": entry.sha256,
                     "kept_apart": entry.role in KEPT_APART_ROLES, "key": f.key})
    return {"schema": FILE_INDEX_SCHEMA, "case_id": case.case_id, "report_number": case.report.number,
            "title": f"卷内目录：{case.case_name}", "entries": rows}


def filing_note(case: ForensicAppraisalCase, index: dict[str, Any], *, by: str, at: datetime) -> dict[str, Any]:
    """The 备考表: who filed the volume and when, how many files and pages, and notes on what the
    volume lacks or keeps apart."""
    rows = index["entries"]
    roles = Counter(r["role"] for r in rows)
    notes: list[str] = []
    recordings = [r for r in rows if r["kept_apart"]]
    if recordings:
        kinds = "、".join(f"{md.ROLES_2[k] if k != 'photo' else '照片'} {roles[k]} 件" for k in KEPT_APART_ROLES if roles[k])
        numbers = "、".join(str(r["number"]) for r in recordings)
        notes.append(f"音像资料 {len(recordings)} 件（{kinds}）另行保存于 data/media/、data/photos/，"
                     f"卷内目录第 {numbers} 号，以案件编号 {case.case_id} 与本卷对应。")
    for m in case.materials:
        if not m.file:
            notes.append(f"鉴定材料 {m.id}（{m.name}，{m.quantity}{m.unit}）无电子扫描件；"
                         f"材料按约定处置：{case.commission.materials_return}。")
    if case.attendance is not None:
        for a in case.attendance.attendees:
            if not a.id_copy_file:
                kept = "复印件已留存（纸质），" if a.copies_kept else "未留存证件复印件，"
                notes.append(f"到场人员 {a.name}（{a.organisation}）：{kept}电子档案中无扫描件。")
    issuance = latest_issuance(case)
    if issuance is None:
        notes.append(f"案件文件未记录 {case.report.number} 的出具（$.issuances）：随附鉴定文书未能核对归档。")
    elif not roles["report_docx"]:
        notes.append("主文书没有 DOCX 文本。")
    if case.termination is not None:
        notes.append(f"本案终止鉴定（{case.termination.number}，"
                     f"{TERMINATION_GROUND_TITLES[case.termination.ground]}），主文书为终止鉴定告知书。")
    for c in case.corrections:
        notes.append(f"补正书 {c.number}（{c.issued_on.isoformat()}）：{c.reason}。")
    return {
        "schema": FILING_NOTE_SCHEMA, "case_id": case.case_id, "report_number": case.report.number,
        "filed_by": by, "filed_at": at.isoformat(),
        "counts": {"files": len(rows), "documents": len(rows) - len(recordings),
                   "pages": sum(r["pages"] or 0 for r in rows),
                   "signed_documents": roles["report"] + roles["document"],
                   "recordings": {k: roles[k] for k in KEPT_APART_ROLES},
                   "id_copies": roles["id_copy"], "materials": roles["material"], "attachments": roles["attachment"]},
        "notes": notes,
    }


def file_index_text(index: dict[str, Any]) -> str:
    lines = [index["title"], f"案件编号：{index['case_id']}    文书编号：{index['report_number']}", "",
             "序号  题名  责任者  日期  页数/大小  文件"]
    for section, apart in (("卷内文件", False), ("音像资料（另行保存）", True)):
        rows = [r for r in index["entries"] if r["kept_apart"] is apart]
        if not rows:
            continue
        lines.append(f"【{section}】")
        for r in rows:
            extent = f"{r['pages']} 页" if r["pages"] is not None else f"{r['size']} 字节"
            lines.append(f"{r['number']:>3}  {r['title']}  {r['responsible']}  {r['date'] or '—'}  {extent}  {r['path']}")
    return "\n".join(lines) + "\n"


def filing_note_text(note: dict[str, Any]) -> str:
    c = note["counts"]
    rec = c["recordings"]
    lines = ["备考表", f"案件编号：{note['case_id']}    文书编号：{note['report_number']}", "",
             f"本卷共有文件 {c['files']} 件，其中文书材料 {c['documents']} 件（PDF 共 {c['pages']} 页，"
             f"已签章文书 {c['signed_documents']} 件），音像资料 {rec['audio'] + rec['video'] + rec['photo']} 件"
             f"（录音 {rec['audio']}、录像 {rec['video']}、照片 {rec['photo']}），"
             f"证件复印件 {c['id_copies']} 件，鉴定材料扫描件 {c['materials']} 件，附件 {c['attachments']} 件。",
             "", "说明："]
    lines += [f"  {i}. {n}" for i, n in enumerate(note["notes"], start=1)] or ["  无。"]
    lines += ["", f"立卷人：{note['filed_by']}    立卷时间：{note['filed_at']}", ""]
    return "\n".join(lines)


def tag_files(index: dict[str, Any], note: dict[str, Any]) -> dict[str, bytes]:
    return {FILE_INDEX_JSON: _json_bytes(index), FILE_INDEX_TXT: file_index_text(index).encode("utf-8"),
            FILING_NOTE_JSON: _json_bytes(note), FILING_NOTE_TXT: filing_note_text(note).encode("utf-8")}
