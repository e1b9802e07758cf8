"""Field-work API: generic scope tests over every operation under /api/v1/visits, then the
phone's flows (my assignments, logging with a re-sent draft, photos, problem → case).

``OPS`` names every operation (claimed for the API census). For each: the in-scope actor
gets the expected status, 大岗村's secretary (sibling village) gets 404 / a list without
刘冲村's rows / a refusal, roles without the permission get 403, anonymous and bad tokens 401
— and none of the refused calls writes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from xiangzhi.api import api
from xiangzhi.audit.models import AuditEvent
from xiangzhi.cadres import services as cadre_services
from xiangzhi.cases.models import Case
from xiangzhi.cases.tests.apitools import PREFIX, bearer, call
from xiangzhi.core import periods
from xiangzhi.core.testing import VILLAGE_A, VILLAGE_B
from xiangzhi.visits import services
from xiangzhi.visits.models import Problem, Visit, VisitPhoto

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
TODAY = periods.local_today()
NO_FIELD_WORK = ("auditor", "nobody", "villager")
NO_LOGGING = (*NO_FIELD_WORK, "county")


def _cadre(user, area, name, birth=date(1990, 3, 3)):
    return cadre_services.cadre_create(actor=None, area_code=area, name=name, sex="male", birth_date=birth,
                                       education="bachelor", establishment="village", user=user)  # fmt: skip


@pytest.fixture
def field_work(cast):
    """刘冲村: the grid worker's cadre record linked to two households (连心工程, 四联四帮) and a
    villager group (板凳会), one visit with a problem; 大岗村: its secretary's cadre record."""
    grid = _cadre(cast.grid_worker_a1, VILLAGE_A, "陈秀珍")
    _cadre(cast.secretary_a, VILLAGE_A, "刘德山", date(1975, 5, 5))
    dagang = _cadre(cast.secretary_b, VILLAGE_B, "余建平", date(1972, 2, 2))
    start = TODAY - timedelta(days=90)
    services.contact_assign(actor=None, cadre=grid, kind="heart_link", start=start, household=cast.household_a1)
    services.contact_assign(actor=None, cadre=grid, kind="four_links", start=start, household=cast.villager_household,
                            help="产业帮扶：茶叶种植技术")  # fmt: skip
    services.contact_assign(actor=None, cadre=grid, kind="bench_meeting", start=start, group_name="刘冲一组",
                            village_code=VILLAGE_A)  # fmt: skip
    services.contact_assign(actor=None, cadre=dagang, kind="heart_link", start=start, household=cast.household_b1)
    visit = services.visit_log(actor=cast.grid_worker_a1, cadre=grid, visited_on=TODAY - timedelta(days=3),
                               households=[cast.household_a1], summary="了解老人生活情况",
                               problems=["屋顶漏雨，需要修缮"])  # fmt: skip
    return {"grid": grid, "visit": visit, "problem": visit.problems.get()}


def _visit_body(c):
    return {"visited_on": TODAY.isoformat(), "households": [c.household_a1.pk], "summary": "走访了解春耕情况",
            "problems": ["灌溉水渠堵塞"], "latitude": 31.6512, "longitude": 115.9021}  # fmt: skip


@dataclass
class Op:
    """One operation as the cast sees it. ``path`` may name {visit_id} / {problem_id} (of the
    fixture's 刘冲村 visit); ``sibling`` is what 大岗村's secretary gets."""

    method: str
    path: str
    ok: int = 200
    actor: str = "grid_worker_a1"
    body: Callable | None = None
    multipart: bool = False
    is_list: bool = False
    sibling: int = 404
    denied: tuple[str, ...] = NO_FIELD_WORK
    extra_ok: dict[str, int] = field(default_factory=dict)

    def url(self, fw) -> str:
        return PREFIX + self.path.format(visit_id=fw["visit"].pk, problem_id=fw["problem"].pk)


