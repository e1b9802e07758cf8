"""Resident identity card numbers (GB 11643-1999, 公民身份号码).

An 18-character number is laid out as::

    RRRRRR YYYYMMDD SSS C
    |      |        |   +-- check character, ISO 7064 MOD 11-2 ("0"-"9" or "X")
    |      |        +------ sequence code; the last digit is odd for males
    |      +--------------- date of birth
    +---------------------- address code (GB/T 2260); first two digits = province

This module is pure Python (no Django imports) so it can be used from
forms, services, importers and synthetic-data generators alike.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EARLIEST_BIRTH_DATE",
    "PROVINCE_CODES",
    "IdNumberError",
    "birth_date",
    "check_digit",
    "is_valid",
    "make_id",
    "normalize",
    "sex",
    "validate",
]

ID_LENGTH = 18

# Province-level codes of GB/T 2260 (the first two digits of the address code).
PROVINCE_CODES: frozenset[str] = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip

# The standard's own example 440524188001010014 has a birth year of 1880, so
# the lower bound is deliberately generous.
EARLIEST_BIRTH_DATE = date(1800, 1, 1)

# ISO 7064 MOD 11-2: weight of position i (0-based) is 2**(17 - i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character indexed by (weighted sum of the first 17 digits) mod 11.
_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")


class IdNumberError(ValueError):
    """Raised when an ID number is invalid.

    ``message`` is a user-facing Simplified Chinese explanation; ``code`` is a
    stable machine-readable reason: ``empty``, ``length``, ``characters``,
    ``province``, ``birth_date`` or ``check_digit``.
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


def normalize(raw: str | None) -> str:
    """NFKC-normalise (full-width → ASCII), drop all whitespace, upper-case ``x``."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return "".join(text.split()).upper()


def check_digit(first17: str) -> str:
    """Return the MOD 11-2 check character for the first 17 digits."""
    if len(first17) != ID_LENGTH - 1 or not set(first17) <= _DIGITS:
        raise ValueError("first17 must be exactly 17 ASCII digits")
    total = sum(int(ch) * weight for ch, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


try:
    _CHINA = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover - no tz database available
    _CHINA = None


def _today() -> date:
    """Today's date in China (the platform's time zone), whatever the server TZ."""
    return datetime.now(_CHINA).date() if _CHINA is not None else date.today()


def _parse_birth(digits8: str) -> date | None:
    try:
        return date(int(digits8[0:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def validate(raw: str | None, today: date | None = None) -> str:
    """Return the normalised 18-character ID number or raise :class:`IdNumberError`.

    ``today`` is the reference date for the "birth date is in the future" check
    (defaults to the current date in Asia/Shanghai).
    """
    value = normalize(raw)
    if not value:
        raise IdNumberError("请输入身份证号", "empty")
    if len(value) != ID_LENGTH:
        raise IdNumberError(f"身份证号应为18位，当前为{len(value)}位", "length")
    for index, ch in enumerate(value[:-1], start=1):
        if ch not in _DIGITS:
            raise IdNumberError(
                f"身份证号第{index}位“{ch}”无效：前17位只能是数字", "characters"
            )
    last = value[-1]
    if last not in _DIGITS and last != "X":
        raise IdNumberError(
            f"身份证号第18位“{last}”无效：最后一位只能是数字或X", "characters"
        )
    province = value[:2]
    if province not in PROVINCE_CODES:
        raise IdNumberError(
            f"身份证号前两位“{province}”不是有效的省级行政区划代码", "province"
        )
    birth_text = value[6:14]
    born = _parse_birth(birth_text)
    if born is None:
        raise IdNumberError(
            f"身份证号中的出生日期“{birth_text}”不是有效日期", "birth_date"
        )
    if born < EARLIEST_BIRTH_DATE:
        raise IdNumberError(
            f"身份证号中的出生日期“{birth_text}”早于1800年1月1日", "birth_date"
        )
    if born > (today or _today()):
        raise IdNumberError(f"身份证号中的出生日期“{birth_text}”晚于今天", "birth_date")
    if check_digit(value[:-1]) != last:
        raise IdNumberError(
            "身份证号校验码不正确，请逐位核对是否有输错或前后颠倒的数字", "check_digit"
        )
    return value


def is_valid(raw: str | None, today: date | None = None) -> bool:
    """``True`` if :func:`validate` accepts ``raw``."""
    try:
        validate(raw, today=today)
    except IdNumberError:
        return False
    return True


def facts(id_number: str, *, validated: bool = False) -> tuple[str, date]:
    """(sex, birth date) of a valid ID number, validating it once (raises :class:`IdNumberError`).
    ``validated=True``: the caller passes the normalised output of :func:`validate`."""
    value = id_number if validated else validate(id_number)
    return ("male" if int(value[16]) % 2 else "female"), date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def birth_date(id_number: str) -> date:
    """Date of birth encoded in a valid ID number (raises :class:`IdNumberError`)."""
    value = validate(id_number)
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def sex(id_number: str) -> str:
    """``"male"`` if the 17th digit is odd, else ``"female"`` (raises :class:`IdNumberError`)."""
    value = validate(id_number)
    return "male" if int(value[16]) % 2 else "female"


def make_id(region6: str, birth: date, seq3: int) -> str:
    """Build a valid ID number (for demo/synthetic data and tests).

    ``region6`` is a 6-digit address code whose first two digits are a known
    province code; ``seq3`` is the 3-digit sequence code 0–999 (odd = male).
    """
    if len(region6) != 6 or not set(region6) <= _DIGITS:
        raise ValueError("region6 must be exactly 6 ASCII digits")
    if region6[:2] not in PROVINCE_CODES:
        raise ValueError(f"unknown province code {region6[:2]!r}")
    if not isinstance(seq3, int) or isinstance(seq3, bool) or not 0 <= seq3 <= 999:
        raise ValueError("seq3 must be an integer between 0 and 999")
    if not isinstance(birth, date):
        raise TypeError("birth must be a datetime.date")
    if isinstance(birth, datetime):
        birth = birth.date()
    if birth < EARLIEST_BIRTH_DATE:
        raise ValueError("birth date out of range")
    first17 = f"{region6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + check_digit(first17)
