"""Points API behaviour: idempotent redemptions (same key + same body → the same answer,
other body → 409), 400s with field messages for points and stock, the keyset ledger,
review and objection conflicts, the villager's view of the 红黑榜 and the catalogue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from xiangzhi.cases.models import Case
from xiangzhi.cases.tests.apitools import PREFIX, bearer
from xiangzhi.core.testing import VILLAGE_A, VILLAGE_B
from xiangzhi.points import ledger, services
from xiangzhi.points.models import Award, LedgerEntry, Product, Redemption
from xiangzhi.points.schemas import LedgerPage

from . import viewdata
from .test_api import make_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(cast):
    return make_env(cast)


def post(client, path, body, **headers):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post(PREFIX + path, data=json.dumps(body), content_type="application/json", **extra)


def redeem_body(env, *items, account=None):
    items = items or ((env.soap, 1),)
    return {
        "shop": env.shop_a.pk,
        "account": (account or env.acc_a1).pk,
        "items": [{"product": p.pk, "quantity": q} for p, q in items],
    }


def snapshot():
    return Redemption.objects.count(), LedgerEntry.objects.count(), list(Product.objects.values_list("stock"))


# --- redemption ---------------------------------------------------------------------------
def test_same_key_same_body_returns_the_same_redemption_once(env):
    client = bearer(env.keeper)
    before = env.acc_a1.balance
    first = post(client, "/points/redemptions", redeem_body(env, (env.soap, 2)), **{"Idempotency-Key": "counter-0001"})
    assert first.status_code == 201, first.content.decode()
    body = first.json()
    assert body["total"] == 20 and body["balance_after"] == before - 20
    assert body["items"] == [{"product": env.soap.pk, "name": "洗衣粉", "unit": "袋", "quantity": 2, "price": 10}]
    again = post(client, "/points/redemptions", redeem_body(env, (env.soap, 2)), **{"Idempotency-Key": "counter-0001"})
    assert again.status_code == 201
    assert again.json() == body
    assert again["Idempotent-Replayed"] == "true"
    env.acc_a1.refresh_from_db()
    assert env.acc_a1.balance == before - 20
    assert LedgerEntry.objects.filter(kind="redemption", account=env.acc_a1).count() == 2  # fixture's + this one


def test_same_key_other_body_is_409_and_writes_nothing(env):
    client = bearer(env.keeper)
    assert (
        post(client, "/points/redemptions", redeem_body(env), **{"Idempotency-Key": "counter-0002"}).status_code == 201
    )
    before = snapshot()
    resp = post(client, "/points/redemptions", redeem_body(env, (env.soap, 3)), **{"Idempotency-Key": "counter-0002"})
    assert resp.status_code == 409
    assert set(resp.json()) == {"detail"} and "幂等键" in resp.json()["detail"]
    assert snapshot() == before


def test_keys_are_per_user(env):
    """The township admin reusing the keeper's key makes his own redemption, not a replay."""
    a = post(bearer(env.keeper), "/points/redemptions", redeem_body(env), **{"Idempotency-Key": "counter-0003"})
    b = post(bearer(env.township_admin), "/points/redemptions", redeem_body(env), **{"Idempotency-Key": "counter-0003"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_missing_or_malformed_key_is_422(env):
    client = bearer(env.keeper)
    before = snapshot()
    resp = post(client, "/points/redemptions", redeem_body(env))
    assert resp.status_code == 422 and resp.json()["errors"] == {"Idempotency-Key": ["必填项"]}
    resp = post(client, "/points/redemptions", redeem_body(env), **{"Idempotency-Key": "短"})
    assert resp.status_code == 422
    assert snapshot() == before


def test_not_enough_points_is_400_on_the_account_field(env):
    client = bearer(env.keeper)
    before = snapshot()
    # 王秀英户 has 10 − 3 = 7 points; oil costs 50
    resp = post(client, "/points/redemptions", redeem_body(env, (env.oil, 1), account=env.acc_a2),
                **{"Idempotency-Key": "counter-0004"})  # fmt: skip
    assert resp.status_code == 400
    assert resp.json()["errors"]["account"] == ["积分余额不足：当前 7 分，本次需要 50 分"]
    assert snapshot() == before


def test_not_enough_stock_is_400_on_the_items_field(env):
    client = bearer(env.keeper)
    before = snapshot()
    resp = post(client, "/points/redemptions", redeem_body(env, (env.oil, 3)), **{"Idempotency-Key": "counter-0005"})
    assert resp.status_code == 400
    assert resp.json()["errors"]["items"] == ["“食用油”库存不足：仅剩 2桶"]
    assert snapshot() == before


def test_negative_or_zero_quantity_is_422(env):
    client = bearer(env.keeper)
    for q in (0, -1, 1000):
        resp = post(
            client, "/points/redemptions", redeem_body(env, (env.soap, q)), **{"Idempotency-Key": "counter-0006"}
        )
        assert resp.status_code == 422, q
        assert "items.0.quantity" in resp.json()["errors"]


def test_account_outside_the_shops_area_is_refused(env):
    """The township admin sees 大岗村's account but 刘冲村's shop does not serve it."""
    resp = post(bearer(env.township_admin), "/points/redemptions", redeem_body(env, account=env.acc_b1),
                **{"Idempotency-Key": "counter-0007"})  # fmt: skip
    assert resp.status_code == 400
    assert resp.json()["errors"]["account"] == ["该户不在本超市服务范围内"]


def test_redemption_detail_for_the_villager_is_his_own_only(env, cast):
    own = post(bearer(env.keeper), "/points/redemptions", redeem_body(env, account=env.acc_villager),
               **{"Idempotency-Key": "counter-0008"}).json()  # fmt: skip
    villager = bearer(cast.villager)
    assert villager.get(f"{PREFIX}/points/redemptions/{own['id']}").json()["total"] == 10
    assert villager.get(f"{PREFIX}/points/redemptions/{env.redemption.pk}").status_code == 404


# --- accounts and ledger -------------------------------------------------------------------
def test_ledger_is_keyset_paged_newest_first(env):
    for i in range(5):
        ledger.post(actor=None, account=env.acc_a1, amount=1, kind="award", source="seed", idempotency_key=f"k{i}")
    client = bearer(env.secretary_a)
    url = f"{PREFIX}/points/accounts/{env.acc_a1.pk}/ledger"
    page1 = client.get(url, {"limit": 3}).json()
    ids = [e["id"] for e in page1["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert page1["next_before"] == ids[-1]
    page2 = client.get(url, {"limit": 3, "before": page1["next_before"]}).json()
    all_ids = list(LedgerEntry.objects.filter(account=env.acc_a1).order_by("-id").values_list("id", flat=True))
    assert ids + [e["id"] for e in page2["items"]] == all_ids[:6]
    for page in (page1, page2):  # the declared shape, field by field
        parsed = LedgerPage.model_validate(page)
        assert set(page) == set(LedgerPage.model_fields)
        assert all(set(item) == set(type(parsed.items[0]).model_fields) for item in page["items"])
    newest = page1["items"][0]
    assert newest["balance_after"] == page1["balance"] == env.acc_a1.entries.order_by("-id").first().balance_after
    assert newest["kind_label"] == "加分"


def test_account_detail_sums(env):
    resp = bearer(env.secretary_a).get(f"{PREFIX}/points/accounts/{env.acc_a1.pk}")
    body = resp.json()
    assert body["balance"] == 90 and body["redeemed_total"] == 10 and body["entry_count"] == 2
    assert body["household_number"] == "A1-001" and body["area_name"] == "刘冲村 · 第一网格"


def test_villager_sees_only_his_own_account_and_no_actor_names(env, cast):
    client = bearer(cast.villager)
    items = client.get(f"{PREFIX}/points/accounts").json()["items"]
    assert [a["id"] for a in items] == [env.acc_villager.pk]
    ledger_rows = client.get(f"{PREFIX}/points/accounts/{env.acc_villager.pk}/ledger").json()["items"]
    assert ledger_rows and all(e["actor"] is None for e in ledger_rows)
    assert client.get(f"{PREFIX}/points/accounts/{env.acc_a1.pk}").status_code == 404


# --- rules and awards ----------------------------------------------------------------------
def test_rules_of_an_area_are_the_current_citable_ones(env):
    body = bearer(env.grid_worker_a1).get(f"{PREFIX}/points/rules", {"area_code": VILLAGE_A}).json()
    assert [r["code"] for r in body["items"]] == ["DY01", "GB01", "HJ01", "HJ09", "XL01", "ZY01"]
    hj = next(r for r in body["items"] if r["code"] == "HJ09")
    assert hj["points"] == -3 and hj["feeds"] == "warning" and hj["votes"] == "40/45"
    only = bearer(env.secretary_a).get(f"{PREFIX}/points/rules", {"area_code": VILLAGE_A, "subject_kind": "cadre"})
    assert [r["code"] for r in only.json()["items"]] == ["GB01"]


def test_propose_citing_a_retired_rule_is_400(env, cast):
    old = viewdata.rule(env.book, "XL01")
    services.rulebook_adopt(actor=cast.township_admin, area_code=env.book.area_code, title="第二版",
                            adopted_on=viewdata.TODAY, votes_for=30, votes_total=40, rules=viewdata.RULES)  # fmt: skip
    before = Award.objects.count()
    resp = post(bearer(env.secretary_a), "/points/awards", {
        "account": env.acc_a1.pk, "rule": old.pk, "occurred_on": viewdata.TODAY.isoformat(), "reason": "孝老"})  # fmt: skip
    assert resp.status_code == 400
    assert "已停用或已被新版本取代" in resp.json()["errors"]["rule"][0]
    assert Award.objects.count() == before


def test_propose_over_the_cap_and_in_the_future_are_400(env):
    client = bearer(env.secretary_a)
    body = {"account": env.acc_a1.pk, "rule": viewdata.rule(env.book, "HJ01").pk,
            "occurred_on": viewdata.TODAY.isoformat(), "reason": "庭院整洁"}  # fmt: skip
    assert post(client, "/points/awards", body).status_code == 201  # the second this month (cap 2)
    resp = post(client, "/points/awards", body)
    assert resp.status_code == 400 and "最多 2 次" in resp.json()["errors"]["rule"][0]
    resp = post(client, "/points/awards", {**body, "occurred_on": (viewdata.TODAY + timedelta(days=1)).isoformat()})
    assert resp.status_code == 400 and resp.json()["errors"]["occurred_on"] == ["发生日期不能晚于今天"]
    resp = post(client, "/points/awards", {**body, "occurred_on": "1900-01-01"})
    assert resp.status_code == 400 and "occurred_on" in resp.json()["errors"]


def test_propose_with_a_rule_of_another_township_is_400(env, cast):
    other = services.rulebook_adopt(actor=None, area_code="341524105", title="古碑镇积分办法",
                                    adopted_on=viewdata.TODAY, votes_for=9, votes_total=10,
                                    rules=viewdata.RULES[:1])  # fmt: skip
    resp = post(bearer(env.secretary_a), "/points/awards", {
        "account": env.acc_a1.pk, "rule": other.rules.get().pk, "occurred_on": viewdata.TODAY.isoformat(),
        "reason": "孝老"})  # fmt: skip
    assert resp.status_code == 400 and resp.json()["errors"]["rule"] == ["规则不存在或不适用于该账户所在的村"]


def test_review_reject_needs_a_reason_and_a_second_review_is_409(env):
    client = bearer(env.secretary_a)
    url = f"/points/awards/{env.proposed_a1.pk}/review"
    resp = post(client, url, {"approve": False})
    assert resp.status_code == 400 and resp.json()["errors"]["note"] == ["不通过须说明理由"]
    resp = post(client, url, {"approve": True})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "publicizing" and body["publicity_until"] and body["reviewed_by"]
    resp = post(client, url, {"approve": False, "note": "重复"})
    assert resp.status_code == 409 and "不能评议" in resp.json()["detail"]


def test_objection_returns_the_case_tracking_code(env, cast):
    """A neighbour (the villager, not the award's household) objects during publicity."""
    resp = post(bearer(cast.villager), f"/points/awards/{env.publicizing_a1.pk}/object", {"reason": "他家院子很乱"})
    assert resp.status_code == 201, resp.content.decode()
    code = resp.json()["case_tracking_code"]
    case = Case.objects.get(tracking_code=code)
    assert case.source == f"points.award:{env.publicizing_a1.pk}"
    detail = bearer(env.secretary_a).get(f"{PREFIX}/points/awards/{env.publicizing_a1.pk}").json()
    assert detail["status"] == "objected"
    assert [o["case_tracking_code"] for o in detail["objections"]] == [code]


def test_objection_after_the_period_is_409_and_writes_nothing(env):
    Award.objects.filter(pk=env.publicizing_a1.pk).update(publicity_until=timezone.now() - timedelta(minutes=1))
    before = (Case.objects.count(), env.publicizing_a1.objections.count())
    resp = post(bearer(env.secretary_a), f"/points/awards/{env.publicizing_a1.pk}/object", {"reason": "理由充分啊"})
    assert resp.status_code == 409 and "公示期已结束" in resp.json()["detail"]
    assert (Case.objects.count(), env.publicizing_a1.objections.count()) == before


def test_villager_cannot_object_to_an_award_still_under_review(env, cast):
    resp = post(bearer(cast.villager), f"/points/awards/{env.proposed_a1.pk}/object", {"reason": "不同意这个加分"})
    assert resp.status_code == 404


# --- catalogue and lists -------------------------------------------------------------------
def test_catalogue_for_the_villager_is_his_village(env, cast):
    body = bearer(cast.villager).get(f"{PREFIX}/points/catalogue").json()
    assert [s["name"] for s in body["items"]] == ["刘冲村振风超市"]
    products = body["items"][0]["products"]
    assert [(p["name"], p["price"], p["stock"]) for p in products] == [("洗衣粉", 10, 4), ("食用油", 50, 2)]
    assert bearer(cast.villager).get(f"{PREFIX}/points/catalogue", {"area_code": VILLAGE_B}).status_code == 404


def test_catalogue_of_a_village_includes_the_township_shop(env, cast):
    from xiangzhi.points import shop

    shop.shop_create(actor=None, area_code="341524111", name="白塔畈镇振风超市")
    names = [s["name"] for s in bearer(env.keeper).get(f"{PREFIX}/points/catalogue",
                                                      {"area_code": VILLAGE_A}).json()["items"]]  # fmt: skip
    assert names == ["白塔畈镇振风超市", "刘冲村振风超市"]
    names = [s["name"] for s in bearer(env.secretary_b).get(f"{PREFIX}/points/catalogue").json()["items"]]
    assert names == ["白塔畈镇振风超市", "大岗村振风超市"]


def test_villager_sees_published_lists_of_his_village_with_masked_warnings(env, cast):
    client = bearer(cast.villager)
    boards = client.get(f"{PREFIX}/points/lists").json()["items"]
    assert [b["id"] for b in boards] == [env.board.pk]
    assert boards[0]["warning_count"] == 1
    detail = client.get(f"{PREFIX}/points/lists/{env.board.pk}").json()
    assert detail["view"] == "villager"
    warning = [e for e in detail["entries"] if e["side"] == "warning"]
    assert [e["name"] for e in warning] == ["王**户"]
    assert warning[0]["account"] is None and warning[0]["evidence"][0]["reason"] == ""
    assert warning[0]["evidence"][0]["rule"] == "HJ09"
    staff = bearer(env.secretary_a).get(f"{PREFIX}/points/lists/{env.board.pk}").json()
    assert staff["view"] == "staff"
    assert [e["name"] for e in staff["entries"] if e["side"] == "warning"] == ["王秀英户"]
    assert staff["entries"][-1]["evidence"][0]["reason"] == "河边乱倒垃圾"


def test_drafts_are_for_staff_only(env, cast):
    draft = services.list_generate(actor=env.secretary_a, village_code=VILLAGE_A, period_kind="quarter",
                                   period_start=viewdata.TODAY.replace(day=1))  # fmt: skip
    staff = {b["id"] for b in bearer(env.secretary_a).get(f"{PREFIX}/points/lists").json()["items"]}
    assert draft.pk in staff
    assert bearer(cast.villager).get(f"{PREFIX}/points/lists/{draft.pk}").status_code == 404
    drafts = bearer(env.secretary_a).get(f"{PREFIX}/points/lists", {"status": "draft"}).json()["items"]
    assert [b["id"] for b in drafts] == [draft.pk]


def test_propose_with_an_evidence_photo(env):
    """Rules that need a photo (ZY01 志愿服务) can be proposed through the API with one
    (multipart); without it they are refused; a non-image is refused, nothing written."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = bearer(env.secretary_a)
    fields = {"account": env.acc_a1.pk, "rule": viewdata.rule(env.book, "ZY01").pk,
              "occurred_on": viewdata.TODAY.isoformat(), "reason": "参加河道清理"}  # fmt: skip
    before = Award.objects.count()
    bare = post(client, "/points/awards", fields)
    assert bare.status_code == 400 and bare.json()["errors"]["evidence"] == ["该规则需要上传佐证照片"]
    fake = SimpleUploadedFile("证明.png", b"not an image at all", content_type="image/png")
    resp = client.post(f"{PREFIX}/points/awards/with-evidence", {**fields, "evidence": fake})
    assert resp.status_code == 400 and "evidence" in resp.json()["errors"]
    assert Award.objects.count() == before
    photo = SimpleUploadedFile("河道.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    resp = client.post(f"{PREFIX}/points/awards/with-evidence", {**fields, "evidence": photo})
    assert resp.status_code == 201, resp.content
    award = Award.objects.get(pk=resp.json()["id"])
    assert award.status == "proposed" and award.evidence and resp.json()["has_evidence"] is True
    # the form fields are checked like the JSON body
    photo.seek(0)
    bad = client.post(f"{PREFIX}/points/awards/with-evidence", {**fields, "account": "abc", "evidence": photo})
    assert bad.status_code == 422
