"""Case API: generic scope tests over every operation under /api/v1/cases.

The table ``OPS`` names every operation of the case router; a new operation without a row
fails ``test_every_case_operation_has_a_scope_case``. For each: the in-scope actor gets the
expected status, 大岗村's secretary (sibling village) gets 404 or a list without 刘冲村,
roles without the permission get 403, anonymous and bad tokens get 401 — and none of the
refused calls writes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from xiangzhi.api import api
from xiangzhi.audit.models import AuditEvent
from xiangzhi.cases.models import Case, CaseEvent
from xiangzhi.core.testing import VILLAGE_A, make_user

from .apitools import PREFIX, bearer, call, case_in

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
NOT_ANY_CASE_ROLE = ("auditor", "nobody")
VIEW_ONLY = ("auditor", "nobody", "county", "villager")
NO_ASSIGN = (*VIEW_ONLY, "grid_worker_a1")


@dataclass
class Op:
    """One operation as the cast sees it. ``state`` is the workflow state of the 刘冲村 case
    the call targets (None: no case); ``body(cast)`` a valid body; ``actor`` is in scope
    and expects ``ok``; ``denied`` lack the permission altogether (403)."""

    method: str
    path: str
    ok: int = 200
    actor: str = "secretary_a"
    state: str | None = "registered"
    body: Callable | None = None
    multipart: bool = False
    is_list: bool = False
    denied: tuple[str, ...] = VIEW_ONLY
    extra_ok: dict[str, int] = field(default_factory=dict)

    def url(self, case) -> str:
        return PREFIX + self.path.format(case_id=case.pk if case else 0)


def _create_body(c):
    return {
        "kind": "dispute",
        "channel": "walk_in",
        "area_code": c.grid_a1.code,
        "title": "宅基地边界纠纷",
        "description": "两户因宅基地边界发生争执",
        "contact_name": "刘长喜",
        "contact_phone": "13812345678",
        "parties": [{"name": "刘长喜", "role": "applicant"}, {"name": "外村李某", "role": "respondent"}],
    }


def _assign_body(c):
    return {
        "lead": c.secretary_a.pk,
        "handler": c.grid_worker_a1.pk,
        "responsibility": "网格员负责现场调查",
        "plan": "先现场查看，再组织小组会",
        "due_at": (timezone.now() + timedelta(days=5)).isoformat(),
    }


def _now():
    return timezone.now().isoformat()


CASE = "/cases/{case_id}"
OPS: dict[tuple[str, str], Op] = {
    (op.method, PREFIX + op.path): op
    for op in [
        Op("GET", "/cases", is_list=True, extra_ok={"county": 200, "township_admin": 200, "grid_worker_a1": 200},
           denied=NOT_ANY_CASE_ROLE),
        Op("POST", "/cases", ok=201, state=None, body=_create_body, extra_ok={"grid_worker_a1": 201}),
        Op("GET", CASE, extra_ok={"county": 200, "township_admin": 200, "grid_worker_a1": 200},
           denied=NOT_ANY_CASE_ROLE),
        Op("GET", CASE + "/candidates", extra_ok={"grid_worker_a1": 200}),
        Op("POST", CASE + "/accept", body=lambda c: {"note": "属实，受理"}, extra_ok={"grid_worker_a1": 200}),
        Op("POST", CASE + "/reject", body=lambda c: {"reason": "不属于受理范围"}),
        Op("POST", CASE + "/transfer", body=lambda c: {"to_body": "县自然资源局", "reason": "属于职能部门"}),
        Op("POST", CASE + "/assign", state="accepted", body=_assign_body, denied=NO_ASSIGN),
        Op("POST", CASE + "/start", state="assigned", body=lambda c: {}),
        Op("POST", CASE + "/resolve", state="in_progress", body=lambda c: {"note": "双方和解"}),
        Op("POST", CASE + "/fail", state="in_progress", body=lambda c: {"note": "分歧较大"}),
        Op("POST", CASE + "/close", state="resolved", body=lambda c: {"resolution": "已化解，双方满意"}, denied=NO_ASSIGN),
        Op("POST", CASE + "/reopen", state="closed", body=lambda c: {"reason": "当事人反映协议未履行"}, denied=NO_ASSIGN),
        Op("POST", CASE + "/escalate", body=lambda c: {"reason": "网格调解不成"}, extra_ok={"grid_worker_a1": 200}),
        Op("POST", CASE + "/return", state="village", body=lambda c: {"reason": "请网格员先行调处"}, denied=NO_ASSIGN),
        Op("POST", CASE + "/request-extension", state="assigned", body=lambda c: {"days": 5, "reason": "等待材料"}),
        Op("POST", CASE + "/approve-extension", state="extension", body=lambda c: {"approve": True}, denied=NO_ASSIGN),
        Op("POST", CASE + "/supervise", actor="township_admin", body=lambda c: {"mark": "yellow", "note": "限期办结"},
           denied=(*NO_ASSIGN, "secretary_a")),
        Op("POST", CASE + "/meetings", ok=201, body=lambda c: {
            "kind": "group", "held_at": _now(), "place": "刘冲村村部", "participants": "双方当事人、网格员"}),
        Op("POST", CASE + "/mediations", ok=201, body=lambda c: {
            "held_at": _now(), "result": "success", "mediators": [c.secretary_a.pk], "terms": "共同出资修沟"}),
        Op("POST", CASE + "/follow-ups", ok=201, state="closed", body=lambda c: {"satisfaction": "satisfied"}),
        Op("POST", CASE + "/skip-levels", ok=201, body=lambda c: {
            "occurred_on": timezone.localdate().isoformat(), "destination": "县信访局"}),
        Op("POST", CASE + "/attachments", ok=201, multipart=True),
    ]
}  # fmt: skip
KEYS = sorted(OPS)


def _send(client, op: Op, case, cast):
    if op.multipart:
        upload = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
        return client.post(op.url(case), {"file": upload})
    return call(client, op.method, op.url(case), op.body(cast) if op.body else None)


def _writes():
    return Case.objects.count(), CaseEvent.objects.count(), AuditEvent.objects.count()


def _target(cast, op: Op):
    return case_in(cast, op.state) if op.state else None


def test_every_case_operation_has_a_scope_case():
    schema = api.get_openapi_schema()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops if p.startswith("/api/v1/cases")}
    assert operations == set(OPS), "every /api/v1/cases operation needs a row in OPS (and no stale rows)"


def test_every_case_operation_declares_its_statuses():
    schema = api.get_openapi_schema()
    for path, ops in schema["paths"].items():
        if not path.startswith("/api/v1/cases"):
            continue
        for method, op in ops.items():
            codes = {str(c) for c in op["responses"]}
            assert {"401", "403", "404", "422"} <= codes, (method, path)
            if method == "post":
                assert {"400", "409"} <= codes, (method, path)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_in_scope_actor_succeeds(cast, key):
    op = OPS[key]
    for actor, status in {op.actor: op.ok, **op.extra_ok}.items():
        case = _target(cast, op)
        resp = _send(bearer(getattr(cast, actor)), op, case, cast)
        assert resp.status_code == status, (actor, resp.content.decode())
        assert resp["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_sibling_village_gets_404_or_sees_nothing(cast, key):
    op = OPS[key]
    case = _target(cast, op) or case_in(cast, "registered")
    sibling = cast.secretary_b
    if op.actor == "township_admin":  # township-only actions: the admin of 古碑镇
        sibling = make_user("gubei_admin", "township_admin", "341524105")
    client = bearer(sibling)
    before = _writes()
    resp = _send(client, op, case if op.state else None, cast)
    if op.is_list:
        assert resp.status_code == 200
        assert resp.json()["items"] == []
    else:
        assert resp.status_code == 404, resp.content.decode()
        assert resp.json()["detail"]
        assert _writes() == before


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_role_without_permission_gets_403(cast, key):
    op = OPS[key]
    case = _target(cast, op)
    for actor in op.denied:
        client = bearer(getattr(cast, actor))
        before = _writes()
        resp = _send(client, op, case, cast)
        assert resp.status_code == 403, (actor, resp.content.decode())
        assert resp.json()["detail"]
        assert _writes() == before


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_anonymous_and_bad_token_get_401(cast, key):
    op = OPS[key]
    case = _target(cast, op)
    for client in (Client(), Client(HTTP_AUTHORIZATION="Bearer not-a-token")):
        before = _writes()
        resp = _send(client, op, case, cast)
        assert resp.status_code == 401, resp.content.decode()
        assert resp.json()["detail"] == "未登录或令牌无效"
        assert _writes() == before


@pytest.mark.parametrize("key", [k for k in KEYS if "{" in k[1]], ids=lambda k: f"{k[0]} {k[1]}")
def test_unknown_and_huge_ids_are_404_or_422(cast, key):
    op = OPS[key]
    client = bearer(cast.township_admin)
    template = PREFIX + op.path
    body = op.body(cast) if op.body else None
    if not op.multipart:
        assert call(client, op.method, template.format(case_id=10**12), body).status_code == 404
    for bad in (0, 2**63, "abc", "-1"):
        resp = call(client, op.method, template.format(case_id=bad), body)
        assert resp.status_code == 422, (bad, resp.content.decode())
        assert "case_id" in resp.json()["errors"]


def test_grid_worker_sees_only_his_grid_and_the_villager_only_his_own(cast):
    a1 = case_in(cast, "registered")
    a2 = case_in(cast, "registered", area=cast.grid_a2.code, actor=cast.secretary_a)
    b1 = case_in(cast, "registered", area=cast.grid_b1.code, actor=cast.secretary_b)
    own = case_in(cast, "registered", household=cast.villager_household)

    def ids(user):
        return {c["id"] for c in bearer(user).get(f"{PREFIX}/cases").json()["items"]}

    assert ids(cast.grid_worker_a1) == {a1.pk, own.pk}
    assert ids(cast.secretary_a) == {a1.pk, a2.pk, own.pk}
    assert ids(cast.secretary_b) == {b1.pk}
    assert ids(cast.township_admin) == {a1.pk, a2.pk, b1.pk, own.pk}
    assert ids(cast.villager) == {own.pk}
    assert bearer(cast.grid_worker_a1).get(f"{PREFIX}/cases/{a2.pk}").status_code == 404
    assert bearer(cast.villager).get(f"{PREFIX}/cases/{a1.pk}").status_code == 404
    assert all(
        c["area_code"].startswith(VILLAGE_A) for c in bearer(cast.secretary_a).get(f"{PREFIX}/cases").json()["items"]
    )
