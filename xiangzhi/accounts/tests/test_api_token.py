"""POST /api/v1/auth/token: username + password → bearer token; one answer for every failure."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from xiangzhi.accounts import services
from xiangzhi.accounts.models import ApiToken
from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token"
PUBLIC_OPS = {("POST", URL)}  # claimed for the API census (core/tests/test_api_kernel.py)


def post_token(username, password, client=None):
    client = client or Client()
    return client.post(
        URL, data=json.dumps({"username": username, "password": password}), content_type="application/json"
    )


def token_for(user) -> str:
    resp = post_token(user.username, PASSWORD)
    assert resp.status_code == 200, resp.content
    assert set(resp.json()) == {"token"}
    return resp.json()["token"]


def get_households(token):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/households")


def test_token_works_as_bearer(cast):
    token = token_for(cast.secretary_a)
    assert len(token) > 30
    resp = get_households(token)
    assert resp.status_code == 200
    assert resp.json()["count"] == 3
    # stored only as a hash
    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert ApiToken.objects.filter(user=cast.secretary_a, key_hash=services._hash_token(token)).exists()
    assert AuditEvent.objects.filter(action="auth.token_issue", actor_id=cast.secretary_a.pk).exists()


def test_wrong_password_and_unknown_user_get_the_same_401(cast):
    wrong = post_token("secretary_a", "Wrong@2026xz")
    unknown = post_token("no_such_user", "Wrong@2026xz")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"] == services.GENERIC_LOGIN_ERROR
    assert not ApiToken.objects.exists()


def test_locked_account_gets_the_same_401_even_with_the_right_password(cast):
    for _ in range(5):
        assert post_token("secretary_a", "Wrong@2026xz").status_code == 401
    locked = post_token("secretary_a", PASSWORD)
    assert locked.status_code == 401
    assert locked.json() == post_token("no_such_user", "x").json()
    assert not ApiToken.objects.exists()


def test_disabled_user_token_stops_working(cast):
    token = token_for(cast.secretary_a)
    assert get_households(token).status_code == 200
    services.user_disable(actor=cast.township_admin, user=cast.secretary_a)
    resp = get_households(token)
    assert resp.status_code == 401
    assert resp.json()["detail"] == "未登录或令牌无效"
    assert post_token("secretary_a", PASSWORD).status_code == 401  # and no new one is issued


def test_expired_and_malformed_tokens_are_401(cast):
    token = token_for(cast.secretary_a)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert get_households(token).status_code == 401
    for header in ("Bearer", "Bearer ", "Bearer " + "x" * 500, "Token " + token, "bearer\tabc"):
        assert Client(HTTP_AUTHORIZATION=header).get("/api/v1/households").status_code == 401, header


def test_removed_assignment_takes_effect_on_the_next_request(cast):
    token = token_for(cast.secretary_a)
    assert get_households(token).status_code == 200
    services.assignment_remove(actor=None, assignment=cast.secretary_a.assignments.get())
    assert get_households(token).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "secretary_a"},
        {"username": "a\x00b", "password": "x"},
        {"username": "a", "password": "\ud800"},
        {"username": "u" * 151, "password": "x"},
        {"username": ["secretary_a"], "password": "x"},
        {"username": "secretary_a", "password": None},
    ],
)
def test_malformed_token_requests_are_422_in_chinese(db, body):
    resp = Client().post(URL, data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 422, resp.content
    errors = resp.json()["errors"]
    assert errors and all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for ms in errors.values() for m in ms)
    assert not ApiToken.objects.exists()


def test_unparsable_body_is_400(db):
    resp = Client().post(URL, data=b"username=a&password=b", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["detail"] == "请求体不是有效的 JSON"
