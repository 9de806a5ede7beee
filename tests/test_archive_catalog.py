"""The catalog module (issue 11): one schema with a recorded version, forward migrations from the
catalog as it was before versioning, and a damaged database caught by every command (issue 12.7)."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from archive.catalog import MIGRATIONS, SCHEMA_REVISION, Catalog, CatalogCorrupt, CatalogError, Event, canonical
from archive.eventlog import CheckpointSigner, checkpoint_body, verify_log
from archive.firmcert import add_pin, pin_path
from archive.merkle import leaf_hash, root_hash
from tests.archivekit import write_case
from tests.sealkit import example_case

REPO = Path(__file__).resolve().parents[1]

# The exact DDL of archive/catalog.py before schema versioning (revision 0001): the "previous version".
PREVIOUS_SCHEMA = """
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

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _signer() -> CheckpointSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试公估机构")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(T0 - timedelta(days=1)).not_valid_after(T0 + timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    return CheckpointSigner(key, cert)


def _package_row(pid: int, case_id: str, number: str, state: str) -> tuple:
    return (pid, case_id, number, f"2025/{case_id}/{number}", 2025, "car_survey", 0, "standard",
            "2025-10-16T10:00:00+08:00", "2040-10-16", f"{pid:064x}", f"{pid + 100:064x}", 9, 12345 + pid,
            "2025-10-17T09:00:00+08:00", "档案员甲", state)


