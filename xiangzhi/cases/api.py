"""Case API under /api/v1/cases: the grid worker's phone and integrations.

Every read goes through ``xiangzhi.cases.selectors`` (``restrict(user, action)``), every
write through ``xiangzhi.cases.services``. A role without the permission gets 403, a case
(or area) outside the user's scope 404, bad input 400/422 with Chinese field messages, a
move the workflow table does not allow 409 ``{"detail": …}``. Each transition is its own
action endpoint (``POST /cases/{id}/escalate`` …) with its own input schema. ``POST
/cases`` honours an ``Idempotency-Key`` header: a retried request returns the same case.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Header, Path, Query, Router, Status, UploadedFile
from ninja.errors import HttpError

from xiangzhi.core import crypto
from xiangzhi.core.api import MAX_ID, READ_ERRORS, WRITE_ERRORS, ErrorOut, Text, paginate, require_perm
from xiangzhi.core.masking import mask_name, mask_phone
from xiangzhi.core.scoping import can_in_area
from xiangzhi.org.models import Assignment
from xiangzhi.org.roles import ROLES
from xiangzhi.residents import selectors as residents_selectors

from . import public, selectors, services, workflow
from .choices import Kind
from .choices import Status as CaseStatus
from .models import Case, Category
from .schemas import (
    ApproveExtensionIn,
    AssignIn,
    AttachmentOut,
    CandidateOut,
    CaseCreateIn,
    CaseDetailOut,
    CaseFiltersIn,
    CasePage,
    CloseIn,
    ExtensionIn,
    FollowUpIn,
    FollowUpOut,
    MediationIn,
    MediationOut,
    MeetingIn,
    MeetingOut,
    NoteIn,
    ReasonIn,
    RequiredNoteIn,
    SkipLevelIn,
    SkipLevelOut,
    SuperviseIn,
    TransferIn,
    dates_out_of_range,
)

router = Router(tags=["事项（信访·矛盾纠纷·急难愁盼）"])
User = get_user_model()

PK = {"ge": 1, "le": MAX_ID, "description": "事项编号"}
CaseId = Path[int, PK]
OUT_OF_AREA = "区域不存在或不在您的管辖范围内"
NOT_IN_SCOPE = "不存在或不在您的管辖范围内"
IdempotencyKey = Text(64, min_length=8, pattern=r"[A-Za-z0-9_.:-]{8,64}", message="应为 8–64 位字母、数字或 _.:-")
IDEMPOTENCY_HEADER = Header(None, alias="Idempotency-Key")  # optional header
# The roles that handle cases (candidates for lead, handler, mediator).
CASE_ROLES = ["township_admin", "township_staff", "village_secretary", "village_cadre", "grid_worker", "mediator"]


# --- helpers -------------------------------------------------------------------------------
def _user_ref(user) -> dict | None:
    return {"id": user.pk, "name": user.display_name} if user is not None else None


def _case_out(case: Case) -> dict:
    return {
        "id": case.pk,
        "tracking_code": case.tracking_code,
        "area_code": case.area_code,
        "kind": case.kind,
        "kind_label": Kind(case.kind).label,
        "channel": case.channel,
        "category": case.category_id,
        "category_name": str(case.category) if case.category_id else "",
        "title": case.title,
        "status": case.status,
        "status_label": CaseStatus(case.status).label,
        "level": case.level,
        "supervision": case.supervision,
        "warning": getattr(case, "warning", "") or "",
        "received_at": case.received_at,
        "accept_due_at": case.accept_due_at,
        "level_due_at": case.level_due_at,
        "due_at": case.due_at,
        "closed_at": case.closed_at,
        "lead": _user_ref(case.lead),
        "handler": _user_ref(case.handler),
        "first_responsible": _user_ref(case.first_responsible),
    }


def _masked_phone(case: Case) -> str:
    if not case.contact_phone_enc:
        return ""
    try:
        return mask_phone(crypto.decrypt(case.contact_phone_enc))
    except crypto.DecryptionError:
        return "****"


def _get(request, case_id: int, action: str = "view") -> Case:
    """The case if the user reaches it for ``action`` (annotated with its warning); 404
    otherwise."""
    qs = selectors.with_warning(selectors.cases_for(request.auth, action)).select_related(
        "category", "category__parent", "lead", "handler", "first_responsible"
    )
    return get_object_or_404(qs, pk=case_id)


def _detail(request, case: Case) -> dict:
    user = request.auth
    staff = can_in_area(user, "cases.view_case", case.area_code)
    out = {
        **_case_out(case),
        "view": "staff" if staff else "party",
        "description": case.description,
        "contact_name": case.contact_name if staff else mask_name(case.contact_name),
        "contact_phone_masked": _masked_phone(case),
        "household": case.household_id,
        "accepted_at": case.accepted_at,
        "accepted_level": case.accepted_level,
        "responsibility": case.responsibility if staff else "",
        "plan": case.plan if staff else "",
        "extension_days": case.extension_days,
        "escalation_count": case.escalation_count,
        "reopen_count": case.reopen_count,
        "resolution": case.resolution,
        "satisfaction": case.satisfaction,
        "skip_level": case.skip_level if staff else False,
        "related_case": case.related_case_id if staff else None,
        "allowed_actions": workflow.allowed_actions(case.status) if staff else [],
        "parties": [
            {
                "id": p.pk,
                "name": p.name if staff else mask_name(p.name),
                "role": p.role,
                "resident": p.resident_id if staff else None,
                "note": p.note if staff else "",
            }
            for p in case.parties.all()
        ],
        "meetings": [],
        "mediations": [],
        "follow_ups": [],
        "skip_levels": [],
        "attachments": [],
    }
    if not staff:
        # A party (a villager on his own case) sees what the public tracking page shows.
        out["lead"] = out["handler"] = out["first_responsible"] = None
        out["timeline"] = [
            {
                "id": e["id"],
                "at": e["at"],
                "action": e["action"],
                "label": e["text"],
                "actor": e["actor"],
                "from_status": "",
                "to_status": e["status"],
                "from_level": "",
                "to_level": e["level"],
                "note": "",
                "public": True,
            }
            for e in public.public_timeline(case)
        ]
        return out
    out["timeline"] = [
        {
            "id": e.pk,
            "at": e.at,
            "action": e.action,
            "label": public.action_label(e.action),
            "actor": e.actor.display_name if e.actor_id else ("群众本人" if e.action == "register" else "系统"),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "from_level": e.from_level,
            "to_level": e.to_level,
            "note": e.note,
            "public": e.public,
        }
        for e in selectors.timeline(case=case)
    ]
    out["meetings"] = [_meeting_out(m) for m in case.meetings.all()]
    out["mediations"] = [_mediation_out(m) for m in case.mediations.prefetch_related("mediators")]
    out["follow_ups"] = [_follow_up_out(f) for f in case.follow_ups.all()]
    out["skip_levels"] = [_skip_level_out(s) for s in case.skip_levels.order_by("occurred_on", "id")]
    out["attachments"] = [_attachment_out(a) for a in case.attachments.order_by("id")]
    return out


def _meeting_out(m) -> dict:
    return {
        "id": m.pk,
        "kind": m.kind,
        "held_at": m.held_at,
        "place": m.place,
        "participants": m.participants,
        "minutes": m.minutes,
    }


def _mediation_out(m) -> dict:
    return {
        "id": m.pk,
        "held_at": m.held_at,
        "place": m.place,
        "result": m.result,
        "mediators": [_user_ref(u) for u in m.mediators.all()],
        "mediator_names": m.mediator_names,
        "facts": m.facts,
        "terms": m.terms,
        "agreement_no": m.agreement_no,
    }


def _follow_up_out(f) -> dict:
    return {"id": f.pk, "at": f.at, "satisfaction": f.satisfaction, "note": f.note}


def _skip_level_out(s) -> dict:
    return {"id": s.pk, "occurred_on": s.occurred_on, "destination": s.destination, "note": s.note}


def _attachment_out(a) -> dict:
    return {"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size, "uploaded_at": a.uploaded_at}


def _staff(field: str, pk: int, case: Case):
    """A user named in a body (lead, handler, mediator). An unknown id and a user who does
    not work in the case's area get the same message."""
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not can_in_area(user, "cases.view_case", case.area_code):
        raise ValidationError({field: "该人员不存在或不负责此区域"})
    return user


