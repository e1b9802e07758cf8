"""Logging visits from a phone, contact assignments, and turning a problem found on a
visit into a ``need`` case (linked both ways)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from xiangzhi import audit
from xiangzhi.core import periods
from xiangzhi.core.scoping import can_in_area
from xiangzhi.core.text import clean_text
from xiangzhi.core.uploads import check_upload, safe_name
from xiangzhi.residents.models import Household

from .models import ContactAssignment, ContactKind, Problem, Visit, VisitHousehold, VisitKind, VisitPhoto

MAX_HOUSEHOLDS = 50
MAX_PROBLEMS = 20
MAX_PHOTOS = 9


def _err(field, message):
    return ValidationError({field: message})


def _coordinate(value, low, high, field):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise _err(field, "坐标格式不正确")
    if not low <= number <= high:
        raise _err(field, "坐标超出范围")
    return number


@transaction.atomic
def visit_log(*, actor, cadre, visited_on: date, summary: str, kind: str = VisitKind.VISIT, households=(),
              area_code: str = "", group_name: str = "", attendees: int = 0, problems=(), photos=(),
              latitude=None, longitude=None, client_id: str | None = None) -> Visit:
    """One visit, with the households visited (or the villager group met), problems found
    and photos. ``client_id`` (the phone's draft id) makes a re-sent draft land once."""
    if client_id:
        existing = Visit.objects.filter(client_id=client_id).first()
        if existing:
            return existing
    errors: dict[str, str] = {}
    if kind not in VisitKind.values:
        errors["kind"] = "走访方式无效"
    if not isinstance(visited_on, date):
        errors["visited_on"] = "请填写走访日期"
    elif visited_on > periods.local_today():
        errors["visited_on"] = "走访日期不能晚于今天"
    summary = str(summary or "").replace("\x00", "").strip()
    if not summary:
        errors["summary"] = "请填写走访内容"
    elif len(summary) > 5000:
        errors["summary"] = "走访内容过长（最多 5000 字）"
    households = list(households)
    if len(households) > MAX_HOUSEHOLDS:
        errors["households"] = f"一次最多记录 {MAX_HOUSEHOLDS} 户"
    group_name = clean_text(group_name)[:50]
    if kind == VisitKind.BENCH_MEETING and not group_name:
        errors["group_name"] = "板凳会请填写村民小组"
    if kind != VisitKind.BENCH_MEETING and not households:
        errors["households"] = "请选择走访的农户"
    problems = [p if isinstance(p, dict) else {"description": p} for p in problems]
    problems = [p for p in problems if clean_text(p.get("description"))]
    if len(problems) > MAX_PROBLEMS:
        errors["problems"] = f"一次最多记录 {MAX_PROBLEMS} 个问题"
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = f"最多上传 {MAX_PHOTOS} 张照片"
    try:
        attendees = int(attendees or 0)
        if not 0 <= attendees <= 1000:
            raise ValueError
    except (TypeError, ValueError):
        errors["attendees"] = "参加人数应为 0–1000 的整数"
    try:
        lat = _coordinate(latitude, Decimal(-90), Decimal(90), "latitude")
        lng = _coordinate(longitude, Decimal(-180), Decimal(180), "longitude")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    if actor is None:
        raise PermissionDenied("请先登录")
    # every household must be in the actor's area (a cadre cannot log visits elsewhere)
    hh = list(Household.objects.restrict(actor, "view").filter(pk__in=[getattr(h, "pk", h) for h in households]))
    if len(hh) != len({getattr(h, "pk", h) for h in households}):
        raise _err("households", "所选农户不在您的管辖范围内")
    area = area_code or (hh[0].area_code if hh else cadre.area_code)
    if not can_in_area(actor, "visits.add_visit", area):
        raise PermissionDenied("无权在该区域记录走访")
    if cadre.user_id != actor.pk and not can_in_area(actor, "visits.change_visit", cadre.area_code):
        raise PermissionDenied("只能记录自己的走访")
    for upload in photos:
        check_upload(upload, field="photos", allowed=("image/jpeg", "image/png", "image/webp"))
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                cadre=cadre, area_code=area, visited_on=visited_on, kind=kind, group_name=group_name,
                attendees=attendees, summary=summary, latitude=lat, longitude=lng, client_id=client_id or None,
                created_by=actor,
            )
    except IntegrityError:
        return Visit.objects.get(client_id=client_id)
    visit.households.set(hh)
    VisitHousehold.objects.bulk_create(
        [VisitHousehold(visit=visit, household=h, cadre=cadre, area_code=h.area_code, visited_on=visited_on) for h in hh]
    )
    by_pk = {h.pk: h for h in hh}
    for p in problems:
        household = by_pk.get(getattr(p.get("household"), "pk", p.get("household")))
        if household is None and len(hh) == 1:  # a one-household visit: the problem is that household's
            household = hh[0]
        Problem.objects.create(visit=visit, area_code=household.area_code if household else area,
                               household=household, description=clean_text(p["description"])[:1000])
    for upload in photos:
        content_type = check_upload(upload, field="photos", allowed=("image/jpeg", "image/png", "image/webp"))
        _, stored = safe_name(getattr(upload, "name", ""), content_type)
        photo = VisitPhoto(visit=visit, content_type=content_type, size=upload.size)
        photo.file.save(stored, upload, save=False)
        photo.save()
    audit.record(actor, "visits.visit_log", visit, households=len(hh), problems=len(problems))
    return visit


