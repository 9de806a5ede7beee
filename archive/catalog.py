"""The catalog: packages, retention, holds, disposals, tombstones, the event log and pending index
work — the ONE module that knows the schema and holds every query.

Tables are SQLAlchemy Core definitions, dialect-neutral: a shared PostgreSQL catalog (gongu.toml
`[store] url`) is a second dialect of the same definitions and the same migrations. The
schema carries a recorded version (Alembic's revision, migration scripts in
archive/catalog_migrations/), brought forward when a catalog is opened. Everything SQLite-specific
(WAL, busy timeout, BEGIN IMMEDIATE, integrity_check) sits in `_sqlite_engine` and `_sqlite_check`,
marked as such; everything PostgreSQL-specific (psycopg engine, advisory lock, lost connections) in
archive/catalog_server.py.

The event log is the tamper-evident one: each event's canonical JSON is a leaf of an RFC 6962 Merkle
tree (archive/merkle.py), appended in the same transaction as the change it records, so catalog and
log can never disagree after a crash. Write transactions take the write lock up front (BEGIN
IMMEDIATE on SQLite, a transaction-level advisory lock on PostgreSQL) so concurrent ingesting
processes — on one machine or in several offices — serialise instead of failing half-way or forking
the log.

A lost server connection (PostgreSQL) is retried once where a whole unit can be re-run from the start
(opening the catalog, beginning a write transaction, a read outside one) and otherwise reported as
`CatalogUnavailable`, a CatalogError every command prints plainly with exit code 2."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    RowMapping,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy import exc as sa_exc

from archive import catalog_server
from archive.catalog_server import ServerStore
from archive.merkle import leaf_hash

T = TypeVar("T")

MIGRATIONS = Path(__file__).with_name("catalog_migrations")
# The head revision this code writes; tests check it is the last script in catalog_migrations/versions.
SCHEMA_REVISION = "0015"
# Tables of revision 0001 (the schema before versioning): a catalog holding exactly these, without
# alembic_version, is recognised as revision 0001 and stamped before being migrated forward.
REVISION_1_TABLES = ("packages", "holds", "disposals", "tombstones", "events", "checkpoints")

metadata = MetaData()

packages_table = Table(
    "packages", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Text, nullable=False),
    Column("report_number", Text, nullable=False),
    Column("rel_path", Text, nullable=False, unique=True),
    Column("year", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("statutory", Integer, nullable=False),
    Column("retention_class", Text, nullable=False),
    Column("closed_at", Text, nullable=False),
    Column("retention_until", Text, nullable=False),
    Column("package_hash", Text, nullable=False),
    Column("payload_hash", Text, nullable=False),
    Column("file_count", Integer, nullable=False),
    # BIGINT on PostgreSQL (a package with video may pass 2 GiB); SQLite's INTEGER is 64-bit already.
    Column("byte_count", Integer().with_variant(BigInteger(), "postgresql"), nullable=False),
    Column("ingested_at", Text, nullable=False),
    Column("ingested_by", Text, nullable=False),
    Column("state", Text, nullable=False, server_default="active"),
    CheckConstraint("state IN ('active', 'disposed')"),
    UniqueConstraint("case_id", "report_number"),
)
holds_table = Table(
    "holds", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("placed_by", Text, nullable=False),
    Column("placed_at", Text, nullable=False),
    Column("released_by", Text),
    Column("released_at", Text),
    Column("release_reason", Text),
    CheckConstraint("kind IN ('dispute', 'litigation', 'regulator')"),
)
disposals_table = Table(
    "disposals", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("proposed_by", Text, nullable=False),
    Column("proposed_at", Text, nullable=False),
    Column("approved_by", Text),
    Column("approved_at", Text),
    Column("executed_by", Text),
    Column("executed_at", Text),
    CheckConstraint("state IN ('proposed', 'approved', 'executed', 'withdrawn')"),
    CheckConstraint("approved_by IS NULL OR approved_by <> proposed_by"),
)
tombstones_table = Table(
    "tombstones", metadata,
    Column("package_id", Integer, ForeignKey("packages.id"), primary_key=True, autoincrement=False),
    Column("case_id", Text, nullable=False),
    Column("report_number", Text, nullable=False),
    Column("rel_path", Text, nullable=False),
    Column("package_hash", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("manifests", Text, nullable=False),
    Column("approvals", Text, nullable=False),
    Column("disposed_at", Text, nullable=False),
    Column("disposed_by", Text, nullable=False),
)
events_table = Table(
    "events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", Text, nullable=False),
    Column("case_id", Text),
    Column("report_number", Text),
    Column("actor", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("entry", Text, nullable=False),
    Column("leaf_hash", Text, nullable=False),
    Index("events_case", "case_id"),
)
checkpoints_table = Table(
    "checkpoints", metadata,
    Column("tree_size", Integer, primary_key=True, autoincrement=False),
    Column("root_hash", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("document", Text, nullable=False),
)
# Revision 0002: index work recorded in the same transaction as the change, so a
# crash between the catalog commit and the index update leaves work the next command finishes.
index_queue_table = Table(
    "index_queue", metadata,
    Column("seq", Integer, ForeignKey("events.seq"), primary_key=True, autoincrement=False),
    Column("queued_at", Text, nullable=False),
)

EVENT_KINDS = {
    "ingest": "归档入库",
    "ingest_recovered": "归档入库（fsck 恢复登记）",
    "fixity_check": "固定性检查",
    "signature_check": "报告签章核验（立即验证）",
    "retrieval": "调阅",
    "hold": "冻结（法律保全）",
    "release": "解除冻结",
    "disposal_proposed": "提议销毁",
    "disposal_approved": "批准销毁",
    "disposal_executed": "执行销毁",
    "draw": "随机抽取鉴定机构（抽取记录登记）",
    "web": "工作台操作（账户登录、查看、提交等）",
    "archive_joined": "并入另一办公室的档案（其原事件日志原样保存于 joined/）",
    "review": "三级审核意见（命令行，含审核人凭据）",
    "withdrawal": "撤回已出具的文书（校验码，含撤回人凭据与原因）",
}
# Events that change what search shows; each is queued for the index with the change it records.
INDEXED_EVENT_KINDS = frozenset({"ingest", "ingest_recovered", "hold", "release", "disposal_executed"})


class CatalogError(Exception):
    """The catalog cannot be used: damaged, or a schema this code does not know."""


class CatalogCorrupt(CatalogError):
    pass


class CatalogUnavailable(CatalogError):
    """The catalog's database server cannot be reached, went away mid-way, or did not answer in time."""


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


