"""Every read of cases, scoped by ``restrict(user, action)``; out of scope → 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Case as SqlCase
from django.db.models import CharField, F, Func, IntegerField, Q, Value, When
from django.db.models.lookups import Exact
from django.shortcuts import get_object_or_404
from django.utils import timezone

from xiangzhi.core import crypto, periods
from xiangzhi.core.scoping import prefix_q, scopes_for

from . import deadlines
from .choices import ENDED_STATUSES, OPEN_STATUSES
from .models import Case, CaseEvent


@dataclass
class CaseFilters:
    kind: str = ""
    level: str = ""
    status: str = ""  # a status, or "open" / "overdue"
    category: int | None = None
    area_code: str = ""
    lead: int | None = None
    handler: int | None = None
    received_from: date | None = None
    received_to: date | None = None
    q: str = ""
    mine: bool = False  # handled by me, led by me, or first responsible


def cases_for(user, action: str = "view"):
    return Case.objects.restrict(user, action)


def with_warning(qs, now=None):
    """Annotate ``warning`` ('red' overdue / 'yellow' / '') and ``warning_rank`` for
    ordering the queue overdue first."""
    now = now or timezone.now()
    return qs.annotate(
        warning=deadlines.warning_annotation(now),
        warning_rank=SqlCase(
            When(deadlines.current_due_q(now), then=Value(0)),
            When(Q(yellow_at__lt=now, status__in=OPEN_STATUSES), then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    )


def case_filter(*, user, filters: CaseFilters | None = None, now=None):
    """The scoped, filtered cases (no ordering, no annotation)."""
    f = filters or CaseFilters()
    now = now or timezone.now()
    qs = cases_for(user)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.level:
        qs = qs.filter(level=f.level)
    if f.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif f.status == "overdue":
        qs = qs.filter(deadlines.current_due_q(now))
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.category:
        qs = qs.filter(Q(category_id=f.category) | Q(category__parent_id=f.category))
    if f.area_code:
        qs = qs.filter(prefix_q("area_code", f.area_code))
    if f.lead:
        qs = qs.filter(lead_id=f.lead)
    if f.handler:
        qs = qs.filter(handler_id=f.handler)
    if f.received_from:
        qs = qs.filter(received_at__gte=datetime.combine(f.received_from, time.min, tzinfo=periods.TZ))
    if f.received_to:
        qs = qs.filter(received_at__lte=periods.end_of_day(f.received_to))
    if f.q:
        q = f.q.strip()[:50]
        qs = qs.filter(Q(tracking_code=q.upper()) | Q(title__contains=q) | Q(contact_name=q))
    if f.mine:
        qs = qs.filter(Q(handler=user) | Q(lead=user) | Q(first_responsible=user))
    return qs


URGENCY = ("warning_rank", "due_at", "-received_at", "-id")
NEWEST = ("-received_at", "-id")


def case_list(*, user, filters: CaseFilters | None = None, now=None):
    """The scoped, filtered queue: overdue first, then yellow, then by due date."""
    now = now or timezone.now()
    return with_warning(case_filter(user=user, filters=filters, now=now), now).order_by(*URGENCY)


# --- the work bench's list: open cases by urgency, then the history newest first -----------
class AreaPrefix(Func):
    """``SUBSTR(area_code, 1, n)`` with a *literal* n: the leading column of the indexes
    ``case_area{6,9,12}_received`` (migration 0003). SQLite uses an index on an expression
    only when the query writes the same expression — a bound parameter for n would not match."""

    output_field = CharField()

    def __init__(self, length: int):
        super().__init__(F("area_code"))
        self.length = int(length)

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"SUBSTR({sql}, 1, {self.length})", params


PREFIX_INDEX_LENGTHS = (6, 9, 12)  # county, township, village; a grid (15) is the whole code


def area_seek_q(prefix: str):
    """A condition equivalent to "area_code starts with ``prefix``" (for a division code),
    written so that the database walks an index in (area, received_at) order: page 1 of the
    history reads ~20 index entries instead of sorting the area's every case. None when no
    such index exists for the prefix's length."""
    if not (prefix.isascii() and prefix.isdigit()):
        return None
    if len(prefix) == 15:  # the longest code (a grid): case_area_received (area_code, received_at)
        return Q(area_code=prefix)
    if len(prefix) in PREFIX_INDEX_LENGTHS:
        return Exact(AreaPrefix(len(prefix)), prefix)
    return None


