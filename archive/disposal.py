"""Disposal at the end of retention (10.4): propose → approve by a different person → execute.
Execution removes the payload and keeps a tombstone (metadata, manifest hashes, approvals) in the
catalog and the log.

`assert_disposable` is the ONE guard: every path that removes a package goes through
`_remove_packages`, which calls it inside the same write transaction, so no hold can slip in between
the check and the removal, and no caller (CLI, web, script) can skip it."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path

from sqlalchemy import RowMapping

from archive import package
from archive.catalog import Catalog, Event, canonical
from archive.names import inside
from archive.store import Archive, ArchiveError, crash_point
from generator.persons import same_person


class DisposalRefused(ArchiveError):
    pass


@dataclass(frozen=True)
class Eligibility:
    case_id: str
    retention_until: str
    eligible: bool
    reasons: tuple[str, ...]


def disposal_blockers(catalog: Catalog, case_id: str, today: date) -> list[str]:
    """Why the case may not be disposed of today (empty list: it may)."""
    rows = catalog.packages(case_id, state="active")
    if not rows:
        return [f"档案中没有案件 {case_id} 的在库档案包"]
    reasons = []
    for r in rows:
        until = date.fromisoformat(r["retention_until"])
        # 10.4 / 资产评估法 Art. 29: kept at least N years — disposal only once that date has passed.
        if today < until:
            reasons.append(f"报告 {r['report_number']} 保管期限至 {until.isoformat()}，尚未届满（10.4）")
    for h in catalog.active_holds(case_id):
        reasons.append(f"案件处于冻结状态：{h['kind']}，文号 {h['reference']}，原因 {h['reason']}")
    return reasons


def assert_disposable(catalog: Catalog, case_id: str, today: date) -> None:
    reasons = disposal_blockers(catalog, case_id, today)
    if reasons:
        raise DisposalRefused("不得销毁：" + "；".join(reasons))


def eligibility(archive: Archive) -> list[Eligibility]:
    today = archive.today()
    out = []
    for case_id in archive.catalog.active_case_ids():
        until = archive.catalog.latest_retention_until(case_id)
        reasons = disposal_blockers(archive.catalog, case_id, today)
        out.append(Eligibility(case_id, until, not reasons, tuple(reasons)))
    return out


def propose(archive: Archive, case_id: str, *, by: str) -> int:
    _need_person(by)
    cat = archive.catalog
    with cat.write():
        assert_disposable(cat, case_id, archive.today())
        if cat.open_disposal(case_id) is not None:
            raise DisposalRefused(f"案件 {case_id} 已有待处理的销毁提议")
        at = archive.now()
        did = cat.add_disposal(case_id, by=by, at=at.isoformat())
        event = cat.append_event("disposal_proposed", at, by, case_id, None, {"disposal_id": did})
    archive.committed([event])
    return did


def approve(archive: Archive, case_id: str, *, by: str) -> None:
    _need_person(by)
    cat = archive.catalog
    with cat.write():
        d = cat.open_disposal(case_id)
        if d is None or d["state"] != "proposed":
            raise DisposalRefused(f"案件 {case_id} 没有待批准的销毁提议")
        if same_person(by, d["proposed_by"]):  # NFKC, case-folded, no format characters
            raise DisposalRefused(f"销毁须由提议人以外的人批准（提议人：{d['proposed_by']}）")
        assert_disposable(cat, case_id, archive.today())
        at = archive.now()
        cat.approve_disposal(d["id"], by=by, at=at.isoformat())
        event = cat.append_event("disposal_approved", at, by, case_id, None,
                                 {"disposal_id": d["id"], "proposed_by": d["proposed_by"]})
    archive.committed([event])


def execute(archive: Archive, case_id: str, *, by: str) -> list[dict[str, object]]:
    _need_person(by)
    cat = archive.catalog
    with cat.write():
        d = cat.open_disposal(case_id)
        if d is None or d["state"] != "approved":
            raise DisposalRefused(f"案件 {case_id} 的销毁尚未获批准（须先提议，再由另一人批准）")
        tombstones, events = _remove_packages(archive, case_id, d, by)
    crash_point("disposal_after_commit")
    for rel, tomb in tombstones:
        _write_tombstone_file(archive.root, rel, tomb)
    _purge_trash(archive)
    archive.committed(events)
    return [t for _, t in tombstones]


def _remove_packages(archive: Archive, case_id: str, disposal: RowMapping,
                     by: str) -> tuple[list[tuple[str, dict[str, object]]], list[Event]]:
    """The only code that removes package payloads. Guarded here, inside the caller's transaction."""
    cat = archive.catalog
    assert cat.in_transaction
    assert_disposable(cat, case_id, archive.today())
    at = archive.now()
    approvals = {"disposal_id": disposal["id"], "proposed_by": disposal["proposed_by"],
                 "proposed_at": disposal["proposed_at"], "approved_by": disposal["approved_by"],
                 "approved_at": disposal["approved_at"], "executed_by": by, "executed_at": at.isoformat(),
                 # Kept for the record format; the one injected clock now tells both (no option moves it).
                 "wall_clock": at.astimezone(UTC).isoformat()}
    trash_root = archive.root / package.TRASH_DIR
    trash_root.mkdir(exist_ok=True)
    moved: list[tuple[Path, Path]] = []
    tombstones: list[tuple[str, dict[str, object]]] = []
    events: list[Event] = []
    try:
        for row in cat.packages(case_id, state="active"):
            path = inside(archive.root, *row["rel_path"].split("/"))
            meta_text = (path / "metadata.json").read_text(encoding="utf-8") if path.is_dir() else "{}"
            manifests = package.manifest_texts(path) if path.is_dir() else {}
            tomb: dict[str, object] = {"case_id": row["case_id"], "report_number": row["report_number"],
                                       "rel_path": row["rel_path"], "package_hash": row["package_hash"],
                                       "retention_until": row["retention_until"], "approvals": approvals,
                                       "metadata": json.loads(meta_text), "manifests": manifests}
            # Move out first (atomic rename), delete only after the catalog commit: a crash in between
            # leaves the package in .trash where fsck restores it (catalog still says active).
            if path.is_dir():
                trash = trash_root / f"{row['id']}-{uuid.uuid4().hex}"
                os.rename(path, trash)
                moved.append((trash, path))
                crash_point("disposal_after_move")
            cat.add_tombstone(package_id=row["id"], case_id=row["case_id"], report_number=row["report_number"],
                              rel_path=row["rel_path"], package_hash=row["package_hash"], metadata=meta_text,
                              manifests=canonical(manifests), approvals=canonical(approvals),
                              disposed_at=at.isoformat(), disposed_by=by)
            cat.mark_disposed(row["id"])
            events.append(cat.append_event(
                "disposal_executed", at, by, case_id, row["report_number"],
                {"rel_path": row["rel_path"], "package_hash": row["package_hash"], "approvals": approvals,
                 "manifest_sha256": {k: hashlib.sha256(v.encode()).hexdigest()
                                     for k, v in manifests.items()}}))
            tombstones.append((row["rel_path"], tomb))
        cat.execute_disposal(disposal["id"], by=by, at=at.isoformat())
    except BaseException:
        for trash, original in reversed(moved):
            os.rename(trash, original)
        raise
    return tombstones, events


