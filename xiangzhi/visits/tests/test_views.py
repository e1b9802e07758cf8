"""Field-work pages: scope (grid worker logs visits only for grid A1 households, secretary_b
sees nothing of 刘冲村, villager 403, anonymous → login), the visit form's bad input
(future date, household outside the area: Chinese message, nothing written), offline
drafts landing once, problem → case in one tap and "已解决" once the case is closed,
contacts and gaps, the coverage headline, the register, the 一户一档 panel, query counts."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xiangzhi.audit.models import AuditEvent
from xiangzhi.cadres import services as cadre_services
from xiangzhi.cases import services as case_services
from xiangzhi.cases.models import Case
from xiangzhi.core import periods
from xiangzhi.core.testing import VILLAGE_A
from xiangzhi.visits import services
from xiangzhi.visits.models import ContactAssignment, Problem, Visit, VisitPhoto
from xiangzhi.visits.views import about

pytestmark = pytest.mark.django_db
TODAY = periods.local_today()
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def grid_cadre(cast):
    return cadre_services.cadre_create(
        actor=None,
        area_code=VILLAGE_A,
        name="网格员甲",
        sex="male",
        birth_date=date(1990, 3, 3),
        education="bachelor",
        establishment="village",
        user=cast.grid_worker_a1,
    )


@pytest.fixture
def secretary_cadre(cast):
    return cadre_services.cadre_create(
        actor=None,
        area_code=VILLAGE_A,
        name="刘书记",
        sex="male",
        birth_date=date(1978, 3, 3),
        education="bachelor",
        establishment="village",
        user=cast.secretary_a,
    )


def visit_data(household, **extra):
    data = {
        "visited_on": TODAY.isoformat(),
        "kind": "visit",
        "households": [household.pk],
        "summary": "了解老人生活情况",
        "problems": ["屋顶漏雨，需要修缮", ""],
    }
    data.update(extra)
    return data


def test_grid_worker_logs_a_visit_with_problem_and_photo(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)
    form = c.get(reverse("visits:create"))
    assert form.status_code == 200
    text = form.content.decode()
    assert 'capture="environment"' in text and 'accept="image/*"' in text and "data-xz-locate" in text
    assert "网格员甲" in text  # logs as their own cadre, no picker
    resp = c.post(
        reverse("visits:create"),
        visit_data(
            cast.household_a1,
            latitude="31.123456",
            longitude="115.654321",
            photos=SimpleUploadedFile("p.png", PNG, "image/png"),
        ),
    )
    visit = Visit.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("visits:detail", args=[visit.pk])
    assert visit.cadre == grid_cadre and list(visit.households.all()) == [cast.household_a1]
    assert visit.problems.get().description == "屋顶漏雨，需要修缮"
    photo = VisitPhoto.objects.get()
    page = c.get(resp.url).content.decode()
    assert "刘长喜" in page and "转为事项" in page and reverse("visits:photo", args=[visit.pk, photo.pk]) in page
    img = c.get(reverse("visits:photo", args=[visit.pk, photo.pk]))
    assert img.status_code == 200 and img["Content-Type"] == "image/png"
    # another village's secretary reaches neither the visit nor its photo
    b = client_for(cast.secretary_b)
    assert b.get(resp.url).status_code == 404
    assert b.get(reverse("visits:photo", args=[visit.pk, photo.pk])).status_code == 404


def test_household_outside_the_grid_is_refused_and_nothing_written(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)
    for household in (cast.household_a2, cast.household_b1):  # grid A2 of the same village; another village
        resp = c.post(reverse("visits:create"), visit_data(household))
        assert resp.status_code == 400
        assert "所选农户不在您的管辖范围内" in resp.content.decode()
    assert not Visit.objects.exists() and not Problem.objects.exists()


def test_future_date_is_refused_and_nothing_written(cast, grid_cadre, client_for):
    resp = client_for(cast.grid_worker_a1).post(
        reverse("visits:create"), visit_data(cast.household_a1, visited_on=(TODAY + timedelta(days=1)).isoformat())
    )
    assert resp.status_code == 400
    text = resp.content.decode()
    assert "走访日期不能晚于今天" in text and "了解老人生活情况" in text  # the text typed stays in the form
    assert not Visit.objects.exists()


def test_other_bad_input_gets_field_messages(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)
    resp = c.post(reverse("visits:create"), {"visited_on": "2024-02-30", "kind": "visit", "summary": ""})
    text = resp.content.decode()
    assert resp.status_code == 400 and "走访日期格式不正确" in text and "请填写走访内容" in text
    resp = c.post(reverse("visits:create"), {"visited_on": TODAY.isoformat(), "kind": "visit", "summary": "走访"})
    assert resp.status_code == 400 and "请选择走访的农户" in resp.content.decode()
    resp = c.post(
        reverse("visits:create"), {"visited_on": TODAY.isoformat(), "kind": "bench_meeting", "summary": "板凳会"}
    )
    assert resp.status_code == 400 and "板凳会请填写村民小组" in resp.content.decode()
    bad_photo = SimpleUploadedFile("x.png", b"not an image at all", "image/png")
    resp = c.post(reverse("visits:create"), visit_data(cast.household_a1, photos=bad_photo))
    assert resp.status_code == 400 and "不支持的文件类型" in resp.content.decode()
    assert not Visit.objects.exists()


def test_user_without_cadre_is_told_so(cast, client_for):
    resp = client_for(cast.grid_worker_a1).get(reverse("visits:create"))
    assert resp.status_code == 200 and "尚未关联干部档案" in resp.content.decode()


def test_secretary_may_log_for_a_village_cadre(cast, grid_cadre, secretary_cadre, client_for):
    c = client_for(cast.secretary_a)
    form = c.get(reverse("visits:create")).content.decode()
    assert "刘书记（本人）" in form and "网格员甲" in form
    resp = c.post(reverse("visits:create"), visit_data(cast.household_a2, cadre=str(grid_cadre.pk)))
    assert resp.status_code == 302
    assert Visit.objects.get().cadre == grid_cadre
    # a grid worker has no cadre picker: a posted cadre is ignored, the visit is theirs
    c2 = client_for(cast.grid_worker_a1)
    c2.post(reverse("visits:create"), visit_data(cast.household_a1, cadre=str(secretary_cadre.pk)))
    assert Visit.objects.latest("id").cadre == grid_cadre


def test_bench_meeting(cast, secretary_cadre, client_for):
    c = client_for(cast.secretary_a)
    resp = c.post(
        reverse("visits:create"),
        {
            "visited_on": TODAY.isoformat(),
            "kind": "bench_meeting",
            "group_name": "刘冲一组",
            "attendees": "15",
            "area_code": VILLAGE_A,
            "summary": "听取修路意见",
        },
    )
    assert resp.status_code == 302
    visit = Visit.objects.get()
    assert (visit.group_name, visit.attendees, visit.area_code) == ("刘冲一组", 15, VILLAGE_A)


def test_offline_draft_resent_lands_once(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)
    data = visit_data(cast.household_a1, client_id="0f8e7d6c-5b4a-4321-8fed-cba987654321")
    first = c.post(reverse("visits:create"), data, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert first.status_code == 201
    body = json.loads(first.content)
    again = c.post(reverse("visits:create"), data, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert again.status_code == 201 and json.loads(again.content) == body
    assert Visit.objects.count() == 1 and Problem.objects.count() == 1
    assert body["url"] == reverse("visits:detail", args=[Visit.objects.get().pk])
    # another user's draft with the same id is a different visit (ids are per user)
    other = cadre_services.cadre_create(
        actor=None,
        area_code=VILLAGE_A,
        name="书记乙",
        sex="male",
        birth_date=date(1970, 1, 1),
        education="bachelor",
        establishment="village",
        user=cast.secretary_a,
    )
    assert other
    resp = client_for(cast.secretary_a).post(reverse("visits:create"), data, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert resp.status_code == 201 and Visit.objects.count() == 2


def test_problem_becomes_a_case_in_one_tap_and_shows_solved(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)
    c.post(reverse("visits:create"), visit_data(cast.household_a1))
    visit = Visit.objects.get()
    problem = visit.problems.get()
    resp = c.post(reverse("visits:problem_case", args=[problem.pk]))
    assert resp.status_code == 302
    problem.refresh_from_db()
    case = problem.case
    assert (case.kind, case.channel, case.household_id) == ("need", "visit", cast.household_a1.pk)
    assert c.post(reverse("visits:problem_case", args=[problem.pk])).status_code == 302
    assert Case.objects.count() == 1  # tapping twice: still one case
    page = c.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert reverse("cases:detail", args=[case.pk]) in page and "已登记" in page
    case_services.case_accept(actor=cast.grid_worker_a1, case=case)
    case_services.case_assign(
        actor=cast.secretary_a,
        case=case,
        lead=cast.township_admin,
        handler=cast.grid_worker_a1,
        responsibility="网格员跟进",
        plan="联系危房改造",
        due_at=timezone.now() + timedelta(days=3),
    )
    case_services.case_start(actor=cast.grid_worker_a1, case=case)
    case_services.case_resolve(actor=cast.grid_worker_a1, case=case, note="已修缮")
    case_services.case_close(actor=cast.secretary_a, case=case, resolution="屋顶已修好")
    page = c.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert "已解决" in page
    # out of scope: secretary_b cannot convert it (404), a villager has no field-work rights (403)
    assert client_for(cast.secretary_b).post(reverse("visits:problem_case", args=[problem.pk])).status_code == 404
    assert client_for(cast.villager).post(reverse("visits:problem_case", args=[problem.pk])).status_code == 403


def test_household_search_by_initials_stays_in_scope(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)
    text = c.get(reverse("visits:household_search"), {"q": "lcx"}).content.decode()
    assert "刘长喜" in text and f'data-xz-pick-household="{cast.household_a1.pk}"' in text
    assert "张大岗" not in c.get(reverse("visits:household_search"), {"q": "zdg"}).content.decode()
    assert "王秀英" not in c.get(reverse("visits:household_search"), {"q": "wxy"}).content.decode()  # grid A2
    admin = client_for(cast.township_admin).get(reverse("visits:household_search"), {"q": "zdg"}).content.decode()
    assert "张大岗" in admin


@pytest.mark.parametrize(
    "name",
    [
        "visits:home",
        "visits:create",
        "visits:contacts",
        "visits:coverage",
        "visits:register",
        "visits:household_search",
        "visits:contact_add",
        "visits:bench_add",
    ],
)
def test_villager_gets_403_and_anonymous_goes_to_login(cast, client_for, name):
    assert client_for(cast.villager).get(reverse(name)).status_code == 403
    resp = Client().get(reverse(name))
    assert resp.status_code == 302 and reverse("accounts:login") in resp.url


def test_visit_list_is_scoped(cast, grid_cadre, secretary_cadre, client_for):
    services.visit_log(
        actor=cast.grid_worker_a1,
        cadre=grid_cadre,
        visited_on=TODAY,
        households=[cast.household_a1],
        summary="网格一走访",
    )
    services.visit_log(
        actor=cast.secretary_a,
        cadre=secretary_cadre,
        visited_on=TODAY,
        households=[cast.household_a2],
        summary="网格二走访",
    )
    grid = client_for(cast.grid_worker_a1).get(reverse("visits:home"), {"tab": "all"}).content.decode()
    assert "网格一走访" in grid and "网格二走访" not in grid
    mine = client_for(cast.secretary_a).get(reverse("visits:home")).content.decode()
    assert "网格二走访" in mine and "网格一走访" not in mine  # 我的走访
    village = client_for(cast.secretary_a).get(reverse("visits:home"), {"tab": "all"}).content.decode()
    assert "网格一走访" in village and "网格二走访" in village
    assert (
        "网格" not in client_for(cast.secretary_b).get(reverse("visits:home")).content.decode().split("visit-list")[1]
    )


def test_contacts_assign_and_gaps(cast, grid_cadre, secretary_cadre, client_for):
    c = client_for(cast.secretary_a)
    page = c.get(reverse("visits:contacts"), {"area": VILLAGE_A}).content.decode()
    assert "没有联系干部的农户" in page and "刘长喜" in page and "网格员甲" in page
    resp = c.post(
        reverse("visits:contact_add"),
        {
            "cadre": str(grid_cadre.pk),
            "kind": "four_links",
            "household": cast.household_a1.pk,
            "help": "帮销路：联系收购茶叶",
            "start": TODAY.isoformat(),
        },
    )
    assert resp.status_code == 302
    assigned = ContactAssignment.objects.get()
    assert (assigned.kind, assigned.help) == ("four_links", "帮销路：联系收购茶叶")
    dup = c.post(
        reverse("visits:contact_add"),
        {
            "cadre": str(grid_cadre.pk),
            "kind": "four_links",
            "household": cast.household_a1.pk,
            "start": TODAY.isoformat(),
        },
    )
    assert dup.status_code == 400 and "该干部已联系此户" in dup.content.decode()
    outside = c.post(
        reverse("visits:contact_add"),
        {
            "cadre": str(grid_cadre.pk),
            "kind": "heart_link",
            "household": cast.household_b1.pk,
            "start": TODAY.isoformat(),
        },
    )
    assert outside.status_code == 400 and "须在您的管辖范围内" in outside.content.decode()
    resp = c.post(
        reverse("visits:bench_add"),
        {"cadre": str(secretary_cadre.pk), "village": VILLAGE_A, "group_name": "刘冲一组", "start": TODAY.isoformat()},
    )
    assert resp.status_code == 302
    page = c.get(reverse("visits:contacts"), {"area": VILLAGE_A}).content.decode()
    assert "刘冲一组" in page and "帮销路" in page
    gaps = page.split('id="gap-cadres"')[1].split('id="contacts-table"')[0]
    assert "网格员甲" not in gaps and "刘书记" not in gaps
    assert client_for(cast.secretary_b).get(reverse("visits:contacts"), {"area": VILLAGE_A}).status_code == 404
    # the visit form offers the cadre's linked households first
    form = client_for(cast.grid_worker_a1).get(reverse("visits:create")).content.decode()
    assert 'id="contact-households"' in form and "刘长喜" in form


def test_coverage_headline_is_computed_from_data(cast, grid_cadre, secretary_cadre, client_for):
    services.contact_assign(
        actor=None, cadre=grid_cadre, kind="heart_link", start=TODAY - timedelta(days=30), household=cast.household_a1
    )
    services.contact_assign(
        actor=None,
        cadre=grid_cadre,
        kind="heart_link",
        start=TODAY - timedelta(days=30),
        household=cast.villager_household,
    )
    visit = services.visit_log(
        actor=cast.grid_worker_a1,
        cadre=grid_cadre,
        visited_on=TODAY,
        households=[cast.household_a1],
        summary="走访",
        problems=["道路破损", "缺少路灯"],
    )
    services.visit_log(
        actor=cast.secretary_a,
        cadre=secretary_cadre,
        visited_on=TODAY,
        kind="bench_meeting",
        group_name="刘冲一组",
        attendees=12,
        summary="板凳会",
        area_code=VILLAGE_A,
    )
    case = services.problem_to_case(actor=cast.grid_worker_a1, problem=visit.problems.first())
    case_services.case_accept(actor=cast.grid_worker_a1, case=case)
    case_services.case_assign(
        actor=cast.secretary_a,
        case=case,
        lead=cast.township_admin,
        handler=cast.grid_worker_a1,
        responsibility="跟进",
        plan="修路",
        due_at=timezone.now() + timedelta(days=3),
    )
    case_services.case_start(actor=cast.grid_worker_a1, case=case)
    case_services.case_resolve(actor=cast.grid_worker_a1, case=case, note="已修")
    case_services.case_close(actor=cast.secretary_a, case=case, resolution="路已修好")
    resp = client_for(cast.township_admin).get(reverse("visits:coverage"), {"period": str(TODAY.year)})
    text = resp.content.decode()
    assert resp.status_code == 200
    # 1 household-visit + 12 attendees = 13 person-times; 1 of 2 problems solved through the case
    assert f"{TODAY.year}年走访群众13人次，解决问题1件" in text
    assert 'id="kpi-problems">2 / 1' in text and "50.00%" in text  # coverage: 1 of 2 linked households
    assert "刘冲村" in text.split('id="coverage-units"')[1]
    assert "陈村民" in text.split('id="stale-households"')[1]  # linked, never visited
    village = client_for(cast.secretary_a).get(
        reverse("visits:coverage"), {"area": VILLAGE_A, "period": str(TODAY.year)}
    )
    assert village.status_code == 200
    assert client_for(cast.secretary_b).get(reverse("visits:coverage"), {"area": VILLAGE_A}).status_code == 404
    bad = client_for(cast.township_admin).get(reverse("visits:coverage"), {"period": "2024-13"})
    assert bad.status_code == 400 and "统计期格式应为" in bad.content.decode()


def test_about_rounds_like_the_articles():
    assert (about(3217), about(1045), about(3000), about(86), about(450)) == ("3000余", "1000余", "3000", "86", "400余")


def test_register_print_and_audited_export(cast, grid_cadre, client_for):
    from openpyxl import load_workbook

    services.visit_log(
        actor=cast.grid_worker_a1,
        cadre=grid_cadre,
        visited_on=TODAY,
        households=[cast.household_a1],
        summary="=cmd|' /C calc'!A0",
        problems=["漏雨"],
    )
    assert client_for(cast.secretary_a).get(reverse("visits:register")).status_code == 403  # no export right
    c = client_for(cast.township_admin)
    page = c.get(reverse("visits:register")).content.decode()
    assert "走访台账" in page and "刘长喜" in page
    resp = c.get(reverse("visits:register"), {"format": "xlsx"})
    assert resp.status_code == 200
    rows = list(load_workbook(BytesIO(b"".join(resp.streaming_content))).active.iter_rows(values_only=True))
    header = rows[2]
    data = rows[3]
    assert data[header.index("走访农户（户主）")] == "刘长喜"
    assert data[header.index("走访内容")].startswith("'=")  # formula guard
    assert AuditEvent.objects.filter(action="visits.export").count() == 1
    assert client_for(cast.grid_worker_a1).get(reverse("visits:register")).status_code == 403  # no export right


def test_household_page_panel_and_work_bench(cast, grid_cadre, client_for):
    services.visit_log(
        actor=cast.grid_worker_a1,
        cadre=grid_cadre,
        visited_on=TODAY,
        households=[cast.household_a1],
        summary="了解用水情况",
    )
    services.contact_assign(actor=None, cadre=grid_cadre, kind="heart_link", start=TODAY, household=cast.household_a1)
    c = client_for(cast.grid_worker_a1)
    page = c.get(reverse("residents:household_detail", args=[cast.household_a1.pk])).content.decode()
    assert "走访记录" in page and "入户走访 · 网格员甲" in page and "联系干部：网格员甲（连心工程）" in page
    assert reverse("visits:create") + f"?household={cast.household_a1.pk}" in page
    home = c.get(reverse("core:home")).content.decode()
    assert "本月走访 1 次" in home
    prefill = c.get(reverse("visits:create"), {"household": cast.household_a1.pk}).content.decode()
    assert f'value="{cast.household_a1.pk}"' in prefill


def test_visit_list_query_count_does_not_grow(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)

    def log(n):
        for _ in range(n):
            services.visit_log(
                actor=cast.grid_worker_a1,
                cadre=grid_cadre,
                visited_on=TODAY,
                households=[cast.household_a1, cast.villager_household],
                summary="走访",
                problems=["问题"],
            )

    log(2)
    with CaptureQueriesContext(connection) as few:
        assert c.get(reverse("visits:home")).status_code == 200
    log(20)
    with CaptureQueriesContext(connection) as many:
        assert c.get(reverse("visits:home")).status_code == 200
    assert len(many) <= len(few) + 1
    visit = Visit.objects.first()
    with CaptureQueriesContext(connection) as detail:
        assert c.get(reverse("visits:detail", args=[visit.pk])).status_code == 200
    assert len(detail) <= 20


def test_grid_worker_bench_meeting_defaults_to_their_grid(cast, grid_cadre, client_for):
    c = client_for(cast.grid_worker_a1)
    form = c.get(reverse("visits:create")).content.decode()
    assert f'<option value="{cast.grid_a1.code}" selected>' in form
    resp = c.post(
        reverse("visits:create"),
        {
            "visited_on": TODAY.isoformat(),
            "kind": "bench_meeting",
            "group_name": "刘冲一组",
            "attendees": "8",
            "area_code": cast.grid_a1.code,
            "summary": "板凳会",
        },
    )
    assert resp.status_code == 302 and Visit.objects.get().area_code == cast.grid_a1.code
    # a village outside the grid is not offered, and posting it is refused with nothing written
    resp = c.post(
        reverse("visits:create"),
        {
            "visited_on": TODAY.isoformat(),
            "kind": "bench_meeting",
            "group_name": "刘冲二组",
            "attendees": "8",
            "area_code": VILLAGE_A,
            "summary": "板凳会",
        },
    )
    assert resp.status_code == 400 and Visit.objects.count() == 1
