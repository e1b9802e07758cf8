"""Regions & grids pages (区划与网格): the scoped tree browser and grid administration."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import COUNTY, TOWNSHIP, VILLAGE_A, VILLAGE_B, make_user
from xiangzhi.org.models import Region

pytestmark = pytest.mark.django_db

LIUBO = "341524112"  # 流波䃥镇: a rare character (U+40E5) in an official name


def detail(code):
    return reverse("org:region_detail", args=[code])


class TestTree:
    def test_county_supervisor_sees_all_townships_with_rare_characters(self, cast, client_for):
        resp = client_for(cast.county).get(reverse("org:region_list"))
        body = resp.content.decode()
        assert resp.status_code == 200
        assert "金寨县" in body and "白塔畈镇" in body
        assert "流波䃥镇" in body and "341524112000" in body  # official 12-digit form
        resp = client_for(cast.county).get(detail(LIUBO))
        assert resp.status_code == 200 and "流波䃥镇" in resp.content.decode()

    def test_township_admin_root_is_the_township(self, cast, client_for):
        body = client_for(cast.township_admin).get(reverse("org:region_list")).content.decode()
        assert "白塔畈镇" in body and "刘冲村" in body and "大岗村" in body
        assert "流波䃥镇" not in body and "梅山镇" not in body

    def test_village_detail_lists_grids_with_15_digit_codes(self, cast, client_for):
        body = client_for(cast.secretary_a).get(detail(VILLAGE_A)).content.decode()
        assert "第一网格" in body and "第二网格" in body
        assert cast.grid_a1.code in body and len(cast.grid_a1.code) == 15
        assert "刘冲村委会" in body  # official statistical name next to the display name

    def test_htmx_children_partial(self, cast, client_for):
        resp = client_for(cast.township_admin).get(reverse("org:region_children", args=[VILLAGE_A]))
        assert resp.status_code == 200
        body = resp.content.decode()
        assert "第一网格" in body and "<html" not in body

    def test_out_of_scope_is_404(self, cast, client_for):
        secretary = client_for(cast.secretary_a)
        assert secretary.get(detail(VILLAGE_B)).status_code == 404
        assert secretary.get(detail(cast.grid_b1.code)).status_code == 404
        assert secretary.get(detail(TOWNSHIP)).status_code == 404
        assert secretary.get(reverse("org:region_children", args=[VILLAGE_B])).status_code == 404
        assert client_for(cast.township_admin).get(detail(COUNTY)).status_code == 404
        assert client_for(cast.township_admin).get(detail(LIUBO)).status_code == 404

    def test_grid_worker_sees_own_grid_only(self, cast, client_for):
        c = client_for(cast.grid_worker_a1)
        assert c.get(detail(cast.grid_a1.code)).status_code == 200
        assert c.get(detail(cast.grid_a2.code)).status_code == 404
        assert c.get(detail(VILLAGE_A)).status_code == 404

    def test_breadcrumb_links_only_inside_scope(self, cast, client_for):
        body = client_for(cast.secretary_a).get(detail(cast.grid_a1.code)).content.decode()
        assert f'href="{detail(VILLAGE_A)}"' in body
        assert f'href="{detail(TOWNSHIP)}"' not in body and "白塔畈镇" in body

    @pytest.mark.parametrize("code", ["abc", "1" * 40, "3415241112060011", "%00", "341524111206'--"])
    def test_bad_codes_are_404(self, cast, client_for, code):
        assert client_for(cast.county).get(f"/org/regions/{code}/").status_code == 404

    def test_roles_without_region_permission_get_403(self, cast, client_for):
        for user in (cast.villager, cast.auditor, cast.nobody):
            assert client_for(user).get(reverse("org:region_list")).status_code == 403


class TestGrids:
    def test_secretary_creates_grid(self, cast, client_for):
        c = client_for(cast.secretary_a)
        resp = c.post(reverse("org:grid_create", args=[VILLAGE_A]), {"name": "第三网格", "note": "三组、四组"})
        assert resp.status_code == 302
        grid = Region.objects.get(parent_id=VILLAGE_A, name="第三网格")
        assert grid.code == VILLAGE_A + "003" and grid.level == "grid" and grid.note == "三组、四组"
        assert AuditEvent.objects.filter(
            action="org.grid_create", object_id=grid.code, actor_name="secretary_a"
        ).exists()
        assert "第三网格" in c.get(detail(VILLAGE_A)).content.decode()

    def test_rare_character_grid_name_survives(self, cast, client_for):
        c = client_for(cast.township_admin)
        c.post(reverse("org:grid_create", args=[VILLAGE_B]), {"name": "䃥石网格"})
        grid = Region.objects.get(parent_id=VILLAGE_B, name="䃥石网格")
        assert "䃥石网格" in c.get(detail(grid.code)).content.decode()

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("", "请填写网格名称"),
            ("   ", "请填写网格名称"),
            ("第一网格", "本村已有同名网格"),
            ("网" * 101, "最多 100 个字"),
        ],
    )
    def test_bad_names_are_field_errors(self, cast, client_for, name, message):
        before = Region.objects.filter(level="grid").count()
        resp = client_for(cast.secretary_a).post(reverse("org:grid_create", args=[VILLAGE_A]), {"name": name})
        assert resp.status_code == 200
        assert message in resp.content.decode()
        assert Region.objects.filter(level="grid").count() == before

    def test_html_in_name_is_escaped(self, cast, client_for):
        c = client_for(cast.secretary_a)
        c.post(reverse("org:grid_create", args=[VILLAGE_A]), {"name": "<b>坏</b>"})
        body = c.get(detail(VILLAGE_A)).content.decode()
        assert "<b>坏</b>" not in body and "&lt;b&gt;坏&lt;/b&gt;" in body

    def test_cannot_create_grid_elsewhere(self, cast, client_for):
        c = client_for(cast.secretary_a)
        assert c.post(reverse("org:grid_create", args=[VILLAGE_B]), {"name": "X"}).status_code == 404
        assert c.post(reverse("org:grid_create", args=[cast.grid_a1.code]), {"name": "X"}).status_code == 404
        assert (
            client_for(cast.grid_worker_a1)
            .post(reverse("org:grid_create", args=[VILLAGE_A]), {"name": "X"})
            .status_code
            == 403
        )
        assert not Region.objects.filter(name="X").exists()

    def test_rename_and_deactivate(self, cast, client_for):
        c = client_for(cast.secretary_a)
        url = reverse("org:grid_update", args=[cast.grid_a2.code])
        resp = c.post(url, {"edit-name": "东片网格", "edit-note": "", "edit-is_active": ""})
        assert resp.status_code == 302
        cast.grid_a2.refresh_from_db()
        assert cast.grid_a2.name == "东片网格" and not cast.grid_a2.is_active
        event = AuditEvent.objects.get(action="org.grid_update", object_id=cast.grid_a2.code)
        assert sorted(event.details["fields"]) == ["is_active", "name"]
        assert "已停用" in c.get(detail(VILLAGE_A)).content.decode()
        c.post(url, {"edit-name": "东片网格", "edit-is_active": "on"})
        cast.grid_a2.refresh_from_db()
        assert cast.grid_a2.is_active

    def test_rename_to_sibling_name_is_field_error(self, cast, client_for):
        c = client_for(cast.secretary_a)
        resp = c.post(
            reverse("org:grid_update", args=[cast.grid_a2.code]), {"edit-name": "第一网格", "edit-is_active": "on"}
        )
        assert resp.status_code == 200 and "本村已有同名网格" in resp.content.decode()
        cast.grid_a2.refresh_from_db()
        assert cast.grid_a2.name == "第二网格"

    def test_only_grids_are_editable(self, cast, client_for):
        c = client_for(cast.township_admin)
        assert c.post(reverse("org:grid_update", args=[VILLAGE_A]), {"edit-name": "改名村"}).status_code == 404
        assert Region.objects.get(code=VILLAGE_A).name == "刘冲村"

    def test_update_out_of_scope_is_404(self, cast, client_for):
        c = client_for(cast.secretary_a)
        resp = c.post(
            reverse("org:grid_update", args=[cast.grid_b1.code]), {"edit-name": "夺来的", "edit-is_active": "on"}
        )
        assert resp.status_code == 404

    def test_bank_officer_reads_but_cannot_edit(self, cast, client_for):
        officer = make_user("bank", "bank_officer", TOWNSHIP)
        c = client_for(officer)
        assert c.get(detail(VILLAGE_A)).status_code == 200
        assert "新建网格" not in c.get(detail(VILLAGE_A)).content.decode()
        assert c.post(reverse("org:grid_create", args=[VILLAGE_A]), {"name": "X"}).status_code == 403
