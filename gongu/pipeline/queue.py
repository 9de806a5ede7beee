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
day after, as the checks judge it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select

from archive.catalog import Catalog
from archive.workspace import WorkspaceCase, workspace_cases_table
from archive.workspace_assign import Assignment, assignments_of
from generator.kinds import Case, is_forensic
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


# ── loading the case files (each read once per version of the file) ──

_CACHE: dict[Path, tuple[tuple[int, int], Case | None]] = {}
_CACHE_MAX = 20_000


def _load(path: Path) -> Case | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    hit = _CACHE.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        case: Case | None = load_case(path).case
    except (CaseFileError, OSError):
        case = None
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[path] = (key, case)
    return case


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
        from generator.forensic.workdays import CalendarNotCovered, working_days_between

        if due is None:
            self.items.append(DueItem(self.row.case_id, self.row.kind, stage, STAGES[stage], person, None, None,
                                      None, False, estimated, clause))
            return
        today = beijing_date(self.now)
        try:
            left = (working_days_between(today, due) if today <= due else -working_days_between(due, today))
        except CalendarNotCovered:
            left = None
        due_at = datetime.combine(due, time(23, 59, 59), SHANGHAI)  # the whole Beijing day counts
        self.items.append(DueItem(self.row.case_id, self.row.kind, stage, STAGES[stage], person, due_at, left,
                                  None, today > due, estimated, clause))


def _survey_steps(steps: _Steps, case: Case) -> None:
    from generator.rules.commission import contact_due
    from generator.rules.survey import arrival_due

    row = steps.row
    if row.status in ("draft", "returned"):
        start = datetime.fromisoformat(row.assigned_at) if row.assigned_at else case.assigned_at  # type: ignore[union-attr]
        if case.contact is None:  # type: ignore[union-attr]
            steps.by_hours("contact", row.handler_person, contact_due(start), "4.4")
        if not case.survey.record_items:  # type: ignore[union-attr]
            due, clause = arrival_due(case, start)  # type: ignore[arg-type]
            steps.by_hours("survey", row.handler_person, due, clause)
        steps.by_hours("write", row.handler_person, None, "9.1")
    elif row.status == "in_review":
        stage = row.next_level or "issue"
        steps.by_hours(stage, steps.person(row.next_level or "approve"), None, "9.3")
    elif row.status == "issued":
        steps.by_hours("archive", steps.person("approve"), None, "10.1")


def _forensic_steps(steps: _Steps, case: Case) -> None:
    from generator.forensic.workdays import CalendarNotCovered, time_limits

    row = steps.row
    if row.status in ("draft", "returned"):
        tl = case.timeline  # type: ignore[union-attr]
        try:
            limits = time_limits(case)  # type: ignore[arg-type]
        except CalendarNotCovered:
            limits = None  # the checks name the year that cannot be counted; the step is still open
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
        delivered = case.delivery.delivered_at is not None and case.delivery.closed_at is not None
        steps.by_days("archive" if delivered else "delivery", steps.person("approve"), None, False, "通则 Art 42")


def case_steps(row: WorkspaceCase, case: Case | None, held: dict[str, Assignment], now: datetime) -> list[DueItem]:
    """The open steps of one case (none once archived). A case file that cannot be read leaves its handler
    one step: to put it right (no due time can be counted from it)."""
    steps = _Steps(row, held, now)
    if row.status == "archived":
        return []
    if case is None:
        steps.by_hours("write", row.handler_person, None, "9.1" if row.kind == "car_survey" else "通则 Art 36")
    elif is_forensic(case):
        _forensic_steps(steps, case)
    else:
        _survey_steps(steps, case)
    return steps.items


def _rows(catalog: Catalog, case_ids: Iterable[str] | None) -> list[WorkspaceCase]:
    from archive.workspace import cases_by_id

    t = workspace_cases_table
    if case_ids is not None:
        return list(cases_by_id(catalog, list(case_ids)).values())
    ids = [r["case_id"] for r in catalog._rows(select(t.c.case_id).where(t.c.status != "archived"))]
    return list(cases_by_id(catalog, ids).values()) if ids else []


def open_steps(settings: Settings, catalog: Catalog, *, now: datetime, person: str | None = None,
               case_ids: Iterable[str] | None = None) -> list[DueItem]:
    """Every open step of every case in the workspace (or of `case_ids`), overdue first then by due time;
    `person`: only the steps that registered name holds."""
    from gongu.pipeline.workspace import case_file

    rows = _rows(catalog, case_ids)
    held = assignments_of(catalog, [r.case_id for r in rows])
    items: list[DueItem] = []
    for row in rows:
        case = _load(case_file(settings.home, row.case_id))
        items += case_steps(row, case, held.get(row.case_id, {}), now)
    if person is not None:
        items = [i for i in items if i.person == person]
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
