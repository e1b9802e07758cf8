"""Test helpers shared by every app: the named cast and small builders.

The cast (DESIGN.md §6): township admin of 白塔畈镇, secretary of village A (刘冲村),
grid worker of grid A1, secretary of village B (大岗村), a villager of village A, an
auditor, a county supervisor. Every scope test speaks of these people.
"""

from __future__ import annotations

from dataclasses import dataclass

from xiangzhi.core import idcard

PASSWORD = "Test@2026xz"
TOWNSHIP = "341524111"  # 白塔畈镇
VILLAGE_A = "341524111206"  # 刘冲村
VILLAGE_B = "341524111203"  # 大岗村
COUNTY = "341524"


@dataclass
class Cast:
    township_admin: object
    secretary_a: object
    grid_worker_a1: object
    secretary_b: object
    villager: object
    auditor: object
    county: object
    nobody: object
    grid_a1: object
    grid_a2: object
    grid_b1: object
    household_a1: object
    household_a2: object
    household_b1: object
    villager_household: object


_seq = [100]


def next_id(birth=(1980, 1, 1), region="341524") -> str:
    from datetime import date

    _seq[0] += 1
    return idcard.make_id(region, date(*birth), _seq[0] % 1000)


def make_user(username, role=None, area_code=None, **extra):
    from xiangzhi.accounts.models import User
    from xiangzhi.org.models import Assignment

    user = User.objects.create_user(username=username, password=PASSWORD, area_code=area_code or "", **extra)
    if role:
        Assignment.objects.create(user=user, area_code=area_code, role=role)
    return user


def make_household(area_code, head_name="测试户主", members=(), **kw):
    from xiangzhi.residents import services

    h = services.household_create(actor=None, area_code=area_code, **kw)
    services.resident_create(actor=None, household=h, name=head_name, id_number=next_id(), relation="head")
    for name in members:
        services.resident_create(actor=None, household=h, name=name, id_number=next_id(), relation="son")
    h.refresh_from_db()
    return h


def build_cast() -> Cast:
    from xiangzhi.org import services as org_services
    from xiangzhi.residents.models import Resident

    org_services.regions_import_shipped(actor=None)
    grid_a1 = org_services.grid_create(actor=None, village_code=VILLAGE_A, name="第一网格")
    grid_a2 = org_services.grid_create(actor=None, village_code=VILLAGE_A, name="第二网格")
    grid_b1 = org_services.grid_create(actor=None, village_code=VILLAGE_B, name="第一网格")
    household_a1 = make_household(grid_a1.code, "刘长喜", ["刘小明"], number="A1-001", address="刘冲村一组")
    household_a2 = make_household(grid_a2.code, "王秀英", number="A2-001")
    household_b1 = make_household(grid_b1.code, "张大岗", number="B1-001")
    villager_household = make_household(grid_a1.code, "陈村民", number="A1-002")
    villager = make_user("villager", "villager", grid_a1.code)
    Resident.objects.filter(household=villager_household, relation="head").update(user=villager)
    return Cast(
        township_admin=make_user("township_admin", "township_admin", TOWNSHIP),
        secretary_a=make_user("secretary_a", "village_secretary", VILLAGE_A),
        grid_worker_a1=make_user("grid_a1", "grid_worker", grid_a1.code),
        secretary_b=make_user("secretary_b", "village_secretary", VILLAGE_B),
        villager=villager,
        auditor=make_user("auditor", "auditor", TOWNSHIP),
        county=make_user("county", "county_supervisor", COUNTY),
        nobody=make_user("nobody"),
        grid_a1=grid_a1,
        grid_a2=grid_a2,
        grid_b1=grid_b1,
        household_a1=household_a1,
        household_a2=household_a2,
        household_b1=household_b1,
        villager_household=villager_household,
    )
