"""Points registers (台账): the ledger of a household, the award register, the redemption
register and stock — each a printable page and a streamed .xlsx; scoped, formula-safe,
masked free text, audited (``points.export``); 403 for roles without the permission."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from xiangzhi.audit.models import AuditEvent
from xiangzhi.points import services, shop

from . import viewdata

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world(cast):
    w = viewdata.build(cast)
    w.redemption = shop.redemption_create(actor=w.keeper, shop=w.shop_a, account=w.acc_a1,
                                          items=[(w.soap.pk, 2), (w.oil.pk, 1)], idempotency_key="reg-1")  # fmt: skip
    w.acc_a1.refresh_from_db()
    return w


def download(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX and "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def sheet_rows(data: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def table(html: str) -> str:
    return html.split('id="register-table"')[1]


# --- the ledger of a household -------------------------------------------------------------
def test_household_ledger_page_and_export(cast, client_for, world):
    client = client_for(cast.secretary_a)
    url = reverse("points:register_ledger", args=[world.acc_a1.pk])
    html = client.get(url).content.decode()
    assert "刘长喜户积分流水台账" in html and "户号：A1-001" in html and "当前余额：30 分" in html
    rows = sheet_rows(download(client, reverse("points:register_ledger_export", args=[world.acc_a1.pk])))
    assert rows[0][0] == "刘长喜户积分流水台账"
    header = rows[2]
    assert header == ["序号", "时间", "类型", "事项", "来源", "增加", "减少", "余额", "经办人"]
    data = rows[3:]
    # +100 seed, −70 redemption (2 × 10 + 50): balances 100 → 30, in date order
    assert [(r[2], r[5], r[6], r[7]) for r in data] == [("加分", 100, None, 100), ("兑换", None, 70, 30)]
    assert data[1][4] == f"兑换单 {world.redemption.pk}" and data[1][8] == "李管理"
    event = AuditEvent.objects.filter(action="points.export").latest("id")
    assert event.details["register"] == "ledger" and event.details["rows"] == 2
    assert event.details["account_id"] == world.acc_a1.pk


def test_household_ledger_outside_the_scope_is_404(cast, client_for, world):
    url = reverse("points:register_ledger", args=[world.acc_a1.pk])
    assert client_for(cast.secretary_b).get(url).status_code == 404
    assert (
        client_for(cast.secretary_b).get(reverse("points:register_ledger_export", args=[world.acc_a1.pk])).status_code
        == 404
    )
    assert client_for(cast.township_admin).get(url).status_code == 200


# --- the award register ----------------------------------------------------------------------
def test_award_register_is_scoped_and_lists_every_state(cast, client_for, world):
    html = client_for(cast.secretary_a).get(reverse("points:register_awards")).content.decode()
    body = table(html)
    for text in ("照顾瘫痪老人", "河边乱倒垃圾", "庭院整洁", "XL01 孝老爱亲（第1版）", "待评议", "公示中", "已入账"):
        assert text in body, text
    assert "大岗村孝老" not in body
    other = table(client_for(cast.secretary_b).get(reverse("points:register_awards")).content.decode())
    assert "大岗村孝老" in other and "照顾瘫痪老人" not in other


def test_award_register_filters_and_export(cast, client_for, world):
    client = client_for(cast.township_admin)
    params = {"status": "posted", "area": cast.grid_a2.code, "from": viewdata.TODAY.isoformat()}
    rows = sheet_rows(download(client, reverse("points:register_awards_export"), params))
    assert rows[0][0].endswith("积分申报评议台账")
    assert "状态：已入账" in rows[1][0]
    header = rows[2]
    data = [dict(zip(header, r, strict=False)) for r in rows[3:]]
    assert [(d["对象"], d["分值"], d["状态"], d["村 · 网格"]) for d in data] == [
        ("王秀英户", -3, "已入账", "刘冲村 · 第二网格")
    ]
    assert data[0]["入账流水号"]
    event = AuditEvent.objects.filter(action="points.export").latest("id")
    assert event.details["register"] == "awards" and event.details["filters"]["status"] == "posted"
    # a value outside the offered choices is ignored, never an error
    assert client.get(reverse("points:register_awards"), {"status": "<x>", "from": "2025-13-40"}).status_code == 200


def test_free_text_is_formula_safe_and_masked(cast, client_for, world):
    services.award_propose(actor=cast.secretary_a, account=world.acc_a1, rule=viewdata.rule(world.book, "XL01"),
                           occurred_on=viewdata.TODAY, reason="=HYPERLINK(1) 电话13912345678")  # fmt: skip
    rows = sheet_rows(download(client_for(cast.secretary_a), reverse("points:register_awards_export")))
    reasons = [r[8] for r in rows[3:]]
    assert "'=HYPERLINK(1) 电话139****5678" in reasons


# --- the redemption register -------------------------------------------------------------------
def test_redemption_register_shows_the_items(cast, client_for, world):
    client = client_for(cast.secretary_a)
    body = table(client.get(reverse("points:register_redemptions")).content.decode())
    assert "洗衣粉×2袋、食用油×1桶" in body and "刘冲村振风超市" in body
    rows = sheet_rows(download(client, reverse("points:register_redemptions_export"), {"shop": world.shop_a.pk}))
    header = rows[2]
    data = [dict(zip(header, r, strict=False)) for r in rows[3:]]
    assert [(d["兑换单号"], d["兑换户"], d["扣除积分"], d["状态"]) for d in data] == [
        (world.redemption.pk, "刘长喜户", 70, "已兑换")
    ]
    assert "超市：刘冲村振风超市" in rows[1][0]
    shop.redemption_cancel(actor=world.keeper, redemption=world.redemption, reason="顾客退回")
    rows = sheet_rows(download(client, reverse("points:register_redemptions_export"), {"status": "cancelled"}))
    assert [r[8] for r in rows[3:]] == ["已撤销"]
    b = table(client_for(cast.secretary_b).get(reverse("points:register_redemptions")).content.decode())
    assert "刘长喜户" not in b


# --- stock -------------------------------------------------------------------------------------
def test_stock_register_for_the_keeper(cast, client_for, world):
    """Stock after the fixture: soap 5 − 2 = 3 × 10 = 30, oil 2 − 1 = 1 × 50 = 50 → 80."""
    client = client_for(world.keeper)
    html = client.get(reverse("points:register_stock")).content.decode()
    assert "库存价值合计（在售商品）：80 分" in html
    assert 'id="register-export"' in html and "申报评议台账" not in html  # no export permission for the rest
    rows = sheet_rows(download(client, reverse("points:register_stock_export"), {"shop": world.shop_a.pk}))
    assert rows[0][0] == "刘冲村振风超市库存台账"
    data = [dict(zip(rows[2], r, strict=False)) for r in rows[3:]]
    assert [(d["商品"], d["库存"], d["库存价值（积分）"], d["状态"]) for d in data] == [
        ("洗衣粉", 3, 30, "在售"), ("食用油", 1, 50, "库存不足")]  # fmt: skip
    assert AuditEvent.objects.filter(action="points.export", details__register="stock").exists()


def test_stock_of_another_village_is_not_listed(cast, client_for, world):
    body = table(client_for(cast.secretary_b).get(reverse("points:register_stock")).content.decode())
    assert "洗衣粉" not in body


# --- access ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["register_awards", "register_awards_export", "register_redemptions",
                                  "register_redemptions_export"])  # fmt: skip
def test_roles_without_the_export_permission_get_403(cast, client_for, world, name):
    url = reverse(f"points:{name}")
    for user in (cast.grid_worker_a1, world.keeper, cast.auditor, cast.nobody, cast.villager):
        assert client_for(user).get(url).status_code == 403, user.username
    response = client_for(cast.county).get(url)
    assert response.status_code == 200
    assert Client().get(url)["Location"].startswith(reverse("accounts:login"))


def test_ledger_register_needs_the_export_permission(cast, client_for, world):
    url = reverse("points:register_ledger", args=[world.acc_a1.pk])
    assert client_for(cast.grid_worker_a1).get(url).status_code == 403
    assert client_for(world.keeper).get(url).status_code == 403


def test_stock_needs_view_shop(cast, client_for, world):
    url = reverse("points:register_stock")
    assert client_for(cast.auditor).get(url).status_code == 403
    assert client_for(cast.grid_worker_a1).get(url).status_code == 200


def test_index_sends_each_role_to_what_it_may_read(cast, client_for, world):
    assert client_for(cast.secretary_a).get(reverse("points:registers"))["Location"] == reverse(
        "points:register_awards"
    )
    assert client_for(world.keeper).get(reverse("points:registers"))["Location"] == reverse("points:register_stock")


def test_nothing_is_exported_when_the_audit_cannot_be_written(cast, client_for, world, monkeypatch, settings,
                                                              tmp_path):  # fmt: skip
    from xiangzhi.audit import services as audit_services

    settings.EXPORT_DIR = tmp_path

    def fail(*a, **kw):
        raise audit_services.AuditWriteError("down")

    monkeypatch.setattr(audit_services, "record", fail)
    response = client_for(cast.secretary_a).get(reverse("points:register_awards_export"))
    assert response.status_code == 503 and "审计" in response.content.decode()
    assert list(tmp_path.iterdir()) == []


def test_date_filter_on_the_ledger(cast, client_for, world):
    client = client_for(cast.secretary_a)
    tomorrow = (viewdata.TODAY + timedelta(days=1)).isoformat()
    html = client.get(reverse("points:register_ledger", args=[world.acc_a1.pk]), {"from": tomorrow}).content.decode()
    assert "没有符合条件的记录" in html
