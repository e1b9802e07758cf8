"""End-to-end: an award for a 刘冲村 household from proposal to the 振风超市 counter and the
villager's own page (issue 4 item 11). Runs with ``make test-browser``.

A grid worker proposes (phone) → the village secretary approves in the review queue →
the 3-day publicity period passes (the posting job is run with its clock set just after
the award's ``publicity_until``: ``services.post_due_awards(now=…)`` through
``manage.py shell`` against the server's database) → the keeper redeems a product for the
household at the counter (phone) and opens the receipt → the villager's portal page shows
the new balance and the redemption.

The demo data has no rulebook, shop or keeper yet, so ``world()`` (run inside the
server's environment) makes what is missing through the services: 刘冲村's rule additions
with one household rule, the keeper ``liuchong_keeper`` (shop_keeper of 刘冲村), a 振风超市
with a product in stock. What the demo already has is reused.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from django.urls import reverse

from xiangzhi.core.demo import DEMO_PASSWORD, LIUCHONG

from .conftest import login, manage, no_horizontal_scroll

pytestmark = pytest.mark.browser

KEEPER = "liuchong_keeper"
KEEPER_NAME = "刘振风"
RULE_CODE = "LC-E2E"
PRODUCT_NAME = "洗洁精"
MARK = "@@world@@"


# --- server side (runs in ``manage.py shell`` against the live server's database) ----------
def world() -> None:
    """Print (after MARK) the ids the flow needs, creating what the demo lacks."""
    from xiangzhi.accounts.models import User
    from xiangzhi.accounts.services import assignment_add, user_create
    from xiangzhi.core import periods
    from xiangzhi.points import services
    from xiangzhi.points import shop as shops
    from xiangzhi.points.models import Account, Product, Shop
    from xiangzhi.residents.models import Resident

    villager = Resident.objects.select_related("household").get(user__username="liuchong_villager")
    household = villager.household
    rules = services.rules_for(household.area_code, "household").filter(
        points__gt=0, evidence_required=False, cap__isnull=True, rulebook__adopted_on__lte=periods.local_today()
    )
    rule = rules.order_by("points").first()
    if rule is None:
        services.rulebook_adopt(
            actor=None,
            area_code=LIUCHONG,
            title="刘冲村积分制补充规则（端到端测试）",
            adopted_on=periods.local_today(),
            votes_for=28,
            votes_total=31,
            rules=[
                {"code": RULE_CODE, "name": "参加村庄环境整治义务劳动", "category": "环境卫生", "points": 10},
            ],
        )
        rule = services.rules_for(household.area_code, "household").get(code=RULE_CODE)
    keeper = User.objects.filter(username=KEEPER).first()
    if keeper is None:
        keeper = user_create(
            actor=None, username=KEEPER, password=DEMO_PASSWORD, full_name=KEEPER_NAME, area_code=LIUCHONG
        )
    assignment_add(actor=None, user=keeper, area_code=LIUCHONG, role="shop_keeper")
    shop = Shop.objects.filter(area_code=LIUCHONG, keeper=keeper).order_by("id").first()
    if shop is None:
        shop = shops.shop_create(
            actor=None, area_code=LIUCHONG, name="刘冲村振风超市", keeper=keeper, address="村部一楼"
        )
    price = max(1, min(5, rule.points))
    product = Product.objects.filter(shop=shop, is_active=True, price__lte=rule.points, stock__gte=5).first()
    if product is None:
        product = shops.product_create(actor=keeper, shop=shop, name=PRODUCT_NAME, price=price, unit="瓶")
        shops.stock_in(actor=keeper, product=product, quantity=20, note="端到端测试入库")
    account = Account.objects.filter(household=household).first()
    print(
        MARK
        + json.dumps(
            {
                "household": household.pk,
                "head": household.head_name,
                "rule": rule.pk,
                "rule_code": rule.code,
                "rule_name": rule.name,
                "points": rule.points,
                "shop": shop.pk,
                "shop_name": shop.name,
                "product": product.pk,
                "product_name": product.name,
                "price": product.price,
                "balance": account.balance if account else 0,
            }
        )
    )


def post_after_publicity(household_id: int, rule_id: int) -> None:
    """The posting job, run as if the clock were one second past the award's publicity."""
    from datetime import timedelta

    from xiangzhi.points.models import Account, Award
    from xiangzhi.points.services import post_due_awards

    award = Award.objects.filter(account__household_id=household_id, rule_id=rule_id, status="publicizing").latest("id")
    posted = post_due_awards(now=award.publicity_until + timedelta(seconds=1))
    award.refresh_from_db()
    entry = award.posted_entry
    print(
        MARK
        + json.dumps(
            {
                "posted": posted,
                "status": award.status,
                "amount": entry.amount if entry else 0,
                "balance": Account.objects.get(pk=award.account_id).balance,
            }
        )
    )


def _server(function: str, *args) -> dict:
    """Call one of the functions above in the server's environment; its printed result."""
    call = f"from {__name__} import {function}; {function}{tuple(args)!r}"
    out = manage("shell", "-c", call)
    assert MARK in out, out
    return json.loads(out.split(MARK, 1)[1].strip().splitlines()[0])


# --- the flow ------------------------------------------------------------------------------
def _balance(page) -> int:
    return int(page.locator("#balance").inner_text().strip())


