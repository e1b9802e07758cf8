"""Registry pages (一户一档): the household list with live search, the exact ID lookup, the
household page with its module panels, the audited reveal, and the household/member forms.

Reads go through ``selectors`` (``restrict(user, action)``); writes through ``services``.
Out of scope → 404, role without the permission → 403, anonymous → login.
"""

from __future__ import annotations

import re
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from xiangzhi.audit.services import AuditWriteError
from xiangzhi.core import html, idcard
from xiangzhi.core.html import badges, esc
from xiangzhi.core.paging import count_requested, count_response, paginate_request
from xiangzhi.core.pinyin import normalize_query
from xiangzhi.core.scoping import can_in_area, has_perm, restrict_sql
from xiangzhi.core.views import permission_required
from xiangzhi.org.models import Region
from xiangzhi.org.selectors import area_name

from . import panels, selectors, services
from .choices import ALL_TAGS, HOUSEHOLD_TAGS, RESIDENT_TAGS, Relation, tags_from_db
from .forms import HouseholdForm, ResidentForm, apply_service_errors, scoped_areas
from .models import Household, Resident, SearchKey

PAGE_SIZE = 20
MAX_Q = 50
FULL_ID = re.compile(r"^\s*\d{17}[\dXx]\s*$")
RESULTS_TARGET = "registry-results"
TAG_GROUPS = [("户标签", list(HOUSEHOLD_TAGS.items())), ("人员标签", list(RESIDENT_TAGS.items()))]
NOT_FOUND = "未找到该身份证号（或不在您的管辖范围内）"
ID_IN_QUERY = "为保护个人信息，完整身份证号请使用“按身份证号精确查找”（不会出现在网址中）。"


# --- household list ----------------------------------------------------------------------
def _list_filters(request, areas: list[dict]) -> dict:
    """Validated filters from the query string. Values outside the user's scope are ignored."""
    get = request.GET
    codes = {a["code"]: a for a in areas}
    village = get.get("village", "")
    grid = get.get("grid", "")
    village = village if codes.get(village, {}).get("level") == "village" else ""
    grid = grid if codes.get(grid, {}).get("level") == "grid" else ""
    if grid and village and not grid.startswith(village):
        grid = ""
    tag = get.get("tag", "")
    tag = tag if tag in ALL_TAGS else ""
    q = (get.get("q") or "")[:MAX_Q]
    id_in_query = bool(FULL_ID.match(q))
    if id_in_query:
        q = ""  # never searched, never echoed
    return {
        "q": q.strip(),
        "village": village,
        "grid": grid,
        "tag": tag,
        "area_code": grid or village,
        "id_in_query": id_in_query,
    }


def _decorate_rows(rows: list[Household], areas: list[dict]) -> None:
    """Names of villages/grids (from the user's memoised area list), members' tags and the
    members a search matched (from ``_member_info``)."""
    if not rows:
        return
    names = {a["code"]: a["name"] for a in areas}
    codes = set()
    for h in rows:
        codes.add(h.area_code[:12])
        if len(h.area_code) > 12:
            codes.add(h.area_code)
    missing = codes - names.keys()  # e.g. a household left in a deactivated grid
    if missing:
        names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    for h in rows:
        village = names.get(h.area_code[:12], h.area_code[:12])
        h.village_name = village
        h.grid_name = names.get(h.area_code, h.area_code) if len(h.area_code) > 12 else ""
        own = set(tags_from_db(h.tags))
        members = getattr(h, "member_tags", set())
        h.member_tag_list = [(c, ALL_TAGS.get(c, c)) for c in sorted(members - own)]
        h.matched_names = sorted(getattr(h, "matched", set()) - {h.head_name})


