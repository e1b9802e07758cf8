"""振风超市: products, stock, redemption at the counter. A redemption debits the account
and decrements the stock in one transaction, or nothing happens."""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import prepared
from xiangzhi.core.scoping import can_in_area
from xiangzhi.core.text import clean_text

from . import ledger
from .choices import EntryKind, RedemptionStatus
from .models import Account, Product, Redemption, Shop, StockMove

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
    with connection.cursor() as cur:
        cur.execute("SELECT id, request_hash FROM points_redemption WHERE idempotency_key = %s", [idempotency_key])
        row = cur.fetchone()
    if row is None:
        return None
    if row[1] != digest:
        raise ledger.IdempotencyConflict()
    return Redemption.objects.get(pk=row[0])


class _Short(Exception):
    """A conditional update found too little (points or stock): roll back, then explain."""

    def __init__(self, product_id: int | None = None):
        self.product_id = product_id


# before the transaction, one statement: the products, without a lock, and a redemption that
# may already hold the key (its id negated)
_READ = (
    "SELECT id, shop_id, name, unit, price, stock, is_active FROM points_product WHERE id IN ({})"
    " UNION ALL SELECT -id, NULL, request_hash, NULL, NULL, NULL, NULL FROM points_redemption"
    " WHERE idempotency_key = %s"
)
_INSERT_REDEMPTION = (
    "INSERT INTO points_redemption (shop_id, account_id, area_code, total, status, idempotency_key, request_hash,"
    " keeper_id, created_at, cancelled_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL) RETURNING id"
)
_INSERT_ITEMS = "INSERT INTO points_redemptionitem (redemption_id, product_id, quantity, price) VALUES {}"
# PostgreSQL: the redemption and its items in one statement
_INSERT_REDEMPTION_PG = (
    "WITH r AS (INSERT INTO points_redemption (shop_id, account_id, area_code, total, status, idempotency_key,"
    " request_hash, keeper_id, created_at, cancelled_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL)"
    " RETURNING id) INSERT INTO points_redemptionitem (redemption_id, product_id, quantity, price)"
    " SELECT r.id, v.p, v.q, v.c FROM r, (VALUES {}) AS v (p, q, c) RETURNING redemption_id"
)
# the product row: taken only if it still has the stock, the price and the shop read before
_TAKE_STOCK_PG = (
    "WITH p AS (UPDATE points_product SET stock = stock - %s"
    " WHERE id = %s AND stock >= %s AND price = %s AND shop_id = %s AND is_active RETURNING id, stock)"
    " INSERT INTO points_stockmove (product_id, quantity, stock_after, reason, actor_id, note, created_at)"
    " SELECT id, %s::integer, stock, %s::varchar, %s::bigint, '', %s::timestamptz FROM p RETURNING stock_after"
)
_TAKE_STOCK = (
    "UPDATE points_product SET stock = stock - %s"
    " WHERE id = %s AND stock >= %s AND price = %s AND shop_id = %s AND is_active RETURNING stock"
)
_INSERT_MOVES = (
    "INSERT INTO points_stockmove (product_id, quantity, stock_after, reason, actor_id, note, created_at) VALUES {}"
)


def _product_errors(shop: Shop, lines, rows: dict) -> list[str]:
    errors = []
    for pid, qty in lines:
        row = rows.get(pid)
        if row is None or row[1] != shop.pk or not row[6]:
            errors.append("所选商品不属于本超市或已下架")
        elif row[5] < qty:
            errors.append(f"“{row[2]}”库存不足：仅剩 {row[5]}{row[3]}")
    return errors


def _read(lines, key: str) -> tuple[dict, tuple | None]:
    """(product rows by id, (id, request_hash) of a redemption that holds the key or None)."""
    with prepared.cursor() as cur:
        cur.execute(_READ.format(", ".join(["%s"] * len(lines))), [*(pid for pid, _ in lines), key])
        rows = cur.fetchall()
    products = {row[0]: row for row in rows if row[0] > 0}
    existing = next(((-row[0], row[2]) for row in rows if row[0] < 0), None)
    return products, existing


def _replay(existing: tuple | None, digest: str) -> Redemption | None:
    if existing is None:
        return None
    if existing[1] != digest:
        raise ledger.IdempotencyConflict()
    return Redemption.objects.get(pk=existing[0])


def _balance(account_id: int) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT balance FROM points_account WHERE id = %s", [account_id])
        return cur.fetchone()[0]


