"""The draw of the institution as an event of the archive's tamper-evident log (issue 14 §2).

A "draw" event names the case, the SHA-256 of the draw record's bytes, the seed and the chosen licence
(after declines). It is appended two ways, both idempotent for the same record hash:
- `gongu draw log RECORD --by NAME`, at the time of the draw, before any case is archived — so the log
  fixes the result years before the package exists;
- on ingest of a case whose package carries the record (role `draw_record`), in the same transaction
  as the ingest event (archive/ingest.register), unless the same record was logged already.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from archive.catalog import Event
from archive.store import Archive
from generator.forensic import draw
from generator.forensic.draw_link import chosen_licence


class DrawLogRefused(Exception):
    """The record cannot be logged; the message says why."""


def draw_details(record: dict[str, Any], raw: bytes, via: str) -> dict[str, Any]:
    chosen = record.get("chosen") if isinstance(record.get("chosen"), dict) else None
    return {"record_sha256": hashlib.sha256(raw).hexdigest(), "case_id": record.get("case_id"),
            "seed": record.get("seed"), "list_hash": record.get("list_hash"), "chosen_licence": chosen_licence(record),
            "chosen_name": chosen.get("name") if chosen else None, "drawn_at": record.get("drawn_at"),
            "declines": len(record.get("declines") or []), "via": via}


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
    raw = path.read_bytes()
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DrawLogRefused(f"抽取记录 {path} 不是有效的 UTF-8 JSON：{exc}") from None
    if not isinstance(record, dict) or record.get("format") != draw.RECORD_FORMAT:
        raise DrawLogRefused(f"{path} 不是抽取记录（format 应为 {draw.RECORD_FORMAT}）")
    problems = draw.verify_record(record)
    if problems:
        raise DrawLogRefused("抽取记录重新计算不一致，不能登记：" + "；".join(f"{p.path} {p.title}：{p.message}" for p in problems))
    with archive.catalog.write():
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
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # the ingest refused unreadable records before (rule forensic.selection.draw_record)
        if isinstance(record, dict):
            event = append_draw(archive, record, raw, by=by, via="ingest", report_number=meta["report"]["number"])
            if event is not None:
                out.append(event)
    return out
