"""Working days on the holiday calendar, and a forensic case's time limits (通则 Arts 13, 28).

The calendar (generator/forensic/holiday_calendar.py) is one file per year of the State Council's holiday
arrangement (国务院办公厅关于节假日安排的通知) with its make-up working days (调休: a Saturday or Sunday
that is a working day): shipped years, a firm's own files over them, and an **estimate** for a year with
no file (statutory holidays by rule, no make-up days). A count that passes through an estimated year is
still a count — work never stops for a missing year — but every figure it gives is marked 估算
(`TimeLimits.estimated_years`, `decision_due_estimated`, `deadline_estimated`) until the year's file
is added. Only a year that cannot even be estimated raises `CalendarNotCovered`.

Counting (民法典 Art 201: a period counted in days starts on the next day, the start day is not counted):
- `add_working_days(start, n)` is the n-th working day *after* `start`; `start` itself never counts,
  whether or not it is a working day. `add_working_days(start, 0)` is `start`.
- `working_days_between(a, b)` counts the working days d with a < d ≤ b, so
  `working_days_between(a, add_working_days(a, n)) == n`.
- Excluded periods (`Span`, both ends inclusive) — the time spent waiting for supplementary materials
  (通则 Art 28) — are skipped by both: a working day inside one does not count.

Time limits of a case (`time_limits`):
- acceptance decision due: 7 working days after the day the commission was received (通则 Art 13);
- completion deadline: N working days after `timeline.effective_on` (通则 Art 28), N = 30, or the agreed
  `commission.agreed_working_days` when set (an agreed limit prevails), plus every recorded extension
  (each and in total ≤ 30 working days — the rules warn when more), with suspended working days skipped;
- met: the decision / completion day is on or before its due day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from generator.forensic.holiday_calendar import (
    CalendarNotCovered,
    WorkCalendar,
    YearCalendar,
    active_calendar,
    add_year_hint,
)
from generator.forensic.model import ForensicAppraisalCase
from generator.types import beijing_date

__all__ = ["CalendarNotCovered", "Span", "TimeLimits", "add_working_days", "is_working_day", "time_limits",
           "working_days_between", "estimated_years_between", "add_year_hint", "beijing_date"]

ACCEPTANCE_WORKING_DAYS = 7  # 通则 Art 13
COMPLETION_WORKING_DAYS = 30  # 通则 Art 28
MAX_EXTENSION_WORKING_DAYS = 30  # 通则 Art 28: each and in total
ESTIMATE_MARK = "估算"


@dataclass(frozen=True)
class Span:
    """A closed range of days [start, end], e.g. a suspension while waiting for materials."""

    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def is_working_day(day: date, calendar: WorkCalendar | None = None) -> bool:
    """A working day: Monday–Friday not a holiday, or a make-up working day (official or estimated year)."""
    return (calendar or active_calendar()).is_working_day(day)


def _counts(day: date, excluded: Sequence[Span], calendar: WorkCalendar) -> bool:
    return calendar.is_working_day(day) and not any(day in span for span in excluded)


def add_working_days(start: date, n: int, excluded: Iterable[Span] = (), calendar: WorkCalendar | None = None) -> date:
    """The n-th working day after `start` (start not counted), skipping working days inside `excluded`."""
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    spans = tuple(excluded)
    cal = calendar or active_calendar()
    cal.year(start.year)  # a start that cannot be estimated fails here, naming its own date
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if _counts(day, spans, cal):
            left -= 1
    return day


def working_days_between(a: date, b: date, excluded: Iterable[Span] = (), calendar: WorkCalendar | None = None) -> int:
    """The working days d with a < d ≤ b (0 when b ≤ a), skipping working days inside `excluded`."""
    spans = tuple(excluded)
    cal = calendar or active_calendar()
    cal.year(a.year)
    cal.year(b.year)
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        if _counts(day, spans, cal):
            count += 1
    return count


def estimated_years_between(a: date, b: date, calendar: WorkCalendar | None = None) -> tuple[int, ...]:
    """The years from `a` to `b` that have no official file: a count between them is an estimate."""
    cal = calendar or active_calendar()
    return tuple(y.year for y in cal.years(a, b) if y.estimated)


# ─────────────────────────────────── a case's time limits ───────────────────────────────────


@dataclass(frozen=True)
class TimeLimits:
    """The 通则 Art 13 / 28 computation of one case, every figure shown by `gongu adjust`."""

    received_on: date
    decision_due: date  # received + 7 working days (Art 13)
    accepted_on: date | None
    acceptance_met: bool | None  # None: no decision recorded yet
    effective_on: date | None
    base_working_days: int  # 30 (Art 28) or the agreed limit, which prevails
    agreed: bool
    extension_working_days: int  # the sum of the recorded extensions
    suspensions: tuple[Span, ...]
    suspended_working_days: int  # working days skipped inside the suspensions, up to the deadline
    deadline: date | None  # None until the 委托书 takes effect
    completed_on: date | None
    completion_met: bool | None  # None: not completed yet or no deadline
    decision_due_estimated: bool = False  # counted through a year with no official calendar file
    deadline_estimated: bool = False
    calendars: tuple[YearCalendar, ...] = ()  # every year the figures were counted on, in order

    @property
    def total_working_days(self) -> int:
        return self.base_working_days + self.extension_working_days

    @property
    def estimated_years(self) -> tuple[int, ...]:
        return tuple(y.year for y in self.calendars if y.estimated)

    @property
    def estimated(self) -> bool:
        return self.decision_due_estimated or self.deadline_estimated


def time_limits(case: ForensicAppraisalCase, calendar: WorkCalendar | None = None) -> TimeLimits:
    """The case's time limits, each marked when an estimated year was counted through; raises
    CalendarNotCovered only for a year that cannot even be estimated."""
    cal = calendar or active_calendar()
    tl = case.timeline
    received = beijing_date(tl.received_at)
    decision_due = add_working_days(received, ACCEPTANCE_WORKING_DAYS, calendar=cal)
    accepted = beijing_date(tl.accepted_at) if tl.accepted_at is not None else None
    agreed = case.commission.agreed_working_days
    base = agreed if agreed is not None else COMPLETION_WORKING_DAYS
    extension = sum(e.working_days for e in tl.extensions)
    spans = tuple(Span(s.start, s.end) for s in tl.suspensions)
    deadline = suspended = None
    used = {y.year: y for y in cal.years(received, decision_due)}
    if tl.effective_on is not None:
        deadline = add_working_days(tl.effective_on, base + extension, spans, calendar=cal)
        suspended = (working_days_between(tl.effective_on, deadline, calendar=cal)
                     - working_days_between(tl.effective_on, deadline, spans, calendar=cal))
        used.update((y.year, y) for y in cal.years(tl.effective_on, deadline))
    return TimeLimits(
        received_on=received, decision_due=decision_due, accepted_on=accepted,
        acceptance_met=None if accepted is None else accepted <= decision_due,
        effective_on=tl.effective_on, base_working_days=base, agreed=agreed is not None,
        extension_working_days=extension, suspensions=spans, suspended_working_days=suspended or 0,
        deadline=deadline, completed_on=tl.completed_on,
        completion_met=None if deadline is None or tl.completed_on is None else tl.completed_on <= deadline,
        decision_due_estimated=bool(estimated_years_between(received, decision_due, cal)),
        deadline_estimated=deadline is not None and bool(estimated_years_between(tl.effective_on, deadline, cal)),
        calendars=tuple(used[y] for y in sorted(used)),
    )


def marked(day: date | None, estimated: bool, missing: str = "未记录") -> str:
    """A date as people read it, with （估算） after a figure counted through an estimated year."""
    if day is None:
        return missing
    return f"{day.isoformat()}（{ESTIMATE_MARK}）" if estimated else day.isoformat()


def calendar_note(limits: TimeLimits) -> str | None:
    """The sentence that tells the firm which years are estimated and how to add them, or None."""
    years = limits.estimated_years
    if not years:
        return None
    return "；".join(add_year_hint(y) for y in years)


def time_limits_to_dict(case: ForensicAppraisalCase, limits: TimeLimits) -> dict[str, object]:
    """The computation as plain JSON (`gongu adjust --json` on a forensic case)."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "case_id": case.case_id,
        "kind": case.kind,
        "calendar": {"years": [{"year": y.year, "origin": y.origin, "source": y.source, "file": y.file,
                                "sha256": y.sha256} for y in limits.calendars],
                     "estimated_years": list(limits.estimated_years), "note": calendar_note(limits),
                     "start_day_counts": False},
        "acceptance": {"clause": "通则 Art 13", "received_on": day(limits.received_on),
                       "working_days": ACCEPTANCE_WORKING_DAYS, "decision_due": day(limits.decision_due),
                       "decision_due_estimated": limits.decision_due_estimated,
                       "accepted_on": day(limits.accepted_on), "met": limits.acceptance_met},
        "completion": {"clause": "通则 Art 28", "effective_on": day(limits.effective_on),
                       "base_working_days": limits.base_working_days, "agreed": limits.agreed,
                       "extensions": [{"working_days": e.working_days, "approved_by": e.approved_by,
                                       "approved_on": e.approved_on.isoformat()} for e in case.timeline.extensions],
                       "extension_working_days": limits.extension_working_days,
                       "total_working_days": limits.total_working_days,
                       "suspensions": [{"start": s.start.isoformat(), "end": s.end.isoformat()} for s in limits.suspensions],
                       "suspended_working_days": limits.suspended_working_days,
                       "deadline": day(limits.deadline), "deadline_estimated": limits.deadline_estimated,
                       "completed_on": day(limits.completed_on),
                       "met": limits.completion_met},
    }
