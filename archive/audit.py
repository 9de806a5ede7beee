"""Audit of every package, grouped by the four properties of electronic-archive testing (四性检测,
DA/T 70-2018; GB/T 18894-2016): 真实性 authenticity, 完整性 integrity, 可用性 usability, 安全性 security.
Each check is one row; the audit fails when any error-level row fails."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping

from archive import metadata as md
from archive import package
from archive import package_format as fmt
from archive.catalog import Event
from archive.check_codes import withdrawal_log_problems
from archive.disposal import approval_log_problems
from archive.eventlog import CLOCK_TOLERANCE, event_times, future_events, time_reversals, verify_log
from archive.holds import hold_log_problems
from archive.names import UnsafePathError, inside
from archive.store import Archive
from archive.timestamps import check_token
from generator.types import beijing_date
from signing.pdfa import profile
from signing.status import VerifyOutcome

PROPERTIES = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}
OPEN_FORMATS = {"application/pdf", "application/json", "text/csv", "text/plain", "image/jpeg", "image/png",
                "image/tiff", "audio/mp4", "audio/mpeg", "audio/wav", "audio/x-wav", "video/mp4", "application/ofd",
                md.DOCX}  # OOXML (ISO/IEC 29500): the forensic documents' editable text
_EXECUTABLE_MAGIC = (b"\x7fELF", b"MZ", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")
# DA/T 70 可用性: no compressed or encrypted containers inside a package (their content escapes the checks)
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")
@dataclass
class Check:
    prop: str
    name: str
    ok: bool
    detail: str = ""
    package: str | None = None
    level: str = "error"  # "error" fails the audit; "warning" is reported only


@dataclass
class AuditResult:
    checks: list[Check] = field(default_factory=list)
    packages: int = 0
    bytes_checked: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.level == "error")

    def add(self, prop: str, name: str, ok: bool, detail: str = "", package: str | None = None,
            level: str = "error") -> None:
        self.checks.append(Check(prop, name, ok, detail, package, level))

    def as_dict(self) -> dict[str, Any]:
        groups = {}
        for key, title in PROPERTIES.items():
            rows = [asdict(c) for c in self.checks if c.prop == key]
            failed = [r for r in rows if not r["ok"] and r["level"] == "error"]
            groups[key] = {"title": title, "ok": not failed, "checked": len(rows), "failed": len(failed),
                           "checks": rows}
        return {"ok": self.ok, "packages": self.packages, "bytes_checked": self.bytes_checked, "properties": groups}


def audit(archive: Archive, *, progress: Callable[[str, int], None] | None = None,
          trusted_certs: list[Any] = (), log_events: bool = True, by: str = "audit") -> AuditResult:  # type: ignore[assignment]
    result = AuditResult()
    cat = archive.catalog
    # the database's own check first: a damaged B-tree page hides rows from every query below
    damaged = cat.integrity_problems()
    result.add("integrity", "目录数据库完整性检查（integrity_check）", not damaged, "；".join(damaged[:5]))
    # The root must be this archive's (archive/identity.py). An unmounted or foreign share is a mount to
    # fix, not lost packages to restore: the package checks are skipped, so none says "restore from backup".
    state = archive.root_state()
    result.add("integrity", "档案根目录为本档案（共享目录已挂载，标识一致）", state.ok, state.message)
    if state.mount_problem:
        _audit_disposals(archive, result)
        _audit_log(archive, result, trusted_certs)
        _audit_clock(archive, result)
        return result
    rows = cat.packages(state="active")
    result.packages = len(rows)
    ingest_events: dict[tuple[str, str], Event] = {}
    for e in cat.events():
        if e.kind in ("ingest", "ingest_recovered") and e.case_id and e.report_number:
            ingest_events.setdefault((e.case_id, e.report_number), e)
    outcomes: list[tuple[RowMapping, bool, dict[str, Any] | None]] = []
    # Signature validation (pyHanko, mostly Python) runs in a helper thread while this thread hashes
    # files (hashlib releases the GIL), so the two overlap instead of adding up.
    pool = ThreadPoolExecutor(max_workers=1)
    hashing = ThreadPoolExecutor(max_workers=2)  # fixity of two packages at once: hashlib runs outside the GIL
    fixity = {row["rel_path"]: hashing.submit(_fixity, archive.root, row["rel_path"]) for row in rows}
    signatures: dict[str, tuple[Path, Future[VerifyOutcome]]] = {}
    if archive.verifier is not None:
        for row in rows:
            try:  # the report the package's own metadata names; an unreadable package is reported below
                report = fmt.open_package(archive.root.joinpath(*row["rel_path"].split("/"))).report_pdf()
            except (fmt.PackageFormatError, OSError):
                report = None
            if report is not None:
                signatures[row["rel_path"]] = (report, pool.submit(archive.verifier, report))
    for row in rows:
        first = len(result.checks)
        before = len([c for c in result.checks if not c.ok and c.level == "error"])
        size = _audit_package(archive, row, result, ingest_events, signatures, fixity[row["rel_path"]])
        after = len([c for c in result.checks if not c.ok and c.level == "error"])
        report = signatures.get(row["rel_path"])
        outcomes.append((row, before == after, _signature_record(result.checks[first:], report[0].name if report else "")))
        if progress:
            progress(row["rel_path"], size)
    pool.shutdown()
    hashing.shutdown()
    _audit_catalog_vs_disk(archive, rows, result)
    _audit_disposals(archive, result)
    _audit_draws(archive, result)
    result.add("authenticity", "冻结记录与日志一致（冻结、解除均有日志事件）", not (holds := hold_log_problems(cat)),
               "；".join(holds[:5]))
    result.add("authenticity", "撤回记录与日志一致（已撤回的校验码均有日志事件）",
               not (withdrawn := withdrawal_log_problems(cat)), "；".join(withdrawn[:5]))
    _audit_disposal_times(archive, result)
    _audit_log(archive, result, trusted_certs)
    _audit_clock(archive, result)
    if log_events and outcomes and state.ok:
        events = []
        with cat.write():
            at = archive.now()
            for row, ok, signed in outcomes:
                # the report's verification kept apart, so the package page shows it with this audit's date
                details: dict[str, Any] = {"ok": ok, "rel_path": row["rel_path"]}
                if signed is not None:
                    details["signature"] = signed
                events.append(cat.append_event("fixity_check", at, by, row["case_id"], row["report_number"], details))
        archive.committed(events)
    return result


_SIGNATURE_CHECK = "报告签章有效"


def _signature_record(checks: list[Check], file: str) -> dict[str, Any] | None:
    """The report verification among one package's checks, as the log keeps it (archive/signature_checks.py)."""
    found = next((c for c in checks if c.name == _SIGNATURE_CHECK), None)
    return None if found is None else {"file": file, "ok": found.ok, "summary": found.detail}


