"""Input text hygiene shared by forms, API and imports."""

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_text(value) -> str:
    """NFC, no control or zero-width characters, inner whitespace collapsed, trimmed.
    Keeps rare CJK characters (e.g. 䃥) exactly as given."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub("", text).replace("\u3000", " ")
    return " ".join(text.split())
