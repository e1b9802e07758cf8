"""Staff pages of the 积分制: rulebook, awards with review (评议), publicity (公示) and
objections, batch awards, accounts and their ledgers, the 振风超市 counter and stock, and
the 红黑榜 with appeals.

Reads go through ``selectors`` (``restrict(user, action)``): out of scope → 404; a role
without an area-scoped permission → 403 (villagers are sent to their portal page instead);
anonymous → login. Writes go through ``services`` / ``shop`` / ``ledger``. Action endpoints
answer a state conflict (already reviewed, publicity over, key reused) with 409, bad input
with 400 and Chinese field messages, a missing permission with 403 — and write nothing.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiangzhi.core import periods
from xiangzhi.core.api import COUNT_CAP
from xiangzhi.core.html import esc, pk_url
from xiangzhi.core.paging import paginate_request
from xiangzhi.core.pinyin import normalize_query
from xiangzhi.core.scoping import can_in_area, has_perm, scopes_for
from xiangzhi.core.views import PERMISSION
from xiangzhi.residents import selectors as registry
from xiangzhi.residents.forms import scoped_areas

from . import cards, ledger, selectors, services
from . import shop as shop_services
from .accounts import account_for_cadre, account_for_household, account_for_party_member
from .choices import AwardStatus, EntryKind, RedemptionStatus, SubjectKind
from .forms import (
    TOKEN_RE,
    AwardProposeForm,
    BatchAwardForm,
    DecideForm,
    ListGenerateForm,
    ObjectionForm,
    ProductForm,
    ReasonForm,
    ReviewForm,
    RulebookAdoptForm,
    ShopForm,
    StockInForm,
    apply_service_errors,
    error_text,
    new_token,
    rules_as_text,
)
from .models import Product

PAGE_SIZE = 20
VILLAGER_MESSAGE = "村民请在“村民服务 · 我的积分”页面查看本户积分"
CONFLICT_KEYS = ("status", "award", "objection", "appeal", "redemption", "entry")
AWARD_TABS = [
    ("proposed", "待评议"),
    ("publicizing", "公示中"),
    ("objected", "有异议"),
    ("posted", "已入账"),
    ("rejected", "未通过"),
    ("all", "全部"),
]
REVERSIBLE = (EntryKind.AWARD, EntryKind.DEDUCTION)  # redemptions are cancelled, reversals final
KIND_BADGE = {
    EntryKind.AWARD: "bg-green-lt",
    EntryKind.DEDUCTION: "bg-red-lt",
    EntryKind.REDEMPTION: "bg-blue-lt",
    EntryKind.REVERSAL: "bg-yellow-lt",
    EntryKind.EXPIRY: "bg-secondary-lt",
}
STATUS_BADGE = {
    AwardStatus.PROPOSED: "bg-blue-lt",
    AwardStatus.PUBLICIZING: "bg-yellow-lt",
    AwardStatus.OBJECTED: "bg-orange-lt",
    AwardStatus.POSTED: "bg-green-lt",
    AwardStatus.REJECTED: "bg-secondary-lt",
    AwardStatus.CANCELLED: "bg-secondary-lt",
}
BOARD_BADGE = {"draft": "bg-secondary-lt", "approved": "bg-blue-lt", "published": "bg-green-lt"}


# --- access ------------------------------------------------------------------------------
def staff_view(perm: str):
    """Login, then ``perm`` over some area. Own-household scopes do not count here:
    villagers are sent to their portal page. Classified as a permission route."""

    def deco(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            areas, own = scopes_for(request.user, perm)
            if not areas:
                if own:
                    try:
                        return redirect("portal:points_me")
                    except NoReverseMatch:
                        pass
                raise PermissionDenied(VILLAGER_MESSAGE if own else "您的岗位没有此项权限")
            return view(request, *args, **kwargs)

        wrapper.xz_access = PERMISSION
        wrapper.xz_perm = perm
        return wrapper

    return deco


def _capped(qs) -> str:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return f"{COUNT_CAP:,}+" if n > COUNT_CAP else f"{n:,}"


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 10**18 else None


def _pick(value, allowed) -> str:
    return value if value in allowed else ""


def _is_conflict(exc: ValidationError) -> bool:
    return hasattr(exc, "error_dict") and any(k in CONFLICT_KEYS for k in exc.message_dict)


NAV_PERMS = ("view_award", "view_ledgerentry", "view_shop", "view_redblacklist", "view_rulebook")


def _nav_perms(user) -> dict:
    """Which sub-navigation tabs the user sees (area scopes only; in memory)."""
    return {p: bool(scopes_for(user, f"points.{p}")[0]) for p in NAV_PERMS}


def _render(request, template: str, context: dict, status: int = 200, *, partial: str | None = None):
    name = f"{template}#{partial}" if partial and request.htmx else template
    context.setdefault("perms_points", _nav_perms(request.user))
    response = render(request, name, context, status=status)
    add_never_cache_headers(response)
    return response


def _done(request, url: str, message: str = "", level=messages.SUCCESS):
    if message:
        messages.add_message(request, level, message)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _next_url(request, default: str) -> str:
    """A same-site relative URL to go back to (never an absolute or foreign one)."""
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt:
        return nxt
    return default


# --- home -------------------------------------------------------------------------------
@staff_view("points.view_account")
@require_GET
def home(request):
    user = request.user
    can = {
        p: has_perm(user, f"points.{p}")
        for p in (
            "view_award",
            "review_award",
            "add_award",
            "view_rulebook",
            "add_rulebook",
            "view_shop",
            "add_shop",
            "view_redblacklist",
            "change_redblacklist",
            "view_ledgerentry",
        )
    }
    tiles = []
    if can["review_award"]:
        tiles.append(
            {
                "label": "待评议",
                "value": _capped(selectors.awards_for(user).filter(status=AwardStatus.PROPOSED)),
                "url": reverse("points:award_list") + "?status=proposed",
            }
        )
    if can["view_award"]:
        tiles.append(
            {
                "label": "公示中",
                "value": _capped(selectors.awards_for(user).filter(status=AwardStatus.PUBLICIZING)),
                "url": reverse("points:award_list") + "?status=publicizing",
            }
        )
    if can["review_award"]:
        tiles.append(
            {
                "label": "异议待处理",
                "value": _capped(selectors.objection_list(user=user)),
                "url": reverse("points:objection_list"),
            }
        )
    if can["change_redblacklist"]:
        tiles.append(
            {
                "label": "申诉待处理",
                "value": _capped(selectors.appeal_list(user=user)),
                "url": reverse("points:appeal_list"),
            }
        )
    if can["view_shop"]:
        tiles.append(
            {
                "label": "低库存商品",
                "value": _capped(selectors.low_stock(user=user)),
                "url": reverse("points:low_stock"),
            }
        )
    shops = list(selectors.kept_shops(user).order_by("area_code", "name")[:6])
    context = {"tiles": tiles, "can": can, "kept_shops": shops}
    return _render(request, "points/home.html", context)


# --- rulebook ------------------------------------------------------------------------------
def _rule_area(request, perm="points.view_rulebook") -> tuple[list[dict], dict | None]:
    areas = selectors.rule_areas(request.user, perm)
    wanted = request.GET.get("area", "")
    chosen = next((a for a in areas if a["code"] == wanted), None)
    if wanted and chosen is None:
        raise Http404
    if chosen is None and areas:
        villages = [a for a in areas if a["level"] == "village"]
        chosen = villages[0] if len(villages) == 1 else areas[0]
    return areas, chosen


@staff_view("points.view_rulebook")
@require_GET
def rules(request):
    """The rules in force for a village: the township's book plus the village's additions."""
    areas, chosen = _rule_area(request)
    books, rows = [], []
    if chosen:
        codes = [chosen["code"][:9]] + ([chosen["code"]] if chosen["level"] == "village" else [])
        books = list(
            selectors.rulebooks_for(request.user).filter(area_code__in=codes, is_current=True).order_by("area_code")
        )
        rows = (
            list(services.rules_for(chosen["code"]).select_related("rulebook"))
            if chosen["level"] == "village"
            else [r for b in books for r in b.rules.filter(is_active=True).order_by("code")]
        )
    context = {
        "areas": areas,
        "chosen": chosen,
        "books": books,
        "rows": rows,
        "can_adopt": bool(chosen) and can_in_area(request.user, "points.add_rulebook", chosen["code"]),
    }
    return _render(request, "points/rules.html", context)


@staff_view("points.view_rulebook")
@require_GET
def rulebook_history(request):
    areas, chosen = _rule_area(request)
    books = []
    if chosen:
        codes = [chosen["code"][:9]] + ([chosen["code"]] if chosen["level"] == "village" else [])
        books = list(
            selectors.rulebooks_for(request.user)
            .filter(area_code__in=codes)
            .annotate(rule_count=Count("rules"))
            .order_by("area_code", "-version")
        )
    labels = {a["code"]: a["label"] for a in areas}
    for b in books:
        b.area_label = labels.get(b.area_code, b.area_code)
    return _render(request, "points/rulebook_history.html", {"areas": areas, "chosen": chosen, "books": books})


@staff_view("points.view_rulebook")
@require_GET
def rulebook_detail(request, pk: int):
    book = selectors.rulebook_get(user=request.user, pk=pk)
    context = {
        "book": book,
        "rows": list(book.rules.order_by("code")),
        "area_label": selectors.area_labels([book.area_code]).get(book.area_code, book.area_code),
        "can_adopt": can_in_area(request.user, "points.add_rulebook", book.area_code),
    }
    return _render(request, "points/rulebook_detail.html", context)


@staff_view("points.add_rulebook")
@require_http_methods(["GET", "POST"])
def rulebook_adopt(request):
    """Adopt a new version (township admin / village secretary): the previous version stops
    being citable. Rule rows in a textarea, one per line."""
    user = request.user
    areas = selectors.rule_areas(user, "points.add_rulebook")
    initial = {"adopted_on": periods.local_today(), "adopted_by": "村民代表大会"}
    wanted = request.GET.get("area", "")
    if request.method == "GET" and any(a["code"] == wanted for a in areas):
        initial["area_code"] = wanted
        current = selectors.rulebooks_for(user).filter(area_code=wanted, is_current=True).first()
        if current:
            initial["title"] = current.title
            initial["rules"] = rules_as_text(current.rules.filter(is_active=True).order_by("code"))
    form = RulebookAdoptForm(request.POST or None, areas=areas, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                book = services.rulebook_adopt(
                    actor=user,
                    area_code=d["area_code"],
                    title=d["title"],
                    adopted_on=d["adopted_on"],
                    votes_for=d["votes_for"],
                    votes_total=d["votes_total"],
                    rules=d["parsed_rules"],
                    adopted_by=d.get("adopted_by") or "村民代表大会",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or "无权制定该区域的积分规则")
                status = 403
            else:
                messages.success(
                    request, f"已通过《{book.title}》第 {book.version} 版，共 {book.rules.count()} 条规则。"
                )
                return redirect("points:rulebook_detail", pk=book.pk)
    return _render(request, "points/rulebook_form.html", {"form": form}, status=status)


# --- accounts and ledger ---------------------------------------------------------------------
def _decorate_accounts(rows) -> None:
    labels = selectors.area_labels(a.area_code for a in rows)
    for a in rows:
        a.area_label = labels.get(a.area_code, a.area_code)


@staff_view("points.view_account")
@require_GET
def account_list(request):
    user = request.user
    areas = selectors.areas(user, "points.view_account")
    kind = _pick(request.GET.get("kind", ""), SubjectKind.values) or SubjectKind.HOUSEHOLD
    area = _pick(request.GET.get("area", ""), {a["code"] for a in areas})
    q = (request.GET.get("q") or "").strip()[:50]
    if cards.looks_like_code(q):
        household_id = cards.parse_card_code(q)
        account = selectors.accounts_for(user).filter(household_id=household_id).first() if household_id else None
        if account:
            return redirect("points:account_detail", pk=account.pk)
        q_error = "未找到该积分卡（或不在您的管辖范围内）"
        qs = selectors.accounts_for(user).none()
    else:
        q_error = ""
        qs = selectors.account_list(user=user, subject_kind=kind, area_code=area, q=q)
    page = paginate_request(request, qs.select_related("household"), page_size=PAGE_SIZE, unit="个账户")
    _decorate_accounts(page.object_list)
    base = {"kind": kind, "area": area, "q": q}
    context = {
        "page": page,
        "areas": areas,
        "f": base,
        "q_error": q_error,
        "kinds": [(k, label, urlencode({**base, "kind": k})) for k, label in SubjectKind.choices],
        "can_ledger": has_perm(user, "points.view_ledgerentry"),
    }
    response = _render(
        request,
        "points/account_list.html",
        context,
        partial="results" if request.htmx and request.htmx.target == "account-results" else None,
    )
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _reversed_ids(entries) -> set[int]:
    ids = [e.pk for e in entries if e.kind in REVERSIBLE]
    if not ids:
        return set()
    return set(ledger.LedgerEntry.objects.filter(reverses_id__in=ids).order_by().values_list("reverses_id", flat=True))


def _ledger_rows_html(entries, *, can_reverse: bool) -> SafeString:
    """The ledger table's rows (the account page shows 50 at a time: built in Python with
    every value escaped, see core.html). The source is the entry's own note (the rule's
    name, the shop's) linked to the award or receipt it came from — no query per kind."""
    if not entries:
        return mark_safe(f'<tr><td colspan="{7 if can_reverse else 6}" class="text-secondary">暂无积分流水。</td></tr>')  # noqa: S308
    award_url = pk_url("points:award_detail")
    receipt_url = pk_url("points:receipt")
    reverse_url = pk_url("points:entry_reverse")
    kinds = dict(EntryKind.choices)
    out = []
    for e in entries:
        kind, _, ref = e.source.partition(":")
        note = esc(e.note)
        if kind == "award" and ref.isdigit():
            source = f'<a href="{award_url(ref)}">{note or "积分申报 #" + ref}</a>'
        elif kind == "redemption" and ref.isdigit():
            source = f'<a href="{receipt_url(ref)}">{note or "兑换"} #{ref}</a>'
        elif kind == "reversal":
            source = f'冲正流水 #{esc(ref)}<div class="small text-secondary">{note}</div>' if note else f"冲正流水 #{esc(ref)}"
        elif kind == "expiry":
            source = "积分过期清零"
        else:
            source = esc(e.source) + (f'<div class="small text-secondary">{note}</div>' if note else "")
        amount = f"+{e.amount}" if e.amount > 0 else str(e.amount)
        actor = esc(e.actor.display_name) if e.actor_id else "系统"
        reversed_badge = '<span class="badge bg-secondary-lt ms-1">已冲正</span>' if e.is_reversed else ""
        action = ""
        if can_reverse:
            button = ""
            if e.kind in REVERSIBLE and not e.is_reversed:
                url = reverse_url(e.pk)
                button = (f'<a class="btn btn-sm btn-ghost-warning" href="{url}" hx-get="{url}" '
                          'hx-target="#reverse-box" hx-swap="innerHTML">冲正</a>')
            action = f'<td class="d-print-none text-end">{button}</td>'
        out.append(
            f'<tr id="entry-{e.pk}"><td class="text-nowrap small">{localtime(e.created_at):%Y-%m-%d %H:%M}</td>'
            f'<td><span class="badge {KIND_BADGE.get(e.kind, "bg-secondary-lt")}">{esc(kinds.get(e.kind, e.kind))}</span>'
            f"{reversed_badge}</td>"
            f'<td class="text-end fw-bold text-nowrap {"text-green" if e.amount > 0 else "text-red"}">{amount}</td>'
            f'<td class="text-end">{e.balance_after}</td><td>{source}</td>'
            f'<td class="xz-hide-sm small">{actor}</td>{action}</tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value escaped by esc()


def _before(request) -> int | None:
    return _int(request.GET.get("before"))


@staff_view("points.view_ledgerentry")
@require_GET
def account_detail(request, pk: int):
    """An account with its ledger, newest first, keyset-paged (``?before=<entry id>``)."""
    user = request.user
    account = selectors.account_get(user=user, pk=pk)
    before = _before(request)
    entries, next_before = selectors.ledger_page(user=user, account=account, before=before)
    for e in entries:
        e.is_reversed = False
    for pk in _reversed_ids(entries):
        next(e for e in entries if e.pk == pk).is_reversed = True
    can_reverse = can_in_area(user, "points.reverse_ledgerentry", account.area_code)
    pending = list(
        selectors.awards_for(user)
        .filter(account=account, status__in=[AwardStatus.PROPOSED, AwardStatus.PUBLICIZING, AwardStatus.OBJECTED])
        .select_related("rule")
        .order_by("-created_at", "-id")[:10]
    )
    labels = {a["code"]: a["label"] for a in scoped_areas(user)}
    area_label = labels.get(account.area_code) or selectors.area_labels([account.area_code]).get(account.area_code, "")
    context = {
        "account": account,
        "area_label": area_label,
        "entries": entries,
        "rows_html": _ledger_rows_html(entries, can_reverse=can_reverse),
        "before": before,
        "next_before": next_before,
        "pending": pending,
        "can_reverse": can_reverse,
        "can_propose": can_in_area(user, "points.add_award", account.area_code),
        "subject": _subject_value(account),
        "card_code": cards.card_code(account.household_id) if account.household_id else "",
    }
    return _render(request, "points/account_detail.html", context)


def _subject_value(account) -> str:
    if account.subject_kind == SubjectKind.HOUSEHOLD and account.household_id:
        return f"household:{account.household_id}"
    if account.subject_kind == SubjectKind.PARTY_MEMBER and account.resident_id:
        return f"party_member:{account.resident_id}"
    if account.subject_kind == SubjectKind.CADRE and account.cadre_user_id:
        return f"cadre:{account.cadre_user_id}"
    return ""


@staff_view("points.view_account")
@require_GET
def household_account(request, pk: int):
    """From the 一户一档 page: the household's account (an empty one is not created just by
    looking)."""
    user = request.user
    household = registry.household_get(user=user, pk=pk)
    account = selectors.account_of_household(user=user, household=household)
    if account is not None and has_perm(user, "points.view_ledgerentry"):
        return redirect("points:account_detail", pk=account.pk)
    context = {
        "household": household,
        "account": account,
        "can_propose": can_in_area(user, "points.add_award", household.area_code),
    }
    return _render(request, "points/household_account.html", context)


@staff_view("points.view_account")
@require_GET
def card(request, pk: int):
    """The printable household points card with its QR code."""
    user = request.user
    household = registry.household_get(user=user, pk=pk)
    code = cards.card_code(household.pk)
    context = {
        "household": household,
        "code": code,
        "qr": cards.card_svg(code),
        "area_label": selectors.area_labels([household.area_code]).get(household.area_code, ""),
        "township": selectors.region_name(household.area_code[:9]),
        "copies": range(1 if request.GET.get("copies") != "4" else 4),
    }
    return _render(request, "points/card.html", context)


@staff_view("points.reverse_ledgerentry")
@require_http_methods(["GET", "POST"])
def entry_reverse(request, pk: int):
    """Township correction of a ledger entry by a compensating entry (with a reason)."""
    user = request.user
    entry = selectors.entry_get(user=user, pk=pk, action="reverse")
    back = reverse("points:account_detail", args=[entry.account_id])
    form = ReasonForm(request.POST or None, label="冲正原因")
    context = {"entry": entry, "form": form, "back": back}
    if entry.kind == EntryKind.REDEMPTION:
        # points and stock go back together: the receipt's cancellation, never a bare reversal
        redemption_id = _int(entry.source.partition(":")[2])
        context["error"] = "兑换流水不能单独冲正，请在兑换小票页面“撤销兑换”（积分和库存一并退回）。"
        context["receipt"] = redemption_id
        return _render(request, "points/entry_reverse.html", context, status=409, partial="form")
    if request.method == "GET":
        return _render(request, "points/entry_reverse.html", context, partial="form")
    if not form.is_valid():
        return _render(request, "points/entry_reverse.html", context, status=400, partial="form")
    try:
        ledger.reverse(actor=user, entry=entry, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        if _is_conflict(exc):
            context["error"] = error_text(exc)
            return _render(request, "points/entry_reverse.html", context, status=409, partial="form")
        context["error"] = error_text(exc)  # e.g. the balance would go below zero
        return _render(request, "points/entry_reverse.html", context, status=400, partial="form")
    return _done(request, back, f"已冲正：{entry.amount:+d} 分已反向记账。")


# --- awards --------------------------------------------------------------------------------
def _decorate_awards(rows, user=None) -> None:
    labels = selectors.area_labels(a.area_code for a in rows)
    home_village = None
    if user is not None and any(a.status == AwardStatus.PUBLICIZING for a in rows):
        household = selectors.my_household(user)
        home_village = household.village_code if household else None
    for a in rows:
        a.area_label = labels.get(a.area_code, a.area_code)
        a.badge = STATUS_BADGE.get(a.status, "bg-secondary-lt")
        if user is not None:
            village = a.area_code[:12]
            a.may_object = can_in_area(user, "points.view_award", village) or village == home_village


@staff_view("points.view_award")
@require_GET
def award_list(request):
    """Awards by state: the review queue (待评议), the publicity list (公示中, with its end
    time and the objection link), objected ones, posted, rejected."""
    user = request.user
    areas = selectors.areas(user, "points.view_award")
    default = "proposed" if has_perm(user, "points.review_award") else "publicizing"
    status = _pick(request.GET.get("status", ""), [t for t, _ in AWARD_TABS]) or default
    area = _pick(request.GET.get("area", ""), {a["code"] for a in areas})
    kind = _pick(request.GET.get("kind", ""), SubjectKind.values)
    qs = selectors.award_list(user=user, status="" if status == "all" else status, area_code=area, subject_kind=kind)
    page = paginate_request(request, qs, page_size=PAGE_SIZE, unit="条")
    _decorate_awards(page.object_list, request.user)
    base = {"area": area, "kind": kind}
    context = {
        "page": page,
        "status": status,
        "tabs": [
            (t, label, urlencode({**{k: v for k, v in base.items() if v}, "status": t})) for t, label in AWARD_TABS
        ],
        "areas": areas,
        "area": area,
        "kind": kind,
        "kinds": SubjectKind.choices,
        "can_review": has_perm(user, "points.review_award"),
        "can_propose": has_perm(user, "points.add_award"),
        "now": periods.to_local(timezone.now()),
        "objection_count": _capped(selectors.objection_list(user=user))
        if has_perm(user, "points.review_award")
        else "",
    }
    return _render(request, "points/award_list.html", context)


def may_object(user, award) -> bool:
    """Who ``services.award_object`` accepts: village-level readers of awards and the
    village's own residents."""
    village = award.area_code[:12]
    if can_in_area(user, "points.view_award", village):
        return True
    household = selectors.my_household(user)
    return household is not None and household.village_code == village


@staff_view("points.view_award")
@require_GET
def award_detail(request, pk: int):
    user = request.user
    award = selectors.award_get(user=user, pk=pk)
    _decorate_awards([award])
    objections = list(award.objections.select_related("case", "raised_by").order_by("created_at", "id"))
    case_ids = {o.case_id for o in objections if o.case_id}
    visible_cases = set()
    if case_ids and has_perm(user, "cases.view_case"):
        from xiangzhi.cases import selectors as case_selectors

        visible_cases = set(case_selectors.cases_for(user).filter(pk__in=case_ids).values_list("pk", flat=True))
    for o in objections:
        o.case_visible = o.case_id in visible_cases
    now = timezone.now()
    context = {
        "award": award,
        "objections": objections,
        "can_review": award.status == AwardStatus.PROPOSED
        and can_in_area(user, "points.review_award", award.area_code),
        "can_object": award.status == AwardStatus.PUBLICIZING
        and award.publicity_until
        and award.publicity_until > now
        and may_object(user, award),
        "can_decide": can_in_area(user, "points.review_award", award.area_code),
        "review_form": ReviewForm(),
    }
    return _render(request, "points/award_detail.html", context)


def evidence_file(award):
    """Stream an award's photo (never a direct media URL)."""
    if not award.evidence:
        raise Http404
    try:
        handle = award.evidence.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404
    head = handle.read(16)
    handle.seek(0)
    from xiangzhi.core.uploads import sniff

    content_type = sniff(head) or "application/octet-stream"
    if not content_type.startswith("image/"):
        handle.close()
        raise Http404
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def award_evidence(request, pk: int):
    """The photo of an award, when the award is in the user's scope (villagers: their own
    household's awards)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not has_perm(request.user, "points.view_award"):
        raise PermissionDenied("您的岗位没有此项权限")
    if request.method != "GET":
        return HttpResponse(status=405)
    award = selectors.award_get(user=request.user, pk=pk)
    return evidence_file(award)


award_evidence.xz_access = PERMISSION
award_evidence.xz_perm = "points.view_award"


# proposing ----------------------------------------------------------------------------------
def _subject_options(user, kind: str, q: str, limit: int = 8) -> tuple[list[dict], str]:
    """Search results for the propose form: (rows, message)."""
    q = (q or "").strip()[:50]
    if kind == SubjectKind.HOUSEHOLD and cards.looks_like_code(q):
        household_id = cards.parse_card_code(q)
        rows = list(registry.households_for(user, "view").filter(pk=household_id)[:1]) if household_id else []
        if not rows:
            return [], "未找到该积分卡（或不在您的管辖范围内）"
        return _household_options(rows), ""
    if not normalize_query(q):
        return [], ""
    if kind == SubjectKind.HOUSEHOLD:
        rows = list(registry.household_list(user=user, q=q)[:limit])
        return _household_options(rows), "" if rows else f"没有找到“{q}”，可换拼音首字母或身份证后四位试试"
    if kind == SubjectKind.PARTY_MEMBER:
        rows = list(selectors.party_members(user=user, q=q).select_related("household")[:limit])
        labels = selectors.area_labels(r.area_code for r in rows)
        return [
            {"value": f"party_member:{r.pk}", "title": r.name, "meta": labels.get(r.area_code, "")} for r in rows
        ], "" if rows else f"没有找到名为“{q}”的党员（需在一户一档中标记“党员”）"
    rows = list(selectors.cadres(user=user, q=q)[:limit])
    return [
        {"value": f"cadre:{u.pk}", "title": u.display_name, "meta": u.username} for u in rows
    ], "" if rows else f"没有找到“{q}”"


def _household_options(rows) -> list[dict]:
    labels = selectors.area_labels(h.area_code for h in rows)
    return [{"value": f"household:{h.pk}", "title": str(h), "meta": labels.get(h.area_code, "")} for h in rows]


def _resolve_subject(user, value) -> tuple[object | None, dict | None]:
    """("household", 12) → (the subject object, its option dict) within the user's
    ``points.add_award`` scope, or (None, None)."""
    if not value:
        return None, None
    kind, pk = value
    if kind == "household":
        h = registry.households_for(user).filter(pk=pk).first()
        if h and can_in_area(user, "points.add_award", h.area_code):
            return h, _household_options([h])[0]
    elif kind == "party_member":
        r = selectors.party_members(user=user).filter(pk=pk).first()
        if r and can_in_area(user, "points.add_award", r.area_code):
            label = selectors.area_labels([r.area_code]).get(r.area_code, "")
            return r, {"value": f"party_member:{r.pk}", "title": r.name, "meta": label}
    elif kind == "cadre":
        u = selectors.cadres(user=user).filter(pk=pk).first()
        if u:
            return u, {"value": f"cadre:{u.pk}", "title": u.display_name, "meta": u.username}
    return None, None


def _account_for(user, kind, subject):
    if kind == "household":
        return account_for_household(subject)
    if kind == "party_member":
        return account_for_party_member(subject)
    prefixes = selectors.area_prefixes(user, "points.add_award")
    area = selectors.cadre_area(subject.pk, prefixes) or prefixes[0]
    return account_for_cadre(subject, area)


def _parse_subject(raw: str):
    from .forms import SUBJECT_RE

    m = SUBJECT_RE.match(raw or "")
    return (m.group(1), int(m.group(2))) if m else None


@staff_view("points.add_award")
@require_http_methods(["GET", "POST"])
def award_create(request):
    """A cadre or grid worker proposes an award or a deduction for a household, a party
    member or a cadre; it waits for the village review."""
    user = request.user
    data = request.POST if request.method == "POST" else None
    kind = _pick((data or request.GET).get("subject_kind", ""), SubjectKind.values) or SubjectKind.HOUSEHOLD
    raw_subject = (data or request.GET).get("subject", "")
    parsed = _parse_subject(raw_subject)
    if parsed and parsed[0] != kind and request.method == "GET":
        kind = parsed[0]
    subject, chosen = _resolve_subject(user, parsed)
    rules = list(selectors.citable_rules(user, subject_kind=kind))
    initial = {"subject_kind": kind, "occurred_on": periods.local_today(), "subject": raw_subject if chosen else ""}
    form = AwardProposeForm(data, request.FILES or None, rules=rules, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            if subject is None:
                form.add_error("subject", "所选对象不存在或不在您的管辖范围内，请重新搜索选择")
            else:
                try:
                    with transaction.atomic():
                        account = _account_for(user, kind, subject)
                        award = services.award_propose(
                            actor=user,
                            account=account,
                            rule=d["rule"],
                            occurred_on=d["occurred_on"],
                            reason=d["reason"],
                            evidence=d.get("evidence"),
                        )
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc) or "无权为该对象申报积分")
                    status = 403
                else:
                    verb = "加分" if award.points > 0 else "扣分"
                    messages.success(
                        request,
                        f"已提交{verb}申报：{award.account.name} {award.rule.name}（{award.points:+d} 分），"
                        "等待村评议小组评议。",
                    )
                    return redirect("points:award_detail", pk=award.pk)
    context = {
        "form": form,
        "kind": kind,
        "chosen": chosen,
        "kinds": SubjectKind.choices,
        "has_rules": bool(rules),
    }
    return _render(request, "points/award_form.html", context, status=status)


@staff_view("points.add_award")
@require_GET
def subject_search(request):
    """htmx: households (name, pinyin, initials, last 4 ID digits, card code), party
    members or cadres in scope, as choices of the propose form."""
    kind = _pick(request.GET.get("subject_kind", ""), SubjectKind.values) or SubjectKind.HOUSEHOLD
    q = (request.GET.get("q") or "")[:50]
    rows, message = _subject_options(request.user, kind, q)
    return _render(request, "points/_subject_results.html", {"rows": rows, "message": message, "q": q})


def _action_response(request, award, *, template="points/_award_row.html", status=200, error="", form=None):
    """The row of an award after (or instead of) an action, for htmx; a redirect otherwise."""
    if request.htmx:
        _decorate_awards([award], request.user)
        context = {"a": award, "error": error, "form": form, "can_review": True, "now": timezone.now()}
        response = render(request, template, context, status=status)
        add_never_cache_headers(response)
        return response
    if error:
        messages.error(request, error)
    return redirect(_next_url(request, reverse("points:award_detail", args=[award.pk])))


@staff_view("points.review_award")
@require_POST
def award_review(request, pk: int):
    """评议: approve (→ publicity for 3 days) or reject with a reason."""
    user = request.user
    award = selectors.award_get(user=user, pk=pk, action="review")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        text = "；".join(m for ms in form.errors.values() for m in ms)
        return _action_response(request, award, status=400, error=text)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        award = services.award_review(actor=user, award=award, approve=approve, note=form.cleaned_data["note"])
    except ValidationError as exc:
        award.refresh_from_db()
        return _action_response(request, award, status=409 if _is_conflict(exc) else 400, error=error_text(exc))
    except PermissionDenied as exc:
        return _action_response(request, award, status=403, error=str(exc) or "无权评议")
    award = selectors.award_get(user=user, pk=award.pk)
    if approve:
        until = periods.to_local(award.publicity_until)
        text = f"已通过评议，公示至 {until:%Y-%m-%d %H:%M}。"
    else:
        text = "已评为不通过。"
    if not request.htmx:
        messages.success(request, text)
    award.flash = text
    return _action_response(request, award)


@staff_view("points.view_award")
@require_http_methods(["GET", "POST"])
def award_object(request, pk: int):
    """An objection during publicity; it becomes a case (kind need/dispute) — the page then
    shows the case's tracking code."""
    user = request.user
    award = selectors.award_get(user=user, pk=pk)
    form = ObjectionForm(request.POST or None, initial={"name": user.display_name})
    context = {"award": award, "form": form}
    if request.method == "GET":
        return _render(request, "points/award_object.html", context)
    if not form.is_valid():
        return _render(request, "points/award_object.html", context, status=400)
    try:
        objection = services.award_object(
            actor=user, award=award, reason=form.cleaned_data["reason"], name=form.cleaned_data.get("name") or ""
        )
    except ValidationError as exc:
        if _is_conflict(exc):
            context["error"] = error_text(exc)
            return _render(request, "points/award_object.html", context, status=409)
        apply_service_errors(form, exc)
        return _render(request, "points/award_object.html", context, status=400)
    except PermissionDenied as exc:
        context["error"] = str(exc) or "只有本村村民和干部可以提出异议"
        return _render(request, "points/award_object.html", context, status=403)
    messages.success(
        request, f"异议已受理，已转为事项办理，查询码 {objection.case.tracking_code}。公示暂停，处理后再决定是否入账。"
    )
    return redirect("points:award_detail", pk=award.pk)


@staff_view("points.review_award")
@require_GET
def objection_list(request):
    user = request.user
    page = paginate_request(request, selectors.objection_list(user=user), page_size=PAGE_SIZE, unit="条")
    labels = selectors.area_labels(o.award.area_code for o in page.object_list)
    for o in page.object_list:
        o.area_label = labels.get(o.award.area_code, "")
    return _render(request, "points/objection_list.html", {"page": page, "form": DecideForm()})


@staff_view("points.review_award")
@require_POST
def objection_decide(request, pk: int):
    """After the objection's case is handled: upheld → the award is cancelled; not upheld →
    it posts to the ledger."""
    user = request.user
    objection = selectors.objection_get(user=user, pk=pk)
    back = _next_url(request, reverse("points:objection_list"))
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(m for ms in form.errors.values() for m in ms))
        return redirect(back) if not request.htmx else _done(request, back)
    upheld = form.cleaned_data["upheld"] == "yes"
    try:
        services.objection_decide(actor=user, objection=objection, upheld=upheld, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        if request.htmx:
            return HttpResponse(error_text(exc), status=409 if _is_conflict(exc) else 400)
        return redirect(back)
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc) or "无权处理异议")
    text = "异议成立，该积分已撤销。" if upheld else "异议不成立，积分已入账。"
    return _done(request, back, text)


