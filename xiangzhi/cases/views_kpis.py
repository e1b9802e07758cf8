"""The cases KPI page (``cases:kpis``): the headline numbers of one area (county, township,
village or grid within the user's scope) and one period (month / quarter / year), straight
from ``metrics`` — the same functions dashboards, registers and assessment read.

Access: login, then ``cases.view_case`` over some area (villagers, whose permission covers
only their own household, get 403; so does a role without it). An area outside the scope
is 404; a malformed period is a field message (400), never a 500.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from xiangzhi.core import periods
from xiangzhi.core.scoping import has_perm, scopes_for
from xiangzhi.core.views import PERMISSION
from xiangzhi.org.models import Region

from . import metrics
from .choices import Channel, Kind
from .registers import monthly_townships

VIEW_PERM = "cases.view_case"
FIRST_YEAR = 2022
WHOLE = {"county": "全县", "township": "全镇"}


def area_view(view):
    """Login, then ``cases.view_case`` over an area (own-household scopes do not count)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        areas, _ = scopes_for(request.user, VIEW_PERM)
        if not areas:
            raise PermissionDenied("您的岗位没有查看事项指标的权限")
        return view(request, *args, **kwargs)

    wrapper.xz_access = PERMISSION
    wrapper.xz_perm = VIEW_PERM
    return wrapper


def kpi_areas(user) -> list[dict]:
    """The areas the picker offers: each scope root itself, and the townships and villages
    inside it. One query."""
    prefixes, _ = scopes_for(user, VIEW_PERM)
    if not prefixes:
        return []
    cond = Q(code__in=prefixes)
    for p in prefixes:
        cond |= Q(code__startswith=p, level__in=("township", "village"))
    rows = list(Region.objects.filter(cond, is_active=True).order_by("code").values_list("code", "name", "level"))
    names = {code: name for code, name, _ in rows}
    missing = {code[:n] for code, _, _ in rows for n in (9, 12) if len(code) > n} - set(names)
    if missing:
        names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    listed = {code for code, _, _ in rows}
    out = []
    for code, name, level in rows:
        if level == "grid":
            label = f"{names.get(code[:12], code[:12])} · {name}"
        elif level in WHOLE:
            label = f"{name}（{WHOLE[level]}）"
        else:
            label = name
        depth = sum(1 for n in (6, 9, 12) if len(code) > n and code[:n] in listed)
        out.append({"code": code, "name": name, "level": level, "label": label, "indent": "　" * min(depth, 2)})
    return out


def period_options(today: date, first_year: int = FIRST_YEAR) -> list[tuple[str, str]]:
    """Years, then the quarters of this and last year, then the last 12 months."""
    out = [(str(y), f"{y}年") for y in range(today.year, first_year - 1, -1)]
    this_q = (today.month - 1) // 3 + 1
    for y in (today.year, today.year - 1):
        for q in range(4 if y < today.year else this_q, 0, -1):
            out.append((f"{y}-Q{q}", f"{y}年第{q}季度"))
    y, m = today.year, today.month
    for _ in range(12):
        out.append((f"{y}-{m:02d}", f"{y}年{m}月"))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def _period_value(p: periods.Period) -> str:
    if p.kind == "year":
        return str(p.start.year)
    if p.kind == "quarter":
        return f"{p.start.year}-Q{(p.start.month - 1) // 3 + 1}"
    return f"{p.start:%Y-%m}"


def pct(value) -> str:
    return "—" if value is None else f"{value}%"


def build_cards(k: metrics.CaseKpis, months: int | None, as_of: date) -> list[dict]:
    months_text = "—" if months is None else f"连续 {months} 个月无越级访"
    return [
        {"key": "closure_rate", "label": "办结率", "value": pct(k.closure_rate),
         "detail": f"本期受理 {k.accepted} 件，已办结 {k.accepted_closed} 件"},
        {"key": "on_time_rate", "label": "按期办结率", "value": pct(k.on_time_rate),
         "detail": f"按期 {k.closed_on_time} 件 ÷（办结 {k.closed} 件 ＋ 超期未办结 {k.open_overdue} 件）"},
        {"key": "first_time_rate", "label": "一次化解率", "value": pct(k.first_time_rate),
         "detail": f"一次化解 {k.first_time} 件 ÷ 办结 {k.closed} 件"},
        {"key": "mediation_success_rate", "label": "调解成功率", "value": pct(k.mediation_success_rate),
         "detail": f"调解成功 {k.mediations_successful} 次 ÷ 调解 {k.mediations} 次"},
        {"key": "skip_level", "label": "越级访", "value": f"{k.skip_level_count} 次",
         "detail": f"{months_text}（截至 {as_of:%Y-%m-%d}）"},
        {"key": "avg_days_to_close", "label": "平均办结天数",
         "value": "—" if k.avg_days_to_close is None else f"{k.avg_days_to_close} 天",
         "detail": f"本期办结 {k.closed} 件，自收到至办结"},
        {"key": "registered", "label": "登记事项", "value": f"{k.registered} 件", "detail": "本期收到的事项"},
    ]  # fmt: skip


@area_view
@require_GET
def kpis(request):
    user = request.user
    areas = kpi_areas(user)
    codes = {a["code"] for a in areas}
    area = (request.GET.get("area") or "").strip()
    if area and area not in codes:
        raise Http404
    area = area or areas[0]["code"]
    today = periods.local_today()
    raw = (request.GET.get("period") or "").strip()
    error = ""
    period = periods.year(today.year)
    if raw:
        try:
            period = periods.parse_period(raw)
        except ValueError as exc:
            error = str(exc)
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else ""
    options = period_options(today)
    value = _period_value(period)
    if value not in {v for v, _ in options}:
        options.insert(0, (value, period.label))
    current = next(a for a in areas if a["code"] == area)
    context = {
        "areas": areas,
        "area": current,
        "period": period,
        "period_value": value,
        "periods": options,
        "kind": kind,
        "kinds": Kind.choices,
        "error": error,
        "can_export": has_perm(user, "cases.export_case"),
        "can_monthly": bool(monthly_townships(user)),
    }
    if not error:
        now = timezone.now()
        as_of = min(today, period.end - timedelta(days=1))
        k = metrics.case_kpis(area, period, kind=kind or None, now=now)
        months = metrics.months_without_skip_level(area, as_of=as_of)
        channels = dict(Channel.choices)
        backlog = metrics.backlog_by_age(area, now=now, kind=kind or None)
        by_category = metrics.counts_by(area, period, "category__name", kind=kind or None)
        by_channel = [
            {"key": channels.get(r["key"], r["key"]), "count": r["count"]}
            for r in metrics.counts_by(area, period, "channel", kind=kind or None)
        ]
        context.update(
            {
                "kpis": k,
                "cards": build_cards(k, months, as_of),
                "months_without_skip_level": months,
                "backlog": backlog,
                "backlog_total": sum(b["count"] for b in backlog),
                "by_category": by_category,
                "by_channel": by_channel,
                "charts": {
                    "backlog": {"labels": [b["label"] for b in backlog], "values": [b["count"] for b in backlog]},
                    "category": {
                        "labels": [r["key"] for r in by_category],
                        "values": [r["count"] for r in by_category],
                    },
                    "channel": {"labels": [r["key"] for r in by_channel], "values": [r["count"] for r in by_channel]},
                },
            }
        )
    return render(request, "cases/registers/kpis.html", context, status=400 if error else 200)
