"""Case KPIs: ``(area_code, period) -> numbers``. The single source for dashboards,
registers and cadre assessment. Formulas are in docs/kpis.md; every function here has a
hand-computed fixture test. Rates are ``None`` when the denominator is 0 (shown as "—")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Substr
from django.utils import timezone

from xiangzhi.core import periods
from xiangzhi.core.periods import Period

from .choices import OPEN_STATUSES, MediationResult, Status
from .models import Case, Mediation, SkipLevelRecord

AGE_BANDS = [(0, 7, "7天以内"), (8, 30, "8–30天"), (31, 90, "31–90天"), (91, None, "90天以上")]


def rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _cases(area_code: str, kind: str | None = None):
    qs = Case.objects.filter(area_code__startswith=area_code)
    return qs.filter(kind=kind) if kind else qs


def _as_of(period: Period, now: datetime | None) -> datetime:
    now = now or timezone.now()
    return min(now, period.end_dt)


@dataclass
class CaseKpis:
    registered: int
    accepted: int
    accepted_closed: int
    closure_rate: Decimal | None
    closed: int
    closed_on_time: int
    open_overdue: int
    on_time_rate: Decimal | None
    first_time: int
    first_time_rate: Decimal | None
    mediations: int
    mediations_successful: int
    mediation_success_rate: Decimal | None
    skip_level_count: int
    avg_days_to_close: Decimal | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def case_kpis(area_code: str, period: Period, *, kind: str | None = None, now: datetime | None = None) -> CaseKpis:
    """All headline KPIs of an area (township 9 / village 12 / grid 15 digits) and period."""
    as_of = _as_of(period, now)
    start, end = period.start_dt, period.end_dt
    cases = _cases(area_code, kind)
    in_closed = Q(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    agg = cases.aggregate(
        registered=Count("id", filter=Q(received_at__gte=start, received_at__lt=end)),
        accepted=Count("id", filter=Q(accepted_at__gte=start, accepted_at__lt=end)),
        accepted_closed=Count(
            "id",
            filter=Q(accepted_at__gte=start, accepted_at__lt=end, status=Status.CLOSED, closed_at__lt=as_of),
        ),
        closed=Count("id", filter=in_closed),
        closed_on_time=Count("id", filter=in_closed & (Q(due_at__isnull=True) | Q(closed_at__lte=F("due_at")))),
        open_overdue=Count("id", filter=Q(status__in=OPEN_STATUSES, due_at__lt=as_of, received_at__lt=end)),
        first_time=Count(
            "id",
            filter=in_closed & Q(escalation_count=0, reopen_count=0, resolved_level=F("accepted_level")),
        ),
        avg_close=Avg(
            ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField()), filter=in_closed
        ),
    )
    mediations = Mediation.objects.filter(case__area_code__startswith=area_code, held_at__gte=start, held_at__lt=end)
    if kind:
        mediations = mediations.filter(case__kind=kind)
    med = mediations.aggregate(n=Count("id"), ok=Count("id", filter=Q(result=MediationResult.SUCCESS)))
    skips = SkipLevelRecord.objects.filter(
        area_code__startswith=area_code, occurred_on__gte=period.start, occurred_on__lt=period.end
    )
    if kind:
        skips = skips.filter(case__kind=kind)
    avg = agg["avg_close"]
    late_denominator = agg["closed"] + agg["open_overdue"]
    return CaseKpis(
        registered=agg["registered"],
        accepted=agg["accepted"],
        accepted_closed=agg["accepted_closed"],
        closure_rate=rate(agg["accepted_closed"], agg["accepted"]),
        closed=agg["closed"],
        closed_on_time=agg["closed_on_time"],
        open_overdue=agg["open_overdue"],
        on_time_rate=rate(agg["closed_on_time"], late_denominator),
        first_time=agg["first_time"],
        first_time_rate=rate(agg["first_time"], agg["closed"]),
        mediations=med["n"],
        mediations_successful=med["ok"],
        mediation_success_rate=rate(med["ok"], med["n"]),
        skip_level_count=skips.count(),
        avg_days_to_close=(
            Decimal(avg.total_seconds() / 86400).quantize(Decimal("0.1"), ROUND_HALF_UP) if avg is not None else None
        ),
    )


def months_without_skip_level(area_code: str, *, as_of: date | None = None) -> int | None:
    """"连续 N 个月无越级访": whole months from the last skip-level petition (or, with none on
    record, from the first case on record) to ``as_of``. None when there is no data at all."""
    as_of = as_of or periods.local_today()
    last = (
        SkipLevelRecord.objects.filter(area_code__startswith=area_code, occurred_on__lte=as_of)
        .order_by("-occurred_on")
        .values_list("occurred_on", flat=True)
        .first()
    )
    if last is None:
        first = _cases(area_code).order_by("received_at").values_list("received_at", flat=True).first()
        if first is None:
            return None
        last = timezone.localtime(first, periods.TZ).date()
    months = (as_of.year - last.year) * 12 + (as_of.month - last.month)
    if as_of.day < last.day:
        months -= 1
    return max(months, 0)


def backlog_by_age(area_code: str, *, now: datetime | None = None, kind: str | None = None) -> list[dict]:
    """Open cases by days since receipt."""
    now = now or timezone.now()
    today = timezone.localtime(now, periods.TZ).date()
    qs = _cases(area_code, kind).filter(status__in=OPEN_STATUSES, received_at__lte=now)
    out = []
    for low, high, label in AGE_BANDS:
        newest = periods.end_of_day(date.fromordinal(today.toordinal() - low))
        q = Q(received_at__lte=newest)
        if high is not None:
            oldest = periods.end_of_day(date.fromordinal(today.toordinal() - high - 1))
            q &= Q(received_at__gt=oldest)
        out.append({"label": label, "count": qs.filter(q).count()})
    return out


def counts_by(area_code: str, period: Period, field: str, *, kind: str | None = None) -> list[dict]:
    """Cases received in the period grouped by ``category__name`` or ``channel``."""
    qs = _cases(area_code, kind).filter(received_at__gte=period.start_dt, received_at__lt=period.end_dt)
    rows = qs.values(field).annotate(n=Count("id")).order_by("-n", field)
    return [{"key": r[field] or "未分类", "count": r["n"]} for r in rows]


def village_table(township_code: str, period: Period, *, now: datetime | None = None) -> list[dict]:
    """One row per village of a township (矛盾纠纷排查化解情况表): disputes registered,
    resolved and closed in the period, mediations and their success, open and overdue."""
    as_of = _as_of(period, now)
    start, end = period.start_dt, period.end_dt
    base = Case.objects.filter(area_code__startswith=township_code, kind="dispute").annotate(
        village=Substr("area_code", 1, 12)
    )
    rows = {
        r["village"]: r
        for r in base.values("village").annotate(
            registered=Count("id", filter=Q(received_at__gte=start, received_at__lt=end)),
            resolved=Count("id", filter=Q(resolved_at__gte=start, resolved_at__lt=end)),
            closed=Count("id", filter=Q(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)),
            open=Count("id", filter=Q(status__in=OPEN_STATUSES, received_at__lt=end)),
            overdue=Count("id", filter=Q(status__in=OPEN_STATUSES, due_at__lt=as_of, received_at__lt=end)),
        )
    }
    med = {
        r["village"]: r
        for r in Mediation.objects.filter(
            case__area_code__startswith=township_code, case__kind="dispute", held_at__gte=start, held_at__lt=end
        )
        .annotate(village=Substr("case__area_code", 1, 12))
        .values("village")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(result=MediationResult.SUCCESS)))
    }
    from xiangzhi.org.models import Region

    out = []
    for v in Region.objects.filter(parent_id=township_code, level="village").order_by("code"):
        r = rows.get(v.code, {})
        m = med.get(v.code, {})
        out.append(
            {
                "code": v.code,
                "name": v.name,
                "registered": r.get("registered", 0),
                "resolved": r.get("resolved", 0),
                "closed": r.get("closed", 0),
                "open": r.get("open", 0),
                "overdue": r.get("overdue", 0),
                "mediations": m.get("n", 0),
                "mediations_successful": m.get("ok", 0),
                "mediation_success_rate": rate(m.get("ok", 0), m.get("n", 0)),
                "resolution_rate": rate(r.get("resolved", 0), r.get("registered", 0)),
            }
        )
    return out