def previous_version_catalog(path: Path, signer: CheckpointSigner) -> dict[str, list[tuple]]:
    """A catalog written by the code before versioning: today's DDL and rows in every table."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.executescript(PREVIOUS_SCHEMA)
    packages = [_package_row(1, "C-1", "R-1", "active"), _package_row(2, "C-2", "R-2", "disposed"),
                _package_row(3, "C-3", "R-3", "active")]
    con.executemany("INSERT INTO packages VALUES (" + ",".join("?" * 17) + ")", packages)
    holds = [(1, "C-3", "litigation", "诉讼保全", "(2026)京01民初1号", "法务", "2026-01-05T10:00:00+08:00",
              None, None, None),
             (2, "C-1", "dispute", "委托人异议", "DIS-7", "法务", "2026-01-06T10:00:00+08:00", "法务",
              "2026-02-01T10:00:00+08:00", "和解")]
    con.executemany("INSERT INTO holds VALUES (?,?,?,?,?,?,?,?,?,?)", holds)
    disposals = [(1, "C-2", "executed", "甲", "2041-01-02T09:00:00+08:00", "乙", "2041-01-03T09:00:00+08:00",
                  "丙", "2041-01-04T09:00:00+08:00")]
    con.executemany("INSERT INTO disposals VALUES (?,?,?,?,?,?,?,?,?)", disposals)
    tombstones = [(2, "C-2", "R-2", "2025/C-2/R-2", f"{2:064x}", json.dumps({"case_id": "C-2"}),
                   json.dumps({"manifest-sha256.txt": "x"}), json.dumps({"approved_by": "乙"}),
                   "2041-01-04T09:00:00+08:00", "丙")]
    con.executemany("INSERT INTO tombstones VALUES (?,?,?,?,?,?,?,?,?,?)", tombstones)
    events = []
    for seq, (kind, case, number) in enumerate([("ingest", "C-1", "R-1"), ("ingest", "C-2", "R-2"),
                                                ("ingest", "C-3", "R-3"), ("hold", "C-3", None),
                                                ("disposal_executed", "C-2", "R-2")]):
        ev = Event(seq, kind, (T0 + timedelta(minutes=seq)).isoformat(), "档案员甲", case, number, {"n": seq})
        entry = ev.entry()
        events.append((seq, kind, case, number, ev.actor, ev.at, entry, leaf_hash(entry.encode()).hex()))
    con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?)", events)
    # a signed checkpoint over the first four events, made exactly as archive/eventlog.py makes one
    body = checkpoint_body(4, root_hash([bytes.fromhex(e[7]) for e in events[:4]]), T0)
    algorithm, signature = signer.sign(canonical(body).encode())
    document = {**body, "algorithm": algorithm, "signature": base64.b64encode(signature).decode(),
                "certificate": signer.certificate.public_bytes(serialization.Encoding.PEM).decode()}
    checkpoints = [(4, body["root_hash"], body["time"], canonical(document))]
    con.executemany("INSERT INTO checkpoints VALUES (?,?,?,?)", checkpoints)
    con.commit()
    con.close()
    return {"packages": packages, "holds": holds, "disposals": disposals, "tombstones": tombstones,
            "events": events, "checkpoints": checkpoints}


def _table(path: Path, name: str, order: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall()
    finally:
        con.close()


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GONGU_HOME": str(home)}
    env.pop("GONGU_NOW", None)
    return subprocess.run([str(Path(sys.executable).with_name("gongu")), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def test_schema_revision_is_the_last_migration_script() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_current_head() == SCHEMA_REVISION
    # revision 0001 is the root: the schema before versioning
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"


def test_a_new_catalog_is_created_at_the_head_revision(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    try:
        assert catalog.schema_revision() == SCHEMA_REVISION
        assert catalog.integrity_problems() == []
    finally:
        catalog.close()


def test_previous_version_catalog_is_migrated_forward_with_no_data_lost(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = home / "archive" / "catalog.sqlite"
    path.parent.mkdir(parents=True)
    signer = _signer()
    before = previous_version_catalog(path, signer)
    # the log root before: RFC 6962 root over the five leaf hashes, recomputed here independently
    root_before = root_hash([bytes.fromhex(e[7]) for e in before["events"]]).hex()

    catalog = Catalog(path)
    try:
        assert catalog.schema_revision() == SCHEMA_REVISION
        report = verify_log(catalog, trusted=[signer.certificate])
        assert report.ok, report.problems
        assert report.size == 5 and report.root == root_before and report.checkpoints_checked == 1
        assert [p["case_id"] for p in catalog.packages(state="active")] == ["C-1", "C-3"]
        assert [h["reference"] for h in catalog.active_holds("C-3")] == ["(2026)京01民初1号"]
        assert catalog.active_holds("C-1") == []
        assert [t["rel_path"] for t in catalog.tombstones()] == ["2025/C-2/R-2"]
        # a migrated catalog queues nothing by itself: index_queue is new and empty
        assert catalog.pending_index_events() == []
    finally:
        catalog.close()
    # every row, value for value, as it was
    for name, order in (("packages", "id"), ("holds", "id"), ("disposals", "id"), ("tombstones", "package_id"),
                        ("events", "seq"), ("checkpoints", "tree_size")):
        assert _table(path, name, order) == before[name], name
    assert _table(path, "alembic_version", "version_num") == [(SCHEMA_REVISION,)]
    # opening again is a no-op (already at the head)
    Catalog(path).close()
    assert _table(path, "events", "seq") == before["events"]

    # the firm pins its certificate with the archive (archive/firmcert.py); the CLI checks against the pin
    add_pin(pin_path(path), signer.certificate)
    result = _cli(home, "archive", "log", "verify", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["ok"] and out["tree_size"] == 5 and out["root_hash"] == root_before
    result = _cli(home, "archive", "fsck", "--json")
    assert json.loads(result.stdout)["schema_revision"] == SCHEMA_REVISION


def test_fsck_prints_the_schema_version(tmp_path: Path) -> None:
    result = _cli(tmp_path / "home", "archive", "fsck")
    # before `gongu archive init` fsck says so (exit 1) and still names the schema version
    assert result.returncode == 1 and "gongu archive init" in result.stdout.replace("\n", ""), result.stdout
    assert f"目录数据库结构版本：{SCHEMA_REVISION}" in result.stdout
    assert _cli(tmp_path / "home", "archive", "init").returncode == 0
    result = _cli(tmp_path / "home", "archive", "fsck")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"目录数据库结构版本：{SCHEMA_REVISION}" in result.stdout


def test_an_unknown_schema_is_refused_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    con = sqlite3.connect(path)
    con.executescript(PREVIOUS_SCHEMA.replace("    ingested_by TEXT NOT NULL,\n", ""))
    con.close()
    with pytest.raises(CatalogError, match="结构无法识别.*packages"):
        Catalog(path)
    assert _table(path, "sqlite_master", "name") and "alembic_version" not in {
        r[1] for r in _table(path, "sqlite_master", "name")}


def _damaged_catalog(home: Path) -> Path:
    """A real catalog with enough rows for many B-tree pages, then one page in the middle overwritten."""
    path = home / "archive" / "catalog.sqlite"
    catalog = Catalog(path)
    with catalog.write():
        for i in range(400):
            catalog.append_event("fixity_check", T0, "audit", f"C-{i:04d}", "R-1", {"pad": "档" * 120, "i": i})
    catalog.close()  # the last connection checkpoints the WAL into the main file
    assert not path.with_name(path.name + "-wal").exists() or path.with_name(path.name + "-wal").stat().st_size == 0
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    pages = len(data) // page_size
    assert pages > 20
    middle = (pages // 2) * page_size  # the start of a B-tree page (page 1 is the only one with a file header)
    data[middle:middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_catalog_is_caught_by_every_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = _damaged_catalog(home)
    con = sqlite3.connect(path)
    try:  # really damaged: SQLite's own check fails or refuses to read the page
        assert con.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError as exc:
        assert "malformed" in str(exc)
    finally:
        con.close()
    with pytest.raises(CatalogCorrupt, match="已损坏"):
        Catalog(path)
    case = write_case(tmp_path / "case", example_case())
    for args in (["archive", "audit"], ["archive", "fsck"], ["archive", "list"], ["archive", "log", "verify"],
                 ["archive", "ingest", str(case), "--report", str(case)], ["index", "sync"]):
        result = _cli(home, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "档案目录数据库已损坏" in result.stdout + result.stderr, args
        assert "Traceback" not in result.stdout + result.stderr, args