def _check_dates(payload) -> None:
    errors = dates_out_of_range(payload)
    if errors:
        raise ValidationError(errors)


def _transition(request, case_id: int, action: str, service, payload=None, **kwargs) -> dict:
    """Run one workflow action: the role must have the action's permission (403), the case
    must be in scope (404), the workflow must allow it (409), then the service decides."""
    require_perm(request, f"cases.{workflow.ACTIONS[action].permission}_case")
    case = _get(request, case_id)
    if payload is not None:
        _check_dates(payload)
    try:
        workflow.target(case.status, action)
        resolved = {k: (v(case) if callable(v) else v) for k, v in kwargs.items()}
        service(actor=request.auth, case=case, **resolved)
    except workflow.IllegalTransition as exc:
        raise HttpError(409, exc.message)
    return _detail(request, _get(request, case_id))


def _record(request, case_id: int, service, out, payload=None, **kwargs):
    require_perm(request, "cases.change_case")
    case = _get(request, case_id, "change")
    if payload is not None:
        _check_dates(payload)
    try:
        resolved = {k: (v(case) if callable(v) else v) for k, v in kwargs.items()}
        obj = service(actor=request.auth, case=case, **resolved)
    except workflow.IllegalTransition as exc:
        raise HttpError(409, exc.message)
    return Status(201, out(obj))


