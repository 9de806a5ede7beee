"""Copy a whole SQLite catalog into an empty PostgreSQL database (`gongu store migrate`).

Generic over the schema: every table the source holds (packages, holds, disposals, tombstones, the
event log, checkpoints, index work, and whatever later revisions add — accounts, workspaces) is
copied row by row in foreign-key order, the target's schema having been created by the same Alembic
migrations at the same revision. Then every serial column's sequence is moved past the copied ids,
and the copy is verified: the same row count in every table, and the event log's Merkle root
recomputed from the copied entries equal to the source's — the log's history is unchanged.

The source is read inside its own write transaction (BEGIN IMMEDIATE on SQLite), so nothing can be
ingested half-way into the old catalog while it is copied; the target is written in one transaction
under the catalog's advisory lock, so a failed copy leaves the target as empty as it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, exc, func, inspect, select, text

from archive.catalog import Catalog, CatalogError, ServerStore, events_table
from archive.catalog_server import sqlalchemy_url
from archive.merkle import leaf_hash, root_hash

BATCH = 1000  # rows per INSERT: bounded memory for a catalog of 100,000 reports


class CopyRefused(CatalogError):
    """The copy cannot start (target not empty, schema unknown) or did not verify."""


@dataclass
class CopyReport:
    revision: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # table → rows copied
    tree_size: int = 0
    root_hash: str = ""
    sequences: dict[str, int] = field(default_factory=dict)  # "table.column" → next value

    def as_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "rows": self.rows, "tree_size": self.tree_size,
                "root_hash": self.root_hash, "sequences": self.sequences}


def existing_tables(store: ServerStore) -> list[str]:
    """Tables already in the target database's schema; a copy goes only into an empty one."""
    engine = _plain_engine(store)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    except exc.DBAPIError as error:
        raise CopyRefused(f"无法连接目标数据库 {store.label}：{_first_line(error)}") from None
    finally:
        engine.dispose()


def _first_line(error: exc.DBAPIError) -> str:
    """The server's own message, without SQLAlchemy's statement and parameters."""
    return (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]


def _plain_engine(store: ServerStore) -> Engine:
    return create_engine(sqlalchemy_url(store.url),
                         connect_args={"connect_timeout": store.connect_timeout})


def log_root(conn: Connection) -> tuple[int, str, list[str]]:
    """(size, root hash) of the event log recomputed from the stored entries, and every event whose
    stored leaf hash differs from its entry's."""
    rows = list(conn.execute(select(events_table.c.seq, events_table.c.entry, events_table.c.leaf_hash)
                             .order_by(events_table.c.seq)))
    leaves = [leaf_hash(r.entry.encode()) for r in rows]
    bad = [f"事件 {r.seq} 的叶哈希与内容不符" for r, lh in zip(rows, leaves, strict=True) if lh.hex() != r.leaf_hash]
    return len(leaves), root_hash(leaves).hex(), bad


def copy_catalog(source: Catalog, target_store: ServerStore) -> CopyReport:
    """Copy `source` (opened, so at the head revision) into the empty database of `target_store`."""
    if source.server is not None:
        raise CopyRefused("源目录已在数据库服务器上，无需迁移")
    found = existing_tables(target_store)
    if found:
        raise CopyRefused(f"目标数据库 {target_store.label} 不是空库（已有表：{'、'.join(found[:8])}"
                          f"{' 等' if len(found) > 8 else ''}）：为免覆盖或混合两份档案目录，只迁移到新建的空数据库"
                          "（target database is not empty）")
    report = CopyReport(revision=source.schema_revision())
    target = Catalog(target_store)  # creates the schema through the same migrations, at the head revision
    try:
        _copy_into(source, target, report)
    except BaseException as error:
        target.close()
        _drop_everything(target_store)  # the target was empty: leave it empty, so the copy can be re-run
        if isinstance(error, exc.DBAPIError):  # e.g. a value the server refuses: a message, not a traceback
            raise CopyRefused(f"迁移未完成，目标库已恢复为空：{_first_line(error)}") from None
        raise
    target.close()
    return report


