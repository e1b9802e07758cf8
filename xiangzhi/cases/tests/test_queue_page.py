"""The work bench list (GET /cases/) as it is built for speed: open cases by urgency then
the history newest first (two LIMIT queries, correct across the page boundary), the
deferred total, the lazily fetched "更多条件" panel and its lists, and a page shell without
per-request queries for areas, categories or leads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xiangzhi.cases import config, selectors
from xiangzhi.cases.choices import ENDED_STATUSES, OPEN_STATUSES
from xiangzhi.cases.models import Case, Category
from xiangzhi.cases.selectors import CaseFilters
from xiangzhi.core.testing import VILLAGE_B, make_user

QUEUE = reverse("cases:queue")
ROW = re.compile(r'<tr class="xz-case-row[^"]*" id="case-(\d+)"')
RESULTS = {"HX-Request": "true", "HX-Target": "case-results"}
MORE = {"HX-Request": "true", "HX-Target": "case-more-body"}

pytestmark = pytest.mark.django_db


def ids(resp) -> list[int]:
    assert resp.status_code == 200
    return [int(pk) for pk in ROW.findall(resp.content.decode())]


@pytest.fixture
def history(cast, category):
    """Open cases (overdue, yellow, fresh) and ended cases in three grids: 刘冲村 A1 (12 open,
    18 ended), A2 (5 + 5), 大岗村 B1 (3 + 6) — 20 open and 29 ended in the township."""
    now = timezone.now()
    rows = []
    n = 0
    for grid, n_open, n_ended in ((cast.grid_a1, 12, 18), (cast.grid_a2, 5, 5), (cast.grid_b1, 3, 6)):
        for i in range(n_open + n_ended):
            n += 1
            c = Case(area_code=grid.code, kind="dispute", channel="visit", category=category, title=f"事项{n}",
                     description="d", tracking_code=f"Q{n:09d}", received_at=now - timedelta(days=n * 3 % 47, hours=n))  # fmt: skip
            if i < n_open:
                c.status = OPEN_STATUSES[i % len(OPEN_STATUSES)]
                if i % 3 == 0:  # overdue
                    c.level_due_at = now - timedelta(hours=i + 1)
                elif i % 3 == 1:  # yellow
                    c.yellow_at, c.level_due_at = now - timedelta(hours=1), now + timedelta(days=i)
                else:
                    c.due_at = now + timedelta(days=i)
            else:
                c.status = ENDED_STATUSES[i % len(ENDED_STATUSES)]
                c.closed_at = c.received_at + timedelta(days=2)
            rows.append(c)
    rows[-1].received_at = rows[-2].received_at  # a tie, broken by id
    Case.objects.bulk_create(rows)
    return rows


def expected(user, **filters) -> list[int]:
    """Open cases in the queue's urgency order, then ended cases newest first (id breaks ties)."""
    status = filters.pop("status", "")
    open_ids = []
    if status not in ENDED_STATUSES:
        open_only = CaseFilters(status=status or "open", **filters)
        open_ids = list(selectors.case_list(user=user, filters=open_only).values_list("pk", flat=True))
    ended = selectors.case_filter(user=user, filters=CaseFilters(status=status, **filters))
    ended = ended.filter(status__in=ENDED_STATUSES)
    ended_ids = [pk for _, pk in sorted(ended.values_list("received_at", "pk"), reverse=True)]
    return open_ids + ended_ids


def walk(client, params) -> list[int]:
    seen, page = [], 1
    while True:
        resp = client.get(QUEUE, {**params, "page": page}, headers=RESULTS)
        rows = ids(resp)
        seen += rows
        if "下一页" not in resp.content.decode():
            return seen
        assert len(rows) == 20
        page += 1


@pytest.mark.parametrize("who", ["township_admin", "secretary_a", "grid_worker_a1", "county"])
def test_all_tab_open_by_urgency_then_history_across_pages(cast, client_for, history, who):
    user = getattr(cast, who)
    seen = walk(client_for(user), {"tab": "all"})
    assert len(seen) == len(set(seen))  # nothing twice
    assert seen == expected(user)  # nothing lost, in order
    in_scope = set(selectors.cases_for(user).values_list("pk", flat=True))
    assert set(seen) == in_scope
    statuses = dict(Case.objects.values_list("pk", "status"))
    flags = [statuses[pk] in OPEN_STATUSES for pk in seen]
    assert flags == sorted(flags, reverse=True)  # every open case before every ended one


def test_history_order_with_filters_and_a_page_past_the_open_cases(cast, client_for, history):
    c = client_for(cast.township_admin)
    # page 2 starts past the 20 open cases (the slice counts them, then reads the history)
    assert ids(c.get(QUEUE, {"tab": "all", "page": 2}, headers=RESULTS)) == expected(cast.township_admin)[20:40]
    for params, filters in (
        ({"area": VILLAGE_B}, {"area_code": VILLAGE_B}),
        ({"area": cast.grid_a1.code}, {"area_code": cast.grid_a1.code}),
        ({"status": "closed"}, {"status": "closed"}),
    ):
        assert walk(c, {"tab": "all", **params}) == expected(cast.township_admin, **filters)
    assert walk(c, {"tab": "all", "status": "overdue"}) == list(
        selectors.case_list(user=cast.township_admin, filters=CaseFilters(status="overdue")).values_list("pk", flat=True)
    )


