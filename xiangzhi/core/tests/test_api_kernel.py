"""API kernel (xiangzhi.core.api): auth, Chinese error shapes, the Text input type, paging,
and the census of every operation under /api/v1/.

A small NinjaAPI built from the kernel alone is mounted on this module's urlconf, so these
tests do not depend on any app's endpoints.

Census convention: each app tests its API in ``xiangzhi/<app>/tests/test_api*.py``; such a
module claims the operations it covers with ``OPS`` (a dict or set keyed by
``(METHOD, "/api/v1/…")``: authenticated operations run through the generic scope tests —
in scope 2xx, sibling village 404, role without the permission 403, anonymous 401) and/or
``PUBLIC_OPS`` (operations without authentication). An operation nobody claims fails.
"""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.urls import path
from ninja import NinjaAPI, Schema
from pydantic import ConfigDict, Field

from xiangzhi.core.api import (
    AUTH,
    COUNT_CAP,
    FORBIDDEN_CHAR_MESSAGE,
    WRITE_ERRORS,
    Text,
    install_error_handlers,
    paginate,
    require_perm,
    translate_error,
)
from xiangzhi.core.testing import PASSWORD

kapi = NinjaAPI(urls_namespace="kernel-test", auth=AUTH)
install_error_handlers(kapi)


class ThingIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: Text(10, min_length=1)
    code: Text(6, pattern=r"[0-9]{6}", message="应为 6 位数字")
    count: int = Field(1, ge=1, le=5)


@kapi.post("/things", response={200: dict, **WRITE_ERRORS})
def thing(request, payload: ThingIn):
    if payload.name == "perm":
        require_perm(request, "residents.add_household")
    if payload.name == "gone":
        raise Http404
    if payload.name == "bad":
        raise ValidationError({"name": "名称不合规"})
    if payload.name == "badall":
        raise ValidationError("整体不合规")
    return {"name": payload.name, "user": request.auth.username}


urlpatterns = [path("k/", kapi.urls)]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def user(db):
    from xiangzhi.core.testing import make_user

    return make_user("kernel_user", "grid_worker", "341524111206")


@pytest.fixture
def client(user):
    from django.test import RequestFactory

    from xiangzhi.accounts.services import token_issue

    raw = token_issue(request=RequestFactory().post("/"), username=user.username, password=PASSWORD)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client, body):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/k/things", data=data, content_type="application/json")


def test_valid_request_reaches_the_handler_as_the_token_user(client):
    resp = post(client, {"name": "ok", "code": "123456"})
    assert resp.status_code == 200
    assert resp.json() == {"name": "ok", "user": "kernel_user"}


def test_anonymous_is_401_in_chinese(db):
    resp = post(Client(), {"name": "ok", "code": "123456"})
    assert resp.status_code == 401
    assert resp.json() == {"detail": "未登录或令牌无效"}


def test_pydantic_errors_are_422_with_chinese_field_messages(client):
    """ninja 1.7 raises ninja.errors.ValidationError whose ``errors`` is a list of pydantic
    error dicts with ``loc`` prefixed by the source (``body``, ``payload``)."""
    resp = post(client, {"name": "x" * 11, "code": "12a456", "count": 9, "extra": 1})
    assert resp.status_code == 422
    assert resp.json() == {
        "detail": "提交的数据有误",
        "errors": {
            "name": ["内容过长（最多 10 个字符）"],
            "code": ["应为 6 位数字"],
            "count": ["不能大于 5"],
            "extra": ["不允许的字段"],
        },
    }
    assert post(client, {"code": "123456"}).json()["errors"] == {"name": ["必填项"]}
    assert post(client, {"name": "", "code": "123456"}).json()["errors"] == {"name": ["不能少于 1 个字符"]}
    assert post(client, {"name": "a", "code": "123456", "count": "x"}).json()["errors"] == {"count": ["应为整数"]}


@pytest.mark.parametrize("name", ["a\x00b", "\ud800", "a\udfffb"])
def test_nul_and_lone_surrogates_are_422_not_500(client, name):
    resp = post(client, {"name": name, "code": "123456"})
    assert resp.status_code == 422
    assert resp.json()["errors"] == {"name": [FORBIDDEN_CHAR_MESSAGE]}


def test_unparsable_json_is_400_in_chinese(client):
    for body in (b"{", b"\xff\xfe\x00", b"[" * 100_000):
        resp = post(client, body)
        assert resp.status_code == 400
        assert resp.json()["detail"] == "请求体不是有效的 JSON"
    assert post(client, b"").status_code == 422  # no body at all: the payload is missing


def test_kernel_exceptions_map_to_declared_statuses(client):
    assert post(client, {"name": "perm", "code": "123456"}).status_code == 200  # grid worker may add households
    resp = post(client, {"name": "gone", "code": "123456"})
    assert resp.status_code == 404 and resp.json()["detail"] == "对象不存在或不在管辖范围内"
    resp = post(client, {"name": "bad", "code": "123456"})
    assert resp.status_code == 400 and resp.json() == {"detail": "名称不合规", "errors": {"name": ["名称不合规"]}}
    resp = post(client, {"name": "badall", "code": "123456"})
    assert resp.status_code == 400 and resp.json()["errors"] == {"__all__": ["整体不合规"]}


