"""Registers (台账) of the points module: each is a printable HTML page and a streamed .xlsx
from one column declaration (``core.registers.Register``).

* ``LEDGER``: the ledger of one account (a household's 积分流水台账) in date order, with the
  balance after every entry;
* ``AWARDS``: the award register (积分申报评议台账) — every proposed award or deduction with
  its rule, review, publicity and posting;
* ``REDEMPTIONS``: the redemption register (振风超市兑换台账) with the items of each receipt;
* ``STOCK``: the stock of the shops (库存台账) with the stock value in points.

The first three need ``points.export_account`` and cover its scope; the stock register
needs ``points.view_shop`` (a shop keeper prints his own stock). Rows are plain dicts read
with ``values().iterator()`` (constant memory whatever the size); free text leaves with
phone and ID numbers masked (``scrub``). Views: ``views_registers.py``; every export is
audited (``points.export``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from xiangzhi.core import periods
from xiangzhi.core.masking import mask_id_number, mask_phone
from xiangzhi.core.registers import Column, Register
from xiangzhi.core.scoping import prefix_q, scopes_for

from . import selectors
from .choices import AwardStatus, EntryKind, RedemptionStatus, SubjectKind
from .models import Account, Award, LedgerEntry, Product, Redemption, RedemptionItem

EXPORT_PERM = "points.export_account"
STOCK_PERM = "points.view_shop"
HTML_LIMIT = 500  # rows on the printable page; the .xlsx has them all

ENTRY_KINDS = dict(EntryKind.choices)
AWARD_STATUSES = dict(AwardStatus.choices)
REDEMPTION_STATUSES = dict(RedemptionStatus.choices)
SUBJECT_KINDS = dict(SubjectKind.choices)

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Free text as it may leave the system: typed-in mobile and ID numbers are masked."""
    if not text:
        return ""
    if any(c.isdigit() for c in text):
        text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
        text = _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    return text


def export_q(user, field: str = "area_code", perm: str = EXPORT_PERM) -> Q | None:
    """The user's ``perm`` areas as one OR of index-friendly prefix filters (None: none)."""
    prefixes, _ = scopes_for(user, perm)
    if not prefixes:
        return None
    q = Q()
    for p in prefixes:
        q |= prefix_q(field, p)
    return q


def _local(value):
    return timezone.localtime(value, periods.TZ) if value is not None else None


def _person(row: dict, prefix: str) -> str:
    return row.get(f"{prefix}__full_name") or row.get(f"{prefix}__username") or ""


def _area(row: dict, ctx) -> str:
    return (ctx or {}).get("names", {}).get(row["area_code"], row["area_code"])


def context(codes) -> dict:
    """Area names for a set of area codes (one query)."""
    return {"names": selectors.area_labels(codes)}


@dataclass
class Filters:
    area_code: str = ""
    status: str = ""
    subject_kind: str = ""
    shop: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    def summary(self, names: dict[str, str] | None = None) -> list[str]:
        out = []
        if self.area_code:
            out.append(f"区域：{(names or {}).get(self.area_code, self.area_code)}")
        if self.subject_kind:
            out.append(f"对象：{SUBJECT_KINDS.get(self.subject_kind, self.subject_kind)}")
        if self.status:
            label = AWARD_STATUSES.get(self.status) or REDEMPTION_STATUSES.get(self.status) or self.status
            out.append(f"状态：{label}")
        if self.date_from or self.date_to:
            a = self.date_from.isoformat() if self.date_from else "…"
            b = self.date_to.isoformat() if self.date_to else "…"
            out.append(f"日期：{a} 至 {b}")
        return out


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=periods.TZ)


def _date_q(field: str, f: Filters, *, timestamp: bool) -> Q:
    """``date_from`` … ``date_to`` (both inclusive, local days) on a date or timestamp field."""
    q = Q()
    if f.date_from:
        q &= Q(**{f"{field}__gte": _midnight(f.date_from) if timestamp else f.date_from})
    if f.date_to:
        end = f.date_to + timedelta(days=1)
        q &= Q(**{f"{field}__lt": _midnight(end) if timestamp else end})
    return q


# --- the ledger of one account --------------------------------------------------------------
LEDGER_FIELDS = ("id", "created_at", "kind", "amount", "balance_after", "source", "note", "actor__full_name",
                 "actor__username", "reverses_id")  # fmt: skip

