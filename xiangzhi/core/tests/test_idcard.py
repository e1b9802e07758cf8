"""Tests for xiangzhi.core.idcard (GB 11643-1999 ID numbers)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiangzhi.core import idcard
from xiangzhi.core.idcard import IdNumberError

# Examples printed in GB 11643-1999 itself.
STANDARD_EXAMPLES = ("11010519491231002X", "440524188001010014")
ALPHABET = "0123456789X"
FIXED_TODAY = date(2024, 6, 1)
CJK = re.compile(r"[\u4e00-\u9fff]")

PROVINCES = sorted(idcard.PROVINCE_CODES)


# --------------------------------------------------------------------------
# Independent reference implementation (does not reuse the module's tables).
# --------------------------------------------------------------------------
def reference_is_valid(value: str, today: date = FIXED_TODAY) -> bool:
    if len(value) != 18 or not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    if value[:2] not in {str(p) for p in PROVINCES_REFERENCE}:
        return False
    try:
        born = datetime.strptime(value[6:14], "%Y%m%d").date()
    except ValueError:
        return False
    if not (date(1800, 1, 1) <= born <= today):
        return False
    # ISO 7064 MOD 11-2 over all 18 characters: sum(a_i * 2^(17-i)) ≡ 1 (mod 11).
    total = 0
    for position, ch in enumerate(value):
        digit = 10 if ch == "X" else int(ch)
        total += digit * pow(2, 17 - position, 11)
    return total % 11 == 1


PROVINCES_REFERENCE = (
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
    41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
)  # fmt: skip


def assert_rejected(value: str, today: date = FIXED_TODAY) -> IdNumberError:
    with pytest.raises(IdNumberError) as excinfo:
        idcard.validate(value, today=today)
    assert CJK.search(excinfo.value.message), excinfo.value.message
    assert str(excinfo.value) == excinfo.value.message
    return excinfo.value


# --------------------------------------------------------------------------
# Standard examples and normalisation
# --------------------------------------------------------------------------
@pytest.mark.parametrize("example", STANDARD_EXAMPLES)
def test_standard_examples_are_valid(example):
    assert idcard.validate(example, today=FIXED_TODAY) == example
    assert idcard.is_valid(example)
    assert reference_is_valid(example)


def test_standard_example_details():
    assert idcard.birth_date("11010519491231002X") == date(1949, 12, 31)
    assert idcard.sex("11010519491231002X") == "female"  # 17th digit 2
    assert idcard.birth_date("440524188001010014") == date(1880, 1, 1)
    assert idcard.sex("440524188001010014") == "male"  # 17th digit 1


def test_check_digit_of_examples():
    assert idcard.check_digit("11010519491231002") == "X"
    assert idcard.check_digit("44052418800101001") == "4"


@pytest.mark.parametrize("bad", ["", "1234", "1101051949123100X2", "a" * 17])
def test_check_digit_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        idcard.check_digit(bad)


def test_lower_case_x_is_normalised():
    assert idcard.validate("11010519491231002x") == "11010519491231002X"
    assert idcard.normalize("11010519491231002x") == "11010519491231002X"


def test_full_width_digits_are_normalised():
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert idcard.normalize(full_width) == "11010519491231002X"
    assert idcard.validate(full_width) == "11010519491231002X"
    assert (
        idcard.validate("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    )


def test_whitespace_is_stripped():
    assert idcard.validate(" 110105 19491231 002X\n") == "11010519491231002X"
    assert (
        idcard.validate("110105\u300019491231\t002X") == "11010519491231002X"
    )  # ideographic space


def test_normalize_none_and_empty():
    assert idcard.normalize(None) == ""
    assert idcard.normalize("   ") == ""


# --------------------------------------------------------------------------
# Error-detection guarantees of MOD 11-2
# --------------------------------------------------------------------------
@pytest.mark.parametrize("example", STANDARD_EXAMPLES)
def test_every_single_substitution_is_rejected(example):
    count = 0
    for position in range(18):
        for ch in ALPHABET:
            if ch == example[position]:
                continue
            mutated = example[:position] + ch + example[position + 1 :]
            assert_rejected(mutated)
            assert not idcard.is_valid(mutated)
            count += 1
    assert count == 18 * 10


@pytest.mark.parametrize("example", STANDARD_EXAMPLES)
def test_every_adjacent_transposition_is_rejected(example):
    swaps = 0
    for position in range(17):
        a, b = example[position], example[position + 1]
        if a == b:
            continue
        mutated = example[:position] + b + a + example[position + 2 :]
        assert_rejected(mutated)
        swaps += 1
    assert swaps > 10


def test_substitutions_and_transpositions_in_the_first_17_fail_the_checksum():
    """Mutations that keep the structure intact are caught by the check digit."""
    example = "440524188001010014"
    for position in range(17):
        for ch in "0123456789":
            if ch == example[position]:
                continue
            mutated = example[:position] + ch + example[position + 1 :]
            assert idcard.check_digit(mutated[:17]) != mutated[17]
        if example[position] != example[position + 1] and position < 16:
            swapped = (
                example[:position]
                + example[position + 1]
                + example[position]
                + example[position + 2 :]
            )
            assert idcard.check_digit(swapped[:17]) != swapped[17]


# --------------------------------------------------------------------------
# Specific rejections and their messages
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "length"),
    [("1101051949123100", 16), ("11010519491231002X1", 19), ("123", 3)],
)
def test_wrong_length(raw, length):
    error = assert_rejected(raw)
    assert error.code == "length"
    assert error.message == f"身份证号应为18位，当前为{length}位"


def test_empty():
    for raw in ("", "  ", None):
        with pytest.raises(IdNumberError) as excinfo:
            idcard.validate(raw)
        assert excinfo.value.code == "empty"
        assert excinfo.value.message == "请输入身份证号"


@pytest.mark.parametrize(
    "raw",
    [
        "1101051949123100XX",  # X before the last position
        "11010519491231002A",
        "1101051949123100-2",
        "11010519491231002?",
        "１１０１０５１９４９１２３１００２Ｙ",
        "110105194912310٠2X",  # Arabic-Indic zero is a digit to str.isdigit but not to us
    ],
)
def test_bad_characters(raw):
    error = assert_rejected(raw)
    assert error.code == "characters"
    assert "位" in error.message


def test_unknown_province_99():
    first17 = "99010519491231002"
    error = assert_rejected(first17 + idcard.check_digit(first17))
    assert error.code == "province"
    assert "99" in error.message and "省级行政区划" in error.message


@pytest.mark.parametrize(
    "prefix",
    [
        "00",
        "10",
        "16",
        "20",
        "24",
        "30",
        "38",
        "47",
        "55",
        "60",
        "66",
        "72",
        "83",
        "91",
    ],
)
def test_other_unknown_provinces(prefix):
    first17 = prefix + "010519491231002"
    assert assert_rejected(first17 + idcard.check_digit(first17)).code == "province"


@pytest.mark.parametrize("province", PROVINCES)
def test_every_known_province_accepted(province):
    value = idcard.make_id(province + "0101", date(1990, 5, 17), 123)
    assert idcard.validate(value, today=FIXED_TODAY) == value


def test_feb_30_rejected():
    first17 = "11010519900230002"
    error = assert_rejected(first17 + idcard.check_digit(first17))
    assert error.code == "birth_date"
    assert "19900230" in error.message and "不是有效日期" in error.message


@pytest.mark.parametrize(
    "birth", ["19901301", "19900001", "19900100", "19900431", "19010229", "00000000"]
)
def test_other_impossible_dates_rejected(birth):
    first17 = f"110105{birth}002"
    assert assert_rejected(first17 + idcard.check_digit(first17)).code == "birth_date"


def test_leap_day_accepted():
    first17 = "11010520000229002"
    assert idcard.is_valid(first17 + idcard.check_digit(first17))


def test_before_1800_rejected():
    first17 = "11010517991231002"
    error = assert_rejected(first17 + idcard.check_digit(first17))
    assert error.code == "birth_date"
    assert "1800" in error.message


def test_1800_01_01_accepted():
    first17 = "11010518000101002"
    assert idcard.is_valid(first17 + idcard.check_digit(first17), today=FIXED_TODAY)


def test_future_birth_date_rejected():
    tomorrow = FIXED_TODAY + timedelta(days=1)
    value = idcard.make_id("110105", tomorrow, 1)
    error = assert_rejected(value, today=FIXED_TODAY)
    assert error.code == "birth_date"
    assert "晚于今天" in error.message
    # Born today is fine.
    assert idcard.is_valid(idcard.make_id("110105", FIXED_TODAY, 1), today=FIXED_TODAY)


def test_future_birth_date_rejected_with_default_today():
    far_future = idcard.make_id("110105", date(9000, 1, 1), 1)
    assert not idcard.is_valid(far_future)


def test_wrong_check_digit_message():
    error = assert_rejected("110105194912310021")
    assert error.code == "check_digit"
    assert "校验码" in error.message


def test_birth_date_and_sex_reject_invalid():
    with pytest.raises(IdNumberError):
        idcard.birth_date("110105194912310021")
    with pytest.raises(IdNumberError):
        idcard.sex("bogus")


# --------------------------------------------------------------------------
# make_id
# --------------------------------------------------------------------------
def test_make_id_reproduces_standard_examples():
    assert idcard.make_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    assert idcard.make_id("440524", date(1880, 1, 1), 1) == "440524188001010014"


@pytest.mark.parametrize(
    ("region", "birth", "seq"),
    [
        ("11010", date(1990, 1, 1), 1),
        ("1101051", date(1990, 1, 1), 1),
        ("11a105", date(1990, 1, 1), 1),
        ("990105", date(1990, 1, 1), 1),
        ("110105", date(1799, 12, 31), 1),
        ("110105", date(1990, 1, 1), -1),
        ("110105", date(1990, 1, 1), 1000),
        ("110105", date(1990, 1, 1), True),
    ],
)
def test_make_id_rejects_bad_arguments(region, birth, seq):
    with pytest.raises(ValueError):
        idcard.make_id(region, birth, seq)


def test_make_id_rejects_non_date():
    with pytest.raises(TypeError):
        idcard.make_id("110105", "1990-01-01", 1)  # type: ignore[arg-type]


def test_make_id_accepts_datetime():
    assert (
        idcard.make_id("110105", datetime(1949, 12, 31, 8, 30), 2)
        == "11010519491231002X"
    )


# --------------------------------------------------------------------------
# Property-based tests
# --------------------------------------------------------------------------
regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(PROVINCES),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1800, 1, 1), max_value=FIXED_TODAY)
sequences = st.integers(min_value=0, max_value=999)


@settings(max_examples=300, deadline=None)
@given(region=regions, birth=births, seq=sequences)
def test_make_id_is_always_valid_and_round_trips(region, birth, seq):
    value = idcard.make_id(region, birth, seq)
    assert len(value) == 18
    assert reference_is_valid(value)
    assert idcard.validate(value, today=FIXED_TODAY) == value
    assert idcard.validate(value.lower()) == value
    assert idcard.birth_date(value) == birth
    assert idcard.sex(value) == ("male" if seq % 2 else "female")
    assert value[:6] == region
    assert value[14:17] == f"{seq:03d}"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=18, max_size=18))
def test_random_strings_agree_with_reference(value):
    if reference_is_valid(value):
        assert idcard.validate(value, today=FIXED_TODAY) == value
    else:
        assert_rejected(value)


# Strings that are structurally plausible (17 digits + a check char, known
# province, real date) so that the checksum branch is exercised heavily.
plausible = st.builds(
    lambda region, birth, seq, last: f"{region}{birth:%Y%m%d}{seq:03d}{last}",
    regions,
    st.dates(min_value=date(1790, 1, 1), max_value=date(2030, 12, 31)),
    sequences,
    st.sampled_from(ALPHABET),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plausible)
def test_plausible_strings_agree_with_reference(value):
    assert idcard.is_valid(value, today=FIXED_TODAY) == reference_is_valid(value)


@settings(max_examples=200, deadline=None)
@given(
    region=regions,
    birth=births,
    seq=sequences,
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from(ALPHABET),
)
def test_any_single_substitution_of_a_generated_id_is_rejected(
    region, birth, seq, position, replacement
):
    value = idcard.make_id(region, birth, seq)
    if value[position] == replacement:
        return
    mutated = value[:position] + replacement + value[position + 1 :]
    assert not idcard.is_valid(mutated, today=FIXED_TODAY)


@settings(max_examples=200, deadline=None)
@given(
    region=regions,
    birth=births,
    seq=sequences,
    position=st.integers(min_value=0, max_value=16),
)
def test_any_adjacent_transposition_of_a_generated_id_is_rejected(
    region, birth, seq, position
):
    value = idcard.make_id(region, birth, seq)
    a, b = value[position], value[position + 1]
    if a == b:
        return
    mutated = value[:position] + b + a + value[position + 2 :]
    assert not idcard.is_valid(mutated, today=FIXED_TODAY)
