"""Points API under /api/v1/points: accounts and their ledgers, the rulebook, awards with
review and objections, the 振风超市 catalogue and redemptions, the 红黑榜.

Every read goes through ``xiangzhi.points.selectors`` (``restrict(user, action)``), every
write through ``services`` / ``shop``. A role without the permission gets 403, an object
(or area) outside the user's scope 404, bad input 400/422 with Chinese field messages, a
state conflict (already reviewed, publicity over, an idempotency key reused with another
body) 409 ``{"detail": …}``.

``POST /points/redemptions`` requires an ``Idempotency-Key`` header: the same key with the
same body answers the same redemption (201, ``Idempotent-Replayed: true``) and debits
nothing again; the same key with another body is a 409. Keys are per user.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Header, Path, Query, Router, Status, UploadedFile
from ninja.errors import HttpError

from xiangzhi.core import periods
from xiangzhi.core.api import MAX_ID, READ_ERRORS, WRITE_ERRORS, ErrorOut, paginate, require_perm

from . import ledger, selectors, services
from . import shop as shop_services
from .choices import AwardStatus, EntryKind, RedemptionStatus, SubjectKind
from .models import Account, LedgerEntry, PointRule, Product, RedBlackList, Redemption
from .schemas import (
    YEARS,
    AccountDetailOut,
    AccountFilters,
    AccountPage,
    AwardDetailOut,
    AwardFilters,
    AwardPage,
    AwardProposeIn,
    BoardDetailOut,
    BoardPage,
    Catalogue,
    CatalogueFilters,
    IdempotencyKey,
    LedgerFilters,
    LedgerPage,
    ListFilters,
    ObjectIn,
    ObjectionOut,
    RedemptionIn,
    RedemptionOut,
    ReviewIn,
    RuleFilters,
    RuleList,
)

router = Router(tags=["积分制（振风超市·红黑榜）"])

PK = {"ge": 1, "le": MAX_ID, "description": "编号"}
NOT_IN_SCOPE = "对象不存在或不在管辖范围内"
OUT_OF_AREA = "区域不存在或不在您的管辖范围内"
NOT_LINKED = "您的账号尚未关联本户档案，请联系村里"
KEY_CONFLICT = "该幂等键已用于另一笔不同的兑换请求，未重复扣分；请换一个新的幂等键"
CONFLICT_KEYS = ("status", "award", "objection", "appeal", "redemption", "entry")
BOARD_STATUS = dict(RedBlackList.STATUS)
BODY_READ_ERRORS = {400: ErrorOut, **READ_ERRORS}


# --- helpers -------------------------------------------------------------------------------
def _name(user) -> str | None:
    return user.display_name if user is not None else None


def _service(fn, **kwargs):
    """Run a service; a state conflict is a 409, other bad input stays a 400."""
    try:
        return fn(**kwargs)
    except ledger.IdempotencyConflict as exc:
        raise HttpError(409, exc.message)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and any(k in CONFLICT_KEYS for k in exc.message_dict):
            raise HttpError(409, next(iter(exc.messages), "当前状态不允许此操作"))
        raise


def _check_day(field: str, day) -> None:
    if day is not None and not YEARS[0] <= day.year <= YEARS[1]:
        raise ValidationError({field: f"日期应在 {YEARS[0]} 年至 {YEARS[1]} 年之间"})


def _is_staff(user, perm: str) -> bool:
    return bool(selectors.area_prefixes(user, perm))


# --- accounts ------------------------------------------------------------------------------
def _account_out(a: Account) -> dict:
    return {
        "id": a.pk,
        "subject_kind": a.subject_kind,
        "subject_kind_label": SubjectKind(a.subject_kind).label,
        "name": a.name,
        "area_code": a.area_code,
        "balance": a.balance,
        "earned_total": a.earned_total,
        "household": a.household_id,
        "updated_at": a.updated_at,
    }


@router.get("/accounts", response={200: AccountPage, **READ_ERRORS}, summary="积分账户列表")
def account_list(request, filters: Query[AccountFilters]):
    """管辖范围内的积分账户（农户、党员、干部），余额高的在前；村民只看到本户账户。"""
    require_perm(request, "points.view_account")
    qs = selectors.account_list(
        user=request.auth, subject_kind=filters.subject_kind or "", area_code=filters.area_code, q=filters.q
    )
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    return {"items": [_account_out(a) for a in rows], **meta}


@router.get("/accounts/{account_id}", response={200: AccountDetailOut, **READ_ERRORS}, summary="积分账户详情")
def account_detail(request, account_id: Path[int, PK]):
    """余额、累计获得、累计兑换、流水笔数。"""
    require_perm(request, "points.view_account")
    a = selectors.account_get(user=request.auth, pk=account_id)
    redeemed = a.redemptions.filter(status=RedemptionStatus.DONE).aggregate(s=Sum("total"))["s"] or 0
    labels = selectors.area_labels([a.area_code])
    return {
        **_account_out(a),
        "household_number": a.household.number if a.household_id else "",
        "area_name": labels.get(a.area_code, a.area_code),
        "redeemed_total": redeemed,
        "entry_count": a.entries.count(),
    }


LEDGER_FIELDS = ("id", "kind", "amount", "balance_after", "source", "note", "reverses_id", "actor_id",
                 "actor__full_name", "actor__username", "created_at")  # fmt: skip
KIND_LABELS = dict(EntryKind.choices)


@router.get("/accounts/{account_id}/ledger", response={200: LedgerPage, **READ_ERRORS}, summary="积分流水")
def account_ledger(request, account_id: Path[int, PK], filters: Query[LedgerFilters]):
    """按时间倒序的流水（键集翻页：下一页带上 ``before=<next_before>``）。每笔都有变动后的余额。"""
    # The busiest read of the module: plain rows rendered straight to JSON in the declared
    # ``LedgerPage`` shape (test_api_flows checks the shape), skipping the per-item pydantic
    # round trip — 1.3× a bare view of the same query instead of 1.7× (benchmarks/points.py).
    require_perm(request, "points.view_ledgerentry")
    user = request.auth
    account = selectors.accounts_for(user).filter(pk=account_id).values("pk", "balance").first()
    if account is None:
        raise Http404(NOT_IN_SCOPE)
    # The keyset page of ``selectors.ledger_page`` (scoped by restrict, on the (account, id)
    # index) as plain rows: a page costs the same at 5M entries (benchmarks/points.py).
    qs = LedgerEntry.objects.restrict(user, "view").filter(account_id=account["pk"])
    if filters.before:
        qs = qs.filter(id__lt=filters.before)
    rows = list(qs.order_by("-id").values(*LEDGER_FIELDS)[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    staff = _is_staff(user, "points.view_ledgerentry")
    page = {
        "account": account["pk"],
        "balance": account["balance"],
        "items": [
            {
                "id": e["id"],
                "kind": e["kind"],
                "kind_label": KIND_LABELS.get(e["kind"], e["kind"]),
                "amount": e["amount"],
                "balance_after": e["balance_after"],
                "source": e["source"],
                "note": e["note"],
                "reverses": e["reverses_id"],
                "actor": (e["actor__full_name"] or e["actor__username"]) if staff and e["actor_id"] else None,
                "created_at": e["created_at"],
            }
            for e in rows
        ],
        "next_before": rows[-1]["id"] if more and rows else None,
    }
    return JsonResponse(page, content_type="application/json; charset=utf-8")


# --- rules ---------------------------------------------------------------------------------
@router.get("/rules", response={200: RuleList, **READ_ERRORS}, summary="现行积分规则")
def rule_list(request, filters: Query[RuleFilters]):
    """某区域现在可以引用的规则：乡镇现行规则加上该村的补充规则（村里可读乡镇的规则）。"""
    require_perm(request, "points.view_rulebook")
    area = filters.area_code
    prefixes = selectors.area_prefixes(request.auth, "points.view_rulebook")
    if not any(area.startswith(p) or p.startswith(area) for p in prefixes):
        raise Http404(OUT_OF_AREA)
    rules = services.rules_for(area, filters.subject_kind or None)
    return {
        "area_code": area,
        "items": [
            {
                "id": r.pk,
                "code": r.code,
                "name": r.name,
                "category": r.category,
                "points": r.points,
                "subject_kind": r.subject_kind,
                "evidence_required": r.evidence_required,
                "cap": r.cap,
                "cap_period": r.cap_period,
                "feeds": r.feeds,
                "rulebook": r.rulebook_id,
                "rulebook_area_code": r.rulebook.area_code,
                "rulebook_title": r.rulebook.title,
                "rulebook_version": r.rulebook.version,
                "adopted_on": r.rulebook.adopted_on,
                "adopted_by": r.rulebook.adopted_by,
                "votes": f"{r.rulebook.votes_for}/{r.rulebook.votes_total}",
            }
            for r in rules
        ],
    }


# --- awards --------------------------------------------------------------------------------
def _award_out(a) -> dict:
    return {
        "id": a.pk,
        "account": {"id": a.account_id, "name": a.account.name},
        "area_code": a.area_code,
        "rule": {
            "id": a.rule_id,
            "code": a.rule.code,
            "name": a.rule.name,
            "category": a.rule.category,
            "rulebook_version": a.rule.rulebook.version,
        },
        "points": a.points,
        "occurred_on": a.occurred_on,
        "reason": a.reason,
        "status": a.status,
        "status_label": AwardStatus(a.status).label,
        "claimed": a.claimed,
        "has_evidence": bool(a.evidence),
        "activity": a.activity.name if a.activity_id else "",
        "proposed_by": _name(a.proposed_by),
        "reviewed_by": _name(a.reviewed_by),
        "reviewed_at": a.reviewed_at,
        "review_note": a.review_note,
        "publicity_until": a.publicity_until,
        "posted_entry": a.posted_entry_id,
        "created_at": a.created_at,
    }


def _objection_out(o) -> dict:
    return {
        "id": o.pk,
        "award": o.award_id,
        "reason": o.reason,
        "case_tracking_code": o.case.tracking_code if o.case_id else "",
        "upheld": o.upheld,
        "created_at": o.created_at,
    }


def _award_detail(user, award_id: int) -> dict:
    award = selectors.award_get(user=user, pk=award_id)
    objections = award.objections.select_related("case").order_by("created_at", "id")
    return {**_award_out(award), "objections": [_objection_out(o) for o in objections]}


@router.get("/awards", response={200: AwardPage, **READ_ERRORS}, summary="积分申报列表")
def award_list(request, filters: Query[AwardFilters]):
    """管辖范围内的加分、扣分申报；``status=proposed`` 为待评议队列，``publicizing`` 为公示中（先到期的在前）。"""
    require_perm(request, "points.view_award")
    user = request.auth
    qs = selectors.award_list(
        user=user,
        status=filters.status or "",
        area_code=filters.area_code,
        subject_kind=filters.subject_kind or "",
    ).select_related("activity")
    if filters.account:
        qs = qs.filter(account_id=filters.account)
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    return {"items": [_award_out(a) for a in rows], **meta}


@router.post("/awards", response={201: AwardDetailOut, **WRITE_ERRORS}, summary="申报加分或扣分")
def award_propose(request, payload: AwardProposeIn):
    """村干部或网格员按现行规则为某户（党员、干部）申报；须经村评议小组评议、公示后入账。
    需要佐证照片的规则用 ``POST /awards/with-evidence``（multipart，附照片）。"""
    return _propose(request, payload)


@router.post("/awards/with-evidence", response={201: AwardDetailOut, **WRITE_ERRORS},
             summary="申报加分或扣分（附佐证照片）")
def award_propose_with_evidence(request, payload: Form[AwardProposeIn], evidence: File[UploadedFile]):
    """multipart/form-data：字段同 ``POST /awards``（account、rule、occurred_on、reason），另加
    ``evidence``：佐证照片（JPG、PNG 或 WEBP，按内容识别，不超过 10 MB）。"""
    return _propose(request, payload, evidence=evidence)


def _propose(request, payload: AwardProposeIn, evidence=None):
    require_perm(request, "points.add_award")
    user = request.auth
    _check_day("occurred_on", payload.occurred_on)
    account = selectors.accounts_for(user).filter(pk=payload.account).first()
    if account is None:
        raise Http404(NOT_IN_SCOPE)
    rule = (
        PointRule.objects.select_related("rulebook")
        .filter(pk=payload.rule, rulebook__area_code__in=[account.area_code[:9], account.area_code[:12]])
        .first()
    )
    if rule is None:
        raise ValidationError({"rule": "规则不存在或不适用于该账户所在的村"})
    award = _service(
        services.award_propose,
        actor=user,
        account=account,
        rule=rule,
        occurred_on=payload.occurred_on,
        reason=payload.reason,
        evidence=evidence,
    )
    return Status(201, _award_detail(user, award.pk))


@router.get("/awards/{award_id}", response={200: AwardDetailOut, **READ_ERRORS}, summary="申报详情")
def award_detail(request, award_id: Path[int, PK]):
    """申报、评议、公示与异议（异议转成的事项查询码）。"""
    require_perm(request, "points.view_award")
    return _award_detail(request.auth, award_id)


@router.post("/awards/{award_id}/review", response={200: AwardDetailOut, **WRITE_ERRORS}, summary="评议")
def award_review(request, award_id: Path[int, PK], payload: ReviewIn):
    """村评议小组：通过 → 公示 3 天；不通过须说明理由。已评议过的申报为 409。"""
    require_perm(request, "points.review_award")
    user = request.auth
    award = selectors.award_get(user=user, pk=award_id, action="review")
    _service(services.award_review, actor=user, award=award, approve=payload.approve, note=payload.note)
    return _award_detail(user, award.pk)


def _objectable(user, award_id: int):
    """Awards the user may object to: those in their scope, and — for a villager — the
    publicised awards of their own village (公示 is public to the village)."""
    award = selectors.awards_for(user).filter(pk=award_id).select_related("rule", "account").first()
    if award is not None:
        return award
    household = selectors.my_household(user)
    if household is not None:
        award = selectors.village_awards(household.village_code).filter(pk=award_id).first()
    if award is None:
        raise Http404(NOT_IN_SCOPE)
    return award


@router.post("/awards/{award_id}/object", response={201: ObjectionOut, **WRITE_ERRORS}, summary="公示期内提出异议")
def award_object(request, award_id: Path[int, PK], payload: ObjectIn):
    """公示期内本村任何人可提出异议；异议转为一件事项（加分为急难愁盼、扣分为矛盾纠纷），
    响应中的 ``case_tracking_code`` 可用于查询办理进度。公示期已过为 409。"""
    require_perm(request, "points.view_award")
    user = request.auth
    award = _objectable(user, award_id)
    objection = _service(services.award_object, actor=user, award=award, reason=payload.reason, name=payload.name)
    return Status(201, _objection_out(objection))


# --- shop ----------------------------------------------------------------------------------
def _serving(area: str) -> Q:
    """Shops that serve ``area``: those of the township/village above it, and those inside."""
    ancestors = [area[:n] for n in (9, 12) if len(area) >= n]
    return Q(area_code__in=ancestors) | Q(area_code__startswith=area)


@router.get("/catalogue", response={200: Catalogue, **READ_ERRORS}, summary="振风超市商品目录")
def catalogue(request, filters: Query[CatalogueFilters]):
    """服务某区域的超市（村超市和乡镇超市）及在售商品、所需积分和库存。村民不填区域时为本户所在村。"""
    user = request.auth
    area = filters.area_code
    prefixes = selectors.area_prefixes(user, "points.view_shop")
    if prefixes:
        if area:
            if not any(area.startswith(p) or p.startswith(area) for p in prefixes):
                raise Http404(OUT_OF_AREA)
            shops = selectors.shops_for(user).filter(_serving(area))
        else:
            shops = selectors.shops_for(user)
    else:
        if not has_own_points(user):
            require_perm(request, "points.view_shop")  # 403: neither staff nor villager
        household = selectors.my_household(user)
        if household is None:
            raise PermissionDenied(NOT_LINKED)
        if area and not household.area_code.startswith(area):
            raise Http404(OUT_OF_AREA)
        shops = selectors.catalogue_shops(household)
    shops = list(shops.filter(is_active=True).order_by("area_code", "id")[:100])
    by_shop: dict[int, list] = {s.pk: [] for s in shops}
    for p in Product.objects.filter(shop_id__in=list(by_shop), is_active=True).order_by("shop_id", "price", "name"):
        by_shop[p.shop_id].append(
            {
                "id": p.pk,
                "name": p.name,
                "unit": p.unit,
                "price": p.price,
                "stock": p.stock,
                "low_stock": p.stock <= p.low_stock,
            }
        )
    return {
        "items": [
            {"id": s.pk, "name": s.name, "area_code": s.area_code, "address": s.address, "products": by_shop[s.pk]}
            for s in shops
        ]
    }


def has_own_points(user) -> bool:
    """A villager (own-household scope on their account)."""
    from xiangzhi.core.scoping import scopes_for

    return scopes_for(user, "points.view_account")[1]


def _redemption_out(r: Redemption) -> dict:
    entry = (
        LedgerEntry.objects.filter(idempotency_key=f"redemption:{r.idempotency_key}")
        .values_list("balance_after", flat=True)
        .first()
    )
    items = r.items.select_related("product").order_by("id")
    return {
        "id": r.pk,
        "shop": {"id": r.shop_id, "name": r.shop.name},
        "account": {"id": r.account_id, "name": r.account.name},
        "total": r.total,
        "status": r.status,
        "status_label": RedemptionStatus(r.status).label,
        "balance_after": entry,
        "keeper": _name(r.keeper),
        "created_at": r.created_at,
        "cancelled_at": r.cancelled_at,
        "items": [
            {
                "product": i.product_id,
                "name": i.product.name,
                "unit": i.product.unit,
                "quantity": i.quantity,
                "price": i.price,
            }
            for i in items
        ],
    }


KEY_HEADER = Header(..., alias="Idempotency-Key", description="8–64 位字母、数字或 _.:-，每笔兑换一个")


def _api_key(user, raw: str) -> str:
    return f"api:{user.pk}:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


@router.post("/redemptions", response={201: RedemptionOut, **WRITE_ERRORS}, summary="兑换（振风超市柜台）")
def redemption_create(
    request,
    response: HttpResponse,
    payload: RedemptionIn,
    idempotency_key: IdempotencyKey = KEY_HEADER,
):
    """超市管理员为某户兑换商品：一个事务内扣分、减库存，要么全部成功，要么什么都不写。
    必须带请求头 ``Idempotency-Key``：同一个键、同样的内容重试时返回同一笔兑换（响应头
    ``Idempotent-Replayed: true``，不会重复扣分）；同一个键、不同的内容为 409。
    积分或库存不足为 400（字段 ``account`` / ``items``）。"""
    require_perm(request, "points.view_shop")
    user = request.auth
    the_shop = selectors.shop_get(user=user, pk=payload.shop)
    account = selectors.accounts_for(user).filter(pk=payload.account).first()
    if account is None:
        raise Http404(NOT_IN_SCOPE)
    key = _api_key(user, idempotency_key)
    replay = Redemption.objects.filter(idempotency_key=key).exists()
    try:
        redemption = shop_services.redemption_create(
            actor=user,
            shop=the_shop,
            account=account,
            items=[(i.product, i.quantity) for i in payload.items],
            idempotency_key=key,
        )
    except ledger.IdempotencyConflict:
        raise HttpError(409, KEY_CONFLICT)
    if replay:
        response["Idempotent-Replayed"] = "true"
    redemption = Redemption.objects.select_related("shop", "account", "keeper").get(pk=redemption.pk)
    return Status(201, _redemption_out(redemption))


@router.get("/redemptions/{redemption_id}", response={200: RedemptionOut, **READ_ERRORS}, summary="兑换记录")
def redemption_detail(request, redemption_id: Path[int, PK]):
    """一笔兑换（小票）：商品、数量、扣除积分、兑换后余额。"""
    require_perm(request, "points.view_redemption")
    return _redemption_out(selectors.redemption_get(user=request.auth, pk=redemption_id))


# --- 红黑榜 -----------------------------------------------------------------------------------
def _boards(user):
    """(view, lists): staff read the lists of their scope (drafts too); a villager reads the
    published lists of their own village."""
    if _is_staff(user, "points.view_redblacklist"):
        return "staff", selectors.boards_for(user)
    if not has_own_points(user):
        raise PermissionDenied("您的岗位没有此项权限")
    household = selectors.my_household(user)
    if household is None:
        raise PermissionDenied(NOT_LINKED)
    return "villager", selectors.public_boards(household.village_code)


def _counted(qs, view: str):
    honor = Q(entries__side="honor", entries__removed=False)
    warning = Q(entries__side="warning", entries__removed=False)
    if view == "villager":
        today = periods.local_today()
        warning &= Q(entries__expires_on__isnull=True) | Q(entries__expires_on__gt=today)
    return qs.annotate(
        honor_count=Count("entries", filter=honor, distinct=True),
        warning_count=Count("entries", filter=warning, distinct=True),
    )


def _board_out(b) -> dict:
    return {
        "id": b.pk,
        "area_code": b.area_code,
        "subject_kind": b.subject_kind,
        "period_kind": b.period_kind,
        "period_start": b.period_start,
        "period_label": b.period_label,
        "status": b.status,
        "status_label": BOARD_STATUS.get(b.status, b.status),
        "published_at": b.published_at,
        "publicity_until": b.publicity_until,
        "honor_count": b.honor_count,
        "warning_count": b.warning_count,
    }


@router.get("/lists", response={200: BoardPage, **READ_ERRORS}, summary="红黑榜")
def board_list(request, filters: Query[ListFilters]):
    """工作人员：管辖范围内各村的红黑榜（含草稿、已审定）；村民：本村已发布的红黑榜。"""
    view, qs = _boards(request.auth)
    if filters.area_code:
        qs = qs.filter(area_code__startswith=filters.area_code[:12])
    if filters.subject_kind:
        qs = qs.filter(subject_kind=filters.subject_kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    qs = _counted(qs.order_by("-period_start", "area_code", "id"), view)
    rows, meta = paginate(qs, limit=filters.limit, offset=filters.offset)
    return {"items": [_board_out(b) for b in rows], **meta}


def _evidence(rows, *, full: bool) -> list[dict]:
    out = []
    for e in rows or []:
        if not isinstance(e, dict):
            continue
        out.append({
            "rule": str(e.get("rule", "")),
            "name": str(e.get("name", "")),
            "points": int(e.get("points") or 0),
            "date": str(e.get("date", "")),
            "reason": str(e.get("reason", "")) if full else "",
        })  # fmt: skip
    return out


@router.get("/lists/{list_id}", response={200: BoardDetailOut, **READ_ERRORS}, summary="红黑榜详情")
def board_detail(request, list_id: Path[int, PK]):
    """上榜记录及依据（规则、分值、日期）。村民视图：黑榜姓名脱敏，只显示仍在有效期内的记录，
    不显示事由。"""
    user = request.auth
    view, qs = _boards(user)
    board = get_object_or_404(_counted(qs, view), pk=list_id)
    if view == "staff":
        entries = selectors.board_entries(board)
        own = None
    else:
        entries = selectors.public_entries(board)
        mine = selectors.my_household(user)
        own = mine.pk if mine else None
    out_entries = []
    for e in entries:
        masked = view == "villager" and e.side == "warning"
        out_entries.append({
            "id": e.pk,
            "side": e.side,
            "rank": e.rank,
            "name": selectors.public_name(e.account, masked=masked),
            "account": e.account_id if view == "staff" or e.account.household_id == own else None,
            "points": e.points,
            "evidence": _evidence(e.evidence, full=view == "staff"),
            "expires_on": e.expires_on,
            "removed": e.removed,
            "removed_reason": e.removed_reason if view == "staff" else "",
        })  # fmt: skip
    return {**_board_out(board), "view": view, "entries": out_entries}
