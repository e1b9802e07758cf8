"""Registration (staff desk and grid worker's phone), attachments, configuration, the home
panel and the messages page."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from xiangzhi.audit.models import AuditEvent
from xiangzhi.cases import config, services
from xiangzhi.cases.models import Attachment, Case, CaseParty, Category, DeadlinePolicy
from xiangzhi.notifications.models import Message
from xiangzhi.notifications.services import notify
from xiangzhi.residents.models import Resident

CREATE = reverse("cases:create")
SEARCH = reverse("cases:household_search")
ASSIST = reverse("cases:create_assist")
CONFIG = reverse("cases:config")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def html(resp) -> str:
    return resp.content.decode()


def png(name="现场.png", data=PNG):
    return SimpleUploadedFile(name, data, content_type="image/png")


def stored_files() -> set[str]:
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    out = set()
    for base, _, files in os.walk(root):
        out.update(os.path.join(base, f) for f in files)
    return out


@pytest.fixture
def form_data(cast, category):
    def _data(**over):
        data = {
            "kind": "dispute",
            "channel": "grid_report",
            "category": str(category.pk),
            "area_code": cast.grid_a1.code,
            "title": "排水沟堵塞引发邻里纠纷",
            "description": "刘长喜反映邻居王二将排水沟填平，雨天积水进屋。",
            "contact_name": "刘长喜",
            "contact_phone": "13812345678",
            "household": str(cast.household_a1.pk),
            "party-0-role": "applicant",
            "party-0-resident": str(Resident.objects.get(household=cast.household_a1, relation="head").pk),
            "party-1-role": "respondent",
            "party-1-name": "王二",
            "idempotency_key": "tok_" + "a" * 28,
        }
        data.update(over)
        return data

    return _data


# --- registration -------------------------------------------------------------------------
def test_grid_worker_registers_with_photos_from_the_phone(cast, client_for, form_data):
    c = client_for(cast.grid_worker_a1)
    page = html(c.get(CREATE))
    assert 'capture="environment"' in page and 'accept="image/*"' in page and 'name="idempotency_key"' in page
    resp = c.post(CREATE, {**form_data(), "photos": [png(), png("第二张.jpg", JPEG)]})
    assert resp.status_code == 302
    case = Case.objects.get()
    assert resp.url == reverse("cases:detail", args=[case.pk])
    assert case.area_code == cast.grid_a1.code and case.level == "grid" and case.household == cast.household_a1
    assert case.attachments.count() == 2
    parties = {p.name: p for p in CaseParty.objects.filter(case=case)}
    assert parties["刘长喜"].resident is not None and parties["王二"].resident is None
    assert parties["王二"].role == "respondent"
    follow = html(c.get(resp.url))
    assert case.tracking_code in follow and "事项已登记" in follow


def test_bad_photo_aborts_the_whole_registration(cast, client_for, form_data):
    before = stored_files()
    fake = SimpleUploadedFile("照片.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    resp = client_for(cast.grid_worker_a1).post(CREATE, {**form_data(), "photos": [png(), fake]})
    assert resp.status_code == 400
    assert "不支持的文件类型" in html(resp) and "事项未登记" in html(resp)
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0 and CaseParty.objects.count() == 0
    assert stored_files() == before
    assert "排水沟堵塞引发邻里纠纷" in html(resp)  # what was typed is kept


def test_photo_over_10_mb_is_refused(cast, client_for, form_data):
    big = SimpleUploadedFile("大图.png", PNG + b"\x00" * (10 * 1024 * 1024), content_type="image/png")
    resp = client_for(cast.grid_worker_a1).post(CREATE, {**form_data(), "photos": [big]})
    assert resp.status_code == 400 and "不能超过 10 MB" in html(resp)
    assert Case.objects.count() == 0


def test_double_submit_makes_one_case(cast, client_for, form_data):
    c = client_for(cast.grid_worker_a1)
    first = c.post(CREATE, {**form_data(), "photos": [png()]})
    second = c.post(CREATE, {**form_data(), "photos": [png()]})
    assert Case.objects.count() == 1 and Attachment.objects.count() == 1
    assert first.url == second.url
    assert "未重复登记" in html(c.get(second.url))


def test_missing_fields_are_chinese_field_errors(cast, client_for, form_data):
    resp = client_for(cast.grid_worker_a1).post(
        CREATE, form_data(title="", description="", area_code="", contact_phone="12345")
    )
    assert resp.status_code == 400
    page = html(resp)
    assert "请填写事项标题" in page and "请填写诉求内容" in page and "请选择事项发生地所在的村或网格" in page
    assert Case.objects.count() == 0


def test_area_outside_scope_and_foreign_household_are_refused(cast, client_for, form_data):
    c = client_for(cast.grid_worker_a1)
    resp = c.post(CREATE, form_data(area_code=cast.grid_a2.code))
    assert resp.status_code == 400 and "请选择您管辖范围内的村或网格" in html(resp)
    resp = c.post(CREATE, form_data(household=str(cast.household_b1.pk), **{"party-0-resident": ""}))
    assert resp.status_code == 400 and "所选的户不存在或不在您的管辖范围内" in html(resp)
    bad_phone = c.post(CREATE, form_data(contact_phone="12345"))
    assert bad_phone.status_code == 400
    assert Case.objects.count() == 0


def test_secretary_registers_a_walk_in_petition_at_village_level(cast, client_for, form_data):
    c = client_for(cast.secretary_a)
    resp = c.post(CREATE, form_data(kind="petition", channel="walk_in", area_code=cast.grid_a1.code[:12]))
    assert resp.status_code == 302
    case = Case.objects.get()
    assert case.kind == "petition" and case.level == "village" and case.accept_due_at is not None


def test_household_search_by_initials_stays_in_scope(cast, client_for):
    c = client_for(cast.grid_worker_a1)
    page = html(c.get(SEARCH, {"q": "lcx"}))
    assert "刘长喜" in page and "A1-001" in page and "第一网格" in page
    page = html(client_for(cast.secretary_a).get(SEARCH, {"q": "zdg"}))
    assert "张大岗" not in page and "没有找到" in page
    page = html(c.get(SEARCH, {"q": "wxy"}))  # 王秀英 lives in grid A2
    assert "王秀英" not in page


def test_picking_a_household_offers_its_members_and_repeat_cases(cast, client_for, make_case):
    earlier = make_case(title="去年的排水沟纠纷", household=cast.household_a1)
    c = client_for(cast.grid_worker_a1)
    resp = c.post(ASSIST, {"pick_household": str(cast.household_a1.pk), "area_code": ""})
    page = html(resp)
    assert resp.status_code == 200
    assert f'name="household" value="{cast.household_a1.pk}"' in page
    assert "刘长喜" in page and "刘小明" in page  # members in the party selects
    assert "关联为重复访" in page and earlier.tracking_code in page
    assert 'id="field-area_code" hx-swap-oob="true"' in page
    assert 'id="field-contact_name" hx-swap-oob="true"' in page and 'value="刘长喜"' in page  # the head, prefilled
    # a household outside the scope is not picked
    page = html(c.post(ASSIST, {"pick_household": str(cast.household_b1.pk)}))
    assert "张大岗" not in page and "已选" not in page


def test_repeat_suggestions_by_party_name(cast, client_for, make_case):
    earlier = make_case(title="王二家的旧纠纷", parties=[{"name": "王二", "role": "respondent"}])
    resp = client_for(cast.grid_worker_a1).post(
        ASSIST, {"part": "repeats", "area_code": cast.grid_a1.code, "party-1-name": "王二"}
    )
    page = html(resp)
    assert earlier.tracking_code in page and "<html" not in page and "party-rows" not in page


def test_linking_a_repeat_petition(cast, client_for, make_case, form_data):
    earlier = make_case(title="去年的排水沟纠纷", household=cast.household_a1)
    resp = client_for(cast.grid_worker_a1).post(CREATE, form_data(related_case=str(earlier.pk)))
    assert resp.status_code == 302
    assert Case.objects.exclude(pk=earlier.pk).get().related_case == earlier
    other = make_case(title="大岗村的事", area=cast.grid_b1.code, actor=cast.secretary_b)
    resp = client_for(cast.grid_worker_a1).post(
        CREATE, form_data(related_case=str(other.pk), idempotency_key="tok_" + "b" * 28)
    )
    assert resp.status_code == 400 and "关联事项不存在或不在您的管辖范围内" in html(resp)
    huge = {"related_case": str(2**70), "household": str(2**70), "idempotency_key": "tok_" + "c" * 28}
    resp = client_for(cast.grid_worker_a1).post(CREATE, form_data(**huge))
    assert resp.status_code == 400


# --- attachments --------------------------------------------------------------------------
def test_attachment_streams_only_in_scope(cast, client_for, make_case):
    case = make_case()
    att = services.attachment_add(actor=cast.grid_worker_a1, case=case, upload=png())
    url = reverse("cases:attachment", args=[case.pk, att.pk])
    resp = client_for(cast.secretary_a).get(url)
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content) == PNG
    assert resp["Content-Type"] == "image/png" and resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Content-Disposition"].startswith("inline")
    assert client_for(cast.secretary_b).get(url).status_code == 404
    other = make_case(title="另一件")
    assert client_for(cast.secretary_a).get(reverse("cases:attachment", args=[other.pk, att.pk])).status_code == 404
    assert client_for(cast.auditor).get(url).status_code == 403


def test_upload_on_the_case_page_is_all_or_nothing(cast, client_for, make_case):
    case = make_case()
    url = reverse("cases:record", args=[case.pk, "attachment"])
    c = client_for(cast.grid_worker_a1)
    fake = SimpleUploadedFile("病毒.png", b"<script>alert(1)</script>", content_type="image/png")
    resp = c.post(url, {"photos": [png(), fake]})
    assert resp.status_code == 400 and "病毒.png" in html(resp) and "不支持的文件类型" in html(resp)
    assert case.attachments.count() == 0
    resp = c.post(url, {"photos": [png()]})
    assert resp.status_code == 302 and case.attachments.count() == 1
    assert c.post(url, {}).status_code == 400


# --- configuration ------------------------------------------------------------------------
def test_config_is_for_township_admins_only(cast, client_for):
    assert client_for(cast.township_admin).get(CONFIG).status_code == 200
    for user in (cast.secretary_a, cast.grid_worker_a1, cast.auditor, cast.county):
        assert client_for(user).get(CONFIG).status_code == 403


def test_categories_ensure_defaults_is_idempotent(db):
    created = config.categories_ensure_defaults()
    assert created == Category.objects.count() and created > 12
    assert Category.objects.get(code="homestead").parent.code == "land"
    assert config.categories_ensure_defaults() == 0
    Category.objects.filter(code="water").update(name="饮水安全")
    assert config.categories_ensure_defaults() == 0 and Category.objects.get(code="water").name == "饮水安全"


def test_township_adds_renames_and_deactivates_its_categories(cast, client_for):
    config.categories_ensure_defaults()
    c = client_for(cast.township_admin)
    land = Category.objects.get(code="land")
    resp = c.post(
        reverse("cases:config_category_add"), {"township": "341524111", "name": "茶园承包", "parent": land.pk}
    )
    assert resp.status_code == 302
    tea = Category.objects.get(name="茶园承包")
    assert tea.township_code == "341524111" and tea.parent == land
    assert AuditEvent.objects.filter(action="cases.category_add").exists()
    resp = c.post(
        reverse("cases:config_category_add"), {"township": "341524111", "name": "茶园承包", "parent": land.pk}
    )
    assert resp.status_code == 400 and "已有同名分类" in html(resp)
    c.post(
        reverse("cases:config_category", args=[tea.pk]), {"township": "341524111", "op": "rename", "name": "茶山承包"}
    )
    c.post(reverse("cases:config_category", args=[tea.pk]), {"township": "341524111", "op": "deactivate"})
    tea.refresh_from_db()
    assert tea.name == "茶山承包" and not tea.is_active
    # the shared set is county-wide: a township admin cannot deactivate it
    c.post(reverse("cases:config_category", args=[land.pk]), {"township": "341524111", "op": "deactivate"})
    land.refresh_from_db()
    assert land.is_active
    # the registration form offers the township's active categories only
    page = html(client_for(cast.secretary_a).get(CREATE))
    assert "土地" in page and "茶山承包" not in page


def test_deadline_policies_validate_all_then_save(cast, client_for):
    c = client_for(cast.township_admin)
    url = reverse("cases:config_deadlines")
    good = {"township": "341524111"}
    for kind in ("dispute", "need"):
        for level, days in (("grid", 3), ("village", 7), ("township", 15)):
            good[f"{kind}-{level}-days"] = str(days)
            good[f"{kind}-{level}-yellow_share"] = "70"
    bad = {**good, "dispute-grid-days": "5", "need-village-days": "0"}
    resp = c.post(url, bad)
    assert resp.status_code == 400 and "时限应在 1 至 365 天之间" in html(resp)
    assert DeadlinePolicy.objects.count() == 0
    resp = c.post(url, {**good, "dispute-grid-days": "5", "dispute-grid-working_days": "1"})
    assert resp.status_code == 302
    policy = DeadlinePolicy.objects.get()
    assert (policy.kind, policy.level, policy.days, policy.working_days) == ("dispute", "grid", 5, True)
    assert str(policy.yellow_share) == "0.70"
    assert AuditEvent.objects.filter(action="cases.deadline_policy").count() == 1
    resp = c.post(url, {**good, "township": "341524112"})  # another township: not his
    assert resp.status_code == 404
    page = html(c.get(CONFIG))
    assert 'name="dispute-grid-days" value="5"' in page


# --- home panel and messages --------------------------------------------------------------
def test_home_panel_counts_my_work(cast, client_for, make_case):
    late = make_case(title="超期事项")
    make_case(title="新事项")
    make_case(title="别的网格", area=cast.grid_a2.code, actor=cast.secretary_a)
    Case.objects.filter(pk=late.pk).update(level_due_at=timezone.now() - timedelta(hours=2))
    page = html(client_for(cast.grid_worker_a1).get(reverse("core:home")))
    assert "矛盾纠纷/信访" in page and "2 件待办" in page and "进入事项工作台" in page
    assert re.search(r"已超期</a>\s*<span[^>]*>1 件", page), page
    assert "件在办" in html(client_for(cast.county).get(reverse("core:home")))  # a reader: open cases


def test_messages_page_shows_only_mine_and_marks_read(cast, client_for):
    mine = notify(user=cast.secretary_a, title="新事项待受理", body="ABC 排水沟", url="/cases/")
    notify(user=cast.secretary_b, title="大岗村的消息")
    c = client_for(cast.secretary_a)
    page = html(c.get(reverse("notifications:list")))
    assert "新事项待受理" in page and "大岗村的消息" not in page
    assert 'id="nav-unread"' in page
    resp = c.get(reverse("notifications:open", args=[mine.pk]))
    assert resp.status_code == 302 and resp.url == "/cases/"
    assert Message.objects.get(pk=mine.pk).read_at is not None
    other = Message.objects.get(user=cast.secretary_b)
    assert c.get(reverse("notifications:open", args=[other.pk])).status_code == 404
    assert 'id="nav-unread"' not in html(c.get(reverse("notifications:list")))


def test_message_link_never_leaves_the_site(cast, client_for):
    m = notify(user=cast.secretary_a, title="钓鱼", url="https://evil.example/")
    resp = client_for(cast.secretary_a).get(reverse("notifications:open", args=[m.pk]))
    assert resp.status_code == 302 and resp.url == reverse("notifications:list")


def test_household_page_lists_its_cases_for_staff_only(cast, client_for, make_case):
    case = make_case(title="刘长喜家的排水沟", household=cast.household_a1)
    make_case(title="别家的事项")
    url = reverse("residents:household_detail", args=[cast.household_a1.pk])
    page = html(client_for(cast.grid_worker_a1).get(url))
    assert "刘长喜家的排水沟" in page and case.tracking_code in page and "共 1 件，在办 1 件" in page
    more = f"{reverse('cases:queue')}?tab=all&amp;household={cast.household_a1.pk}"
    assert more in page
    queue = html(
        client_for(cast.grid_worker_a1).get(reverse("cases:queue"), {"tab": "all", "household": cast.household_a1.pk})
    )
    assert "刘长喜家的排水沟" in queue and "别家的事项" not in queue and 'id="household-filter"' in queue
    villager_page = html(
        client_for(cast.villager).get(reverse("residents:household_detail", args=[cast.villager_household.pk]))
    )
    assert "panel-cases" not in villager_page


def test_registration_works_before_categories_are_configured(cast, client_for, form_data):
    Category.objects.all().delete()
    resp = client_for(cast.grid_worker_a1).post(CREATE, form_data(category=""))
    assert resp.status_code == 302 and Case.objects.get().category is None
    c = client_for(cast.township_admin)
    assert "载入默认分类" in html(c.get(CONFIG))
    resp = c.post(reverse("cases:config_category_defaults"), {"township": "341524111"})
    assert resp.status_code == 302 and Category.objects.filter(code="water", township_code="").exists()
    assert "请选择分类" in html(client_for(cast.grid_worker_a1).post(CREATE, form_data(category="")))