def test_deferred_count_follows_the_filters(cast, client_for, history):
    c = client_for(cast.township_admin)
    page = c.get(QUEUE, {"tab": "all", "kind": "dispute"}).content.decode()
    match = re.search(r'class="xz-count" hx-get="([^"]+)"', page)
    assert match, "page 1 of a long list defers its total"
    url = match.group(1).replace("&amp;", "&")
    assert "_count=1" in url and "kind=dispute" in url and "tab=all" in url
    assert c.get(url).content.decode() == "共 49 件"
    assert c.get(QUEUE, {"tab": "all", "area": cast.grid_a2.code, "_count": "1"}).content.decode() == "共 10 件"
    assert c.get(QUEUE, {"tab": "all", "status": "open", "_count": "1"}).content.decode() == "共 20 件"
    assert c.get(QUEUE, {"tab": "all", "kind": "need", "_count": "1"}).content.decode() == "共 0 件"
    # a value outside the user's choice is ignored, as on the page
    assert c.get(QUEUE, {"tab": "all", "area": "341524112", "_count": "1"}).content.decode() == "共 49 件"
    grid = client_for(cast.grid_worker_a1)
    assert grid.get(QUEUE, {"tab": "all", "_count": "1"}).content.decode() == "共 30 件"


def test_page_shell_reads_no_areas_categories_or_leads(cast, client_for, history):
    c = client_for(cast.township_admin)
    for tab in ("todo", "all"):
        c.get(QUEUE, {"tab": tab})  # warms the user's memoised area list
        with CaptureQueriesContext(connection) as ctx:
            resp = c.get(QUEUE, {"tab": tab})
        assert resp.status_code == 200
        tables = " ".join(q["sql"] for q in ctx.captured_queries)
        for table in ('FROM "org_region"', 'FROM "org_assignment"', 'FROM "cases_category"', "COUNT("):
            assert table not in tables, (tab, table)
        assert len(ctx.captured_queries) <= 5  # session, user, open cases (+ the history)
    with CaptureQueriesContext(connection) as ctx:
        c.get(QUEUE, {"tab": "all", "page": 2})
    assert len(ctx.captured_queries) <= 6  # + the count of open cases before the history


def test_queries_do_not_grow_with_the_rows(cast, client_for, history, make_case):
    c = client_for(cast.township_admin)
    c.get(QUEUE, {"tab": "all"})
    with CaptureQueriesContext(connection) as before:
        c.get(QUEUE, {"tab": "all", "page": 2})
    Case.objects.bulk_create(
        Case(area_code=cast.grid_b1.code, kind="need", channel="visit", title="更多", description="d",
             tracking_code=f"R{i:09d}", status="closed", received_at=timezone.now() - timedelta(days=i))
        for i in range(60)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as after:
        c.get(QUEUE, {"tab": "all", "page": 2})
    assert len(after) == len(before)


def test_more_filters_panel_is_fetched_when_opened_and_inline_when_in_use(cast, client_for, history):
    c = client_for(cast.township_admin)
    page = c.get(QUEUE).content.decode()
    assert 'id="filter-category"' not in page and 'hx-trigger="toggle once"' in page
    assert "_more=1" in page  # the link for browsers without JS
    panel = c.get(QUEUE, {"tab": "all"}, headers=MORE).content.decode()
    assert "<html" not in panel and 'id="filter-category"' in panel and 'id="filter-lead"' in panel
    assert "邻里" in panel and "刘冲村" in panel and "第二网格" in panel
    # in use: rendered with the page, the chosen value selected, the panel open
    page = c.get(QUEUE, {"tab": "all", "area": cast.grid_a2.code}).content.decode()
    assert f'<option value="{cast.grid_a2.code}" selected>' in page
    assert re.search(r'<details class="mt-2" id="case-more-filters" open>', page)
    page = c.get(QUEUE, {"_more": "1"}).content.decode()
    assert 'id="filter-category"' in page


def test_filter_lists_follow_configuration_and_people_changes(cast, client_for, history):
    c = client_for(cast.township_admin)
    c.get(QUEUE, headers=MORE)
    cat = config.category_add(actor=cast.township_admin, township_code=cast.grid_a1.code[:9], name="光伏收益")
    lead = make_user("new_lead", "village_secretary", VILLAGE_B, full_name="新任书记")
    panel = c.get(QUEUE, headers=MORE).content.decode()
    assert "光伏收益" in panel and "新任书记" in panel
    # and the new values are accepted as filters at once
    Case.objects.filter(pk=history[0].pk).update(category=cat, lead=lead)
    assert ids(c.get(QUEUE, {"tab": "all", "category": cat.pk}, headers=RESULTS)) == [history[0].pk]
    assert ids(c.get(QUEUE, {"tab": "all", "lead": lead.pk}, headers=RESULTS)) == [history[0].pk]
    Category.objects.filter(pk=cat.pk).update(name="光伏分红")
    assert "光伏分红" in c.get(QUEUE, headers=MORE).content.decode()


def test_out_of_scope_lead_and_category_are_ignored(cast, client_for, history):
    other = Category.objects.create(code="x", name="外乡分类", township_code="341524112")
    outsider = make_user("other_town", "township_admin", "341524112", full_name="外乡干部")
    c = client_for(cast.township_admin)
    everything = walk(c, {"tab": "all"})
    assert walk(c, {"tab": "all", "category": other.pk}) == everything
    assert walk(c, {"tab": "all", "lead": outsider.pk}) == everything
    panel = c.get(QUEUE, headers=MORE).content.decode()
    assert "外乡分类" not in panel and "外乡干部" not in panel


def test_rows_escape_values_and_show_badges(cast, client_for, history):
    Case.objects.filter(pk=history[0].pk).update(title="<script>x</script>", supervision="red")
    page = client_for(cast.township_admin).get(QUEUE, {"tab": "all"}).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "红牌督办" in page and "xz-warning-red" in page and "xz-warning-yellow" in page
    assert "刘冲村 · 第一网格" in page and "大岗村 · 第一网格" in page