def _fixity(root: Path, rel: str) -> list[str]:
    path = root.joinpath(*rel.split("/"))
    return package.validate(path) if package.is_bag(path) else ["不是 BagIt 档案包"]


def _audit_package(archive: Archive, row: RowMapping, result: AuditResult, ingest_events: dict[tuple[str, str], Event],
                   signatures: dict[str, tuple[Path, Future[VerifyOutcome]]], fixity: Future[list[str]]) -> int:
    rel = row["rel_path"]
    try:
        path = inside(archive.root, *rel.split("/"))
    except UnsafePathError as exc:
        result.add("security", "存储路径在归档根目录之内", False, str(exc), rel)
        return 0
    if not package.is_bag(path):
        result.add("integrity", "档案包存在", False,
                   "目录登记为在库的档案包不在磁盘上——事故：从备份恢复；不得以销毁处理", rel)
        return 0
    result.add("security", "存储可读", os.access(path, os.R_OK), package=rel)

    # 真实性: fixity of every file for both algorithms, tag manifests included (bagit library).
    problems = fixity.result()
    result.add("authenticity", "固定性（BagIt SHA-256/SHA-512 清单与标签清单）", not problems, "；".join(problems[:5]), rel)
    result.add("authenticity", "包哈希与目录登记一致", package.package_hash(path) == row["package_hash"],
               "tagmanifest-sha256.txt 的哈希与归档时登记的不同", rel)

    # 可用性: metadata parses; 真实性: metadata well-formed and matching the catalog.
    try:
        meta = json.loads((path / md.METADATA_FILE).read_text(encoding="utf-8"))
        parses = isinstance(meta, dict)
    except (OSError, ValueError) as exc:
        meta, parses = {}, False
        result.add("usability", "著录信息 metadata.json 可解析", False, str(exc), rel)
    if parses:
        result.add("usability", "著录信息 metadata.json 可解析", True, package=rel)
    missing = [k for k in md.REQUIRED_KEYS if k not in meta]
    result.add("integrity", "必备著录项齐全", not missing, f"缺少：{', '.join(missing)}" if missing else "", rel)
    if missing:
        return 0
    malformed = fmt.metadata_problems(meta)
    result.add("authenticity", "著录信息格式正确（类型、范围、格式、无重复）", not malformed, "；".join(malformed[:5]), rel)
    if malformed:
        return 0
    same = (meta.get("schema") in md.ROLES_BY_SCHEMA and meta.get("case_id") == row["case_id"]
            and meta["report"].get("number") == row["report_number"]
            and meta["retention"].get("until") == row["retention_until"]
            and meta["retention"].get("class") == row["retention_class"]
            and bool(meta.get("statutory")) == bool(row["statutory"]))
    result.add("authenticity", "著录信息与目录登记一致（案件号、报告号、保管期限、类别）", same,
               "" if same else f"目录：保管至 {row['retention_until']}，类别 {row['retention_class']}；"
               f"著录：保管至 {meta['retention'].get('until')}，类别 {meta['retention'].get('class')}", rel)
    try:
        sealed_until = fmt.ArchivedPackage(path, md.SCHEMA, meta, ()).retention_until(archive.config.retention)
        short = date.fromisoformat(row["retention_until"]) < sealed_until
        detail = f"目录 {row['retention_until']} 早于按档案包结案日期与类别计算的 {sealed_until}（10.4）"
    except (fmt.PackageFormatError, ValueError) as exc:
        short, detail = True, str(exc)
    result.add("authenticity", "目录保管期限不早于档案包自身计算的期限（10.4）", not short, detail if short else "", rel)
    event = ingest_events.get((row["case_id"], row["report_number"]))
    if event is not None:
        agree = (event.details.get("package_hash") == row["package_hash"]
                 and event.details.get("retention_until") in (None, row["retention_until"]))
        result.add("authenticity", "目录登记与签名日志的归档事件一致（包哈希、保管期限）", agree,
                   "" if agree else f"日志：包哈希 {str(event.details.get('package_hash'))[:12]}…，保管至 "
                   f"{event.details.get('retention_until')}；目录：包哈希 {row['package_hash'][:12]}…，"
                   f"保管至 {row['retention_until']}", rel)

    manifest = fmt.manifest_sha256(path)
    on_disk = {str(p.relative_to(path)).replace(os.sep, "/") for p in (path / "data").rglob("*") if p.is_file() or p.is_symlink()}
    files = meta.get("files") or []
    declared = {f.get("path") for f in files}
    size_total = 0
    mismatches: list[str] = []
    formats: list[str] = []
    packed: list[str] = []
    for f in files:
        name = f.get("path", "")
        try:
            fp = inside(path, *name.split("/"))
        except UnsafePathError:
            mismatches.append(f"{name}：路径越界")
            continue
        if not fp.is_file():
            mismatches.append(f"{name}：文件不存在")
            continue
        st = fp.stat()
        size_total += st.st_size
        if st.st_size != f.get("size"):
            mismatches.append(f"{name}：大小 {st.st_size} ≠ 著录 {f.get('size')}")
        if manifest.get(name) != f.get("sha256"):
            mismatches.append(f"{name}：SHA-256 与清单不符")
        with fp.open("rb") as fh:
            head = fh.read(16)
        sniffed = md.sniffed_type(head)
        if sniffed is not None and sniffed != f.get("media_type"):
            mismatches.append(f"{name}：实际格式 {sniffed} ≠ 著录 {f.get('media_type')}")
        if f.get("media_type") not in OPEN_FORMATS:
            formats.append(f"{name}（{f.get('media_type')}）")
        # a DOCX is a ZIP by definition (OOXML); any other ZIP hides content from these checks
        if head.startswith(_ARCHIVE_MAGIC) and f.get("media_type") != md.DOCX:
            packed.append(name)
        if head.startswith(_EXECUTABLE_MAGIC):
            result.add("security", "无可执行文件（恶意代码筛查）", False, f"{name} 是可执行文件或脚本", rel)
    result.add("authenticity", "文件属性与著录一致（名称、大小、格式、哈希）", not mismatches, "；".join(mismatches[:5]), rel)
    extra, absent = on_disk - declared, declared - on_disk
    result.add("integrity", "文件数与著录、目录登记一致",
               not extra and not absent and meta["totals"].get("files") == len(files) == row["file_count"],
               "；".join([f"未著录：{x}" for x in sorted(extra)][:3] + [f"缺失：{x}" for x in sorted(absent)][:3]), rel)
    result.add("integrity", "字节数与著录一致", meta["totals"].get("bytes") == size_total == row["byte_count"],
               f"磁盘 {size_total}，著录 {meta['totals'].get('bytes')}，目录 {row['byte_count']}", rel)
    roles = {f.get("role") for f in files}
    result.add("integrity", "内容齐全（报告、案件文件、工作底稿、审核记录，10.2）",
               fmt.required_roles(meta) <= roles, f"现有：{sorted(map(str, roles))}", rel)
    result.add("usability", "格式为开放格式", not formats, "；".join(formats[:5]), rel)
    result.add("usability", "包内无压缩封装（zip、rar、7z、gzip…）", not packed, "；".join(packed[:5]), rel)
    result.add("integrity", "处理过程有记录（归档事件在日志中）", event is not None, "日志中没有该包的归档事件", rel)
    actor = event.actor if event is not None else None
    result.add("security", "归档过程受控并有记录（归档人与日志一致）", actor == meta["ingest"].get("by"),
               f"日志：{actor}，著录：{meta['ingest'].get('by')}", rel)
    links = [str(p.relative_to(path)) for p in path.rglob("*") if p.is_symlink()]
    result.add("security", "包内无符号链接", not links, "；".join(links[:3]), rel)

    reports = [f for f in files if f.get("role") == "report"]
    if reports:
        report_path = path / reports[0]["path"]
        prof = profile(report_path)
        result.add("usability", "报告为 PDF/A（XMP pdfaid）", prof.pdfa is not None,
                   prof.problem or ("PDF/A-" + prof.pdfa if prof.pdfa else "XMP 中没有 pdfaid:part"), rel)
        result.add("usability", "包内无加密", prof.readable and not prof.encrypted, prof.problem or "", rel)
        if archive.verifier is None:
            result.add("authenticity", _SIGNATURE_CHECK, False, "未配置签章核验（信任根）", rel)
        elif report_path.is_file():
            pending = signatures.get(rel)
            # use the check started early only if it looked at the very file the metadata names
            if pending is not None and pending[0] == report_path.resolve():
                outcome = pending[1].result()
            else:
                outcome = archive.verifier(report_path)
            result.add("authenticity", _SIGNATURE_CHECK, outcome.ok, outcome.summary, rel)
    result.bytes_checked += size_total
    return size_total


