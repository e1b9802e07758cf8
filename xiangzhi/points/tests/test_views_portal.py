"""The villager's points pages on the portal: own household only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from xiangzhi.cases.models import Case
from xiangzhi.core.testing import VILLAGE_A, make_user
from xiangzhi.points import services
from xiangzhi.points.models import Appeal, Award, Objection
from xiangzhi.points.tests import viewdata
from xiangzhi.points.tests.viewdata import TODAY, png, rule

LOGIN = reverse("accounts:login")
PAGES = [
    "portal:points_me",
    "portal:points_shop",
    "portal:points_claim",
    "portal:points_publicity",
    "portal:points_my_lists",
]


@pytest.fixture
def world(cast):
    return viewdata.build(cast)


def html(resp) -> str:
    return resp.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_login_and_a_linked_household(world, cast, client, client_for, name):
    url = reverse(name)
    anon = client.get(url)
    assert anon.status_code == 302 and anon.url.startswith(LOGIN)
    assert client_for(cast.villager).get(url).status_code == 200
    unlinked = make_user("villager_x", "villager", cast.grid_a1.code)
    body = html(client_for(unlinked).get(url))
    assert 'id="not-linked"' in body  # no household, so nothing of anybody's
    assert "刘长喜" not in body and "陈村民" not in body


def test_me_shows_own_balance_and_history(world, cast, client_for):
    services.award_propose(
        actor=cast.villager,
        account=world.acc_villager,
        rule=rule(world.book, "XL01"),
        occurred_on=TODAY,
        reason="照顾邻居老人",
        claimed=True,
    )
    body = html(client_for(cast.villager).get(reverse("portal:points_me")))
    assert 'id="balance">20<' in body and "陈村民户" in body and "正在评议" in body
    assert body.count('id="entry-') == world.acc_villager.entries.count()
    assert "刘长喜" not in body


def test_staff_member_is_not_shown_a_household_here(world, cast, client_for):
    """A secretary sees the whole village on staff pages; this portal page is only ever
    one's own household."""
    body = html(client_for(cast.secretary_a).get(reverse("portal:points_me")))
    assert 'id="not-linked"' in body and "刘长喜" not in body


def test_catalogue_of_my_village_and_township(world, cast, client_for):
    body = html(client_for(cast.villager).get(reverse("portal:points_shop")))
    assert "刘冲村振风超市" in body and "洗衣粉" in body and "10</span> 分/袋" in body
    assert "大岗村振风超市" not in body


def test_claim_with_a_photo(world, cast, client_for):
    c = client_for(cast.villager)
    page = html(c.get(reverse("portal:points_claim")))
    assert "参加志愿服务" in page and "乱倒垃圾" not in page  # villagers claim only additions
    resp = c.post(
        reverse("portal:points_claim"),
        {"rule": rule(world.book, "ZY01").pk, "occurred_on": TODAY.isoformat(), "reason": "参加河道清理"},
    )
    assert resp.status_code == 400 and "该规则需要上传佐证照片" in html(resp)
    resp = c.post(
        reverse("portal:points_claim"),
        {
            "rule": rule(world.book, "ZY01").pk,
            "evidence": png(),
            "occurred_on": TODAY.isoformat(),
            "reason": "参加河道清理",
        },
    )
    assert resp.status_code == 302
    award = Award.objects.order_by("-id").first()
    assert award.claimed and award.status == "proposed" and award.account == world.acc_villager
    assert award.evidence
    # the photo is theirs to see, and the staff review queue shows it as a villager's claim
    assert client_for(cast.villager).get(reverse("points:award_evidence", args=[award.pk])).status_code == 200
    queue = html(client_for(cast.secretary_a).get(reverse("points:award_list")))
    assert f'id="award-{award.pk}"' in queue and "村民申报" in queue


def test_publicity_and_objection(world, cast, client_for):
    c = client_for(cast.villager)
    body = html(c.get(reverse("portal:points_publicity")))
    assert f'id="award-{world.publicizing_a1.pk}"' in body and "刘长喜户" in body
    assert f'id="award-{world.proposed_a1.pk}"' not in body  # not yet reviewed: not public
    url = reverse("portal:points_object", args=[world.publicizing_a1.pk])
    resp = c.post(url, {"reason": "他家门口还堆着柴火"})
    assert resp.status_code == 302
    case = Case.objects.get(pk=Objection.objects.get().case_id)
    assert case.tracking_code in html(c.get(resp.url))
    # a proposal under review cannot be reached, and after the period the page says so
    assert c.get(reverse("portal:points_object", args=[world.proposed_a1.pk])).status_code == 404
    other = services.award_propose(
        actor=cast.secretary_a, account=world.acc_a2, rule=rule(world.book, "XL01"), occurred_on=TODAY, reason="孝老"
    )
    services.award_review(actor=cast.secretary_a, award=other, approve=True, now=other.created_at - timedelta(days=5))
    late = c.post(reverse("portal:points_object", args=[other.pk]), {"reason": "我觉得不对劲"})
    assert late.status_code == 409 and "公示期已结束" in html(late)


def test_objection_to_another_village_is_404(world, cast, client_for):
    b_award = world.proposed_b1
    services.award_review(actor=cast.secretary_b, award=b_award, approve=True)
    resp = client_for(cast.villager).get(reverse("portal:points_object", args=[b_award.pk]))
    assert resp.status_code == 404


@pytest.fixture
def villager_warned(world, cast):
    """The villager's household on a published quarter warning list."""
    warn = services.award_propose(
        actor=cast.secretary_a,
        account=world.acc_villager,
        rule=rule(world.book, "HJ09"),
        occurred_on=TODAY,
        reason="焚烧秸秆",
    )
    services.award_review(actor=cast.secretary_a, award=warn, approve=True)
    warn.refresh_from_db()
    services.post_due_awards(now=warn.publicity_until + timedelta(seconds=1))
    start = TODAY.replace(month=(TODAY.month - 1) // 3 * 3 + 1, day=1)
    board = services.list_generate(
        actor=cast.secretary_a, village_code=VILLAGE_A, period_kind="quarter", period_start=start
    )
    services.list_approve(actor=cast.secretary_a, board=board)
    services.list_publish(actor=cast.secretary_a, board=board)
    return board.entries.get(side="warning", account=world.acc_villager)


def test_my_lists_and_appeal(world, cast, client_for, villager_warned):
    c = client_for(cast.villager)
    body = html(c.get(reverse("portal:points_my_lists")))
    assert f'id="my-entry-{villager_warned.pk}"' in body and "焚烧秸秆" in body
    assert f'id="my-entry-{world.warning_entry.pk}"' not in body  # 王秀英户's entry is not theirs
    url = reverse("portal:points_appeal", args=[villager_warned.pk])
    short = c.post(url, {"reason": "冤"})
    assert short.status_code == 400 and "至少 4 个字" in html(short)
    resp = c.post(url, {"reason": "那天是在自家地里烧落叶，已经报备过"})
    assert resp.status_code == 302
    assert Appeal.objects.filter(entry=villager_warned, status="pending").count() == 1
    again = c.post(url, {"reason": "再申诉一次看看"})
    assert again.status_code == 409 and "已有待处理的申诉" in html(again)
    assert c.get(reverse("portal:points_appeal", args=[world.warning_entry.pk])).status_code == 404
