"""Registry API: generic scope tests over every operation, bad input, lookup, reveal.

The scope table ``OPS`` names every authenticated operation of the OpenAPI schema; a new
operation without a row fails ``test_every_operation_has_a_scope_case``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client, RequestFactory

from xiangzhi.accounts.services import token_issue
from xiangzhi.api import api
from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import PASSWORD, VILLAGE_A, next_id
from xiangzhi.residents import services
from xiangzhi.residents.models import Household, Resident

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"
TAG = "户籍档案"  # the residents router


def bearer(user) -> Client:
    """A client carrying a real token from POST /api/v1/auth/token semantics (token_issue)."""
    request = RequestFactory().post("/api/v1/auth/token")
    raw = token_issue(request=request, username=user.username, password=PASSWORD)
    assert raw, user.username
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def call(client: Client, method: str, path: str, body=None):
    kwargs = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method.lower())(path, **kwargs)


def head_of(household) -> Resident:
    return Resident.objects.get(household=household, relation="head")


def _writes():
    """Rows a refused call must not have written (the audit trail of a lookup by full ID is
    not such a row: who searched for whom is recorded whether or not it was found)."""
    audited = AuditEvent.objects.exclude(action="residents.id_lookup")
    return Household.objects.count(), Resident.objects.count(), audited.count()


# --- the scope table ---------------------------------------------------------------------
@dataclass
class Op:
    """One API operation as seen by the cast.

    ``target(cast)`` gives the path parameters of an object in 刘冲村 (village A) and
    ``body(cast)`` a valid request body for it. ``actor`` is in scope (expects ``ok``);
    secretary_b (village B) is the sibling: a 404 for one object, a list without A's rows.
    ``denied`` lack the permission entirely: 403.
    """

    method: str
    path: str
    ok: int = 200
    actor: str = "secretary_a"
    target: Callable = lambda c: {}
    body: Callable | None = None
    is_list: bool = False
    writes: bool = False
    denied: tuple[str, ...] = ("auditor", "nobody")
    extra_ok: dict[str, int] = field(default_factory=dict)

    def url(self, cast) -> str:
        return PREFIX + self.path.format(**self.target(cast))


def _household_body(c):
    return {"area_code": c.grid_a1.code, "number": "A1-API", "address": "刘冲村二组", "tags": ["subsistence"]}


def _resident_body(c):
    return {"household": c.household_a1.pk, "name": "刘新人", "id_number": next_id(), "relation": "daughter"}


OPS: dict[tuple[str, str], Op] = {
    (op.method, PREFIX + op.path): op
    for op in [
        Op("GET", "/households", is_list=True, extra_ok={"county": 200, "villager": 200, "grid_worker_a1": 200}),
        Op(
            "POST",
            "/households",
            ok=201,
            body=_household_body,
            writes=True,
            denied=("auditor", "nobody", "county", "villager"),
        ),
        Op(
            "GET",
            "/households/{household_id}",
            target=lambda c: {"household_id": c.household_a1.pk},
            extra_ok={"county": 200, "township_admin": 200, "grid_worker_a1": 200},
        ),
        Op(
            "PATCH",
            "/households/{household_id}",
            target=lambda c: {"household_id": c.household_a1.pk},
            body=lambda c: {"address": "刘冲村三组"},
            writes=True,
            denied=("auditor", "nobody", "county", "villager"),
        ),
        Op("GET", "/residents", is_list=True, extra_ok={"county": 200, "villager": 200}),
        Op(
            "POST",
            "/residents",
            ok=201,
            body=_resident_body,
            writes=True,
            denied=("auditor", "nobody", "county", "villager"),
        ),
        Op(
            "POST",
            "/residents/lookup",
            body=lambda c: {"id_number": services.resident_plain(head_of(c.household_a1))["id_number"]},
            extra_ok={"county": 200, "grid_worker_a1": 200},
        ),
        Op(
            "GET",
            "/residents/{resident_id}",
            target=lambda c: {"resident_id": head_of(c.household_a1).pk},
            extra_ok={"county": 200},
        ),
        Op(
            "PATCH",
            "/residents/{resident_id}",
            target=lambda c: {"resident_id": head_of(c.household_a1).pk},
            body=lambda c: {"tags": ["volunteer"]},
            writes=True,
            denied=("auditor", "nobody", "county", "villager"),
        ),
        Op(
            "POST",
            "/residents/{resident_id}/reveal",
            target=lambda c: {"resident_id": head_of(c.household_a1).pk},
            body=lambda c: {"reason": "入户核实低保材料"},
            writes=True,
            denied=("auditor", "nobody", "county", "villager"),
            extra_ok={"grid_worker_a1": 200},
        ),
    ]
}
CASES = sorted(OPS)


def _router_operations() -> dict[tuple[str, str], dict]:
    schema = api.get_openapi_schema()
    return {
        (m.upper(), p): op for p, ops in schema["paths"].items() for m, op in ops.items() if TAG in op.get("tags", [])
    }


def test_every_operation_has_a_scope_case():
    """Every registry operation has a row here (the API-wide census is in core)."""
    assert set(_router_operations()) == set(OPS), "every registry API operation needs a row in OPS (no stale rows)"


def test_every_operation_declares_its_statuses():
    for (method, path), op in _router_operations().items():
        codes = {str(c) for c in op["responses"]}
        assert {"401", "403", "404", "422"} <= codes, (method, path)
        assert op.get("security"), (method, path)
        if "requestBody" in op:
            assert "400" in codes, (method, path)  # unparsable JSON


@pytest.mark.parametrize("key", CASES, ids=lambda k: f"{k[0]} {k[1]}")
def test_in_scope_actor_succeeds(cast, key):
    op = OPS[key]
    for actor, status in {op.actor: op.ok, **op.extra_ok}.items():
        body = op.body(cast) if op.body else None
        resp = call(bearer(getattr(cast, actor)), op.method, op.url(cast), body)
        assert resp.status_code == status, (actor, resp.content)
        assert resp["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("key", CASES, ids=lambda k: f"{k[0]} {k[1]}")
def test_sibling_village_gets_404_or_sees_nothing(cast, key):
    op = OPS[key]
    body = op.body(cast) if op.body else None
    client = bearer(cast.secretary_b)
    before = _writes()
    resp = call(client, op.method, op.url(cast), body)
    if op.is_list:
        assert resp.status_code == 200
        items = resp.json()["items"]
        assert items, "secretary_b sees village B"
        assert all(not item["area_code"].startswith(VILLAGE_A) for item in items)
    else:
        assert resp.status_code == 404, resp.content
        assert resp.json()["detail"]
        assert _writes() == before


@pytest.mark.parametrize("key", CASES, ids=lambda k: f"{k[0]} {k[1]}")
def test_role_without_permission_gets_403(cast, key):
    op = OPS[key]
    for actor in op.denied:
        body = op.body(cast) if op.body else None
        client = bearer(getattr(cast, actor))
        before = _writes()
        resp = call(client, op.method, op.url(cast), body)
        assert resp.status_code == 403, (actor, resp.content)
        assert resp.json()["detail"] == "您的岗位没有此项权限"
        assert _writes() == before


@pytest.mark.parametrize("key", CASES, ids=lambda k: f"{k[0]} {k[1]}")
def test_anonymous_and_bad_token_get_401(cast, key):
    op = OPS[key]
    for client in (Client(), Client(HTTP_AUTHORIZATION="Bearer not-a-token"), Client(HTTP_AUTHORIZATION="Basic eDp5")):
        body = op.body(cast) if op.body else None
        before = _writes()
        resp = call(client, op.method, op.url(cast), body)
        assert resp.status_code == 401, resp.content
        assert resp.json()["detail"] == "未登录或令牌无效"
        assert _writes() == before


@pytest.mark.parametrize("key", [k for k in CASES if "{" in k[1]], ids=lambda k: f"{k[0]} {k[1]}")
def test_unknown_and_huge_ids_are_404_or_422(cast, key):
    op = OPS[key]
    client = bearer(cast.township_admin)
    body = op.body(cast) if op.body else None
    name = next(iter(op.target(cast)))
    template = PREFIX + op.path
    assert call(client, op.method, template.format(**{name: 10**12}), body).status_code == 404
    for bad in (0, 2**63, 10**30, "abc", "%E5%88%98", "1.5", "-1"):
        resp = call(client, op.method, template.format(**{name: bad}), body)
        assert resp.status_code == 422, (bad, resp.content)
        assert list(resp.json()["errors"]) == [name]


# --- reads ---------------------------------------------------------------------------------
def test_lists_are_paginated_and_filtered(cast):
    client = bearer(cast.secretary_a)
    data = client.get(f"{PREFIX}/households").json()
    assert data["count"] == 3 and data["count_capped"] is False and data["next_offset"] is None
    assert {h["id"] for h in data["items"]} == {cast.household_a1.pk, cast.household_a2.pk, cast.villager_household.pk}
    page = client.get(f"{PREFIX}/households?limit=2&offset=0").json()
    assert len(page["items"]) == 2 and page["next_offset"] == 2 and page["count"] == 3 and page["limit"] == 2
    rest = client.get(f"{PREFIX}/households?limit=2&offset=2").json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None

    found = client.get(f"{PREFIX}/households?q=lcx").json()["items"]
    assert [h["id"] for h in found] == [cast.household_a1.pk]  # 刘长喜 by initials
    assert client.get(f"{PREFIX}/households?area_code={cast.grid_a2.code}").json()["count"] == 1
    services.household_update(actor=None, household=cast.household_a2, tags=["subsistence"])
    tagged = client.get(f"{PREFIX}/households?tag=subsistence").json()["items"]
    assert [h["id"] for h in tagged] == [cast.household_a2.pk] and tagged[0]["tags"] == ["subsistence"]

    members = client.get(f"{PREFIX}/residents?household={cast.household_a1.pk}").json()
    assert {r["name"] for r in members["items"]} == {"刘长喜", "刘小明"}
    last4 = services.resident_plain(head_of(cast.household_a2))["id_number"][-4:]
    by_last4 = client.get(f"{PREFIX}/residents?q={last4}").json()["items"]
    assert head_of(cast.household_a2).pk in {r["id"] for r in by_last4}


def test_villager_sees_only_own_household(cast):
    client = bearer(cast.villager)
    data = client.get(f"{PREFIX}/households").json()
    assert [h["id"] for h in data["items"]] == [cast.villager_household.pk]
    assert client.get(f"{PREFIX}/households/{cast.villager_household.pk}").status_code == 200
    assert client.get(f"{PREFIX}/households/{cast.household_a1.pk}").status_code == 404
    assert client.get(f"{PREFIX}/residents/{head_of(cast.household_a1).pk}").status_code == 404


def test_grid_worker_is_confined_to_the_grid(cast):
    client = bearer(cast.grid_worker_a1)
    assert client.get(f"{PREFIX}/households/{cast.household_a2.pk}").status_code == 404
    other = head_of(cast.household_a2)
    assert call(client, "POST", f"{PREFIX}/residents/{other.pk}/reveal", {"reason": "入户核实情况"}).status_code == 404
    body = {"area_code": cast.grid_a2.code, "number": "X"}
    before = _writes()
    assert call(client, "POST", f"{PREFIX}/households", body).status_code == 404
    assert call(client, "PATCH", f"{PREFIX}/households/{cast.household_a1.pk}", body).status_code == 404
    assert _writes() == before


def test_outputs_are_masked_and_never_plaintext(cast):
    head = head_of(cast.household_a1)
    services.resident_update(actor=None, resident=head, phone="13812345678")
    plain = services.resident_plain(head)["id_number"]
    client = bearer(cast.township_admin)
    for url in (
        f"{PREFIX}/households",
        f"{PREFIX}/households/{cast.household_a1.pk}",
        f"{PREFIX}/residents",
        f"{PREFIX}/residents/{head.pk}",
    ):
        raw = client.get(url).content.decode()
        assert plain not in raw and "13812345678" not in raw and plain[6:14] not in raw, url
    data = client.get(f"{PREFIX}/residents/{head.pk}").json()
    assert data["id_number_masked"].endswith(plain[-4:]) and "*" in data["id_number_masked"]
    assert data["phone_masked"].startswith("138") and data["phone_masked"].endswith("5678")
    assert set(data) == {
        "id", "household", "area_code", "name", "sex", "birth_year", "relation", "tags", "status",
        "id_number_masked", "phone_masked",
    }  # fmt: skip
    detail = client.get(f"{PREFIX}/households/{cast.household_a1.pk}").json()
    assert [m["name"] for m in detail["members"]] == ["刘长喜", "刘小明"]
    assert detail["head_name"] == "刘长喜" and detail["member_count"] == 2


# --- writes ------------------------------------------------------------------------------
def test_create_and_update_household(cast):
    client = bearer(cast.secretary_a)
    resp = call(client, "POST", f"{PREFIX}/households", {"area_code": cast.grid_a1.code, "number": "A1-009"})
    assert resp.status_code == 201
    created = resp.json()
    assert created["area_code"] == cast.grid_a1.code and created["member_count"] == 0
    assert AuditEvent.objects.filter(action="residents.household_create", object_id=str(created["id"])).exists()
    resp = call(client, "PATCH", f"{PREFIX}/households/{created['id']}", {"area_code": cast.grid_a2.code, "tags": []})
    assert resp.status_code == 200 and resp.json()["area_code"] == cast.grid_a2.code
    assert Household.objects.get(pk=created["id"]).area_code == cast.grid_a2.code


def test_create_and_update_resident(cast):
    client = bearer(cast.grid_worker_a1)
    id_number = next_id((1992, 3, 4))
    body = {
        "household": cast.household_a1.pk,
        "name": "刘 新",
        "id_number": id_number.lower(),
        "phone": "138 1234 5678",
    }
    resp = call(client, "POST", f"{PREFIX}/residents", body)
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["name"] == "刘 新" and data["birth_year"] == 1992 and data["relation"] == "other"
    assert id_number not in resp.content.decode()
    resident = Resident.objects.get(pk=data["id"])
    assert services.resident_plain(resident) == {"id_number": id_number.upper(), "phone": "13812345678"}

    resp = call(client, "PATCH", f"{PREFIX}/residents/{resident.pk}", {"phone": None, "status": "moved_out"})
    assert resp.status_code == 200
    assert resp.json()["phone_masked"] == "" and resp.json()["status"] == "moved_out"
    assert services.resident_plain(Resident.objects.get(pk=resident.pk))["phone"] is None


def test_resident_for_household_out_of_scope_is_404(cast):
    secretary_a, villager = bearer(cast.secretary_a), bearer(cast.villager)
    before = _writes()
    body = {"household": cast.household_b1.pk, "name": "越界", "id_number": next_id()}
    assert call(secretary_a, "POST", f"{PREFIX}/residents", body).status_code == 404
    body["household"] = cast.villager_household.pk  # the villager can view it, but not change it
    assert call(villager, "POST", f"{PREFIX}/residents", body).status_code == 403
    assert _writes() == before


ZH = "\u4e00-\u9fff"


def _assert_chinese_field_errors(resp, fields):
    data = resp.json()
    assert data["detail"]
    assert set(data["errors"]) == set(fields), data
    for messages in data["errors"].values():
        assert messages and all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages), messages


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"area_code": "abc"}, 422, ["area_code"]),
        ({}, 422, ["area_code"]),
        ({"area_code": "A", "tags": ["rich"], "address": "长" * 201}, 422, ["area_code", "tags.0", "address"]),
        ({"area_code": "X", "note": "a\x00b"}, 422, ["area_code", "note"]),
        ({"area_code": "X", "owner": "me"}, 422, ["area_code", "owner"]),
        ({"area_code": "X", "number": 5}, 422, ["area_code", "number"]),
        ({"area_code": "341524111299"}, 400, ["area_code"]),  # in scope, but no such village
        ({"area_code": "{grid_a1}", "number": "A1-001"}, 400, ["number"]),  # duplicate number
    ],
)
def test_bad_household_input_is_rejected_in_chinese_and_nothing_written(cast, body, status, fields):
    body = {k: (v.format(grid_a1=cast.grid_a1.code) if isinstance(v, str) else v) for k, v in body.items()}
    client = bearer(cast.township_admin)
    before = _writes()
    resp = call(client, "POST", f"{PREFIX}/households", body)
    assert resp.status_code == status, resp.content
    _assert_chinese_field_errors(resp, fields)
    assert _writes() == before


@pytest.mark.parametrize(
    ("change", "status", "fields"),
    [
        ({"id_number": "341524198707130000"}, 400, ["id_number"]),  # check digit
        ({"id_number": "3415241987"}, 422, ["id_number"]),
        ({"phone": "12345"}, 400, ["phone"]),
        ({"name": "<script>"}, 422, ["name"]),
        ({"name": ""}, 422, ["name"]),
        ({"name": "   "}, 400, ["name"]),
        ({"name": "刘" * 51}, 422, ["name"]),
        ({"relation": "boss"}, 422, ["relation"]),
        ({"relation": "head"}, 400, ["relation"]),  # the household already has a head
        ({"tags": ["subsistence"]}, 422, ["tags.0"]),  # a household tag, not a resident tag
        ({"household": 2**63}, 422, ["household"]),
        ({"household": "x", "name": "\ud800"}, 422, ["household", "name"]),
        ({"id_number": "{duplicate}"}, 400, ["id_number"]),
    ],
)
def test_bad_resident_input_is_rejected_in_chinese_and_nothing_written(cast, change, status, fields):
    duplicate = services.resident_plain(head_of(cast.household_b1))["id_number"]
    change = {k: (v.format(duplicate=duplicate) if isinstance(v, str) else v) for k, v in change.items()}
    body = {**_resident_body(cast), **change}
    client = bearer(cast.township_admin)
    before = _writes()
    resp = call(client, "POST", f"{PREFIX}/residents", body)
    assert resp.status_code == status, resp.content
    _assert_chinese_field_errors(resp, fields)
    assert _writes() == before
    if "household" not in change:  # the same junk as a PATCH: same answer, nothing changed
        patch = {k: v for k, v in change.items()}
        head = head_of(cast.household_a2)
        resp = call(client, "PATCH", f"{PREFIX}/residents/{head.pk}", patch)
        if patch.get("relation") == "head":
            assert resp.status_code == 200  # it is already the head: no change
        elif patch.get("id_number") == duplicate or patch.get("name") == "   ":
            assert resp.status_code == 400
        else:
            assert resp.status_code == status, resp.content
        assert _writes() == before


def test_patch_rejects_null_for_required_fields_and_junk_bodies(cast):
    client = bearer(cast.township_admin)
    head = head_of(cast.household_a1)
    before = _writes()
    for body in ({"name": None}, {"tags": None}, {"relation": None}, ["name"], "x", 5):
        resp = call(client, "PATCH", f"{PREFIX}/residents/{head.pk}", body)
        assert resp.status_code == 422, (body, resp.content)
    resp = client.patch(f"{PREFIX}/residents/{head.pk}", data=b"{not json", content_type="application/json")
    assert resp.status_code == 400 and resp.json()["detail"] == "请求体不是有效的 JSON"
    resp = client.patch(
        f"{PREFIX}/households/{cast.household_a1.pk}", data=b"\xff\xfe", content_type="application/json"
    )
    assert resp.status_code == 400
    assert call(client, "PATCH", f"{PREFIX}/residents/{head.pk}", {}).status_code == 200  # nothing to change
    assert _writes() == before


def test_query_junk_is_422_not_500(cast):
    client = bearer(cast.township_admin)
    for query in (
        "q=a%00b",
        "limit=0",
        "limit=201",
        "offset=-1",
        "offset=99999999999999999999",
        "area_code=abc",
        "tag=rich",
        "household=0",
        "household=99999999999999999999",
        "limit=1e3",
    ):
        resp = client.get(f"{PREFIX}/residents?{query}")
        assert resp.status_code == 422, (query, resp.content)
    for query in ("q=%ED%A0%80", "q=%F0%A0%80%80", "q=䃥", "area_code=", "q=" + "x" * 50):
        assert client.get(f"{PREFIX}/households?{query}").status_code == 200, query


# --- lookup and reveal -----------------------------------------------------------------------
def test_lookup_by_full_id_number(cast):
    head = head_of(cast.household_a1)
    plain = services.resident_plain(head)["id_number"]
    client = bearer(cast.secretary_a)
    resp = call(client, "POST", f"{PREFIX}/residents/lookup", {"id_number": plain})
    assert resp.status_code == 200 and resp.json()["id"] == head.pk
    assert plain not in resp.content.decode()
    assert call(client, "POST", f"{PREFIX}/residents/lookup", {"id_number": plain.lower()}).json()["id"] == head.pk
    other = services.resident_plain(head_of(cast.household_b1))["id_number"]
    assert call(client, "POST", f"{PREFIX}/residents/lookup", {"id_number": other}).status_code == 404  # scope
    assert call(client, "POST", f"{PREFIX}/residents/lookup", {"id_number": next_id()}).status_code == 404
    bad = call(
        client, "POST", f"{PREFIX}/residents/lookup", {"id_number": plain[:-1] + ("0" if plain[-1] != "0" else "1")}
    )
    assert bad.status_code == 400 and "校验" in bad.json()["errors"]["id_number"][0]
    assert client.get(f"{PREFIX}/residents/lookup").status_code == 405  # never in a URL


def test_reveal_is_audited_and_needs_a_reason(cast):
    head = head_of(cast.household_a1)
    services.resident_update(actor=None, resident=head, phone="13812345678")
    plain = services.resident_plain(head)
    client = bearer(cast.secretary_a)
    url = f"{PREFIX}/residents/{head.pk}/reveal"

    before = AuditEvent.objects.filter(action="residents.reveal").count()
    short = call(client, "POST", url, {"reason": "看看"})
    assert short.status_code == 422 and short.json()["errors"]["reason"]
    blank = call(client, "POST", url, {"reason": "        "})
    assert blank.status_code == 400 and "原因" in blank.json()["errors"]["reason"][0]
    assert AuditEvent.objects.filter(action="residents.reveal").count() == before

    resp = call(client, "POST", url, {"reason": "入户核实低保材料"})
    assert resp.status_code == 200
    assert resp.json() == {"id_number": plain["id_number"], "phone": "13812345678"}
    event = AuditEvent.objects.filter(action="residents.reveal").latest("id")
    assert event.actor_id == cast.secretary_a.pk and event.object_id == str(head.pk)
    assert event.details["reason"] == "入户核实低保材料"
    assert plain["id_number"] not in json.dumps(event.details)