def _audit_catalog_vs_disk(archive: Archive, rows: list[RowMapping], result: AuditResult) -> None:
    bags = {str(p.relative_to(archive.root)).replace(os.sep, "/") for p in package.iter_bags(archive.root)}
    active = {r["rel_path"] for r in rows}
    disposed = {r["rel_path"] for r in archive.catalog.packages(state="disposed")}
    result.add("integrity", "目录与磁盘档案包数量一致", len(bags) == len(active) and bags == active,
               f"磁盘 {len(bags)} 个，目录在库 {len(active)} 个；未登记：{sorted(bags - active)[:3]}；"
               f"缺失：{sorted(active - bags)[:3]}")
    result.add("integrity", "已销毁的档案包不在磁盘上（墓碑完整）", not (bags & disposed), f"{sorted(bags & disposed)[:3]}")
    tombs = archive.catalog.tombstone_count()
    result.add("integrity", "每个已销毁档案包有墓碑记录", tombs == len(disposed), f"墓碑 {tombs}，已销毁 {len(disposed)}")
    leftovers = [p.name for d in (package.TMP_DIR, package.TRASH_DIR) if (archive.root / d).is_dir()
                 for p in (archive.root / d).iterdir()]
    result.add("security", "无未完成操作的残留（临时目录）", not leftovers, f"{leftovers[:3]}（运行 gongu archive fsck）",
               level="warning")


