"""URLconf for the benchmarks: the project's URLs plus a bare view that runs the registry
list's query — the same filter (the very prefix condition the scoping writes), order and
limit — and renders the rows with a minimal template. It is the baseline the real page is
compared with: same middleware, same session, same query, none of the page's own work
(scope resolution, filters, badges, layout)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from xiangzhi.residents.models import Household, SearchKey

try:  # the scoping's index-friendly prefix filter, when the code base has it
    from xiangzhi.core.scoping import prefix_q
except ImportError:  # pragma: no cover - older trees
    from django.db.models import Q

    def prefix_q(field, prefix):
        return Q(**{f"{field}__startswith": prefix})


PAGE = 20

TEMPLATE = engines["django"].from_string(
    "<!doctype html><title>bare</title><table>"
    "{% for h in rows %}<tr><td>{{ h.number }}</td><td>{{ h.head_name }}</td><td>{{ h.address }}</td>"
    "<td>{{ h.member_count }}</td><td>{{ h.area_code }}</td></tr>{% endfor %}</table>"
)


def bare_queryset(area: str, q: str = ""):
    """The registry's query written out by hand: the scope's prefix condition and, for a
    search, the same sub-select the page uses: households whose member keys start with ``q``
    (limited to the user's township on the ``(township, key)`` index) UNION those numbered ``q``."""
    qs = Household.objects.filter(prefix_q("area_code", area))
    if q:
        keys = SearchKey.objects.filter(key__gte=q, key__lt=q + "\uffff")
        if len(area) >= 9 and hasattr(SearchKey, "township"):
            keys = keys.filter(township=area[:9])
        by_number = Household.objects.filter(number=q).order_by().values("pk")
        qs = qs.filter(pk__in=keys.order_by().values("household_id").union(by_number))
    return qs.order_by("area_code", "number", "id")


@login_required
def bare_list(request):
    rows = list(bare_queryset(request.GET.get("area", ""), request.GET.get("q", ""))[: PAGE + 1])
    return HttpResponse(TEMPLATE.render({"rows": rows[:PAGE]}, request))


urlpatterns = [
    path("bench/bare/", bare_list),
    path("", include("xiangzhi.urls")),
]
