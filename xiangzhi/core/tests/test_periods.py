from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiangzhi.core import periods

# working days read the staff-entered calendar days (core.workcalendar) from the database
pytestmark = pytest.mark.django_db


def test_working_days_skip_national_day_and_count_make_up_saturday():
    # 2025: 10/1–10/8 holiday; Sat 2025-09-28 and Sat 2025-10-11 are make-up working days (调休)
    assert periods.is_workday(date(2025, 9, 28))
    assert not periods.is_workday(date(2025, 10, 3))
    assert periods.is_workday(date(2025, 10, 11))
    # 3 working days after Tue 2025-09-30: 10/9 (Thu), 10/10 (Fri), 10/11 (make-up Sat)
    assert periods.add_days(date(2025, 9, 30), 3, working=True) == date(2025, 10, 11)


def test_spring_festival_2026():
    # 2026 春节 holiday runs 2/15–2/23; Sat 2/14 and Sat 2/28 are make-up working days
    assert periods.is_workday(date(2026, 2, 14))
    assert not periods.is_workday(date(2026, 2, 18))
    assert periods.add_days(date(2026, 2, 13), 1, working=True) == date(2026, 2, 14)


def test_year_without_calendar_data_falls_back_to_weekdays():
    assert not periods.calendar_known(2099)
    assert periods.is_workday(date(2099, 6, 1))  # a Monday
    assert not periods.is_workday(date(2099, 6, 6))  # a Saturday
    assert periods.add_days(date(2099, 6, 5), 1, working=True) == date(2099, 6, 8)


def test_deadline_is_end_of_local_day():
    start = datetime(2025, 3, 3, 17, 30, tzinfo=periods.TZ)  # Monday
    due = periods.deadline(start, 15)
    assert due.date() == date(2025, 3, 18) and due.hour == 23 and due.tzinfo is not None


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)), st.integers(min_value=0, max_value=40))
def test_working_day_arithmetic_properties(start, n):
    due = periods.add_days(start, n, working=True)
    assert due >= start
    assert periods.days_between(start, due, working=True) == n
    if n:
        assert periods.is_workday(due)  # a deadline never lands on a rest day
        assert (due - start).days >= n  # never sooner than calendar days
    assert periods.days_between(due, start, working=True) == -n


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)), st.integers(min_value=0, max_value=60))
def test_calendar_days(start, n):
    assert periods.add_days(start, n) == start + timedelta(days=n)
    assert periods.days_between(start, periods.add_days(start, n)) == n


def test_periods_parse_and_bounds():
    q = periods.parse_period("2025-Q4")
    assert (q.start, q.end, q.label) == (date(2025, 10, 1), date(2026, 1, 1), "2025年第4季度")
    m = periods.parse_period("2024-02")
    assert (m.start, m.end) == (date(2024, 2, 1), date(2024, 3, 1))
    assert date(2024, 2, 29) in m and date(2024, 3, 1) not in m
    assert periods.parse_period("2023").end == date(2024, 1, 1)
    for bad in ["2025-13", "25-01", "", "2025-Q5", "abc"]:
        with pytest.raises(ValueError, match="统计期"):
            periods.parse_period(bad)
