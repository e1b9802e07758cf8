"""振风超市: products, stock, redemption at the counter. A redemption debits the account
and decrements the stock in one transaction, or nothing happens."""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core.scoping import can_in_area
from xiangzhi.core.text import clean_text

from . import ledger
from .choices import EntryKind, RedemptionStatus
from .models import Account, Product, Redemption, RedemptionItem, Shop, StockMove

MAX_LINES = 20
MAX_QUANTITY = 999


def _can_keep(actor, shop: Shop) -> bool:
    if actor is None:
        return False
    if shop.keeper_id == actor.pk:
        return True
    return can_in_area(actor, "points.change_shop", shop.area_code)


@transaction.atomic
def shop_create(*, actor, area_code: str, name: str, keeper=None, address: str = "") -> Shop:
    name = clean_text(name)
    if not name:
        raise ValidationError({"name": "请填写超市名称"})
    if actor is not None and not can_in_area(actor, "points.add_shop", area_code):
        raise PermissionDenied("无权在该区域设立超市")
    shop = Shop.objects.create(area_code=area_code, name=name[:100], keeper=keeper, address=clean_text(address)[:200])
    audit.record(actor, "points.shop_create", shop)
    return shop


@transaction.atomic
def product_create(*, actor, shop: Shop, name: str, price: int, unit: str = "件", low_stock: int = 5) -> Product:
    name = clean_text(name)
    errors = {}
    if not name:
        errors["name"] = "请填写商品名称"
    if not isinstance(price, int) or isinstance(price, bool) or not 1 <= price <= 100000:
        errors["price"] = "所需积分应为 1–100000 的整数"
    if errors:
        raise ValidationError(errors)
    if not _can_keep(actor, shop):
        raise PermissionDenied("无权管理该超市")
    product = Product.objects.create(shop=shop, name=name[:100], price=price, unit=clean_text(unit)[:10] or "件",
                                     low_stock=max(0, int(low_stock)))
    audit.record(actor, "points.product_create", product, area_code=shop.area_code)
    return product


@transaction.atomic
def stock_in(*, actor, product: Product, quantity: int, note: str = "") -> StockMove:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 100000:
        raise ValidationError({"quantity": "入库数量应为 1–100000 的整数"})
    product = Product.objects.select_for_update().select_related("shop").get(pk=product.pk)
    if not _can_keep(actor, product.shop):
        raise PermissionDenied("无权管理该超市")
    product.stock += quantity
    product.save(update_fields=["stock"])
    move = StockMove.objects.create(product=product, quantity=quantity, stock_after=product.stock, reason="stock_in",
                                    actor=actor, note=clean_text(note)[:200], created_at=timezone.now())
    audit.record(actor, "points.stock_in", product, area_code=product.shop.area_code, quantity=quantity)
    return move


def _normalise_items(items) -> list[tuple[int, int]]:
    """[(product_id, quantity)] merged per product, validated, sorted by product id (the
    lock order)."""
    merged: dict[int, int] = {}
    try:
        for product_id, quantity in items:
            if isinstance(quantity, bool) or not isinstance(quantity, int):
                raise ValidationError({"items": "数量应为正整数"})
            if quantity <= 0:
                raise ValidationError({"items": "数量必须大于 0"})
            merged[int(product_id)] = merged.get(int(product_id), 0) + quantity
    except (TypeError, ValueError):
        raise ValidationError({"items": "兑换清单格式不正确"})
    if not merged:
        raise ValidationError({"items": "请选择要兑换的商品"})
    if len(merged) > MAX_LINES or any(q > MAX_QUANTITY for q in merged.values()):
        raise ValidationError({"items": f"一次最多兑换 {MAX_LINES} 种商品，每种不超过 {MAX_QUANTITY} 件"})
    return sorted(merged.items())


