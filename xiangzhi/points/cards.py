"""The household points card (积分卡): a short code printed as a QR code that the shop
keeper scans into the counter's search box.

Format: ``XZH-<household id>-<12 hex digits>``. The suffix is a keyed HMAC
(``core.crypto.blind_index`` with its own purpose), so a code cannot be guessed or made up
from a household id; a tampered code simply finds nothing. The code carries no personal
data."""

from __future__ import annotations

import hmac
import io
import re

from xiangzhi.core import crypto

PREFIX = "XZH"
PURPOSE = "points_card"
MAC_LENGTH = 12
CODE = re.compile(r"^\s*XZH-(\d{1,12})-([0-9A-Fa-f]{12})\s*$", re.IGNORECASE)
LOOKS_LIKE = re.compile(r"^\s*XZH-", re.IGNORECASE)


def _mac(household_id: int) -> str:
    return crypto.blind_index(str(int(household_id)), PURPOSE)[:MAC_LENGTH].upper()


def card_code(household_id: int) -> str:
    return f"{PREFIX}-{int(household_id)}-{_mac(household_id)}"


def looks_like_code(text: str) -> bool:
    return bool(LOOKS_LIKE.match(text or ""))


def parse_card_code(text: str) -> int | None:
    """The household id of a genuine code; ``None`` for anything else (tampered,
    truncated, another household's suffix)."""
    m = CODE.match(text or "")
    if not m:
        return None
    household_id = int(m.group(1))
    if not hmac.compare_digest(_mac(household_id), m.group(2).upper()):
        return None
    return household_id


def card_svg(code: str, *, scale: int = 6) -> str:
    """The QR code of a card as inline SVG (no request of its own, no external URL)."""
    import segno

    qr = segno.make(code, error="m", micro=False)
    buf = io.BytesIO()
    qr.save(
        buf,
        kind="svg",
        scale=scale,
        border=2,
        xmldecl=False,
        svgns=False,
        omitsize=True,  # a viewBox instead of a fixed size: the card's CSS sets the printed size
        title="积分卡二维码",
        svgclass="xz-card-qr",
    )
    return buf.getvalue().decode()