@staff_view("points.add_award")
@require_http_methods(["GET", "POST"])
def batch_award(request):
    """Everyone who attended an activity gets the rule's points — one proposed award per
    (activity, household, rule); running it again adds nobody twice."""
    user = request.user
    areas = selectors.areas(user, "points.add_award")
    data = request.POST if request.method == "POST" else None
    area = _pick((data or request.GET).get("area_code", ""), {a["code"] for a in areas})
    households = list(registry.household_list(user=user, area_code=area)[:1000]) if area else []
    rules = list(selectors.citable_rules(user, subject_kind=SubjectKind.HOUSEHOLD))
    form = BatchAwardForm(
        data,
        areas=areas,
        rules=rules,
        households=households,
        initial={"area_code": area, "held_on": periods.local_today()},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            chosen = [h for h in households if h.pk in set(d["households"])]
            try:
                with transaction.atomic():
                    accounts = [account_for_household(h) for h in chosen]
                    activity, created = services.activity_batch_award(
                        actor=user,
                        area_code=d["area_code"],
                        name=d["name"],
                        held_on=d["held_on"],
                        rule=d["rule"],
                        accounts=accounts,
                        reason=d.get("reason") or "",
                    )
            except ValidationError as exc:
                apply_service_errors(form, exc, {"accounts": "households"})
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or "无权在该区域组织积分活动")
                status = 403
            else:
                skipped = len(chosen) - created
                text = f"“{activity.name}”：新申报 {created} 户"
                text += f"，另有 {skipped} 户此前已申报，未重复。" if skipped else "。"
                messages.success(request, text + "请村评议小组评议。")
                return redirect(reverse("points:award_list") + "?status=proposed")
    context = {"form": form, "area": area, "households": households, "truncated": len(households) >= 1000}
    return _render(request, "points/batch_form.html", context, status=status)