def _audit_disposals(archive: Archive, result: AuditResult) -> None:
    """Every disposal row the catalog holds must be backed by its proposal and approval events in the
    signed log: an 'approved' row inserted by SQL has none (10.4: disposal needs two people)."""
    problems: list[str] = []
    for d in archive.catalog.disposals():
        problems += approval_log_problems(archive.catalog, d, approved=d["state"] in ("approved", "executed"))
    result.add("authenticity", "销毁提议与批准均有日志记录（目录与日志一致）", not problems, "；".join(problems[:5]))


def _audit_draws(archive: Archive, result: AuditResult) -> None:
    """One draw per case (archive/draw_log.py): every case whose log holds more than one draw record is
    listed; a chain of re-draws, each naming the record before it, is a warning, anything else an error."""
    by_case: dict[str, list[Event]] = {}
    for e in archive.catalog.draw_events():
        records = by_case.setdefault(str(e.case_id), [])
        if all(r.details.get("record_sha256") != e.details.get("record_sha256") for r in records):
            records.append(e)
    chained: list[str] = []
    unchained: list[str] = []
    for case_id, records in sorted(by_case.items()):
        if len(records) < 2:
            continue
        line = f"案件 {case_id}：{len(records)} 份抽取记录（日志第 {'、'.join(str(r.seq) for r in records)} 条）"
        ok = all(r.details.get("replaces") == records[i - 1].details.get("record_sha256") for i, r in enumerate(records) if i)
        (chained if ok else unchained).append(line)
    result.add("authenticity", "每个案件只有一份抽取记录（或依次取代的重新抽取）", not unchained, "；".join(unchained))
    result.add("authenticity", "重新抽取的案件", not chained, "；".join(chained), level="warning")


