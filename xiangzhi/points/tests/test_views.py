"""Staff points pages as the named cast sees them: who may open what (in scope 200,
sibling village 404, wrong role 403, villager → portal, anonymous → login), and the
query counts of the list pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiangzhi.core.testing import VILLAGE_A, make_household
from xiangzhi.points.accounts import account_for_household
from xiangzhi.points.tests import viewdata
from xiangzhi.points.tests.viewdata import fund

LOGIN = reverse("accounts:login")
PORTAL_ME = reverse("portal:points_me")


@pytest.fixture
def world(cast):
    return viewdata.build(cast)


def html(resp) -> str:
    return resp.content.decode()


# --- who may open the list pages --------------------------------------------------------------
LIST_PAGES = [
    "points:home",
    "points:rules",
    "points:rulebook_history",
    "points:account_list",
    "points:award_list",
    "points:shop_list",
    "points:low_stock",
    "points:board_list",
]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_pages_by_role(world, cast, client, client_for, name):
    url = reverse(name)
    resp = client.get(url)
    assert resp.status_code == 302 and resp.url.startswith(LOGIN)
    for who in ("township_admin", "secretary_a", "grid_worker_a1", "county"):
        assert client_for(getattr(cast, who)).get(url).status_code == 200, who
    assert client_for(cast.auditor).get(url).status_code == 403
    assert client_for(cast.nobody).get(url).status_code == 403
    villager = client_for(cast.villager).get(url)
    if name in ("points:home", "points:account_list", "points:award_list"):  # OWN scope → their portal page
        assert villager.status_code == 302 and villager.url == PORTAL_ME
    else:
        assert villager.status_code == 403


REVIEWER_PAGES = [
    "points:objection_list",
    "points:appeal_list",
    "points:rulebook_adopt",
    "points:batch_award",
    "points:award_create",
]


@pytest.mark.parametrize("name", REVIEWER_PAGES)
def test_work_pages_need_their_permission(world, cast, client_for, name):
    url = reverse(name)
    assert client_for(cast.secretary_a).get(url).status_code == 200
    assert client_for(cast.auditor).get(url).status_code == 403
    keeper = client_for(world.keeper).get(url)
    assert keeper.status_code == 403
    if name in ("points:batch_award", "points:award_create"):  # grid workers propose
        assert client_for(cast.grid_worker_a1).get(url).status_code == 200
    else:  # but do not review, edit lists or adopt rules
        assert client_for(cast.grid_worker_a1).get(url).status_code == 403


def _object_urls(world, cast):
    """(url, the village it belongs to) for every object page of village A."""
    return [
        reverse("points:account_detail", args=[world.acc_a1.pk]),
        reverse("points:household_account", args=[cast.household_a1.pk]),
        reverse("points:card", args=[cast.household_a1.pk]),
        reverse("points:award_detail", args=[world.proposed_a1.pk]),
        reverse("points:award_object", args=[world.publicizing_a1.pk]),
        reverse("points:shop_detail", args=[world.shop_a.pk]),
        reverse("points:board_detail", args=[world.board.pk]),
        reverse("points:board_poster", args=[world.board.pk]),
    ]


def test_object_pages_of_village_a(world, cast, client, client_for):
    secretary_a, secretary_b = client_for(cast.secretary_a), client_for(cast.secretary_b)
    township, auditor = client_for(cast.township_admin), client_for(cast.auditor)
    for url in _object_urls(world, cast):
        ok = (302,) if "/households/" in url and "/card/" not in url else (200,)  # → the account's ledger
        assert secretary_a.get(url).status_code in ok, url
        assert township.get(url).status_code in ok, url
        assert secretary_b.get(url).status_code == 404, url  # sibling village: not found, not forbidden
        assert auditor.get(url).status_code == 403, url
        anon = client.get(url)
        assert anon.status_code == 302 and anon.url.startswith(LOGIN), url


def test_huge_or_unknown_ids_are_404(world, cast, client_for):
    c = client_for(cast.township_admin)
    assert c.get("/points/accounts/999999999999999999/").status_code == 404
    assert c.get("/points/awards/123456789/").status_code == 404
    assert c.get("/points/accounts/9999999999999999999999/").status_code == 404  # no such route


def test_villager_sees_only_own_ledger(world, cast, client_for):
    c = client_for(cast.villager)
    own = c.get(reverse("points:account_detail", args=[world.acc_villager.pk]))
    assert own.status_code == 302 and own.url == PORTAL_ME
    other = c.get(reverse("points:account_detail", args=[world.acc_a1.pk]))
    assert other.status_code == 302 and other.url == PORTAL_ME  # staff pages never show a villager anything
    page = c.get(PORTAL_ME)
    body = html(page)
    assert page.status_code == 200 and "陈村民" in body
    assert f'id="balance">{world.acc_villager.balance}<' in body
    assert "刘长喜" not in body and "王秀英" not in body


def test_keeper_reaches_counter_but_not_ledgers(world, cast, client_for):
    c = client_for(world.keeper)
    assert c.get(reverse("points:counter", args=[world.shop_a.pk])).status_code == 200
    assert c.get(reverse("points:account_detail", args=[world.acc_a1.pk])).status_code == 403
    assert c.get(reverse("points:counter", args=[world.shop_b.pk])).status_code == 404  # another village's shop
    # a secretary sees the shop but is not its keeper
    assert client_for(cast.secretary_a).get(reverse("points:counter", args=[world.shop_a.pk])).status_code == 403
    # the township (points.change_shop) may run any counter in the township
    assert client_for(cast.township_admin).get(reverse("points:counter", args=[world.shop_b.pk])).status_code == 200


def test_sibling_village_cannot_act(world, cast, client_for):
    c = client_for(cast.secretary_b)
    assert (
        c.post(reverse("points:award_review", args=[world.proposed_a1.pk]), {"decision": "approve"}).status_code == 404
    )
    assert c.post(reverse("points:board_approve", args=[world.board.pk])).status_code == 404
    assert (
        c.post(reverse("points:entry_remove", args=[world.warning_entry.pk]), {"reason": "不应上榜"}).status_code == 404
    )
    world.proposed_a1.refresh_from_db()
    assert world.proposed_a1.status == "proposed"


def test_reversal_is_township_only(world, cast, client_for):
    entry = world.acc_a1.entries.order_by("id").first()
    url = reverse("points:entry_reverse", args=[entry.pk])
    assert client_for(cast.secretary_a).post(url, {"reason": "录入错误"}).status_code == 403
    c = client_for(cast.township_admin)
    ledger_url = reverse("points:account_detail", args=[world.acc_a1.pk])
    before = html(c.get(ledger_url))
    assert f'href="{url}"' in before  # the entry offers 冲正
    assert c.post(url, {"reason": "x"}).status_code == 400  # reason too short, nothing written
    assert world.acc_a1.entries.filter(kind="reversal").count() == 0
    resp = c.post(url, {"reason": "重复录入，冲正"})
    assert resp.status_code == 302
    world.acc_a1.refresh_from_db()
    assert world.acc_a1.balance == 0 and world.acc_a1.entries.filter(kind="reversal").count() == 1
    again = c.post(url, {"reason": "再冲一次"})
    assert again.status_code == 409 and "已冲正" in html(again)
    page = html(c.get(ledger_url))
    assert "已冲正" in page and "冲正流水" in page and "重复录入，冲正" in page
    assert f'href="{url}"' not in page  # a reversed entry cannot be reversed again
    reversal = world.acc_a1.entries.get(kind="reversal")
    assert reverse("points:entry_reverse", args=[reversal.pk]) not in page  # nor a reversal
    if entry.source.startswith("award:"):  # the source links to the award it came from
        assert reverse("points:award_detail", args=[int(entry.source[6:])]) in page and entry.note in page


# --- query counts -----------------------------------------------------------------------------
def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _more_rows(world, cast, n):
    """n more households with accounts and proposals, and two more lists of village A."""
    from xiangzhi.points import services

    for i in range(n):
        h = make_household(cast.grid_a1.code, f"测试{i}", number=f"X-{i:03d}")
        acc = fund(account_for_household(h), 5 + i)
        services.award_propose(
            actor=cast.grid_worker_a1,
            account=acc,
            rule=viewdata.rule(world.book, "XL01"),
            occurred_on=viewdata.TODAY,
            reason=f"第{i}户",
        )
    start = viewdata.TODAY.replace(month=(viewdata.TODAY.month - 1) // 3 * 3 + 1, day=1)
    services.list_generate(actor=cast.secretary_a, village_code=VILLAGE_A, period_kind="quarter", period_start=start)
    services.list_generate(
        actor=cast.secretary_a,
        village_code=VILLAGE_A,
        period_kind="month",
        period_start=viewdata.TODAY.replace(day=1),
        subject_kind="party_member",
    )


@pytest.mark.parametrize("name", ["points:account_list", "points:award_list", "points:board_list", "points:shop_list"])
def test_list_queries_do_not_grow_with_rows(world, cast, client_for, name):
    c = client_for(cast.secretary_a)
    url = reverse(name)
    few = _queries(c, url)
    _more_rows(world, cast, 12)
    many = _queries(c, url)
    assert many <= few, f"{name}: {few} → {many} queries"
    assert many <= 16


def test_ledger_page_is_keyset_and_bounded(world, cast, client_for):
    from xiangzhi.points import ledger

    acc = world.acc_a1
    for i in range(120):
        ledger.post(actor=None, account=acc, amount=1, kind="award", source="seed", idempotency_key=f"many:{i}")
    c = client_for(cast.secretary_a)
    url = reverse("points:account_detail", args=[acc.pk])
    first = c.get(url)
    body = html(first)
    assert body.count('id="entry-') == 50 and 'id="ledger-older"' in body
    newest = acc.entries.order_by("-id").first()
    assert f'id="entry-{newest.pk}"' in body
    older = first.context["next_before"]
    second = html(c.get(f"{url}?before={older}"))
    assert f'id="entry-{newest.pk}"' not in second and f'id="entry-{older - 1}"' in second
    with CaptureQueriesContext(connection) as ctx:
        c.get(f"{url}?before={older}")
    ledger_queries = [
        q["sql"] for q in ctx.captured_queries if "points_ledgerentry" in q["sql"] and "ORDER BY" in q["sql"]
    ]
    assert ledger_queries and all("LIMIT 51" in q for q in ledger_queries)
    assert len(ctx.captured_queries) <= 16


def test_home_panel_and_household_panel(world, cast, client_for):
    home = html(client_for(cast.secretary_a).get(reverse("core:home")))
    assert "积分评议" in home and "待评议" in home
    keeper_home = html(client_for(world.keeper).get(reverse("core:home")))
    assert "刘冲村振风超市 · 兑换柜台" in keeper_home
    page = html(client_for(cast.secretary_a).get(reverse("residents:household_detail", args=[cast.household_a1.pk])))
    assert f"余额 {world.acc_a1.balance} 分" in page and "打印积分卡" in page
    nav = html(client_for(cast.grid_worker_a1).get(reverse("core:home")))
    assert "积分与超市" in nav


def test_village_filter_values_outside_scope_are_ignored(world, cast, client_for):
    c = client_for(cast.secretary_a)
    resp = c.get(reverse("points:account_list") + f"?area={cast.grid_b1.code}")
    assert resp.status_code == 200
    assert "张大岗" not in html(resp)
    assert VILLAGE_A  # the secretary's village
