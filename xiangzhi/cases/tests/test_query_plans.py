"""The queries that must stay O(area) / O(open cases): scoped reads seek the index by the
area range (core.scoping.prefix_q), the work queue reads only open cases
(case_status_area_due), and the KPI aggregate reads one area range. Plans are SQLite's."""

import pytest
from django.db import connection

from xiangzhi.cases import selectors
from xiangzhi.cases.models import Case
from xiangzhi.cases.selectors import CaseFilters
from xiangzhi.core.scoping import prefix_q

pytestmark = pytest.mark.django_db


def plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(row[-1] for row in cur.fetchall())


@pytest.mark.parametrize(
    "prefix,inside,outside",
    [
        ("341524111", ["341524111", "341524111206", "341524111206001"], ["341524112", "34152411", "341524110999"]),
        ("34152419", ["34152419", "341524199001"], ["34152420", "341524189"]),
        ("99", ["99", "991"], ["98", "9"]),  # no upper bound of the same length
    ],
)
def test_prefix_q_is_startswith(cast, prefix, inside, outside):
    Case.objects.all().delete()
    for i, code in enumerate(inside + outside):
        Case.objects.create(area_code=code, kind="dispute", channel="visit", title="t", description="d",
                            tracking_code=f"P{i:09d}", received_at="2025-03-01T00:00:00Z")  # fmt: skip
    found = set(Case.objects.filter(prefix_q("area_code", prefix)).values_list("area_code", flat=True))
    assert found == set(inside)
    assert found == set(Case.objects.filter(area_code__startswith=prefix).values_list("area_code", flat=True))


def test_non_digit_prefix_stays_a_plain_startswith():
    assert "__gte" not in str(prefix_q("area_code", "ab"))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plans")
def test_scoped_reads_seek_the_area_range(cast):
    text = plan(selectors.cases_for(cast.township_admin))
    assert "area_code>? AND area_code<?" in text and "SCAN cases_case" not in text


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plans")
def test_open_queue_reads_open_cases_only(cast):
    text = plan(selectors.case_list(user=cast.township_admin, filters=CaseFilters(status="open")))
    assert "case_status_area_due (status=? AND area_code>? AND area_code<?)" in text
