"""Working days for years the shipped holiday data does not cover: the township enters the
State Council's notice, and deadlines counted in working days follow it."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from xiangzhi.audit.models import AuditEvent
from xiangzhi.core import periods, workcalendar
from xiangzhi.core.models import CalendarDay

pytestmark = pytest.mark.django_db

NOTICE_2099 = """
2099-01-01 元旦
2099-02-02~2099-02-06 春节
2099-02-08 上班 春节调休
"""


def html(resp) -> str:
    return resp.content.decode()


def test_notice_lines_parse_into_days():
    rows = workcalendar.parse(NOTICE_2099, 2099)
    off = [d for d, work, _ in rows if not work]
    assert off == [date(2099, 1, 1)] + [date(2099, 2, d) for d in range(2, 7)]
    assert [(d, n) for d, work, n in rows if work] == [(date(2099, 2, 8), "春节调休")]
    assert dict((d, n) for d, _, n in rows)[date(2099, 2, 4)] == "春节"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2099-02-30 春节", "第 1 行：日期“2099-02-30”无效"),
        ("2098-12-31 元旦", "第 1 行：日期不在 2099 年内"),
        ("\n2099-02-06~2099-02-02 春节", "第 2 行：结束日期早于开始日期"),
        ("2099-01-01~2099-01-31 寒假", "一段假期不超过 15 天"),
        ("2099-02-08 春节\n2099-02-08 上班", "第 2 行：2099-02-08 既写了放假又写了上班"),
        ("春节放七天", "第 1 行：应写成"),
    ],
)
def test_bad_lines_are_refused_with_the_line(text, message):
    with pytest.raises(ValidationError) as exc:
        workcalendar.parse(text, 2099)
    assert message in str(exc.value)


def test_entered_days_drive_working_day_deadlines(cast):
    # 2099 is beyond the shipped data: Monday–Friday until the notice is entered
    assert periods.calendar_source(2099) == "weekdays"
    thursday = date(2099, 1, 29)
    assert periods.add_days(thursday, 5, working=True) == date(2099, 2, 5)
    workcalendar.save_year(actor=cast.township_admin, year=2099, text=NOTICE_2099)
    assert periods.calendar_source(2099) == "entered"
    assert not periods.is_workday(date(2099, 2, 2)) and periods.is_workday(date(2099, 2, 8))  # a make-up Sunday
    # 5 working days after Thu 1/29: Fri 1/30, (holiday 2/2–2/6), Sun 2/8 make-up, Mon 2/9, Tue 2/10, Wed 2/11
    assert periods.add_days(thursday, 5, working=True) == date(2099, 2, 11)
    event = AuditEvent.objects.get(action="core.calendar_save")
    assert event.details == {"year": 2099, "days_off": 6, "workdays": 1}
    # saving again replaces the year; an empty text clears it
    workcalendar.save_year(actor=cast.township_admin, year=2099, text="2099-01-01 元旦")
    assert CalendarDay.objects.count() == 1
    assert workcalendar.as_text(2099) == "2099-01-01 元旦"
    workcalendar.save_year(actor=cast.township_admin, year=2099, text="")
    assert periods.calendar_source(2099) == "weekdays"


def test_shipped_years_can_be_corrected_too(cast):
    assert periods.calendar_source(2025) == "shipped"
    assert periods.is_workday(date(2025, 9, 30))
    workcalendar.save_year(actor=cast.township_admin, year=2025, text="2025-09-30 临时放假")
    assert not periods.is_workday(date(2025, 9, 30))


def test_config_page_enters_next_year(cast, client_for):
    year = periods.local_today().year + 1
    c = client_for(cast.township_admin)
    url = reverse("cases:config_calendar")
    page = html(c.get(reverse("cases:config")))
    assert f'id="calendar-{year}"' in page and "工作日历" in page
    bad = c.post(url, {"township": "341524111", "year": year, "text": f"{year}-02-30 春节"})
    assert bad.status_code == 400 and f"日期“{year}-02-30”无效" in html(bad) and f"{year}-02-30 春节" in html(bad)
    assert CalendarDay.objects.count() == 0
    good = c.post(url, {"township": "341524111", "year": year, "text": f"{year}-01-01 元旦\n{year}-02-07 上班 调休"})
    assert good.status_code == 302
    assert CalendarDay.objects.filter(day__year=year).count() == 2
    page = html(c.get(reverse("cases:config")))
    assert "已录入本年放假和调休安排" in page and f"{year}-02-07 上班 调休" in page
    assert c.post(url, {"township": "341524111", "year": 1999, "text": ""}).status_code == 400  # not this or next year
    # village cadres do not configure the township's deadlines or calendar
    assert client_for(cast.secretary_a).post(url, {"township": "341524111", "year": year, "text": ""}).status_code == 403
    assert CalendarDay.objects.filter(day__year=year).count() == 2


def test_home_reminds_the_township_to_enter_next_years_holidays(cast, client_for, monkeypatch):
    monkeypatch.setattr(periods, "local_today", lambda: date(2098, 11, 20))  # neither year shipped
    assert "2098 年放假安排未录入" in html(client_for(cast.township_admin).get("/"))
    workcalendar.save_year(actor=cast.township_admin, year=2098, text="2098-01-01 元旦")
    page = html(client_for(cast.township_admin).get("/"))
    assert "2099 年放假安排未录入" in page
    assert "2099 年放假安排未录入" not in html(client_for(cast.secretary_a).get("/"))  # cannot configure it
    workcalendar.save_year(actor=cast.township_admin, year=2099, text=NOTICE_2099)
    assert "放假安排未录入" not in html(client_for(cast.township_admin).get("/"))