OPS: dict[tuple[str, str], Op] = {
    (op.method, PREFIX + op.path): op
    for op in [
        Op("GET", "/visits/my-assignments", sibling=200, extra_ok={"secretary_a": 200, "county": 404}),
        Op("POST", "/visits", ok=201, body=_visit_body, sibling=400, denied=NO_LOGGING),
        Op("GET", "/visits", is_list=True, sibling=200,
           extra_ok={"secretary_a": 200, "township_admin": 200, "county": 200}),
        Op("GET", "/visits/{visit_id}", extra_ok={"secretary_a": 200, "township_admin": 200, "county": 200}),
        Op("POST", "/visits/{visit_id}/photos", ok=201, multipart=True, denied=NO_LOGGING,
           extra_ok={"secretary_a": 201}),
        Op("POST", "/visits/problems/{problem_id}/case", ok=201, denied=NO_LOGGING),
    ]
}  # fmt: skip
KEYS = sorted(OPS)


def _send(client, op: Op, fw, cast):
    if op.multipart:
        return client.post(op.url(fw), {"file": SimpleUploadedFile("现场.png", PNG, content_type="image/png")})
    return call(client, op.method, op.url(fw), op.body(cast) if op.body else None)


def _writes():
    return (Visit.objects.count(), Problem.objects.count(), VisitPhoto.objects.count(), Case.objects.count(),
            AuditEvent.objects.count())  # fmt: skip