LEDGER = Register(
    title="积分流水台账",
    sheet_title="积分流水",
    columns=[
        Column("seq", "序号", accessor="#", width=6),
        Column("created_at", "时间", accessor=lambda r, ctx: _local(r["created_at"]), width=17),
        Column("kind", "类型", accessor=lambda r, ctx: ENTRY_KINDS.get(r["kind"], r["kind"]), width=9),
        Column("note", "事项", accessor=lambda r, ctx: scrub(r["note"]), width=30),
        Column("source", "来源", accessor=lambda r, ctx: source_label(r), width=16),
        Column("income", "增加", accessor=lambda r, ctx: r["amount"] if r["amount"] > 0 else None, width=8),
        Column("outgo", "减少", accessor=lambda r, ctx: -r["amount"] if r["amount"] < 0 else None, width=8),
        Column("balance_after", "余额", accessor="balance_after", width=8),
        Column("actor", "经办人", accessor=lambda r, ctx: _person(r, "actor") or "系统", width=10),
    ],
)


def source_label(row: dict) -> str:
    kind, _, ref = (row.get("source") or "").partition(":")
    labels = {"award": "申报", "redemption": "兑换单", "reversal": "冲正流水", "expiry": "过期截止日"}
    if kind in labels and ref:
        return f"{labels[kind]} {ref}"
    return row.get("source") or ""


