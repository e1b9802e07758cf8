"""Every read of the cadre roster and growth records, scoped by the user's assignments.

Cadres, recognitions: ``restrict(user, action)`` on their ``area_code`` (the unit). Posts
and lectures carry an ``area_code`` too but have no permission of their own: they are read
where the user holds ``cadres.view_cadre`` (``area_q``). Growth rows without an area
(四个一, commitments, mentorships, secondments) are read through their cadre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from xiangzhi.core import periods
from xiangzhi.core.scoping import prefix_q, scopes_for
from xiangzhi.org.models import Region

from .choices import FOUR_ONES_QUOTA, YOUNG_AGE, FourOnesKind
from .metrics import age_on
from .models import Cadre, Commitment, FourOnes, Lecture, Mentorship, Post, Recognition, Secondment

VIEW = "cadres.view_cadre"
UNIT_LEVELS = ("county", "township", "village")
WHOLE = {"county": "全县", "township": "全乡镇"}
MAX_PK = 2**63 - 1


def area_q(user, perm: str = VIEW, field: str = "area_code") -> Q:
    """Rows whose ``field`` lies inside an area where ``perm`` is granted (empty: none)."""
    prefixes, _ = scopes_for(user, perm)
    q = Q()
    for p in prefixes:
        q |= prefix_q(field, p)
    return q if prefixes else Q(pk__in=[])


def in_scope(user, code: str, perm: str = VIEW) -> bool:
    prefixes, _ = scopes_for(user, perm)
    return bool(code) and any(code.startswith(p) for p in prefixes)


def cutoff_young(on: date) -> date:
    """Born after this date → younger than 35 on ``on`` (completed years)."""
    try:
        return on.replace(year=on.year - YOUNG_AGE)
    except ValueError:  # 29 February
        return date(on.year - YOUNG_AGE, 2, 28)


# --- areas ---------------------------------------------------------------------------------
def unit_areas(user, perm: str = VIEW, *, levels=UNIT_LEVELS) -> list[dict]:
    """The units the pickers offer: each scope root (county, township or village) and the
    townships and villages inside it. Two queries at most."""
    prefixes, _ = scopes_for(user, perm)
    if not prefixes:
        return []
    cond = Q()
    for p in prefixes:
        cond |= Q(code=p) | Q(code__startswith=p, level__in=("township", "village"))
    rows = list(
        Region.objects.filter(cond, is_active=True, level__in=levels)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    names = {code: name for code, name, _ in rows}
    missing = {code[:9] for code, _, level in rows if level == "village" and code[:9] not in names}
    if missing:
        names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    listed = {code for code, _, _ in rows}
    out = []
    for code, name, level in rows:
        depth = sum(1 for n in (6, 9) if len(code) > n and code[:n] in listed)
        label = f"{name}（{WHOLE[level]}）" if level in WHOLE else name
        if level == "village" and code[:9] not in listed:
            label = f"{names.get(code[:9], code[:9])} · {name}"
        out.append({"code": code, "name": name, "level": level, "label": label, "indent": "　" * depth})
    return out


def unit_names(codes) -> dict[str, str]:
    codes = {c for c in codes if c}
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


def pick_area(areas: list[dict], raw: str | None, *, default_first: bool = True) -> dict | None:
    """The picked area if offered; else the first (the widest) one."""
    raw = (raw or "").strip()
    for a in areas:
        if a["code"] == raw:
            return a
    return areas[0] if areas and default_first and not raw else None


# --- cadres --------------------------------------------------------------------------------
def cadres_for(user, action: str = "view"):
    return Cadre.objects.restrict(user, action)


@dataclass
class RosterFilters:
    area_code: str = ""
    level: str = ""
    establishment: str = ""
    leadership: bool = False
    young: bool = False
    q: str = ""
    include_left: bool = False


def current_posts_q(on: date) -> Q:
    """Posts in force on ``on``: ``start <= on < end`` (no end: still held)."""
    return Q(start__lte=on) & (Q(end__isnull=True) | Q(end__gt=on))


def cadre_list(*, user, filters: RosterFilters, on: date | None = None, action: str = "view"):
    on = on or periods.local_today()
    qs = cadres_for(user, action)
    f = filters
    if f.area_code:
        qs = qs.filter(prefix_q("area_code", f.area_code))
    if f.level:
        qs = qs.filter(level=f.level)
    if f.establishment:
        qs = qs.filter(establishment=f.establishment)
    if not f.include_left:
        qs = qs.filter(Q(left_on__isnull=True) | Q(left_on__gt=on))
    if f.young:
        qs = qs.filter(birth_date__gt=cutoff_young(on))
    if f.leadership:
        qs = qs.filter(Exists(Post.objects.filter(current_posts_q(on), cadre=OuterRef("pk"), leadership=True)))
    q = (f.q or "").strip()[:20]
    if q:
        qs = qs.filter(name__contains=q)
    return qs.order_by("area_code", "level", "name", "id")


def decorate(rows, on: date | None = None) -> None:
    """Current posts, age, leadership and 一肩挑 for a page of cadres: one query for the
    posts, one for the unit names, whatever the page size."""
    on = on or periods.local_today()
    rows = list(rows)
    if not rows:
        return
    posts: dict[int, list[Post]] = {}
    for p in Post.objects.filter(current_posts_q(on), cadre_id__in=[c.pk for c in rows]).order_by("start", "id"):
        posts.setdefault(p.cadre_id, []).append(p)
    names = unit_names({c.area_code for c in rows} | {p.area_code for ps in posts.values() for p in ps})
    for c in rows:
        cp = posts.get(c.pk, [])
        c.current_posts = cp
        c.age = age_on(c.birth_date, on)
        c.young = c.age < YOUNG_AGE
        c.leader = any(p.leadership for p in cp)
        c.dual_role = any(p.is_secretary for p in cp) and any(p.is_director for p in cp)
        c.post_titles = "、".join(p.title for p in cp)
        c.post_since = min((p.start for p in cp), default=None)
        c.unit_name = names.get(c.area_code, c.area_code)
        c.honorary_titles = "、".join(p.get_honorary_display() for p in cp if p.honorary)


def valid_pk(pk) -> int:
    """A primary key from a URL, or 404 (a number too big for the database is not found)."""
    from django.http import Http404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk <= MAX_PK:
        raise Http404
    return pk


def cadre_get(*, user, pk, action: str = "view") -> Cadre:
    return get_object_or_404(cadres_for(user, action).select_related("user", "resident"), pk=valid_pk(pk))


def post_get(*, user, pk, action: str = "change") -> Post:
    perm = "cadres.change_cadre" if action == "change" else VIEW
    return get_object_or_404(Post.objects.filter(area_q(user, perm)).select_related("cadre"), pk=valid_pk(pk))


def cadre_choices(user, perm: str = VIEW, *, area_code: str = "", on: date | None = None) -> list[tuple[int, str]]:
    """(pk, "姓名（单位）") of the cadres in office inside the areas where ``perm`` is
    granted: the options of the pickers. Two queries."""
    on = on or periods.local_today()
    qs = Cadre.objects.filter(area_q(user, perm)).filter(Q(left_on__isnull=True) | Q(left_on__gt=on))
    if area_code:
        qs = qs.filter(prefix_q("area_code", area_code))
    rows = list(qs.order_by("area_code", "name").values_list("pk", "name", "area_code")[:3000])
    names = unit_names({a for _, _, a in rows})
    return [(pk, f"{name}（{names.get(a, a)}）") for pk, name, a in rows]


def committee(*, user, village_code: str, on: date | None = None) -> list[Post]:
    """The village's 两委 on ``on``: every post in force in the village (incl. 名誉书记 /
    名誉主任), secretaries and directors first."""
    on = on or periods.local_today()
    rows = list(
        Post.objects.filter(area_q(user), current_posts_q(on), area_code=village_code)
        .select_related("cadre")
        .order_by("-is_secretary", "-is_director", "honorary", "-leadership", "start", "id")
    )
    for p in rows:
        p.cadre.age = age_on(p.cadre.birth_date, on)
    return rows


def village_committees(*, user, area_code: str, on: date | None = None) -> list[dict]:
    """Summary per village in ``area_code``: members, 一肩挑, college graduate, honorary."""
    on = on or periods.local_today()
    villages = list(
        Region.objects.filter(prefix_q("code", area_code), level="village", is_active=True)
        .filter(area_q(user, VIEW, "code"))
        .order_by("code")
        .values_list("code", "name")
    )
    posts = list(
        Post.objects.filter(area_q(user), current_posts_q(on), area_code__in=[code for code, _ in villages]).values(
            "area_code", "cadre_id", "is_secretary", "is_director", "honorary", "cadre__college_graduate"
        )
    )
    by_village: dict[str, list] = {}
    for p in posts:
        by_village.setdefault(p["area_code"], []).append(p)
    out = []
    for code, name in villages:
        ps = by_village.get(code, [])
        secretaries = {p["cadre_id"] for p in ps if p["is_secretary"]}
        directors = {p["cadre_id"] for p in ps if p["is_director"]}
        out.append(
            {
                "code": code,
                "name": name,
                "members": len({p["cadre_id"] for p in ps if not p["honorary"]}),
                "dual_role": bool(secretaries & directors),
                "college": any(p["cadre__college_graduate"] for p in ps),
                "honorary": sorted({p["honorary"] for p in ps if p["honorary"]}),
            }
        )
    return out


# --- growth --------------------------------------------------------------------------------
def months_due(year: int, today: date) -> int:
    """Monthly articles due by ``today`` for ``year``: every month already over."""
    if year < today.year:
        return 12
    if year > today.year:
        return 0
    return today.month - 1


def four_ones_on(year: int, today: date) -> date:
    """The day the 四个一 list is taken on: 31 December of a past year, else today."""
    return min(date(year, 12, 31), today)


def four_ones_rows(cadres, *, year: int, today: date | None = None) -> list[dict]:
    """Each cadre's 四个一 for ``year``: done per kind against the quota, the share done, and
    the overdue items (monthly articles for the months already over; the three yearly items
    once the year is over). One query for the page."""
    today = today or periods.local_today()
    on = four_ones_on(year, today)
    cadres = list(cadres)
    done: dict[int, dict[str, int]] = {}
    for cadre_id, kind in FourOnes.objects.filter(cadre_id__in=[c.pk for c in cadres], year=year).values_list(
        "cadre_id", "kind"
    ):
        d = done.setdefault(cadre_id, {})
        d[kind] = d.get(kind, 0) + 1
    due_articles = months_due(year, today)
    year_over = year < today.year
    names = unit_names({c.area_code for c in cadres})
    total_quota = sum(FOUR_ONES_QUOTA.values())
    rows = []
    for c in cadres:
        d = done.get(c.pk, {})
        items, overdue = [], []
        for kind, label in FourOnesKind.choices:
            quota = FOUR_ONES_QUOTA[kind]
            n = d.get(kind, 0)
            items.append({"kind": kind, "label": label, "done": n, "quota": quota, "complete": n >= quota})
            if kind == FourOnesKind.ARTICLE:
                missing = max(0, due_articles - n)
                if missing:
                    overdue.append(
                        f"文章缺 {missing} 篇（截至{today.month - 1 if not year_over else 12}月应交 {due_articles} 篇）"
                    )
            elif year_over and n < quota:
                overdue.append(f"未完成：{label}")
        total_done = sum(min(d.get(k, 0), q) for k, q in FOUR_ONES_QUOTA.items())
        c.age = age_on(c.birth_date, on)
        c.unit_name = names.get(c.area_code, c.area_code)
        rows.append(
            {
                "cadre": c,
                "items": items,
                "overdue": overdue,
                "done": total_done,
                "quota": total_quota,
                "percent": int(total_done * 100 / total_quota),
            }
        )
    return rows


def lectures_for(user):
    return Lecture.objects.filter(area_q(user))


def commitments_for(user):
    return Commitment.objects.filter(cadre__in=cadres_for(user)).select_related("cadre")


def mentorships_for(user):
    visible = cadres_for(user)
    return Mentorship.objects.filter(Q(mentee__in=visible) | Q(mentor__in=visible)).select_related("mentor", "mentee")


def secondments_for(user):
    return Secondment.objects.filter(cadre__in=cadres_for(user)).select_related("cadre")


def four_ones_for(user):
    return FourOnes.objects.filter(cadre__in=cadres_for(user)).select_related("cadre")


def recognitions_for(user, action: str = "view"):
    return Recognition.objects.restrict(user, action)


def cadre_with_history(*, user, cadre: Cadre) -> dict:
    """The cadre page: post history, growth records, recognitions. One query per list."""
    visible = recognitions_for(user).filter(cadre=cadre)
    posts = list(cadre.posts.order_by("-start", "-id"))
    names = unit_names({p.area_code for p in posts} | {cadre.area_code})
    for p in posts:
        p.unit_name = names.get(p.area_code, p.area_code)
    return {
        "posts": posts,
        "unit_name": names.get(cadre.area_code, cadre.area_code),
        "four_ones": list(cadre.four_ones.order_by("-done_on", "-id")[:50]),
        "lectures": list(cadre.lectures.order_by("-held_on")[:20]),
        "commitments": list(cadre.commitments.order_by("deadline", "id")[:50]),
        "mentors": list(cadre.mentors.select_related("mentor").order_by("-start")),
        "mentees": list(cadre.mentees.select_related("mentee").order_by("-start")),
        "secondments": list(cadre.secondments.order_by("-start")),
        "recognitions": list(visible.order_by("-issued_on", "-id")[:50]),
    }
