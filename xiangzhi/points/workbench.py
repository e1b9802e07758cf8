"""Home work-bench panels of the points module: the review work of a village (待评议,
公示中, 异议, 申诉) and the keeper's shops (counter links, low stock). Counts are capped;
never a count over the whole table."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from xiangzhi.core.api import COUNT_CAP
from xiangzhi.core.scoping import has_perm, scopes_for
from xiangzhi.core.workbench import register_panel

from . import selectors
from .choices import AwardStatus


def _capped(qs) -> str:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return f"{COUNT_CAP:,}+" if n > COUNT_CAP else f"{n:,}"


@register_panel
def points_review_panel(user, assignments):
    areas, _ = scopes_for(user, "points.view_award")
    if not areas:
        return None
    try:
        url = reverse("points:award_list")
    except NoReverseMatch:
        return None
    awards = selectors.awards_for(user)
    items = [
        {
            "label": "公示中",
            "value": f"{_capped(awards.filter(status=AwardStatus.PUBLICIZING))} 条",
            "url": f"{url}?status=publicizing",
        }
    ]
    if has_perm(user, "points.review_award"):
        items.append(
            {
                "label": "异议待处理",
                "value": f"{_capped(selectors.objection_list(user=user))} 条",
                "url": reverse("points:objection_list"),
            }
        )
    if has_perm(user, "points.change_redblacklist"):
        items.append(
            {
                "label": "红黑榜申诉",
                "value": f"{_capped(selectors.appeal_list(user=user))} 件",
                "url": reverse("points:appeal_list"),
            }
        )
    if has_perm(user, "points.add_award"):
        items.append({"label": "申报积分", "value": None, "url": reverse("points:award_create")})
    return {
        "title": "积分评议",
        "value": f"{_capped(awards.filter(status=AwardStatus.PROPOSED))} 条待评议",
        "items": items,
        "url": f"{url}?status=proposed" if has_perm(user, "points.review_award") else url,
        "link_label": "进入积分评议",
    }


@register_panel
def points_shop_panel(user, assignments):
    if not any(role == "shop_keeper" for _, role in assignments):
        return None
    shops = list(selectors.kept_shops(user).order_by("area_code", "name")[:4])
    if not shops:
        return {
            "title": "振风超市",
            "value": None,
            "items": [{"label": "尚未指定您管理的超市", "value": None, "url": None}],
        }
    items = [
        {"label": f"{s.name} · 兑换柜台", "value": None, "url": reverse("points:counter", args=[s.pk])} for s in shops
    ]
    items.append(
        {
            "label": "低库存商品",
            "value": f"{_capped(selectors.low_stock(user=user))} 种",
            "url": reverse("points:low_stock"),
        }
    )
    return {
        "title": "振风超市",
        "value": None,
        "items": items,
        "url": reverse("points:shop_list"),
        "link_label": "超市与商品",
    }


@register_panel
def my_points_panel(user, assignments):
    """Villagers: their household's balance, linking to the portal page."""
    areas, own = scopes_for(user, "points.view_account")
    if areas or not own:
        return None
    household = selectors.my_household(user)
    if household is None:
        return None
    account = selectors.accounts_for(user).filter(household=household).first()
    try:
        url = reverse("portal:points_me")
    except NoReverseMatch:
        return None
    return {
        "title": "我的积分",
        "value": f"{account.balance if account else 0} 分",
        "items": [
            {"label": "振风超市商品", "value": None, "url": reverse("portal:points_shop")},
            {"label": "申报积分", "value": None, "url": reverse("portal:points_claim")},
        ],
        "url": url,
        "link_label": "积分明细",
    }
