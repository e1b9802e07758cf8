from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from xiangzhi.audit.models import AuditEvent
from xiangzhi.cases import services
from xiangzhi.cases.models import Case, CaseEvent
from xiangzhi.cases.workflow import IllegalTransition
from xiangzhi.notifications.models import Message

pytestmark = pytest.mark.django_db


def _four_fixes(cast, days=5):
    return {
        "lead": cast.township_admin,
        "handler": cast.grid_worker_a1,
        "responsibility": "网格员负责现场调查并组织双方协商",
        "plan": "先现场查看，再组织小组会协商",
        "due_at": timezone.now() + timedelta(days=days),
    }


def test_registration_sets_locality_first_responsible_and_level_clock(cast, make_case):
    case = make_case()
    assert case.level == "grid" and case.status == "registered"
    assert case.first_responsible == cast.secretary_a  # 属地: the village secretary
    assert case.level_due_at is not None and case.level_due_at > case.received_at
    assert len(case.tracking_code) == 10
    assert case.events.get().action == "register"
    assert AuditEvent.objects.filter(action="cases.register", object_id=str(case.pk)).exists()
    assert Message.objects.filter(user=cast.grid_worker_a1, title="新事项待受理").exists()


def test_petition_runs_on_statutory_clock(cast, make_case):
    case = make_case(kind="petition", channel="walk_in")
    assert case.level_due_at is None
    assert (case.accept_due_at.date() - timezone.localtime(case.received_at).date()).days == 15
    case = services.case_accept(actor=cast.grid_worker_a1, case=case)
    assert (case.due_at.date() - timezone.localtime(case.accepted_at).date()).days == 60


def test_case_cannot_leave_accepted_without_the_four_fixes(cast, make_case):
    case = services.case_accept(actor=cast.grid_worker_a1, case=make_case())
    with pytest.raises(ValidationError) as exc:
        services.case_assign(actor=cast.secretary_a, case=case, lead=None, handler=None, responsibility="",
                             plan="", due_at=None)
    assert set(exc.value.message_dict) == {"lead", "handler", "responsibility", "plan", "due_at"}
    fixes = _four_fixes(cast)
    fixes["due_at"] = timezone.now() - timedelta(hours=1)
    with pytest.raises(ValidationError) as exc:
        services.case_assign(actor=cast.secretary_a, case=case, **fixes)
    assert "不能早于现在" in exc.value.message_dict["due_at"][0]
    case.refresh_from_db()
    assert case.status == "accepted"


def test_full_life_cycle_and_timeline(cast, make_case):
    case = make_case()
    services.case_accept(actor=cast.grid_worker_a1, case=case)
    services.case_assign(actor=cast.secretary_a, case=case, **_four_fixes(cast))
    services.case_start(actor=cast.grid_worker_a1, case=case)
    services.case_resolve(actor=cast.grid_worker_a1, case=case, note="双方达成一致，重新开挖排水沟")
    services.case_close(actor=cast.secretary_a, case=case, resolution="已化解，双方签字确认")
    case.refresh_from_db()
    assert case.status == "closed" and case.resolved_level == "grid" and case.accepted_level == "grid"
    assert list(case.events.values_list("action", flat=True)) == [
        "register", "accept", "assign", "start", "resolve", "close"]


def test_illegal_transition_is_refused_with_chinese_message(cast, make_case):
    case = make_case()
    with pytest.raises(IllegalTransition) as exc:
        services.case_close(actor=cast.secretary_a, case=case, resolution="直接办结")
    assert "不能执行“办结”" in exc.value.message
    assert Case.objects.get(pk=case.pk).status == "registered"


def test_closing_needs_a_note(cast, make_case):
    case = make_case()
    services.case_accept(actor=cast.grid_worker_a1, case=case)
    services.case_assign(actor=cast.secretary_a, case=case, **_four_fixes(cast))
    services.case_start(actor=cast.grid_worker_a1, case=case)
    services.case_resolve(actor=cast.grid_worker_a1, case=case, note="已协商")
    with pytest.raises(ValidationError) as exc:
        services.case_close(actor=cast.secretary_a, case=case, resolution="  ")
    assert "办理结果" in exc.value.message_dict["resolution"][0]


