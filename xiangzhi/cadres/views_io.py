"""Cadre registers (台账) and the roster import.

* roster (花名册): ``roster_export`` (.xlsx, same filters as the roster page) and
  ``roster_print`` (a printable page);
* training register (培养台账, one row per cadre and year) and commendation/criticism
  register (表扬与批评台账): ``?format=xlsx`` downloads, otherwise the printable page;
* ``import`` (upload, per-row Chinese errors, all or nothing) and ``import_template``.

Exports need ``cadres.export_cadre``, are written in constant memory to a temporary file,
audited (no audit → no file) and streamed. The printable pages show at most
``PRINT_CAP`` rows (narrow the filter or export beyond that).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from xiangzhi import audit
from xiangzhi.audit.services import AuditWriteError
from xiangzhi.core import periods
from xiangzhi.core.registers import file_response
from xiangzhi.core.scoping import has_perm
from xiangzhi.core.views import permission_required

from . import importer, selectors
from .forms import ImportForm
from .registers import RECOGNITIONS, ROSTER, TEMPLATE_NOTE, TRAINING, roster_rows, training_rows
from .views import nav_context, roster_filters
from .views_growth import FIRST_YEAR, _period, _year

EXPORT = "cadres.export_cadre"
PRINT_CAP = 2000


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def _export(
    user, register, rows, *, title: str, subtitle: str, filename: str, name: str, area_code: str, ctx=None, **details
):
    path, count = register.export_file(rows, title=title, subtitle=subtitle, ctx=ctx)
    try:
        audit.record(
            user, "cadres.export", ("cadres.cadre", ""), area_code=area_code, register=name, rows=count, **details
        )
    except AuditWriteError:
        path.unlink(missing_ok=True)
        return HttpResponse(
            "审计记录写入失败，未导出任何数据，请稍后重试。", status=503, content_type="text/plain; charset=utf-8"
        )
    return file_response(path, filename)


def _print(request, register, rows, *, title: str, subtitle: str, nav_extra: dict, ctx=None):
    rows = list(rows[: PRINT_CAP + 1]) if isinstance(rows, list) else list(_take(rows, PRINT_CAP + 1))
    capped = len(rows) > PRINT_CAP
    rows = rows[:PRINT_CAP]
    context = {
        **nav_context(request.user, "registers"),
        **nav_extra,
        "title": title,
        "subtitle": subtitle,
        "headers": register.headers,
        "rows": list(register.html_rows(rows, ctx)),
        "capped": capped,
        "cap": PRINT_CAP,
    }
    return render(request, "cadres/register.html", context)


def _take(iterable, n):
    for i, item in enumerate(iterable):
        if i >= n:
            return
        yield item


@permission_required(EXPORT)
@require_GET
def registers(request):
    user = request.user
    today = periods.local_today()
    context = {
        **nav_context(user, "registers"),
        "year": today.year,
        "can_import": has_perm(user, importer.PERM),
        "can_visits": has_perm(user, "visits.export_visit"),
    }
    return render(request, "cadres/registers.html", context)


# --- roster ------------------------------------------------------------------------------------
def _roster(request):
    user = request.user
    areas = selectors.unit_areas(user)
    f = roster_filters(request, areas)
    today = periods.local_today()
    qs = selectors.cadre_list(user=user, filters=f, on=today)
    label = next((a["label"] for a in areas if a["code"] == f.area_code), "")
    subtitle = f"{label or '全部单位'}　截至 {today:%Y-%m-%d}"
    return f, qs, today, subtitle


@permission_required(EXPORT)
@require_GET
def roster_export(request):
    f, qs, today, subtitle = _roster(request)
    return _export(
        request.user,
        ROSTER,
        roster_rows(qs, on=today),
        title="镇村干部花名册",
        subtitle=subtitle,
        filename=f"镇村干部花名册-{_stamp()}.xlsx",
        name="roster",
        area_code=f.area_code,
        filters={k: v for k, v in f.__dict__.items() if v},
    )


@permission_required(EXPORT)
@require_GET
def roster_print(request):
    f, qs, today, subtitle = _roster(request)
    return _print(
        request,
        ROSTER,
        roster_rows(qs, on=today),
        title="镇村干部花名册",
        subtitle=subtitle,
        nav_extra={"export_url": "cadres:roster_export", "query": request.GET.urlencode()},
    )


# --- training register ---------------------------------------------------------------------------
@permission_required(EXPORT)
@require_GET
def training_register(request):
    user = request.user
    areas = selectors.unit_areas(user)
    area = selectors.pick_area(areas, request.GET.get("area"), default_first=False)
    today = periods.local_today()
    year = _year(request.GET.get("year"), today)
    on = selectors.four_ones_on(year, today)
    qs = selectors.cadre_list(user=user, filters=selectors.RosterFilters(area_code=area["code"] if area else ""), on=on)
    cadres = list(qs[: PRINT_CAP * 5])
    selectors.decorate(cadres, on)
    rows = training_rows(cadres, year=year, today=today)
    title = f"{year}年干部培养台账"
    subtitle = f"{area['label'] if area else '全部单位'}　“四个一”限 35 岁以下干部；统计至 {on:%Y-%m-%d}"
    if request.GET.get("format") == "xlsx":
        return _export(
            user,
            TRAINING,
            rows,
            title=title,
            subtitle=subtitle,
            filename=f"干部培养台账-{year}-{_stamp()}.xlsx",
            name="training",
            area_code=area["code"] if area else "",
            year=year,
        )
    return _print(
        request,
        TRAINING,
        rows,
        title=title,
        subtitle=subtitle,
        nav_extra={
            "areas": areas,
            "area": area,
            "year": year,
            "years": list(range(today.year, FIRST_YEAR - 1, -1)),
            "xlsx_query": f"year={year}&format=xlsx" + (f"&area={area['code']}" if area else ""),
            "filter": "year",
        },
    )


# --- recognitions register -----------------------------------------------------------------------
@permission_required(EXPORT)
@require_GET
def recognition_register(request):
    user = request.user
    areas = selectors.unit_areas(user, "cadres.view_recognition")
    area = selectors.pick_area(areas, request.GET.get("area"), default_first=False)
    today = periods.local_today()
    period, _error = _period(request.GET.get("period"), today)
    qs = selectors.recognitions_for(user).filter(issued_on__gte=period.start, issued_on__lt=period.end)
    if area:
        from xiangzhi.core.scoping import prefix_q

        qs = qs.filter(prefix_q("area_code", area["code"]))
    qs = qs.select_related("cadre").order_by("issued_on", "id")
    rows = list(qs[: PRINT_CAP * 5])
    names = selectors.unit_names({r.area_code for r in rows})
    title = f"{period.label}表扬与通报批评台账"
    subtitle = area["label"] if area else "全部单位"
    if request.GET.get("format") == "xlsx":
        return _export(
            user,
            RECOGNITIONS,
            rows,
            title=title,
            subtitle=subtitle,
            ctx=names,
            filename=f"表扬与通报批评台账-{_stamp()}.xlsx",
            name="recognitions",
            area_code=area["code"] if area else "",
            period=period.label,
        )
    value = (request.GET.get("period") or "").strip()[:10] or str(period.start.year)
    return _print(
        request,
        RECOGNITIONS,
        rows,
        title=title,
        subtitle=subtitle,
        ctx=names,
        nav_extra={
            "areas": areas,
            "area": area,
            "period_value": value,
            "filter": "period",
            "years": list(range(today.year, FIRST_YEAR - 1, -1)),
            "xlsx_query": f"period={value}&format=xlsx" + (f"&area={area['code']}" if area else ""),
        },
    )


# --- import ---------------------------------------------------------------------------------------
@permission_required(importer.PERM)
@require_http_methods(["GET", "POST"])
def import_page(request):
    user = request.user
    areas = importer.import_areas(user)
    form = ImportForm(request.POST or None, request.FILES or None, areas=areas)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = importer.roster_import(
                    actor=user, area_code=form.cleaned_data["area_code"], uploaded=form.cleaned_data["file"]
                )
            except ValidationError as exc:
                for key, msgs in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, msgs)
            except PermissionDenied as exc:
                form.add_error("area_code", str(exc) or "您无权在该单位导入")
            except AuditWriteError:
                form.add_error(None, "审计记录写入失败，未导入任何数据，请稍后重试。")
            else:
                if result.ok:
                    messages.success(
                        request,
                        f"导入完成：共 {result.rows} 行，新增 {result.created} 人，更新 {result.updated} 人，"
                        f"未变 {result.unchanged} 人，新增职务 {result.posts_added} 条。",
                    )
                    return redirect(f"{reverse('cadres:roster')}?area={form.cleaned_data['area_code']}")
        status = 400
    context = {
        **nav_context(user, "roster"),
        "form": form,
        "result": result,
        "max_rows": importer.MAX_ROWS,
        "errors_shown": (result.errors[:500] if result else []),
        "more_errors": max(len(result.errors) - 500, 0) if result else 0,
    }
    return render(request, "cadres/import.html", context, status=status)


@permission_required(importer.PERM)
@require_GET
def import_template(request):
    return ROSTER.template_response(filename="镇村干部花名册导入模板.xlsx", note=TEMPLATE_NOTE)


urlpatterns = [
    path("registers/", registers, name="registers"),
    path("registers/roster.xlsx", roster_export, name="roster_export"),
    path("registers/roster/", roster_print, name="roster_print"),
    path("registers/training/", training_register, name="training_register"),
    path("registers/recognitions/", recognition_register, name="recognition_register"),
    path("import/", import_page, name="import"),
    path("import/template/", import_template, name="import_template"),
]
