"""The package's own description: `metadata.json` (machine-readable) and `README.txt` (for a person
with no software). Both are BagIt tag files, so the tag manifests cover them (RFC 8493 §2.2.1).
The content of format 1; archive/package_format.py writes and reads it, docs/package-format.md
describes it for a reader without Gongu.

metadata.json, schema "gongu-archive-package/1" (every key always present; unknown values null):
  schema, case_id, case_name, kind, statutory,
  report{number, issued_on, title, supersedes, reissue_reason},
  parties{insurer, insured, policyholder, commissioning_party, firm},
  policy_number, project{name, location, province, city},
  dates{loss, report, delivery, fee_received, closure}          ISO 8601, Asia/Shanghai offsets
  amounts{claimed, total_payable}                               decimal strings, yuan
  retention{class, title, years, counted_from, start, until, basis}
  ingest{at, by, software}
  files[{path, role, title, size, media_type, sha256}]          path relative to the bag, "data/…"
  totals{files, bytes}
  check_codes[{code, report_number, supersedes, kind, title, issued_on, issuer, pages, size, sha256, path}]
                                                                optional: only when a document has a check code
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from archive.retention import RetentionClass, RetentionStart
from generator.check_code import grouped
from generator.model import CarSurveyCase

SCHEMA = "gongu-archive-package/1"
# Format 2 (forensic appraisal packages): format 1's keys plus a `forensic` block, the roles below and
# the 卷内目录 / 备考表 tag files; survey packages are still written as format 1.
SCHEMA_2 = "gongu-archive-package/2"
METADATA_FILE = "metadata.json"
README_FILE = "README.txt"

# Roles of payload files (10.2: main facts, working papers, the report, other material).
ROLES: dict[str, str] = {
    "report": "公估报告（已签章）",
    "case_file": "案件文件（原始字节）",
    "survey_records": "工作底稿：现场查勘记录",
    "inquiry_records": "工作底稿：询问及调查记录",
    "calculation": "工作底稿：理算过程",
    "photo": "现场照片",
    "audio": "录音",
    "video": "录像",
    "review_record": "品质审核记录",
    "attachment": "其他相关资料",
}
# Roles that exist from format 2 on (forensic appraisal packages); format 1 packages never carry them.
ROLES_2: dict[str, str] = {
    **ROLES,
    "report": "主文书（已签章）：司法鉴定意见书或终止鉴定告知书",
    "report_docx": "主文书 DOCX",
    "document": "鉴定文书（已签章）",
    "document_docx": "鉴定文书 DOCX",
    "process_record": "鉴定过程记录（通则第二十七条）",
    "id_copy": "到场人员身份证件复印件（四川意见 四(四)）",
    "material": "鉴定材料扫描件（通则第十二条）",
    "draw_record": "随机抽取鉴定机构记录（JSON，四川意见 二(三)）",
    "photo": "鉴定过程照片",
}
ROLES_BY_SCHEMA: dict[str, dict[str, str]] = {SCHEMA: ROLES, SCHEMA_2: ROLES_2}
FOLDERS: dict[str, str] = {
    "report": "report",
    "case_file": "case",
    "survey_records": "working-papers",
    "inquiry_records": "working-papers",
    "calculation": "working-papers",
    "photo": "photos",
    "audio": "media",
    "video": "media",
    "review_record": "review",
    "attachment": "attachments",
    "report_docx": "report",
    "document": "documents",
    "document_docx": "documents",
    "process_record": "process",
    "id_copy": "id-copies",
    "material": "materials",
    "draw_record": "process",
}

# Magic numbers for the formats we check metadata against (DA/T 70: captured format = declared format).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_EXTRA_TYPES = {".docx": DOCX, ".json": "application/json", ".csv": "text/csv", ".m4a": "audio/mp4", ".mp3": "audio/mpeg",
                ".wav": "audio/wav", ".mp4": "video/mp4", ".txt": "text/plain", ".ofd": "application/ofd"}


def media_type_for(name: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def sniffed_type(head: bytes) -> str | None:
    """The format the bytes announce, for the formats we know by magic number; None otherwise."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


@dataclass(frozen=True)
class FileEntry:
    path: str  # "data/…"
    role: str
    size: int
    media_type: str
    sha256: str
    title: str | None = None  # what this file is, when more precise than its role's title

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "role": self.role, "title": self.title or ROLES.get(self.role) or ROLES_2.get(self.role, self.role),
                "size": self.size, "media_type": self.media_type, "sha256": self.sha256}


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def build_metadata(case: CarSurveyCase, files: list[FileEntry], retention: RetentionClass, start: RetentionStart,
                   *, total_payable: str | None, ingested_at: datetime, ingested_by: str,
                   software: str) -> dict[str, Any]:
    d = case.delivery
    until = retention.until(start.start)  # 10.4, from the latest of closure, issuance and ingest
    return {
        "schema": SCHEMA,
        "case_id": case.case_id,
        "case_name": case.case_name,
        "kind": case.kind,
        "statutory": case.statutory,
        "report": {"number": case.report.number, "issued_on": _iso(case.report.issued_on),
                   "title": case.report.title, "supersedes": case.report.supersedes,
                   "reissue_reason": case.report.reissue_reason},
        "parties": {"insurer": case.policy.insurer, "insured": case.policy.insured,
                    "policyholder": case.policy.policyholder,
                    "commissioning_party": case.commission.commissioning_party, "firm": case.firm.name},
        "policy_number": case.policy.number,
        "project": {"name": case.project.name, "location": case.project.location,
                    "province": case.project.province, "city": case.project.city},
        "dates": {"loss": _iso(case.incident.occurred_at), "report": _iso(case.report.issued_on),
                  "delivery": _iso(d.delivered_at), "fee_received": _iso(d.fee_received_at),
                  "closure": _iso(d.closed_at)},
        "amounts": {"claimed": None if case.incident.claimed_amount is None else str(case.incident.claimed_amount),
                    "total_payable": total_payable},
        "retention": {"class": retention.name, "title": retention.title, "years": retention.years,
                      "counted_from": start.counted_from, "start": start.start.isoformat(),
                      "facts": start.as_dict(), "until": until.isoformat(), "basis": retention.basis},
        "ingest": {"at": ingested_at.isoformat(), "by": ingested_by, "software": software},
        "files": [f.as_dict() for f in files],
        "totals": {"files": len(files), "bytes": sum(f.size for f in files)},
    }


