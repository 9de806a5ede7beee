"""The verification of each package's sealed report as the log records it, so the package page shows what
was found and when without verifying again (one verify of a tagged report costs about a second):

- at ingest: the ingest event's `signature` (ingest refuses a report that does not verify, so it says ✓);
- by each 四性 audit: each `fixity_check` event's `signature` (archive/audit.py);
- by 「立即验证」: a `signature_check` event per package (`verify_case`, run as a job by the gongu layer).

A package ingested before results were recorded, or registered by fsck, has no ingest result; the page
says so rather than showing a check nobody made."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping

from archive import package
from archive import package_format as fmt
from archive.catalog import Event
from archive.names import UnsafePathError, inside
from archive.store import Archive, ArchiveError
from signing.status import VerifyOutcome

# where a recorded result comes from, in the order the page lists them
SOURCES = {"ingest": "归档时核验", "audit": "四性检测", "verify": "立即验证"}
_EVENT_SOURCE = {"ingest": "ingest", "fixity_check": "audit", "signature_check": "verify"}


def outcome_record(file: str, outcome: VerifyOutcome) -> dict[str, Any]:
    """What an event keeps of one verification: the report's file name, the verdict and its summary."""
    return {"file": file, "ok": bool(outcome.ok), "summary": outcome.summary}


@dataclass(frozen=True)
class RecordedCheck:
    source: str  # a key of SOURCES
    seq: int
    at: str
    actor: str
    ok: bool
    summary: str
    file: str

    @property
    def title(self) -> str:
        return SOURCES[self.source]


def recorded_checks(events: Iterable[Event]) -> dict[str, dict[str, RecordedCheck]]:
    """Per report number, the latest recorded result of each source (a source never recorded is absent)."""
    out: dict[str, dict[str, RecordedCheck]] = {}
    for e in events:
        source = _EVENT_SOURCE.get(e.kind)
        record = e.details.get("signature") if source is not None and e.report_number else None
        if not isinstance(record, dict):
            continue
        out.setdefault(str(e.report_number), {})[source] = RecordedCheck(  # type: ignore[index]
            source=str(source), seq=e.seq, at=e.at, actor=e.actor, ok=record.get("ok") is True,
            summary=str(record.get("summary", "")), file=str(record.get("file", "")))
    return out


def latest(checks: dict[str, RecordedCheck]) -> RecordedCheck | None:
    """The most recent of a report's recorded results, whatever its source."""
    return max(checks.values(), key=lambda c: c.seq, default=None)


def check_package(archive: Archive, row: RowMapping) -> dict[str, Any]:
    """Verify the sealed report of one active package now, as the audit does (the file its metadata names)."""
    try:
        path = inside(archive.root, *row["rel_path"].split("/"))
    except UnsafePathError as exc:
        return {"file": "", "ok": False, "summary": str(exc)}
    if not package.is_bag(path):
        return {"file": "", "ok": False, "summary": f"档案包不在磁盘上：{row['rel_path']}（请运行四性检测 / fsck）"}
    try:
        report = fmt.open_package(path).report_pdf()
    except (fmt.PackageFormatError, OSError) as exc:
        return {"file": "", "ok": False, "summary": f"档案包无法读取：{exc}"}
    if report is None:
        return {"file": "", "ok": False, "summary": "档案包中没有已签章的报告"}
    if archive.verifier is None:
        return {"file": report.name, "ok": False, "summary": "未配置签章核验（信任根）"}
    return outcome_record(report.name, archive.verifier(report))


def verify_case(archive: Archive, case_id: str, *, by: str,
                progress: Callable[[str, int, int], None] | None = None) -> list[Event]:
    """「立即验证」: verify the report of every active package of the case and record each result as a
    `signature_check` event (verifying first, then one short write: no lock held while pyHanko runs)."""
    rows = archive.catalog.packages(case_id, state="active")
    if not rows:
        raise ArchiveError(f"档案中没有案件 {case_id} 的在库档案包")
    results = []
    for n, row in enumerate(rows):
        if progress:
            progress(f"核验报告 {row['report_number']} 的签章", n, len(rows))
        results.append((row, check_package(archive, row)))
    events = []
    with archive.catalog.write():
        at = archive.now()
        for row, record in results:
            events.append(archive.catalog.append_event(
                "signature_check", at, by, row["case_id"], row["report_number"],
                {"rel_path": row["rel_path"], "package_hash": row["package_hash"], "signature": record}))
    archive.committed(events)
    return events
