"""Cadre pages: the roster (花名册) with filters, the cadre page with its post history and
growth records, the create/edit forms, posts added and ended (history kept), the village
两委 composition, and the roster analytics for any area and date.

Reads go through ``selectors`` (scoped by the user's assignments): a cadre outside the
scope is 404, a role without ``cadres.view_cadre`` is 403, anonymous → login. Writes go
through ``services``; bad input re-renders the form with Chinese field messages (400) and
writes nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from xiangzhi.core import periods
from xiangzhi.core.paging import paginate_request
from xiangzhi.core.scoping import can_in_area, has_perm, prefix_q
from xiangzhi.core.views import permission_required
from xiangzhi.org.models import Region

from . import metrics, selectors, services
from .choices import CadreLevel, Education, Establishment
from .forms import CadreForm, FirstPostForm, PostEndForm, PostForm, apply_service_errors

VIEW = "cadres.view_cadre"
PAGE_SIZE = 20
RESULTS_TARGET = "roster-results"
POST_FIELDS = {"title", "start", "end", "leadership", "is_secretary", "is_director", "honorary"}


def nav_context(user, nav: str) -> dict:
    return {
        "nav": nav,
        "can_add": has_perm(user, "cadres.add_cadre"),
        "can_change": has_perm(user, "cadres.change_cadre"),
        "can_export": has_perm(user, "cadres.export_cadre"),
        "can_recognise": has_perm(user, "cadres.add_recognition"),
    }


def parse_day(raw, *, field_label: str = "日期", today: date | None = None) -> tuple[date | None, str]:
    """(date, error) from a query-string date; blank → (None, "")."""
    raw = (raw or "").strip()[:20]
    if not raw:
        return None, ""
    today = today or periods.local_today()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, f"{field_label}格式不正确，请写成 2023-06-30"
    if day.year < 1950:
        return None, f"{field_label}不能早于 1950 年"
    if day > today:
        return None, f"{field_label}不能晚于今天"
    return day, ""


# --- roster (花名册) -------------------------------------------------------------------------
def roster_filters(request, areas: list[dict]) -> selectors.RosterFilters:
    get = request.GET
    codes = {a["code"] for a in areas}
    area = get.get("area", "")
    return selectors.RosterFilters(
        area_code=area if area in codes else "",
        level=get.get("level", "") if get.get("level") in CadreLevel.values else "",
        establishment=get.get("establishment", "") if get.get("establishment") in Establishment.values else "",
        leadership=get.get("leadership") == "1",
        young=get.get("young") == "1",
        q=(get.get("q") or "").strip()[:20],
        include_left=get.get("left") == "1",
    )


def filter_query(f: selectors.RosterFilters) -> str:
    from urllib.parse import urlencode

    data = {
        "area": f.area_code,
        "level": f.level,
        "establishment": f.establishment,
        "leadership": "1" if f.leadership else "",
        "young": "1" if f.young else "",
        "q": f.q,
        "left": "1" if f.include_left else "",
    }
    return urlencode({k: v for k, v in data.items() if v})


@permission_required(VIEW)
@require_GET
def roster(request):
    user = request.user
    areas = selectors.unit_areas(user)
    f = roster_filters(request, areas)
    today = periods.local_today()
    page = paginate_request(
        request, selectors.cadre_list(user=user, filters=f, on=today), page_size=PAGE_SIZE, unit="人"
    )
    selectors.decorate(page.object_list, today)
    context = {
        **nav_context(user, "roster"),
        "page": page,
        "filters": f,
        "areas": areas,
        "levels": CadreLevel.choices,
        "establishments": Establishment.choices,
        "scope_label": next((a["label"] for a in areas if a["code"] == f.area_code), ""),
        "filter_query": filter_query(f),
        "today": today,
    }
    template = "cadres/roster.html"
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        template += "#results"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# --- cadre page ----------------------------------------------------------------------------
@permission_required(VIEW)
@require_GET
def cadre_detail(request, pk: int):
    from xiangzhi.visits import selectors as visit_selectors

    user = request.user
    cadre = selectors.cadre_get(user=user, pk=pk)
    today = periods.local_today()
    selectors.decorate([cadre], today)
    history = selectors.cadre_with_history(user=user, cadre=cadre)
    can_change = can_in_area(user, "cadres.change_cadre", cadre.area_code)
    visits = visit_selectors.visits_of_cadre(user=user, cadre=cadre, limit=10)
    context = {
        **nav_context(user, "roster"),
        "cadre": cadre,
        **history,
        "can_change_cadre": can_change,
        "visits": visits,
        "today": today,
        "can_log_visit": cadre.user_id == user.pk and has_perm(user, "visits.add_visit"),
    }
    return render(request, "cadres/cadre_detail.html", context)


@permission_required("cadres.add_cadre")
@require_http_methods(["GET", "POST"])
def cadre_create(request):
    user = request.user
    areas = selectors.unit_areas(user, "cadres.add_cadre", levels=("township", "village"))
    initial = {}
    if request.GET.get("area") in {a["code"] for a in areas}:
        initial["area_code"] = request.GET["area"]
    data = request.POST if request.method == "POST" else None
    form = CadreForm(data, areas=areas, initial=initial)
    post_form = FirstPostForm(data, prefix="post")
    status = 200
    if request.method == "POST":
        if form.is_valid() and post_form.is_valid():
            posts = [post_form.post_kwargs()] if post_form.wanted() else []
            try:
                cadre = services.cadre_create(actor=user, posts=posts, **form.service_kwargs())
            except ValidationError as exc:
                _split_errors(exc, form, post_form)
            except PermissionDenied as exc:
                form.add_error("area_code", str(exc) or "无权在该单位登记干部")
            else:
                messages.success(request, f"已登记干部：{cadre.name}。")
                return redirect("cadres:detail", pk=cadre.pk)
        status = 400
    return render(
        request,
        "cadres/cadre_form.html",
        {**nav_context(user, "roster"), "form": form, "post_form": post_form, "cadre": None},
        status=status,
    )


def _split_errors(exc: ValidationError, form, post_form) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        if key in POST_FIELDS and post_form is not None:
            post_form.add_error(key if key in post_form.fields else None, msgs)
        else:
            form.add_error(key if key in form.fields else None, msgs)


@permission_required("cadres.change_cadre")
@require_http_methods(["GET", "POST"])
def cadre_update(request, pk: int):
    user = request.user
    cadre = selectors.cadre_get(user=user, pk=pk, action="change")
    form = CadreForm(request.POST or None, editing=True, initial=CadreForm.initial_from(cadre))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = services.cadre_update(actor=user, cadre=cadre, **form.service_kwargs())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "已保存。" if changed else "没有修改任何内容。")
                return redirect("cadres:detail", pk=cadre.pk)
        status = 400
    return render(
        request,
        "cadres/cadre_form.html",
        {**nav_context(user, "roster"), "form": form, "post_form": None, "cadre": cadre},
        status=status,
    )


@permission_required("cadres.change_cadre")
@require_http_methods(["GET", "POST"])
def post_add(request, pk: int):
    user = request.user
    cadre = selectors.cadre_get(user=user, pk=pk, action="change")
    areas = selectors.unit_areas(user, "cadres.change_cadre", levels=("township", "village"))
    form = PostForm(request.POST or None, areas=areas, initial={"area_code": cadre.area_code})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.post_add(actor=user, cadre=cadre, **form.post_kwargs())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error("area_code", str(exc) or "无权在该单位任职")
            else:
                messages.success(request, f"已添加职务：{form.cleaned_data['title']}。")
                return redirect("cadres:detail", pk=cadre.pk)
        status = 400
    context = {
        **nav_context(user, "roster"),
        "form": form,
        "title": f"添加职务 · {cadre.name}",
        "submit": "添加职务",
        "cancel_url": reverse("cadres:detail", args=[cadre.pk]),
        "form_id": "post-form",
        "hint": "换届或调整职务时，先在原职务上点“离任”，再添加新职务；历史任职不会删除。",
    }
    return render(request, "cadres/form.html", context, status=status)


@permission_required("cadres.change_cadre")
@require_http_methods(["GET", "POST"])
def post_end(request, pk: int):
    user = request.user
    post = selectors.post_get(user=user, pk=pk)
    form = PostEndForm(request.POST or None, initial={"end": periods.local_today()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.post_end(actor=user, post=post, end=form.cleaned_data["end"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"{post.cadre.name} 已于 {form.cleaned_data['end']:%Y-%m-%d} 离任{post.title}。"
                )
                return redirect("cadres:detail", pk=post.cadre_id)
        status = 400
    context = {
        **nav_context(user, "roster"),
        "form": form,
        "title": f"离任 · {post.cadre.name} {post.title}",
        "submit": "确认离任",
        "cancel_url": reverse("cadres:detail", args=[post.cadre_id]),
        "form_id": "post-end-form",
        "hint": f"任职时间 {post.start:%Y-%m-%d}。离任后该职务保留在任职经历中。",
    }
    return render(request, "cadres/form.html", context, status=status)


# --- 两委 -----------------------------------------------------------------------------------
@permission_required(VIEW)
@require_GET
def committee(request):
    user = request.user
    areas = [a for a in selectors.unit_areas(user) if a["level"] in ("township", "village", "county")]
    area = selectors.pick_area(areas, request.GET.get("area"))
    if request.GET.get("area") and area is None:
        raise Http404
    today = periods.local_today()
    context = {**nav_context(user, "committee"), "areas": areas, "area": area, "today": today}
    if area is None:
        return render(request, "cadres/committee.html", context)
    if area["level"] == "village":
        posts = selectors.committee(user=user, village_code=area["code"], on=today)
        secretaries = {p.cadre_id for p in posts if p.is_secretary}
        directors = {p.cadre_id for p in posts if p.is_director}
        context.update(
            posts=posts,
            dual_role=bool(secretaries & directors),
            college=any(p.cadre.college_graduate for p in posts),
            members=len({p.cadre_id for p in posts if not p.honorary}),
        )
    else:
        villages = selectors.village_committees(user=user, area_code=area["code"], on=today)
        context.update(
            villages=villages,
            dual_count=sum(1 for v in villages if v["dual_role"]),
            college_count=sum(1 for v in villages if v["college"]),
        )
    return render(request, "cadres/committee.html", context)


# --- analytics -----------------------------------------------------------------------------
def _num(value) -> str:
    if value is None:
        return "—"
    return f"{value.normalize():f}" if isinstance(value, Decimal) and value == value.to_integral() else f"{value}"


def change_phrases(change: dict) -> list[str]:
    """The article's wording ("年龄变小 x 岁、学历变高…、人数变少 n 人") from the deltas."""
    out = []
    age = change["average_age"]
    if age is not None and age != 0:
        out.append(f"平均年龄变{'小' if age < 0 else '大'} {_num(abs(age))} 岁")
    vage = change["village_cadres_average_age"]
    before, after = change["before"], change["after"]
    mixed = before.village_cadres != before.headcount or after.village_cadres != after.headcount
    if vage is not None and vage != 0 and mixed:
        out.append(f"村干部平均年龄变{'小' if vage < 0 else '大'} {_num(abs(vage))} 岁")
    share = change["college_share"]
    rank = change["average_education_rank"]
    if share is not None and share != 0:
        out.append(
            f"学历变{'高' if share > 0 else '低'}（大专及以上占比{'提高' if share > 0 else '下降'} {_num(abs(share))} 个百分点）"
        )
    elif rank is not None and rank != 0:
        out.append(f"学历变{'高' if rank > 0 else '低'}")
    n = change["headcount"]
    if n:
        out.append(f"人数变{'少' if n < 0 else '多'} {abs(n)} 人")
    d = change["villages_with_dual_role"]
    if d:
        out.append(f"“一肩挑”村{'增加' if d > 0 else '减少'} {abs(d)} 个")
    g = change["villages_with_college_graduate"]
    if g:
        out.append(f"有大学生干部的村{'增加' if g > 0 else '减少'} {abs(g)} 个")
    return out


