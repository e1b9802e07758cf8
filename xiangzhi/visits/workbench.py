"""The home work bench's 走访 panel: my visits this month, my linked households not visited
for 30 days, a "记走访" link. Cheap, capped counts."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max, Q
from django.urls import NoReverseMatch, reverse

from xiangzhi.core import periods
from xiangzhi.core.scoping import scopes_for
from xiangzhi.core.workbench import register_panel

from . import selectors
from .models import ContactAssignment, Visit

STALE_DAYS = 30


@register_panel
def visits_panel(user, assignments):
    areas, _ = scopes_for(user, "visits.view_visit")
    if not areas:
        return None
    try:
        url = reverse("visits:home")
    except NoReverseMatch:
        return None
    today = periods.local_today()
    month = periods.current("month", today)
    cadre = selectors.my_cadre(user)
    items = []
    if cadre is not None:
        mine = Visit.objects.filter(cadre=cadre, visited_on__gte=month.start, visited_on__lt=month.end)
        value = f"本月走访 {mine.order_by()[:1000].count()} 次"
        stale = (
            ContactAssignment.objects.filter(cadre=cadre, household__isnull=False)
            .filter(Q(end__isnull=True) | Q(end__gt=today))
            .annotate(last=Max("household__visits__visited_on"))
            .filter(Q(last__isnull=True) | Q(last__lt=today - timedelta(days=STALE_DAYS)))
            .values("household")
            .distinct()
        )
        items.append({"label": f"联系户 {STALE_DAYS} 天未走访", "value": f"{stale.order_by()[:1000].count()} 户"})
    else:
        scoped = selectors.visits_for(user).filter(visited_on__gte=month.start, visited_on__lt=month.end)
        value = f"本月走访 {scoped.order_by()[:10_000].count()} 次"
    if scopes_for(user, "visits.add_visit")[0]:
        items.append({"label": "记走访", "url": reverse("visits:create")})
    items.append({"label": "覆盖与统计", "url": reverse("visits:coverage")})
    return {"title": "走访", "value": value, "items": items, "url": url, "link_label": "进入走访"}
