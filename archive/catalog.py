"""The catalog (SQLite, WAL): packages, retention, holds, disposals, tombstones, and the event log.

The event log is the tamper-evident one: each event's canonical JSON is a leaf of an RFC 6962 Merkle
tree (archive/merkle.py), appended in the same transaction as the change it records, so catalog and
log can never disagree after a crash. Write transactions use BEGIN IMMEDIATE so concurrent ingesting
processes serialise on the catalog instead of failing half-way."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.merkle import leaf_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS packages (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL,
    report_number TEXT NOT NULL,
    rel_path TEXT NOT NULL UNIQUE,
    year INTEGER NOT NULL,
    kind TEXT NOT NULL,
    statutory INTEGER NOT NULL,
    retention_class TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    retention_until TEXT NOT NULL,
    package_hash TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    byte_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    ingested_by TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disposed')),
    UNIQUE (case_id, report_number)
);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('dispute', 'litigation', 'regulator')),
    reason TEXT NOT NULL,
    reference TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    released_by TEXT,
    released_at TEXT,
    release_reason TEXT
);
CREATE TABLE IF NOT EXISTS disposals (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'executed', 'withdrawn')),
    proposed_by TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    executed_by TEXT,
    executed_at TEXT,
    CHECK (approved_by IS NULL OR approved_by <> proposed_by)
);
CREATE TABLE IF NOT EXISTS tombstones (
    package_id INTEGER PRIMARY KEY REFERENCES packages(id),
    case_id TEXT NOT NULL,
    report_number TEXT NOT NULL,
    rel_path TEXT NOT NULL,
    package_hash TEXT NOT NULL,
    metadata TEXT NOT NULL,
    manifests TEXT NOT NULL,
    approvals TEXT NOT NULL,
    disposed_at TEXT NOT NULL,
    disposed_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    case_id TEXT,
    report_number TEXT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    entry TEXT NOT NULL,
    leaf_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_case ON events(case_id);
CREATE TABLE IF NOT EXISTS checkpoints (
    tree_size INTEGER PRIMARY KEY,
    root_hash TEXT NOT NULL,
    at TEXT NOT NULL,
    document TEXT NOT NULL
);
"""

EVENT_KINDS = {
    "ingest": "归档入库",
    "ingest_recovered": "归档入库（fsck 恢复登记）",
    "fixity_check": "固定性检查",
    "retrieval": "调阅",
    "hold": "冻结（法律保全）",
    "release": "解除冻结",
    "disposal_proposed": "提议销毁",
    "disposal_approved": "批准销毁",
    "disposal_executed": "执行销毁",
}


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    at: str
    actor: str
    case_id: str | None
    report_number: str | None
    details: dict[str, Any] = field(default_factory=dict)

    def entry(self) -> str:
        """Canonical JSON: the exact bytes hashed into the Merkle leaf."""
        return canonical({"seq": self.seq, "kind": self.kind, "at": self.at, "actor": self.actor,
                          "case_id": self.case_id, "report_number": self.report_number, "details": self.details})

    @classmethod
    def from_entry(cls, entry: str) -> Event:
        d = json.loads(entry)
        return cls(d["seq"], d["kind"], d["at"], d["actor"], d["case_id"], d["report_number"], d["details"])


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), timeout=120, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA busy_timeout = 120000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        # FULL: an archive prefers durability of every committed event over write speed.
        self.conn.execute("PRAGMA synchronous = FULL")
        with self.write():
            for statement in filter(str.strip, SCHEMA.split(";")):
                self.conn.execute(statement)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlocks)."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def append_event(self, kind: str, at: datetime, actor: str, case_id: str | None = None,
                     report_number: str | None = None, details: dict[str, Any] | None = None) -> Event:
        """Append one event; must run inside `write()` with the change it records."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind}")
        assert self.conn.in_transaction, "events are appended inside the transaction that makes the change"
        seq = self.conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetchone()[0]
        event = Event(seq, kind, at.isoformat(), actor, case_id, report_number, details or {})
        entry = event.entry()
        self.conn.execute(
            "INSERT INTO events (seq, kind, case_id, report_number, actor, at, entry, leaf_hash) VALUES (?,?,?,?,?,?,?,?)",
            (seq, kind, case_id, report_number, actor, event.at, entry, leaf_hash(entry.encode()).hex()))
        return event

    def events(self, case_id: str | None = None) -> list[Event]:
        if case_id is None:
            rows = self.conn.execute("SELECT entry FROM events ORDER BY seq").fetchall()
        else:
            rows = self.conn.execute("SELECT entry FROM events WHERE case_id = ? ORDER BY seq", (case_id,)).fetchall()
        return [Event.from_entry(r["entry"]) for r in rows]

    def packages(self, case_id: str | None = None, *, state: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM packages WHERE 1=1"
        args: list[Any] = []
        if case_id is not None:
            sql += " AND case_id = ?"
            args.append(case_id)
        if state is not None:
            sql += " AND state = ?"
            args.append(state)
        return self.conn.execute(sql + " ORDER BY case_id, report_number", args).fetchall()

    def active_holds(self, case_id: str) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM holds WHERE case_id = ? AND released_at IS NULL ORDER BY id",
                                 (case_id,)).fetchall()

    def open_disposal(self, case_id: str) -> sqlite3.Row | None:
        return self.conn.execute(
            "SELECT * FROM disposals WHERE case_id = ? AND state IN ('proposed', 'approved') ORDER BY id DESC",
            (case_id,)).fetchone()

    def disposals(self, *, states: tuple[str, ...] = ("proposed", "approved", "executed")) -> list[sqlite3.Row]:
        marks = ",".join("?" * len(states))
        return self.conn.execute(f"SELECT * FROM disposals WHERE state IN ({marks}) ORDER BY id", states).fetchall()