def test_award_reviewed_posted_redeemed_and_seen_by_villager(live_url, devices, artifacts_dir):
    started = time.monotonic()
    w = _server("world")

    # The villager's page before: the balance we start from.
    villager = devices("phone")
    vp = villager.page
    login(villager, "liuchong_villager", DEMO_PASSWORD)
    villager.goto(reverse("portal:points_me"))
    balance0 = _balance(vp)
    assert balance0 == w["balance"]

    # 1. The grid worker proposes the award from his phone.
    grid = devices("phone")
    gp = grid.page
    login(grid, "liuchong_grid1", DEMO_PASSWORD)
    grid.goto(reverse("points:award_create"))
    assert no_horizontal_scroll(gp), "the propose form scrolls sideways at 375 px"
    gp.locator("#subject-q").press_sequentially(w["head"], delay=40)
    pick = gp.locator(f"input[name=subject][value='household:{w['household']}']")
    pick.wait_for(state="attached")
    pick.check()
    rule = gp.locator("select[name=rule]")
    if rule.is_visible():
        rule.select_option(str(w["rule"]))
    else:  # tom-select (8 rules or more): search it like a user
        gp.locator("#field-rule .ts-control").click()
        gp.keyboard.type(w["rule_code"])
        gp.locator(f".ts-dropdown [data-value='{w['rule']}']").click()
    gp.fill("textarea[name=reason]", "周六参加村庄环境整治义务劳动，清理沟渠半天")
    gp.screenshot(path=artifacts_dir / "points-1-propose-phone.png", full_page=True)
    with gp.expect_navigation():
        gp.click("#award-submit")
    assert re.search(r"/points/awards/\d+/$", gp.url), f"{gp.url}: {gp.locator('.xz-field-error').all_inner_texts()}"
    award_path = re.sub(r"^https?://[^/]+", "", gp.url)
    assert "等待村评议小组评议" in gp.content()

    # 2. The secretary approves it in the review queue.
    secretary = devices("desktop")
    sp = secretary.page
    login(secretary, "liuchong_secretary", DEMO_PASSWORD)
    secretary.goto(reverse("points:award_list") + f"?status=proposed&area={LIUCHONG}")
    row = sp.locator("tr.xz-award-row", has=sp.locator(f"a[href='{award_path}']"))
    row.locator("input[name=note]").fill("经评议小组核实属实")
    row.locator("button[value=approve]").click()
    sp.locator("tr.xz-award-row .xz-flash:has-text('已通过评议')").wait_for()
    assert "公示中" in sp.locator("tr.xz-award-row", has=sp.locator(f"a[href='{award_path}']")).inner_text()
    sp.screenshot(path=artifacts_dir / "points-2-review-desktop.png", full_page=True)

    # Still in publicity: the villager sees it pending, the balance unchanged.
    villager.goto(reverse("portal:points_me"))
    assert _balance(vp) == balance0
    assert "公示" in vp.locator("#my-pending").inner_text()

    # 3. The publicity period ends without objection: the posting job posts it.
    posted = _server("post_after_publicity", w["household"], w["rule"])
    assert posted["status"] == "posted" and posted["amount"] == w["points"], posted
    # (the job posts every award due by then: other demo awards of this household may add to it)
    balance1 = posted["balance"]
    assert balance1 >= balance0 + w["points"], posted

    # 4. The keeper redeems a product for the household at the counter (phone).
    keeper = devices("phone")
    kp = keeper.page
    login(keeper, KEEPER, DEMO_PASSWORD)
    keeper.goto(reverse("points:counter", args=[w["shop"]]))
    kp.locator("#counter-q").press_sequentially(w["head"], delay=40)
    with kp.expect_navigation():
        kp.locator(f"#counter-results a[data-household='{w['household']}']").click()
    assert int(kp.locator("#counter-balance").inner_text()) == balance1
    kp.fill(f"input[name=qty-{w['product']}]", "1")
    with kp.expect_navigation():
        kp.click("button[value=preview]")
    assert kp.locator("#preview-total").inner_text().strip() == f"{w['price']} 分"
    assert no_horizontal_scroll(kp), "the counter scrolls sideways at 375 px"
    kp.screenshot(path=artifacts_dir / "points-3-counter-phone.png", full_page=True)
    with kp.expect_navigation():
        kp.click("#counter-confirm")
    assert re.search(r"/points/redemptions/\d+/$", kp.url), kp.url
    assert kp.locator("#receipt-total").inner_text().strip() == f"{w['price']} 分"
    assert kp.locator("#receipt-balance").inner_text().strip() == f"{balance1 - w['price']} 分"
    assert w["product_name"] in kp.locator("#receipt-items").inner_text()
    assert w["head"] in kp.locator("#receipt-household").inner_text()
    kp.emulate_media(media="print")
    assert not kp.locator(".xz-toolbar").first.is_visible(), "the toolbar is printed on the receipt"
    kp.screenshot(path=artifacts_dir / "points-4-receipt-print.png", full_page=True)

    # 5. The villager's page: the new balance, the award and the redemption in the history.
    villager.goto(reverse("portal:points_me"))
    assert _balance(vp) == balance1 - w["price"]
    ledger = vp.locator("#my-ledger .list-group-item")
    newest = ledger.first.inner_text()
    assert f"{w['shop_name']}兑换" in newest and f"-{w['price']}" in newest, newest
    assert f"余额 {balance1 - w['price']}" in newest, newest
    award_row = ledger.filter(has_text=w["rule_name"]).first.inner_text()
    assert f"+{w['points']}" in award_row, award_row
    assert no_horizontal_scroll(vp), "the villager's points page scrolls sideways at 375 px"
    vp.screenshot(path=artifacts_dir / "points-5-villager-phone.png", full_page=True)

    for device in (villager, grid, secretary, keeper):
        assert device.requests.urls
        assert not device.requests.foreign, f"requests left the server: {device.requests.foreign}"
    assert time.monotonic() - started < 60, "the points flow should stay under a minute"
