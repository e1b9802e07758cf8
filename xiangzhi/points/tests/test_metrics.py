"""Points KPIs against a hand-computed fixture (the numbers are worked out in the comments;
formulas in docs/kpis.md)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from unittest import mock

import pytest

from xiangzhi.core import periods
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B, make_user
from xiangzhi.points import ledger, metrics, services, shop
from xiangzhi.points.accounts import account_for_cadre, account_for_household, account_for_party_member

pytestmark = pytest.mark.django_db

TZ = periods.TZ
MARCH, APRIL, MAY = periods.month(2025, 3), periods.month(2025, 4), periods.month(2025, 5)
FEB, Q1 = periods.month(2025, 2), periods.quarter(2025, 1)

RULES = [
    {"code": "XL01", "name": "孝老爱亲", "category": "孝老爱亲", "points": 5, "feeds": "honor"},
    {"code": "HJ01", "name": "庭院整洁", "category": "环境卫生", "points": 2, "cap": 2, "cap_period": "month"},
    {"code": "HJ09", "name": "乱倒垃圾", "category": "环境卫生", "points": -3, "feeds": "warning"},
    {"code": "DY01", "name": "党员带头志愿服务", "category": "党员先锋", "points": 3, "subject_kind": "party_member"},
    {"code": "GB01", "name": "驻村走访", "category": "干部作风", "points": 2, "subject_kind": "cadre"},
    {"code": "GB09", "name": "会议缺席", "category": "干部作风", "points": -1, "subject_kind": "cadre"},
]


def at_(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


@contextmanager
def at(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def d(month: int, day: int) -> date:
    return date(2025, month, day)


class W:
    """The hand-computed world."""


@pytest.fixture
def w(cast):
    w = W()
    w.cast = cast
    sec_a, sec_b = cast.secretary_a, cast.secretary_b
    w.book = services.rulebook_adopt(actor=None, area_code=TOWNSHIP, title="白塔畈镇积分制管理办法", adopted_on=d(1, 1),
                                     votes_for=40, votes_total=45, rules=RULES)  # fmt: skip
    rule = {r.code: r for r in w.book.rules.all()}
    a1 = account_for_household(cast.household_a1)
    a2 = account_for_household(cast.household_a2)
    b1 = account_for_household(cast.household_b1)
    vil = account_for_household(cast.villager_household)
    w.a1, w.a2, w.b1, w.vil = a1, a2, b1, vil

    def seed(account, day, amount, kind="award"):
        with at(at_(day)):
            return ledger.post(actor=None, account=account.pk, amount=amount, kind=kind, source="seed",
                               idempotency_key=f"seed:{account.pk}:{day}:{kind}")  # fmt: skip

    def posted(account, code, occurred, posted_on, actor=sec_a):
        with at(at_(occurred, 9)):
            award = services.award_propose(actor=actor, account=account, rule=rule[code], occurred_on=occurred,
                                           reason="核实属实")  # fmt: skip
            services.award_review(actor=actor, award=award, approve=True, now=at_(occurred, 9))
        with at(at_(posted_on)):
            assert services.post_due_awards(now=at_(posted_on)) == 1
        award.refresh_from_db()
        return award

    keeper = make_user("keeper_m", "shop_keeper", VILLAGE_A)
    shop_a = shop.shop_create(actor=None, area_code=VILLAGE_A, name="刘冲村振风超市", keeper=keeper)
    shop_b = shop.shop_create(actor=None, area_code=VILLAGE_B, name="大岗村振风超市")
    soap = shop.product_create(actor=keeper, shop=shop_a, name="洗衣粉", price=10)
    oil = shop.product_create(actor=keeper, shop=shop_a, name="食用油", price=50)
    rice = shop.product_create(actor=cast.township_admin, shop=shop_b, name="大米", price=30)
    shop.stock_in(actor=keeper, product=soap, quantity=10)
    shop.stock_in(actor=keeper, product=oil, quantity=3)
    shop.stock_in(actor=cast.township_admin, product=rice, quantity=4)

    def redeem(product, qty, day, key):
        with at(at_(day)):
            return shop.redemption_create(actor=keeper, shop=shop_a, account=a1, items=[(product.pk, qty)],
                                          idempotency_key=key)  # fmt: skip

    def cancel(redemption, day):
        with at(at_(day)):
            shop.redemption_cancel(actor=keeper, redemption=redemption, reason="顾客退回")

    # --- the ledger (village A unless noted), balances of a1 in brackets
    seed(a1, d(2, 20), 100)  # Feb: +100 [100]
    seed(a2, d(3, 1), 10)  # +10
    seed(b1, d(3, 3), 30)  # village B: +30
    posted(a1, "XL01", d(2, 27), d(3, 3))  # occurred Feb, posted Mar: +5 [105]
    w.xl_march = posted(a1, "XL01", d(3, 2), d(3, 6))  # +5 [110]
    posted(a2, "HJ09", d(3, 5), d(3, 9))  # −3 (warning)
    posted(vil, "HJ01", d(3, 10), d(3, 14))  # +2
    redeem(soap, 2, d(3, 15), "r6")  # −20 [90]
    posted(a1, "HJ01", d(3, 12), d(3, 16))  # +2 [92]
    r7 = redeem(oil, 1, d(3, 20), "r7")  # −50 [42], cancelled in April
    r8 = redeem(soap, 1, d(3, 25), "r8")  # −10 [32]
    cancel(r8, d(3, 26))  # +10 [42]
    with at(at_(d(3, 28))):
        ledger.reverse(actor=sec_a, entry=w.xl_march.posted_entry, reason="重复申报")  # −5 [37]
    seed(vil, d(3, 30), -1, kind="expiry")  # −1
    cancel(r7, d(4, 2))  # April: +50 [87]
    posted(b1, "XL01", d(4, 2), d(4, 6), actor=sec_b)  # April, village B: +5
    with at(at_(d(4, 10))):  # proposed only, never posted
        services.award_propose(actor=sec_a, account=a2, rule=rule["XL01"], occurred_on=d(4, 10), reason="照顾老人")

    # --- 红黑榜: March (month) and Q1 (quarter) of village A, published 4/1; an April draft
    with at(at_(d(4, 1))):
        w.march = services.list_generate(actor=None, village_code=VILLAGE_A, period_kind="month",
                                         period_start=d(3, 1))  # fmt: skip
        w.q1 = services.list_generate(actor=None, village_code=VILLAGE_A, period_kind="quarter",
                                      period_start=d(1, 1))  # fmt: skip
        for board in (w.march, w.q1):
            services.list_approve(actor=sec_a, board=board)
            services.list_publish(actor=sec_a, board=board, now=at_(d(4, 1)))
    with at(at_(d(4, 20))):
        services.list_generate(actor=None, village_code=VILLAGE_A, period_kind="month", period_start=d(4, 1))
    # appeals of 王秀英户 (a2): March entry filed 4/5 upheld 4/6; Q1 entry filed 4/6 dismissed 4/7, again 4/8
    march_warning = w.march.entries.get(side="warning")
    q1_warning = w.q1.entries.get(side="warning")
    with at(at_(d(4, 5))):
        first = services.appeal_file(actor=sec_a, entry=march_warning, reason="垃圾不是我家倒的")
    with at(at_(d(4, 6))):
        services.appeal_decide(actor=sec_a, appeal=first, upheld=True, decision="经核实系他人所为")
        second = services.appeal_file(actor=sec_a, entry=q1_warning, reason="请求撤销黑榜")
    with at(at_(d(4, 7))):
        services.appeal_decide(actor=sec_a, appeal=second, upheld=False, decision="事实清楚")
    with at(at_(d(4, 8))):
        services.appeal_file(actor=sec_a, entry=q1_warning, reason="有新证据")

    # --- May: the secretary's 积分管理 and a party member
    w.cadre = account_for_cadre(sec_a, VILLAGE_A)
    posted(w.cadre, "GB01", d(5, 3), d(5, 7))  # +2
    posted(w.cadre, "GB01", d(5, 8), d(5, 12))  # +2
    posted(w.cadre, "GB09", d(5, 13), d(5, 17))  # −1 → balance 3
    from xiangzhi.residents.models import Resident

    w.member = Resident.objects.get(name="刘小明")
    w.party = account_for_party_member(w.member)
    posted(w.party, "DY01", d(5, 4), d(5, 8))  # +3
    return w


def test_points_flow_of_a_village_in_march(w):
    """issued 10 + 5 + 5 + 2 + 2 − 5 (reversed award) = 19; deducted 3; redeemed 20 + 50 + 10
    − 10 (cancelled the next day) = 70; expired 1; net −55 over 12 entries."""
    flow = metrics.points_flow(VILLAGE_A, MARCH)
    assert flow.as_dict() == {"issued": 19, "deducted": 3, "redeemed": 70, "expired": 1, "net": -55, "entries": 12}
    assert flow.net == flow.issued - flow.deducted - flow.redeemed - flow.expired


def test_points_flow_reversals_count_when_booked(w):
    """The oil redeemed in March and cancelled on 4/2 lowers April's redemptions."""
    assert metrics.points_flow(VILLAGE_A, APRIL).as_dict() == {
        "issued": 0, "deducted": 0, "redeemed": -50, "expired": 0, "net": 50, "entries": 1}  # fmt: skip
    town = metrics.points_flow(TOWNSHIP, MARCH)
    assert (town.issued, town.net, town.entries) == (49, -25, 13)  # + 大岗村 +30
    assert metrics.points_flow(TOWNSHIP, APRIL).issued == 5
    grid2 = metrics.points_flow(w.cast.grid_a2.code, MARCH)  # 王秀英户 only: +10 −3
    assert (grid2.issued, grid2.deducted, grid2.net) == (10, 3, 7)