def _member_info(user, rows: list[Household], q: str) -> None:
    """Members' tags and, for a search, the members matched, for a page of households: one
    hand-written query through the residents' scope (``restrict_sql``) on the household
    index — the ORM would spend longer building it than the database answering it."""
    for h in rows:
        h.member_tags, h.matched = set(), set()
    if not rows:
        return
    by_id = {h.pk: h for h in rows}
    key = normalize_query(q)
    scoped = restrict_sql(user, Resident, "view")
    if scoped is None:  # own-rows scope (a join): the ORM writes it
        members = selectors.residents_for(user).filter(household_id__in=by_id)
        hits = set()
        if key:
            hits = set(SearchKey.objects.filter(resident__in=members.values("pk"), key__gte=key,
                                                key__lt=key + "\uffff").values_list("resident_id", flat=True))
        for pk, household_id, tags, name in members.values_list("pk", "household_id", "tags", "name"):
            by_id[household_id].member_tags.update(tags_from_db(tags))
            if pk in hits:
                by_id[household_id].matched.add(name)
        return
    scope, scope_params = scoped
    matched = "0"
    params: list = []
    if key:
        matched = (
            "EXISTS (SELECT 1 FROM residents_searchkey k WHERE k.resident_id = residents_resident.id"
            " AND k.key >= %s AND k.key < %s)"
        )
        params += [key, key + "\uffff"]
    marks = ", ".join(["%s"] * len(by_id))
    # placeholders only; the fragments are ours and restrict()'s
    sql = f"SELECT household_id, tags, name, {matched} FROM residents_resident WHERE household_id IN ({marks}) AND ({scope})"  # noqa: E501, S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *by_id, *scope_params])
        for household_id, tags, name, hit in cursor.fetchall():
            h = by_id[household_id]
            h.member_tags.update(tags_from_db(tags))
            if hit:
                h.matched.add(name)