def test_escalation_moves_one_level_and_grid_worker_can_no_longer_act(cast, make_case):
    case = services.case_accept(actor=cast.grid_worker_a1, case=make_case())
    services.case_escalate(actor=cast.grid_worker_a1, case=case, reason="涉及两个网格，需村里协调")
    case.refresh_from_db()
    assert case.level == "village" and case.escalation_count == 1
    with pytest.raises(PermissionDenied):
        services.case_assign(actor=cast.grid_worker_a1, case=case, **_four_fixes(cast))
    services.case_assign(actor=cast.secretary_a, case=case, **_four_fixes(cast))
    services.case_return(actor=cast.secretary_a, case=case, reason="属网格内部事务，退回网格办理")
    case.refresh_from_db()
    assert case.level == "grid" and case.status == "accepted"


def test_sibling_village_secretary_cannot_act(cast, make_case):
    case = make_case()
    with pytest.raises(PermissionDenied):
        services.case_accept(actor=cast.secretary_b, case=case)


def test_township_cannot_escalate_further(cast, make_case):
    case = make_case(area=cast.grid_a1.code[:12], actor=cast.secretary_a)
    services.case_escalate(actor=cast.secretary_a, case=case, reason="需镇综治中心处理")
    with pytest.raises(IllegalTransition):
        services.case_escalate(actor=cast.township_admin, case=case, reason="再上报")


def test_overdue_escalation_is_idempotent_and_notifies(cast, make_case):
    case = make_case()
    later = case.level_due_at + timedelta(minutes=1)
    assert services.escalate_overdue(now=later) == 1
    case.refresh_from_db()
    assert case.level == "village"
    assert services.escalate_overdue(now=later) == 0
    case.refresh_from_db()
    assert case.level == "village" and case.escalation_count == 1
    assert Message.objects.filter(user=cast.secretary_a, title="超时自动上报事项待办理").count() == 1
    assert CaseEvent.objects.filter(case=case, action="escalate").count() == 1


def test_petitions_are_not_auto_escalated(cast, make_case):
    case = make_case(kind="petition")
    assert services.escalate_overdue(now=timezone.now() + timedelta(days=400)) == 0
    case.refresh_from_db()
    assert case.level == "grid"


def test_extension_needs_the_lead_and_petitions_get_one(cast, make_case):
    case = services.case_accept(actor=cast.grid_worker_a1, case=make_case(kind="petition"))
    services.case_assign(actor=cast.secretary_a, case=case, **_four_fixes(cast, days=30))
    case.refresh_from_db()
    due = case.due_at
    with pytest.raises(ValidationError):
        services.case_request_extension(actor=cast.grid_worker_a1, case=case, days=31, reason="需要更多时间")
    services.case_request_extension(actor=cast.grid_worker_a1, case=case, days=20, reason="等待鉴定结果")
    with pytest.raises(PermissionDenied):
        services.case_approve_extension(actor=cast.secretary_a, case=case, approve=True)
    services.case_approve_extension(actor=cast.township_admin, case=case, approve=True)
    case.refresh_from_db()
    assert case.due_at == due + timedelta(days=20) and case.extension_days == 20
    with pytest.raises(IllegalTransition):
        services.case_request_extension(actor=cast.grid_worker_a1, case=case, days=5, reason="再次延期")


def test_follow_up_unsatisfied_reopens_and_breaks_first_time(cast, make_case):
    case = make_case()
    services.case_accept(actor=cast.grid_worker_a1, case=case)
    services.case_assign(actor=cast.secretary_a, case=case, **_four_fixes(cast))
    services.case_start(actor=cast.grid_worker_a1, case=case)
    services.case_resolve(actor=cast.grid_worker_a1, case=case, note="已协商")
    services.case_close(actor=cast.secretary_a, case=case, resolution="已化解")
    services.follow_up_add(actor=cast.secretary_a, case=case, satisfaction="unsatisfied", note="排水仍不畅",
                           reopen=True)
    case.refresh_from_db()
    assert case.status == "in_progress" and case.reopen_count == 1


