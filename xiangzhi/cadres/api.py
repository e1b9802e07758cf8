"""Cadre API under /api/v1/cadres: the roster (花名册 columns only), roster analytics for an
area and a date, and the logged-in cadre's own 四个一 progress and commitments.

Reads go through ``restrict(user, action)``: a role without ``cadres.view_cadre`` gets 403,
an area outside the user's scope 404; dates outside 2000–2100 are a 400 (as in the case API).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from ninja import Query, Router
from ninja.errors import HttpError

from xiangzhi.core import periods
from xiangzhi.core.api import READ_ERRORS, ErrorOut, paginate, require_perm
from xiangzhi.core.scoping import can_in_area, scopes_for
from xiangzhi.org.models import Region

from . import metrics
from .choices import FOUR_ONES_QUOTA, YOUNG_AGE, Education, Establishment, FourOnesKind
from .models import Cadre, Commitment, FourOnes, Lecture, Mentorship, Post, Secondment
from .schemas import AnalyticsIn, AnalyticsOut, CadreFiltersIn, CadrePage, TrainingOut, dates_out_of_range

router = Router(tags=["干部队伍"])

NO_CADRE = "您还没有干部档案，请联系乡镇管理员在干部花名册中登记并关联账号"
NOT_IN_SCOPE = "区域不存在或不在您的管辖范围内"
SEX = {"male": "男", "female": "女"}


def _bad_dates(payload) -> None:
    errors = dates_out_of_range(payload)
    if errors:
        raise ValidationError(errors)


def _names(codes) -> dict[str, str]:
    wanted = {c[:n] for c in codes for n in (9, 12) if len(c) >= n}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    return {c: " ".join(names[c[:n]] for n in (9, 12) if len(c) >= n and c[:n] in names) or c for c in set(codes)}


def _posts_on(on: date):
    return Post.objects.filter(start__lte=on).filter(Q(end__isnull=True) | Q(end__gt=on))


def _num(value):
    return float(value) if value is not None else None


def _roster_out(r: metrics.Roster) -> dict:
    out = r.as_dict()
    out.pop("details", None)
    for key, value in out.items():
        if hasattr(value, "quantize"):
            out[key] = float(value)
    return out


# --- roster --------------------------------------------------------------------------------
@router.get("", response={200: CadrePage, 400: ErrorOut, **READ_ERRORS}, summary="干部花名册")
def cadre_list(request, filters: Query[CadreFiltersIn]):
    """管辖范围内在职日期（默认今天）当日在任的干部，按单位、姓名排序。只含花名册的列。"""
    require_perm(request, "cadres.view_cadre")
    _bad_dates(filters)
    on = filters.on or periods.local_today()
    posts = _posts_on(on)
    if filters.leadership is not None:
        posts = posts.filter(leadership=filters.leadership)
    qs = Cadre.objects.restrict(request.auth, "view").filter(Exists(posts.filter(cadre=OuterRef("pk"))))
    if filters.area_code:
        qs = qs.filter(area_code__startswith=filters.area_code)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.establishment:
        qs = qs.filter(establishment=filters.establishment)
    if filters.q.strip():
        qs = qs.filter(name__contains=filters.q.strip())
    qs = qs.order_by("area_code", "name", "id").prefetch_related(
        Prefetch("posts", queryset=_posts_on(on).order_by("-leadership", "start", "id"), to_attr="current_posts")
    )
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    names = _names({c.area_code for c in rows})
    items = [
        {
            "id": c.pk,
            "name": c.name,
            "sex": c.sex,
            "sex_label": SEX.get(c.sex, ""),
            "birth_month": c.birth_date.strftime("%Y-%m"),
            "age": metrics.age_on(c.birth_date, on),
            "education": c.education,
            "education_label": Education(c.education).label,
            "college_graduate": c.college_graduate,
            "party_member": c.party_member,
            "establishment": c.establishment,
            "establishment_label": Establishment(c.establishment).label,
            "level": c.level,
            "area_code": c.area_code,
            "area_name": names.get(c.area_code, c.area_code),
            "posts": [
                {"title": p.title, "area_code": p.area_code, "leadership": p.leadership,
                 "is_secretary": p.is_secretary, "is_director": p.is_director, "honorary": p.honorary,
                 "start": p.start, "end": p.end}  # fmt: skip
                for p in c.current_posts
                if filters.leadership is None or p.leadership == filters.leadership
            ],
        }
        for c in rows
    ]
    return {"items": items, **meta}


@router.get("/analytics", response={200: AnalyticsOut, 400: ErrorOut, **READ_ERRORS}, summary="干部队伍分析")
def cadre_analytics(request, filters: Query[AnalyticsIn]):
    """某区域某日的干部队伍：按编制人数、平均年龄（全体、班子）、35 岁以下占比、学历结构、
    有大学生村干部的村、书记主任“一肩挑”的村；给出对比日期时同时给出变化（本期 − 对比期）。"""
    require_perm(request, "cadres.view_cadre")
    _bad_dates(filters)
    user = request.auth
    area = filters.area
    if not area:
        areas, _ = scopes_for(user, "cadres.view_cadre")
        area = areas[0][:12] if areas else ""
    if not area or not can_in_area(user, "cadres.view_cadre", area):
        raise HttpError(404, NOT_IN_SCOPE)
    region = Region.objects.filter(code=area).first()
    if region is None:
        raise HttpError(404, NOT_IN_SCOPE)
    on = filters.date or periods.local_today()
    out = {"area_code": area, "area_name": region.name, "roster": _roster_out(metrics.roster(area, on)),
           "change": None}  # fmt: skip
    if filters.compare:
        change = metrics.roster_change(area, filters.compare, on)
        out["change"] = {
            "before": _roster_out(change["before"]),
            **{k: _num(v) if k not in ("headcount", "villages_with_dual_role", "villages_with_college_graduate") else v
               for k, v in change.items() if k not in ("before", "after")},
        }  # fmt: skip
    return out


# --- my training ---------------------------------------------------------------------------
@router.get("/me/training", response={200: TrainingOut, 400: ErrorOut, **READ_ERRORS}, summary="我的四个一与承诺")
def my_training(request, year: int = Query(None, ge=2000, le=2100, description="年度（默认今年）")):
    """本人（账号关联的干部档案）本年度“四个一”完成情况与定额（座谈会 1、赠书 1、演讲比赛 1、
    每月一篇文章共 12）、缺交文章的月份、承诺践诺（逾期在前）、参加的业务大讲堂、结对帮带和挂职。"""
    require_perm(request, "cadres.view_cadre")
    user = request.auth
    cadre = Cadre.objects.filter(user_id=user.pk).first()
    if cadre is None:
        raise HttpError(404, NO_CADRE)
    today = periods.local_today()
    year = year or today.year
    items = list(FourOnes.objects.filter(cadre=cadre, year=year).order_by("done_on", "id"))
    four_ones = []
    for kind in FourOnesKind:
        mine = [i for i in items if i.kind == kind]
        four_ones.append({"kind": kind.value, "label": kind.label, "quota": FOUR_ONES_QUOTA[kind], "done": len(mine),
                          "items": [{"done_on": i.done_on, "title": i.title} for i in mine]})  # fmt: skip
    months_due = 12 if year < today.year else (today.month - 1 if year == today.year else 0)
    article_months = {i.done_on.month for i in items if i.kind == FourOnesKind.ARTICLE}
    commitments = list(
        Commitment.objects.filter(cadre=cadre)
        .filter(Q(fulfilled_on__isnull=True) | Q(fulfilled_on__year=year))
        .order_by("fulfilled_on", "deadline", "id")
    )
    commitments.sort(key=lambda c: (c.fulfilled_on is not None, c.deadline, c.pk))
    lectures = Lecture.objects.filter(attendees=cadre, held_on__year=year).order_by("held_on", "id")
    mentorships = [
        {"role": "mentor", "other": m.mentee.name, "start": m.start, "end": m.end}
        for m in Mentorship.objects.filter(mentor=cadre).select_related("mentee").order_by("start", "id")
    ] + [
        {"role": "mentee", "other": m.mentor.name, "start": m.start, "end": m.end}
        for m in Mentorship.objects.filter(mentee=cadre).select_related("mentor").order_by("start", "id")
    ]
    return {
        "cadre": cadre.pk,
        "name": cadre.name,
        "year": year,
        "young": metrics.age_on(cadre.birth_date, date(year, 1, 1)) < YOUNG_AGE,
        "four_ones": four_ones,
        "articles_missing_months": [m for m in range(1, months_due + 1) if m not in article_months],
        "four_ones_complete": all(k["done"] >= k["quota"] for k in four_ones),
        "commitments": [
            {"id": c.pk, "promise": c.promise, "deadline": c.deadline, "fulfilled_on": c.fulfilled_on,
             "overdue": c.fulfilled_on is None and c.deadline < today}  # fmt: skip
            for c in commitments
        ],
        "lectures": [{"held_on": lec.held_on, "speaker": lec.speaker, "topic": lec.topic} for lec in lectures],
        "mentorships": mentorships,
        "secondments": [
            {"to_where": s.to_where, "post": s.post, "start": s.start, "end": s.end}
            for s in Secondment.objects.filter(cadre=cadre).order_by("start", "id")
        ],
    }
