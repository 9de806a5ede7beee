"""Legal holds: a client dispute, litigation or a regulator's request freezes a case's packages
whatever their retention date; release is recorded, never deleted."""

from __future__ import annotations

from sqlalchemy import RowMapping

from archive.store import Archive, ArchiveError

HOLD_KINDS = {"dispute": "委托人争议", "litigation": "诉讼", "regulator": "监管调查"}


def place_hold(archive: Archive, case_id: str, *, kind: str, reason: str, reference: str, by: str) -> int:
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
        event = cat.append_event("hold", at, by, case_id, None,
                                 {"hold_id": hold_id, "kind": kind, "reason": reason, "reference": reference})
    archive.committed([event])
    return hold_id


def release_hold(archive: Archive, case_id: str, *, by: str, reason: str, reference: str | None = None) -> RowMapping:
    archive.require_root()
    if not by.strip() or not reason.strip():
        raise ArchiveError("解除冻结须写明操作人（--by）和原因（--reason）")
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
        at = archive.now()
        cat.release_hold(hold["id"], by=by, at=at.isoformat(), reason=reason)
        event = cat.append_event("release", at, by, case_id, None,
                                 {"hold_id": hold["id"], "reference": hold["reference"], "reason": reason})
    archive.committed([event])
    return hold
