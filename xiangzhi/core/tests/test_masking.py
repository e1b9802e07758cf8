"""Tests for xiangzhi.core.masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiangzhi.core import idcard
from xiangzhi.core.masking import (
    COMPOUND_SURNAMES,
    mask_id_number,
    mask_name,
    mask_phone,
)

# --------------------------------------------------------------------------
# ID numbers
# --------------------------------------------------------------------------


def test_mask_id_number_example():
    value = idcard.make_id("341524", date(1990, 1, 1), 123)
    masked = mask_id_number(value)
    assert masked == "341524********" + value[-4:]
    assert masked.startswith("341524") and len(masked) == 18


def test_mask_id_number_standard_example():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert (
        mask_id_number("１１０１０５１９４９１２３１００２Ｘ") == "110105********002X"
    )
    assert mask_id_number(" 110105 19491231 002X ") == "110105********002X"


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_mask_id_number_empty(empty):
    assert mask_id_number(empty) == ""


def test_mask_id_number_legacy_15_digits():
    # 15-digit numbers carry a YYMMDD birth date at positions 7–12.
    assert mask_id_number("110105491231002") == "110105******002"


@pytest.mark.parametrize("odd", ["12345", "1101051949123100", "11010519491231002X99"])
def test_mask_id_number_unrecognised_is_fully_masked(odd):
    assert mask_id_number(odd) == "*" * len(odd)


regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(idcard.PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(
    region=regions,
    birth=st.dates(min_value=date(1800, 1, 1), max_value=date(2024, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)
def test_mask_never_reveals_birth_date(region, birth, seq):
    value = idcard.make_id(region, birth, seq)
    masked = mask_id_number(value)
    assert len(masked) == 18
    assert masked[6:14] == "********"
    # Every birth-date position is hidden, and only region + last 4 are shown.
    for position in range(6, 14):
        assert masked[position] == "*"
    assert masked[:6] == value[:6]
    assert masked[14:] == value[14:]
    assert f"{birth:%Y%m%d}" not in masked
    # Also for the lower-case / spaced variants a user might store.
    assert mask_id_number(value.lower()) == masked
    assert mask_id_number(f"{value[:6]} {value[6:14]} {value[14:]}") == masked


# --------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("0564-5123456", "0564-****456"),
        ("05645123456", "0564-****456"),
        ("0564-51234567", "0564-*****567"),
        ("010-62345678", "010-*****678"),
        ("(021)6123456", "021-****456"),
    ],
)
def test_mask_phone(raw, expected):
    assert mask_phone(raw) == expected


@pytest.mark.parametrize("empty", [None, "", "  ", " - "])
def test_mask_phone_empty(empty):
    assert mask_phone(empty) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1381234567", "********67"),
        ("12345", "*****"),
        ("5123456", "*****56"),
    ],
)
def test_mask_phone_unrecognised(raw, expected):
    assert mask_phone(raw) == expected


@settings(max_examples=200, deadline=None)
@given(
    second=st.sampled_from("3456789"),
    rest=st.text(alphabet="0123456789", min_size=9, max_size=9),
)
def test_mask_mobile_hides_middle_four(second, rest):
    number = "1" + second + rest
    masked = mask_phone(number)
    assert masked == number[:3] + "****" + number[7:]


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("王小明", "王**"),
        ("王明", "王*"),
        ("王", "*"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳锋", "欧阳*"),
        ("欧阳", "欧*"),  # surname 欧, given name 阳
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛*"),
        ("上官婉儿", "上官**"),
        ("东方朔", "东方*"),
        ("皇甫嵩", "皇甫*"),
        ("尉迟恭", "尉迟*"),
        ("公孙胜", "公孙*"),
        ("慕容复", "慕容*"),
        ("长孙无忌", "长孙**"),
        ("宇文泰", "宇文*"),
        ("司徒雷登", "司徒**"),
        ("夏侯惇", "夏侯*"),
        ("令狐冲", "令狐*"),
        ("张三丰", "张**"),
        ("买买提·艾力", "买**·**"),
        (" 王小明 ", "王**"),
        ("John Smith", "J*** *****"),
        ("䃥小䶮", "䃥**"),
    ],
)
def test_mask_name(name, expected):
    assert mask_name(name) == expected


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_mask_name_empty(empty):
    assert mask_name(empty) == ""


def test_required_compound_surnames_present():
    required = {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟"} | {
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "令狐",
    }
    assert required <= COMPOUND_SURNAMES
    assert all(len(s) == 2 for s in COMPOUND_SURNAMES)


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        min_size=2,
        max_size=6,
    )
)
def test_mask_name_keeps_length_and_hides_given_name(name):
    masked = mask_name(name)
    assert len(masked) == len(name)
    visible = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    assert masked[:visible] == name[:visible]
    assert set(masked[visible:]) == {"*"}