@transaction.atomic
def problem_to_case(*, actor, problem: Problem):
    """One tap: the problem becomes a ``need`` case (channel visit), linked both ways."""
    from xiangzhi.cases import services as case_services

    problem = Problem.objects.select_for_update(of=("self",)).select_related("visit", "household").get(pk=problem.pk)
    if problem.case_id:
        return problem.case
    if actor is None or not can_in_area(actor, "cases.add_case", problem.area_code):
        raise PermissionDenied("无权登记事项")
    case = case_services.case_register(
        actor=actor, kind="need", channel="visit", area_code=problem.area_code,
        title=problem.description[:100], description=f"{problem.visit.visited_on:%Y-%m-%d}走访发现：{problem.description}",
        household=problem.household,
        contact_name=problem.household.head_name if problem.household else "",
        source=f"visits.problem:{problem.pk}", idempotency_key=f"visit-problem-{problem.pk}",
    )
    problem.case = case
    problem.save(update_fields=["case"])
    audit.record(actor, "visits.problem_to_case", problem.visit, problem_id=problem.pk, case_id=case.pk)
    return case


@transaction.atomic
def contact_assign(*, actor, cadre, kind: str, start: date, household=None, group_name: str = "",
                   village_code: str = "", help: str = "") -> ContactAssignment:
    if kind not in ContactKind.values:
        raise _err("kind", "类型无效")
    group_name = clean_text(group_name)[:50]
    if kind == ContactKind.BENCH_MEETING:
        if not group_name or len(village_code) != 12:
            raise _err("group_name", "板凳会须指定村和村民小组")
        area = village_code
    else:
        if household is None:
            raise _err("household", "请选择联系户")
        area = household.area_code
    if actor is not None and not can_in_area(actor, "visits.add_contactassignment", area):
        raise PermissionDenied("无权在该区域分配联系户")
    if household is not None and ContactAssignment.objects.filter(
        cadre=cadre, household=household, kind=kind, end__isnull=True
    ).exists():
        raise _err("household", "该干部已联系此户")
    c = ContactAssignment.objects.create(cadre=cadre, kind=kind, household=household,
                                         group_name=group_name if kind == ContactKind.BENCH_MEETING else "",
                                         area_code=area, help=clean_text(help)[:300], start=start)
    audit.record(actor, "visits.contact_assign", c, kind=kind)
    return c


@transaction.atomic
def visit_photo_add(*, actor, visit: Visit, upload) -> VisitPhoto:
    """One more photo on a logged visit (the phone sends photos after the visit itself).
    Only the visit's author, or someone who may change visits in its area."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if actor is None or (visit.created_by_id != actor.pk
                         and not can_in_area(actor, "visits.change_visit", visit.area_code)):
        raise PermissionDenied("只能为自己记录的走访上传照片")
    content_type = check_upload(upload, field="file", allowed=("image/jpeg", "image/png", "image/webp"))
    if visit.photos.count() >= MAX_PHOTOS:
        raise _err("file", f"每次走访最多上传 {MAX_PHOTOS} 张照片")
    _, stored = safe_name(getattr(upload, "name", ""), content_type)
    photo = VisitPhoto(visit=visit, content_type=content_type, size=upload.size)
    photo.file.save(stored, upload, save=False)
    photo.save()
    audit.record(actor, "visits.visit_photo_add", visit, photo_id=photo.pk, size=photo.size)
    return photo