# --- 振风超市 -------------------------------------------------------------------------------
@staff_view("points.view_shop")
@require_GET
def shop_list(request):
    user = request.user
    from django.db.models import F

    shops = list(
        selectors.shops_for(user)
        .select_related("keeper")
        .annotate(
            product_count=Count("products", filter=Q(products__is_active=True)),
            low_count=Count(
                "products", filter=Q(products__is_active=True, products__stock__lte=F("products__low_stock"))
            ),
        )
        .order_by("area_code", "name")[:200]
    )
    labels = selectors.area_labels(s.area_code for s in shops)
    for s in shops:
        s.area_label = labels.get(s.area_code, s.area_code)
        s.can_keep = selectors.can_keep(user, s)
    return _render(request, "points/shop_list.html", {"shops": shops, "can_add": has_perm(user, "points.add_shop")})


def _keepers(user):
    from xiangzhi.accounts.models import User
    from xiangzhi.org.models import Assignment

    prefixes = selectors.area_prefixes(user, "points.add_shop")
    cond = Q()
    for p in prefixes:
        cond |= Q(area_code__startswith=p)
    posts = Assignment.objects.filter(cond, role="shop_keeper").values("user_id")
    return list(User.objects.filter(pk__in=posts, is_active=True).order_by("full_name", "username")[:200])


