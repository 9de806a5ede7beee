"""Legal holds: a client dispute, litigation or a regulator's request freezes a case's packages
whatever their retention date; release is recorded, never deleted.

The signed event log is the authority on which holds stand: a hold placed is a "hold" event, a hold
lifted a "release" event. The holds table is a convenience that a single SQL statement can change, so
disposal asks `logged_holds` too and the audit compares the two (`hold_log_problems`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from archive.catalog import Catalog
from archive.store import Archive, ArchiveError
from generator.persons import same_person

HOLD_KINDS = {"dispute": "委托人争议", "litigation": "诉讼", "regulator": "监管调查"}
# A release must say why in a sentence, not one word ("撤回", "ok"): it lets the package be destroyed.
RELEASE_REASON_MIN = 8


def place_hold(archive: Archive, case_id: str, *, kind: str, reason: str, reference: str, by: str,
               credential: dict[str, Any] | None = None) -> int:
    """`credential`: how the person acting proved who they are (recorded in the log event)."""
    archive.require_root()
    if kind not in HOLD_KINDS:
        raise ArchiveError(f"冻结类别应为 {', '.join(HOLD_KINDS)} 之一，收到 {kind!r}")
    for label, value in (("原因（--reason）", reason), ("文号（--reference）", reference), ("操作人（--by）", by)):
        if not value.strip():
            raise ArchiveError(f"冻结须写明{label}")
    cat = archive.catalog
    with cat.write():
        if not cat.packages(case_id):
            raise ArchiveError(f"档案中没有案件 {case_id}")
        at = archive.now()
        hold_id = cat.add_hold(case_id, kind=kind, reason=reason, reference=reference, by=by, at=at.isoformat())
        details: dict[str, Any] = {"hold_id": hold_id, "kind": kind, "reason": reason, "reference": reference}
        if credential is not None:
            details["credential"] = credential
        event = cat.append_event("hold", at, by, case_id, None, details)
    archive.committed([event])
    return hold_id


def release_problems(catalog: Catalog, hold: RowMapping, *, by: str, reason: str, decision_reference: str) -> list[str]:
    """Why `by` may not lift `hold` (empty: they may). Two persons: the one who placed the hold and the one
    who proposed (or approved) the disposal it is blocking cannot lift it — else one person could freeze,
    unfreeze and destroy alone."""
    problems = []
    if not decision_reference.strip():
        problems.append("须写明解除冻结决定的文号（--decision-reference），例如法院裁定、撤诉通知或监管函的文号")
    shown = reason.strip()
    if len("".join(shown.split())) < RELEASE_REASON_MIN:
        problems.append(f"解除原因须写明事由，至少 {RELEASE_REASON_MIN} 个字（收到 {shown!r}）")
    if same_person(by, hold["placed_by"]):
        problems.append(f"冻结须由冻结人以外的另一名档案管理人员解除（冻结人：{hold['placed_by']}）")
    disposal = catalog.open_disposal(hold["case_id"])
    if disposal is not None:
        for role, person in (("提议人", disposal["proposed_by"]), ("批准人", disposal["approved_by"])):
            if person and same_person(by, person):
                problems.append(f"{by} 是被此冻结阻止的销毁的{role}，不得解除此冻结")
    return problems


def release_hold(archive: Archive, case_id: str, *, by: str, reason: str, decision_reference: str,
                 reference: str | None = None, credential: dict[str, Any] | None = None) -> RowMapping:
    """Lift one active hold. `reference` picks the hold (its own 文号) when there are several;
    `decision_reference` is the 文号 of the decision that lifts it (a court ruling, a withdrawal)."""
    archive.require_root()
    if not by.strip():
        raise ArchiveError("解除冻结须写明操作人（--by）")
    cat = archive.catalog
    with cat.write():
        active = cat.active_holds(case_id)
        if reference is not None:
            active = [h for h in active if h["reference"] == reference]
        if not active:
            raise ArchiveError(f"案件 {case_id} 没有{'文号为 ' + reference + ' 的' if reference else ''}有效冻结")
        if len(active) > 1:
            refs = "、".join(h["reference"] for h in active)
            raise ArchiveError(f"案件 {case_id} 有多项冻结（{refs}），请用 --reference 指明解除哪一项")
        hold = active[0]
        problems = release_problems(cat, hold, by=by, reason=reason, decision_reference=decision_reference)
        if problems:
            raise ArchiveError("不得解除冻结：" + "；".join(problems))
        at = archive.now()
        cat.release_hold(hold["id"], by=by, at=at.isoformat(), reason=reason)
        details: dict[str, Any] = {"hold_id": hold["id"], "reference": hold["reference"], "reason": reason,
                                   "decision_reference": decision_reference.strip(), "placed_by": hold["placed_by"]}
        if credential is not None:
            details["credential"] = credential
        event = cat.append_event("release", at, by, case_id, None, details)
    archive.committed([event])
    return hold


def logged_holds(catalog: Catalog, case_id: str) -> list[dict[str, Any]]:
    """The holds of the case that the signed log shows as placed and not released, whatever the holds
    table says: each is the "hold" event's details (hold_id, kind, reason, reference) plus `placed_by`."""
    standing: dict[Any, dict[str, Any]] = {}
    for e in catalog.events(case_id):
        hid = e.details.get("hold_id")
        if e.kind == "hold":
            standing[hid] = {**e.details, "placed_by": e.actor}
        elif e.kind == "release":
            standing.pop(hid, None)
    return list(standing.values())


def hold_log_problems(catalog: Catalog) -> list[str]:
    """The holds table against the log: every row needs its "hold" event, every released row its
    "release" event, and every logged hold its row; a difference is a hold changed behind the archive's
    back (an incident: restore the table from the log, find who did it)."""
    placed: dict[Any, Any] = {}
    released: dict[Any, Any] = {}
    for e in catalog.events():
        if e.kind == "hold":
            placed.setdefault(e.details.get("hold_id"), e)
        elif e.kind == "release":
            released.setdefault(e.details.get("hold_id"), e)
    rows = {r["id"]: r for r in catalog.all_holds()}
    problems = []
    for hid, e in placed.items():
        row = rows.get(hid)
        where = f"冻结 #{hid}（案件 {e.case_id}，文号 {e.details.get('reference')}）"
        if row is None:
            problems.append(f"{where} 在日志中有冻结事件，目录中却没有这条冻结记录（被删除）")
            continue
        if (row["case_id"], row["reference"], row["kind"]) != (e.case_id, e.details.get("reference"), e.details.get("kind")):
            problems.append(f"{where} 目录记录（案件 {row['case_id']}，文号 {row['reference']}）与日志不一致")
        if row["released_at"] is not None and hid not in released:
            problems.append(f"{where} 在目录中记为已解除（{row['released_by']}，{row['released_at']}），"
                            "日志中却没有解除事件")
        if row["released_at"] is None and hid in released:
            problems.append(f"{where} 在日志中已解除，目录中却仍为有效冻结")
    for hid, row in rows.items():
        if hid not in placed:
            problems.append(f"冻结 #{hid}（案件 {row['case_id']}，文号 {row['reference']}）在目录中存在，日志中却没有冻结事件")
    return problems