def redemption_create(*, actor, shop: Shop, account: Account, items, idempotency_key: str) -> Redemption:
    """Redeem products for an account at the counter. Same key + same body → the same
    redemption; same key + other body → IdempotencyConflict; not enough points or stock →
    ValidationError and nothing written.

    A handful of statements, locks in the ledger's order (see ``ledger``): the products are
    read without a lock; then, in one transaction, the redemption row claims the key, the
    account is debited by a conditional update (``ledger.debit``), the items and the audit
    record are written, and last the product rows are taken by conditional updates in pk
    order with their stock moves — so the hot rows are held only for that and the commit.
    When a conditional update finds too little, everything is rolled back and the message
    is worked out afterwards (which product lacks stock, the current balance)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 80:
        raise ValidationError({"idempotency_key": "缺少幂等键（1–80 个字符）"})
    lines = _normalise_items(items)
    digest = request_hash(shop.pk, account.pk, lines)
    rows, existing = _read(lines, key)
    found = _replay(existing, digest)
    if found:
        return found
    if not _can_keep(actor, shop):
        raise PermissionDenied("只有本超市管理员可以办理兑换")
    if not account.area_code.startswith(shop.area_code):
        raise ValidationError({"account": "该户不在本超市服务范围内"})
    for _attempt in range(3):  # again only if a product's price changed under us
        errors = _product_errors(shop, lines, rows)
        if errors:
            return _refuse(key, digest, {"items": errors})
        total = sum(rows[pid][4] * qty for pid, qty in lines)
        try:
            return _redeem(actor, shop, account, lines, rows, total, key, digest)
        except IntegrityError:
            # the same key committed by a concurrent request between our check and insert
            found = _existing(key, digest)
            if found:
                return found
            raise
        except _Short as short:
            if short.product_id is None:
                return _refuse(key, digest, {
                    "account": f"积分余额不足：当前 {_balance(account.pk)} 分，本次需要 {total} 分"})  # fmt: skip
            rows, _ = _read(lines, key)  # as they are now: the reason, or the new prices to try again with
    return _refuse(key, digest, {"items": _product_errors(shop, lines, rows) or ["商品信息刚被修改，请重新提交"]})


def _refuse(key: str, digest: str, errors: dict):
    found = _existing(key, digest)  # a concurrent twin got there first: its result, not a refusal
    if found:
        return found
    raise ValidationError(errors)


def _redeem(actor, shop, account, lines, rows, total, key, digest) -> Redemption:
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    pg = connection.vendor == "postgresql"
    head = [shop.pk, account.pk, account.area_code, total, RedemptionStatus.DONE, key, digest, actor_id, at]
    items = [v for pid, qty in lines for v in (pid, qty, rows[pid][4])]
    with transaction.atomic(), prepared.cursor() as cur:
        if pg:  # 1. the redemption claims the key (a concurrent twin waits here), with its items
            values = ", ".join(["(%s::bigint, %s::integer, %s::integer)"] * len(lines))
            cur.execute(_INSERT_REDEMPTION_PG.format(values), [*head, *items])
            rid = cur.fetchone()[0]
        else:
            cur.execute(_INSERT_REDEMPTION, head)
            rid = cur.fetchone()[0]
            cur.execute(_INSERT_ITEMS.format(", ".join(["(%s, %s, %s, %s)"] * len(lines))),
                        [v for pid, qty in lines for v in (rid, pid, qty, rows[pid][4])])  # fmt: skip
        source = f"redemption:{rid}"
        # 2. the account, debited only if it covers the total (held until commit)
        if ledger.debit(actor_id=actor_id, account_id=account.pk, amount=total, kind=EntryKind.REDEMPTION,
                        source=source, idempotency_key=f"redemption:{key}", note=f"{shop.name}兑换",
                        now=now, cursor=cur) is None:  # fmt: skip
            raise _Short()
        redemption = Redemption(id=rid, shop=shop, account_id=account.pk, area_code=account.area_code, total=total,
                                status=RedemptionStatus.DONE, idempotency_key=key, request_hash=digest,
                                keeper_id=actor_id, created_at=now)  # fmt: skip
        redemption._state.adding, redemption._state.db = False, connection.alias
        # 3. the audit record: its chain lock is a try-lock that never waits, so it goes
        # before the hot product rows
        audit.record(actor, "points.redemption", redemption, total=total, lines=len(lines))
        moves = []
        for pid, qty in lines:  # 4. the product rows, in pk order, each with its stock move
            price = rows[pid][4]
            if pg:
                cur.execute(_TAKE_STOCK_PG, [qty, pid, qty, price, shop.pk, -qty, source, actor_id, at])
            else:
                cur.execute(_TAKE_STOCK, [qty, pid, qty, price, shop.pk])
            row = cur.fetchone()
            if row is None:
                raise _Short(pid)
            moves.append((pid, -qty, row[0], source, actor_id, "", at))
        if not pg:
            cur.execute(_INSERT_MOVES.format(", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(moves))),
                        [v for move in moves for v in move])  # fmt: skip
    return redemption


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
