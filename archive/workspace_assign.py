"""Who holds each duty on a workspace case (the workspace_assignments table, archive/workspace.py,
revision 0010): a supervisor assigns or hands over the case's handler (survey) or appraiser (forensic)
and the reviewer of each level. The who / when / why of every assignment goes into the case's trail
(the event log); these rows hold the current holder, which the work queue and the review rule read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from archive.catalog import Catalog
from archive.workspace import (
    DUTIES,
    workspace_assignments_table,
    workspace_case_people_table,
    workspace_cases_table,
    workspace_due_table,
)

WORKER_DUTIES = frozenset({"handler", "appraiser"})  # the duty that makes an account the case's handler


@dataclass(frozen=True)
class Assignment:
    case_id: str
    duty: str
    account: str
    person: str
    assigned_by: str
    assigned_at: str
    reason: str

    @property
    def duty_title(self) -> str:
        return DUTIES[self.duty]


def assignments(catalog: Catalog, case_id: str) -> dict[str, Assignment]:
    """duty → its current holder on this case."""
    t = workspace_assignments_table
    return {r["duty"]: Assignment(**dict(r)) for r in catalog._rows(select(t).where(t.c.case_id == case_id))}


def assignments_of(catalog: Catalog, case_ids: list[str]) -> dict[str, dict[str, Assignment]]:
    """case id → duty → holder, for many cases in one query (the work queue)."""
    t = workspace_assignments_table
    out: dict[str, dict[str, Assignment]] = {}
    for start in range(0, len(case_ids), 500):
        for r in catalog._rows(select(t).where(t.c.case_id.in_(case_ids[start:start + 500]))):
            out.setdefault(r["case_id"], {})[r["duty"]] = Assignment(**dict(r))
    return out


def put_assignment(catalog: Catalog, *, case_id: str, duty: str, account: str, person: str, by: str, at: str,
                   reason: str) -> Assignment | None:
    """Give `duty` on the case to `account` (inside the caller's write transaction); the holder it replaces,
    if any. The person joins the case's people (need to know); the worker duty also makes the account the
    case's handler (it submits and replaces the case) and restarts the 4.4 clock (`assigned_at`)."""
    conn = catalog._writing()
    t, cases, people = workspace_assignments_table, workspace_cases_table, workspace_case_people_table
    row = conn.execute(select(t).where(t.c.case_id == case_id, t.c.duty == duty)).mappings().first()
    previous = Assignment(**dict(row)) if row is not None else None
    conn.execute(delete(t).where(t.c.case_id == case_id, t.c.duty == duty))
    conn.execute(insert(t).values(case_id=case_id, duty=duty, account=account, person=person, assigned_by=by,
                                  assigned_at=at, reason=reason))
    if not conn.execute(select(people.c.person).where(people.c.case_id == case_id, people.c.person == person)).first():
        conn.execute(insert(people).values(case_id=case_id, person=person))
    values: dict[str, object] = {"version": cases.c.version + 1, "updated_at": at, "due_pending": 1}
    if duty in WORKER_DUTIES:
        values.update(handler=account, handler_person=person, assigned_at=at)
    conn.execute(update(cases).where(cases.c.case_id == case_id).values(**values))
    # the holder (and for the worker duty the 4.4 clock) changed: refresh_due writes the new due facts
    conn.execute(delete(workspace_due_table).where(workspace_due_table.c.case_id == case_id))
    return previous


def handed_over(catalog: Catalog, case_id: str) -> bool:
    """A supervisor gave the case's handler / appraiser duty: the handler account then did not sign by
    uploading, and confirms its own signature like every other signer (「确认署名」)."""
    t = workspace_assignments_table
    return catalog._one(select(t.c.duty).where(t.c.case_id == case_id, t.c.duty.in_(WORKER_DUTIES))) is not None
