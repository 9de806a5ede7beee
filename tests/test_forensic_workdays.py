"""Working days on the official calendar with make-up days (generator.forensic.workdays; 通则 Arts 13, 28).

Every expected date is counted by hand below from the State Council arrangements:
- 2026 Spring Festival: Sun 15 – Mon 23 Feb off; make-up working days Sat 14 Feb and Sat 28 Feb.
- 2025 National Day + Mid-Autumn: Wed 1 – Wed 8 Oct off; make-up Sun 28 Sep and Sat 11 Oct.
- 2026 Mid-Autumn Fri 25 Sep (25–27 off), National Day Thu 1 – Wed 7 Oct; make-up Sun 20 Sep and Sat 10 Oct.
- 2026 Labour Day: Fri 1 – Tue 5 May off; make-up Sat 9 May.
The start day never counts (民法典 Art 201).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from generator.forensic.workdays import (
    CalendarNotCovered,
    Span,
    add_working_days,
    is_working_day,
    time_limits,
    working_days_between,
)
from generator.loading import validate_data

ROOT = Path(__file__).resolve().parents[1]
JOINT = ROOT / "examples" / "forensic-joint-grade10" / "case.json"


def joint(**timeline: object) -> object:
    data = json.loads(JOINT.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["timeline"].update(timeline)
    return data


def test_make_up_saturdays_are_working_days_and_festival_weekdays_are_not() -> None:
    assert is_working_day(date(2026, 2, 14)) and is_working_day(date(2026, 2, 28))  # Saturdays, make-up
    assert not is_working_day(date(2026, 2, 16))  # a Monday inside the Spring Festival
    assert not is_working_day(date(2026, 2, 23))  # the last day off, a Monday
    assert is_working_day(date(2025, 9, 28))  # Sunday, make-up
    assert not is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_acceptance_7_working_days_across_spring_festival_2026() -> None:
    # Received Fri 13 Feb: Sat 14 (make-up) = 1; 15–23 off; Tue 24 = 2, 25 = 3, 26 = 4, Fri 27 = 5,
    # Sat 28 (make-up) = 6; Sun 1 Mar off; Mon 2 Mar = 7.
    assert add_working_days(date(2026, 2, 13), 7) == date(2026, 3, 2)
    # Thu 12 Feb + 2: Fri 13 = 1, Sat 14 (make-up) = 2.
    assert add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 14)
    # After 13 Feb up to and including 28 Feb: 14, 24, 25, 26, 27, 28 = 6.
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
    assert working_days_between(date(2026, 2, 13), add_working_days(date(2026, 2, 13), 7)) == 7


def test_start_day_does_not_count_and_zero_is_the_start() -> None:
    # Mon 2 Mar 2026 is a working day, yet +1 is Tue 3 Mar.
    assert add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    assert add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert working_days_between(date(2026, 3, 3), date(2026, 3, 2)) == 0


def test_national_day_2025_make_up_days() -> None:
    # Fri 26 Sep: Sat 27 off; Sun 28 (make-up) = 1; Mon 29 = 2; Tue 30 = 3; 1–8 Oct off; Thu 9 = 4;
    # Fri 10 = 5; Sat 11 (make-up) = 6; Sun 12 off; Mon 13 = 7.
    assert add_working_days(date(2025, 9, 26), 7) == date(2025, 10, 13)
    assert add_working_days(date(2025, 9, 26), 6) == date(2025, 10, 11)


def test_national_day_2026_make_up_days() -> None:
    # Fri 18 Sep: Sat 19 off; Sun 20 (make-up) = 1; Mon 21 – Thu 24 = 2..5; Fri 25 – Sun 27 off
    # (Mid-Autumn); Mon 28 – Wed 30 = 6..8; 1–7 Oct off; Thu 8 = 9; Fri 9 = 10; Sat 10 (make-up) = 11.
    assert add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    assert add_working_days(date(2026, 9, 18), 10) == date(2026, 10, 9)
    assert add_working_days(date(2026, 9, 18), 11) == date(2026, 10, 10)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3  # 8, 9, 10 Oct


def test_30_working_days_across_spring_festival_and_a_suspension() -> None:
    start = date(2026, 2, 2)  # Monday, not counted
    # Tue 3 – Fri 6 Feb = 4; 9–13 = 9; Sat 14 = 10; 24–27 = 14; Sat 28 = 15; 2–6 Mar = 20;
    # 9–13 = 25; 16–20 = 30.
    assert add_working_days(start, 30) == date(2026, 3, 20)
    # Waiting for materials Mon 2 – Wed 4 Mar: those 3 working days do not count, so 5, 6 Mar = 17;
    # 9–13 = 22; 16–20 = 27; Mon 23 – Wed 25 = 30.
    waiting = [Span(date(2026, 3, 2), date(2026, 3, 4))]
    assert add_working_days(start, 30, waiting) == date(2026, 3, 25)
    assert working_days_between(start, date(2026, 3, 25), waiting) == 30


def test_a_year_that_cannot_even_be_estimated_is_a_clear_error() -> None:
    # Years with no file are estimated (tests/test_holiday_calendar.py); beyond the estimate's rules
    # (1950–2099) nothing can be counted, and the error names the date and says so.
    with pytest.raises(CalendarNotCovered) as info:
        add_working_days(date(2100, 1, 4), 1)
    message = str(info.value)
    assert "2100" in message and "工作日" in message and "cannot be estimated" in message
    with pytest.raises(CalendarNotCovered, match="1949"):
        working_days_between(date(1949, 12, 1), date(1950, 1, 5))


def test_time_limits_of_the_joint_example() -> None:
    limits = time_limits(validate_data(joint(), "<test>"))
    # Received Fri 8 May 2026: Sat 9 May (make-up) = 1, 11–15 = 2..6, Mon 18 = 7.
    assert limits.decision_due == date(2026, 5, 18)
    assert limits.accepted_on == date(2026, 5, 11) and limits.acceptance_met is True
    # Agreed 20 working days (prevails over 30) from Mon 11 May: 12–15 = 4, 18–22 = 9, 25–29 = 14,
    # 1–5 Jun = 19, Mon 8 Jun = 20.
    assert (limits.base_working_days, limits.agreed) == (20, True)
    assert limits.deadline == date(2026, 6, 8)
    assert limits.completion_met is True
    # Entirely inside 2026, which has its official file: nothing is an estimate.
    assert not limits.estimated and limits.estimated_years == ()
    assert [(y.year, y.origin, y.file) for y in limits.calendars] == [(2026, "official", "2026.toml")]


def test_time_limits_with_extension_suspension_and_30_default() -> None:
    data = joint(extensions=[{"working_days": 5, "reason": "需补充影像检查", "approved_by": "罗永康",
                              "approved_on": "2026-06-01"}],
                 suspensions=[{"start": "2026-05-25", "end": "2026-05-26", "reason": "等待补充CT片"}],
                 completed_on="2026-06-30")
    data["commission"].pop("agreed_working_days")  # type: ignore[index]
    limits = time_limits(validate_data(data, "<test>"))
    # 30 + 5 = 35 working days from Mon 11 May, Mon 25 – Tue 26 May skipped: 12–15 = 4, 18–22 = 9,
    # 27–29 = 12, 1–5 Jun = 17, 8–12 = 22, 15–18 = 26, Fri 19 Jun Dragon Boat off, 22–26 = 31,
    # Mon 29 Jun = 32, Tue 30 = 33, Wed 1 Jul = 34, Thu 2 Jul = 35.
    assert (limits.base_working_days, limits.extension_working_days, limits.total_working_days) == (30, 5, 35)
    assert limits.suspended_working_days == 2
    assert limits.deadline == date(2026, 7, 2)
    assert limits.completion_met is True
    late = validate_data(joint(completed_on="2026-06-09"), "<test>")
    assert time_limits(late).completion_met is False  # the agreed 20 days ended on 8 Jun
