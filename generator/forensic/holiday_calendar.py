"""The holiday calendar forensic time limits count on: official years from files, estimates for the rest.

The State Council publishes each year's holiday arrangement (国务院办公厅关于部分节假日安排的通知), with
its 调休 make-up working days, only weeks before the year begins. So the calendar is data, one TOML file
per year, in one format:

    year = 2027
    source = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）"
    holidays = ["2027-01-01", …]   # days off
    workdays = ["2027-02-20", …]   # make-up working days that fall on a weekend

- Shipped years live in `forms/calendar/` (2004–2026, exported from the maintained `chinese-calendar`
  package by `python -m generator.forensic.calendar_export`; a test keeps them equal to the package).
- A firm adds a year by dropping a file into its own folder (`[calendar] dir` in gongu.toml); a firm
  file for a year wins over the shipped one.
- A year with no file is **estimated**: weekends plus the statutory holidays of 《全国年节及纪念日放假办法》
  that fall on fixed or lunar dates by rule (元旦, 春节 with 除夕, 清明, 劳动节, 端午, 中秋, 国庆), with a
  day off in lieu for a holiday on a weekend (Art 4 of the 办法), computed by the maintained `holidays`
  package. The estimate knows no 调休 make-up days, so every figure counted through such a year is marked
  估算 wherever it is shown, until the year's file turns it exact.

Who reads the calendar: `active_calendar()`. The application layer tells it where the firm's folder is
(`use_calendar`), once per process or per request; without that, only the shipped years are official.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

SHIPPED_PACKAGE = "forms"
SHIPPED_FOLDER = "calendar"
# The estimate's library covers these years; outside them there is no rule to estimate by.
ESTIMATE_RANGE = (1950, 2099)

Origin = Literal["official", "estimate"]


class CalendarFileError(ValueError):
    """A calendar year file that cannot be used: names the file, the line (when known) and the reason."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"节假日日历文件 {where}：{reason}")


class CalendarNotCovered(ValueError):
    """A date in a year that has no official file and cannot be estimated either (outside ESTIMATE_RANGE)."""

    def __init__(self, day: date) -> None:
        self.day = day
        first, last = ESTIMATE_RANGE
        super().__init__(
            f"日期 {day.isoformat()} 所在的 {day.year} 年既无官方节假日安排文件，也不在可估算的范围（{first}–{last} 年）内，"
            f"无法计算工作日 (date {day.isoformat()}: year {day.year} has no calendar file and cannot be estimated)")


@dataclass(frozen=True)
class YearCalendar:
    """One year's days off and make-up working days, and where they came from."""

    year: int
    origin: Origin
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]
    file: str | None = None  # the file's name (official years)
    sha256: str | None = None  # of the file's bytes (official years)
    shipped: bool = False  # from forms/calendar rather than the firm's folder

    @property
    def estimated(self) -> bool:
        return self.origin == "estimate"

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def record(self) -> dict[str, object]:
        """Everything needed to count on this year again without the software (archive packages)."""
        return {"year": self.year, "origin": self.origin, "source": self.source, "file": self.file,
                "sha256": self.sha256, "shipped": self.shipped,
                "holidays": [d.isoformat() for d in sorted(self.holidays)],
                "workdays": [d.isoformat() for d in sorted(self.workdays)]}

    def label(self) -> str:
        """How a person is told where the year came from: 官方（file, source） or 估算."""
        if self.estimated:
            return f"{self.year} 年：估算（无国务院节假日安排文件，按法定节日规则推算，不含调休上班日）"
        where = "随软件提供" if self.shipped else "机构添加"
        return f"{self.year} 年：官方（{self.file}，{where}；{self.source}）"


# ─────────────────────────────────────────── year files ───────────────────────────────────────────

_KEYS = {"year": "年份", "source": "来源（通知名称与文号）", "holidays": "放假日期", "workdays": "调休上班日期"}


