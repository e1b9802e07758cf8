"""The working-day calendar's staff-entered part: official days off and make-up working days
(调休) for years the shipped holiday data does not cover yet.

Entered as the State Council's notice reads, one line per holiday or make-up day::

    2027-01-01 元旦
    2027-02-05~2027-02-11 春节
    2027-02-14 上班 春节调休

A line with 上班 is a working day (a weekend made a working day); any other line is a day off.
``core.periods.is_workday`` consults these days first, then the shipped data, then
Monday–Friday. Processes pick up a change within ``TTL`` seconds (the one that saved it at
once).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

TTL = 60
MAX_LINES = 100
MAX_SPAN = 15  # days in one holiday range
_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{1,2}-\d{1,2})\s*(?:[~～至—-]{1,2}\s*(?P<end>\d{4}-\d{1,2}-\d{1,2}))?"
    r"\s*(?P<work>上班)?\s*(?P<name>.*)$"
)

_lock = threading.Lock()
_cache: tuple[float, dict[date, bool]] | None = None


def invalidate() -> None:
    global _cache
    with _lock:
        _cache = None


def overrides() -> dict[date, bool]:
    """{day: is_workday} of every entered day (read at most every TTL seconds)."""
    global _cache
    cached = _cache
    if cached is not None and time.monotonic() - cached[0] < TTL:
        return cached[1]
    from .models import CalendarDay

    try:
        days = dict(CalendarDay.objects.values_list("day", "is_workday"))
    except DatabaseError:  # before the table exists (migrations) the shipped data decides
        return {}
    with _lock:
        _cache = (time.monotonic(), days)
    return days


def _date(text: str, lineno: int) -> date:
    try:
        y, m, d = (int(p) for p in text.split("-"))
        return date(y, m, d)
    except ValueError:
        raise ValidationError({"calendar": f"第 {lineno} 行：日期“{text}”无效"}) from None


def parse(text: str, year: int) -> list[tuple[date, bool, str]]:
    """[(day, is_workday, name)] from the notice's lines, all inside ``year``; Chinese
    messages with the line number for anything wrong."""
    rows: dict[date, tuple[bool, str]] = {}
    lines = [ln.strip() for ln in (text or "").replace("\r", "").split("\n")]
    lines = [(i, ln) for i, ln in enumerate(lines, start=1) if ln and not ln.startswith("#")]
    if len(lines) > MAX_LINES:
        raise ValidationError({"calendar": f"最多 {MAX_LINES} 行"})
    for lineno, line in lines:
        m = _LINE.match(line)
        if not m:
            raise ValidationError({"calendar": f"第 {lineno} 行：应写成“2027-02-05~2027-02-11 春节”或“2027-02-14 上班 春节调休”"})
        start = _date(m["start"], lineno)
        end = _date(m["end"], lineno) if m["end"] else start
        if end < start:
            raise ValidationError({"calendar": f"第 {lineno} 行：结束日期早于开始日期"})
        if (end - start).days >= MAX_SPAN:
            raise ValidationError({"calendar": f"第 {lineno} 行：一段假期不超过 {MAX_SPAN} 天"})
        if start.year != year or end.year != year:
            raise ValidationError({"calendar": f"第 {lineno} 行：日期不在 {year} 年内"})
        name = m["name"].strip()[:30]
        work = bool(m["work"])
        day = start
        while day <= end:
            if day in rows and rows[day][0] != work:
                raise ValidationError({"calendar": f"第 {lineno} 行：{day:%Y-%m-%d} 既写了放假又写了上班"})
            rows[day] = (work, name)
            day += timedelta(days=1)
    return [(d, w, n) for d, (w, n) in sorted(rows.items())]


def as_text(year: int) -> str:
    """The entered days of ``year`` written back as the notice's lines (ranges joined)."""
    from .models import CalendarDay

    lines, run = [], None
    for d in CalendarDay.objects.filter(day__year=year).order_by("day"):
        if run and d.day == run[1] + timedelta(days=1) and (d.is_workday, d.name) == run[2:]:
            run = (run[0], d.day, *run[2:])
            continue
        if run:
            lines.append(run)
        run = (d.day, d.day, d.is_workday, d.name)
    if run:
        lines.append(run)
    out = []
    for start, end, work, name in lines:
        span = f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d}~{end:%Y-%m-%d}"
        out.append(" ".join(p for p in (span, "上班" if work else "", name) if p))
    return "\n".join(out)


@transaction.atomic
def save_year(*, actor, year: int, text: str) -> int:
    """Replace ``year``'s entered days with those of ``text`` (audited). Returns the number
    of days now entered for the year."""
    from xiangzhi import audit

    from .models import CalendarDay

    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年份无效"})
    rows = parse(text, year)
    CalendarDay.objects.filter(day__year=year).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(day=d, is_workday=w, name=n, updated_by=actor) for d, w, n in rows]
    )
    audit.record(actor, "core.calendar_save", ("core.calendar", year), year=year,
                 days_off=sum(1 for _, w, _ in rows if not w), workdays=sum(1 for _, w, _ in rows if w))
    transaction.on_commit(invalidate)
    invalidate()
    return len(rows)