def dumps(metadata: dict[str, Any]) -> bytes:
    return (json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


REQUIRED_KEYS = ("schema", "case_id", "kind", "report", "parties", "dates", "retention", "ingest", "files", "totals")


def readme_text(metadata: dict[str, Any]) -> str:
    """README.txt of a format 1 (survey) package; format 2's is archive/forensic_metadata.py's."""
    m = metadata
    lines = [
        "公估档案包说明",
        "=" * 20,
        "",
        f"案件编号：{m['case_id']}",
        f"案件名称：{m['case_name']}",
        f"报告编号：{m['report']['number']}" + (f"（替代 {m['report']['supersedes']}）" if m['report']['supersedes'] else ""),
        f"保险人：{m['parties']['insurer']}    被保险人：{m['parties']['insured']}    投保人：{m['parties']['policyholder']}",
        f"结案时间：{m['dates']['closure']}",
        f"保管期限：{m['retention']['title']}，{m['retention']['years']} 年，自结案起算，至 {m['retention']['until']}"
        f"（依据：{m['retention']['basis']}）",
        "",
        "一、这个文件夹是什么",
        "本文件夹是一件保险公估案件的电子档案，按国际通行的 BagIt 格式（RFC 8493）保存。",
        "不需要任何专门软件即可阅读：所有文件都是普通文件，可以用常见程序打开。",
        "",
        "二、文件夹里有什么",
        "  data/                 档案内容本身（不要改动其中任何文件）",
        "    report/             公估报告 PDF，已由公估机构电子签章，可用 PDF 阅读器查看签章是否有效",
        "    case/case.json      案件文件原件（文本格式，可用记事本打开）",
        "    working-papers/     工作底稿：现场查勘记录、询问记录、理算过程（JSON 与 CSV 表格）",
        "    photos/             现场照片",
        "    media/              录音、录像（如有）",
        "    review/             报告三级审核（校对、复核、审核）记录",
        "    attachments/        其他相关资料（如有）",
        "  metadata.json         本档案的著录信息：案件、当事人、日期、保管期限、每个文件的用途与校验值",
        "  README.txt            本说明",
        "  bagit.txt、bag-info.txt  BagIt 格式声明与包信息",
        "  manifest-sha256.txt、manifest-sha512.txt   data/ 中每个文件的 SHA-256、SHA-512 校验值",
        "  tagmanifest-*.txt     上述说明文件自身的校验值",
        "",
        "三、如何确认档案未被改动",
        "对 data/ 中任一文件计算 SHA-256（例如 Linux 上 `sha256sum 文件名`，Windows 上",
        "`certutil -hashfile 文件名 SHA256`），结果应与 manifest-sha256.txt 中同名一行一致。",
        "任何一个字节的改动都会使校验值不同。公估报告的电子签章另可在 PDF 阅读器的签名面板中核验。",
        "",
        "四、文件清单",
    ]
    return "\n".join(lines + readme_file_list(m))


def readme_file_list(m: dict[str, Any]) -> list[str]:
    """The end of a package's README, either kind: every file with its title and size, then who archived it when."""
    lines = [f"  {f['path']}    {f['title']}    {f['size']} 字节" for f in m["files"]]
    return [*lines, *readme_code_lines(m), "", f"归档时间：{m['ingest']['at']}    归档人：{m['ingest']['by']}", ""]


def readme_code_lines(m: dict[str, Any]) -> list[str]:
    """The codes in README.txt, so a reader with only the folder can match a printed 校验码 to a file."""
    codes = m.get("check_codes") or []
    if not codes:
        return []
    lines = ["", "五、校验码", "出具的文书每页印有校验码（四位一组），与下列一行对应；对该文件计算的 SHA-256 应与所列一致。"]
    lines += [f"  {grouped(c['code'])}    {c.get('kind') or c['title']} {c['report_number']}    出具日期 {c['issued_on']}    "
              f"{c['issuer']}    " + (f"{c['pages'] if c['pages'] is not None else '?'} 页    {c['path']}" if c.get('path')
                                   else "（不在本档案包中：已被本报告取代的早先文书）") + f"    SHA-256 {c['sha256']}"
              for c in codes]
    return lines
