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


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plans")
@pytest.mark.parametrize(
    "who,index",
    [
        ("county", "case_area6_received"),
        ("township_admin", "case_area9_received"),
        ("secretary_a", "case_area12_received"),
        ("grid_worker_a1", "case_area_received (area_code=?)"),
    ],
)
def test_history_walks_an_area_index_in_received_order(cast, who, index):
    """The 全部 list's history part (ended cases newest first) reads a page of index entries:
    no sort of the area's every case (cases/0003, selectors.AreaPrefix)."""
    user = getattr(cast, who)
    rows = selectors.OpenThenEnded(selectors.case_filter(user=user), seek=selectors.history_seek(user))
    text = plan(rows.ended_qs[:21])
    assert index in text and "TEMP B-TREE" not in text, text
    # the filtered area (a village of the township) seeks that village's range
    filters = CaseFilters(area_code=cast.grid_a1.code[:12])
    rows = selectors.OpenThenEnded(selectors.case_filter(user=user, filters=filters),
                                   seek=selectors.history_seek(user, filters))  # fmt: skip
    if who != "grid_worker_a1":  # (a village is outside a grid worker's scope: nothing to read)
        text = plan(rows.ended_qs[:21])
        assert "case_area12_received" in text and "TEMP B-TREE" not in text, text


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plans")
def test_open_part_of_the_list_reads_open_cases_only(cast):
    rows = selectors.OpenThenEnded(selectors.case_filter(user=cast.township_admin))
    assert "case_status_area_due (status=? AND area_code>? AND area_code<?)" in plan(rows.open_qs[:21])
