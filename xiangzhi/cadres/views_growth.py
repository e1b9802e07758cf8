"""Training and growth (四个一, 业务大讲堂, 承诺践诺, 结对帮带, 挂职) and commendations and
criticism (表扬、通报批评、荣誉称号): lists scoped by the user's assignments, add forms that
call ``services``, counts per period by township/village with the article's sentence
generated from the data.

Reading needs ``cadres.view_cadre`` (recognitions: ``cadres.view_recognition``); adding
needs ``cadres.change_cadre`` (recognitions: ``cadres.add_recognition``)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from xiangzhi.core import periods
from xiangzhi.core.paging import paginate_request
from xiangzhi.core.scoping import has_perm, prefix_q
from xiangzhi.core.views import permission_required

from . import selectors, services
from .choices import FourOnesKind, RecognitionKind, RecognitionTarget
from .forms import (
    CommitmentForm,
    FourOnesForm,
    FulfilForm,
    LectureForm,
    MentorshipForm,
    RecognitionForm,
    SecondmentForm,
    apply_service_errors,
)
from .models import Cadre, Commitment
from .views import nav_context

VIEW = "cadres.view_cadre"
CHANGE = "cadres.change_cadre"
FIRST_YEAR = 2015
TABS = [
    ("four_ones", "四个一", "cadres:growth"),
    ("lectures", "业务大讲堂", "cadres:lectures"),
    ("commitments", "承诺践诺", "cadres:commitments"),
    ("mentorships", "结对帮带", "cadres:mentorships"),
    ("secondments", "挂职锻炼", "cadres:secondments"),
]


def _growth_context(request, tab: str, areas: list[dict], area: dict | None) -> dict:
    return {
        **nav_context(request.user, "growth"),
        "tab": tab,
        "tabs": [(key, label, reverse(name)) for key, label, name in TABS],
        "areas": areas,
        "area": area,
        "can_change": has_perm(request.user, CHANGE),
        "today": periods.local_today(),
    }


def _area(request, perm: str = VIEW) -> tuple[list[dict], dict | None]:
    areas = selectors.unit_areas(request.user, perm)
    area = selectors.pick_area(areas, request.GET.get("area"))
    if request.GET.get("area") and area is None:
        raise Http404
    return areas, area


def _year(raw, today: date) -> int:
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        return today.year
    return year if FIRST_YEAR <= year <= today.year else today.year


def _cadre_of(user, raw, perm: str = CHANGE) -> Cadre:
    return get_object_or_404(Cadre.objects.filter(selectors.area_q(user, perm)), pk=int(raw))


def _render_form(request, form, *, title: str, cancel: str, form_id: str, status: int, hint: str = "", submit="保存"):
    context = {
        **nav_context(request.user, "growth"),
        "form": form,
        "title": title,
        "cancel_url": cancel,
        "form_id": form_id,
        "hint": hint,
        "submit": submit,
    }
    return render(request, "cadres/form.html", context, status=status)


def _save(form, call, *, field_map=None) -> bool:
    """Run the service call; put its errors on the form. True when it worked."""
    try:
        call()
    except ValidationError as exc:
        apply_service_errors(form, exc, field_map)
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or "您的岗位不能执行此操作")
    else:
        return True
    return False


# --- 四个一 ---------------------------------------------------------------------------------
@permission_required(VIEW)
@require_GET
def growth(request):
    user = request.user
    areas, area = _area(request)
    today = periods.local_today()
    year = _year(request.GET.get("year"), today)
    on = selectors.four_ones_on(year, today)
    filters = selectors.RosterFilters(area_code=area["code"] if area else "", young=True)
    page = paginate_request(request, selectors.cadre_list(user=user, filters=filters, on=on), unit="人")
    rows = selectors.four_ones_rows(page.object_list, year=year, today=today)
    context = {
        **_growth_context(request, "four_ones", areas, area),
        "page": page,
        "rows": rows,
        "year": year,
        "years": list(range(today.year, FIRST_YEAR - 1, -1)),
        "months_due": selectors.months_due(year, today),
    }
    return render(request, "cadres/growth.html", context)


@permission_required(CHANGE)
@require_http_methods(["GET", "POST"])
def four_ones_add(request):
    user = request.user
    cadres = selectors.cadre_choices(user, CHANGE)
    initial = {"done_on": periods.local_today()}
    if request.GET.get("cadre", "").isdigit():
        initial["cadre"] = request.GET["cadre"]
    form = FourOnesForm(request.POST or None, cadres=cadres, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            cadre = _cadre_of(user, d["cadre"])
            if _save(
                form,
                lambda: services.four_ones_add(
                    actor=user, cadre=cadre, kind=d["kind"], done_on=d["done_on"], title=d["title"]
                ),
            ):
                messages.success(request, f"已记录：{cadre.name} {FourOnesKind(d['kind']).label}。")
                return redirect(f"{reverse('cadres:growth')}?year={d['done_on'].year}")
        status = 400
    return _render_form(
        request,
        form,
        title="记录“四个一”",
        cancel=reverse("cadres:growth"),
        form_id="four-ones-form",
        status=status,
        hint="青年干部每年：参加一次座谈会、获赠一本书、参加一次演讲比赛、每月提交一篇文章（全年 12 篇）。",
    )


# --- 业务大讲堂 ------------------------------------------------------------------------------
@permission_required(VIEW)
@require_GET
def lectures(request):
    areas, area = _area(request)
    qs = selectors.lectures_for(request.user)
    if area:
        qs = qs.filter(prefix_q("area_code", area["code"]))
    qs = qs.annotate(n=Count("attendees")).order_by("-held_on", "-id")
    page = paginate_request(request, qs, unit="场")
    names = selectors.unit_names({lec.area_code for lec in page.object_list})
    for lec in page.object_list:
        lec.unit_name = names.get(lec.area_code, lec.area_code)
    return render(request, "cadres/lectures.html", {**_growth_context(request, "lectures", areas, area), "page": page})


@permission_required(CHANGE)
@require_http_methods(["GET", "POST"])
def lecture_add(request):
    user = request.user
    areas = selectors.unit_areas(user, CHANGE, levels=("township", "village"))
    cadres = selectors.cadre_choices(user, CHANGE)
    form = LectureForm(request.POST or None, areas=areas, cadres=cadres, initial={"held_on": periods.local_today()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            attendees = list(
                Cadre.objects.filter(selectors.area_q(user, CHANGE), pk__in=[int(x) for x in d["attendees"]])
            )
            if _save(
                form,
                lambda: services.lecture_add(
                    actor=user,
                    area_code=d["area_code"],
                    held_on=d["held_on"],
                    speaker=d["speaker"],
                    topic=d["topic"],
                    attendees=attendees,
                ),
            ):
                messages.success(request, f"已记录业务大讲堂：{d['topic']}（{len(attendees)} 人参加）。")
                return redirect("cadres:lectures")
        status = 400
    return _render_form(
        request, form, title="记录业务大讲堂", cancel=reverse("cadres:lectures"), form_id="lecture-form", status=status
    )


# --- 承诺践诺 --------------------------------------------------------------------------------
COMMITMENT_STATUSES = [("", "全部"), ("open", "未践诺"), ("overdue", "逾期未践诺"), ("fulfilled", "已践诺")]


@permission_required(VIEW)
@require_GET
def commitments(request):
    areas, area = _area(request)
    today = periods.local_today()
    status = request.GET.get("status", "")
    status = status if status in dict(COMMITMENT_STATUSES) else ""
    qs = selectors.commitments_for(request.user)
    if area:
        qs = qs.filter(prefix_q("cadre__area_code", area["code"]))
    overdue_q = Q(fulfilled_on__isnull=True, deadline__lt=today)
    if status == "open":
        qs = qs.filter(fulfilled_on__isnull=True)
    elif status == "overdue":
        qs = qs.filter(overdue_q)
    elif status == "fulfilled":
        qs = qs.filter(fulfilled_on__isnull=False)
    overdue_count = selectors.commitments_for(request.user).filter(overdue_q)
    if area:
        overdue_count = overdue_count.filter(prefix_q("cadre__area_code", area["code"]))
    page = paginate_request(request, qs.order_by("fulfilled_on", "deadline", "id"), unit="项")
    for c in page.object_list:
        c.overdue = c.fulfilled_on is None and c.deadline < today
    context = {
        **_growth_context(request, "commitments", areas, area),
        "page": page,
        "status": status,
        "statuses": COMMITMENT_STATUSES,
        "overdue_count": overdue_count.order_by()[:1000].count(),
    }
    return render(request, "cadres/commitments.html", context)


@permission_required(CHANGE)
@require_http_methods(["GET", "POST"])
def commitment_add(request):
    user = request.user
    form = CommitmentForm(
        request.POST or None,
        cadres=selectors.cadre_choices(user, CHANGE),
        initial={"cadre": request.GET.get("cadre", "")},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            cadre = _cadre_of(user, d["cadre"])
            if _save(
                form,
                lambda: services.commitment_add(actor=user, cadre=cadre, promise=d["promise"], deadline=d["deadline"]),
            ):
                messages.success(request, f"已记录 {cadre.name} 的承诺。")
                return redirect("cadres:commitments")
        status = 400
    return _render_form(
        request, form, title="记录承诺", cancel=reverse("cadres:commitments"), form_id="commitment-form", status=status
    )


@permission_required(CHANGE)
@require_http_methods(["GET", "POST"])
def commitment_fulfil(request, pk: int):
    user = request.user
    commitment = get_object_or_404(
        Commitment.objects.filter(cadre__in=Cadre.objects.filter(selectors.area_q(user, CHANGE))).select_related(
            "cadre"
        ),
        pk=selectors.valid_pk(pk),
    )
    form = FulfilForm(request.POST or None, initial={"fulfilled_on": periods.local_today()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            if _save(
                form,
                lambda: services.commitment_fulfil(
                    actor=user, commitment=commitment, fulfilled_on=d["fulfilled_on"], note=d.get("note", "")
                ),
            ):
                messages.success(request, "已记录践诺。")
                return redirect("cadres:commitments")
        status = 400
    return _render_form(
        request,
        form,
        title=f"践诺 · {commitment.cadre.name}",
        cancel=reverse("cadres:commitments"),
        form_id="fulfil-form",
        status=status,
        hint=f"承诺：{commitment.promise}（期限 {commitment.deadline:%Y-%m-%d}）",
    )


# --- 结对帮带 / 挂职 ----------------------------------------------------------------------------
@permission_required(VIEW)
@require_GET
def mentorships(request):
    areas, area = _area(request)
    qs = selectors.mentorships_for(request.user)
    if area:
        qs = qs.filter(prefix_q("mentee__area_code", area["code"]) | prefix_q("mentor__area_code", area["code"]))
    page = paginate_request(request, qs.order_by("-start", "-id"), unit="对")
    return render(
        request, "cadres/mentorships.html", {**_growth_context(request, "mentorships", areas, area), "page": page}
    )


@permission_required(CHANGE)
@require_http_methods(["GET", "POST"])
def mentorship_add(request):
    user = request.user
    form = MentorshipForm(
        request.POST or None, cadres=selectors.cadre_choices(user, CHANGE), initial={"start": periods.local_today()}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            mentor, mentee = _cadre_of(user, d["mentor"]), _cadre_of(user, d["mentee"])
            if _save(
                form,
                lambda: services.mentorship_add(
                    actor=user,
                    mentor=mentor,
                    mentee=mentee,
                    start=d["start"],
                    end=d.get("end"),
                    notes=d.get("notes", ""),
                ),
            ):
                messages.success(request, f"已结对：{mentor.name} 帮带 {mentee.name}。")
                return redirect("cadres:mentorships")
        status = 400
    return _render_form(
        request,
        form,
        title="结对帮带（老带新）",
        cancel=reverse("cadres:mentorships"),
        form_id="mentorship-form",
        status=status,
    )


@permission_required(VIEW)
@require_GET
def secondments(request):
    areas, area = _area(request)
    today = periods.local_today()
    qs = selectors.secondments_for(request.user)
    if area:
        qs = qs.filter(prefix_q("cadre__area_code", area["code"]))
    page = paginate_request(request, qs.order_by("-start", "-id"), unit="人次")
    for s in page.object_list:
        s.current = s.start <= today <= s.end
    return render(
        request, "cadres/secondments.html", {**_growth_context(request, "secondments", areas, area), "page": page}
    )


@permission_required(CHANGE)
@require_http_methods(["GET", "POST"])
def secondment_add(request):
    user = request.user
    form = SecondmentForm(request.POST or None, cadres=selectors.cadre_choices(user, CHANGE))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            cadre = _cadre_of(user, d["cadre"])
            if _save(
                form,
                lambda: services.secondment_add(
                    actor=user,
                    cadre=cadre,
                    to_where=d["to_where"],
                    start=d["start"],
                    end=d["end"],
                    post=d.get("post", ""),
                ),
            ):
                messages.success(request, f"已记录 {cadre.name} 挂职。")
                return redirect("cadres:secondments")
        status = 400
    return _render_form(
        request, form, title="记录挂职", cancel=reverse("cadres:secondments"), form_id="secondment-form", status=status
    )


# --- 表扬与批评 -----------------------------------------------------------------------------
REC_VIEW = "cadres.view_recognition"


def recognition_counts(qs, area: dict | None, names: dict | None = None) -> tuple[list[dict], dict]:
    """Counts per unit (townships of a county; the township office and each village of a
    township) and in total, keyed ``<kind>_<target>``."""
    depth = 9 if area and area["level"] == "county" else 12
    rows: dict[str, dict] = {}
    total: dict[str, int] = {}
    for code, kind, target, n in qs.values_list("area_code", "kind", "target").annotate(n=Count("id")).order_by():
        unit = code[:depth]
        key = f"{kind}_{target}"
        rows.setdefault(unit, {})
        rows[unit][key] = rows[unit].get(key, 0) + n
        total[key] = total.get(key, 0) + n
    names = names if names is not None else selectors.unit_names(rows)
    out = []
    for unit in sorted(rows):
        label = names.get(unit, unit)
        if len(unit) == 9 and depth == 12:
            label = f"{label}（镇机关）"
        r = rows[unit]
        out.append({"code": unit, "name": label, **r, "honour": r.get("honour_cadre", 0) + r.get("honour_unit", 0)})
    total["honour"] = total.get("honour_cadre", 0) + total.get("honour_unit", 0)
    return out, total


def recognition_sentence(label: str, total: dict) -> str:
    """ "2022年通报批评镇村干部22人次，表扬相关部门单位4个" — from the counts."""
    parts = [
        f"{label}通报批评镇村干部{total.get('criticism_cadre', 0)}人次",
        f"表扬相关部门单位{total.get('commendation_unit', 0)}个",
    ]
    if total.get("commendation_cadre"):
        parts.append(f"表扬干部{total['commendation_cadre']}人次")
    if total.get("criticism_unit"):
        parts.append(f"通报批评单位{total['criticism_unit']}个")
    honours = total.get("honour_cadre", 0) + total.get("honour_unit", 0)
    if honours:
        parts.append(f"授予荣誉称号{honours}人次（个）")
    return "，".join(parts)


def _period(raw, today: date) -> tuple[periods.Period, str]:
    raw = (raw or "").strip()[:10]
    if not raw:
        return periods.year(today.year), ""
    try:
        return periods.parse_period(raw), ""
    except ValueError as exc:
        return periods.year(today.year), str(exc)


@permission_required(REC_VIEW)
@require_GET
def recognitions(request):
    user = request.user
    areas, area = _area(request, REC_VIEW)
    today = periods.local_today()
    period, error = _period(request.GET.get("period"), today)
    kind = request.GET.get("kind", "")
    kind = kind if kind in RecognitionKind.values else ""
    base = selectors.recognitions_for(user).filter(issued_on__gte=period.start, issued_on__lt=period.end)
    if area:
        base = base.filter(prefix_q("area_code", area["code"]))
    counts, total = recognition_counts(base, area)
    qs = base.filter(kind=kind) if kind else base
    page = paginate_request(request, qs.select_related("cadre").order_by("-issued_on", "-id"), unit="条")
    names = selectors.unit_names({r.area_code for r in page.object_list})
    for r in page.object_list:
        r.area_name = names.get(r.area_code, r.area_code)
    context = {
        **nav_context(user, "recognitions"),
        "areas": areas,
        "area": area,
        "period": period,
        "period_value": (request.GET.get("period") or "").strip()[:10] if not error else "",
        "error": error,
        "kind": kind,
        "kinds": RecognitionKind.choices,
        "page": page,
        "counts": counts,
        "total": total,
        "sentence": recognition_sentence(period.label, total),
        "years": list(range(today.year, FIRST_YEAR - 1, -1)),
    }
    return render(request, "cadres/recognitions.html", context, status=400 if error else 200)


@permission_required("cadres.add_recognition")
@require_http_methods(["GET", "POST"])
def recognition_add(request):
    user = request.user
    perm = "cadres.add_recognition"
    areas = selectors.unit_areas(user, perm, levels=("township", "village"))
    cadres = selectors.cadre_choices(user, perm)
    initial = {
        "issued_on": periods.local_today(),
        "kind": request.GET.get("kind") or RecognitionKind.CRITICISM,
        "target": RecognitionTarget.CADRE,
    }
    form = RecognitionForm(request.POST or None, cadres=cadres, areas=areas, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            cadre = _cadre_of(user, d["cadre"], perm) if d["target"] == RecognitionTarget.CADRE else None
            area_code = cadre.area_code if cadre else d["area_code"]
            if _save(
                form,
                lambda: services.recognition_add(
                    actor=user,
                    area_code=area_code,
                    kind=d["kind"],
                    target=d["target"],
                    issued_on=d["issued_on"],
                    issuer=d["issuer"],
                    reason=d["reason"],
                    cadre=cadre,
                    unit_name=d.get("unit_name", ""),
                    title=d.get("title", ""),
                    document_no=d.get("document_no", ""),
                ),
            ):
                messages.success(request, "已登记。")
                return redirect(f"{reverse('cadres:recognitions')}?period={d['issued_on'].year}")
        status = 400
    return _render_form(
        request,
        form,
        title="登记表扬 / 通报批评 / 荣誉",
        cancel=reverse("cadres:recognitions"),
        form_id="recognition-form",
        status=status,
        hint="对象为干部时选择干部；对象为部门单位时填写单位名称并选择所属乡镇或村。",
    )


urlpatterns = [
    path("growth/", growth, name="growth"),
    path("growth/four-ones/new/", four_ones_add, name="four_ones_add"),
    path("growth/lectures/", lectures, name="lectures"),
    path("growth/lectures/new/", lecture_add, name="lecture_add"),
    path("growth/commitments/", commitments, name="commitments"),
    path("growth/commitments/new/", commitment_add, name="commitment_add"),
    path("growth/commitments/<int:pk>/fulfil/", commitment_fulfil, name="commitment_fulfil"),
    path("growth/mentorships/", mentorships, name="mentorships"),
    path("growth/mentorships/new/", mentorship_add, name="mentorship_add"),
    path("growth/secondments/", secondments, name="secondments"),
    path("growth/secondments/new/", secondment_add, name="secondment_add"),
    path("recognitions/", recognitions, name="recognitions"),
    path("recognitions/new/", recognition_add, name="recognition_add"),
]