def _line_of(text: str, needle: str, occurrence: int = 1) -> int | None:
    """The 1-based line of the n-th occurrence of `needle` outside comments, for an error a person can find."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        seen += code.count(needle)
        if seen >= occurrence:
            return number
    return None


def _key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def parse_year_file(path: Path, *, shipped: bool = False) -> YearCalendar:
    """Read and check one year file; CalendarFileError names the file, the line and what is wrong."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileError(path, f"无法读取（cannot read）：{exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise CalendarFileError(path, f"不是有效的 TOML（invalid TOML）：{exc}",
                                int(found.group(1)) if found else None) from None
    for key in data:
        if key not in _KEYS:
            raise CalendarFileError(path, f"未知的键「{key}」（unknown key）；只允许 {', '.join(_KEYS)}",
                                    _key_line(text, key))
    for key in ("year", "source", "holidays", "workdays"):
        if key not in data:
            raise CalendarFileError(path, f"缺少「{key}」（{_KEYS[key]}）")
    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        raise CalendarFileError(path, f"year（{_KEYS['year']}）应为四位年份，实为 {year!r}", _key_line(text, "year"))
    if path.stem.isdigit() and int(path.stem) != year:
        raise CalendarFileError(path, f"文件名 {path.name} 与 year = {year} 不一致", _key_line(text, "year"))
    source = data["source"]
    if not isinstance(source, str) or not source.strip():
        raise CalendarFileError(path, "source（来源：国务院办公厅通知的名称与文号）不能为空", _key_line(text, "source"))
    days: dict[str, frozenset[date]] = {}
    for key in ("holidays", "workdays"):
        days[key] = _dates(path, text, key, data[key], year)
    both = days["holidays"] & days["workdays"]
    if both:
        day = min(both)
        raise CalendarFileError(path, f"{day.isoformat()} 既列为放假日又列为调休上班日（a day cannot be both）",
                                _line_of(text, day.isoformat(), 2))
    for day in sorted(days["workdays"]):
        if day.weekday() < 5:
            raise CalendarFileError(path, f"workdays（调休上班日）只列周六、周日的上班日，{day.isoformat()} 是"
                                    f"星期{'一二三四五'[day.weekday()]}", _line_of(text, day.isoformat()))
    return YearCalendar(year=year, origin="official", source=source.strip(), holidays=days["holidays"],
                        workdays=days["workdays"], file=path.name, sha256=hashlib.sha256(raw).hexdigest(),
                        shipped=shipped)


def _dates(path: Path, text: str, key: str, value: object, year: int) -> frozenset[date]:
    title = _KEYS[key]
    if not isinstance(value, list):
        raise CalendarFileError(path, f"{key}（{title}）应为日期列表", _key_line(text, key))
    seen: set[date] = set()
    for item in value:
        if isinstance(item, date) and not hasattr(item, "hour"):
            day = item  # a bare TOML date
        elif isinstance(item, str):
            try:
                day = date.fromisoformat(item)
            except ValueError:
                raise CalendarFileError(path, f"{key}（{title}）中的「{item}」不是 YYYY-MM-DD 日期",
                                        _line_of(text, item)) from None
        else:
            raise CalendarFileError(path, f"{key}（{title}）中的 {item!r} 不是日期", _key_line(text, key))
        if day.year != year:
            raise CalendarFileError(path, f"{key}（{title}）中的 {day.isoformat()} 不在 {year} 年内",
                                    _line_of(text, day.isoformat()))
        if day in seen:
            raise CalendarFileError(path, f"{key}（{title}）中的 {day.isoformat()} 重复列出",
                                    _line_of(text, day.isoformat(), 2))
        seen.add(day)
    return frozenset(seen)


def _folder_years(folder: Path, *, shipped: bool) -> dict[int, YearCalendar]:
    years: dict[int, YearCalendar] = {}
    for path in sorted(folder.glob("*.toml")):
        year = parse_year_file(path, shipped=shipped)
        if year.year in years:
            raise CalendarFileError(path, f"{year.year} 年已由 {years[year.year].file} 给出，同一年只能有一个文件")
        years[year.year] = year
    return years


@cache
def shipped_years() -> dict[int, YearCalendar]:
    folder = resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FOLDER)
    return _folder_years(Path(str(folder)), shipped=True)