@staff_view("points.add_shop")
@require_http_methods(["GET", "POST"])
def shop_create(request):
    user = request.user
    areas = selectors.rule_areas(user, "points.add_shop")
    form = ShopForm(request.POST or None, areas=areas, keepers=_keepers(user))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                created = shop_services.shop_create(
                    actor=user,
                    area_code=d["area_code"],
                    name=d["name"],
                    keeper=d.get("keeper"),
                    address=d.get("address") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                messages.success(request, f"已设立“{created.name}”，请添加商品并入库。")
                return redirect("points:shop_detail", pk=created.pk)
    return _render(request, "points/shop_form.html", {"form": form}, status=status)


@staff_view("points.view_shop")
@require_GET
def low_stock(request):
    rows = list(selectors.low_stock(user=request.user)[:500])
    return _render(request, "points/low_stock.html", {"rows": rows})


def _shop_page_context(request, the_shop, *, product_form=None, stock_errors=None):
    user = request.user
    products = list(selectors.products_of(the_shop))
    for p in products:
        p.is_low = p.is_active and p.stock <= p.low_stock
    recent = list(selectors.redemption_list(user=user, shop=the_shop)[:20])
    return {
        "shop": the_shop,
        "area_label": selectors.area_labels([the_shop.area_code]).get(the_shop.area_code, ""),
        "products": products,
        "recent": recent,
        "can_keep": selectors.can_keep(user, the_shop),
        "product_form": product_form or ProductForm(),
        "stock_form": StockInForm(),
        "stock_errors": stock_errors or {},
        "stock_value": sum(p.price * p.stock for p in products if p.is_active),
    }


@staff_view("points.view_shop")
@require_GET
def shop_detail(request, pk: int):
    the_shop = selectors.shop_get(user=request.user, pk=pk)
    return _render(request, "points/shop_detail.html", _shop_page_context(request, the_shop))


def _kept(request, pk) -> object:
    the_shop = selectors.shop_get(user=request.user, pk=pk)
    if not selectors.can_keep(request.user, the_shop):
        raise PermissionDenied("只有本超市管理员可以办理")
    return the_shop


@staff_view("points.view_shop")
@require_POST
def product_create(request, pk: int):
    the_shop = _kept(request, pk)
    form = ProductForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            product = shop_services.product_create(
                actor=request.user,
                shop=the_shop,
                name=d["name"],
                price=d["price"],
                unit=d.get("unit") or "件",
                low_stock=d["low_stock"] if d.get("low_stock") is not None else 5,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已添加商品“{product.name}”，请办理入库。")
            return redirect("points:shop_detail", pk=the_shop.pk)
    context = _shop_page_context(request, the_shop, product_form=form)
    return _render(request, "points/shop_detail.html", context, status=400)


@staff_view("points.view_shop")
@require_POST
def stock_in(request, pk: int):
    user = request.user
    product = (
        Product.objects.filter(shop__in=selectors.shops_for(user).values("pk"))
        .select_related("shop")
        .filter(pk=pk)
        .first()
    )
    if product is None:
        raise Http404
    the_shop = _kept(request, product.shop_id)
    form = StockInForm(request.POST)
    if form.is_valid():
        try:
            move = shop_services.stock_in(
                actor=user,
                product=product,
                quantity=form.cleaned_data["quantity"],
                note=form.cleaned_data.get("note") or "",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, f"“{product.name}”入库 {move.quantity}{product.unit}，现有库存 {move.stock_after}。"
            )
            return redirect("points:shop_detail", pk=the_shop.pk)
    errors = "；".join(m for ms in form.errors.values() for m in ms)
    context = _shop_page_context(request, the_shop, stock_errors={product.pk: errors})
    return _render(request, "points/shop_detail.html", context, status=400)


# counter ------------------------------------------------------------------------------------
def _counter_household(user, the_shop, raw):
    pk = _int(raw)
    if pk is None:
        return None
    return registry.household_list(user=user, area_code=the_shop.area_code).filter(pk=pk).first()


def _counter_results(user, the_shop, q: str) -> tuple[list, str, object | None]:
    """(households, message, exact household from a card code)."""
    q = (q or "").strip()[:50]
    if cards.looks_like_code(q):
        household_id = cards.parse_card_code(q)
        h = _counter_household(user, the_shop, household_id) if household_id else None
        if h is None:
            return [], "未找到该积分卡（或该户不在本超市服务范围内）", None
        return [h], "", h
    if not normalize_query(q):
        return [], "", None
    rows = list(registry.household_list(user=user, q=q, area_code=the_shop.area_code)[:8])
    labels = selectors.area_labels(h.area_code for h in rows)
    for h in rows:
        h.area_label = labels.get(h.area_code, "")
    return rows, "" if rows else f"没有找到“{q}”，可换拼音首字母、身份证后四位或扫积分卡", None


def _parse_items(post, products) -> tuple[list[tuple[int, int]], dict[int, str], dict[int, str]]:
    """qty-<product id> fields → ([(product_id, quantity)], values to redisplay, errors)."""
    items, values, errors = [], {}, {}
    for p in products:
        raw = (post.get(f"qty-{p.pk}") or "").strip()
        values[p.pk] = raw[:6]
        if raw in ("", "0"):
            continue
        try:
            qty = int(raw)
        except ValueError:
            errors[p.pk] = "数量应为整数"
            continue
        items.append((p.pk, qty))  # negative quantities are refused by the service, in Chinese
    return items, values, errors


def _counter_context(request, the_shop, household, *, key=None, values=None, item_errors=None, error="", preview=None):
    user = request.user
    account = selectors.accounts_for(user).filter(household=household).first() if household else None
    products = list(selectors.products_of(the_shop, active_only=True))
    values = values or {}
    for p in products:
        p.qty_value = values.get(p.pk, "")
        p.error = (item_errors or {}).get(p.pk, "")
    shops = list(selectors.kept_shops(user).order_by("area_code", "name")[:20])
    return {
        "shop": the_shop,
        "shops": shops,
        "household": household,
        "household_area": selectors.area_labels([household.area_code]).get(household.area_code, "")
        if household
        else "",
        "account": account,
        "balance": account.balance if account else 0,
        "products": products,
        "key": key or new_token(),
        "error": error,
        "preview": preview,
        "q": "",
    }


@staff_view("points.view_shop")
@require_http_methods(["GET", "POST"])
def counter(request, pk: int):
    """The counter (phone/tablet): find the household (name, pinyin, initials, last 4 ID
    digits, or scan the 积分卡 into the search box), pick items, confirm. One idempotency
    key per rendered form: a double click is one redemption; the same key with other items
    is a 409."""
    user = request.user
    the_shop = _kept(request, pk)
    if request.method == "GET":
        q = (request.GET.get("q") or "")[:50]
        household = _counter_household(user, the_shop, request.GET.get("household"))
        rows, message = [], ""
        if household is None and q:
            rows, message, exact = _counter_results(user, the_shop, q)
            if exact is not None:
                return redirect(reverse("points:counter", args=[the_shop.pk]) + f"?household={exact.pk}")
        context = _counter_context(request, the_shop, household)
        context.update(rows=rows, message=message, q=q)
        return _render(request, "points/counter.html", context)
    household = _counter_household(user, the_shop, request.POST.get("household"))
    key = (request.POST.get("key") or "").strip()
    if household is None:
        context = _counter_context(request, the_shop, None, error="请先查找并选择兑换的农户")
        return _render(request, "points/counter.html", context, status=400)
    products = list(selectors.products_of(the_shop, active_only=True))
    items, values, item_errors = _parse_items(request.POST, products)
    if not TOKEN_RE.match(key):
        context = _counter_context(
            request, the_shop, household, values=values, error="页面已过期，请核对商品后重新点击“确认兑换”"
        )
        return _render(request, "points/counter.html", context, status=400)
    if item_errors:
        context = _counter_context(
            request, the_shop, household, key=key, values=values, item_errors=item_errors, error="请更正标红的数量"
        )
        return _render(request, "points/counter.html", context, status=400)
    if request.POST.get("step") == "preview":
        return _counter_preview(request, the_shop, household, key, values, items, products)
    ui_key = f"ui:{key}"
    replay = selectors.redemptions_for(user).filter(idempotency_key=ui_key).exists()
    try:
        with transaction.atomic():
            account = account_for_household(household)
            redemption = shop_services.redemption_create(
                actor=user, shop=the_shop, account=account, items=items, idempotency_key=ui_key
            )
    except ledger.IdempotencyConflict:
        context = _counter_context(
            request,
            the_shop,
            household,
            values=values,
            error="这张兑换单已经提交过，且商品与数量不同：未重复扣分。请核对后重新办理。",
        )
        return _render(request, "points/counter.html", context, status=409)
    except ValidationError as exc:
        context = _counter_context(request, the_shop, household, key=key, values=values, error=error_text(exc))
        return _render(request, "points/counter.html", context, status=400)
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc) or "只有本超市管理员可以办理兑换")
    if replay:
        messages.info(request, "该笔兑换已办理，未重复扣分。")
    else:
        messages.success(request, f"兑换成功：扣除 {redemption.total} 分。")
    return redirect("points:receipt", pk=redemption.pk)


