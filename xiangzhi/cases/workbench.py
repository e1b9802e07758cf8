"""The cases panels: on the home work bench (my to-do list, overdue and yellow cases in
scope, my 包案; counts capped, never a count over the whole table) and on the 一户一档
page (the household's cases)."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from xiangzhi.core import periods
from xiangzhi.core.api import COUNT_CAP
from xiangzhi.core.scoping import has_perm, scopes_for
from xiangzhi.core.workbench import register_panel
from xiangzhi.residents import panels

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
    items = []
    if has_perm(user, "cases.handle_case"):
        value = f"{_capped(scoped.filter(ui.todo_q(user)))} 件待办"
        lead = scoped.filter(lead=user, status__in=OPEN_STATUSES)
        items.append({"label": "我的包案", "value": f"{_capped(lead)} 件", "url": f"{url}?tab=lead"})
    else:
        value = f"{_capped(scoped.filter(status__in=OPEN_STATUSES))} 件在办"
    items.append({"label": "已超期", "value": f"{_capped(overdue)} 件", "url": f"{url}?tab=all&status=overdue"})
    missing = _calendar_missing()
    if missing and has_perm(user, "cases.configure_case"):
        items.append({"label": f"{missing} 年放假安排未录入", "value": "工作日暂按周一至周五计算",
                      "url": reverse("cases:config") + "#calendar-config"})
    return {"title": "矛盾纠纷/信访", "value": value, "items": items, "url": url, "link_label": "进入事项工作台"}


def _calendar_missing() -> int | None:
    """The year whose 放假/调休 days nobody has (the shipped data or an entry): this year,
    or from November on — when the State Council publishes it — next year."""
    today = periods.local_today()
    for year in (today.year, today.year + 1 if today.month >= 11 else None):
        if year and periods.calendar_source(year) == "weekdays":
            return year
    return None


@panels.register("cases")
def household_cases(user, household):
    """The 一户一档 page's panel: this household's cases in the user's scope (staff only)."""
    areas, _ = scopes_for(user, "cases.view_case")
    if not areas:
        return None
    qs = selectors.cases_for(user).filter(household=household)
    rows = list(qs.select_related("category__parent").order_by("-received_at", "-id")[:5])
    total = qs.order_by().count() if len(rows) == 5 else len(rows)
    open_count = qs.filter(status__in=OPEN_STATUSES).order_by().count() if total else 0
    items = [
        {
            "title": c.title,
            "meta": f"{c.tracking_code} · {c.get_kind_display()} · {timezone.localtime(c.received_at):%Y-%m-%d}",
            "url": reverse("cases:detail", args=[c.pk]),
            "badge": c.get_status_display(),
            "badge_class": "bg-blue-lt" if c.status in OPEN_STATUSES else "bg-secondary-lt",
        }
        for c in rows
    ]
    data = {"items": items, "more_url": f"{reverse('cases:queue')}?tab=all&household={household.pk}"}
    if total:
        data["summary"] = f"共 {total} 件，在办 {open_count} 件"
    return data
