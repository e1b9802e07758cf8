"""Periods and deadlines. Store UTC, compute and display in Asia/Shanghai.

Working days honour China's official holidays and make-up working days (调休): days entered
by staff (``core.workcalendar``, for years the shipped data does not cover yet) first, then
``chinese_calendar``; for a year neither covers, Monday–Friday are working days
(``calendar_source(year)`` says which, so that the UI can warn)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    from django.utils import timezone

    return timezone.now().astimezone(TZ).date()


def to_local(dt: datetime) -> datetime:
    return dt.astimezone(TZ)


@lru_cache(maxsize=64)
def calendar_known(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


@lru_cache(maxsize=8192)
def _shipped_workday(day: date) -> bool:
    if calendar_known(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def is_workday(day: date) -> bool:
    from .workcalendar import overrides

    entered = overrides().get(day)
    return _shipped_workday(day) if entered is None else entered


def calendar_source(year: int) -> str:
    """"entered" (staff entered the year's holidays), "shipped" (chinese-calendar knows the
    year) or "weekdays" (neither: Monday–Friday count as working days)."""
    from .workcalendar import overrides

    if any(d.year == year for d in overrides()):
        return "entered"
    return "shipped" if calendar_known(year) else "weekdays"


def add_days(start: date, days: int, *, working: bool = False) -> date:
    """The date ``days`` (working) days after ``start`` (start itself not counted).
    ``add_days(d, 0)`` is ``d``."""
    if days < 0:
        raise ValueError("days must be ≥ 0")
    if not working:
        return start + timedelta(days=days)
    day = start
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return day


def end_of_day(day: date) -> datetime:
    """23:59:59.999999 Asia/Shanghai of ``day``, as an aware datetime."""
    return datetime.combine(day, time.max, tzinfo=TZ)


def deadline(start: datetime, days: int, *, working: bool = False) -> datetime:
    """Due at the end of the N-th (working) day after the local date of ``start``."""
    return end_of_day(add_days(to_local(start).date(), days, working=working))


def days_between(a: date, b: date, *, working: bool = False) -> int:
    """Days from a (exclusive) to b (inclusive); negative when b < a."""
    if not working:
        return (b - a).days
    sign = 1 if b >= a else -1
    lo, hi = (a, b) if b >= a else (b, a)
    n = 0
    day = lo
    while day < hi:
        day += timedelta(days=1)
        if is_workday(day):
            n += 1
    return sign * n


# --- reporting periods ----------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    kind: str  # month / quarter / year / custom
    start: date  # inclusive
    end: date  # exclusive
    label: str

    @property
    def start_dt(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=TZ)

    @property
    def end_dt(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=TZ)

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end


def month(year: int, m: int) -> Period:
    end = date(year + (m == 12), m % 12 + 1, 1)
    return Period("month", date(year, m, 1), end, f"{year}年{m}月")


def quarter(year: int, q: int) -> Period:
    start = date(year, 3 * (q - 1) + 1, 1)
    end = date(year + (q == 4), (3 * q) % 12 + 1, 1)
    return Period("quarter", start, end, f"{year}年第{q}季度")


def year(y: int) -> Period:
    return Period("year", date(y, 1, 1), date(y + 1, 1, 1), f"{y}年")


def custom(start: date, end_inclusive: date) -> Period:
    return Period("custom", start, end_inclusive + timedelta(days=1), f"{start:%Y-%m-%d}至{end_inclusive:%Y-%m-%d}")


_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})$"), lambda m: month(int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{4})-?[Qq]([1-4])$"), lambda m: quarter(int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{4})$"), lambda m: year(int(m[1]))),
]


def parse_period(text: str) -> Period:
    """'2025-07' / '2025-Q3' / '2025' → Period; ValueError with a Chinese message otherwise."""
    text = (text or "").strip()
    for rx, build in _PATTERNS:
        m = rx.match(text)
        if m:
            try:
                p = build(m)
            except ValueError:
                break
            if not 2000 <= p.start.year <= 2100:
                break
            return p
    raise ValueError("统计期格式应为 2025-07（月）、2025-Q3（季度）或 2025（年）")


def current(kind: str = "month", today: date | None = None) -> Period:
    today = today or local_today()
    if kind == "quarter":
        return quarter(today.year, (today.month - 1) // 3 + 1)
    if kind == "year":
        return year(today.year)
    return month(today.year, today.month)
