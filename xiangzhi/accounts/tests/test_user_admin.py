"""Accounts & posts pages (账户与岗位): scope, create, disable, reset, assign, revoke."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xiangzhi.accounts.models import User
from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import PASSWORD, TOWNSHIP, VILLAGE_A, VILLAGE_B, make_user
from xiangzhi.org.models import Assignment

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Xz-Admin2026"


def detail_url(user):
    return reverse("accounts:user_detail", args=[user.pk])


def create(client, **data):
    payload = {
        "username": "new_cadre",
        "full_name": "新干部",
        "area_code": VILLAGE_A,
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    payload.update(data)
    return client.post(reverse("accounts:user_create"), payload)


class TestList:
    def test_admin_sees_users_of_own_township_only(self, cast, client_for):
        make_user("outsider", "village_secretary", "341524112201")  # 流波䃥镇 流波村
        resp = client_for(cast.township_admin).get(reverse("accounts:user_list"))
        assert resp.status_code == 200
        body = resp.content.decode()
        for name in ("secretary_a", "secretary_b", "grid_a1", "villager", "auditor"):
            assert name in body
        assert "outsider" not in body
        assert detail_url(cast.county) not in body  # the county supervisor lives above the township

    def test_shows_posts_with_role_label_and_area_name(self, cast, client_for):
        body = client_for(cast.township_admin).get(reverse("accounts:user_list")).content.decode()
        assert "村党组织书记 · 白塔畈镇 刘冲村" in body
        assert "网格员 · 白塔畈镇 刘冲村 第一网格" in body

    def test_search_by_name_and_username(self, cast, client_for):
        cast.secretary_a.full_name = "刘书记"
        cast.secretary_a.save()
        c = client_for(cast.township_admin)
        body = c.get(reverse("accounts:user_list"), {"q": "刘书"}).content.decode()
        assert "secretary_a" in body and "secretary_b" not in body
        body = c.get(reverse("accounts:user_list"), {"q": "grid_a"}).content.decode()
        assert "grid_a1" in body and "secretary_a" not in body

    def test_roles_without_permission_get_403(self, cast, client_for):
        for user in (cast.secretary_a, cast.grid_worker_a1, cast.villager, cast.auditor, cast.county, cast.nobody):
            assert client_for(user).get(reverse("accounts:user_list")).status_code == 403, user

    def test_anonymous_redirects_to_login(self, client):
        resp = client.get(reverse("accounts:user_list"))
        assert resp.status_code == 302 and resp.url.startswith(reverse("accounts:login"))

    def test_detail_out_of_scope_is_404(self, cast, client_for):
        outsider = make_user("outsider", "village_secretary", "341524112201")
        c = client_for(cast.township_admin)
        assert c.get(detail_url(outsider)).status_code == 404
        assert c.get(detail_url(cast.county)).status_code == 404
        assert c.get(detail_url(cast.secretary_a)).status_code == 200
        assert c.get("/accounts/users/99999999999999999999999/").status_code == 404


class TestCreate:
    def test_create_user_audited(self, cast, client_for):
        resp = create(client_for(cast.township_admin))
        user = User.objects.get(username="new_cadre")
        assert resp.status_code == 302 and resp.url == detail_url(user)
        assert user.full_name == "新干部" and user.area_code == VILLAGE_A and user.check_password(GOOD_PASSWORD)
        assert not user.assignments.exists()
        ev = AuditEvent.objects.get(action="accounts.user_create", object_id=str(user.pk))
        assert ev.actor_name == "township_admin" and ev.area_code == VILLAGE_A

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("abcdefgh1", "大写字母、小写字母、数字、符号中的 3 类"),
            ("Ab1!", "密码太短"),
            ("12345678Aa", None),  # fine: 3 classes, long enough — control case below
        ],
    )
    def test_password_rules_in_chinese(self, cast, client_for, password, message):
        resp = create(client_for(cast.township_admin), password1=password, password2=password)
        if message is None:
            assert resp.status_code == 302
            return
        assert resp.status_code == 200
        assert message in resp.content.decode()
        assert not User.objects.filter(username="new_cadre").exists()

    def test_field_errors(self, cast, client_for):
        c = client_for(cast.township_admin)
        resp = create(c, username="secretary_a", password2="other-Pass1")
        body = resp.content.decode()
        assert resp.status_code == 200
        assert "该用户名已被使用" in body or "两次输入的密码不一致" in body
        assert "两次输入的密码不一致" in body
        resp = create(c, username="<script>alert(1)</script>")
        assert "用户名只能包含" in resp.content.decode()
        assert "<script>alert(1)" not in resp.content.decode()
        resp = create(c, area_code="341524112201")  # another township
        assert "该区域不在您的管理范围内" in resp.content.decode()
        resp = create(c, full_name="长" * 51)
        assert resp.status_code == 200 and "50" in resp.content.decode()
        resp = create(c, username="SECRETARY_A")
        assert "该用户名已被使用" in resp.content.decode()
        assert not User.objects.filter(username__in=["new_cadre", "SECRETARY_A"]).exists()

    def test_all_field_errors_at_once(self, cast, client_for):
        resp = create(
            client_for(cast.township_admin),
            username="bad user",
            area_code="",
            password1="abcdefgh1",
            password2="abcdefgh1",
        )
        body = resp.content.decode()
        assert "用户名只能包含" in body and "请选择所属区域" in body and "中的 3 类" in body
        assert body.count("invalid-feedback") == 4  # "abcdefgh1" is also a common password

    def test_area_select_lists_only_own_scope(self, cast, client_for):
        body = client_for(cast.township_admin).get(reverse("accounts:user_create")).content.decode()
        assert f'value="{VILLAGE_A}"' in body and f'value="{TOWNSHIP}"' in body
        assert 'value="341524112201"' not in body and 'value="341524"' not in body


class TestDisableEnable:
    def test_disable_then_enable(self, cast, client_for):
        c = client_for(cast.township_admin)
        victim = client_for(cast.secretary_a)
        assert victim.get(reverse("org:region_list")).status_code == 200
        resp = c.post(reverse("accounts:user_set_active", args=[cast.secretary_a.pk]), {"active": "0"})
        assert resp.status_code == 302
        cast.secretary_a.refresh_from_db()
        assert not cast.secretary_a.is_active
        # the victim's next request is anonymous
        resp = victim.get(reverse("org:region_list"))
        assert resp.status_code == 302 and resp.url.startswith(reverse("accounts:login"))
        assert AuditEvent.objects.filter(action="accounts.user_disable", object_id=str(cast.secretary_a.pk)).exists()
        c.post(reverse("accounts:user_set_active", args=[cast.secretary_a.pk]), {"active": "1"})
        cast.secretary_a.refresh_from_db()
        assert cast.secretary_a.is_active

    def test_cannot_disable_self(self, cast, client_for):
        c = client_for(cast.township_admin)
        resp = c.post(reverse("accounts:user_set_active", args=[cast.township_admin.pk]), {"active": "0"}, follow=True)
        assert "不能停用自己的账户" in resp.content.decode()
        cast.township_admin.refresh_from_db()
        assert cast.township_admin.is_active

    def test_out_of_scope_is_404_and_get_is_405(self, cast, client_for):
        c = client_for(cast.township_admin)
        url = reverse("accounts:user_set_active", args=[cast.county.pk])
        assert c.post(url, {"active": "0"}).status_code == 404
        cast.county.refresh_from_db()
        assert cast.county.is_active
        assert c.get(reverse("accounts:user_set_active", args=[cast.secretary_a.pk])).status_code == 405


class TestPasswordReset:
    def test_reset_ends_sessions(self, cast, client_for):
        victim = client_for(cast.secretary_a)
        c = client_for(cast.township_admin)
        url = reverse("accounts:user_password", args=[cast.secretary_a.pk])
        resp = c.post(url, {"password1": "Neu-Pass2026", "password2": "Neu-Pass2026"})
        assert resp.status_code == 302
        cast.secretary_a.refresh_from_db()
        assert cast.secretary_a.check_password("Neu-Pass2026")
        # the password hash changed: Django's session hash check logs the old session out
        assert victim.get(reverse("org:region_list")).status_code == 302
        assert AuditEvent.objects.filter(action="accounts.password_set").exists()

    def test_weak_password_field_error(self, cast, client_for):
        c = client_for(cast.township_admin)
        url = reverse("accounts:user_password", args=[cast.secretary_a.pk])
        resp = c.post(url, {"password1": "abcdefgh1", "password2": "abcdefgh1"})
        assert resp.status_code == 200
        assert "至少需要包含大写字母、小写字母、数字、符号中的 3 类" in resp.content.decode()
        cast.secretary_a.refresh_from_db()
        assert cast.secretary_a.check_password(PASSWORD)


class TestAssignments:
    def test_add_assignment(self, cast, client_for):
        user = make_user("helper", area_code=VILLAGE_B)
        c = client_for(cast.township_admin)
        resp = c.post(
            reverse("accounts:assignment_add", args=[user.pk]), {"role": "village_cadre", "area_code": VILLAGE_B}
        )
        assert resp.status_code == 302
        assert Assignment.objects.filter(user=user, role="village_cadre", area_code=VILLAGE_B).exists()
        assert AuditEvent.objects.filter(action="org.assignment_add", details__user_id=user.pk).exists()
        # shown on the detail page
        assert "村干部" in c.get(detail_url(user)).content.decode()

    def test_role_level_mismatch_is_field_error(self, cast, client_for):
        user = make_user("helper", area_code=VILLAGE_B)
        c = client_for(cast.township_admin)
        resp = c.post(
            reverse("accounts:assignment_add", args=[user.pk]), {"role": "village_cadre", "area_code": TOWNSHIP}
        )
        assert resp.status_code == 200
        assert "与所选角色的层级不符" in resp.content.decode()
        resp = c.post(reverse("accounts:assignment_add", args=[user.pk]), {"role": "king", "area_code": VILLAGE_B})
        assert "未知角色" in resp.content.decode()
        resp = c.post(
            reverse("accounts:assignment_add", args=[user.pk]), {"role": "village_cadre", "area_code": "341524112201"}
        )
        assert "不在您的管理范围内" in resp.content.decode()
        assert not user.assignments.exists()

    def test_area_options_follow_role_levels(self, cast, client_for):
        c = client_for(cast.township_admin)
        url = reverse("accounts:assignment_area_options")
        village_only = c.get(url, {"role": "village_secretary"}).content.decode()
        assert f'value="{VILLAGE_A}"' in village_only and f'value="{TOWNSHIP}"' not in village_only
        assert f'value="{cast.grid_a1.code}"' not in village_only
        grid = c.get(url, {"role": "grid_worker"}).content.decode()
        assert f'value="{cast.grid_a1.code}"' in grid
        township = c.get(url, {"role": "auditor"}).content.decode()
        assert f'value="{TOWNSHIP}"' in township and f'value="{VILLAGE_A}"' not in township

    def test_removal_takes_effect_on_next_request(self, cast, client_for):
        """Issue 2 §3: removing a post takes effect on that user's very next request."""
        secretary = client_for(cast.secretary_a)
        village_page = reverse("org:region_detail", args=[VILLAGE_A])
        assert secretary.get(village_page).status_code == 200
        admin = client_for(cast.township_admin)
        post = cast.secretary_a.assignments.get()
        resp = admin.post(reverse("accounts:assignment_remove", args=[cast.secretary_a.pk, post.pk]))
        assert resp.status_code == 302
        assert not Assignment.objects.filter(pk=post.pk).exists()
        assert AuditEvent.objects.filter(action="org.assignment_remove", details__user_id=cast.secretary_a.pk).exists()
        # same session, no re-login: the role is gone → 403
        assert secretary.get(village_page).status_code == 403
        # moved to village B instead: village A is now out of scope → 404
        admin.post(
            reverse("accounts:assignment_add", args=[cast.secretary_a.pk]),
            {"role": "village_secretary", "area_code": VILLAGE_B},
        )
        assert secretary.get(village_page).status_code == 404
        assert secretary.get(reverse("org:region_detail", args=[VILLAGE_B])).status_code == 200

    def test_remove_foreign_assignment_is_404(self, cast, client_for):
        c = client_for(cast.township_admin)
        other = cast.secretary_b.assignments.get()
        url = reverse("accounts:assignment_remove", args=[cast.secretary_a.pk, other.pk])
        assert c.post(url).status_code == 404
        assert Assignment.objects.filter(pk=other.pk).exists()

    def test_village_secretary_cannot_manage_posts(self, cast, client_for):
        c = client_for(cast.secretary_a)
        post = cast.grid_worker_a1.assignments.get()
        url = reverse("accounts:assignment_remove", args=[cast.grid_worker_a1.pk, post.pk])
        assert c.post(url).status_code == 403
        assert Assignment.objects.filter(pk=post.pk).exists()