def test_double_submission_with_same_key_makes_one_case(cast, make_case):
    a = make_case(idempotency_key="form-123")
    b = make_case(idempotency_key="form-123")
    assert a.pk == b.pk and Case.objects.count() == 1


def test_bad_input_writes_nothing(cast, make_case):
    with pytest.raises(ValidationError) as exc:
        make_case(title="", description="", contact_phone="12")
    assert {"title", "description", "contact_phone"} <= set(exc.value.message_dict)
    assert Case.objects.count() == 0


def test_supervision_mark_is_township_only(cast, make_case):
    case = make_case()
    with pytest.raises(PermissionDenied):
        services.case_supervise(actor=cast.secretary_a, case=case, mark="red")
    services.case_supervise(actor=cast.township_admin, case=case, mark="yellow", note="请加快办理")
    case.refresh_from_db()
    assert case.supervision == "yellow"


def test_mediation_success_needs_terms_and_numbers_the_agreement(cast, make_case):
    case = services.case_accept(actor=cast.grid_worker_a1, case=make_case())
    with pytest.raises(ValidationError):
        services.mediation_add(actor=cast.secretary_a, case=case, held_at=timezone.now(), result="success",
                               mediator_names="李调解")
    m = services.mediation_add(actor=cast.secretary_a, case=case, held_at=timezone.now(), result="success",
                               mediator_names="李调解", facts="排水沟争议", terms="双方同意共同出资修沟")
    assert m.agreement_no.startswith("341524111-")


def test_attachments_checked_by_content_and_size(cast, make_case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = make_case()
    png = SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    att = services.attachment_add(actor=cast.grid_worker_a1, case=case, upload=png)
    assert att.content_type == "image/png" and att.name == "现场.png" and not att.file.name.endswith("现场.png")
    fake = SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(actor=cast.grid_worker_a1, case=case, upload=fake)
    assert "不支持的文件类型" in exc.value.message_dict["file"][0]
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024), content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(actor=cast.grid_worker_a1, case=case, upload=big)
    assert "不能超过 10 MB" in exc.value.message_dict["file"][0]
    assert case.attachments.count() == 1


def test_repeat_candidates_same_household_within_a_year(cast, make_case):
    first = make_case(household=cast.household_a1)
    found = list(services.repeat_candidates(area_code=cast.grid_a1.code, household=cast.household_a1))
    assert found == [first]
    assert not services.repeat_candidates(area_code=cast.grid_b1.code, household=cast.household_b1)


def test_party_added_after_registration_appears_on_the_agreement(cast, make_case, client_for):
    case = services.case_accept(actor=cast.grid_worker_a1, case=make_case(contact_name="陈村民",
                                                                           parties=[{"name": "陈村民"}]))
    with pytest.raises(ValidationError):
        services.party_add(actor=cast.grid_worker_a1, case=case, name=" ")
    with pytest.raises(PermissionDenied):
        services.party_add(actor=cast.secretary_b, case=case, name="王邻居")
    services.party_add(actor=cast.grid_worker_a1, case=case, name="王邻居", role="respondent")
    m = services.mediation_add(actor=cast.secretary_a, case=case, held_at=timezone.now(), result="success",
                               mediator_names="李调解", facts="排水沟争议", terms="共同修沟")
    page = client_for(cast.secretary_a).get(f"/cases/{case.pk}/mediations/{m.pk}/agreement/").content.decode()
    assert "王邻居" in page and "陈村民" in page


def test_party_form_on_the_case_page(cast, make_case, client_for):
    case = make_case()
    c = client_for(cast.grid_worker_a1)
    assert 'id="party-add"' in c.get(f"/cases/{case.pk}/").content.decode()
    resp = c.post(f"/cases/{case.pk}/records/party/", {"role": "respondent", "name": "", "note": ""})
    assert resp.status_code == 400 and "请填写当事人姓名" in resp.content.decode()
    resp = c.post(f"/cases/{case.pk}/records/party/", {"role": "respondent", "name": "张施工队", "note": "施工单位"})
    assert resp.status_code in (200, 204, 302)
    assert case.parties.filter(name="张施工队", role="respondent").exists()