def _corrupt_message(path: Path, detail: str) -> str:
    return (f"档案目录数据库已损坏：{path}（{detail}）。请停止写入并从备份恢复目录；档案包本身不受影响——"
            "移走损坏的目录后，gongu archive fsck --repair 可依磁盘上的档案包重新登记（事件日志须从备份恢复）")


# ─────────────────────────── SQLite-specific: the one place (PRAGMAs, locking) ───────────────────────────

_SQLITE_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
# The file cannot be used as it is: what to check, by SQLite's primary result code.
_SQLITE_UNUSABLE = {
    3: "没有访问权限：检查文件及其所在目录的权限",  # SQLITE_PERM
    8: "只能读、不能写：检查文件及其所在目录的权限与挂载方式（须可读写）；若文件头被改动，从备份恢复",  # SQLITE_READONLY
    10: "读写出错：检查磁盘与挂载",  # SQLITE_IOERR
    13: "磁盘已满：腾出空间后重新执行",  # SQLITE_FULL
    14: "无法打开：检查路径是否存在、是否为文件、所在目录是否可写",  # SQLITE_CANTOPEN
    23: "没有访问权限",  # SQLITE_AUTH
}


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 120})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun by `_begin` below, not by pysqlite
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 120000")
        cur.execute("PRAGMA journal_mode = WAL")
        # FULL: an archive prefers durability of every committed event over write speed.
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: no read-to-write upgrade deadlock between processes.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("catalog_write") else "BEGIN")

    @event.listens_for(engine, "handle_error")
    def _corruption(ctx: Any) -> None:
        orig = ctx.original_exception
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(orig, sqlite3.DatabaseError) and code is not None and code & 0xFF in _SQLITE_CORRUPT_CODES:
            raise CatalogCorrupt(_corrupt_message(path, str(orig))) from None
        if isinstance(orig, sqlite3.DatabaseError) and code is not None and code & 0xFF in _SQLITE_UNUSABLE:
            # what SQLite said, and where: a read-only or unopenable file is a message, never a traceback
            raise CatalogError(f"档案目录数据库无法使用：{path}（SQLite：{orig}）——{_SQLITE_UNUSABLE[code & 0xFF]}。"
                               "本次操作未写入目录") from None

    return engine


