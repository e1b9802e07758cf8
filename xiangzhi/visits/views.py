"""Field-work pages (走访): the visit list, "记走访" from a phone (households by pinyin
search, problems, photos, location; offline drafts in ``static/js/visits.js`` re-sent with a
``client_id`` so a draft lands once), the visit page with each problem's one-tap "转为事项",
photos through a scoped view, contact assignments (连心工程 / 四联四帮 / 板凳会) with the
coverage gaps, the coverage and counts page, and the visit register.

Reads go through ``selectors`` (``restrict(user, action)``): out of scope → 404, a role
without the permission → 403, anonymous → login. Writes go through ``services``; bad input
→ 400 with Chinese field messages and nothing written, a refused permission → 403.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiangzhi import audit
from xiangzhi.audit.services import AuditWriteError
from xiangzhi.cadres import selectors as cadre_selectors
from xiangzhi.cadres.models import Cadre
from xiangzhi.core import periods
from xiangzhi.core.paging import paginate_request
from xiangzhi.core.pinyin import normalize_query
from xiangzhi.core.scoping import has_perm
from xiangzhi.core.views import permission_required
from xiangzhi.org.models import Region
from xiangzhi.residents import selectors as registry

from . import metrics, selectors, services
from .forms import BenchForm, ContactForm, VisitForm, apply_service_errors, household_ids, problem_texts
from .models import ContactKind, VisitKind
from .registers import VISITS

VIEW = "visits.view_visit"
ADD = "visits.add_visit"
PAGE_SIZE = 20
RESULTS_TARGET = "visit-results"
PRINT_CAP = 2000
FULL_ID_DIGITS = 17


def _nav(user, nav: str) -> dict:
    return {
        "nav": nav,
        "can_add": has_perm(user, ADD),
        "can_contacts": has_perm(user, "visits.view_contactassignment"),
        "can_export": has_perm(user, "visits.export_visit"),
    }


def _day(raw) -> date | None:
    try:
        day = date.fromisoformat(str(raw).strip()[:10]) if raw else None
    except ValueError:
        return None
    return day if day and 1950 <= day.year <= 2100 else None


# --- visit list ------------------------------------------------------------------------------
@permission_required(VIEW)
@require_GET
def home(request):
    user = request.user
    areas = selectors.field_areas(user)
    cadre = selectors.my_cadre(user)
    get = request.GET
    tab = get.get("tab") or ("mine" if cadre else "all")
    tab = tab if tab in ("mine", "all") else "all"
    area = get.get("area", "")
    f = selectors.VisitFilters(
        area_code=area if area in {a["code"] for a in areas} else "",
        kind=get.get("kind", "") if get.get("kind") in VisitKind.values else "",
        start=_day(get.get("from")),
        end=_day(get.get("to")),
        mine=tab == "mine",
        cadre_id=int(get["cadre"]) if get.get("cadre", "").isdigit() and len(get["cadre"]) < 18 else None,
        household_id=int(get["household"])
        if get.get("household", "").isdigit() and len(get["household"]) < 18
        else None,
    )
    page = paginate_request(request, selectors.visit_list(user=user, filters=f), page_size=PAGE_SIZE, unit="次")
    selectors.decorate(page.object_list)
    context = {
        **_nav(user, "visits"),
        "page": page,
        "filters": f,
        "tab": tab,
        "areas": areas,
        "kinds": VisitKind.choices,
        "cadre": cadre,
    }
    template = "visits/home.html"
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        template += "#results"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# --- log a visit -------------------------------------------------------------------------------
def _pickable(user, own: Cadre | None) -> list[tuple[int, str]]:
    """Cadres the user may log for: their own, and — with ``visits.change_visit`` — the
    cadres in office in those areas (secretaries log for their village's cadres)."""
    options = []
    if own is not None:
        options.append((own.pk, f"{own.name}（本人）"))
    if has_perm(user, "visits.change_visit"):
        options += [
            (pk, label)
            for pk, label in cadre_selectors.cadre_choices(user, "visits.change_visit")
            if own is None or pk != own.pk
        ]
    return options


def _form_context(request, form, *, own, cadres, picked, errors=None) -> dict:
    user = request.user
    cadre_id = None
    if form.is_bound and form.data.get("cadre", "").isdigit():
        cadre_id = int(form.data["cadre"])
    elif own is not None:
        cadre_id = own.pk
    contacts = []
    groups = []
    if cadre_id:
        rows = selectors.contact_list(user=user, cadre_id=cadre_id)[:60]
        last = selectors.last_visits([c.household_id for c in rows if c.household_id])
        picked_ids = {h.pk for h in picked}
        for c in rows:
            if c.household_id:
                c.last_visit = last.get(c.household_id)
                c.checked = c.household_id in picked_ids
                contacts.append(c)
            elif c.group_name:
                groups.append(c.group_name)
        contacts.sort(key=lambda c: (c.last_visit is not None, c.last_visit or date.min))  # longest unvisited first
    contact_ids = {c.household_id for c in contacts}
    return {
        **_nav(user, "visits"),
        "form": form,
        "own": own,
        "can_pick_cadre": len(cadres) > 1 or (own is None and bool(cadres)),
        "contacts": contacts,
        "picked": [h for h in picked if h.pk not in contact_ids],
        "groups": sorted(set(groups)),
        "problems": (problem_texts(form.data) if form.is_bound else []) + [""],
        "errors": errors or {},
        "max_photos": services.MAX_PHOTOS,
        "today": periods.local_today(),
    }


@permission_required(ADD)
@require_http_methods(["GET", "POST"])
def visit_create(request):
    user = request.user
    own = selectors.my_cadre(user)
    cadres = _pickable(user, own)
    if not cadres:
        response = render(request, "visits/no_cadre.html", _nav(user, "visits"))
        return response
    areas = selectors.field_areas(user, ADD, levels=("village", "grid"))
    initial = {"visited_on": periods.local_today(), "kind": VisitKind.VISIT}
    if own is not None:
        initial["cadre"] = str(own.pk)
    picked = []
    if request.method == "GET" and request.GET.get("household", "").isdigit():
        picked = list(registry.households_for(user).filter(pk=int(request.GET["household"][:18])))
    form = VisitForm(
        request.POST or None,
        cadres=cadres if len(cadres) > 1 or own is None else None,
        areas=areas,
        initial=initial,
        own_cadre=own is not None,
    )
    if request.method == "GET":
        response = render(
            request, "visits/visit_form.html", _form_context(request, form, own=own, cadres=cadres, picked=picked)
        )
        add_never_cache_headers(response)
        return response
    ids = household_ids(request.POST)
    picked = list(registry.households_for(user).filter(pk__in=ids)) if ids else []
    errors: dict[str, str] = {}
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        cadre = own
        if "cadre" in form.fields and d.get("cadre"):
            cadre = Cadre.objects.filter(pk=int(d["cadre"])).first()
        client_id = f"u{user.pk}-{d['client_id']}" if d.get("client_id") else None
        try:
            visit = services.visit_log(
                actor=user,
                cadre=cadre,
                visited_on=d["visited_on"],
                summary=d["summary"],
                kind=d["kind"],
                households=ids,
                area_code=d.get("area_code") or "",
                group_name=d.get("group_name") or "",
                attendees=d.get("attendees") or 0,
                problems=problem_texts(request.POST),
                photos=[f for f in request.FILES.getlist("photos") if f],
                latitude=d.get("latitude") or None,
                longitude=d.get("longitude") or None,
                client_id=client_id,
            )
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                if key in form.fields and key not in ("latitude", "longitude"):
                    form.add_error(key, msgs)
                else:
                    errors[key] = msgs[0]
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or "您无权记录这次走访")
            status = 403
        else:
            messages.success(request, f"已记录走访（{visit.visited_on:%Y-%m-%d}）。")
            url = reverse("visits:detail", args=[visit.pk])
            if request.headers.get("X-Requested-With") == "XMLHttpRequest":  # visits.js (drafts): no redirect
                return JsonResponse({"id": visit.pk, "url": url}, status=201)
            return redirect(url)
    context = _form_context(request, form, own=own, cadres=cadres, picked=picked, errors=errors)
    response = render(request, "visits/visit_form.html", context, status=status)
    add_never_cache_headers(response)
    return response


