"""Disposal at the end of retention (10.4): propose → approve by a different person → execute.
Execution removes the payload and keeps a tombstone (metadata, manifest hashes, approvals) in the
catalog and the log. It reaches every copy of the case the system keeps (`ArchiveConfig.copies`: the
workspace case folder, the issued reports, rendered previews), moved aside in the same guarded step
and deleted after the commit, so no page serves a destroyed report.

`assert_disposable` is the ONE guard: every path that removes a package goes through
`_remove_packages`, which calls it inside the same write transaction, so no hold can slip in between
the check and the removal, and no caller (CLI, web, script) can skip it."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping, func, select
from sqlalchemy import case as sql_case

from archive import package
from archive import package_format as fmt
from archive.catalog import Catalog, Event, canonical, packages_table
from archive.eventlog import latest_event, verify_log
from archive.holds import logged_holds
from archive.names import UnsafePathError, inside
from archive.store import Archive, ArchiveError, crash_point
from archive.timestamps import stamp_decision
from generator.persons import same_person
from generator.types import beijing_date


class DisposalRefused(ArchiveError):
    pass


@dataclass(frozen=True)
class Eligibility:
    case_id: str
    retention_until: str
    eligible: bool
    reasons: tuple[str, ...]


def disposal_blockers(archive: Archive, case_id: str, today: date, *, clock_problems: list[str] | None = None) -> list[str]:
    """Why the case may not be disposed of today (empty list: it may). `clock_problems`: the archive-wide
    `clock_set_back` result when the caller already has it (one log scan for many cases).

    The retention end is taken from what cannot be edited silently — the sealed package's own
    metadata (its start and class, recomputed), the signed log's ingest event (its end, and its time
    plus the class's years, which holds for packages written before ingest recorded its date) — and the
    catalog's `retention_until` can only make it later, never earlier. A package missing from disk is
    an incident to report and restore, never a disposal."""
    catalog = archive.catalog
    rows = catalog.packages(case_id, state="active")
    if not rows:
        return [f"档案中没有案件 {case_id} 的在库档案包"]
    reasons = []
    logged = _ingest_events(catalog, case_id)
    for r in rows:
        where = f"报告 {r['report_number']}（{r['rel_path']}）"
        path = inside(archive.root, *r["rel_path"].split("/"))
        if not package.is_bag(path):
            reasons.append(f"{where} 的档案包不在磁盘上：这是事故，不是销毁——请从备份恢复"
                           "（gongu archive audit / fsck 会报告）")
            continue
        try:
            pkg = fmt.open_package(path)
            sealed_until = pkg.retention_until(archive.config.retention)
            current_hash = pkg.package_hash()
        except (ArchiveError, OSError) as exc:
            reasons.append(f"{where} 的档案包无法读取——这是事故，不是销毁：{exc}"
                           "（请运行 gongu archive audit，从备份恢复）")
            continue
        event = logged.get(r["report_number"])
        if event is None:
            reasons.append(f"{where} 在签名日志中没有归档事件，无法确认其保管期限")
            continue
        if current_hash != r["package_hash"] or current_hash != event.details.get("package_hash"):
            reasons.append(f"{where} 的档案包与目录或日志登记的包哈希不一致（请运行 gongu archive audit）")
        if pkg.retention_class != r["retention_class"]:
            reasons.append(f"{where} 目录登记的保管期限类别 {r['retention_class']} 与档案包著录 "
                           f"{pkg.retention_class} 不一致（请运行 gongu archive audit）")
        candidates = [sealed_until, date.fromisoformat(r["retention_until"])]
        cls = archive.config.retention.get(pkg.retention_class)
        if cls is not None:  # never before N years from the day the signed log saw it arrive (10.4)
            candidates.append(cls.until(beijing_date(datetime.fromisoformat(event.at))))
        if event.details.get("retention_until"):
            candidates.append(date.fromisoformat(str(event.details["retention_until"])))
        until = max(candidates)
        # 10.4 / 资产评估法 Art. 29: kept at least N years — disposal only once that date has passed.
        if today < until:
            reasons.append(f"报告 {r['report_number']} 保管期限至 {until.isoformat()}，尚未届满（10.4）")
    reasons += hold_blockers(catalog, case_id)
    return reasons + (clock_set_back(archive) if clock_problems is None else clock_problems)


def hold_blockers(catalog: Catalog, case_id: str) -> list[str]:
    """Holds standing in the holds table or in the signed log: a hold whose row was released or deleted by
    SQL, without its "release" event, still blocks (archive/holds.py)."""
    reasons = []
    table = catalog.active_holds(case_id)
    for h in table:
        reasons.append(f"案件处于冻结状态：{h['kind']}，文号 {h['reference']}，原因 {h['reason']}")
    shown = {h["id"] for h in table}
    for h in logged_holds(catalog, case_id):
        if h.get("hold_id") not in shown:
            reasons.append(f"签名日志显示案件处于冻结状态（冻结 #{h.get('hold_id')}，文号 {h.get('reference')}），"
                           "目录中却没有这项有效冻结——冻结记录被改动，这是事故（请运行 gongu archive audit）")
    return reasons


def clock_set_back(archive: Archive) -> list[str]:
    """The archive clock must not read earlier than the latest event in the log: if it does, the clock
    was set back — perhaps after being set forward to dispose early — and its date cannot be trusted for
    a retention end (10.4). Strict, no tolerance: refusing costs a retry, destroying cannot be undone."""
    latest = latest_event(archive.catalog)
    now = archive.now()
    if latest is None or now >= latest[1]:
        return []
    seq, at = latest
    return [f"档案时钟 {now.isoformat()} 早于日志中最晚的事件 {seq}（{at.isoformat()}）——时钟曾被调快后又调回，"
            f"或现在被调慢；请核对时间并运行 gongu archive audit / the archive clock {now.isoformat()} is earlier "
            f"than event {seq} in the log at {at.isoformat()}: the clock was set back; check it and run an audit"]


def _ingest_events(catalog: Catalog, case_id: str) -> dict[str, Event]:
    """The first ingest event of each report of the case in the event log."""
    out: dict[str, Event] = {}
    for e in catalog.events(case_id):
        if e.kind in ("ingest", "ingest_recovered") and e.report_number is not None:
            out.setdefault(e.report_number, e)
    return out


def approval_log_problems(catalog: Catalog, disposal: RowMapping, *, approved: bool) -> list[str]:
    """The disposal's proposal (and approval) must be events in the signed log, by the persons the
    catalog row names: a row inserted behind the archive's back has no such events."""
    did = disposal["id"]
    events = [e for e in catalog.events(disposal["case_id"]) if e.details.get("disposal_id") == did]
    problems = []
    proposed = [e for e in events if e.kind == "disposal_proposed" and e.actor == disposal["proposed_by"]]
    if not proposed:
        problems.append(f"销毁提议 {did}（提议人 {disposal['proposed_by']}）在日志中没有提议事件")
    if approved:
        approvals = [e for e in events if e.kind == "disposal_approved" and e.actor == disposal["approved_by"]
                     and e.actor != disposal["proposed_by"]]
        if not approvals:
            problems.append(f"销毁提议 {did} 的批准（批准人 {disposal['approved_by']}）在日志中没有批准事件")
        elif proposed and approvals[0].seq < proposed[0].seq:
            problems.append(f"销毁提议 {did}：日志中的批准早于提议")
    return problems