def _sqlite_check(conn: Connection, pragma: str) -> list[str]:
    rows = [str(r[0]) for r in conn.exec_driver_sql(f"PRAGMA {pragma}")]
    return [] if rows == ["ok"] else rows


# ───────────────────────────────────────────── the catalog ─────────────────────────────────────────────

# How long to wait before the one retry of a lost connection (a server restarting needs a moment).
RETRY_PAUSE_SECONDS = 1.0


class Catalog:
    def __init__(self, location: Path | ServerStore, *, check: bool = True) -> None:
        """`location`: the SQLite file, or a PostgreSQL server (archive/catalog_server.py).

        `check=False` skips the up-front quick_check (it reads every page) for a caller that only reads,
        such as a search asking whether index work is queued; damage met by a query is still
        CatalogCorrupt (the engine's error handler), and a migration always checks first."""
        self.server: ServerStore | None = location if isinstance(location, ServerStore) else None
        self.path: Path | None = None if self.server is not None else Path(location)  # type: ignore[arg-type]
        if self.server is not None:
            self.files_dir = self.server.files_dir
            self.engine = catalog_server.server_engine(self.server)
        else:
            assert self.path is not None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CatalogError(f"档案目录数据库无法使用：{self.path}（无法创建其所在目录：{exc.strerror or exc}）"
                                   "——检查路径与权限") from None
            self.files_dir = self.path.parent
            self.engine = _sqlite_engine(self.path)
        self._tx: Connection | None = None
        try:
            self._retrying(lambda: self._open(check))
        except sa_exc.DBAPIError as error:
            self.engine.dispose()
            if self.server is None:
                raise
            if catalog_server.refused_login(error):
                raise self._refused(error) from None
            # e.g. a role without the right to create the tables: what the server said, no traceback
            orig = str(getattr(error, "orig", error)).strip().splitlines()
            raise CatalogError(f"目录数据库服务器 {self.label} 拒绝了操作：{orig[0] if orig else type(error).__name__}"
                               "（见 docs/deployment.md：角色须为数据库的所有者）") from None
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def label(self) -> str:
        """The catalog as people may see it: the SQLite file, or the server's URL without a password."""
        return self.server.label if self.server is not None else str(self.path)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _open(self, check: bool) -> None:
        outdated = self.schema_revision() != SCHEMA_REVISION
        if self.path is not None and (check or outdated):
            # SQLite: quick_check before anything is written: a write into a damaged B-tree spreads the damage.
            with self.engine.connect() as conn:
                problems = _sqlite_check(conn, "quick_check")
            if problems:
                raise CatalogCorrupt(_corrupt_message(self.path, "；".join(problems[:3])))
        if outdated:
            self._migrate()

    def close(self) -> None:
        self.engine.dispose()

    # ── lost connections (PostgreSQL) ──
    def _unavailable(self, error: BaseException, *, committed_unknown: bool = False) -> CatalogUnavailable:
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error) else type(error).__name__
        if catalog_server.is_timeout(error):
            return CatalogUnavailable(
                f"目录数据库服务器 {self.label} 未在规定时间内完成操作（statement_timeout）：{detail}。"
                "本次操作未写入；请稍后重试，或在 gongu.toml [store] 中调整 statement_timeout")
        outcome = ("连接在提交时中断，本次操作是否已写入无法确定：服务器恢复后运行 gongu archive fsck 核对（档案包与目录），"
                   "再重新执行该命令（归档可安全重做）" if committed_unknown else
                   "本次操作未写入（服务器已回滚未提交的事务），请稍后在服务器恢复后重新执行该命令")
        return CatalogUnavailable(f"无法连接目录数据库服务器 {self.label}（已重试一次）：{detail}。{outcome}"
                                  "（catalog database server unreachable）")

    def _refused(self, error: BaseException) -> CatalogError:
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        return CatalogError(f"目录数据库服务器 {self.label} 拒绝登录：{detail[-1] if detail else ''}。请检查 gongu.toml "
                            "[store] url 中的用户名与数据库名，以及口令（环境变量 PGPASSWORD 或 ~/.pgpass）；"
                            "重试不会改变结果（authentication failed: check the credentials）")

    def _retrying(self, unit: Callable[[], T]) -> T:
        """Run `unit` (a whole unit of work that starts from nothing: opening, a read, the start of a
        transaction); if the server connection is lost, run it once more, then report it plainly."""
        try:
            return unit()
        except sa_exc.DBAPIError as error:
            if self.server is None or not (catalog_server.is_connection_lost(error)
                                            or catalog_server.is_timeout(error)):
                raise
            if catalog_server.is_timeout(error):
                raise self._unavailable(error) from None
        time.sleep(RETRY_PAUSE_SECONDS)
        self.engine.dispose()  # every pooled connection may be dead: the server restarted
        try:
            return unit()
        except sa_exc.DBAPIError as error:
            if catalog_server.is_connection_lost(error) or catalog_server.is_timeout(error):
                raise self._unavailable(error) from None
            raise

    # ── schema version and migrations ──
    def schema_revision(self) -> str | None:
        """The recorded schema version (Alembic revision); None for a catalog from before versioning."""
        with self._read() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def _migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        # Under the write lock (both dialects), so two processes opening a new catalog at once do not
        # both create it: the second finds the head revision recorded and has nothing to do.
        with self.write():
            conn = self._tx
            assert conn is not None
            tables = set(inspect(conn).get_table_names())
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            if "alembic_version" not in tables and tables:
                self._recognise_revision_1(conn, tables)
                command.stamp(config, "0001")
            command.upgrade(config, "head")

    def _recognise_revision_1(self, conn: Connection, tables: set[str]) -> None:
        insp = inspect(conn)
        for name in REVISION_1_TABLES:
            expected = {c.name for c in metadata.tables[name].columns}
            found = {c["name"] for c in insp.get_columns(name)} if name in tables else set()
            if found != expected:
                raise CatalogError(f"目录数据库 {self.label} 的结构无法识别（表 {name}：应有 {sorted(expected)}，"
                                   f"实有 {sorted(found)}），不能自动迁移")

    def integrity_problems(self) -> list[str]:
        """The database's own integrity check, per dialect (SQLite: PRAGMA integrity_check; PostgreSQL:
        archive/catalog_server.py); empty when sound."""
        try:
            with self._read() as conn:
                if self.server is not None:
                    return catalog_server.integrity_problems(conn)
                return _sqlite_check(conn, "integrity_check")
        except CatalogCorrupt as exc:
            return [str(exc)]

    # ── transactions ──
    @contextmanager
    def write(self) -> Iterator[Catalog]:
        """One write transaction (write lock taken up front); nested calls join the outer one.

        PostgreSQL: the connection and the advisory lock are retried once if the server went away
        before the body ran; a connection lost inside the body or at COMMIT is reported
        (CatalogUnavailable) — the body is the caller's and is not re-run behind its back."""
        if self._tx is not None:
            yield self
            return
        conn = self._retrying(self._begin_write)
        body_done = False
        try:
            self._tx = conn
            try:
                yield self
                body_done = True
            finally:
                self._tx = None
            conn.commit()
        except sa_exc.DBAPIError as error:
            if self.server is not None and (catalog_server.is_connection_lost(error)
                                            or catalog_server.is_timeout(error)):
                raise self._unavailable(error, committed_unknown=body_done) from None
            raise
        finally:
            if conn.in_transaction():
                try:
                    conn.rollback()
                except sa_exc.DBAPIError:
                    pass  # the connection is gone: the server rolled the transaction back itself
            conn.close()

    def _begin_write(self) -> Connection:
        conn = self.engine.connect()
        try:
            conn.execution_options(catalog_write=True)  # SQLite: BEGIN IMMEDIATE (`_sqlite_engine`)
            conn.begin()
            if self.server is not None:
                catalog_server.take_write_lock(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def in_transaction(self) -> bool:
        return self._tx is not None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._tx is not None:
            yield self._tx
            return
        with self.engine.connect() as conn:
            yield conn

    def _writing(self) -> Connection:
        assert self._tx is not None, "catalog changes are made inside write()"
        return self._tx

    def _query(self, run: Callable[[Connection], T]) -> T:
        """A read: inside a write transaction through it; otherwise on its own, retried once if the
        server connection was lost (a read can always be re-run)."""
        if self._tx is not None:
            return run(self._tx)

        def once() -> T:
            with self.engine.connect() as conn:
                return run(conn)

        return self._retrying(once)

    def _rows(self, stmt: Any) -> list[RowMapping]:
        return self._query(lambda conn: list(conn.execute(stmt).mappings()))

    def _one(self, stmt: Any) -> RowMapping | None:
        return self._query(lambda conn: conn.execute(stmt).mappings().first())

    def _scalar(self, stmt: Any) -> Any:
        return self._query(lambda conn: conn.execute(stmt).scalar())

    # ── the event log ──
    def append_event(self, kind: str, at: datetime, actor: str, case_id: str | None = None,
                     report_number: str | None = None, details: dict[str, Any] | None = None) -> Event:
        """Append one event; must run inside `write()` with the change it records."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind}")
        assert self._tx is not None, "events are appended inside the transaction that makes the change"
        conn = self._tx
        seq = conn.execute(select(func.coalesce(func.max(events_table.c.seq) + 1, 0))).scalar_one()
        ev = Event(seq, kind, at.isoformat(), actor, case_id, report_number, details or {})
        entry = ev.entry()
        conn.execute(insert(events_table).values(seq=seq, kind=kind, case_id=case_id, report_number=report_number,
                                                 actor=actor, at=ev.at, entry=entry,
                                                 leaf_hash=leaf_hash(entry.encode()).hex()))
        if kind in INDEXED_EVENT_KINDS:
            conn.execute(insert(index_queue_table).values(seq=seq, queued_at=ev.at))
        return ev

    def draw_events(self, record_sha256: str | None = None, *, case_id: str | None = None) -> list[Event]:
        """The "draw" events that logged the record with this SHA-256 and/or of this case (archive/draw_log.py);
        inside a write transaction it reads through it, so a check-then-append there cannot race."""
        stmt = select(events_table.c.entry).where(events_table.c.kind == "draw").order_by(events_table.c.seq)
        if case_id is not None:
            stmt = stmt.where(events_table.c.case_id == case_id)
        rows = (list(self._tx.execute(stmt).mappings()) if self._tx is not None else self._rows(stmt))
        found = [Event.from_entry(r["entry"]) for r in rows]
        return [e for e in found if record_sha256 is None or e.details.get("record_sha256") == record_sha256]

    def events(self, case_id: str | None = None) -> list[Event]:
        stmt = select(events_table.c.entry).order_by(events_table.c.seq)
        if case_id is not None:
            stmt = stmt.where(events_table.c.case_id == case_id)
        return [Event.from_entry(r["entry"]) for r in self._rows(stmt)]

    def event_rows(self) -> list[RowMapping]:
        """Every stored event with its catalog columns, in order (what log verification recomputes)."""
        return self._rows(select(events_table).order_by(events_table.c.seq))

    def event_times(self) -> list[tuple[int, str]]:
        """(seq, ISO time) of every event, in order: what the clock checks read (archive/eventlog.py)."""
        return [(r["seq"], r["at"]) for r in
                self._rows(select(events_table.c.seq, events_table.c.at).order_by(events_table.c.seq))]

    def leaf_hashes(self) -> list[bytes]:
        return [bytes.fromhex(r["leaf_hash"]) for r in
                self._rows(select(events_table.c.leaf_hash).order_by(events_table.c.seq))]

    def event_count(self) -> int:
        return int(self._scalar(select(func.count()).select_from(events_table)))

    def ingest_actors(self) -> dict[tuple[str, str], str]:
        """(case id, report number) → who ingested it, from the log."""
        stmt = select(events_table.c.case_id, events_table.c.report_number, events_table.c.actor).where(
            events_table.c.kind.in_(("ingest", "ingest_recovered")))
        return {(r["case_id"], r["report_number"]): r["actor"] for r in self._rows(stmt)}

    # ── signed checkpoints ──
    def save_checkpoint(self, tree_size: int, root_hash: str, at: str, document: str) -> None:
        conn = self._writing()
        conn.execute(delete(checkpoints_table).where(checkpoints_table.c.tree_size == tree_size))
        conn.execute(insert(checkpoints_table).values(tree_size=tree_size, root_hash=root_hash, at=at,
                                                      document=document))

    def checkpoint_documents(self) -> list[tuple[int, str]]:
        rows = self._rows(select(checkpoints_table.c.tree_size, checkpoints_table.c.document)
                          .order_by(checkpoints_table.c.tree_size))
        return [(r["tree_size"], r["document"]) for r in rows]

    def last_checkpoint_size(self) -> int:
        return int(self._scalar(select(func.coalesce(func.max(checkpoints_table.c.tree_size), 0))))

    # ── packages ──
    def packages(self, case_id: str | None = None, *, state: str | None = None) -> list[RowMapping]:
        stmt = select(packages_table)
        if case_id is not None:
            stmt = stmt.where(packages_table.c.case_id == case_id)
        if state is not None:
            stmt = stmt.where(packages_table.c.state == state)
        return self._rows(stmt.order_by(packages_table.c.case_id, packages_table.c.report_number))

    def package(self, case_id: str, report_number: str) -> RowMapping | None:
        return self._one(select(packages_table).where(packages_table.c.case_id == case_id,
                                                      packages_table.c.report_number == report_number))

    def package_by_id(self, package_id: int) -> RowMapping | None:
        return self._one(select(packages_table).where(packages_table.c.id == package_id))

    def add_package(self, **values: Any) -> int:
        return int(self._writing().execute(insert(packages_table).values(**values)).inserted_primary_key[0])

    def mark_disposed(self, package_id: int) -> None:
        self._writing().execute(update(packages_table).where(packages_table.c.id == package_id).values(state="disposed"))

    def active_case_ids(self) -> list[str]:
        stmt = select(packages_table.c.case_id).where(packages_table.c.state == "active").distinct()
        return [r["case_id"] for r in self._rows(stmt.order_by(packages_table.c.case_id))]

    def latest_retention_until(self, case_id: str) -> str | None:
        return self._scalar(select(func.max(packages_table.c.retention_until)).where(
            packages_table.c.case_id == case_id, packages_table.c.state == "active"))

    # ── holds ──
    def active_holds(self, case_id: str) -> list[RowMapping]:
        return self._rows(select(holds_table).where(holds_table.c.case_id == case_id,
                                                    holds_table.c.released_at.is_(None)).order_by(holds_table.c.id))

    def all_holds(self) -> list[RowMapping]:
        return self._rows(select(holds_table).order_by(holds_table.c.id))

    def held_case_ids(self) -> set[str]:
        return {r["case_id"] for r in self._rows(select(holds_table.c.case_id).where(holds_table.c.released_at.is_(None)))}

    def add_hold(self, case_id: str, *, kind: str, reason: str, reference: str, by: str, at: str) -> int:
        result = self._writing().execute(insert(holds_table).values(
            case_id=case_id, kind=kind, reason=reason, reference=reference, placed_by=by, placed_at=at))
        return int(result.inserted_primary_key[0])

    def release_hold(self, hold_id: int, *, by: str, at: str, reason: str) -> None:
        self._writing().execute(update(holds_table).where(holds_table.c.id == hold_id).values(
            released_by=by, released_at=at, release_reason=reason))

    # ── disposals ──
    def open_disposal(self, case_id: str) -> RowMapping | None:
        return self._one(select(disposals_table).where(
            disposals_table.c.case_id == case_id, disposals_table.c.state.in_(("proposed", "approved")))
            .order_by(disposals_table.c.id.desc()))

    def add_disposal(self, case_id: str, *, by: str, at: str) -> int:
        result = self._writing().execute(insert(disposals_table).values(
            case_id=case_id, state="proposed", proposed_by=by, proposed_at=at))
        return int(result.inserted_primary_key[0])

    def approve_disposal(self, disposal_id: int, *, by: str, at: str) -> None:
        self._writing().execute(update(disposals_table).where(disposals_table.c.id == disposal_id).values(
            state="approved", approved_by=by, approved_at=at))

    def execute_disposal(self, disposal_id: int, *, by: str, at: str) -> None:
        self._writing().execute(update(disposals_table).where(disposals_table.c.id == disposal_id).values(
            state="executed", executed_by=by, executed_at=at))

    def disposals(self, *, states: tuple[str, ...] = ("proposed", "approved", "executed")) -> list[RowMapping]:
        return self._rows(select(disposals_table).where(disposals_table.c.state.in_(states))
                          .order_by(disposals_table.c.id))

    # ── tombstones ──
    def add_tombstone(self, **values: Any) -> None:
        self._writing().execute(insert(tombstones_table).values(**values))

    def tombstones(self, case_id: str | None = None) -> list[RowMapping]:
        stmt = select(tombstones_table)
        if case_id is not None:
            stmt = stmt.where(tombstones_table.c.case_id == case_id)
        return self._rows(stmt.order_by(tombstones_table.c.rel_path))

    def tombstone_count(self) -> int:
        return int(self._scalar(select(func.count()).select_from(tombstones_table)))

    # ── pending index work ──
    def pending_index_events(self) -> list[Event]:
        """Committed events the search index has not yet confirmed applying, oldest first."""
        stmt = (select(events_table.c.entry).join(index_queue_table, index_queue_table.c.seq == events_table.c.seq)
                .order_by(events_table.c.seq))
        return [Event.from_entry(r["entry"]) for r in self._rows(stmt)]

    def index_done(self, seqs: Iterable[int]) -> None:
        done = list(seqs)
        if done:
            with self.write() as cat:
                cat._writing().execute(delete(index_queue_table).where(index_queue_table.c.seq.in_(done)))


__all__ = ["Catalog", "CatalogCorrupt", "CatalogError", "CatalogUnavailable", "Event", "ServerStore", "EVENT_KINDS", "INDEXED_EVENT_KINDS",
           "SCHEMA_REVISION", "canonical", "metadata"]
