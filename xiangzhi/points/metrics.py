"""Points KPIs: ``(area_code, period) -> numbers``, the single source for dashboards,
registers and the cadre assessment. Formulas are in docs/kpis.md (section "points"); every
function has a hand-computed fixture test (tests/test_metrics.py). Rates are ``None`` when
the denominator is 0 (shown as "—").

Areas are prefixes of division codes (township 9, village 12, grid 15 digits); periods are
``xiangzhi.core.periods.Period`` — half-open, local midnights in Asia/Shanghai. Ledger
figures come from the append-only ledger only: a reversal counts in the period it was
booked, against the kind of the entry it reverses (a cancelled redemption lowers
"redeemed" of the month it was cancelled in)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, Sum

from xiangzhi.core.periods import Period
from xiangzhi.core.scoping import prefix_q

from .choices import AwardStatus, EntryKind, RedemptionStatus, SubjectKind
from .models import Account, Appeal, Award, LedgerEntry, ListEntry, Product, Redemption, RedemptionItem


def rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _in(period: Period, field: str = "created_at") -> Q:
    return Q(**{f"{field}__gte": period.start_dt, f"{field}__lt": period.end_dt})


def _days(period: Period, field: str) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


# --- ledger flows ----------------------------------------------------------------------------
@dataclass
class PointsFlow:
    issued: int  # 发放（加分）
    deducted: int  # 扣分
    redeemed: int  # 兑换
    expired: int  # 过期清零
    net: int  # 净变动 = issued − deducted − redeemed − expired
    entries: int  # 流水笔数（含冲正）

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _kind_sum(kind: str) -> Sum:
    """Σ amount of entries of ``kind`` plus the reversals of such entries."""
    return Sum("amount", filter=Q(kind=kind) | Q(kind=EntryKind.REVERSAL, reverses__kind=kind))


def points_flow(area_code: str, period: Period, *, subject_kind: str | None = None) -> PointsFlow:
    """Points issued / deducted / redeemed / expired in the area during the period, from
    ledger entries (``created_at`` in P, ``area_code`` of the entry = the account's area)."""
    qs = LedgerEntry.objects.filter(prefix_q("area_code", area_code), _in(period))
    if subject_kind:
        qs = qs.filter(account__subject_kind=subject_kind)
    agg = qs.aggregate(
        award=_kind_sum(EntryKind.AWARD),
        deduction=_kind_sum(EntryKind.DEDUCTION),
        redemption=_kind_sum(EntryKind.REDEMPTION),
        expiry=_kind_sum(EntryKind.EXPIRY),
        net=Sum("amount"),
        entries=Count("id"),
    )
    return PointsFlow(
        issued=agg["award"] or 0,
        deducted=-(agg["deduction"] or 0),
        redeemed=-(agg["redemption"] or 0),
        expired=-(agg["expiry"] or 0),
        net=agg["net"] or 0,
        entries=agg["entries"],
    )


# --- participation ---------------------------------------------------------------------------
@dataclass
class Participation:
    households: int  # 户籍中的户数（分母）
    participating: int  # 本期有已入账加分的户数
    rate: Decimal | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def participation(area_code: str, period: Period) -> Participation:
    """Share of the registry's households in the area with at least one posted award
    (status posted, points > 0, its ledger entry not reversed) whose ``occurred_on`` falls in
    the period."""
    from xiangzhi.residents.models import Household

    households = Household.objects.filter(prefix_q("area_code", area_code))
    total = households.count()
    participating = (
        Award.objects.filter(
            prefix_q("area_code", area_code),
            _days(period, "occurred_on"),
            status=AwardStatus.POSTED,
            points__gt=0,
            posted_entry__reversed_by__isnull=True,  # a reversed award earned nothing
            account__subject_kind=SubjectKind.HOUSEHOLD,
            account__household__in=households.values("pk"),
        )
        .values("account__household")
        .distinct()
        .count()
    )
    return Participation(households=total, participating=participating, rate=rate(participating, total))


# --- shop ------------------------------------------------------------------------------------
@dataclass
class ShopTurnover:
    redemptions: int  # 兑换笔数（未撤销）
    points: int  # 兑换积分
    items: int  # 兑换件数
    cancelled: int  # 本期兑换中已撤销的笔数

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def shop_turnover(area_code: str, period: Period) -> ShopTurnover:
    """Redemptions made in P (``created_at``) at the shops located in the area (a township
    shop counts for its township, not for the villages it serves)."""
    qs = Redemption.objects.filter(prefix_q("shop__area_code", area_code), _in(period))
    agg = qs.aggregate(
        done=Count("id", filter=Q(status=RedemptionStatus.DONE)),
        points=Sum("total", filter=Q(status=RedemptionStatus.DONE)),
        cancelled=Count("id", filter=Q(status=RedemptionStatus.CANCELLED)),
    )
    items = RedemptionItem.objects.filter(
        redemption__in=qs.filter(status=RedemptionStatus.DONE).values("pk")
    ).aggregate(n=Sum("quantity"))["n"]
    return ShopTurnover(
        redemptions=agg["done"], points=agg["points"] or 0, items=items or 0, cancelled=agg["cancelled"]
    )


def stock_value(area_code: str) -> int:
    """Σ stock × price (in points) of the active products of the active shops located in
    the area, now."""
    value = Product.objects.filter(
        prefix_q("shop__area_code", area_code), is_active=True, shop__is_active=True
    ).aggregate(v=Sum(F("stock") * F("price")))["v"]
    return value or 0


# --- 红黑榜 and appeals ------------------------------------------------------------------------
@dataclass
class ListCounts:
    lists: int  # 已发布的榜单数
    honor: int  # 红榜上榜（未撤下）
    warning: int  # 黑榜上榜（未撤下）

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def list_counts(area_code: str, period: Period, *, subject_kind: str | None = None) -> ListCounts:
    """Published lists of the area whose own period starts in P, and their entries that are
    not removed (by editing or by an upheld appeal)."""
    from .models import RedBlackList

    boards = RedBlackList.objects.filter(
        prefix_q("area_code", area_code[:12]),  # lists are per village: a grid reads its village's
        _days(period, "period_start"),
        status="published",
    )
    if subject_kind:
        boards = boards.filter(subject_kind=subject_kind)
    entries = ListEntry.objects.filter(red_black_list__in=boards.values("pk"), removed=False).aggregate(
        honor=Count("id", filter=Q(side="honor")), warning=Count("id", filter=Q(side="warning"))
    )
    return ListCounts(lists=boards.count(), honor=entries["honor"], warning=entries["warning"])


@dataclass
class AppealCounts:
    filed: int
    upheld: int
    dismissed: int
    pending: int
    upheld_rate: Decimal | None  # 申诉成立率 = upheld ÷ (upheld + dismissed)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def appeals(area_code: str, period: Period) -> AppealCounts:
    """Appeals filed in P (``created_at``) against entries of the area's lists, by their
    outcome now."""
    agg = Appeal.objects.filter(prefix_q("entry__red_black_list__area_code", area_code[:12]), _in(period)).aggregate(
        filed=Count("id"),
        upheld=Count("id", filter=Q(status="upheld")),
        dismissed=Count("id", filter=Q(status="dismissed")),
        pending=Count("id", filter=Q(status="pending")),
    )
    decided = agg["upheld"] + agg["dismissed"]
    return AppealCounts(**agg, upheld_rate=rate(agg["upheld"], decided))


# --- party members and cadres (for the assessment module) -------------------------------------
@dataclass
class SubjectPoints:
    account: int | None
    name: str
    earned: int  # 加分（含其冲正）
    deducted: int  # 扣分（含其冲正）
    net: int  # earned − deducted
    balance: int  # 当前余额

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _account_of(subject, subject_kind: str | None) -> Account | None:
    from xiangzhi.accounts.models import User
    from xiangzhi.residents.models import Resident

    if isinstance(subject, Account):
        return Account.objects.filter(pk=subject.pk).first()  # the balance as it is now
    if isinstance(subject, User):
        return Account.objects.filter(subject_kind=subject_kind or SubjectKind.CADRE, cadre_user=subject).first()
    if isinstance(subject, Resident):
        return Account.objects.filter(subject_kind=subject_kind or SubjectKind.PARTY_MEMBER, resident=subject).first()
    raise TypeError("subject must be an Account, a User (cadre) or a Resident (party member)")


def cadre_points(subject, period: Period, *, subject_kind: str | None = None) -> SubjectPoints:
    """积分管理 totals of one cadre (a ``User``), party member (a ``Resident``) or any
    ``Account`` in the period, from ledger entries booked in P. No account yet → zeros."""
    account = _account_of(subject, subject_kind)
    if account is None:
        return SubjectPoints(account=None, name=str(subject), earned=0, deducted=0, net=0, balance=0)
    agg = (
        LedgerEntry.objects.filter(account=account)
        .filter(_in(period))
        .aggregate(award=_kind_sum(EntryKind.AWARD), deduction=_kind_sum(EntryKind.DEDUCTION))
    )
    earned, deducted = agg["award"] or 0, -(agg["deduction"] or 0)
    return SubjectPoints(account=account.pk, name=account.name, earned=earned, deducted=deducted,
                         net=earned - deducted, balance=account.balance)  # fmt: skip


def subject_totals(area_code: str, period: Period, *, subject_kind: str = SubjectKind.CADRE) -> list[SubjectPoints]:
    """``cadre_points`` for every account of a subject kind in the area (one grouped
    query), highest net first: the cadres' (or party members') 积分管理 table."""
    accounts = {a.pk: a for a in Account.objects.filter(prefix_q("area_code", area_code), subject_kind=subject_kind)}
    if not accounts:
        return []
    rows = {
        r["account"]: r
        for r in LedgerEntry.objects.filter(account_id__in=list(accounts))
        .filter(_in(period))
        .values("account")
        .annotate(award=_kind_sum(EntryKind.AWARD), deduction=_kind_sum(EntryKind.DEDUCTION))
    }
    out = []
    for pk, a in accounts.items():
        r = rows.get(pk, {})
        earned, deducted = r.get("award") or 0, -(r.get("deduction") or 0)
        out.append(SubjectPoints(account=pk, name=a.name, earned=earned, deducted=deducted, net=earned - deducted,
                                 balance=a.balance))  # fmt: skip
    return sorted(out, key=lambda s: (-s.net, s.name, s.account))


def summary(area_code: str, period: Period) -> dict:
    """Every headline number of an area and period in one dict (dashboards)."""
    return {
        "flow": points_flow(area_code, period).as_dict(),
        "participation": participation(area_code, period).as_dict(),
        "turnover": shop_turnover(area_code, period).as_dict(),
        "stock_value": stock_value(area_code),
        "lists": list_counts(area_code, period).as_dict(),
        "appeals": appeals(area_code, period).as_dict(),
    }


__all__ = [
    "AppealCounts",
    "ListCounts",
    "Participation",
    "PointsFlow",
    "ShopTurnover",
    "SubjectPoints",
    "appeals",
    "cadre_points",
    "list_counts",
    "participation",
    "points_flow",
    "rate",
    "shop_turnover",
    "stock_value",
    "subject_totals",
    "summary",
]
