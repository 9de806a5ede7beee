"""The due facts of the workspace's cases in progress (revision 0012): one row per open step of a case —
who holds it and when it falls due, with the clause that says so — so the work queue (「我的待办」,
`gongu queue`, the daily reminder scan) is one indexed query, never a read of every case file.

The rows are computed by gongu.pipeline.queue (the same rules `gongu check` uses) and written by its
`refresh_due` inside the write transaction of the change that moved them (upload, submit, review,
assignment, issue, archive), so they are what the workspace recorded: a case file edited on disk
afterwards changes nothing here until the workspace takes it in again. A status change or a new
assignment made without them (set_status, put_assignment) drops the case's rows in the same
transaction; a case in progress with no rows is computed again on the next read (`missing_cases`).

`due_at` is UTC text of one fixed width (sorts as time does), NULL when no limit applies; a limit in
working days also keeps its Beijing `due_day`, from which the days left are counted for the rows shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    select,
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
                  datetime.strptime(m["due_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) if m["due_at"] else None,
                  date.fromisoformat(m["due_day"]) if m["due_day"] else None, bool(m["estimated"]), m["clause"])


def replace_due(catalog: Catalog, case_id: str, rows: Sequence[DueRow], *, at: datetime) -> None:
    """The case's rows become `rows` (inside the caller's write transaction)."""
    conn = catalog._writing()
    t = workspace_due_table
    conn.execute(delete(t).where(t.c.case_id == case_id))
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
    """Cases in progress with no due rows (every such case has at least one open step): new since the
    table was made, or changed by a path that dropped its rows without computing them."""
    c, t = workspace_cases_table, workspace_due_table
    query = select(c.c.case_id).where(c.c.status != "archived",
                                      ~exists().where(t.c.case_id == c.c.case_id)).order_by(c.c.case_id)
    return [r["case_id"] for r in catalog._rows(query)]


@dataclass(frozen=True)
class DuePage:
    rows: list[DueRow]
    total: int
    overdue: int
    people: list[str]  # every person holding a step under `where` before the person / kind / stage filters


def _overdue(now: datetime) -> ColumnElement[bool]:
    t = workspace_due_table
    return and_(t.c.due_at.is_not(None), t.c.due_at < stamp(now))


def due_page(catalog: Catalog, *, now: datetime, where: Sequence[ColumnElement[bool]] = (),
             narrow: Sequence[ColumnElement[bool]] = (), limit: int | None = None, people: bool = False) -> DuePage:
    """The due rows `where` admits (conditions on this table and on workspace_cases, joined) and `narrow`
    filters further: overdue first, then by due time (none last), at most `limit`; the total and overdue
    counts are SQL counts over them all."""
    t, c = workspace_due_table, workspace_cases_table
    joined = t.join(c, c.c.case_id == t.c.case_id)
    cond = and_(c.c.status != "archived", *where, *narrow)
    late = _overdue(now)
    order = [case((late, 0), else_=1), case((t.c.due_at.is_(None), 1), else_=0), t.c.due_at, t.c.case_id, t.c.stage]
    query = select(t).select_from(joined).where(cond).order_by(*order)
    rows = [_row(r) for r in catalog._query(lambda conn: list(conn.execute(query.limit(limit) if limit else query)))]
    counts = catalog._one(select(func.count().label("n"), func.coalesce(func.sum(case((late, 1), else_=0)), 0)
                                 .label("late")).select_from(joined).where(cond))
    names: list[str] = []
    if people:
        names = [r["person"] for r in catalog._rows(select(t.c.person).distinct().select_from(joined)
                                                    .where(c.c.status != "archived", *where, t.c.person != "")
                                                    .order_by(t.c.person))]
    assert counts is not None
    return DuePage(rows, int(counts["n"]), int(counts["late"]), names)


__all__ = ["DuePage", "DueRow", "drop_due", "due_page", "missing_cases", "replace_due", "stamp", "workspace_due_table"]
