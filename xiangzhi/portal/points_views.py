"""Villagers' points pages (积分 · 振风超市 · 红黑榜) on the portal.

* logged-in villager, own household only (``restrict(user, "view")`` with the villager's
  OWN scope): my balance and ledger, the catalogue of my village's and township's shops,
  claiming an award with a photo, the publicity list of my village with objections, my
  list entries and appeals;
* public (no login): the published 红黑榜 of a village — honour names in full, warning
  names masked (王**), only warnings still in force.

Mounted by ``xiangzhi/portal/urls.py`` under ``points/``; the URL names live in the
``portal`` namespace (``portal:points_me`` …)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods

from xiangzhi.core import periods
from xiangzhi.core.views import login_required, public
from xiangzhi.org.selectors import public_region
from xiangzhi.points import converters, selectors, services
from xiangzhi.points.accounts import account_for_household
from xiangzhi.points.choices import AwardStatus, SubjectKind
from xiangzhi.points.forms import AppealForm, ClaimForm, ObjectionForm, apply_service_errors, error_text

NOT_LINKED = "您的登录账号还没有关联到户。请带身份证到村委会或联系网格员办理关联。"


def _page(request, template, context, status=200):
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


def _mine(request):
    """(household, account) of the logged-in villager; account may be None (no points yet)."""
    household = selectors.my_household(request.user)
    if household is None:
        return None, None
    account = selectors.accounts_for(request.user).filter(household=household).first()
    return household, account


def _not_linked(request):
    return _page(request, "portal/points/not_linked.html", {"message": NOT_LINKED})


def _int(raw):
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 10**18 else None


@login_required
@require_GET
def me(request):
    """我的积分: balance, total earned, awards under review, the ledger (newest first)."""
    household, account = _mine(request)
    if household is None:
        return _not_linked(request)
    entries, next_before, before = [], None, _int(request.GET.get("before"))
    if account is not None:
        entries, next_before = selectors.ledger_page(user=request.user, account=account, before=before, limit=30)
    pending = (
        list(
            selectors.award_list(user=request.user, account=account).filter(
                status__in=[AwardStatus.PROPOSED, AwardStatus.PUBLICIZING, AwardStatus.OBJECTED]
            )[:10]
        )
        if account
        else []
    )
    sources = selectors.sources_for(request.user, entries)
    for e in entries:
        e.source_obj = sources.get(e.source)
    context = {
        "household": household,
        "account": account,
        "entries": entries,
        "before": before,
        "next_before": next_before,
        "pending": pending,
        "tab": "me",
    }
    return _page(request, "portal/points/me.html", context)


@login_required
@require_GET
def shop_catalogue(request):
    """The 振风超市 catalogue of my village's and township's shops."""
    household, account = _mine(request)
    if household is None:
        return _not_linked(request)
    products = list(selectors.catalogue(household)[:300])
    shops: dict[int, dict] = {}
    for p in products:
        shops.setdefault(p.shop_id, {"shop": p.shop, "products": []})["products"].append(p)
    empty_shops = [s for s in selectors.catalogue_shops(household).order_by("area_code", "name") if s.pk not in shops]
    context = {
        "household": household,
        "balance": account.balance if account else 0,
        "shops": list(shops.values()),
        "empty_shops": empty_shops,
        "tab": "shop",
    }
    return _page(request, "portal/points/shop.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def claim(request):
    """申报积分: a villager claims an award for the household with a photo; it goes to the
    village review like any proposal."""
    household, account = _mine(request)
    if household is None:
        return _not_linked(request)
    rules = list(services.rules_for(household.area_code, SubjectKind.HOUSEHOLD).filter(points__gt=0))
    form = ClaimForm(
        request.POST or None, request.FILES or None, rules=rules, initial={"occurred_on": periods.local_today()}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                with transaction.atomic():
                    acc = account or account_for_household(household)
                    services.award_propose(
                        actor=request.user,
                        account=acc,
                        rule=d["rule"],
                        occurred_on=d["occurred_on"],
                        reason=d["reason"],
                        evidence=d.get("evidence"),
                        claimed=True,
                    )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or "只能为自己家申报")
                status = 403
            else:
                messages.success(request, "申报已提交，村评议小组评议通过并公示 3 天后记入积分。")
                return redirect("portal:points_me")
    return _page(
        request,
        "portal/points/claim.html",
        {"form": form, "household": household, "tab": "claim", "has_rules": bool(rules)},
        status=status,
    )


@login_required
@require_GET
def publicity(request):
    """本村公示: awards in their publicity period; anyone in the village may object."""
    household, _ = _mine(request)
    if household is None:
        return _not_linked(request)
    rows = list(selectors.village_publicity(household.village_code)[:200])
    return _page(request, "portal/points/publicity.html", {"household": household, "rows": rows, "tab": "publicity"})


@login_required
@require_http_methods(["GET", "POST"])
def object_award(request, pk: int):
    household, _ = _mine(request)
    if household is None:
        return _not_linked(request)
    award = get_object_or_404(selectors.village_awards(household.village_code), pk=pk)
    form = ObjectionForm(request.POST or None)
    form.fields.pop("name")
    context = {
        "award": award,
        "form": form,
        "household": household,
        "tab": "publicity",
        "open": award.status == AwardStatus.PUBLICIZING
        and award.publicity_until
        and award.publicity_until > timezone.now(),
    }
    if request.method == "GET":
        return _page(request, "portal/points/object.html", context)
    if not form.is_valid():
        return _page(request, "portal/points/object.html", context, status=400)
    try:
        objection = services.award_object(actor=request.user, award=award, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        context["error"] = error_text(exc)
        return _page(request, "portal/points/object.html", context, status=409 if "award" in exc.message_dict else 400)
    except PermissionDenied as exc:
        context["error"] = str(exc)
        return _page(request, "portal/points/object.html", context, status=403)
    messages.success(
        request, f"异议已提交，村里会调查核实。查询码：{objection.case.tracking_code}（可在“查询办理进度”中查询）。"
    )
    return redirect("portal:points_publicity")


@login_required
@require_GET
def my_lists(request):
    """我家的红黑榜记录, with the appeal (申诉) of a warning entry."""
    household, account = _mine(request)
    if household is None:
        return _not_linked(request)
    entries = list(selectors.my_list_entries(user=request.user, account=account))
    today = periods.local_today()
    for e in entries:
        e.appeal_rows = list(e.appeals.all())
        e.pending = any(a.status == "pending" for a in e.appeal_rows)
        e.active = e.side == "warning" and (e.expires_on is None or e.expires_on > today)
    return _page(request, "portal/points/lists.html", {"household": household, "entries": entries, "tab": "lists"})


@login_required
@require_http_methods(["GET", "POST"])
def appeal(request, pk: int):
    household, account = _mine(request)
    if household is None:
        return _not_linked(request)
    entry = selectors.my_list_entries(user=request.user, account=account).filter(pk=pk, side="warning").first()
    if entry is None:
        raise Http404
    form = AppealForm(request.POST or None)
    context = {"entry": entry, "form": form, "household": household, "tab": "lists"}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.appeal_file(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                context["error"] = error_text(exc)
                return _page(request, "portal/points/appeal.html", context, status=409)
            except PermissionDenied as exc:
                context["error"] = str(exc)
                return _page(request, "portal/points/appeal.html", context, status=403)
            messages.success(request, "申诉已提交，村里会在核实后答复。")
            return redirect("portal:points_my_lists")
        return _page(request, "portal/points/appeal.html", context, status=400)
    return _page(request, "portal/points/appeal.html", context)


@public
@require_GET
def village_lists(request, village_code: str):
    """The published 红黑榜 of a village (public): honour names in full, warning names
    masked, only warnings still in force."""
    village = public_region(village_code)
    if village is None or village.level != "village":
        raise Http404("没有这个村")
    boards = list(selectors.public_boards(village.code)[:24])
    wanted = _int(request.GET.get("list"))
    board = next((b for b in boards if b.pk == wanted), None) if wanted else (boards[0] if boards else None)
    if wanted and board is None:
        raise Http404
    entries = list(selectors.public_entries(board)) if board else []
    for e in entries:
        e.display = selectors.public_name(e.account, masked=e.side == "warning")
    township = public_region(village.code[:9])
    context = {
        "village": village,
        "township": township.name if township else "",
        "boards": boards,
        "board": board,
        "honor": [e for e in entries if e.side == "honor"],
        "warning": [e for e in entries if e.side == "warning"],
    }
    response = render(request, "portal/points/village_lists.html", context)
    response["Cache-Control"] = "public, max-age=300"
    return response


assert converters.IdConverter  # registers the points_id converter
VILLAGE = r"(?P<village_code>[0-9]{12})"
urlpatterns = [
    path("me/", me, name="points_me"),
    path("me/shop/", shop_catalogue, name="points_shop"),
    path("me/claim/", claim, name="points_claim"),
    path("me/publicity/", publicity, name="points_publicity"),
    path("me/publicity/<points_id:pk>/object/", object_award, name="points_object"),
    path("me/lists/", my_lists, name="points_my_lists"),
    path("me/lists/<points_id:pk>/appeal/", appeal, name="points_appeal"),
    re_path(rf"^{VILLAGE}/lists/$", village_lists, name="points_village_lists"),
]
