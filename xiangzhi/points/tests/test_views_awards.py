"""Proposing, reviewing (评议), publicity (公示) with objections, batch awards — through
the staff pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from xiangzhi.cases.models import Case
from xiangzhi.core.testing import VILLAGE_A
from xiangzhi.points import services
from xiangzhi.points.models import Account, Award, Objection
from xiangzhi.points.tests import viewdata
from xiangzhi.points.tests.viewdata import TODAY, png, rule

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(cast):
    return viewdata.build(cast)


def html(resp) -> str:
    return resp.content.decode()


def review(award):
    return reverse("points:award_review", args=[award.pk])


# --- review queue -------------------------------------------------------------------------------
def test_review_queue_lists_proposals_of_the_village_only(world, cast, client_for):
    body = html(client_for(cast.secretary_a).get(reverse("points:award_list")))
    assert f'id="award-{world.proposed_a1.pk}"' in body and "照顾瘫痪老人" in body
    assert f'id="award-{world.proposed_b1.pk}"' not in body  # 大岗村
    assert "通过" in body and "不通过" in body
    grid = html(client_for(cast.grid_worker_a1).get(reverse("points:award_list") + "?status=proposed"))
    assert f'id="award-{world.proposed_a1.pk}"' in grid and 'name="decision"' not in grid  # may see, not review


def test_approve_by_htmx_swaps_the_row_into_publicity(world, cast, client_for):
    c = client_for(cast.secretary_a)
    resp = c.post(review(world.proposed_a1), {"decision": "approve", "note": "属实"}, **HTMX)
    body = html(resp)
    assert resp.status_code == 200 and body.lstrip().startswith(f'<tr id="award-{world.proposed_a1.pk}"')
    assert "公示中" in body and "已通过评议，公示至" in body and "提出异议" in body
    world.proposed_a1.refresh_from_db()
    assert world.proposed_a1.status == "publicizing" and world.proposed_a1.reviewed_by == cast.secretary_a
    again = c.post(review(world.proposed_a1), {"decision": "approve"}, **HTMX)
    assert again.status_code == 409 and "不能评议" in html(again)


def test_reject_needs_a_reason(world, cast, client_for):
    c = client_for(cast.secretary_a)
    resp = c.post(review(world.proposed_a1), {"decision": "reject", "note": ""}, **HTMX)
    assert resp.status_code == 400 and "不通过须说明理由" in html(resp)
    world.proposed_a1.refresh_from_db()
    assert world.proposed_a1.status == "proposed"
    resp = c.post(review(world.proposed_a1), {"decision": "reject", "note": "事实不清"})  # plain form post
    assert resp.status_code == 302
    world.proposed_a1.refresh_from_db()
    assert (world.proposed_a1.status, world.proposed_a1.review_note) == ("rejected", "事实不清")
    bad = c.post(review(world.proposed_a1), {"decision": "maybe"}, **HTMX)
    assert bad.status_code in (400, 409)


def test_grid_worker_cannot_review(world, cast, client_for):
    resp = client_for(cast.grid_worker_a1).post(review(world.proposed_a1), {"decision": "approve"})
    assert resp.status_code == 403
    world.proposed_a1.refresh_from_db()
    assert world.proposed_a1.status == "proposed"


def test_publicity_tab_and_detail(world, cast, client_for):
    c = client_for(cast.secretary_a)
    body = html(c.get(reverse("points:award_list") + "?status=publicizing"))
    assert f'id="award-{world.publicizing_a1.pk}"' in body and "公示至" in body
    detail = html(c.get(reverse("points:award_detail", args=[world.publicizing_a1.pk])))
    assert 'id="publicity-until"' in detail and 'id="object-link"' in detail
    # the objection service takes village-level staff and the village's residents: a grid post is not
    # offered a link that would only answer 403
    grid = html(client_for(cast.grid_worker_a1).get(reverse("points:award_detail", args=[world.publicizing_a1.pk])))
    assert 'id="object-link"' not in grid


# --- objections -----------------------------------------------------------------------------
def test_objection_in_period_becomes_a_case(world, cast, client_for):
    c = client_for(cast.secretary_a)
    url = reverse("points:award_object", args=[world.publicizing_a1.pk])
    short = c.post(url, {"reason": "不对"})
    assert short.status_code == 400 and "至少 4 个字" in html(short)
    resp = c.post(url, {"reason": "他家庭院并不整洁，照片是去年的", "name": "张三"})
    assert resp.status_code == 302
    objection = Objection.objects.get()
    case = Case.objects.get(pk=objection.case_id)
    assert case.area_code == world.publicizing_a1.area_code
    page = html(c.get(resp.url))
    assert case.tracking_code in page and "有异议" in page


def test_objection_after_the_period_is_refused_clearly(world, cast, client_for):
    Award.objects.filter(pk=world.publicizing_a1.pk).update(publicity_until=timezone.now() - timedelta(minutes=1))
    c = client_for(cast.secretary_a)
    resp = c.post(reverse("points:award_object", args=[world.publicizing_a1.pk]), {"reason": "公示期后才发现问题"})
    assert resp.status_code == 409
    assert "公示期已结束" in html(resp)
    assert not Objection.objects.exists() and not Case.objects.exists()


def test_objection_decide(world, cast, client_for):
    o1 = services.award_object(actor=cast.secretary_a, award=world.publicizing_a1, reason="照片不是他家的")
    queue = html(client_for(cast.secretary_a).get(reverse("points:objection_list")))
    assert f'id="objection-{o1.pk}"' in queue and o1.case.tracking_code in queue
    assert (
        client_for(cast.grid_worker_a1)
        .post(reverse("points:objection_decide", args=[o1.pk]), {"upheld": "no"})
        .status_code
        == 403
    )
    before = Account.objects.get(pk=world.acc_a1.pk).balance
    resp = client_for(cast.secretary_a).post(
        reverse("points:objection_decide", args=[o1.pk]), {"upheld": "no", "note": "经核实属实"}
    )
    assert resp.status_code == 302
    assert Account.objects.get(pk=world.acc_a1.pk).balance == before + 2
    again = client_for(cast.secretary_a).post(reverse("points:objection_decide", args=[o1.pk]), {"upheld": "yes"})
    assert "该异议已处理" in html(client_for(cast.secretary_a).get(again.url)) or again.status_code == 302


def test_objection_upheld_cancels_the_award(world, cast, client_for):
    o = services.award_object(actor=cast.secretary_a, award=world.publicizing_a1, reason="照片不是他家的")
    client_for(cast.secretary_a).post(reverse("points:objection_decide", args=[o.pk]), {"upheld": "yes"})
    world.publicizing_a1.refresh_from_db()
    assert world.publicizing_a1.status == "cancelled"


# --- proposing ----------------------------------------------------------------------------------
def propose(c, **data):
    payload = {"subject_kind": "household", "occurred_on": TODAY.isoformat(), "reason": "主动照顾孤寡老人"}
    payload.update(data)
    return c.post(reverse("points:award_create"), payload)


def test_subject_search_by_initials(world, cast, client_for):
    c = client_for(cast.grid_worker_a1)
    resp = c.get(reverse("points:subject_search"), {"q": "lcx", "subject_kind": "household"})
    assert f'value="household:{cast.household_a1.pk}"' in html(resp)
    resp = c.get(reverse("points:subject_search"), {"q": "wxy", "subject_kind": "household"})
    assert "household:" not in html(resp)  # 王秀英 lives in grid A2: outside this grid worker's scope


def test_propose_for_a_household(world, cast, client_for):
    c = client_for(cast.grid_worker_a1)
    page = c.get(reverse("points:award_create") + f"?subject=household:{cast.household_a1.pk}")
    assert 'id="subject-chosen"' in html(page) and "刘长喜户" in html(page)
    resp = propose(c, subject=f"household:{cast.household_a1.pk}", rule=rule(world.book, "XL01").pk)
    assert resp.status_code == 302
    award = Award.objects.order_by("-id").first()
    assert (award.status, award.points, award.rule.rulebook_id, award.proposed_by) == (
        "proposed",
        5,
        world.book.pk,
        cast.grid_worker_a1,
    )
    assert "等待村评议小组评议" in html(c.get(resp.url))


def test_propose_errors_are_chinese_and_write_nothing(world, cast, client_for):
    c = client_for(cast.grid_worker_a1)
    count = Award.objects.count()
    resp = propose(c, rule=rule(world.book, "XL01").pk)
    assert resp.status_code == 400 and "请先搜索并选择积分对象" in html(resp)
    resp = propose(c, subject=f"household:{cast.household_b1.pk}", rule=rule(world.book, "XL01").pk)
    assert resp.status_code == 400 and "不在您的管辖范围内" in html(resp)
    resp = propose(c, subject=f"household:{cast.household_a1.pk}", rule=rule(world.book, "ZY01").pk)
    assert resp.status_code == 400 and "该规则需要上传佐证照片" in html(resp)
    resp = propose(
        c,
        subject=f"household:{cast.household_a1.pk}",
        rule=rule(world.book, "XL01").pk,
        occurred_on=(TODAY + timedelta(days=2)).isoformat(),
    )
    assert resp.status_code == 400 and "发生日期不能晚于今天" in html(resp)
    # HJ01: at most 2 a month; the world already has one publicizing for a1
    propose(c, subject=f"household:{cast.household_a1.pk}", rule=rule(world.book, "HJ01").pk)
    resp = propose(c, subject=f"household:{cast.household_a1.pk}", rule=rule(world.book, "HJ01").pk)
    assert resp.status_code == 400 and "每月最多 2 次" in html(resp)
    assert Award.objects.count() == count + 1


def test_retired_rule_is_refused(world, cast, client_for):
    old = rule(world.book, "XL01")
    services.rulebook_adopt(
        actor=cast.township_admin,
        area_code="341524111",
        title="修订版",
        adopted_on=TODAY,
        votes_for=30,
        votes_total=45,
        rules=viewdata.RULES,
    )
    resp = propose(client_for(cast.grid_worker_a1), subject=f"household:{cast.household_a1.pk}", rule=old.pk)
    assert resp.status_code == 400 and "请选择有效的积分规则" in html(resp)  # no longer offered at all


def test_propose_with_photo_and_evidence_is_scoped(world, cast, client_for):
    c = client_for(cast.grid_worker_a1)
    resp = propose(c, subject=f"household:{cast.household_a1.pk}", rule=rule(world.book, "ZY01").pk, evidence=png())
    assert resp.status_code == 302
    award = Award.objects.order_by("-id").first()
    url = reverse("points:award_evidence", args=[award.pk])
    photo = c.get(url)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert client_for(cast.secretary_b).get(url).status_code == 404
    bad = propose(
        c,
        subject=f"household:{cast.household_a1.pk}",
        rule=rule(world.book, "ZY01").pk,
        evidence=__import__("django.core.files.uploadedfile", fromlist=["x"]).SimpleUploadedFile(
            "x.png", b"not an image at all", content_type="image/png"
        ),
    )
    assert bad.status_code == 400 and "不支持的文件类型" in html(bad)


def test_propose_for_party_member_and_cadre(world, cast, client_for):
    resident, _ = viewdata.party_member(cast)
    c = client_for(cast.secretary_a)
    found = c.get(reverse("points:subject_search"), {"q": "lxm", "subject_kind": "party_member"})
    assert f'value="party_member:{resident.pk}"' in html(found)
    resp = propose(
        c, subject_kind="party_member", subject=f"party_member:{resident.pk}", rule=rule(world.book, "DY01").pk
    )
    assert resp.status_code == 302
    assert Award.objects.order_by("-id").first().account.subject_kind == "party_member"
    # a household rule cannot be cited for a party member
    resp = propose(
        c, subject_kind="party_member", subject=f"party_member:{resident.pk}", rule=rule(world.book, "XL01").pk
    )
    assert resp.status_code == 400
    found = c.get(reverse("points:subject_search"), {"q": "grid", "subject_kind": "cadre"})
    assert f'value="cadre:{cast.grid_worker_a1.pk}"' in html(found)
    assert f"cadre:{cast.secretary_b.pk}" not in html(
        c.get(reverse("points:subject_search"), {"q": "secretary", "subject_kind": "cadre"})
    )
    resp = propose(c, subject_kind="cadre", subject=f"cadre:{cast.grid_worker_a1.pk}", rule=rule(world.book, "GB01").pk)
    assert resp.status_code == 302
    acc = Award.objects.order_by("-id").first().account
    assert acc.subject_kind == "cadre" and acc.cadre_user == cast.grid_worker_a1
    assert acc.area_code.startswith(VILLAGE_A)
    # both show up in the accounts list filtered by kind, and their ledgers open
    listing = html(c.get(reverse("points:account_list") + "?kind=party_member"))
    assert "刘小明" in listing
    assert client_for(cast.secretary_a).get(reverse("points:account_detail", args=[acc.pk])).status_code == 200


# --- batch --------------------------------------------------------------------------------------
def test_batch_award_is_idempotent_per_activity(world, cast, client_for):
    c = client_for(cast.grid_worker_a1)
    page = c.get(reverse("points:batch_award") + f"?area_code={cast.grid_a1.code}")
    body = html(page)
    assert "刘长喜户" in body and "陈村民户" in body and "王秀英户" not in body
    data = {
        "area_code": cast.grid_a1.code,
        "name": "三月人居环境整治",
        "held_on": TODAY.isoformat(),
        "rule": rule(world.book, "XL01").pk,
        "households": [cast.household_a1.pk, cast.villager_household.pk],
    }
    resp = c.post(reverse("points:batch_award"), data)
    assert resp.status_code == 302
    assert "新申报 2 户" in html(c.get(resp.url))
    resp = c.post(reverse("points:batch_award"), data)
    assert "新申报 0 户，另有 2 户此前已申报" in html(c.get(resp.url))
    assert Award.objects.filter(activity__name="三月人居环境整治").count() == 2
    bad = c.post(reverse("points:batch_award"), {**data, "households": [cast.household_a2.pk]})
    assert bad.status_code == 400 and "所选农户不在该区域" in html(bad)
