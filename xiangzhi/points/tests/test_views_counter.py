"""The 振风超市 counter, receipt, cancellation, stock pages and the household QR card."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from xiangzhi.points import cards
from xiangzhi.points.models import LedgerEntry, Redemption, StockMove
from xiangzhi.points.tests import viewdata


@pytest.fixture
def world(cast):
    return viewdata.build(cast)


def html(resp) -> str:
    return resp.content.decode()


def counter_url(world):
    return reverse("points:counter", args=[world.shop_a.pk])


def key_of(resp) -> str:
    m = re.search(r'name="key" value="([^"]+)"', html(resp))
    assert m, "the counter form carries an idempotency key"
    return m.group(1)


def open_household(c, world, household):
    resp = c.get(counter_url(world) + f"?household={household.pk}")
    assert resp.status_code == 200
    return resp


def test_redemption_success_debits_points_and_stock(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.household_a1)
    assert 'id="counter-balance">100<' in html(page)
    data = {
        "household": cast.household_a1.pk,
        "key": key_of(page),
        f"qty-{world.soap.pk}": "2",
        f"qty-{world.oil.pk}": "1",
        "step": "confirm",
    }
    resp = c.post(counter_url(world), data)
    assert resp.status_code == 302
    redemption = Redemption.objects.get()
    assert resp.url == reverse("points:receipt", args=[redemption.pk])
    world.acc_a1.refresh_from_db()
    world.soap.refresh_from_db()
    world.oil.refresh_from_db()
    assert (redemption.total, world.acc_a1.balance, world.soap.stock, world.oil.stock) == (70, 30, 3, 1)
    receipt = c.get(resp.url)
    body = html(receipt)
    assert receipt.status_code == 200
    assert "刘冲村振风超市" in body and "刘长喜户" in body and 'id="receipt-total">70 分<' in body
    assert 'id="receipt-balance">30 分<' in body and "李管理" in body and "兑换成功" in body


def test_preview_checks_without_writing(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.household_a1)
    data = {"household": cast.household_a1.pk, "key": key_of(page), f"qty-{world.soap.pk}": "3", "step": "preview"}
    resp = c.post(counter_url(world), data)
    assert resp.status_code == 200 and 'id="preview-total">30 分<' in html(resp)
    assert key_of(resp) == data["key"]  # the same order keeps its key
    assert not Redemption.objects.exists()


def test_not_enough_points_is_a_clear_message_and_nothing_written(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.villager_household)  # 20 points
    entries = LedgerEntry.objects.count()
    resp = c.post(
        counter_url(world), {"household": cast.villager_household.pk, "key": key_of(page), f"qty-{world.oil.pk}": "1"}
    )
    assert resp.status_code == 400
    assert "积分余额不足：当前 20 分，本次需要 50 分" in html(resp)
    world.oil.refresh_from_db()
    assert world.oil.stock == 2 and not Redemption.objects.exists() and LedgerEntry.objects.count() == entries


def test_not_enough_stock_and_bad_quantities(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.household_a1)
    key = key_of(page)
    resp = c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key, f"qty-{world.oil.pk}": "3"})
    assert resp.status_code == 400 and "“食用油”库存不足：仅剩 2桶" in html(resp)
    resp = c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key, f"qty-{world.soap.pk}": "-1"})
    assert resp.status_code == 400 and "数量必须大于 0" in html(resp)
    resp = c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key, f"qty-{world.soap.pk}": "两袋"})
    assert resp.status_code == 400 and "数量应为整数" in html(resp)
    resp = c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key})
    assert resp.status_code == 400 and "请选择要兑换的商品" in html(resp)
    assert not Redemption.objects.exists()


def test_double_submit_is_one_redemption(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.household_a1)
    data = {"household": cast.household_a1.pk, "key": key_of(page), f"qty-{world.soap.pk}": "1"}
    first = c.post(counter_url(world), data)
    second = c.post(counter_url(world), data)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert Redemption.objects.count() == 1
    world.acc_a1.refresh_from_db()
    assert world.acc_a1.balance == 90
    assert "未重复扣分" in html(c.get(second.url))


def test_key_reused_with_another_body_is_409(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.household_a1)
    key = key_of(page)
    c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key, f"qty-{world.soap.pk}": "1"})
    resp = c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key, f"qty-{world.soap.pk}": "2"})
    assert resp.status_code == 409 and "已经提交过" in html(resp)
    assert key_of(resp) != key  # a fresh form to start over
    assert Redemption.objects.count() == 1
    world.soap.refresh_from_db()
    assert world.soap.stock == 4


def test_missing_key_and_household_outside_the_shop(world, cast, client_for):
    c = client_for(world.keeper)
    resp = c.post(counter_url(world), {"household": cast.household_a1.pk, f"qty-{world.soap.pk}": "1"})
    assert resp.status_code == 400 and "页面已过期" in html(resp)
    resp = c.post(counter_url(world), {"household": cast.household_b1.pk, "key": "k" * 32, f"qty-{world.soap.pk}": "1"})
    assert resp.status_code == 400 and "请先查找并选择兑换的农户" in html(resp)
    assert not Redemption.objects.exists()


def test_search_by_initials_and_last4(world, cast, client_for):
    c = client_for(world.keeper)
    resp = c.get(reverse("points:counter_search", args=[world.shop_a.pk]), {"q": "lcx"})
    assert resp.status_code == 200 and f'data-household="{cast.household_a1.pk}"' in html(resp)
    from xiangzhi.core import crypto
    from xiangzhi.residents.models import Resident

    head = Resident.objects.get(name="王秀英")
    last4 = crypto.decrypt(bytes(head.id_number_enc))[-4:]
    resp = c.get(reverse("points:counter_search", args=[world.shop_a.pk]), {"q": last4})
    assert f'data-household="{cast.household_a2.pk}"' in html(resp)
    resp = c.get(reverse("points:counter_search", args=[world.shop_a.pk]), {"q": "zdg"})  # 张大岗 is in village B
    assert "data-household" not in html(resp) and "没有找到" in html(resp)


def test_qr_card_code_selects_the_household_and_cannot_be_forged(world, cast, client_for):
    c = client_for(world.keeper)
    code = cards.card_code(cast.household_a1.pk)
    resp = c.get(counter_url(world), {"q": code})
    assert resp.status_code == 302 and resp.url.endswith(f"?household={cast.household_a1.pk}")
    # another household's id with a1's check code, a changed digit, a made-up code: not found
    forged = code.replace(f"-{cast.household_a1.pk}-", f"-{cast.household_a2.pk}-")
    tampered = code[:-1] + ("0" if code[-1] != "0" else "1")
    for bad in (forged, tampered, f"XZH-{cast.household_a2.pk}-000000000000", "XZH-1-ABC"):
        resp = c.get(counter_url(world), {"q": bad})
        assert resp.status_code == 200 and "未找到该积分卡" in html(resp), bad
        resp = c.get(reverse("points:counter_search", args=[world.shop_a.pk]), {"q": bad})
        assert "data-household" not in html(resp)
    assert cards.parse_card_code(code.lower()) == cast.household_a1.pk  # scanners may send lower case
    # a genuine card of a household outside the shop's area finds nothing either
    resp = c.get(counter_url(world), {"q": cards.card_code(cast.household_b1.pk)})
    assert "未找到该积分卡" in html(resp)


def test_card_page_shows_the_code_and_an_inline_qr(world, cast, client_for):
    resp = client_for(cast.grid_worker_a1).get(reverse("points:card", args=[cast.household_a1.pk]))
    body = html(resp)
    assert resp.status_code == 200 and cards.card_code(cast.household_a1.pk) in body
    assert "<svg" in body and "http://" not in body.split("<svg", 1)[1].split("</svg>")[0]
    assert client_for(cast.grid_worker_a1).get(reverse("points:card", args=[cast.household_a2.pk])).status_code == 404


def test_cancel_gives_points_and_stock_back(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.household_a1)
    resp = c.post(
        counter_url(world), {"household": cast.household_a1.pk, "key": key_of(page), f"qty-{world.soap.pk}": "2"}
    )
    redemption = Redemption.objects.get()
    url = reverse("points:redemption_cancel", args=[redemption.pk])
    assert client_for(cast.secretary_a).post(url, {"reason": "退货"}).status_code == 403
    bad = c.post(url, {"reason": ""})
    assert bad.status_code == 302 and "请填写撤销原因" in html(c.get(bad.url))
    resp = c.post(url, {"reason": "农户退货"})
    assert resp.status_code == 302
    world.acc_a1.refresh_from_db()
    world.soap.refresh_from_db()
    redemption.refresh_from_db()
    assert (redemption.status, world.acc_a1.balance, world.soap.stock) == ("cancelled", 100, 5)
    body = html(c.get(resp.url))
    assert 'id="receipt-cancelled"' in body and "撤销兑换" not in body.split('id="receipt"')[1]


def test_products_and_stock_in(world, cast, client_for):
    c = client_for(world.keeper)
    shop_url = reverse("points:shop_detail", args=[world.shop_a.pk])
    resp = c.post(reverse("points:product_create", args=[world.shop_a.pk]), {"name": "", "price": "0"})
    body = html(resp)
    assert resp.status_code == 400 and "请填写商品名称" in body and "所需积分不能小于 1" in body
    resp = c.post(
        reverse("points:product_create", args=[world.shop_a.pk]),
        {"name": "肥皂", "price": "5", "unit": "块", "low_stock": "3"},
    )
    assert resp.status_code == 302 and resp.url == shop_url
    from xiangzhi.points.models import Product

    soap2 = Product.objects.get(name="肥皂")
    resp = c.post(reverse("points:stock_in", args=[soap2.pk]), {"quantity": "-4"})
    assert resp.status_code == 400 and "入库数量不能小于 1" in html(resp)
    resp = c.post(reverse("points:stock_in", args=[soap2.pk]), {"quantity": "10", "note": "镇里配送"})
    assert resp.status_code == 302
    soap2.refresh_from_db()
    assert soap2.stock == 10 and StockMove.objects.filter(product=soap2, quantity=10).exists()
    assert "“肥皂”入库 10块，现有库存 10" in html(c.get(shop_url))
    # low stock: 肥皂 is fine, 洗衣粉 (5, line 2) is fine, sell oil down to 1
    low = html(c.get(reverse("points:low_stock")))
    assert "肥皂" not in low
    # a secretary may look but not stock the shop; village B's keeper cannot even see it
    assert (
        client_for(cast.secretary_a).post(reverse("points:stock_in", args=[soap2.pk]), {"quantity": "1"}).status_code
        == 403
    )
    assert (
        client_for(cast.secretary_b).post(reverse("points:stock_in", args=[soap2.pk]), {"quantity": "1"}).status_code
        == 404
    )


def test_low_stock_list(world, cast, client_for):
    from xiangzhi.points import shop

    shop.stock_in(actor=world.keeper, product=world.oil, quantity=1)  # 3 > 1: not low
    c = client_for(world.keeper)
    assert "食用油" not in html(c.get(reverse("points:low_stock")))
    page = open_household(c, world, cast.household_a1)
    c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key_of(page), f"qty-{world.oil.pk}": "2"})
    body = html(c.get(reverse("points:low_stock")))
    assert "食用油" in body and "刘冲村振风超市" in body


def test_shop_create_is_township_only(world, cast, client_for):
    url = reverse("points:shop_create")
    assert client_for(cast.secretary_a).get(url).status_code == 403
    c = client_for(cast.township_admin)
    resp = c.post(url, {"area_code": "", "name": ""})
    assert resp.status_code == 400 and "请选择乡镇或村" in html(resp)
    resp = c.post(url, {"area_code": "341524111", "name": "白塔畈镇振风超市", "keeper": str(world.keeper.pk)})
    assert resp.status_code == 302
    from xiangzhi.points.models import Shop

    assert Shop.objects.get(name="白塔畈镇振风超市").keeper == world.keeper


def test_a_redemption_entry_is_cancelled_on_its_receipt_not_reversed(world, cast, client_for):
    c = client_for(world.keeper)
    page = open_household(c, world, cast.household_a1)
    c.post(counter_url(world), {"household": cast.household_a1.pk, "key": key_of(page), f"qty-{world.soap.pk}": "1"})
    entry = LedgerEntry.objects.get(kind="redemption")
    resp = client_for(cast.township_admin).post(reverse("points:entry_reverse", args=[entry.pk]), {"reason": "退货"})
    assert resp.status_code == 409 and "撤销兑换" in html(resp)
    assert not LedgerEntry.objects.filter(kind="reversal").exists()
