"""Roster analytics for any area and date (docs/kpis.md): who served on date ``d`` is every
cadre with a post in the area where ``start <= d`` and (``end`` is empty or ``end > d``).
Age is completed years on ``d``. Rates are percentages rounded half-up to 2 decimals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from .choices import COLLEGE, EDUCATION_RANK, YOUNG_AGE, Education, Establishment
from .models import Cadre, Post


def _pct(n: int, d: int) -> Decimal | None:
    return (Decimal(n) * 100 / Decimal(d)).quantize(Decimal("0.01"), ROUND_HALF_UP) if d else None


def _avg(values) -> Decimal | None:
    values = list(values)
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.01"), ROUND_HALF_UP) if values else None


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def active_posts(area_code: str, on: date):
    return Post.objects.filter(area_code__startswith=area_code, start__lte=on).filter(Q(end__isnull=True) | Q(end__gt=on))


@dataclass
class Roster:
    on: date
    headcount: int
    by_establishment: dict[str, int]
    average_age: Decimal | None
    under_35: int
    under_35_share: Decimal | None
    leaders: int
    leaders_average_age: Decimal | None
    leaders_under_35: int
    by_education: dict[str, int]
    college_share: Decimal | None
    average_education_rank: Decimal | None
    villages: int
    villages_with_college_graduate: int
    villages_with_dual_role: int
    village_cadres: int
    village_cadres_average_age: Decimal | None
    details: dict = field(default_factory=dict)

    def as_dict(self):
        return dict(self.__dict__)


def roster(area_code: str, on: date) -> Roster:
    """Two queries whatever the size: the posts in force on ``on``, then their cadres."""
    posts = list(active_posts(area_code, on).values("cadre_id", "area_code", "leadership", "is_secretary",
                                                    "is_director"))
    ids = {p["cadre_id"] for p in posts}
    cadres = {
        c["id"]: c
        for c in Cadre.objects.filter(id__in=ids).values("id", "birth_date", "establishment", "education",
                                                          "college_graduate", "level")
    }
    ages = {cid: age_on(c["birth_date"], on) for cid, c in cadres.items()}
    leader_ids = {p["cadre_id"] for p in posts if p["leadership"]}
    by_est = {e: 0 for e in Establishment.values}
    by_edu = {e: 0 for e in Education.values}
    for c in cadres.values():
        by_est[c["establishment"]] += 1
        by_edu[c["education"]] += 1
    # villages: 12-digit units inside the area with at least one post in force
    village_posts: dict[str, list] = {}
    for p in posts:
        if len(p["area_code"]) == 12:
            village_posts.setdefault(p["area_code"], []).append(p)
    with_grad = sum(
        1 for plist in village_posts.values() if any(cadres[p["cadre_id"]]["college_graduate"] for p in plist)
    )
    dual = 0
    for plist in village_posts.values():
        secretaries = {p["cadre_id"] for p in plist if p["is_secretary"]}
        directors = {p["cadre_id"] for p in plist if p["is_director"]}
        if secretaries & directors:
            dual += 1
    village_ids = {p["cadre_id"] for p in posts if len(p["area_code"]) == 12}
    under = [cid for cid, a in ages.items() if a < YOUNG_AGE]
    return Roster(
        on=on,
        headcount=len(cadres),
        by_establishment=by_est,
        average_age=_avg(ages.values()),
        under_35=len(under),
        under_35_share=_pct(len(under), len(cadres)),
        leaders=len(leader_ids),
        leaders_average_age=_avg(ages[c] for c in leader_ids if c in ages),
        leaders_under_35=sum(1 for c in leader_ids if ages.get(c, 99) < YOUNG_AGE),
        by_education=by_edu,
        college_share=_pct(sum(1 for c in cadres.values() if c["education"] in COLLEGE), len(cadres)),
        average_education_rank=_avg(EDUCATION_RANK[c["education"]] for c in cadres.values()),
        villages=len(village_posts),
        villages_with_college_graduate=with_grad,
        villages_with_dual_role=dual,
        village_cadres=len(village_ids),
        village_cadres_average_age=_avg(ages[c] for c in village_ids),
    )


def roster_change(area_code: str, before: date, after: date) -> dict:
    """"年龄变小、学历变高、人数变少…" as deltas between two dates (after − before)."""
    a, b = roster(area_code, before), roster(area_code, after)

    def delta(x, y):
        return None if x is None or y is None else y - x

    return {
        "before": a,
        "after": b,
        "headcount": b.headcount - a.headcount,
        "average_age": delta(a.average_age, b.average_age),
        "village_cadres_average_age": delta(a.village_cadres_average_age, b.village_cadres_average_age),
        "college_share": delta(a.college_share, b.college_share),
        "average_education_rank": delta(a.average_education_rank, b.average_education_rank),
        "villages_with_dual_role": b.villages_with_dual_role - a.villages_with_dual_role,
        "villages_with_college_graduate": b.villages_with_college_graduate - a.villages_with_college_graduate,
    }


def recognitions(area_code: str, period) -> dict:
    """通报批评 / 表扬 / 荣誉 issued in ``period`` in the area ("2022年通报批评镇村干部22人次，
    表扬相关部门单位4个"): criticisms count person-times (one row = one cadre criticised)."""
    from django.db.models import Count

    from .models import Recognition

    agg = Recognition.objects.filter(
        area_code__startswith=area_code, issued_on__gte=period.start, issued_on__lt=period.end
    ).aggregate(
        criticisms=Count("id", filter=Q(kind="criticism")),
        commendations=Count("id", filter=Q(kind="commendation")),
        cadre_commendations=Count("id", filter=Q(kind="commendation", target="cadre")),
        unit_commendations=Count("id", filter=Q(kind="commendation", target="unit")),
        honours=Count("id", filter=Q(kind="honour")),
    )
    return agg
