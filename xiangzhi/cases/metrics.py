"""Case KPIs: ``(area_code, period) -> numbers``. The single source for dashboards,
registers and cadre assessment. Formulas are in docs/kpis.md; every function here has a
hand-computed fixture test. Rates are ``None`` when the denominator is 0 (shown as "—")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone

from xiangzhi.core import periods
from xiangzhi.core.periods import Period
from xiangzhi.core.scoping import prefix_q

from .choices import OPEN_STATUSES, MediationResult, Status
from .models import Case, Mediation, SkipLevelRecord

AGE_BANDS = [(0, 7, "7天以内"), (8, 30, "8–30天"), (31, 90, "31–90天"), (91, None, "90天以上")]


def rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _cases(area_code: str, kind: str | None = None):
    qs = Case.objects.filter(prefix_q("area_code", area_code))
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


def _area_sql(column: str, code: str) -> tuple[str, list]:
    """``column`` inside area ``code`` as an index range (codes are ASCII digits)."""
    if not (code.isascii() and code.isdigit()):
        raise ValueError("area code must be digits")
    upper = str(int(code) + 1).zfill(len(code))
    if len(upper) == len(code):
        return f"{column} >= %s AND {column} < %s", [code, upper]
    return f"{column} >= %s AND SUBSTR({column}, 1, {len(code)}) = %s", [code, code]


def _days_sql(end: str, start: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0"
    return f"julianday({end}) - julianday({start})"


def case_kpis(area_code: str, period: Period, *, kind: str | None = None, now: datetime | None = None) -> CaseKpis:
    """All headline KPIs of an area (township 9 / village 12 / grid 15 digits) and period.

    One pass over the area's cases, one over its mediations, one count of skip-level
    records — written as SQL by hand: the same statement built through the ORM cost more to
    assemble (≈ 6 ms for the eight conditional aggregates) than a township's rows cost to
    read, and this is the panel every dashboard opens. Portable (SQLite, PostgreSQL); the
    fixture tests in tests/test_metrics.py run on both."""
    as_of = _as_of(period, now)
    dt = connection.ops.adapt_datetimefield_value
    s, e, t = dt(period.start_dt), dt(period.end_dt), dt(as_of)
    case_t, med_t, skip_t = Case._meta.db_table, Mediation._meta.db_table, SkipLevelRecord._meta.db_table
    closed = "status = %s AND closed_at >= %s AND closed_at < %s"
    closed_p = [Status.CLOSED, s, e]
    open_in = ", ".join(["%s"] * len(OPEN_STATUSES))
    area, area_p = _area_sql("area_code", area_code)
    kind_sql, kind_p = (" AND kind = %s", [kind]) if kind else ("", [])
    # Only constants are formatted into the SQL (table names, fixed fragments); values are parameters.
    sql = (
        "SELECT"  # noqa: S608
        " COUNT(CASE WHEN received_at >= %s AND received_at < %s THEN 1 END),"
        " COUNT(CASE WHEN accepted_at >= %s AND accepted_at < %s THEN 1 END),"
        " COUNT(CASE WHEN accepted_at >= %s AND accepted_at < %s AND status = %s AND closed_at < %s THEN 1 END),"
        f" COUNT(CASE WHEN {closed} THEN 1 END),"
        f" COUNT(CASE WHEN {closed} AND (due_at IS NULL OR closed_at <= due_at) THEN 1 END),"
        f" COUNT(CASE WHEN status IN ({open_in}) AND due_at < %s AND received_at < %s THEN 1 END),"
        f" COUNT(CASE WHEN {closed} AND escalation_count = 0 AND reopen_count = 0"
        "   AND resolved_level = accepted_level THEN 1 END),"
        f" AVG(CASE WHEN {closed} THEN {_days_sql('closed_at', 'received_at')} END)"
        f" FROM {case_t} WHERE {area}{kind_sql}"
    )
    params = [s, e, s, e, s, e, Status.CLOSED, t, *closed_p, *closed_p, *OPEN_STATUSES, t, e, *closed_p, *closed_p,
              *area_p, *kind_p]  # fmt: skip
    c_area, c_area_p = _area_sql("c.area_code", area_code)
    c_kind, c_kind_p = (" AND c.kind = %s", [kind]) if kind else ("", [])
    med_sql = (
        f"SELECT COUNT(*), COUNT(CASE WHEN m.result = %s THEN 1 END) FROM {med_t} m"  # noqa: S608
        f" JOIN {case_t} c ON c.id = m.case_id WHERE {c_area} AND m.held_at >= %s AND m.held_at < %s{c_kind}"
    )
    s_area, s_area_p = _area_sql("s.area_code", area_code)
    skip_join = f" JOIN {case_t} c ON c.id = s.case_id" if kind else ""
    skip_sql = (
        f"SELECT COUNT(*) FROM {skip_t} s{skip_join}"  # noqa: S608
        f" WHERE {s_area} AND s.occurred_on >= %s AND s.occurred_on < %s{c_kind}"
    )
    d = connection.ops.adapt_datefield_value
    with connection.cursor() as cur:
        cur.execute(sql, params)
        registered, accepted, accepted_closed, n_closed, on_time, overdue, first, avg = cur.fetchone()
        cur.execute(med_sql, [MediationResult.SUCCESS, *c_area_p, s, e, *c_kind_p])
        n_med, ok_med = cur.fetchone()
        cur.execute(skip_sql, [*s_area_p, d(period.start), d(period.end), *c_kind_p])
        (skips,) = cur.fetchone()
    return CaseKpis(
        registered=registered,
        accepted=accepted,
        accepted_closed=accepted_closed,
        closure_rate=rate(accepted_closed, accepted),
        closed=n_closed,
        closed_on_time=on_time,
        open_overdue=overdue,
        on_time_rate=rate(on_time, n_closed + overdue),
        first_time=first,
        first_time_rate=rate(first, n_closed),
        mediations=n_med,
        mediations_successful=ok_med,
        mediation_success_rate=rate(ok_med, n_med),
        skip_level_count=skips,
        avg_days_to_close=Decimal(str(avg)).quantize(Decimal("0.1"), ROUND_HALF_UP) if avg is not None else None,
    )


def months_without_skip_level(area_code: str, *, as_of: date | None = None) -> int | None:
    """ "连续 N 个月无越级访": whole months from the last skip-level petition (or, with none on
    record, from the first case on record) to ``as_of``. None when there is no data at all."""
    as_of = as_of or periods.local_today()
    last = (
        SkipLevelRecord.objects.filter(prefix_q("area_code", area_code), occurred_on__lte=as_of)
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
    base = Case.objects.filter(prefix_q("area_code", township_code), kind="dispute").annotate(
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
            prefix_q("case__area_code", township_code), case__kind="dispute", held_at__gte=start, held_at__lt=end
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
