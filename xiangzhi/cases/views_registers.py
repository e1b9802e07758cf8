"""Register pages of the case engine (mounted under /cases/ by one include in urls.py):

* ``cases:register`` — the case register (台账), printable, filtered like the work queue
  (same query parameters: kind, level, status, category, area, lead, from, to, q);
* ``cases:register_export`` — the same as a streamed .xlsx, audited (``cases.export``);
* ``cases:monthly`` / ``cases:monthly_export`` — the monthly 矛盾纠纷排查化解情况表 of a
  township, printable and .xlsx (audited);
* ``cases:kpis`` — the KPI page (views_kpis.py).

Permission ``cases.export_case`` (a role without it → 403: grid workers, auditors,
villagers); every row comes from the user's scope; a village or township outside it → 404.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from xiangzhi import audit
from xiangzhi.audit.services import AuditWriteError
from xiangzhi.core import periods
from xiangzhi.core.api import COUNT_CAP
from xiangzhi.core.registers import file_response
from xiangzhi.core.views import permission_required

from . import config, ui
from .choices import Kind, Level
from .registers import (
    CASE_REGISTER,
    EXPORT_PERM,
    HTML_LIMIT,
    MONTHLY_COLUMNS,
    MONTHLY_NOTE,
    SIGNATURES,
    STATUS_FILTER_LABELS,
    filter_summary,
    monthly_cells,
    monthly_export_file,
    monthly_table,
    monthly_townships,
    register_context,
    register_queryset,
    register_rows,
    register_title,
)
from .selectors import CaseFilters
from .views_kpis import kpis

MAX_PK = 2**63 - 1
AUDIT_FAILED = "审计记录写入失败，未导出任何数据，请稍后重试。"


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_PK else None


def _date(value) -> date | None:
    try:
        day = date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None
    return day if day and 1900 <= day.year <= 2999 else None


def parse_filters(get, *, areas: list[dict], categories: set[int]) -> CaseFilters:
    """The queue's query parameters → CaseFilters; values outside the choices offered are
    ignored (never an error, never a 500). A full ID number typed into q is dropped."""

    def pick(name, allowed):
        value = get.get(name, "")
        return value if value in allowed else ""

    category = _int(get.get("category"))
    q = (get.get("q") or "").strip()[:50]
    if len(q) == 18 and q[:17].isdigit():
        q = ""
    return CaseFilters(
        kind=pick("kind", Kind.values),
        level=pick("level", Level.values),
        status=pick("status", STATUS_FILTER_LABELS),
        category=category if category in categories else None,
        area_code=pick("area", {a["code"] for a in areas}),
        lead=_int(get.get("lead")),
        received_from=_date(get.get("from")),
        received_to=_date(get.get("to")),
        q=q,
    )


def _filter_setup(user):
    areas = ui.case_areas(user, EXPORT_PERM)
    categories = list(config.categories_for({a["code"][:9] for a in areas}, active_only=False))
    return areas, categories


def _query(filters: CaseFilters) -> str:
    from urllib.parse import urlencode

    params = {
        "kind": filters.kind,
        "level": filters.level,
        "status": filters.status,
        "category": filters.category or "",
        "area": filters.area_code,
        "lead": filters.lead or "",
        "from": filters.received_from.isoformat() if filters.received_from else "",
        "to": filters.received_to.isoformat() if filters.received_to else "",
        "q": filters.q,
    }
    return urlencode({k: v for k, v in params.items() if v})


def _audit_export(user, *, register: str, rows: int, **details) -> bool:
    try:
        audit.record(user, "cases.export", ("cases.case", ""), register=register, rows=rows, **details)
    except AuditWriteError:
        return False
    return True


def _audit_failed() -> HttpResponse:
    return HttpResponse(AUDIT_FAILED, status=503, content_type="text/plain; charset=utf-8")


# --- the case register -------------------------------------------------------------------
@permission_required(EXPORT_PERM)
@require_GET
def register(request):
    """Printable case register (first HTML_LIMIT rows; the .xlsx has them all)."""
    user = request.user
    now = timezone.now()
    areas, categories = _filter_setup(user)
    filters = parse_filters(request.GET, areas=areas, categories={c.pk for c in categories})
    ctx = register_context(user, now=now)
    rows = register_rows(user, filters, now=now, limit=HTML_LIMIT + 1)
    more = len(rows) > HTML_LIMIT
    rows = rows[:HTML_LIMIT]
    if more:
        n = register_queryset(user, filters, now=now).order_by()[: COUNT_CAP + 1].count()
        count = f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)
    else:
        count = str(len(rows))
    title, subtitle = register_title(user, filters)
    context = {
        "title": title,
        "subtitle": subtitle,
        "summary": filter_summary(filters),
        "headers": CASE_REGISTER.headers,
        "rows": list(CASE_REGISTER.html_rows(rows, ctx)),
        "count": count,
        "more": more,
        "limit": HTML_LIMIT,
        "f": filters,
        "query": _query(filters),
        "areas": areas,
        "category_tree": config.category_tree(categories),
        "kinds": Kind.choices,
        "levels": Level.choices,
        "statuses": list(STATUS_FILTER_LABELS.items()),
        "printed_at": timezone.localtime(now, periods.TZ),
        "can_export": True,
        "can_monthly": bool(monthly_townships(user)),
    }
    return render(request, "cases/registers/register.html", context)


@permission_required(EXPORT_PERM)
@require_GET
def register_export(request):
    """The filtered register as .xlsx: written in constant memory to a temporary file,
    audited, streamed; nothing leaves when the audit record cannot be written."""
    user = request.user
    now = timezone.now()
    areas, categories = _filter_setup(user)
    filters = parse_filters(request.GET, areas=areas, categories={c.pk for c in categories})
    title, subtitle = register_title(user, filters)
    rows = register_rows(user, filters, now=now)
    path_, count = CASE_REGISTER.export_file(rows, title=title, subtitle=subtitle, ctx=register_context(user, now=now))
    params = {k: v for k, v in filters.__dict__.items() if v not in ("", None, False)}
    if not _audit_export(user, register="case_register", rows=count, area_code=filters.area_code,
                         filters={k: str(v) for k, v in params.items()}):  # fmt: skip
        path_.unlink(missing_ok=True)
        return _audit_failed()
    stamp = timezone.localtime(now, periods.TZ).strftime("%Y%m%d-%H%M")
    return file_response(path_, f"事项台账-{stamp}.xlsx")


# --- 矛盾纠纷排查化解情况表 ---------------------------------------------------------------------
NOT_TOWNSHIP = "矛盾纠纷排查化解情况表按乡镇汇总，需要乡镇（或县级）的台账权限"


def _month_options(today: date, first_year: int = 2022) -> list[tuple[str, str]]:
    out = []
    y, m = today.year, today.month
    while y > first_year or (y == first_year and m >= 1):
        out.append((f"{y}-{m:02d}", f"{y}年{m}月"))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        if len(out) >= 60:
            break
    return out


def _monthly_setup(request):
    user = request.user
    townships = monthly_townships(user)
    if not townships:
        raise PermissionDenied(NOT_TOWNSHIP)
    code = (request.GET.get("township") or townships[0][0]).strip()
    if code not in {c for c, _ in townships}:
        raise Http404
    today = periods.local_today()
    raw = (request.GET.get("month") or "").strip()
    error = ""
    if raw:
        try:
            period = periods.parse_period(raw)
            if period.kind != "month":
                raise ValueError
        except ValueError:
            error = "月份格式应为 2025-03"
            period = periods.month(today.year, today.month)
    else:
        period = periods.month(today.year, today.month)
    return code, townships, period, error


@permission_required(EXPORT_PERM)
@require_GET
def monthly(request):
    code, townships, period, error = _monthly_setup(request)
    table = monthly_table(code, period)
    month_value = f"{period.start:%Y-%m}"
    options = _month_options(periods.local_today())
    if month_value not in {v for v, _ in options}:
        options.insert(0, (month_value, period.label))
    context = {
        "table": table,
        "rows": [monthly_cells(r) for r in table.rows],
        "total": monthly_cells(table.total),
        "headers": [h for _, h, _ in MONTHLY_COLUMNS],
        "townships": townships,
        "township": code,
        "month": month_value,
        "months": options,
        "error": error,
        "note": MONTHLY_NOTE,
        "signatures": SIGNATURES,
        "can_export": True,
        "can_monthly": True,
    }
    return render(request, "cases/registers/monthly.html", context, status=400 if error else 200)


@permission_required(EXPORT_PERM)
@require_GET
def monthly_export(request):
    code, _, period, error = _monthly_setup(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    table = monthly_table(code, period)
    path_ = monthly_export_file(table)
    if not _audit_export(request.user, register="monthly_disputes", rows=len(table.rows), area_code=code,
                         month=f"{period.start:%Y-%m}"):  # fmt: skip
        path_.unlink(missing_ok=True)
        return _audit_failed()
    return file_response(path_, f"{table.title}.xlsx")


urlpatterns = [
    path("register/", register, name="register"),
    path("register/export/", register_export, name="register_export"),
    path("register/monthly/", monthly, name="monthly"),
    path("register/monthly/export/", monthly_export, name="monthly_export"),
    path("kpis/", kpis, name="kpis"),
]