# --- list, detail, create ----------------------------------------------------------------
@router.get("", response={200: CasePage, 400: ErrorOut, **READ_ERRORS}, summary="事项列表（工作队列）")
def case_list(request, filters: Query[CaseFiltersIn]):
    """管辖范围内的事项：已超期在前，其次黄色预警，再按办结期限。"""
    require_perm(request, "cases.view_case")
    _check_dates(filters)
    f = selectors.CaseFilters(
        kind=filters.kind or "",
        level=filters.level or "",
        status=filters.status or "",
        category=filters.category,
        area_code=filters.area_code,
        lead=filters.lead,
        handler=filters.handler,
        received_from=filters.received_from,
        received_to=filters.received_to,
        q=filters.q,
        mine=filters.mine,
    )
    qs = selectors.case_list(user=request.auth, filters=f).select_related(
        "category", "category__parent", "lead", "handler", "first_responsible"
    )
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    return {"items": [_case_out(c) for c in rows], **meta}


@router.post("", response={201: CaseDetailOut, **WRITE_ERRORS}, summary="登记事项")
def case_create(
    request,
    response: HttpResponse,
    payload: CaseCreateIn,
    idempotency_key: IdempotencyKey = IDEMPOTENCY_HEADER,
):
    """在事项发生地（村或网格）登记。请求头 ``Idempotency-Key``（8–64 位）使重试的请求返回同一事项
    （响应头 ``Idempotent-Replayed: true``），不会重复登记。"""
    require_perm(request, "cases.add_case")
    _check_dates(payload)
    user = request.auth
    if not can_in_area(user, "cases.add_case", payload.area_code):
        raise Http404(OUT_OF_AREA)
    key = None
    if idempotency_key:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
        key = f"api:{user.pk}:{digest}"
        existing = Case.objects.filter(idempotency_key=key).first()
        if existing is not None:
            response["Idempotent-Replayed"] = "true"
            return Status(201, _detail(request, _get(request, existing.pk)))
    errors: dict[str, str] = {}
    category = household = related = None
    if payload.category:
        category = Category.objects.filter(
            pk=payload.category, is_active=True, township_code__in=["", payload.area_code[:9]]
        ).first()
        if category is None:
            errors["category"] = "分类不存在"
    if payload.household:
        household = residents_selectors.households_for(user).filter(pk=payload.household).first()
        if household is None:
            errors["household"] = f"户{NOT_IN_SCOPE}"
    if payload.related_case:
        related = selectors.cases_for(user).filter(pk=payload.related_case).first()
        if related is None:
            errors["related_case"] = f"关联事项{NOT_IN_SCOPE}"
    resident_ids = {p.resident for p in payload.parties if p.resident}
    residents = {r.pk: r for r in residents_selectors.residents_for(user).filter(pk__in=resident_ids)}
    parties = []
    for i, p in enumerate(payload.parties):
        if p.resident and p.resident not in residents:
            errors[f"parties.{i}.resident"] = f"居民{NOT_IN_SCOPE}"
        parties.append({"name": p.name, "role": p.role, "note": p.note, "resident": residents.get(p.resident)})
    if errors:
        raise ValidationError(errors)
    case = services.case_register(
        actor=user,
        kind=payload.kind,
        channel=payload.channel,
        area_code=payload.area_code,
        title=payload.title,
        description=payload.description,
        category=category,
        household=household,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        parties=parties,
        received_at=payload.received_at,
        related_case=related,
        idempotency_key=key,
    )
    return Status(201, _detail(request, _get(request, case.pk)))