def _counter_preview(request, the_shop, household, key, values, items, products):
    """Check the order before confirming: totals, stock and the balance after (nothing
    written)."""
    by_id = {p.pk: p for p in products}
    lines, total, problems = [], 0, []
    for pid, qty in items:
        p = by_id[pid]
        if qty <= 0:
            problems.append(f"“{p.name}”数量必须大于 0")
            continue
        if qty > p.stock:
            problems.append(f"“{p.name}”库存不足：仅剩 {p.stock}{p.unit}")
        lines.append({"product": p, "quantity": qty, "subtotal": p.price * qty})
        total += p.price * qty
    if not items:
        problems.append("请选择要兑换的商品")
    context = _counter_context(request, the_shop, household, key=key, values=values)
    if context["balance"] < total:
        problems.append(f"积分余额不足：当前 {context['balance']} 分，本次需要 {total} 分")
    context["preview"] = {"lines": lines, "total": total, "after": context["balance"] - total, "problems": problems}
    return _render(request, "points/counter.html", context, status=400 if problems else 200)


@staff_view("points.view_shop")
@require_GET
def counter_search(request, pk: int):
    """htmx: households for the counter's live search."""
    the_shop = _kept(request, pk)
    q = (request.GET.get("q") or "")[:50]
    rows, message, exact = _counter_results(request.user, the_shop, q)
    return _render(
        request, "points/_counter_results.html", {"shop": the_shop, "rows": rows, "message": message, "exact": exact}
    )