def test_require_perm_is_403_for_a_role_without_it(db):
    from django.test import RequestFactory

    from xiangzhi.accounts.services import token_issue
    from xiangzhi.core.testing import make_user

    make_user("kernel_auditor", "auditor", "341524111")
    raw = token_issue(request=RequestFactory().post("/"), username="kernel_auditor", password=PASSWORD)
    resp = post(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), {"name": "perm", "code": "123456"})
    assert resp.status_code == 403
    assert resp.json()["detail"] == "您的岗位没有此项权限"


def test_text_type_publishes_its_constraints_in_the_schema():
    schema = ThingIn.model_json_schema()["properties"]
    assert schema["name"]["maxLength"] == 10 and schema["name"]["pattern"] == "^[^\\x00]*$"
    assert schema["code"]["pattern"] == "^(?:[0-9]{6})$"


def test_translate_error_formats_context_and_strips_locations():
    assert translate_error(
        {"loc": ("body", "payload", "tags", 0), "type": "literal_error", "ctx": {"expected": "'a'"}}
    ) == (
        "tags.0",
        "取值无效，可选：'a'",
    )
    assert translate_error({"loc": ("query", "limit"), "type": "less_than_equal", "ctx": {"le": 200}}) == (
        "limit",
        "不能大于 200",
    )
    assert translate_error({"loc": ("body",), "type": "something_new"}) == ("__all__", "取值无效")
    assert translate_error({"loc": (), "type": "value_error", "ctx": {"error": "自定义"}}) == ("__all__", "自定义")


def test_paginate_is_o_page_with_a_capped_count(db):
    from xiangzhi.accounts.models import User

    User.objects.bulk_create([User(username=f"u{i:03d}") for i in range(7)])
    qs = User.objects.order_by("username")
    rows, meta = paginate(qs, limit=3, offset=0)
    assert [u.username for u in rows] == ["u000", "u001", "u002"]
    assert meta == {"count": 7, "count_capped": False, "limit": 3, "offset": 0, "next_offset": 3}
    rows, meta = paginate(qs, limit=3, offset=6)
    assert len(rows) == 1 and meta["next_offset"] is None and meta["count"] == 7
    rows, meta = paginate(qs, limit=0, offset=-5)  # clamped
    assert meta["limit"] == 1 and meta["offset"] == 0
    _, meta = paginate(qs, limit=500, offset=0)
    assert meta["limit"] == 200 and meta["count"] == 7 and meta["next_offset"] is None
    assert COUNT_CAP >= 1000


# --- census ----------------------------------------------------------------------------------
def _claims() -> tuple[set, set, list[str]]:
    scoped, public, modules = set(), set(), []
    for config in apps.get_app_configs():
        if not config.name.startswith("xiangzhi."):
            continue
        for file in sorted((Path(config.path) / "tests").glob("test_api*.py")):
            name = f"{config.name}.tests.{file.stem}"
            if name == __name__:
                continue
            module = importlib.import_module(name)
            scoped |= set(getattr(module, "OPS", ()))
            public |= set(getattr(module, "PUBLIC_OPS", ()))
            modules.append(name)
    return scoped, public, modules


@pytest.mark.urls("xiangzhi.urls")
def test_every_api_operation_is_claimed_by_a_scope_or_public_test():
    from xiangzhi.api import api

    schema = api.get_openapi_schema()
    operations = {(m.upper(), p): op for p, ops in schema["paths"].items() for m, op in ops.items()}
    scoped, public, modules = _claims()
    unclaimed = sorted(set(operations) - scoped - public)
    assert not unclaimed, (
        f"API operations without scope tests: {unclaimed}. Add them to OPS (authenticated) or "
        f"PUBLIC_OPS (no auth) in xiangzhi/<app>/tests/test_api.py; modules seen: {modules}"
    )
    assert not (scoped | public) - set(operations), "stale claims"
    for key in public:
        assert not operations[key].get("security"), f"{key} is claimed public but requires authentication"
    for key in scoped:
        assert operations[key].get("security"), f"{key} is claimed scoped but has no authentication"


def test_csrf_applies_to_browser_sessions_only(user):
    """A real server enforces CSRF (the test client does not, unless asked): anonymous
    unsafe requests are 401, not 403; a logged-in browser session needs the CSRF token."""
    body = json.dumps({"name": "ok", "code": "123456"})
    anonymous = Client(enforce_csrf_checks=True)
    resp = anonymous.post("/k/things", data=body, content_type="application/json")
    assert resp.status_code == 401 and resp.json()["detail"] == "未登录或令牌无效"

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    session = browser.session  # the markers the session policy middleware expects
    session["login_at"] = session["seen_at"] = time.time()
    session.save()
    resp = browser.post("/k/things", data=body, content_type="application/json")
    assert resp.status_code == 403 and "CSRF" in resp.json()["detail"]
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    resp = browser.post(
        "/k/things", data=body, content_type="application/json", HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret)
    )
    assert resp.status_code == 200 and resp.json()["user"] == "kernel_user"
