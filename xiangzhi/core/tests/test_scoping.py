"""restrict(user, action): who sees which rows, for every member of the named cast."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from xiangzhi import audit
from xiangzhi.accounts.models import User
from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.scoping import can_in_area, has_perm, minimal_prefixes, scopes_for
from xiangzhi.core.testing import COUNTY, TOWNSHIP, VILLAGE_A, VILLAGE_B, make_user
from xiangzhi.org.models import Assignment, Region
from xiangzhi.residents.models import Household, Resident

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request sees it (no cached assignments)."""
    return User.objects.get(pk=user.pk)


def households(user, action="view") -> set:
    return set(Household.objects.restrict(fresh(user), action).values_list("pk", flat=True))


def residents(user, action="view") -> set:
    return set(Resident.objects.restrict(fresh(user), action).values_list("household_id", flat=True))


def regions(user) -> set:
    return set(Region.objects.restrict(fresh(user), "view").values_list("code", flat=True))


@pytest.fixture
def hh(cast):
    return {
        "a1": cast.household_a1.pk,
        "a2": cast.household_a2.pk,
        "b1": cast.household_b1.pk,
        "own": cast.villager_household.pk,
    }


HOUSEHOLD_SCOPE = {
    "township_admin": {"a1", "a2", "b1", "own"},
    "county": {"a1", "a2", "b1", "own"},
    "secretary_a": {"a1", "a2", "own"},
    "grid_worker_a1": {"a1", "own"},
    "secretary_b": {"b1"},
    "villager": {"own"},
    "auditor": set(),
    "nobody": set(),
}


@pytest.mark.parametrize(("member", "expected"), sorted(HOUSEHOLD_SCOPE.items()))
def test_household_and_resident_view_scope(cast, hh, member, expected):
    user = getattr(cast, member)
    want = {hh[k] for k in expected}
    assert households(user) == want
    assert residents(user) == want  # residents follow their household's area


WRITE_SCOPE = {
    "township_admin": {"a1", "a2", "b1", "own"},
    "county": set(),  # reads and compares; never writes
    "secretary_a": {"a1", "a2", "own"},
    "grid_worker_a1": {"a1", "own"},
    "secretary_b": {"b1"},
    "villager": set(),
    "auditor": set(),
    "nobody": set(),
}


@pytest.mark.parametrize(("member", "expected"), sorted(WRITE_SCOPE.items()))
def test_household_change_scope(cast, hh, member, expected):
    assert households(getattr(cast, member), "change") == {hh[k] for k in expected}


def test_region_scope(cast):
    township = set(Region.objects.filter(code__startswith=TOWNSHIP).values_list("code", flat=True))
    county = set(Region.objects.filter(code__startswith=COUNTY).values_list("code", flat=True))
    assert regions(cast.township_admin) == township
    assert regions(cast.county) == county and "3415" not in county and "34" not in county
    assert regions(cast.secretary_a) == {VILLAGE_A, cast.grid_a1.code, cast.grid_a2.code}
    assert regions(cast.secretary_b) == {VILLAGE_B, cast.grid_b1.code}
    assert regions(cast.grid_worker_a1) == {cast.grid_a1.code}
    for member in (cast.villager, cast.auditor, cast.nobody):
        assert regions(member) == set()


def test_audit_event_scope(cast):
    inside = audit.record(None, "test.in", area_code=VILLAGE_A).pk
    township_level = audit.record(None, "test.township", area_code=TOWNSHIP).pk
    outside = audit.record(None, "test.out", area_code="341524112201").pk
    no_area = audit.record(None, "test.none").pk
    seen = set(AuditEvent.objects.restrict(fresh(cast.auditor), "view").values_list("pk", flat=True))
    assert {inside, township_level} <= seen
    assert outside not in seen and no_area not in seen
    for member in ("township_admin", "county", "secretary_a", "grid_worker_a1", "villager", "nobody"):
        assert not AuditEvent.objects.restrict(fresh(getattr(cast, member)), "view").exists(), member


def test_several_assignments_or_together(cast, hh):
    user = make_user("two_posts", "grid_worker", cast.grid_a1.code)
    Assignment.objects.create(user=user, area_code=VILLAGE_B, role="village_cadre")
    assert households(user) == {hh["a1"], hh["own"], hh["b1"]}
    assert regions(user) == {cast.grid_a1.code, VILLAGE_B, cast.grid_b1.code}


