"""Visit coverage and problem counts (docs/kpis.md). 人次 (person-times) = households
visited counted once per visit, plus the attendees of 板凳会. "Solved" = the problem's need
case was resolved and closed in the cases engine."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, Sum

from xiangzhi.core.periods import Period
from xiangzhi.core.scoping import prefix_q

from .models import ContactAssignment, Problem, Visit, VisitHousehold


def _area(field: str, code: str) -> Q:
    """``field`` starts with ``code``, written as the index range ``code <= field < next(code)``.
    Division codes are digits only, and for digit strings the range is exactly the prefix
    test — without the LIKE that ``prefix_q`` keeps and SQLite re-evaluates on every row
    (a quarter of these aggregates' time). Anything else falls back to ``prefix_q``."""
    if not code:
        return Q()
    upper = str(int(code) + 1).zfill(len(code)) if code.isascii() and code.isdigit() else ""
    if len(upper) != len(code):
        return prefix_q(field, code)
    return Q(**{f"{field}__gte": code, f"{field}__lt": upper})


def _pct(n, d):
    return (Decimal(n) * 100 / Decimal(d)).quantize(Decimal("0.01"), ROUND_HALF_UP) if d else None


def visit_counts(area_code: str, period: Period, *, cadre=None) -> dict:
    visits = Visit.objects.filter(
        _area("area_code", area_code), visited_on__gte=period.start, visited_on__lt=period.end
    )
    rows = VisitHousehold.objects.filter(
        _area("area_code", area_code), visited_on__gte=period.start, visited_on__lt=period.end
    )
    if cadre is not None:
        visits = visits.filter(cadre=cadre)
        rows = rows.filter(cadre=cadre)
    v = visits.aggregate(n=Count("id"), attendees=Sum("attendees", filter=Q(kind="bench_meeting")))
    r = rows.aggregate(times=Count("id"), households=Count("household", distinct=True))
    return {
        "visits": v["n"],
        "household_visits": r["times"],
        "households_visited": r["households"],
        "person_times": r["times"] + (v["attendees"] or 0),
    }


def coverage(area_code: str, period: Period) -> dict:
    """Share of households with an active contact assignment in the area (on the period's
    last day) that were visited by anyone in the period. One query: the area range of the
    covering index contact_area_household, and for each linked household an EXISTS probe
    of the covering index vh_household_date."""
    last_day = period.end - timedelta(days=1)
    visited = VisitHousehold.objects.filter(
        household=OuterRef("household"), visited_on__gte=period.start, visited_on__lt=period.end
    )
    agg = (
        ContactAssignment.objects.filter(_area("area_code", area_code), household__isnull=False, start__lte=last_day)
        .filter(Q(end__isnull=True) | Q(end__gt=last_day))
        .aggregate(
            assigned=Count("household", distinct=True),
            visited=Count("household", distinct=True, filter=Q(Exists(visited))),
        )
    )
    return {"assigned": agg["assigned"], "visited": agg["visited"], "coverage": _pct(agg["visited"], agg["assigned"])}


def not_visited_since(area_code: str, days: int, *, today: date):
    """Assigned households whose last visit is older than ``days`` days (or never)."""
    cutoff = today - timedelta(days=days)
    from xiangzhi.residents.models import Household

    assigned = ContactAssignment.objects.filter(
        _area("area_code", area_code), household__isnull=False, end__isnull=True
    ).values("household")
    return (
        Household.objects.filter(pk__in=assigned)
        .annotate(last_visit=Max("visits__visited_on"))
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=cutoff))
        .order_by("last_visit", "pk")
    )


def problems(area_code: str, period: Period) -> dict:
    qs = Problem.objects.filter(
        _area("area_code", area_code), visit__visited_on__gte=period.start, visit__visited_on__lt=period.end
    )
    agg = qs.aggregate(
        found=Count("id"),
        to_case=Count("id", filter=Q(case__isnull=False)),
        solved=Count("id", filter=Q(case__status="closed", case__resolved_at__isnull=False)),
    )
    return {**agg, "solved_rate": _pct(agg["solved"], agg["found"])}


def gaps(area_code: str) -> dict:
    """Coverage gaps: households with no cadre linked; cadres with no household or group."""
    from xiangzhi.cadres.models import Cadre
    from xiangzhi.residents.models import Household

    linked = ContactAssignment.objects.filter(end__isnull=True, household__isnull=False).values("household")
    linked_cadres = ContactAssignment.objects.filter(end__isnull=True).values("cadre")
    return {
        "households_without_cadre": Household.objects.filter(area_code__startswith=area_code).exclude(pk__in=linked),
        "cadres_without_contacts": Cadre.objects.filter(
            area_code__startswith=area_code[:12], left_on__isnull=True
        ).exclude(pk__in=linked_cadres),
    }