@permission_required(ADD)
@require_GET
def household_search(request):
    """htmx: households in scope matching a name, its pinyin or initials (lcx → 刘长喜),
    the household number or the last 4 ID digits. Full ID numbers are not searched here."""
    user = request.user
    q = (request.GET.get("q") or "")[:50]
    mode = "single" if request.GET.get("mode") == "single" else "multi"
    digits = sum(ch.isdigit() for ch in q)
    searched = bool(normalize_query(q)) and digits < FULL_ID_DIGITS
    rows = list(registry.household_list(user=user, q=q)[:10]) if searched else []
    if rows:
        names = dict(
            Region.objects.filter(code__in={h.area_code for h in rows} | {h.area_code[:12] for h in rows}).values_list(
                "code", "name"
            )
        )
        for h in rows:
            village = names.get(h.area_code[:12], "")
            h.place = f"{village} · {names[h.area_code]}" if len(h.area_code) > 12 and h.area_code in names else village
    response = render(request, "visits/_household_results.html", {"rows": rows, "searched": searched, "mode": mode})
    add_never_cache_headers(response)
    return response


# --- visit page --------------------------------------------------------------------------------
@permission_required(VIEW)
@require_GET
def visit_detail(request, pk: int):
    user = request.user
    visit = selectors.visit_get(user=user, pk=pk)
    selectors.decorate([visit])
    context = {
        **_nav(user, "visits"),
        "visit": visit,
        "households": selectors.visit_households(user=user, visit=visit),
        "problems": selectors.visit_problems(user=user, visit=visit),
        "photos": list(visit.photos.order_by("id")),
        "can_view_cases": has_perm(user, "cases.view_case"),
    }
    response = render(request, "visits/visit_detail.html", context)
    add_never_cache_headers(response)
    return response