_DISPOSAL_STEPS = ("disposal_proposed", "disposal_approved", "disposal_executed")


def _audit_disposal_times(archive: Archive, result: AuditResult) -> None:
    """Each disposal step's RFC 3161 token re-checked: intact, signed by a trusted TSA, over this very step
    (its message names the step and the case), and no package destroyed before its retention end by the
    token's time (10.4) — whatever the machine's clock said then."""
    cat = archive.catalog
    retention: dict[tuple[str, str], date] = {}
    for e in cat.events():
        if e.kind in ("ingest", "ingest_recovered") and e.case_id and e.report_number and e.details.get("retention_until"):
            retention.setdefault((e.case_id, e.report_number), date.fromisoformat(str(e.details["retention_until"])))
    for row in cat.packages(state="disposed"):
        key = (row["case_id"], row["report_number"])
        ends = [date.fromisoformat(row["retention_until"])] + ([retention[key]] if key in retention else [])
        retention[key] = max(ends)
    problems: list[str] = []
    early: list[str] = []
    unstamped: list[str] = []
    for e in cat.events():
        if e.kind not in _DISPOSAL_STEPS:
            continue
        record = e.details.get("timestamp")
        where = f"日志事件 {e.seq}（{e.kind}，案件 {e.case_id}）"
        if not isinstance(record, dict):
            unstamped.append(where)
            continue
        check = check_token(record, archive.timestamp_roots)
        problems += [f"{where}：{p}" for p in check.problems]
        try:
            message = json.loads(str(record.get("message")))
        except ValueError:
            message = {}
        if not isinstance(message, dict) or (message.get("step"), message.get("case_id"), message.get("by")) != (
                e.kind, e.case_id, e.actor):
            problems.append(f"{where}：时间戳所覆盖的决定与事件不符（{str(record.get('message'))[:120]}）")
        until = retention.get((str(e.case_id), str(e.report_number)))
        if e.kind == "disposal_executed" and check.time is not None and until is not None:
            day = beijing_date(check.time)
            if day < until:
                early.append(f"{e.case_id} 报告 {e.report_number} 于 {day.isoformat()}（时间戳服务的时间）销毁，"
                             f"保管期限至 {until.isoformat()}（10.4）")
    result.add("authenticity", "销毁各步的可信时间戳有效且属于该步", not problems, "；".join(problems[:5]))
    result.add("authenticity", "无提前销毁（按时间戳服务的时间核对保管期限，10.4）", not early, "；".join(early[:5]))
    if archive.timestamper is not None:
        result.add("authenticity", "销毁各步均带可信时间戳（已配置时间戳服务）", not unstamped,
                   "无时间戳：" + "；".join(unstamped[:5]), level="warning")


