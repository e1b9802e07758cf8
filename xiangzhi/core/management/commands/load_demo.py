"""manage.py load_demo: the demo township, idempotent (``make run`` calls it on every start).

Loads the shipped 金寨县 division tree, grids in every village of 白塔畈镇, 古碑镇 and 果子园乡,
a few thousand fictional households there, and the demo accounts (password Demo@2026xz).
A second run finds everything in place and changes nothing.
"""

from __future__ import annotations

import random
import time

from django.core.management.base import BaseCommand
from django.db import transaction

from xiangzhi import audit
from xiangzhi.core import demo

HOUSEHOLDS_PER_VILLAGE = (45, 75)
VILLAGER_HOUSEHOLD_NUMBER = "0002"  # liuchong_villager is the head of this 刘冲村 grid-1 household


def load_households(villages, grids, *, seed: int) -> tuple[int, int]:
    """Households for every demo village that has none yet. Each village has its own
    random stream, so a village's households do not depend on the others."""
    from xiangzhi.residents.bulk import create_households
    from xiangzhi.residents.models import Household
    from xiangzhi.residents.synth import (
        Generator,
        IdAllocator,
        _used_numbers,
        last_household_pk,
        mark_generated,
        number_sequence,
    )

    done = set(
        Household.objects.filter(village_code__in=[c for c, _ in villages], note=demo.DEMO_NOTE)
        .values_list("village_code", flat=True)
        .distinct()
    )
    todo = [(i, code, name) for i, (code, name) in enumerate(villages) if code not in done]
    if not todo:
        return 0, 0
    ids = IdAllocator.from_db(seq_range=(900, 999))  # the scale generator uses 000–899
    used = _used_numbers([code for _, code, _ in todo])
    rows = []
    for index, village, vname in todo:
        rng = random.Random(f"demo:{seed}:{village}")
        gen = Generator(rng=rng, ids=ids, phone_counter=900_000 + index * 1000)
        village_grids = grids[village]
        numbers = number_sequence(used.get(village, set()))
        count = rng.randint(*HOUSEHOLDS_PER_VILLAGE)
        for i in range(count):
            grid = village_grids[i * len(village_grids) // count]
            group = 1 + i * 8 // count
            featured = village == demo.LIUCHONG and i == 0
            rows.append(
                gen.household(
                    area_code=grid,
                    number=next(numbers),
                    address=f"{vname}{group}组{i + 1}号",
                    note_head=demo.FEATURED_HEAD if featured else None,
                    head_age=58 if featured else None,
                )
            )
    first_pk = last_household_pk()
    n_h, n_r = create_households(rows)
    mark_generated(after_pk=first_pk, note=demo.DEMO_NOTE)
    return n_h, n_r


def load_users() -> list[tuple[str, str, str, str, bool]]:
    """Demo accounts; existing ones are left as they are (their password too)."""
    from xiangzhi.accounts.models import User
    from xiangzhi.accounts.services import assignment_add, user_create
    from xiangzhi.residents.models import Resident

    villager_resident = (
        Resident.objects.filter(
            household__village_code=demo.LIUCHONG,
            household__area_code=demo.LIUCHONG_GRID1,
            household__note=demo.DEMO_NOTE,
            household__number=VILLAGER_HOUSEHOLD_NUMBER,
            relation="head",
        )
        .order_by("id")
        .first()
    )
    result = []
    for username, full_name, role, area in demo.DEMO_USERS:
        if full_name is None:
            full_name = villager_resident.name if villager_resident else "刘冲村民"
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            user = user_create(
                actor=None, username=username, password=demo.DEMO_PASSWORD, full_name=full_name, area_code=area
            )
        assignment_add(actor=None, user=user, area_code=area, role=role)
        if role == "villager" and villager_resident and villager_resident.user_id is None:
            if not Resident.objects.filter(user=user).exists():
                Resident.objects.filter(pk=villager_resident.pk).update(user=user)
                audit.record(None, "residents.resident_link_user", villager_resident, user_id=user.pk)
        result.append((username, full_name, role, area, created))
    return result


class Command(BaseCommand):
    help = "加载演示数据（金寨县区划、白塔畈镇/古碑镇/果子园乡的网格与虚构户籍、演示账号）；可重复执行"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=demo.DEMO_SEED, help="随机种子（默认 2026）")

    def handle(self, *args, seed, **options):
        from xiangzhi.org.models import Level, Region
        from xiangzhi.org.roles import ROLES
        from xiangzhi.org.services import regions_import_shipped
        from xiangzhi.residents.models import Household, Resident
        from xiangzhi.residents.synth import ensure_grids

        t0 = time.perf_counter()
        regions = regions_import_shipped(actor=None)
        villages = list(
            Region.objects.filter(level=Level.VILLAGE, parent_id__in=demo.DEMO_TOWNSHIPS)
            .order_by("code")
            .values_list("code", "name")
        )
        with transaction.atomic():
            grids_before = Region.objects.filter(level=Level.GRID, parent_id__in=[c for c, _ in villages]).count()
            grids = ensure_grids([c for c, _ in villages], seed=seed)
            n_grids = sum(len(g) for g in grids.values())
            n_h, n_r = load_households(villages, grids, seed=seed)
            users = load_users()
            if n_h or n_grids != grids_before or any(created for *_, created in users):
                audit.record(
                    None,
                    "core.demo_load",
                    ("core.demo", seed),
                    households=n_h,
                    residents=n_r,
                    grids=n_grids - grids_before,
                    users=[u for u, *_, created in users if created],
                )

        prefixes = demo.DEMO_TOWNSHIPS
        total_h = sum(Household.objects.filter(village_code__startswith=p).count() for p in prefixes)
        total_r = sum(Resident.objects.filter(area_code__startswith=p).count() for p in prefixes)
        out = self.stdout.write
        out(
            f"区划：{regions['total']} 条（新增 {regions['created']}）；演示村 {len(villages)} 个，"
            f"网格 {n_grids} 个（新增 {n_grids - grids_before}）"
        )
        out(f"户籍：本次新增 {n_h} 户 {n_r} 人；演示乡镇现有 {total_h} 户 {total_r} 人")
        out(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
        for username, full_name, role, area, created in users:
            region = Region.objects.select_related("parent").filter(code=area).first()
            area_name = (
                (region.parent.name + region.name if region.level == Level.GRID else region.name) if region else area
            )
            out(f"  {username:<20} {full_name:<6} {ROLES[role].label}（{area_name}）{'  新建' if created else ''}")
        from xiangzhi.cases.demo import load_cases_demo  # the demo cases of 白塔畈镇 (cases engineer)

        load_cases_demo(stdout=self.stdout)
        from xiangzhi.cadres.demo import load_cadres_demo  # rosters, field work, recognitions (cadres engineer)

        load_cadres_demo(stdout=self.stdout)
        from xiangzhi.points.demo import load_points_demo  # rulebook, awards, shops, 红黑榜 (points engineer)

        load_points_demo(stdout=self.stdout)
        out(self.style.SUCCESS(f"演示数据就绪，用时 {time.perf_counter() - t0:.1f} 秒"))
