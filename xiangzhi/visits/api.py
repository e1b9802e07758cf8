"""Field-work API under /api/v1/visits: the cadre's phone.

* ``GET /visits/my-assignments`` — the households (连心工程 / 四联四帮) and villager groups
  (板凳会) the logged-in user's cadre record is linked to, with the last visit of each;
* ``POST /visits`` — log a visit (``client_id`` = the phone's draft id: a re-sent draft
  returns the same visit); ``POST /visits/{id}/photos`` — add a photo (multipart);
* ``GET /visits``, ``GET /visits/{id}`` — the visits in the user's area (``mine`` = own);
* ``POST /visits/problems/{id}/case`` — a problem found becomes a ``need`` case (one tap,
  linked both ways; a second tap returns the same case).

Reads go through ``restrict(user, action)``; writes through ``xiangzhi.visits.services``.
A role without the permission gets 403, an object outside the user's area 404, bad input
400/422 with Chinese field messages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Path, Query, Router, Status, UploadedFile
from ninja.errors import HttpError

from xiangzhi.cadres.models import Cadre
from xiangzhi.core.api import MAX_ID, READ_ERRORS, WRITE_ERRORS, ErrorOut, paginate, require_perm
from xiangzhi.core.scoping import can_in_area, scopes_for
from xiangzhi.org.models import Region

from . import services
from .models import ContactAssignment, ContactKind, Problem, Visit, VisitHousehold, VisitKind
from .schemas import (
    MyAssignmentsOut,
    PhotoOut,
    ProblemCaseOut,
    VisitDetailOut,
    VisitFiltersIn,
    VisitIn,
    VisitPage,
    dates_out_of_range,
)

router = Router(tags=["走访（连心工程·四联四帮·板凳会）"])

VisitId = Path[int, {"ge": 1, "le": MAX_ID, "description": "走访记录编号"}]
ProblemId = Path[int, {"ge": 1, "le": MAX_ID, "description": "问题编号"}]
NO_CADRE = "您还没有干部档案，请联系乡镇管理员在干部花名册中登记并关联账号"


# --- helpers -------------------------------------------------------------------------------
def area_names(codes) -> dict[str, str]:
    """code → "村 网格" (or the township's / village's own name), one query for many codes."""
    wanted = {c[:n] for c in codes for n in (9, 12, 15) if len(c) >= n}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    out = {}
    for c in set(codes):
        parts = [names.get(c[:n], "") for n in ((12, 15) if len(c) == 15 else (len(c),))]
        out[c] = " ".join(p for p in parts if p) or c
    return out


def my_cadre(user) -> Cadre | None:
    return Cadre.objects.filter(user_id=user.pk).first() if user is not None else None


def _cadre_ref(cadre: Cadre, names: dict) -> dict:
    return {"id": cadre.pk, "name": cadre.name, "area_code": cadre.area_code,
            "area_name": names.get(cadre.area_code, cadre.area_code)}  # fmt: skip


def _bad_dates(payload) -> None:
    errors = dates_out_of_range(payload)
    if errors:
        raise ValidationError(errors)


def _visits_for(user):
    return Visit.objects.restrict(user, "view")


def _case_ref(case) -> dict | None:
    if case is None:
        return None
    return {"id": case.pk, "tracking_code": case.tracking_code, "status": case.status,
            "status_label": case.get_status_display()}  # fmt: skip


def _visit_row(v: Visit, names: dict) -> dict:
    return {
        "id": v.pk,
        "cadre": _cadre_ref(v.cadre, names),
        "area_code": v.area_code,
        "visited_on": v.visited_on,
        "kind": v.kind,
        "kind_label": VisitKind(v.kind).label,
        "household_count": v.household_count,
        "group_name": v.group_name,
        "attendees": v.attendees,
        "summary": v.summary,
        "problem_count": v.problem_count,
    }


def _count_page(rows: list) -> None:
    """Household and problem counts of one page of visits: two grouped queries over the
    page's ids (the capped total count then stays a plain count)."""
    ids = [v.pk for v in rows]
    households = dict(
        VisitHousehold.objects.filter(visit_id__in=ids)
        .values("visit_id")
        .annotate(n=Count("id"))
        .values_list("visit_id", "n")
    )
    problems = dict(
        Problem.objects.filter(visit_id__in=ids).values("visit_id").annotate(n=Count("id")).values_list("visit_id", "n")
    )
    for v in rows:
        v.household_count, v.problem_count = households.get(v.pk, 0), problems.get(v.pk, 0)


def _with_counts(qs):
    households = VisitHousehold.objects.filter(visit=OuterRef("pk")).values("visit").annotate(n=Count("id")).values("n")
    problems = Problem.objects.filter(visit=OuterRef("pk")).values("visit").annotate(n=Count("id")).values("n")
    return qs.annotate(household_count=Coalesce(Subquery(households), 0), problem_count=Coalesce(Subquery(problems), 0))


