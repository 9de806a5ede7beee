"""Joining a second office's own archive into the shared store (`gongu store join`).

An office that kept its own SQLite archive before the firm moved to one shared PostgreSQL catalog cannot
`store migrate` (the target is not empty) and must not lose its history. Joining:

1. copies the office's SQLite catalog, as it is, into the shared package tree (`joined/<id>/`) with its
   pinned firm certificate and its exported checkpoints: the old event log, with its signatures,
   stays verifiable beside the shared one (`joined_log_problems`);
2. checks that old log (every leaf, every checkpoint against its own pin) before anything else;
3. brings each of its packages in as it is — the BagIt folder copied byte for byte and validated, then
   registered in the shared catalog with an ingest event that names where it came from; a package
   whose report the shared catalog already holds with other content refuses the whole join first;
4. records one `archive_joined` event in the shared log binding the old log's size and root hash.

Nothing of the joining office's own home is changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from archive import package
from archive.catalog import Catalog
from archive.errors import ArchiveError
from archive.eventlog import verify_log
from archive.firmcert import PIN_FILE
from archive.ingest import register
from archive.store import Archive

JOINED_DIR = "joined"


@dataclass
class JoinReport:
    joined_id: str
    tree_size: int
    root_hash: str
    copied: list[str] = field(default_factory=list)  # rel paths brought in
    already: list[str] = field(default_factory=list)  # the same package was already in the shared store


def _payload_hash(bag: Path) -> str:
    return hashlib.sha256(package.payload_manifest(bag).encode()).hexdigest()


def join_archive(archive: Archive, source_catalog: Path, source_root: Path, *, by: str,
                 checkpoint_dir: Path | None = None) -> JoinReport:
    """Bring the archive of `source_catalog` (SQLite) and `source_root` into `archive` (the shared one)."""
    archive.require_root()
    if not source_catalog.is_file():
        raise ArchiveError(f"要并入的目录 {source_catalog} 不存在")
    joined_id = uuid.uuid4().hex[:12]
    where = archive.root / JOINED_DIR / joined_id
    where.mkdir(parents=True)
    try:
        return _join(archive, source_catalog, source_root, where, joined_id, by=by, checkpoint_dir=checkpoint_dir)
    except BaseException:
        if not any(e.kind == "archive_joined" and e.details.get("joined_id") == joined_id
                   for e in archive.catalog.events()):
            shutil.rmtree(where, ignore_errors=True)
        raise


def _join(archive: Archive, source_catalog: Path, source_root: Path, where: Path, joined_id: str, *, by: str,
          checkpoint_dir: Path | None) -> JoinReport:
    # 1. the old catalog copied as it is (SQLite's backup API: a consistent copy even if it is open)
    copy = where / "catalog.sqlite"
    src = sqlite3.connect(f"file:{source_catalog}?mode=ro", uri=True)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    pin = source_catalog.parent / PIN_FILE
    if pin.is_file():
        shutil.copy2(pin, where / PIN_FILE)
    exports = []
    if checkpoint_dir is not None and checkpoint_dir.is_dir():
        shutil.copytree(checkpoint_dir, where / "checkpoints")
        exports = [where / "checkpoints"]
    old = Catalog(copy)
    try:
        # 2. the old log must verify before anything of it is trusted
        log = verify_log(old, export_dir=exports[0] if exports else None)
        if not log.ok:
            raise ArchiveError("要并入的档案的事件日志核验未通过，未并入：" + "；".join(log.problems[:5]))
        rows = old.packages(state="active")
    finally:
        old.close()
    # 3a. pre-flight: every package present and valid, no report the shared store holds differently
    plan: list[tuple[Path, str, bool]] = []
    for row in rows:
        rel = str(row["rel_path"])
        bag = source_root.joinpath(*rel.split("/"))
        if not package.is_bag(bag) or package.validate(bag, fast=True):
            raise ArchiveError(f"要并入的档案包 {bag} 不存在或不完整，未并入（先在该办公室运行 gongu archive fsck / audit）")
        mine = archive.catalog.package(row["case_id"], row["report_number"])
        if mine is not None:
            if mine["payload_hash"] != _payload_hash(bag):
                raise ArchiveError(f"共享档案中已有报告 {row['case_id']} / {row['report_number']}，内容不同：未并入任何档案包")
            plan.append((bag, str(mine["rel_path"]), False))
            continue
        target = archive.root.joinpath(*rel.split("/"))
        if target.exists() and (not package.is_bag(target) or _payload_hash(target) != _payload_hash(bag)):
            raise ArchiveError(f"共享档案的 {target} 已有其他内容：未并入任何档案包")
        plan.append((bag, rel, True))
    # 3b. each package copied as it is (temp folder + rename, as ingest does), validated, registered
    report = JoinReport(joined_id, log.size, log.root)
    for bag, rel, new in plan:
        if not new:
            report.already.append(rel)
            continue
        final = archive.root.joinpath(*rel.split("/"))
        if not final.exists():
            tmp = archive.root / package.TMP_DIR / f"{uuid.uuid4().hex}-{package.host_tag()}-{os.getpid()}"
            tmp.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(bag, tmp)
            if package.validate(tmp):
                package.remove_tree(tmp)
                raise ArchiveError(f"复制后的档案包 {rel} 校验未通过，已停止（已并入：{len(report.copied)} 个）")
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp, final)
        register(archive, final, rel, by=by, kind="ingest", extra={"joined_from": joined_id})
        report.copied.append(rel)
    # 4. the old log bound into the shared one
    with archive.catalog.write():
        event = archive.catalog.append_event("archive_joined", archive.now(), by, None, None, {
            "joined_id": joined_id, "copy": f"{JOINED_DIR}/{joined_id}/catalog.sqlite", "source": str(source_catalog),
            "tree_size": log.size, "root_hash": log.root, "packages": len(plan)})
    archive.committed([event])
    return report


def joined_log_problems(archive: Archive) -> list[str]:
    """Every joined archive's old log, checked beside the shared one: the copy still verifies (leaves and
    checkpoints against its own pinned certificate) and has the size and root the join recorded."""
    problems: list[str] = []
    for event in archive.catalog.events():
        if event.kind != "archive_joined":
            continue
        d = event.details
        copy = archive.root.joinpath(*str(d["copy"]).split("/"))
        if not copy.is_file():
            problems.append(f"并入档案的原事件日志 {copy} 不存在（事件 {event.seq}）")
            continue
        old = Catalog(copy, check=False)
        try:
            exports = copy.parent / "checkpoints"
            log = verify_log(old, export_dir=exports if exports.is_dir() else None)
        finally:
            old.close()
        if not log.ok:
            problems += [f"并入档案的原事件日志 {copy}：{p}" for p in log.problems[:5]]
        elif (log.size, log.root) != (d["tree_size"], d["root_hash"]):
            problems.append(f"并入档案的原事件日志 {copy} 与并入时记录的不同（{log.size} 条，根哈希 {log.root[:16]}…；"
                            f"记录为 {d['tree_size']} 条，{str(d['root_hash'])[:16]}…）")
    return problems


__all__ = ["JOINED_DIR", "JoinReport", "join_archive", "joined_log_problems"]