def ledger_account(user, pk) -> Account:
    """The account if it is inside the user's export scope (404 otherwise)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Account.objects.restrict(user, "export").select_related("household"), pk=pk)


def ledger_rows(account: Account, f: Filters, *, limit: int | None = None):
    qs = (
        LedgerEntry.objects.filter(account_id=account.pk)
        .filter(_date_q("created_at", f, timestamp=True))
        .order_by("id")
        .values(*LEDGER_FIELDS)
    )
    if limit is not None:
        return list(qs[:limit])
    return qs.iterator(chunk_size=2000)


# --- the award register ---------------------------------------------------------------------
AWARD_FIELDS = ("id", "occurred_on", "area_code", "account__name", "account__subject_kind", "rule__category",
                "rule__code", "rule__name", "rule__rulebook__version", "points", "reason", "claimed",
                "proposed_by__full_name", "proposed_by__username", "reviewed_by__full_name",
                "reviewed_by__username", "reviewed_at", "review_note", "status", "publicity_until",
                "posted_entry_id", "activity__name")  # fmt: skip

AWARDS = Register(
    title="积分申报评议台账",
    sheet_title="积分申报台账",
    columns=[
        Column("seq", "序号", accessor="#", width=6),
        Column("occurred_on", "发生日期", accessor="occurred_on", width=11),
        Column("area", "村 · 网格", accessor=_area, width=18),
        Column("subject", "对象", accessor="account__name", width=12),
        Column("kind", "类别", accessor=lambda r, ctx: SUBJECT_KINDS.get(r["account__subject_kind"], ""), width=6),
        Column("category", "规则类别", accessor="rule__category", width=10),
        Column(
            "rule",
            "规则",
            accessor=lambda r, ctx: f"{r['rule__code']} {r['rule__name']}（第{r['rule__rulebook__version']}版）",
            width=26,
        ),  # fmt: skip
        Column("points", "分值", accessor="points", width=6),
        Column("reason", "事由", accessor=lambda r, ctx: scrub(r["reason"]), width=30),
        Column("activity", "活动", accessor="activity__name", width=14),
        Column(
            "proposed_by",
            "申报人",
            accessor=lambda r, ctx: "村民申报" if r["claimed"] else _person(r, "proposed_by"),
            width=10,
        ),  # fmt: skip
        Column("reviewed_by", "评议人", accessor=lambda r, ctx: _person(r, "reviewed_by"), width=10),
        Column("reviewed_at", "评议时间", accessor=lambda r, ctx: _local(r["reviewed_at"]), width=17),
        Column("review_note", "评议意见", accessor=lambda r, ctx: scrub(r["review_note"]), width=20),
        Column("status", "状态", accessor=lambda r, ctx: AWARD_STATUSES.get(r["status"], r["status"]), width=8),
        Column("publicity_until", "公示截止", accessor=lambda r, ctx: _local(r["publicity_until"]), width=17),
        Column("posted_entry", "入账流水号", accessor="posted_entry_id", width=10),
    ],
)


def award_queryset(user, f: Filters):
    scope = export_q(user)
    if scope is None:
        return Award.objects.none()
    qs = Award.objects.filter(scope)
    if f.area_code:
        qs = qs.filter(prefix_q("area_code", f.area_code))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.subject_kind:
        qs = qs.filter(account__subject_kind=f.subject_kind)
    return qs.filter(_date_q("occurred_on", f, timestamp=False)).order_by("occurred_on", "id")


def award_rows(user, f: Filters, *, limit: int | None = None):
    qs = award_queryset(user, f).values(*AWARD_FIELDS)
    if limit is not None:
        return list(qs[:limit])
    return qs.iterator(chunk_size=2000)


# --- the redemption register -----------------------------------------------------------------
REDEMPTION_FIELDS = ("id", "created_at", "shop__name", "account__name", "area_code", "total", "status",
                     "keeper__full_name", "keeper__username", "cancelled_at")  # fmt: skip

REDEMPTIONS = Register(
    title="振风超市兑换台账",
    sheet_title="兑换台账",
    columns=[
        Column("seq", "序号", accessor="#", width=6),
        Column("id", "兑换单号", accessor="id", width=9),
        Column("created_at", "兑换时间", accessor=lambda r, ctx: _local(r["created_at"]), width=17),
        Column("shop", "超市", accessor="shop__name", width=16),
        Column("account", "兑换户", accessor="account__name", width=12),
        Column("area", "村 · 网格", accessor=_area, width=18),
        Column("items", "兑换商品", accessor="items", width=34),
        Column("total", "扣除积分", accessor="total", width=9),
        Column("status", "状态", accessor=lambda r, ctx: REDEMPTION_STATUSES.get(r["status"], r["status"]), width=8),
        Column("cancelled_at", "撤销时间", accessor=lambda r, ctx: _local(r["cancelled_at"]), width=17),
        Column("keeper", "经办人", accessor=lambda r, ctx: _person(r, "keeper"), width=10),
    ],
)


def redemption_queryset(user, f: Filters):
    scope = export_q(user)
    if scope is None:
        return Redemption.objects.none()
    qs = Redemption.objects.filter(scope)
    if f.area_code:
        qs = qs.filter(prefix_q("area_code", f.area_code))
    if f.shop:
        qs = qs.filter(shop_id=f.shop)
    if f.status:
        qs = qs.filter(status=f.status)
    return qs.filter(_date_q("created_at", f, timestamp=True)).order_by("created_at", "id")


def _with_items(rows: Iterator[dict], chunk: int = 1000) -> Iterator[dict]:
    """Add ``items`` ("洗衣粉×2袋、食用油×1桶") to each row, one query per chunk of rows."""
    batch: list[dict] = []

    def flush():
        lines: dict[int, list[str]] = {}
        for rid, name, unit, qty in (
            RedemptionItem.objects.filter(redemption_id__in=[r["id"] for r in batch])
            .order_by("redemption_id", "id")
            .values_list("redemption_id", "product__name", "product__unit", "quantity")
        ):
            lines.setdefault(rid, []).append(f"{name}×{qty}{unit}")
        for r in batch:
            r["items"] = "、".join(lines.get(r["id"], []))
        yield from batch
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            yield from flush()
    if batch:
        yield from flush()


def redemption_rows(user, f: Filters, *, limit: int | None = None):
    qs = redemption_queryset(user, f).values(*REDEMPTION_FIELDS)
    if limit is not None:
        return list(_with_items(iter(list(qs[:limit]))))
    return _with_items(qs.iterator(chunk_size=2000))


# --- stock ---------------------------------------------------------------------------------
STOCK_FIELDS = ("id", "shop__name", "shop__area_code", "name", "unit", "price", "stock", "low_stock", "is_active")


def _stock_state(row: dict) -> str:
    if not row["is_active"]:
        return "已下架"
    return "库存不足" if row["stock"] <= row["low_stock"] else "在售"


STOCK = Register(
    title="振风超市库存台账",
    sheet_title="库存台账",
    columns=[
        Column("seq", "序号", accessor="#", width=6),
        Column("shop", "超市", accessor="shop__name", width=16),
        Column("name", "商品", accessor="name", width=18),
        Column("unit", "单位", accessor="unit", width=6),
        Column("price", "所需积分", accessor="price", width=9),
        Column("stock", "库存", accessor="stock", width=8),
        Column("low_stock", "提醒线", accessor="low_stock", width=8),
        Column("value", "库存价值（积分）", accessor=lambda r, ctx: r["stock"] * r["price"], width=14),
        Column("state", "状态", accessor=lambda r, ctx: _stock_state(r), width=8),
    ],
)


def stock_queryset(user, f: Filters):
    qs = Product.objects.filter(shop__in=selectors.shops_for(user).values("pk"))
    if f.shop:
        qs = qs.filter(shop_id=f.shop)
    return qs.order_by("shop__area_code", "shop_id", "name", "id")


def stock_rows(user, f: Filters, *, limit: int | None = None):
    qs = stock_queryset(user, f).values(*STOCK_FIELDS)
    if limit is not None:
        return list(qs[:limit])
    return qs.iterator(chunk_size=2000)


def stock_value(user, f: Filters) -> int:
    from django.db.models import F, Sum

    return stock_queryset(user, f).filter(is_active=True).aggregate(v=Sum(F("stock") * F("price")))["v"] or 0
