"""Assigning and handing over a case in progress: the kind's supervisor (`supervisor` for surveys,
`forensic_supervisor` for forensic appraisals — gongu/access/case_access.py) gives a duty on the case —
its handler (4.3) or appraiser (通则 Art 19), or the reviewer of one level (9.3; 通则 Art 35) — to an
account, with a reason. The holder is stored in the catalog (archive/workspace_assign.py); the caller
records who / when / why in the case's trail (`trail_entry`: the web's form and `gongu assign` record the
same event). Giving the handler duty starts the 4.4 clock again.

An assignment made from a page carries the case version the page was rendered with: when another
person changed the case in between (an assignment, a review, a re-upload), it is refused with
CaseConflict, so two supervisors assigning at once never overwrite each other unseen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.accounts import get_account, level_roles
from archive.catalog import Catalog
from archive.workspace import DUTIES, VersionConflict, WorkspaceCase, check_version, get_case
from archive.workspace_assign import WORKER_DUTIES, Assignment, assignments, put_assignment
from gongu.access.case_access import KIND_ROLES, supervises
from gongu.pipeline.queue import refresh_due
from gongu.pipeline.workspace import Actor, CaseConflict, WorkspaceRefused

MAX_REASON = 500


def duties_of(kind: str) -> dict[str, str]:
    """The duties a case of `kind` has, with their titles: its worker, then the three review levels."""
    worker = KIND_ROLES[kind].worker if kind in KIND_ROLES else None
    return {d: t for d, t in DUTIES.items() if d not in WORKER_DUTIES or d == worker}


def duty_roles(kind: str, duty: str) -> frozenset[str]:
    """The roles an account must hold to take `duty` on a case of `kind`."""
    if duty in WORKER_DUTIES:
        return frozenset({duty})
    return level_roles(kind, duty)


@dataclass(frozen=True)
class Assigned:
    row: WorkspaceCase
    assignment: Assignment
    previous: Assignment | None  # the holder handed over from (None: a first assignment)


def assign_case(catalog: Catalog, case_id: str, *, duty: str, assignee: str, reason: str, account: Actor,
                now: str, expected_version: int | None, home: Path | None = None) -> Assigned:
    """Give `duty` on the case to the account `assignee`; WorkspaceRefused with every reason, or CaseConflict
    when the case changed since `expected_version`. Nothing is written when refused."""
    from archive.accounts import ROLES

    row = get_case(catalog, case_id)
    if row is None:
        raise WorkspaceRefused([f"工作台中没有案件 {case_id}"])
    if expected_version is not None and row.version != expected_version:  # a stale page: say so first
        raise CaseConflict(VersionConflict(case_id, expected_version, row.version))
    reasons: list[str] = []
    if not supervises(account, row.kind):
        title = ROLES[KIND_ROLES[row.kind].supervisor] if row.kind in KIND_ROLES else "主管"
        raise WorkspaceRefused([f"只有「{title}」可以指派或移交此类案件"])
    duties = duties_of(row.kind)
    if duty not in duties:
        raise WorkspaceRefused([f"职责无效：{duty!r}；可选：{'、'.join(f'{d}（{t}）' for d, t in duties.items())}"])
    reason = " ".join(reason.split())
    if not reason:
        reasons.append("指派或移交须写明原因")
    elif len(reason) > MAX_REASON:
        reasons.append(f"原因过长（最多 {MAX_REASON} 字）")
    if row.status in ("issued", "archived"):
        reasons.append(f"案件状态为「{row.status_title}」，已不能指派")
    target = get_account(catalog, assignee.strip()) if assignee.strip() else None
    if target is None or target.disabled:
        reasons.append(f"没有可用的账户 {assignee!r}")
    else:
        need = duty_roles(row.kind, duty)
        if not target.roles & need:
            reasons.append(f"账户 {target.username}（{target.person}）没有「{DUTIES[duty]}」所需的角色"
                           f"（{'、'.join(ROLES[r] for r in sorted(need))}）")
        held = assignments(catalog, case_id)
        if duty not in WORKER_DUTIES:
            # 9.3: the handler never reviews the case, and one account decides one level only
            if target.username == row.handler:
                reasons.append(f"账户 {target.username} 是本案的{DUTIES.get(KIND_ROLES[row.kind].worker, '承办')}，不能审核本案")
            other = [DUTIES[d] for d, a in held.items() if d != duty and d not in WORKER_DUTIES
                     and a.account == target.username]
            if other:
                reasons.append(f"账户 {target.username} 已被指派为本案的{'、'.join(other)}，同一账户不能担任两级审核")
        else:
            levels = [DUTIES[d] for d, a in held.items() if d not in WORKER_DUTIES and a.account == target.username]
            if levels:
                reasons.append(f"账户 {target.username} 已被指派为本案的{'、'.join(levels)}，审核人不能承办本案")
        if (current := held.get(duty)) is not None and current.account == target.username:
            reasons.append(f"账户 {target.username} 已是本案的{DUTIES[duty]}")
    if reasons:
        raise WorkspaceRefused(reasons)
    assert target is not None
    try:
        with catalog.write():
            check_version(catalog, case_id, expected_version)
            previous = put_assignment(catalog, case_id=case_id, duty=duty, account=target.username,
                                      person=target.person, by=account.username, at=now, reason=reason)
            if home is not None:  # the new holder's due facts (without a home: computed on the queue's next read)
                refresh_due(catalog, home, case_id, datetime.fromisoformat(now))
    except VersionConflict as exc:
        raise CaseConflict(exc) from None
    stored = get_case(catalog, case_id)
    assert stored is not None
    return Assigned(stored, assignments(catalog, case_id)[duty], previous)


def trail_entry(done: Assigned) -> tuple[str, dict[str, Any]]:
    """The case trail's record of an assignment (a "web" event of the archive's log, whoever made it):
    its action — case_assign, or case_handover when the duty had a holder — and its details, `case_id`
    and `report_number` among them (the event's columns)."""
    a, before = done.assignment, done.previous
    return ("case_assign" if before is None else "case_handover",
            {"case_id": a.case_id, "report_number": done.row.report_number, "duty": a.duty, "to": a.account,
             "to_person": a.person, "previous": before.account if before else None, "reason": a.reason,
             "assigned_at": a.assigned_at})