def assert_disposable(archive: Archive, case_id: str, today: date) -> None:
    reasons = disposal_blockers(archive, case_id, today)
    if reasons:
        raise DisposalRefused("不得销毁：" + "；".join(reasons))


def eligibility(archive: Archive) -> list[Eligibility]:
    today = archive.today()
    clock = clock_set_back(archive)  # archive-wide: scan the log's times once, not once per case
    out = []
    for case_id in archive.catalog.active_case_ids():
        until = archive.catalog.latest_retention_until(case_id)
        reasons = disposal_blockers(archive, case_id, today, clock_problems=clock)
        out.append(Eligibility(case_id, until, not reasons, tuple(reasons)))
    return out


def propose(archive: Archive, case_id: str, *, by: str, credential: dict[str, object] | None = None) -> int:
    """`credential` (every step): how the person proved who they are, recorded in the step's log event."""
    archive.require_root()
    _need_person(by)
    stamp = outside_time(archive, "disposal_proposed", case_id, by)
    cat = archive.catalog
    with cat.write():
        assert_disposable(archive, case_id, archive.today())
        _assert_disposable_by_token(archive, case_id, stamp)
        if cat.open_disposal(case_id) is not None:
            raise DisposalRefused(f"案件 {case_id} 已有待处理的销毁提议")
        at = archive.now()
        did = cat.add_disposal(case_id, by=by, at=at.isoformat())
        event = cat.append_event("disposal_proposed", at, by, case_id, None,
                                 {"disposal_id": did, **_credential(credential), **_stamped(stamp)})
    archive.committed([event])
    return did


