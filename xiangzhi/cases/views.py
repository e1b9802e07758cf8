"""Staff pages of the case engine: the work queue, registration (also from a grid worker's
phone, with photos), the case page with its timeline and action forms, records (meetings,
mediation, follow-up, skip-level, attachments), the printable mediation agreement, and the
township's configuration (categories, time limits).

Reads go through ``selectors`` (``restrict(user, action)``): out of scope → 404; a role
without an area-scoped case permission → 403 (villagers follow their own cases on the
portal, not here); anonymous → login. Writes go through ``services`` / ``config``.
Action endpoints answer an illegal transition with 409, bad input with 400 and field
messages, a permission the post lacks with 403 — and write nothing in each case.
"""

from __future__ import annotations

import re
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiangzhi.core import crypto, html, periods, workcalendar
from xiangzhi.core.html import esc
from xiangzhi.core.masking import mask_phone
from xiangzhi.core.paging import count_requested, count_response, paginate_request
from xiangzhi.core.pinyin import normalize_query
from xiangzhi.core.scoping import _assignments, can_in_area, has_perm, prefix_q, scopes_for
from xiangzhi.core.uploads import check_upload
from xiangzhi.core.views import PERMISSION
from xiangzhi.org.models import Assignment, Region
from xiangzhi.org.roles import ROLES
from xiangzhi.residents import selectors as registry

from . import config, selectors, services, ui, workflow
from .choices import ENDED_STATUSES, OPEN_STATUSES, Channel, Kind, Level, MediationResult, PartyRole, Status
from .forms import (
    ACTION_FORMS,
    ACTION_HINTS,
    DESTINATIONS,
    MAX_PARTIES,
    RECORD_FORMS,
    STATUS_FILTERS,
    CaseCreateForm,
    CategoryAddForm,
    CategoryRenameForm,
    MediationForm,
    apply_service_errors,
    assist_params,
    new_token,
    party_forms,
)
from .models import Attachment, Case, CaseParty, Category, Mediation
from .selectors import CaseFilters

PAGE_SIZE = 20
MAX_PK = 2**63 - 1
MAX_PHOTOS = 9
FULL_ID = re.compile(r"^\s*\d{17}[\dXx]\s*$")
TABS = [("todo", "我的待办"), ("lead", "我的包案"), ("all", "全部")]
RESULTS_TARGET = "case-results"
MORE_TARGET = "case-more-body"
VILLAGER_MESSAGE = "村民请在“村民服务”页面凭查询码查看本户事项"