@permission_required(VIEW)
@require_GET
def photo(request, pk: int, photo_pk: int):
    """A visit photo, only when the visit is in the user's scope (404 otherwise)."""
    item = selectors.photo_get(user=request.user, visit_pk=pk, photo_pk=photo_pk)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@permission_required("visits.view_problem")
@require_POST
def problem_case(request, pk: int):
    """One tap: the problem becomes a ``need`` case (linked both ways); tapping again shows
    the same case."""
    user = request.user
    problem = selectors.problem_get(user=user, pk=pk)
    try:
        case = services.problem_to_case(actor=user, problem=problem)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "您的岗位不能登记事项")
        return redirect(reverse("visits:detail", args=[problem.visit_id]) + f"#problem-{problem.pk}")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        response = redirect(reverse("visits:detail", args=[problem.visit_id]) + f"#problem-{problem.pk}")
        return response
    messages.success(request, f"已转为事项 {case.tracking_code}，可在事项工作台跟踪办理。")
    return redirect(reverse("visits:detail", args=[problem.visit_id]) + f"#problem-{problem.pk}")


# --- contact assignments --------------------------------------------------------------------------
CONTACT_VIEW = "visits.view_contactassignment"
CONTACT_ADD = "visits.add_contactassignment"
GAP_ROWS = 20


@permission_required(CONTACT_VIEW)
@require_GET
def contacts(request):
    user = request.user
    areas = selectors.field_areas(user, CONTACT_VIEW, levels=("county", "township", "village", "grid"))
    area = selectors.pick_area(areas, request.GET.get("area"))
    if request.GET.get("area") and area is None:
        raise Http404
    kind = request.GET.get("kind", "")
    kind = kind if kind in ContactKind.values else ""
    context = {
        **_nav(user, "contacts"),
        "areas": areas,
        "area": area,
        "kind": kind,
        "kinds": ContactKind.choices,
        "can_assign": has_perm(user, CONTACT_ADD),
        "kind_help": list(_kind_help()),
    }
    if area is None:
        return render(request, "visits/contacts.html", context)
    page = paginate_request(request, selectors.contact_list(user=user, area_code=area["code"], kind=kind), unit="条")
    names = cadre_selectors.unit_names({c.area_code[:12] for c in page.object_list})
    for c in page.object_list:
        c.village = names.get(c.area_code[:12], "")
    gaps = metrics.gaps(area["code"])
    households = gaps["households_without_cadre"].order_by("area_code", "number", "id")
    cadres = gaps["cadres_without_contacts"].order_by("area_code", "name")
    context.update(
        page=page,
        gap_households=list(households[:GAP_ROWS]),
        gap_households_count=households.order_by()[:10_001].count(),
        gap_cadres=list(cadres[:GAP_ROWS]),
        gap_cadres_count=cadres.order_by().count(),
    )
    return render(request, "visits/contacts.html", context)


def _kind_help():
    from .forms import KIND_HELP

    for kind, text in KIND_HELP.items():
        yield ContactKind(kind).label, text


