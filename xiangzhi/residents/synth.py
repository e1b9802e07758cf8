"""Synthetic households and residents: the demo data and the scale generator share this.

Deterministic: the same seed, the same regions and the same starting database give the
same names, ID numbers and households. Every person is fictional (see xiangzhi.core.demo).
Rows are written through ``xiangzhi.residents.bulk.create_households`` so they get exactly
the derived fields (encryption, blind indexes, pinyin keys) a real import gives them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from xiangzhi.core import crypto, demo, idcard
from xiangzhi.org.models import Level, Region

from .bulk import HouseholdRow, PersonRow, create_households
from .choices import Relation, tags_to_db
from .models import Household, Resident

ADULT = 18
ELDERLY = 65

# Shares (per household for household tags, per eligible person for resident tags).
P_FORMERLY_POOR = 0.08
P_SUBSISTENCE = 0.03
P_MONITORED = 0.01
P_MILITARY_FAMILY = 0.01
P_PARTY_MEMBER = 0.06  # of adults
P_LEGAL_LITERATE = 0.015  # of adults 25–65
P_VOLUNTEER = 0.04  # of adults 18–70
P_LARGE_GROWER = 0.004  # of heads 35–65
P_LEFT_BEHIND_ELDERLY = 0.35  # of people ≥ 65
P_LEFT_BEHIND_CHILD = 0.2  # of children < 16
P_DISABLED = 0.02
P_VETERAN = 0.015  # of men ≥ 25
P_PHONE = 0.85  # of people 16–75


# --- ID numbers ------------------------------------------------------------------------
class IdAllocator:
    """Hands out unique, check-digit-valid ID numbers with the county prefix.

    ``seq_range`` is the range of 3-digit sequence codes used (the demo and the scale
    generator use disjoint ranges, so their people never collide). Numbers already in the
    database are avoided through their blind index."""

    def __init__(self, *, region6: str = demo.COUNTY, seq_range: tuple[int, int] = (0, 899), existing_hashes=None):
        self.region6 = region6
        self.lo, self.hi = seq_range
        self.used: set[int] = set()
        self.existing = existing_hashes or set()

    @classmethod
    def from_db(cls, **kw) -> IdAllocator:
        hashes = set(Resident.objects.exclude(id_number_hash=None).values_list("id_number_hash", flat=True))
        return cls(existing_hashes=hashes, **kw)

    def make(self, rng: random.Random, birth: date, sex: str) -> str:
        parity = 1 if sex == "male" else 0
        span = (self.hi - self.lo + 1) // 2
        start = rng.randrange(span)
        day = birth
        for _ in range(50):  # a full day: try the next one
            for i in range(span):
                seq = self.lo + 2 * ((start + i) % span) + parity
                if seq > self.hi:
                    continue
                key = int(f"{day:%Y%m%d}{seq:03d}")
                if key in self.used:
                    continue
                number = idcard.make_id(self.region6, day, seq)
                if self.existing and crypto.blind_index(number, "id_number") in self.existing:
                    continue
                self.used.add(key)
                return number
            day = day - timedelta(days=1)
        raise RuntimeError("no free ID number")  # pragma: no cover - needs ~25M people per year


# --- people ------------------------------------------------------------------------------
def _weighted_surnames():
    names, weights = zip(*demo.SURNAMES, strict=True)
    return list(names), list(weights)


_SURNAMES, _SURNAME_WEIGHTS = _weighted_surnames()


def surname(rng: random.Random) -> str:
    return rng.choices(_SURNAMES, _SURNAME_WEIGHTS)[0]


def given_name(rng: random.Random, sex: str, birth_year: int, family: str = "") -> str:
    young = birth_year >= 1985
    if sex == "male":
        first, second = (
            (demo.GIVEN_MALE_YOUNG, demo.GIVEN_MALE_YOUNG_2) if young else (demo.GIVEN_MALE_OLD, demo.GIVEN_MALE_OLD_2)
        )
    else:
        first, second = (
            (demo.GIVEN_FEMALE_YOUNG, demo.GIVEN_FEMALE_YOUNG_2)
            if young
            else (demo.GIVEN_FEMALE_OLD, demo.GIVEN_FEMALE_OLD_2)
        )
    while True:
        given = rng.choice(first) + rng.choice(second)
        if family + given not in demo.FAMOUS_NAMES:
            return given


def _birth(rng: random.Random, age: int) -> date:
    """A birth date giving ``age`` on the reference date."""
    ref = demo.REFERENCE_DATE
    start = date(ref.year - age - 1, ref.month, ref.day) + timedelta(days=1)
    return start + timedelta(days=rng.randrange(365))


@dataclass
class _Person:
    name: str
    sex: str
    age: int
    relation: str
    birth: date


@dataclass
class Generator:
    """Builds fictional households. ``phone_counter`` walks the fictional phone block."""

    rng: random.Random
    ids: IdAllocator
    phone_counter: int = 0

    def _person(self, family: str, sex: str, age: int, relation: str) -> _Person:
        age = max(0, min(age, 99))
        birth = _birth(self.rng, age)
        return _Person(family + given_name(self.rng, sex, birth.year, family), sex, age, relation, birth)

    def household(
        self, *, area_code: str, number: str, address: str, note_head: str | None = None, head_age: int | None = None
    ) -> HouseholdRow:
        rng = self.rng
        head_sex = "male" if rng.random() < 0.86 else "female"
        age = head_age if head_age is not None else int(rng.triangular(24, 86, 55))
        family = surname(rng)
        if note_head:  # a fixed, named head (e.g. 刘长喜)
            head = _Person(note_head, "male", age, Relation.HEAD, _birth(rng, age))
            head_sex = "male"
        else:
            head = self._person(family, head_sex, age, Relation.HEAD)
        people = [head]
        father_family = family if head_sex == "male" else surname(rng)
        married = rng.random() < (0.85 if age < 70 else 0.6) and age >= 24
        if married:
            spouse_sex = "female" if head_sex == "male" else "male"
            spouse_age = age + int(rng.gauss(-2 if spouse_sex == "female" else 2, 3))
            spouse_family = surname(rng) if spouse_sex == "female" else father_family
            people.append(self._person(spouse_family, spouse_sex, max(20, spouse_age), Relation.SPOUSE))
        # children still registered in the household
        mother_age = age if head_sex == "female" else (people[1].age if married else age - 2)
        if age < 32:
            n_children = rng.choice((0, 1, 1, 2))
        elif age < 62:
            n_children = rng.choice((1, 1, 1, 1, 2, 2, 3))
        else:
            n_children = rng.choice((0, 0, 1, 1, 2))
        if not married and rng.random() < 0.5:
            n_children = min(n_children, 1)
        sons = []
        for _ in range(n_children):
            child_age = mother_age - rng.randint(21, 36)
            if child_age < 0:
                continue
            sex = "male" if rng.random() < 0.53 else "female"
            child = self._person(father_family, sex, child_age, Relation.SON if sex == "male" else Relation.DAUGHTER)
            people.append(child)
            if sex == "male":
                sons.append(child)
        # an adult son's wife and their children
        for son in sons[:1]:
            if son.age >= 24 and rng.random() < 0.45:
                wife = self._person(surname(rng), "female", son.age - rng.randint(0, 4), Relation.DAUGHTER_IN_LAW)
                people.append(wife)
                for _ in range(rng.choice((0, 1, 1, 2))):
                    grand_age = wife.age - rng.randint(22, 32)
                    if grand_age >= 0:
                        sex = "male" if rng.random() < 0.53 else "female"
                        people.append(self._person(father_family, sex, grand_age, Relation.GRANDCHILD))
        # elderly parents living with a younger head
        if 28 <= age <= 62:
            r = rng.random()
            n_parents = 2 if r < 0.07 else 1 if r < 0.25 else 0
            for i in range(n_parents):
                p_age = age + rng.randint(22, 32) + i
                if p_age > 96:
                    continue
                sex = "female" if (i == 0 and rng.random() < 0.65) or i == 1 else "male"
                family_p = father_family if sex == "male" else surname(rng)
                people.append(self._person(family_p, sex, p_age, Relation.PARENT))
        return self._row(people, area_code=area_code, number=number, address=address)

    def _row(self, people: list[_Person], *, area_code: str, number: str, address: str) -> HouseholdRow:
        rng = self.rng
        h_tags = []
        if rng.random() < P_FORMERLY_POOR:
            h_tags.append("formerly_poor")
        if rng.random() < P_SUBSISTENCE:
            h_tags.append("subsistence")
        if rng.random() < P_MONITORED:
            h_tags.append("monitored")
        if rng.random() < P_MILITARY_FAMILY:
            h_tags.append("military_family")
        members = []
        for p in people:
            tags = []
            if p.age >= ADULT and rng.random() < P_PARTY_MEMBER * (1.4 if p.sex == "male" else 0.6):
                tags.append("party_member")
            if 25 <= p.age <= 65 and rng.random() < P_LEGAL_LITERATE:
                tags.append("legal_literate")
            if ADULT <= p.age <= 70 and rng.random() < P_VOLUNTEER:
                tags.append("volunteer")
            if p.relation == Relation.HEAD and 35 <= p.age <= 65 and rng.random() < P_LARGE_GROWER:
                tags.append("large_grower")
            if p.age >= ELDERLY and rng.random() < P_LEFT_BEHIND_ELDERLY:
                tags.append("left_behind_elderly")
            if p.age < 16 and rng.random() < P_LEFT_BEHIND_CHILD:
                tags.append("left_behind_child")
            if rng.random() < P_DISABLED:
                tags.append("disabled")
            if p.sex == "male" and p.age >= 25 and rng.random() < P_VETERAN:
                tags.append("veteran")
            phone = None
            if 16 <= p.age <= 75 and rng.random() < P_PHONE:
                phone = demo.fake_phone(self.phone_counter)
                self.phone_counter += 1
            members.append(
                PersonRow(
                    name=p.name,
                    id_number=self.ids.make(rng, p.birth, p.sex),
                    phone=phone,
                    relation=p.relation,
                    tags=tags_to_db(tags),
                )
            )
        return HouseholdRow(
            area_code=area_code, number=number, address=address, tags=tags_to_db(h_tags), members=members
        )


# --- grids -------------------------------------------------------------------------------
def ensure_grids(village_codes, *, seed: int, lo: int = 2, hi: int = 4) -> dict[str, list[str]]:
    """Grids of each village (village code → grid codes). A village without grids gets
    ``lo``–``hi`` of them (第一网格, 第二网格 …), the count fixed by seed and village code."""
    from xiangzhi.org.services import grid_create

    existing: dict[str, list[str]] = {}
    for code, parent in Region.objects.filter(level=Level.GRID, parent_id__in=village_codes).values_list(
        "code", "parent_id"
    ):
        existing.setdefault(parent, []).append(code)
    result = {}
    for village in village_codes:
        grids = sorted(existing.get(village, []))
        if not grids:
            n = random.Random(f"{seed}:grids:{village}").randint(lo, hi)
            grids = [grid_create(actor=None, village_code=village, name=demo.GRID_NAMES[i]).code for i in range(n)]
        result[village] = grids
    return result


def _used_numbers(village_codes) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    rows = Household.objects.filter(village_code__in=village_codes).exclude(number="")
    for village, number in rows.values_list("village_code", "number"):
        used.setdefault(village, set()).add(number)
    return used


def number_sequence(used: set[str]) -> Iterator[str]:
    n = 0
    while True:
        n += 1
        number = f"{n:04d}"
        if number not in used:
            yield number


def last_household_pk() -> int:
    return Household.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def mark_generated(*, after_pk: int, note: str) -> int:
    """Label the households a generator just wrote (bulk rows carry no note)."""
    return Household.objects.filter(pk__gt=after_pk, note="").update(note=note)


# --- the scale generator ---------------------------------------------------------------
CHUNK = 4000


def synth(*, households: int, seed: int, county: str = demo.COUNTY, log: Callable[[str], None] | None = None) -> dict:
    """Fill every village of ``county`` with ``households`` fictional households (about 3.5
    people each), spread unevenly over the villages and their grids. Grids are created in
    villages that have none. Bulk inserts, committed in chunks."""
    log = log or (lambda s: None)
    t0 = time.perf_counter()
    villages = list(
        Region.objects.filter(level=Level.VILLAGE, code__startswith=county).order_by("code").values_list("code", "name")
    )
    if not villages:
        raise ValueError(f"区划 {county} 下没有村（社区），请先导入区划")
    with transaction.atomic():
        grids = ensure_grids([c for c, _ in villages], seed=seed)
    rng = random.Random(f"synth:{seed}:{county}")
    weights = [rng.uniform(0.4, 1.6) for _ in villages]
    total_w = sum(weights)
    counts = [int(households * w / total_w) for w in weights]
    for i in range(households - sum(counts)):
        counts[i % len(counts)] += 1
    used = _used_numbers([c for c, _ in villages])
    first_pk = last_household_pk()
    gen = Generator(rng=rng, ids=IdAllocator.from_db(seq_range=(0, 899)))
    done_h = done_r = 0
    pending: list[HouseholdRow] = []

    def flush():
        nonlocal done_h, done_r, pending
        if pending:
            h, r = create_households(pending)
            done_h += h
            done_r += r
            pending = []
            log(f"  {done_h}/{households} 户，{done_r} 人，{time.perf_counter() - t0:.0f} 秒")

    for (village, vname), count in zip(villages, counts, strict=True):
        village_grids = grids[village]
        numbers = number_sequence(used.get(village, set()))
        for i in range(count):
            grid = village_grids[i * len(village_grids) // max(count, 1)]
            group = 1 + i * 12 // max(count, 1)
            pending.append(gen.household(area_code=grid, number=next(numbers), address=f"{vname}{group}组{i + 1}号"))
            if len(pending) >= CHUNK:
                flush()
    flush()
    mark_generated(after_pk=first_pk, note=demo.SYNTH_NOTE)
    return {
        "households": done_h,
        "residents": done_r,
        "villages": len(villages),
        "grids": sum(len(g) for g in grids.values()),
        "seconds": round(time.perf_counter() - t0, 1),
    }
