"""Points API: generic scope tests over every operation under /api/v1/points.

``OPS`` names every operation of the points router (the API-wide census in core reads it);
a new operation without a row fails ``test_every_points_operation_has_a_scope_case``. For
each: the in-scope actor gets the expected status, 大岗村's secretary (sibling village) gets
404 or a list without 刘冲村, roles without the permission get 403, anonymous and bad tokens
get 401 — and none of the refused calls writes anything.

The world is ``viewdata.build``: a township rulebook, funded accounts in 刘冲村 (A) and
大岗村 (B), awards in each state, 刘冲村振风超市 with its keeper, a published 红黑榜 of A.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from xiangzhi.api import api
from xiangzhi.audit.models import AuditEvent
from xiangzhi.cases.models import Case
from xiangzhi.cases.tests.apitools import PREFIX, bearer
from xiangzhi.core.testing import VILLAGE_A
from xiangzhi.points import shop
from xiangzhi.points.models import Award, LedgerEntry, Objection, Redemption

from . import viewdata

pytestmark = pytest.mark.django_db

TAG = "积分制（振风超市·红黑榜）"
NO_POINTS = ("auditor", "nobody")
NOT_STAFF = (*NO_POINTS, "villager")


class Env:
    """The cast and the points world under one roof: ``env.secretary_a``, ``env.shop_a``."""

    def __init__(self, cast, world):
        self.cast, self.world = cast, world

    def __getattr__(self, name):
        if hasattr(self.world, name):
            return getattr(self.world, name)
        return getattr(self.cast, name)


def make_env(cast) -> Env:
    world = viewdata.build(cast)
    world.redemption = shop.redemption_create(
        actor=world.keeper, shop=world.shop_a, account=world.acc_a1, items=[(world.soap.pk, 1)],
        idempotency_key="fixture-redemption",
    )  # fmt: skip
    world.acc_a1.refresh_from_db()
    world.soap.refresh_from_db()
    return Env(cast, world)


@pytest.fixture
def env(cast):
    return make_env(cast)


@dataclass
class Op:
    """One operation as the cast sees it. ``target(env)`` gives the path parameters of an
    object in 刘冲村; ``body(env)`` a valid body; ``headers(env)`` request headers. ``actor``
    is in scope and expects ``ok`` (``extra_ok`` too); ``denied`` lack the permission (403)."""

    method: str
    path: str
    ok: int = 200
    actor: str = "secretary_a"
    target: Callable = lambda e: {}
    query: str = ""
    body: Callable | None = None
    multipart: Callable | None = None  # form fields and files (multipart/form-data) instead of JSON
    headers: Callable | None = None
    is_list: bool = False
    denied: tuple[str, ...] = NO_POINTS
    extra_ok: dict[str, int] = field(default_factory=dict)

    def url(self, env, **override) -> str:
        return PREFIX + self.path.format(**{**self.target(env), **override}) + self.query


def send(client, op: Op, env, **override):
    kwargs = {}
    if op.body is not None:
        kwargs.update(data=json.dumps(op.body(env)), content_type="application/json")
    if op.multipart is not None:
        kwargs.update(data=op.multipart(env))
    if op.headers is not None:
        kwargs.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in op.headers(env).items()})
    return getattr(client, op.method.lower())(op.url(env, **override), **kwargs)


_key = [0]


def fresh_key(env) -> dict:
    _key[0] += 1
    return {"Idempotency-Key": f"test-key-{_key[0]:06d}"}


def _redeem_body(e):
    return {"shop": e.shop_a.pk, "account": e.acc_a1.pk, "items": [{"product": e.soap.pk, "quantity": 1}]}


ACCOUNT = "/points/accounts/{account_id}"
AWARD = "/points/awards/{award_id}"
OPS: dict[tuple[str, str], Op] = {
    (op.method, PREFIX + op.path): op
    for op in [
        Op("GET", "/points/accounts", is_list=True,
           extra_ok={"county": 200, "villager": 200, "grid_worker_a1": 200, "keeper": 200}),
        Op("GET", ACCOUNT, target=lambda e: {"account_id": e.acc_a1.pk},
           extra_ok={"county": 200, "township_admin": 200, "grid_worker_a1": 200, "keeper": 200}),
        Op("GET", ACCOUNT + "/ledger", target=lambda e: {"account_id": e.acc_a1.pk},
           extra_ok={"county": 200, "grid_worker_a1": 200}, denied=(*NO_POINTS, "keeper")),
        Op("GET", "/points/rules", query=f"?area_code={VILLAGE_A}",
           extra_ok={"county": 200, "grid_worker_a1": 200, "township_admin": 200},
           denied=(*NOT_STAFF, "keeper")),
        Op("GET", "/points/awards", is_list=True, extra_ok={"county": 200, "villager": 200, "grid_worker_a1": 200},
           denied=(*NO_POINTS, "keeper")),
        Op("POST", "/points/awards", ok=201, body=lambda e: {
            "account": e.acc_a1.pk, "rule": viewdata.rule(e.book, "XL01").pk,
            "occurred_on": viewdata.TODAY.isoformat(), "reason": "照顾邻居孤寡老人"},
           extra_ok={"grid_worker_a1": 201}, denied=(*NOT_STAFF, "county", "keeper")),
        Op("POST", "/points/awards/with-evidence", ok=201, multipart=lambda e: {
            "account": e.acc_a1.pk, "rule": viewdata.rule(e.book, "ZY01").pk,
            "occurred_on": viewdata.TODAY.isoformat(), "reason": "参加河道清理",
            "evidence": SimpleUploadedFile("河道.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")},
           extra_ok={"grid_worker_a1": 201}, denied=(*NOT_STAFF, "county", "keeper")),
        Op("GET", AWARD, target=lambda e: {"award_id": e.proposed_a1.pk},
           extra_ok={"county": 200, "township_admin": 200, "grid_worker_a1": 200}, denied=(*NO_POINTS, "keeper")),
        Op("POST", AWARD + "/review", target=lambda e: {"award_id": e.proposed_a1.pk},
           body=lambda e: {"approve": True, "note": "情况属实"},
           denied=(*NOT_STAFF, "county", "grid_worker_a1", "keeper")),
        Op("POST", AWARD + "/object", ok=201, target=lambda e: {"award_id": e.publicizing_a1.pk},
           body=lambda e: {"reason": "庭院并不整洁，请核实"}, denied=(*NO_POINTS, "keeper")),
        Op("GET", "/points/catalogue", query=f"?area_code={VILLAGE_A}",
           extra_ok={"keeper": 200, "grid_worker_a1": 200, "villager": 200, "county": 200, "township_admin": 200}),
        Op("POST", "/points/redemptions", ok=201, actor="keeper", body=_redeem_body, headers=fresh_key,
           extra_ok={"township_admin": 201}, denied=(*NOT_STAFF, "county", "grid_worker_a1", "secretary_a")),
        Op("GET", "/points/redemptions/{redemption_id}", target=lambda e: {"redemption_id": e.redemption.pk},
           extra_ok={"keeper": 200, "township_admin": 200, "county": 200}),
        Op("GET", "/points/lists", is_list=True,
           extra_ok={"villager": 200, "grid_worker_a1": 200, "county": 200, "township_admin": 200},
           denied=(*NO_POINTS, "keeper")),
        Op("GET", "/points/lists/{list_id}", target=lambda e: {"list_id": e.board.pk},
           extra_ok={"villager": 200, "grid_worker_a1": 200, "county": 200, "township_admin": 200},
           denied=(*NO_POINTS, "keeper")),
    ]
}  # fmt: skip
KEYS = sorted(OPS)


def _writes():
    return (
        Award.objects.count(),
        Objection.objects.count(),
        Redemption.objects.count(),
        LedgerEntry.objects.count(),
        Case.objects.count(),
        AuditEvent.objects.count(),
    )


def _operations() -> dict:
    schema = api.get_openapi_schema()
    return {(m.upper(), p): op for p, ops in schema["paths"].items() for m, op in ops.items() if TAG in op["tags"]}


def test_every_points_operation_has_a_scope_case():
    assert set(_operations()) == set(OPS), "every /api/v1/points operation needs a row in OPS (and no stale rows)"


def test_every_points_operation_declares_its_statuses():
    for (method, path), op in _operations().items():
        codes = {str(c) for c in op["responses"]}
        assert {"401", "403", "404", "422"} <= codes, (method, path)
        assert op.get("security"), (method, path)
        if method == "POST":
            assert {"400", "409"} <= codes, (method, path)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_in_scope_actor_succeeds(env, key):
    op = OPS[key]
    for actor, status in {op.actor: op.ok, **op.extra_ok}.items():
        resp = send(bearer(getattr(env, actor)), op, env)
        assert resp.status_code == status, (actor, resp.content.decode())
        assert resp["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_sibling_village_gets_404_or_sees_nothing(env, key):
    op = OPS[key]
    client = bearer(env.secretary_b)
    before = _writes()
    resp = send(client, op, env)
    if op.is_list:
        assert resp.status_code == 200, resp.content.decode()
        assert all(not item["area_code"].startswith(VILLAGE_A) for item in resp.json()["items"])
    else:
        assert resp.status_code == 404, resp.content.decode()
        assert resp.json()["detail"]
        assert _writes() == before


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_role_without_permission_gets_403(env, key):
    op = OPS[key]
    for actor in op.denied:
        client = bearer(getattr(env, actor))
        before = _writes()
        resp = send(client, op, env)
        assert resp.status_code == 403, (actor, resp.content.decode())
        assert resp.json()["detail"]
        assert _writes() == before


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]} {k[1]}")
def test_anonymous_and_bad_token_get_401(env, key):
    op = OPS[key]
    for client in (Client(), Client(HTTP_AUTHORIZATION="Bearer not-a-token")):
        before = _writes()
        resp = send(client, op, env)
        assert resp.status_code == 401, resp.content.decode()
        assert resp.json()["detail"] == "未登录或令牌无效"
        assert _writes() == before


@pytest.mark.parametrize("key", [k for k in KEYS if "{" in k[1]], ids=lambda k: f"{k[0]} {k[1]}")
def test_unknown_and_huge_ids_are_404_or_422(env, key):
    op = OPS[key]
    client = bearer(env.township_admin)
    name = next(iter(op.target(env)))
    assert send(client, op, env, **{name: 10**12}).status_code == 404
    for bad in (0, 2**63, "abc", "-1"):
        resp = send(client, op, env, **{name: bad})
        assert resp.status_code == 422, (bad, resp.content.decode())
        assert name in resp.json()["errors"]
