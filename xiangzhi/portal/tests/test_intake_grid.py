"""A villager who names his grid sends the case to the grid worker first."""

import pytest

from xiangzhi.cases.models import Case
from xiangzhi.notifications.models import Message

pytestmark = pytest.mark.django_db


def _post(client, village, **extra):
    page = client.get(f"/p/{village}/")
    token = page.context["form"]["token"].value()
    data = {"kind": "dispute", "title": "排水沟堵塞", "description": "雨天进水，邻里有矛盾", "contact_name": "陈村民",
            "contact_phone": "13912345678", "token": token, **extra}
    return client.post(f"/p/{village}/", data)


def test_intake_with_grid_lands_at_grid_level_and_notifies_grid_worker(cast, client):
    assert "第一网格" in client.get("/p/341524111206/").content.decode()
    resp = _post(client, "341524111206", grid=cast.grid_a1.code)
    assert resp.status_code == 200
    case = Case.objects.get()
    assert (case.area_code, case.level) == (cast.grid_a1.code, "grid")
    assert case.first_responsible == cast.secretary_a
    assert Message.objects.filter(user=cast.grid_worker_a1, title="新事项待受理").exists()


def test_intake_without_grid_stays_at_village(cast, client):
    _post(client, "341524111206")
    assert Case.objects.get().level == "village"


def test_grid_of_another_village_is_refused(cast, client):
    resp = _post(client, "341524111206", grid=cast.grid_b1.code)
    assert resp.status_code == 400 and not Case.objects.exists()
    assert "请从列表中选择网格" in resp.content.decode()
