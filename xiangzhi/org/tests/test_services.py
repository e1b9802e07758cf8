"""Writes to the division tree: shipped import, grid creation and update."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B, make_user
from xiangzhi.org import services
from xiangzhi.org.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return services.regions_import_shipped(actor=None)


def test_shipped_import_is_idempotent_and_keeps_rare_characters(tree):
    assert tree["created"] == Region.objects.count()
    assert services.regions_import_shipped(actor=None)["created"] == 0
    assert Region.objects.filter(level="township", parent_id="341524").count() == 23
    assert Region.objects.filter(level="village", code__startswith="341524").count() == 232
    assert Region.objects.filter(parent_id=TOWNSHIP).count() == 12
    assert Region.objects.get(code="341524112").name == "流波䃥镇"
    assert Region.objects.get(code=VILLAGE_A).official_name == "刘冲村委会"
    assert Region.objects.get(code=VILLAGE_A).name == "刘冲村"


def test_grid_codes_are_village_plus_three_digits(tree):
    g1 = services.grid_create(actor=None, village_code=VILLAGE_A, name="第一网格")
    g2 = services.grid_create(actor=None, village_code=VILLAGE_A, name="第二网格")
    other = services.grid_create(actor=None, village_code=VILLAGE_B, name="第一网格")
    assert (g1.code, g2.code, other.code) == (VILLAGE_A + "001", VILLAGE_A + "002", VILLAGE_B + "001")
    assert g1.parent_id == VILLAGE_A and g1.level == "grid" and g1.full_code == g1.code
    assert AuditEvent.objects.filter(action="org.grid_create", object_id=g1.code).exists()


def test_grid_name_is_cleaned_and_validated(tree):
    grid = services.grid_create(actor=None, village_code=VILLAGE_A, name="  第一\u200b网格 ")
    assert grid.name == "第一网格"
    with pytest.raises(ValidationError) as exc:
        services.grid_create(actor=None, village_code=VILLAGE_A, name="第一网格")
    assert exc.value.message_dict == {"name": ["本村已有同名网格"]}
    with pytest.raises(ValidationError):
        services.grid_create(actor=None, village_code=TOWNSHIP, name="乡镇里不能直接设网格")
    with pytest.raises(ValidationError):
        services.grid_create(actor=None, village_code=VILLAGE_A, name="\u3000 ")


def test_grid_create_checks_the_actors_area(tree):
    secretary_b = make_user("secretary_b", "village_secretary", VILLAGE_B)
    with pytest.raises(PermissionDenied):
        services.grid_create(actor=secretary_b, village_code=VILLAGE_A, name="越界网格")
    assert not Region.objects.filter(name="越界网格").exists()
    grid = services.grid_create(actor=secretary_b, village_code=VILLAGE_B, name="本村网格")
    worker = make_user("worker", "grid_worker", grid.code)
    with pytest.raises(PermissionDenied):
        services.grid_update(actor=worker, grid=grid, name="网格员不能改")


def test_grid_update_records_changed_fields(tree):
    admin = make_user("admin", "township_admin", TOWNSHIP)
    grid = services.grid_create(actor=admin, village_code=VILLAGE_A, name="第一网格")
    services.grid_update(actor=admin, grid=grid, name="第一网格", note="", is_active=True)  # no change
    assert not AuditEvent.objects.filter(action="org.grid_update").exists()
    services.grid_update(actor=admin, grid=grid, name="东片", is_active=False)
    grid.refresh_from_db()
    assert (grid.name, grid.official_name, grid.is_active) == ("东片", "东片", False)
    event = AuditEvent.objects.get(action="org.grid_update")
    assert event.actor_name == "admin" and sorted(event.details["fields"]) == ["is_active", "name"]
    with pytest.raises(ValidationError):
        services.grid_update(actor=admin, grid=Region.objects.get(code=VILLAGE_A), name="不是网格")
