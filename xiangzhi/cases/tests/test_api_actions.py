"""Case API behaviour: every action endpoint legal and illegal (409, nothing written), the
Idempotency-Key on create, Chinese validation messages, what a villager sees of his own
case, attachments."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xiangzhi.cases.choices import Status
from xiangzhi.cases.models import Case, CaseEvent
from xiangzhi.cases.workflow import ACTIONS, TRANSITIONS

from .apitools import PREFIX, bearer, call, case_in
from .test_api import OPS

pytestmark = pytest.mark.django_db

# action code → (endpoint, the state a case is built in where the action is legal)
ENDPOINTS = {
    "accept": "accept",
    "reject": "reject",
    "transfer": "transfer",
    "assign": "assign",
    "start": "start",
    "resolve": "resolve",
    "fail": "fail",
    "close": "close",
    "reopen": "reopen",
    "escalate": "escalate",
    "return": "return",
    "request_extension": "request-extension",
    "approve_extension": "approve-extension",
    "supervise": "supervise",
}
BUILDABLE = ["registered", "accepted", "assigned", "in_progress", "resolved", "unresolved", "closed",
             "not_accepted", "transferred"]  # fmt: skip
# The actor who would be allowed to do each action on a grid-level case of 刘冲村.
ACTOR = {"supervise": "township_admin"}


def _op(action):
    return OPS[("POST", f"{PREFIX}/cases/{{case_id}}/{ENDPOINTS[action]}")]


def test_every_workflow_action_has_an_endpoint():
    assert set(ENDPOINTS) == set(ACTIONS)


def _illegal_pairs():
    for action in ACTIONS:
        for state in BUILDABLE:
            if (state, action) not in TRANSITIONS:
                yield action, state


@pytest.mark.parametrize(("action", "state"), list(_illegal_pairs()), ids=lambda v: str(v))
def test_illegal_action_is_409_with_a_chinese_message_and_writes_nothing(cast, action, state):
    case = case_in(cast, state)
    client = bearer(getattr(cast, ACTOR.get(action, "secretary_a")))
    events = CaseEvent.objects.count()
    op = _op(action)
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/{ENDPOINTS[action]}", op.body(cast))
    assert resp.status_code == 409, resp.content.decode()
    detail = resp.json()["detail"]
    assert ACTIONS[action].label in detail and Status(state).label in detail
    assert CaseEvent.objects.count() == events
    assert Case.objects.get(pk=case.pk).status == state


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_legal_action_moves_the_case_and_appends_to_the_timeline(cast, action):
    op = _op(action)
    case = case_in(cast, op.state)
    before = case.status
    client = bearer(getattr(cast, op.actor))
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/{ENDPOINTS[action]}", op.body(cast))
    assert resp.status_code == 200, resp.content.decode()
    data = resp.json()
    expected = TRANSITIONS[(before, action)] or before
    assert data["status"] == expected == Case.objects.get(pk=case.pk).status
    assert data["timeline"][-1]["action"] == action
    assert data["timeline"][-1]["label"] == ACTIONS[action].label
    assert data["view"] == "staff"


def test_escalate_at_township_and_return_at_the_lowest_level_are_409(cast):
    case = case_in(cast, "registered", area=cast.grid_a1.code[:12], actor=cast.secretary_a)  # village-level case
    client = bearer(cast.secretary_a)
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/return", {"reason": "退回"})
    assert resp.status_code == 409 and resp.json()["detail"] == "事项已在最低一级，不能退回"
    admin = bearer(cast.township_admin)
    assert call(admin, "POST", f"{PREFIX}/cases/{case.pk}/escalate", {"reason": "村里调不了"}).status_code == 200
    resp = call(admin, "POST", f"{PREFIX}/cases/{case.pk}/escalate", {"reason": "再上报"})
    assert resp.status_code == 409 and resp.json()["detail"] == "事项已在镇级办理，不能再上报"


def test_grid_worker_cannot_act_on_a_village_level_case(cast):
    case = case_in(cast, "village")
    resp = call(bearer(cast.grid_worker_a1), "POST", f"{PREFIX}/cases/{case.pk}/accept", {})
    assert resp.status_code == 403 and "村级办理" in resp.json()["detail"]


def test_only_the_lead_approves_an_extension(cast):
    case = case_in(cast, "extension")
    resp = call(bearer(cast.township_admin), "POST", f"{PREFIX}/cases/{case.pk}/approve-extension", {"approve": True})
    assert resp.status_code == 403 and resp.json()["detail"] == "延期须由包案领导审批"
    resp = call(bearer(cast.secretary_a), "POST", f"{PREFIX}/cases/{case.pk}/approve-extension", {"approve": True})
    assert resp.status_code == 200 and resp.json()["extension_days"] == 5


# --- create --------------------------------------------------------------------------------
def _create_body(cast, **over):
    body = {
        "kind": "dispute",
        "channel": "walk_in",
        "area_code": cast.grid_a1.code,
        "title": "宅基地边界纠纷",
        "description": "两户因宅基地边界发生争执",
        "contact_phone": "13812345678",
    }
    body.update(over)
    return body


def test_idempotency_key_returns_the_same_case(cast):
    client = bearer(cast.grid_worker_a1)
    headers = {"HTTP_IDEMPOTENCY_KEY": "phone-app-7f3a91"}
    first = call(client, "POST", f"{PREFIX}/cases", _create_body(cast), **headers)
    again = call(client, "POST", f"{PREFIX}/cases", _create_body(cast), **headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and first.json()["tracking_code"] == again.json()["tracking_code"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(action="register").count() == 1
    # Keys are per user: the same key from another user is another case.
    other = call(bearer(cast.secretary_a), "POST", f"{PREFIX}/cases", _create_body(cast), **headers)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    bad = call(client, "POST", f"{PREFIX}/cases", _create_body(cast), HTTP_IDEMPOTENCY_KEY="a b")
    assert bad.status_code == 422 and bad.json()["errors"]["Idempotency-Key"] == ["不能少于 8 个字符"]


def test_create_registers_parties_masks_the_phone_and_sets_first_responsible(cast):
    from xiangzhi.residents.models import Resident

    head = Resident.objects.get(household=cast.household_a1, relation="head")
    body = _create_body(
        cast,
        household=cast.household_a1.pk,
        parties=[{"name": "刘长喜", "resident": head.pk}, {"name": "外村李某", "role": "respondent"}],
    )
    resp = call(bearer(cast.grid_worker_a1), "POST", f"{PREFIX}/cases", body)
    assert resp.status_code == 201, resp.content.decode()
    data = resp.json()
    assert data["contact_phone_masked"] == "138****5678" and "13812345678" not in resp.content.decode()
    assert data["first_responsible"]["id"] == cast.secretary_a.pk and data["level"] == "grid"
    assert [(p["name"], p["role"], p["resident"]) for p in data["parties"]] == [
        ("刘长喜", "applicant", head.pk),
        ("外村李某", "respondent", None),
    ]
    assert data["allowed_actions"] == ["accept", "reject", "transfer", "escalate", "return", "supervise"]


def test_create_validation_messages_are_chinese_and_field_level(cast):
    client = bearer(cast.secretary_a)
    resp = call(client, "POST", f"{PREFIX}/cases", _create_body(cast, title="", kind="complaint", bogus=1))
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert errors["title"] == ["不能少于 1 个字符"]
    assert errors["kind"][0].startswith("取值无效") and errors["bogus"] == ["不允许的字段"]
    resp = call(client, "POST", f"{PREFIX}/cases", _create_body(cast, title="x" * 101))
    assert resp.json()["errors"]["title"] == ["内容过长（最多 100 个字符）"]
    resp = call(client, "POST", f"{PREFIX}/cases", _create_body(cast, contact_phone="12345"))
    assert resp.status_code == 400 and "contact_phone" in resp.json()["errors"]
    resp = call(client, "POST", f"{PREFIX}/cases", _create_body(cast, household=cast.household_b1.pk))
    assert resp.status_code == 400 and resp.json()["errors"]["household"] == ["户不存在或不在您的管辖范围内"]
    resp = call(client, "POST", f"{PREFIX}/cases", _create_body(cast, area_code=cast.grid_b1.code))
    assert resp.status_code == 404
    resp = call(client, "POST", f"{PREFIX}/cases", _create_body(cast, received_at="2999-01-01T00:00:00"))
    assert resp.status_code == 400 and resp.json()["errors"]["received_at"] == ["日期应在 2000 年至 2100 年之间"]
    assert Case.objects.count() == 0


def test_assign_validation(cast):
    case = case_in(cast, "accepted")
    client = bearer(cast.secretary_a)
    url = f"{PREFIX}/cases/{case.pk}/assign"
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    body = {"lead": cast.secretary_a.pk, "handler": cast.grid_worker_a1.pk, "responsibility": "负责",
            "plan": "方案", "due_at": past}  # fmt: skip
    resp = call(client, "POST", url, body)
    assert resp.status_code == 400 and resp.json()["errors"]["due_at"] == ["办结期限不能早于现在"]
    resp = call(client, "POST", url, {**body, "due_at": "2030-01-01T10:00:00", "handler": cast.secretary_b.pk})
    assert resp.status_code == 400 and resp.json()["errors"]["handler"] == ["该人员不存在或不负责此区域"]
    resp = call(client, "POST", url, {**body, "due_at": "2030-01-01T10:00:00", "handler": 10**9})
    assert resp.status_code == 400 and resp.json()["errors"]["handler"] == ["该人员不存在或不负责此区域"]
    resp = call(client, "POST", url, {k: v for k, v in body.items() if k != "plan"})
    assert resp.status_code == 422 and resp.json()["errors"]["plan"] == ["必填项"]
    assert Case.objects.get(pk=case.pk).status == "accepted"
    resp = call(client, "POST", url, {**body, "due_at": "2030-01-01T10:00:00"})  # naive = Beijing time
    assert resp.status_code == 200, resp.content.decode()
    assert resp.json()["due_at"].startswith("2030-01-01T02:00:00")  # stored in UTC


def test_close_needs_a_resolution_and_mediation_success_needs_terms(cast):
    case = case_in(cast, "resolved")
    client = bearer(cast.secretary_a)
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/close", {"resolution": "  "})
    assert resp.status_code == 400 and resp.json()["errors"]["resolution"] == ["办结须填写办理结果"]
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/mediations",
                {"held_at": timezone.now().isoformat(), "result": "success", "mediator_names": "李调解"})  # fmt: skip
    assert resp.status_code == 400 and resp.json()["errors"]["terms"] == ["调解成功须填写协议内容"]
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/mediations",
                {"held_at": timezone.now().isoformat(), "result": "success", "mediator_names": "李调解",
                 "terms": "双方同意共同出资修沟"})  # fmt: skip
    assert resp.status_code == 201 and resp.json()["agreement_no"].startswith("341524111-")


def test_records_on_a_closed_case_are_409_and_follow_up_reopens(cast):
    case = case_in(cast, "closed")
    client = bearer(cast.secretary_a)
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/meetings",
                {"kind": "topic", "held_at": timezone.now().isoformat(), "place": "村部", "participants": "两委"})  # fmt: skip
    assert resp.status_code == 409 and resp.json()["detail"] == "事项已办结，不能再添加记录"
    resp = call(client, "POST", f"{PREFIX}/cases/{case.pk}/follow-ups", {"satisfaction": "unsatisfied", "reopen": True})
    assert resp.status_code == 201
    assert Case.objects.get(pk=case.pk).status == "in_progress"
    open_case = case_in(cast, "in_progress")
    resp = call(client, "POST", f"{PREFIX}/cases/{open_case.pk}/follow-ups", {"satisfaction": "satisfied"})
    assert resp.status_code == 409 and resp.json()["detail"] == "事项办结后才能回访"


def test_attachments_checked_by_content(cast):
    case = case_in(cast, "registered")
    client = bearer(cast.grid_worker_a1)
    url = f"{PREFIX}/cases/{case.pk}/attachments"
    png = SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    resp = client.post(url, {"file": png})
    assert resp.status_code == 201 and resp.json()["name"] == "现场.png" and resp.json()["content_type"] == "image/png"
    fake = SimpleUploadedFile("x.jpg", b"MZ not an image", content_type="image/jpeg")
    resp = client.post(url, {"file": fake})
    assert resp.status_code == 400 and "不支持的文件类型" in resp.json()["errors"]["file"][0]
    assert client.post(url, {}).status_code == 422
    detail = client.get(f"{PREFIX}/cases/{case.pk}").json()
    assert [a["name"] for a in detail["attachments"]] == ["现场.png"]


# --- reads ------------------------------------------------------------------------------------
def test_list_filters_and_pagination(cast):
    a = case_in(cast, "registered")
    b = case_in(cast, "accepted", kind="need")
    c = case_in(cast, "closed")
    client = bearer(cast.secretary_a)

    def ids(query=""):
        return [x["id"] for x in client.get(f"{PREFIX}/cases{query}").json()["items"]]

    assert set(ids()) == {a.pk, b.pk, c.pk}
    assert ids("?kind=need") == [b.pk]
    assert set(ids("?status=open")) == {a.pk, b.pk}
    assert ids("?status=closed") == [c.pk]
    assert ids(f"?q={a.tracking_code}") == [a.pk]
    assert set(ids("?mine=true")) == {a.pk, b.pk, c.pk}  # first responsible for all three
    page = client.get(f"{PREFIX}/cases?limit=2").json()
    assert len(page["items"]) == 2 and page["next_offset"] == 2 and page["count"] == 3
    assert client.get(f"{PREFIX}/cases?status=bogus").status_code == 422
    resp = client.get(f"{PREFIX}/cases?received_from=1900-01-01")
    assert resp.status_code == 400 and resp.json()["errors"] == {"received_from": ["日期应在 2000 年至 2100 年之间"]}


def test_villager_sees_his_own_case_without_internal_records_or_names(cast):
    case = case_in(cast, "assigned", household=cast.villager_household,
                   parties=[{"name": "陈村民", "role": "applicant"}, {"name": "张三丰", "role": "respondent"}])  # fmt: skip
    from xiangzhi.cases import services

    services.case_supervise(actor=cast.township_admin, case=case, mark="red", note="红牌")
    resp = bearer(cast.villager).get(f"{PREFIX}/cases/{case.pk}")
    assert resp.status_code == 200
    data = resp.json()
    text = json.dumps(data, ensure_ascii=False)
    assert data["view"] == "party"
    assert [p["name"] for p in data["parties"]] == ["陈**", "张**"]
    assert data["lead"] is None and data["handler"] is None and data["plan"] == "" and data["responsibility"] == ""
    assert {e["action"] for e in data["timeline"]} == {"register", "accept", "assign"}
    assert all(e["note"] == "" for e in data["timeline"])
    assert "secretary_a" not in text and "grid_a1" not in text and "红牌" not in text
    staff = bearer(cast.secretary_a).get(f"{PREFIX}/cases/{case.pk}").json()
    assert staff["view"] == "staff" and "supervise" in {e["action"] for e in staff["timeline"]}
    assert staff["lead"]["id"] == cast.secretary_a.pk and staff["plan"]


def test_candidates_are_the_staff_over_the_case_area(cast):
    case = case_in(cast, "accepted")
    rows = bearer(cast.secretary_a).get(f"{PREFIX}/cases/{case.pk}/candidates").json()
    ids = {r["id"] for r in rows}
    assert {cast.township_admin.pk, cast.secretary_a.pk, cast.grid_worker_a1.pk} <= ids
    assert cast.secretary_b.pk not in ids and cast.villager.pk not in ids and cast.auditor.pk not in ids


def test_boolean_fields_take_json_booleans_only(cast, make_case):
    """``"reopen": 0`` is not a boolean: 422, nothing written (schemathesis ST201)."""
    from xiangzhi.cases.models import FollowUp

    case = make_case()
    resp = bearer(cast.secretary_a).post(f"{PREFIX}/cases/{case.pk}/follow-ups",
                                         {"satisfaction": "basic", "reopen": 0}, content_type="application/json")
    assert resp.status_code == 422 and not FollowUp.objects.exists()
