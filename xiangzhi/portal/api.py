"""Public API under /api/v1/public (no login): the villagers' intake and tracking, with the
same rules as the portal pages — village-level intake only, tracking needs both the code
and the phone's last 4 digits, and per-IP rate limits shared with the pages (429)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpResponse
from ninja import Header, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict, Field

from xiangzhi.cases.choices import Kind
from xiangzhi.core import ratelimit
from xiangzhi.core.api import ErrorOut, Text

from . import selectors, services

router = Router(tags=["群众服务（公开）"])

NOT_FOUND = "查询码或手机号后四位不正确"
LIMITED = {429: ErrorOut}
KindCode = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
IdempotencyKey = Text(64, min_length=8, pattern=r"[A-Za-z0-9_.:-]{8,64}", message="应为 8–64 位字母、数字或 _.:-")
IDEMPOTENCY_HEADER = Header(None, alias="Idempotency-Key")  # optional header


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class PublicIntakeIn(_In):
    village_code: Text(12, min_length=12, pattern=r"[0-9]{12}", message="应为 12 位村代码") = Field(
        description="村代码（12 位，二维码里的那一个）"
    )
    kind: KindCode = Field(
        description="need 我有困难需要帮助 / dispute 我有矛盾纠纷需要调解 / petition 我要信访反映问题"
    )
    title: Text(100, min_length=1) = Field(description="一句话说明")
    description: Text(5000, min_length=1) = Field(description="详细情况")
    contact_name: Text(50, min_length=1) = Field(description="姓名")
    contact_phone: Text(20, min_length=5, pattern=r"[0-9+() -]{5,20}", message="电话号码格式不正确") = Field(
        description="手机号码（查询进度要用后四位）"
    )


class PublicIntakeOut(Schema):
    tracking_code: str = Field(description="查询码：请提醒群众记下")
    village_name: str
    kind: str
    status: str
    received_at: datetime


class TrackIn(_In):
    tracking_code: Text(12, min_length=10, pattern=r"[A-Za-z0-9]{10,12}", message="查询码是 10 位字母和数字")
    phone_last4: Text(4, min_length=4, pattern=r"[0-9]{4}", message="请输入手机号后四位（4 位数字）")


class PublicEventOut(Schema):
    at: datetime
    text: str
    actor: str = Field(description="岗位（不含姓名）")
    status: str
    status_label: str
    level: str
    level_label: str


class TrackOut(Schema):
    tracking_code: str
    kind: str
    kind_label: str
    title: str
    status: str
    status_label: str
    level: str
    level_label: str
    village_name: str
    received_at: datetime
    closed_at: datetime | None
    timeline: list[PublicEventOut]


def _limited(response: HttpResponse, exc: ratelimit.RateLimited):
    response["Retry-After"] = str(exc.retry_after)
    return Status(429, {"detail": exc.message})


@router.post(
    "/cases",
    auth=None,
    response={201: PublicIntakeOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut, **LIMITED},
    summary="群众提交诉求（公开）",
)
def public_intake(
    request,
    response: HttpResponse,
    payload: PublicIntakeIn,
    idempotency_key: IdempotencyKey = IDEMPOTENCY_HEADER,
):
    """在村里登记一件事项（网上渠道），村党组织书记为第一责任人；返回查询码。只接受村级代码。
    同一 IP 每 10 分钟最多 5 件（429）。请求头 ``Idempotency-Key`` 使重试返回同一事项。"""
    try:
        ratelimit.peek(request, "intake")
    except ratelimit.RateLimited as exc:
        return _limited(response, exc)
    village = selectors.intake_village(payload.village_code)
    if village is None:
        raise HttpError(404, "没有这个村")
    case, created = services.intake_submit(
        village_code=village.code,
        kind=payload.kind,
        title=payload.title,
        description=payload.description,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        token=idempotency_key or "",
    )
    if created:
        try:
            ratelimit.hit(request, "intake")
        except ratelimit.RateLimited:
            pass  # already written; the limit applies from the next submission
    else:
        response["Idempotent-Replayed"] = "true"
    return Status(
        201,
        {
            "tracking_code": case.tracking_code,
            "village_name": village.name,
            "kind": case.kind,
            "status": case.status,
            "received_at": case.received_at,
        },
    )


@router.post(
    "/cases/track",
    auth=None,
    response={200: TrackOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut, **LIMITED},
    summary="查询办理进度（公开）",
)
def public_track(request, response: HttpResponse, payload: TrackIn):
    """凭查询码和手机号后四位查询：类型、标题、状态、层级和公开的办理记录（只显示岗位，不显示姓名）。
    查询码不存在和后四位不对的回答完全相同（404）。同一 IP 每分钟 10 次、每小时 50 次（429）。"""
    try:
        ratelimit.hit(request, "track")
    except ratelimit.RateLimited as exc:
        return _limited(response, exc)
    result = selectors.track(tracking_code=payload.tracking_code, phone_last4=payload.phone_last4)
    if result is None:
        raise HttpError(404, NOT_FOUND)
    return result
