"""Working days on the official Chinese calendar, and a forensic case's time limits (通则 Arts 13, 28).

The calendar is the State Council's yearly holiday arrangement (国务院办公厅关于节假日安排的通知) with its
make-up working days (调休: a Saturday or Sunday that is a working day), read from the maintained
`chinese-calendar` package. **Covered years: 2004–2026** (`COVERED_YEARS`, read from the package itself,
so a newer package widens it). A date outside them raises `CalendarNotCovered`, whose message names the
date, its year and the covered range in Chinese and English; callers turn it into a finding or an exit-2
error, never a traceback. There is no guessing for a year the State Council has not yet published.

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
from functools import cache

import chinese_calendar

from generator.forensic.model import ForensicAppraisalCase
from generator.types import beijing_date

ACCEPTANCE_WORKING_DAYS = 7  # 通则 Art 13
COMPLETION_WORKING_DAYS = 30  # 通则 Art 28
MAX_EXTENSION_WORKING_DAYS = 30  # 通则 Art 28: each and in total


@cache
def _covered_years() -> tuple[int, int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return min(years), max(years)


def covered_years() -> tuple[int, int]:
    """(first, last) year of the official calendar the package knows: (2004, 2026) at the time of writing."""
    return _covered_years()


COVERED_YEARS = covered_years()


class CalendarNotCovered(ValueError):
    """A date whose year the official holiday calendar does not cover."""

    def __init__(self, day: date) -> None:
        first, last = covered_years()
        self.day = day
        super().__init__(
            f"日期 {day.isoformat()} 所在的 {day.year} 年不在法定节假日日历覆盖范围（{first}–{last} 年）内，无法计算工作日"
            f" (date {day.isoformat()}: year {day.year} is outside the official holiday calendar, which covers {first}–{last})")


@dataclass(frozen=True)
class Span:
    """A closed range of days [start, end], e.g. a suspension while waiting for materials."""

    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _check(day: date) -> None:
    first, last = covered_years()
    if not first <= day.year <= last:
        raise CalendarNotCovered(day)


def is_working_day(day: date) -> bool:
    """A working day on the official calendar: Monday–Friday not a holiday, or a make-up working day."""
    _check(day)
    return bool(chinese_calendar.is_workday(day))


def _counts(day: date, excluded: Sequence[Span]) -> bool:
    return is_working_day(day) and not any(day in span for span in excluded)


def add_working_days(start: date, n: int, excluded: Iterable[Span] = ()) -> date:
    """The n-th working day after `start` (start not counted), skipping working days inside `excluded`."""
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    spans = tuple(excluded)
    _check(start)
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if _counts(day, spans):
            left -= 1
    return day


def working_days_between(a: date, b: date, excluded: Iterable[Span] = ()) -> int:
    """The working days d with a < d ≤ b (0 when b ≤ a), skipping working days inside `excluded`."""
    spans = tuple(excluded)
    _check(a)
    _check(b)
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        if _counts(day, spans):
            count += 1
    return count


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

    @property
    def total_working_days(self) -> int:
        return self.base_working_days + self.extension_working_days


def time_limits(case: ForensicAppraisalCase) -> TimeLimits:
    """The case's time limits; raises CalendarNotCovered for a date outside the covered years."""
    tl = case.timeline
    received = beijing_date(tl.received_at)
    decision_due = add_working_days(received, ACCEPTANCE_WORKING_DAYS)
    accepted = beijing_date(tl.accepted_at) if tl.accepted_at is not None else None
    agreed = case.commission.agreed_working_days
    base = agreed if agreed is not None else COMPLETION_WORKING_DAYS
    extension = sum(e.working_days for e in tl.extensions)
    spans = tuple(Span(s.start, s.end) for s in tl.suspensions)
    deadline = suspended = None
    if tl.effective_on is not None:
        deadline = add_working_days(tl.effective_on, base + extension, spans)
        suspended = (working_days_between(tl.effective_on, deadline)
                     - working_days_between(tl.effective_on, deadline, spans))
    if tl.completed_on is not None:
        _check(tl.completed_on)
    return TimeLimits(
        received_on=received, decision_due=decision_due, accepted_on=accepted,
        acceptance_met=None if accepted is None else accepted <= decision_due,
        effective_on=tl.effective_on, base_working_days=base, agreed=agreed is not None,
        extension_working_days=extension, suspensions=spans, suspended_working_days=suspended or 0,
        deadline=deadline, completed_on=tl.completed_on,
        completion_met=None if deadline is None or tl.completed_on is None else tl.completed_on <= deadline,
    )


def time_limits_to_dict(case: ForensicAppraisalCase, limits: TimeLimits) -> dict[str, object]:
    """The computation as plain JSON (`gongu adjust --json` on a forensic case)."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value is not None else None

    first, last = covered_years()
    return {
        "case_id": case.case_id,
        "kind": case.kind,
        "calendar": {"source": "chinese-calendar（国务院办公厅节假日安排，含调休上班日）", "covered_years": [first, last],
                     "start_day_counts": False},
        "acceptance": {"clause": "通则 Art 13", "received_on": day(limits.received_on),
                       "working_days": ACCEPTANCE_WORKING_DAYS, "decision_due": day(limits.decision_due),
                       "accepted_on": day(limits.accepted_on), "met": limits.acceptance_met},
        "completion": {"clause": "通则 Art 28", "effective_on": day(limits.effective_on),
                       "base_working_days": limits.base_working_days, "agreed": limits.agreed,
                       "extensions": [{"working_days": e.working_days, "approved_by": e.approved_by,
                                       "approved_on": e.approved_on.isoformat()} for e in case.timeline.extensions],
                       "extension_working_days": limits.extension_working_days,
                       "total_working_days": limits.total_working_days,
                       "suspensions": [{"start": s.start.isoformat(), "end": s.end.isoformat()} for s in limits.suspensions],
                       "suspended_working_days": limits.suspended_working_days,
                       "deadline": day(limits.deadline), "completed_on": day(limits.completed_on),
                       "met": limits.completion_met},
    }
