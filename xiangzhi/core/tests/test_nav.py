"""Navigation shows staff pages only to staff; a villager gets his own household."""

import pytest

pytestmark = pytest.mark.django_db


def test_villager_sees_no_staff_pages_but_his_household(cast, client_for):
    page = client_for(cast.villager).get("/workbench/").content.decode()
    assert "户籍导入" not in page and "矛盾纠纷/信访" not in page and "审计日志" not in page
    assert "我的家庭档案" in page and f"/residents/h/{cast.villager_household.pk}/" in page


def test_secretary_nav(cast, client_for):
    page = client_for(cast.secretary_a).get("/workbench/").content.decode()
    assert "一户一档" in page and "矛盾纠纷/信访" in page and "审计日志" not in page


def test_auditor_nav(cast, client_for):
    page = client_for(cast.auditor).get("/workbench/").content.decode()
    assert "审计日志" in page and "一户一档" not in page


def test_grid_worker_is_not_offered_the_cadre_roster(cast, client_for):
    """The 干部 roster is kept per village and township: a grid-only scope would see it empty."""
    page = client_for(cast.grid_worker_a1).get("/workbench/").content.decode()
    assert "一户一档" in page and "走访" in page and "干部队伍" not in page
    assert "干部队伍" in client_for(cast.secretary_a).get("/workbench/").content.decode()
