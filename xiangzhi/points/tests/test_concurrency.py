"""Concurrency claims, proven on PostgreSQL with real threads (each its own connection)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from xiangzhi.points import ledger, shop
from xiangzhi.points.models import Account, LedgerEntry, Product, Redemption

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 16


def _run(fn, jobs):
    def wrapped(job):
        try:
            return fn(job)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(wrapped, jobs))


def _ledger_consistent():
    for acc in Account.objects.all():
        total = LedgerEntry.objects.filter(account=acc).aggregate(s=Sum("amount"))["s"] or 0
        assert acc.balance == total >= 0
    assert ledger.reconcile()["mismatches"] == []


def test_1000_concurrent_redemptions_against_stock_of_100_sell_exactly_100(pg_only, shop_a, keeper, funded):
    product = shop.product_create(actor=keeper, shop=shop_a, name="食用油", price=1, unit="桶")
    shop.stock_in(actor=keeper, product=product, quantity=100)
    accounts = [funded(30, name=f"户{i}") for i in range(50)]

    def redeem(i):
        acc = accounts[i % len(accounts)]
        try:
            shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(product.pk, 1)],
                                   idempotency_key=f"job-{i}")
            return "ok"
        except ValidationError:
            return "refused"

    results = _run(redeem, range(1000))
    product.refresh_from_db()
    assert results.count("ok") == 100
    assert product.stock == 0
    assert Redemption.objects.count() == 100
    _ledger_consistent()


def test_50_concurrent_spends_of_a_balance_that_covers_one_succeed_once(pg_only, shop_a, keeper, funded):
    product = shop.product_create(actor=keeper, shop=shop_a, name="毛巾", price=10, unit="条")
    shop.stock_in(actor=keeper, product=product, quantity=100)
    acc = funded(10)

    def spend(i):
        try:
            shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(product.pk, 1)],
                                   idempotency_key=f"spend-{i}")
            return "ok"
        except ValidationError:
            return "refused"

    results = _run(spend, range(50))
    acc.refresh_from_db()
    product.refresh_from_db()
    assert results.count("ok") == 1 and acc.balance == 0 and product.stock == 99
    _ledger_consistent()


def test_100_concurrent_replays_of_one_key_make_one_entry(pg_only, shop_a, keeper, funded):
    product = shop.product_create(actor=keeper, shop=shop_a, name="牙膏", price=5)
    shop.stock_in(actor=keeper, product=product, quantity=10)
    acc = funded(100)

    def replay(_):
        r = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(product.pk, 1)],
                                   idempotency_key="same-key")
        return r.pk

    ids = _run(replay, range(100))
    assert len(set(ids)) == 1
    assert LedgerEntry.objects.filter(kind="redemption").count() == 1
    product.refresh_from_db()
    assert product.stock == 9
    _ledger_consistent()


def test_concurrent_awards_to_one_account_all_land(pg_only, funded):
    acc = funded(0)

    def award(i):
        ledger.post(actor=None, account=acc.pk, amount=3, kind="award", source=f"award:{i}",
                    idempotency_key=f"award-{i}")

    _run(award, range(200))
    acc.refresh_from_db()
    assert acc.balance == 600
    assert list(LedgerEntry.objects.filter(account=acc).order_by("id").values_list("balance_after", flat=True)) == list(
        range(3, 601, 3)
    )
    _ledger_consistent()


def test_product_rows_locked_in_a_fixed_order(pg_only, shop_a, keeper, funded):
    """Two baskets naming the same products in opposite order never deadlock."""
    a = shop.product_create(actor=keeper, shop=shop_a, name="盐", price=1)
    b = shop.product_create(actor=keeper, shop=shop_a, name="醋", price=1)
    for p in (a, b):
        shop.stock_in(actor=keeper, product=p, quantity=1000)
    accounts = [funded(100, name=f"户{i}") for i in range(20)]

    def basket(i):
        items = [(a.pk, 1), (b.pk, 1)] if i % 2 else [(b.pk, 1), (a.pk, 1)]
        shop.redemption_create(actor=keeper, shop=shop_a, account=accounts[i % 20], items=items,
                               idempotency_key=f"basket-{i}")

    _run(basket, range(200))
    assert Product.objects.get(pk=a.pk).stock == 800 and Product.objects.get(pk=b.pk).stock == 800
    _ledger_consistent()