def approve(archive: Archive, case_id: str, *, by: str, credential: dict[str, object] | None = None) -> None:
    archive.require_root()
    _need_person(by)
    stamp = outside_time(archive, "disposal_approved", case_id, by)
    cat = archive.catalog
    with cat.write():
        d = cat.open_disposal(case_id)
        if d is None or d["state"] != "proposed":
            raise DisposalRefused(f"案件 {case_id} 没有待批准的销毁提议")
        if same_person(by, d["proposed_by"]):  # NFKC, case-folded, no format characters
            raise DisposalRefused(f"销毁须由提议人以外的人批准（提议人：{d['proposed_by']}）")
        logged = approval_log_problems(cat, d, approved=False)
        if logged:
            raise DisposalRefused("不得批准：" + "；".join(logged))
        assert_disposable(archive, case_id, archive.today())
        _assert_disposable_by_token(archive, case_id, stamp)
        at = archive.now()
        cat.approve_disposal(d["id"], by=by, at=at.isoformat())
        event = cat.append_event("disposal_approved", at, by, case_id, None,
                                 {"disposal_id": d["id"], "proposed_by": d["proposed_by"], **_credential(credential),
                                  **_stamped(stamp)})
    archive.committed([event])


def execute(archive: Archive, case_id: str, *, by: str,
            credential: dict[str, object] | None = None) -> list[dict[str, object]]:
    archive.require_root()
    _need_person(by)
    stamp = outside_time(archive, "disposal_executed", case_id, by)
    cat = archive.catalog
    with cat.write():
        d = cat.open_disposal(case_id)
        if d is None or d["state"] != "approved":
            raise DisposalRefused(f"案件 {case_id} 的销毁尚未获批准（须先提议，再由另一人批准）")
        _assert_disposable_by_token(archive, case_id, stamp)
        tombstones, events = _remove_packages(archive, case_id, d, by, {**_credential(credential), **_stamped(stamp)})
    crash_point("disposal_after_commit")
    for rel, tomb in tombstones:
        _write_tombstone_file(archive.root, rel, tomb)
    _purge_trash(archive)
    archive.committed(events)
    return [t for _, t in tombstones]


def _remove_packages(archive: Archive, case_id: str, disposal: RowMapping, by: str,
                     decision: dict[str, object] | None = None) -> tuple[list[tuple[str, dict[str, object]]], list[Event]]:
    """The only code that removes package payloads. Guarded here, inside the caller's transaction."""
    cat = archive.catalog
    assert cat.in_transaction
    assert_disposable(archive, case_id, archive.today())
    logged = approval_log_problems(cat, disposal, approved=True)
    log = verify_log(cat, export_dir=archive.config.checkpoint_dir)
    logged += [f"日志校验未通过：{p}" for p in log.problems[:3]]
    if logged:
        raise DisposalRefused("不得销毁：" + "；".join(logged))
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
    disposed_ids: list[int] = []
    try:
        for row in cat.packages(case_id, state="active"):
            path = inside(archive.root, *row["rel_path"].split("/"))
            pkg = fmt.open_package(path)  # present and readable: assert_disposable checked it
            meta_text = (pkg.path / fmt.METADATA_FILE).read_text(encoding="utf-8")  # kept byte for byte
            manifests = pkg.manifests()
            tomb: dict[str, object] = {"case_id": row["case_id"], "report_number": row["report_number"],
                                       "rel_path": row["rel_path"], "package_hash": row["package_hash"],
                                       "retention_until": row["retention_until"], "approvals": approvals,
                                       "metadata": json.loads(meta_text), "manifests": manifests}
            # Move out first (atomic rename), delete only after the catalog commit: a crash in between
            # leaves the package in .trash where fsck restores it (catalog still says active).
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
                                     for k, v in manifests.items()}, **(decision or {})}))
            tombstones.append((row["rel_path"], tomb))
            disposed_ids.append(int(row["id"]))
        if disposed_ids:  # named after a package this execution disposes: its state decides after a crash
            moved += _move_copies_aside(archive, case_id, disposed_ids[0])
            crash_point("disposal_after_copies")
        cat.execute_disposal(disposal["id"], by=by, at=at.isoformat())
    except BaseException:
        for trash, original in reversed(moved):
            os.rename(trash, original)
        raise
    return tombstones, events


COPY_ASIDE = ".disposed-"  # <copies folder>/.disposed-<package id>-<uuid>-<case id>: awaiting the commit


def _move_copies_aside(archive: Archive, case_id: str, package_id: int) -> list[tuple[Path, Path]]:
    """Rename each copy folder of the case (within its folder, so atomic) to a name that says which
    package's disposal it waits for; the caller renames them back if the transaction fails."""
    moved: list[tuple[Path, Path]] = []
    for folder in archive.config.copies:
        try:
            copy = inside(folder, case_id)
        except UnsafePathError:
            continue
        if copy == folder or not copy.exists():
            continue
        aside = folder / f"{COPY_ASIDE}{package_id}-{uuid.uuid4().hex}-{case_id}"
        os.rename(copy, aside)
        moved.append((aside, copy))
    return moved


