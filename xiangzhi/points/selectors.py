"""Every read of the points module, scoped by ``restrict(user, action)``.

Out of scope → ``Http404`` (via ``get_object_or_404``); nothing here decides 403 — views do
that from ``has_perm`` before they read. Catalogue-like rows that lower levels must see (the
township's rulebook and shops) are read through the explicit ``include_ancestors`` paths
below (DESIGN.md §4). Lists are ordered on indexed columns and paginated by the caller;
the ledger is read by keyset (``id < before``), so a household with millions of entries
costs the same as one with ten."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404

from xiangzhi.core.scoping import scopes_for
from xiangzhi.org.models import Region

from . import services
from .choices import AwardStatus
from .models import (
    Account,
    Appeal,
    Award,
    LedgerEntry,
    ListEntry,
    Objection,
    PointRule,
    Product,
    RedBlackList,
    Redemption,
    Rulebook,
    Shop,
)

LEDGER_PAGE = 50


# --- areas ----------------------------------------------------------------------------------
def area_prefixes(user, perm: str) -> list[str]:
    """Area prefixes where ``perm`` is granted (area scope only; own-household scopes are
    for the villagers' portal)."""
    return scopes_for(user, perm)[0]


def _prefix_q(field: str, prefixes) -> Q:
    q = Q()
    for p in prefixes:
        q |= Q(**{f"{field}__startswith": p})
    return q


def areas(user, perm: str = "points.view_account", *, levels=("village", "grid")) -> list[dict]:
    """Regions inside the user's ``perm`` scope with labels. Two queries at most."""
    prefixes = area_prefixes(user, perm)
    if not prefixes:
        return []
    rows = list(
        Region.objects.filter(_prefix_q("code", prefixes), level__in=levels, is_active=True)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    names = {code: name for code, name, level in rows if level in ("village", "township")}
    missing = {code[:12] for code, _, level in rows if level == "grid" and code[:12] not in names}
    if missing:
        names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    out = []
    for code, name, level in rows:
        village = code[:12]
        label = name
        if level == "grid":
            label = f"{names.get(village, village)} · {name}"
        out.append({"code": code, "name": name, "level": level, "village_code": village, "label": label})
    return out


def villages(user, perm: str = "points.view_account") -> list[dict]:
    return areas(user, perm, levels=("village",))


def area_labels(codes) -> dict[str, str]:
    """{area_code: "刘冲村 · 第一网格"} for a page of rows — one query."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    wanted = {c[:12] for c in codes} | {c for c in codes if len(c) > 12} | {c[:9] for c in codes}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    out = {}
    for c in codes:
        if len(c) <= 9:
            out[c] = names.get(c, c)
        elif len(c) > 12:
            out[c] = f"{names.get(c[:12], c[:12])} · {names.get(c, c)}"
        else:
            out[c] = names.get(c, c)
    return out


def region_name(code: str) -> str:
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code


def _with_ancestors(prefixes) -> set[str]:
    """The township (and village) codes above each prefix: the catalogue path."""
    out = set()
    for p in prefixes:
        for n in (9, 12):
            if len(p) > n:
                out.add(p[:n])
    return out


# --- rulebooks ----------------------------------------------------------------------------
def rulebooks_for(user):
    """Rulebooks in scope plus those of the townships (and villages) above the user's areas
    (a village reads its township's rules)."""
    prefixes = area_prefixes(user, "points.view_rulebook")
    if not prefixes:
        return Rulebook.objects.none()
    return Rulebook.objects.filter(_prefix_q("area_code", prefixes) | Q(area_code__in=_with_ancestors(prefixes)))


def rulebook_get(*, user, pk) -> Rulebook:
    return get_object_or_404(rulebooks_for(user), pk=pk)


def rule_areas(user, perm: str = "points.view_rulebook") -> list[dict]:
    """Townships and villages whose rules the user may read (or, with ``points.add_rulebook``,
    adopt)."""
    prefixes = area_prefixes(user, perm)
    if not prefixes:
        return []
    if perm == "points.view_rulebook":
        cond = _prefix_q("code", prefixes) | Q(code__in=_with_ancestors(prefixes))
    else:
        cond = _prefix_q("code", prefixes)
    rows = list(
        Region.objects.filter(cond, level__in=("township", "village"), is_active=True)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    townships = {code: name for code, name, level in rows if level == "township"}
    missing = {code[:9] for code, _, level in rows if level == "village" and code[:9] not in townships}
    if missing:
        townships.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    return [
        {
            "code": code,
            "name": name,
            "level": level,
            "label": name if level == "township" else f"{townships.get(code[:9], code[:9])} · {name}",
        }
        for code, name, level in rows
    ]


def citable_rules(user, *, subject_kind: str, perm: str = "points.add_award"):
    """Current rules a proposer may cite: the township books above the user's area plus the
    village additions inside it (``services.rules_for`` over every village of the scope).
    The service still checks that the rule applies to the chosen subject's village."""
    prefixes = area_prefixes(user, perm)
    if not prefixes:
        return PointRule.objects.none()
    cond = Q(rulebook__area_code__in=_with_ancestors(prefixes)) | _prefix_q("rulebook__area_code", prefixes)
    return (
        PointRule.objects.filter(cond, rulebook__is_current=True, is_active=True, subject_kind=subject_kind)
        .select_related("rulebook")
        .order_by("rulebook__area_code", "code")
    )


def rules_for_account(account: Account):
    """The rules that apply to one account (township book + its village's additions)."""
    return services.rules_for(account.area_code, account.subject_kind)


# --- accounts and ledger ---------------------------------------------------------------------
def accounts_for(user, action: str = "view"):
    return Account.objects.restrict(user, action)


def account_list(*, user, subject_kind: str = "", area_code: str = "", q: str = ""):
    """Accounts in scope, richest first. ``q``: a household member's name / pinyin /
    initials / household number / last 4 ID digits, a party member's name, or a cadre's
    name."""
    from xiangzhi.residents import selectors as registry

    qs = accounts_for(user)
    if subject_kind:
        qs = qs.filter(subject_kind=subject_kind)
    if area_code:
        qs = qs.filter(area_code__startswith=area_code)
    q = (q or "").strip()
    if q:
        households = registry.household_list(user=user, q=q, area_code=area_code).values("pk")
        residents = registry.resident_list(user=user, q=q, area_code=area_code).values("pk")
        qs = qs.filter(Q(household_id__in=households) | Q(resident_id__in=residents) | Q(name__startswith=q))
    return qs.order_by("-balance", "id")


def account_get(*, user, pk) -> Account:
    return get_object_or_404(accounts_for(user).select_related("household", "resident", "cadre_user"), pk=pk)


def account_of_household(*, user, household) -> Account | None:
    return accounts_for(user).filter(household=household).first()


def ledger_page(*, user, account: Account, before: int | None = None, limit: int = LEDGER_PAGE):
    """One page of an account's entries, newest first: ``(rows, next_before)``. Keyset on
    the (account, id) index: ``WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT n``."""
    qs = LedgerEntry.objects.restrict(user, "view").filter(account_id=account.pk)
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs.select_related("actor").order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].pk if more and rows else None)


def entry_get(*, user, pk, action: str = "view") -> LedgerEntry:
    return get_object_or_404(LedgerEntry.objects.restrict(user, action).select_related("account"), pk=pk)


def sources_for(user, entries) -> dict[str, object]:
    """The award / redemption behind each entry's ``source`` — one query each kind."""
    award_ids, redemption_ids = set(), set()
    for e in entries:
        kind, _, ref = e.source.partition(":")
        if ref.isdigit():
            if kind == "award":
                award_ids.add(int(ref))
            elif kind == "redemption":
                redemption_ids.add(int(ref))
    out: dict[str, object] = {}
    if award_ids:
        for a in Award.objects.restrict(user, "view").filter(pk__in=award_ids).select_related("rule"):
            out[f"award:{a.pk}"] = a
    if redemption_ids:
        for r in Redemption.objects.restrict(user, "view").filter(pk__in=redemption_ids).select_related("shop"):
            out[f"redemption:{r.pk}"] = r
    return out


# --- awards -------------------------------------------------------------------------------
def awards_for(user, action: str = "view"):
    return Award.objects.restrict(user, action)


def award_list(*, user, status: str = "", area_code: str = "", subject_kind: str = "", account=None):
    qs = awards_for(user)
    if status:
        qs = qs.filter(status=status)
    if area_code:
        qs = qs.filter(area_code__startswith=area_code)
    if subject_kind:
        qs = qs.filter(account__subject_kind=subject_kind)
    if account is not None:
        qs = qs.filter(account=account)
    order = ["publicity_until", "id"] if status == AwardStatus.PUBLICIZING else ["-created_at", "-id"]
    return qs.select_related("account", "rule__rulebook", "proposed_by", "reviewed_by").order_by(*order)


def award_get(*, user, pk, action: str = "view") -> Award:
    qs = awards_for(user, action).select_related(
        "account", "rule__rulebook", "proposed_by", "reviewed_by", "activity", "posted_entry"
    )
    return get_object_or_404(qs, pk=pk)


def objections_for(user):
    return Objection.objects.filter(award__in=awards_for(user).values("pk"))


def objection_list(*, user, pending_only: bool = True):
    qs = objections_for(user)
    if pending_only:
        qs = qs.filter(upheld__isnull=True)
    return qs.select_related("award__account", "award__rule", "case", "raised_by").order_by("-created_at", "-id")


def objection_get(*, user, pk) -> Objection:
    return get_object_or_404(objections_for(user).select_related("award__account", "award__rule", "case"), pk=pk)


# --- shops ------------------------------------------------------------------------------------
def shops_for(user):
    """Shops in scope plus the township shops above a village user (a township shop serves
    its villages)."""
    prefixes = area_prefixes(user, "points.view_shop")
    if not prefixes:
        return Shop.objects.none()
    return Shop.objects.filter(_prefix_q("area_code", prefixes) | Q(area_code__in=_with_ancestors(prefixes)))


def shop_get(*, user, pk) -> Shop:
    return get_object_or_404(shops_for(user).select_related("keeper"), pk=pk)


def kept_shops(user):
    """Shops the user may run the counter of: their own, or any in an area where they hold
    ``points.change_shop``."""
    change = area_prefixes(user, "points.change_shop")
    return shops_for(user).filter(Q(keeper_id=user.pk) | _prefix_q("area_code", change)).filter(is_active=True)


def can_keep(user, shop: Shop) -> bool:
    if shop.keeper_id == user.pk:
        return True
    return any(shop.area_code.startswith(p) for p in area_prefixes(user, "points.change_shop"))


def products_of(shop: Shop, *, active_only: bool = False):
    qs = Product.objects.filter(shop=shop)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name", "id")


def low_stock(*, user):
    from django.db.models import F

    return (
        Product.objects.filter(shop__in=shops_for(user).values("pk"), is_active=True, stock__lte=F("low_stock"))
        .select_related("shop")
        .order_by("stock", "shop_id", "name")
    )


def redemptions_for(user):
    return Redemption.objects.restrict(user, "view")


def redemption_list(*, user, shop: Shop | None = None, account: Account | None = None):
    qs = redemptions_for(user)
    if shop is not None:
        qs = qs.filter(shop=shop)
    if account is not None:
        qs = qs.filter(account=account)
    return qs.select_related("account", "keeper", "shop").order_by("-created_at", "-id")


def redemption_get(*, user, pk) -> Redemption:
    qs = redemptions_for(user).select_related("shop", "account__household", "keeper")
    return get_object_or_404(qs, pk=pk)


# --- 红黑榜 -------------------------------------------------------------------------------------
def boards_for(user, action: str = "view"):
    """Lists in scope; for reading, also the *published* lists of the village above a grid
    post (they hang on the village notice board anyway)."""
    qs = RedBlackList.objects.restrict(user, action)
    if action != "view":
        return qs
    above = {p[:12] for p in area_prefixes(user, "points.view_redblacklist") if len(p) > 12}
    if not above:
        return qs
    return RedBlackList.objects.filter(Q(pk__in=qs.values("pk")) | Q(area_code__in=above, status="published"))


def board_list(*, user, area_code: str = "", subject_kind: str = ""):
    qs = boards_for(user)
    if area_code:
        qs = qs.filter(area_code__startswith=area_code[:12])
    if subject_kind:
        qs = qs.filter(subject_kind=subject_kind)
    return qs.select_related("approved_by").order_by("-period_start", "area_code", "id")


def board_get(*, user, pk) -> RedBlackList:
    return get_object_or_404(boards_for(user).select_related("approved_by"), pk=pk)


def board_entries(board: RedBlackList):
    return board.entries.select_related("account__household").order_by("side", "rank", "id")


def entry_of_board(*, user, pk) -> ListEntry:
    return get_object_or_404(
        ListEntry.objects.filter(red_black_list__in=boards_for(user).values("pk")).select_related(
            "red_black_list", "account"
        ),
        pk=pk,
    )


def appeals_for(user):
    return Appeal.objects.filter(entry__red_black_list__in=boards_for(user).values("pk"))


def appeal_list(*, user, pending_only: bool = True):
    qs = appeals_for(user)
    if pending_only:
        qs = qs.filter(status="pending")
    return qs.select_related("entry__account", "entry__red_black_list", "filed_by").order_by("created_at", "id")


def appeal_get(*, user, pk) -> Appeal:
    return get_object_or_404(appeals_for(user).select_related("entry__account", "entry__red_black_list"), pk=pk)


# --- subjects (party members, cadres) -------------------------------------------------------
PARTY_TAG = "party_member"


def party_members(*, user, q: str = "", area_code: str = ""):
    from xiangzhi.residents import selectors as registry

    return registry.resident_list(user=user, q=q, area_code=area_code, tag=PARTY_TAG).filter(status="active")


def cadres(*, user, q: str = "", perm: str = "points.add_award"):
    """People holding a staff post inside (or above) the user's area: the cadres whose
    积分管理 accounts the user may keep."""
    from xiangzhi.accounts.models import User
    from xiangzhi.org.models import Assignment
    from xiangzhi.org.roles import ROLES

    prefixes = area_prefixes(user, perm)
    if not prefixes:
        return User.objects.none()
    staff_roles = [c for c, r in ROLES.items() if r.staff and c not in ("auditor", "bank_officer", "shop_keeper")]
    posts = Assignment.objects.filter(_prefix_q("area_code", prefixes), role__in=staff_roles).values("user_id")
    qs = User.objects.filter(pk__in=posts, is_active=True)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(full_name__startswith=q) | Q(username__startswith=q))
    return qs.order_by("full_name", "username")


def cadre_area(user_id: int, prefixes) -> str:
    from xiangzhi.org.models import Assignment

    codes = list(
        Assignment.objects.filter(user_id=user_id)
        .filter(_prefix_q("area_code", prefixes))
        .values_list("area_code", flat=True)
    )
    return sorted(codes, key=len)[0] if codes else ""


# --- the villagers' portal ---------------------------------------------------------------------
def my_household(user):
    """The household the logged-in villager belongs to (through their own resident record),
    within their own-household scope; ``None`` when the account is not linked."""
    from xiangzhi.residents import selectors as registry

    if not getattr(user, "is_authenticated", False):
        return None
    return registry.households_for(user).filter(members__user=user).order_by("id").first()


def catalogue_shops(household):
    """The shops serving a household: its village's and its township's (the catalogue path
    — what any villager there may see)."""
    return Shop.objects.filter(area_code__in=[household.area_code[:12], household.area_code[:9]], is_active=True)


def catalogue(household):
    return (
        Product.objects.filter(shop__in=catalogue_shops(household).values("pk"), is_active=True)
        .select_related("shop")
        .order_by("shop__area_code", "shop_id", "price", "name")
    )


def village_publicity(village_code: str, now=None):
    """Awards in their publicity period (公示) in one village: public to the village by
    design — the point of 公示 is that neighbours can object."""
    from django.utils import timezone

    now = now or timezone.now()
    return (
        Award.objects.filter(
            area_code__startswith=village_code, status=AwardStatus.PUBLICIZING, publicity_until__gt=now
        )
        .select_related("account", "rule")
        .order_by("publicity_until", "id")
    )


def village_awards(village_code: str):
    """Awards of one village as its villagers may see them for an objection: only those
    that are or were publicised (never proposals under review or rejected ones)."""
    return Award.objects.filter(
        area_code__startswith=village_code,
        status__in=[AwardStatus.PUBLICIZING, AwardStatus.OBJECTED, AwardStatus.POSTED],
        publicity_until__isnull=False,
    ).select_related("account", "rule")


def my_list_entries(*, user, account):
    if account is None:
        return ListEntry.objects.none()
    return (
        ListEntry.objects.filter(
            account__in=accounts_for(user).filter(pk=account.pk).values("pk"),
            red_black_list__status="published",
            removed=False,
        )
        .select_related("red_black_list")
        .prefetch_related("appeals")
        .order_by("-red_black_list__period_start", "side", "id")
    )


def public_name(account, *, masked: bool = False) -> str:
    """A subject's name as a list shows it: ``王秀英户``, or masked ``王**户`` (the given
    name hidden, DESIGN.md §4 personal data)."""
    from xiangzhi.core.masking import mask_name

    if not masked:
        return account.name
    if account.household_id:
        head = account.household.head_name if account.household else ""
        return f"{mask_name(head or account.name.removesuffix('户'))}户"
    return mask_name(account.name)


def public_boards(village_code: str):
    """Published lists of a village (the public portal)."""
    return RedBlackList.objects.filter(area_code=village_code, status="published").order_by(
        "-period_start", "subject_kind", "id"
    )


def public_entries(board: RedBlackList):
    """What the public sees of a published list: honour entries not removed, and only the
    warnings still in force (``services.active_warnings_q``)."""
    honor = board.entries.filter(side="honor", removed=False)
    warning = board.entries.filter(services.active_warnings_q())
    return (honor | warning).select_related("account__household").order_by("side", "rank", "id")
