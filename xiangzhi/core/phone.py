"""Mainland China telephone numbers: mobiles and landlines.

Canonical forms returned by :func:`validate_phone`:

* mobile:   ``"13812345678"`` (11 digits, ``1[3-9]`` prefix, no country code)
* landline: ``"0564-5123456"`` (area code with its leading 0, a dash, then the
  7–8 digit local number). Area codes ``010`` and ``020``–``029`` have two
  digits after the 0; every other area code (``03xx``–``09xx``) has three.

Extensions are not supported. Pure Python, no Django imports.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "PhoneError",
    "is_valid_phone",
    "normalize_phone",
    "phone_type",
    "validate_phone",
]

# Separators users type between groups of digits (after NFKC, full-width
# forms such as "－" and "（）" have already become ASCII).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−()]")

_MOBILE = re.compile(r"1[3-9]\d{9}")
# Two-digit area codes (010, 020–029) or three-digit ones (03xx–09xx), then a
# local number that does not start with 0 or 1.
_LANDLINE = re.compile(r"(0(?:10|2\d)|0[3-9]\d\d)([2-9]\d{6,7})")


class PhoneError(ValueError):
    """Raised for an invalid phone number; ``message`` is Simplified Chinese."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


def _clean(raw: str | None) -> str:
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return _SEPARATORS.sub("", text)


def _strip_country_code(text: str) -> str:
    """Drop a +86 / 0086 / 86 prefix.

    ``+86`` and ``0086`` are unambiguous, so they are removed for mobiles and
    landlines alike (an international landline has no trunk 0, which is put
    back). A bare ``86`` is only removed in front of a mobile number, because
    an 8-digit local landline number may itself start with 86.
    """
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            if _MOBILE.fullmatch(rest) or rest.startswith("0"):
                return rest
            return "0" + rest
    if text.startswith("86") and _MOBILE.fullmatch(text[2:]):
        return text[2:]
    return text


def _canonical(text: str) -> str | None:
    if _MOBILE.fullmatch(text):
        return text
    match = _LANDLINE.fullmatch(text)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    return None


def normalize_phone(raw: str | None) -> str:
    """Best-effort normalisation.

    Returns the canonical form for a valid number; otherwise the input with
    separators and any country prefix removed (so it can be re-displayed).
    """
    text = _strip_country_code(_clean(raw))
    return _canonical(text) or text


def validate_phone(raw: str | None) -> str:
    """Return the canonical form of ``raw`` or raise :class:`PhoneError`."""
    text = _strip_country_code(_clean(raw))
    if not text:
        raise PhoneError("请输入电话号码", "empty")
    canonical = _canonical(text)
    if canonical:
        return canonical
    if not text.isascii() or not text.isdigit():
        if text.startswith("+"):
            raise PhoneError("仅支持中国大陆的手机号或固定电话", "country")
        raise PhoneError("电话号码只能包含数字，可用空格、横线或括号分隔", "characters")
    if text.startswith("1"):
        if len(text) != 11:
            raise PhoneError(f"手机号应为11位，当前为{len(text)}位", "length")
        raise PhoneError("手机号格式不正确：应以13至19开头", "mobile_prefix")
    if text.startswith("0"):
        raise PhoneError(
            "固定电话格式不正确：应为区号加7至8位号码，例如 0564-5123456",
            "landline",
        )
    if 7 <= len(text) <= 8:
        raise PhoneError("固定电话请加上区号，例如 0564-5123456", "area_code")
    raise PhoneError(
        "电话号码格式不正确：请填写11位手机号或带区号的固定电话", "invalid"
    )


def is_valid_phone(raw: str | None) -> bool:
    try:
        validate_phone(raw)
    except PhoneError:
        return False
    return True


def phone_type(raw: str | None) -> str | None:
    """``"mobile"``, ``"landline"`` or ``None`` if ``raw`` is not a valid number."""
    try:
        value = validate_phone(raw)
    except PhoneError:
        return None
    return "landline" if "-" in value else "mobile"