def _drop_everything(store: ServerStore) -> None:
    engine = _plain_engine(store)
    try:
        with engine.begin() as conn:
            for name in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    except Exception:  # noqa: BLE001 — the server may be gone; the error being reported is the first one
        pass
    finally:
        engine.dispose()


def _copy_into(source: Catalog, target: Catalog, report: CopyReport) -> None:
    if target.schema_revision() != report.revision:
        raise CopyRefused(f"目标库的结构版本 {target.schema_revision()} 与源目录 {report.revision} 不同")
    with source.write(), target.write():  # the source is frozen while it is copied (BEGIN IMMEDIATE)
        src, dst = source._writing(), target._writing()  # noqa: SLF001 — the copy works on both transactions
        src_meta, dst_meta = MetaData(), MetaData()
        src_meta.reflect(src)
        dst_meta.reflect(dst)
        names = [t for t in src_meta.tables if t != "alembic_version"]
        unknown = [t for t in names if t not in dst_meta.tables]
        if unknown:
            raise CopyRefused(f"源目录中有目标库结构里没有的表：{'、'.join(unknown)}")
        for table in dst_meta.sorted_tables:  # parents before children (foreign keys)
            if table.name not in names:
                continue
            report.rows[table.name] = _copy_table(src, dst, src_meta.tables[table.name], table)
        report.sequences = _fix_sequences(dst, dst_meta)
        _verify(src, dst, names, report)


def _copy_table(src: Connection, dst: Connection, src_table: Any, dst_table: Any) -> int:
    columns = [c.name for c in src_table.columns]
    missing = [c for c in columns if c not in dst_table.c]
    if missing:
        raise CopyRefused(f"表 {src_table.name} 的列 {'、'.join(missing)} 在目标库中不存在")
    order = list(src_table.primary_key.columns) or [src_table.c[columns[0]]]
    result = src.execute(select(src_table).order_by(*order)).mappings()
    copied = 0
    while batch := result.fetchmany(BATCH):
        dst.execute(dst_table.insert(), [dict(row) for row in batch])
        copied += len(batch)
    return copied


def _fix_sequences(dst: Connection, meta: MetaData) -> dict[str, int]:
    """Move every serial column's sequence past the ids copied in, so the next insert does not collide."""
    moved: dict[str, int] = {}
    for table in meta.sorted_tables:
        for column in table.columns:
            seq = dst.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                              {"t": f'"{table.name}"', "c": column.name}).scalar()
            if seq is None:
                continue
            top = dst.execute(select(func.coalesce(func.max(column), 0))).scalar_one()
            dst.execute(text("SELECT setval(CAST(:s AS regclass), :v, false)"), {"s": seq, "v": int(top) + 1})
            moved[f"{table.name}.{column.name}"] = int(top) + 1
    return moved


def _verify(src: Connection, dst: Connection, names: list[str], report: CopyReport) -> None:
    problems = []
    for name in names:
        counted = [conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for conn in (src, dst)]
        if counted[0] != counted[1]:
            problems.append(f"表 {name}：源 {counted[0]} 行，目标 {counted[1]} 行")
    size_src, root_src, _ = log_root(src)
    size_dst, root_dst, bad = log_root(dst)
    problems += bad
    if (size_src, root_src) != (size_dst, root_dst):
        problems.append(f"事件日志根哈希改变：源 {size_src} 条 {root_src}，目标 {size_dst} 条 {root_dst}")
    if problems:
        raise CopyRefused("迁移结果核对未通过，目标库未写入任何内容：" + "；".join(problems))
    report.tree_size, report.root_hash = size_dst, root_dst


__all__ = ["CopyRefused", "CopyReport", "copy_catalog", "existing_tables", "log_root"]