def _detail(user, visit_id: int, *, replayed: bool = False) -> dict:
    visit = get_object_or_404(_with_counts(_visits_for(user)).select_related("cadre"), pk=visit_id)
    households = list(visit.households.order_by("area_code", "id").values("id", "head_name", "area_code"))
    problems = list(visit.problems.select_related("case").order_by("id"))
    names = area_names([visit.cadre.area_code])
    return {
        **_visit_row(visit, names),
        "households": households,
        "problems": [
            {"id": p.pk, "description": p.description, "household": p.household_id, "case": _case_ref(p.case)}
            for p in problems
        ],
        "photos": [
            {"id": ph.pk, "content_type": ph.content_type, "size": ph.size} for ph in visit.photos.order_by("id")
        ],
        "latitude": float(visit.latitude) if visit.latitude is not None else None,
        "longitude": float(visit.longitude) if visit.longitude is not None else None,
        "client_id": visit.client_id,
        "replayed": replayed,
    }


def _default_area(user, cadre: Cadre, payload: VisitIn) -> str:
    """Where a visit without households (板凳会) took place: the group's village, or — for a
    grid worker, who may log only inside his grid — his own grid in that village."""
    village = cadre.area_code
    if payload.kind == VisitKind.BENCH_MEETING and payload.group_name:
        group = (
            ContactAssignment.objects.filter(cadre=cadre, kind=ContactKind.BENCH_MEETING, group_name=payload.group_name)
            .values_list("area_code", flat=True)
            .first()
        )
        village = group or village
    if can_in_area(user, "visits.add_visit", village):
        return village
    areas, _ = scopes_for(user, "visits.add_visit")
    inside = sorted(a for a in areas if a.startswith(village))
    return inside[0] if inside else village


# --- my assignments ------------------------------------------------------------------------
@router.get("/my-assignments", response={200: MyAssignmentsOut, **READ_ERRORS}, summary="我的联系户和板凳会小组")
def my_assignments(request):
    """本人（账号关联的干部档案）当前联系的户（连心工程、四联四帮：户主、所在村网格、帮扶内容、
    最近一次走访日期）和板凳会联系的村民小组。没有干部档案时为 404。"""
    require_perm(request, "visits.view_contactassignment")
    user = request.auth
    cadre = my_cadre(user)
    if cadre is None:
        raise HttpError(404, NO_CADRE)
    rows = list(
        ContactAssignment.objects.filter(cadre=cadre, end__isnull=True)
        .select_related("household")
        .order_by("kind", "area_code", "household_id", "group_name", "id")
    )
    household_ids = [r.household_id for r in rows if r.household_id]
    last = dict(
        VisitHousehold.objects.filter(household_id__in=household_ids)
        .values("household_id")
        .annotate(last=Max("visited_on"))
        .values_list("household_id", "last")
    )
    groups = [r for r in rows if r.kind == ContactKind.BENCH_MEETING]
    met = dict(
        Visit.objects.filter(cadre=cadre, kind=VisitKind.BENCH_MEETING, group_name__in=[g.group_name for g in groups])
        .values("group_name")
        .annotate(last=Max("visited_on"))
        .values_list("group_name", "last")
    )
    names = area_names([cadre.area_code, *(r.area_code for r in rows)])
    return {
        "cadre": _cadre_ref(cadre, names),
        "households": [
            {
                "assignment": r.pk,
                "kind": r.kind,
                "kind_label": ContactKind(r.kind).label,
                "household": r.household_id,
                "head_name": r.household.head_name,
                "number": r.household.number,
                "area_code": r.household.area_code,
                "area_name": names.get(r.area_code, ""),
                "help": r.help,
                "start": r.start,
                "last_visited_on": last.get(r.household_id),
            }
            for r in rows
            if r.household_id
        ],
        "groups": [
            {
                "assignment": g.pk,
                "village_code": g.area_code,
                "village_name": names.get(g.area_code, ""),
                "group_name": g.group_name,
                "start": g.start,
                "last_met_on": met.get(g.group_name),
            }
            for g in groups
        ],
    }