@staff_view("points.view_redemption")
@require_GET
def receipt(request, pk: int):
    """小票: shop, household, items, total, balance after, time, keeper — for a receipt
    printer or A4."""
    user = request.user
    redemption = selectors.redemption_get(user=user, pk=pk)
    items = list(redemption.items.select_related("product").order_by("id"))
    entry = ledger.LedgerEntry.objects.filter(
        account_id=redemption.account_id, source=f"redemption:{redemption.pk}", kind=EntryKind.REDEMPTION
    ).first()
    context = {
        "r": redemption,
        "items": items,
        "entry": entry,
        "area_label": selectors.area_labels([redemption.area_code]).get(redemption.area_code, ""),
        "can_cancel": redemption.status == RedemptionStatus.DONE and selectors.can_keep(user, redemption.shop),
        "cancel_form": ReasonForm(label="撤销原因"),
    }
    return _render(request, "points/receipt.html", context)


@staff_view("points.view_redemption")
@require_POST
def redemption_cancel(request, pk: int):
    """Cancel by compensating entries: points back, stock back."""
    user = request.user
    redemption = selectors.redemption_get(user=user, pk=pk)
    if not selectors.can_keep(user, redemption.shop):
        raise PermissionDenied("只有本超市管理员可以撤销兑换")
    form = ReasonForm(request.POST, label="撤销原因")
    back = reverse("points:receipt", args=[redemption.pk])
    if not form.is_valid():
        messages.error(request, "；".join(m for ms in form.errors.values() for m in ms))
        return redirect(back)
    try:
        shop_services.redemption_cancel(actor=user, redemption=redemption, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    return _done(request, back, f"已撤销兑换，{redemption.total} 分已退回，库存已恢复。")


# --- 红黑榜 -------------------------------------------------------------------------------------
@staff_view("points.view_redblacklist")
@require_GET
def board_list(request):
    user = request.user
    villages = selectors.villages(user, "points.view_redblacklist")
    area = _pick(request.GET.get("area", ""), {v["code"] for v in villages})
    kind = _pick(request.GET.get("kind", ""), SubjectKind.values)
    qs = selectors.board_list(user=user, area_code=area, subject_kind=kind).annotate(
        honor_count=Count("entries", filter=Q(entries__side="honor", entries__removed=False)),
        warning_count=Count("entries", filter=Q(entries__side="warning", entries__removed=False)),
    )
    page = paginate_request(request, qs, page_size=PAGE_SIZE, unit="期")
    labels = selectors.area_labels(b.area_code for b in page.object_list)
    for b in page.object_list:
        b.area_label = labels.get(b.area_code, b.area_code)
        b.badge = BOARD_BADGE.get(b.status, "")
    change_villages = [v for v in villages if can_in_area(user, "points.change_redblacklist", v["code"])]
    context = {
        "page": page,
        "villages": villages,
        "area": area,
        "kind": kind,
        "kinds": SubjectKind.choices[:2],
        "form": ListGenerateForm(villages=change_villages, initial={"village": area}) if change_villages else None,
        "pending_appeals": _capped(selectors.appeal_list(user=user)) if change_villages else "",
    }
    return _render(request, "points/board_list.html", context)


@staff_view("points.change_redblacklist")
@require_POST
def board_generate(request):
    user = request.user
    villages = [v for v in selectors.villages(user, "points.change_redblacklist")]
    form = ListGenerateForm(request.POST, villages=villages)
    if form.is_valid():
        d = form.cleaned_data
        kind, start = d["period"]
        try:
            board = services.list_generate(
                actor=user,
                village_code=d["village"],
                period_kind=kind,
                period_start=start,
                subject_kind=d["subject_kind"],
                top_n=d.get("top_n") or services.HONOR_TOP_N,
            )
        except ValidationError as exc:
            if _is_conflict(exc):
                messages.error(request, error_text(exc))
                return redirect(reverse("points:board_list") + f"?area={d['village']}")
            apply_service_errors(form, exc, {"village_code": "village", "period_kind": "period"})
        else:
            messages.success(request, f"已生成{board.period_label}红黑榜草稿，请逐条核对后审定。")
            return redirect("points:board_detail", pk=board.pk)
    messages.error(request, "；".join(m for ms in form.errors.values() for m in ms))
    return redirect("points:board_list")


def _entry_display(entries, *, masked_warnings: bool) -> None:
    for e in entries:
        e.display = selectors.public_name(e.account, masked=masked_warnings and e.side == "warning")


@staff_view("points.view_redblacklist")
@require_GET
def board_detail(request, pk: int):
    user = request.user
    board = selectors.board_get(user=user, pk=pk)
    entries = list(selectors.board_entries(board))
    _entry_display(entries, masked_warnings=False)
    appeals = {}
    for a in selectors.appeals_for(user).filter(entry__red_black_list=board).order_by("created_at", "id"):
        appeals.setdefault(a.entry_id, []).append(a)
    for e in entries:
        e.appeal_list = appeals.get(e.pk, [])
    can_change = can_in_area(user, "points.change_redblacklist", board.area_code)
    context = {
        "board": board,
        "area_label": selectors.area_labels([board.area_code]).get(board.area_code, ""),
        "honor": [e for e in entries if e.side == "honor"],
        "warning": [e for e in entries if e.side == "warning"],
        "can_change": can_change,
        "badge": BOARD_BADGE.get(board.status, ""),
        "remove_form": ReasonForm(label="移出原因"),
        "decide_form": DecideForm(labels=("申诉成立，移出黑榜", "申诉不成立，维持"), note_required=True),
        "today": periods.local_today(),
    }
    return _render(request, "points/board_detail.html", context)


def _board_action(request, pk, fn, done_text):
    user = request.user
    board = selectors.board_get(user=user, pk=pk)
    back = reverse("points:board_detail", args=[board.pk])
    try:
        fn(actor=user, board=board)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        if request.htmx:
            return HttpResponse(error_text(exc), status=409)
        return redirect(back)
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc) or "无权操作")
    return _done(request, back, done_text)


