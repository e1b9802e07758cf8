"""Staff case pages as the named cast sees them: the queue, the case page, the action
endpoint, records, attachments and the printable mediation agreement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xiangzhi.cases import services
from xiangzhi.cases.models import Case, CaseEvent, CaseParty
from xiangzhi.residents import services as registry_services
from xiangzhi.residents.models import Resident

QUEUE = reverse("cases:queue")


def html(resp) -> str:
    return resp.content.decode()


def detail(case) -> str:
    return reverse("cases:detail", args=[case.pk])


def action(case, code) -> str:
    return reverse("cases:action", args=[case.pk, code])


def record(case, kind) -> str:
    return reverse("cases:record", args=[case.pk, kind])


@pytest.fixture
def three(cast, make_case):
    """A case in grid A1, one in grid A2 (same village 刘冲村), one in 大岗村."""
    a1 = make_case(title="甲网格排水沟纠纷")
    a2 = make_case(title="乙网格宅基地纠纷", area=cast.grid_a2.code, actor=cast.secretary_a)
    b1 = make_case(title="大岗村山林纠纷", area=cast.grid_b1.code, actor=cast.secretary_b)
    return a1, a2, b1


def accept(cast, case):
    return services.case_accept(actor=cast.grid_worker_a1, case=case)


def four_fixes(cast, **over):
    data = {
        "lead": str(cast.township_admin.pk),
        "handler": str(cast.grid_worker_a1.pk),
        "responsibility": "网格员负责现场调查，村书记组织协商",
        "plan": "先现场查看，再召开小组会协商",
        "due_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
    }
    data.update(over)
    return data


# --- who sees what ------------------------------------------------------------------------
def test_secretary_sees_own_village_cases_only(cast, client_for, three):
    page = html(client_for(cast.secretary_a).get(QUEUE, {"tab": "all"}))
    assert "甲网格排水沟纠纷" in page and "乙网格宅基地纠纷" in page
    assert "大岗村山林纠纷" not in page


def test_grid_worker_sees_own_grid_only(cast, client_for, three):
    page = html(client_for(cast.grid_worker_a1).get(QUEUE, {"tab": "all"}))
    assert "甲网格排水沟纠纷" in page
    assert "乙网格宅基地纠纷" not in page and "大岗村山林纠纷" not in page


def test_township_admin_sees_every_village(cast, client_for, three):
    page = html(client_for(cast.township_admin).get(QUEUE, {"tab": "all"}))
    assert all(t in page for t in ("甲网格排水沟纠纷", "乙网格宅基地纠纷", "大岗村山林纠纷"))


def test_out_of_scope_detail_is_404(cast, client_for, three):
    a1, a2, b1 = three
    assert client_for(cast.secretary_a).get(detail(b1)).status_code == 404
    assert client_for(cast.secretary_a).get(detail(a1)).status_code == 200
    grid = client_for(cast.grid_worker_a1)
    assert grid.get(detail(a2)).status_code == 404
    assert grid.get(detail(a1)).status_code == 200
    assert client_for(cast.secretary_b).get(detail(a1)).status_code == 404
    assert grid.get(reverse("cases:detail", args=[2**63])).status_code == 404


def test_villager_uses_the_portal_not_the_staff_queue(cast, client_for, make_case):
    own = make_case(title="陈村民家的诉求", household=cast.villager_household)
    c = client_for(cast.villager)
    resp = c.get(QUEUE)  # the nav entry: sent to the portal's tracking page
    assert resp.status_code == 302 and resp.url == reverse("portal:track")
    resp = c.get(detail(own))
    assert resp.status_code == 403 and "村民服务" in html(resp)
    assert c.get(reverse("cases:create")).status_code == 403
    assert "进入事项工作台" not in html(c.get(reverse("core:home")))  # no staff panel on the home page


def test_auditor_and_unassigned_get_403_anonymous_goes_to_login(cast, client, client_for, three):
    a1 = three[0]
    for user in (cast.auditor, cast.nobody):
        assert client_for(user).get(QUEUE).status_code == 403
        assert client_for(user).get(detail(a1)).status_code == 403
    for url in (QUEUE, detail(a1), reverse("cases:create"), action(a1, "accept")):
        resp = client.get(url)
        assert resp.status_code == 302 and reverse("accounts:login") in resp.url


def test_county_supervisor_reads_but_cannot_register(cast, client_for, three):
    c = client_for(cast.county)
    assert "大岗村山林纠纷" in html(c.get(QUEUE))  # default tab for a reader: 全部
    assert c.get(reverse("cases:create")).status_code == 403
    resp = c.post(action(three[0], "accept"))
    assert resp.status_code == 403
    assert Case.objects.get(pk=three[0].pk).status == "registered"


# --- the queue ----------------------------------------------------------------------------
def test_overdue_first_with_red_and_yellow_badges(cast, client_for, make_case):
    fresh = make_case(title="新登记事项")
    yellow = make_case(title="快到期事项")
    late = make_case(title="已超期事项")
    now = timezone.now()
    Case.objects.filter(pk=late.pk).update(level_due_at=now - timedelta(hours=1))
    Case.objects.filter(pk=yellow.pk).update(yellow_at=now - timedelta(hours=1), level_due_at=now + timedelta(days=1))
    page = html(client_for(cast.secretary_a).get(QUEUE, {"tab": "all"}))
    assert page.index("已超期事项") < page.index("快到期事项") < page.index("新登记事项")
    assert "xz-warning-red" in page and "xz-warning-yellow" in page
    assert fresh.tracking_code in page


def test_todo_tab_holds_cases_waiting_at_my_level_and_mine(cast, client_for, three, make_case):
    a1, a2, _ = three
    grid = client_for(cast.grid_worker_a1)
    page = html(grid.get(QUEUE))  # default tab 我的待办
    assert "甲网格排水沟纠纷" in page
    # the secretary's to-do: 刘冲村 cases she is first responsible for
    page = html(client_for(cast.secretary_a).get(QUEUE, {"tab": "todo"}))
    assert "乙网格宅基地纠纷" in page
    # 我的包案: only cases I lead
    case = accept(cast, a1)
    services.case_assign(
        actor=cast.secretary_a,
        case=case,
        lead=cast.secretary_a,
        handler=cast.grid_worker_a1,
        responsibility="负责",
        plan="方案",
        due_at=timezone.now() + timedelta(days=2),
    )
    page = html(client_for(cast.secretary_a).get(QUEUE, {"tab": "lead"}))
    assert "甲网格排水沟纠纷" in page and "乙网格宅基地纠纷" not in page


def test_filters_and_out_of_scope_values_never_widen(cast, client_for, three, make_case):
    a1, a2, b1 = three
    make_case(title="本村饮水诉求", kind="need", channel="visit")
    c = client_for(cast.secretary_a)
    page = html(c.get(QUEUE, {"tab": "all", "kind": "need"}))
    assert "本村饮水诉求" in page and "甲网格排水沟纠纷" not in page
    page = html(c.get(QUEUE, {"tab": "all", "area": cast.grid_a2.code}))
    assert "乙网格宅基地纠纷" in page and "甲网格排水沟纠纷" not in page
    page = html(c.get(QUEUE, {"tab": "all", "area": cast.grid_b1.code}))  # not hers: ignored
    assert "大岗村山林纠纷" not in page and "甲网格排水沟纠纷" in page
    page = html(c.get(QUEUE, {"tab": "all", "q": a2.tracking_code}))
    assert "乙网格宅基地纠纷" in page and "甲网格排水沟纠纷" not in page
    page = html(c.get(QUEUE, {"tab": "all", "status": "overdue"}))
    assert "甲网格排水沟纠纷" not in page
    page = html(c.get(QUEUE, {"tab": "all", "from": "bad", "to": "2999-13-40", "level": "x", "kind": "<b>"}))
    assert "甲网格排水沟纠纷" in page
    resp = c.get(
        QUEUE, {"tab": "all", "from": "0001-01-01", "to": "9999-12-31", "category": str(2**70), "page": "9" * 30}
    )
    assert resp.status_code == 200


def test_live_filter_returns_the_results_partial(cast, client_for, three):
    resp = client_for(cast.secretary_a).get(
        QUEUE, {"tab": "all", "q": "宅基地"}, headers={"HX-Request": "true", "HX-Target": "case-results"}
    )
    page = html(resp)
    assert resp.status_code == 200 and "<html" not in page
    assert "乙网格宅基地纠纷" in page and "甲网格排水沟纠纷" not in page


def test_queue_queries_do_not_grow_with_rows(cast, client_for, make_case, django_assert_max_num_queries):
    c = client_for(cast.township_admin)
    for i in range(2):
        make_case(title=f"少量事项{i}")
    with CaptureQueriesContext(connection) as few:
        assert c.get(QUEUE, {"tab": "all"}).status_code == 200
    for i in range(25):
        case = make_case(
            title=f"大量事项{i}", area=cast.grid_b1.code if i % 2 else cast.grid_a2.code, actor=cast.township_admin
        )
        if i % 3 == 0:
            case = services.case_accept(actor=cast.township_admin, case=case)
            services.case_assign(
                actor=cast.township_admin,
                case=case,
                lead=cast.township_admin,
                handler=cast.secretary_a if i % 2 == 0 else cast.secretary_b,
                responsibility="负责",
                plan="方案",
                due_at=timezone.now() + timedelta(days=2),
            )
    with CaptureQueriesContext(connection) as many:
        page = html(c.get(QUEUE, {"tab": "all"}))
    assert "下一页" in page
    assert len(many) <= len(few) + 1  # + the capped count once there is a second page
    with django_assert_max_num_queries(16):
        c.get(QUEUE, {"tab": "all", "page": 2})


# --- the case page ------------------------------------------------------------------------
def test_detail_shows_header_fixes_parties_masked_and_timeline(cast, client_for, make_case):
    head = Resident.objects.get(household=cast.household_a1, relation="head")
    registry_services.resident_update(actor=None, resident=head, phone="13812345678")
    plain = registry_services.resident_plain(head)
    case = make_case(
        household=cast.household_a1,
        contact_name="刘长喜",
        contact_phone="13812345678",
        parties=[{"name": "刘长喜", "role": "applicant", "resident": head}, {"name": "外村张某", "role": "respondent"}],
    )
    case = accept(cast, case)
    page = html(client_for(cast.secretary_a).get(detail(case)))
    assert case.tracking_code in page and "已受理" in page
    assert "刘长喜" in page and "外村张某" in page and "在册居民" in page
    assert plain["id_number"] not in page and plain["id_number"][-4:] in page
    assert "13812345678" not in page and "138****5678" in page
    assert "登记" in page and "受理" in page  # timeline labels
    assert 'data-action="assign"' in page  # the legal next step for a secretary
    assert 'data-action="close"' not in page  # not legal in "accepted"
    grid_page = html(client_for(cast.grid_worker_a1).get(detail(case)))
    assert 'data-action="assign"' not in grid_page  # a grid worker lacks 交办
    assert 'data-action="escalate"' in grid_page


def test_detail_query_count_is_bounded(cast, client_for, make_case, django_assert_max_num_queries):
    case = accept(cast, make_case())
    for i in range(3):
        services.meeting_add(
            actor=cast.secretary_a,
            case=case,
            kind="group",
            held_at=timezone.now(),
            place=f"村部{i}",
            participants="双方当事人",
        )
        services.mediation_add(
            actor=cast.secretary_a,
            case=case,
            held_at=timezone.now(),
            result="success",
            mediators=[cast.secretary_a],
            terms=f"第{i}条",
        )
    c = client_for(cast.secretary_a)
    with django_assert_max_num_queries(20):
        assert c.get(detail(case)).status_code == 200


# --- actions ------------------------------------------------------------------------------
def test_action_form_then_accept(cast, client_for, make_case):
    case = make_case()
    c = client_for(cast.grid_worker_a1)
    resp = c.get(action(case, "accept"), headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "<html" not in html(resp) and "确认受理" in html(resp)
    resp = c.post(action(case, "accept"), {"note": "属实，予以受理"})
    assert resp.status_code == 302 and resp.url == detail(case)
    case.refresh_from_db()
    assert case.status == "accepted"
    assert CaseEvent.objects.filter(case=case, action="accept", actor=cast.grid_worker_a1).exists()


def test_htmx_action_answers_with_a_redirect_header(cast, client_for, make_case):
    case = make_case()
    resp = client_for(cast.grid_worker_a1).post(
        action(case, "escalate"), {"reason": "涉及两个网格"}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 204 and resp["HX-Redirect"] == detail(case)
    case.refresh_from_db()
    assert case.level == "village"


def test_illegal_transition_is_409_with_chinese_message_and_writes_nothing(cast, client_for, make_case):
    case = make_case()
    events = CaseEvent.objects.filter(case=case).count()
    resp = client_for(cast.secretary_a).post(action(case, "close"), {"resolution": "已处理完毕"})
    assert resp.status_code == 409
    assert "当前状态“已登记”下不能执行“办结”" in html(resp)
    case.refresh_from_db()
    assert case.status == "registered" and CaseEvent.objects.filter(case=case).count() == events
    resp = client_for(cast.secretary_a).post(action(case, "unknown"), {})
    assert resp.status_code == 404


def test_missing_four_fixes_is_400_with_field_errors_and_writes_nothing(cast, client_for, make_case):
    case = accept(cast, make_case())
    resp = client_for(cast.secretary_a).post(action(case, "assign"), {}, headers={"HX-Request": "true"})
    assert resp.status_code == 400
    page = html(resp)
    for message in (
        "请指定包案领导",
        "请指定承办人（定专人）",
        "请填写责任（定责任）",
        "请填写化解方案（定方案）",
        "请填写办结期限（定时限）",
    ):
        assert message in page
    past = four_fixes(cast, due_date=(timezone.localdate() - timedelta(days=1)).isoformat())
    resp = client_for(cast.secretary_a).post(action(case, "assign"), past)
    assert resp.status_code == 400 and "办结期限不能早于现在" in html(resp)
    outsider = four_fixes(cast, handler=str(cast.secretary_b.pk))  # 大岗村's secretary: not offered
    resp = client_for(cast.secretary_a).post(action(case, "assign"), outsider)
    assert resp.status_code == 400 and "该人员不负责此区域" in html(resp)
    case.refresh_from_db()
    assert case.status == "accepted" and case.lead is None
    assert not CaseEvent.objects.filter(case=case, action="assign").exists()


def test_assign_with_four_fixes(cast, client_for, make_case):
    case = accept(cast, make_case())
    c = client_for(cast.secretary_a)
    form = html(c.get(action(case, "assign")))
    assert cast.township_admin.display_name in form and cast.secretary_a.display_name in form
    assert cast.secretary_b.display_name not in form  # leaders of another village are not offered
    resp = c.post(action(case, "assign"), four_fixes(cast))
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.status == "assigned" and case.lead == cast.township_admin and case.handler == cast.grid_worker_a1
    assert timezone.localtime(case.due_at).date() == timezone.localdate() + timedelta(days=3)


def test_permission_the_post_lacks_is_403_with_message(cast, client_for, make_case):
    case = accept(cast, make_case())
    resp = client_for(cast.grid_worker_a1).post(action(case, "assign"), four_fixes(cast))
    assert resp.status_code == 403 and "交办" in html(resp)
    case.refresh_from_db()
    assert case.status == "accepted"


def test_out_of_scope_action_is_404(cast, client_for, three):
    b1 = three[2]
    resp = client_for(cast.secretary_a).post(action(b1, "accept"))
    assert resp.status_code == 404
    assert Case.objects.get(pk=b1.pk).status == "registered"


# --- records ------------------------------------------------------------------------------
def test_meeting_mediation_and_follow_up_records(cast, client_for, make_case):
    case = accept(cast, make_case())
    c = client_for(cast.secretary_a)
    resp = c.post(
        record(case, "meeting"),
        {
            "kind": "on_site",
            "held_at": "2025-03-04T09:30",
            "place": "刘冲村一组",
            "participants": "村书记、网格员、双方当事人",
            "minutes": "现场查看排水沟",
        },
    )
    assert resp.status_code == 302
    resp = c.post(
        record(case, "mediation"),
        {"held_at": "2025-03-04T10:30", "result": "success", "mediators": [str(cast.secretary_a.pk)], "terms": ""},
    )
    assert resp.status_code == 400 and "调解成功须填写协议内容" in html(resp)
    resp = c.post(
        record(case, "mediation"),
        {
            "held_at": "2025-03-04T10:30",
            "result": "success",
            "mediators": [str(cast.secretary_a.pk)],
            "terms": "恢复原排水沟走向",
        },
    )
    assert resp.status_code == 302
    resp = c.post(record(case, "follow_up"), {"satisfaction": "satisfied"})
    assert resp.status_code == 409 and "事项办结后才能回访" in html(resp)
    page = html(c.get(detail(case)))
    assert "现场会" in page and "调解协议书" in page and "召开会议" in page


def test_follow_up_unsatisfied_reopens(cast, client_for, make_case):
    case = accept(cast, make_case())
    case = services.case_assign(
        actor=cast.secretary_a,
        case=case,
        lead=cast.secretary_a,
        handler=cast.grid_worker_a1,
        responsibility="负责",
        plan="方案",
        due_at=timezone.now() + timedelta(days=2),
    )
    case = services.case_start(actor=cast.grid_worker_a1, case=case)
    case = services.case_resolve(actor=cast.grid_worker_a1, case=case, note="已协商一致")
    case = services.case_close(actor=cast.secretary_a, case=case, resolution="已化解")
    c = client_for(cast.secretary_a)
    resp = c.post(record(case, "follow_up"), {"satisfaction": "satisfied", "reopen": "on"})
    assert resp.status_code == 400 and "只有“不满意”才能重新办理" in html(resp)
    resp = c.post(record(case, "follow_up"), {"satisfaction": "unsatisfied", "note": "排水仍不畅", "reopen": "on"})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress" and case.satisfaction == "unsatisfied"


def test_skip_level_record(cast, client_for, make_case):
    case = make_case(kind="petition", channel="walk_in")
    resp = client_for(cast.secretary_a).post(
        record(case, "skip_level"), {"occurred_on": timezone.localdate().isoformat(), "destination": "县信访局"}
    )
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.skip_level
    resp = client_for(cast.secretary_a).post(
        record(case, "skip_level"), {"occurred_on": "2999-01-01", "destination": "县信访局"}
    )
    assert resp.status_code == 400 and "日期不能晚于今天" in html(resp)


# --- the agreement ------------------------------------------------------------------------
def test_agreement_shows_parties_and_numbered_terms_never_the_full_id(cast, client_for, make_case):
    head = Resident.objects.get(household=cast.household_a1, relation="head")
    plain_id = registry_services.resident_plain(head)["id_number"]
    case = make_case(
        household=cast.household_a1,
        parties=[
            {"name": "刘长喜", "role": "applicant", "resident": head},
            {"name": "王二", "role": "respondent"},
        ],
    )
    m = services.mediation_add(
        actor=cast.secretary_a,
        case=case,
        held_at=timezone.now(),
        result="success",
        mediators=[cast.secretary_a],
        mediator_names="张调解",
        facts="两户因排水沟走向发生争执",
        terms="1. 王二恢复原排水沟走向\n2、刘长喜承担一半费用",
    )
    resp = client_for(cast.grid_worker_a1).get(reverse("cases:agreement", args=[case.pk, m.pk]))
    assert resp.status_code == 200
    page = html(resp)
    assert "人民调解协议书" in page and m.agreement_no in page
    assert "刘长喜" in page and "王二" in page and "两户因排水沟走向发生争执" in page
    assert "一、</span>王二恢复原排水沟走向" in page and "二、</span>刘长喜承担一半费用" in page
    assert "刘冲村人民调解委员会" in page and "本协议一式三份" in page
    assert plain_id not in page and plain_id[-4:] in page
    assert "navbar" not in page
    local = timezone.localtime(m.held_at).date()
    from xiangzhi.cases.views import chinese_date

    assert chinese_date(local) in page
    assert client_for(cast.secretary_b).get(reverse("cases:agreement", args=[case.pk, m.pk])).status_code == 404


def test_no_agreement_for_a_failed_mediation(cast, client_for, make_case):
    case = make_case()
    m = services.mediation_add(
        actor=cast.secretary_a, case=case, held_at=timezone.now(), result="failure", mediator_names="张调解"
    )
    assert client_for(cast.secretary_a).get(reverse("cases:agreement", args=[case.pk, m.pk])).status_code == 404


def test_chinese_date():
    from datetime import date

    from xiangzhi.cases.views import agreement_terms, chinese_date

    assert chinese_date(date(2025, 3, 4)) == "二〇二五年三月四日"
    assert chinese_date(date(2024, 12, 31)) == "二〇二四年十二月三十一日"
    assert chinese_date(date(2030, 10, 20)) == "二〇三〇年十月二十日"
    assert agreement_terms("（1）甲\n\n第二条 乙\n3. 丙") == [("一", "甲"), ("二", "乙"), ("三", "丙")]


# --- parties stay on the case -------------------------------------------------------------
def test_parties_of_out_of_registry_scope_show_no_personal_data(cast, client_for, make_case):
    other = Resident.objects.get(household=cast.household_a2, relation="head")
    plain = registry_services.resident_plain(other)["id_number"]
    case = make_case(parties=[{"name": other.name, "role": "respondent", "resident": other}])
    page = html(client_for(cast.grid_worker_a1).get(detail(case)))  # A2 is outside grid A1's registry
    assert other.name in page and "辖区外居民" in page and plain[-4:] not in page
    assert CaseParty.objects.filter(case=case, resident=other).exists()
