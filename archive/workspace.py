"""The web workspace's cases in progress: one row per case uploaded to
GONGU_HOME/workspace/<case_id>/, its status, and the review decisions made through the workspace with
the account that made them.

Tables sit on the catalog's SQLAlchemy `metadata` (revision 0004), SQLAlchemy Core only, so they work
on SQLite and PostgreSQL alike. The list page reads only these columns (indexed), never the case files:
the columns the list shows and searches are copied from case.json when it is uploaded or changed.
The case file stays the record of the reviews themselves (as `gongu review` writes them); the
`workspace_comments` rows add what a case file cannot hold: which account decided."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from archive.catalog import Catalog, metadata
from archive.errors import ArchiveError

STATUSES = {"draft": "草稿", "in_review": "审核中", "returned": "已退回", "issued": "已出具", "archived": "已归档"}
LEVEL_VALUES = ("proofread", "recheck", "approve")

workspace_cases_table = Table(
    "workspace_cases", metadata,
    Column("case_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("handler", Text, nullable=False),  # the account (username) that uploaded the case
    Column("handler_person", Text, nullable=False),
    Column("case_name", Text, nullable=False),
    Column("project", Text, nullable=False),
    Column("insured", Text, nullable=False),
    Column("report_number", Text, nullable=False),
    Column("next_level", Text),  # the review level the case waits for while in review
    Column("search_text", Text, nullable=False),  # case id, project, insured, name: lower-cased, for LIKE
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    # Raised on every change of the case (revision 0010): a decision or assignment made on a page rendered
    # at an older version is refused (VersionConflict), so two people acting at once never both succeed.
    Column("version", Integer, nullable=False, server_default="0"),
    Column("assigned_at", Text),  # when a supervisor last assigned the handler: the 4.4 clock starts here
    # 1 while the case's due rows (workspace_due, revision 0012) wait to be computed: set by a change made
    # without computing them, cleared by gongu.pipeline.queue.refresh_due; the queue's read finds them by index
    Column("due_pending", Integer, nullable=False, server_default="0"),
    CheckConstraint("status IN ('draft', 'in_review', 'returned', 'issued', 'archived')"),
    Index("workspace_cases_status", "status", "updated_at"),
    Index("workspace_cases_handler", "handler", "updated_at"),
    Index("workspace_cases_kind", "kind", "updated_at"),
    Index("workspace_cases_updated", "updated_at"),
    Index("workspace_cases_queue", "status", "next_level", "updated_at"),
    Index("workspace_cases_due_pending", "due_pending"),
)
workspace_comments_table = Table(
    "workspace_comments", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Text, ForeignKey("workspace_cases.case_id"), nullable=False),
    Column("level", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("account", Text, nullable=False),  # username: the review rules compare accounts
    Column("person", Text, nullable=False),  # the registered name recorded in case.json
    Column("comment", Text),
    Column("at", Text, nullable=False),
    CheckConstraint("level IN ('proofread', 'recheck', 'approve')"),
    CheckConstraint("decision IN ('approve', 'return')"),
    Index("workspace_comments_case", "case_id", "id"),
)
# The people named on the case (handlers / appraisers, registered names): the need-to-know filter
# (gongu/access/case_access.py) matches an account's person against these (revision 0005).
workspace_case_people_table = Table(
    "workspace_case_people", metadata,
    Column("case_id", Text, ForeignKey("workspace_cases.case_id"), nullable=False),
    Column("person", Text, nullable=False),
    PrimaryKeyConstraint("case_id", "person"),
    Index("workspace_case_people_person", "person", "case_id"),
)
# Who holds each duty on a case as a supervisor assigned it (revision 0010): the handler (survey) or
# appraiser (forensic), and the reviewer of each level. One row per duty; the history of assignments is
# the case's trail in the event log. Functions: archive/workspace_assign.py.
DUTIES = {"handler": "承办人员", "appraiser": "鉴定人", "proofread": "校对", "recheck": "复核", "approve": "审核"}
workspace_assignments_table = Table(
    "workspace_assignments", metadata,
    Column("case_id", Text, ForeignKey("workspace_cases.case_id"), nullable=False),
    Column("duty", Text, nullable=False),
    Column("account", Text, nullable=False),  # username
    Column("person", Text, nullable=False),  # its registered person, as the case people table holds names
    Column("assigned_by", Text, nullable=False),  # the supervisor's username
    Column("assigned_at", Text, nullable=False),
    Column("reason", Text, nullable=False),
    PrimaryKeyConstraint("case_id", "duty"),
    CheckConstraint("duty IN ('handler', 'appraiser', 'proofread', 'recheck', 'approve')"),
    Index("workspace_assignments_person", "person", "case_id"),
)

# The due facts of each case in progress (revision 0012): one row per open step, written by
# gongu.pipeline.queue.refresh_due; functions and the rules of the rows: archive/workspace_due.py.
workspace_due_table = Table(
    "workspace_due", metadata,
    Column("case_id", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("person", Text, nullable=False),  # the registered name holding the step; "" = held by the role
    Column("due_at", Text),  # UTC, fixed width (`stamp`); NULL: no time limit (or none can be counted yet)
    Column("due_day", Text),  # the Beijing day a limit in working days falls due on (ISO date)
    Column("estimated", Integer, nullable=False),  # counted through a year with no official calendar (估算)
    Column("clause", Text, nullable=False),
    Column("computed_at", Text, nullable=False),
    PrimaryKeyConstraint("case_id", "stage"),
    # the queue's order (due_at, then case and stage: NULLs read apart), one person's or kind's steps
    Index("workspace_due_order", "due_at", "case_id", "stage"),
    Index("workspace_due_person", "person", "kind", "due_at"),
    Index("workspace_due_stage", "kind", "stage", "due_at"),
)


class VersionConflict(ArchiveError):
    """The case changed since the page the action came from was rendered (another person acted first)."""

    def __init__(self, case_id: str, expected: int, found: int | None) -> None:
        self.case_id, self.expected, self.found = case_id, expected, found
        super().__init__(f"案件 {case_id} 的页面版本为 {expected}，现为 {found}")


@dataclass(frozen=True)
class WorkspaceCase:
    case_id: str
    kind: str
    status: str
    handler: str
    handler_person: str
    case_name: str
    project: str
    insured: str
    report_number: str
    next_level: str | None
    created_at: str
    updated_at: str
    version: int = 0
    assigned_at: str | None = None

    @property
    def status_title(self) -> str:
        return STATUSES[self.status]


@dataclass(frozen=True)
class ReviewComment:
    id: int
    case_id: str
    level: str
    decision: str
    account: str
    person: str
    comment: str | None
    at: str


@dataclass(frozen=True)
class CasePage:
    rows: list[WorkspaceCase]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


_CASE_COLUMNS = [c for c in workspace_cases_table.c if c.name not in ("search_text", "due_pending")]


def _case(row: Any) -> WorkspaceCase:
    return WorkspaceCase(**{c.name: row[c.name] for c in _CASE_COLUMNS})


def search_text(*parts: str) -> str:
    return " ".join(p for p in parts if p).casefold()


def get_case(catalog: Catalog, case_id: str) -> WorkspaceCase | None:
    row = catalog._one(select(*_CASE_COLUMNS).where(workspace_cases_table.c.case_id == case_id))
    return _case(row) if row is not None else None


def cases_by_id(catalog: Catalog, case_ids: list[str],
                visible: ColumnElement[bool] | None = None) -> dict[str, WorkspaceCase]:
    """The workspace rows of these cases, in one query (a list page shows each case's status);
    `visible`: only the rows this condition admits (the need-to-know filter)."""
    if not case_ids:
        return {}
    query = select(*_CASE_COLUMNS).where(workspace_cases_table.c.case_id.in_(case_ids))
    rows = catalog._rows(query.where(visible) if visible is not None else query)
    return {r["case_id"]: _case(r) for r in rows}


def put_case(catalog: Catalog, *, case_id: str, kind: str, status: str, handler: str, handler_person: str,
             case_name: str, project: str, insured: str, report_number: str, next_level: str | None, at: str,
             people: list[str] | None = None) -> None:
    """Insert the case or update its row (inside the caller's write transaction); `people`: the names the
    case file puts on it (handlers / appraisers), stored with the uploader's person."""
    conn = catalog._writing()
    values = {"kind": kind, "status": status, "handler": handler, "handler_person": handler_person,
              "case_name": case_name, "project": project, "insured": insured, "report_number": report_number,
              "next_level": next_level, "updated_at": at, "due_pending": 1,
              "search_text": search_text(case_id, project, insured, case_name)}
    found = conn.execute(select(workspace_cases_table.c.case_id)
                         .where(workspace_cases_table.c.case_id == case_id)).first()
    if found is None:
        conn.execute(insert(workspace_cases_table).values(case_id=case_id, created_at=at, version=1, **values))
    else:
        conn.execute(update(workspace_cases_table).where(workspace_cases_table.c.case_id == case_id)
                     .values(version=workspace_cases_table.c.version + 1, **values))
    conn.execute(delete(workspace_due_table).where(workspace_due_table.c.case_id == case_id))  # see set_status
    p = workspace_case_people_table
    conn.execute(delete(p).where(p.c.case_id == case_id))
    # people a supervisor assigned stay on the case through a re-upload (archive/workspace_assign.py)
    assigned = [r[0] for r in conn.execute(select(workspace_assignments_table.c.person)
                                           .where(workspace_assignments_table.c.case_id == case_id))]
    for person in sorted({handler_person, *(people or []), *assigned} - {""}):
        conn.execute(insert(p).values(case_id=case_id, person=person))


def case_people(catalog: Catalog, case_id: str) -> list[str]:
    p = workspace_case_people_table
    return [r["person"] for r in catalog._rows(select(p.c.person).where(p.c.case_id == case_id).order_by(p.c.person))]


def set_status(catalog: Catalog, case_id: str, status: str, *, next_level: str | None, at: str) -> None:
    t = workspace_cases_table
    conn = catalog._writing()
    conn.execute(update(t).where(t.c.case_id == case_id)
                 .values(status=status, next_level=next_level, updated_at=at, version=t.c.version + 1, due_pending=1))
    # its due facts no longer hold: refresh_due writes the new ones in this transaction (or the next read)
    conn.execute(delete(workspace_due_table).where(workspace_due_table.c.case_id == case_id))


def check_version(catalog: Catalog, case_id: str, expected: int | None) -> None:
    """Inside the caller's write transaction (the catalog's write lock orders racers): VersionConflict
    unless the case is still at `expected` (None: the caller has no page version to hold it to)."""
    if expected is None:
        return
    t = workspace_cases_table
    found = catalog._writing().execute(select(t.c.version).where(t.c.case_id == case_id)).scalar()
    if found != expected:
        raise VersionConflict(case_id, expected, found)


def bump_version(catalog: Catalog, case_id: str, *, at: str) -> None:
    """Record a change of the case that touches no other column of its row (inside the caller's write)."""
    t = workspace_cases_table
    catalog._writing().execute(update(t).where(t.c.case_id == case_id).values(version=t.c.version + 1, updated_at=at))


def add_comment(catalog: Catalog, *, case_id: str, level: str, decision: str, account: str, person: str,
                comment: str | None, at: str) -> None:
    catalog._writing().execute(insert(workspace_comments_table).values(
        case_id=case_id, level=level, decision=decision, account=account, person=person, comment=comment, at=at))


def comments(catalog: Catalog, case_id: str) -> list[ReviewComment]:
    rows = catalog._rows(select(workspace_comments_table).where(workspace_comments_table.c.case_id == case_id)
                         .order_by(workspace_comments_table.c.id))
    return [ReviewComment(**dict(r)) for r in rows]


def list_cases(catalog: Catalog, *, status: str | None = None, kind: str | None = None, handler: str | None = None,
               text: str | None = None, next_level: str | None = None, ready: bool = False, page: int = 1,
               page_size: int = 50, visible: ColumnElement[bool] | None = None) -> CasePage:
    """One page of cases, newest change first; every filter is an indexed column except the text search
    (a LIKE over one lower-cased column: case id, project, insured and case name). `ready`: in review
    with every level passed (waiting for the approver to issue)."""
    t = workspace_cases_table
    where = [] if visible is None else [visible]
    if status:
        where.append(t.c.status == status)
    if kind:
        where.append(t.c.kind == kind)
    if handler:
        where.append(or_(t.c.handler == handler, t.c.handler_person == handler))
    if next_level:
        where.append(t.c.next_level == next_level)
    if ready:
        where += [t.c.status == "in_review", t.c.next_level.is_(None)]
    if text and text.strip():
        for word in text.casefold().split()[:10]:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(t.c.search_text.like(f"%{escaped}%", escape="\\"))
    cond = and_(*where) if where else None
    count = select(func.count()).select_from(t)
    query = select(*_CASE_COLUMNS).order_by(t.c.updated_at.desc(), t.c.case_id)
    if cond is not None:
        count = count.where(cond)
        query = query.where(cond)
    page = max(1, page)
    rows = catalog._rows(query.limit(page_size).offset((page - 1) * page_size))
    return CasePage([_case(r) for r in rows], int(catalog._scalar(count)), page, page_size)


def status_counts(catalog: Catalog, visible: ColumnElement[bool] | None = None) -> dict[str, int]:
    t = workspace_cases_table
    query = select(t.c.status, func.count().label("n")).group_by(t.c.status)
    rows = catalog._rows(query.where(visible) if visible is not None else query)
    return {r["status"]: int(r["n"]) for r in rows}


__all__ = ["STATUSES", "CasePage", "ReviewComment", "VersionConflict", "WorkspaceCase", "add_comment", "bump_version",
           "case_people", "check_version", "comments", "get_case",
           "list_cases", "put_case", "set_status", "status_counts", "workspace_cases_table",
           "workspace_assignments_table", "workspace_case_people_table", "workspace_comments_table",
           "workspace_due_table"]