def _write_tombstone_file(root: Path, rel: str, tomb: dict[str, object]) -> None:
    """A readable note where the package was, so a person walking the folders sees what happened."""
    path = inside(root, *rel.split("/"))
    path.mkdir(parents=True, exist_ok=True)
    (path / "TOMBSTONE.json").write_text(json.dumps(tomb, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _purge_trash(archive: Archive) -> list[str]:
    """Delete trash folders whose package the catalog records as disposed (after a committed execution);
    restore any whose package is still active (an execution that crashed before its commit)."""
    done = []
    trash_root = archive.root / package.TRASH_DIR
    if not trash_root.is_dir():
        return done
    for trash in sorted(trash_root.iterdir()):
        pid = trash.name.split("-", 1)[0]
        row = archive.catalog.package_by_id(int(pid)) if pid.isdigit() else None
        if row is not None and row["state"] == "disposed":
            package.remove_tree(trash)
            done.append(f"已清除销毁残留：{trash.name}")
        elif row is not None:
            original = inside(archive.root, *row["rel_path"].split("/"))
            if not original.exists():
                os.rename(trash, original)
                done.append(f"已恢复未完成销毁的档案包：{row['rel_path']}")
    return done


def _need_person(by: str) -> None:
    if not by.strip():
        raise DisposalRefused("须写明操作人（--by）")
