"""Tests for xiangzhi.core.phone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiangzhi.core.phone import (
    PhoneError,
    is_valid_phone,
    normalize_phone,
    phone_type,
    validate_phone,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

GOOD = [
    # mobiles
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("(138)12345678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),  # full-width digits
    ("１３８－１２３４－５６７８", "13812345678"),  # full-width dashes
    ("+8613812345678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+86-138-1234-5678", "13812345678"),
    ("(+86) 13812345678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("008613812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("86 138 1234 5678", "13812345678"),
    ("＋８６ １３８ １２３４ ５６７８", "13812345678"),
    ("13012345678", "13012345678"),
    ("19912345678", "19912345678"),
    ("15900000000", "15900000000"),
    ("17712345678", "17712345678"),
    (" 13812345678\n", "13812345678"),
    ("138\u300012345678", "13812345678"),  # ideographic space
    ("138–1234–5678", "13812345678"),  # en dash
    # landlines, three-digit area codes
    ("0564-5123456", "0564-5123456"),
    ("05645123456", "0564-5123456"),
    ("0564 5123456", "0564-5123456"),
    ("(0564)5123456", "0564-5123456"),
    ("（0564）5123456", "0564-5123456"),  # full-width parentheses
    ("0564-51234567", "0564-51234567"),  # 8-digit local number
    ("0755-88889999", "0755-88889999"),
    ("0991 2345678", "0991-2345678"),
    ("0311-86012345", "0311-86012345"),
    ("０５６４－５１２３４５６", "0564-5123456"),
    # landlines, two-digit area codes (010, 02X)
    ("010-62345678", "010-62345678"),
    ("01062345678", "010-62345678"),
    ("021-61234567", "021-61234567"),
    ("020 8123 4567", "020-81234567"),
    ("029-8765432", "029-8765432"),
    ("(010)6234567", "010-6234567"),
    # landlines with the international prefix (trunk 0 dropped or kept)
    ("+86 10 62345678", "010-62345678"),
    ("+86 564 5123456", "0564-5123456"),
    ("+86 (0)564 5123456", "0564-5123456"),
    ("0086 21 61234567", "021-61234567"),
    # an 8-digit local number that starts with 86 is not mistaken for a prefix
    ("0564-86123456", "0564-86123456"),
]

BAD = [
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    ("1381234567", "length"),  # 10 digits
    ("138123456789", "length"),  # 12 digits
    ("12812345678", "mobile_prefix"),
    ("11012345678", "mobile_prefix"),
    ("10086", "length"),
    ("110", "length"),
    ("1381234567a", "characters"),
    ("138.1234.5678", "characters"),
    ("电话13812345678", "characters"),
    ("13812345678转801", "characters"),
    ("+85291234567", "country"),
    ("+1 415 555 0100", "country"),
    ("0564-512345", "landline"),  # local number too short
    ("0564-512345678", "landline"),  # too long
    ("0564-0123456", "landline"),  # local number starting with 0
    ("0564-1123456", "landline"),  # local number starting with 1
    ("010-123456789", "landline"),
    ("0564-5123456-801", "landline"),  # extensions not supported
    ("012-51234567", "landline"),  # no such area code
    ("00-51234567", "landline"),
    ("0", "landline"),
    ("5123456", "area_code"),
    ("62345678", "area_code"),
    ("123", "length"),
    ("99999", "invalid"),
    ("8888888888888", "invalid"),
]


@pytest.mark.parametrize(("raw", "expected"), GOOD)
def test_good_numbers(raw, expected):
    assert validate_phone(raw) == expected
    assert normalize_phone(raw) == expected
    assert is_valid_phone(raw)
    # Canonical form is a fixed point.
    assert validate_phone(expected) == expected


@pytest.mark.parametrize(("raw", "code"), BAD)
def test_bad_numbers(raw, code):
    with pytest.raises(PhoneError) as excinfo:
        validate_phone(raw)
    error = excinfo.value
    assert error.code == code, error.message
    assert CJK.search(error.message)
    assert str(error) == error.message
    assert isinstance(error, ValueError)
    assert not is_valid_phone(raw)
    assert phone_type(raw) is None


def test_mobile_length_message():
    with pytest.raises(PhoneError) as excinfo:
        validate_phone("1381234567")
    assert excinfo.value.message == "手机号应为11位，当前为10位"


def test_phone_type():
    assert phone_type("13812345678") == "mobile"
    assert phone_type("+86 138 1234 5678") == "mobile"
    assert phone_type("0564-5123456") == "landline"
    assert phone_type("010 62345678") == "landline"
    assert phone_type("garbage") is None


def test_normalize_phone_is_best_effort_for_invalid_input():
    assert normalize_phone("138 1234 567") == "1381234567"
    assert normalize_phone("+86 138 1234 567") == "01381234567"
    assert normalize_phone(None) == ""
    assert normalize_phone("") == ""


@settings(max_examples=200, deadline=None)
@given(
    second=st.sampled_from("3456789"),
    rest=st.text(alphabet="0123456789", min_size=9, max_size=9),
    prefix=st.sampled_from(["", "+86", "+86 ", "0086", "86", "86-"]),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_generated_mobiles(second, rest, prefix, sep):
    number = "1" + second + rest
    raw = prefix + number[:3] + sep + number[3:7] + sep + number[7:]
    assert validate_phone(raw) == number
    assert phone_type(raw) == "mobile"


@settings(max_examples=200, deadline=None)
@given(
    area=st.one_of(
        st.just("010"),
        st.builds(lambda d: "02" + d, st.sampled_from("0123456789")),
        st.builds(
            lambda a, b: "0" + a + b,
            st.sampled_from("3456789"),
            st.text(alphabet="0123456789", min_size=2, max_size=2),
        ),
    ),
    first=st.sampled_from("23456789"),
    rest=st.text(alphabet="0123456789", min_size=6, max_size=7),
    sep=st.sampled_from(["", "-", " "]),
    parens=st.booleans(),
)
def test_generated_landlines(area, first, rest, sep, parens):
    local = first + rest
    raw = (f"({area})" if parens else area) + sep + local
    assert validate_phone(raw) == f"{area}-{local}"
    assert phone_type(raw) == "landline"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_arbitrary_text_never_crashes(raw):
    try:
        result = validate_phone(raw)
    except PhoneError as error:
        assert CJK.search(error.message)
    else:
        assert re.fullmatch(r"1[3-9]\d{9}|0\d{2,3}-[2-9]\d{6,7}", result)
        assert validate_phone(result) == result
