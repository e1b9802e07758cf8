"""Cadre API: generic scope tests over every operation under /api/v1/cadres (claimed for the
API census in ``OPS``), then the roster columns, analytics and the 四个一 progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.test import Client

from xiangzhi.api import api
from xiangzhi.cadres import reference, services
from xiangzhi.cadres.models import Cadre, Post
from xiangzhi.cases.tests.apitools import PREFIX, bearer
from xiangzhi.core import periods
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B, make_user

pytestmark = pytest.mark.django_db

TODAY = periods.local_today()
NO_ROSTER = ("auditor", "nobody", "villager")


def _cadre(area, name, birth, *, user=None, education="bachelor", college=False, establishment="village", **post):
    c = services.cadre_create(actor=None, area_code=area, name=name, sex="male", birth_date=birth,
                              education=education, establishment=establishment, college_graduate=college,
                              user=user)  # fmt: skip
    if post:
        services.post_add(actor=None, cadre=c, **post)
    return c


@pytest.fixture
def roster(cast):
    """刘冲村: secretary 一肩挑 (linked to secretary_a) and a young college-graduate cadre
    (linked to grid_worker_a1, with 四个一 items and commitments); 大岗村: its secretary."""
    sec = _cadre(VILLAGE_A, "刘德山", date(1975, 5, 5), user=cast.secretary_a, title="村党总支书记、村委会主任",
                 start=date(2021, 1, 10), leadership=True, is_secretary=True, is_director=True)  # fmt: skip
    young = _cadre(VILLAGE_A, "陈秀珍", date(TODAY.year - 27, 1, 1), user=cast.grid_worker_a1, college=True,
                   title="村委会委员", start=date(2021, 1, 10))  # fmt: skip
    _cadre(VILLAGE_B, "余建平", date(1972, 2, 2), user=cast.secretary_b, education="secondary",
           title="村党支部书记", start=date(2018, 1, 1), leadership=True, is_secretary=True)  # fmt: skip
    return {"secretary": sec, "young": young}


@dataclass
class Op:
    method: str
    path: str
    actor: str = "secretary_a"
    sibling: int = 200
    denied: tuple[str, ...] = NO_ROSTER
    extra_ok: dict[str, int] = field(default_factory=dict)


OPS: dict[tuple[str, str], Op] = {
    (op.method, PREFIX + op.path.split("?")[0]): op
    for op in [
        Op("GET", "/cadres", extra_ok={"township_admin": 200, "county": 200, "grid_worker_a1": 200}),
        Op("GET", f"/cadres/analytics?area={VILLAGE_A}", sibling=404,
           extra_ok={"township_admin": 200, "county": 200, "grid_worker_a1": 404}),
        Op("GET", "/cadres/me/training", extra_ok={"grid_worker_a1": 200, "township_admin": 404}),
    ]
}  # fmt: skip
KEYS = sorted(OPS)


def test_every_cadres_operation_has_a_scope_case():
    schema = api.get_openapi_schema()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops if p.startswith("/api/v1/cadres")}
    assert operations == set(OPS)
    for path, ops in schema["paths"].items():
        if path.startswith("/api/v1/cadres"):
            for op in ops.values():
                assert {"400", "401", "403", "404", "422"} <= {str(c) for c in op["responses"]}, path


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_in_scope_actor_succeeds(cast, roster, key):
    op = OPS[key]
    for actor, status in {op.actor: 200, **op.extra_ok}.items():
        resp = bearer(getattr(cast, actor)).get(PREFIX + op.path)
        assert resp.status_code == status, (actor, resp.content.decode())


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_sibling_village_gets_404_or_sees_nothing_of_village_a(cast, roster, key):
    op = OPS[key]
    resp = bearer(cast.secretary_b).get(PREFIX + op.path)
    assert resp.status_code == op.sibling, resp.content.decode()
    if op.sibling == 200:
        assert VILLAGE_A not in resp.content.decode() and "刘德山" not in resp.content.decode()
    else:
        assert resp.json()["detail"]


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_role_without_permission_gets_403(cast, roster, key):
    for actor in OPS[key].denied:
        resp = bearer(getattr(cast, actor)).get(PREFIX + OPS[key].path)
        assert resp.status_code == 403, (actor, resp.content.decode())
        assert resp.json()["detail"] == "您的岗位没有此项权限"


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_anonymous_and_bad_token_get_401(cast, roster, key):
    for client in (Client(), Client(HTTP_AUTHORIZATION="Bearer not-a-token")):
        resp = client.get(PREFIX + OPS[key].path)
        assert resp.status_code == 401 and resp.json()["detail"] == "未登录或令牌无效"


# --- behaviour -------------------------------------------------------------------------------
def test_roster_lists_serving_cadres_with_roster_columns_only(cast, roster):
    old = _cadre(VILLAGE_A, "老主任", date(1958, 1, 1), education="junior", title="村委会主任",
                 start=date(2015, 1, 1), end=date(2021, 1, 10), is_director=True)  # fmt: skip
    body = bearer(cast.secretary_a).get(f"{PREFIX}/cadres").json()
    names = [c["name"] for c in body["items"]]
    assert names == ["刘德山", "陈秀珍"]  # the ended post is history, not today's roster
    row = body["items"][0]
    assert row["birth_month"] == "1975-05" and row["age"] == periods.local_today().year - 1975 - (
        (TODAY.month, TODAY.day) < (5, 5))
    assert row["posts"][0]["is_secretary"] and row["posts"][0]["is_director"] and row["area_name"] == "白塔畈镇 刘冲村"
    assert set(row) == {"id", "name", "sex", "sex_label", "birth_month", "age", "education", "education_label",
                        "college_graduate", "party_member", "establishment", "establishment_label", "level",
                        "area_code", "area_name", "posts"}  # fmt: skip
    then = bearer(cast.secretary_a).get(f"{PREFIX}/cadres?on=2020-06-30").json()["items"]
    assert [c["name"] for c in then] == [old.name]
    assert bearer(cast.secretary_a).get(f"{PREFIX}/cadres?leadership=true").json()["count"] == 1
    resp = bearer(cast.secretary_a).get(f"{PREFIX}/cadres?on=1800-01-01")
    assert resp.status_code == 400 and "2000 年至 2100 年" in resp.json()["errors"]["on"][0]


def test_analytics_reproduce_the_guoziyuan_figures_and_show_change(cast, roster):
    for p in reference.guoziyuan_roster():
        c = Cadre.objects.create(area_code=reference.TOWNSHIP, level="township", name=p["name"], sex=p["sex"],
                                 birth_date=p["birth_date"], education=p["education"],
                                 establishment=p["establishment"], college_graduate=p["college_graduate"])  # fmt: skip
        Post.objects.create(cadre=c, area_code=reference.TOWNSHIP, title=p["title"], leadership=p["leadership"],
                            start=p["start"])  # fmt: skip
    county = bearer(make_user("county2", "county_supervisor", "341524"))
    body = county.get(f"{PREFIX}/cadres/analytics?area={reference.TOWNSHIP}"
                      f"&date={reference.REFERENCE_DATE.isoformat()}").json()  # fmt: skip
    r = body["roster"]
    assert body["area_name"] == "果子园乡"
    assert (r["headcount"], r["by_establishment"]["civil_service"], r["by_establishment"]["public_institution"],
            r["by_establishment"]["sanzhi_yifu"]) == (67, 22, 27, 18)  # fmt: skip
    assert (r["under_35"], r["under_35_share"], r["leaders"], r["leaders_average_age"], r["leaders_under_35"]) == (
        42, 62.69, 12, 39.92, 5)
    # 刘冲村: the old director left in 2021, the new secretary is 一肩挑
    _cadre(VILLAGE_A, "老主任", date(1958, 1, 1), education="junior", title="村委会主任", start=date(2015, 1, 1),
           end=date(2021, 1, 10), is_director=True)  # fmt: skip
    body = bearer(cast.secretary_a).get(f"{PREFIX}/cadres/analytics?date=2022-06-30&compare=2020-06-30").json()
    assert body["area_code"] == VILLAGE_A and body["roster"]["villages_with_dual_role"] == 1
    change = body["change"]
    assert change["before"]["headcount"] == 1 and change["headcount"] == 1
    assert change["average_age"] < 0 and change["average_education_rank"] > 0
    assert change["villages_with_college_graduate"] == 1
    resp = bearer(cast.secretary_a).get(f"{PREFIX}/cadres/analytics?area={TOWNSHIP}")
    assert resp.status_code == 404  # the township is above a village secretary
    resp = bearer(cast.secretary_a).get(f"{PREFIX}/cadres/analytics?compare=1999-01-01")
    assert resp.status_code == 400 and "compare" in resp.json()["errors"]
    assert bearer(cast.secretary_a).get(f"{PREFIX}/cadres/analytics?area=12x").status_code == 422


def test_my_training_shows_progress_against_quota_and_overdue_commitments(cast, roster):
    young = roster["young"]
    year = TODAY.year - 1
    services.four_ones_add(actor=None, cadre=young, kind="symposium", done_on=date(year, 3, 5), title="青年干部座谈会")
    for month in (1, 2, 4):
        services.four_ones_add(actor=None, cadre=young, kind="article", done_on=date(year, month, 20),
                               title=f"{month}月学习心得")  # fmt: skip
    late = services.commitment_add(actor=None, cadre=young, promise="为刘冲一组协调修好水渠",
                                   deadline=TODAY - timedelta(days=5))  # fmt: skip
    services.commitment_add(actor=None, cadre=young, promise="年底前走访所有联系户", deadline=TODAY + timedelta(days=30))
    mentor = roster["secretary"]
    services.mentorship_add(actor=None, mentor=mentor, mentee=young, start=date(year, 1, 1), notes="老带新")
    body = bearer(cast.grid_worker_a1).get(f"{PREFIX}/cadres/me/training?year={year}").json()
    assert body["young"] is True and body["name"] == "陈秀珍"
    kinds = {k["kind"]: (k["done"], k["quota"]) for k in body["four_ones"]}
    assert kinds == {"symposium": (1, 1), "book": (0, 1), "speech": (0, 1), "article": (3, 12)}
    assert body["articles_missing_months"] == [3, 5, 6, 7, 8, 9, 10, 11, 12]
    assert body["four_ones_complete"] is False
    assert body["commitments"][0]["id"] == late.pk and body["commitments"][0]["overdue"] is True
    assert body["commitments"][1]["overdue"] is False
    assert body["mentorships"] == [{"role": "mentee", "other": "刘德山", "start": f"{year}-01-01", "end": None}]
    resp = bearer(cast.grid_worker_a1).get(f"{PREFIX}/cadres/me/training?year=1999")
    assert resp.status_code == 422
