"""The holiday calendar as year files, a firm's own years, and estimates for years without a file
(generator/forensic/holiday_calendar.py; 通则 Arts 13, 28; docs/forensic.md "Adding a year").

Expected dates are counted by hand in the comments. Facts used: 1 Jan 2027 is a Friday; the 2027 Spring
Festival (初一) is Sat 6 Feb 2027, so 除夕 is Fri 5 Feb; 《全国年节及纪念日放假办法》 (2024) gives 春节
four days (除夕, 初一–初三) and a day in lieu on a working day for a holiday falling on a weekend (Art 4).
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import chinese_calendar
import pytest
from typer.testing import CliRunner

from generator.forensic.calendar_export import package_years, year_toml
from generator.forensic.holiday_calendar import (
    CalendarFileError,
    active_calendar,
    load_calendar,
    parse_year_file,
    shipped_years,
    use_calendar,
)
from generator.forensic.workdays import add_working_days, is_working_day, time_limits, working_days_between
from generator.loading import validate_data
from gongu.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
JOINT = ROOT / "examples" / "forensic-joint-grade10" / "case.json"

# A firm's 2027 file for the tests (not the real 2027 arrangement): New Year's Day and an extra day off on
# Mon 4 Jan, the Spring Festival Fri 5 – Thu 11 Feb, and a make-up working day on Sat 20 Feb.
FIRM_2027 = """\
year = 2027
source = "国务院办公厅关于2027年部分节假日安排的通知（测试用）"
holidays = ["2027-01-01", "2027-01-04",
  "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]
workdays = ["2027-02-20"]
"""


@pytest.fixture(autouse=True)
def _shipped_calendar_only() -> Iterator[None]:
    """Each test starts from the shipped years alone and leaves no firm folder behind for another test."""
    use_calendar(None)
    yield
    use_calendar(None)


def firm_dir(tmp_path: Path, text: str = FIRM_2027, name: str = "2027.toml") -> Path:
    folder = tmp_path / "calendar"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def december_case(**commission: object) -> object:
    """The joint example received, accepted and in effect on Mon 14 Dec 2026, on the statutory 30 days."""
    data = copy.deepcopy(json.loads(JOINT.read_text(encoding="utf-8")))
    data["timeline"].update(received_at="2026-12-14T10:00:00", accepted_at="2026-12-14T15:00:00",
                            effective_on="2026-12-14", completed_on=None)
    data["commission"].pop("agreed_working_days")
    data["commission"].update(commission)
    return validate_data(data, "<test>")


def test_shipped_files_are_the_package_years_exactly() -> None:
    years = shipped_years()
    assert sorted(years) == package_years() and min(years) == 2004 and max(years) == 2026
    for year, cal in years.items():
        assert cal.origin == "official" and cal.shipped and cal.file == f"{year}.toml"
        assert cal.holidays == {d for d in chinese_calendar.holidays if d.year == year}
        assert cal.workdays == {d for d in chinese_calendar.workdays if d.year == year}
    # the committed files are what the exporter writes today, byte for byte
    assert (ROOT / "forms" / "calendar" / "2026.toml").read_text(encoding="utf-8") == year_toml(2026)


def test_estimated_2027_spring_festival_and_new_year() -> None:
    cal = load_calendar()
    assert cal.is_estimated(2027) and not cal.is_estimated(2026)
    assert not is_working_day(date(2027, 1, 1))  # 元旦, a Friday
    assert not is_working_day(date(2027, 2, 5))  # 除夕, a Friday
    assert not is_working_day(date(2027, 2, 8))  # 初三, a Monday
    # 初一 and 初二 fall on Sat 6 / Sun 7: two days in lieu, Tue 9 and Wed 10 (Art 4 of the 办法)
    assert not is_working_day(date(2027, 2, 9)) and not is_working_day(date(2027, 2, 10))
    assert is_working_day(date(2027, 2, 11))
    assert not is_working_day(date(2027, 2, 20))  # an ordinary Saturday: the estimate knows no 调休


def test_case_effective_2026_12_14_has_estimated_2027_deadline() -> None:
    limits = time_limits(december_case())
    # Art 13: Mon 14 Dec + 7: 15–18 = 4, 21–23 = 7 → Wed 23 Dec 2026, all in the official 2026.
    assert limits.decision_due == date(2026, 12, 23) and not limits.decision_due_estimated
    # Art 28: +30 from Mon 14 Dec: 15–18 = 4, 21–25 = 9, 28–31 = 13; Fri 1 Jan 2027 off (estimate);
    # 4–8 Jan = 18, 11–15 = 23, 18–22 = 28, Mon 25 = 29, Tue 26 = 30.
    assert limits.deadline == date(2027, 1, 26) and limits.deadline_estimated
    assert limits.estimated_years == (2027,)
    assert [(y.year, y.origin) for y in limits.calendars] == [(2026, "official"), (2027, "estimate")]


def test_the_same_case_with_a_2027_file_is_exact_and_follows_the_file(tmp_path: Path) -> None:
    use_calendar(firm_dir(tmp_path))
    limits = time_limits(december_case())
    # The file also gives Mon 4 Jan off: 15 Dec – 31 Dec = 13; 5–8 Jan = 17, 11–15 = 22, 18–22 = 27,
    # 25, 26, 27 Jan = 30 → Wed 27 Jan, one day later than the estimate, and exact.
    assert limits.deadline == date(2027, 1, 27) and not limits.deadline_estimated
    assert limits.estimated_years == ()
    year = limits.calendars[-1]
    assert (year.year, year.origin, year.file, year.shipped) == (2027, "official", "2027.toml", False)
    assert year.sha256 is not None and len(year.sha256) == 64
    # the make-up Saturday of the file counts, the estimate's Tue 9 / Wed 10 Feb are the file's too
    assert is_working_day(date(2027, 2, 20)) and not is_working_day(date(2027, 2, 11))


def test_a_count_across_the_2026_2027_boundary(tmp_path: Path) -> None:
    # Wed 30 Dec 2026 + 3: Thu 31 Dec = 1 (official 2026), Fri 1 Jan off, Mon 4 Jan = 2, Tue 5 Jan = 3.
    assert add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 5)
    assert working_days_between(date(2026, 12, 30), date(2027, 1, 5)) == 3
    use_calendar(firm_dir(tmp_path))
    # with the firm's file, Mon 4 Jan is off too: Tue 5 = 2, Wed 6 = 3.
    assert add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 6)


def test_a_firm_file_wins_over_the_shipped_year(tmp_path: Path) -> None:
    shipped = (ROOT / "forms" / "calendar" / "2026.toml").read_text(encoding="utf-8")
    # the firm declares Thu 31 Dec 2026 a day off on top of the official arrangement
    text = shipped.replace('holidays = [\n', 'holidays = [\n  "2026-12-31",\n', 1)
    use_calendar(firm_dir(tmp_path, text, "2026.toml"))
    assert not is_working_day(date(2026, 12, 31))
    assert active_calendar().year(2026).shipped is False
    use_calendar(None)
    assert is_working_day(date(2026, 12, 31))


def test_a_file_dropped_in_later_counts_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "calendar"
    folder.mkdir()
    use_calendar(folder)
    assert active_calendar().is_estimated(2027)
    (folder / "2027.toml").write_text(FIRM_2027, encoding="utf-8")
    assert not active_calendar().is_estimated(2027)


@pytest.mark.parametrize(("text", "line", "words"), [
    (FIRM_2027.replace('"2027-01-04"', '"2026-12-31"'), 3, "不在 2027 年内"),  # a date outside its year
    (FIRM_2027.replace('"2027-02-11"]', '"2027-02-11", "2027-02-05"]'), 4, "重复"),  # a duplicate day
    (FIRM_2027.replace('workdays = ["2027-02-20"]', 'workdays = ["2027-02-06"]'), 5, "既列为放假日又列为调休上班日"),
    (FIRM_2027.replace('source = "国务院办公厅关于2027年部分节假日安排的通知（测试用）"\n', ""), None, "缺少「source」"),
    (FIRM_2027.replace('source = "国务院办公厅关于2027年部分节假日安排的通知（测试用）"', 'source = "  "'), 2, "不能为空"),
    (FIRM_2027 + 'note = "x"\n', 6, "未知的键「note」"),  # an unknown key
    (FIRM_2027.replace('workdays = ["2027-02-20"]', 'workdays = ["2027-02-22"]'), 5, "星期一"),  # make-up on a Monday
    (FIRM_2027.replace('"2027-01-04"', '"2027-13-04"'), 3, "不是 YYYY-MM-DD"),
    (FIRM_2027.replace("year = 2027", "year = 2027\nyear = 2028"), 2, "不是有效的 TOML"),
])
def test_bad_year_files_name_the_file_line_and_reason(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as info:
        parse_year_file(path)
    assert info.value.line == line and words in info.value.reason
    result = CliRunner().invoke(app, ["calendar", "check", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert str(path) in result.output.replace("\n", "") and words in result.output.replace("\n", "")


def test_calendar_check_accepts_a_good_file_and_the_case_is_unchanged(tmp_path: Path) -> None:
    path = firm_dir(tmp_path) / "2027.toml"
    result = CliRunner().invoke(app, ["calendar", "check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert (payload["valid"], payload["year"], payload["holidays"], payload["workdays"]) == (True, 2027, 9, 1)


def test_a_bad_firm_file_stops_a_command_with_exit_2_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    firm_dir(home, FIRM_2027.replace('"2027-01-04"', '"2026-12-31"'))
    monkeypatch.setenv("GONGU_HOME", str(home))
    case = tmp_path / "case.json"
    case.write_text(JOINT.read_text(encoding="utf-8"), encoding="utf-8")
    before = case.read_bytes()
    result = CliRunner().invoke(app, ["adjust", str(case)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "2027.toml:3" in result.output.replace("\n", "")
    assert case.read_bytes() == before


def test_the_workspace_case_page_marks_the_estimate_and_a_dropped_in_file_makes_it_exact(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from gongu.web.app import create_app
    from tests.webkit import csrf_from, make_account

    home = tmp_path / "home"
    case_dir = home / "workspace" / "SJ-2026-0318"
    shutil.copytree(JOINT.parent, case_dir)
    data = json.loads(JOINT.read_text(encoding="utf-8"))
    data["timeline"].update(received_at="2026-12-14T10:00:00", accepted_at="2026-12-14T15:00:00",
                            effective_on="2026-12-14", completed_on=None)
    data["commission"].pop("agreed_working_days")
    (case_dir / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    # a folder put in the workspace by hand is seen by the kind's supervisor (need to know)
    make_account(home, "rev", {"forensic_supervisor"}, "李主管", "calendar-page-password-1")
    with TestClient(create_app(home), base_url="http://127.0.0.1") as client:
        token = csrf_from(client.get("/login").text)
        client.post("/login", data={"username": "rev", "password": "calendar-page-password-1", "csrf_token": token})
        page = client.get("/forensic/cases/SJ-2026-0318").text
        # the same figures as test_case_effective_2026_12_14_has_estimated_2027_deadline
        assert "2027-01-26（估算）" in page and 'id="calendar-estimate"' in page and "2027.toml" in page
        firm_dir(home)  # the firm drops its 2027 file into GONGU_HOME/calendar, the default [calendar] dir
        page = client.get("/forensic/cases/SJ-2026-0318").text
        assert "2027-01-27" in page and "估算" not in page.split('id="forensic-limits"')[1].split("</table>")[0]
        assert 'id="calendar-estimate"' not in page
