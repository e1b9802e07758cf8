"""The scale generator: deterministic, valid, consistent people; counts as asked."""

import io
import random
import statistics

import pytest
from django.core.management import call_command
from django.db import transaction

from xiangzhi.core import demo, idcard
from xiangzhi.residents.synth import Generator, IdAllocator

TOWNSHIP = "341524111"  # 白塔畈镇: 12 villages, keeps the test small


def _generate(seed, n=1500):
    gen = Generator(rng=random.Random(seed), ids=IdAllocator())
    return [gen.household(area_code="341524111206001", number=f"{i:04d}", address="x") for i in range(n)]


def _flat(rows):
    return [(h.tags, m.name, m.id_number, m.phone, m.relation, m.tags) for h in rows for m in h.members]


def test_same_seed_same_people_other_seed_other_people():
    assert _flat(_generate(7, 200)) == _flat(_generate(7, 200))
    assert _flat(_generate(7, 200)) != _flat(_generate(8, 200))


def test_people_are_valid_and_consistent():
    rows = _generate(11)
    people = [m for h in rows for m in h.members]
    ids = [m.id_number for m in people]
    assert len(set(ids)) == len(ids)
    for h in rows:
        assert [m.relation for m in h.members].count("head") == 1
        assert h.members[0].relation == "head"
        for m in h.members:
            assert idcard.is_valid(m.id_number) and m.id_number.startswith("341524")
            assert int(m.id_number[14:17]) <= 899  # 900–999 are the demo's
            sex = idcard.sex(m.id_number)
            if m.relation in ("son",):
                assert sex == "male"
            if m.relation in ("daughter", "daughter_in_law"):
                assert sex == "female"
            if m.phone:
                assert m.phone.startswith(demo.FAKE_PHONE_PREFIX) and len(m.phone) == 11
            assert m.name not in demo.FAMOUS_NAMES and 2 <= len(m.name) <= 3
        head = h.members[0]
        head_born = idcard.birth_date(head.id_number)
        for m in h.members:
            born = idcard.birth_date(m.id_number)
            if m.relation in ("son", "daughter", "grandchild"):
                assert born > head_born
            if m.relation == "parent":
                assert born < head_born
            assert born <= demo.REFERENCE_DATE


def test_realistic_sizes_and_shares():
    rows = _generate(3, 3000)
    people = [m for h in rows for m in h.members]
    assert 3.2 <= statistics.mean(len(h.members) for h in rows) <= 3.8
    poor = sum(",formerly_poor," in h.tags for h in rows) / len(rows)
    subsistence = sum(",subsistence," in h.tags for h in rows) / len(rows)
    assert 0.06 < poor < 0.10 and 0.015 < subsistence < 0.045
    adults = [m for m in people if demo.REFERENCE_DATE.year - idcard.birth_date(m.id_number).year > 18]
    party = sum(",party_member," in m.tags for m in adults) / len(adults)
    assert 0.04 < party < 0.08
    growers = sum(",large_grower," in m.tags for m in people)
    assert 0 < growers < 0.01 * len(rows)


def test_id_allocator_never_repeats_within_one_day():
    ids = IdAllocator(seq_range=(900, 999))
    rng = random.Random(1)
    day = demo.REFERENCE_DATE.replace(year=1970)
    made = [ids.make(rng, day, "male") for _ in range(60)]  # 50 male codes a day, then the day before
    assert len(set(made)) == 60
    assert all(idcard.sex(n) == "male" and 900 <= int(n[14:17]) <= 999 for n in made)


def _snapshot():
    from xiangzhi.residents.models import Household
    from xiangzhi.residents.services import resident_plain

    return [
        (
            h.area_code,
            h.number,
            h.head_name,
            [(r.name, resident_plain(r)["id_number"]) for r in h.members.order_by("id")],
        )
        for h in Household.objects.order_by("area_code", "number")
    ]


@pytest.mark.django_db
def test_synth_command_fills_every_village_deterministically():
    from xiangzhi.org.models import Region
    from xiangzhi.residents.models import Household, Resident

    with transaction.atomic():
        out = io.StringIO()
        call_command("synth", households=60, seed=5, county=TOWNSHIP, stdout=out)
        first = _snapshot()
        villages = Region.objects.filter(parent_id=TOWNSHIP, level="village")
        assert villages.count() == 12
        for v in villages:
            assert 2 <= v.children.filter(level="grid").count() <= 4
            assert Household.objects.filter(village_code=v.code).exists()
        assert Household.objects.count() == 60
        assert Resident.objects.count() == sum(len(h[3]) for h in first)
        assert set(Household.objects.values_list("note", flat=True)) == {demo.SYNTH_NOTE}
        assert "已生成 60 户" in out.getvalue()
        transaction.set_rollback(True)
    call_command("synth", households=60, seed=5, county=TOWNSHIP, stdout=io.StringIO())
    assert _snapshot() == first
    # a second run adds to the county without clashing numbers or ID numbers
    call_command("synth", households=30, seed=6, county=TOWNSHIP, stdout=io.StringIO())
    assert Household.objects.count() == 90


@pytest.mark.django_db
def test_synth_rejects_bad_arguments():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("synth", households=0, seed=1, stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("synth", households=5, seed=1, county="999999", stdout=io.StringIO())