@router.get("/{case_id}", response={200: CaseDetailOut, **READ_ERRORS}, summary="事项详情")
def case_detail(request, case_id: CaseId):
    """事项、四定、当事人、办理记录（时间线）、会议、调解、回访、越级访记录、附件。
    村民查看自己的事项时只看到公开的办理记录（岗位而非姓名），当事人姓名脱敏。"""
    require_perm(request, "cases.view_case")
    return _detail(request, _get(request, case_id))


@router.get("/{case_id}/candidates", response={200: list[CandidateOut], **READ_ERRORS}, summary="可指派人员")
def case_candidates(request, case_id: CaseId):
    """负责该事项所在区域的工作人员：可作为包案领导、承办人或调解员。"""
    require_perm(request, "cases.change_case")
    case = _get(request, case_id, "change")
    prefixes = [case.area_code[:n] for n in (2, 4, 6, 9, 12, 15) if n <= len(case.area_code)]
    rows = (
        Assignment.objects.filter(area_code__in=prefixes, role__in=CASE_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("-area_code", "role", "user_id")
    )
    return [
        {"id": a.user_id, "name": a.user.display_name, "role": ROLES[a.role].label, "area_code": a.area_code}
        for a in rows
    ]


# --- transitions -------------------------------------------------------------------------
@router.post("/{case_id}/accept", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="受理")
def case_accept(request, case_id: CaseId, payload: NoteIn):
    return _transition(request, case_id, "accept", services.case_accept, note=payload.note)


@router.post("/{case_id}/reject", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="不予受理")
def case_reject(request, case_id: CaseId, payload: ReasonIn):
    return _transition(request, case_id, "reject", services.case_reject, reason=payload.reason)


@router.post("/{case_id}/transfer", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="转办其他单位")
def case_transfer(request, case_id: CaseId, payload: TransferIn):
    return _transition(
        request, case_id, "transfer", services.case_transfer, to_body=payload.to_body, reason=payload.reason
    )


@router.post("/{case_id}/assign", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="交办（包案·四定）")
def case_assign(request, case_id: CaseId, payload: AssignIn):
    """指定包案领导和承办人（定专人），填写责任（定责任）、方案（定方案）和办结期限（定时限）。"""
    return _transition(
        request,
        case_id,
        "assign",
        services.case_assign,
        payload=payload,
        lead=lambda case: _staff("lead", payload.lead, case),
        handler=lambda case: _staff("handler", payload.handler, case),
        responsibility=payload.responsibility,
        plan=payload.plan,
        due_at=payload.due_at,
    )


@router.post("/{case_id}/start", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="开始办理")
def case_start(request, case_id: CaseId, payload: NoteIn):
    return _transition(request, case_id, "start", services.case_start, note=payload.note)


@router.post("/{case_id}/resolve", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="化解")
def case_resolve(request, case_id: CaseId, payload: RequiredNoteIn):
    return _transition(request, case_id, "resolve", services.case_resolve, note=payload.note)


@router.post("/{case_id}/fail", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="未能化解")
def case_fail(request, case_id: CaseId, payload: RequiredNoteIn):
    return _transition(request, case_id, "fail", services.case_fail, note=payload.note)


@router.post("/{case_id}/close", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="办结")
def case_close(request, case_id: CaseId, payload: CloseIn):
    return _transition(request, case_id, "close", services.case_close, resolution=payload.resolution)


@router.post("/{case_id}/reopen", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="重新办理")
def case_reopen(request, case_id: CaseId, payload: ReasonIn):
    return _transition(request, case_id, "reopen", services.case_reopen, reason=payload.reason)


@router.post("/{case_id}/escalate", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="上报上级")
def case_escalate(request, case_id: CaseId, payload: ReasonIn):
    """网格 → 村 → 镇，一次上报一级，须填写理由。"""
    return _transition(request, case_id, "escalate", services.case_escalate, reason=payload.reason)


@router.post("/{case_id}/return", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="退回下级")
def case_return(request, case_id: CaseId, payload: ReasonIn):
    return _transition(request, case_id, "return", services.case_return, reason=payload.reason)


@router.post("/{case_id}/request-extension", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="申请延期")
def case_request_extension(request, case_id: CaseId, payload: ExtensionIn):
    """信访事项最多延期 30 天、只能延期一次；由包案领导审批。"""
    return _transition(
        request, case_id, "request_extension", services.case_request_extension, days=payload.days, reason=payload.reason
    )


@router.post("/{case_id}/approve-extension", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="审批延期")
def case_approve_extension(request, case_id: CaseId, payload: ApproveExtensionIn):
    """只有本事项的包案领导可以审批；approve=false 为不同意。"""
    return _transition(
        request,
        case_id,
        "approve_extension",
        services.case_approve_extension,
        approve=payload.approve,
        note=payload.note,
    )


@router.post("/{case_id}/supervise", response={200: CaseDetailOut, **WRITE_ERRORS}, summary="督办")
def case_supervise(request, case_id: CaseId, payload: SuperviseIn):
    """乡镇督办标记：正常 / 黄牌 / 红牌。"""
    return _transition(request, case_id, "supervise", services.case_supervise, mark=payload.mark, note=payload.note)


# --- records -----------------------------------------------------------------------------
@router.post("/{case_id}/meetings", response={201: MeetingOut, **WRITE_ERRORS}, summary="记录会议")
def meeting_create(request, case_id: CaseId, payload: MeetingIn):
    """专题会 / 现场会 / 小组会 / 书记约谈：时间、地点、参加人员、纪要。"""
    return _record(
        request,
        case_id,
        services.meeting_add,
        _meeting_out,
        payload=payload,
        kind=payload.kind,
        held_at=payload.held_at,
        place=payload.place,
        participants=payload.participants,
        minutes=payload.minutes,
    )


@router.post("/{case_id}/mediations", response={201: MediationOut, **WRITE_ERRORS}, summary="记录调解")
def mediation_create(request, case_id: CaseId, payload: MediationIn):
    """调解员、结果；调解成功须填写协议内容（生成调解协议书编号）。"""
    return _record(
        request,
        case_id,
        services.mediation_add,
        _mediation_out,
        payload=payload,
        held_at=payload.held_at,
        result=payload.result,
        mediators=lambda case: [
            _staff(f"mediators.{i}", pk, case) for i, pk in enumerate(dict.fromkeys(payload.mediators))
        ],
        mediator_names=payload.mediator_names,
        place=payload.place,
        facts=payload.facts,
        terms=payload.terms,
    )


@router.post("/{case_id}/follow-ups", response={201: FollowUpOut, **WRITE_ERRORS}, summary="回访")
def follow_up_create(request, case_id: CaseId, payload: FollowUpIn):
    """办结后回访满意度；不满意可同时重新办理（reopen=true）。"""
    return _record(
        request,
        case_id,
        services.follow_up_add,
        _follow_up_out,
        satisfaction=payload.satisfaction,
        note=payload.note,
        reopen=payload.reopen,
    )


@router.post("/{case_id}/skip-levels", response={201: SkipLevelOut, **WRITE_ERRORS}, summary="记录越级访")
def skip_level_create(request, case_id: CaseId, payload: SkipLevelIn):
    return _record(
        request,
        case_id,
        services.skip_level_record,
        _skip_level_out,
        payload=payload,
        occurred_on=payload.occurred_on,
        destination=payload.destination,
        note=payload.note,
    )


@router.post("/{case_id}/attachments", response={201: AttachmentOut, **WRITE_ERRORS}, summary="上传附件")
def attachment_create(request, case_id: CaseId, file: File[UploadedFile]):
    """multipart/form-data，字段 ``file``：JPG、PNG、WEBP 或 PDF（按内容识别），不超过 10 MB，每个事项最多 20 个。"""
    return _record(request, case_id, services.attachment_add, _attachment_out, upload=file)
