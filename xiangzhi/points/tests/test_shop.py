import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import make_user
from xiangzhi.points import ledger, shop
from xiangzhi.points.models import LedgerEntry, Product, Redemption, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def soap(shop_a, keeper):
    p = shop.product_create(actor=keeper, shop=shop_a, name="洗衣皂", price=10, unit="块")
    shop.stock_in(actor=keeper, product=p, quantity=5)
    p.refresh_from_db()
    return p


def test_redemption_debits_points_and_stock_in_one_go(shop_a, keeper, soap, funded):
    acc = funded(50)
    r = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 2)], idempotency_key="r1")
    acc.refresh_from_db()
    soap.refresh_from_db()
    assert (r.total, acc.balance, soap.stock) == (20, 30, 3)
    assert LedgerEntry.objects.get(source=f"redemption:{r.pk}").amount == -20
    assert StockMove.objects.filter(product=soap, reason=f"redemption:{r.pk}").get().stock_after == 3
    assert AuditEvent.objects.filter(action="points.redemption", object_id=str(r.pk)).exists()


@pytest.mark.parametrize(
    ("items", "points", "field", "text"),
    [
        ([(0, 1)], 50, "items", "不属于本超市"),
        ("soap:6", 100, "items", "库存不足：仅剩 5块"),
        ("soap:3", 20, "account", "积分余额不足：当前 20 分，本次需要 30 分"),
        ("soap:-1", 50, "items", "大于 0"),
        ("soap:0", 50, "items", "大于 0"),
        ([], 50, "items", "请选择"),
    ],
)
def test_bad_redemptions_write_nothing(shop_a, keeper, soap, funded, items, points, field, text):
    if isinstance(items, str):
        items = [(soap.pk, int(items.split(":")[1]))]
    acc = funded(points)
    before = (LedgerEntry.objects.count(), Redemption.objects.count(), StockMove.objects.count())
    with pytest.raises(ValidationError) as exc:
        shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=items, idempotency_key="bad")
    assert text in " ".join(exc.value.message_dict[field])
    assert (LedgerEntry.objects.count(), Redemption.objects.count(), StockMove.objects.count()) == before
    soap.refresh_from_db()
    assert soap.stock == 5


def test_idempotency_key_same_body_same_result_other_body_conflict(shop_a, keeper, soap, funded):
    acc = funded(100)
    a = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 1)], idempotency_key="k")
    b = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 1)], idempotency_key="k")
    assert a.pk == b.pk and Redemption.objects.count() == 1
    with pytest.raises(ledger.IdempotencyConflict):
        shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 2)], idempotency_key="k")


def test_only_the_keeper_redeems_and_only_for_households_in_the_shop_area(shop_a, keeper, soap, funded, db):
    stranger = make_user("stranger_keeper", "shop_keeper", "341524111203")
    acc = funded(100)
    with pytest.raises(PermissionDenied):
        shop.redemption_create(actor=stranger, shop=shop_a, account=acc, items=[(soap.pk, 1)], idempotency_key="x")
    outsider = funded(100, area="341524111203001")
    with pytest.raises(ValidationError):
        shop.redemption_create(actor=keeper, shop=shop_a, account=outsider, items=[(soap.pk, 1)], idempotency_key="y")


def test_cancellation_compensates_points_and_stock(shop_a, keeper, soap, funded):
    acc = funded(100)
    r = shop.redemption_create(actor=keeper, shop=shop_a, account=acc, items=[(soap.pk, 3)], idempotency_key="k")
    shop.redemption_cancel(actor=keeper, redemption=r, reason="村民退回商品")
    acc.refresh_from_db()
    soap.refresh_from_db()
    assert (acc.balance, soap.stock) == (100, 5)
    kinds = list(LedgerEntry.objects.filter(account=acc).order_by("id").values_list("kind", flat=True))
    assert kinds == ["award", "redemption", "reversal"]
    with pytest.raises(ValidationError):
        shop.redemption_cancel(actor=keeper, redemption=r, reason="再次撤销")
    assert ledger.reconcile()["mismatches"] == []


def test_stock_never_negative_in_the_database(soap):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        Product.objects.filter(pk=soap.pk).update(stock=-1)