# --- visits --------------------------------------------------------------------------------
@router.get("", response={200: VisitPage, 400: ErrorOut, **READ_ERRORS}, summary="走访记录列表")
def visit_list(request, filters: Query[VisitFiltersIn]):
    """管辖范围内的走访记录，新的在前；mine=true 只看本人的。"""
    require_perm(request, "visits.view_visit")
    _bad_dates(filters)
    user = request.auth
    qs = _visits_for(user)
    if filters.mine:
        qs = qs.filter(Q(created_by=user) | Q(cadre__user=user))
    if filters.cadre:
        qs = qs.filter(cadre_id=filters.cadre)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.area_code:
        qs = qs.filter(area_code__startswith=filters.area_code)
    if filters.date_from:
        qs = qs.filter(visited_on__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(visited_on__lte=filters.date_to)
    qs = qs.select_related("cadre").order_by("-visited_on", "-id")
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    _count_page(rows)
    names = area_names({v.cadre.area_code for v in rows})
    return {"items": [_visit_row(v, names) for v in rows], **meta}


@router.post("", response={201: VisitDetailOut, **WRITE_ERRORS}, summary="记录走访")
def visit_create(request, response: HttpResponse, payload: VisitIn):
    """入户走访 / 帮扶须选择户；板凳会须填写村民小组。发现的问题逐条列出，之后可一键转为事项。
    ``client_id``：手机离线保存的草稿编号，网络恢复后重发同一草稿返回原记录
    （响应头 ``Idempotent-Replayed: true``），不会重复记录。"""
    require_perm(request, "visits.add_visit")
    _bad_dates(payload)
    user = request.auth
    if payload.client_id:
        existing = Visit.objects.filter(client_id=payload.client_id).first()
        if existing is not None:
            if existing.created_by_id != user.pk:
                raise HttpError(409, "该草稿编号已被使用，请重新生成草稿")
            response["Idempotent-Replayed"] = "true"
            return Status(201, _detail(user, existing.pk, replayed=True))
    if payload.cadre:
        cadre = Cadre.objects.restrict(user, "view").filter(pk=payload.cadre).first()
        if cadre is None:
            raise ValidationError({"cadre": "该干部不存在或不在您的管辖范围内"})
    else:
        cadre = my_cadre(user)
        if cadre is None:
            raise ValidationError({"cadre": NO_CADRE})
    area = payload.area_code or ("" if payload.households else _default_area(user, cadre, payload))
    if area and not can_in_area(user, "visits.add_visit", area):
        raise Http404("区域不存在或不在您的管辖范围内")
    visit = services.visit_log(
        actor=user,
        cadre=cadre,
        visited_on=payload.visited_on,
        summary=payload.summary,
        kind=payload.kind,
        households=payload.households,
        area_code=area,
        group_name=payload.group_name,
        attendees=payload.attendees,
        problems=payload.problems,
        latitude=payload.latitude,
        longitude=payload.longitude,
        client_id=payload.client_id,
    )
    if visit.created_by_id != user.pk:  # a concurrent draft with the same id by someone else
        raise HttpError(409, "该草稿编号已被使用，请重新生成草稿")
    return Status(201, _detail(user, visit.pk))


@router.get("/{visit_id}", response={200: VisitDetailOut, **READ_ERRORS}, summary="走访记录详情")
def visit_detail(request, visit_id: VisitId):
    """走访的户、发现的问题（及其转为的事项和办理状态）、照片。"""
    require_perm(request, "visits.view_visit")
    return _detail(request.auth, visit_id)


@router.post("/{visit_id}/photos", response={201: PhotoOut, **WRITE_ERRORS}, summary="上传走访照片")
def visit_photo_create(request, visit_id: VisitId, file: File[UploadedFile]):
    """multipart/form-data，字段 ``file``：JPG、PNG 或 WEBP（按内容识别），不超过 10 MB，每次走访最多 9 张。
    只有记录人（或可修改该区域走访的书记、管理员）可以上传。"""
    require_perm(request, "visits.add_visit")
    visit = get_object_or_404(_visits_for(request.auth), pk=visit_id)
    photo = services.visit_photo_add(actor=request.auth, visit=visit, upload=file)
    return Status(201, {"id": photo.pk, "content_type": photo.content_type, "size": photo.size})


@router.post(
    "/problems/{problem_id}/case",
    response={200: ProblemCaseOut, 201: ProblemCaseOut, **WRITE_ERRORS},
    summary="问题转为事项（急难愁盼）",
)
def problem_case_create(request, problem_id: ProblemId):
    """走访发现的问题一键登记为急难愁盼事项（来源渠道：走访发现），问题与事项双向关联。
    已转过的问题返回原事项（200）；新登记为 201。"""
    require_perm(request, "visits.view_problem")
    require_perm(request, "cases.add_case")
    problem = get_object_or_404(Problem.objects.restrict(request.auth, "view"), pk=problem_id)
    existed = problem.case_id is not None
    case = services.problem_to_case(actor=request.auth, problem=problem)
    body = {"problem": problem.pk, "case": case.pk, "tracking_code": case.tracking_code, "status": case.status,
            "created": not existed}  # fmt: skip
    return Status(200 if existed else 201, body)
