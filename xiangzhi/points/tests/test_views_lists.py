"""红黑榜 pages: drafting, editing, approving, publishing, the poster (warning names
masked), appeals, and the public village page; the rulebook pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from xiangzhi.core.testing import VILLAGE_A
from xiangzhi.points import services
from xiangzhi.points.models import ListEntry, PointRule, RedBlackList, Rulebook
from xiangzhi.points.tests import viewdata
from xiangzhi.points.tests.viewdata import TODAY


@pytest.fixture
def world(cast):
    return viewdata.build(cast)


def html(resp) -> str:
    return resp.content.decode()


@pytest.fixture
def quarter(world, cast):
    """A quarter draft of village A: 刘长喜户 on the red side (a posted +2), 王秀英户 on
    the black side (a posted −3 warning)."""
    services.post_due_awards(now=world.publicizing_a1.publicity_until + timedelta(seconds=1))
    start = TODAY.replace(month=(TODAY.month - 1) // 3 * 3 + 1, day=1)
    return services.list_generate(
        actor=cast.secretary_a, village_code=VILLAGE_A, period_kind="quarter", period_start=start
    )


def test_generate_a_draft_from_the_form(world, cast, client_for):
    c = client_for(cast.secretary_a)
    page = html(c.get(reverse("points:board_list")))
    assert 'id="generate-form"' in page and world.board.period_label in page
    start = TODAY.replace(month=(TODAY.month - 1) // 3 * 3 + 1, day=1)
    resp = c.post(
        reverse("points:board_generate"),
        {"village": VILLAGE_A, "subject_kind": "household", "period": f"quarter:{start.isoformat()}"},
    )
    board = RedBlackList.objects.get(period_kind="quarter")
    assert resp.status_code == 302 and resp.url == reverse("points:board_detail", args=[board.pk])
    # the published month cannot be generated again
    resp = c.post(
        reverse("points:board_generate"),
        {"village": VILLAGE_A, "subject_kind": "household", "period": f"month:{TODAY.replace(day=1).isoformat()}"},
    )
    assert "已审定或发布，不能重新生成" in html(c.get(resp.url))
    # grid workers may read lists but not draft them; village B cannot draft village A's
    assert client_for(cast.grid_worker_a1).post(reverse("points:board_generate"), {}).status_code == 403
    b = client_for(cast.secretary_b)
    resp = b.post(
        reverse("points:board_generate"),
        {"village": VILLAGE_A, "subject_kind": "household", "period": f"quarter:{start.isoformat()}"},
    )
    assert "请选择有效的村" in html(b.get(resp.url))


def test_draft_shows_evidence_and_can_be_edited_then_approved_and_published(world, cast, client_for, quarter):
    c = client_for(cast.secretary_a)
    url = reverse("points:board_detail", args=[quarter.pk])
    body = html(c.get(url))
    assert "刘长喜户" in body and "王秀英户" in body
    assert "HJ09 乱倒垃圾" in body and "河边乱倒垃圾" in body and TODAY.isoformat() in body  # rule + reason + date
    honor = quarter.entries.get(side="honor")
    assert c.post(reverse("points:entry_remove", args=[honor.pk]), {"reason": ""}).status_code == 302
    honor.refresh_from_db()
    assert not honor.removed
    c.post(reverse("points:entry_remove", args=[honor.pk]), {"reason": "经核实不符合条件"})
    honor.refresh_from_db()
    assert honor.removed and honor.removed_reason == "经核实不符合条件"
    assert c.post(reverse("points:board_publish", args=[quarter.pk])).status_code == 302  # not approved yet
    quarter.refresh_from_db()
    assert quarter.status == "draft"
    c.post(reverse("points:board_approve", args=[quarter.pk]))
    c.post(reverse("points:board_publish", args=[quarter.pk]))
    quarter.refresh_from_db()
    assert quarter.status == "published" and quarter.publicity_until is not None
    warning = quarter.entries.get(side="warning")
    resp = c.post(reverse("points:entry_remove", args=[warning.pk]), {"reason": "改主意了"})
    assert "只能修改草稿" in html(c.get(resp.url))


def test_poster_masks_warning_names(world, cast, client_for, quarter):
    c = client_for(cast.secretary_a)
    url = reverse("points:board_poster", args=[quarter.pk])
    body = html(c.get(url))
    assert "草稿" in body  # a draft poster says so
    warning_part = body.split('id="poster-warning"')[1]
    honor_part = body.split('id="poster-honor"')[1].split('id="poster-warning"')[0]
    assert "王**户" in warning_part and "王秀英" not in body
    assert "刘长喜户" in honor_part
    full = html(c.get(url + "?names=full&size=a3"))
    assert "王秀英户" in full and "xz-a3" in full
    # who may read but not edit lists (the county supervisor) cannot unmask either
    county = client_for(cast.county).get(url + "?names=full")
    assert county.status_code == 200 and "王**户" in html(county) and "王秀英" not in html(county)


def test_grid_post_reads_the_published_village_list_only(world, cast, client_for, quarter):
    c = client_for(cast.grid_worker_a1)
    listing = html(c.get(reverse("points:board_list")))
    assert f'id="board-{world.board.pk}"' in listing and f'id="board-{quarter.pk}"' not in listing
    assert c.get(reverse("points:board_detail", args=[world.board.pk])).status_code == 200
    assert c.get(reverse("points:board_detail", args=[quarter.pk])).status_code == 404  # a draft
    assert c.post(reverse("points:board_approve", args=[quarter.pk])).status_code == 403


def test_appeal_queue_and_decision(world, cast, client_for):
    entry = world.warning_entry
    appeal = services.appeal_file(actor=cast.secretary_a, entry=entry, reason="当天是邻居倒的垃圾")
    c = client_for(cast.secretary_a)
    queue = html(c.get(reverse("points:appeal_list")))
    assert f'id="appeal-{appeal.pk}"' in queue and "当天是邻居倒的垃圾" in queue and "河边乱倒垃圾" in queue
    url = reverse("points:appeal_decide", args=[appeal.pk])
    assert client_for(cast.secretary_b).post(url, {"upheld": "yes", "note": "成立"}).status_code == 404
    resp = c.post(url, {"upheld": "yes", "note": ""})
    assert "请填写处理意见" in html(c.get(resp.url))
    c.post(url, {"upheld": "yes", "note": "经走访核实，系邻居所为"})
    entry.refresh_from_db()
    assert entry.removed
    public = html(c.get(reverse("portal:points_village_lists", args=[VILLAGE_A])))
    assert "王**" not in public


def test_public_village_page(world, cast, client, quarter):
    url = reverse("portal:points_village_lists", args=[VILLAGE_A])
    body = html(client.get(url))
    assert world.board.period_label in body and "王**户" in body and "王秀英" not in body
    # an expired warning is no longer shown: the household is restored
    ListEntry.objects.filter(pk=world.warning_entry.pk).update(expires_on=TODAY)
    assert "王**户" not in html(client.get(url))
    # drafts are never public
    assert client.get(url + f"?list={quarter.pk}").status_code == 404
    assert client.get(reverse("portal:points_village_lists", args=["341524111999"])).status_code == 404


def test_public_page_shows_honour_names_in_full(world, cast, client, quarter):
    services.list_approve(actor=cast.secretary_a, board=quarter)
    services.list_publish(actor=cast.secretary_a, board=quarter)
    body = html(client.get(reverse("portal:points_village_lists", args=[VILLAGE_A]) + f"?list={quarter.pk}"))
    honor = body.split('id="public-honor"')[1].split('id="public-warning"')[0]
    assert "刘长喜户" in honor


# --- rulebook pages -------------------------------------------------------------------------------
RULE_TEXT = "XL01 | 孝老爱亲 | 孝老爱亲 | +5 | 农户 | 否 | 2 | 每月 | 红榜\nHJ09 | 乱倒垃圾 | 环境卫生 | -3 | 农户 | 是 | | | 黑榜\n"


def test_rules_page_shows_township_rules_to_a_village(world, cast, client_for):
    body = html(client_for(cast.grid_worker_a1).get(reverse("points:rules")))
    assert "白塔畈镇积分制管理办法" in body and "XL01" in body and "孝老爱亲" in body
    assert "赞成 40 / 应到 45" in body


def test_village_secretary_adopts_additions(world, cast, client_for):
    c = client_for(cast.secretary_a)
    page = html(c.get(reverse("points:rulebook_adopt") + f"?area={VILLAGE_A}"))
    assert 'id="rulebook-form"' in page
    data = {
        "area_code": VILLAGE_A,
        "title": "刘冲村补充规则",
        "adopted_on": TODAY.isoformat(),
        "adopted_by": "刘冲村村民代表大会",
        "votes_total": "30",
        "votes_for": "25",
        "rules": RULE_TEXT,
    }
    resp = c.post(reverse("points:rulebook_adopt"), data)
    book = Rulebook.objects.get(area_code=VILLAGE_A)
    assert resp.status_code == 302 and book.version == 1 and book.rules.count() == 2
    rules = html(c.get(reverse("points:rules") + f"?area={VILLAGE_A}"))
    assert "刘冲村补充规则" in rules and "本村补充" in rules and "乡镇规则" in rules
    history = html(c.get(reverse("points:rulebook_history") + f"?area={VILLAGE_A}"))
    assert "刘冲村村民代表大会" in history and "25 / 30" in history
    # village B's secretary cannot adopt for village A
    resp = client_for(cast.secretary_b).post(reverse("points:rulebook_adopt"), data)
    assert resp.status_code == 400 and "请选择有效的乡镇或村" in html(resp)


def test_adopt_errors_are_chinese_and_nothing_is_written(world, cast, client_for):
    c = client_for(cast.secretary_a)
    books, rules = Rulebook.objects.count(), PointRule.objects.count()
    data = {
        "area_code": VILLAGE_A,
        "title": "补充规则",
        "adopted_on": TODAY.isoformat(),
        "votes_total": "30",
        "votes_for": "10",
        "rules": RULE_TEXT,
    }
    resp = c.post(reverse("points:rulebook_adopt"), data)
    assert resp.status_code == 400 and "赞成票未过半数" in html(resp)
    resp = c.post(
        reverse("points:rulebook_adopt"),
        {**data, "votes_for": "20", "rules": "XL01 | 孝老爱亲 | 孝老爱亲 | 五分\nHJ09 | | | -3 | 外来户"},
    )
    body = html(resp)
    assert resp.status_code == 400 and "第 1 行：分值应为整数" in body and "第 2 行：事项必填" in body
    assert "适用对象应为 农户 / 党员 / 干部" in body
    resp = c.post(
        reverse("points:rulebook_adopt"),
        {**data, "votes_for": "20", "rules": "A1 | 加分却进黑榜 | 其他 | 5 | 农户 | 否 | | | 黑榜"},
    )
    assert resp.status_code == 400 and "加分项只能计入红榜" in html(resp)
    resp = c.post(reverse("points:rulebook_adopt"), {**data, "votes_for": "40"})
    assert resp.status_code == 400 and "赞成票不能多于应到人数" in html(resp)
    assert (Rulebook.objects.count(), PointRule.objects.count()) == (books, rules)


def test_rulebook_detail_of_a_retired_version(world, cast, client_for):
    services.rulebook_adopt(
        actor=cast.township_admin,
        area_code="341524111",
        title="修订版",
        adopted_on=TODAY,
        votes_for=30,
        votes_total=45,
        rules=viewdata.RULES[:2],
    )
    body = html(client_for(cast.secretary_a).get(reverse("points:rulebook_detail", args=[world.book.pk])))
    assert "已废止" in body and "不能再用于新的申报" in body
