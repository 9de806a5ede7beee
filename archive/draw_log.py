"""The draw of the institution as an event of the archive's tamper-evident log (Sichuan 二(三) 公平随机).

A "draw" event names the case, the SHA-256 of the draw record's bytes, the seed and the chosen licence
(after declines). It is appended two ways, both idempotent for the same record hash:
- `gongu draw log RECORD --by NAME`, at the time of the draw, before any case is archived — so the log
  fixes the result years before the package exists;
- on ingest of a case whose package carries the record (role `draw_record`), in the same transaction
  as the ingest event (archive/ingest.register), unless the same record was logged already.

One draw per case: `gongu draw log` refuses a second, different record for a case already logged unless
it is a re-draw whose `redraw.replaces` names the SHA-256 of the case's latest logged record, and refuses
any new record for a case already archived. A package that brings a different record all the same is
logged (the log keeps what happened) and audit lists every case with more than one draw record.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from archive.catalog import Event
from archive.store import Archive
from generator import limits
from generator.forensic import draw
from generator.forensic.draw_link import chosen_licence


class DrawLogRefused(Exception):
    """The record cannot be logged; the message says why."""


def draw_details(record: dict[str, Any], raw: bytes, via: str) -> dict[str, Any]:
    chosen = record.get("chosen") if isinstance(record.get("chosen"), dict) else None
    return {"record_sha256": hashlib.sha256(raw).hexdigest(), "case_id": record.get("case_id"),
            "seed": record.get("seed"), "list_hash": record.get("list_hash"), "chosen_licence": chosen_licence(record),
            "chosen_name": chosen.get("name") if chosen else None, "drawn_at": record.get("drawn_at"),
            "declines": len(record.get("declines") or []), "via": via,
            "record_digest": record.get(draw.DIGEST_KEY), "replaces": (record.get("redraw") or {}).get("replaces")}


def second_draw_problem(archive: Archive, record: dict[str, Any], raw: bytes) -> str | None:
    """Why this record may not be logged beside the case's earlier draws (None: it may). Inside a write
    transaction, so a check-then-append cannot race."""
    sha = hashlib.sha256(raw).hexdigest()
    case_id = record.get("case_id")
    logged = [e for e in archive.catalog.draw_events(case_id=case_id) if e.details.get("record_sha256") != sha]
    if not logged:
        return None
    latest = logged[-1].details.get("record_sha256")
    replaces = (record.get("redraw") or {}).get("replaces") if isinstance(record.get("redraw"), dict) else None
    if replaces is None:
        return (f"案件 {case_id} 已登记过另一份抽取记录（SHA-256 {latest}，日志第 {logged[-1].seq} 条）：同一案件只登记一次抽取；"
                "确需重新抽取时，用 gongu draw prepare --redraw-of 原记录 --redraw-reason 理由 生成重新抽取的记录")
    if replaces != latest:
        return f"重新抽取记录所取代的记录（SHA-256 {replaces}）不是案件 {case_id} 最近登记的抽取记录 {latest}"
    return None


def append_draw(archive: Archive, record: dict[str, Any], raw: bytes, *, by: str, via: str,
                report_number: str | None = None) -> Event | None:
    """Append the draw event inside the caller's write transaction; None when this record is logged."""
    details = draw_details(record, raw, via)
    if archive.catalog.draw_events(details["record_sha256"]):
        return None
    return archive.catalog.append_event("draw", archive.now(), by, record.get("case_id"), report_number, details)


def log_draw(archive: Archive, path: Path, *, by: str) -> tuple[Event | None, dict[str, Any]]:
    """`gongu draw log`: the record must re-compute (draw.verify_record) before the log vouches for it.
    Returns (the new event or None when already logged, the event details)."""
    if not by.strip():
        raise DrawLogRefused("须写明登记人（--by）")
    try:
        with path.open("rb") as fh:
            raw = fh.read(limits.MAX_FILE_BYTES + 1)
        record = draw.parse_record(raw, str(path))
    except OSError as exc:
        raise DrawLogRefused(f"无法读取抽取记录 {path}（{exc.strerror or exc}）") from None
    except draw.RecordUnreadable as exc:
        raise DrawLogRefused(str(exc)) from None
    problems = draw.verify_record(record)
    if problems:
        raise DrawLogRefused("抽取记录重新计算不一致，不能登记：" + "；".join(f"{p.path} {p.title}：{p.message}" for p in problems))
    with archive.catalog.write():
        sha = hashlib.sha256(raw).hexdigest()
        if not archive.catalog.draw_events(sha):
            if archive.catalog.packages(str(record["case_id"])):
                raise DrawLogRefused(f"案件 {record['case_id']} 已归档：抽取必须在归档之前登记，归档后不再登记新的抽取记录")
            problem = second_draw_problem(archive, record, raw)
            if problem:
                raise DrawLogRefused(problem)
        event = append_draw(archive, record, raw, by=by, via="gongu draw log")
    if event is not None:
        archive.committed([event])
    return event, draw_details(record, raw, "gongu draw log")


def package_draw_events(archive: Archive, package_dir: Path, meta: dict[str, Any], *, by: str) -> list[Event]:
    """On ingest (inside its transaction): a draw event for each draw record the package carries."""
    out: list[Event] = []
    for f in meta.get("files") or []:
        if f.get("role") != "draw_record":
            continue
        raw = (package_dir / f["path"]).read_bytes()
        try:
            record = draw.parse_record(raw, f["path"])
        except draw.RecordUnreadable:
            continue  # the ingest refused unreadable records before (rule forensic.selection.draw_record)
        if isinstance(record, dict):
            event = append_draw(archive, record, raw, by=by, via="ingest", report_number=meta["report"]["number"])
            if event is not None:
                out.append(event)
    return out
