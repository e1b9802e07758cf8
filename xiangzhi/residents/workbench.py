"""The registry's panel on the home work bench."""

from django.urls import NoReverseMatch, reverse

from xiangzhi.core.scoping import scopes_for
from xiangzhi.core.workbench import register_panel

from .choices import ResidentStatus
from .models import Household, Resident


@register_panel
def my_household_panel(user, assignments):
    """A villager's own 一户一档."""
    if scopes_for(user, "residents.view_household")[0]:
        return None
    household = Household.objects.restrict(user, "view").first()
    if household is None:
        return None
    return {
        "title": "我的家庭档案",
        "value": str(household),
        "items": [{"label": "家庭成员", "value": f"{household.member_count} 人"}],
        "url": reverse("residents:household_detail", args=[household.pk]),
        "link_label": "查看一户一档",
    }


@register_panel
def registry_panel(user, assignments):
    if not scopes_for(user, "residents.view_household")[0]:
        return None
    households = Household.objects.restrict(user, "view")
    residents = Resident.objects.restrict(user, "view").filter(status=ResidentStatus.ACTIVE)
    try:
        url = reverse("residents:household_list")
    except NoReverseMatch:
        url = None
    return {
        "title": "一户一档",
        "value": f"{households.count():,} 户",
        "items": [{"label": "在册人口", "value": f"{residents.count():,} 人"}],
        "url": url,
        "link_label": "查找户籍",
    }
