"""URLconf for the case benchmarks: the project's URLs plus a bare view that runs the work
bench's queries and renders the rows in a minimal template — the baseline GET /cases/ is
compared with: same middleware, same session, same queries, none of the page's own work
(filters, tabs, labels, badges, layout).

  我的待办 (tab=todo): open cases in the township range with the 我的待办 condition, urgency
      annotation, ``ORDER BY warning_rank, due_at, -received_at, -id LIMIT 21``.
  全部 (tab=all): the open cases of the township the same way (without the 我的待办
      condition), then — when fewer than 21 — the ended cases newest first from the
      township's (area prefix, received_at) index: ``SUBSTR(area_code, 1, 9) = '341524111'
      ORDER BY received_at DESC, id DESC LIMIT 21 - n`` (cases/0003); a page that starts
      past the open cases counts them first (?page=3 of 白塔畈镇 crosses into the history)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.db.models.lookups import Exact
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path
from django.utils import timezone

from xiangzhi.cases.choices import ENDED_STATUSES, OPEN_STATUSES
from xiangzhi.cases.models import Case
from xiangzhi.cases.selectors import AreaPrefix, with_warning
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


RELATED = ("category__parent", "lead", "handler")


def bare_rows(user, tab: str, limit: int = PAGE, offset: int = 0):
    now = timezone.now()
    qs = Case.objects.filter(in_area(TOWNSHIP), status__in=OPEN_STATUSES)
    if tab == "todo":
        mine = Q(handler=user) | Q(lead=user) | Q(first_responsible=user)
        waiting = in_area(TOWNSHIP) & Q(level="township", status__in=["registered", "accepted"])
        qs = qs.filter(mine | waiting)
    qs = with_warning(qs, now).order_by("warning_rank", "due_at", "-received_at", "-id")
    rows = list(qs.select_related(*RELATED)[offset : offset + limit])
    if tab == "all" and len(rows) < limit:
        # past the open cases: the history from where they end
        n_open = offset + len(rows) if rows or not offset else qs.order_by().count()
        start = offset + len(rows) - n_open
        ended = Case.objects.filter(in_area(TOWNSHIP), Exact(AreaPrefix(9), TOWNSHIP), status__in=ENDED_STATUSES)
        rows += ended.order_by("-received_at", "-id").select_related(*RELATED)[start : start + limit - len(rows)]
    return rows


@login_required
def bare_list(request):
    page = int(request.GET.get("page", 1))
    rows = bare_rows(request.user, request.GET.get("tab", "todo"), PAGE + 1, (page - 1) * PAGE)
    return HttpResponse(TEMPLATE.render({"rows": rows[:PAGE]}, request))


urlpatterns = [
    path("bench/cases/bare/", bare_list),
    path("", include("xiangzhi.urls")),
]