def test_participation(w):
    """March, 刘冲村: households a1, a2, villager (3); with a posted award that occurred in
    March: a1 (HJ01; its reversed XL01 does not count) and the villager → 2/3."""
    assert metrics.participation(VILLAGE_A, MARCH).as_dict() == {
        "households": 3, "participating": 2, "rate": Decimal("66.67")}  # fmt: skip
    assert metrics.participation(TOWNSHIP, MARCH).as_dict() == {
        "households": 4, "participating": 2, "rate": Decimal("50.00")}  # fmt: skip
    assert metrics.participation(VILLAGE_A, FEB).rate == Decimal("33.33")  # a1's XL01 of 2/27
    # April: a2's award is only proposed; b1 (village B) participates in the township
    assert metrics.participation(VILLAGE_A, APRIL).participating == 0
    assert metrics.participation(TOWNSHIP, APRIL).participating == 1
    assert metrics.participation("341524105", MARCH).rate is None  # no households: "—"


def test_shop_turnover_and_stock_value(w):
    """March at 刘冲村's shop: r6 done (20 points, 2 bags); r7 and r8 cancelled since.
    Stock now: soap 10 − 2 − 1 + 1 = 8 × 10 = 80, oil 3 − 1 + 1 = 3 × 50 = 150 → 230;
    大岗村 rice 4 × 30 = 120 → township 350."""
    assert metrics.shop_turnover(VILLAGE_A, MARCH).as_dict() == {
        "redemptions": 1, "points": 20, "items": 2, "cancelled": 2}  # fmt: skip
    assert metrics.shop_turnover(VILLAGE_B, MARCH).as_dict() == {
        "redemptions": 0, "points": 0, "items": 0, "cancelled": 0}  # fmt: skip
    assert metrics.stock_value(VILLAGE_A) == 230
    assert metrics.stock_value(TOWNSHIP) == 350


