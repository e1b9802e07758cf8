"""Register pages (台账) of the points module, mounted under /points/ by one include line in
urls.py; each is printable HTML (first ``HTML_LIMIT`` rows) plus a streamed, audited .xlsx:

* ``points:register_ledger`` — the ledger of one account (a household's 积分流水台账);
* ``points:register_awards`` — the award register (积分申报评议台账);
* ``points:register_redemptions`` — the redemption register (振风超市兑换台账);
* ``points:register_stock`` — the stock of the shops (库存台账).

``points.export_account`` for the first three (grid workers, shop keepers, villagers → 403),
``points.view_shop`` for stock; rows come from the user's scope only; an account or a shop
outside it → 404. Every export writes an audit event ``points.export`` first — no audit
record, no file.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from xiangzhi import audit
from xiangzhi.audit.services import AuditWriteError
from xiangzhi.core import periods
from xiangzhi.core.api import COUNT_CAP
from xiangzhi.core.registers import file_response
from xiangzhi.core.scoping import scopes_for

from . import converters, registers, selectors
from .choices import AwardStatus, RedemptionStatus, SubjectKind
from .registers import EXPORT_PERM, HTML_LIMIT, STOCK_PERM, Filters
from .views import _nav_perms, staff_view

assert converters.IdConverter  # registers the points_id converter

AUDIT_FAILED = "审计记录写入失败，未导出任何数据，请稍后重试。"
MAX_PK = 10**18


# --- filters ------------------------------------------------------------------------------
def _date(value) -> date | None:
    try:
        day = date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None
    return day if day and 2000 <= day.year <= 2100 else None


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < MAX_PK else None


def _filters(request, *, areas=(), statuses=(), shops=(), kinds=False) -> Filters:
    """Query parameters → Filters; a value outside the choices offered is ignored."""
    get = request.GET
    area = get.get("area", "")
    status = get.get("status", "")
    kind = get.get("kind", "")
    shop = _int(get.get("shop"))
    return Filters(
        area_code=area if area in {a["code"] for a in areas} else "",
        status=status if status in dict(statuses) else "",
        subject_kind=kind if kinds and kind in SubjectKind.values else "",
        shop=shop if shop in {s.pk for s in shops} else None,
        date_from=_date(get.get("from")),
        date_to=_date(get.get("to")),
    )


def _query(f: Filters) -> str:
    params = {
        "area": f.area_code,
        "status": f.status,
        "kind": f.subject_kind,
        "shop": f.shop or "",
        "from": f.date_from.isoformat() if f.date_from else "",
        "to": f.date_to.isoformat() if f.date_to else "",
    }
    return urlencode({k: v for k, v in params.items() if v})


def _can_export(user) -> bool:
    return bool(scopes_for(user, EXPORT_PERM)[0])


def _audit(user, *, register: str, rows: int, f: Filters, **details) -> bool:
    params = {k: str(v) for k, v in f.__dict__.items() if v not in ("", None)}
    try:
        audit.record(user, "points.export", ("points.account", ""), register=register, rows=rows, filters=params,
                     **details)  # fmt: skip
    except AuditWriteError:
        return False
    return True


def _export(user, register_obj, rows, *, name: str, title: str, subtitle: str, ctx, f: Filters, **details):
    path_, count = register_obj.export_file(rows, title=title, subtitle=subtitle, ctx=ctx)
    if not _audit(user, register=name, rows=count, f=f, **details):
        path_.unlink(missing_ok=True)
        return HttpResponse(AUDIT_FAILED, status=503, content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime(timezone.now(), periods.TZ).strftime("%Y%m%d-%H%M")
    return file_response(path_, f"{title}-{stamp}.xlsx")


def _subtitle(user, lines: list[str]) -> str:
    now = timezone.localtime(timezone.now(), periods.TZ)
    return "　".join([f"导出时间：{now:%Y-%m-%d %H:%M}", f"导出人：{user.display_name}", *lines,
                     "事由中的电话、身份证号已脱敏"])  # fmt: skip


def _page(request, *, nav: str, title: str, register_obj, rows: list, count_qs, ctx, summary: list[str],
          export_url: str, form: dict, status: int = 200, extra: dict | None = None):  # fmt: skip
    more = len(rows) > HTML_LIMIT
    rows = rows[:HTML_LIMIT]
    if more:
        n = count_qs.order_by()[: COUNT_CAP + 1].count()
        count = f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)
    else:
        count = str(len(rows))
    context = {
        "nav": nav,
        "section": "registers",
        "title": title,
        "summary": summary,
        "headers": register_obj.headers,
        "rows": list(register_obj.html_rows(rows, ctx)),
        "count": count,
        "more": more,
        "limit": HTML_LIMIT,
        "export_url": export_url,
        "form": form,
        "printed_at": timezone.localtime(timezone.now(), periods.TZ),
        "can_export": _can_export(request.user),
        "perms_points": _nav_perms(request.user),
        **(extra or {}),
    }
    return render(request, "points/registers/register.html", context, status=status)


# --- index ----------------------------------------------------------------------------------
@staff_view(STOCK_PERM)
@require_GET
def index(request):
    if _can_export(request.user):
        return redirect("points:register_awards")
    return redirect("points:register_stock")


# --- the ledger of one account --------------------------------------------------------------
def _ledger_setup(request, pk):
    account = registers.ledger_account(request.user, pk)
    f = _filters(request)
    title = (
        f"{account.name}积分流水台账" if account.subject_kind == SubjectKind.HOUSEHOLD else f"{account.name}积分台账"
    )
    names = selectors.area_labels([account.area_code])
    lines = [f"账户：{account.name}（{SubjectKind(account.subject_kind).label}）",
             f"区域：{names.get(account.area_code, account.area_code)}"]  # fmt: skip
    if account.household_id and account.household.number:
        lines.append(f"户号：{account.household.number}")
    lines.append(f"当前余额：{account.balance} 分")
    return account, f, title, lines + f.summary()


@staff_view(EXPORT_PERM)
@require_GET
def ledger(request, pk: int):
    account, f, title, summary = _ledger_setup(request, pk)
    rows = registers.ledger_rows(account, f, limit=HTML_LIMIT + 1)
    url = reverse("points:register_ledger_export", args=[account.pk])
    return _page(request, nav="ledger", title=title, register_obj=registers.LEDGER, rows=rows,
                 count_qs=account.entries.all(), ctx=None, summary=summary,
                 export_url=f"{url}?{_query(f)}" if _query(f) else url,
                 form={"dates": True, "f": f, "action": reverse("points:register_ledger", args=[account.pk])},
                 extra={"account": account})  # fmt: skip


@staff_view(EXPORT_PERM)
@require_GET
def ledger_export(request, pk: int):
    account, f, title, summary = _ledger_setup(request, pk)
    return _export(request.user, registers.LEDGER, registers.ledger_rows(account, f), name="ledger", title=title,
                   subtitle=_subtitle(request.user, summary), ctx=None, f=f, account_id=account.pk,
                   area_code=account.area_code)  # fmt: skip


# --- the award register ----------------------------------------------------------------------
def _award_setup(request):
    user = request.user
    areas = selectors.areas(user, EXPORT_PERM)
    f = _filters(request, areas=areas, statuses=AwardStatus.choices, kinds=True)
    names = {a["code"]: a["label"] for a in areas}
    where = names.get(f.area_code, "")
    title = f"{where.replace(' ', '')}{registers.AWARDS.title}" if where else registers.AWARDS.title
    return areas, f, title, f.summary(names)


@staff_view(EXPORT_PERM)
@require_GET
def awards(request):
    user = request.user
    areas, f, title, summary = _award_setup(request)
    rows = registers.award_rows(user, f, limit=HTML_LIMIT + 1)
    ctx = registers.context({r["area_code"] for r in rows})
    url = reverse("points:register_awards_export")
    return _page(request, nav="awards", title=title, register_obj=registers.AWARDS, rows=rows,
                 count_qs=registers.award_queryset(user, f), ctx=ctx, summary=summary,
                 export_url=f"{url}?{_query(f)}" if _query(f) else url,
                 form={"dates": True, "date_label": "发生日期", "areas": areas, "statuses": AwardStatus.choices,
                       "kinds": SubjectKind.choices, "f": f, "action": reverse("points:register_awards")})  # fmt: skip


@staff_view(EXPORT_PERM)
@require_GET
def awards_export(request):
    user = request.user
    areas, f, title, summary = _award_setup(request)
    ctx = registers.context({a["code"] for a in areas})
    return _export(user, registers.AWARDS, registers.award_rows(user, f), name="awards", title=title,
                   subtitle=_subtitle(user, summary), ctx=ctx, f=f, area_code=f.area_code)  # fmt: skip


# --- the redemption register -----------------------------------------------------------------
def _redemption_setup(request):
    user = request.user
    areas = selectors.areas(user, EXPORT_PERM)
    shops = list(selectors.shops_for(user).order_by("area_code", "id"))
    f = _filters(request, areas=areas, statuses=RedemptionStatus.choices, shops=shops)
    names = {a["code"]: a["label"] for a in areas}
    summary = f.summary(names)
    if f.shop:
        summary.insert(0, f"超市：{next(s.name for s in shops if s.pk == f.shop)}")
    return areas, shops, f, registers.REDEMPTIONS.title, summary


@staff_view(EXPORT_PERM)
@require_GET
def redemptions(request):
    user = request.user
    areas, shops, f, title, summary = _redemption_setup(request)
    rows = registers.redemption_rows(user, f, limit=HTML_LIMIT + 1)
    ctx = registers.context({r["area_code"] for r in rows})
    url = reverse("points:register_redemptions_export")
    return _page(request, nav="redemptions", title=title, register_obj=registers.REDEMPTIONS, rows=rows,
                 count_qs=registers.redemption_queryset(user, f), ctx=ctx, summary=summary,
                 export_url=f"{url}?{_query(f)}" if _query(f) else url,
                 form={"dates": True, "date_label": "兑换日期", "areas": areas, "shops": shops,
                       "statuses": RedemptionStatus.choices, "f": f,
                       "action": reverse("points:register_redemptions")})  # fmt: skip


@staff_view(EXPORT_PERM)
@require_GET
def redemptions_export(request):
    user = request.user
    areas, _, f, title, summary = _redemption_setup(request)
    ctx = registers.context({a["code"] for a in areas})
    return _export(user, registers.REDEMPTIONS, registers.redemption_rows(user, f), name="redemptions",
                   title=title, subtitle=_subtitle(user, summary), ctx=ctx, f=f)  # fmt: skip


# --- stock ---------------------------------------------------------------------------------
def _stock_setup(request):
    user = request.user
    shops = list(selectors.shops_for(user).order_by("area_code", "id"))
    if not shops:
        raise PermissionDenied("您的管辖范围内还没有振风超市")
    f = _filters(request, shops=shops)
    summary = []
    title = registers.STOCK.title
    if f.shop:
        name = next(s.name for s in shops if s.pk == f.shop)
        title = f"{name}库存台账"
    summary.append(f"库存价值合计（在售商品）：{registers.stock_value(user, f)} 分")
    return shops, f, title, summary


@staff_view(STOCK_PERM)
@require_GET
def stock(request):
    user = request.user
    shops, f, title, summary = _stock_setup(request)
    rows = registers.stock_rows(user, f, limit=HTML_LIMIT + 1)
    url = reverse("points:register_stock_export")
    return _page(request, nav="stock", title=title, register_obj=registers.STOCK, rows=rows,
                 count_qs=registers.stock_queryset(user, f), ctx=None, summary=summary,
                 export_url=f"{url}?{_query(f)}" if _query(f) else url,
                 form={"shops": shops, "f": f, "action": reverse("points:register_stock")})  # fmt: skip


@staff_view(STOCK_PERM)
@require_GET
def stock_export(request):
    user = request.user
    _, f, title, summary = _stock_setup(request)
    return _export(user, registers.STOCK, registers.stock_rows(user, f), name="stock", title=title,
                   subtitle=_subtitle(user, summary), ctx=None, f=f)  # fmt: skip


urlpatterns = [
    path("registers/", index, name="registers"),
    path("registers/awards/", awards, name="register_awards"),
    path("registers/awards/export/", awards_export, name="register_awards_export"),
    path("registers/redemptions/", redemptions, name="register_redemptions"),
    path("registers/redemptions/export/", redemptions_export, name="register_redemptions_export"),
    path("registers/stock/", stock, name="register_stock"),
    path("registers/stock/export/", stock_export, name="register_stock_export"),
    path("registers/accounts/<points_id:pk>/", ledger, name="register_ledger"),
    path("registers/accounts/<points_id:pk>/export/", ledger_export, name="register_ledger_export"),
]
