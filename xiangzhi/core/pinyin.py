"""Pinyin keys for searching Chinese names: 刘长喜 → liuchangxi / lcx (and liuzhangxi / lzx,
since 长 has two readings). Used by the registry's search index."""

from __future__ import annotations

import itertools
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

MAX_VARIANTS = 8


@lru_cache(maxsize=20000)
def _char_readings(ch: str) -> tuple[str, ...]:
    """Up to 3 toneless readings of one character (cached: a roster reuses few thousand)."""
    readings: list[str] = []
    for chunk in pinyin(ch, style=Style.NORMAL, heteronym=True, errors=lambda s: [c for c in s]):
        for r in chunk:
            r = unicodedata.normalize("NFKD", r).encode("ascii", "ignore").decode().lower()
            r = "".join(c for c in r if c.isalnum())
            if r and r not in readings:
                readings.append(r)
    return tuple(readings[:3]) or ("",)


def _readings(name: str) -> list[tuple[str, ...]]:
    return [_char_readings(ch) for ch in name]


@lru_cache(maxsize=50000)
def primary(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of the most likely reading, phrase-aware (for sorting and
    display)."""
    syllables = lazy_pinyin(name)
    return "".join(syllables)[:120].lower(), "".join(p[:1] for p in syllables)[:20].lower()


def name_variants(name: str) -> list[tuple[str, str]]:
    """[(full pinyin, initials)], the most common reading first."""
    name = (name or "").strip()
    if not name:
        return []
    seen, result = set(), []
    for combo in itertools.islice(itertools.product(*_readings(name)), MAX_VARIANTS):
        full = "".join(combo)
        initials = "".join(r[0] for r in combo if r)
        if full not in seen:
            seen.add(full)
            result.append((full, initials))
    return result


@lru_cache(maxsize=50000)
def _search_keys(name: str) -> frozenset[str]:
    keys = {name.lower()} if name else set()
    if len(name) >= 2:
        keys.add(name[1:].lower())
    for full, initials in name_variants(name):
        keys.add(full)
        keys.add(initials)
    return frozenset(k[:60] for k in keys if k)


def search_keys(name: str) -> set[str]:
    """Every prefix-searchable key of a name: the name, its given name, full pinyin and
    initials of every reading."""
    return set(_search_keys((name or "").strip()))


def normalize_query(q: str) -> str:
    q = unicodedata.normalize("NFKC", q or "").strip().lower()
    return "".join(q.split())