def _delta(a, b, unit: str = "") -> str:
    if a is None or b is None:
        return "—"
    d = b - a
    if d == 0:
        return "持平"
    return f"{'+' if d > 0 else '−'}{_num(abs(d))}{unit}"


def comparison_rows(before: metrics.Roster, after: metrics.Roster) -> list[dict]:
    """指标 | 对比日 | 统计日 | 变化 (after − before)."""
    rows = [
        ("总人数", "headcount", " 人"),
        ("平均年龄", "average_age", " 岁"),
        ("35 岁以下人数", "under_35", " 人"),
        ("35 岁以下占比", "under_35_share", " 个百分点"),
        ("班子成员", "leaders", " 人"),
        ("班子成员平均年龄", "leaders_average_age", " 岁"),
        ("大专及以上学历占比", "college_share", " 个百分点"),
        ("村干部平均年龄", "village_cadres_average_age", " 岁"),
        ("有全日制大学生干部的村", "villages_with_college_graduate", " 个"),
        ("书记主任“一肩挑”的村", "villages_with_dual_role", " 个"),
    ]
    out = []
    for label, key, unit in rows:
        a, b = getattr(before, key), getattr(after, key)
        suffix = "%" if key.endswith("share") else ""
        out.append(
            {
                "label": label,
                "before": "—" if a is None else f"{_num(a)}{suffix}",
                "after": "—" if b is None else f"{_num(b)}{suffix}",
                "delta": _delta(a, b, unit),
            }
        )
    return out


