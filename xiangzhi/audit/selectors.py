"""Reads of the audit log, for auditors only, always through ``restrict()``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from xiangzhi.core.scoping import scopes_for

from .models import AuditEvent

PERM = "audit.view_auditevent"
PAGE_SIZE = 50
MAX_ID = 2**63 - 1

ACTION_LABELS = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.lockout": "账户锁定",
    "auth.logout": "退出登录",
    "auth.token_issue": "签发 API 令牌",
    "auth.token_failed": "API 令牌申请失败",
    "accounts.user_create": "创建账户",
    "accounts.user_disable": "停用账户",
    "accounts.user_enable": "启用账户",
    "accounts.password_set": "重置密码",
    "org.assignment_add": "分配岗位",
    "org.assignment_remove": "撤销岗位",
    "org.grid_create": "新建网格",
    "org.grid_update": "修改网格",
    "org.regions_import": "导入区划",
    "residents.household_create": "新建住户",
    "residents.household_update": "修改住户",
    "residents.resident_create": "新建居民",
    "residents.resident_update": "修改居民",
    "residents.reveal": "查看完整个人信息",
}


def event_scope(user):
    """The events an auditor may read: those whose area lies inside one of its auditor
    assignments.

    Events without an area (failed logins and token requests for unknown user names,
    imports of the division tree, system jobs) belong to no township, so they are shown
    only to auditors whose assignment covers a whole county (or more). A township's
    auditor still sees failed logins and lockouts of its own accounts: those events carry
    the account's home area (``accounts.services.account_area``)."""
    qs = AuditEvent.objects.restrict(user, "view")
    areas, _ = scopes_for(user, PERM)
    if any(len(a) <= 6 for a in areas):
        qs = qs | AuditEvent.objects.filter(area_code="")
    return qs


@dataclass
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    action: str = ""
    actor: str = ""
    area: str = ""


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min), timezone.get_default_timezone())


def filtered(user, filters: Filters):
    qs = event_scope(user)
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.action:
        # "auth." finds every login event; a full name finds exactly that action
        qs = qs.filter(action__startswith=filters.action)
    if filters.actor:
        qs = qs.filter(actor_name=filters.actor)
    if filters.area:
        qs = qs.filter(area_code__startswith=filters.area)
    return qs


@dataclass
class KeysetPage:
    """Newest first, O(page): ``before``/``after`` are event ids, never an offset or a count."""

    events: list = field(default_factory=list)
    newer_than: int | None = None  # link to newer events: ?after=<id>
    older_than: int | None = None  # link to older events: ?before=<id>


def _id(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n <= MAX_ID else None


def event_page(user, filters: Filters, *, before=None, after=None, size: int = PAGE_SIZE) -> KeysetPage:
    qs = filtered(user, filters)
    before, after = _id(before), _id(after)
    if after is not None and before is None:
        rows = list(qs.filter(id__gt=after).order_by("id")[: size + 1])
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        page = KeysetPage(events=rows)
        if rows:
            page.newer_than = rows[0].id if more_newer else None
            page.older_than = rows[-1].id if qs.filter(id__lt=rows[-1].id).exists() else None
        return page
    base = qs.filter(id__lt=before) if before is not None else qs
    rows = list(base.order_by("-id")[: size + 1])
    page = KeysetPage(events=rows[:size])
    if page.events:
        page.older_than = page.events[-1].id if len(rows) > size else None
        if before is not None and qs.filter(id__gt=page.events[0].id).exists():
            page.newer_than = page.events[0].id
    return page


def details_text(details) -> str:
    if not details:
        return ""
    return json.dumps(details, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, "")
