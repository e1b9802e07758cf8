"""A small points world over the named cast, for the view tests: a township rulebook,
funded household accounts in villages A and B, awards in each state, a shop per village
with stock, and a published 红黑榜 of village A with one warning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B, make_user
from xiangzhi.points import ledger, services, shop
from xiangzhi.points.accounts import account_for_household, account_for_party_member

RULES = [
    {"code": "XL01", "name": "孝老爱亲", "category": "孝老爱亲", "points": 5, "feeds": "honor"},
    {"code": "HJ01", "name": "庭院整洁", "category": "环境卫生", "points": 2, "cap": 2, "cap_period": "month"},
    {"code": "HJ09", "name": "乱倒垃圾", "category": "环境卫生", "points": -3, "feeds": "warning"},
    {"code": "ZY01", "name": "参加志愿服务", "category": "志愿服务", "points": 5, "evidence_required": True},
    {"code": "DY01", "name": "党员带头志愿服务", "category": "党员先锋", "points": 3, "subject_kind": "party_member"},
    {"code": "GB01", "name": "干部驻村走访", "category": "干部作风", "points": 2, "subject_kind": "cadre"},
]
TODAY = timezone.localdate()
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def png(name="photo.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PNG, content_type="image/png")


@dataclass
class World:
    book: object
    keeper: object
    shop_a: object
    shop_b: object
    soap: object
    oil: object
    acc_a1: object
    acc_a2: object
    acc_b1: object
    acc_villager: object
    proposed_a1: object
    publicizing_a1: object
    proposed_b1: object
    board: object
    warning_entry: object


def fund(account, points, key=None):
    ledger.post(
        actor=None,
        account=account,
        amount=points,
        kind="award",
        source="seed",
        idempotency_key=key or f"seed:{account.pk}:{points}",
    )
    account.refresh_from_db()
    return account


def rule(book, code):
    return book.rules.get(code=code)


def build(cast) -> World:
    book = services.rulebook_adopt(
        actor=cast.township_admin,
        area_code=TOWNSHIP,
        title="白塔畈镇积分制管理办法",
        adopted_on=TODAY - timedelta(days=60),
        votes_for=40,
        votes_total=45,
        rules=RULES,
    )
    keeper = make_user("keeper_a", "shop_keeper", VILLAGE_A, full_name="李管理")
    shop_a = shop.shop_create(actor=None, area_code=VILLAGE_A, name="刘冲村振风超市", keeper=keeper)
    shop_b = shop.shop_create(actor=None, area_code=VILLAGE_B, name="大岗村振风超市")
    soap = shop.product_create(actor=keeper, shop=shop_a, name="洗衣粉", price=10, unit="袋", low_stock=2)
    oil = shop.product_create(actor=keeper, shop=shop_a, name="食用油", price=50, unit="桶", low_stock=1)
    shop.stock_in(actor=keeper, product=soap, quantity=5)
    shop.stock_in(actor=keeper, product=oil, quantity=2)
    acc_a1 = fund(account_for_household(cast.household_a1), 100)
    acc_a2 = account_for_household(cast.household_a2)
    acc_b1 = fund(account_for_household(cast.household_b1), 30)
    acc_villager = fund(account_for_household(cast.villager_household), 20)
    proposed_a1 = services.award_propose(
        actor=cast.grid_worker_a1, account=acc_a1, rule=rule(book, "XL01"), occurred_on=TODAY, reason="照顾瘫痪老人"
    )
    proposed_b1 = services.award_propose(
        actor=cast.secretary_b, account=acc_b1, rule=rule(book, "XL01"), occurred_on=TODAY, reason="大岗村孝老"
    )
    # a posted warning deduction for 王秀英户 (a2) and a published list with it
    fund(acc_a2, 10)
    warn = services.award_propose(
        actor=cast.secretary_a, account=acc_a2, rule=rule(book, "HJ09"), occurred_on=TODAY, reason="河边乱倒垃圾"
    )
    services.award_review(actor=cast.secretary_a, award=warn, approve=True)
    warn.refresh_from_db()
    services.post_due_awards(now=warn.publicity_until + timedelta(seconds=1))
    publicizing_a1 = services.award_propose(
        actor=cast.grid_worker_a1, account=acc_a1, rule=rule(book, "HJ01"), occurred_on=TODAY, reason="庭院整洁"
    )
    services.award_review(actor=cast.secretary_a, award=publicizing_a1, approve=True)
    board = services.list_generate(
        actor=cast.secretary_a, village_code=VILLAGE_A, period_kind="month", period_start=TODAY.replace(day=1)
    )
    services.list_approve(actor=cast.secretary_a, board=board)
    services.list_publish(actor=cast.secretary_a, board=board)
    board.refresh_from_db()
    warning_entry = board.entries.get(side="warning")
    for a in (acc_a1, acc_a2, acc_b1, acc_villager):
        a.refresh_from_db()
    proposed_a1.refresh_from_db()
    publicizing_a1.refresh_from_db()
    return World(
        book,
        keeper,
        shop_a,
        shop_b,
        soap,
        oil,
        acc_a1,
        acc_a2,
        acc_b1,
        acc_villager,
        proposed_a1,
        publicizing_a1,
        proposed_b1,
        board,
        warning_entry,
    )


def party_member(cast):
    """刘小明 of household a1, tagged party member, with an account."""
    from xiangzhi.residents.models import Resident

    r = Resident.objects.get(name="刘小明")
    Resident.objects.filter(pk=r.pk).update(tags=",party_member,")
    r.refresh_from_db()
    return r, account_for_party_member(r)
