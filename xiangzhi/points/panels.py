"""The 一户一档 page's 积分 panel: the household's balance, its latest entries and
awards under way, the card to print. O(1) queries, read through scoped selectors."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from xiangzhi.core.scoping import has_perm
from xiangzhi.residents import panels

from . import selectors
from .choices import AwardStatus


@panels.register("points")
def household_points(user, household):
    if not has_perm(user, "points.view_account"):
        return None
    account = selectors.account_of_household(user=user, household=household)
    can_ledger = has_perm(user, "points.view_ledgerentry")
    more = reverse("points:household_account", args=[household.pk])
    items = []
    if account is None:
        data = {"items": [], "summary": "尚无积分记录", "more_url": more}
    else:
        if can_ledger:
            entries, _ = selectors.ledger_page(user=user, account=account, limit=4)
            for e in entries:
                items.append(
                    {
                        "title": f"{e.get_kind_display()} {e.amount:+d} 分" + (f" · {e.note}" if e.note else ""),
                        "meta": f"{timezone.localtime(e.created_at):%Y-%m-%d} · 余额 {e.balance_after}",
                        "badge": f"{e.amount:+d}",
                        "badge_class": "bg-green-lt" if e.amount > 0 else "bg-red-lt",
                    }
                )
        under_way = (
            selectors.awards_for(user)
            .filter(account=account, status__in=[AwardStatus.PROPOSED, AwardStatus.PUBLICIZING, AwardStatus.OBJECTED])
            .order_by()[:100]
            .count()
        )
        summary = f"余额 {account.balance} 分，累计获得 {account.earned_total} 分"
        if under_way:
            summary += f"；评议/公示中 {under_way} 条"
        data = {"items": items, "summary": summary, "more_url": more}
    items.append({"title": "打印积分卡（超市扫码兑换）", "url": reverse("points:card", args=[household.pk])})
    if has_perm(user, "points.add_award"):
        items.append(
            {"title": "申报加分/扣分", "url": reverse("points:award_create") + f"?subject=household:{household.pk}"}
        )
    data["items"] = items
    return data
