"""manage.py load_demo: idempotent, the promised places, people and accounts, the right scopes.

The demo is loaded once for the module inside a transaction that is rolled back at the end,
so the rest of the suite never sees it."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from xiangzhi.core import demo, idcard


def _counts():
    from xiangzhi.accounts.models import User
    from xiangzhi.audit.models import AuditEvent
    from xiangzhi.org.models import Assignment, Region
    from xiangzhi.residents.models import Household, Resident, SearchKey

    return {
        "regions": Region.objects.count(),
        "households": Household.objects.count(),
        "residents": Resident.objects.count(),
        "search_keys": SearchKey.objects.count(),
        "users": User.objects.count(),
        "assignments": Assignment.objects.count(),
        "audit": AuditEvent.objects.count(),
        "linked": Resident.objects.exclude(user=None).count(),
    }


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out1 = io.StringIO()
            call_command("load_demo", stdout=out1)
            first = _counts()
            out2 = io.StringIO()
            call_command("load_demo", stdout=out2)
            second = _counts()
            yield {"first": first, "second": second, "out1": out1.getvalue(), "out2": out2.getvalue()}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo_db(loaded, db):
    return loaded


def _user(username):
    from xiangzhi.accounts.models import User

    return User.objects.get(username=username)


def test_second_run_changes_nothing(demo_db):
    assert demo_db["first"] == demo_db["second"]
    assert "本次新增 0 户 0 人" in demo_db["out2"]
    assert demo_db["first"]["households"] >= 1500
    assert demo_db["first"]["residents"] >= 5000


def test_places_and_grids(demo_db):
    from xiangzhi.org.models import Region

    assert Region.objects.filter(parent_id=demo.BAITAFAN, level="village").count() == 12
    assert Region.objects.filter(code__startswith=demo.COUNTY, level="township").count() == 23
    for township in demo.DEMO_TOWNSHIPS:
        for village in Region.objects.filter(parent_id=township, level="village"):
            assert 2 <= village.children.filter(level="grid").count() <= 4, village.name
    assert Region.objects.get(code=demo.LIUCHONG_GRID1).name == "第一网格"
    # villages outside the three demo townships get no grids
    assert not Region.objects.filter(level="grid").exclude(parent__parent_id__in=demo.DEMO_TOWNSHIPS).exists()


def test_people_are_fictional_and_consistent(demo_db):
    from xiangzhi.residents.models import Household, Resident
    from xiangzhi.residents.services import resident_plain

    for h in Household.objects.all()[:300]:
        members = list(Resident.objects.filter(household=h))
        assert [m.relation for m in members].count("head") == 1
        assert h.head.relation == "head" and h.head_name == h.head.name
        assert h.member_count == len(members)
        assert h.note == demo.DEMO_NOTE
        for m in members:
            plain = resident_plain(m)
            number = plain["id_number"]
            assert idcard.is_valid(number) and number.startswith("341524")
            assert m.sex == idcard.sex(number)
            if m.relation == "son":
                assert m.sex == "male"
            if m.relation in ("daughter", "daughter_in_law"):
                assert m.sex == "female"
            if plain["phone"]:
                assert plain["phone"].startswith(demo.FAKE_PHONE_PREFIX)
            assert m.name not in demo.FAMOUS_NAMES


def test_tag_shares_are_realistic(demo_db):
    from xiangzhi.residents.models import Household, Resident

    n_h = Household.objects.count()
    poor = Household.objects.filter(tags__contains=",formerly_poor,").count() / n_h
    assert 0.04 < poor < 0.13
    adults = Resident.objects.filter(birth_year__lte=demo.REFERENCE_DATE.year - 18)
    party = adults.filter(tags__contains=",party_member,").count() / adults.count()
    assert 0.03 < party < 0.10
    assert Resident.objects.filter(tags__contains=",left_behind_elderly,").exists()
    assert Resident.objects.filter(tags__contains=",large_grower,").count() < 0.01 * n_h + 5


def test_featured_head_found_by_initials(demo_db):
    from xiangzhi.residents.selectors import household_list

    grid_worker = _user("liuchong_grid1")
    found = list(household_list(user=grid_worker, q="lcx"))
    assert demo.FEATURED_HEAD in [h.head_name for h in found]
    first = found[0]
    assert first.head_name == demo.FEATURED_HEAD and first.area_code == demo.LIUCHONG_GRID1


@pytest.mark.parametrize("username", [u for u, *_ in demo.DEMO_USERS])
def test_demo_accounts_log_in(demo_db, client, username):
    response = client.post(reverse("accounts:login"), {"username": username, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(_user(username).pk)


def test_accounts_have_names_and_roles(demo_db):
    for username, full_name, role, area in demo.DEMO_USERS:
        user = _user(username)
        assert user.full_name and (full_name is None or user.full_name == full_name)
        assert list(user.assignments.values_list("role", "area_code")) == [(role, area)]


def test_grid_worker_sees_only_grid_one(demo_db):
    from xiangzhi.residents.models import Household
    from xiangzhi.residents.selectors import household_list

    seen = household_list(user=_user("liuchong_grid1"))
    assert set(seen.values_list("area_code", flat=True)) == {demo.LIUCHONG_GRID1}
    assert seen.count() == Household.objects.filter(area_code=demo.LIUCHONG_GRID1).count()
    assert Household.objects.filter(village_code=demo.LIUCHONG).count() > seen.count()


def test_secretaries_see_their_village_only(demo_db):
    from xiangzhi.residents.selectors import household_list

    dagang = household_list(user=_user("dagang_secretary"))
    assert dagang.exists()
    assert set(dagang.values_list("village_code", flat=True)) == {demo.DAGANG}
    assert not household_list(user=_user("dagang_secretary"), q="lcx").filter(village_code=demo.LIUCHONG).exists()
    liuchong = household_list(user=_user("liuchong_secretary"))
    assert set(liuchong.values_list("village_code", flat=True)) == {demo.LIUCHONG}


def test_township_and_county_scopes(demo_db):
    from xiangzhi.residents.models import Household
    from xiangzhi.residents.selectors import household_list

    township = household_list(user=_user("baitafan_admin"))
    assert township.count() == Household.objects.filter(village_code__startswith=demo.BAITAFAN).count()
    assert household_list(user=_user("jinzhai_admin")).count() == Household.objects.count()
    assert not household_list(user=_user("baitafan_auditor")).exists()


def test_villager_sees_own_household(demo_db):
    from xiangzhi.residents.selectors import household_list

    villager = _user("liuchong_villager")
    own = list(household_list(user=villager))
    assert len(own) == 1
    assert own[0].area_code == demo.LIUCHONG_GRID1
    assert villager.resident.household_id == own[0].pk
    assert villager.full_name == villager.resident.name
