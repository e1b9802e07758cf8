"""Audit log page (审计日志): auditors only, area-scoped, filtered, keyset-paginated, with the
hash-chain check."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import COUNTY, TOWNSHIP, VILLAGE_A, make_user

pytestmark = pytest.mark.django_db

URL = "/audit/"


def ids(resp) -> list[int]:
    return [int(x) for x in re.findall(r'<td class="text-secondary">(\d+)</td>', resp.content.decode())]


@pytest.fixture
def county_auditor(cast):
    return make_user("county_auditor", "auditor", COUNTY)


class TestAccess:
    def test_only_auditors(self, cast, client_for):
        assert client_for(cast.auditor).get(URL).status_code == 200
        for user in (
            cast.township_admin,
            cast.secretary_a,
            cast.grid_worker_a1,
            cast.villager,
            cast.county,
            cast.nobody,
        ):
            assert client_for(user).get(URL).status_code == 403, user.username
            assert client_for(user).post(reverse("audit:chain_verify")).status_code == 403

    def test_anonymous_redirects(self, client):
        resp = client.get(URL)
        assert resp.status_code == 302 and resp.url.startswith(reverse("accounts:login"))


class TestScope:
    def test_township_auditor_sees_own_township_only(self, cast, client_for):
        inside = audit.record(cast.secretary_a, "test.inside", area_code=VILLAGE_A)
        outside = audit.record(None, "test.outside", area_code="341524112201")
        nowhere = audit.record(None, "test.nowhere", username="ghost")
        shown = ids(client_for(cast.auditor).get(URL, {"action": "test."}))
        assert inside.id in shown
        assert outside.id not in shown and nowhere.id not in shown

    def test_events_without_area_go_to_county_auditors(self, cast, client_for, county_auditor):
        nowhere = audit.record(None, "test.nowhere", username="ghost")
        outside = audit.record(None, "test.outside", area_code="341524112201")
        shown = ids(client_for(county_auditor).get(URL, {"action": "test."}))
        assert nowhere.id in shown and outside.id in shown

    def test_township_auditor_sees_failed_logins_of_its_accounts(self, cast, client, client_for):
        client.post("/accounts/login/", {"username": "secretary_a", "password": "wrong"})
        client.post("/accounts/login/", {"username": "ghost", "password": "wrong"})
        body = client_for(cast.auditor).get(URL, {"action": "auth.login_failed"}).content.decode()
        assert "secretary_a" in body and "ghost" not in body


class TestFilters:
    def test_action_actor_area_and_dates(self, cast, client_for):
        a = audit.record(cast.secretary_a, "test.alpha", area_code=VILLAGE_A, note="甲")
        b = audit.record(cast.township_admin, "test.beta", area_code=TOWNSHIP)
        c = client_for(cast.auditor)
        assert ids(c.get(URL, {"action": "test.alpha"})) == [a.id]
        assert set(ids(c.get(URL, {"action": "test."}))) == {a.id, b.id}
        assert ids(c.get(URL, {"action": "test.", "actor": "township_admin"})) == [b.id]
        assert ids(c.get(URL, {"action": "test.", "area": VILLAGE_A})) == [a.id]
        today = timezone.localdate()
        assert set(ids(c.get(URL, {"action": "test.", "date_from": today, "date_to": today}))) == {a.id, b.id}
        assert ids(c.get(URL, {"action": "test.", "date_to": today - timedelta(days=1)})) == []
        assert ids(c.get(URL, {"action": "test.", "date_from": today + timedelta(days=1)})) == []

    def test_details_shown_compactly(self, cast, client_for):
        audit.record(cast.secretary_a, "test.json", area_code=VILLAGE_A, note="流波䃥", n=3)
        body = client_for(cast.auditor).get(URL, {"action": "test.json"}).content.decode()
        assert "{&quot;n&quot;:3,&quot;note&quot;:&quot;流波䃥&quot;}" in body

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"date_from": "2026-13-45"}, "请输入有效日期"),
            ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "结束日期不能早于开始日期"),
            ({"area": "34x"}, "区域代码应为 1–15 位数字"),
            ({"date_to": "9999-12-31"}, "日期应在 2000-01-01 至 2099-12-31 之间"),
            ({"date_from": "0001-01-01"}, "日期应在 2000-01-01 至 2099-12-31 之间"),
            ({"action": "a" * 65}, "动作最多 64 个字符"),
        ],
    )
    def test_bad_filters_are_field_errors(self, cast, client_for, params, message):
        resp = client_for(cast.auditor).get(URL, params)
        assert resp.status_code == 200
        assert message in resp.content.decode()

    @pytest.mark.parametrize("cursor", ["abc", "-1", "99999999999999999999999", "1e9", "١٢"])
    def test_bad_cursor_is_ignored(self, cast, client_for, cursor):
        assert client_for(cast.auditor).get(URL, {"before": cursor}).status_code == 200
        assert client_for(cast.auditor).get(URL, {"after": cursor}).status_code == 200


class TestPaging:
    def test_newest_first_keyset_pages(self, cast, client_for):
        made = [audit.record(None, "test.page", area_code=VILLAGE_A, i=i).id for i in range(120)]
        c = client_for(cast.auditor)
        first = c.get(URL, {"action": "test.page"})
        assert ids(first) == made[::-1][:50]
        older = re.search(r'href="\?([^"]*before=(\d+))"', first.content.decode())
        assert older and int(older.group(2)) == made[-50]
        second = c.get(URL, {"action": "test.page", "before": older.group(2)})
        assert ids(second) == made[::-1][50:100]
        third = c.get(URL, {"action": "test.page", "before": made[::-1][99]})
        assert ids(third) == made[::-1][100:]
        assert "before=" not in third.content.decode().split("较新")[-1]  # no older link on the last page
        back = c.get(URL, {"action": "test.page", "after": made[::-1][100]})
        assert ids(back) == made[::-1][50:100]

    def test_page_cost_does_not_grow_with_the_table(self, cast, client_for):
        """O(page): no COUNT(*) and no OFFSET; the same number of queries for 60 and 600 rows."""
        c = client_for(cast.auditor)

        def queries():
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(URL).status_code == 200
            sql = [q["sql"].upper() for q in ctx.captured_queries]
            audit_sql = [s for s in sql if "AUDIT_AUDITEVENT" in s]
            assert audit_sql
            assert not any("COUNT(" in s or "OFFSET" in s for s in audit_sql), audit_sql
            return len(sql)

        for i in range(60):
            audit.record(None, "test.grow", area_code=VILLAGE_A, i=i)
        queries()  # warm: the first request of a process also memoises the auditor's scope
        small = queries()
        for i in range(540):
            audit.record(None, "test.grow", area_code=VILLAGE_A, i=i)
        assert queries() == small


class TestChain:
    def test_verify_ok(self, cast, client_for):
        resp = client_for(cast.auditor).post(reverse("audit:chain_verify"), follow=True)
        body = resp.content.decode()
        assert "哈希链校验通过" in body
        assert f"共 {AuditEvent.objects.count()} 条记录" in body

    def test_verify_detects_tampering(self, cast, client_for):
        victim = AuditEvent.objects.order_by("id")[3]
        with connection.cursor() as cur:  # bypass the append-only triggers, as an attacker with DB access would
            if connection.vendor == "sqlite":
                cur.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            else:
                cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cur.execute("UPDATE audit_auditevent SET actor_name = 'someone_else' WHERE id = %s", [victim.id])
        body = client_for(cast.auditor).post(reverse("audit:chain_verify"), follow=True).content.decode()
        assert "哈希链校验失败" in body and f"第 {victim.id} 号记录" in body

    def test_verify_needs_post(self, cast, client_for):
        assert client_for(cast.auditor).get(reverse("audit:chain_verify")).status_code == 405