def test_every_visits_operation_has_a_scope_case():
    schema = api.get_openapi_schema()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops if p.startswith("/api/v1/visits")}
    assert operations == set(OPS)
    for path, ops in schema["paths"].items():
        if path.startswith("/api/v1/visits"):
            for method, op in ops.items():
                codes = {str(c) for c in op["responses"]}
                assert {"401", "403", "404", "422"} <= codes, (method, path)
                if method == "post":
                    assert {"400", "409"} <= codes, (method, path)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_in_scope_actor_succeeds(cast, field_work, key):
    op = OPS[key]
    for actor, status in {op.actor: op.ok, **op.extra_ok}.items():
        resp = _send(bearer(getattr(cast, actor)), op, field_work, cast)
        assert resp.status_code == status, (actor, resp.content.decode())
        assert resp["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_sibling_village_gets_404_or_sees_nothing_of_village_a(cast, field_work, key):
    op = OPS[key]
    client = bearer(cast.secretary_b)
    before = _writes()
    resp = _send(client, op, field_work, cast)
    assert resp.status_code == op.sibling, resp.content.decode()
    text = resp.content.decode()
    if op.sibling == 200:
        assert VILLAGE_A not in text and cast.household_a1.head_name not in text
    else:
        assert resp.json()["detail"]
        assert _writes() == before


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_role_without_permission_gets_403(cast, field_work, key):
    op = OPS[key]
    for actor in op.denied:
        client = bearer(getattr(cast, actor))
        before = _writes()
        resp = _send(client, op, field_work, cast)
        assert resp.status_code == 403, (actor, resp.content.decode())
        assert resp.json()["detail"]
        assert _writes() == before


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_anonymous_and_bad_token_get_401(cast, field_work, key):
    op = OPS[key]
    for client in (Client(), Client(HTTP_AUTHORIZATION="Bearer not-a-token")):
        before = _writes()
        resp = _send(client, op, field_work, cast)
        assert resp.status_code == 401, resp.content.decode()
        assert resp.json()["detail"] == "未登录或令牌无效"
        assert _writes() == before


@pytest.mark.parametrize("key", [k for k in KEYS if "{" in k[1]], ids=lambda k: f"{k[0]} {k[1]}")
def test_unknown_and_huge_ids_are_404_or_422(cast, field_work, key):
    op = OPS[key]
    client = bearer(cast.township_admin)
    template = PREFIX + op.path
    for bad, status in ((10**12, 404), (0, 422), (2**63, 422), ("abc", 422)):
        url = template.format(visit_id=bad, problem_id=bad)
        if op.multipart:
            resp = client.post(url, {"file": SimpleUploadedFile("a.png", PNG, content_type="image/png")})
        else:
            resp = call(client, op.method, url)
        assert resp.status_code == status, (bad, resp.content.decode())


# --- the phone's flows ---------------------------------------------------------------------
def test_my_assignments_lists_households_with_head_and_area_and_groups(cast, field_work):
    body = bearer(cast.grid_worker_a1).get(f"{PREFIX}/visits/my-assignments").json()
    assert body["cadre"]["name"] == "陈秀珍" and body["cadre"]["area_name"] == "刘冲村"
    rows = {h["head_name"]: h for h in body["households"]}
    assert set(rows) == {"刘长喜", "陈村民"}
    assert rows["刘长喜"]["kind_label"] == "连心工程" and rows["刘长喜"]["area_name"] == "刘冲村 第一网格"
    assert rows["刘长喜"]["last_visited_on"] == (TODAY - timedelta(days=3)).isoformat()
    assert rows["陈村民"]["help"] == "产业帮扶：茶叶种植技术" and rows["陈村民"]["last_visited_on"] is None
    assert body["groups"] == [{"assignment": body["groups"][0]["assignment"], "village_code": VILLAGE_A,
                               "village_name": "刘冲村", "group_name": "刘冲一组",
                               "start": (TODAY - timedelta(days=90)).isoformat(), "last_met_on": None}]  # fmt: skip
    # no personal data: no ID number or phone anywhere
    assert "id_number" not in str(body) and "phone" not in str(body)
    resp = bearer(cast.county).get(f"{PREFIX}/visits/my-assignments")
    assert resp.status_code == 404 and "干部档案" in resp.json()["detail"]


def test_a_resent_offline_draft_lands_once(cast, field_work):
    client = bearer(cast.grid_worker_a1)
    body = {**_visit_body(cast), "client_id": "draft-7f3a9c01"}
    first = call(client, "POST", f"{PREFIX}/visits", body)
    again = call(client, "POST", f"{PREFIX}/visits", body)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert again["Idempotent-Replayed"] == "true"
    assert Visit.objects.filter(client_id="draft-7f3a9c01").count() == 1
    assert first.json()["problems"][0]["description"] == "灌溉水渠堵塞"
    assert first.json()["latitude"] == pytest.approx(31.6512)
    # somebody else's draft id is not a way to read that visit
    other = call(bearer(cast.secretary_a), "POST", f"{PREFIX}/visits", body)
    assert other.status_code == 409 and "草稿编号" in other.json()["detail"]


def test_bench_meeting_of_a_grid_worker_lands_in_his_grid(cast, field_work):
    body = {"kind": "bench_meeting", "visited_on": TODAY.isoformat(), "group_name": "刘冲一组", "attendees": 14,
            "summary": "板凳会：议人居环境整治"}  # fmt: skip
    resp = call(bearer(cast.grid_worker_a1), "POST", f"{PREFIX}/visits", body)
    assert resp.status_code == 201, resp.content.decode()
    assert resp.json()["area_code"] == cast.grid_a1.code and resp.json()["attendees"] == 14
    mine = bearer(cast.grid_worker_a1).get(f"{PREFIX}/visits/my-assignments").json()
    assert mine["groups"][0]["last_met_on"] == TODAY.isoformat()


@pytest.mark.parametrize(
    ("body", "field_name", "message"),
    [
        ({"visited_on": (TODAY + timedelta(days=1)).isoformat()}, "visited_on", "不能晚于今天"),
        ({"visited_on": "1999-12-31"}, "visited_on", "2000 年至 2100 年"),
        ({"households": []}, "households", "请选择走访的农户"),
        ({"kind": "bench_meeting", "households": []}, "group_name", "村民小组"),
    ],
)
def test_bad_visits_are_400_in_chinese_and_write_nothing(cast, field_work, body, field_name, message):
    client = bearer(cast.grid_worker_a1)
    before = _writes()
    resp = call(client, "POST", f"{PREFIX}/visits", {**_visit_body(cast), **body})
    assert resp.status_code == 400, resp.content.decode()
    assert message in resp.json()["errors"][field_name][0]
    assert _writes() == before


def test_household_outside_the_area_and_schema_junk(cast, field_work):
    client = bearer(cast.grid_worker_a1)
    resp = call(client, "POST", f"{PREFIX}/visits", {**_visit_body(cast), "households": [cast.household_a2.pk]})
    assert resp.status_code == 400 and "不在您的管辖范围内" in resp.json()["errors"]["households"][0]
    resp = call(client, "POST", f"{PREFIX}/visits", {**_visit_body(cast), "latitude": 91, "kind": "party"})
    assert resp.status_code == 422 and {"latitude", "kind"} <= set(resp.json()["errors"])
    resp = call(client, "POST", f"{PREFIX}/visits", {**_visit_body(cast), "cadre": field_work["grid"].pk + 99})
    assert resp.status_code == 400 and "cadre" in resp.json()["errors"]


def test_photos_by_the_author_only_and_by_content(cast, field_work):
    url = f"{PREFIX}/visits/{field_work['visit'].pk}/photos"
    resp = bearer(cast.grid_worker_a1).post(url, {"file": SimpleUploadedFile("x.png", b"not an image")})
    assert resp.status_code == 400 and "不支持的文件类型" in resp.json()["errors"]["file"][0]
    for _ in range(9):
        assert bearer(cast.grid_worker_a1).post(url, {"file": SimpleUploadedFile("a.png", PNG)}).status_code == 201
    resp = bearer(cast.grid_worker_a1).post(url, {"file": SimpleUploadedFile("a.png", PNG)})
    assert resp.status_code == 400 and "最多上传 9 张" in resp.json()["detail"]
    detail = bearer(cast.secretary_a).get(f"{PREFIX}/visits/{field_work['visit'].pk}").json()
    assert len(detail["photos"]) == 9


def test_problem_becomes_a_need_case_once_and_shows_on_the_visit(cast, field_work):
    client = bearer(cast.grid_worker_a1)
    url = f"{PREFIX}/visits/problems/{field_work['problem'].pk}/case"
    first = call(client, "POST", url)
    assert first.status_code == 201 and first.json()["created"] is True
    case = Case.objects.get(pk=first.json()["case"])
    assert (case.kind, case.channel, case.source) == ("need", "visit", f"visits.problem:{field_work['problem'].pk}")
    assert first.json()["tracking_code"] == case.tracking_code
    again = call(client, "POST", url)
    assert again.status_code == 200 and again.json()["case"] == case.pk and again.json()["created"] is False
    detail = client.get(f"{PREFIX}/visits/{field_work['visit'].pk}").json()
    assert detail["problems"][0]["case"] == {"id": case.pk, "tracking_code": case.tracking_code,
                                             "status": "registered", "status_label": case.get_status_display()}


def test_list_filters_and_dates(cast, field_work):
    client = bearer(cast.secretary_a)
    items = client.get(f"{PREFIX}/visits").json()["items"]
    assert [v["id"] for v in items] == [field_work["visit"].pk]
    assert items[0]["household_count"] == 1 and items[0]["problem_count"] == 1
    assert client.get(f"{PREFIX}/visits?mine=true").json()["items"] == []
    assert len(bearer(cast.grid_worker_a1).get(f"{PREFIX}/visits?mine=true").json()["items"]) == 1
    assert client.get(f"{PREFIX}/visits?date_from={TODAY.isoformat()}").json()["items"] == []
    resp = client.get(f"{PREFIX}/visits?date_to=1900-01-01")
    assert resp.status_code == 400 and "date_to" in resp.json()["errors"]


def test_list_is_o_page_in_queries(cast, field_work):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = bearer(cast.secretary_a)

    def queries():
        with CaptureQueriesContext(connection) as q:
            assert client.get(f"{PREFIX}/visits").status_code == 200
        return len(q.captured_queries)

    queries()  # warm: the token's first use is recorded once
    one = queries()
    for i in range(4):
        services.visit_log(actor=cast.grid_worker_a1, cadre=field_work["grid"], visited_on=TODAY,
                           households=[cast.household_a1, cast.villager_household], summary=f"走访{i}",
                           problems=["问题一", "问题二"])  # fmt: skip
    assert queries() == one
    items = client.get(f"{PREFIX}/visits").json()["items"]
    assert len(items) == 5 and items[0]["household_count"] == 2 and items[0]["problem_count"] == 2
