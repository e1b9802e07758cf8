"""Display masking for personal data (ID numbers, phones, names).

All functions accept ``None``/empty input and return ``""`` for it. They
never raise on malformed input: anything not recognised is masked more
aggressively rather than less. Pure Python, no Django imports.
"""

from __future__ import annotations

import re

from xiangzhi.core import idcard, phone

__all__ = ["COMPOUND_SURNAMES", "mask_id_number", "mask_name", "mask_phone"]

STAR = "*"

# Common two-character (复姓) surnames.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容",
        "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门",
        "轩辕", "万俟", "申屠", "太史", "百里", "呼延", "澹台", "公冶", "宗政",
        "濮阳", "淳于", "单于", "太叔", "仲孙", "钟离", "闻人", "东郭", "拓跋",
        "赫连", "司空", "闾丘", "子车", "亓官", "司寇", "巫马", "公西", "颛孙",
        "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁", "段干", "东门", "羊舌",
        "微生", "梁丘", "左丘", "第五", "公羊", "鲜于", "叱干",
    }
)  # fmt: skip

# Separators kept visible inside names, e.g. 买买提·艾力 or "John Smith".
_NAME_SEPARATORS = frozenset("·・•‧. \u3000-")


def mask_id_number(id_number: str | None) -> str:
    """``"341524199001011234"`` → ``"341524********1234"``.

    Shows the 6-digit region and the last 4 characters; the 8 birth-date
    digits are never revealed. Legacy 15-digit numbers (6-digit birth date at
    positions 7–12) keep the region and last 3. Anything else is fully masked.
    """
    value = idcard.normalize(id_number)
    if not value:
        return ""
    if len(value) == 18:
        return value[:6] + STAR * 8 + value[-4:]
    if len(value) == 15:
        return value[:6] + STAR * 6 + value[-3:]
    return STAR * len(value)


def mask_phone(number: str | None) -> str:
    """``"13812345678"`` → ``"138****5678"``; ``"0564-5123456"`` → ``"0564-****456"``.

    Landlines keep the area code and the last 3 digits. Unrecognised input
    keeps at most its last 2 characters.
    """
    if number is None:
        return ""
    normalized = phone.normalize_phone(number)
    if not normalized:
        return ""
    kind = phone.phone_type(normalized)
    if kind == "mobile":
        return normalized[:3] + STAR * 4 + normalized[-4:]
    if kind == "landline":
        area, local = normalized.split("-", 1)
        return f"{area}-{STAR * (len(local) - 3)}{local[-3:]}"
    if len(normalized) >= 6:
        return STAR * (len(normalized) - 2) + normalized[-2:]
    return STAR * len(normalized)


def mask_name(name: str | None) -> str:
    """``"王小明"`` → ``"王**"``, ``"欧阳娜娜"`` → ``"欧阳**"``.

    The surname stays visible and every other character becomes one ``*``.
    Compound surnames are recognised only when the name has at least three
    characters (``"欧阳"`` alone is surname 欧 + given name 阳). Separators
    such as the middle dot in ``"买买提·艾力"`` are kept. A single-character
    name is fully masked.
    """
    if name is None:
        return ""
    text = re.sub(r"\s+", " ", str(name)).strip()
    if not text:
        return ""
    if len(text) == 1:
        return STAR
    visible = 2 if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES else 1
    masked = "".join(ch if ch in _NAME_SEPARATORS else STAR for ch in text[visible:])
    return text[:visible] + masked
