"""The home work bench's 干部队伍 panel: cadres in office in scope, young cadres, overdue
commitments. Capped counts."""

from __future__ import annotations

from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from xiangzhi.core import periods
from xiangzhi.core.scoping import scopes_for
from xiangzhi.core.workbench import register_panel

from . import selectors
from .models import Commitment

CAP = 10_000


@register_panel
def cadres_panel(user, assignments):
    areas, _ = scopes_for(user, "cadres.view_cadre")
    if not areas or all(len(a) > 12 for a in areas):  # grid-level posts hold no roster
        return None
    try:
        url = reverse("cadres:roster")
    except NoReverseMatch:
        return None
    today = periods.local_today()
    in_office = selectors.cadres_for(user).filter(Q(left_on__isnull=True) | Q(left_on__gt=today))
    young = in_office.filter(birth_date__gt=selectors.cutoff_young(today))
    overdue = Commitment.objects.filter(cadre__in=in_office, fulfilled_on__isnull=True, deadline__lt=today)
    items = [
        {"label": "35 岁以下", "value": f"{young.order_by()[:CAP].count()} 人", "url": f"{url}?young=1"},
        {
            "label": "承诺逾期未践诺",
            "value": f"{overdue.order_by()[:CAP].count()} 项",
            "url": reverse("cadres:commitments") + "?status=overdue",
        },
        {"label": "队伍分析", "url": reverse("cadres:analytics")},
    ]
    return {
        "title": "干部队伍",
        "value": f"{in_office.order_by()[:CAP].count()} 人",
        "items": items,
        "url": url,
        "link_label": "花名册",
    }
