"""Every write to a case. Each transition is one service: it checks the workflow table, the
actor's permission and level, appends a CaseEvent (the timeline) and an audit record."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import crypto
from xiangzhi.core import phone as phones
from xiangzhi.core.scoping import _assignments, can_in_area
from xiangzhi.core.text import clean_text
from xiangzhi.core.uploads import check_upload, safe_name
from xiangzhi.notifications.services import notify
from xiangzhi.org.models import Assignment, Region

from . import deadlines
from .choices import (
    ENDED_STATUSES,
    Channel,
    Kind,
    Level,
    MediationResult,
    MeetingKind,
    PartyRole,
    Satisfaction,
    Status,
    Supervision,
)
from .models import Attachment, Case, CaseEvent, CaseParty, Category, FollowUp, Mediation, Meeting, SkipLevelRecord
from .workflow import ACTIONS, IllegalTransition, level_above, level_below, level_index, target

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

# The level at which each role acts on cases.
ROLE_LEVEL = {
    "township_admin": Level.TOWNSHIP,
    "township_staff": Level.TOWNSHIP,
    "village_secretary": Level.VILLAGE,
    "village_cadre": Level.VILLAGE,
    "grid_worker": Level.GRID,
    "mediator": None,  # from the assignment's area: township or village
}


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


def actor_level(user, area_code: str) -> str | None:
    """The highest level at which ``user`` acts for a case arising in ``area_code``."""
    if user is None:
        return None
    best = None
    for code, role in _assignments(user):
        if not area_code.startswith(code) or role not in ROLE_LEVEL:
            continue
        level = ROLE_LEVEL[role] or (Level.TOWNSHIP if len(code) <= 9 else Level.VILLAGE)
        if best is None or level_index(level) > level_index(best):
            best = level
    return best


def _check_actor(actor, case: Case, action: str) -> None:
    """Permission in the case's area and, for acting on the case, a level at least the
    case's current level (a grid worker acts on grid-level cases only)."""
    if actor is None:  # system (the escalation job)
        return
    spec = ACTIONS[action]
    if not can_in_area(actor, f"cases.{spec.permission}_case", case.area_code):
        raise PermissionDenied(f"您的岗位不能执行“{spec.label}”")
    level = actor_level(actor, case.area_code)
    needed = spec.min_level or case.level
    if level is None or level_index(level) < level_index(needed):
        raise PermissionDenied(f"该事项当前在{Level(case.level).label}级办理，您不能执行“{spec.label}”")


def _event(case: Case, actor, action: str, *, before: tuple[str, str], note: str = "", public: bool = True,
           **data) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        from_status=before[0],
        to_status=case.status,
        from_level=before[1],
        to_level=case.level,
        note=note,
        public=public,
        data=data,
    )


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _township(case_or_code) -> str:
    code = case_or_code.area_code if isinstance(case_or_code, Case) else case_or_code
    return code[:9]


def _set_level_clock(case: Case, now: datetime) -> None:
    case.level_since = now
    case.level_due_at = deadlines.level_due(
        township_code=_township(case), kind=case.kind, level=case.level, since=now
    )
    _refresh_yellow(case)


def _refresh_yellow(case: Case) -> None:
    if case.status == Status.REGISTERED and case.kind == Kind.PETITION:
        case.yellow_at = deadlines.yellow_at(case.received_at, case.accept_due_at)
        return
    due_candidates = [d for d in (case.level_due_at, case.due_at) if d]
    if not due_candidates:
        case.yellow_at = None
        return
    due = min(due_candidates)
    since = case.level_since if case.level_due_at and due == case.level_due_at else (case.accepted_at or case.received_at)
    share = deadlines.level_limit(township_code=_township(case), kind=case.kind, level=case.level).yellow_share
    case.yellow_at = deadlines.yellow_at(since, due, share)


