"""Roster analytics against hand-computed fixtures, including the article's 果子园乡 figures."""

from datetime import date
from decimal import Decimal

import pytest

from xiangzhi.cadres import metrics, reference, services
from xiangzhi.cadres.models import Cadre, Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(db):
    from xiangzhi.org.services import regions_import_shipped

    regions_import_shipped(actor=None)


def _load_guoziyuan():
    for p in reference.guoziyuan_roster():
        c = Cadre.objects.create(area_code=reference.TOWNSHIP, level="township", name=p["name"], sex=p["sex"],
                                 birth_date=p["birth_date"], education=p["education"],
                                 establishment=p["establishment"], party_member=p["party_member"],
                                 college_graduate=p["college_graduate"])
        Post.objects.create(cadre=c, area_code=reference.TOWNSHIP, title=p["title"], leadership=p["leadership"],
                            start=p["start"])


def test_guoziyuan_roster_reproduces_the_article(regions):
    _load_guoziyuan()
    r = metrics.roster(reference.TOWNSHIP, reference.REFERENCE_DATE)
    assert r.headcount == 67
    assert (r.by_establishment["civil_service"], r.by_establishment["public_institution"],
            r.by_establishment["sanzhi_yifu"]) == (22, 27, 18)
    assert (r.under_35, r.under_35_share) == (42, Decimal("62.69"))
    assert (r.leaders, r.leaders_average_age, r.leaders_under_35) == (12, Decimal("39.92"), 5)


def test_ages_are_completed_years_on_the_date():
    assert metrics.age_on(date(1990, 7, 1), date(2023, 6, 30)) == 32
    assert metrics.age_on(date(1990, 6, 30), date(2023, 6, 30)) == 33


def test_history_posts_count_only_while_held(regions):
    village = "341524111206"
    young = services.cadre_create(actor=None, area_code=village, name="新书记", sex="male",
                                  birth_date=date(1992, 5, 1), education="bachelor", establishment="village",
                                  college_graduate=True)
    old = services.cadre_create(actor=None, area_code=village, name="老书记", sex="male",
                                birth_date=date(1960, 5, 1), education="secondary", establishment="village")
    old_sec = services.post_add(actor=None, cadre=old, title="村党支部书记", start=date(2015, 1, 1), leadership=True,
                                is_secretary=True)
    services.post_add(actor=None, cadre=old, title="村委会主任", start=date(2018, 1, 1), end=date(2021, 1, 10),
                      is_director=True)
    services.post_end(actor=None, post=old_sec, end=date(2021, 1, 10))
    services.post_add(actor=None, cadre=young, title="村党支部书记、村委会主任", start=date(2021, 1, 10),
                      leadership=True, is_secretary=True, is_director=True)
    before = metrics.roster(village, date(2020, 6, 30))
    after = metrics.roster(village, date(2022, 6, 30))
    # 2020: only 老书记 (60 on 2020-06-30): secretary and director at once → dual role
    assert (before.headcount, before.average_age, before.villages_with_dual_role) == (1, Decimal("60.00"), 1)
    assert before.villages_with_college_graduate == 0
    # 2022: only 新书记 (30), 一肩挑, college graduate
    assert (after.headcount, after.average_age, after.villages_with_college_graduate) == (1, Decimal("30.00"), 1)
    change = metrics.roster_change(village, date(2020, 6, 30), date(2022, 6, 30))
    assert change["average_age"] == Decimal("-30.00") and change["average_education_rank"] > 0


def test_bad_roster_input_gets_chinese_messages(regions):
    with pytest.raises(Exception) as exc:
        services.cadre_create(actor=None, area_code="341524111206", name="小孩", sex="male",
                              birth_date=date.today().replace(year=date.today().year - 12), education="junior",
                              establishment="village")
    assert "年龄仅 12 岁" in str(exc.value)
    services.cadre_create(actor=None, area_code="341524111206", name="张三", sex="male", birth_date=date(1980, 1, 1),
                          education="bachelor", establishment="village")
    with pytest.raises(Exception) as exc:
        services.cadre_create(actor=None, area_code="341524111206", name="张三", sex="male",
                              birth_date=date(1980, 1, 1), education="bachelor", establishment="village")
    assert "重复录入" in str(exc.value)
    assert Cadre.objects.count() == 1
