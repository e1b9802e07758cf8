"""Public API (/api/v1/public): intake and tracking without login, same rules as the pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from xiangzhi.api import api
from xiangzhi.cases import services as case_services
from xiangzhi.cases.models import Case
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A

pytestmark = pytest.mark.django_db

INTAKE = "/api/v1/public/cases"
TRACK = "/api/v1/public/cases/track"
# Claimed for the API census (xiangzhi/core/tests/test_api_kernel.py): no authentication.
PUBLIC_OPS = {("POST", INTAKE), ("POST", TRACK)}


def post(path, body, client=None, **headers):
    return (client or Client()).post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def _body(**over):
    body = {
        "village_code": VILLAGE_A,
        "kind": "need",
        "title": "村口路灯坏了",
        "description": "村口路灯坏了一个月，晚上看不见路。",
        "contact_name": "陈村民",
        "contact_phone": "13912345678",
    }
    body.update(over)
    return body


def test_public_operations_need_no_login_and_declare_429():
    schema = api.get_openapi_schema()
    for path in (INTAKE, TRACK):
        op = schema["paths"][path]["post"]
        assert not op.get("security"), path
        assert {"400", "404", "422", "429"} <= {str(c) for c in op["responses"]}, path


def test_intake_creates_a_village_case_and_returns_the_tracking_code(cast):
    resp = post(INTAKE, _body())
    assert resp.status_code == 201, resp.content.decode()
    data = resp.json()
    case = Case.objects.get()
    assert data["tracking_code"] == case.tracking_code and data["village_name"] == "刘冲村"
    assert case.area_code == VILLAGE_A and case.level == "village" and case.channel == "online"
    assert case.first_responsible == cast.secretary_a and case.created_by is None


@pytest.mark.parametrize(
    ("code", "status"),
    [(f"{TOWNSHIP}000", 404), ("341524111999", 404), (TOWNSHIP, 422), (f"{VILLAGE_A}001", 422)],
)
def test_intake_only_at_real_villages(cast, code, status):
    resp = post(INTAKE, _body(village_code=code))
    assert resp.status_code == status, resp.content.decode()
    assert resp.json()["detail"]
    assert Case.objects.count() == 0


def test_intake_bad_input_gets_chinese_field_messages(cast):
    body = _body(title="")
    del body["contact_phone"]
    resp = post(INTAKE, body)
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert errors["contact_phone"] == ["必填项"] and errors["title"] == ["不能少于 1 个字符"]
    resp = post(INTAKE, _body(contact_phone="12345"))
    assert resp.status_code == 400 and "contact_phone" in resp.json()["errors"]
    assert post(INTAKE, _body(kind="complaint")).status_code == 422
    assert post(INTAKE, {**_body(), "area_code": VILLAGE_A}).json()["errors"]["area_code"] == ["不允许的字段"]
    assert Case.objects.count() == 0


def test_intake_idempotency_key_returns_the_same_case(cast):
    first = post(INTAKE, _body(), **{"Idempotency-Key": "retry-key-0001"})
    again = post(INTAKE, _body(), **{"Idempotency-Key": "retry-key-0001"})
    assert first.status_code == again.status_code == 201
    assert first.json()["tracking_code"] == again.json()["tracking_code"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Case.objects.count() == 1
    # The same key from someone with another phone is another submission, not a leak.
    other = post(INTAKE, _body(contact_phone="13800001111"), **{"Idempotency-Key": "retry-key-0001"})
    assert other.json()["tracking_code"] != first.json()["tracking_code"] and Case.objects.count() == 2
    assert post(INTAKE, _body(), **{"Idempotency-Key": "short"}).status_code == 422


def test_tracking_needs_code_and_last4_and_never_leaks_existence(cast):
    code = post(INTAKE, _body()).json()["tracking_code"]
    case = Case.objects.get()
    case_services.case_accept(actor=cast.secretary_a, case=case, note="陈村民反映属实")
    resp = post(TRACK, {"tracking_code": code.lower(), "phone_last4": "5678"})
    assert resp.status_code == 200
    data = resp.json()
    assert data["status"] == "accepted" and data["status_label"] == "已受理" and data["level"] == "village"
    assert [e["text"] for e in data["timeline"]] == ["网上提交诉求，已登记", "已受理"]
    assert [e["actor"] for e in data["timeline"]] == ["群众本人", "村党组织书记"]
    assert "陈村民" not in resp.content.decode("utf-8") and "5678" not in json.dumps(data)
    wrong = post(TRACK, {"tracking_code": code, "phone_last4": "0000"})
    unknown = post(TRACK, {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "5678"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert wrong.json() == {"detail": "查询码或手机号后四位不正确"}
    bad = post(TRACK, {"tracking_code": code, "phone_last4": "56a8"})
    assert bad.status_code == 422 and bad.json()["errors"]["phone_last4"] == ["请输入手机号后四位（4 位数字）"]


def test_public_endpoints_are_rate_limited_and_share_the_pages_counters(cast):
    client = Client()
    for _ in range(5):
        client.post("/p/track/", {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "0000"})
    for _ in range(5):
        assert post(TRACK, {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "0000"}, client).status_code == 404
    resp = post(TRACK, {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "0000"}, client)
    assert resp.status_code == 429
    assert resp.json()["detail"].startswith("操作过于频繁，请 ") and resp.json()["detail"].endswith("后再试")
    assert int(resp["Retry-After"]) >= 1

    for i in range(5):
        assert post(INTAKE, _body(contact_phone=f"1391234{i:04d}")).status_code == 201
    resp = post(INTAKE, _body())
    assert resp.status_code == 429 and Case.objects.count() == 5