def _rows_html(rows: list[Household]) -> SafeString:
    """The registry table's rows (see core.html: the hottest markup of the page, built in
    Python with every value escaped)."""
    url = html.pk_url("residents:household_detail")
    out = []
    for h in rows:
        number = esc(h.number) if h.number else ""
        matched = (
            f'<div class="small text-secondary xz-matched">匹配成员：{esc("、".join(h.matched_names))}</div>'
            if h.matched_names else ""
        )
        grid = f'<div class="small text-secondary">{esc(h.grid_name)}</div>' if h.grid_name else ""
        out.append(
            f'<tr><td class="xz-hide-sm text-nowrap">{number or "—"}</td>'
            f'<td><a class="household-link fw-medium" href="{url(h.pk)}">'
            f'{esc(h.head_name) if h.head_name else "（未设户主）"}</a>'
            f'<div class="small text-secondary d-sm-none">{number + " · " if number else ""}{h.member_count} 人</div>'
            f"{matched}</td>"
            f"<td>{esc(h.village_name)}{grid}</td>"
            f'<td class="xz-hide-sm text-end">{h.member_count}</td>'
            f'<td>{badges((label for _, label in h.tag_list), "bg-orange-lt")}'
            f'{badges((label for _, label in h.member_tag_list), "bg-azure-lt")}</td></tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value escaped by esc()


def _list_context(request, *, lookup_error: str = "") -> dict:
    user = request.user
    areas = scoped_areas(user)
    f = _list_filters(request, areas)
    qs = selectors.household_list(user=user, q=f["q"], area_code=f["area_code"], tag=f["tag"])
    page = paginate_request(request, qs, page_size=PAGE_SIZE, unit="户", defer_count=True)
    _member_info(user, page.object_list, f["q"])
    _decorate_rows(page.object_list, areas)
    villages = [a for a in areas if a["level"] == "village"]
    grids = [a for a in areas if a["level"] == "grid" and (not f["village"] or a["village_code"] == f["village"])]
    grid_groups: dict[str, list] = {}
    for a in grids:
        grid_groups.setdefault(a["village_name"], []).append((a["code"], a["name"]))
    scope_label = ""
    if f["area_code"]:
        scope_label = next((a["label"] for a in areas if a["code"] == f["area_code"]), "")
    return {
        "page": page,
        "rows_html": _rows_html(page.object_list),
        "filters": f,
        "q": f["q"],
        "villages": villages,
        "grids": grids,
        "village_options": html.options(((a["code"], a["name"]) for a in villages), f["village"], "全部村"),
        "grid_options": html.grouped_options(grid_groups.items(), f["grid"], "全部网格"),
        "tag_options": html.grouped_options(TAG_GROUPS, f["tag"], "全部标签"),
        "scope_label": scope_label,
        "can_add": has_perm(user, "residents.add_household"),
        "can_export": has_perm(user, "residents.export_household"),
        "can_import": has_perm(user, "residents.import_household"),
        "id_in_query": f["id_in_query"],
        "lookup_error": lookup_error,
        "filter_query": _filter_query(f),
    }


def _filter_query(f: dict) -> str:
    from urllib.parse import urlencode

    return urlencode({k: f[k] for k in ("q", "village", "grid", "tag") if f[k]})


@permission_required("residents.view_household")
def household_list(request):
    if count_requested(request):  # the deferred total of the list below ("共 9123 户")
        areas = scoped_areas(request.user)
        f = _list_filters(request, areas)
        qs = selectors.household_list(user=request.user, q=f["q"], area_code=f["area_code"], tag=f["tag"])
        return count_response(qs, unit="户")
    context = _list_context(request)
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        response = render(request, "residents/household_list.html#results", context)
    else:
        response = render(request, "residents/household_list.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@permission_required("residents.view_resident")
@require_POST
def resident_lookup(request):
    """Exact lookup by full ID number, by POST so the number never appears in a URL."""
    raw = request.POST.get("id_number", "")
    error = ""
    try:
        idcard.validate(raw)
    except idcard.IdNumberError as exc:
        error = f"身份证号格式不正确：{exc}"
    if not error:
        try:
            resident = services.resident_lookup_by_id_number(actor=request.user, id_number=raw)
        except AuditWriteError:
            resident, error = None, "审计记录写入失败，本次未查找，请稍后再试"
        else:
            if resident is not None:
                return redirect("residents:household_detail", pk=resident.household_id)
            error = NOT_FOUND
    request.GET = QueryDict()  # the list below shows no filters (and never the number)
    response = render(request, "residents/household_list.html", _list_context(request, lookup_error=error))
    add_never_cache_headers(response)
    return response


# --- household page (一户一档) ------------------------------------------------------------
def _age(birth_year) -> int | None:
    return date.today().year - birth_year if birth_year else None


@permission_required("residents.view_household")
def household_detail(request, pk: int):
    user = request.user
    household = selectors.household_get(user=user, pk=pk)
    members = list(selectors.household_members(user=user, household=household))
    area = household.area_code
    can_reveal = can_in_area(user, "residents.reveal_resident", area)
    can_change_member = can_in_area(user, "residents.change_resident", area)
    for m in members:
        m.masked_values = selectors.masked(m)
        m.age = _age(m.birth_year)
    context = {
        "household": household,
        "members": members,
        "area_path": area_name(area),
        "panels": panels.panels_for(user, household),
        "can_reveal": can_reveal,
        "can_change_household": can_in_area(user, "residents.change_household", area),
        "can_add_member": can_in_area(user, "residents.add_resident", area),
        "can_change_member": can_change_member,
        "has_head": any(m.relation == Relation.HEAD and m.status == "active" for m in members),
    }
    response = render(request, "residents/household_detail.html", context)
    add_never_cache_headers(response)
    return response


# --- reveal ---------------------------------------------------------------------------
REVEAL_TEMPLATE = "residents/reveal.html"


@permission_required("residents.reveal_resident")
@require_http_methods(["GET", "POST"])
def resident_reveal(request, pk: int):
    """GET: the reason form (or nothing with ?close=1). POST: the audited reveal."""
    resident = get_object_or_404(Resident.objects.restrict(request.user, "reveal"), pk=pk)
    if request.method == "GET":
        if request.GET.get("close"):
            return HttpResponse("")
        return render(request, f"{REVEAL_TEMPLATE}#form", {"resident": resident})
    reason = (request.POST.get("reason") or "")[:500]
    try:
        data = services.resident_reveal(actor=request.user, resident=resident, reason=reason)
    except ValidationError as exc:
        error = (
            "；".join(exc.message_dict.get("reason", exc.messages)) if hasattr(exc, "error_dict") else exc.messages[0]
        )
        return render(
            request, f"{REVEAL_TEMPLATE}#form", {"resident": resident, "error": error, "reason": reason}, status=422
        )
    except PermissionDenied:
        return render(request, f"{REVEAL_TEMPLATE}#error", {"message": "您无权查看该居民的完整信息"}, status=403)
    except AuditWriteError:
        return render(request, f"{REVEAL_TEMPLATE}#error", {"message": "审计记录写入失败，未显示任何信息"}, status=503)
    response = render(request, f"{REVEAL_TEMPLATE}#result", {"resident": resident, "data": data})
    add_never_cache_headers(response)
    return response


# --- household forms ------------------------------------------------------------------
@permission_required("residents.add_household")
@require_http_methods(["GET", "POST"])
def household_create(request):
    areas = scoped_areas(request.user, "residents.add_household")
    initial = {}
    wanted = request.GET.get("area", "")
    if any(a["code"] == wanted for a in areas):
        initial["area_code"] = wanted
    form = HouseholdForm(request.POST or None, areas=areas, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "已建立户档案，请登记户主。")
            return redirect(reverse("residents:resident_create", args=[household.pk]) + "?relation=head")
    return render(request, "residents/household_form.html", {"form": form, "household": None})


@permission_required("residents.change_household")
@require_http_methods(["GET", "POST"])
def household_update(request, pk: int):
    household = get_object_or_404(Household.objects.restrict(request.user, "change"), pk=pk)
    areas = scoped_areas(request.user, "residents.change_household")
    if not any(a["code"] == household.area_code for a in areas):
        areas.append(
            {
                "code": household.area_code,
                "name": area_name(household.area_code),
                "level": "grid" if len(household.area_code) > 12 else "village",
                "village_code": household.area_code[:12],
                "village_name": area_name(household.area_code[:12]),
                "label": area_name(household.area_code),
            }
        )
    form = HouseholdForm(request.POST or None, areas=areas, initial=HouseholdForm.initial_from(household))
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(actor=request.user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "户信息已保存。")
            return redirect("residents:household_detail", pk=household.pk)
    return render(request, "residents/household_form.html", {"form": form, "household": household})


# --- member forms ---------------------------------------------------------------------
@permission_required("residents.add_resident")
@require_http_methods(["GET", "POST"])
def resident_create(request, pk: int):
    household = selectors.household_get(user=request.user, pk=pk)
    if not can_in_area(request.user, "residents.add_resident", household.area_code):
        raise PermissionDenied("无权在该区域登记")
    initial = {}
    if request.GET.get("relation") in Relation.values:
        initial["relation"] = request.GET["relation"]
    form = ResidentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.resident_create(actor=request.user, household=household, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已登记成员：{form.cleaned_data['name']}。")
            return redirect("residents:household_detail", pk=household.pk)
    return render(request, "residents/resident_form.html", {"form": form, "household": household, "resident": None})


@permission_required("residents.change_resident")
@require_http_methods(["GET", "POST"])
def resident_update(request, pk: int):
    resident = get_object_or_404(Resident.objects.restrict(request.user, "change").select_related("household"), pk=pk)
    household = resident.household
    initial = {
        "name": resident.name,
        "relation": resident.relation,
        "tags": tags_from_db(resident.tags),
        "status": resident.status,
    }
    form = ResidentForm(request.POST or None, initial=initial, editing=True, masked=selectors.masked(resident))
    if request.method == "POST" and form.is_valid():
        try:
            services.resident_update(actor=request.user, resident=resident, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已保存成员：{form.cleaned_data['name']}。")
            return redirect("residents:household_detail", pk=household.pk)
    response = render(
        request, "residents/resident_form.html", {"form": form, "household": household, "resident": resident}
    )
    add_never_cache_headers(response)
    return response


urlpatterns = [
    path("", household_list, name="household_list"),
    path("lookup", resident_lookup, name="lookup"),
    path("h/new/", household_create, name="household_create"),
    path("h/<int:pk>/", household_detail, name="household_detail"),
    path("h/<int:pk>/edit/", household_update, name="household_update"),
    path("h/<int:pk>/members/new/", resident_create, name="resident_create"),
    path("r/<int:pk>/edit/", resident_update, name="resident_update"),
    path("r/<int:pk>/reveal/", resident_reveal, name="resident_reveal"),
]
