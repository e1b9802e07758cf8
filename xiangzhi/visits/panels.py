"""The 一户一档 page's 走访记录 panel: the household's latest visits and the cadres linked to
it (连心工程 / 四联四帮), with "记走访" and "安排联系干部" links. O(1) queries, read through the
scoped selectors."""

from __future__ import annotations

from django.urls import reverse

from xiangzhi.core.scoping import can_in_area, scopes_for
from xiangzhi.residents import panels

from . import selectors


@panels.register("visits")
def household_visits(user, household):
    areas, _ = scopes_for(user, "visits.view_visit")
    if not areas:  # villagers and roles without field work
        return None
    rows, qs = selectors.visits_of_household(user=user, household=household, limit=5)
    contacts = list(selectors.contact_list(user=user).filter(household=household)[:10])
    items = [
        {
            "title": f"{v.get_kind_display()} · {v.cadre.name}",
            "meta": f"{v.visited_on:%Y-%m-%d} · {v.summary[:40]}",
            "url": reverse("visits:detail", args=[v.pk]),
        }
        for v in rows
    ]
    if can_in_area(user, "visits.add_visit", household.area_code):
        items.append({"title": "记走访", "url": reverse("visits:create") + f"?household={household.pk}"})
    if can_in_area(user, "visits.add_contactassignment", household.area_code):
        items.append({"title": "安排联系干部", "url": reverse("visits:contact_add") + f"?household={household.pk}"})
    total = qs.order_by().count() if len(rows) == 5 else len(rows)
    linked = "、".join(f"{c.cadre.name}（{c.get_kind_display()}）" for c in contacts)
    summary = f"走访 {total} 次" if total else "尚未走访"
    summary += f"；联系干部：{linked}" if linked else "；尚无联系干部"
    return {
        "items": items,
        "summary": summary,
        "more_url": reverse("visits:home") + f"?tab=all&household={household.pk}",
    }
