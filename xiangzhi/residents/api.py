"""Registry API under /api/v1/: households and residents, scoped like the pages.

Every read goes through ``xiangzhi.residents.selectors`` (``restrict(user, action)``), every
write through ``xiangzhi.residents.services``. A role without the permission gets 403, an
object (or area) outside the user's scope 404, bad input 400/422 with Chinese field
messages. Full ID numbers never travel in a URL: exact lookup is a POST
(``/residents/lookup``) and the plaintext comes only from the audited ``reveal``.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError

from xiangzhi.core.api import MAX_ID, READ_ERRORS, WRITE_ERRORS, ErrorOut, paginate, require_perm
from xiangzhi.core.scoping import can_in_area

from . import selectors, services
from .choices import tags_from_db
from .schemas import (
    HouseholdCreateIn,
    HouseholdDetailOut,
    HouseholdFilters,
    HouseholdOut,
    HouseholdPage,
    HouseholdUpdateIn,
    LookupIn,
    ResidentCreateIn,
    ResidentFilters,
    ResidentOut,
    ResidentPage,
    ResidentUpdateIn,
    RevealIn,
    RevealOut,
)

router = Router(tags=["户籍档案"])

PK = {"ge": 1, "le": MAX_ID, "description": "编号"}
CONFLICT = "数据已被他人同时修改（如户号或身份证号重复），请刷新后重试"
OUT_OF_AREA = "区域不存在或不在您的管辖范围内"

BODY_READ_ERRORS = {400: ErrorOut, **READ_ERRORS}  # a POST that reads: unparsable JSON is 400


def _household_out(h) -> dict:
    return {
        "id": h.pk,
        "area_code": h.area_code,
        "number": h.number,
        "address": h.address,
        "head_name": h.head_name,
        "member_count": h.member_count,
        "tags": tags_from_db(h.tags),
        "note": h.note,
        "updated_at": h.updated_at,
    }


def _resident_out(r) -> dict:
    m = selectors.masked(r)
    return {
        "id": r.pk,
        "household": r.household_id,
        "area_code": r.area_code,
        "name": r.name,
        "sex": r.sex,
        "birth_year": r.birth_year,
        "relation": r.relation,
        "tags": tags_from_db(r.tags),
        "status": r.status,
        "id_number_masked": m["id_number"],
        "phone_masked": m["phone"],
    }


def _check_area(user, perm: str, area_code: str) -> None:
    """An area the user cannot write in is, to them, an area that does not exist."""
    if not can_in_area(user, perm, area_code):
        raise Http404(OUT_OF_AREA)


# --- households ------------------------------------------------------------------------
@router.get("/households", response={200: HouseholdPage, **READ_ERRORS}, summary="户列表")
def household_list(request, filters: Query[HouseholdFilters]):
    """管辖范围内的户，按村/网格、标签、姓名（含拼音、首字母）、户号或身份证后 4 位筛选。"""
    require_perm(request, "residents.view_household")
    qs = selectors.household_list(user=request.auth, q=filters.q, area_code=filters.area_code, tag=filters.tag or "")
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    return {"items": [_household_out(h) for h in rows], **meta}


@router.post("/households", response={201: HouseholdOut, **WRITE_ERRORS}, summary="新建户")
def household_create(request, payload: HouseholdCreateIn):
    require_perm(request, "residents.add_household")
    _check_area(request.auth, "residents.add_household", payload.area_code)
    try:
        household = services.household_create(
            actor=request.auth,
            area_code=payload.area_code,
            number=payload.number,
            address=payload.address,
            tags=payload.tags,
            note=payload.note,
        )
    except IntegrityError:
        raise HttpError(409, CONFLICT)
    return Status(201, _household_out(household))


@router.get("/households/{household_id}", response={200: HouseholdDetailOut, **READ_ERRORS}, summary="一户一档")
def household_detail(request, household_id: Path[int, PK]):
    """户的信息和成员（证件号、电话均为脱敏显示）。"""
    require_perm(request, "residents.view_household")
    household = selectors.household_get(user=request.auth, pk=household_id)
    members = selectors.household_members(user=request.auth, household=household)
    return {**_household_out(household), "members": [_resident_out(r) for r in members]}


@router.patch("/households/{household_id}", response={200: HouseholdOut, **WRITE_ERRORS}, summary="修改户")
def household_update(request, household_id: Path[int, PK], payload: HouseholdUpdateIn):
    """只修改提交的字段。"""
    require_perm(request, "residents.change_household")
    household = selectors.household_get(user=request.auth, pk=household_id, action="change")
    changes = payload.dict(exclude_unset=True)
    if "area_code" in changes:
        _check_area(request.auth, "residents.change_household", changes["area_code"])
    try:
        household = services.household_update(actor=request.auth, household=household, **changes)
    except IntegrityError:
        raise HttpError(409, CONFLICT)
    return _household_out(household)


# --- residents -------------------------------------------------------------------------
@router.get("/residents", response={200: ResidentPage, **READ_ERRORS}, summary="居民列表")
def resident_list(request, filters: Query[ResidentFilters]):
    """管辖范围内的居民，证件号、电话脱敏。完整身份证号查人请用 POST /residents/lookup。"""
    require_perm(request, "residents.view_resident")
    qs = selectors.resident_list(
        user=request.auth,
        q=filters.q,
        area_code=filters.area_code,
        tag=filters.tag or "",
        household_id=filters.household,
    )
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    return {"items": [_resident_out(r) for r in rows], **meta}


@router.post("/residents", response={201: ResidentOut, **WRITE_ERRORS}, summary="登记居民")
def resident_create(request, payload: ResidentCreateIn):
    require_perm(request, "residents.add_resident")
    household = get_object_or_404(selectors.households_for(request.auth, "change"), pk=payload.household)
    try:
        resident = services.resident_create(
            actor=request.auth,
            household=household,
            name=payload.name,
            id_number=payload.id_number,
            phone=payload.phone,
            relation=payload.relation,
            tags=payload.tags,
        )
    except IntegrityError:
        raise HttpError(409, CONFLICT)
    return Status(201, _resident_out(resident))


# Declared before /residents/{resident_id} so that its URL pattern is matched first.
@router.post("/residents/lookup", response={200: ResidentOut, **BODY_READ_ERRORS}, summary="按完整身份证号查人")
def resident_lookup(request, payload: LookupIn):
    """完整身份证号放在请求体里（不进 URL、不进日志），精确匹配管辖范围内的居民。"""
    require_perm(request, "residents.view_resident")
    id_number = services.prepare_id_number(payload.id_number)  # GB 11643 → 400 with the reason
    resident = services.resident_lookup_by_id_number(actor=request.auth, id_number=id_number, channel="api")
    if resident is None:
        raise Http404
    return _resident_out(resident)


@router.get("/residents/{resident_id}", response={200: ResidentOut, **READ_ERRORS}, summary="居民详情")
def resident_detail(request, resident_id: Path[int, PK]):
    require_perm(request, "residents.view_resident")
    return _resident_out(selectors.resident_get(user=request.auth, pk=resident_id))


@router.patch("/residents/{resident_id}", response={200: ResidentOut, **WRITE_ERRORS}, summary="修改居民")
def resident_update(request, resident_id: Path[int, PK], payload: ResidentUpdateIn):
    """只修改提交的字段；id_number / phone 传 null 表示清除。"""
    require_perm(request, "residents.change_resident")
    resident = selectors.resident_get(user=request.auth, pk=resident_id, action="change")
    try:
        resident = services.resident_update(actor=request.auth, resident=resident, **payload.dict(exclude_unset=True))
    except IntegrityError:
        raise HttpError(409, CONFLICT)
    return _resident_out(resident)


@router.post(
    "/residents/{resident_id}/reveal", response={200: RevealOut, **BODY_READ_ERRORS}, summary="查看完整证件号和电话"
)
def resident_reveal(request, resident_id: Path[int, PK], payload: RevealIn):
    """需要“查看完整信息”权限和查看原因；每次查看都记入审计日志，审计写不进去就不显示。"""
    require_perm(request, "residents.reveal_resident")
    resident = selectors.resident_get(user=request.auth, pk=resident_id, action="reveal")
    return services.resident_reveal(actor=request.auth, resident=resident, reason=payload.reason)