def request_hash(shop_id: int, account_id: int, items: list[tuple[int, int]]) -> str:
    body = json.dumps({"shop": shop_id, "account": account_id, "items": items}, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _existing(idempotency_key: str, digest: str) -> Redemption | None:
    found = Redemption.objects.filter(idempotency_key=idempotency_key).first()
    if found is None:
        return None
    if found.request_hash != digest:
        raise ledger.IdempotencyConflict()
    return found


def redemption_create(*, actor, shop: Shop, account: Account, items, idempotency_key: str) -> Redemption:
    """Redeem products for an account at the counter. Same key + same body → the same
    redemption; same key + other body → IdempotencyConflict; not enough points or stock →
    ValidationError and nothing written."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 80:
        raise ValidationError({"idempotency_key": "缺少幂等键（1–80 个字符）"})
    lines = _normalise_items(items)
    digest = request_hash(shop.pk, account.pk, lines)
    found = _existing(key, digest)
    if found:
        return found
    if not _can_keep(actor, shop):
        raise PermissionDenied("只有本超市管理员可以办理兑换")
    if not account.area_code.startswith(shop.area_code):
        raise ValidationError({"account": "该户不在本超市服务范围内"})
    try:
        with transaction.atomic():
            acc = ledger.lock_account(account.pk)  # lock order: account, then products by pk
            products = {
                p.pk: p
                for p in Product.objects.select_for_update().filter(pk__in=[pid for pid, _ in lines]).order_by("pk")
            }
            found = _existing(key, digest)  # a concurrent twin committed while we waited
            if found:
                return found
            errors = []
            total = 0
            for pid, qty in lines:
                p = products.get(pid)
                if p is None or p.shop_id != shop.pk or not p.is_active:
                    errors.append("所选商品不属于本超市或已下架")
                    continue
                if p.stock < qty:
                    errors.append(f"“{p.name}”库存不足：仅剩 {p.stock}{p.unit}")
                total += p.price * qty
            if errors:
                raise ValidationError({"items": errors})
            if acc.balance < total:
                raise ValidationError({"account": f"积分余额不足：当前 {acc.balance} 分，本次需要 {total} 分"})
            now = timezone.now()
            redemption = Redemption.objects.create(
                shop=shop, account=acc, area_code=acc.area_code, total=total, idempotency_key=key,
                request_hash=digest, keeper=actor, created_at=now,
            )
            for pid, qty in lines:
                p = products[pid]
                p.stock -= qty
                p.save(update_fields=["stock"])
                RedemptionItem.objects.create(redemption=redemption, product=p, quantity=qty, price=p.price)
                StockMove.objects.create(product=p, quantity=-qty, stock_after=p.stock,
                                         reason=f"redemption:{redemption.pk}", actor=actor, created_at=now)
            ledger.post(actor=actor, account=acc.pk, amount=-total, kind=EntryKind.REDEMPTION,
                        source=f"redemption:{redemption.pk}", idempotency_key=f"redemption:{key}",
                        note=f"{shop.name}兑换", locked=acc)
            audit.record(actor, "points.redemption", redemption, total=total, lines=len(lines))
            return redemption
    except IntegrityError:
        # the same key committed by a concurrent request between our check and insert
        found = _existing(key, digest)
        if found:
            return found
        raise


@transaction.atomic
def redemption_cancel(*, actor, redemption: Redemption, reason: str) -> Redemption:
    """Cancel by compensating entries: points back (reversal), stock back (stock moves)."""
    reason = clean_text(reason)
    if len(reason) < 2:
        raise ValidationError({"reason": "请填写撤销原因"})
    redemption = Redemption.objects.select_for_update().select_related("shop").get(pk=redemption.pk)
    if redemption.status == RedemptionStatus.CANCELLED:
        raise ValidationError({"redemption": "该兑换已撤销"})
    if not _can_keep(actor, redemption.shop):
        raise PermissionDenied("无权撤销")
    acc = ledger.lock_account(redemption.account_id)
    items = list(redemption.items.order_by("product_id"))
    products = {p.pk: p for p in Product.objects.select_for_update().filter(
        pk__in=[i.product_id for i in items]).order_by("pk")}
    now = timezone.now()
    for item in items:
        p = products[item.product_id]
        p.stock += item.quantity
        p.save(update_fields=["stock"])
        StockMove.objects.create(product=p, quantity=item.quantity, stock_after=p.stock,
                                 reason=f"cancel:{redemption.pk}", actor=actor, created_at=now, note=reason[:200])
    entry = redemption.account.entries.get(source=f"redemption:{redemption.pk}", kind=EntryKind.REDEMPTION)
    ledger.post(actor=actor, account=acc.pk, amount=-entry.amount, kind=EntryKind.REVERSAL,
                source=f"reversal:{entry.pk}", idempotency_key=f"reversal:{entry.pk}", note=reason,
                reverses=entry, locked=acc)
    redemption.status = RedemptionStatus.CANCELLED
    redemption.cancelled_at = now
    redemption.save(update_fields=["status", "cancelled_at"])
    audit.record(actor, "points.redemption_cancel", redemption, reason=reason[:200])
    return redemption