def history_seek(user, filters: CaseFilters | None = None):
    """The seek condition for the ended cases of the user's scope (or of the filtered area,
    which lies inside it): None when the scope is several areas (then the database sorts
    the scope's ended cases — O(area), still correct)."""
    if filters is not None and filters.area_code:
        return area_seek_q(filters.area_code)
    prefixes, own = scopes_for(user, "cases.view_case")
    if len(prefixes) != 1 or own:
        return None
    return area_seek_q(prefixes[0])


class OpenThenEnded:
    """The cases of a filtered queryset in the order the work bench lists them: open cases
    first by urgency (overdue, then yellow, then by due date — ``URGENCY``, served by the
    index case_status_area_due: O(open)), then ended cases (closed / not accepted /
    transferred) newest first (``NEWEST``, from an (area, received_at) index when ``seek``
    is given: O(page)). Sliced like a queryset (``core.paging.paginate``): one LIMIT query
    per part the slice touches; crossing from the open part into the history costs one
    count of the open cases when the slice starts past them."""

    def __init__(self, base, *, now=None, seek=None, open_part: bool = True, ended_part: bool = True,
                 related=("category__parent", "lead", "handler")):
        now = now or timezone.now()
        self.open_qs = None
        self.ended_qs = None
        if open_part:
            self.open_qs = with_warning(base.filter(status__in=OPEN_STATUSES), now).order_by(*URGENCY)
            self.open_qs = self.open_qs.select_related(*related)
        if ended_part:
            ended = base.filter(status__in=ENDED_STATUSES)
            if seek is not None:
                ended = ended.filter(seek)
            self.ended_qs = ended.order_by(*NEWEST).select_related(*related)

    def __getitem__(self, item: slice) -> list:
        if not isinstance(item, slice) or item.step is not None or item.stop is None:
            raise TypeError("OpenThenEnded supports [start:stop] slices only")
        start, stop = item.start or 0, item.stop
        if stop <= start:
            return []
        rows = list(self.open_qs[start:stop]) if self.open_qs is not None else []
        if len(rows) == stop - start or self.ended_qs is None:
            return rows
        if rows or start == 0 or self.open_qs is None:
            n_open = start + len(rows) if self.open_qs is not None else 0
        else:  # the slice starts past the open cases: how many are there?
            n_open = self.open_qs.order_by().count()
        ended = list(self.ended_qs[start + len(rows) - n_open : stop - n_open])
        for c in ended:
            c.warning, c.warning_rank = "", 2  # no deadline applies to an ended case
        return rows + ended


def case_get(*, user, pk, action: str = "view") -> Case:
    qs = cases_for(user, action).select_related("category", "lead", "handler", "first_responsible", "household")
    return get_object_or_404(qs, pk=pk)


def my_lead_cases(*, user):
    """"我的包案": open cases this user leads, at any level."""
    return with_warning(cases_for(user).filter(lead=user, status__in=OPEN_STATUSES)).order_by("warning_rank", "due_at")


def timeline(*, case: Case, public_only: bool = False):
    qs = CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")
    return qs.filter(public=True) if public_only else qs


def public_track(*, tracking_code: str, phone_last4: str) -> Case | None:
    """Public tracking: the case only when both the code and the last 4 digits of the
    contact phone match — otherwise None, whether or not the code exists."""
    code = (tracking_code or "").strip().upper()
    last4 = (phone_last4 or "").strip()
    if len(code) != 10 or len(last4) != 4 or not last4.isdigit():
        return None
    return Case.objects.filter(
        tracking_code=code, contact_phone_last4_hash=crypto.blind_index(last4, "case_phone_last4")
    ).first()
