"""URLconf for the case benchmarks: the project's URLs plus a bare view that runs the work
queue's query (same scope, same 我的待办 condition, same urgency ordering, LIMIT 21) and
renders it in a minimal template — the baseline GET /cases/ is compared with: same
middleware, same session, same query, none of the page's own work (filters, tabs,
categories, leads, labels, badges, layout)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path
from django.utils import timezone

from xiangzhi.cases.choices import OPEN_STATUSES
from xiangzhi.cases.models import Case
from xiangzhi.cases.selectors import with_warning
from xiangzhi.core.scoping import prefix_q

PAGE = 20
TOWNSHIP = "341524111"

TEMPLATE = engines["django"].from_string(
    "<!doctype html><title>bare</title><table>"
    "{% for c in rows %}<tr><td>{{ c.tracking_code }}</td><td>{{ c.title }}</td><td>{{ c.get_status_display }}</td>"
    "<td>{{ c.area_code }}</td><td>{{ c.due_at|date:'Y-m-d' }}</td><td>{{ c.warning }}</td>"
    "<td>{{ c.lead.full_name }}</td><td>{{ c.handler.full_name }}</td><td>{{ c.category.name }}</td></tr>{% endfor %}"
    "</table>"
)


def in_area(code: str) -> Q:
    return prefix_q("area_code", code)  # the index range a hand-written query would use


def bare_queryset(user, tab: str):
    qs = Case.objects.filter(in_area(TOWNSHIP))
    if tab == "todo":
        mine = Q(handler=user) | Q(lead=user) | Q(first_responsible=user)
        waiting = in_area(TOWNSHIP) & Q(level="township", status__in=["registered", "accepted"])
        qs = qs.filter((mine | waiting) & Q(status__in=OPEN_STATUSES))
    qs = with_warning(qs, timezone.now()).order_by("warning_rank", "due_at", "-received_at", "-id")
    return qs.select_related("category__parent", "lead", "handler")


def bare_rows(user, tab: str):
    return list(bare_queryset(user, tab)[:PAGE])


@login_required
def bare_list(request):
    rows = list(bare_queryset(request.user, request.GET.get("tab", "todo"))[: PAGE + 1])
    return HttpResponse(TEMPLATE.render({"rows": rows[:PAGE]}, request))


urlpatterns = [
    path("bench/cases/bare/", bare_list),
    path("", include("xiangzhi.urls")),
]