# --- access ------------------------------------------------------------------------------
def staff_view(perm: str = "cases.view_case", *, own_redirect: str | None = None):
    """Login, then ``perm`` over some area (own-household scopes do not count: villagers
    use the portal; ``own_redirect`` sends them there instead of a 403). Classified as a
    permission route for the route census."""

    def deco(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            areas, own = scopes_for(request.user, perm)
            if not areas:
                if own and own_redirect:
                    try:
                        return redirect(own_redirect)
                    except NoReverseMatch:
                        pass
                raise PermissionDenied(VILLAGER_MESSAGE if own else "您的岗位没有此项权限")
            return view(request, *args, **kwargs)

        wrapper.xz_access = PERMISSION
        wrapper.xz_perm = perm
        return wrapper

    return deco


def _pk(value) -> int:
    if value is None or not 0 < int(value) <= MAX_PK:
        raise Http404
    return int(value)


def _case(user, pk) -> Case:
    """The case with its warning annotation, if in the user's view scope; else 404."""
    qs = selectors.with_warning(selectors.cases_for(user)).select_related(
        "category__parent", "lead", "handler", "first_responsible", "household", "related_case"
    )
    return get_object_or_404(qs, pk=_pk(pk))


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_PK else None


def _date(value) -> date | None:
    """A filter date; nonsense and far-away years (timezone overflow) are ignored."""
    try:
        day = date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None
    return day if day and 1900 <= day.year <= 2999 else None


# --- queue -------------------------------------------------------------------------------
# The work bench is the most requested page of the engine, so its own work is kept to what
# a bare view of the same query does (benchmarks/cases.py): no count (deferred, one htmx
# request), no filter lists (the "更多条件" panel is fetched when opened), area names from
# the user's memoised area list, rows and options built in Python (core.html).
MORE_FILTERS = ("level", "category", "area", "lead", "from", "to", "mine")
MORE_PARAM = "_more"  # ?_more=1: the "更多条件" panel alone (htmx), or open on the full page
LEVEL_LABELS = dict(Level.choices)
KIND_LABELS = dict(Kind.choices)
STATUS_LABELS = dict(Status.choices)
OPEN_FILTERS = {"open", "overdue", *OPEN_STATUSES}


def _lead_q(user) -> Q | None:
    """Assignments of people who may lead cases in the user's scope (inside it or above it)."""
    prefixes, _ = scopes_for(user, "cases.view_case")
    if not prefixes:
        return None
    cond = Q()
    for p in prefixes:
        cond |= prefix_q("area_code", p) | Q(area_code__in=[p[:n] for n in (6, 9, 12) if len(p) > n])
    roles = [code for code, role in ROLES.items() if role.permissions.get("cases.assign_case") == "area"]
    return cond & Q(role__in=roles, user__is_active=True)


def _lead_options(user) -> list[dict]:
    """People who may lead cases in the user's scope. One query (not memoised: other
    users' assignments change without the user's scope stamp changing)."""
    cond = _lead_q(user)
    if cond is None:
        return []
    rows = (
        Assignment.objects.filter(cond)
        .order_by("area_code", "user__full_name", "user__username")
        .values_list("user_id", "user__full_name", "user__username")
    )
    seen = {}
    for user_id, full_name, username in rows:
        seen.setdefault(user_id, {"id": user_id, "label": full_name or username})
    return list(seen.values())


def _queue_filters(request) -> dict:
    """The submitted filters, each checked against what the user may choose: areas from the
    memoised area list; a category or a lead only when one is submitted (one small query)."""
    get = request.GET
    user = request.user

    def pick(name, allowed):
        value = get.get(name, "")
        return value if value in allowed else ""

    default_tab = "todo" if has_perm(user, "cases.handle_case") else "all"
    areas = ui.case_areas(user)
    category = _int(get.get("category"))
    if category is not None:
        townships = {a["code"][:9] for a in areas}
        if not config.categories_for(townships, active_only=False).filter(pk=category).exists():
            category = None
    lead = _int(get.get("lead"))
    if lead is not None:
        cond = _lead_q(user)
        if cond is None or not Assignment.objects.filter(cond, user_id=lead).exists():
            lead = None
    q = (get.get("q") or "").strip()[:50]
    id_in_query = bool(FULL_ID.match(q))
    return {
        "tab": pick("tab", [t for t, _ in TABS]) or default_tab,
        "kind": pick("kind", Kind.values),
        "level": pick("level", Level.values),
        "status": pick("status", [s for s, _ in STATUS_FILTERS]),
        "category": category,
        "area": pick("area", {a["code"] for a in areas}),
        "lead": lead,
        "from": _date(get.get("from")),
        "to": _date(get.get("to")),
        "q": "" if id_in_query else q,
        "mine": get.get("mine") == "1",
        "household": _int(get.get("household")),
        "id_in_query": id_in_query,
    }


def _queue_case_filters(user, f: dict) -> CaseFilters:
    filters = CaseFilters(
        kind=f["kind"],
        level=f["level"],
        status=f["status"],
        category=f["category"],
        area_code=f["area"],
        lead=f["lead"],
        received_from=f["from"],
        received_to=f["to"],
        q=f["q"],
        mine=f["mine"],
    )
    if f["tab"] == "lead":  # 我的包案 (selectors.my_lead_cases), keeping the other filters
        filters.lead = user.pk
        filters.status = filters.status or "open"
    return filters


def _queue_base(user, f: dict, filters: CaseFilters, now):
    """The tab's cases with the filters (unordered): what the list shows and the count counts."""
    qs = selectors.case_filter(user=user, filters=filters, now=now)
    if f["tab"] == "todo":
        qs = qs.filter(ui.todo_q(user))
    if f["household"]:  # from the 一户一档 page: still within the scope above
        qs = qs.filter(household_id=f["household"])
    return qs


def _queue_rows(user, f: dict) -> selectors.OpenThenEnded:
    """Open cases by urgency (overdue first), then ended cases newest first."""
    now = timezone.now()
    filters = _queue_case_filters(user, f)
    base = _queue_base(user, f, filters, now)
    status = filters.status
    return selectors.OpenThenEnded(
        base,
        now=now,
        seek=selectors.history_seek(user, filters),
        open_part=status not in ENDED_STATUSES,
        ended_part=f["tab"] != "todo" and status not in OPEN_FILTERS,
    )


def _area_labels(user, codes) -> dict[str, str]:
    """Names of a page's areas from the user's memoised area list (a query only for codes
    outside it, e.g. a township-level case or a deactivated grid)."""
    known = {a["code"]: a["label"] for a in ui.case_areas(user)}
    out = {c: known[c] for c in codes if c in known}
    missing = set(codes) - out.keys()
    if missing:
        out.update(ui.area_labels(missing))
    return out


def decorate(rows, user=None) -> None:
    """Area labels for a page of cases (no query with ``user``: its memoised areas);
    current deadline per row."""
    codes = {c.area_code for c in rows}
    labels = (_area_labels(user, codes) if user is not None else ui.area_labels(codes)) if rows else {}
    for c in rows:
        c.area_label = labels.get(c.area_code, c.area_code)
        c.current_due = ui.current_due(c)
        c.due_label = ui.due_label(c)
        c.status_badge = ui.STATUS_BADGE.get(c.status, "bg-secondary-lt")
        c.kind_badge = ui.KIND_BADGE.get(c.kind, "bg-secondary-lt")


def _local(value, fmt: str) -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def _rows_html(rows) -> SafeString:
    """The queue's table rows (templates/cases/_badges.html and the row markup, built in
    Python with every value escaped — see core.html)."""
    url = html.pk_url("cases:detail")
    out = []
    for c in rows:
        level = esc(LEVEL_LABELS.get(c.level, c.level))
        area = esc(c.area_label)
        warning = getattr(c, "warning", "")
        row_css = " xz-row-red" if warning == "red" else " xz-row-yellow" if warning == "yellow" else ""
        badges = (
            f'<span class="badge {c.kind_badge}">{esc(KIND_LABELS.get(c.kind, c.kind))}</span> '
            f'<span class="badge {c.status_badge}">{esc(STATUS_LABELS.get(c.status, c.status))}</span>'
        )
        if warning == "red":
            badges += ' <span class="badge bg-red text-red-fg xz-warning-red" title="已超过办理时限">超期</span>'
        elif warning == "yellow":
            badges += ' <span class="badge bg-yellow text-yellow-fg xz-warning-yellow" title="办理时限已过预警比例">预警</span>'
        if c.supervision == "red":
            badges += ' <span class="badge bg-red-lt">红牌督办</span>'
        elif c.supervision == "yellow":
            badges += ' <span class="badge bg-yellow-lt">黄牌督办</span>'
        category = f" · {esc(c.category)}" if c.category_id else ""
        handler = esc(c.handler.display_name) if c.handler_id else ""
        people = ""
        if c.lead_id:
            people += f"<div>{esc(c.lead.display_name)}</div>"
        if handler:
            people += f'<div class="small text-secondary">承办：{handler}</div>'
        if not people:
            people = '<span class="text-secondary">未交办</span>'
        if c.current_due:
            css = "text-red fw-bold" if warning == "red" else "text-yellow" if warning == "yellow" else ""
            due = (
                f'<span class="{css}" title="{_local(c.current_due, "%Y-%m-%d %H:%M")}">'
                f'{_local(c.current_due, "%m-%d")}</span>'
                f'<div class="small text-secondary">{esc(c.due_label)}</div>'
            )
        elif c.closed_at:
            due = f'<span class="text-secondary">{_local(c.closed_at, "%m-%d")} 办结</span>'
        else:
            due = '<span class="text-secondary">—</span>'
        out.append(
            f'<tr class="xz-case-row{row_css}" id="case-{c.pk}"><td>'
            f'<a class="case-link fw-medium" href="{url(c.pk)}">{esc(c.title)}</a>'
            f'<div class="mt-1">{badges}</div>'
            f'<div class="small text-secondary mt-1"><span class="xz-code">{esc(c.tracking_code)}</span>'
            f'{category} · {_local(c.received_at, "%Y-%m-%d")}</div>'
            f'<div class="small text-secondary d-sm-none">{area} · {level}级{" · " + handler if handler else ""}</div>'
            f'</td><td class="xz-hide-sm">{area}</td><td class="xz-hide-sm text-nowrap">{level}级</td>'
            f'<td class="xz-hide-sm">{people}</td><td class="text-nowrap">{due}</td></tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value escaped by esc()


def _query_without(f: dict, *keys) -> str:
    from urllib.parse import urlencode

    params = {
        "tab": f["tab"],
        "kind": f["kind"],
        "level": f["level"],
        "status": f["status"],
        "category": f["category"] or "",
        "area": f["area"],
        "lead": f["lead"] or "",
        "from": f["from"].isoformat() if f["from"] else "",
        "to": f["to"].isoformat() if f["to"] else "",
        "q": f["q"],
        "mine": "1" if f["mine"] else "",
        "household": f["household"] or "",
    }
    return urlencode({k: v for k, v in params.items() if v and k not in keys})


def _more_filters_context(user, f: dict) -> dict:
    """The "更多条件" panel: level, category, village/grid, 包案 lead, dates, mine."""
    areas = ui.case_areas(user)
    townships = {a["code"][:9] for a in areas}
    categories = list(config.categories_for(townships, active_only=False))
    selected = str(f["category"] or "")
    groups = []
    parts = []
    for top, children in config.category_tree(categories):
        if children:
            choices = [(top.pk, f"{top.name}（全部）")] + [(c.pk, c.name) for c in children]
            groups.append(f'<optgroup label="{esc(top.name)}">{html.options(choices, selected)}</optgroup>')
        else:
            groups.append(html.options([(top.pk, top.name)], selected))
    parts = "".join(groups)
    by_village: dict[str, list] = {}
    for a in areas:
        label = f"{a['name']}（全村）" if a["level"] == "village" else a["name"]
        by_village.setdefault(a["village_name"], []).append((a["code"], label))
    leads = _lead_options(user)
    return {
        "level_options": html.options(((c, f"{label}级") for c, label in Level.choices), f["level"], "全部"),
        "category_options": mark_safe(  # noqa: S308 - built from escaped parts
            format_html('<option value="">{}</option>', "全部分类") + parts
        ),
        "area_options": html.grouped_options(by_village.items(), f["area"], "全部区域") if len(areas) > 1 else "",
        "lead_options": html.options(((p["id"], p["label"]) for p in leads), str(f["lead"] or ""), "全部")
        if leads else "",
    }


@staff_view(own_redirect="portal:track")
@require_GET
def queue(request):
    user = request.user
    f = _queue_filters(request)
    if count_requested(request):  # the deferred total of the list ("共 5187 件")
        now = timezone.now()
        return count_response(_queue_base(user, f, _queue_case_filters(user, f), now), unit="件")
    more_open = any(f[k] for k in MORE_FILTERS) or request.GET.get(MORE_PARAM) == "1"
    if request.htmx and request.htmx.target == MORE_TARGET:  # the panel, fetched when opened
        response = render(request, "cases/queue.html#more_filters", {"f": f, **_more_filters_context(user, f)})
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        return response
    page = paginate_request(request, _queue_rows(user, f), page_size=PAGE_SIZE, unit="件", defer_count=True)
    decorate(page.object_list, user)
    results_only = request.htmx and request.htmx.target == RESULTS_TARGET
    context = {
        "page": page,
        "rows_html": _rows_html(page.object_list),
        "f": f,
        "tab_label": dict(TABS)[f["tab"]],
        "tabs": [{"code": t, "label": label, "query": _query_without({**f, "tab": t})} for t, label in TABS],
        "can_add": bool(scopes_for(user, "cases.add_case")[0]),
        "filtered": any(
            f[k]
            for k in ("kind", "level", "status", "category", "area", "lead", "from", "to", "q", "mine", "household")
        ),
        "household": registry.households_for(user).filter(pk=f["household"]).first() if f["household"] else None,
        "clear_household": _query_without(f, "household") if f["household"] else "",
    }
    if results_only:
        response = render(request, "cases/queue.html#results", context)
    else:
        query = _query_without(f)
        context.update(
            {
                "can_configure": has_perm(user, "cases.configure_case"),
                "status_options": html.options(STATUS_FILTERS, f["status"], "全部状态"),
                "kind_options": html.options(Kind.choices, f["kind"], "全部类型"),
                "more_open": more_open,
                "more_url": f"{reverse('cases:queue')}?{query}{'&' if query else ''}{MORE_PARAM}=1",
            }
        )
        if more_open:
            context.update(_more_filters_context(user, f))
        response = render(request, "cases/queue.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# --- registration ------------------------------------------------------------------------
def _create_setup(user):
    areas = ui.case_areas(user, "cases.add_case")
    townships = {a["code"][:9] for a in areas}
    categories = list(config.categories_for(townships))
    return areas, categories


def _household(user, raw):
    pk = _int(raw)
    if pk is None:
        return None
    return registry.households_for(user).filter(pk=pk).first()


def _members(user, household) -> list:
    if household is None:
        return []
    return list(registry.residents_for(user).filter(household=household, status="active").order_by("id"))


def _repeat_rows(user, *, area_code: str, household, names, category) -> list[Case]:
    """Suggested earlier cases (same household or party names, same village, 12 months),
    limited to what the user may see."""
    if not area_code:
        return []
    ids = [
        c.pk
        for c in services.repeat_candidates(area_code=area_code, household=household, names=names, category=category)
    ]
    if not ids:
        return []
    rows = list(
        selectors.cases_for(user).filter(pk__in=ids).select_related("category__parent").order_by("-received_at")
    )
    decorate(rows)
    return rows


def _names_from(data) -> list[str]:
    names = []
    for i in range(MAX_PARTIES):
        name = (data.get(f"party-{i}-name") or "").strip()
        if name:
            names.append(name[:100])
    if data.get("contact_name"):
        names.append(data["contact_name"].strip()[:50])
    return names


def _create_context(request, form, parties, *, household, members, repeats, photo_errors=(), areas=()):
    labels = ui.area_labels([household.area_code]) if household else {}
    return {
        "form": form,
        "parties": parties,
        "household": household,
        "household_area": labels.get(household.area_code, "") if household else "",
        "members": members,
        "repeats": repeats,
        "related_choice": str(form["related_case"].value() or ""),
        "photo_errors": list(photo_errors),
        "assist_params": assist_params(),
        "max_photos": MAX_PHOTOS,
        "areas": areas,
    }


def _party_payload(parties) -> list[dict]:
    return [p for p in (f.party() for f in parties) if p]


def _save_case(user, form, parties, household, related, photos):
    """Registration and its photos in one transaction: a bad photo aborts everything.
    A repeated idempotency key (double click) returns the first case and adds nothing."""
    d = form.cleaned_data
    key = d.get("idempotency_key") or None
    saved_files = []
    try:
        with transaction.atomic():
            replay = bool(key) and Case.objects.filter(idempotency_key=key).exists()
            case = services.case_register(
                actor=user,
                kind=d["kind"],
                channel=d["channel"],
                area_code=d["area_code"],
                title=d["title"],
                description=d["description"],
                category=d["category"],
                household=household,
                contact_name=d.get("contact_name") or "",
                contact_phone=d.get("contact_phone") or None,
                parties=_party_payload(parties),
                received_at=d.get("received_at"),
                related_case=related,
                idempotency_key=key,
            )
            if not replay and not case.attachments.exists():
                for upload in photos:
                    saved_files.append(services.attachment_add(actor=user, case=case, upload=upload).file.name)
    except Exception:
        from django.core.files.storage import default_storage

        for name in saved_files:  # the rows rolled back; do not leave their files behind
            try:
                default_storage.delete(name)
            except OSError:
                pass
        raise
    return case, replay


@staff_view("cases.add_case")
@require_http_methods(["GET", "POST"])
def case_create(request):
    user = request.user
    areas, categories = _create_setup(user)
    default_channel = Channel.GRID_REPORT if any(r == "grid_worker" for _, r in _assignments(user)) else Channel.WALK_IN
    initial = {"kind": Kind.DISPUTE, "channel": default_channel, "idempotency_key": new_token()}
    wanted_household = _household(user, request.GET.get("household")) if request.method == "GET" else None
    if wanted_household is not None:
        initial["household"] = wanted_household.pk
        if any(a["code"] == wanted_household.area_code for a in areas):
            initial["area_code"] = wanted_household.area_code
    data = request.POST if request.method == "POST" else None
    form = CaseCreateForm(data, areas=areas, categories=categories, initial=initial)
    household = _household(user, data.get("household")) if data else wanted_household
    members = _members(user, household)
    parties = party_forms(data, members=members)
    photo_errors: list[str] = []
    status = 200
    if request.method == "POST":
        photos = [f for f in request.FILES.getlist("photos") if f]
        valid = form.is_valid()
        valid = all([p.is_valid() for p in parties]) and valid
        if data.get("household") and household is None:
            form.add_error(None, "所选的户不存在或不在您的管辖范围内，请重新搜索选择")
            valid = False
        if len(photos) > MAX_PHOTOS:
            photo_errors.append(f"一次最多上传 {MAX_PHOTOS} 个文件")
        for upload in photos:
            try:
                check_upload(upload, field="photos")
            except ValidationError as exc:
                photo_errors.append(f"{upload.name}：{exc.message_dict['photos'][0]}")
        related = None
        if valid and form.cleaned_data.get("related_case"):
            related_pk = _int(form.cleaned_data["related_case"])
            related = selectors.cases_for(user).filter(pk=related_pk).first() if related_pk else None
            if related is None:
                form.add_error(None, "关联事项不存在或不在您的管辖范围内")
        if form.is_valid() and valid and not photo_errors:
            try:
                case, replay = _save_case(user, form, parties, household, related, photos)
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
                for key, msgs in errors.items():
                    if key == "file":
                        photo_errors.extend(msgs)
                    else:
                        form.add_error(key if key in form.fields else None, msgs)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or "无权在该区域登记事项")
            else:
                if replay:
                    messages.info(request, f"该事项已登记（查询码 {case.tracking_code}），未重复登记。")
                else:
                    messages.success(
                        request, f"事项已登记，查询码 {case.tracking_code}。请告知群众凭查询码和手机后四位查询进度。"
                    )
                return redirect("cases:detail", pk=case.pk)
        status = 400
    area = form["area_code"].value() or (household.area_code if household else "")
    category = form.cleaned_data.get("category") if form.is_bound and hasattr(form, "cleaned_data") else None
    repeats = (
        _repeat_rows(user, area_code=area, household=household, names=_names_from(data or {}), category=category)
        if household or data
        else []
    )
    context = _create_context(
        request,
        form,
        parties,
        household=household,
        members=members,
        repeats=repeats,
        photo_errors=photo_errors,
        areas=areas,
    )
    response = render(request, "cases/case_form.html", context, status=status)
    add_never_cache_headers(response)
    return response


@staff_view("cases.add_case")
@require_GET
def household_search(request):
    """htmx: households matching a name, pinyin or initials (lcx → 刘长喜) in scope."""
    user = request.user
    q = (request.GET.get("q") or "")[:50]
    area = request.GET.get("area_code") or ""
    rows: list = []
    searched = bool(normalize_query(q)) and not FULL_ID.match(q)
    if searched:
        areas = {a["code"] for a in ui.case_areas(user, "cases.add_case")}
        village = area[:12] if area in areas else ""
        rows = list(registry.household_list(user=user, q=q, area_code=village)[:8])
        labels = ui.area_labels(h.area_code for h in rows)
        for h in rows:
            h.area_label = labels.get(h.area_code, h.area_code)
    return render(
        request,
        "cases/_household_results.html",
        {"rows": rows, "searched": searched, "q": q, "assist_params": assist_params()},
    )


@staff_view("cases.add_case")
@require_POST
def create_assist(request):
    """htmx: after a household is picked (or cleared), or party names change: the chosen
    household, the party rows with its members, and repeat-petition suggestions."""
    user = request.user
    data = request.POST.copy()
    areas, categories = _create_setup(user)
    if data.get("clear_household"):
        data["household"] = ""
    if data.get("pick_household"):
        data["household"] = data["pick_household"]
    household = _household(user, data.get("household"))
    if household is not None and data.get("pick_household"):
        codes = {a["code"] for a in areas}
        area = data.get("area_code", "")
        if household.area_code in codes and not household.area_code.startswith(area or "-"):
            data["area_code"] = household.area_code
        elif not area and household.area_code[:12] in codes:
            data["area_code"] = household.area_code[:12]
        if not (data.get("contact_name") or "").strip() and household.head_name:
            data["contact_name"] = household.head_name  # the usual contact: the head
    members = _members(user, household)
    if household is None or data.get("clear_household"):
        for i in range(MAX_PARTIES):  # a chosen member stays as a free-text name
            data[f"party-{i}-resident"] = ""
    form = CaseCreateForm(data, areas=areas, categories=categories)
    category = None
    cat_pk = _int(data.get("category"))
    if cat_pk:
        category = next((c for c in categories if c.pk == cat_pk), None)
    parties = party_forms(data, members=members)
    for p in parties:  # names of chosen members, without showing errors
        p.is_valid()
    names = _names_from(data)
    for p in parties:
        if p.cleaned_data.get("resident") is not None:
            names.append(p.cleaned_data["resident"].name)
    area_code = data.get("area_code") or (household.area_code if household else "")
    repeats = _repeat_rows(user, area_code=area_code, household=household, names=names, category=category)
    context = _create_context(
        request, form, parties, household=household, members=members, repeats=repeats, areas=areas
    )
    only_repeats = data.get("part") == "repeats"
    context["oob"] = not only_repeats
    context["area_form"] = CaseCreateForm(
        areas=areas,
        categories=categories,
        initial={"area_code": data.get("area_code", ""), "contact_name": data.get("contact_name", "")},
    )
    template = "cases/case_form.html#repeats" if only_repeats else "cases/_assist.html"
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


# --- case page ---------------------------------------------------------------------------
def _parties(user, case) -> list[CaseParty]:
    parties = list(case.parties.all())
    ids = [p.resident_id for p in parties if p.resident_id]
    visible = {r.pk: r for r in registry.residents_for(user).filter(pk__in=ids)} if ids else {}
    for p in parties:
        resident = visible.get(p.resident_id)
        p.masked = registry.masked(resident) if resident is not None else None
        p.linked = p.resident_id is not None
    return parties


def _contact_phone(case) -> str:
    if not case.contact_phone_enc:
        return ""
    return mask_phone(crypto.decrypt(bytes(case.contact_phone_enc)))


def _events(case) -> list:
    levels = dict(Level.choices)
    events = list(selectors.timeline(case=case))
    for e in events:
        e.label = ui.event_label(e.action)
        moved = e.from_level and e.to_level and e.from_level != e.to_level
        e.level_move = (
            f"{levels.get(e.from_level, e.from_level)}级 → {levels.get(e.to_level, e.to_level)}级" if moved else ""
        )
    return events


@staff_view()
@require_GET
def case_detail(request, pk: int):
    user = request.user
    case = _case(user, pk)
    decorate([case])
    area = case.area_code
    ended = case.status in ENDED_STATUSES
    can_record = not ended and can_in_area(user, "cases.change_case", area)
    pending = ui.pending_extension(case) if case.status in (Status.ASSIGNED, Status.IN_PROGRESS) else None
    mediations = list(case.mediations.prefetch_related("mediators").order_by("held_at", "id"))
    context = {
        "case": case,
        "area_path": case.area_label,
        "village": ui.village_name(area),
        "contact_phone": _contact_phone(case),
        "parties": _parties(user, case),
        "attachments": list(case.attachments.order_by("id")),
        "meetings": list(case.meetings.order_by("held_at", "id")),
        "mediations": mediations,
        "follow_ups": list(case.follow_ups.select_related("by").order_by("at", "id")),
        "skip_levels": list(case.skip_levels.order_by("occurred_on", "id")),
        "events": _events(case),
        "actions": ui.actions_for(user, case, pending=pending),
        "pending_extension": pending,
        "can_record": can_record,
        "can_follow_up": case.status == Status.CLOSED and can_in_area(user, "cases.change_case", area),
        "can_skip_level": can_in_area(user, "cases.change_case", area),
        "repeats": list(selectors.cases_for(user).filter(related_case=case).only("pk", "tracking_code", "title")[:10]),
        "levels": [
            (code, label, workflow.level_index(code) <= workflow.level_index(case.level))
            for code, label in Level.choices
        ],
        "is_open": case.status in OPEN_STATUSES,
    }
    response = render(request, "cases/case_detail.html", context)
    add_never_cache_headers(response)
    return response


# --- actions -----------------------------------------------------------------------------
def _call_action(action: str, *, actor, case, form) -> Case:
    kwargs = form.service_kwargs()
    if action in ("resolve", "fail"):
        return getattr(services, f"case_{action}")(actor=actor, case=case, note=kwargs["note"])
    if action == "return":
        return services.case_return(actor=actor, case=case, reason=kwargs["reason"])
    return getattr(services, f"case_{action}")(actor=actor, case=case, **kwargs)


def _form_for(action, case, user, data=None):
    form_class = ACTION_FORMS[action]
    extra = {}
    if action == "assign":
        extra = {"leads": ui.lead_candidates(case), "handlers": ui.handler_candidates(case)}
    return form_class(data, case=case, user=user, **extra)


def _render_form(request, template: str, context: dict, status: int = 200):
    name = f"{template}#form" if request.htmx else template
    response = render(request, name, context, status=status)
    add_never_cache_headers(response)
    return response


def _done(request, case, message: str):
    messages.success(request, message)
    url = reverse("cases:detail", args=[case.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@staff_view()
@require_http_methods(["GET", "POST"])
def case_action(request, pk: int, action: str):
    """GET: the form of one workflow action. POST: run it through its service."""
    if action not in ACTION_FORMS:
        raise Http404
    user = request.user
    case = _case(user, pk)
    spec = workflow.ACTIONS[action]
    context = {"case": case, "action": action, "label": spec.label, "hint": ACTION_HINTS.get(action, "")}
    try:
        workflow.target(case.status, action)
    except workflow.IllegalTransition as exc:
        context.update(form=_form_for(action, case, user), error=exc.message, blocked=True)
        return _render_form(request, "cases/action_form.html", context, status=409)
    if request.method == "GET":
        context["form"] = _form_for(action, case, user)
        return _render_form(request, "cases/action_form.html", context)
    form = _form_for(action, case, user, request.POST)
    context["form"] = form
    if not form.is_valid():
        return _render_form(request, "cases/action_form.html", context, status=400)
    try:
        _call_action(action, actor=user, case=case, form=form)
    except workflow.IllegalTransition as exc:
        context["error"] = exc.message
        return _render_form(request, "cases/action_form.html", context, status=409)
    except ValidationError as exc:
        apply_service_errors(form, exc, form.field_map)
        return _render_form(request, "cases/action_form.html", context, status=400)
    except PermissionDenied as exc:
        context["error"] = str(exc) or "您的岗位不能执行此操作"
        return _render_form(request, "cases/action_form.html", context, status=403)
    return _done(request, case, f"已{spec.label}。")


# --- records -----------------------------------------------------------------------------
def _record_form(kind, case, user, data=None):
    label, form_class = RECORD_FORMS[kind]
    extra = {}
    if form_class is MediationForm:
        extra["mediators"] = ui.mediator_candidates(case)
    return form_class(data, case=case, user=user, **extra)


def _save_record(kind, *, user, case, form, files):
    d = form.cleaned_data
    if kind == "meeting":
        return services.meeting_add(
            actor=user,
            case=case,
            kind=d["kind"],
            held_at=d["held_at"],
            place=d["place"],
            participants=d["participants"],
            minutes=d.get("minutes", ""),
        )
    if kind == "mediation":
        kw = form.service_kwargs()
        return services.mediation_add(
            actor=user,
            case=case,
            held_at=kw["held_at"],
            result=kw["result"],
            mediators=kw["mediators"],
            mediator_names=kw.get("mediator_names", ""),
            place=kw.get("place", ""),
            facts=kw.get("facts", ""),
            terms=kw.get("terms", ""),
        )
    if kind == "follow_up":
        return services.follow_up_add(
            actor=user, case=case, satisfaction=d["satisfaction"], note=d.get("note", ""), reopen=bool(d.get("reopen"))
        )
    if kind == "skip_level":
        return services.skip_level_record(
            actor=user, case=case, occurred_on=d["occurred_on"], destination=d["destination"], note=d.get("note", "")
        )
    if kind == "party":
        return services.party_add(actor=user, case=case, name=d["name"], role=d["role"], note=d.get("note", ""))
    if kind == "attachment":
        if not files:
            raise ValidationError({"photos": "请选择要上传的照片或 PDF 文件"})
        if len(files) > MAX_PHOTOS:
            raise ValidationError({"photos": f"一次最多上传 {MAX_PHOTOS} 个文件"})
        saved = []
        try:
            with transaction.atomic():
                for upload in files:
                    try:
                        saved.append(services.attachment_add(actor=user, case=case, upload=upload).file.name)
                    except ValidationError as exc:
                        msg = (
                            exc.message_dict.get("file", exc.messages)[0]
                            if hasattr(exc, "error_dict")
                            else exc.messages[0]
                        )
                        raise ValidationError({"photos": f"{upload.name}：{msg}"})
        except Exception:
            from django.core.files.storage import default_storage

            for name in saved:
                try:
                    default_storage.delete(name)
                except OSError:
                    pass
            raise
        return saved
    raise Http404


RECORD_DONE = {
    "meeting": "已记录会议。",
    "mediation": "已记录调解。",
    "follow_up": "已记录回访。",
    "skip_level": "已记录越级访。",
    "attachment": "附件已上传。",
    "party": "已添加当事人。",
}


@staff_view()
@require_http_methods(["GET", "POST"])
def case_record(request, pk: int, kind: str):
    """GET: the form of one record (meeting, mediation, follow-up, skip-level, attachment).
    POST: save it through its service."""
    if kind not in RECORD_FORMS:
        raise Http404
    user = request.user
    case = _case(user, pk)
    label, _ = RECORD_FORMS[kind]
    context = {
        "case": case,
        "kind": kind,
        "label": label,
        "destinations": DESTINATIONS,
        "parties": list(case.parties.all()) if kind == "mediation" else [],
    }
    if request.method == "GET":
        context["form"] = _record_form(kind, case, user)
        return _render_form(request, "cases/record_form.html", context)
    form = _record_form(kind, case, user, request.POST)
    context["form"] = form
    if not form.is_valid():
        return _render_form(request, "cases/record_form.html", context, status=400)
    try:
        _save_record(kind, user=user, case=case, form=form, files=[f for f in request.FILES.getlist("photos") if f])
    except workflow.IllegalTransition as exc:
        context["error"] = exc.message
        return _render_form(request, "cases/record_form.html", context, status=409)
    except ValidationError as exc:
        apply_service_errors(form, exc, {"file": "photos"})
        return _render_form(request, "cases/record_form.html", context, status=400)
    except PermissionDenied as exc:
        context["error"] = str(exc) or "您的岗位不能执行此操作"
        return _render_form(request, "cases/record_form.html", context, status=403)
    return _done(request, case, RECORD_DONE[kind])


# --- attachments -------------------------------------------------------------------------
@staff_view()
@require_GET
def attachment(request, pk: int, aid: int):
    """Stream an attachment only when its case is in the user's scope (404 otherwise)."""
    case = _case(request.user, pk)
    att = get_object_or_404(Attachment.objects.filter(case=case), pk=_pk(aid))
    try:
        handle = att.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404
    is_image = att.content_type.startswith("image/")
    response = FileResponse(handle, content_type=att.content_type, as_attachment=not is_image, filename=att.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- mediation agreement -----------------------------------------------------------------
CN_DIGITS = "〇一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1..31 → 一 … 三十一 (for months and days)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def chinese_date(day: date) -> str:
    """2025-03-04 → 二〇二五年三月四日."""
    year = "".join(CN_DIGITS[int(ch)] for ch in str(day.year))
    return f"{year}年{_cn_number(day.month)}月{_cn_number(day.day)}日"


CN_ORDINALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
LEADING_NUMBER = re.compile(r"^\s*(?:[（(]?[0-9一二三四五六七八九十]+[)）.、．]|第[一二三四五六七八九十]+条)\s*")


def agreement_terms(text: str) -> list[tuple[str, str]]:
    """Terms as numbered paragraphs: one per line; existing numbering is replaced."""
    lines = [LEADING_NUMBER.sub("", line).strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    out = []
    for i, line in enumerate(lines, start=1):
        number = CN_ORDINALS[i - 1] if i <= 10 else str(i)
        out.append((number, line))
    return out


@staff_view()
@require_GET
def agreement(request, pk: int, mid: int):
    """人民调解协议书 of a successful mediation, laid out for A4 printing."""
    user = request.user
    case = _case(user, pk)
    mediation = get_object_or_404(
        Mediation.objects.filter(case=case, result=MediationResult.SUCCESS).prefetch_related("mediators"), pk=_pk(mid)
    )
    parties = _parties(user, case)
    addresses = {}
    resident_ids = [p.resident_id for p in parties if p.resident_id and p.masked is not None]
    if resident_ids:
        addresses = dict(
            registry.residents_for(user).filter(pk__in=resident_ids).values_list("pk", "household__address")
        )
    for p in parties:
        p.address = addresses.get(p.resident_id, "") if p.resident_id else ""
    mediators = [m.display_name for m in mediation.mediators.all()]
    if mediation.mediator_names:
        mediators += [n for n in re.split(r"[、,，;；\s]+", mediation.mediator_names) if n]
    village = (
        ui.village_name(case.area_code)
        or Region.objects.filter(code=case.area_code[:9]).values_list("name", flat=True).first()
        or ""
    )
    context = {
        "case": case,
        "mediation": mediation,
        "applicants": [p for p in parties if p.role == PartyRole.APPLICANT],
        "respondents": [p for p in parties if p.role == PartyRole.RESPONDENT],
        "others": [p for p in parties if p.role == PartyRole.OTHER],
        "terms": agreement_terms(mediation.terms),
        "mediators": mediators,
        "committee": f"{village}人民调解委员会",
        "date_cn": chinese_date(periods.to_local(mediation.held_at).date()),
    }
    response = render(request, "cases/agreement.html", context)
    add_never_cache_headers(response)
    return response


# --- configuration -----------------------------------------------------------------------
def _config_townships(user) -> list[Region]:
    prefixes = config.configurable_prefixes(user)
    cond = Q()
    for p in prefixes:
        cond |= Q(code__startswith=p)
    return list(Region.objects.filter(cond, level="township", is_active=True).order_by("code")) if prefixes else []


CALENDAR_SOURCE_LABELS = {
    "entered": "已录入本年放假和调休安排",
    "shipped": "系统已内置国务院公布的放假和调休安排",
    "weekdays": "尚无本年放假安排：暂按周一至周五为工作日计算，请在国务院公布后录入",
}


def _calendar_years(calendar_values=None) -> list[dict]:
    this = periods.local_today().year
    out = []
    for year in (this, this + 1):
        source = periods.calendar_source(year)
        text = (calendar_values or {}).get(year)
        out.append({
            "year": year,
            "source": source,
            "label": CALENDAR_SOURCE_LABELS[source],
            "text": workcalendar.as_text(year) if text is None else text,
        })
    return out


def _config_context(request, township: Region, *, add_form=None, deadline_errors=None, deadline_values=None,
                    calendar_errors=None, calendar_values=None):
    user = request.user
    categories = list(
        config.categories_for([township.code], active_only=False).filter(
            Q(township_code="") | Q(township_code=township.code)
        )
    )
    tree = config.category_tree(categories)
    shared_editable = config.can_configure_shared(user)
    parents = [c for c in categories if c.parent_id is None and c.is_active]
    rows = config.deadline_rows(township.code)
    if deadline_values:
        for row in rows:
            key = f"{row['kind']}-{row['level']}"
            row.update(deadline_values.get(key, {}))
    for row in rows:
        key = f"{row['kind']}-{row['level']}"
        row["key"] = key
        row["errors"] = [m for k, m in (deadline_errors or {}).items() if k.startswith(key)]
        row.setdefault("yellow_percent", int(round(float(row["yellow_share"]) * 100)))
    return {
        "township": township,
        "townships": _config_townships(user),
        "tree": tree,
        "shared_editable": shared_editable,
        "add_form": add_form or CategoryAddForm(parents=parents),
        "deadline_rows": rows,
        "deadline_errors": (deadline_errors or {}).get("__all__"),
        "calendar_years": _calendar_years(calendar_values),
        "calendar_errors": calendar_errors or {},
    }


def _township_for(request, raw=None) -> Region:
    townships = _config_townships(request.user)
    if not townships:
        raise PermissionDenied("您的岗位没有此项权限")
    code = raw if raw is not None else request.GET.get("township", "")
    for t in townships:
        if t.code == code:
            return t
    if code:
        raise Http404
    return townships[0]


@staff_view("cases.configure_case")
@require_GET
def config_page(request):
    township = _township_for(request)
    return render(request, "cases/config.html", _config_context(request, township))


def _config_redirect(township: Region):
    return redirect(f"{reverse('cases:config')}?township={township.code}")


@staff_view("cases.configure_case")
@require_POST
def config_calendar(request):
    """Enter a year's official days off and make-up working days (调休) as the State
    Council's notice lists them — for the years the shipped holiday data lacks."""
    township = _township_for(request, request.POST.get("township", ""))
    year = _int(request.POST.get("year"))
    text = (request.POST.get("text") or "")[:5000]
    if year not in {y["year"] for y in _calendar_years()}:
        year = None
    try:
        if year is None:
            raise ValidationError({"calendar": "请选择今年或明年"})
        n = workcalendar.save_year(actor=request.user, year=year, text=text)
    except ValidationError as exc:
        message = "；".join(m for msgs in exc.message_dict.values() for m in msgs)
        context = _config_context(request, township, calendar_errors={year: message},
                                  calendar_values={year: text} if year else None)
        return render(request, "cases/config.html", context, status=400)
    if n:
        messages.success(request, f"{year} 年工作日历已保存（{n} 天），此后计算的工作日时限按此执行。")
    else:
        messages.success(request, f"已清空 {year} 年录入的放假安排。")
    return _config_redirect(township)


@staff_view("cases.configure_case")
@require_POST
def config_category_add(request):
    township = _township_for(request, request.POST.get("township", ""))
    parents = [c for c in config.categories_for([township.code]) if c.parent_id is None]
    form = CategoryAddForm(request.POST, parents=parents)
    if form.is_valid():
        shared = request.POST.get("shared") == "1"
        try:
            config.category_add(
                actor=request.user,
                township_code="" if shared else township.code,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已添加分类“{form.cleaned_data['name']}”。")
            return _config_redirect(township)
    context = _config_context(request, township, add_form=form)
    return render(request, "cases/config.html", context, status=400)


@staff_view("cases.configure_case")
@require_POST
def config_category_defaults(request):
    """Load the default category tree (idempotent; existing rows are left alone)."""
    township = _township_for(request, request.POST.get("township", ""))
    created = config.categories_ensure_defaults(actor=request.user)
    messages.success(request, f"已载入 {created} 个默认分类。" if created else "默认分类已齐全。")
    return _config_redirect(township)


@staff_view("cases.configure_case")
@require_POST
def config_category(request, cid: int):
    """Rename, deactivate or re-activate one category (errors come back as a message)."""
    township = _township_for(request, request.POST.get("township", ""))
    category = get_object_or_404(
        Category.objects.filter(Q(township_code="") | Q(township_code=township.code)), pk=_pk(cid)
    )
    op = request.POST.get("op", "")
    if op not in ("rename", "deactivate", "activate"):
        raise Http404
    try:
        if op == "rename":
            form = CategoryRenameForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"name": form.errors["name"][0]})
            config.category_rename(actor=request.user, category=category, name=form.cleaned_data["name"])
            messages.success(request, f"分类已改名为“{form.cleaned_data['name']}”。")
        else:
            config.category_set_active(actor=request.user, category=category, active=op == "activate")
            messages.success(
                request, f"已停用分类“{category.name}”。" if op == "deactivate" else f"已启用分类“{category.name}”。"
            )
    except ValidationError as exc:
        text = (
            "；".join(m for ms in exc.message_dict.values() for m in ms)
            if hasattr(exc, "error_dict")
            else exc.messages[0]
        )
        messages.error(request, text)
    return _config_redirect(township)


@staff_view("cases.configure_case")
@require_POST
def config_deadlines(request):
    township = _township_for(request, request.POST.get("township", ""))
    rows, values = [], {}
    for kind in config.CONFIGURABLE_KINDS:
        for level in Level.values:
            key = f"{kind}-{level}"
            row = {
                "kind": str(kind),
                "level": level,
                "days": (request.POST.get(f"{key}-days") or "")[:10],
                "working_days": request.POST.get(f"{key}-working_days") == "1",
                "yellow_share": (request.POST.get(f"{key}-yellow_share") or "")[:10],
            }
            rows.append(row)
            values[key] = {
                "days": row["days"],
                "working_days": row["working_days"],
                "yellow_percent": row["yellow_share"],
            }
    try:
        changed = config.deadline_policies_save(actor=request.user, township_code=township.code, rows=rows)
    except ValidationError as exc:
        errors = {k: v[0] for k, v in exc.message_dict.items()}
        context = _config_context(request, township, deadline_errors=errors, deadline_values=values)
        return render(request, "cases/config.html", context, status=400)
    messages.success(
        request,
        f"办理时限已保存（{changed} 项有变动），对此后进入各级的事项生效。" if changed else "办理时限没有变动。",
    )
    return _config_redirect(township)
