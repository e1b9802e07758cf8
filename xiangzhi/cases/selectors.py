"""Every read of cases, scoped by ``restrict(user, action)``; out of scope → 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from xiangzhi.core import crypto, periods

from . import deadlines
from .choices import OPEN_STATUSES
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


def case_list(*, user, filters: CaseFilters | None = None, now=None):
    """The scoped, filtered queue: overdue first, then yellow, then by due date."""
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
        qs = qs.filter(area_code__startswith=f.area_code)
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
    return with_warning(qs, now).order_by("warning_rank", "due_at", "-received_at", "-id")


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
