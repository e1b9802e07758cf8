"""Public region endpoints: the official division tree, never the locally defined grids."""

import pytest
from django.test import Client

from xiangzhi.core.testing import VILLAGE_A
from xiangzhi.org import services

pytestmark = pytest.mark.django_db

# claimed for the API census (core/tests/test_api_kernel.py)
PUBLIC_OPS = {("GET", "/api/v1/regions/{code}"), ("GET", "/api/v1/regions/{code}/children")}


@pytest.fixture
def regions(db):
    services.regions_import_shipped(actor=None)


def get(path):
    return Client().get(f"/api/v1/regions/{path}")


def test_township_detail_is_public(regions):
    resp = get("341524111")
    assert resp.status_code == 200
    assert resp.json() == {"code": "341524111", "name": "白塔畈镇", "level": "township", "parent": "341524"}


def test_township_children_are_its_twelve_villages(regions):
    resp = get("341524111/children")
    assert resp.status_code == 200
    children = resp.json()
    assert len(children) == 12
    assert {c["level"] for c in children} == {"village"}
    assert {c["parent"] for c in children} == {"341524111"}
    assert {"code": VILLAGE_A, "name": "刘冲村", "level": "village", "parent": "341524111"} in children
    assert [c["code"] for c in children] == sorted(c["code"] for c in children)
    assert not any(c["name"].endswith(("村委会", "居委会")) for c in children)


def test_county_has_its_townships(regions):
    children = get("341524/children").json()
    assert len(children) == 23
    assert {"code": "341524112", "name": "流波䃥镇", "level": "township", "parent": "341524"} in children


def test_rare_character_round_trips(regions):
    resp = get("341524112")
    assert resp.status_code == 200
    assert resp.json()["name"] == "流波䃥镇"
    assert resp["Content-Type"] == "application/json; charset=utf-8"
    assert "䃥".encode() in resp.content or b"\\u40e5" in resp.content.lower()


@pytest.mark.parametrize("code", ["341524999", "999999999999", "abc", "0", "3415241112060001", "%E4%83%A5", "%00"])
def test_unknown_codes_are_404(regions, code):
    resp = get(code)
    assert resp.status_code == 404
    assert resp.json()["detail"] == "区划不存在"
    assert get(f"{code}/children").status_code == 404


def test_grids_are_never_exposed_publicly(cast):
    assert get(cast.grid_a1.code).status_code == 404
    assert get(f"{cast.grid_a1.code}/children").status_code == 404
    children = get(f"{VILLAGE_A}/children")
    assert children.status_code == 200
    assert children.json() == []
    assert "网格" not in children.content.decode()


def test_public_even_with_a_bad_token(regions):
    resp = Client(HTTP_AUTHORIZATION="Bearer nonsense").get("/api/v1/regions/341524111")
    assert resp.status_code == 200