def _purge_copies_locked(archive: Archive, done: list[str]) -> None:
    """Copies moved aside: deleted once their package is recorded disposed; put back while it is still
    active (an execution that died before its commit)."""
    for folder in archive.config.copies:
        if not folder.is_dir():
            continue
        for aside in sorted(folder.glob(f"{COPY_ASIDE}*")):
            pid, _uuid, case_id = (aside.name[len(COPY_ASIDE):].split("-", 2) + ["", ""])[:3]
            row = archive.catalog.package_by_id(int(pid)) if pid.isdigit() else None
            if row is not None and row["state"] == "disposed":
                package.remove_tree(aside)
                done.append(f"已清除已销毁案件的副本：{folder.name}/{case_id}")
            elif row is not None and case_id and not (folder / case_id).exists():
                os.rename(aside, folder / case_id)
                done.append(f"已恢复未完成销毁的案件副本：{folder.name}/{case_id}")


def _write_tombstone_file(root: Path, rel: str, tomb: dict[str, object]) -> None:
    """A readable note where the package was, so a person walking the folders sees what happened."""
    path = inside(root, *rel.split("/"))
    path.mkdir(parents=True, exist_ok=True)
    (path / "TOMBSTONE.json").write_text(json.dumps(tomb, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _purge_trash(archive: Archive) -> list[str]:
    """Delete trash folders whose package the catalog records as disposed (after a committed execution);
    restore any whose package is still active (an execution that crashed before its commit)."""
    done: list[str] = []
    trash_root = archive.root / package.TRASH_DIR
    if not trash_root.is_dir() and not any(any(f.glob(f"{COPY_ASIDE}*")) for f in archive.config.copies if f.is_dir()):
        return done
    # Under the catalog's write lock: an execution running elsewhere (another process, another office
    # sharing the package tree) holds it from moving its packages into .trash until its commit, so its
    # trash is never mistaken for a crashed execution and put back.
    with archive.catalog.write():
        if trash_root.is_dir():
            _purge_trash_locked(archive, trash_root, done)
        _purge_copies_locked(archive, done)
    return done


def _purge_trash_locked(archive: Archive, trash_root: Path, done: list[str]) -> None:
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


def destroyed(catalog: Catalog, case_id: str) -> list[RowMapping]:
    """The tombstones of a case whose every archived package was destroyed ([] otherwise): what a page
    shows instead of the case's report."""
    if catalog.packages(case_id, state="active"):
        return []
    return catalog.tombstones(case_id)


def destroyed_case_ids(catalog: Catalog, case_ids: list[str]) -> set[str]:
    """Of these cases, those with packages and none left active (one query, for a list page)."""
    if not case_ids:
        return set()
    t = packages_table
    rows = catalog._rows(select(t.c.case_id, func.sum(sql_case((t.c.state == "active", 1), else_=0)).label("active"))
                         .where(t.c.case_id.in_(case_ids)).group_by(t.c.case_id))
    return {r["case_id"] for r in rows if not r["active"]}


def outside_time(archive: Archive, step: str, case_id: str, by: str) -> dict[str, Any] | None:
    """An RFC 3161 token over this disposal step, when a timestamp authority is configured (None
    otherwise). Asked before the write lock is taken: a slow TSA never holds up other writers."""
    if archive.timestamper is None:
        return None
    decision = {"step": step, "case_id": case_id, "by": by, "at": archive.now().isoformat()}
    return stamp_decision(archive.timestamper, decision, archive.timestamp_roots)


def _assert_disposable_by_token(archive: Archive, case_id: str, stamp: dict[str, Any] | None) -> None:
    """10.4 judged on the timestamp authority's time, not the local clock: a clock set forward does not
    make a package expire."""
    if stamp is None:
        return
    day = beijing_date(datetime.fromisoformat(stamp["time"]))
    reasons = [r for r in disposal_blockers(archive, case_id, day, clock_problems=[]) if "尚未届满" in r]
    if reasons:
        raise DisposalRefused(f"不得销毁：按时间戳服务的时间（{day.isoformat()}，本机时钟 {archive.today().isoformat()}）"
                              "判断：" + "；".join(reasons))


def _stamped(stamp: dict[str, Any] | None) -> dict[str, object]:
    return {"timestamp": stamp} if stamp is not None else {}


def _credential(credential: dict[str, object] | None) -> dict[str, object]:
    return {"credential": credential} if credential is not None else {}


def _need_person(by: str) -> None:
    if not by.strip():
        raise DisposalRefused("须写明操作人（--by）")