@permission_required(CONTACT_ADD)
@require_http_methods(["GET", "POST"])
def contact_add(request):
    user = request.user
    cadres = cadre_selectors.cadre_choices(user, CONTACT_ADD)
    initial = {"start": periods.local_today(), "kind": ContactKind.HEART_LINK}
    household = None
    if request.GET.get("household", "").isdigit():
        household = registry.households_for(user).filter(pk=int(request.GET["household"][:18])).first()
        if household:
            initial["household"] = household.pk
    form = ContactForm(request.POST or None, cadres=cadres, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            household = registry.households_for(user).filter(pk=d["household"]).first()
            cadre = Cadre.objects.filter(cadre_selectors.area_q(user, CONTACT_ADD), pk=int(d["cadre"])).first()
            if household is None:
                form.add_error("household", "请选择联系户（须在您的管辖范围内）")
            else:
                try:
                    services.contact_assign(
                        actor=user,
                        cadre=cadre,
                        kind=d["kind"],
                        start=d["start"],
                        household=household,
                        help=d.get("help", ""),
                    )
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc) or "无权在该区域分配联系户")
                else:
                    messages.success(request, f"已安排 {cadre.name} 联系 {household.head_name or household}。")
                    return redirect(f"{reverse('visits:contacts')}?area={household.area_code[:12]}")
        elif form.data.get("household", "").isdigit():
            household = registry.households_for(user).filter(pk=int(form.data["household"][:18])).first()
        status = 400
    context = {**_nav(user, "contacts"), "form": form, "household": household}
    return render(request, "visits/contact_form.html", context, status=status)


