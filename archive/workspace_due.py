"""The due facts of the workspace's cases in progress (revision 0012): one row per open step of a case —
who holds it and when it falls due, with the clause that says so — so the work queue (「我的待办」,
`gongu queue`, the daily reminder scan) is one indexed query, never a read of every case file.

The rows are computed by gongu.pipeline.queue (the same rules `gongu check` uses) and written by its
`refresh_due` inside the write transaction of the change that moved them (upload, submit, review,
assignment, issue, archive), so they are what the workspace recorded: a case file edited on disk
afterwards changes nothing here until the workspace takes it in again. Every change of a case's row
(put_case, set_status, put_assignment) drops its due rows and marks it `due_pending` in the same
transaction; refresh_due clears the mark, and the queue's next read computes any case still marked
(`missing_cases`, an indexed lookup) — a catalog migrated to revision 0012 marks every case in progress.

`due_at` is UTC text of one fixed width (sorts as time does), NULL when no limit applies; a limit in
working days also keeps its Beijing `due_day`, from which the days left are counted for the rows shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    and_,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from archive.catalog import Catalog
from archive.workspace import workspace_cases_table, workspace_due_table


@dataclass(frozen=True)
class DueRow:
    case_id: str
    stage: str
    kind: str
    person: str
    due_at: datetime | None
    due_day: date | None
    estimated: bool
    clause: str


def stamp(at: datetime) -> str:
    """A time as UTC text that sorts as the time does (one width, microseconds included)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _row(r: object) -> DueRow:
    m = r._mapping  # type: ignore[attr-defined]
    return DueRow(m["case_id"], m["stage"], m["kind"], m["person"],
                  datetime.fromisoformat(m["due_at"]) if m["due_at"] else None,  # "…Z": UTC
                  date.fromisoformat(m["due_day"]) if m["due_day"] else None, bool(m["estimated"]), m["clause"])


def replace_due(catalog: Catalog, case_id: str, rows: Sequence[DueRow], *, at: datetime) -> None:
    """The case's rows become `rows` (inside the caller's write transaction); it no longer waits for them."""
    conn = catalog._writing()
    t, c = workspace_due_table, workspace_cases_table
    conn.execute(delete(t).where(t.c.case_id == case_id))
    conn.execute(update(c).where(c.c.case_id == case_id, c.c.due_pending != 0).values(due_pending=0))
    if rows:
        conn.execute(insert(t), [
            {"case_id": case_id, "stage": r.stage, "kind": r.kind, "person": r.person,
             "due_at": stamp(r.due_at) if r.due_at else None,
             "due_day": r.due_day.isoformat() if r.due_day else None, "estimated": int(r.estimated),
             "clause": r.clause, "computed_at": stamp(at)} for r in rows])


def drop_due(catalog: Catalog, case_id: str) -> None:
    """The case has no recorded due facts until they are computed again (inside the caller's write)."""
    t = workspace_due_table
    catalog._writing().execute(delete(t).where(t.c.case_id == case_id))


def missing_cases(catalog: Catalog) -> list[str]:
    """Cases whose due rows wait to be computed (`due_pending`, an indexed marker): in progress when the
    table was made, or changed by a path that dropped their rows without computing them."""
    c = workspace_cases_table
    return [r["case_id"] for r in catalog._rows(select(c.c.case_id).where(c.c.due_pending != 0).order_by(c.c.case_id))]


@dataclass(frozen=True)
class DuePage:
    rows: list[DueRow]
    total: int
    overdue: int
    people: list[str]  # every person holding a step under `where` before the `narrow` filters


def due_page(catalog: Catalog, *, now: datetime, where: Sequence[ColumnElement[bool]] = (),
             narrow: Sequence[ColumnElement[bool]] = (), limit: int | None = None, people: bool = False) -> DuePage:
    """The due rows `where` admits and `narrow` filters further (conditions on this table; a case's
    visibility comes in as a subquery): by due time — which puts the overdue first, since a step is
    overdue exactly when its due time has passed — then the steps with no due time, at most `limit`;
    the total and overdue counts are SQL counts over them all. Only cases in progress have rows (an
    archived case's are removed with the status change), so no join with workspace_cases is needed."""
    t = workspace_due_table
    cond = and_(true(), *where, *narrow)
    dated = (select(t).where(cond, t.c.due_at.is_not(None)).order_by(t.c.due_at, t.c.case_id, t.c.stage)
             .limit(limit))
    rows = [_row(r) for r in catalog._query(lambda conn: list(conn.execute(dated)))]
    if limit is None or len(rows) < limit:
        undated = select(t).where(cond, t.c.due_at.is_(None)).order_by(t.c.case_id, t.c.stage)
        if limit is not None:
            undated = undated.limit(limit - len(rows))
        rows += [_row(r) for r in catalog._query(lambda conn: list(conn.execute(undated)))]
    total = int(catalog._scalar(select(func.count()).select_from(t).where(cond)))
    late = int(catalog._scalar(select(func.count()).select_from(t).where(cond, t.c.due_at < stamp(now))))
    names: list[str] = []
    if people:
        names = [r["person"] for r in catalog._rows(select(t.c.person).distinct()
                                                    .where(*where, t.c.person != "").order_by(t.c.person))]
    return DuePage(rows, total, late, names)


__all__ = ["DuePage", "DueRow", "drop_due", "due_page", "missing_cases", "replace_due", "stamp", "workspace_due_table"]