# ─────────────────────────────────────────── estimates ───────────────────────────────────────────


@cache
def estimated_year(year: int) -> YearCalendar:
    """Weekends plus the statutory holidays by rule, with days in lieu (全国年节及纪念日放假办法 Art 2, 4)."""
    first, last = ESTIMATE_RANGE
    if not first <= year <= last:
        raise CalendarNotCovered(date(year, 1, 1))
    import holidays  # the one maintained source of the lunar dates (春节, 端午, 中秋) and 清明's solar term

    china = holidays.China(years=year)
    days_off = frozenset(d for d in china if d.year == year)
    make_up = frozenset(d for d in getattr(china, "weekend_workdays", ()) if d.year == year)
    return YearCalendar(year=year, origin="estimate", source=f"估算：holidays {holidays.__version__} 的中国法定节日规则",
                        holidays=days_off, workdays=make_up)


# ─────────────────────────────────────────── the calendar ───────────────────────────────────────────


@dataclass
class WorkCalendar:
    """Official years (shipped, then the firm's folder over them) and estimates for every other year."""

    official: dict[int, YearCalendar] = field(default_factory=dict)
    firm_dir: Path | None = None

    def year(self, year: int) -> YearCalendar:
        found = self.official.get(year)
        return found if found is not None else estimated_year(year)

    def is_working_day(self, day: date) -> bool:
        return self.year(day.year).is_working_day(day)

    def is_estimated(self, year: int) -> bool:
        return year not in self.official

    def years(self, first: date, last: date) -> tuple[YearCalendar, ...]:
        """The calendars of every year from `first` to `last` (either order)."""
        low, high = sorted((first.year, last.year))
        return tuple(self.year(y) for y in range(low, high + 1))

    def official_range(self) -> tuple[int, int]:
        return min(self.official), max(self.official)


def load_calendar(firm_dir: Path | None = None) -> WorkCalendar:
    """The shipped years, with the firm's files (when its folder exists) winning year by year."""
    years = dict(shipped_years())
    if firm_dir is not None and firm_dir.is_dir():
        years.update(_folder_years(firm_dir, shipped=False))
    return WorkCalendar(official=years, firm_dir=firm_dir)


def _folder_state(folder: Path | None) -> tuple[object, ...]:
    if folder is None or not folder.is_dir():
        return (str(folder),)
    return (str(folder), *((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.toml"))))


# Where the firm's folder is, asked on every use so that a file dropped in while a server runs counts at
# once; the calendar itself is read again only when the folder's files change.
_firm_dir: Callable[[], Path | None] = lambda: None  # noqa: E731
_loaded: tuple[tuple[object, ...], WorkCalendar] | None = None


def use_calendar(firm_dir: Callable[[], Path | None] | Path | None) -> None:
    """Tell the generator where the firm's calendar folder is (a path, or a function giving it)."""
    global _firm_dir, _loaded
    _firm_dir = firm_dir if callable(firm_dir) else (lambda: firm_dir)  # type: ignore[assignment, return-value]
    _loaded = None


def active_calendar() -> WorkCalendar:
    """The calendar every time limit is counted on: shipped years plus the firm's folder."""
    global _loaded
    folder = _firm_dir()
    state = _folder_state(folder)
    if _loaded is None or _loaded[0] != state:
        _loaded = (state, load_calendar(folder))
    return _loaded[1]


def add_year_hint(year: int) -> str:
    """The sentence that tells a firm how to turn an estimated year into an exact one."""
    return (f"{year} 年尚无国务院办公厅节假日安排文件，时限按估算日历计算（标“估算”）；通知发布后，"
            f"按 docs/forensic.md 写 {year}.toml，用 gongu calendar check 校验后放入 gongu.toml [calendar] dir "
            f"所指的目录，估算即成为准确日期")