def _audit_log(archive: Archive, result: AuditResult, trusted: list[Any]) -> None:
    report = verify_log(archive.catalog, export_dir=archive.config.checkpoint_dir, trusted=trusted)
    gaps = [p for p in report.problems if "不连续" in p]
    result.add("integrity", "日志序号连续", not gaps, "；".join(gaps[:3]))
    rest = [p for p in report.problems if p not in gaps]
    result.add("authenticity", "日志未被改写（Merkle 树、签名检查点一致性）", not rest, "；".join(rest[:5]))
    result.add("security", "日志有签名检查点", report.checkpoints_checked > 0, "尚无签名检查点", level="warning")


def _audit_clock(archive: Archive, result: AuditResult) -> None:
    """A clock set forward and back again (to dispose early) leaves event times that step back; one set
    back now leaves events dated in the future. A forward jump never undone needs an outside time."""
    times = event_times(archive.catalog)
    minutes = int(CLOCK_TOLERANCE.total_seconds() // 60)
    back = time_reversals(times)
    result.add("authenticity", f"日志事件时间不倒退（容差 {minutes} 分钟，时钟未被调回）", not back, "；".join(back[:5]))
    ahead = future_events(times, archive.now())
    result.add("authenticity", f"日志中没有晚于档案时钟的事件（容差 {minutes} 分钟）", not ahead,
               "；".join(ahead[:5]) + (f"；共 {len(ahead)} 个" if len(ahead) > 5 else ""))


def summary_lines(result: AuditResult) -> list[str]:
    d = result.as_dict()
    lines = [f"共检查 {d['packages']} 个档案包，{d['bytes_checked']} 字节"]
    for key, g in d["properties"].items():
        mark = "✓" if g["ok"] else "✗"
        lines.append(f"{mark} {g['title']}（{key}）：{g['checked']} 项检查，{g['failed']} 项未通过")
        for c in g["checks"]:
            if not c["ok"]:
                tag = "警告" if c["level"] == "warning" else "未通过"
                where = f"[{c['package']}] " if c["package"] else ""
                lines.append(f"    {tag}：{where}{c['name']} — {c['detail']}")
    lines.append("审计通过" if result.ok else "审计未通过")
    return lines