@permission_required(CONTACT_ADD)
@require_http_methods(["GET", "POST"])
def bench_add(request):
    user = request.user
    cadres = cadre_selectors.cadre_choices(user, CONTACT_ADD)
    villages = selectors.field_areas(user, CONTACT_ADD, levels=("village",))
    form = BenchForm(request.POST or None, cadres=cadres, villages=villages, initial={"start": periods.local_today()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            cadre = Cadre.objects.filter(cadre_selectors.area_q(user, CONTACT_ADD), pk=int(d["cadre"])).first()
            try:
                services.contact_assign(
                    actor=user,
                    cadre=cadre,
                    kind=ContactKind.BENCH_MEETING,
                    start=d["start"],
                    group_name=d["group_name"],
                    village_code=d["village"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc, {"group_name": "group_name"})
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or "无权在该村安排板凳会")
            else:
                messages.success(request, f"已安排 {cadre.name} 联系 {d['group_name']}（板凳会）。")
                return redirect(f"{reverse('visits:contacts')}?area={d['village']}&kind=bench_meeting")
        status = 400
    context = {
        **_nav(user, "contacts"),
        "form": form,
        "title": "安排板凳会联系组",
        "submit": "保存",
        "cancel_url": reverse("visits:contacts"),
        "form_id": "bench-form",
    }
    return render(request, "cadres/form.html", context, status=status)


# --- coverage & counts ---------------------------------------------------------------------------
def period_options(today: date, first_year: int = 2020) -> list[tuple[str, str]]:
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


def about(n: int) -> str:
    """3217 → "3000余", 1045 → "1000余", 86 → "86" (the articles' way of rounding)."""
    if n < 100:
        return str(n)
    step = 1000 if n >= 1000 else 100
    floor = n // step * step
    return f"{floor}余" if n > floor else str(n)


CHILD_DEPTH = {"county": 9, "township": 12, "village": 15}


@permission_required(VIEW)
@require_GET
def coverage(request):
    user = request.user
    areas = selectors.field_areas(user)
    area = selectors.pick_area(areas, request.GET.get("area"))
    if request.GET.get("area") and area is None:
        raise Http404
    today = periods.local_today()
    raw_period = (request.GET.get("period") or "").strip()[:10]
    error = ""
    try:
        period = periods.parse_period(raw_period) if raw_period else periods.year(today.year)
    except ValueError as exc:
        error, period = str(exc), periods.year(today.year)
    try:
        days = min(max(int(request.GET.get("days", 30)), 1), 3650)
    except (TypeError, ValueError):
        days = 30
    context = {
        **_nav(user, "coverage"),
        "areas": areas,
        "area": area,
        "period": period,
        "days": days,
        "periods": period_options(today),
        "period_value": raw_period or str(today.year),
        "error": error,
    }
    if area is None or error:
        return render(request, "visits/coverage.html", context, status=400 if error else 200)
    code = area["code"]
    counts = metrics.visit_counts(code, period)
    cov = metrics.coverage(code, period)
    probs = metrics.problems(code, period)
    depth = CHILD_DEPTH.get(area["level"])
    units = []
    if depth:
        data = selectors.breakdown(code, period, depth=depth)
        names = cadre_selectors.unit_names(set(data) | {c[:12] for c in data})
        for unit_code in sorted(data):
            x = data[unit_code]
            label = names.get(unit_code, unit_code)
            if len(unit_code) < depth:
                label = f"{label}（{'村级' if len(unit_code) == 12 else '本级'}）"
            elif depth == 15:
                label = f"{names.get(unit_code[:12], '')} · {label}"
            x["coverage"] = metrics._pct(x["assigned_visited"], x["assigned"])
            units.append({"code": unit_code, "name": label, "child": len(unit_code) == depth, **x})
    stale_qs = metrics.not_visited_since(code, days, today=today)
    stale = paginate_request(request, stale_qs, page_size=20, unit="户", param="stale_page")
    village_names = cadre_selectors.unit_names({h.area_code[:12] for h in stale.object_list})
    for h in stale.object_list:
        h.village = village_names.get(h.area_code[:12], "")
        h.days_since = (today - h.last_visit).days if h.last_visit else None
    context.update(
        counts=counts,
        cov=cov,
        probs=probs,
        headline_people=about(counts["person_times"]),
        bench_people=counts["person_times"] - counts["household_visits"],
        headline_solved=about(probs["solved"]),
        units=units,
        cadres=selectors.cadre_breakdown(code, period),
        stale=stale,
    )
    return render(request, "visits/coverage.html", context)


# --- register ---------------------------------------------------------------------------------
@permission_required("visits.export_visit")
@require_GET
def register(request):
    user = request.user
    areas = selectors.field_areas(user, "visits.export_visit")
    area = selectors.pick_area(areas, request.GET.get("area"))
    today = periods.local_today()
    start = _day(request.GET.get("from")) or today.replace(day=1)
    end = _day(request.GET.get("to")) or today
    if end < start:
        start, end = end, start
    f = selectors.VisitFilters(area_code=area["code"] if area else "", start=start, end=end)
    qs = selectors.visit_list(user=user, filters=f).order_by("visited_on", "id")
    title = "走访台账"
    subtitle = f"{area['label'] if area else '全部'}　{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"
    if request.GET.get("format") == "xlsx":
        file_path, count = VISITS.export_file(selectors.register_rows(qs), title=title, subtitle=subtitle)
        try:
            audit.record(
                user,
                "visits.export",
                ("visits.visit", ""),
                area_code=f.area_code,
                register="visits",
                rows=count,
                start=str(start),
                end=str(end),
            )
        except AuditWriteError:
            file_path.unlink(missing_ok=True)
            return HttpResponse(
                "审计记录写入失败，未导出任何数据，请稍后重试。", status=503, content_type="text/plain; charset=utf-8"
            )
        from xiangzhi.core.registers import file_response

        return file_response(file_path, f"走访台账-{timezone.localtime():%Y%m%d-%H%M}.xlsx")
    rows = []
    for visit in selectors.register_rows(qs[: PRINT_CAP + 1]):
        rows.append(visit)
    capped = len(rows) > PRINT_CAP
    rows = rows[:PRINT_CAP]
    query = f"from={start:%Y-%m-%d}&to={end:%Y-%m-%d}" + (f"&area={area['code']}" if area else "")
    context = {
        **_nav(user, "register"),
        "title": title,
        "subtitle": subtitle,
        "headers": VISITS.headers,
        "rows": list(VISITS.html_rows(rows)),
        "capped": capped,
        "cap": PRINT_CAP,
        "areas": areas,
        "area": area,
        "start": start,
        "end": end,
        "xlsx_query": query + "&format=xlsx",
    }
    return render(request, "visits/register.html", context)


urlpatterns = [
    path("", home, name="home"),
    path("new/", visit_create, name="create"),
    path("new/households/", household_search, name="household_search"),
    path("<int:pk>/", visit_detail, name="detail"),
    path("<int:pk>/photos/<int:photo_pk>/", photo, name="photo"),
    path("problems/<int:pk>/case/", problem_case, name="problem_case"),
    path("contacts/", contacts, name="contacts"),
    path("contacts/new/", contact_add, name="contact_add"),
    path("contacts/bench/new/", bench_add, name="bench_add"),
    path("coverage/", coverage, name="coverage"),
    path("register/", register, name="register"),
]
