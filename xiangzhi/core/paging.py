"""HTML pagination that stays O(page) on big registries.

``paginate_request(request, qs)`` fetches ``page_size + 1`` rows to know whether a next page
exists and never counts the whole table: the count is capped at ``COUNT_CAP`` (a
``SELECT COUNT(*)`` over at most ``COUNT_CAP + 1`` rows), and skipped entirely when the result
fits on the first page. Render with ``{% include "components/pagination.html" %}``.

Big lists can *defer* the count (``defer_count=True``): the page is sent with "第 1–20 户"
and the total arrives right after through one small htmx request to the same URL with
``_count=1`` (the view answers it with ``count_response`` before doing any page work) — the
first response stays O(page) even where an exact count is O(matches).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpResponse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .api import COUNT_CAP

COUNT_PARAM = "_count"

DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 10_000  # deeper pages are refused (offset cost); narrow the search instead


@dataclass
class Page:
    object_list: list
    number: int
    page_size: int
    has_next: bool
    count: int | None  # None: deferred (see count_url)
    count_capped: bool
    unit: str = "条"
    previous_query: str = ""
    next_query: str = ""
    count_url: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1 if self.object_list else 0

    @property
    def position(self) -> str:
        return f"第 {self.start_index}–{self.end_index} {self.unit}" if self.object_list else ""

    @property
    def summary(self) -> str:
        if self.count is None:
            if not self.count_url:
                return self.position
            where = f"，{self.position}" if self.object_list else ""
            return mark_safe(  # noqa: S308 - the URL is escaped, the rest is ours
                f'<span class="xz-count" hx-get="{escape(self.count_url)}" hx-trigger="load" '
                f'hx-swap="outerHTML">共 … {self.unit}</span>{where}'
            )
        total = total_text(self.count, self.count_capped, self.unit)
        if not self.object_list:
            return total
        if self.has_previous or self.has_next:
            return f"{total}，第 {self.start_index}–{self.end_index} {self.unit}"
        return total

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def total_text(count: int, capped: bool, unit: str) -> str:
    return f"约 {COUNT_CAP}+ {unit}" if capped else f"共 {count} {unit}"


def count_requested(request) -> bool:
    """Whether this request only asks for the deferred total of a list."""
    return request.GET.get(COUNT_PARAM) == "1"


def count_response(qs, *, unit: str = "条") -> HttpResponse:
    """The deferred total ("共 9123 户"), capped like every count here."""
    count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    response = HttpResponse(escape(total_text(min(count, COUNT_CAP), count > COUNT_CAP, unit)))
    response["Cache-Control"] = "private, no-cache"
    return response


def page_number(raw) -> int:
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def paginate(qs, *, number: int = 1, page_size: int = DEFAULT_PAGE_SIZE, unit: str = "条",
             defer_count: bool = False) -> Page:
    number = min(max(int(number), 1), MAX_PAGE)
    offset = (number - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    has_next = len(rows) > page_size
    rows = rows[:page_size]
    if number == 1 and not has_next:
        count = len(rows)
    elif defer_count:
        count = None
    else:
        # on the primary key only: the page's display annotations (sub-selects, urgency
        # CASEs) are not evaluated for the up to COUNT_CAP rows counted
        count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    return Page(
        object_list=rows,
        number=number,
        page_size=page_size,
        has_next=has_next,
        count=None if count is None else min(count, COUNT_CAP),
        count_capped=count is not None and count > COUNT_CAP,
        unit=unit,
    )


def paginate_request(request, qs, *, page_size: int = DEFAULT_PAGE_SIZE, unit: str = "条", param: str = "page",
                     defer_count: bool = False) -> Page:
    """Paginate by ``?page=``; previous/next links keep every other query parameter."""
    page = paginate(qs, number=page_number(request.GET.get(param)), page_size=page_size, unit=unit,
                    defer_count=defer_count)
    base = request.GET.copy()
    base.pop(param, None)
    base.pop(COUNT_PARAM, None)
    if page.count is None:
        counting = base.copy()
        counting[COUNT_PARAM] = "1"
        page.count_url = f"{request.path}?{counting.urlencode()}"
    if page.has_previous:
        prev = base.copy()
        if page.number > 2:
            prev[param] = str(page.number - 1)
        page.previous_query = prev.urlencode()
    if page.has_next:
        nxt = base.copy()
        nxt[param] = str(page.number + 1)
        page.next_query = nxt.urlencode()
    return page