def test_list_counts(w):
    """March list: honour a1 (7) and the villager (2); its warning (a2) was removed by the
    upheld appeal. Q1 adds the quarter list: honour 2, warning 1 (appeal dismissed)."""
    assert metrics.list_counts(VILLAGE_A, MARCH).as_dict() == {"lists": 1, "honor": 2, "warning": 0}
    assert metrics.list_counts(VILLAGE_A, Q1).as_dict() == {"lists": 2, "honor": 4, "warning": 1}
    assert metrics.list_counts(VILLAGE_A, APRIL).as_dict() == {"lists": 0, "honor": 0, "warning": 0}  # a draft
    assert metrics.list_counts(w.cast.grid_a1.code, MARCH).lists == 1  # a grid reads its village's lists
    assert metrics.list_counts(VILLAGE_A, MARCH, subject_kind="cadre").lists == 0


def test_appeals(w):
    assert metrics.appeals(VILLAGE_A, APRIL).as_dict() == {
        "filed": 3, "upheld": 1, "dismissed": 1, "pending": 1, "upheld_rate": Decimal("50.00")}  # fmt: skip
    assert metrics.appeals(VILLAGE_A, MARCH).as_dict() == {
        "filed": 0, "upheld": 0, "dismissed": 0, "pending": 0, "upheld_rate": None}  # fmt: skip
    assert metrics.appeals(VILLAGE_B, APRIL).filed == 0


def test_cadre_and_party_member_points(w):
    """May: the secretary +2 +2 −1 → earned 4, deducted 1, net 3; 刘小明 +3."""
    cast = w.cast
    assert metrics.cadre_points(cast.secretary_a, MAY).as_dict() == {
        "account": w.cadre.pk, "name": w.cadre.name, "earned": 4, "deducted": 1, "net": 3, "balance": 3}  # fmt: skip
    assert metrics.cadre_points(w.cadre, MAY) == metrics.cadre_points(cast.secretary_a, MAY)
    assert metrics.cadre_points(cast.secretary_a, APRIL).net == 0
    nobody = metrics.cadre_points(cast.secretary_b, MAY)
    assert (nobody.account, nobody.net) == (None, 0)
    assert metrics.cadre_points(w.member, MAY).earned == 3
    assert [(s.name, s.net) for s in metrics.subject_totals(TOWNSHIP, MAY)] == [(w.cadre.name, 3)]
    assert [(s.name, s.net) for s in metrics.subject_totals(VILLAGE_A, MAY, subject_kind="party_member")] == [
        ("刘小明", 3)
    ]
    cadres = metrics.points_flow(VILLAGE_A, MAY, subject_kind="cadre")
    assert (cadres.issued, cadres.deducted) == (4, 1)


def test_summary_has_every_number(w):
    s = metrics.summary(VILLAGE_A, MARCH)
    assert set(s) == {"flow", "participation", "turnover", "stock_value", "lists", "appeals"}
    assert s["flow"]["redeemed"] == 70 and s["stock_value"] == 230


def test_rate_rounds_half_up():
    assert metrics.rate(2, 3) == Decimal("66.67")
    assert metrics.rate(1, 8) == Decimal("12.50")
    assert metrics.rate(0, 0) is None