def _chart(choices, counts: dict) -> dict:
    pairs = [(label, counts.get(code, 0)) for code, label in choices if counts.get(code, 0)]
    return {"labels": [p[0] for p in pairs], "values": [p[1] for p in pairs]}


@permission_required(VIEW)
@require_GET
def analytics(request):
    user = request.user
    areas = selectors.unit_areas(user)
    area = selectors.pick_area(areas, request.GET.get("area"))
    if request.GET.get("area") and area is None:
        raise Http404
    today = periods.local_today()
    on, on_error = parse_day(request.GET.get("on"), field_label="统计日期", today=today)
    compare, compare_error = parse_day(request.GET.get("compare"), field_label="对比日期", today=today)
    on = on or today
    context = {
        **nav_context(user, "analytics"),
        "areas": areas,
        "area": area,
        "on": on,
        "compare": compare,
        "errors": {k: v for k, v in {"on": on_error, "compare": compare_error}.items() if v},
        "raw_on": (request.GET.get("on") or "")[:20],
        "raw_compare": (request.GET.get("compare") or "")[:20],
        "today": today,
        "year_ago": date(today.year - 1, today.month, min(today.day, 28)),
    }
    status = 400 if context["errors"] else 200
    if area is None or status == 400:
        return render(request, "cadres/analytics.html", context, status=status)
    r = metrics.roster(area["code"], on)
    total_villages = (
        1
        if area["level"] == "village"
        else Region.objects.filter(prefix_q("code", area["code"]), level="village", is_active=True).count()
    )
    context.update(
        r=r,
        total_villages=total_villages,
        establishments=[(label, r.by_establishment.get(code, 0)) for code, label in Establishment.choices],
        establishment_text="、".join(
            f"{label} {r.by_establishment[code]}"
            for code, label in Establishment.choices
            if r.by_establishment.get(code)
        ),
        educations=[(label, r.by_education.get(code, 0)) for code, label in Education.choices],
        charts={
            "establishment": _chart(Establishment.choices, r.by_establishment),
            "education": _chart(Education.choices, r.by_education),
        },
    )
    if compare:
        change = metrics.roster_change(area["code"], compare, on)
        context.update(
            change=change,
            phrases=change_phrases(change),
            before=change["before"],
            comparison=comparison_rows(change["before"], change["after"]),
        )
    return render(request, "cadres/analytics.html", context, status=status)


def cadres_in_office(user, area_code: str = ""):
    today = periods.local_today()
    qs = selectors.cadres_for(user).filter(Q(left_on__isnull=True) | Q(left_on__gt=today))
    return qs.filter(prefix_q("area_code", area_code)) if area_code else qs
