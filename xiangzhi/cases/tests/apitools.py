"""Helpers of the case API tests: token clients, cases built into a given workflow state."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client, RequestFactory
from django.utils import timezone

from xiangzhi.accounts.services import token_issue
from xiangzhi.cases import services
from xiangzhi.cases.models import Category
from xiangzhi.core.testing import PASSWORD

PREFIX = "/api/v1"


def bearer(user) -> Client:
    request = RequestFactory().post("/api/v1/auth/token")
    raw = token_issue(request=request, username=user.username, password=PASSWORD)
    assert raw, user.username
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def call(client: Client, method: str, path: str, body=None, **extra):
    kwargs = dict(extra)
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method.lower())(path, **kwargs)


def register(cast, *, kind="dispute", area=None, **kw):
    category = Category.objects.get_or_create(code="neighbour", township_code="", defaults={"name": "邻里"})[0]
    return services.case_register(
        actor=kw.pop("actor", cast.grid_worker_a1),
        kind=kind,
        channel=kw.pop("channel", "grid_report"),
        area_code=area or cast.grid_a1.code,
        title=kw.pop("title", "邻里排水沟纠纷"),
        description=kw.pop("description", "两户因排水沟走向发生争执"),
        category=category,
        **kw,
    )


def four_fixes(cast, days=5) -> dict:
    return {
        "lead": cast.secretary_a,
        "handler": cast.grid_worker_a1,
        "responsibility": "网格员负责现场调查，书记包案",
        "plan": "现场查看后组织小组会协商",
        "due_at": timezone.now() + timedelta(days=days),
    }


def case_in(cast, state: str, **kw):
    """A grid-level dispute in 刘冲村 first grid, moved by 刘冲村's secretary into ``state``:
    registered / accepted / assigned / in_progress / resolved / unresolved / closed /
    not_accepted / transferred / village (registered, escalated to the village) /
    extension (assigned, with a pending extension request)."""
    case = register(cast, **kw)
    sec = cast.secretary_a
    if state == "registered":
        return case
    if state == "village":
        return services.case_escalate(actor=cast.grid_worker_a1, case=case, reason="网格调解不成，上报村里")
    if state == "not_accepted":
        return services.case_reject(actor=sec, case=case, reason="不属于受理范围")
    if state == "transferred":
        return services.case_transfer(actor=sec, case=case, to_body="县自然资源局", reason="属于职能部门")
    case = services.case_accept(actor=sec, case=case)
    if state == "accepted":
        return case
    case = services.case_assign(actor=sec, case=case, **four_fixes(cast))
    if state == "assigned":
        return case
    if state == "extension":
        return services.case_request_extension(actor=sec, case=case, days=5, reason="等待土地确权材料")
    case = services.case_start(actor=sec, case=case)
    if state == "in_progress":
        return case
    if state == "unresolved":
        return services.case_fail(actor=sec, case=case, note="双方分歧较大")
    case = services.case_resolve(actor=sec, case=case, note="双方达成一致")
    if state == "resolved":
        return case
    case = services.case_close(actor=sec, case=case, resolution="已调解，双方签订协议")
    assert state == "closed", state
    return case
