"""Writes the shipped calendar year files (forms/calendar/YYYY.toml) from the `chinese-calendar` package.

    python -m generator.forensic.calendar_export forms/calendar [YEAR …]

Run it after upgrading `chinese-calendar` to ship a newer year; tests/test_holiday_calendar.py keeps the
committed files equal to what the installed package says. The files are the one source the time limits
count on (generator/forensic/holiday_calendar.py); the package is only where they were copied from.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import chinese_calendar

# chinese-calendar names its holidays in English; the files say them in Chinese as the notices do.
NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def package_years() -> list[int]:
    return sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})


def _name(day: date) -> str:
    _, name = chinese_calendar.get_holiday_detail(day)
    return NAMES.get(str(name), str(name)) if name else ""


def year_toml(year: int) -> str:
    """One year as the calendar file format, each day with the holiday it belongs to as a comment."""
    version = getattr(chinese_calendar, "__version__", "?")
    holidays = sorted(d for d in chinese_calendar.holidays if d.year == year)
    workdays = sorted(d for d in chinese_calendar.workdays if d.year == year)

    def listing(days: list[date]) -> str:
        if not days:
            return "[]"
        return "[\n" + "".join(f'  "{d.isoformat()}",  # {_name(d)}\n' for d in days) + "]"

    return (f"# {year} 年法定节假日安排（放假日与调休上班日），由 chinese-calendar {version} 导出\n"
            f"year = {year}\n"
            f'source = "国务院办公厅关于{year}年部分节假日安排的通知（经 chinese-calendar {version} 收录）"\n'
            f"holidays = {listing(holidays)}\n"
            f"workdays = {listing(workdays)}\n")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    years = [int(y) for y in argv[1:]] or package_years()
    for year in years:
        (folder / f"{year}.toml").write_text(year_toml(year), encoding="utf-8")
    print(f"{len(years)} 个年份写入 {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