@staff_view("points.change_redblacklist")
@require_POST
def board_approve(request, pk: int):
    return _board_action(request, pk, services.list_approve, "已审定。发布后将在村公示栏和群众服务页面公示。")


@staff_view("points.change_redblacklist")
@require_POST
def board_publish(request, pk: int):
    return _board_action(
        request, pk, services.list_publish, f"已发布，公示 {services.PUBLICITY_DAYS} 天。黑榜对象可在公示后提出申诉。"
    )


@staff_view("points.change_redblacklist")
@require_POST
def entry_remove(request, pk: int):
    user = request.user
    entry = selectors.entry_of_board(user=user, pk=pk)
    back = reverse("points:board_detail", args=[entry.red_black_list_id])
    form = ReasonForm(request.POST, label="移出原因")
    if not form.is_valid():
        messages.error(request, "；".join(m for ms in form.errors.values() for m in ms))
        return redirect(back)
    try:
        services.list_entry_remove(actor=user, entry=entry, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    return _done(request, back, f"已将“{entry.account.name}”移出{'红榜' if entry.side == 'honor' else '黑榜'}。")


@staff_view("points.view_redblacklist")
@require_GET
def board_poster(request, pk: int):
    """A printable poster for the village notice board (A4 / A3 portrait): red side and
    black side; warning names masked (王**) unless a list editor asks for full names."""
    user = request.user
    board = selectors.board_get(user=user, pk=pk)
    size = "a3" if request.GET.get("size") == "a3" else "a4"
    full = request.GET.get("names") == "full" and can_in_area(user, "points.change_redblacklist", board.area_code)
    entries = list(selectors.board_entries(board).filter(removed=False))
    if board.status == "published":
        active = set(board.entries.filter(services.active_warnings_q()).values_list("pk", flat=True))
        entries = [e for e in entries if e.side == "honor" or e.pk in active]
    _entry_display(entries, masked_warnings=not full)
    context = {
        "board": board,
        "village": selectors.region_name(board.area_code),
        "township": selectors.region_name(board.area_code[:9]),
        "honor": [e for e in entries if e.side == "honor"],
        "warning": [e for e in entries if e.side == "warning"],
        "size": size,
        "full": full,
        "can_full": can_in_area(user, "points.change_redblacklist", board.area_code),
        "draft": board.status == "draft",
    }
    return _render(request, "points/poster.html", context)


@staff_view("points.change_redblacklist")
@require_GET
def appeal_list(request):
    user = request.user
    page = paginate_request(request, selectors.appeal_list(user=user), page_size=PAGE_SIZE, unit="件")
    labels = selectors.area_labels(a.entry.red_black_list.area_code for a in page.object_list)
    for a in page.object_list:
        a.area_label = labels.get(a.entry.red_black_list.area_code, "")
    form = DecideForm(labels=("申诉成立，移出黑榜", "申诉不成立，维持"), note_required=True)
    return _render(request, "points/appeal_list.html", {"page": page, "form": form})


@staff_view("points.change_redblacklist")
@require_POST
def appeal_decide(request, pk: int):
    user = request.user
    appeal = selectors.appeal_get(user=user, pk=pk)
    back = _next_url(request, reverse("points:appeal_list"))
    form = DecideForm(request.POST, labels=("申诉成立，移出黑榜", "申诉不成立，维持"), note_required=True)
    if not form.is_valid():
        messages.error(request, "；".join(m for ms in form.errors.values() for m in ms))
        return redirect(back)
    upheld = form.cleaned_data["upheld"] == "yes"
    try:
        services.appeal_decide(actor=user, appeal=appeal, upheld=upheld, decision=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    return _done(request, back, "申诉成立，已移出黑榜。" if upheld else "申诉不成立，维持上榜。")
