"""The cases panel on the home work bench: my to-do list, overdue and yellow cases in
scope, my 包案. Counts are capped (never a count over the whole table)."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from xiangzhi.core.api import COUNT_CAP
from xiangzhi.core.scoping import has_perm, scopes_for
from xiangzhi.core.workbench import register_panel

from . import deadlines, selectors, ui
from .choices import OPEN_STATUSES


def _capped(qs) -> str:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return f"{COUNT_CAP:,}+" if n > COUNT_CAP else f"{n:,}"


@register_panel
def cases_panel(user, assignments):
    areas, _ = scopes_for(user, "cases.view_case")
    if not areas:  # villagers follow their cases on the portal
        return None
    try:
        url = reverse("cases:queue")
    except NoReverseMatch:
        return None
    now = timezone.now()
    scoped = selectors.cases_for(user)
    overdue = scoped.filter(deadlines.current_due_q(now))
    yellow = scoped.filter(yellow_at__lt=now, status__in=OPEN_STATUSES).exclude(deadlines.current_due_q(now))
    items = []
    if has_perm(user, "cases.handle_case"):
        todo = scoped.filter(ui.todo_q(user))
        items.append({"label": "我的待办", "value": f"{_capped(todo)} 件", "url": f"{url}?tab=todo"})
        items.append(
            {
                "label": "我的包案",
                "value": f"{_capped(scoped.filter(lead=user, status__in=OPEN_STATUSES))} 件",
                "url": f"{url}?tab=lead",
            }
        )
    items.append({"label": "已超期", "value": f"{_capped(overdue)} 件", "url": f"{url}?tab=all&status=overdue"})
    items.append({"label": "黄色预警", "value": f"{_capped(yellow)} 件", "url": None})
    return {
        "title": "矛盾纠纷/信访",
        "value": f"{_capped(scoped.filter(status__in=OPEN_STATUSES))} 件在办",
        "items": items,
        "url": url,
        "link_label": "进入事项工作台",
    }