def test_permissions_do_not_leak_between_assignments(cast, hh):
    """An auditor post over the township gives audit rows there, not households."""
    user = make_user("mixed", "grid_worker", cast.grid_a1.code)
    Assignment.objects.create(user=user, area_code=TOWNSHIP, role="auditor")
    assert households(user) == {hh["a1"], hh["own"]}
    assert has_perm(fresh(user), "audit.view_auditevent")
    assert not can_in_area(fresh(user), "residents.change_household", cast.grid_b1.code)
    assert can_in_area(fresh(user), "residents.change_household", cast.grid_a1.code)


def test_villager_sees_only_own_household(cast, hh):
    from xiangzhi.core.testing import make_household

    neighbour = make_household(cast.grid_a1.code, "邻居", number="A1-009")
    assert households(cast.villager) == {hh["own"]}
    assert neighbour.pk not in households(cast.villager)
    # unlinked from the household → nothing
    Resident.objects.filter(user=cast.villager).update(user=None)
    assert households(cast.villager) == set()
    assert residents(cast.villager) == set()


def test_villager_own_scope_gives_no_area_rights(cast):
    areas, own = scopes_for(fresh(cast.villager), "residents.view_household")
    assert areas == [] and own is True
    assert not can_in_area(fresh(cast.villager), "residents.view_household", cast.grid_a1.code)


def test_disabled_user_sees_nothing(cast):
    for member in ("township_admin", "secretary_a", "villager", "auditor", "county"):
        user = getattr(cast, member)
        User.objects.filter(pk=user.pk).update(is_active=False)
        u = fresh(user)
        assert not Household.objects.restrict(u, "view").exists(), member
        assert not Resident.objects.restrict(u, "view").exists(), member
        assert not Region.objects.restrict(u, "view").exists(), member
        assert not AuditEvent.objects.restrict(u, "view").exists(), member
        assert not has_perm(u, "residents.view_household")


def test_anonymous_sees_nothing(cast):
    anon = AnonymousUser()
    assert not Household.objects.restrict(anon, "view").exists()
    assert not Region.objects.restrict(anon, "view").exists()
    assert not has_perm(anon, "org.view_region")
    assert not Household.objects.restrict(None, "view").exists()


def test_removed_assignment_is_gone_for_the_next_request(cast, hh):
    assert households(cast.secretary_a) == {hh["a1"], hh["a2"], hh["own"]}
    Assignment.objects.filter(user=cast.secretary_a).delete()
    assert households(cast.secretary_a) == set()


def test_unknown_role_grants_nothing(cast):
    user = make_user("ghost_role")
    Assignment.objects.create(user=user, area_code=TOWNSHIP, role="retired_role")
    assert households(user) == set() and regions(user) == set()


def test_admin_of_another_township_sees_none_of_ours(cast, hh):
    other = make_user("other_township", "township_admin", "341524112")  # 流波䃥镇
    seen = regions(other)
    assert "341524112" in seen and all(code.startswith("341524112") for code in seen)
    assert households(other) == set()


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], []),
        (["341524"], ["341524"]),
        (["341524111206", "341524111", "341524"], ["341524"]),
        (["341524111206", "341524111203"], ["341524111203", "341524111206"]),
        (["341524111206", "341524111206001", "341524111206"], ["341524111206"]),
        (["341524111", "341524112", "341524111206"], ["341524111", "341524112"]),
        (["3415241", "341524111"], ["3415241"]),
    ],
)
def test_minimal_prefixes(codes, expected):
    assert minimal_prefixes(codes) == expected


@pytest.mark.parametrize("who", ["township_admin", "secretary_a", "grid_worker_a1", "secretary_b", "county", "nobody"])
def test_restrict_sql_selects_what_restrict_selects(cast, who):
    """The hand-written hot-path queries use restrict()'s own predicate (restrict_sql)."""
    from django.db import connection

    from xiangzhi.core import scoping

    user = fresh(getattr(cast, who))
    scoping.mark_request_user(user)  # as in a request: compiled once, memoised by stamp
    for _ in range(2):
        sql, params = scoping.restrict_sql(user, Resident, "view")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM residents_resident WHERE {sql}", params)  # noqa: S608
            raw = {row[0] for row in cursor.fetchall()}
        assert raw == set(Resident.objects.restrict(user, "view").values_list("pk", flat=True))


def test_restrict_sql_declines_own_row_scopes(cast):
    from xiangzhi.core import scoping

    assert scoping.restrict_sql(fresh(cast.villager), Resident, "view") is None
