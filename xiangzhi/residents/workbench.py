"""The registry's panel on the home work bench."""

from django.urls import NoReverseMatch, reverse

from xiangzhi.core.scoping import has_perm
from xiangzhi.core.workbench import register_panel

from .choices import ResidentStatus
from .models import Household, Resident


@register_panel
def registry_panel(user, assignments):
    if not has_perm(user, "residents.view_household"):
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
