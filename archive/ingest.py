"""Ingest (clause 10): a delivered, paid, closed case with a sealed report that verifies becomes one
BagIt package at <root>/<year of closure>/<case id>/<report number>/.

Crash safety: the bag is built in <root>/.tmp/<unique>/, every file and folder fsynced, validated, then
renamed into place (atomic on one filesystem), and only then registered in the catalog. A crash
leaves no package, or a complete package that `fsck` registers. Renaming onto an existing non-empty
folder fails, so two processes ingesting the same report cannot overwrite each other: the loser
compares content and either joins (same content: idempotent) or is refused."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archive import check_codes, forensic, forensic_metadata, package
from archive import metadata as md
from archive import package_format as fmt
from archive.draw_log import package_draw_events
from archive.names import inside, named_case_file, safe_component
from archive.retention import RetentionStart, class_for, retention_start
from archive.signature_checks import outcome_record
from archive.store import Archive, ArchiveError, crash_point
from generator.adjust import adjust, adjustment_to_dict
from generator.forensic.issued import IssuedOpinion
from generator.kinds import Case, is_forensic
from generator.loading import LoadedCase
from generator.text_safety import csv_cell
from generator.types import SHANGHAI, beijing_date
from signing.status import VerifyOutcome

SOFTWARE = "gongu archive 1"


class IngestRefused(ArchiveError):
    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("；".join(reasons))


@dataclass(frozen=True)
class IngestResult:
    case_id: str
    report_number: str
    path: Path
    created: bool  # False: the same content was already archived (idempotent re-ingest)
    package_hash: str


def archivable_problems(case: Case, today: date | None = None, issued: IssuedOpinion | None = None) -> list[str]:
    """May the case be closed and archived? The review rules answer for 10.1 (report delivered to the
    client, fee received) and every other rule that blocks archiving, for either kind — one rule, one
    place (generator.rules, stage "archive"); `issued` is the forensic opinion as the report being archived
    carries it, which the case file must not have changed since (通则 Art 41). The archive adds only what it
    needs itself: the closure date, from which retention is counted (10.4)."""
    from generator.rules import blocking_reasons

    problems = blocking_reasons(case, stage="archive", today=today, issued=issued)
    if case.delivery.closed_at is None:
        problems.append("[10.4] 交付与收费 / 结案时间：未记录；保管期限自结案起算（$.delivery.closed_at）")
    return problems


def report_mismatch(report_pdf: Path, case: Case) -> list[str]:
    """The sealed report must be this case's report: the renderer embeds the case file in the PDF/A-3,
    and its case id and report number must match (the rest legitimately differs: delivery, fee and
    closure are recorded after issue)."""
    from signing.embedded import embedded_case

    try:
        raw = embedded_case(report_pdf.read_bytes())
    except Exception:  # a hostile or odd PDF: treated as "no embedded case file"
        raw = None
    if raw is None:
        return ["报告中没有嵌入案件文件（PDF/A-3 附件 case.json），无法确认报告属于本案件"]
    report = raw.get("report") if isinstance(raw.get("report"), dict) else {}
    theirs = (str(raw.get("case_id")), str(report.get("number")))
    if theirs != (case.case_id, case.report.number):
        return [f"报告属于案件 {theirs[0]} 报告 {theirs[1]}，不是本案件 {case.case_id} 报告 {case.report.number}"]
    return []


def issued_opinion_of(report_pdf: Path | None, case: Case) -> IssuedOpinion | None:
    """The case data the forensic 意见书 being archived carries, when it is this case's report (通则 Art 41:
    the archived file must not hold a conclusion other than the one issued); None otherwise."""
    from signing.embedded import embedded_case

    if not is_forensic(case) or report_pdf is None or not report_pdf.is_file():
        return None
    try:
        raw = embedded_case(report_pdf.read_bytes())
    except Exception:  # a hostile or odd PDF: report_mismatch names it
        return None
    report = raw.get("report") if raw is not None and isinstance(raw.get("report"), dict) else {}
    if raw is None or (str(raw.get("case_id")), str(report.get("number"))) != (case.case_id, case.report.number):
        return None
    return IssuedOpinion(number=case.report.number, source=str(report_pdf), data=raw)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
    taken.add(candidate)
    return candidate


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def working_papers(loaded: LoadedCase) -> list[package.PayloadFile]:
    """10.2 working papers generated from the case: survey records, inquiry records, the calculation,
    and the review record."""
    case = loaded.case
    adj = adjustment_to_dict(case, adjust(case))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["clause", "label", "formula", "inputs", "result", "kind"])
    for s in adj["steps"]:  # type: ignore[union-attr]
        # labels carry case text (item names): never a formula when the file is opened (text_safety.csv_cell)
        writer.writerow([s["clause"], csv_cell(s["label"]), csv_cell(s["formula"]),
                         json.dumps(s["inputs"], ensure_ascii=False), s["result"], s["kind"]])
    survey = {"case_id": case.case_id, "survey": case.survey.model_dump(mode="json")}
    inquiry = {"case_id": case.case_id,
               "inquiries": [s.model_dump(mode="json") for s in (case.cause.sources if case.cause else [])
                             if s.kind == "inquiry"],
               "cause_analysis": case.cause.model_dump(mode="json") if case.cause else None,
               "contact": case.contact.model_dump(mode="json") if case.contact else None}
    reviews = {"case_id": case.case_id, "report_number": case.report.number,
               "reviews": [r.model_dump(mode="json") for r in case.reviews],
               "signatures": [s.model_dump(mode="json") for s in case.report.signatures],
               "firm_seal": case.report.firm_seal}
    return [
        package.PayloadFile("working-papers/survey-records.json", "survey_records", content=_json_bytes(survey)),
        package.PayloadFile("working-papers/inquiry-records.json", "inquiry_records", content=_json_bytes(inquiry)),
        package.PayloadFile("working-papers/calculation.json", "calculation", content=_json_bytes(adj)),
        # utf-8-sig: spreadsheet programs then read the Chinese labels correctly
        package.PayloadFile("working-papers/calculation.csv", "calculation", content=buf.getvalue().encode("utf-8-sig")),
        package.PayloadFile("review/reviews.json", "review_record", content=_json_bytes(reviews)),
    ]


def plan_payload(loaded: LoadedCase, report_pdf: Path, extras: list[tuple[str, Path]]) -> list[package.PayloadFile]:
    case = loaded.case
    if is_forensic(case):
        return [f.item for f in plan_forensic(loaded, report_pdf, extras)]
    problems: list[str] = []
    files = [package.PayloadFile(f"report/{safe_component(case.report.number)}.pdf", "report", source=report_pdf),
             package.PayloadFile("case/case.json", "case_file", content=loaded.raw)]
    files += working_papers(loaded)
    taken: dict[str, set[str]] = {}
    case_dir = loaded.source.parent
    named = [(f"照片 {p.id}", p.file, "photo", "photos") for p in case.survey.photos]
    # 10.2: other related material the case names.
    named += [(f"附件 {i + 1}（{a.title}）", a.file, "attachment", "attachments")
              for i, a in enumerate(case.attachments) if a.file]
    for label, reference, role, folder in named:
        if (path := named_case_file(case_dir, label, reference, problems, why="10.3 档案应完整")) is None:
            continue
        name = _unique(safe_component(path.name), taken.setdefault(folder, set()))
        files.append(package.PayloadFile(f"{folder}/{name}", role, source=path))
    for role, path in extras:
        if role not in md.ROLES or role in ("report", "case_file"):
            problems.append(f"未知的文件用途 {role}（可用：audio, video, photo, survey_records, inquiry_records, "
                            "calculation, review_record, attachment）")
            continue
        if not path.is_file():
            problems.append(f"附加文件不存在：{path}")
            continue
        folder = md.FOLDERS[role]
        name = _unique(safe_component(path.name), taken.setdefault(folder, set()))
        files.append(package.PayloadFile(f"{folder}/{name}", role, source=path))
    if problems:
        raise IngestRefused(problems)
    return files


def plan_forensic(loaded: LoadedCase, report_pdf: Path, extras: list[tuple[str, Path]]) -> list[forensic.Filed]:
    """The payload of a forensic package in the order of its 卷内目录 (archive/forensic.py)."""
    assert is_forensic(loaded.case)
    filed, problems = forensic.plan(loaded.case, loaded.raw, loaded.source.parent, report_pdf, extras)
    if problems:
        raise IngestRefused(problems)
    return filed


def package_location(case: Case) -> str:
    assert case.delivery.closed_at is not None
    year = beijing_date(case.delivery.closed_at).year  # the Beijing closure year, whatever the offset
    return f"{year}/{safe_component(case.case_id)}/{safe_component(case.report.number)}"


def ingest(archive: Archive, loaded: LoadedCase, report_pdf: Path | None, *,
           extras: list[tuple[str, Path]] = (), by: str) -> IngestResult:  # type: ignore[assignment]
    archive.require_root()  # the shared package tree is mounted (archive/identity.py): else nothing is written
    case = loaded.case
    reasons = archivable_problems(case, archive.today(), issued_opinion_of(report_pdf, case))
    timestamped: str | None = None
    verified: VerifyOutcome | None = None
    if report_pdf is None:
        reasons.append("缺少已签章的公估报告（--report）")
    elif not report_pdf.is_file():
        reasons.append(f"报告文件不存在：{report_pdf}")
    elif archive.verifier is None:
        reasons.append("未配置签章核验（信任根），无法确认报告签章有效")
    else:
        outcome = archive.verifier(report_pdf)
        if not outcome.ok:
            reasons.append(f"报告签章核验未通过：{outcome.summary}")
        else:
            reasons += report_mismatch(report_pdf, case)
            timestamped = outcome.details.get("timestamped_at")
            verified = outcome
    if not by.strip():
        reasons.append("须写明归档人（--by）")
    if reasons:
        raise IngestRefused(reasons)
    assert report_pdf is not None

    rel = package_location(case)
    final = inside(archive.root, *rel.split("/"))
    existing = archive.catalog.package(case.case_id, case.report.number)
    if existing is not None and existing["state"] == "disposed":
        raise IngestRefused([f"报告 {case.report.number} 的档案已按程序销毁，不能再次归档同一报告编号"])

    filed = plan_forensic(loaded, report_pdf, list(extras)) if is_forensic(case) else None
    payload = [f.item for f in filed] if filed is not None else plan_payload(loaded, report_pdf, list(extras))
    tmp_root = archive.root / package.TMP_DIR
    tmp_root.mkdir(parents=True, exist_ok=True)
    # uuid-host-pid: fsck on another office's machine sharing the package tree must not take a running
    # ingest here for a dead one (archive/fsck.py)
    tmp = tmp_root / f"{uuid.uuid4().hex}-{package.host_tag()}-{os.getpid()}"
    try:
        start = start_of_retention(case, timestamped, archive.now())
        entries = _build(archive, loaded, payload, tmp, by, start, filed)
        payload_hash = hashlib.sha256(package.payload_manifest(tmp).encode()).hexdigest()
        if existing is not None:
            if not package.is_bag(final):
                raise IngestRefused([f"目录登记了报告 {case.report.number}，但档案包不在磁盘上：{final}"
                                     "（请运行 gongu archive audit / fsck，从备份恢复）"])
            if existing["payload_hash"] == payload_hash:
                return IngestResult(case.case_id, case.report.number, final, False, existing["package_hash"])
            raise IngestRefused([f"报告 {case.report.number} 已归档且内容不同；已归档的档案不得覆盖——"
                                 "更正后的报告应以新的报告编号（R 后缀）重新出具并归档（替代关系见 report.supersedes）"])
        crash_point("before_rename")
        final.parent.mkdir(parents=True, exist_ok=True)
        placed = False
        try:
            os.rename(tmp, final)
            placed = True
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            # Someone (another process, or an ingest interrupted before its catalog commit) put a package
            # here first: never over it. Same content → join it; different → refuse.
            if not package.is_bag(final) or package.validate(final, fast=True):
                raise IngestRefused([f"目标位置已有不完整的内容：{final}（请运行 gongu archive fsck）"]) from None
            theirs = hashlib.sha256(package.payload_manifest(final).encode()).hexdigest()
            if theirs != payload_hash:
                raise IngestRefused([f"报告 {case.report.number} 已有内容不同的档案包，不得覆盖"]) from None
        else:
            package.fsync_dir(final.parent)
            package.fsync_dir(tmp_root)
        crash_point("after_rename")
        try:
            # the verification just made, kept with the ingest event: the package page shows it (and its date)
            # without verifying again; the file is the one copied byte for byte into the package
            report_rel = next(p.rel for p in payload if p.role == "report")
            assert verified is not None
            result = register(archive, final, rel, by=by, kind="ingest", entries_count=len(entries),
                              extra={"signature": outcome_record(report_rel.rsplit("/", 1)[-1], verified)})
        except BaseException:
            if placed:
                _withdraw(archive, case, final, tmp)
            raise
        crash_point("after_commit")
        return result
    finally:
        if tmp.exists():
            package.remove_tree(tmp)


def _withdraw(archive: Archive, case: Case, final: Path, tmp: Path) -> None:
    """Take back a package this ingest placed when its catalog write failed (a read-only or damaged
    catalog, a refused statement): no package on the shelf that the catalog does not list. When the
    catalog cannot say whether the write landed (a server gone at COMMIT), the package stays for
    `fsck`, which registers it or reports it."""
    try:
        if archive.catalog.package(case.case_id, case.report.number) is not None:
            return
    except Exception:  # the catalog cannot tell: leave it to fsck
        return
    os.rename(final, tmp)  # off the shelf atomically, then deleted (the caller's finally)
    try:
        final.parent.rmdir()  # <year>/<case>/, when this package was its only content
    except OSError:
        pass


def issued_at(case: Case, timestamped: str | None) -> datetime | None:
    """When the report being archived was issued, as the system saw it: the latest of the issuance the
    issuing step recorded for this report number (`issuances[].issued_at`) and the trusted RFC 3161
    time on the sealed report; None when neither exists."""
    seen = [i.issued_at for i in case.issuances if i.number == case.report.number and i.issued_at is not None]
    if timestamped:
        seen.append(datetime.fromisoformat(timestamped))
    return max(seen, key=lambda t: t.timestamp() if t.tzinfo else t.replace(tzinfo=SHANGHAI).timestamp(),
               default=None)


def start_of_retention(case: Case, timestamped: str | None, now: datetime) -> RetentionStart:
    """10.4: the latest of the recorded closure, the issuance and this ingest (archive/retention.py)."""
    assert case.delivery.closed_at is not None
    return retention_start(case.delivery.closed_at, issued_at(case, timestamped), now)


def _build(archive: Archive, loaded: LoadedCase, payload: list[package.PayloadFile], tmp: Path,
           by: str, start: RetentionStart, filed: list[forensic.Filed] | None = None) -> list[md.FileEntry]:
    case = loaded.case
    tmp.mkdir()
    entries: list[md.FileEntry] = []
    for item in payload:
        target = inside(tmp, *item.rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.source is not None:
            size, digest = package.copy_hashed(item.source, target)
        else:
            assert item.content is not None
            package.write_bytes_synced(target, item.content)
            size, digest = len(item.content), hashlib.sha256(item.content).hexdigest()
        entries.append(md.FileEntry(f"data/{item.rel}", item.role, size, md.media_type_for(item.rel), digest))
    crash_point("after_payload")
    cls = class_for(case, archive.config.retention)
    tags: dict[str, bytes] = {}
    if is_forensic(case):
        assert filed is not None
        titled = {f"data/{f.item.rel}": f.title for f in filed}
        entries = [replace(e, title=titled.get(e.path)) for e in entries]
        meta = forensic_metadata.build_metadata(case, entries, cls, start, ingested_at=archive.now(), ingested_by=by,
                                       software=SOFTWARE)
        what = f"司法鉴定档案 {case.case_id} 文书 {case.report.number}"
    else:
        total = adjustment_to_dict(case, adjust(case))["totals"]["total_payable"]  # type: ignore[index]
        meta = md.build_metadata(case, entries, cls, start, total_payable=str(total), ingested_at=archive.now(),
                                 ingested_by=by, software=SOFTWARE)
        what = f"公估档案 {case.case_id} 报告 {case.report.number}"
    package.make_bag(tmp, {"Source-Organization": case.organization_name, "External-Identifier": case.case_id,
                           "External-Description": what, "Bag-Group-Identifier": case.case_id})
    index = None
    if is_forensic(case):
        assert filed is not None
        # the 卷内目录 and 备考表: tag files, so re-ingesting the same content later stays a no-op
        index = forensic.file_index(case, filed, entries, tmp)
        tags = forensic.tag_files(index, forensic.filing_note(case, index, by=by, at=archive.now()))
    # the check codes of the documents in the package (an optional key: absent when none has a code)
    if codes := check_codes.code_records(meta, json.loads(loaded.raw), tmp, index):
        meta["check_codes"] = codes
    # the search record: what the index needs, derived now so no later model has to re-read this case file
    fmt.describe(tmp, meta, fmt.build_search_record(case), tags)
    package.fsync_tree(tmp)
    crash_point("after_bag")
    problems = package.validate(tmp)
    if problems:
        raise ArchiveError("新建档案包未通过 BagIt 校验：" + "；".join(problems))
    return entries


def register(archive: Archive, final: Path, rel: str, *, by: str, kind: str, entries_count: int | None = None,
             extra: dict[str, Any] | None = None) -> IngestResult:
    """Record a complete package on disk in the catalog and the log (idempotent); `extra`: more details
    for the ingest event (a joined package names the archive it came from, archive/join.py)."""
    meta = fmt.open_package(final).metadata
    pkg_hash = package.package_hash(final)
    payload_hash = hashlib.sha256(package.payload_manifest(final).encode()).hexdigest()
    events = []
    with archive.catalog.write():
        row = archive.catalog.package(meta["case_id"], meta["report"]["number"])
        if row is None:
            package_id = archive.catalog.add_package(
                case_id=meta["case_id"], report_number=meta["report"]["number"], rel_path=rel,
                year=int(rel.split("/")[0]), kind=meta["kind"], statutory=int(bool(meta["statutory"])),
                retention_class=meta["retention"]["class"], closed_at=meta["dates"]["closure"],
                retention_until=meta["retention"]["until"], package_hash=pkg_hash, payload_hash=payload_hash,
                file_count=meta["totals"]["files"], byte_count=meta["totals"]["bytes"],
                ingested_at=meta["ingest"]["at"], ingested_by=meta["ingest"]["by"])
            # the ingest event also queues the index update in this transaction (archive/catalog.py)
            events.append(archive.catalog.append_event(
                kind, archive.now(), by, meta["case_id"], meta["report"]["number"],
                {"rel_path": rel, "package_hash": pkg_hash, "payload_hash": payload_hash,
                 "files": meta["totals"]["files"], "bytes": meta["totals"]["bytes"],
                 "retention_class": meta["retention"]["class"], "retention_until": meta["retention"]["until"],
                 "supersedes": meta["report"]["supersedes"], **(extra or {})}))
            # the codes of its documents, kept after disposal for the public check page (archive/check_codes.py)
            check_codes.add_rows(archive.catalog, package_id, meta["case_id"], meta.get("check_codes") or [])
            # the draw that chose the institution, in the same transaction (idempotent per record hash)
            events += package_draw_events(archive, final, meta, by=by)
            created = True
        else:
            pkg_hash = row["package_hash"]
            created = False
    crash_point("before_index")  # committed, index not yet updated: the queued event catches it up
    archive.committed(events)
    return IngestResult(meta["case_id"], meta["report"]["number"], final, created, pkg_hash)
