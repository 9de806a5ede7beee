"""The work queue: every open step of every case in the workspace, with who has it and when it falls due.

One `DueItem` per open step, its due time computed by the same functions the checks use, so the queue and
`gongu check` never disagree, each citing its clause:

survey (the code of practice)
- contact: 4.4, 30 minutes after the assignment (generator.rules.commission.contact_due) — the workspace's
  own assignment time when a supervisor assigned the handler, else the case file's 指派时间;
- survey: 5.1.1–5.1.4, 3 / 6 / 12 / 24 hours after the assignment by where the site is, or the time agreed
  with the parties (5.1.5) — generator.rules.survey.arrival_due; open until the survey record has items;
- write: 9.1, the report written and put forward for review (no time limit);
- proofread / recheck / approve: 9.3, held by the reviewer a supervisor assigned, else by every account
  with the level's role (archive/accounts.py LEVEL_ROLES); issue: 9.3; archive: 10.1.
forensic appraisal (司法鉴定程序通则)
- acceptance: Art 13, 7 working days after the commission was received;
- appraisal: Art 28, 30 working days (or the agreed limit) after the 委托书 takes effect, plus extensions,
  suspended days skipped (generator.forensic.workdays.time_limits);
- proofread / recheck / approve: Art 35; issue: Art 37; delivery and archive: Art 42.
Working days follow the holiday calendar; a figure counted through a year with no official file is
marked `estimated` (估算). A limit in days falls due at the end of its Beijing day and is overdue the
day after, as the checks judge it.

The steps are computed when a case changes (`refresh_due`, inside the change's write transaction) and
kept in the catalog (archive/workspace_due.py); the queue reads those rows, never the case files, and
counts the time left for the rows it shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from archive.catalog import Catalog
from archive.workspace import WorkspaceCase, workspace_cases_table, workspace_due_table
from archive.workspace_assign import Assignment
from archive.workspace_due import DueRow, drop_due, due_page, missing_cases, replace_due
from generator.kinds import Case
from generator.loading import CaseFileError, load_case
from generator.types import SHANGHAI, beijing_date
from gongu.settings import Settings

STAGES: dict[str, str] = {
    "contact": "联系被保险人", "survey": "到达现场查勘", "write": "撰写报告并提交审核",
    "acceptance": "决定是否受理", "appraisal": "完成鉴定",
    "proofread": "校对", "recheck": "复核", "approve": "审核",
    "issue": "出具并签章", "delivery": "送达、收费与结案", "archive": "归档",
}
REVIEW_STAGES = ("proofread", "recheck", "approve")
KIND_TITLES = {"car_survey": "公估", "forensic_appraisal": "司法鉴定"}
UNASSIGNED = ""  # a step no one was assigned: any account with the step's role may take it


@dataclass(frozen=True)
class DueItem:
    """One open step of one case: who has it, when it falls due and the clause that says so."""

    case_id: str
    kind: str
    stage: str
    stage_title: str
    person: str  # the registered name holding the step; "" when held by a role, not a person
    due_at: datetime | None  # None: no time limit applies (or it cannot be counted yet)
    working_days_left: int | None  # forensic limits in working days; negative when overdue
    hours_left: float | None  # limits in hours; negative when overdue
    overdue: bool
    estimated: bool  # counted through a year with no official holiday calendar (估算)
    clause: str


def sort_key(item: DueItem) -> tuple[int, int, datetime, str, str]:
    """Overdue first, then the earliest due, steps with no due time last."""
    far = datetime.max.replace(tzinfo=SHANGHAI)
    return (0 if item.overdue else 1, 0 if item.due_at is not None else 1, item.due_at or far, item.case_id,
            item.stage)


_CACHE_MAX = 20_000


# ── the steps of one case ──

class _Steps:
    def __init__(self, row: WorkspaceCase, held: dict[str, Assignment], now: datetime) -> None:
        self.row, self.held, self.now = row, held, now
        self.items: list[DueItem] = []

    def person(self, duty: str | None) -> str:
        found = self.held.get(duty) if duty else None
        return found.person if found is not None else UNASSIGNED

    def by_hours(self, stage: str, person: str, due: datetime | None, clause: str) -> None:
        left = (due - self.now).total_seconds() / 3600 if due is not None else None
        self.items.append(DueItem(self.row.case_id, self.row.kind, stage, STAGES[stage], person, due, None,
                                  None if left is None else round(left, 2), due is not None and self.now > due,
                                  False, clause))

    def by_days(self, stage: str, person: str, due: date | None, estimated: bool, clause: str) -> None:
        from generator.forensic.holiday_calendar import active_calendar

        if due is None:
            self.items.append(DueItem(self.row.case_id, self.row.kind, stage, STAGES[stage], person, None, None,
                                      None, False, estimated, clause))
            return
        today = beijing_date(self.now)
        left = _days_left(today, due, active_calendar())
        due_at = datetime.combine(due, time(23, 59, 59), SHANGHAI)  # the whole Beijing day counts
        self.items.append(DueItem(self.row.case_id, self.row.kind, stage, STAGES[stage], person, due_at, left,
                                  None, today > due, estimated, clause))


_DAYS: dict[tuple[date, date], int | None] = {}
_DAYS_CALENDAR: list[Any] = [None]  # the calendar _DAYS was counted on


def _days_left(today: date, due: date, calendar: Any) -> int | None:
    """Working days from today to the due day (negative past it), remembered: many cases share a due day."""
    from generator.forensic.workdays import CalendarNotCovered, working_days_between

    if _DAYS_CALENDAR[0] is not calendar or len(_DAYS) > 10_000:
        _DAYS.clear()
        _DAYS_CALENDAR[0] = calendar
    if (today, due) not in _DAYS:
        try:
            _DAYS[today, due] = (working_days_between(today, due, calendar=calendar) if today <= due
                                 else -working_days_between(due, today, calendar=calendar))
        except CalendarNotCovered:
            _DAYS[today, due] = None
    return _DAYS[today, due]


_LIMITS: dict[int, tuple[Case, Any, Any]] = {}  # id(case) → (case, calendar, its TimeLimits or None)


def _time_limits(case: Case) -> Any:
    """generator.forensic.workdays.time_limits of a case, computed once per case file version and calendar
    (the calendar object changes when the firm's calendar files do); None when a year cannot be counted."""
    from generator.forensic.holiday_calendar import active_calendar
    from generator.forensic.workdays import CalendarNotCovered, time_limits

    calendar = active_calendar()
    hit = _LIMITS.get(id(case))
    if hit is not None and hit[0] is case and hit[1] is calendar:
        return hit[2]
    try:
        limits = time_limits(case, calendar)  # type: ignore[arg-type]
    except CalendarNotCovered:
        limits = None  # the checks name the year that cannot be counted; the step is still open
    if len(_LIMITS) >= _CACHE_MAX:
        _LIMITS.clear()
    _LIMITS[id(case)] = (case, calendar, limits)
    return limits


def _survey_steps(steps: _Steps, case: Case | None) -> None:
    from generator.rules.commission import contact_due
    from generator.rules.survey import arrival_due

    row = steps.row
    if row.status in ("draft", "returned"):
        start = datetime.fromisoformat(row.assigned_at) if row.assigned_at else case.assigned_at  # type: ignore[union-attr]
        if case.contact is None:  # type: ignore[union-attr]
            steps.by_hours("contact", row.handler_person, contact_due(start), "4.4")
        if not case.survey.record_items:  # type: ignore[union-attr]
            if case.survey.location_band is None and not getattr(case.contact, "agreed_survey_time", None):  # type: ignore[union-attr]
                steps.by_hours("survey", row.handler_person, None, "5.1")  # a draft without its band yet
            else:
                due, clause = arrival_due(case, start)  # type: ignore[arg-type]
                steps.by_hours("survey", row.handler_person, due, clause)
        steps.by_hours("write", row.handler_person, None, "9.1")
    elif row.status == "in_review":
        stage = row.next_level or "issue"
        steps.by_hours(stage, steps.person(row.next_level or "approve"), None, "9.3")
    elif row.status == "issued":
        steps.by_hours("archive", steps.person("approve"), None, "10.1")


def _forensic_steps(steps: _Steps, case: Case | None) -> None:
    row = steps.row
    if row.status in ("draft", "returned"):
        tl = case.timeline  # type: ignore[union-attr]
        limits = _time_limits(case)  # type: ignore[arg-type]
        if tl.accepted_at is None:
            steps.by_days("acceptance", row.handler_person, limits.decision_due if limits else None,
                          bool(limits and limits.decision_due_estimated), "通则 Art 13")
        if tl.completed_on is None:
            steps.by_days("appraisal", row.handler_person, limits.deadline if limits else None,
                          bool(limits and limits.deadline_estimated), "通则 Art 28")
        else:
            steps.by_days("write", row.handler_person, None, False, "通则 Art 36")
    elif row.status == "in_review":
        if row.next_level:
            steps.by_days(row.next_level, steps.person(row.next_level), None, False, "通则 Art 35")
        else:
            steps.by_days("issue", steps.person("approve"), None, False, "通则 Art 37")
    elif row.status == "issued":
        delivery = case.delivery  # type: ignore[union-attr]
        delivered = delivery.delivered_at is not None and delivery.closed_at is not None
        steps.by_days("archive" if delivered else "delivery", steps.person("approve"), None, False, "通则 Art 42")


def needs_case_file(row: WorkspaceCase) -> bool:
    """Whether the steps of the case are read from its file (its contact, survey, time limits, delivery);
    a case in review, or an issued survey report, is its catalog row alone."""
    return row.status in ("draft", "returned") or (row.status == "issued" and row.kind == "forensic_appraisal")


def case_steps(row: WorkspaceCase, case: Case | None, held: dict[str, Assignment], now: datetime) -> list[DueItem]:
    """The open steps of one case (none once archived). A case file that cannot be read leaves its handler
    one step: to put it right (no due time can be counted from it)."""
    steps = _Steps(row, held, now)
    if row.status == "archived":
        return []
    if case is None and needs_case_file(row):
        steps.by_hours("write", row.handler_person, None, "9.1" if row.kind == "car_survey" else "通则 Art 36")
    elif row.kind == "forensic_appraisal":
        _forensic_steps(steps, case)
    else:
        _survey_steps(steps, case)
    return steps.items


# ── the due facts kept in the catalog (archive/workspace_due.py) ──

def _draft_view(path: Path) -> Any:
    """An incomplete draft's fields the due times need (gongu/pipeline/draft_view.py), or None."""
    from generator.loading import parse_json
    from gongu.pipeline.draft_view import draft_view

    try:
        return draft_view(parse_json(path.read_bytes().decode("utf-8-sig"), str(path)))
    except (CaseFileError, OSError, UnicodeDecodeError):
        return None


def due_rows(items: Iterable[DueItem]) -> list[DueRow]:
    """The catalog's rows of a case's steps: absolute due times (UTC) and, for a limit in working days
    (the forensic kind's), its Beijing due day; the time left is counted when the rows are read."""
    return [DueRow(i.case_id, i.stage, i.kind, i.person, i.due_at,
                   beijing_date(i.due_at) if i.due_at is not None and i.kind == "forensic_appraisal" else None,
                   i.estimated, i.clause) for i in items]


def refresh_due(catalog: Catalog, home: Path, case_id: str, now: datetime) -> list[DueItem]:
    """Compute the open steps of one case (`case_steps`, from its workspace row, its assignments and the
    case file as the workspace holds it now) and make them the case's due rows, inside the caller's write
    transaction (a write of its own when there is none); an archived or removed case keeps none."""
    from archive.workspace import get_case
    from archive.workspace_assign import assignments

    with catalog.write():
        row = get_case(catalog, case_id)
        if row is None or row.status == "archived":
            drop_due(catalog, case_id)
            return []
        case = None
        if needs_case_file(row):
            # gongu.pipeline.workspace.case_file (not imported: the workspace calls this module)
            path = home / "workspace" / case_id / "case.json"
            try:
                case = load_case(path).case
            except (CaseFileError, OSError):
                case = _draft_view(path) if row.status in ("draft", "returned") else None
        items = case_steps(row, case, assignments(catalog, case_id), now)
        replace_due(catalog, case_id, due_rows(items), at=now)
    return items


def refresh_all(settings: Settings, catalog: Catalog, now: datetime, case_ids: Iterable[str] | None = None) -> int:
    """`gongu queue --refresh`: the due rows of every case in progress (or of `case_ids`) computed again
    from the workspace's case files, 200 cases to a write transaction; how many cases were computed."""
    t = workspace_cases_table
    ids = (list(case_ids) if case_ids is not None else
           [r["case_id"] for r in catalog._rows(select(t.c.case_id).where(t.c.status != "archived")
                                                .order_by(t.c.case_id))])
    for start in range(0, len(ids), 200):
        with catalog.write():
            for case_id in ids[start:start + 200]:
                refresh_due(catalog, settings.home, case_id, now)
    return len(ids)


def ensure_due(settings: Settings, catalog: Catalog, now: datetime) -> int:
    """Compute the rows of the cases in progress that have none (a catalog from before the table, or a
    change that dropped them without computing them): one indexed query when there are none."""
    missing = missing_cases(catalog)
    return refresh_all(settings, catalog, now, missing) if missing else 0


def item_of(row: DueRow, now: datetime) -> DueItem:
    """A DueItem from a catalog row: overdue and the time left as of `now` (working days by the calendar)."""
    from generator.forensic.holiday_calendar import active_calendar

    title = STAGES.get(row.stage, row.stage)
    if row.due_day is not None:
        today = beijing_date(now)
        due_at = datetime.combine(row.due_day, time(23, 59, 59), SHANGHAI)  # the whole Beijing day counts
        return DueItem(row.case_id, row.kind, row.stage, title, row.person, due_at,
                       _days_left(today, row.due_day, active_calendar()), None, today > row.due_day, row.estimated,
                       row.clause)
    if row.due_at is None:
        return DueItem(row.case_id, row.kind, row.stage, title, row.person, None, None, None, False, row.estimated,
                       row.clause)
    due = row.due_at.astimezone(SHANGHAI)
    return DueItem(row.case_id, row.kind, row.stage, title, row.person, due, None,
                   round((due - now).total_seconds() / 3600, 2), now > due, row.estimated, row.clause)


@dataclass(frozen=True)
class QueuePage:
    items: list[DueItem]  # at most the page's limit: overdue first, then by due time
    total: int
    overdue: int
    people: list[str]


def queue_page(settings: Settings, catalog: Catalog, *, now: datetime, where: Sequence[ColumnElement[bool]] = (),
               narrow: Sequence[ColumnElement[bool]] = (), limit: int | None = None,
               people: bool = False) -> QueuePage:
    """One page of the queue from the catalog's due rows (archive.workspace_due.due_page: `where` on
    workspace_due / workspace_cases, `narrow` the page's filters), the counts in SQL; no case file read."""
    ensure_due(settings, catalog, now)
    found = due_page(catalog, now=now, where=where, narrow=narrow, limit=limit, people=people)
    return QueuePage(sorted((item_of(r, now) for r in found.rows), key=sort_key), found.total, found.overdue,
                     found.people)


def open_steps(settings: Settings, catalog: Catalog, *, now: datetime, person: str | None = None,
               case_ids: Iterable[str] | None = None) -> list[DueItem]:
    """Every open step of every case in the workspace (or of `case_ids`), overdue first then by due time;
    `person`: only the steps that registered name holds. Read from the catalog's due rows."""
    d = workspace_due_table
    where = [] if person is None else [d.c.person == person]
    if case_ids is None:
        return queue_page(settings, catalog, now=now, where=where).items
    ids = sorted(set(case_ids))
    ensure_due(settings, catalog, now)
    items: list[DueItem] = []
    for start in range(0, len(ids), 500):
        found = due_page(catalog, now=now, where=[*where, d.c.case_id.in_(ids[start:start + 500])])
        items += (item_of(r, now) for r in found.rows)
    return sorted(items, key=sort_key)


def time_left(item: DueItem) -> str:
    """How a person reads the time left: hours (and minutes under an hour) or working days, 估算 marked."""
    if item.due_at is None:
        return "无时限"
    if item.working_days_left is not None:
        days = item.working_days_left
        text = f"逾期 {-days} 个工作日" if item.overdue else f"剩 {days} 个工作日"
        if item.overdue and days == 0:
            text = "逾期"
        return text + ("（估算）" if item.estimated else "")
    if item.hours_left is None:
        return "—"
    hours = abs(item.hours_left)
    shown = f"{hours * 60:.0f} 分钟" if hours < 1 else f"{hours:.1f} 小时"
    return f"逾期 {shown}" if item.overdue else f"剩 {shown}"


def to_dict(item: DueItem) -> dict[str, object]:
    return {"case_id": item.case_id, "kind": item.kind, "stage": item.stage, "stage_title": item.stage_title,
            "person": item.person, "due_at": item.due_at.isoformat() if item.due_at else None,
            "working_days_left": item.working_days_left, "hours_left": item.hours_left, "overdue": item.overdue,
            "estimated": item.estimated, "clause": item.clause, "time_left": time_left(item)}
