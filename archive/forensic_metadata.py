"""What a forensic appraisal package (format `gongu-archive-package/2`, docs/package-format.md section 10)
says about itself: metadata.json (format 1's keys plus the `forensic` block), README.txt for a person
with no software, and the search record `gongu-search-record/2`. The counterpart of archive/metadata.py
for format 1; archive/package_format.py writes these files, archive/forensic.py plans the payload and
the 卷内目录 / 备考表 they name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from archive import metadata as md
from archive.retention import RetentionClass, RetentionStart
from generator.forensic.model import (
    GRADE_NUMERALS,
    MATTER_KIND_TITLES,
    PARTY_ROLE_TITLES,
    TERMINATION_GROUND_TITLES,
    ForensicAppraisalCase,
    MatterResult,
    Outcome,
    PartyRole,
)
from generator.model import ReviewDecision

SEARCH_RECORD_SCHEMA = "gongu-search-record/2"
# The tag files of format 2: the 卷内目录 (file index) and the 备考表 (filing note), as JSON and as text.
FILE_INDEX_JSON = "file-index.json"
FILE_INDEX_TXT = "file-index.txt"
FILING_NOTE_JSON = "filing-note.json"
FILING_NOTE_TXT = "filing-note.txt"


def primary_title(case: ForensicAppraisalCase) -> str:
    if case.report.title:
        return case.report.title
    return "终止鉴定告知书" if case.termination is not None else "司法鉴定意见书"


# ─────────────────────────────────────── metadata.json ───────────────────────────────────────


def _names_with(case: ForensicAppraisalCase, *roles: PartyRole) -> str:
    return "；".join(p.name for p in case.parties if p.role in roles)


def result_texts(case: ForensicAppraisalCase) -> list[str]:
    """The result per matter as a reader looks for it: 十级伤残, 未构成伤残等级, 误工期180日 …"""
    kinds = {m.id: m.kind for m in case.commission.matters}
    out = [_result_text(r, MATTER_KIND_TITLES.get(kinds.get(r.matter), "")) for r in case.results]  # type: ignore[arg-type]
    if case.termination is not None:
        out.append(f"终止鉴定（{TERMINATION_GROUND_TITLES[case.termination.ground]}）")
    return [t for t in out if t]


def _result_text(r: MatterResult, matter_title: str) -> str:
    if r.outcome == Outcome.grade and r.grade is not None:
        return f"{GRADE_NUMERALS[r.grade - 1]}级伤残"
    if r.outcome == Outcome.no_disability:
        return "未构成伤残等级"
    if r.outcome == Outcome.not_stable:
        return "未达到评定时机"
    if r.outcome == Outcome.period and r.days is not None:
        return f"{matter_title}{r.days}日"
    return r.text or ""


def forensic_block(case: ForensicAppraisalCase) -> dict[str, Any]:
    return {
        "institution": {"name": case.institution.name, "licence_no": case.institution.licence_no},
        "commission": {"number": case.commission.number, "kind": case.commission.kind.value,
                       "for_insurance_claim": case.commission.for_insurance_claim},
        "appraisers": [{"name": a.name, "licence_no": a.licence_no} for a in case.appraisers],
        "parties": [{"name": p.name, "role": p.role.value, "client": p.client} for p in case.parties],
        "examined_person": case.examination.person.name if case.examination else None,
        "matters": [{"id": m.id, "kind": m.kind.value, "description": m.description} for m in case.commission.matters],
        "results": result_texts(case),
        "termination": case.termination.number if case.termination else None,
        "file_index": FILE_INDEX_JSON,
        "filing_note": FILING_NOTE_JSON,
        "time_limits": time_limits_record(case),
    }


def time_limits_record(case: ForensicAppraisalCase) -> dict[str, Any]:
    """The 通则 Art 13 / 28 figures as `gongu adjust --json` gives them, with every calendar year they were
    counted on written out whole (official file and its SHA-256, or 估算, and the days themselves), so a
    deadline can be counted again from the package alone."""
    from generator.forensic.holiday_calendar import CalendarFileError
    from generator.forensic.workdays import CalendarNotCovered, time_limits, time_limits_to_dict

    try:
        limits = time_limits(case)
    except (CalendarNotCovered, CalendarFileError) as exc:
        return {"error": str(exc)}
    record = time_limits_to_dict(case, limits)
    record["calendar"] = {**record["calendar"], "years": [y.record() for y in limits.calendars]}  # type: ignore[dict-item]
    return record


def build_metadata(case: ForensicAppraisalCase, files: list[md.FileEntry], retention: RetentionClass, start: RetentionStart,
                   *, ingested_at: datetime, ingested_by: str, software: str) -> dict[str, Any]:
    """metadata.json of format 2: every key of format 1 (null where the kind has no such thing: policy,
    project, loss date, amounts) plus the `forensic` block."""
    d = case.delivery
    iso = md._iso
    until = retention.until(start.start)  # 10.4, from the latest of closure, issuance and ingest
    return {
        "schema": md.SCHEMA_2,
        "case_id": case.case_id,
        "case_name": case.case_name,
        "kind": case.kind,
        "statutory": False,
        "report": {"number": case.report.number, "issued_on": iso(case.report.issued_on),
                   "title": primary_title(case), "supersedes": case.report.supersedes,
                   "reissue_reason": case.report.reissue_reason},
        "parties": {"insurer": _names_with(case, PartyRole.insurer) or None,
                    "insured": _names_with(case, PartyRole.insured) or None,
                    "policyholder": _names_with(case, PartyRole.policyholder) or None,
                    "commissioning_party": "；".join(p.name for p in case.parties if p.client) or None,
                    "firm": case.organization_name},
        "policy_number": None,
        "project": {"name": None, "location": None, "province": None, "city": None},
        "dates": {"loss": None, "report": iso(case.report.issued_on), "delivery": iso(d.delivered_at),
                  "fee_received": iso(d.fee_received_at), "closure": iso(d.closed_at)},
        "amounts": {"claimed": None, "total_payable": None},
        "retention": {"class": retention.name, "title": retention.title, "years": retention.years,
                      "counted_from": start.counted_from, "start": start.start.isoformat(),
                      "facts": start.as_dict(), "until": until.isoformat(), "basis": retention.basis},
        "ingest": {"at": ingested_at.isoformat(), "by": ingested_by, "software": software},
        "files": [f.as_dict() for f in files],
        "totals": {"files": len(files), "bytes": sum(f.size for f in files)},
        "forensic": forensic_block(case),
    }


# ─────────────────────────────────────── the search record ───────────────────────────────────────


def search_record(case: ForensicAppraisalCase) -> dict[str, Any]:
    """gongu-search-record/2: the keys of /1 (empty where the kind has no such thing) plus the
    forensic fields: institution, parties, matters, result, appraisers."""
    people = [f"{p.name}（{PARTY_ROLE_TITLES[p.role]}）" for p in case.parties]
    if case.examination is not None and all(p.name != case.examination.person.name for p in case.parties):
        people.append(f"{case.examination.person.name}（被鉴定人）")
    reviewers = [r.reviewer for r in case.reviews if r.decision == ReviewDecision.approve]
    if case.review_opinion is not None:
        reviewers.append(case.review_opinion.reviewer.name)
    return {
        "schema": SEARCH_RECORD_SCHEMA,
        "case_id": case.case_id,
        "report_number": case.report.number,
        "kind": case.kind,
        "case_name": case.case_name,
        "insurer": _names_with(case, PartyRole.insurer),
        "insured": _names_with(case, PartyRole.insured),
        "policyholder": _names_with(case, PartyRole.policyholder),
        "policy_number": "",
        "project": "",
        "province": "",
        "city": "",
        "loss_date": None,
        "report_date": case.report.issued_on.isoformat(),
        "cause": case.commission.purpose,
        "loss_type": "",
        "claimed_fen": None,
        "assessed_fen": None,
        "adjusted_fen": None,
        "handlers": case.appraiser_names,
        "reviewers": list(dict.fromkeys(reviewers)),
        "institution": f"{case.institution.name} {case.institution.licence_no}",
        "parties": people,
        "matters": [m.description if m.description == MATTER_KIND_TITLES[m.kind] else
                    f"{MATTER_KIND_TITLES[m.kind]}：{m.description}" for m in case.commission.matters],
        "result": result_texts(case),
        "appraisers": [f"{a.name} {a.licence_no}" for a in case.appraisers],
    }


# ─────────────────────────────────────────── README.txt ───────────────────────────────────────────


def _time_limit_lines(limits: dict[str, Any]) -> list[str]:
    """The deadline and the calendar it was counted on, in the README a person reads without software."""
    completion = limits.get("completion") or {}
    if not completion.get("deadline"):
        return []
    mark = "（估算）" if completion.get("deadline_estimated") else ""
    years = "；".join(f"{y['year']} 年" + ("估算" if y["origin"] == "estimate" else f"官方 {y['file']} SHA-256 {y['sha256']}")
                     for y in (limits.get("calendar") or {}).get("years", []))
    return [f"鉴定时限截止日：{completion['deadline']}{mark}（通则第二十八条；所用节假日日历：{years}；"
            "各年放假日与调休上班日见 metadata.json 的 forensic.time_limits.calendar）"]


def readme_text(m: dict[str, Any]) -> str:
    f = m["forensic"]
    lines = [
        "司法鉴定档案包说明",
        "=" * 20,
        "",
        f"案件编号：{m['case_id']}",
        f"案件名称：{m['case_name']}",
        f"主文书：{m['report']['title']} {m['report']['number']}"
        + (f"（替代 {m['report']['supersedes']}）" if m['report']['supersedes'] else ""),
        f"鉴定机构：{f['institution']['name']}（许可证号 {f['institution']['licence_no']}）",
        f"鉴定人：{'、'.join(a['name'] for a in f['appraisers'])}",
        f"鉴定意见：{'；'.join(f['results']) or '—'}",
        *_time_limit_lines(f.get("time_limits") or {}),
        f"结案时间：{m['dates']['closure']}",
        f"保管期限：{m['retention']['title']}，{m['retention']['years']} 年，自结案起算，至 {m['retention']['until']}"
        f"（依据：{m['retention']['basis']}）",
        "",
        "一、这个文件夹是什么",
        "本文件夹是一件涉保司法鉴定案件的电子档案，按国际通行的 BagIt 格式（RFC 8493）保存。",
        "不需要任何专门软件即可阅读：所有文件都是普通文件，可以用常见程序打开。",
        "",
        "二、文件夹里有什么",
        "  data/                 档案内容本身（不要改动其中任何文件）",
        "    report/             主文书（司法鉴定意见书或终止鉴定告知书）PDF，已电子签章；及其 DOCX",
        "    documents/          随同出具的其他鉴定文书（委托书、告知书、记录、复核意见等）PDF 与 DOCX",
        "    process/            鉴定过程记录（受理、选择、回避、通知与见证、检验）",
        "    review/             复核与审核记录、鉴定人签名",
        "    materials/          鉴定材料扫描件（如有）",
        "    id-copies/          到场人员身份证件复印件（如有）",
        "    attachments/        附件（如有）",
        "    case/case.json      案件文件原件（文本格式）",
        "    media/、photos/      录音、录像、照片（音像资料，另行保存）",
        "  file-index.txt/.json  卷内目录：每份文件的序号、题名、责任者、日期、页数或大小、位置",
        "  filing-note.txt/.json 备考表：立卷人、立卷时间、文件数量、缺失与另存情况说明",
        "  metadata.json         本档案的著录信息；README.txt 本说明；search-record.json 检索记录",
        "  manifest-sha256.txt、manifest-sha512.txt   data/ 中每个文件的校验值",
        "  tagmanifest-*.txt     上述说明文件自身的校验值",
        "",
        "三、如何确认档案未被改动",
        "对 data/ 中任一文件计算 SHA-256（例如 Linux 上 `sha256sum 文件名`，Windows 上",
        "`certutil -hashfile 文件名 SHA256`），结果应与 manifest-sha256.txt 中同名一行一致。",
        "",
        "四、文件清单",
    ]
    return "\n".join(lines + md.readme_file_list(m))
