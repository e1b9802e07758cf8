"""The counter's redemption as a handful of statements: what it sends, and what it says when
a conditional update finds too little because something changed after the unlocked read."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xiangzhi.audit.models import AuditEvent
from xiangzhi.audit.services import verify_chain
from xiangzhi.points import ledger, shop
from xiangzhi.points.models import LedgerEntry, Product, Redemption, RedemptionItem, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def goods(shop_a, keeper):
    made = []
    for name, price in (("洗衣皂", 10), ("食盐", 3)):
        p = shop.product_create(actor=keeper, shop=shop_a, name=name, price=price, unit="袋")
        shop.stock_in(actor=keeper, product=p, quantity=5)
        p.refresh_from_db()
        made.append(p)
    return made


def _writes():
    return (Redemption.objects.count(), RedemptionItem.objects.count(), LedgerEntry.objects.count(),
            StockMove.objects.count(), AuditEvent.objects.count())  # fmt: skip


def test_a_redemption_is_a_handful_of_statements(shop_a, keeper, goods, funded):
    acc = funded(100)
    soap, salt = goods
    with CaptureQueriesContext(connection) as q:
        r = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(salt.pk, 2), (soap.pk, 1)],
                                   idempotency_key="few")  # fmt: skip
    sql = [x["sql"] for x in q.captured_queries
           if x["sql"] not in ("BEGIN", "COMMIT") and not x["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    if connection.vendor == "postgresql":
        # read; redemption + items; debit + entry; audit lock, audit insert; one per product (+ stock move)
        assert len(sql) == 7, sql
    else:
        # read; redemption, items; debit, entry; audit tail, audit insert; one per product; stock moves
        assert len(sql) == 10, sql
    assert not any("FOR UPDATE" in s.upper() for s in sql)
    acc.refresh_from_db()
    assert (r.total, acc.balance) == (16, 84)
    assert list(r.items.order_by("product_id").values_list("product_id", "quantity", "price")) == sorted(
        [(soap.pk, 1, 10), (salt.pk, 2, 3)])  # fmt: skip
    moves = dict(StockMove.objects.filter(reason=f"redemption:{r.pk}").values_list("product_id", "stock_after"))
    assert moves == {soap.pk: 4, salt.pk: 3}
    entry = LedgerEntry.objects.get(source=f"redemption:{r.pk}")
    assert (entry.amount, entry.balance_after, entry.kind, entry.actor_id) == (-16, 84, "redemption", keeper.pk)
    assert entry.idempotency_key == "redemption:few" and entry.area_code == acc.area_code
    assert AuditEvent.objects.get(action="points.redemption", object_id=str(r.pk)).details == {"total": 16, "lines": 2}
    assert ledger.reconcile()["mismatches"] == [] and verify_chain()[0]


def _stale_read(monkeypatch, change):
    """The unlocked read sees the products as they were; ``change`` then happens before the
    transaction takes the rows (as a concurrent redemption or a keeper would)."""
    real = shop._read
    calls = []

    def read(lines, key):
        result = real(lines, key)
        calls.append(1)
        if len(calls) == 1:
            change()
        return result

    monkeypatch.setattr(shop, "_read", read)
    return calls


def test_stock_taken_after_the_read_is_refused_with_the_stock_left(shop_a, keeper, goods, funded, monkeypatch):
    soap, salt = goods
    acc = funded(100)
    _stale_read(monkeypatch, lambda: Product.objects.filter(pk=soap.pk).update(stock=1))
    before = _writes()
    with pytest.raises(ValidationError) as exc:
        shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 2), (salt.pk, 1)],
                               idempotency_key="late")  # fmt: skip
    assert exc.value.message_dict == {"items": ["“洗衣皂”库存不足：仅剩 1袋"]}
    assert _writes() == before
    acc.refresh_from_db()
    salt.refresh_from_db()
    assert acc.balance == 100 and salt.stock == 5  # the other product's row was rolled back too


def test_points_spent_after_the_read_are_refused_with_the_current_balance(shop_a, keeper, goods, funded,
                                                                         monkeypatch):  # fmt: skip
    soap, _ = goods
    acc = funded(30)
    _stale_read(monkeypatch, lambda: ledger.post(actor=None, account=acc.pk, amount=-25, kind="deduction",
                                                 source="test", idempotency_key="spend"))  # fmt: skip
    before = _writes()
    with pytest.raises(ValidationError) as exc:
        shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 2)], idempotency_key="k")
    assert exc.value.message_dict == {"account": ["积分余额不足：当前 5 分，本次需要 20 分"]}
    redemptions, items, entries, moves, events = before
    assert _writes() == (redemptions, items, entries + 1, moves, events)  # only the deduction


def test_a_price_changed_after_the_read_is_charged_at_the_new_price(shop_a, keeper, goods, funded, monkeypatch):
    soap, _ = goods
    acc = funded(100)
    calls = _stale_read(monkeypatch, lambda: Product.objects.filter(pk=soap.pk).update(price=12))
    r = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 2)], idempotency_key="p")
    assert len(calls) == 2 and r.total == 24
    assert r.items.get().price == 12
    acc.refresh_from_db()
    assert acc.balance == 76 and ledger.reconcile()["mismatches"] == []


def test_a_product_withdrawn_after_the_read_is_refused(shop_a, keeper, goods, funded, monkeypatch):
    soap, _ = goods
    acc = funded(100)
    _stale_read(monkeypatch, lambda: Product.objects.filter(pk=soap.pk).update(is_active=False))
    with pytest.raises(ValidationError) as exc:
        shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 1)], idempotency_key="w")
    assert exc.value.message_dict == {"items": ["所选商品不属于本超市或已下架"]}


def test_a_refusal_after_a_twin_succeeded_returns_the_twin(shop_a, keeper, goods, funded, monkeypatch):
    """The key was used by a concurrent request that committed after our read: we return its
    redemption, not a refusal caused by the stock or points it took."""
    soap, _ = goods
    acc = funded(10)

    def twin():
        monkeypatch.undo()
        shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 1)], idempotency_key="t")

    real = shop._read
    state = {"first": True}

    def read(lines, key):
        result = real(lines, key)
        if state.pop("first", False):
            twin()
        return result

    monkeypatch.setattr(shop, "_read", read)
    r = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 1)], idempotency_key="t")
    assert Redemption.objects.get() == r and LedgerEntry.objects.filter(kind="redemption").count() == 1


@pytest.mark.postgres
def test_the_statements_are_prepared_on_postgresql(pg_only, shop_a, keeper, goods, funded):
    acc = funded(100)
    shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(goods[0].pk, 1)], idempotency_key="pp")
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cur.fetchall()]
    assert any("points_stockmove" in s for s in statements)
    assert any("audit_auditevent" in s for s in statements)