def _village_secretary(area_code: str):
    a = (
        Assignment.objects.filter(area_code=area_code[:12], role="village_secretary", user__is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return a.user if a else None


def _level_handlers(case: Case) -> list:
    """Who receives a case that arrives at a level: the grid's workers, the village
    secretary, or the township admins."""
    if case.level == Level.GRID and len(case.area_code) == 15:
        qs = Assignment.objects.filter(area_code=case.area_code, role="grid_worker")
    elif case.level in (Level.GRID, Level.VILLAGE):
        qs = Assignment.objects.filter(area_code=case.area_code[:12], role="village_secretary")
    else:
        qs = Assignment.objects.filter(area_code=case.area_code[:9], role="township_admin")
    return [a.user for a in qs.filter(user__is_active=True).select_related("user")]


def _notify_level(case: Case, title: str) -> None:
    for user in _level_handlers(case):
        notify(
            user=user,
            title=title,
            body=f"{case.tracking_code} {case.title}",
            url=f"/cases/{case.pk}/",
            topic="cases",
            dedupe_key=f"case:{case.pk}:{case.level}:{case.escalation_count}:{user.pk}:{title[:20]}",
        )


# --- registration ----------------------------------------------------------------------
def _clean_required(value, field: str, label: str, max_len: int) -> str:
    text = clean_text(value) if field != "description" else (str(value or "").replace("\x00", "").strip())
    if not text:
        raise _err(field, f"请填写{label}")
    if len(text) > max_len:
        raise _err(field, f"{label}过长（最多 {max_len} 个字）")
    return text


@transaction.atomic
def case_register(
    *,
    actor,
    kind: str,
    channel: str,
    area_code: str,
    title: str,
    description: str,
    category: Category | None = None,
    household=None,
    contact_name: str = "",
    contact_phone: str | None = None,
    parties=(),
    received_at: datetime | None = None,
    related_case: Case | None = None,
    idempotency_key: str | None = None,
    source: str = "",
) -> Case:
    """Register a case where it arose (属地). ``actor`` None = a villager's public intake.
    ``parties``: iterable of dicts {name, role, resident (optional)}. A repeated
    ``idempotency_key`` (double click, network retry) returns the first case."""
    if idempotency_key:
        existing = Case.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return existing
    errors = {}
    if kind not in Kind.values:
        errors["kind"] = "事项类型无效"
    if channel not in Channel.values:
        errors["channel"] = "来源渠道无效"
    region = Region.objects.filter(code=area_code, level__in=["village", "grid"], is_active=True).first()
    if region is None:
        errors["area_code"] = "请选择事项发生地所在的村或网格"
    for field, label, max_len, value in (("title", "事项标题", 100, title), ("description", "诉求内容", 5000, description)):
        try:
            _clean_required(value, field, label, max_len)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    phone = None
    if contact_phone:
        try:
            phone = phones.validate_phone(contact_phone)
        except phones.PhoneError as exc:
            errors["contact_phone"] = str(exc)
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        errors["received_at"] = "收到时间不能晚于现在"
    if household is not None and region is not None and not household.area_code.startswith(area_code[:12]):
        errors["household"] = "该户不在事项发生地的村"
    if errors:
        raise ValidationError(errors)
    if actor is not None and not can_in_area(actor, "cases.add_case", area_code):
        raise PermissionDenied("无权在该区域登记事项")
    level = Level.GRID if len(area_code) == 15 else Level.VILLAGE
    case = Case(
        area_code=area_code,
        kind=kind,
        channel=channel,
        category=category,
        title=clean_text(title),
        description=str(description).replace("\x00", "").strip(),
        household=household,
        contact_name=clean_text(contact_name)[:50],
        contact_phone_enc=crypto.encrypt(phone) if phone else None,
        contact_phone_last4_hash=crypto.blind_index(phone[-4:], "case_phone_last4") if phone else "",
        status=Status.REGISTERED,
        level=level,
        received_at=received_at,
        first_responsible=_village_secretary(area_code),
        related_case=related_case,
        idempotency_key=idempotency_key or None,
        source=source[:40],
        created_by=actor if actor is not None and actor.pk else None,
    )
    if kind == Kind.PETITION:
        case.accept_due_at = deadlines.petition_accept_due(received_at)
        case.yellow_at = deadlines.yellow_at(received_at, case.accept_due_at)
    else:
        _set_level_clock(case, received_at)
    for _ in range(5):
        case.tracking_code = new_tracking_code()
        try:
            with transaction.atomic():
                case.save()
            break
        except IntegrityError:
            if idempotency_key and Case.objects.filter(idempotency_key=idempotency_key).exists():
                return Case.objects.get(idempotency_key=idempotency_key)
            case.pk = None
    else:  # pragma: no cover - 31^10 codes
        raise RuntimeError("could not allocate a tracking code")
    for party in parties:
        name = clean_text(party.get("name"))[:100]
        if not name:
            continue
        role = party.get("role") or PartyRole.APPLICANT
        CaseParty.objects.create(
            case=case, name=name, role=role if role in PartyRole.values else PartyRole.OTHER,
            resident=party.get("resident"), note=clean_text(party.get("note", ""))[:200],
        )
    _event(case, actor, "register", before=("", ""), channel=channel)
    audit.record(actor, "cases.register", case, kind=kind, channel=channel)
    _notify_level(case, "新事项待受理")
    return case


# --- transitions -----------------------------------------------------------------------
def _apply(case: Case, actor, action: str, note: str = "", public: bool = True, **data) -> tuple[Case, tuple]:
    before = (case.status, case.level)
    if case.status in ENDED_STATUSES and action != "reopen":
        raise IllegalTransition(f"事项已{Status(case.status).label}，不能再执行“{ACTIONS[action].label}”")
    case.status = target(case.status, action)
    return case, before


def _finish(case, actor, action, before, note="", public=True, **data):
    case.save()
    _event(case, actor, action, before=before, note=note, public=public, **data)
    audit.record(actor, f"cases.{action}", case, from_status=before[0], to_status=case.status,
                 from_level=before[1], to_level=case.level)
    return case


def _need_reason(reason, label="原因") -> str:
    text = clean_text(reason)
    if len(text) < 2:
        raise _err("reason", f"请填写{label}")
    return text[:2000]


@transaction.atomic
def case_accept(*, actor, case: Case, note: str = "") -> Case:
    case = _lock(case)
    target(case.status, "accept")
    _check_actor(actor, case, "accept")
    case, before = _apply(case, actor, "accept")
    now = timezone.now()
    case.accepted_at = now
    case.accepted_level = case.level
    if case.kind == Kind.PETITION:
        case.due_at = deadlines.petition_handle_due(now)
    _refresh_yellow(case)
    return _finish(case, actor, "accept", before, note=clean_text(note))


@transaction.atomic
def case_reject(*, actor, case: Case, reason: str) -> Case:
    case = _lock(case)
    target(case.status, "reject")
    reason = _need_reason(reason, "不予受理的理由")
    _check_actor(actor, case, "reject")
    case, before = _apply(case, actor, "reject")
    case.closed_at = timezone.now()
    case.resolution = reason
    return _finish(case, actor, "reject", before, note=reason)


@transaction.atomic
def case_transfer(*, actor, case: Case, to_body: str, reason: str) -> Case:
    case = _lock(case)
    target(case.status, "transfer")
    body = clean_text(to_body)
    if not body:
        raise _err("to_body", "请填写转办单位")
    reason = _need_reason(reason, "转办理由")
    _check_actor(actor, case, "transfer")
    case, before = _apply(case, actor, "transfer")
    case.closed_at = timezone.now()
    case.resolution = f"转{body}办理：{reason}"
    return _finish(case, actor, "transfer", before, note=case.resolution, to_body=body[:100])


@transaction.atomic
def case_assign(*, actor, case: Case, lead, handler, responsibility: str, plan: str, due_at: datetime) -> Case:
    """包案 and the four fixes: lead (包案领导), handler (专人), responsibility, plan and due
    date, all required before the case can leave "accepted"."""
    case = _lock(case)
    target(case.status, "assign")
    errors = {}
    if lead is None:
        errors["lead"] = "请指定包案领导"
    if handler is None:
        errors["handler"] = "请指定承办人（定专人）"
    responsibility = clean_text(responsibility)
    plan = str(plan or "").replace("\x00", "").strip()
    if not responsibility:
        errors["responsibility"] = "请填写责任（定责任）"
    if not plan:
        errors["plan"] = "请填写化解方案（定方案）"
    now = timezone.now()
    if due_at is None:
        errors["due_at"] = "请填写办结期限（定时限）"
    elif due_at <= now:
        errors["due_at"] = "办结期限不能早于现在"
    elif case.kind == Kind.PETITION and case.due_at and due_at > case.due_at:
        errors["due_at"] = f"信访事项须在受理后 {deadlines.PETITION_HANDLE_DAYS} 日内办结（最迟 {case.due_at:%Y-%m-%d}）"
    for field, user in (("lead", lead), ("handler", handler)):
        if user is not None and (not user.is_active or not can_in_area(user, "cases.view_case", case.area_code)):
            errors[field] = "该人员不负责此区域"
    if errors:
        raise ValidationError(errors)
    _check_actor(actor, case, "assign")
    case, before = _apply(case, actor, "assign")
    case.lead, case.handler = lead, handler
    case.responsibility, case.plan, case.due_at = responsibility[:2000], plan[:5000], due_at
    _refresh_yellow(case)
    _finish(case, actor, "assign", before, note=f"包案领导：{lead}；承办人：{handler}",
            lead_id=lead.pk, handler_id=handler.pk, due_at=due_at.isoformat())
    notify(user=handler, title="您有新的交办事项", body=f"{case.tracking_code} {case.title}",
           url=f"/cases/{case.pk}/", topic="cases", dedupe_key=f"case:{case.pk}:assign:{handler.pk}:{case.escalation_count}:{case.reopen_count}")
    return case


@transaction.atomic
def case_start(*, actor, case: Case, note: str = "") -> Case:
    case = _lock(case)
    target(case.status, "start")
    _check_actor(actor, case, "start")
    case, before = _apply(case, actor, "start")
    return _finish(case, actor, "start", before, note=clean_text(note))


@transaction.atomic
def case_resolve(*, actor, case: Case, note: str) -> Case:
    case = _lock(case)
    target(case.status, "resolve")
    note = _need_reason(note, "化解情况")
    _check_actor(actor, case, "resolve")
    case, before = _apply(case, actor, "resolve")
    case.resolved_at = timezone.now()
    case.resolved_level = case.level
    return _finish(case, actor, "resolve", before, note=note)


@transaction.atomic
def case_fail(*, actor, case: Case, note: str) -> Case:
    case = _lock(case)
    target(case.status, "fail")
    note = _need_reason(note, "未能化解的原因")
    _check_actor(actor, case, "fail")
    case, before = _apply(case, actor, "fail")
    return _finish(case, actor, "fail", before, note=note)


@transaction.atomic
def case_close(*, actor, case: Case, resolution: str) -> Case:
    case = _lock(case)
    target(case.status, "close")
    text = str(resolution or "").replace("\x00", "").strip()
    if len(text) < 2:
        raise _err("resolution", "办结须填写办理结果")
    _check_actor(actor, case, "close")
    case, before = _apply(case, actor, "close")
    case.closed_at = timezone.now()
    case.resolution = text[:5000]
    case.level_due_at = None
    case.yellow_at = None
    return _finish(case, actor, "close", before, note=case.resolution)


@transaction.atomic
def case_reopen(*, actor, case: Case, reason: str) -> Case:
    case = _lock(case)
    target(case.status, "reopen")
    reason = _need_reason(reason, "重新办理的原因")
    _check_actor(actor, case, "reopen")
    case, before = _apply(case, actor, "reopen")
    case.reopen_count += 1
    case.closed_at = None
    case.resolved_at = None
    case.resolved_level = ""
    now = timezone.now()
    if case.kind != Kind.PETITION:
        _set_level_clock(case, now)
    return _finish(case, actor, "reopen", before, note=reason)


@transaction.atomic
def case_escalate(*, actor, case: Case, reason: str, auto: bool = False, at: datetime | None = None) -> Case:
    """Move a case one level up (grid → village → township), manually with a reason or
    automatically when the level's time limit has passed."""
    case = _lock(case)
    target(case.status, "escalate")
    up = level_above(case.level)
    if up is None:
        raise IllegalTransition("事项已在镇级办理，不能再上报")
    reason = _need_reason(reason, "上报理由")
    if not auto:
        _check_actor(actor, case, "escalate")
    case, before = _apply(case, actor, "escalate")
    case.level = up
    case.escalation_count += 1
    case.handler = None
    if case.kind != Kind.PETITION:
        _set_level_clock(case, max(at or timezone.now(), timezone.now()))
    _finish(case, actor, "escalate", before, note=reason, auto=auto)
    _notify_level(case, "下级上报事项待办理" if not auto else "超时自动上报事项待办理")
    return case


@transaction.atomic
def case_return(*, actor, case: Case, reason: str) -> Case:
    """回退: send a case one level down, with a reason."""
    case = _lock(case)
    target(case.status, "return")
    down = level_below(case.level)
    if down is None or (down == Level.GRID and len(case.area_code) < 15):
        raise IllegalTransition("事项已在最低一级，不能退回")
    reason = _need_reason(reason, "退回理由")
    _check_actor(actor, case, "return")
    case, before = _apply(case, actor, "return")
    case.level = down
    case.handler = None
    if case.kind != Kind.PETITION:
        _set_level_clock(case, timezone.now())
    _finish(case, actor, "return", before, note=reason)
    _notify_level(case, "上级退回事项待办理")
    return case


@transaction.atomic
def case_request_extension(*, actor, case: Case, days: int, reason: str) -> Case:
    case = _lock(case)
    target(case.status, "request_extension")
    reason = _need_reason(reason, "延期理由")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise _err("days", "延期天数应为整数")
    limit = deadlines.PETITION_MAX_EXTENSION
    if not 1 <= days <= limit:
        raise _err("days", f"延期天数应在 1 至 {limit} 天之间")
    if case.kind == Kind.PETITION and case.extension_days:
        raise IllegalTransition("信访事项只能延期一次")
    if CaseEvent.objects.filter(case=case, action="request_extension", data__pending=True).exists():
        raise IllegalTransition("已有待审批的延期申请")
    _check_actor(actor, case, "request_extension")
    case, before = _apply(case, actor, "request_extension")
    _finish(case, actor, "request_extension", before, note=reason, public=False, days=days, pending=True)
    if case.lead:
        notify(user=case.lead, title="延期申请待审批", body=f"{case.tracking_code} 申请延期 {days} 天",
               url=f"/cases/{case.pk}/", topic="cases", dedupe_key=f"case:{case.pk}:ext:{case.events.count()}")
    return case


@transaction.atomic
def case_approve_extension(*, actor, case: Case, approve: bool, note: str = "") -> Case:
    """Only the case's lead (包案领导) decides an extension."""
    case = _lock(case)
    target(case.status, "approve_extension")
    request = CaseEvent.objects.filter(case=case, action="request_extension", data__pending=True).order_by("-id").first()
    if request is None:
        raise IllegalTransition("没有待审批的延期申请")
    if actor is None or actor.pk != case.lead_id:
        raise PermissionDenied("延期须由包案领导审批")
    days = int(request.data["days"])
    case, before = _apply(case, actor, "approve_extension")
    if approve:
        case.extension_days += days
        if case.due_at:
            case.due_at += timedelta(days=days)
        if case.level_due_at:
            case.level_due_at += timedelta(days=days)
        _refresh_yellow(case)
    request.data = {**request.data, "pending": False, "approved": bool(approve)}
    request.save(update_fields=["data"])
    return _finish(case, actor, "approve_extension", before, note=clean_text(note) or ("同意延期" if approve else "不同意延期"),
                   public=False, days=days, approved=bool(approve))


@transaction.atomic
def case_supervise(*, actor, case: Case, mark: str, note: str = "") -> Case:
    """督办: township supervision mark (normal / yellow / red)."""
    case = _lock(case)
    target(case.status, "supervise")
    if mark not in Supervision.values:
        raise _err("mark", "督办等级无效")
    _check_actor(actor, case, "supervise")
    case, before = _apply(case, actor, "supervise")
    case.supervision = mark
    _finish(case, actor, "supervise", before, note=clean_text(note) or Supervision(mark).label, public=False, mark=mark)
    if mark != Supervision.NORMAL:
        for user in {u for u in (case.handler, case.lead, case.first_responsible) if u}:
            notify(user=user, title=f"事项被{Supervision(mark).label}", body=f"{case.tracking_code} {case.title}",
                   url=f"/cases/{case.pk}/", topic="cases", dedupe_key=f"case:{case.pk}:sup:{mark}:{user.pk}:{case.events.count()}")
    return case


# --- records on a case -----------------------------------------------------------------
def _check_record(actor, case: Case) -> None:
    if actor is None or not can_in_area(actor, "cases.change_case", case.area_code):
        raise PermissionDenied("无权记录该事项")
    if case.status in ENDED_STATUSES:
        raise IllegalTransition("事项已办结，不能再添加记录")


@transaction.atomic
def meeting_add(*, actor, case: Case, kind: str, held_at: datetime, place: str, participants: str,
                minutes: str = "") -> Meeting:
    errors = {}
    if kind not in MeetingKind.values:
        errors["kind"] = "会议类型无效"
    if not clean_text(place):
        errors["place"] = "请填写地点"
    if not clean_text(participants):
        errors["participants"] = "请填写参加人员"
    if held_at is None:
        errors["held_at"] = "请填写会议时间"
    elif held_at > timezone.now() + timedelta(days=1):
        errors["held_at"] = "会议时间不能晚于今天（请在会后记录）"
    if errors:
        raise ValidationError(errors)
    case = _lock(case)
    _check_record(actor, case)
    meeting = Meeting.objects.create(case=case, kind=kind, held_at=held_at, place=clean_text(place)[:100],
                                     participants=str(participants)[:2000], minutes=str(minutes or "")[:10000],
                                     created_by=actor)
    _event(case, actor, "meeting", before=(case.status, case.level), note=f"{meeting.get_kind_display()}：{meeting.place}",
           meeting_id=meeting.pk, kind=kind)
    audit.record(actor, "cases.meeting_add", case, meeting_id=meeting.pk)
    return meeting


@transaction.atomic
def mediation_add(*, actor, case: Case, held_at: datetime, result: str, mediators=(), mediator_names: str = "",
                  place: str = "", facts: str = "", terms: str = "") -> Mediation:
    errors = {}
    if result not in MediationResult.values:
        errors["result"] = "请选择调解结果"
    if held_at is None:
        errors["held_at"] = "请填写调解时间"
    elif held_at > timezone.now() + timedelta(days=1):
        errors["held_at"] = "调解时间不能晚于今天"
    if not mediators and not clean_text(mediator_names):
        errors["mediators"] = "请填写调解员"
    if result == MediationResult.SUCCESS and not str(terms or "").strip():
        errors["terms"] = "调解成功须填写协议内容"
    if errors:
        raise ValidationError(errors)
    case = _lock(case)
    _check_record(actor, case)
    if case.kind == Kind.PETITION:
        pass  # petitions may be mediated too (信访事项中的纠纷)
    number = ""
    if result == MediationResult.SUCCESS:
        year = timezone.localtime().year
        seq = Mediation.objects.filter(case__area_code__startswith=case.area_code[:9], result=MediationResult.SUCCESS,
                                       held_at__year=held_at.year).count() + 1
        number = f"{case.area_code[:9]}-{year}-{seq:04d}"
    mediation = Mediation.objects.create(
        case=case, held_at=held_at, result=result, mediator_names=clean_text(mediator_names)[:200],
        place=clean_text(place)[:100], facts=str(facts or "")[:5000], terms=str(terms or "")[:5000],
        agreement_no=number, created_by=actor,
    )
    if mediators:
        mediation.mediators.set(mediators)
    _event(case, actor, "mediation", before=(case.status, case.level), note=mediation.get_result_display(),
           mediation_id=mediation.pk, result=result)
    audit.record(actor, "cases.mediation_add", case, mediation_id=mediation.pk, result=result)
    return mediation


@transaction.atomic
def follow_up_add(*, actor, case: Case, satisfaction: str, note: str = "", reopen: bool = False) -> FollowUp:
    """回访 after closing. 不满意 may reopen the case."""
    if satisfaction not in Satisfaction.values:
        raise _err("satisfaction", "请选择满意度")
    case = _lock(case)
    if case.status != Status.CLOSED:
        raise IllegalTransition("事项办结后才能回访")
    if actor is None or not can_in_area(actor, "cases.change_case", case.area_code):
        raise PermissionDenied("无权回访该事项")
    if reopen and satisfaction != Satisfaction.UNSATISFIED:
        raise _err("reopen", "只有“不满意”才能重新办理")
    follow = FollowUp.objects.create(case=case, at=timezone.now(), satisfaction=satisfaction,
                                     note=str(note or "")[:2000], by=actor)
    case.satisfaction = satisfaction
    case.save(update_fields=["satisfaction", "updated_at"])
    _event(case, actor, "follow_up", before=(case.status, case.level), note=Satisfaction(satisfaction).label,
           satisfaction=satisfaction)
    audit.record(actor, "cases.follow_up", case, satisfaction=satisfaction)
    if reopen:
        case_reopen(actor=actor, case=case, reason=f"回访不满意：{clean_text(note) or '群众不满意'}")
    return follow


@transaction.atomic
def skip_level_record(*, actor, case: Case, occurred_on, destination: str, note: str = "") -> SkipLevelRecord:
    """Staff record that the petitioner went above the township (越级访)."""
    destination = clean_text(destination)
    if not destination:
        raise _err("destination", "请填写去向（如：县信访局、市信访局、省信访局、国家信访局）")
    if occurred_on is None or occurred_on > timezone.localdate():
        raise _err("occurred_on", "日期不能晚于今天")
    case = _lock(case)
    if actor is None or not can_in_area(actor, "cases.change_case", case.area_code):
        raise PermissionDenied("无权记录")
    record = SkipLevelRecord.objects.create(case=case, area_code=case.area_code, occurred_on=occurred_on,
                                            destination=destination[:100], note=str(note or "")[:2000],
                                            recorded_by=actor)
    case.skip_level = True
    case.save(update_fields=["skip_level", "updated_at"])
    _event(case, actor, "skip_level", before=(case.status, case.level), note=f"越级访：{destination}", public=False)
    audit.record(actor, "cases.skip_level", case, destination=destination[:100], occurred_on=str(occurred_on))
    return record


@transaction.atomic
def party_add(*, actor, case: Case, name: str, role: str = PartyRole.RESPONDENT, note: str = "",
              resident=None) -> CaseParty:
    """Add a party after registration (e.g. the respondent of a villager's online dispute,
    so that the mediation agreement names both sides)."""
    name = clean_text(name)
    if not name:
        raise _err("name", "请填写当事人姓名或单位名称")
    if len(name) > 100:
        raise _err("name", "姓名/名称过长（最多 100 个字）")
    if role not in PartyRole.values:
        raise _err("role", "当事人身份无效")
    case = _lock(case)
    _check_record(actor, case)
    if case.parties.count() >= 20:
        raise _err("name", "每个事项最多登记 20 名当事人")
    if resident is not None and not resident.area_code.startswith(case.area_code[:9]):
        raise _err("resident", "该居民不在本乡镇")
    party = CaseParty.objects.create(case=case, name=name, role=role, note=clean_text(note)[:200], resident=resident)
    _event(case, actor, "party", before=(case.status, case.level), note=f"{PartyRole(role).label}：{name}",
           public=False)
    audit.record(actor, "cases.party_add", case, party_id=party.pk, role=role)
    return party


@transaction.atomic
def attachment_add(*, actor, case: Case, upload) -> Attachment:
    """Photos/PDF on a case: type checked by content, ≤ 10 MB, stored outside the web root.
    ``actor`` None = the villager's own photos sent with a public intake (portal)."""
    content_type = check_upload(upload)
    case = _lock(case)
    if actor is not None and not can_in_area(actor, "cases.change_case", case.area_code):
        raise PermissionDenied("无权上传附件")
    if case.attachments.count() >= 20:
        raise _err("file", "每个事项最多 20 个附件")
    display, stored = safe_name(getattr(upload, "name", ""), content_type)
    attachment = Attachment(case=case, name=display, content_type=content_type, size=upload.size, uploaded_by=actor)
    attachment.file.save(stored, upload, save=False)
    attachment.save()
    _event(case, actor, "attachment", before=(case.status, case.level), note=display, public=False,
           attachment_id=attachment.pk)
    audit.record(actor, "cases.attachment_add", case, attachment_id=attachment.pk, size=upload.size)
    return attachment


def repeat_candidates(*, area_code: str, household=None, names=(), category=None, now=None, limit: int = 5):
    """Cases that look like the same petition again (same household or party names, same
    village, within 12 months): suggested for linking at registration."""
    now = now or timezone.now()
    qs = Case.objects.filter(area_code__startswith=area_code[:12], received_at__gte=now - timedelta(days=365))
    cond = None
    from django.db.models import Q

    if household is not None:
        cond = Q(household=household)
    clean_names = [clean_text(n) for n in names if clean_text(n)]
    if clean_names:
        q_names = Q(parties__name__in=clean_names) | Q(contact_name__in=clean_names)
        cond = q_names if cond is None else cond | q_names
    if cond is None:
        return Case.objects.none()
    qs = qs.filter(cond)
    if category is not None:
        qs = qs.filter(category=category)
    return qs.distinct().order_by("-received_at")[:limit]


# --- the periodic job --------------------------------------------------------------------
def escalate_overdue(*, now: datetime | None = None, batch: int = 500) -> int:
    """Escalate open disputes/needs whose level time limit has passed, one level up, and
    notify the new level. Idempotent: an escalated case gets a fresh level clock, so a
    second run finds nothing more to do. Returns the number escalated."""
    from .choices import OPEN_STATUSES

    now = now or timezone.now()
    qs = (
        Case.objects.filter(kind__in=[Kind.DISPUTE, Kind.NEED], status__in=OPEN_STATUSES, level_due_at__lt=now)
        .exclude(level=Level.TOWNSHIP)
        .exclude(status__in=[Status.RESOLVED])
        .order_by("id")
        .values_list("id", flat=True)
    )
    done = 0
    last = 0
    while True:
        ids = list(qs.filter(id__gt=last)[:batch])
        if not ids:
            return done
        for pk in ids:
            last = pk
            case = Case.objects.get(pk=pk)
            try:
                case_escalate(actor=None, case=case, reason=f"{Level(case.level).label}级办理超过时限，自动上报",
                              auto=True, at=now)
                done += 1
            except IllegalTransition:
                continue
